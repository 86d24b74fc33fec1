package dist

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol || math.IsNaN(got) {
		t.Errorf("%s = %.10g, want %.10g (±%g)", name, got, want, tol)
	}
}

func build(t *testing.T, s Spec) Dist {
	t.Helper()
	d, err := s.Build()
	if err != nil {
		t.Fatalf("Build(%+v): %v", s, err)
	}
	return d
}

func TestPERTParameters(t *testing.T) {
	cases := []struct {
		name                       string
		min, mode, max, g          float64
		method                     string
		alpha, beta, mean, modeOut float64
	}{
		// Reference §1.3: standard gives Beta(1.3636, 4.6364) with mode 10.
		{"modified skewed", 1, 10, 100, 4, "", 1 + 4*9.0/99, 1 + 4*90.0/99, 23.5, 10},
		// pyfair's moment match gives Beta(1.2096, 4.1127) whose mode is 7.25.
		{"pyfair skewed", 1, 10, 100, 4, PERTPyfair, 1.2096, 4.1127, 23.5, 7.25},
		{"modified symmetric", 0, 5, 10, 4, "", 3, 3, 5, 5},
		{"pyfair symmetric", 0, 5, 10, 4, PERTPyfair, 4, 4, 5, 5},
		{"gamma 6", 0, 2, 10, 6, "", 1 + 6*0.2, 1 + 6*0.8, (0 + 12 + 10) / 8.0, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := NewPERT(c.min, c.mode, c.max, c.g, c.method)
			near(t, "alpha", p.Alpha, c.alpha, 1e-4)
			near(t, "beta", p.Beta, c.beta, 1e-4)
			near(t, "mean", p.Mean(), c.mean, 1e-9)
			mode := c.min + (c.max-c.min)*(p.Alpha-1)/(p.Alpha+p.Beta-2)
			near(t, "mode", mode, c.modeOut, 0.01)
			a, b, r := p.Alpha, p.Beta, c.max-c.min
			near(t, "var", p.Var(), a*b*r*r/((a+b)*(a+b)*(a+b+1)), 1e-9)
			if c.method == PERTPyfair {
				near(t, "pyfair sd", p.SD(), r/(c.g+2), 1e-9)
			}
			for _, q := range []float64{0.01, 0.05, 0.5, 0.95, 0.99} {
				near(t, "CDF(Quantile)", p.CDF(p.Quantile(q)), q, 1e-9)
			}
		})
	}
}

// The tabulated sampler must reproduce the exact quantile function closely
// everywhere, tails included, for the shapes analysts produce (mode at an
// end, strong skew, pyfair's alpha < 1).
func TestQuantileTableAccuracy(t *testing.T) {
	shapes := []*PERT{
		NewPERT(0, 1, 100, 4, ""), NewPERT(0, 0, 1, 4, ""), NewPERT(0, 1, 1, 4, ""),
		NewPERT(0, 50, 100, 4, ""), NewPERT(0, 0, 1, 4, PERTPyfair), NewPERT(0, 1, 1, 4, PERTPyfair),
		NewPERT(10, 20, 1e6, 4, ""), NewPERT(0, 3, 10, 40, ""), NewPERT(0, 3, 10, 0.5, ""),
	}
	us := []float64{1e-14, 1e-10, 1e-6, 1e-4, 0.001, 0.0019, 0.002, 0.01, 0.1, 0.3333, 0.5, 0.77,
		0.95, 0.99, 0.998, 0.9999, 1 - 1e-7, 1 - 1e-10}
	r := NewRand(1, 2)
	for range 300 {
		us = append(us, r.Float64())
	}
	for _, p := range shapes {
		tab := p.tab()
		worst := 0.0
		for _, u := range us {
			got := tab.at(u)
			want := p.stdQuantileLo(u)
			if u > 0.5 {
				want = p.stdQuantileHi(1 - u)
			}
			// Relative to the range; near the ends also relative to the
			// distance from the end point (the tails are tiny in absolute
			// terms and must keep their shape).
			want = p.Min + (p.Max-p.Min)*want
			err := math.Abs(got-want) / (p.Max - p.Min)
			if u < 1e-3 || u > 1-1e-3 {
				end := p.Min
				if u > 0.5 {
					end = p.Max
				}
				err = math.Max(err, math.Abs(got-want)/math.Abs(want-end)*1e-3)
			}
			worst = math.Max(worst, err)
		}
		if worst > 2.5e-7 {
			t.Errorf("PERT(%g,%g,%g,γ=%g,%s): table quantile off by %.3g of the range", p.Min, p.Mode, p.Max, p.Gamma, p.Method, worst)
		}
	}
}

