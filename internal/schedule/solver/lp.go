package solver

import (
	"math"
	"slices"
)

// lpColumn is a sparse column of the master LP.
type lpColumn struct {
	cost float64
	norm float64 // pricing weight 1/sqrt(1+nnz), set by addColumn
	rows []int32 // ascending
	vals []float64
}

// masterLP is a small revised simplex for min c·x, Ax = b, x ≥ 0. It is
// sized for the rostering master problem (one row per employee plus one per
// cover cell, a few thousand columns) and starts from a feasible basis
// supplied by the caller, so it needs no phase one. Columns may be added
// between solves; the basis is kept, which makes column generation
// warm-started.
//
// Most basic columns of a rostering master are cover slacks, columns with a
// single non-zero. The basis is kept in that shape: every row is either
// covered by a basic singleton column (which then only balances its row),
// or belongs to the kernel K, the square submatrix of the other basic
// columns on the rows no singleton covers. Only K's inverse is stored,
// dense. On Instance20's root K has 70–210 rows against the basis's 1 142,
// so a pivot touches a few hundred kilobytes instead of ten megabytes of a
// dense basis inverse; a pivot that changes which rows singletons cover
// grows, shrinks or edits K by a bordered or rank-one update of its
// inverse.
type masterLP struct {
	m    int
	b    []float64
	cols []lpColumn
	y    []float64 // duals of the last solve

	// loc[j] is column j's index in K, -2 if it is a basic singleton, -1
	// if it is not basic.
	loc []int
	// single[r] is the basic singleton column covering row r, or -1; xS[r]
	// is its value.
	single []int
	xS     []float64
	// K: kcol[t] is its t-th column (with value xK[t]), krow[i] its i-th
	// row, rowAt[r] row r's index in krow or -1. inv holds K⁻¹ with stride
	// cap: inv[t*cap+i] maps K's row i to its column t, so x_K = K⁻¹ b_K.
	kcol  []int
	xK    []float64
	krow  []int
	rowAt []int
	inv   []float64
	cap   int

	// scratch: d is the entering column's K part (B⁻¹a on K's columns),
	// aS its singleton part by row, g a row vector over K's rows.
	d, aS, g []float64
	nzi      []int32
	nzv      []float64
	pivots   int
}

func newMasterLP(b []float64) *masterLP {
	m := len(b)
	lp := &masterLP{m: m, b: b, y: make([]float64, m), single: make([]int, m), xS: make([]float64, m),
		rowAt: make([]int, m), aS: make([]float64, m)}
	return lp
}

func (lp *masterLP) addColumn(c lpColumn) int {
	c.norm = 1 / math.Sqrt(float64(1+len(c.rows)))
	lp.cols = append(lp.cols, c)
	lp.loc = append(lp.loc, -1)
	return len(lp.cols) - 1
}

// grow makes room in inv for a kernel of k rows, keeping the first keep
// rows and columns.
func (lp *masterLP) grow(k, keep int) {
	if k <= lp.cap {
		return
	}
	c := max(k, 2*lp.cap, 64)
	c = min(c, max(lp.m, k))
	inv := make([]float64, c*c)
	for t := range keep {
		copy(inv[t*c:t*c+keep], lp.inv[t*lp.cap:t*lp.cap+keep])
	}
	lp.inv, lp.cap = inv, c
	if len(lp.d) < c {
		lp.d = append(lp.d, make([]float64, c-len(lp.d))...)
		lp.g = append(lp.g, make([]float64, c-len(lp.g))...)
	}
}

