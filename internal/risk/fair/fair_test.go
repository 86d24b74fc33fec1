package fair

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"vigil/internal/risk/dist"
)

var F = dist.F

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol || math.IsNaN(got) {
		t.Errorf("%s = %.8g, want %.8g (±%.3g)", name, got, want, tol)
	}
}

// type7 is the textbook definition, on a sorted copy.
func type7(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	h := float64(len(s)-1) * p
	k := int(h)
	if k+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[k] + (h-float64(k))*(s[k+1]-s[k])
}

func TestPercentilesType7(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	ps := []float64{0, 0.01, 0.1, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1}
	for _, n := range []int{1, 2, 3, 10, 17, 100, 1001, 50000} {
		for _, kind := range []string{"uniform", "many zeros", "all equal", "sorted", "reversed"} {
			xs := make([]float64, n)
			for i := range xs {
				switch kind {
				case "uniform":
					xs[i] = r.Float64()
				case "many zeros":
					if r.Float64() < 0.8 {
						xs[i] = 0
					} else {
						xs[i] = float64(r.IntN(5))
					}
				case "all equal":
					xs[i] = 7
				case "sorted":
					xs[i] = float64(i)
				case "reversed":
					xs[i] = float64(n - i)
				}
			}
			want := make([]float64, len(ps))
			for i, p := range ps {
				want[i] = type7(xs, p)
			}
			got := Percentiles(xs, ps)
			for i := range ps {
				if got[i] != want[i] {
					t.Errorf("n=%d %s p=%g: got %g want %g", n, kind, ps[i], got[i], want[i])
				}
			}
		}
	}
	// Large inputs with the shapes simulations produce: heavy tails, a mass
	// at zero, a few repeated values, sorted runs, and a sparse lattice of
	// zeros in otherwise continuous data.
	const big = 1 << 19
	stride := big / (1 << 15)
	for _, kind := range []string{"lognormal", "many zeros", "few values", "sorted", "zero lattice"} {
		xs := make([]float64, big)
		for i := range xs {
			switch kind {
			case "lognormal":
				xs[i] = math.Exp(r.NormFloat64())
			case "many zeros":
				if r.Float64() < 0.3 {
					xs[i] = r.ExpFloat64()
				}
			case "few values":
				xs[i] = float64(r.IntN(3))
			case "sorted":
				xs[i] = float64(i) / 7
			case "zero lattice":
				if i%stride != 0 {
					xs[i] = 1 + r.Float64()
				}
			}
		}
		want := make([]float64, len(ps))
		for i, p := range ps {
			want[i] = type7(xs, p)
		}
		got := Percentiles(xs, ps)
		for i := range ps {
			if got[i] != want[i] {
				t.Errorf("n=%d %s p=%g: got %g want %g", big, kind, ps[i], got[i], want[i])
			}
		}
	}
	// numpy.percentile([1,2,3,4], [10, 50, 90]) = [1.3, 2.5, 3.7].
	got := Percentiles([]float64{4, 1, 3, 2}, []float64{0.1, 0.5, 0.9})
	for i, w := range []float64{1.3, 2.5, 3.7} {
		near(t, "numpy example", got[i], w, 1e-12)
	}
}

