package fair

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"vigil/internal/risk/dist"
)

// Options control a simulation run.
type Options struct {
	// Iterations is the number of simulated years (default 100,000).
	Iterations int
	// Seed makes a run reproducible: the same seed and iterations give the
	// same result whatever the number of workers.
	Seed uint64
	// Workers bounds parallelism (default GOMAXPROCS).
	Workers int
	// MaxEventDraws bounds E[loss events a year] × Iterations in per-event
	// mode (default and ceiling: the package's MaxEventDraws). A server can
	// set it lower to cap a request's work.
	MaxEventDraws float64
}

const (
	DefaultIterations = 100_000
	// MaxIterations bounds memory (8 bytes an iteration) for API callers.
	MaxIterations = 20_000_000
	// chunk is the unit of work and of random streams: chunk i always uses
	// stream i, so results do not depend on scheduling.
	chunk = 1 << 14
)

// Exceedance is one point of the loss exceedance curve.
type Exceedance struct {
	Threshold float64 `json:"threshold"`
	// Exceedance is P(annual loss > Threshold), strictly greater.
	Exceedance float64 `json:"exceedance"`
}

// Result summarises the simulated annual loss exposure. Percentiles use
// Hyndman–Fan type 7 (numpy's and R's default).
type Result struct {
	Aggregation Aggregation `json:"aggregation"`
	Iterations  int         `json:"iterations"`
	Seed        uint64      `json:"seed"`
	ALEMean     float64     `json:"ale_mean"`
	// ALEMeanExact is E[ALE] from the inputs' exact means; the simulated
	// mean converges to it (StdError is the Monte Carlo standard error).
	ALEMeanExact float64 `json:"ale_mean_exact"`
	StdError     float64 `json:"std_error"`
	ALESD        float64 `json:"ale_sd"`
	Min          float64 `json:"min"`
	P10          float64 `json:"p10"`
	P50          float64 `json:"p50"`
	P90          float64 `json:"p90"`
	P95          float64 `json:"p95"`
	P99          float64 `json:"p99"`
	Max          float64 `json:"max"`
	PZeroLoss    float64 `json:"p_zero_loss"`
	LEFMean      float64 `json:"lef_mean"`
	// Vuln is the mean vulnerability, null when the model gives the loss
	// event frequency directly.
	Vuln *float64     `json:"vulnerability"`
	LEC  []Exceedance `json:"lec"`
}

// ErrIterations reports an iteration count outside [1, MaxIterations].
var ErrIterations = errors.New("iterations out of range")

// ErrTooMuchWork reports a per-event model whose loss events are too many
// to draw one by one (the per-year aggregation handles such frequencies).
var ErrTooMuchWork = errors.New("too many loss events to simulate per event")

// ErrOverflow reports simulated losses that are not finite numbers.
var ErrOverflow = errors.New("simulated losses overflow")

const (
	// MaxEventDraws bounds E[events]·iterations in per-event mode, about
	// ten seconds of one core.
	MaxEventDraws = 1e9
	// maxEventsPerYear stops a single heavy-tailed year from running away.
	maxEventsPerYear = 1e8
)

