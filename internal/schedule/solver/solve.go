package solver

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// Options control a search.
type Options struct {
	// Seed and Threads fully determine the search: thread i's moves depend
	// only on (Seed, i), threads share nothing while running, and the best
	// roster wins (ties to the lowest thread index). A wall-clock limit
	// (TimeLimit or a context deadline) only cuts the search short, but
	// where it cuts depends on machine speed and load, so only
	// MaxIterations gives bit-for-bit reproducible results.
	Seed    uint64
	Threads int // 0 means runtime.GOMAXPROCS(0)
	// TimeLimit bounds the search; 0 means no limit other than ctx and
	// MaxIterations. If all three are unset the search runs until ctx ends.
	TimeLimit time.Duration
	// MaxIterations bounds the iterations per thread (a column-generation
	// dive or a large-neighbourhood move each count as one); 0 means
	// unlimited.
	MaxIterations int64
	// Progress, if set, is called (from solver goroutines, one call at a
	// time) whenever the best roster found so far improves.
	Progress func(Progress)
}

// Progress is one improvement of the best roster.
type Progress struct {
	Elapsed   time.Duration
	Objective int64
	Feasible  bool
	Thread    int
	Iteration int64
}

// Solution is the best roster found and how the search went.
type Solution struct {
	Roster     Roster
	Evaluation Evaluation
	// FirstFeasible is when the first roster without hard violations
	// existed, or -1 if none was found.
	FirstFeasible time.Duration
	Elapsed       time.Duration
	Iterations    int64 // summed over threads
	Trace         []Progress
}

// maxMasterRows bounds the master LP (one row per employee and per cover
// cell). The inverse of its basis kernel is dense and may grow to m² floats
// when few cells have a basic slack, and a pivot may touch all of it: at
// 3000 rows that is 72 MB and a few ms per pivot; a 364-day horizon
// with 32 shift types would need over a gigabyte per thread and seconds
// between polls of the clock. Larger problems are solved by local search
// alone.
const maxMasterRows = 3000

// lnsBurst is how many local-search iterations follow each dive.
const lnsBurst = 300

// Solve searches for the best feasible roster. It returns an error only if
// p is invalid; when some employee has no feasible row at all, the best
// roster is returned with its violations listed in the evaluation.
//
// Each thread builds a roster greedily (odd threads then run local search
// until it stagnates), then alternates column-generation
// dives (which reuse the thread's growing column pool, so later dives are
// cheap and, with randomised fixing, explore different integer solutions)
// with bursts of large-neighbourhood search. Threads share nothing while
// they run; the best roster wins, ties going to the lowest thread index.
func Solve(ctx context.Context, p *Problem, opt Options) (*Solution, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	if opt.TimeLimit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opt.TimeLimit)
		defer cancel()
	}
	threads := opt.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	sh := newShared(p)
	rep := &reporter{start: start, fn: opt.Progress, bestObj: -1, firstFeasible: -1}
	stop := func() bool { return ctx.Err() != nil }

	workers := make([]*worker, threads)
	var wg sync.WaitGroup
	for t := range threads {
		wg.Go(func() {
			w := newWorker(sh, opt.Seed, t)
			workers[t] = w
			w.report = func() { rep.offer(t, w) }
			w.stop = stop
			w.construct()
			rep.offer(t, w)
			more := func() bool { return !stop() && (opt.MaxIterations <= 0 || w.iter < opt.MaxIterations) }
			if t%2 == 1 {
				w.localSearch(more, func() { rep.offer(t, w) })
			}
			if len(p.Employees)+p.Days*len(p.Shifts) > maxMasterRows {
				// Too big for the master: local search only.
				if t%2 == 0 {
					w.localSearch(more, func() { rep.offer(t, w) })
				}
				for more() {
					w.step()
					if better(w.bad, w.obj, w.bestBad, w.bestObj) {
						w.snapshot()
						rep.offer(t, w)
					}
				}
				return
			}
			pool := newColumnPool(len(p.Employees))
			for more() {
				w.iter++
				if !w.colgenDive(pool, stop) {
					break
				}
				rep.offer(t, w)
				for i := 0; i < lnsBurst && more(); i++ {
					w.step()
					if better(w.bad, w.obj, w.bestBad, w.bestObj) {
						w.snapshot()
						rep.offer(t, w)
					}
				}
			}
		})
	}
	wg.Wait()

	bt := 0
	var iters int64
	for t, w := range workers {
		iters += w.iter
		if better(w.bestBad, w.bestObj, workers[bt].bestBad, workers[bt].bestObj) {
			bt = t
		}
	}
	ro := Roster(workers[bt].best).Clone()
	ev, err := Evaluate(p, ro)
	if err != nil {
		return nil, err
	}
	return &Solution{
		Roster:        ro,
		Evaluation:    ev,
		FirstFeasible: rep.firstFeasible,
		Elapsed:       time.Since(start),
		Iterations:    iters,
		Trace:         rep.trace,
	}, nil
}

