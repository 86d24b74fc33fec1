package solver

import (
	"cmp"
	"math"
	"slices"
)

// cgScale turns the master's fractional duals into the row DP's integer
// prices; reduced costs are then exact to 1/cgScale.
const cgScale = 10000

// columnPool holds every feasible row generated so far, per employee, so
// that later dives start from a master that already knows them.
type columnPool struct {
	rows [][][]int
	seen []map[string]int
}

func newColumnPool(employees int) *columnPool {
	cp := &columnPool{rows: make([][][]int, employees), seen: make([]map[string]int, employees)}
	for e := range cp.seen {
		cp.seen[e] = map[string]int{}
	}
	return cp
}

// add stores row (if new) and returns its index in employee e's pool.
func (cp *columnPool) add(e int, row []int) int {
	b := make([]byte, len(row))
	for i, s := range row {
		b[i] = byte(s + 1)
	}
	k := string(b)
	if j, ok := cp.seen[e][k]; ok {
		return j
	}
	cp.rows[e] = append(cp.rows[e], slices.Clone(row))
	cp.seen[e][k] = len(cp.rows[e]) - 1
	return len(cp.rows[e]) - 1
}

// colgenDive builds a roster by column generation and diving. The master
// LP chooses, for every employee, a convex combination of feasible rows
// (columns) and pays under- and over-cover linearly; its dual prices on the
// cover cells turn each employee's pricing problem into the same row DP the
// local search uses. On this problem the LP bound is within a few units of
// the optimum, so its solutions are nearly integral: the dive repeatedly
// fixes the employees whose rows the LP (almost) agrees on, re-solves with
// new columns, and ends with every employee fixed to one feasible row,
// which is polished by best-response sweeps and kept if it beats the
// worker's best. Beyond the settled rows, which fractional employees are
// fixed is randomised, so repeated dives explore different roundings.
// It reports whether the dive completed before stop.
func (w *worker) colgenDive(pool *columnPool, stop func() bool) bool {
	p := w.p
	E := len(p.Employees)
	fixed := make([]bool, E)
	fixedRow := make([][]int, E)
	// lead[e] is the pool row the next master starts from: the best roster.
	lead := make([]int, E)
	for e := range E {
		lead[e] = pool.add(e, w.best[e])
	}
	for {
		var free []int
		for e := range E {
			if !fixed[e] {
				free = append(free, e)
			}
		}
		if len(free) == 0 {
			break
		}
		lp, colOf := w.buildMaster(free, fixedRow, pool.rows, lead)
		// The root is solved to optimality; after a fixing step a few
		// pricing rounds repair the master well enough to steer the dive.
		maxRounds := -1
		if len(free) < E {
			maxRounds = w.diveRounds
		}
		w.generate(lp, free, pool, colOf, stop, maxRounds, func() { w.roundMaster(lp, free, colOf, fixedRow, pool) })
		if stop() {
			return false
		}
		type cand struct {
			e, j int
			v    float64
		}
		var settled, open []cand
		for fi, e := range free {
			bj, bv := -1, -1.0
			for j := range pool.rows[e] {
				if j < len(colOf[fi]) {
					if v := lp.value(colOf[fi][j]); v > bv {
						bj, bv = j, v
					}
				}
			}
			lead[e] = bj
			if bv >= 0.99 {
				settled = append(settled, cand{e, bj, bv})
			} else {
				open = append(open, cand{e, bj, bv})
			}
		}
		// Fix all settled employees and some open ones: the most settled
		// share (a fifth, or a half in a fast dive), drawn at random from
		// twice as many.
		slices.SortStableFunc(open, func(a, b cand) int { return cmp.Compare(b.v, a.v) })
		n := max(1, len(open)/w.fixDiv)
		if pick := min(len(open), 2*n); pick > n {
			w.rng.Shuffle(pick, func(i, j int) { open[i], open[j] = open[j], open[i] })
		}
		if len(settled) > 0 && len(open) > 0 && len(settled) >= len(free)/2 {
			// Most of the roster is settled; fix it and re-solve before
			// committing to any fractional row.
			n = 0
		}
		for _, c := range append(settled, open[:min(n, len(open))]...) {
			fixed[c.e] = true
			fixedRow[c.e] = pool.rows[c.e][c.j]
		}
	}
	for e := range E {
		w.setRow(e, fixedRow[e])
	}
	w.polish()
	if better(w.bad, w.obj, w.bestBad, w.bestObj) {
		w.snapshot()
	} else {
		w.adopt(w.best)
	}
	return true
}

