package matrix

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestAS4360MatchesReference(t *testing.T) {
	m := AS4360()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	// Rows of risk-methods.md §4.2, Almost certain first.
	ref := map[string][5]string{
		"Almost certain": {"High", "High", "Extreme", "Extreme", "Extreme"},
		"Likely":         {"Moderate", "High", "High", "Extreme", "Extreme"},
		"Possible":       {"Low", "Moderate", "High", "Extreme", "Extreme"},
		"Unlikely":       {"Low", "Low", "Moderate", "High", "Extreme"},
		"Rare":           {"Low", "Low", "Moderate", "High", "High"},
	}
	cons := []string{"Insignificant", "Minor", "Moderate", "Major", "Catastrophic"}
	for l, row := range ref {
		for c, want := range row {
			r, err := m.RateLabels(l, cons[c])
			if err != nil || r.Label != want {
				t.Errorf("%s × %s = %q (%v), want %q", l, cons[c], r.Label, err, want)
			}
		}
	}
	for p, want := range map[float64]string{0: "Rare", 0.019: "Rare", 0.02: "Unlikely", 0.3: "Possible", 0.79: "Likely", 0.8: "Almost certain", 1: "Almost certain"} {
		i, err := m.LikelihoodFor(p)
		if err != nil || m.Likelihood[i].Label != want {
			t.Errorf("LikelihoodFor(%g) = %d %v, want %s", p, i, err, want)
		}
	}
	if _, err := m.LikelihoodFor(1.5); err == nil {
		t.Error("probability 1.5 accepted")
	}
	if _, err := m.RateLabels("Sometimes", "Minor"); err == nil {
		t.Error("unknown label accepted")
	}
	if _, err := m.Rate(5, 0); err == nil {
		t.Error("out-of-range level accepted")
	}
	// JSON round trip keeps it valid.
	b, _ := json.Marshal(m)
	var back Matrix
	if err := json.Unmarshal(b, &back); err != nil || back.Validate() != nil {
		t.Errorf("round trip: %v %v", err, back.Validate())
	}
}

func TestFromBands(t *testing.T) {
	lv := func(labels ...string) []Level {
		var out []Level
		for _, l := range labels {
			out = append(out, Level{Label: l})
		}
		return out
	}
	ratings := []Rating{
		{ID: "low", Label: "Low", Colour: "#00ff00", Priority: 3},
		{ID: "med", Label: "Medium", Colour: "#ffff00", Priority: 2},
		{ID: "high", Label: "High", Colour: "#ff0000", Priority: 1},
	}
	bands := Bands{{1, 3, "low"}, {4, 8, "med"}, {9, 20, "high"}}
	m, err := FromBands("4×5", lv("1", "2", "3", "4"), lv("a", "b", "c", "d", "e"), Product, bands, ratings)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"low", "low", "low", "med", "med"},
		{"low", "med", "med", "med", "high"},
		{"low", "med", "high", "high", "high"},
		{"med", "med", "high", "high", "high"},
	}
	for l := range want {
		for c := range want[l] {
			if m.Cells[l][c] != want[l][c] {
				t.Errorf("cell %d,%d = %s, want %s", l, c, m.Cells[l][c], want[l][c])
			}
		}
	}
	s, _ := Sum.Score(3, 4)
	if s != 9 {
		t.Errorf("sum score %g", s)
	}
	if _, err := Method("max").Score(0, 0); err == nil {
		t.Error("unknown method accepted")
	}
	if _, err := FromBands("gap", lv("1", "2"), lv("a", "b"), Product, Bands{{1, 2, "low"}}, ratings); err == nil {
		t.Error("score outside the bands accepted")
	}
}

