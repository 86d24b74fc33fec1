package solver

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestReoptimiseWindow: a window re-optimisation changes only the window's
// days, keeps a feasible row feasible, and never makes the objective worse
// when the row DP is exact (no binding per-type maxima); ruinWindow keeps
// the bookkeeping exact and never returns a worse roster.
func TestReoptimiseWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	p := randomProblem(rng, 28, 8, 3, false)
	w := newWorker(newShared(p), 1, 0)
	w.construct()
	for i := range 200 {
		e := rng.IntN(len(w.rows))
		lo := rng.IntN(p.Days)
		hi := min(p.Days-1, lo+rng.IntN(7))
		before := slices.Clone(w.rows[e])
		obj, wasOK := w.obj, w.ok[e]
		if !w.reoptimiseWindow(e, lo, hi) {
			if wasOK {
				t.Fatalf("step %d: no row found although the current one is feasible", i)
			}
			continue
		}
		for d := range p.Days {
			if (d < lo || d > hi) && w.rows[e][d] != before[d] {
				t.Fatalf("step %d: day %d outside window %d..%d changed", i, d, lo, hi)
			}
		}
		if wasOK && !w.ok[e] {
			t.Fatalf("step %d: feasible row became infeasible", i)
		}
		if wasOK && !w.models[e].binding && w.obj > obj {
			t.Fatalf("step %d: objective rose from %d to %d", i, obj, w.obj)
		}
	}
	for i := range 100 {
		bad, obj := w.key()
		w.ruinWindow(2+rng.IntN(5), 1+rng.IntN(7))
		if better(bad, obj, w.bad, w.obj) {
			t.Fatalf("ruinWindow %d made the roster worse: (%d, %d) -> (%d, %d)", i, bad, obj, w.bad, w.obj)
		}
		ev, err := Evaluate(p, Roster(w.rows))
		if err != nil {
			t.Fatal(err)
		}
		if int64(ev.Objective) != w.obj || len(ev.Violations) > 0 != (w.bad > 0) {
			t.Fatalf("incremental objective %d (bad %d), evaluator %d (%d violations)", w.obj, w.bad, ev.Objective, len(ev.Violations))
		}
	}
}
