// Package fair runs Open FAIR quantitative risk analyses by Monte Carlo.
//
// A Model is what the analyst states: loss event frequency (directly, or
// threat event frequency × vulnerability, where vulnerability is a number, a
// distribution, or P(threat capability > resistance strength)), primary loss
// magnitude per event, and optionally secondary loss (a per-event probability
// and its magnitude). Simulate turns it into annual loss exposure (ALE)
// figures. Models decode from JSON with the same field names the CLI and the
// HTTP API use, and Validate names the field at fault.
//
// Two aggregations are offered because they answer different questions and
// share only their mean (see risk-methods.md §1.6):
//
//   - per-event (default): each year draws N ~ Poisson(LEF) loss events and
//     one magnitude per event, summed — the compound loss riskquant and
//     evaluator simulate, with real zero-loss years and realistic tails;
//   - per-year: ALE = LEF × one magnitude draw per iteration, as pyfair does.
package fair

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"

	"vigil/internal/risk/dist"
)

// Aggregation chooses how loss events become an annual loss.
type Aggregation string

const (
	PerEvent Aggregation = "per-event"
	PerYear  Aggregation = "per-year"
)

// Model is an Open FAIR scenario.
type Model struct {
	// Frequency is the loss event frequency (events a year). Give it, or
	// TEF with Vulnerability, not both.
	Frequency *dist.Spec `json:"frequency,omitempty"`
	// TEF is the threat event frequency (events a year).
	TEF *dist.Spec `json:"tef,omitempty"`
	// Vulnerability is the probability a threat event becomes a loss event.
	Vulnerability *Vulnerability `json:"vulnerability,omitempty"`
	// Magnitude is the primary loss per loss event.
	Magnitude *dist.Spec `json:"magnitude"`
	// Secondary is the optional secondary loss.
	Secondary *Secondary `json:"secondary,omitempty"`
	// Aggregation is PerEvent (default) or PerYear.
	Aggregation Aggregation `json:"aggregation,omitempty"`
	// LECThresholds are the annual losses at which to report P(ALE > x). When
	// empty, a 1-2-5 series spanning the simulated losses is used.
	LECThresholds []float64 `json:"lec_thresholds,omitempty"`
}

// Secondary is secondary loss: Frequency is the probability that a primary
// loss event also causes secondary stakeholder reactions (Open FAIR SLEF, a
// value in [0, 1]); Magnitude is the secondary loss when it does.
type Secondary struct {
	Frequency *dist.Spec `json:"frequency"`
	Magnitude *dist.Spec `json:"magnitude"`
}

// Vulnerability is given one of three ways: a number in [0, 1]
// (`"vulnerability": 0.3`), a distribution over [0, 1] drawn once per
// simulated year (`{"dist":"pert",…}`), or threat capability against
// resistance strength on a common scale
// (`{"threat_capability":{…},"resistance_strength":{…}}`), whose value is
// computed exactly as P(TCap > RS), strict, so ties are no loss.
type Vulnerability struct {
	Value              *float64
	Dist               *dist.Spec
	ThreatCapability   *dist.Spec `json:"threat_capability,omitempty"`
	ResistanceStrength *dist.Spec `json:"resistance_strength,omitempty"`
}

// UnmarshalJSON accepts the three forms; unknown fields are errors.
func (v *Vulnerability) UnmarshalJSON(b []byte) error {
	*v = Vulnerability{}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] != '{' {
		var x float64
		if err := json.Unmarshal(b, &x); err != nil {
			return &dist.FieldError{Field: "vulnerability", Problem: "must be a number or an object"}
		}
		v.Value = &x
		return nil
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	_, tc := keys["threat_capability"]
	_, rs := keys["resistance_strength"]
	if tc || rs {
		var p struct {
			ThreatCapability   *dist.Spec `json:"threat_capability"`
			ResistanceStrength *dist.Spec `json:"resistance_strength"`
		}
		if err := strictDecode(b, &p); err != nil {
			return vulnError(err)
		}
		v.ThreatCapability, v.ResistanceStrength = p.ThreatCapability, p.ResistanceStrength
		return nil
	}
	var s dist.Spec
	if err := strictDecode(b, &s); err != nil {
		return vulnError(err)
	}
	v.Dist = &s
	return nil
}