func run(t *testing.T, m Model, n int) *Result {
	t.Helper()
	res, err := Simulate(context.Background(), &m, Options{Iterations: n, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func poissonCDF(k int, lam float64) float64 {
	p, s := math.Exp(-lam), 0.0
	for i := 0; i <= k; i++ {
		s += p
		p *= lam / float64(i+1)
	}
	return s
}

// Constant rate and constant magnitude make the annual loss M·Poisson(λ),
// whose every figure is known exactly.
func TestPerEventPoissonClosedForm(t *testing.T) {
	const lam, mag, n = 2.5, 1000.0, 400000
	res := run(t, Model{
		Frequency:     &dist.Spec{Dist: "constant", Value: F(lam)},
		Magnitude:     &dist.Spec{Dist: "constant", Value: F(mag)},
		LECThresholds: []float64{0, 999.999, 1000, 2500, 5000},
	}, n)
	near(t, "mean", res.ALEMean, lam*mag, 5*mag*math.Sqrt(lam/n))
	near(t, "exact mean", res.ALEMeanExact, lam*mag, 1e-9)
	near(t, "sd", res.ALESD, mag*math.Sqrt(lam), 0.01*mag*math.Sqrt(lam))
	pz := math.Exp(-lam)
	near(t, "p_zero_loss", res.PZeroLoss, pz, 5*math.Sqrt(pz*(1-pz)/n))
	near(t, "p50", res.P50, 2*mag, 0) // CDF(1)=0.287, CDF(2)=0.544
	near(t, "p90", res.P90, 5*mag, 0) // CDF(4)=0.891, CDF(5)=0.958
	near(t, "p99", res.P99, 7*mag, 0) // CDF(6)=0.986, CDF(7)=0.996
	wantLEC := []float64{1 - poissonCDF(0, lam), 1 - poissonCDF(0, lam), 1 - poissonCDF(1, lam),
		1 - poissonCDF(2, lam), 1 - poissonCDF(5, lam)}
	for i, e := range res.LEC {
		// Strictly greater: a loss of exactly 1000 does not exceed 1000.
		near(t, "LEC", e.Exceedance, wantLEC[i], 5*math.Sqrt(0.25/n))
	}
	if res.Vuln != nil || res.LEFMean != lam {
		t.Errorf("vulnerability %v lef %g", res.Vuln, res.LEFMean)
	}
}

// Per year with a constant frequency, ALE = λ·X, so its percentiles are λ
// times the magnitude's exact quantiles.
func TestPerYearQuantiles(t *testing.T) {
	const lam, n = 3.0, 400000
	mag := &dist.Spec{Dist: "pert", Min: F(1000), Mode: F(5000), Max: F(50000)}
	d, _ := mag.Build()
	res := run(t, Model{Frequency: &dist.Spec{Dist: "constant", Value: F(lam)}, Magnitude: mag, Aggregation: PerYear}, n)
	for _, c := range []struct {
		name string
		got  float64
		p    float64
	}{{"p10", res.P10, 0.1}, {"p50", res.P50, 0.5}, {"p90", res.P90, 0.9}, {"p99", res.P99, 0.99}} {
		x := d.Quantile(c.p)
		// sd of a sample quantile: sqrt(p(1−p)/n)/f(x); f from the CDF slope.
		h := 1e-4 * (50000 - 1000)
		f := (d.CDF(x+h) - d.CDF(x-h)) / (2 * h)
		near(t, c.name, c.got, lam*x, 5*lam*math.Sqrt(c.p*(1-c.p)/n)/f)
	}
	near(t, "mean", res.ALEMean, lam*d.Mean(), 5*lam*d.SD()/math.Sqrt(n))
	near(t, "sd", res.ALESD, lam*d.SD(), 0.01*lam*d.SD())
	if res.PZeroLoss != 0 {
		t.Errorf("p_zero_loss %g, want 0", res.PZeroLoss)
	}
}

// Both aggregations share the exact mean, for every input form.
func TestMeansMatchClosedForm(t *testing.T) {
	models := map[string]Model{
		"tef pert, constant vuln, lognormal": {
			TEF:           &dist.Spec{Dist: "pert", Min: F(1), Mode: F(4), Max: F(12)},
			Vulnerability: &Vulnerability{Value: F(0.35)},
			Magnitude:     &dist.Spec{Dist: "lognormal", Low: F(5000), High: F(200000)},
		},
		"tef poisson count, pert vuln, secondary": {
			TEF:           &dist.Spec{Dist: "poisson", Min: F(2), Mode: F(5), Max: F(20)},
			Vulnerability: &Vulnerability{Dist: &dist.Spec{Dist: "pert", Min: F(0.1), Mode: F(0.2), Max: F(0.6)}},
			Magnitude:     &dist.Spec{Dist: "normal", Mean: F(10000), SD: F(8000)}, // truncated at 0
			Secondary: &Secondary{
				Frequency: &dist.Spec{Dist: "uniform", Min: F(0.1), Max: F(0.3)},
				Magnitude: &dist.Spec{Dist: "pert", Min: F(1e4), Mode: F(5e4), Max: F(4e5)},
			},
		},
		"lef pert (tabulated counts) with secondary": {
			Frequency: &dist.Spec{Dist: "pert", Min: F(0.1), Mode: F(0.5), Max: F(3)},
			Magnitude: &dist.Spec{Dist: "lognormal", Low: F(5000), High: F(90000)},
			Secondary: &Secondary{
				Frequency: &dist.Spec{Dist: "pert", Min: F(0.1), Mode: F(0.2), Max: F(0.5)},
				Magnitude: &dist.Spec{Dist: "constant", Value: F(25000)},
			},
		},
		"lef poisson rate, tcap vs rs": {
			TEF: &dist.Spec{Dist: "poisson", Rate: F(6)},
			Vulnerability: &Vulnerability{
				ThreatCapability:   &dist.Spec{Dist: "pert", Min: F(20), Mode: F(60), Max: F(95)},
				ResistanceStrength: &dist.Spec{Dist: "normal", Mean: F(70), SD: F(10)},
			},
			Magnitude: &dist.Spec{Dist: "uniform", Min: F(100), Max: F(900)},
		},
	}
	const n = 300000
	for name, m := range models {
		for _, agg := range []Aggregation{PerEvent, PerYear} {
			m.Aggregation = agg
			res := run(t, m, n)
			near(t, name+" "+string(agg), res.ALEMean, res.ALEMeanExact, 5*res.StdError)
		}
	}
	// Truncated, not clipped: the magnitude's mean is the truncated normal's.
	tn := dist.NewNormal(10000, 8000, 0, math.Inf(1))
	if tn.Mean() <= 10000 {
		t.Fatal("truncated mean should exceed the untruncated one")
	}
}

func TestVulnerabilityFromCapability(t *testing.T) {
	// TCap uniform on [0, 100] against RS fixed at 60: P(TCap > 60) = 0.4.
	m := Model{
		TEF: &dist.Spec{Dist: "constant", Value: F(10)},
		Vulnerability: &Vulnerability{
			ThreatCapability:   &dist.Spec{Dist: "uniform", Min: F(0), Max: F(100)},
			ResistanceStrength: &dist.Spec{Dist: "constant", Value: F(60)},
		},
		Magnitude: &dist.Spec{Dist: "constant", Value: F(1)},
	}
	res := run(t, m, 100000)
	near(t, "vulnerability", *res.Vuln, 0.4, 1e-12)
	near(t, "lef_mean", res.LEFMean, 4, 1e-12)
	// Ties are no loss: capability exactly equal to strength.
	m.Vulnerability.ThreatCapability = &dist.Spec{Dist: "constant", Value: F(60)}
	res = run(t, m, 1000)
	if *res.Vuln != 0 || res.ALEMean != 0 || res.PZeroLoss != 1 {
		t.Errorf("tie: vuln %g mean %g p0 %g", *res.Vuln, res.ALEMean, res.PZeroLoss)
	}
}

func TestReproducibleAcrossWorkers(t *testing.T) {
	m := Model{
		TEF:           &dist.Spec{Dist: "pert", Min: F(1), Mode: F(4), Max: F(12)},
		Vulnerability: &Vulnerability{Value: F(0.5)},
		Magnitude:     &dist.Spec{Dist: "pert", Min: F(1000), Mode: F(5000), Max: F(90000)},
	}
	var first *Result
	for _, w := range []int{1, 2, 3, 8} {
		res, err := Simulate(context.Background(), &m, Options{Iterations: 100003, Seed: 9, Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = res
			continue
		}
		a, _ := json.Marshal(first)
		b, _ := json.Marshal(res)
		if string(a) != string(b) {
			t.Fatalf("workers=%d differs:\n%s\n%s", w, a, b)
		}
	}
	other, _ := Simulate(context.Background(), &m, Options{Iterations: 100003, Seed: 10})
	if other.ALEMean == first.ALEMean {
		t.Error("a different seed gave the same mean")
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := Model{Frequency: &dist.Spec{Dist: "constant", Value: F(1)}, Magnitude: &dist.Spec{Dist: "constant", Value: F(1)}}
	if _, err := Simulate(ctx, &m, Options{Iterations: 1000000}); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func decode(s string) (*Model, error) {
	var m Model
	if err := strictDecode([]byte(s), &m); err != nil {
		return nil, err
	}
	return &m, nil
}

func TestDecodeAndValidate(t *testing.T) {
	ok := []string{
		`{"frequency":{"dist":"poisson","rate":2},"magnitude":{"dist":"lognormal","low":1000,"high":100000}}`,
		`{"tef":{"dist":"pert","min":1,"mode":2,"max":5},"vulnerability":0.3,"magnitude":{"dist":"constant","value":5}}`,
		`{"tef":{"dist":"constant","value":2},"vulnerability":{"dist":"uniform","min":0.1,"max":0.2},"magnitude":{"dist":"constant","value":5},"aggregation":"per-year"}`,
		`{"tef":{"dist":"constant","value":2},"vulnerability":{"threat_capability":{"dist":"normal","mean":50,"sd":10},"resistance_strength":{"dist":"constant","value":60}},"magnitude":{"dist":"constant","value":5}}`,
	}
	for _, s := range ok {
		m, err := decode(s)
		if err == nil {
			err = m.Validate()
		}
		if err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	bad := []struct{ in, field string }{
		{`{"magnitude":{"dist":"constant","value":1}}`, "frequency"},
		{`{"frequency":{"dist":"constant","value":1}}`, "magnitude"},
		{`{"tef":{"dist":"constant","value":1},"magnitude":{"dist":"constant","value":1}}`, "vulnerability"},
		{`{"tef":{"dist":"constant","value":1},"frequency":{"dist":"constant","value":1},"magnitude":{"dist":"constant","value":1}}`, "tef"},
		{`{"frequency":{"dist":"constant","value":1},"vulnerability":0.5,"magnitude":{"dist":"constant","value":1}}`, "vulnerability"},
		{`{"tef":{"dist":"constant","value":1},"vulnerability":1.5,"magnitude":{"dist":"constant","value":1}}`, "vulnerability"},
		{`{"tef":{"dist":"constant","value":1},"vulnerability":{"dist":"uniform","min":0.5,"max":2},"magnitude":{"dist":"constant","value":1}}`, "vulnerability"},
		{`{"tef":{"dist":"constant","value":1},"vulnerability":{"threat_capability":{"dist":"constant","value":1}},"magnitude":{"dist":"constant","value":1}}`, "vulnerability.resistance_strength"},
		{`{"frequency":{"dist":"uniform","min":-1,"max":1},"magnitude":{"dist":"constant","value":1}}`, "frequency"},
		{`{"frequency":{"dist":"constant","value":1},"magnitude":{"dist":"pert","min":5,"mode":1,"max":9}}`, "magnitude.mode"},
		{`{"frequency":{"dist":"constant","value":1},"magnitude":{"dist":"constant","value":1},"secondary":{"frequency":{"dist":"constant","value":2},"magnitude":{"dist":"constant","value":1}}}`, "secondary.frequency"},
		{`{"frequency":{"dist":"constant","value":1},"magnitude":{"dist":"constant","value":1},"secondary":{"frequency":{"dist":"constant","value":0.2}}}`, "secondary.magnitude"},
		{`{"frequency":{"dist":"constant","value":1},"magnitude":{"dist":"constant","value":1},"aggregation":"monthly"}`, "aggregation"},
	}
	for _, c := range bad {
		m, err := decode(c.in)
		if err != nil {
			t.Errorf("%s: decode: %v", c.in, err)
			continue
		}
		err = m.Validate()
		var fe *dist.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%s: got %v, want error on %q", c.in, err, c.field)
		}
	}
	for _, s := range []string{
		`{"tef":{"dist":"constant","value":1},"vulnerability":"high","magnitude":{"dist":"constant","value":1}}`,
		`{"tef":{"dist":"constant","value":1},"vulnerability":{"threat_capability":{"dist":"constant","value":1},"extra":1},"magnitude":{"dist":"constant","value":1}}`,
		`{"frequency":{"dist":"constant","value":1,"typo":3},"magnitude":{"dist":"constant","value":1}}`,
	} {
		if _, err := decode(s); err == nil {
			t.Errorf("%s: decoded without error", s)
		} else if !strings.Contains(err.Error(), "") {
			t.Error(err)
		}
	}
	if _, err := Simulate(context.Background(), &Model{Frequency: &dist.Spec{Dist: "constant", Value: F(1)}, Magnitude: &dist.Spec{Dist: "constant", Value: F(1)}}, Options{Iterations: -5}); !errors.Is(err, ErrIterations) {
		t.Errorf("negative iterations: %v", err)
	}
}

func TestVulnerabilityJSONRoundTrip(t *testing.T) {
	for _, s := range []string{
		`0.25`,
		`{"dist":"pert","min":0.1,"mode":0.2,"max":0.5}`,
		`{"threat_capability":{"dist":"constant","value":3},"resistance_strength":{"dist":"constant","value":2}}`,
	} {
		var v Vulnerability
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		var w Vulnerability
		if err := json.Unmarshal(b, &w); err != nil {
			t.Fatal(err)
		}
		c, _ := json.Marshal(w)
		if string(b) != string(c) {
			t.Errorf("%s: %s then %s", s, b, c)
		}
	}
}

// benchModel is the shared benchmark scenario: TEF PERT × fixed
// vulnerability × PERT magnitude, about 7.2 loss events a year.
func benchModel(agg Aggregation) *Model {
	return &Model{
		TEF:           &dist.Spec{Dist: "pert", Min: F(2), Mode: F(10), Max: F(30)},
		Vulnerability: &Vulnerability{Value: F(0.6)},
		Magnitude:     &dist.Spec{Dist: "pert", Min: F(1000), Mode: F(20000), Max: F(500000)},
		Aggregation:   agg,
	}
}

func BenchmarkSimulate1M(b *testing.B) {
	for _, c := range []struct {
		name    string
		agg     Aggregation
		workers int
	}{{"per-event/1core", PerEvent, 1}, {"per-event/allcores", PerEvent, 0},
		{"per-year/1core", PerYear, 1}, {"per-year/allcores", PerYear, 0}} {
		b.Run(c.name, func(b *testing.B) {
			m := benchModel(c.agg)
			c0 := cpuTime()
			for b.Loop() {
				if _, err := Simulate(context.Background(), m, Options{Iterations: 1_000_000, Seed: 42, Workers: c.workers}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-c0)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

func BenchmarkPercentiles1M(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	src := make([]float64, 1_000_000)
	for i := range src {
		src[i] = r.ExpFloat64()
	}
	xs := make([]float64, len(src))
	for b.Loop() {
		copy(xs, src)
		Percentiles(xs, []float64{0.1, 0.5, 0.9, 0.95, 0.99})
	}
}

func TestWorkBounds(t *testing.T) {
	m := Model{Frequency: &dist.Spec{Dist: "constant", Value: F(1e6)}, Magnitude: &dist.Spec{Dist: "constant", Value: F(1)}}
	if _, err := Simulate(context.Background(), &m, Options{Iterations: 10000}); !errors.Is(err, ErrTooMuchWork) {
		t.Errorf("per-event with 1e10 events: %v", err)
	}
	m.Aggregation = PerYear
	res, err := Simulate(context.Background(), &m, Options{Iterations: 10000})
	if err != nil || res.ALEMean != 1e6 {
		t.Errorf("per-year: %v %+v", err, res)
	}
	// A heavy-tailed frequency whose mean is fine but whose years explode.
	m = Model{Frequency: &dist.Spec{Dist: "lognormal", Low: F(1e-3), High: F(1e7), CI: F(0.5)}, Magnitude: &dist.Spec{Dist: "constant", Value: F(1)}}
	if _, err := Simulate(context.Background(), &m, Options{Iterations: 1000}); err == nil {
		t.Error("runaway years accepted")
	}
}