// setBasis installs the basis (one column per row): singleton columns
// cover their rows, and K, the rest, is inverted by Gauss–Jordan
// elimination with partial pivoting. It reports false if the basis is
// singular or infeasible.
func (lp *masterLP) setBasis(basis []int) bool {
	m := lp.m
	for j := range lp.loc {
		lp.loc[j] = -1
	}
	for r := range m {
		lp.single[r] = -1
	}
	lp.kcol = lp.kcol[:0]
	for _, j := range basis {
		c := &lp.cols[j]
		if len(c.rows) == 1 {
			r := c.rows[0]
			if lp.single[r] >= 0 {
				return false
			}
			lp.single[r] = j
			lp.loc[j] = -2
			continue
		}
		lp.loc[j] = len(lp.kcol)
		lp.kcol = append(lp.kcol, j)
	}
	lp.krow = lp.krow[:0]
	for r := range m {
		lp.rowAt[r] = -1
		if lp.single[r] < 0 {
			lp.rowAt[r] = len(lp.krow)
			lp.krow = append(lp.krow, r)
		}
	}
	k := len(lp.kcol)
	if len(lp.krow) != k {
		return false
	}
	lp.grow(k, 0)
	if !lp.invert() {
		return false
	}
	lp.xK = append(lp.xK[:0], make([]float64, k)...)
	return lp.primal()
}

// invert computes K⁻¹ from scratch by Gauss–Jordan elimination with
// partial pivoting on [K | I].
func (lp *masterLP) invert() bool {
	k, c := len(lp.kcol), lp.cap
	a := make([]float64, k*k) // a[i*k+t] = K[i][t]
	for t, j := range lp.kcol {
		col := &lp.cols[j]
		for n, r := range col.rows {
			if i := lp.rowAt[r]; i >= 0 {
				a[i*k+t] = col.vals[n]
			}
		}
	}
	inv := lp.inv
	for t := range k {
		clear(inv[t*c : t*c+k])
		inv[t*c+t] = 1
	}
	for col := range k {
		piv, best := -1, 1e-12
		for r := col; r < k; r++ {
			if v := math.Abs(a[r*k+col]); v > best {
				piv, best = r, v
			}
		}
		if piv < 0 {
			return false
		}
		if piv != col {
			for q := range k {
				a[piv*k+q], a[col*k+q] = a[col*k+q], a[piv*k+q]
				inv[piv*c+q], inv[col*c+q] = inv[col*c+q], inv[piv*c+q]
			}
		}
		f := 1 / a[col*k+col]
		for q := range k {
			a[col*k+q] *= f
			inv[col*c+q] *= f
		}
		for r := range k {
			if r == col {
				continue
			}
			g := a[r*k+col]
			if g == 0 {
				continue
			}
			for q := range k {
				a[r*k+q] -= g * a[col*k+q]
				inv[r*c+q] -= g * inv[col*c+q]
			}
		}
	}
	return true
}

// primal computes the basic solution x = B⁻¹b; it reports false if it is
// infeasible beyond round-off (values within round-off are clamped to 0).
func (lp *masterLP) primal() bool {
	k, c := len(lp.kcol), lp.cap
	ok := true
	for t := range k {
		row := lp.inv[t*c : t*c+k]
		s := 0.0
		for i, r := range lp.krow {
			s += row[i] * lp.b[r]
		}
		if s < -1e-7 {
			ok = false
		}
		lp.xK[t] = max(s, 0)
	}
	for r := range lp.m {
		if lp.single[r] >= 0 {
			lp.aS[r] = lp.b[r]
		}
	}
	for t, j := range lp.kcol {
		col := &lp.cols[j]
		for n, r := range col.rows {
			if lp.single[r] >= 0 {
				lp.aS[r] -= col.vals[n] * lp.xK[t]
			}
		}
	}
	for r := range lp.m {
		if j := lp.single[r]; j >= 0 {
			s := lp.aS[r] / lp.cols[j].vals[0]
			if s < -1e-7 {
				ok = false
			}
			lp.xS[r] = max(s, 0)
			lp.aS[r] = 0
		}
	}
	return ok
}

