package solver

import (
	"math/rand/v2"
)

// shared is the read-only data every worker uses.
type shared struct {
	p      *Problem
	S      int
	models []*rowModel
	// req[e][d*(S+1)+c] is employee e's request penalty for choice c (a
	// shift, or S for off) on day d.
	req   [][]int64
	cover []Cover // [d*S+s]
}

func newShared(p *Problem) *shared {
	S := len(p.Shifts)
	sh := &shared{p: p, S: S}
	for e := range p.Employees {
		sh.models = append(sh.models, newRowModel(p, e))
	}
	sh.req = make([][]int64, len(p.Employees))
	for e := range sh.req {
		sh.req[e] = make([]int64, p.Days*(S+1))
	}
	for _, q := range p.OnRequests {
		// Paid by every choice but the wished-for shift.
		row := sh.req[q.Employee][q.Day*(S+1) : (q.Day+1)*(S+1)]
		for c := range row {
			if c != q.Shift {
				row[c] += int64(q.Weight)
			}
		}
	}
	for _, q := range p.OffRequests {
		sh.req[q.Employee][q.Day*(S+1)+q.Shift] += int64(q.Weight)
	}
	sh.cover = make([]Cover, p.Days*S)
	for d := range p.Days {
		copy(sh.cover[d*S:], p.Cover[d])
	}
	return sh
}

// worker is one thread's search state. Everything it does depends only on
// its shared data and its random source.
type worker struct {
	*shared
	rng     *rand.Rand
	rows    [][]int
	cnt     []int // coverage count [d*S+s]
	obj     int64
	ok      []bool // row feasible
	bad     int    // number of infeasible rows
	best    [][]int
	bestObj int64
	bestBad int
	sc      dpScratch
	cost    []int64
	tmp     []int
	saved   [][]int
	order   []int
	iter    int64
	report  func() // called when best improves inside a long phase
	// stop reports that the search must end; long phases poll it.
	stop func() bool
	// diveRounds and fixDiv set the dive speed (see diveRounds).
	diveRounds int
	fixDiv     int
}

func newWorker(sh *shared, seed uint64, thread int) *worker {
	p := sh.p
	w := &worker{
		shared: sh,
		rng:    rand.New(rand.NewPCG(seed, uint64(thread)*0x9E3779B97F4A7C15+1)),
		cnt:    make([]int, p.Days*sh.S),
		cost:   make([]int64, p.Days*(sh.S+1)),
		tmp:    make([]int, p.Days),
		ok:     make([]bool, len(p.Employees)),
		stop:   func() bool { return false },
	}
	w.diveRounds, w.fixDiv = diveRounds, 5
	if thread%2 == 1 {
		w.diveRounds, w.fixDiv = fastDiveRounds, 2
	}
	w.rows = NewRoster(p)
	w.best = NewRoster(p)
	w.saved = NewRoster(p)
	w.obj = w.coverCostAll()
	for e := range w.rows {
		w.obj += w.rowReq(e, w.rows[e])
		w.ok[e] = checkRow(p, e, w.rows[e], nil)
		if !w.ok[e] {
			w.bad++
		}
	}
	w.snapshot()
	return w
}

// f is the cover penalty of one cell with n people.
func (w *worker) f(i, n int) int64 {
	c := &w.cover[i]
	if n < c.Requirement {
		return int64(c.WeightUnder * (c.Requirement - n))
	}
	return int64(c.WeightOver * (n - c.Requirement))
}

func (w *worker) coverCostAll() int64 {
	var t int64
	for i, n := range w.cnt {
		t += w.f(i, n)
	}
	return t
}

func (w *worker) rowReq(e int, row []int) int64 { return rowPrice(w.req[e], w.S, row) }

// setRow replaces employee e's row and keeps the objective and coverage
// counts exact.
func (w *worker) setRow(e int, row []int) {
	old := w.rows[e]
	S := w.S
	w.obj -= w.rowReq(e, old)
	for d, s := range row {
		o := old[d]
		if o == s {
			continue
		}
		if o != Off {
			i := d*S + o
			n := w.cnt[i]
			w.obj += w.f(i, n-1) - w.f(i, n)
			w.cnt[i] = n - 1
		}
		if s != Off {
			i := d*S + s
			n := w.cnt[i]
			w.obj += w.f(i, n+1) - w.f(i, n)
			w.cnt[i] = n + 1
		}
		old[d] = s
	}
	w.obj += w.rowReq(e, old)
	ok := checkRow(w.p, e, old, nil)
	if ok != w.ok[e] {
		if ok {
			w.bad--
		} else {
			w.bad++
		}
		w.ok[e] = ok
	}
}

