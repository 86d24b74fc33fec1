package solver

import "math"

// lpColumn is a sparse column of the master LP.
type lpColumn struct {
	cost float64
	norm float64 // pricing weight 1/sqrt(1+nnz), set by addColumn
	rows []int32
	vals []float64
}

// masterLP is a small revised simplex for min c·x, Ax = b, x ≥ 0, with a
// dense basis inverse. It is sized for the rostering master problem (one
// row per employee plus one per cover cell, a few thousand columns) and
// starts from a feasible basis supplied by the caller, so it needs no
// phase one. Columns may be added between solves; the basis is kept, which
// makes column generation warm-started.
type masterLP struct {
	m      int
	b      []float64
	cols   []lpColumn
	basis  []int     // column of each basis position
	pos    []int     // basis position of each column, or -1
	binv   []float64 // m×m, row-major
	xB     []float64
	y      []float64 // duals of the last solve
	alpha  []float64
	nz     []int32
	pivots int
}

func newMasterLP(b []float64) *masterLP {
	m := len(b)
	return &masterLP{m: m, b: b, binv: make([]float64, m*m), xB: make([]float64, m), y: make([]float64, m), alpha: make([]float64, m)}
}

func (lp *masterLP) addColumn(c lpColumn) int {
	c.norm = 1 / math.Sqrt(float64(1+len(c.rows)))
	lp.cols = append(lp.cols, c)
	lp.pos = append(lp.pos, -1)
	return len(lp.cols) - 1
}

// setBasis installs the basis (one column per row) and inverts it by
// Gauss–Jordan elimination with partial pivoting. It reports false if the
// basis is singular or infeasible.
func (lp *masterLP) setBasis(basis []int) bool {
	m := lp.m
	a := make([]float64, m*m)
	for p, j := range basis {
		c := lp.cols[j]
		for k, r := range c.rows {
			a[int(r)*m+p] = c.vals[k]
		}
	}
	inv := lp.binv
	clear(inv)
	for i := range m {
		inv[i*m+i] = 1
	}
	for col := range m {
		piv, best := -1, 1e-12
		for r := col; r < m; r++ {
			if v := math.Abs(a[r*m+col]); v > best {
				piv, best = r, v
			}
		}
		if piv < 0 {
			return false
		}
		if piv != col {
			for k := range m {
				a[piv*m+k], a[col*m+k] = a[col*m+k], a[piv*m+k]
				inv[piv*m+k], inv[col*m+k] = inv[col*m+k], inv[piv*m+k]
			}
		}
		f := 1 / a[col*m+col]
		for k := range m {
			a[col*m+k] *= f
			inv[col*m+k] *= f
		}
		for r := range m {
			if r == col {
				continue
			}
			g := a[r*m+col]
			if g == 0 {
				continue
			}
			for k := range m {
				a[r*m+k] -= g * a[col*m+k]
				inv[r*m+k] -= g * inv[col*m+k]
			}
		}
	}
	lp.basis = append(lp.basis[:0], basis...)
	for j := range lp.pos {
		lp.pos[j] = -1
	}
	for p, j := range basis {
		lp.pos[j] = p
	}
	for i := range m {
		s := 0.0
		for k := range m {
			s += inv[i*m+k] * lp.b[k]
		}
		if s < -1e-7 {
			return false
		}
		lp.xB[i] = max(s, 0)
	}
	return true
}

// solve runs primal simplex from the current basis until optimal or until
// maxPivots or stop; it returns the objective and whether optimality was
// reached.
func (lp *masterLP) solve(maxPivots int, stop func() bool) (float64, bool) {
	m := lp.m
	degenerate := 0
	lp.duals()
	for it := 0; it < maxPivots; it++ {
		if it%64 == 63 {
			lp.duals() // wash out drift of the incremental update
			if stop() {
				return lp.objective(), false
			}
		}
		// Pricing: Dantzig's rule on reduced costs scaled by the column's
		// norm (a static stand-in for steepest edge: long rows no longer
		// win just by touching many cells; on Instance12's root it saves a
		// quarter of the pivots for the same LP path), Bland's after a run
		// of degenerate pivots to rule out cycling.
		bland := degenerate > 50
		q, best := -1, -1e-9
		for j := range lp.cols {
			if lp.pos[j] >= 0 {
				continue
			}
			c := &lp.cols[j]
			d := c.cost
			for k, r := range c.rows {
				d -= lp.y[r] * c.vals[k]
			}
			if d *= c.norm; d < best {
				q, best = j, d
				if bland {
					break
				}
			}
		}
		if q < 0 {
			return lp.objective(), true
		}
		c := &lp.cols[q]
		best /= c.norm
		for i := range m {
			s := 0.0
			row := lp.binv[i*m : (i+1)*m]
			for k, r := range c.rows {
				s += row[r] * c.vals[k]
			}
			lp.alpha[i] = s
		}
		r, ratio := -1, math.Inf(1)
		for i := range m {
			if a := lp.alpha[i]; a > 1e-9 {
				t := lp.xB[i] / a
				if t < ratio-1e-12 || (t < ratio+1e-12 && r >= 0 && lp.basis[i] < lp.basis[r]) {
					r, ratio = i, t
				}
			}
		}
		if r < 0 {
			// Unbounded cannot happen with non-negative costs; treat as done.
			return lp.objective(), false
		}
		if ratio < 1e-12 {
			degenerate++
		} else {
			degenerate = 0
		}
		lp.pivot(r, q, best)
	}
	lp.duals()
	return lp.objective(), false
}

// pivot brings column q into the basis at row r. The basis inverse of a
// rostering master stays sparse, so the update walks only the non-zeros of
// the pivot row. dq is q's reduced cost, used to update the duals in O(m).
func (lp *masterLP) pivot(r, q int, dq float64) {
	m := lp.m
	ar := lp.alpha[r]
	rowR := lp.binv[r*m : (r+1)*m]
	nz := lp.nz[:0]
	for k, v := range rowR {
		if v != 0 {
			v /= ar
			if math.Abs(v) < 1e-14 {
				v = 0
			} else {
				nz = append(nz, int32(k))
			}
			rowR[k] = v
		}
	}
	lp.nz = nz
	theta := lp.xB[r] / ar
	for i := range m {
		if i == r {
			continue
		}
		a := lp.alpha[i]
		if a == 0 {
			continue
		}
		row := lp.binv[i*m : (i+1)*m]
		for _, k := range nz {
			row[k] -= a * rowR[k]
		}
		lp.xB[i] = max(lp.xB[i]-a*theta, 0)
	}
	lp.xB[r] = theta
	lp.pos[lp.basis[r]] = -1
	lp.basis[r] = q
	lp.pos[q] = r
	lp.pivots++
	// y' = y + dq · (new row r of B⁻¹).
	for _, k := range nz {
		lp.y[k] += dq * rowR[k]
	}
}

// duals computes y = c_B · B⁻¹.
func (lp *masterLP) duals() {
	m := lp.m
	clear(lp.y)
	for i := range m {
		c := lp.cols[lp.basis[i]].cost
		if c == 0 {
			continue
		}
		row := lp.binv[i*m : (i+1)*m]
		for k, v := range row {
			lp.y[k] += c * v
		}
	}
}

func (lp *masterLP) objective() float64 {
	s := 0.0
	for i, j := range lp.basis {
		s += lp.cols[j].cost * lp.xB[i]
	}
	return s
}

// value returns column j's primal value.
func (lp *masterLP) value(j int) float64 {
	if p := lp.pos[j]; p >= 0 {
		return lp.xB[p]
	}
	return 0
}
