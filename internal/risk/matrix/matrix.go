// Package matrix holds the qualitative and semi-quantitative risk methods:
// configurable likelihood × consequence matrices, score bands, threat ×
// vulnerability × consequence scoring and CARVER+Shock target ranking.
//
// ISO 31000 and IEC 31010 prescribe no particular matrix, so every scale,
// label, colour and cell is configuration; AS4360 is the common 5×5
// pattern as a starting point. Matrices are ordinal: the help text should
// cite Cox (2008), "What's wrong with risk matrices?".
package matrix

import (
	"fmt"
	"regexp"
)

// FieldError is an invalid configuration, named by its JSON path.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, a...)}
}

// Level is one step of a likelihood or consequence scale. Levels are listed
// from least to most severe. MinProbability and MaxProbability optionally
// anchor a likelihood level to an annual probability band [min, max), so a
// quantitative estimate can be placed on the matrix.
type Level struct {
	Label          string   `json:"label"`
	Description    string   `json:"description,omitempty"`
	MinProbability *float64 `json:"min_probability,omitempty"`
	MaxProbability *float64 `json:"max_probability,omitempty"`
}

// Rating is a cell's verdict (Low, Extreme, …) with its display colour,
// its priority (1 = most urgent) and the action it calls for.
type Rating struct {
	ID       string `json:"id"`
	Label    string `json:"label"`
	Colour   string `json:"colour"`
	Priority int    `json:"priority"`
	Action   string `json:"action,omitempty"`
}

// Matrix is a likelihood × consequence matrix of any size.
type Matrix struct {
	Name        string  `json:"name"`
	Likelihood  []Level `json:"likelihood"`
	Consequence []Level `json:"consequence"`
	// Cells[l][c] is the rating ID for likelihood level l and consequence
	// level c (both counted from least severe).
	Cells   [][]string `json:"cells"`
	Ratings []Rating   `json:"ratings"`
}

// MaxLevels bounds a scale's length.
const MaxLevels = 20

var colourRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Validate reports the first problem by field path.
func (m *Matrix) Validate() error {
	if err := validateLevels("likelihood", m.Likelihood, true); err != nil {
		return err
	}
	if err := validateLevels("consequence", m.Consequence, false); err != nil {
		return err
	}
	if len(m.Ratings) == 0 {
		return fieldErr("ratings", "missing")
	}
	ids := map[string]bool{}
	for i, r := range m.Ratings {
		f := fmt.Sprintf("ratings[%d]", i)
		if r.ID == "" {
			return fieldErr(f+".id", "missing")
		}
		if ids[r.ID] {
			return fieldErr(f+".id", "duplicate rating %q", r.ID)
		}
		ids[r.ID] = true
		if r.Label == "" {
			return fieldErr(f+".label", "missing")
		}
		if !colourRE.MatchString(r.Colour) {
			return fieldErr(f+".colour", `must be "#rrggbb", got %q`, r.Colour)
		}
		if r.Priority < 1 {
			return fieldErr(f+".priority", "must be >= 1, got %d", r.Priority)
		}
	}
	if len(m.Cells) != len(m.Likelihood) {
		return fieldErr("cells", "needs %d rows (one per likelihood level), got %d", len(m.Likelihood), len(m.Cells))
	}
	for l, row := range m.Cells {
		if len(row) != len(m.Consequence) {
			return fieldErr(fmt.Sprintf("cells[%d]", l), "needs %d entries (one per consequence level), got %d", len(m.Consequence), len(row))
		}
		for c, id := range row {
			if !ids[id] {
				return fieldErr(fmt.Sprintf("cells[%d][%d]", l, c), "unknown rating %q", id)
			}
		}
	}
	return nil
}