// prices fills w.cost with employee e's marginal cost of each choice given
// everybody else's current rows. Cover cost is convex in the head count, so
// the marginal price of one more person is exact.
func (w *worker) prices(e int) {
	S := w.S
	row := w.rows[e]
	req := w.req[e]
	for d := range w.p.Days {
		base := d * (S + 1)
		for s := range S {
			i := d*S + s
			n := w.cnt[i]
			if row[d] == s {
				n--
			}
			c := &w.cover[i]
			var m int64
			if n < c.Requirement {
				m = -int64(c.WeightUnder)
			} else {
				m = int64(c.WeightOver)
			}
			w.cost[base+s] = m + req[base+s]
		}
		w.cost[base+S] = req[base+S]
	}
}

// reoptimise replaces e's row by the best row against the others' current
// coverage. It reports whether a feasible row was found.
func (w *worker) reoptimise(e int) bool {
	w.prices(e)
	// A feasible current row bounds the search: only rows no worse are
	// wanted, and one exists.
	cutoff := int64(inf)
	if w.ok[e] {
		S := w.S
		cutoff = 0
		for d, s := range w.rows[e] {
			if s == Off {
				s = S
			}
			cutoff += w.cost[d*(S+1)+s]
		}
	}
	if _, ok := w.models[e].bestRowWithin(w.p, w.cost, &w.sc, w.tmp, cutoff); !ok {
		return false
	}
	w.setRow(e, w.tmp)
	return true
}

// key is the search's acceptance key: infeasible rows dominate.
func (w *worker) key() (int, int64) { return w.bad, w.obj }

func better(bad1 int, obj1 int64, bad2 int, obj2 int64) bool {
	if bad1 != bad2 {
		return bad1 < bad2
	}
	return obj1 < obj2
}

func (w *worker) snapshot() {
	for e := range w.rows {
		copy(w.best[e], w.rows[e])
	}
	w.bestObj, w.bestBad = w.obj, w.bad
}

// construct builds a first roster: every employee in random order takes the
// best row against the coverage left by those before. One sweep only, so
// that a feasible roster exists as early as possible; the dives improve it.
func (w *worker) construct() {
	w.order = w.rng.Perm(len(w.rows))
	for _, e := range w.order {
		if w.stop() {
			break
		}
		w.reoptimise(e)
	}
	w.snapshot()
}

// reoptimiseWindow re-optimises e's row on days lo..hi only, the other
// days kept as they are. The row DP prices a kept day's other choices out,
// and its bounds then cut the state space to the window's variations, so
// the move is far cheaper than a whole-row best response.
func (w *worker) reoptimiseWindow(e, lo, hi int) bool {
	w.prices(e)
	S := w.S
	row := w.rows[e]
	for d, s := range row {
		if d >= lo && d <= hi {
			continue
		}
		keep := s
		if s == Off {
			keep = S
		}
		for c := range S + 1 {
			if c != keep {
				w.cost[d*(S+1)+c] = inf
			}
		}
	}
	if _, ok := w.models[e].bestRow(w.p, w.cost, &w.sc, w.tmp); !ok {
		return false
	}
	w.setRow(e, w.tmp)
	return true
}

// ruinWindow clears the duties of k employees on a window of days and
// re-inserts them one by one, each re-optimised on the window against the
// coverage the others leave (twice over). Many employees on a short window
// can trade duties, which whole-row moves of a few employees cannot; the
// move is kept if it is not worse.
func (w *worker) ruinWindow(k, length int) {
	days := w.p.Days
	length = min(length, days)
	// The window covers a random under-covered cell when there is one.
	hole, ok := w.randomHole()
	lo := w.rng.IntN(days - length + 1)
	if ok {
		d := hole / w.S
		lo = min(max(0, d-w.rng.IntN(length)), days-length)
	} else {
		hole = -1
	}
	hi := lo + length - 1
	bad0, obj0 := w.key()
	pick := w.pickAround(hole, min(k, len(w.rows)))
	for _, e := range pick {
		copy(w.saved[e], w.rows[e])
		copy(w.tmp, w.rows[e])
		for d := lo; d <= hi; d++ {
			w.tmp[d] = Off
		}
		w.setRow(e, w.tmp)
	}
	w.rng.Shuffle(len(pick), func(i, j int) { pick[i], pick[j] = pick[j], pick[i] })
	for range 2 {
		for _, e := range pick {
			if w.stop() {
				break
			}
			if !w.reoptimiseWindow(e, lo, hi) {
				w.setRow(e, w.saved[e])
			}
		}
	}
	bad1, obj1 := w.key()
	if better(bad0, obj0, bad1, obj1) {
		for _, e := range pick {
			w.setRow(e, w.saved[e])
		}
	}
}