// Dives come in two speeds. A careful dive repairs the master with up to 10
// pricing rounds after each fixing step and fixes a fifth of the open
// employees at a time; a fast dive, which odd threads use, runs 3 rounds and
// fixes half. On big instances only fast dives finish within a minute; on
// small ones both finish many times and the careful ones find the optimum
// more often.
const (
	diveRounds     = 10
	fastDiveRounds = 3
)

// roundEvery is how many pricing rounds pass between intermediate
// roundings of the master, and roundFirst the round of the first one. A
// rounding costs a few best-response sweeps, as much as a pricing round or
// more; on long horizons (Instance19) rounding every third round spent 40 %
// of the time polishing, while on Instance20, where one round takes
// seconds, waiting 8 rounds for the first roster cost half a minute.
const (
	roundEvery = 8
	roundFirst = 3
)

// roundMaster turns the current master solution into a roster, polishes
// it, keeps it if it is the best so far, and returns the worker to its best
// roster. Employees are rounded one by one, the most settled first (ties in
// random order): each takes the best row by the row DP against the cover
// of the fixed and already rounded rows plus the master's fractional rows
// of the employees still to come, priced by the cover penalty's exact
// increment at that fractional count. Taking each employee's heaviest
// column instead, as before, fails on masters where no employee is near
// integral (Instance19 after 10–40 s: none of 40 above 0.99): those
// roundings cost 12 000–17 000 before polishing and 4 700–6 100 after,
// against 4 500–5 500 and 4 100–5 200 this way (master at 3 200–3 700).
func (w *worker) roundMaster(lp *masterLP, free []int, colOf [][]int, fixedRow [][]int, pool *columnPool) {
	p, S := w.p, w.S
	// cov is the coverage of the fixed rows, the rows rounded so far and
	// the master's fractional rows of the others.
	cov := make([]float64, p.Days*S)
	for e, row := range fixedRow {
		if row != nil {
			w.setRow(e, row)
			for d, s := range row {
				if s != Off {
					cov[d*S+s]++
				}
			}
		}
	}
	type cand struct {
		fi int
		v  float64
	}
	order := make([]cand, len(free))
	addFrac := func(fi int, sign float64) {
		e := free[fi]
		for j, c := range colOf[fi] {
			if v := lp.value(c); v > 0 {
				for d, s := range pool.rows[e][j] {
					if s != Off {
						cov[d*S+s] += sign * v
					}
				}
			}
		}
	}
	for fi := range free {
		bv := 0.0
		for _, c := range colOf[fi] {
			bv = max(bv, lp.value(c))
		}
		order[fi] = cand{fi, bv}
		addFrac(fi, 1)
	}
	w.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	slices.SortStableFunc(order, func(a, b cand) int { return cmp.Compare(b.v, a.v) })
	pen := func(c *Cover, n float64) float64 {
		if r := float64(c.Requirement); n < r {
			return float64(c.WeightUnder) * (r - n)
		}
		return float64(c.WeightOver) * (n - float64(c.Requirement))
	}
	for _, o := range order {
		if w.stop() {
			break
		}
		fi, e := o.fi, free[o.fi]
		addFrac(fi, -1)
		req := w.req[e]
		for d := range p.Days {
			base := d * (S + 1)
			for s := range S {
				i := d*S + s
				c := &w.cover[i]
				w.cost[base+s] = int64(math.Round(cgScale * (float64(req[base+s]) + pen(c, cov[i]+1) - pen(c, cov[i]))))
			}
			w.cost[base+S] = cgScale * req[base+S]
		}
		row := w.tmp
		if _, ok := w.models[e].bestRow(p, w.cost, &w.sc, row); !ok {
			bj, bv := -1, -1.0
			for j, c := range colOf[fi] {
				if v := lp.value(c); v > bv {
					bj, bv = j, v
				}
			}
			row = pool.rows[e][bj]
		}
		for d, s := range row {
			if s != Off {
				cov[d*S+s]++
			}
		}
		w.setRow(e, row)
	}
	w.polish()
	if better(w.bad, w.obj, w.bestBad, w.bestObj) {
		w.snapshot()
		if w.report != nil {
			w.report()
		}
	}
	w.adopt(w.best)
}