// Simulate validates m and runs it.
func Simulate(ctx context.Context, m *Model, o Options) (*Result, error) {
	c, err := m.compile()
	if err != nil {
		return nil, err
	}
	n := o.Iterations
	if n == 0 {
		n = DefaultIterations
	}
	if n < 1 || n > MaxIterations {
		return nil, fmt.Errorf("%w: %d (1 to %d)", ErrIterations, n, MaxIterations)
	}
	maxDraws := o.MaxEventDraws
	if maxDraws <= 0 || maxDraws > MaxEventDraws {
		maxDraws = MaxEventDraws
	}
	if c.agg == PerEvent && c.meanLEF()*float64(n) > maxDraws {
		return nil, fmt.Errorf("%w: %.3g expected loss events a year × %d iterations exceeds %.0e; use fewer iterations or \"aggregation\": \"per-year\"",
			ErrTooMuchWork, c.meanLEF(), n, maxDraws)
	}
	c.yearCap = math.Min(maxEventsPerYear, maxDraws)
	if m := c.exactMean(); math.IsInf(m, 0) || math.IsNaN(m) {
		return nil, fmt.Errorf("%w: the inputs' mean annual loss is not finite", ErrOverflow)
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	losses := make([]float64, n)
	nChunks := (n + chunk - 1) / chunk
	stats := make([]chunkStats, nChunks)
	err = parallel(ctx, nChunks, workers, func(i int) {
		lo, hi := i*chunk, min((i+1)*chunk, n)
		r := dist.NewRand(splitmix(o.Seed^splitmix(uint64(i))), splitmix(o.Seed+uint64(i)+0x632be59bd9b4e019))
		c.run(r, losses[lo:hi])
		stats[i] = summarise(losses[lo:hi])
	})
	if err != nil {
		return nil, err
	}
	if c.runaway.Load() {
		return nil, fmt.Errorf("%w: a simulated year had more than %.0e loss events; use \"aggregation\": \"per-year\"", ErrTooMuchWork, c.yearCap)
	}
	total := stats[0]
	for _, s := range stats[1:] {
		total = total.merge(s)
	}
	res := &Result{
		Aggregation:  c.agg,
		Iterations:   n,
		Seed:         o.Seed,
		ALEMean:      total.mean,
		ALEMeanExact: c.exactMean(),
		ALESD:        total.sd(),
		Min:          total.min,
		Max:          total.max,
		PZeroLoss:    float64(total.zeros) / float64(n),
		LEFMean:      c.meanLEF(),
	}
	if c.tef != nil {
		v := c.vulnMean()
		res.Vuln = &v
	}
	res.StdError = res.ALESD / math.Sqrt(float64(n))
	if math.IsInf(res.ALEMean, 0) || math.IsNaN(res.ALEMean) || math.IsInf(res.ALESD, 0) || math.IsNaN(res.ALESD) {
		return nil, fmt.Errorf("%w: check the magnitude and frequency ranges", ErrOverflow)
	}
	ps := Percentiles(losses, []float64{0.10, 0.50, 0.90, 0.95, 0.99})
	res.P10, res.P50, res.P90, res.P95, res.P99 = ps[0], ps[1], ps[2], ps[3], ps[4]

	thr := c.thresholds
	if len(thr) == 0 {
		thr = niceThresholds(res)
	}
	res.LEC, err = exceedance(ctx, losses, thr, workers)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// run fills out with simulated annual losses.
func (c *compiled) run(r *dist.Rand, out []float64) {
	perEvent := c.agg == PerEvent
	if perEvent && c.counts != nil && c.slef == nil {
		// The common case in one tight loop: tabulated count, summed draws.
		for i := range out {
			n := c.counts.Draw(r)
			if float64(n) > c.yearCap {
				c.runaway.Store(true)
				return
			}
			out[i] = dist.SumN(c.pl, r, n)
		}
		return
	}
	for i := range out {
		// Loss event rate (or, per-year, the loss event frequency itself);
		// not needed when the count comes from the tabulated mixture.
		var f float64
		if !perEvent || c.counts == nil {
			f = c.rate(r, perEvent)
		}
		slef := 0.0
		if c.slef != nil {
			// Drawn once a year: the uncertainty about how often secondary
			// stakeholders react is shared by that year's events.
			slef = c.slef.Sample(r)
		}
		if !perEvent {
			m := c.pl.Sample(r)
			if c.slef != nil {
				m += slef * c.slm.Sample(r)
			}
			out[i] = f * m
			continue
		}
		var events float64
		if c.counts != nil {
			events = float64(c.counts.Draw(r))
		} else {
			events = dist.PoissonDraw(r, f)
		}
		if events > c.yearCap {
			c.runaway.Store(true)
			return
		}
		if c.slef == nil {
			out[i] = dist.SumN(c.pl, r, int(events))
			continue
		}
		loss := 0.0
		for k := 0.0; k < events; k++ {
			loss += c.pl.Sample(r)
			if r.Float64() < slef {
				loss += c.slm.Sample(r)
			}
		}
		out[i] = loss
	}
}

// rate draws the loss event rate (per-event) or frequency (per-year).
func (c *compiled) rate(r *dist.Rand, perEvent bool) float64 {
	switch {
	case c.lef != nil && perEvent && c.lefR != nil:
		return c.lefR.SampleRate(r)
	case c.lef != nil:
		return c.lef.Sample(r)
	}
	// A Poisson count of threat events thinned with probability v is
	// Poisson(rate·v): exact, and no binomial draw needed.
	var f float64
	if perEvent && c.tefR != nil {
		f = c.tefR.SampleRate(r)
	} else {
		f = c.tef.Sample(r)
	}
	if c.vDist != nil {
		return f * c.vDist.Sample(r)
	}
	return f * c.vConst
}

// chunkStats are per-chunk moments, merged with Chan et al.'s formula so the
// variance stays accurate when the mean is large.
type chunkStats struct {
	n        float64
	mean, m2 float64
	min, max float64
	zeros    int
}

func summarise(xs []float64) chunkStats {
	s := chunkStats{n: float64(len(xs)), min: math.Inf(1), max: math.Inf(-1)}
	sum := 0.0
	for _, x := range xs {
		sum += x
		if x == 0 {
			s.zeros++
		}
		if x < s.min {
			s.min = x
		}
		if x > s.max {
			s.max = x
		}
	}
	s.mean = sum / s.n
	for _, x := range xs {
		d := x - s.mean
		s.m2 += d * d
	}
	return s
}

func (a chunkStats) merge(b chunkStats) chunkStats {
	n := a.n + b.n
	d := b.mean - a.mean
	return chunkStats{
		n:     n,
		mean:  a.mean + d*b.n/n,
		m2:    a.m2 + b.m2 + d*d*a.n*b.n/n,
		min:   math.Min(a.min, b.min),
		max:   math.Max(a.max, b.max),
		zeros: a.zeros + b.zeros,
	}
}

func (s chunkStats) sd() float64 {
	if s.n < 2 {
		return 0
	}
	return math.Sqrt(s.m2 / (s.n - 1))
}

// parallel runs f(0…n−1) on up to workers goroutines, stopping early when
// ctx is cancelled.
func parallel(ctx context.Context, n, workers int, f func(i int)) error {
	workers = min(workers, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

// exceedance counts, for each threshold, the share of losses strictly above
// it, in one pass: each loss is binned by how many thresholds lie below it.
func exceedance(ctx context.Context, losses, thresholds []float64, workers int) ([]Exceedance, error) {
	t := append([]float64(nil), thresholds...)
	sort.Float64s(t)
	nChunks := (len(losses) + chunk - 1) / chunk
	bins := make([][]int, nChunks)
	err := parallel(ctx, nChunks, workers, func(i int) {
		b := make([]int, len(t)+1)
		for _, x := range losses[i*chunk : min((i+1)*chunk, len(losses))] {
			b[sort.SearchFloat64s(t, x)]++ // number of thresholds < x
		}
		bins[i] = b
	})
	if err != nil {
		return nil, err
	}
	total := make([]int, len(t)+1)
	for _, b := range bins {
		for j, v := range b {
			total[j] += v
		}
	}
	out := make([]Exceedance, len(t))
	above := len(losses)
	n := float64(len(losses))
	for j := range t {
		above -= total[j] // losses with at most j thresholds below: not above t[j]
		out[j] = Exceedance{Threshold: t[j], Exceedance: float64(above) / n}
	}
	return out, nil
}

// niceThresholds is 0 and a 1-2-5 series from the median loss (or the
// smallest positive percentile) up to the largest simulated loss, which is
// the part of the curve analysts read.
func niceThresholds(r *Result) []float64 {
	t := []float64{0}
	lo := 0.0
	for _, p := range []float64{r.P10, r.P50, r.P90, r.P99, r.Max} {
		if p > 0 {
			lo = p
			break
		}
	}
	if !(lo > 0) || math.IsInf(r.Max, 0) {
		return t
	}
	x := math.Pow(10, math.Floor(math.Log10(lo)))
	for len(t) < 60 {
		for _, m := range []float64{1, 2, 5} {
			v := x * m
			if v >= lo/2 && v <= r.Max {
				t = append(t, v)
			}
		}
		x *= 10
		if x > r.Max {
			break
		}
	}
	return t
}

// splitmix is SplitMix64's finaliser, used to derive independent PCG seeds
// from (seed, chunk).
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
