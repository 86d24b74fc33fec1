package solver

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomMaster builds a master shaped like the rostering one: F convexity
// rows, then cells cover rows with an under- and an over-slack each, and
// pattern columns that take one convexity row and a random set of cells
// (now and then none, a singleton on its convexity row).
func randomMaster(rng *rand.Rand, F, cells int) (*masterLP, []int) {
	b := make([]float64, F+cells)
	for i := range F {
		b[i] = 1
	}
	for i := range cells {
		b[F+i] = float64(rng.IntN(3)) + 1e-5*(1+rng.Float64())
	}
	lp := newMasterLP(b)
	resid := append([]float64(nil), b[F:]...)
	basis := make([]int, F+cells)
	for fi := range F {
		basis[fi] = lp.addColumn(randomPattern(rng, fi, F, cells))
		for _, r := range lp.cols[basis[fi]].rows[1:] {
			resid[int(r)-F]--
		}
	}
	for i := range cells {
		under := lp.addColumn(lpColumn{cost: float64(1 + rng.IntN(100)), rows: []int32{int32(F + i)}, vals: []float64{1}})
		over := lp.addColumn(lpColumn{cost: float64(1 + rng.IntN(100)), rows: []int32{int32(F + i)}, vals: []float64{-1}})
		basis[F+i] = under
		if resid[i] < 0 {
			basis[F+i] = over
		}
	}
	return lp, basis
}

func randomPattern(rng *rand.Rand, fi, F, cells int) lpColumn {
	c := lpColumn{cost: float64(rng.IntN(50)), rows: []int32{int32(fi)}, vals: []float64{1}}
	if rng.IntN(10) == 0 {
		return c
	}
	for i := range cells {
		if rng.IntN(3) == 0 {
			c.rows = append(c.rows, int32(F+i))
			c.vals = append(c.vals, 1)
		}
	}
	return c
}

// checkOptimal verifies a solved master from its columns alone: Ax = b,
// x ≥ 0, no column with a negative reduced cost, and c·x = y·b.
func checkOptimal(t *testing.T, lp *masterLP, obj float64) {
	t.Helper()
	ax := make([]float64, lp.m)
	cx := 0.0
	for j, c := range lp.cols {
		x := lp.value(j)
		if x < 0 {
			t.Fatalf("column %d at %g", j, x)
		}
		cx += c.cost * x
		for n, r := range c.rows {
			ax[r] += c.vals[n] * x
		}
		rc := c.cost
		for n, r := range c.rows {
			rc -= lp.y[r] * c.vals[n]
		}
		if rc < -1e-6 {
			t.Fatalf("column %d has reduced cost %g at the optimum", j, rc)
		}
	}
	yb := 0.0
	for r := range lp.m {
		if math.Abs(ax[r]-lp.b[r]) > 1e-6 {
			t.Fatalf("row %d: Ax = %g, b = %g", r, ax[r], lp.b[r])
		}
		yb += lp.y[r] * lp.b[r]
	}
	if math.Abs(cx-obj) > 1e-6*max(1, math.Abs(obj)) || math.Abs(cx-yb) > 1e-5*max(1, math.Abs(cx)) {
		t.Fatalf("objective %g, c·x %g, y·b %g", obj, cx, yb)
	}
}

// TestMasterLPOptimal solves random masters shaped like the rostering one,
// adding columns between solves as column generation does, and checks each
// optimum by its certificate. The kernel's inverse is updated in all four
// ways (a kernel column or a singleton entering, either leaving), so the
// test also counts that the kernel grew and shrank.
func TestMasterLPOptimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	grew, shrank := 0, 0
	for range 60 {
		F, cells := 2+rng.IntN(12), 5+rng.IntN(40)
		lp, basis := randomMaster(rng, F, cells)
		if !lp.setBasis(basis) {
			t.Fatal("structured basis rejected")
		}
		k0 := len(lp.kcol)
		for round := range 6 {
			obj, ok := lp.solve(100000, func() bool { return false })
			if !ok {
				t.Fatalf("round %d: not optimal", round)
			}
			checkOptimal(t, lp, obj)
			if len(lp.kcol) > k0 {
				grew++
			}
			if len(lp.kcol) < k0 {
				shrank++
			}
			k0 = len(lp.kcol)
			// Re-installing the same basis from scratch gives the same
			// solution as the updated inverse.
			var cur []int
			for j := range lp.cols {
				if lp.loc[j] != -1 {
					cur = append(cur, j)
				}
			}
			x := make([]float64, len(lp.cols))
			for j := range x {
				x[j] = lp.value(j)
			}
			if !lp.setBasis(cur) {
				t.Fatalf("round %d: optimal basis rejected on reinstall", round)
			}
			for j := range x {
				if math.Abs(lp.value(j)-x[j]) > 1e-6 {
					t.Fatalf("round %d: column %d at %g after the updates, %g refactored", round, j, x[j], lp.value(j))
				}
			}
			for range 1 + rng.IntN(3*F) {
				lp.addColumn(randomPattern(rng, rng.IntN(F), F, cells))
			}
		}
	}
	if grew == 0 || shrank == 0 {
		t.Fatalf("kernel grew %d and shrank %d times; the bordered updates were not exercised", grew, shrank)
	}
}
