package matrix

import (
	"cmp"
	"fmt"
	"slices"
)

// Scale bounds each factor of a semi-quantitative score.
type Scale struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// FEMAScale is FEMA 426/452's 1–10 rating scale.
var FEMAScale = Scale{Min: 1, Max: 10}

// FEMABands are FEMA 426 Table 1-19's total-risk colour bands for
// asset value × threat × vulnerability on 1–10 scales. The band edges are
// recalled, not re-verified (risk-methods.md §4.4); configure your own if
// your programme defines them.
func FEMABands() Bands {
	return Bands{{Min: 1, Max: 60, Rating: "low"}, {Min: 61, Max: 175, Rating: "medium"}, {Min: 176, Max: 1000, Rating: "high"}}
}

// TVC is one threat × vulnerability × consequence assessment (FEMA's asset
// value × threat rating × vulnerability rating, or RAMCAP's T × V × C).
type TVC struct {
	Name          string  `json:"name"`
	Threat        float64 `json:"threat"`
	Vulnerability float64 `json:"vulnerability"`
	Consequence   float64 `json:"consequence"`
}

// TVCResult is a scored assessment.
type TVCResult struct {
	TVC
	Score  float64 `json:"score"`
	Rating string  `json:"rating,omitempty"`
}

// ScoreTVC scores each item as T × V × C, checks every factor against the
// scale, rates the score with bands when given, and returns the items
// highest score first (ties by name). Cox (2008) shows the product can
// rank risks wrongly when factors are correlated; present it as a screen.
func ScoreTVC(items []TVC, scale Scale, bands Bands) ([]TVCResult, error) {
	if !(scale.Min < scale.Max) {
		return nil, fieldErr("scale.max", "must be greater than min")
	}
	if bands != nil {
		if err := bands.Validate(); err != nil {
			return nil, err
		}
	}
	out := make([]TVCResult, len(items))
	for i, it := range items {
		f := fmt.Sprintf("items[%d]", i)
		for _, x := range []struct {
			name string
			v    float64
		}{{"threat", it.Threat}, {"vulnerability", it.Vulnerability}, {"consequence", it.Consequence}} {
			if !(x.v >= scale.Min && x.v <= scale.Max) {
				return nil, fieldErr(f+"."+x.name, "must lie in [%g, %g], got %g", scale.Min, scale.Max, x.v)
			}
		}
		r := TVCResult{TVC: it, Score: it.Threat * it.Vulnerability * it.Consequence}
		if bands != nil {
			b, err := bands.Classify(r.Score)
			if err != nil {
				return nil, fieldErr(f, "score %g lies outside the bands", r.Score)
			}
			r.Rating = b.Rating
		}
		out[i] = r
	}
	slices.SortStableFunc(out, func(a, b TVCResult) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return out, nil
}

// CarverShock scores a food-defence (or any) target on CARVER + Shock's
// seven attributes, each 1–10 where higher means more attractive to an
// attacker (FDA/USDA primer).
type CarverShock struct {
	Criticality     int `json:"criticality"`
	Accessibility   int `json:"accessibility"`
	Recuperability  int `json:"recuperability"`
	Vulnerability   int `json:"vulnerability"`
	Effect          int `json:"effect"`
	Recognizability int `json:"recognizability"`
	Shock           int `json:"shock"`
}

// Validate checks each attribute is in 1–10.
func (c CarverShock) Validate() error {
	for _, a := range c.attributes() {
		if a.v < 1 || a.v > 10 {
			return fieldErr(a.name, "must be 1 to 10, got %d", a.v)
		}
	}
	return nil
}

func (c CarverShock) attributes() []struct {
	name string
	v    int
} {
	return []struct {
		name string
		v    int
	}{{"criticality", c.Criticality}, {"accessibility", c.Accessibility}, {"recuperability", c.Recuperability},
		{"vulnerability", c.Vulnerability}, {"effect", c.Effect}, {"recognizability", c.Recognizability}, {"shock", c.Shock}}
}

// Total is the node score, the sum of the seven attributes (7–70).
func (c CarverShock) Total() int {
	t := 0
	for _, a := range c.attributes() {
		t += a.v
	}
	return t
}

// CarverNode is a named process step or asset with its scores.
type CarverNode struct {
	Name   string      `json:"name"`
	Scores CarverShock `json:"scores"`
}

// CarverResult is a ranked node.
type CarverResult struct {
	CarverNode
	Total int `json:"total"`
	Rank  int `json:"rank"`
}

// RankCarver validates the nodes and ranks them most attractive first;
// equal totals share a rank (1, 2, 2, 4) and are listed by name.
func RankCarver(nodes []CarverNode) ([]CarverResult, error) {
	out := make([]CarverResult, len(nodes))
	for i, n := range nodes {
		f := fmt.Sprintf("nodes[%d]", i)
		if n.Name == "" {
			return nil, fieldErr(f+".name", "missing")
		}
		if err := n.Scores.Validate(); err != nil {
			fe := err.(*FieldError)
			return nil, fieldErr(f+".scores."+fe.Field, "%s", fe.Problem)
		}
		out[i] = CarverResult{CarverNode: n, Total: n.Scores.Total()}
	}
	slices.SortStableFunc(out, func(a, b CarverResult) int {
		if c := cmp.Compare(b.Total, a.Total); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	for i := range out {
		out[i].Rank = i + 1
		if i > 0 && out[i].Total == out[i-1].Total {
			out[i].Rank = out[i-1].Rank
		}
	}
	return out, nil
}
