package risk

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"vigil/internal/risk/dist"
	"vigil/internal/risk/fair"
	"vigil/internal/risk/matrix"
	"vigil/internal/risk/pps"
)

func TestHeatMap(t *testing.T) {
	m := matrix.AS4360()
	m.Ratings[0].Colour = `red" onload="alert(1)`
	m.Name = `<script>x</script>`
	svg := string(HeatMap(m, []Cell{{3, 3, 2}, {0, 0, 1}, {3, 3, 1}}, func(l, c int) string { return fmt.Sprintf("/risks?l=%d&c=%d", l, c) }))
	for _, want := range []string{`data-cell="3-3"`, `>3</text>`, `>1</text>`, `href="/risks?l=0&amp;c=4"`, `&lt;script&gt;`, `fill="#9e9e9e"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("heat map lacks %q", want)
		}
	}
	for _, bad := range []string{"onload", "<script>"} {
		if strings.Contains(svg, bad) {
			t.Errorf("heat map contains %q", bad)
		}
	}
	if n := strings.Count(svg, "<rect"); n != 25 {
		t.Errorf("%d cells, want 25", n)
	}
}

func TestLEC(t *testing.T) {
	if s := string(LEC([]Series{{Name: "none", Points: []fair.Exceedance{{Threshold: 0, Exceedance: 0}}}}, "")); !strings.Contains(s, "No losses") {
		t.Errorf("empty LEC: %s", s)
	}
	s := string(LEC([]Series{
		{Name: "before", Colour: "#123456", Points: []fair.Exceedance{{Threshold: 1000, Exceedance: 0.9}, {Threshold: 1e5, Exceedance: 0.1}}},
		{Name: "after <b>", Colour: "#654321", Points: []fair.Exceedance{{Threshold: 1000, Exceedance: 0.5}, {Threshold: 1e5, Exceedance: 0.01}}},
	}, "EUR"))
	if strings.Count(s, "<polyline") != 2 || !strings.Contains(s, "after &lt;b&gt;") || !strings.Contains(s, "(EUR)") || !strings.Contains(s, ">100k<") {
		t.Errorf("LEC: %s", s)
	}
}

func TestMoneyAndCSV(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 950: "950", 12345: "12.3k", 4.5e6: "4.5M", -2e9: "-2B"} {
		if got := Money(v, ""); got != want {
			t.Errorf("Money(%v) = %q, want %q", v, got, want)
		}
	}
	got := csvSafe("=HYPERLINK(1)", "+1", "-x", "@a", "plain", "")
	want := []string{"'=HYPERLINK(1)", "'+1", "'-x", "'@a", "plain", ""}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("csvSafe = %q", got)
	}
}

func TestRiskValidate(t *testing.T) {
	m := matrix.AS4360()
	one := 1
	for _, tc := range []struct {
		name  string
		edit  func(r *Risk)
		field string
	}{
		{"ok", func(r *Risk) {}, ""},
		{"level high", func(r *Risk) { r.Likelihood = 5 }, "likelihood"},
		{"level negative", func(r *Risk) { r.Consequence = -1 }, "consequence"},
		{"half residual", func(r *Risk) { r.ResidualL = &one }, "residual_likelihood"},
		{"long title", func(r *Risk) { r.Title = strings.Repeat("x", 201) }, "title"},
		{"bad utf8", func(r *Risk) { r.Owner = "\xff" }, "owner"},
		{"device without id", func(r *Risk) { r.Treatments = []Treatment{{Kind: TreatDevice}} }, "treatments[0].device_id"},
		{"post with device", func(r *Risk) { r.Treatments = []Treatment{{Kind: TreatPost, DeviceID: "d", Description: "gate"}} }, "treatments[0].device_id"},
		{"procedure blank", func(r *Risk) { r.Treatments = []Treatment{{Kind: TreatProcedure}} }, "treatments[0].description"},
		{"too many", func(r *Risk) { r.Treatments = make([]Treatment, MaxTreatments+1) }, "treatments"},
	} {
		r := &Risk{SiteID: "s", Title: " t ", Asset: "a", Threat: "x", Likelihood: 4, Consequence: 4}
		tc.edit(r)
		err := r.Validate(m)
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.field != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.field+":")):
			t.Errorf("%s: %v, want an error on %s", tc.name, err, tc.field)
		}
		if tc.field == "" && (r.Rating != "extreme" || r.Title != "t" || r.Status != StatusOpen || r.Strategy != "mitigate") {
			t.Errorf("ok: %+v", r)
		}
	}
}

// FuzzFairForm: the analysis form (PERT boxes or pasted JSON) must never
// panic, and whatever it accepts must pass or fail validation cleanly.
func FuzzFairForm(f *testing.F) {
	f.Add("name=x&tef_min=1&tef_mode=2&tef_max=3&vulnerability=0.5&mag_min=1&mag_mode=2&mag_max=3&control=c&c_vulnerability=0.1")
	f.Add(`name=x&json={"model":{"frequency":{"dist":"poisson","rate":2},"magnitude":{"dist":"lognormal","low":1,"high":9}}}`)
	f.Add(`json={"model":{"tef":{"dist":"pert","min":1,"mode":0,"max":2},"vulnerability":{"threat_capability":{"dist":"constant","value":1}}}}`)
	f.Fuzz(func(t *testing.T, q string) {
		v, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		in, err := formFair(v).input()
		if err != nil {
			return
		}
		a := &Analysis{Name: in.Name, Model: in.Model, Iterations: 1000}
		if in.Control != nil {
			a.ControlName, a.ControlModel = in.Control.Name, in.Control.Model
		}
		_ = a.validate()
	})
}

// FuzzLevel: any label or number an API client sends resolves to a level in
// range or is refused.
func FuzzLevel(f *testing.F) {
	f.Add("Likely")
	f.Add("4")
	f.Add("-1")
	m := matrix.AS4360()
	f.Fuzz(func(t *testing.T, s string) {
		if i, ok := Level(m.Likelihood, s); ok && (i < 0 || i >= len(m.Likelihood)) {
			t.Fatalf("%q → %d", s, i)
		}
	})
}

// layered builds a facility-like diagram: layers of parallel elements
// between successive areas, the shape the upgrade ranking is used on.
func layered(layers, width int) *pps.Diagram {
	pc := 0.95
	d := &pps.Diagram{Start: "a0", Target: fmt.Sprintf("a%d", layers), ResponseForceTime: pps.Normal{Mean: 300, SD: 90}, PCommunication: &pc}
	for l := 0; l <= layers; l++ {
		d.Nodes = append(d.Nodes, pps.Node{ID: fmt.Sprintf("a%d", l)})
	}
	for l := 0; l < layers; l++ {
		for w := 0; w < width; w++ {
			pd := 0.1 + 0.8*float64((l*7+w*3)%10)/10
			d.Edges = append(d.Edges, pps.Edge{ID: fmt.Sprintf("e%d_%d", l, w), From: fmt.Sprintf("a%d", l), To: fmt.Sprintf("a%d", l+1),
				PDetection: pd, Location: pps.Middle, Delay: pps.Normal{Mean: 20 + float64(w*10), SD: 6 + float64(w*3)}})
		}
	}
	return d
}

// BenchmarkAnalyzePathsUpgrades: the path page's work for a site of 5
// layers × 4 elements (1,024 paths), every upgrade re-analysed.
func BenchmarkAnalyzePathsUpgrades(b *testing.B) {
	d := layered(5, 4)
	for b.Loop() {
		if _, err := AnalyzePaths(d, 5, 0.1, 30); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHeatMap(b *testing.B) {
	m := matrix.AS4360()
	cells := []Cell{{1, 1, 3}, {3, 3, 12}, {4, 2, 7}}
	for b.Loop() {
		_ = HeatMap(m, cells, func(l, c int) string { return "/risks" })
	}
}

// BenchmarkAnalysisRun: what one "Run analysis" click costs on the server
// at the default 50,000 iterations, model and control (per-event, TEF PERT
// × vulnerability × PERT magnitude, ~2.4 loss events a year).
func BenchmarkAnalysisRun(b *testing.B) {
	pert := func(lo, mode, hi float64) *dist.Spec {
		return &dist.Spec{Dist: "pert", Min: &lo, Mode: &mode, Max: &hi}
	}
	v, cv := 0.4, 0.2
	for b.Loop() {
		a := &Analysis{Name: "b", Iterations: DefaultIterations, Seed: 1, ControlName: "c",
			Model:        &fair.Model{TEF: pert(2, 6, 20), Vulnerability: &fair.Vulnerability{Value: &v}, Magnitude: pert(2000, 8000, 60000)},
			ControlModel: &fair.Model{TEF: pert(2, 6, 20), Vulnerability: &fair.Vulnerability{Value: &cv}, Magnitude: pert(2000, 8000, 60000)}}
		if err := a.validate(); err != nil {
			b.Fatal(err)
		}
		if err := a.run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
