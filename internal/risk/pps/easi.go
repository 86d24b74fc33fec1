// Package pps evaluates physical protection systems the Sandia way: EASI
// (Estimate of Adversary Sequence Interruption) for one adversary path, the
// deterministic critical-detection-point method, and path analysis on an
// adversary sequence diagram (minimum detection, minimum delay and most
// vulnerable paths). Conventions follow risk-methods.md §2–3.
//
// Inputs are plain structs that decode from the same JSON the CLI and the
// HTTP API accept; each has a Validate method naming the field at fault.
package pps

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// FieldError is an invalid input, named by its JSON path
// ("elements[2].p_detection").
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, a...)}
}

// Location is where along an element's task detection happens: at the
// beginning (B), the middle (M) or the end (E). Only the part of the
// element's delay after detection still counts towards the response.
type Location string

const (
	Beginning Location = "B"
	Middle    Location = "M"
	End       Location = "E"
)

// UnmarshalJSON accepts B/M/E in either case and the words
// beginning/middle/end.
func (l *Location) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf(`location must be "B", "M" or "E"`)
	}
	switch strings.ToLower(s) {
	case "b", "beginning", "begin":
		*l = Beginning
	case "m", "middle", "mid":
		*l = Middle
	case "e", "end":
		*l = End
	default:
		*l = Location(s) // reported by Validate with the field's path
	}
	return nil
}

// weight is the share of the element's own delay remaining after detection:
// 1, 0.5, 0. Its variance is weighted by the square (a scaled normal).
func (l Location) weight() (float64, bool) {
	switch l {
	case Beginning:
		return 1, true
	case Middle:
		return 0.5, true
	case End:
		return 0, true
	}
	return 0, false
}

// Normal is a time in seconds: mean and standard deviation. Garcia's rule
// of thumb when no data exist is sd = 30 % of the mean.
type Normal struct {
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
}

func (n Normal) validate(field string) error {
	if !finite(n.Mean) || n.Mean < 0 {
		return fieldErr(field+".mean", "must be a finite number >= 0, got %g", n.Mean)
	}
	if !finite(n.SD) || n.SD < 0 {
		return fieldErr(field+".sd", "must be a finite number >= 0, got %g", n.SD)
	}
	return nil
}

// Element is one step of an adversary path (a fence, a door, a run).
type Element struct {
	Name string `json:"name"`
	// PDetection is P(sense) × P(alarm communication) × P(assessment).
	PDetection float64  `json:"p_detection"`
	Location   Location `json:"location"`
	Delay      Normal   `json:"delay"`
}

// valid is validate's fast path for large diagrams: no field names built.
func (e Element) valid() bool {
	_, ok := e.Location.weight()
	return ok && e.PDetection >= 0 && e.PDetection <= 1 && finite(e.Delay.Mean) && e.Delay.Mean >= 0 &&
		finite(e.Delay.SD) && e.Delay.SD >= 0
}

func (e Element) validate(field string) error {
	if err := probability(field+".p_detection", e.PDetection); err != nil {
		return err
	}
	if _, ok := e.Location.weight(); !ok {
		return fieldErr(field+".location", `must be "B", "M" or "E", got %q`, string(e.Location))
	}
	return e.Delay.validate(field + ".delay")
}

// Path is an EASI input: the adversary's elements in order, the response
// force time from alarm to interruption, and the guard communication
// probability.
type Path struct {
	Elements          []Element `json:"elements"`
	ResponseForceTime Normal    `json:"response_force_time"`
	// PCommunication is P(C), one factor on the whole sum (Garcia/EASI).
	PCommunication *float64 `json:"p_communication"`
	// PNeutralization is P(N | interruption); absent means 1, so
	// P(E) = P(I).
	PNeutralization *float64 `json:"p_neutralization,omitempty"`
	// Consequence, when given, yields the Sandia conditional risk
	// (1 − P(E)) × C.
	Consequence *float64 `json:"consequence,omitempty"`
}

// MaxElements bounds a path's length for API callers.
const MaxElements = 100_000

// Validate reports the first problem by field path.
func (p *Path) Validate() error {
	if len(p.Elements) == 0 {
		return fieldErr("elements", "missing; a path needs at least one element")
	}
	if len(p.Elements) > MaxElements {
		return fieldErr("elements", "at most %d elements", MaxElements)
	}
	for i, e := range p.Elements {
		if err := e.validate(fmt.Sprintf("elements[%d]", i)); err != nil {
			return err
		}
	}
	return validateCommon(p.ResponseForceTime, p.PCommunication, p.PNeutralization, p.Consequence)
}

func validateCommon(rft Normal, pc, pn, c *float64) error {
	if err := rft.validate("response_force_time"); err != nil {
		return err
	}
	if pc == nil {
		return fieldErr("p_communication", "missing")
	}
	if err := probability("p_communication", *pc); err != nil {
		return err
	}
	if pn != nil {
		if err := probability("p_neutralization", *pn); err != nil {
			return err
		}
	}
	if c != nil && (!finite(*c) || *c < 0) {
		return fieldErr("consequence", "must be a finite number >= 0, got %g", *c)
	}
	return nil
}

