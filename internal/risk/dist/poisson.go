package dist

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// Poisson counts events of a Poisson process with a fixed Rate per period.
type Poisson struct{ Rate float64 }

func (p Poisson) Kind() string          { return KindPoisson }
func (p Poisson) Mean() float64         { return p.Rate }
func (p Poisson) Var() float64          { return p.Rate }
func (p Poisson) SD() float64           { return math.Sqrt(p.Rate) }
func (p Poisson) CDF(x float64) float64 { return poissonCDF(math.Floor(x), p.Rate) }
func (p Poisson) Quantile(q float64) float64 {
	return discreteQuantile(clamp01(q), p.Rate, math.Sqrt(p.Rate), p.CDF)
}
func (p Poisson) Support() (float64, float64) { return 0, math.Inf(1) }
func (p Poisson) Discrete() bool              { return true }
func (p Poisson) Sample(r *Rand) float64      { return PoissonDraw(r, p.Rate) }
func (p Poisson) SampleRate(*Rand) float64    { return p.Rate }
func (p Poisson) RateMean() float64           { return p.Rate }
func (p Poisson) Params() map[string]float64  { return map[string]float64{"rate": p.Rate} }

// PoissonPERT is a Poisson count whose rate is itself uncertain and follows
// a PERT: the analyst says "between 1 and 12 a year, most likely 3" and the
// count also carries Poisson noise. This is riskquant's PERTLoss frequency.
type PoissonPERT struct{ RateDist *PERT }

func (p PoissonPERT) Kind() string  { return KindPoisson }
func (p PoissonPERT) Mean() float64 { return p.RateDist.Mean() }

// Var is E[λ] + Var[λ] (law of total variance).
func (p PoissonPERT) Var() float64 { return p.RateDist.Mean() + p.RateDist.Var() }
func (p PoissonPERT) SD() float64  { return math.Sqrt(p.Var()) }

// CDF integrates the Poisson CDF over the rate's quantile function:
// P(N <= k) = ∫₀¹ P(Poisson(Q_λ(u)) <= k) du, by composite Gauss–Legendre.
func (p PoissonPERT) CDF(x float64) float64 {
	k := math.Floor(x)
	if k < 0 {
		return 0
	}
	t := p.RateDist.tab()
	return clamp01(integrate01(func(u float64) float64 {
		return poissonCDF(k, t.at(u))
	}, 128))
}

func (p PoissonPERT) Quantile(q float64) float64 {
	return discreteQuantile(clamp01(q), p.Mean(), p.SD(), p.CDF)
}
func (p PoissonPERT) Support() (float64, float64) { return 0, math.Inf(1) }
func (p PoissonPERT) Discrete() bool              { return true }
func (p PoissonPERT) Sample(r *Rand) float64      { return PoissonDraw(r, p.RateDist.Sample(r)) }
func (p PoissonPERT) SampleRate(r *Rand) float64  { return p.RateDist.Sample(r) }
func (p PoissonPERT) RateMean() float64           { return p.RateDist.Mean() }
func (p PoissonPERT) Params() map[string]float64 {
	m := p.RateDist.Params()
	m["rate_mean"] = p.RateDist.Mean()
	return m
}

// poissonCDF is P(N <= k) for N ~ Poisson(rate), k an integer.
func poissonCDF(k, rate float64) float64 {
	if k < 0 {
		return 0
	}
	if rate <= 0 {
		return 1
	}
	return mathext.GammaIncRegComp(k+1, rate)
}