// ks returns the Kolmogorov–Smirnov distance of sorted samples from cdf.
func ks(xs []float64, cdf func(float64) float64) float64 {
	slices.Sort(xs)
	n := float64(len(xs))
	d := 0.0
	for i, x := range xs {
		f := cdf(x)
		d = math.Max(d, math.Max(f-float64(i)/n, float64(i+1)/n-f))
	}
	return d
}

func TestSamplersMatchExactDistribution(t *testing.T) {
	specs := []Spec{
		{Dist: "pert", Min: F(1), Mode: F(10), Max: F(100)},
		{Dist: "pert", Min: F(0), Mode: F(0), Max: F(5), Method: "pyfair"},
		{Dist: "lognormal", Low: F(1000), High: F(1e6)},
		{Dist: "uniform", Min: F(-2), Max: F(3)},
		{Dist: "normal", Mean: F(10), SD: F(3)},
		{Dist: "normal", Mean: F(1), SD: F(3), Min: F(0)},
		{Dist: "normal", Mean: F(0), SD: F(1), Min: F(2.5), Max: F(4)}, // inversion path
		{Dist: "normal", Mean: F(0.3), SD: F(0.5), Min: F(0), Max: F(1)},
	}
	const n = 200000
	r := NewRand(7, 8)
	for _, s := range specs {
		d := build(t, s)
		xs := make([]float64, n)
		sum := 0.0
		for i := range xs {
			xs[i] = d.Sample(r)
			sum += xs[i]
		}
		mean := sum / n
		se := d.SD() / math.Sqrt(n)
		if math.Abs(mean-d.Mean()) > 5*se {
			t.Errorf("%+v: sample mean %g, exact %g (se %g)", s, mean, d.Mean(), se)
		}
		// 1.95/sqrt(n) is the KS 0.1 % critical value.
		if k := ks(xs, d.CDF); k > 1.95/math.Sqrt(n) {
			t.Errorf("%s %+v: KS distance %.4g too large", d.Kind(), s, k)
		}
	}
}

func TestLognormalFromInterval(t *testing.T) {
	l := build(t, Spec{Dist: "lognormal", Low: F(10), High: F(1000)}).(Lognormal)
	near(t, "p05", l.Quantile(0.05), 10, 1e-9)
	near(t, "p95", l.Quantile(0.95), 1000, 1e-7)
	near(t, "mu", l.Mu, math.Log(100), 1e-12)
	// Hubbard: sd(ln X) = (ln UB − ln LB)/3.29 for a 90 % interval.
	near(t, "sigma", l.Sigma, (math.Log(1000)-math.Log(10))/3.2897072539029457, 1e-9)
	near(t, "mean", l.Mean(), math.Exp(l.Mu+l.Sigma*l.Sigma/2), 1e-9)
	l80 := build(t, Spec{Dist: "lognormal", Low: F(10), High: F(1000), CI: F(0.8)}).(Lognormal)
	near(t, "ci80 p10", l80.Quantile(0.1), 10, 1e-9)
	near(t, "ci80 p90", l80.Quantile(0.9), 1000, 1e-7)
}