// ruinRecreate clears k random employees' rows and re-inserts them one by
// one with the exact row DP, then polishes each once more. The move is kept
// if it is not worse; otherwise the rows are restored.
func (w *worker) ruinRecreate(k int) {
	n := len(w.rows)
	k = min(k, n)
	bad0, obj0 := w.key()
	pick := w.pickRelated(k)
	for _, e := range pick {
		copy(w.saved[e], w.rows[e])
	}
	for i := range w.tmp {
		w.tmp[i] = Off
	}
	for _, e := range pick {
		w.setRow(e, w.tmp)
	}
	w.rng.Shuffle(len(pick), func(i, j int) { pick[i], pick[j] = pick[j], pick[i] })
	for range 2 {
		for _, e := range pick {
			if w.stop() {
				break // judged below like any other move
			}
			w.reoptimise(e)
		}
	}
	bad1, obj1 := w.key()
	if better(bad0, obj0, bad1, obj1) {
		for _, e := range pick {
			w.setRow(e, w.saved[e])
		}
	}
}

// pickRelated chooses k distinct employees. Half the time it starts from a
// random under-covered (day, shift) and prefers employees qualified for that
// shift, who are the ones that can close the gap by trading duties among
// themselves; otherwise the sample is uniform.
func (w *worker) pickRelated(k int) []int {
	hole := -1
	if w.rng.IntN(2) == 0 {
		if i, ok := w.randomHole(); ok {
			hole = i
		}
	}
	return w.pickAround(hole, k)
}

// pickAround chooses k distinct employees, those who could work the
// under-covered cell hole (if not -1) first.
func (w *worker) pickAround(hole, k int) []int {
	n := len(w.rows)
	if cap(w.order) < n {
		w.order = make([]int, n)
	}
	perm := w.order[:n]
	for i := range perm {
		perm[i] = i
	}
	front := 0
	if hole >= 0 {
		d, s := hole/w.S, hole%w.S
		// Move qualified employees who are free that day to the front.
		for e := range perm {
			x := perm[e]
			if w.models[x].qualified(s) && !w.models[x].dayOff[d] {
				perm[front], perm[e] = perm[e], perm[front]
				front++
			}
		}
	}
	// Partial Fisher–Yates, first within the preferred group.
	for i := 0; i < k; i++ {
		lo, hi := i, n
		if i < front {
			hi = front
		}
		j := lo + w.rng.IntN(hi-lo)
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm[:k]
}

// randomHole returns a uniformly chosen under-covered cell index.
func (w *worker) randomHole() (int, bool) {
	seen := 0
	pick := -1
	for i, n := range w.cnt {
		if n < w.cover[i].Requirement {
			seen++
			if w.rng.IntN(seen) == 0 {
				pick = i
			}
		}
	}
	return pick, pick >= 0
}

// swapPass tries coverage-neutral exchanges: two employees trade their
// duties on a window of days. Coverage is unchanged, so only requests and
// feasibility decide. It returns the number of applied exchanges.
func (w *worker) swapPass(tries int) int {
	n := len(w.rows)
	if n < 2 {
		return 0
	}
	days := w.p.Days
	applied := 0
	a := w.saved[0]
	b := w.saved[1%len(w.saved)]
	for range tries {
		e1 := w.rng.IntN(n)
		e2 := w.rng.IntN(n - 1)
		if e2 >= e1 {
			e2++
		}
		length := 1 + w.rng.IntN(min(days, 7))
		start := w.rng.IntN(days - length + 1)
		r1, r2 := w.rows[e1], w.rows[e2]
		same := true
		for d := start; d < start+length; d++ {
			if r1[d] != r2[d] {
				same = false
				break
			}
		}
		if same {
			continue
		}
		copy(a, r1)
		copy(b, r2)
		copy(a[start:start+length], r2[start:start+length])
		copy(b[start:start+length], r1[start:start+length])
		delta := w.rowReq(e1, a) + w.rowReq(e2, b) - w.rowReq(e1, r1) - w.rowReq(e2, r2)
		if delta > 0 {
			continue
		}
		okA := checkRow(w.p, e1, a, nil)
		okB := checkRow(w.p, e2, b, nil)
		// Never trade a feasible row for an infeasible one.
		if (!okA && w.ok[e1]) || (!okB && w.ok[e2]) {
			continue
		}
		w.setRow(e1, a)
		w.setRow(e2, b)
		applied++
	}
	return applied
}