func probability(field string, p float64) error {
	if !(p >= 0 && p <= 1) {
		return fieldErr(field, "must be a probability in [0, 1], got %g", p)
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// ElementResult is EASI's per-element breakdown.
type ElementResult struct {
	Name string `json:"name"`
	// PFirstDetection is P(D_i) Π_{j<i} (1 − P(D_j)).
	PFirstDetection float64 `json:"p_first_detection"`
	// PResponseGivenAlarm is P(RFT < remaining time | first alarm here).
	PResponseGivenAlarm   float64 `json:"p_response_given_alarm"`
	RemainingTimeMean     float64 `json:"remaining_time_mean"`
	RemainingTimeVariance float64 `json:"remaining_time_variance"`
}

// CriticalDetectionPoint is the deterministic (all sd = 0) method: the last
// element whose detection is still timely (remaining delay >= response
// time, equality counting as timely), and P(I) = P(C)·(1 − Π_{i<=CDP}(1 − P(D_i))).
type CriticalDetectionPoint struct {
	// Index is the CDP's position in the path, −1 when no detection is
	// timely (then P(I) = 0).
	Index         int     `json:"index"`
	Name          string  `json:"name"`
	PInterruption float64 `json:"p_interruption"`
}

// Result is EASI's output for one path.
type Result struct {
	PInterruption   float64 `json:"p_interruption"`
	PNeutralization float64 `json:"p_neutralization"`
	// PEffectiveness is P(I)·P(N).
	PEffectiveness float64 `json:"p_effectiveness"`
	// ConditionalRisk is (1 − P(E))·C when a consequence was given.
	ConditionalRisk        *float64                `json:"conditional_risk,omitempty"`
	Elements               []ElementResult         `json:"elements"`
	CriticalDetectionPoint *CriticalDetectionPoint `json:"critical_detection_point,omitempty"`
}

// EASI evaluates the path:
//
//	P(I) = P(C) Σ_i P(D_i) Π_{j<i}(1 − P(D_j)) P(R | A_i)
//	P(R | A_i) = Φ((E[T_rem,i] − μ_R) / sqrt(Var[T_rem,i] + σ_R²))
//	T_rem,i = w_i T_i + Σ_{k>i} T_k, w = 1, 0.5, 0 for B, M, E
//
// With zero total variance P(R | A_i) is a step: 1 if the remaining time
// exceeds the response time, 0 if it falls short, 0.5 (Φ(0)) on a tie.
func EASI(p *Path) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	n := len(p.Elements)
	res := &Result{Elements: make([]ElementResult, n), PNeutralization: 1}
	if p.PNeutralization != nil {
		res.PNeutralization = *p.PNeutralization
	}
	// Suffix sums of later elements' delays.
	var sufMean, sufVar float64
	for i := n - 1; i >= 0; i-- {
		e := p.Elements[i]
		w, _ := e.Location.weight()
		er := &res.Elements[i]
		er.Name = e.Name
		er.RemainingTimeMean = w*e.Delay.Mean + sufMean
		er.RemainingTimeVariance = w*w*e.Delay.SD*e.Delay.SD + sufVar
		er.PResponseGivenAlarm = pResponse(er.RemainingTimeMean, er.RemainingTimeVariance, p.ResponseForceTime)
		sufMean += e.Delay.Mean
		sufVar += e.Delay.SD * e.Delay.SD
	}
	miss := 1.0 // P(no detection before i)
	sum := 0.0
	for i, e := range p.Elements {
		er := &res.Elements[i]
		er.PFirstDetection = e.PDetection * miss
		sum += er.PFirstDetection * er.PResponseGivenAlarm
		miss *= 1 - e.PDetection
	}
	res.PInterruption = *p.PCommunication * sum
	res.PEffectiveness = res.PInterruption * res.PNeutralization
	if p.Consequence != nil {
		r := (1 - res.PEffectiveness) * *p.Consequence
		res.ConditionalRisk = &r
	}
	if deterministic(p) {
		res.CriticalDetectionPoint = cdp(p, res.Elements)
	}
	return res, nil
}

func pResponse(remMean, remVar float64, rft Normal) float64 {
	m := remMean - rft.Mean
	v := remVar + rft.SD*rft.SD
	if v == 0 {
		switch {
		case m > 0:
			return 1
		case m < 0:
			return 0
		}
		return 0.5
	}
	return 0.5 * math.Erfc(-m/math.Sqrt(2*v))
}

func deterministic(p *Path) bool {
	if p.ResponseForceTime.SD != 0 {
		return false
	}
	for _, e := range p.Elements {
		if e.Delay.SD != 0 {
			return false
		}
	}
	return true
}

func cdp(p *Path, er []ElementResult) *CriticalDetectionPoint {
	c := &CriticalDetectionPoint{Index: -1}
	for i := range er {
		if er[i].RemainingTimeMean >= p.ResponseForceTime.Mean {
			c.Index = i
		}
	}
	if c.Index < 0 {
		return c
	}
	c.Name = p.Elements[c.Index].Name
	miss := 1.0
	for _, e := range p.Elements[:c.Index+1] {
		miss *= 1 - e.PDetection
	}
	c.PInterruption = *p.PCommunication * (1 - miss)
	return c
}

// strictDecode is shared by the JSON helpers.
func strictDecode(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}