func TestTruncatedNormalClosedForms(t *testing.T) {
	half := NewNormal(0, 1, 0, math.Inf(1))
	near(t, "half-normal mean", half.Mean(), math.Sqrt(2/math.Pi), 1e-12)
	near(t, "half-normal var", half.Var(), 1-2/math.Pi, 1e-12)
	near(t, "half-normal median", half.Quantile(0.5), NormalQuantile(0.75), 1e-12)
	// Far upper tail: mean of N(0,1) given X > 5 is φ(5)/(1−Φ(5)).
	tail := NewNormal(0, 1, 5, math.Inf(1))
	near(t, "tail mean", tail.Mean(), normalPDF(5)/NormalCDF(-5), 1e-9)
	near(t, "tail CDF(Q)", tail.CDF(tail.Quantile(0.3)), 0.3, 1e-9)
	plain := NewNormal(3, 2, math.Inf(-1), math.Inf(1))
	near(t, "plain mean", plain.Mean(), 3, 1e-12)
	near(t, "plain sd", plain.SD(), 2, 1e-12)
	near(t, "plain p95", plain.Quantile(0.95), 3+2*1.6448536269514722, 1e-9)
}

func TestPoisson(t *testing.T) {
	p := Poisson{Rate: 2}
	near(t, "CDF(0)", p.CDF(0), math.Exp(-2), 1e-14)
	near(t, "CDF(2)", p.CDF(2), math.Exp(-2)*(1+2+2), 1e-14)
	near(t, "median", p.Quantile(0.5), 2, 0)
	near(t, "p95", p.Quantile(0.95), 5, 0) // CDF(4)=0.947, CDF(5)=0.983
	r := NewRand(3, 4)
	for _, rate := range []float64{0.05, 0.7, 3, 11.9, 12, 40, 1000} {
		const n = 200000
		var s, s2 float64
		var hist [64]float64
		for range n {
			k := PoissonDraw(r, rate)
			s += k
			s2 += k * k
			if k < 64 {
				hist[int(k)]++
			}
		}
		mean := s / n
		v := s2/n - mean*mean
		near(t, "mean", mean, rate, 5*math.Sqrt(rate/n))
		near(t, "var", v/rate, 1, 0.03)
		if rate < 20 {
			// Frequencies of small counts against the pmf (5 se).
			for k := 0; k < 10; k++ {
				pk := poissonCDF(float64(k), rate) - poissonCDF(float64(k-1), rate)
				near(t, "pmf", hist[k]/n, pk, 5*math.Sqrt(pk*(1-pk)/n)+1e-9)
			}
		}
	}
	if PoissonDraw(r, 0) != 0 || PoissonDraw(r, math.NaN()) != 0 {
		t.Error("rate 0 or NaN must draw 0")
	}
}

func TestPoissonPERT(t *testing.T) {
	d := build(t, Spec{Dist: "poisson", Min: F(1), Mode: F(3), Max: F(12)}).(PoissonPERT)
	rate := NewPERT(1, 3, 12, 4, "")
	near(t, "mean", d.Mean(), rate.Mean(), 1e-12)
	near(t, "var", d.Var(), rate.Mean()+rate.Var(), 1e-12)
	near(t, "CDF(1000)", d.CDF(1000), 1, 1e-9)
	// The quadrature CDF must agree with a direct sum over many rate draws.
	r := NewRand(5, 6)
	const n = 400000
	c3 := 0.0
	var s float64
	for range n {
		k := d.Sample(r)
		s += k
		if k <= 3 {
			c3++
		}
	}
	near(t, "P(N<=3)", c3/n, d.CDF(3), 5*math.Sqrt(0.25/n))
	near(t, "sample mean", s/n, d.Mean(), 5*d.SD()/math.Sqrt(n))
	q := d.Quantile(0.9)
	if !(d.CDF(q) >= 0.9 && d.CDF(q-1) < 0.9) {
		t.Errorf("quantile 0.9 = %g is not the smallest k with CDF >= 0.9", q)
	}
}

