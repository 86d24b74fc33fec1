package solver

import (
	"fmt"
	"math"
	"os"
)

// lagrangeScale turns fractional coverage prices into the DP's integer costs.
const lagrangeScale = 1000

// lagrange runs subgradient optimisation of the Lagrangian dual in which
// coverage is priced instead of counted: with a price π per (day, shift),
// every employee independently takes their cheapest feasible row at
// request cost minus π, which gives a lower bound and — because every such
// row is feasible — a complete roster. Each of those rosters is polished by
// a best-response sweep and kept if it beats the best so far. The prices
// steer the whole staff at once towards the scarce shifts, which the
// one-row-at-a-time search cannot see. It returns the best lower bound.
func (w *worker) lagrange(iters int, stop func() bool, report func()) float64 {
	p := w.p
	S, D := w.S, p.Days
	pi := make([]float64, D*S)
	for i, c := range w.cover {
		pi[i] = float64(c.WeightUnder) * piInit
	}
	g := make([]float64, D*S)
	x := make([]int, D*S)
	rows := NewRoster(p)
	theta := thetaInit
	bestLB := math.Inf(-1)
	sinceLB := 0
	for it := 0; it < iters && !stop(); it++ {
		lb := 0.0
		for i, c := range w.cover {
			lb += pi[i] * float64(c.Requirement)
		}
		clear(x)
		ok := true
		for e := range p.Employees {
			req := w.req[e]
			for d := range D {
				base := d * (S + 1)
				for s := range S {
					w.cost[base+s] = lagrangeScale*req[base+s] - int64(math.Round(lagrangeScale*pi[d*S+s]))
				}
				w.cost[base+S] = lagrangeScale * req[base+S]
			}
			v, found := w.models[e].bestRow(p, w.cost, &w.sc, rows[e])
			if !found {
				ok = false
				continue
			}
			lb += float64(v) / lagrangeScale
			for d, s := range rows[e] {
				if s != Off {
					x[d*S+s]++
				}
			}
		}
		if !ok {
			return bestLB
		}
		if lb > bestLB+1e-9 {
			bestLB, sinceLB = lb, 0
		} else if sinceLB++; sinceLB >= halveAfter {
			theta, sinceLB = theta*0.7, 0
		}
		// Primal: adopt the Lagrangian rows, then repair coverage by
		// best-response sweeps.
		for e := range rows {
			w.setRow(e, rows[e])
		}
		if it%polishEvery == 0 {
			w.polish()
		}
		if better(w.bad, w.obj, w.bestBad, w.bestObj) {
			w.snapshot()
			if report != nil {
				report()
			}
		}
		norm := 0.0
		for i := range g {
			g[i] = float64(w.cover[i].Requirement - x[i])
			norm += g[i] * g[i]
		}
		if os.Getenv("EXP_DEBUG") != "" && it%20 == 0 {
			fmt.Fprintf(os.Stderr, "it %d lb %.1f best %d cur %d theta %.3f\n", it, bestLB, w.bestObj, w.obj, theta)
		}
		if norm == 0 || theta < 1e-4 {
			break
		}
		// Polyak step towards the best roster's objective; the bound is
		// heuristic when shift maxima bind, so keep a floor on the gap.
		gap := max(float64(w.bestObj)-lb, 0.02*math.Abs(float64(w.bestObj)), 1)
		step := theta * gap / norm
		for i := range pi {
			c := w.cover[i]
			pi[i] = min(max(pi[i]+step*g[i], -float64(c.WeightOver)), float64(c.WeightUnder))
		}
	}
	// Continue the search from the best roster found.
	w.adopt(w.best)
	return bestLB
}

// polish runs best-response sweeps over all employees in random order until
// a sweep no longer improves the objective.
func (w *worker) polish() {
	for {
		before := w.obj
		for _, e := range w.rng.Perm(len(w.rows)) {
			w.reoptimise(e, 0)
		}
		if w.obj >= before {
			return
		}
	}
}

var halveAfter = envInt("HALVE", 10)

var piInit, thetaInit, polishEvery = float64(envInt("PI", 0)) / 100, float64(envInt("THETA", 200)) / 100, envInt("POLISH", 1)