// vulnError names the field of a nested type error, which encoding/json
// does not do for errors returned by UnmarshalJSON. Unknown-field errors
// pass through unchanged so a decoder that locates them in the document
// (riskcli.Decode) can give their full path.
func vulnError(err error) error {
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field ") {
		return err
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return &dist.FieldError{Field: "vulnerability." + te.Field, Problem: "wrong JSON type " + te.Value}
	}
	return &dist.FieldError{Field: "vulnerability", Problem: strings.TrimPrefix(msg, "json: ")}
}

// MarshalJSON writes the form that was given.
func (v Vulnerability) MarshalJSON() ([]byte, error) {
	switch {
	case v.Value != nil:
		return json.Marshal(*v.Value)
	case v.Dist != nil:
		return json.Marshal(v.Dist)
	}
	return json.Marshal(struct {
		ThreatCapability   *dist.Spec `json:"threat_capability,omitempty"`
		ResistanceStrength *dist.Spec `json:"resistance_strength,omitempty"`
	}{v.ThreatCapability, v.ResistanceStrength})
}

func strictDecode(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// MaxThresholds bounds lec_thresholds so a request cannot ask for an
// unbounded amount of work per iteration.
const MaxThresholds = 1000

// compiled is a validated model with its distributions built.
type compiled struct {
	lef, tef      dist.Dist
	lefR, tefR    dist.Rated // count inputs: draw their rate, then the count
	vConst        float64
	vDist         dist.Dist
	pl, slef, slm dist.Dist
	agg           Aggregation
	thresholds    []float64
	counts        *dist.CountTable // per-event: N drawn from its tabulated mixture
	runaway       atomic.Bool      // a year exceeded yearCap
	yearCap       float64          // most loss events one simulated year may draw
}

// Validate checks the model and reports the first problem by field path.
func (m *Model) Validate() error {
	_, err := m.compile()
	return err
}

func (m *Model) compile() (*compiled, error) {
	c := &compiled{agg: m.Aggregation}
	switch m.Aggregation {
	case "":
		c.agg = PerEvent
	case PerEvent, PerYear:
	default:
		return nil, &dist.FieldError{Field: "aggregation", Problem: fmt.Sprintf(`unknown aggregation %q; "per-event" or "per-year"`, m.Aggregation)}
	}
	var err error
	switch {
	case m.Frequency != nil && m.TEF != nil:
		return nil, &dist.FieldError{Field: "tef", Problem: "give frequency (loss event frequency) or tef with vulnerability, not both"}
	case m.Frequency != nil:
		if m.Vulnerability != nil {
			return nil, &dist.FieldError{Field: "vulnerability", Problem: "applies only with tef; frequency is already the loss event frequency"}
		}
		if c.lef, err = build("frequency", m.Frequency, 0, math.Inf(1)); err != nil {
			return nil, err
		}
		c.lefR, _ = c.lef.(dist.Rated)
	case m.TEF != nil:
		if c.tef, err = build("tef", m.TEF, 0, math.Inf(1)); err != nil {
			return nil, err
		}
		c.tefR, _ = c.tef.(dist.Rated)
		if m.Vulnerability == nil {
			return nil, &dist.FieldError{Field: "vulnerability", Problem: "missing; required with tef"}
		}
		if err := c.compileVuln(m.Vulnerability); err != nil {
			return nil, err
		}
	default:
		return nil, &dist.FieldError{Field: "frequency", Problem: "missing; give frequency, or tef with vulnerability"}
	}
	if m.Magnitude == nil {
		return nil, &dist.FieldError{Field: "magnitude", Problem: "missing"}
	}
	if c.pl, err = build("magnitude", m.Magnitude, 0, math.Inf(1)); err != nil {
		return nil, err
	}
	if s := m.Secondary; s != nil {
		if s.Frequency == nil {
			return nil, &dist.FieldError{Field: "secondary.frequency", Problem: "missing"}
		}
		if s.Magnitude == nil {
			return nil, &dist.FieldError{Field: "secondary.magnitude", Problem: "missing"}
		}
		if c.slef, err = build("secondary.frequency", s.Frequency, 0, 1); err != nil {
			return nil, err
		}
		if c.slm, err = build("secondary.magnitude", s.Magnitude, 0, math.Inf(1)); err != nil {
			return nil, err
		}
	}
	if len(m.LECThresholds) > MaxThresholds {
		return nil, &dist.FieldError{Field: "lec_thresholds", Problem: fmt.Sprintf("at most %d thresholds", MaxThresholds)}
	}
	for i, t := range m.LECThresholds {
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, &dist.FieldError{Field: fmt.Sprintf("lec_thresholds[%d]", i), Problem: "must be a finite number"}
		}
	}
	c.thresholds = m.LECThresholds
	if c.agg == PerEvent {
		c.counts = c.countTable()
	}
	return c, nil
}