func TestPGreater(t *testing.T) {
	u01 := build(t, Spec{Dist: "uniform", Min: F(0), Max: F(1)})
	n1 := build(t, Spec{Dist: "normal", Mean: F(60), SD: F(10)})
	n2 := build(t, Spec{Dist: "normal", Mean: F(50), SD: F(20)})
	pert := build(t, Spec{Dist: "pert", Min: F(20), Mode: F(50), Max: F(90)})
	c50 := Constant{V: 50}
	cases := []struct {
		name string
		x, y Dist
		want float64
		tol  float64
	}{
		{"uniform vs itself", u01, u01, 0.5, 1e-9},
		{"normals", n1, n2, NormalCDF(10 / math.Sqrt(500)), 1e-7},
		{"pert > constant", pert, c50, 1 - pert.CDF(50), 1e-12},
		{"constant > pert", c50, pert, pert.CDF(50), 1e-12},
		{"tie is not greater", c50, c50, 0, 0},
		{"strictly greater", Constant{V: 50.5}, c50, 1, 0},
		{"constant > poisson counts ties as no", Constant{V: 2}, Poisson{Rate: 2}, math.Exp(-2) * 3, 1e-12},
		{"uniform > poisson", u01, Poisson{Rate: 1}, math.Exp(-1), 1e-9},
	}
	for _, c := range cases {
		near(t, c.name, PGreater(c.x, c.y), c.want, c.tol)
	}
}

func TestSpecValidation(t *testing.T) {
	cases := []struct {
		spec  Spec
		field string
		frag  string
	}{
		{Spec{}, "dist", "missing"},
		{Spec{Dist: "beta"}, "dist", "unknown"},
		{Spec{Dist: "pert", Min: F(1), Max: F(3)}, "mode", "missing"},
		{Spec{Dist: "pert", Min: F(5), Mode: F(4), Max: F(3)}, "max", ">= min"},
		{Spec{Dist: "pert", Min: F(1), Mode: F(4), Max: F(3)}, "mode", "[min, max]"},
		{Spec{Dist: "pert", Min: F(1), Mode: F(2), Max: F(3), Gamma: F(0)}, "gamma", "> 0"},
		{Spec{Dist: "pert", Min: F(1), Mode: F(2), Max: F(3), Method: "classic"}, "method", "unknown"},
		{Spec{Dist: "pert", Min: F(1), Mode: F(2), Max: F(3), Rate: F(3)}, "rate", "not a parameter"},
		{Spec{Dist: "lognormal", Low: F(0), High: F(3)}, "low", "> 0"},
		{Spec{Dist: "lognormal", Low: F(5), High: F(3)}, "high", "greater than low"},
		{Spec{Dist: "lognormal", Low: F(1), High: F(3), CI: F(1)}, "ci", "between 0 and 1"},
		{Spec{Dist: "poisson"}, "rate", "missing"},
		{Spec{Dist: "poisson", Rate: F(-1)}, "rate", "between 0"},
		{Spec{Dist: "poisson", Rate: F(2e9)}, "rate", "between 0"},
		{Spec{Dist: "poisson", Min: F(1), Mode: F(2), Max: F(2e9)}, "max", "at most"},
		{Spec{Dist: "pert", Min: F(1), Mode: F(2), Max: F(3), Gamma: F(5000)}, "gamma", "at most"},
		{Spec{Dist: "lognormal", Low: F(1e-300), High: F(1e300)}, "high", "too wide"},
		{Spec{Dist: "poisson", Rate: F(1), Min: F(0)}, "rate", "not both"},
		{Spec{Dist: "poisson", Min: F(-1), Mode: F(0), Max: F(1)}, "min", ">= 0"},
		{Spec{Dist: "uniform", Min: F(2), Max: F(1)}, "max", ">= min"},
		{Spec{Dist: "normal", Mean: F(0)}, "sd", "missing"},
		{Spec{Dist: "normal", Mean: F(0), SD: F(-1)}, "sd", ">= 0"},
		{Spec{Dist: "normal", Mean: F(0), SD: F(1), Min: F(40), Max: F(50)}, "min", "mass"},
		{Spec{Dist: "normal", Mean: F(0), SD: F(1), Min: F(1), Max: F(1)}, "max", "greater than min"},
		{Spec{Dist: "constant"}, "value", "missing"},
		{Spec{Dist: "constant", Value: F(math.NaN())}, "value", "finite"},
		{Spec{Dist: "constant", Value: F(1), Method: "pyfair"}, "method", "not a parameter"},
	}
	for _, c := range cases {
		err := c.spec.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%+v: error %v is not a FieldError", c.spec, err)
			continue
		}
		if fe.Field != c.field || !strings.Contains(fe.Problem, c.frag) {
			t.Errorf("%+v: got %q, want field %q containing %q", c.spec, err, c.field, c.frag)
		}
	}
	// Degenerate inputs are constants, not errors.
	for _, s := range []Spec{
		{Dist: "pert", Min: F(3), Mode: F(3), Max: F(3)},
		{Dist: "uniform", Min: F(3), Max: F(3)},
		{Dist: "normal", Mean: F(3), SD: F(0)},
	} {
		if d := build(t, s); d.Kind() != KindConstant || d.Mean() != 3 {
			t.Errorf("%+v: got %s mean %g, want constant 3", s, d.Kind(), d.Mean())
		}
	}
	if err := Prefix("magnitude", fieldErr("mode", "x")); err.Error() != "magnitude.mode: x" {
		t.Errorf("Prefix: %v", err)
	}
}

