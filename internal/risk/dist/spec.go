package dist

import (
	"fmt"
	"math"
)

// Distribution names accepted in Spec.Dist.
const (
	KindPERT      = "pert"
	KindLognormal = "lognormal"
	KindPoisson   = "poisson"
	KindUniform   = "uniform"
	KindNormal    = "normal"
	KindConstant  = "constant"
)

// DefaultGamma is the PERT shape when none is given (classic PERT).
const DefaultGamma = 4

// Bounds that keep every figure finite and every computation short: a rate
// of a billion events a period is beyond any security scenario, and PERT
// shapes past 1000 are a point mass in practice.
const (
	MaxRate  = 1e9
	MaxGamma = 1000
)

// DefaultCI is the lognormal interval's coverage when none is given.
const DefaultCI = 0.9

// Spec is an analyst's distribution as it arrives in JSON, e.g.
// {"dist":"pert","min":1,"mode":3,"max":12}. Which fields apply depends on
// Dist:
//
//	pert       min, mode, max; gamma (default 4); method "modified" (default) | "pyfair"
//	lognormal  low, high: the central ci interval (ci default 0.9)
//	poisson    rate, or min/mode/max (+gamma, method) for a PERT-distributed rate
//	uniform    min, max
//	normal     mean, sd; optional min and/or max truncate it
//	constant   value
//
// Pointers tell "absent" from zero; Validate rejects parameters that do not
// belong to the named distribution so typos are not silently ignored.
type Spec struct {
	Dist   string   `json:"dist"`
	Min    *float64 `json:"min,omitempty"`
	Mode   *float64 `json:"mode,omitempty"`
	Max    *float64 `json:"max,omitempty"`
	Gamma  *float64 `json:"gamma,omitempty"`
	Method string   `json:"method,omitempty"`
	Low    *float64 `json:"low,omitempty"`
	High   *float64 `json:"high,omitempty"`
	CI     *float64 `json:"ci,omitempty"`
	Rate   *float64 `json:"rate,omitempty"`
	Mean   *float64 `json:"mean,omitempty"`
	SD     *float64 `json:"sd,omitempty"`
	Value  *float64 `json:"value,omitempty"`
}

// F returns a pointer to v, for building Specs in Go.
func F(v float64) *float64 { return &v }

// Validate reports the first problem, naming the field.
func (s *Spec) Validate() error {
	_, err := s.Build()
	return err
}

