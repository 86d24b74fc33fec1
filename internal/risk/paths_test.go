package risk

import (
	"math"
	"net/url"
	"strings"
	"testing"

	"vigil/internal/risk/pps"
)

func twoDoors() *pps.Diagram {
	pc := 1.0
	return &pps.Diagram{
		Nodes: []pps.Node{{ID: "out"}, {ID: "in"}},
		Edges: []pps.Edge{
			{ID: "a", From: "out", To: "in", Name: "Alarmed door", PDetection: 0.9, Location: pps.Beginning, Delay: pps.Normal{Mean: 120, SD: 36}},
			{ID: "b", From: "out", To: "in", Name: "Window", PDetection: 0.1, Location: pps.Beginning, Delay: pps.Normal{Mean: 120, SD: 36}},
		},
		Start: "out", Target: "in", ResponseForceTime: pps.Normal{Mean: 60, SD: 18}, PCommunication: &pc,
	}
}

// TestAnalyzePathsRanksTheWeakestElement: the adversary takes the window,
// so only upgrading the window raises the facility's P(I); upgrading the
// already-strong door gains nothing.
func TestAnalyzePathsRanksTheWeakestElement(t *testing.T) {
	d := twoDoors()
	a, err := AnalyzePaths(d, 5, 0.2, 30)
	if err != nil {
		t.Fatal(err)
	}
	single, err := pps.EASI(&pps.Path{Elements: []pps.Element{{Name: "Window", PDetection: 0.1, Location: pps.Beginning, Delay: pps.Normal{Mean: 120, SD: 36}}},
		ResponseForceTime: d.ResponseForceTime, PCommunication: d.PCommunication})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(a.PI-single.PInterruption) > 1e-12 {
		t.Fatalf("facility P(I) = %v, want the window path's %v", a.PI, single.PInterruption)
	}
	if len(a.Upgrades) != 4 {
		t.Fatalf("upgrades: %+v", a.Upgrades)
	}
	best := a.Upgrades[0]
	if best.EdgeID != "b" || best.Kind != "detection" || best.Gain <= 0 || math.Abs(best.To-0.3) > 1e-12 {
		t.Errorf("best upgrade = %+v, want the window's detection", best)
	}
	for _, u := range a.Upgrades {
		if u.EdgeID == "a" && u.Gain > 1e-12 {
			t.Errorf("upgrading the strong door gained %v", u.Gain)
		}
	}
	if d.Edges[1].PDetection != 0.1 {
		t.Error("AnalyzePaths changed the caller's diagram")
	}
	for _, bad := range []struct{ pd, delay float64 }{{-0.1, 1}, {1.5, 1}, {0.1, -1}, {math.NaN(), 1}} {
		if _, err := AnalyzePaths(d, 1, bad.pd, bad.delay); err == nil {
			t.Errorf("steps %v accepted", bad)
		}
	}
}

func TestDiagramFromForm(t *testing.T) {
	f := url.Values{"start": {"out"}, "target": {"vault"}, "rft_mean": {"300"}, "rft_sd": {"90"}, "p_communication": {"0.95"},
		"e_id": {"", "x", ""}, "e_from": {"out", "hall", ""}, "e_to": {"hall", "vault", ""}, "e_name": {"Door", "Vault door", ""},
		"e_pd": {"0.5", "0.9", ""}, "e_loc": {"m", "B", "M"}, "e_dmean": {"30", "600", ""}, "e_dsd": {"9", "180", ""},
		"e_link": {"zone:z1", "", ""}}
	d, links, err := diagramFromForm(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Edges) != 2 || d.Edges[0].ID != "e1" || d.Edges[1].ID != "x" || d.Edges[0].Location != pps.Middle || len(d.Nodes) != 3 {
		t.Fatalf("diagram: %+v", d)
	}
	if len(links) != 1 || links[0].ZoneID != "z1" || links[0].EdgeID != "e1" {
		t.Fatalf("links: %+v", links)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	f.Set("rft_mean", "soon")
	if _, _, err := diagramFromForm(f); err == nil || !strings.Contains(err.Error(), "rft_mean") {
		t.Errorf("bad number: %v", err)
	}
}

// FuzzDiagramFromForm: whatever a browser posts, the editor's parser must
// not panic, and what it accepts is either valid or refused by Validate.
func FuzzDiagramFromForm(f *testing.F) {
	f.Add("start=a&target=b&e_from=a&e_to=b&e_pd=0.5&e_dmean=10&e_dsd=3&e_loc=M&rft_mean=60")
	f.Add("e_from=a&e_from=b&e_to=&e_pd=x&e_link=device:&e_link=zone")
	f.Fuzz(func(t *testing.T, q string) {
		v, err := url.ParseQuery(q)
		if err != nil || len(v["e_from"]) > 200 {
			return
		}
		d, _, err := diagramFromForm(v)
		if err == nil {
			_ = d.Validate()
		}
	})
}