func TestTruncate(t *testing.T) {
	s := Spec{Dist: "normal", Mean: F(1), SD: F(2)}.Truncate(0, math.Inf(1))
	if s.Min == nil || *s.Min != 0 || s.Max != nil {
		t.Fatalf("Truncate: %+v", s)
	}
	d := build(t, s)
	if lo, _ := d.Support(); lo != 0 {
		t.Errorf("support starts at %g", lo)
	}
	p := Spec{Dist: "pert", Min: F(-1), Mode: F(0), Max: F(1)}.Truncate(0, 1)
	if *p.Min != -1 {
		t.Error("Truncate changed a PERT")
	}
}

func BenchmarkSample(b *testing.B) {
	for _, s := range []Spec{
		{Dist: "pert", Min: F(1), Mode: F(10), Max: F(100)},
		{Dist: "lognormal", Low: F(1000), High: F(1e6)},
		{Dist: "normal", Mean: F(1), SD: F(3), Min: F(0)},
		{Dist: "poisson", Rate: F(3)},
		{Dist: "poisson", Rate: F(50)},
		{Dist: "poisson", Min: F(1), Mode: F(3), Max: F(12)},
	} {
		d, _ := s.Build()
		if p, ok := d.(*PERT); ok {
			p.Prepare()
		}
		name := s.Dist
		if s.Rate != nil {
			name += "-rate"
		}
		b.Run(name, func(b *testing.B) {
			r := NewRand(1, 2)
			x := 0.0
			for b.Loop() {
				x += d.Sample(r)
			}
			_ = x
		})
	}
}

// BenchmarkBetaGammaRatio is the exact two-gamma Beta sampler the table
// replaces, kept to show why.
func BenchmarkPERTTableBuild(b *testing.B) {
	for b.Loop() {
		NewPERT(1, 10, 100, 4, "").Prepare()
	}
}

// A badly skewed rate mixture must still find quantiles quickly (the
// search is logarithmic) and consistently.
func TestSkewedMixtureQuantile(t *testing.T) {
	d := build(t, Spec{Dist: "poisson", Min: F(0), Mode: F(1), Max: F(1e9)})
	for _, q := range []float64{0.001, 0.05, 0.5, 0.95} {
		k := d.Quantile(q)
		if !(d.CDF(k) >= q) || (k > 0 && d.CDF(k-1) >= q) {
			t.Errorf("q=%g: k=%g CDF(k)=%g CDF(k-1)=%g", q, k, d.CDF(k), d.CDF(k-1))
		}
	}
}