func TestMatrixValidation(t *testing.T) {
	cases := []struct {
		edit  func(m *Matrix)
		field string
	}{
		{func(m *Matrix) { m.Likelihood = m.Likelihood[:1] }, "likelihood"},
		{func(m *Matrix) { m.Consequence[2].Label = "Minor" }, "consequence[2].label"},
		{func(m *Matrix) { m.Likelihood[0].Label = "" }, "likelihood[0].label"},
		{func(m *Matrix) { m.Ratings[1].Colour = "orange" }, "ratings[1].colour"},
		{func(m *Matrix) { m.Ratings[0].Priority = 0 }, "ratings[0].priority"},
		{func(m *Matrix) { m.Ratings[2].ID = "low" }, "ratings[2].id"},
		{func(m *Matrix) { m.Cells = m.Cells[:4] }, "cells"},
		{func(m *Matrix) { m.Cells[1] = m.Cells[1][:3] }, "cells[1]"},
		{func(m *Matrix) { m.Cells[2][4] = "severe" }, "cells[2][4]"},
		{func(m *Matrix) { m.Likelihood[2].MinProbability = new(float64) }, "likelihood[2].min_probability"},
		{func(m *Matrix) { m.Likelihood[1].MaxProbability = nil }, "likelihood[1].max_probability"},
		{func(m *Matrix) { v := 0.5; m.Consequence[0].MinProbability, m.Consequence[0].MaxProbability = &v, &v }, "consequence[0].min_probability"},
	}
	for _, c := range cases {
		m := AS4360()
		c.edit(m)
		var fe *FieldError
		if err := m.Validate(); !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("got %v, want error on %s", err, c.field)
		}
	}
	for _, b := range []Bands{nil, {{5, 1, "x"}}, {{1, 5, ""}}, {{1, 5, "a"}, {5, 9, "b"}}} {
		if b.Validate() == nil {
			t.Errorf("bands %v accepted", b)
		}
	}
}

// FEMA 426 Table 1-20 (risk-methods.md §4.4): asset value × threat ×
// vulnerability.
func TestScoreTVCFEMAExample(t *testing.T) {
	var items []TVC
	pairs := [][2]float64{{2, 9}, {6, 8}, {5, 4}, {8, 2}}
	for i, p := range pairs {
		items = append(items, TVC{Name: "engineering-" + string(rune('a'+i)), Consequence: 8, Threat: p[0], Vulnerability: p[1]})
	}
	pairs = [][2]float64{{2, 9}, {3, 9}, {4, 7}, {8, 7}}
	for i, p := range pairs {
		items = append(items, TVC{Name: "administration-" + string(rune('a'+i)), Consequence: 5, Threat: p[0], Vulnerability: p[1]})
	}
	res, err := ScoreTVC(items, FEMAScale, FEMABands())
	if err != nil {
		t.Fatal(err)
	}
	wantScores := []float64{384, 280, 160, 144, 140, 135, 128, 90}
	wantRating := []string{"high", "high", "medium", "medium", "medium", "medium", "medium", "medium"}
	for i, r := range res {
		if r.Score != wantScores[i] || r.Rating != wantRating[i] {
			t.Errorf("#%d %s: %g %s, want %g %s", i, r.Name, r.Score, r.Rating, wantScores[i], wantRating[i])
		}
	}
	if _, err := ScoreTVC([]TVC{{Threat: 11, Vulnerability: 1, Consequence: 1}}, FEMAScale, nil); err == nil {
		t.Error("threat 11 accepted on a 1–10 scale")
	}
	low, _ := ScoreTVC([]TVC{{Threat: 3, Vulnerability: 4, Consequence: 5}}, FEMAScale, FEMABands())
	if low[0].Rating != "low" {
		t.Errorf("score 60 rated %s", low[0].Rating)
	}
}

func TestRankCarver(t *testing.T) {
	all := func(v int) CarverShock { return CarverShock{v, v, v, v, v, v, v} }
	nodes := []CarverNode{
		{Name: "mixing", Scores: all(5)},
		{Name: "bottling", Scores: CarverShock{9, 7, 6, 8, 7, 5, 8}},
		{Name: "storage", Scores: all(5)},
		{Name: "loading", Scores: all(2)},
	}
	res, err := RankCarver(nodes)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name  string
		total int
		rank  int
	}{{"bottling", 50, 1}, {"mixing", 35, 2}, {"storage", 35, 2}, {"loading", 14, 4}}
	for i, w := range want {
		if res[i].Name != w.name || res[i].Total != w.total || res[i].Rank != w.rank {
			t.Errorf("#%d: %+v, want %+v", i, res[i], w)
		}
	}
	bad := []CarverNode{{Name: "x", Scores: CarverShock{5, 5, 5, 11, 5, 5, 5}}}
	var fe *FieldError
	if _, err := RankCarver(bad); !errors.As(err, &fe) || fe.Field != "nodes[0].scores.vulnerability" {
		t.Errorf("got %v", err)
	}
}
