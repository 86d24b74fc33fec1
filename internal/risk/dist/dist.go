// Package dist builds the probability distributions risk analysts give as
// inputs (three-point estimates, confidence intervals, rates) and samples
// them fast for Monte Carlo engines.
//
// Every distribution has an exact mean, standard deviation, CDF and quantile
// function (closed form or special-function based), so engines can report
// exact figures beside simulated ones and tests can check samplers against
// them. Samplers take a *Rand so callers control seeding and can give
// each worker an independent stream.
package dist

import (
	"math"
)

// Dist is a univariate distribution built from a Spec.
type Dist interface {
	// Kind is the Spec name ("pert", "lognormal", …).
	Kind() string
	Mean() float64
	// Var is the variance; SD is its square root.
	Var() float64
	SD() float64
	// CDF is P(X <= x).
	CDF(x float64) float64
	// Quantile is the smallest x with CDF(x) >= p, for p in [0, 1].
	Quantile(p float64) float64
	// Support is the closed interval holding all the mass (may be infinite).
	Support() (lo, hi float64)
	// Discrete reports whether X takes only integer values (counts).
	Discrete() bool
	// Sample draws one value using r.
	Sample(r *Rand) float64
	// Params are the fitted parameters worth showing an analyst
	// (alpha/beta for PERT, mu/sigma for lognormal, …).
	Params() map[string]float64
}

// Rated is implemented by count distributions that are a Poisson process
// with a (possibly uncertain) rate. Engines use SampleRate to thin or scale
// the rate before drawing the count, which is exact for Poisson processes.
type Rated interface {
	Dist
	SampleRate(r *Rand) float64
	// RateMean is the mean rate (equal to the mean count).
	RateMean() float64
}

// SumN returns the sum of n independent draws of d, through d's own
// tight loop when it has one (compound losses draw tens of millions).
func SumN(d Dist, r *Rand, n int) float64 {
	if s, ok := d.(interface{ SumN(*Rand, int) float64 }); ok {
		return s.SumN(r, n)
	}
	t := 0.0
	for range n {
		t += d.Sample(r)
	}
	return t
}

// Constant is a point mass at V.
type Constant struct{ V float64 }

func (c Constant) Kind() string                { return KindConstant }
func (c Constant) Mean() float64               { return c.V }
func (c Constant) Var() float64                { return 0 }
func (c Constant) SD() float64                 { return 0 }
func (c Constant) Quantile(float64) float64    { return c.V }
func (c Constant) Support() (float64, float64) { return c.V, c.V }
func (c Constant) Discrete() bool              { return c.V == math.Trunc(c.V) }
func (c Constant) Sample(*Rand) float64        { return c.V }
func (c Constant) Params() map[string]float64  { return map[string]float64{"value": c.V} }
func (c Constant) CDF(x float64) float64 {
	if x < c.V {
		return 0
	}
	return 1
}

// Uniform is continuous uniform on [A, B], A < B.
type Uniform struct{ A, B float64 }

func (u Uniform) Kind() string  { return KindUniform }
func (u Uniform) Mean() float64 { return (u.A + u.B) / 2 }
func (u Uniform) Var() float64  { d := u.B - u.A; return d * d / 12 }
func (u Uniform) SD() float64   { return math.Sqrt(u.Var()) }
func (u Uniform) CDF(x float64) float64 {
	switch {
	case x <= u.A:
		return 0
	case x >= u.B:
		return 1
	}
	return (x - u.A) / (u.B - u.A)
}
func (u Uniform) Quantile(p float64) float64  { return u.A + clamp01(p)*(u.B-u.A) }
func (u Uniform) Support() (float64, float64) { return u.A, u.B }
func (u Uniform) Discrete() bool              { return false }
func (u Uniform) Sample(r *Rand) float64      { return u.A + r.Float64()*(u.B-u.A) }
func (u Uniform) Params() map[string]float64  { return map[string]float64{"min": u.A, "max": u.B} }

// Lognormal is exp(N(Mu, Sigma²)). FromInterval fits it to an analyst's
// central confidence interval, Hubbard's "90 % CI" elicitation.
type Lognormal struct{ Mu, Sigma float64 }

// LognormalFromInterval returns the lognormal whose central ci interval is
// [low, high]: mu = (ln low + ln high)/2, sigma = (ln high − ln low)/(2 z),
// z = Φ⁻¹((1+ci)/2). For ci = 0.9 this is riskquant's and Hubbard's fit.
func LognormalFromInterval(low, high, ci float64) Lognormal {
	z := NormalQuantile((1 + ci) / 2)
	ll, lh := math.Log(low), math.Log(high)
	return Lognormal{Mu: (ll + lh) / 2, Sigma: (lh - ll) / (2 * z)}
}

func (l Lognormal) Kind() string  { return KindLognormal }
func (l Lognormal) Mean() float64 { return math.Exp(l.Mu + l.Sigma*l.Sigma/2) }
func (l Lognormal) Var() float64 {
	s2 := l.Sigma * l.Sigma
	return math.Expm1(s2) * math.Exp(2*l.Mu+s2)
}
func (l Lognormal) SD() float64 { return math.Sqrt(l.Var()) }
func (l Lognormal) CDF(x float64) float64 {
	if x <= 0 {
		return 0
	}
	return NormalCDF((math.Log(x) - l.Mu) / l.Sigma)
}
func (l Lognormal) Quantile(p float64) float64 {
	return math.Exp(l.Mu + l.Sigma*NormalQuantile(clamp01(p)))
}
func (l Lognormal) Support() (float64, float64) { return 0, math.Inf(1) }
func (l Lognormal) Discrete() bool              { return false }
func (l Lognormal) Sample(r *Rand) float64      { return math.Exp(l.Mu + l.Sigma*r.NormFloat64()) }
func (l Lognormal) Params() map[string]float64 {
	return map[string]float64{"mu": l.Mu, "sigma": l.Sigma}
}

// NormalCDF is Φ, the standard normal CDF, accurate in both tails.
func NormalCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// NormalQuantile is Φ⁻¹(p); ±Inf at 0 and 1.
func NormalQuantile(p float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*p) }

// normalPDF is φ.
func normalPDF(z float64) float64 { return math.Exp(-z*z/2) / math.Sqrt(2*math.Pi) }

func clamp01(p float64) float64 {
	if p < 0 || math.IsNaN(p) {
		return 0
	}
	if p > 1 {
		return 1
	}
	return p
}