func TestSumN(t *testing.T) {
	p := NewPERT(1, 10, 100, 4, "")
	a, b := NewRand(1, 2), NewRand(1, 2)
	s := 0.0
	for range 1000 {
		s += p.Sample(a)
	}
	if got := p.SumN(b, 1000); math.Abs(got-s) > 1e-9*s {
		t.Errorf("SumN %g, sum of Sample %g", got, s)
	}
}

func BenchmarkSumN(b *testing.B) {
	p := NewPERT(1000, 20000, 500000, 4, "")
	r := NewRand(1, 2)
	x := 0.0
	for b.Loop() {
		x += p.SumN(r, 100)
	}
	_ = x
}

func TestCountTable(t *testing.T) {
	c, ok := NewCountTable(Constant{V: 3}, 0.5)
	if !ok {
		t.Fatal("constant rate not tabulated")
	}
	for k := range 20 {
		want := math.Exp(-1.5) * math.Pow(1.5, float64(k)) / math.Gamma(float64(k)+1)
		near(t, "constant-rate pmf", c.PMF(k), want, 1e-15)
	}
	for _, rate := range []Dist{
		NewPERT(2, 10, 30, 4, ""), NewPERT(0, 0, 5, 4, PERTPyfair), NewPERT(0.01, 0.1, 900, 4, ""),
		Uniform{A: 1, B: 4}, NewNormal(5, 2, 0, 12),
	} {
		const scale = 0.6
		tab, ok := NewCountTable(rate, scale)
		if !ok {
			t.Fatalf("%s not tabulated", rate.Kind())
		}
		var m1, m2, sum float64
		for k := range tab.cdf {
			p := tab.PMF(k)
			sum += p
			m1 += float64(k) * p
			m2 += float64(k) * float64(k) * p
		}
		mean := scale * rate.Mean()
		near(t, rate.Kind()+" pmf total", sum, 1, 1e-12)
		near(t, rate.Kind()+" mixture mean", m1/mean, 1, 1e-7)
		near(t, rate.Kind()+" mixture var", (m2-m1*m1)/(mean+scale*scale*rate.Var()), 1, 1e-6)
		// Draws against the direct two-stage process.
		r1, r2 := NewRand(1, 1), NewRand(2, 2)
		const n = 300000
		var h1, h2 [40]float64
		for range n {
			if k := tab.Draw(r1); k < 40 {
				h1[k]++
			}
			if k := PoissonDraw(r2, scale*rate.Sample(r2)); k < 40 {
				h2[int(k)]++
			}
		}
		for k := range 40 {
			p := tab.PMF(k)
			se := math.Sqrt(p * (1 - p) / n)
			near(t, fmt.Sprintf("%s table draws P(N=%d)", rate.Kind(), k), h1[k]/n, p, 5*se+5.0/n)
			near(t, fmt.Sprintf("%s direct draws P(N=%d)", rate.Kind(), k), h2[k]/n, p, 5*se+5.0/n)
		}
	}
	if _, ok := NewCountTable(LognormalFromInterval(1, 10, 0.9), 1); ok {
		t.Error("unbounded rate tabulated")
	}
	if _, ok := NewCountTable(Constant{V: 1e6}, 1); ok {
		t.Error("huge rate tabulated")
	}
}

func BenchmarkCountTableDraw(b *testing.B) {
	tab, _ := NewCountTable(NewPERT(2, 10, 30, 4, ""), 0.6)
	r := NewRand(1, 2)
	s := 0
	for b.Loop() {
		s += tab.Draw(r)
	}
	_ = s
}

func BenchmarkCountTableBuild(b *testing.B) {
	p := NewPERT(2, 10, 30, 4, "")
	p.Prepare()
	for b.Loop() {
		NewCountTable(p, 0.6)
	}
}