// countTable tabulates the annual loss event count when it is a Poisson
// mixture over one bounded rate distribution (the usual PERT TEF or LEF
// with a fixed vulnerability); otherwise counts are drawn rate first.
func (c *compiled) countTable() *dist.CountTable {
	rateOf := func(d dist.Dist) dist.Dist {
		switch r := d.(type) {
		case dist.Poisson:
			return dist.Constant{V: r.Rate}
		case dist.PoissonPERT:
			return r.RateDist
		}
		return d
	}
	var t *dist.CountTable
	var ok bool
	switch {
	case c.lef != nil:
		t, ok = dist.NewCountTable(rateOf(c.lef), 1)
	case c.vDist == nil:
		t, ok = dist.NewCountTable(rateOf(c.tef), c.vConst)
	}
	if !ok {
		return nil
	}
	return t
}

func (c *compiled) compileVuln(v *Vulnerability) error {
	n := 0
	if v.Value != nil {
		n++
	}
	if v.Dist != nil {
		n++
	}
	if v.ThreatCapability != nil || v.ResistanceStrength != nil {
		n++
	}
	if n != 1 {
		return &dist.FieldError{Field: "vulnerability", Problem: "give a number, a distribution, or threat_capability with resistance_strength"}
	}
	switch {
	case v.Value != nil:
		x := *v.Value
		if !(x >= 0 && x <= 1) {
			return &dist.FieldError{Field: "vulnerability", Problem: fmt.Sprintf("must be a probability in [0, 1], got %g", x)}
		}
		c.vConst = x
	case v.Dist != nil:
		d, err := build("vulnerability", v.Dist, 0, 1)
		if err != nil {
			return err
		}
		if k, ok := d.(dist.Constant); ok {
			c.vConst = k.V
		} else {
			c.vDist = d
		}
	default:
		if v.ThreatCapability == nil {
			return &dist.FieldError{Field: "vulnerability.threat_capability", Problem: "missing; required with resistance_strength"}
		}
		if v.ResistanceStrength == nil {
			return &dist.FieldError{Field: "vulnerability.resistance_strength", Problem: "missing; required with threat_capability"}
		}
		inf := math.Inf(1)
		tc, err := build("vulnerability.threat_capability", v.ThreatCapability, -inf, inf)
		if err != nil {
			return err
		}
		rs, err := build("vulnerability.resistance_strength", v.ResistanceStrength, -inf, inf)
		if err != nil {
			return err
		}
		c.vConst = dist.PGreater(tc, rs)
	}
	return nil
}

// build validates a distribution for a node whose values must lie in
// [lo, hi]; normals are truncated to that domain rather than rejected.
func build(field string, s *dist.Spec, lo, hi float64) (dist.Dist, error) {
	t := s.Truncate(lo, hi)
	d, err := t.Build()
	if err != nil {
		return nil, dist.Prefix(field, err)
	}
	a, b := d.Support()
	if a < lo || b > hi {
		what := "must not be negative"
		if hi == 1 {
			what = "must lie in [0, 1] (a probability)"
		}
		return nil, &dist.FieldError{Field: field, Problem: fmt.Sprintf("%s, but this %s ranges over [%g, %g]", what, d.Kind(), a, b)}
	}
	if p, ok := d.(*dist.PERT); ok {
		p.Prepare()
	}
	if p, ok := d.(dist.PoissonPERT); ok {
		p.RateDist.Prepare()
	}
	return d, nil
}

// meanLEF is E[loss event frequency].
func (c *compiled) meanLEF() float64 {
	if c.lef != nil {
		return c.lef.Mean()
	}
	return c.tef.Mean() * c.vulnMean()
}

func (c *compiled) vulnMean() float64 {
	if c.vDist != nil {
		return c.vDist.Mean()
	}
	return c.vConst
}

// exactMean is E[ALE] = E[LEF]·(E[PL] + E[SLEF]·E[SLM]), the same in both
// aggregations because every draw is independent of the others.
func (c *compiled) exactMean() float64 {
	per := c.pl.Mean()
	if c.slef != nil {
		per += c.slef.Mean() * c.slm.Mean()
	}
	return c.meanLEF() * per
}