// discreteQuantile finds the smallest integer k with cdf(k) >= q: a
// galloping search from a normal approximation brackets it, then bisection
// narrows the bracket, so even a badly skewed mixture costs O(log k) CDF
// calls.
func discreteQuantile(q, mean, sd float64, cdf func(float64) float64) float64 {
	if q <= 0 {
		return 0
	}
	if q >= 1 {
		return math.Inf(1)
	}
	k := math.Max(0, math.Floor(mean+sd*NormalQuantile(q)))
	// Invariant once bracketed: cdf(lo) < q <= cdf(hi), with cdf(−1) = 0.
	var lo, hi float64
	if cdf(k) >= q {
		hi = k
		for step := 1.0; ; step *= 2 {
			lo = hi - step
			if lo < 0 {
				lo = -1
				break
			}
			if cdf(lo) < q {
				break
			}
			hi = lo
		}
	} else {
		lo = k
		for step := 1.0; ; step *= 2 {
			hi = lo + step
			if hi > 1<<53 {
				return math.NaN()
			}
			if cdf(hi) >= q {
				break
			}
			lo = hi
		}
	}
	for hi-lo > 1 {
		mid := math.Floor(lo + (hi-lo)/2)
		if cdf(mid) >= q {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// PoissonDraw samples Poisson(rate): sequential inversion below 12 (one
// uniform, about rate+1 steps), Hörmann's PTRS transformed rejection above
// (as numpy does), whose cost does not grow with the rate.
func PoissonDraw(r *Rand, rate float64) float64 {
	if !(rate > 0) {
		return 0
	}
	if rate < 12 {
		u := float64(r.src.Uint64()>>11) * (1.0 / (1 << 53))
		p := math.Exp(-rate)
		cdf := p
		k := 0
		for u > cdf && p > 0 {
			k++
			if k < len(recip) {
				p *= rate * recip[k] // no division on the dependency chain
			} else {
				p *= rate / float64(k)
			}
			cdf += p
		}
		return float64(k)
	}
	return ptrs(r, rate)
}

// recip[k] = 1/k for the inversion loop.
var recip = func() (r [64]float64) {
	for k := 1; k < len(r); k++ {
		r[k] = 1 / float64(k)
	}
	return r
}()

// ptrs is W. Hörmann, "The transformed rejection method for generating
// Poisson random variables", Insurance: Mathematics and Economics 12 (1993),
// valid for rate >= 10.
func ptrs(r *Rand, lam float64) float64 {
	slam := math.Sqrt(lam)
	loglam := math.Log(lam)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invalpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := r.Float64() - 0.5
		v := r.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lam + 0.43)
		if us >= 0.07 && v <= vr {
			return k
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invalpha)-math.Log(a/(us*us)+b) <= -lam+k*loglam-lg {
			return k
		}
	}
}

// Gauss–Legendre 8-point nodes and weights on [−1, 1].
var glX = [8]float64{-0.9602898564975363, -0.7966664774136267, -0.5255324099163290, -0.1834346424956498,
	0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363}
var glW = [8]float64{0.1012285362903763, 0.2223810344533745, 0.3137066458778873, 0.3626837833783620,
	0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763}

// integrate01 is ∫₀¹ f by composite 8-point Gauss–Legendre on equal panels.
// The nodes never touch 0 or 1, so quantile functions with infinite ends
// are safe integrands.
func integrate01(f func(float64) float64, panels int) float64 {
	h := 1 / float64(panels)
	s := 0.0
	for i := 0; i < panels; i++ {
		c := (float64(i) + 0.5) * h
		ps := 0.0
		for j, x := range glX {
			ps += glW[j] * f(c+x*h/2)
		}
		s += ps * h / 2
	}
	return s
}

// PGreater returns P(X > Y) for independent X and Y, with ties counting as
// not greater (Open FAIR's vulnerability = P(threat capability > resistance
// strength), strict, as in pyfair's code and evaluator). It is exact for a
// constant on either side and for a discrete Y (summed over its mass);
// otherwise it integrates over Y's quantile function (error < 1e-6 on the
// smooth cases tested).
func PGreater(x, y Dist) float64 {
	if c, ok := y.(Constant); ok {
		return 1 - x.CDF(c.V)
	}
	if c, ok := x.(Constant); ok {
		return below(y, c.V)
	}
	if lo, hi := y.Quantile(1e-15), y.Quantile(1-1e-15); y.Discrete() && hi-lo <= 1e5 {
		s := 0.0
		prev := y.CDF(lo - 1)
		for k := lo; k <= hi; k++ {
			c := y.CDF(k)
			s += (c - prev) * (1 - x.CDF(k))
			prev = c
		}
		return clamp01(s)
	}
	// Continuous Y, or a count so spread out that its mass is effectively
	// continuous at the integration's resolution.
	q := y.Quantile
	if p, ok := y.(*PERT); ok {
		q = p.tab().at
	}
	return clamp01(integrate01(func(u float64) float64 { return 1 - x.CDF(q(u)) }, 512))
}

// below is P(Y < c), the left limit of the CDF.
func below(y Dist, c float64) float64 {
	if y.Discrete() {
		return y.CDF(math.Ceil(c) - 1)
	}
	if k, ok := y.(Constant); ok {
		if k.V < c {
			return 1
		}
		return 0
	}
	return y.CDF(c)
}