// polish runs best-response sweeps over all employees in random order until
// a sweep no longer improves the objective.
func (w *worker) polish() {
	for {
		before := w.obj
		for _, e := range w.rng.Perm(len(w.rows)) {
			if w.stop() {
				return
			}
			w.reoptimise(e)
		}
		if w.obj >= before {
			return
		}
	}
}

// buildMaster assembles the master LP over the free employees' pool
// columns with the fixed employees' coverage taken off the requirements,
// and installs the basis of each free employee's lead column plus one
// cover slack per cell (under- or over-cover, whichever is non-negative).
// colOf[i][j] is the LP column of pool[free[i]][j].
func (w *worker) buildMaster(free []int, fixedRow [][]int, pool [][][]int, lead []int) (*masterLP, [][]int) {
	p := w.p
	S := w.S
	F := len(free)
	cells := p.Days * S
	m := F + cells
	b := make([]float64, m)
	for i := range F {
		b[i] = 1
	}
	for i := range cells {
		b[F+i] = float64(w.cover[i].Requirement)
	}
	for _, row := range fixedRow {
		for d, s := range row {
			if s != Off {
				b[F+d*S+s]--
			}
		}
	}
	// Set-partitioning masters are massively degenerate; a tiny random
	// perturbation of the requirements breaks the ties that make the
	// simplex stall, at a cost far below the objective's unit.
	for i := range cells {
		b[F+i] += 1e-5 * (1 + w.rng.Float64())
	}
	lp := newMasterLP(b)
	under := make([]int, cells)
	over := make([]int, cells)
	for i := range cells {
		under[i] = lp.addColumn(lpColumn{cost: float64(w.cover[i].WeightUnder), rows: []int32{int32(F + i)}, vals: []float64{1}})
		over[i] = lp.addColumn(lpColumn{cost: float64(w.cover[i].WeightOver), rows: []int32{int32(F + i)}, vals: []float64{-1}})
	}
	colOf := make([][]int, F)
	for fi, e := range free {
		for _, row := range pool[e] {
			colOf[fi] = append(colOf[fi], lp.addColumn(w.patternColumn(fi, F, e, row)))
		}
	}
	// Structured basis: each free employee's lead column and, per cell,
	// the cover slack that is non-negative there.
	basis := make([]int, m)
	resid := slices.Clone(b[F:])
	for fi, e := range free {
		basis[fi] = colOf[fi][lead[e]]
		for d, s := range pool[e][lead[e]] {
			if s != Off {
				resid[d*S+s]--
			}
		}
	}
	for i := range cells {
		basis[F+i] = under[i]
		if resid[i] < 0 {
			basis[F+i] = over[i]
		}
	}
	if !lp.setBasis(basis) {
		panic("solver: the structured starting basis of a master is singular")
	}
	return lp, colOf
}

func (w *worker) patternColumn(fi, F, e int, row []int) lpColumn {
	S := w.S
	c := lpColumn{cost: float64(w.rowReq(e, row)), rows: []int32{int32(fi)}, vals: []float64{1}}
	for d, s := range row {
		if s != Off {
			c.rows = append(c.rows, int32(F+d*S+s))
			c.vals = append(c.vals, 1)
		}
	}
	return c
}