// stagnation is how many local-search steps without a new best end the
// local-search phase of an odd thread, and lnsPhase how many steps it may
// take at most: where it keeps finding small gains, dives find larger ones.
const (
	stagnation = 50
	lnsPhase   = 100
)

// localSearch is the first phase of odd threads: best-response sweeps, then
// large-neighbourhood steps until stagnation steps in a row bring no new
// best roster (or lnsPhase steps have run). On big instances the master LP converges slowly and this
// phase finds the good rosters; on small ones it ends within a second and
// the thread dives like the others, from a different start.
func (w *worker) localSearch(more func() bool, improved func()) {
	w.polish()
	if better(w.bad, w.obj, w.bestBad, w.bestObj) {
		w.snapshot()
		improved()
	}
	w.adopt(w.best)
	for i, idle := 0, 0; i < lnsPhase && idle < stagnation && more(); i, idle = i+1, idle+1 {
		w.step()
		if better(w.bad, w.obj, w.bestBad, w.bestObj) {
			w.snapshot()
			improved()
			idle = -1
		}
	}
}

// adopt makes the worker continue from the given roster.
func (w *worker) adopt(ro [][]int) {
	for e := range ro {
		w.setRow(e, ro[e])
	}
}

// windowShare is the percentage of large-neighbourhood steps that ruin a
// day window (ruinWindow). Alone for 30 s on Instance19 local search
// reached 5 582 with it and 6 391 without; on Instance13 it was neutral.
const windowShare = 40

// step is one large-neighbourhood iteration: a single exact row
// re-optimisation, a burst of coverage-neutral swaps, or (mostly) a
// ruin-and-recreate of a few related employees.
func (w *worker) step() {
	w.iter++
	n := len(w.rows)
	switch r := w.rng.IntN(100); {
	case r < 10:
		w.reoptimise(w.rng.IntN(n))
	case r < 20:
		w.swapPass(20)
	case r < 20+windowShare:
		w.ruinWindow(2+w.rng.IntN(max(1, min(n/4, 12))), 2+w.rng.IntN(6))
	default:
		k := 2 + w.rng.IntN(min(n, 6))
		w.ruinRecreate(k)
	}
}

// reporter serialises progress reports and remembers the global best for
// them; it never feeds back into the search.
type reporter struct {
	mu            sync.Mutex
	start         time.Time
	fn            func(Progress)
	bestObj       int64
	bestBad       int
	firstFeasible time.Duration
	trace         []Progress
}

func (r *reporter) offer(t int, w *worker) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bestObj >= 0 && !better(w.bestBad, w.bestObj, r.bestBad, r.bestObj) {
		return
	}
	r.bestObj, r.bestBad = w.bestObj, w.bestBad
	pr := Progress{
		Elapsed:   time.Since(r.start),
		Objective: w.bestObj,
		Feasible:  w.bestBad == 0,
		Thread:    t,
		Iteration: w.iter,
	}
	if pr.Feasible && r.firstFeasible < 0 {
		r.firstFeasible = pr.Elapsed
	}
	r.trace = append(r.trace, pr)
	if r.fn != nil {
		r.fn(pr)
	}
}