func validateLevels(field string, ls []Level, probabilities bool) error {
	if len(ls) < 2 || len(ls) > MaxLevels {
		return fieldErr(field, "needs 2 to %d levels, got %d", MaxLevels, len(ls))
	}
	seen := map[string]bool{}
	prevMax := -1.0
	for i, l := range ls {
		f := fmt.Sprintf("%s[%d]", field, i)
		if l.Label == "" {
			return fieldErr(f+".label", "missing")
		}
		if seen[l.Label] {
			return fieldErr(f+".label", "duplicate label %q", l.Label)
		}
		seen[l.Label] = true
		if !probabilities && (l.MinProbability != nil || l.MaxProbability != nil) {
			return fieldErr(f+".min_probability", "probability anchors apply to likelihood levels only")
		}
		if (l.MinProbability == nil) != (l.MaxProbability == nil) {
			return fieldErr(f+".max_probability", "give both min_probability and max_probability, or neither")
		}
		if l.MinProbability != nil {
			lo, hi := *l.MinProbability, *l.MaxProbability
			if !(lo >= 0 && hi <= 1 && lo < hi) {
				return fieldErr(f+".min_probability", "need 0 <= min < max <= 1, got [%g, %g)", lo, hi)
			}
			if prevMax >= 0 && lo != prevMax {
				return fieldErr(f+".min_probability", "must equal the previous level's max_probability %g (bands must be contiguous)", prevMax)
			}
			prevMax = hi
		}
	}
	return nil
}

// Rate returns the rating of likelihood level l and consequence level c
// (0-based, least severe first).
func (m *Matrix) Rate(l, c int) (Rating, error) {
	if l < 0 || l >= len(m.Likelihood) {
		return Rating{}, fieldErr("likelihood", "level %d outside 0..%d", l, len(m.Likelihood)-1)
	}
	if c < 0 || c >= len(m.Consequence) {
		return Rating{}, fieldErr("consequence", "level %d outside 0..%d", c, len(m.Consequence)-1)
	}
	id := m.Cells[l][c]
	for _, r := range m.Ratings {
		if r.ID == id {
			return r, nil
		}
	}
	return Rating{}, fieldErr(fmt.Sprintf("cells[%d][%d]", l, c), "unknown rating %q", id)
}

// RateLabels rates by level labels, as an analyst's form submits them.
func (m *Matrix) RateLabels(likelihood, consequence string) (Rating, error) {
	l, err := find("likelihood", m.Likelihood, likelihood)
	if err != nil {
		return Rating{}, err
	}
	c, err := find("consequence", m.Consequence, consequence)
	if err != nil {
		return Rating{}, err
	}
	return m.Rate(l, c)
}

func find(field string, ls []Level, label string) (int, error) {
	for i, l := range ls {
		if l.Label == label {
			return i, nil
		}
	}
	return 0, fieldErr(field, "unknown level %q", label)
}

// LikelihoodFor places an annual probability on the likelihood scale using
// the levels' probability anchors (each band [min, max), the top band
// including 1).
func (m *Matrix) LikelihoodFor(p float64) (int, error) {
	if !(p >= 0 && p <= 1) {
		return 0, fieldErr("probability", "must be in [0, 1], got %g", p)
	}
	for i, l := range m.Likelihood {
		if l.MinProbability == nil {
			return 0, fieldErr(fmt.Sprintf("likelihood[%d].min_probability", i), "this matrix has no probability anchors")
		}
		if p >= *l.MinProbability && (p < *l.MaxProbability || (p == 1 && *l.MaxProbability == 1)) {
			return i, nil
		}
	}
	return 0, fieldErr("probability", "%g falls outside every likelihood band", p)
}

// Method combines ordinal level numbers into a score.
type Method string

const (
	// Product multiplies 1-based level numbers: suits linear scales.
	Product Method = "product"
	// Sum adds them: suits logarithmic scales (Duijm).
	Sum Method = "sum"
)

// Score is the ordinal score of 0-based levels l and c.
func (mt Method) Score(l, c int) (float64, error) {
	switch mt {
	case Product:
		return float64((l + 1) * (c + 1)), nil
	case Sum:
		return float64(l + c + 2), nil
	}
	return 0, fieldErr("method", `unknown method %q; "product" or "sum"`, string(mt))
}

// FromBands builds a matrix whose cells are rated by the band their score
// falls in, the usual way to generate a configurable N×M matrix.
func FromBands(name string, likelihood, consequence []Level, method Method, bands Bands, ratings []Rating) (*Matrix, error) {
	if err := bands.Validate(); err != nil {
		return nil, err
	}
	m := &Matrix{Name: name, Likelihood: likelihood, Consequence: consequence, Ratings: ratings}
	m.Cells = make([][]string, len(likelihood))
	for l := range likelihood {
		m.Cells[l] = make([]string, len(consequence))
		for c := range consequence {
			s, err := method.Score(l, c)
			if err != nil {
				return nil, err
			}
			b, err := bands.Classify(s)
			if err != nil {
				return nil, err
			}
			m.Cells[l][c] = b.Rating
		}
	}
	return m, m.Validate()
}