// pricingChunks is how many LP solves a full pass of pricing is split into:
// pricing dominates a round, and duals refreshed after every quarter of the
// employees steer the remaining ones better (partial pricing).
const (
	pricingChunks = 4
	minChunk      = 8
)

// generate alternates master solves and pricing until no free employee has
// a row of negative reduced cost. Rounds are counted in employees priced
// (a round is one pass over all free employees). It returns the master
// objective and whether the LP was solved to optimality over all columns.
func (w *worker) generate(lp *masterLP, free []int, pool *columnPool, colOf [][]int, stop func() bool, maxRounds int, round func()) (float64, bool) {
	p := w.p
	S := w.S
	F := len(free)
	row := make([]int, p.Days)
	chunk := min(F, max(minChunk, (F+pricingChunks-1)/pricingChunks))
	priced, idle, next := 0, 0, 0
	nextRounding := roundFirst * F
	w.sc.firstFit, w.sc.pricing = true, true
	defer func() { w.sc.firstFit, w.sc.pricing = false, false }()
	// ps are the duals pricing uses: the master's, smoothed (see
	// dualSmoothing); exact is set when they equal the master's.
	ps := make([]float64, len(lp.y))
	smoothed, exact := false, true
	for {
		obj, optimal := lp.solve(20000, stop)
		if !optimal || stop() {
			return obj, false
		}
		if maxRounds >= 0 && priced >= maxRounds*F {
			return obj, false
		}
		if priced >= nextRounding {
			// On big instances convergence takes long; a rounded roster
			// now and then makes the search useful at any time.
			w.sc.firstFit = false
			round()
			w.sc.firstFit = true
			nextRounding += roundEvery * F
		}
		if !smoothed || dualSmoothing == 0 {
			copy(ps, lp.y)
			exact = true
		} else {
			for i, y := range lp.y {
				ps[i] = dualSmoothing*ps[i] + (1-dualSmoothing)*y
			}
			exact = false
		}
		smoothed = true
		added := 0
		for range chunk {
			if stop() {
				return obj, false
			}
			fi := next
			next = (next + 1) % F
			e := free[fi]
			priced++
			if added == 0 && exact {
				// Priced at the duals of the current master.
				idle++
			}
			req := w.req[e]
			for d := range p.Days {
				base := d * (S + 1)
				for s := range S {
					w.cost[base+s] = int64(math.Round(cgScale * (float64(req[base+s]) - ps[F+d*S+s])))
				}
				w.cost[base+S] = cgScale * req[base+S]
			}
			// Only rows of negative reduced cost are wanted.
			cutoff := int64(math.Ceil(cgScale*ps[fi]-0.01)) - 1
			if _, ok := w.models[e].bestRowWithin(p, w.cost, &w.sc, row, cutoff); !ok {
				continue
			}
			// The column must price out against the master's own duals.
			rc := float64(w.rowReq(e, row)) - lp.y[fi]
			for d, s := range row {
				if s != Off {
					rc -= lp.y[F+d*S+s]
				}
			}
			if rc >= -1e-6 {
				continue
			}
			n := len(pool.rows[e])
			if j := pool.add(e, row); j == n {
				colOf[fi] = append(colOf[fi], lp.addColumn(w.patternColumn(fi, F, e, pool.rows[e][j])))
				added++
				idle = 0
			}
		}
		if idle >= F {
			return obj, true
		}
		if added == 0 {
			// Smoothed duals found nothing (mispricing): price the
			// next chunk at the master's own duals.
			smoothed = false
		}
	}
}

// dualSmoothing is the weight of the previous pricing duals in the next
// ones (Neame's smoothing): column generation on a degenerate master
// jumps between extreme dual solutions and generates columns that enter
// at level zero; prices averaged over successive masters are closer to
// the dual optimum. A chunk that finds no column at the smoothed duals is
// priced again at the master's.
const dualSmoothing = 0.5
