package dist

import "math"

// CountTable samples N ~ Poisson(scale·X) for a rate distribution X with
// bounded support, by inversion of N's own distribution — the Poisson
// mixture P(N = k) = E[Pois(k; scale·X)] — tabulated once. A compound
// simulation needs only N, never the rate itself, so drawing from the
// mixture is the same process as drawing a rate and then a count, at the
// cost of one uniform and a guide-table lookup instead of a rate draw, an
// exponential and a search.
//
// The mixture is integrated over X's quantile function (the same table the
// rate sampler uses, for a PERT) with 8-point Gauss–Legendre panels, graded
// geometrically towards both ends where quantile functions are singular.
// The table stops where the remaining mass is below 1e-17, under the
// resolution of a 53-bit uniform.
type CountTable struct {
	cdf   []float64 // cdf[k] = P(N <= k); the last entry is exactly 1
	guide []int32   // guide[j] = smallest k with cdf[k] > j/len(guide)
}

// MaxCountTableRate bounds scale·max(X) for tabulation; larger rates are
// sampled directly.
const MaxCountTableRate = 2000

// NewCountTable tabulates Poisson(scale·X). ok is false when X is not a
// bounded rate distribution this can tabulate (then sample directly).
func NewCountTable(rate Dist, scale float64) (t *CountTable, ok bool) {
	if !(scale >= 0) || math.IsInf(scale, 0) {
		return nil, false
	}
	var q func(float64) float64
	switch d := rate.(type) {
	case Constant:
		q = func(float64) float64 { return d.V }
	case *PERT:
		q = d.tab().at
	case Uniform:
		q = d.Quantile
	case *Normal:
		q = d.Quantile
	default:
		return nil, false
	}
	lo, hi := rate.Support()
	if lo < 0 || math.IsInf(hi, 0) || scale*hi > MaxCountTableRate {
		return nil, false
	}
	lmax := scale * hi
	k := int(math.Ceil(lmax+10*math.Sqrt(lmax)+20)) + 1
	pmf := make([]float64, k)
	if _, isConst := rate.(Constant); isConst {
		addPoissonPMF(pmf, scale*q(0.5), 1)
	} else {
		for _, n := range gradedNodes() {
			addPoissonPMF(pmf, scale*q(n[0]), n[1])
		}
	}
	t = &CountTable{cdf: make([]float64, k)}
	total := 0.0
	for _, p := range pmf {
		total += p
	}
	c := 0.0
	for i, p := range pmf {
		c += p / total
		t.cdf[i] = c
	}
	t.cdf[k-1] = 1
	g := max(256, 4*k)
	t.guide = make([]int32, g)
	i := 0
	for j := range t.guide {
		u := float64(j) / float64(g)
		for t.cdf[i] <= u {
			i++
		}
		t.guide[j] = int32(i)
	}
	return t, true
}

// Draw returns one count.
func (t *CountTable) Draw(r *Rand) int {
	u := float64(r.src.Uint64()>>11) * (1.0 / (1 << 53))
	k := int(t.guide[int(u*float64(len(t.guide)))])
	for t.cdf[k] <= u {
		k++
	}
	return k
}

// PMF is P(N = k) as tabulated.
func (t *CountTable) PMF(k int) float64 {
	switch {
	case k < 0 || k >= len(t.cdf):
		return 0
	case k == 0:
		return t.cdf[0]
	}
	return t.cdf[k] - t.cdf[k-1]
}

// addPoissonPMF adds w·Pois(k; lam) to pmf[k] for every k, computed from
// the mode outwards in log space so large rates do not underflow e^-lam.
func addPoissonPMF(pmf []float64, lam, w float64) {
	if lam <= 0 {
		pmf[0] += w
		return
	}
	m := min(int(lam), len(pmf)-1)
	lg, _ := math.Lgamma(float64(m) + 1)
	pm := math.Exp(-lam + float64(m)*math.Log(lam) - lg)
	p := pm
	for k := m; k < len(pmf); k++ {
		if k > m {
			p *= lam / float64(k)
		}
		pmf[k] += w * p
		if p == 0 {
			break
		}
	}
	p = pm
	for k := m - 1; k >= 0; k-- {
		p *= float64(k+1) / lam
		pmf[k] += w * p
		if p == 0 {
			break
		}
	}
}

// gradedNodes are Gauss–Legendre nodes and weights on (0, 1): equal panels
// in the body and panels halving in width towards each end, down to 2^-60.
func gradedNodes() [][2]float64 {
	const body = 128
	const edge = 1.0 / body
	var out [][2]float64
	panel := func(a, b float64) {
		h := b - a
		for j, x := range glX {
			out = append(out, [2]float64{a + (x+1)*h/2, glW[j] * h / 2})
		}
	}
	for i := 1; i < body-1; i++ {
		panel(float64(i)*edge, float64(i+1)*edge)
	}
	for j := 0; j < 52; j++ {
		hi := math.Ldexp(edge, -j)
		lo := hi / 2
		panel(lo, hi)
		panel(1-hi, 1-lo)
	}
	// The last sliver at each end (mass 2^-52/128) as one panel each.
	s := math.Ldexp(edge, -52)
	panel(0, s)
	panel(1-s, 1)
	return out
}