// Build validates the spec and returns the distribution. Degenerate inputs
// (min == max, sd == 0) become a Constant rather than an error: analysts do
// write "exactly 3" as a three-point estimate.
func (s *Spec) Build() (Dist, error) {
	if s == nil {
		return nil, fieldErr("", "missing distribution")
	}
	var allowed []string
	switch s.Dist {
	case KindPERT:
		allowed = []string{"min", "mode", "max", "gamma", "method"}
	case KindLognormal:
		allowed = []string{"low", "high", "ci"}
	case KindPoisson:
		allowed = []string{"rate", "min", "mode", "max", "gamma", "method"}
	case KindUniform:
		allowed = []string{"min", "max"}
	case KindNormal:
		allowed = []string{"mean", "sd", "min", "max"}
	case KindConstant:
		allowed = []string{"value"}
	case "":
		return nil, fieldErr("dist", `missing; one of "pert", "lognormal", "poisson", "uniform", "normal", "constant"`)
	default:
		return nil, fieldErr("dist", fmt.Sprintf(`unknown distribution %q; one of "pert", "lognormal", "poisson", "uniform", "normal", "constant"`, s.Dist))
	}
	if err := s.checkPresent(allowed); err != nil {
		return nil, err
	}
	switch s.Dist {
	case KindPERT:
		return s.buildPERT(false)
	case KindLognormal:
		if err := need(map[string]*float64{"low": s.Low, "high": s.High}); err != nil {
			return nil, err
		}
		ci := DefaultCI
		if s.CI != nil {
			ci = *s.CI
			if !(ci > 0 && ci < 1) {
				return nil, fieldErr("ci", fmt.Sprintf("must be strictly between 0 and 1, got %g", ci))
			}
		}
		if !(*s.Low > 0) {
			return nil, fieldErr("low", fmt.Sprintf("must be > 0 for a lognormal, got %g", *s.Low))
		}
		if !(*s.High > *s.Low) {
			return nil, fieldErr("high", fmt.Sprintf("must be greater than low (%g), got %g", *s.Low, *s.High))
		}
		l := LognormalFromInterval(*s.Low, *s.High, ci)
		if math.IsInf(l.Mean(), 0) || math.IsInf(l.SD(), 0) || math.IsInf(l.Quantile(1-1e-12), 0) {
			return nil, fieldErr("high", fmt.Sprintf("the interval [%g, %g] is too wide: the lognormal's moments overflow", *s.Low, *s.High))
		}
		return l, nil
	case KindPoisson:
		if s.Rate != nil {
			if s.Min != nil || s.Mode != nil || s.Max != nil || s.Gamma != nil || s.Method != "" {
				return nil, fieldErr("rate", "give either rate or min/mode/max for a PERT rate, not both")
			}
			if err := finite("rate", *s.Rate); err != nil {
				return nil, err
			}
			if *s.Rate < 0 || *s.Rate > MaxRate {
				return nil, fieldErr("rate", fmt.Sprintf("must be between 0 and %g, got %g", float64(MaxRate), *s.Rate))
			}
			return Poisson{Rate: *s.Rate}, nil
		}
		if s.Min == nil && s.Mode == nil && s.Max == nil {
			return nil, fieldErr("rate", "missing; give rate, or min/mode/max for a PERT rate")
		}
		d, err := s.buildPERT(true)
		if err != nil {
			return nil, err
		}
		if c, ok := d.(Constant); ok {
			return Poisson{Rate: c.V}, nil
		}
		return PoissonPERT{RateDist: d.(*PERT)}, nil
	case KindUniform:
		if err := need(map[string]*float64{"min": s.Min, "max": s.Max}); err != nil {
			return nil, err
		}
		if *s.Max < *s.Min {
			return nil, fieldErr("max", fmt.Sprintf("must be >= min (%g), got %g", *s.Min, *s.Max))
		}
		if *s.Max == *s.Min {
			return Constant{V: *s.Min}, nil
		}
		return Uniform{A: *s.Min, B: *s.Max}, nil
	case KindNormal:
		if err := need(map[string]*float64{"mean": s.Mean, "sd": s.SD}); err != nil {
			return nil, err
		}
		lo, hi := math.Inf(-1), math.Inf(1)
		if s.Min != nil {
			if err := finite("min", *s.Min); err != nil {
				return nil, err
			}
			lo = *s.Min
		}
		if s.Max != nil {
			if err := finite("max", *s.Max); err != nil {
				return nil, err
			}
			hi = *s.Max
		}
		if *s.SD < 0 {
			return nil, fieldErr("sd", fmt.Sprintf("must be >= 0, got %g", *s.SD))
		}
		if !(hi > lo) {
			return nil, fieldErr("max", fmt.Sprintf("must be greater than min (%g), got %g", lo, hi))
		}
		if *s.SD == 0 {
			if *s.Mean < lo || *s.Mean > hi {
				return nil, fieldErr("mean", fmt.Sprintf("%g lies outside [min, max] with sd 0", *s.Mean))
			}
			return Constant{V: *s.Mean}, nil
		}
		n := NewNormal(*s.Mean, *s.SD, lo, hi)
		if !(n.z > 1e-12) {
			return nil, fieldErr("min", "the truncation interval [min, max] holds almost none of the normal's mass (< 1e-12); check mean, sd and bounds")
		}
		return n, nil
	default: // KindConstant
		if err := need(map[string]*float64{"value": s.Value}); err != nil {
			return nil, err
		}
		return Constant{V: *s.Value}, nil
	}
}