// solve runs primal simplex from the current basis until optimal or until
// maxPivots or stop; it returns the objective and whether optimality was
// reached.
func (lp *masterLP) solve(maxPivots int, stop func() bool) (float64, bool) {
	degenerate := 0
	lp.duals()
	for it := 0; it < maxPivots; it++ {
		if it%64 == 63 {
			// Wash out drift of the incremental updates.
			lp.primal()
			lp.duals()
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
			if lp.loc[j] != -1 {
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
		lp.ftran(q)
		// Ratio test over K's columns and the singletons; ties go to the
		// lowest column index.
		k := len(lp.kcol)
		leaveT, leaveR, leaveJ, ratio := -1, -1, -1, math.Inf(1)
		for t := range k {
			if a := lp.d[t]; a > 1e-9 {
				r := lp.xK[t] / a
				if j := lp.kcol[t]; r < ratio-1e-12 || (r < ratio+1e-12 && j < leaveJ) {
					leaveT, leaveR, leaveJ, ratio = t, -1, j, r
				}
			}
		}
		for r, j := range lp.single {
			if j < 0 {
				continue
			}
			if a := lp.aS[r]; a > 1e-9 {
				t := lp.xS[r] / a
				if t < ratio-1e-12 || (t < ratio+1e-12 && j < leaveJ) {
					leaveT, leaveR, leaveJ, ratio = -1, r, j, t
				}
			}
		}
		if leaveJ < 0 {
			// Unbounded cannot happen with non-negative costs; treat as done.
			lp.clearAS()
			return lp.objective(), false
		}
		if ratio < 1e-12 {
			degenerate++
		} else {
			degenerate = 0
		}
		if !lp.pivot(q, leaveT, leaveR, ratio, best/lp.cols[q].norm) {
			// The update met a pivot too small to trust: rebuild the
			// kernel's inverse from the columns.
			if !lp.invert() {
				return lp.objective(), false
			}
			lp.primal()
			lp.duals()
		}
	}
	lp.duals()
	return lp.objective(), false
}

// ftran computes column q's representation in the basis: d over K's
// columns, aS over the rows singletons cover.
func (lp *masterLP) ftran(q int) {
	k, c := len(lp.kcol), lp.cap
	col := &lp.cols[q]
	nzi, nzv := lp.nzi[:0], lp.nzv[:0]
	for n, r := range col.rows {
		if i := lp.rowAt[r]; i >= 0 {
			nzi = append(nzi, int32(i))
			nzv = append(nzv, col.vals[n])
		} else {
			lp.aS[r] = col.vals[n]
		}
	}
	lp.nzi, lp.nzv = nzi, nzv
	d := lp.d[:k]
	for t := range k {
		row := lp.inv[t*c : t*c+k]
		s := 0.0
		for n, i := range nzi {
			s += row[i] * nzv[n]
		}
		d[t] = s
	}
	for t, j := range lp.kcol {
		if d[t] == 0 {
			continue
		}
		kc := &lp.cols[j]
		for n, r := range kc.rows {
			if lp.rowAt[r] < 0 {
				lp.aS[r] -= kc.vals[n] * d[t]
			}
		}
	}
	for r, j := range lp.single {
		if j >= 0 && lp.aS[r] != 0 {
			lp.aS[r] /= lp.cols[j].vals[0]
		}
	}
}

func (lp *masterLP) clearAS() { clear(lp.aS) }

// pivot brings column q into the basis in place of K's column leaveT or
// the singleton covering row leaveR, at step theta, and updates K⁻¹. It
// reports false if K⁻¹ must be rebuilt. dq is q's reduced cost, used to
// update the duals by the leaving row of B⁻¹ (y' = y + dq/α_r · ρ_r).
func (lp *masterLP) pivot(q, leaveT, leaveR int, theta, dq float64) bool {
	k, c := len(lp.kcol), lp.cap
	d := lp.d[:k]
	for t := range k {
		if a := d[t]; a != 0 {
			lp.xK[t] = max(lp.xK[t]-a*theta, 0)
		}
	}
	for r, j := range lp.single {
		if j >= 0 {
			if a := lp.aS[r]; a != 0 {
				lp.xS[r] = max(lp.xS[r]-a*theta, 0)
			}
		}
	}
	var piv float64
	var g []float64
	if leaveT >= 0 {
		// ρ_r is row t of K⁻¹ on K's rows.
		piv = d[leaveT]
		f := dq / piv
		rt := lp.inv[leaveT*c : leaveT*c+k]
		for i, r := range lp.krow {
			lp.y[r] += f * rt[i]
		}
	} else {
		// ρ_r is (e_j − g) / a_j with g = v·K⁻¹, v row j of K's columns.
		piv = lp.aS[leaveR]
		g = lp.rowTimesInv(leaveR)
		f := dq / piv / lp.cols[lp.single[leaveR]].vals[0]
		lp.y[leaveR] += f
		for i, r := range lp.krow {
			lp.y[r] -= f * g[i]
		}
	}
	lp.clearAS()
	lp.pivots++
	qc := &lp.cols[q]
	ok := true
	switch {
	case len(qc.rows) != 1 && leaveT >= 0:
		// A kernel column replaces another: a product-form update of K⁻¹.
		rt := lp.inv[leaveT*c : leaveT*c+k]
		f := 1 / piv
		for i := range rt {
			rt[i] *= f
		}
		for t := range k {
			if a := d[t]; a != 0 && t != leaveT {
				row := lp.inv[t*c : t*c+k]
				for i, v := range rt {
					row[i] -= a * v
				}
			}
		}
		lp.loc[lp.kcol[leaveT]] = -1
		lp.kcol[leaveT] = q
		lp.loc[q] = leaveT
		lp.xK[leaveT] = theta
	case len(qc.rows) != 1:
		// A kernel column replaces the singleton on row j: K gains row j
		// and column q (bordering). s is the Schur complement a_j − v·d,
		// where v is row j of K's columns.
		j := leaveR
		s := piv * lp.cols[lp.single[j]].vals[0]
		if math.Abs(s) < 1e-9 {
			ok = false
		}
		lp.grow(k+1, k)
		c = lp.cap
		d, g = lp.d[:k], lp.g[:k]
		f := 1 / s
		for t := range k {
			if a := d[t]; a != 0 {
				row := lp.inv[t*c : t*c+k]
				for i, v := range g {
					row[i] += a * v * f
				}
			}
			lp.inv[t*c+k] = -d[t] * f
		}
		row := lp.inv[k*c : k*c+k+1]
		for i, v := range g {
			row[i] = -v * f
		}
		row[k] = f
		lp.loc[lp.single[j]] = -1
		lp.single[j] = -1
		lp.xS[j] = 0
		lp.rowAt[j] = k
		lp.krow = append(lp.krow, j)
		lp.kcol = append(lp.kcol, q)
		lp.loc[q] = k
		lp.xK = append(lp.xK, theta)
	case lp.rowAt[qc.rows[0]] < 0:
		// A singleton replaces the one on its own row; K is unchanged.
		r := int(qc.rows[0])
		lp.loc[lp.single[r]] = -1
		lp.single[r] = q
		lp.loc[q] = -2
		lp.xS[r] = theta
	case leaveR >= 0:
		// A singleton on K's row i replaces the singleton on row j: row
		// i of K is replaced by row j (v). With g = v·K⁻¹ and column i of
		// K⁻¹ as ci, K'⁻¹ = K⁻¹ − ci (g − e_i)ᵀ / g_i.
		j := leaveR
		rq := int(qc.rows[0])
		i := lp.rowAt[rq]
		gi := g[i]
		if math.Abs(gi) < 1e-9 {
			ok = false
		}
		g[i] -= 1
		f := 1 / gi
		for t := range k {
			row := lp.inv[t*c : t*c+k]
			if a := row[i]; a != 0 {
				a *= f
				for n, v := range g {
					row[n] -= a * v
				}
			}
		}
		lp.loc[lp.single[j]] = -1
		lp.single[j] = -1
		lp.xS[j] = 0
		lp.rowAt[j] = i
		lp.krow[i] = j
		lp.rowAt[rq] = -1
		lp.single[rq] = q
		lp.loc[q] = -2
		lp.xS[rq] = theta
	default:
		// A singleton on K's row i replaces K's column t: K loses row i
		// and column t, and K'⁻¹ = K⁻¹ − K⁻¹[·,i] K⁻¹[t,·] / K⁻¹[t,i]
		// without row t and column i. The last row and column move into
		// the gaps.
		t := leaveT
		rq := int(qc.rows[0])
		i := lp.rowAt[rq]
		rt := lp.inv[t*c : t*c+k]
		p := rt[i]
		if math.Abs(p) < 1e-12 {
			ok = false
			p = math.Copysign(1e-12, p)
		}
		f := 1 / p
		for u := range k {
			if u == t {
				continue
			}
			row := lp.inv[u*c : u*c+k]
			if a := row[i]; a != 0 {
				a *= f
				for n, v := range rt {
					row[n] -= a * v
				}
			}
		}
		last := k - 1
		lp.loc[lp.kcol[t]] = -1
		// Move K's last column into slot t and its last row into slot i.
		if t != last {
			copy(lp.inv[t*c:t*c+k], lp.inv[last*c:last*c+k])
			lp.kcol[t] = lp.kcol[last]
			lp.xK[t] = lp.xK[last]
			lp.loc[lp.kcol[t]] = t
		}
		if i != last {
			for u := range last {
				lp.inv[u*c+i] = lp.inv[u*c+last]
			}
			lp.krow[i] = lp.krow[last]
			lp.rowAt[lp.krow[i]] = i
		}
		lp.kcol = lp.kcol[:last]
		lp.xK = lp.xK[:last]
		lp.krow = lp.krow[:last]
		lp.rowAt[rq] = -1
		lp.single[rq] = q
		lp.loc[q] = -2
		lp.xS[rq] = theta
	}
	return ok
}

// rowTimesInv returns g = v·K⁻¹ (over K's rows), where v_t is K's column
// t's entry on row j (a row no K row is).
func (lp *masterLP) rowTimesInv(j int) []float64 {
	k, c := len(lp.kcol), lp.cap
	g := lp.g[:k]
	clear(g)
	for t, jc := range lp.kcol {
		col := &lp.cols[jc]
		if n, ok := slices.BinarySearch(col.rows, int32(j)); ok {
			v := col.vals[n]
			row := lp.inv[t*c : t*c+k]
			for i, w := range row {
				g[i] += v * w
			}
		}
	}
	return g
}

// duals computes y = c_B·B⁻¹: a singleton fixes its row's dual, and K's
// rows get (c_K − y_S·A_SK)·K⁻¹.
func (lp *masterLP) duals() {
	k, c := len(lp.kcol), lp.cap
	for r, j := range lp.single {
		if j >= 0 {
			lp.y[r] = lp.cols[j].cost / lp.cols[j].vals[0]
		}
	}
	g := lp.g[:k]
	clear(g)
	for t, j := range lp.kcol {
		col := &lp.cols[j]
		s := col.cost
		for n, r := range col.rows {
			if lp.rowAt[r] < 0 {
				s -= lp.y[r] * col.vals[n]
			}
		}
		if s == 0 {
			continue
		}
		row := lp.inv[t*c : t*c+k]
		for i, v := range row {
			g[i] += s * v
		}
	}
	for i, r := range lp.krow {
		lp.y[r] = g[i]
	}
}

func (lp *masterLP) objective() float64 {
	s := 0.0
	for t, j := range lp.kcol {
		s += lp.cols[j].cost * lp.xK[t]
	}
	for r, j := range lp.single {
		if j >= 0 {
			s += lp.cols[j].cost * lp.xS[r]
		}
	}
	return s
}

// value returns column j's primal value.
func (lp *masterLP) value(j int) float64 {
	switch t := lp.loc[j]; {
	case t >= 0:
		return lp.xK[t]
	case t == -2:
		return lp.xS[lp.cols[j].rows[0]]
	}
	return 0
}
