package solver

import (
	"math"
	"slices"
)

// cgScale turns the master's fractional duals into the row DP's integer
// prices; reduced costs are then exact to 1/cgScale.
const cgScale = 10000

// colgenDive builds a roster by column generation and diving. The master
// LP chooses, for every employee, a convex combination of feasible rows
// (columns) and pays under- and over-cover linearly; its dual prices on the
// cover cells turn each employee's pricing problem into the same row DP the
// local search uses. On this problem the LP bound is within a few units of
// the optimum, so its solutions are nearly integral: the dive repeatedly
// fixes the employees whose rows the LP (almost) agrees on, re-solves with
// new columns, and ends with every employee fixed to one feasible row.
// The roster is adopted if it beats the worker's best. It returns the root
// LP bound (or NaN if the root was not solved) and whether a roster was
// completed before stop.
func (w *worker) colgenDive(stop func() bool) (float64, bool) {
	p := w.p
	E := len(p.Employees)
	fixed := make([]bool, E)
	fixedRow := make([][]int, E)
	pool := make([][][]int, E)
	seen := make([]map[string]bool, E)
	key := func(row []int) string {
		b := make([]byte, len(row))
		for i, s := range row {
			b[i] = byte(s + 1)
		}
		return string(b)
	}
	addPool := func(e int, row []int) int {
		k := key(row)
		if seen[e][k] {
			for j, r := range pool[e] {
				if slices.Equal(r, row) {
					return j
				}
			}
		}
		seen[e][k] = true
		pool[e] = append(pool[e], slices.Clone(row))
		return len(pool[e]) - 1
	}
	// lead[e] is the pool row the next master starts from.
	lead := make([]int, E)
	for e := range E {
		seen[e] = map[string]bool{}
		lead[e] = addPool(e, w.rows[e])
	}
	root := math.NaN()
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
		lp, colOf, ok := w.buildMaster(free, fixedRow, pool, lead)
		if !ok {
			return root, false
		}
		obj, solved := w.generate(lp, free, pool, colOf, addPool, stop)
		if stop() {
			return root, false
		}
		if math.IsNaN(root) && solved {
			root = obj
		}
		// Fix every employee the LP has settled, plus the most settled of
		// the rest (a tenth of them at a time, to bound the number of rounds).
		type cand struct {
			e, j int
			v    float64
		}
		var cs []cand
		for fi, e := range free {
			bj, bv := -1, -1.0
			for j := range pool[e] {
				if v := lp.value(colOf[fi][j]); v > bv {
					bj, bv = j, v
				}
			}
			cs = append(cs, cand{e, bj, bv})
			lead[e] = bj
		}
		slices.SortStableFunc(cs, func(a, b cand) int {
			switch {
			case a.v > b.v:
				return -1
			case a.v < b.v:
				return 1
			}
			return 0
		})
		extra := max(1, len(cs)/10)
		for i, c := range cs {
			if c.v < 0.99 {
				if extra == 0 {
					break
				}
				extra--
			}
			_ = i
			fixed[c.e] = true
			fixedRow[c.e] = pool[c.e][c.j]
		}
	}
	for e := range E {
		w.setRow(e, fixedRow[e])
	}
	w.polish()
	if better(w.bad, w.obj, w.bestBad, w.bestObj) {
		w.snapshot()
	}
	return root, true
}

// buildMaster assembles the master LP over the free employees' pool
// columns with the fixed employees' coverage taken off the requirements,
// and installs the basis of each free employee's lead column plus one
// cover slack per cell (under- or over-cover, whichever is non-negative).
// colOf[i][j] is the LP column of pool[free[i]][j].
func (w *worker) buildMaster(free []int, fixedRow [][]int, pool [][][]int, lead []int) (*masterLP, [][]int, bool) {
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
	// Structured basis: B = [I 0; A D] with D = ±1, so B⁻¹ = [I 0; -DA D].
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
	inv := lp.binv
	for fi := range F {
		inv[fi*m+fi] = 1
		lp.xB[fi] = 1
	}
	for i := range cells {
		sign := 1.0
		basis[F+i] = under[i]
		if resid[i] < 0 {
			sign = -1
			basis[F+i] = over[i]
		}
		r := F + i
		inv[r*m+r] = sign
		lp.xB[r] = math.Abs(resid[i])
	}
	for fi, e := range free {
		for d, s := range pool[e][lead[e]] {
			if s != Off {
				r := F + d*S + s
				inv[r*m+fi] = -inv[r*m+r]
			}
		}
	}
	lp.basis = basis
	for p, j := range basis {
		lp.pos[j] = p
	}
	return lp, colOf, true
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

// generate alternates master solves and pricing until no free employee has
// a row of negative reduced cost. It returns the master objective and
// whether the LP was solved to optimality over all columns.
func (w *worker) generate(lp *masterLP, free []int, pool [][][]int, colOf [][]int,
	addPool func(int, []int) int, stop func() bool) (float64, bool) {
	p := w.p
	S := w.S
	F := len(free)
	row := make([]int, p.Days)
	for round := 0; ; round++ {
		obj, optimal := lp.solve(20000)
		if !optimal || stop() {
			return obj, false
		}
		added := 0
		for fi, e := range free {
			req := w.req[e]
			for d := range p.Days {
				base := d * (S + 1)
				for s := range S {
					pi := lp.y[F+d*S+s]
					w.cost[base+s] = int64(math.Round(cgScale * (float64(req[base+s]) - pi)))
				}
				w.cost[base+S] = cgScale * req[base+S]
			}
			v, ok := w.models[e].bestRow(p, w.cost, &w.sc, row)
			if !ok {
				continue
			}
			if float64(v)/cgScale-lp.y[fi] < -1e-6 {
				n := len(pool[e])
				j := addPool(e, row)
				if j == n {
					colOf[fi] = append(colOf[fi], lp.addColumn(w.patternColumn(fi, F, e, pool[e][j])))
					added++
				}
			}
		}
		if added == 0 {
			return obj, true
		}
	}
}