// buildPERT validates min/mode/max/gamma/method; a rate must not go below 0.
func (s *Spec) buildPERT(rate bool) (Dist, error) {
	if err := need(map[string]*float64{"min": s.Min, "mode": s.Mode, "max": s.Max}); err != nil {
		return nil, err
	}
	min, mode, max := *s.Min, *s.Mode, *s.Max
	if rate && min < 0 {
		return nil, fieldErr("min", fmt.Sprintf("must be >= 0 for a rate, got %g", min))
	}
	if rate && max > MaxRate {
		return nil, fieldErr("max", fmt.Sprintf("must be at most %g for a rate, got %g", float64(MaxRate), max))
	}
	if max < min {
		return nil, fieldErr("max", fmt.Sprintf("must be >= min (%g), got %g", min, max))
	}
	if mode < min || mode > max {
		return nil, fieldErr("mode", fmt.Sprintf("must lie in [min, max] = [%g, %g], got %g", min, max, mode))
	}
	g := float64(DefaultGamma)
	if s.Gamma != nil {
		g = *s.Gamma
		if err := finite("gamma", g); err != nil {
			return nil, err
		}
		if !(g > 0 && g <= MaxGamma) {
			return nil, fieldErr("gamma", fmt.Sprintf("must be > 0 and at most %d, got %g", MaxGamma, g))
		}
	}
	switch s.Method {
	case "", PERTModified, PERTPyfair:
	default:
		return nil, fieldErr("method", fmt.Sprintf(`unknown PERT method %q; "modified" (default) or "pyfair"`, s.Method))
	}
	if min == max {
		return Constant{V: min}, nil
	}
	return NewPERT(min, mode, max, g, s.Method), nil
}

// checkPresent rejects parameters that the distribution does not use, and
// non-finite values (possible from Go callers, not from JSON).
func (s *Spec) checkPresent(allowed []string) error {
	fields := []struct {
		name string
		v    *float64
	}{{"min", s.Min}, {"mode", s.Mode}, {"max", s.Max}, {"gamma", s.Gamma}, {"low", s.Low},
		{"high", s.High}, {"ci", s.CI}, {"rate", s.Rate}, {"mean", s.Mean}, {"sd", s.SD}, {"value", s.Value}}
	ok := func(n string) bool {
		for _, a := range allowed {
			if a == n {
				return true
			}
		}
		return false
	}
	for _, f := range fields {
		if f.v == nil {
			continue
		}
		if !ok(f.name) {
			return fieldErr(f.name, fmt.Sprintf("not a parameter of %q", s.Dist))
		}
		if err := finite(f.name, *f.v); err != nil {
			return err
		}
	}
	if s.Method != "" && !ok("method") {
		return fieldErr("method", fmt.Sprintf("not a parameter of %q", s.Dist))
	}
	return nil
}

func need(m map[string]*float64) error {
	for _, n := range []string{"min", "mode", "max", "low", "high", "mean", "sd", "value"} {
		if v, ok := m[n]; ok && v == nil {
			return fieldErr(n, "missing")
		}
	}
	return nil
}

func finite(name string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fieldErr(name, "must be a finite number")
	}
	return nil
}

// Truncate returns a copy of s for use where values must lie in [lo, hi]
// (magnitudes >= 0, probabilities in [0, 1]): a normal without its own
// bound on a side gets the domain's bound there. Other kinds are unchanged
// and are checked against the domain by the caller.
func (s Spec) Truncate(lo, hi float64) Spec {
	if s.Dist != KindNormal {
		return s
	}
	if s.Min == nil && !math.IsInf(lo, -1) {
		s.Min = F(lo)
	}
	if s.Max == nil && !math.IsInf(hi, 1) {
		s.Max = F(hi)
	}
	return s
}
