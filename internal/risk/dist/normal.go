package dist

import (
	"math"
)

// Normal is N(Mu, Sigma²) truncated to [Lo, Hi] (either bound may be
// infinite). Truncating rather than clipping keeps a density, so the exact
// mean and quantiles below describe what the sampler draws; pyfair clips,
// which piles mass on the bound and biases the mean.
type Normal struct {
	Mu, Sigma, Lo, Hi float64

	a, b  float64 // standardized bounds
	z     float64 // mass inside the bounds
	upper bool    // bounds lie in the upper tail: work with survival functions
}

// NewNormal returns the truncated normal; sigma > 0, lo < hi, and the
// interval must hold some mass (checked by the Spec validator).
func NewNormal(mu, sigma, lo, hi float64) *Normal {
	n := &Normal{Mu: mu, Sigma: sigma, Lo: lo, Hi: hi}
	n.a, n.b = (lo-mu)/sigma, (hi-mu)/sigma
	n.upper = n.a > 0
	if n.upper {
		n.z = NormalCDF(-n.a) - NormalCDF(-n.b)
	} else {
		n.z = NormalCDF(n.b) - NormalCDF(n.a)
	}
	return n
}

func (n *Normal) truncated() bool { return !math.IsInf(n.a, -1) || !math.IsInf(n.b, 1) }

func (n *Normal) Kind() string { return KindNormal }

// phiTerms returns (φ(a)−φ(b))/Z and (aφ(a)−bφ(b))/Z with 0·∞ taken as 0.
func (n *Normal) phiTerms() (d1, d2 float64) {
	pa, pb := normalPDF(n.a), normalPDF(n.b)
	ta, tb := 0.0, 0.0
	if !math.IsInf(n.a, 0) {
		ta = n.a * pa
	}
	if !math.IsInf(n.b, 0) {
		tb = n.b * pb
	}
	return (pa - pb) / n.z, (ta - tb) / n.z
}

func (n *Normal) Mean() float64 {
	d1, _ := n.phiTerms()
	return n.Mu + n.Sigma*d1
}

func (n *Normal) Var() float64 {
	d1, d2 := n.phiTerms()
	v := n.Sigma * n.Sigma * (1 + d2 - d1*d1)
	return math.Max(v, 0)
}

func (n *Normal) SD() float64 { return math.Sqrt(n.Var()) }

func (n *Normal) CDF(x float64) float64 {
	if x <= n.Lo {
		return 0
	}
	if x >= n.Hi {
		return 1
	}
	z := (x - n.Mu) / n.Sigma
	if n.upper {
		return 1 - (NormalCDF(-z)-NormalCDF(-n.b))/n.z
	}
	return (NormalCDF(z) - NormalCDF(n.a)) / n.z
}

func (n *Normal) Quantile(p float64) float64 {
	p = clamp01(p)
	var z float64
	if n.upper {
		z = -NormalQuantile((1-p)*n.z + NormalCDF(-n.b))
	} else {
		z = NormalQuantile(NormalCDF(n.a) + p*n.z)
	}
	return math.Min(math.Max(n.Mu+n.Sigma*z, n.Lo), n.Hi)
}

func (n *Normal) Support() (float64, float64) { return n.Lo, n.Hi }
func (n *Normal) Discrete() bool              { return false }

// Sample uses rejection from the untruncated normal while the interval holds
// at least a quarter of the mass (at most four tries on average, usually
// one), and exact inversion otherwise.
func (n *Normal) Sample(r *Rand) float64 {
	if n.z >= 0.25 {
		for {
			x := n.Mu + n.Sigma*r.NormFloat64()
			if x >= n.Lo && x <= n.Hi {
				return x
			}
		}
	}
	return n.Quantile(r.Float64())
}

func (n *Normal) Params() map[string]float64 {
	m := map[string]float64{"mu": n.Mu, "sigma": n.Sigma}
	if !math.IsInf(n.Lo, -1) {
		m["min"] = n.Lo
	}
	if !math.IsInf(n.Hi, 1) {
		m["max"] = n.Hi
	}
	return m
}
