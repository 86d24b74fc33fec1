package pps

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func fp(v float64) *float64 { return &v }

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol || math.IsNaN(got) {
		t.Errorf("%s = %.9g, want %.9g (±%.2g)", name, got, want, tol)
	}
}

func examplePath() *Path {
	return &Path{
		Elements: []Element{
			{Name: "fence", PDetection: 0.5, Location: Beginning, Delay: Normal{10, 3}},
			{Name: "yard", PDetection: 0.2, Location: Middle, Delay: Normal{40, 12}},
			{Name: "door", PDetection: 0.9, Location: Middle, Delay: Normal{60, 18}},
			{Name: "vault", PDetection: 0.8, Location: End, Delay: Normal{120, 36}},
		},
		ResponseForceTime: Normal{150, 45},
		PCommunication:    fp(0.95),
		PNeutralization:   fp(0.8),
		Consequence:       fp(1000),
	}
}

// The closed form must agree with a direct simulation of the timeline:
// normal task times, Bernoulli detections, one communication draw, and
// interruption when the response arrives before the adversary finishes.
func TestEASIAgainstTimelineSimulation(t *testing.T) {
	p := examplePath()
	res, err := EASI(p)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(11, 12))
	const n = 400000
	hits := 0
	for range n {
		if r.Float64() >= *p.PCommunication {
			continue
		}
		times := make([]float64, len(p.Elements))
		for i, e := range p.Elements {
			times[i] = e.Delay.Mean + e.Delay.SD*r.NormFloat64()
		}
		for i, e := range p.Elements {
			if r.Float64() >= e.PDetection {
				continue
			}
			w, _ := e.Location.weight()
			rem := w * times[i]
			for _, x := range times[i+1:] {
				rem += x
			}
			if p.ResponseForceTime.Mean+p.ResponseForceTime.SD*r.NormFloat64() < rem {
				hits++
			}
			break
		}
	}
	sim := float64(hits) / n
	near(t, "P(I) vs simulation", res.PInterruption, sim, 5*math.Sqrt(sim*(1-sim)/n))
	near(t, "P(E)", res.PEffectiveness, res.PInterruption*0.8, 1e-15)
	near(t, "conditional risk", *res.ConditionalRisk, (1-res.PEffectiveness)*1000, 1e-9)
	// Per-element figures by hand for the door (index 2, location M).
	door := res.Elements[2]
	near(t, "door first detection", door.PFirstDetection, 0.5*0.8*0.9, 1e-15)
	near(t, "door remaining mean", door.RemainingTimeMean, 30+120, 1e-12)
	near(t, "door remaining var", door.RemainingTimeVariance, 0.25*18*18+36*36, 1e-9)
	near(t, "door P(R|A)", door.PResponseGivenAlarm, 0.5*math.Erfc(-(150.0-150)/math.Sqrt(2*(81+1296+2025))), 1e-15)
	if res.CriticalDetectionPoint != nil {
		t.Error("CDP reported although delays are uncertain")
	}
}

func TestDeterministicCDP(t *testing.T) {
	mk := func(rft float64) *Path {
		return &Path{
			Elements: []Element{
				{Name: "fence", PDetection: 0.6, Location: Beginning, Delay: Normal{10, 0}},
				{Name: "door", PDetection: 0.7, Location: Beginning, Delay: Normal{30, 0}},
				{Name: "wall", PDetection: 0.9, Location: Beginning, Delay: Normal{60, 0}},
				{Name: "target", PDetection: 0.99, Location: End, Delay: Normal{20, 0}},
			},
			ResponseForceTime: Normal{rft, 0},
			PCommunication:    fp(0.9),
		}
	}
	// Remaining times at detection: 120, 110, 80, 0. With RFT 90 the door
	// is the last timely detection.
	res, err := EASI(mk(90))
	if err != nil {
		t.Fatal(err)
	}
	c := res.CriticalDetectionPoint
	if c == nil || c.Index != 1 || c.Name != "door" {
		t.Fatalf("CDP = %+v, want door", c)
	}
	want := 0.9 * (1 - 0.4*0.3)
	near(t, "CDP P(I)", c.PInterruption, want, 1e-15)
	near(t, "EASI P(I) without ties", res.PInterruption, want, 1e-15)
	// A tie (remaining 110 = RFT): CDP counts it as timely, EASI as Φ(0).
	res, _ = EASI(mk(110))
	near(t, "tie CDP", res.CriticalDetectionPoint.PInterruption, want, 1e-15)
	near(t, "tie EASI", res.PInterruption, 0.9*(0.6+0.4*0.7*0.5), 1e-15)
	// Nothing timely.
	res, _ = EASI(mk(500))
	if res.CriticalDetectionPoint.Index != -1 || res.PInterruption != 0 {
		t.Errorf("late everywhere: %+v P(I) %g", res.CriticalDetectionPoint, res.PInterruption)
	}
}

func TestPathValidation(t *testing.T) {
	cases := []struct {
		edit  func(p *Path)
		field string
	}{
		{func(p *Path) { p.Elements = nil }, "elements"},
		{func(p *Path) { p.Elements[1].PDetection = 1.2 }, "elements[1].p_detection"},
		{func(p *Path) { p.Elements[2].Location = "X" }, "elements[2].location"},
		{func(p *Path) { p.Elements[0].Delay.Mean = -1 }, "elements[0].delay.mean"},
		{func(p *Path) { p.Elements[3].Delay.SD = math.NaN() }, "elements[3].delay.sd"},
		{func(p *Path) { p.ResponseForceTime.SD = -2 }, "response_force_time.sd"},
		{func(p *Path) { p.PCommunication = nil }, "p_communication"},
		{func(p *Path) { p.PCommunication = fp(-0.1) }, "p_communication"},
		{func(p *Path) { p.PNeutralization = fp(2) }, "p_neutralization"},
		{func(p *Path) { p.Consequence = fp(-5) }, "consequence"},
	}
	for _, c := range cases {
		p := examplePath()
		c.edit(p)
		_, err := EASI(p)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("got %v, want error on %s", err, c.field)
		}
	}
	var l Location
	for in, want := range map[string]Location{`"b"`: Beginning, `"Middle"`: Middle, `"E"`: End} {
		if err := json.Unmarshal([]byte(in), &l); err != nil || l != want {
			t.Errorf("%s -> %q, %v", in, l, err)
		}
	}
}

// exampleDiagram: off-site → protected area → building → target.
func exampleDiagram() *Diagram {
	return &Diagram{
		Nodes: []Node{{ID: "off"}, {ID: "pa"}, {ID: "bldg"}, {ID: "target"}},
		Edges: []Edge{
			{ID: "fence", From: "off", To: "pa", PDetection: 0.9, Location: Beginning, Delay: Normal{10, 3}},
			{ID: "gate", From: "off", To: "pa", PDetection: 0.3, Location: Beginning, Delay: Normal{30, 9}},
			{ID: "door", From: "pa", To: "bldg", PDetection: 0.5, Location: Middle, Delay: Normal{60, 18}},
			{ID: "wall", From: "pa", To: "bldg", PDetection: 0.1, Location: Middle, Delay: Normal{200, 60}},
			{ID: "vault", From: "bldg", To: "target", PDetection: 0.8, Location: End, Delay: Normal{100, 30}},
		},
		Start: "off", Target: "target",
		ResponseForceTime: Normal{120, 36},
		PCommunication:    fp(0.95),
	}
}

func TestAnalyzeSmallDiagram(t *testing.T) {
	d := exampleDiagram()
	res, err := Analyze(d, PathOptions{TopK: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != MethodExhaustive || res.PathCount == nil || *res.PathCount != 4 {
		t.Fatalf("method %s count %v", res.Method, res.PathCount)
	}
	if got := strings.Join(res.MinDetection.Edges, ","); got != "gate,wall,vault" {
		t.Errorf("min detection path %s", got)
	}
	near(t, "min detection", res.MinDetection.PDetection, 1-0.7*0.9*0.2, 1e-12)
	if got := strings.Join(res.MinDelay.Edges, ","); got != "fence,door,vault" {
		t.Errorf("min delay path %s", got)
	}
	near(t, "min delay", res.MinDelay.DelayMean, 170, 1e-12)
	if len(res.MostVulnerable) != 4 {
		t.Fatalf("%d ranked paths", len(res.MostVulnerable))
	}
	byID := map[string]Edge{}
	for _, e := range d.Edges {
		byID[e.ID] = e
	}
	for i, rp := range res.MostVulnerable {
		if i > 0 && rp.PInterruption < res.MostVulnerable[i-1].PInterruption {
			t.Error("ranking not in increasing P(I)")
		}
		// Each path's figure must equal EASI on the same elements.
		p := &Path{ResponseForceTime: d.ResponseForceTime, PCommunication: d.PCommunication}
		for _, id := range rp.Edges {
			e := byID[id]
			p.Elements = append(p.Elements, Element{Name: id, PDetection: e.PDetection, Location: e.Location, Delay: e.Delay})
		}
		er, _ := EASI(p)
		near(t, "path P(I) "+strings.Join(rp.Edges, ","), rp.PInterruption, er.PInterruption, 1e-14)
	}
	// The polynomial method finds the same most vulnerable path here.
	tm, err := Analyze(d, PathOptions{Method: MethodTimely, TopK: 4})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := strings.Join(tm.MostVulnerable[0].Edges, ","), strings.Join(res.MostVulnerable[0].Edges, ","); a != b {
		t.Errorf("timely-detection MVP %s, exhaustive %s", a, b)
	}
	if len(tm.MostVulnerable) != 4 || tm.PathCount != nil {
		t.Errorf("timely top-4: %d paths, count %v", len(tm.MostVulnerable), tm.PathCount)
	}
}

// randomDAG builds a layered diagram with random elements.
func randomDAG(r *rand.Rand, layers, width, fan int, sd bool) *Diagram {
	d := &Diagram{Start: "s", Target: "t", ResponseForceTime: Normal{100, 0}, PCommunication: fp(0.95)}
	if sd {
		d.ResponseForceTime.SD = 30
	}
	d.Nodes = append(d.Nodes, Node{ID: "s"}, Node{ID: "t"})
	id := func(l, i int) string { return fmt.Sprintf("n%d_%d", l, i) }
	for l := range layers {
		for i := range width {
			d.Nodes = append(d.Nodes, Node{ID: id(l, i)})
		}
	}
	locs := []Location{Beginning, Middle, End}
	add := func(from, to string) {
		mean := 5 + r.Float64()*60
		e := Edge{ID: fmt.Sprintf("e%d", len(d.Edges)), From: from, To: to, PDetection: r.Float64(),
			Location: locs[r.IntN(3)], Delay: Normal{Mean: mean}}
		if sd {
			e.Delay.SD = 0.3 * mean
		}
		d.Edges = append(d.Edges, e)
	}
	for i := range width {
		add("s", id(0, i))
		add(id(layers-1, i), "t")
	}
	for l := 0; l+1 < layers; l++ {
		for i := range width {
			for k := range fan {
				add(id(l, i), id(l+1, (i+k*7+r.IntN(3))%width))
			}
		}
	}
	return d
}

func TestTimelyNeverBeatsExhaustive(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for trial := range 30 {
		d := randomDAG(r, 3+trial%3, 4, 2, trial%2 == 0)
		ex, err := Analyze(d, PathOptions{Method: MethodExhaustive, TopK: 3})
		if err != nil {
			t.Fatal(err)
		}
		tm, err := Analyze(d, PathOptions{Method: MethodTimely, TopK: 3})
		if err != nil {
			t.Fatal(err)
		}
		if tm.MostVulnerable[0].PInterruption < ex.MostVulnerable[0].PInterruption-1e-12 {
			t.Errorf("trial %d: timely found P(I) %g below the exhaustive minimum %g", trial,
				tm.MostVulnerable[0].PInterruption, ex.MostVulnerable[0].PInterruption)
		}
		seen := map[string]bool{}
		for _, p := range tm.MostVulnerable {
			k := strings.Join(p.Edges, ",")
			if seen[k] {
				t.Errorf("trial %d: Yen returned %s twice", trial, k)
			}
			seen[k] = true
		}
		auto, _ := Analyze(d, PathOptions{TopK: 3})
		if auto.Method != MethodExhaustive {
			t.Errorf("auto chose %s on a small diagram", auto.Method)
		}
	}
}

func TestDiagramValidation(t *testing.T) {
	cases := []struct {
		edit  func(d *Diagram)
		field string
	}{
		{func(d *Diagram) { d.Nodes = nil }, "nodes"},
		{func(d *Diagram) { d.Nodes[1].ID = "off" }, "nodes[1].id"},
		{func(d *Diagram) { d.Edges[2].From = "nowhere" }, "edges[2].from"},
		{func(d *Diagram) { d.Edges[3].To = "" }, "edges[3].to"},
		{func(d *Diagram) { d.Edges[1].ID = "fence" }, "edges[1].id"},
		{func(d *Diagram) { d.Edges[0].Delay.Mean = -3 }, "edges[0].delay.mean"},
		{func(d *Diagram) { d.Edges[4].PDetection = -0.5 }, "edges[4].p_detection"},
		{func(d *Diagram) { d.Start = "mars" }, "start"},
		{func(d *Diagram) { d.Target = "" }, "target"},
		{func(d *Diagram) { d.Target = "off" }, "target"},
		{func(d *Diagram) { d.Edges = d.Edges[:4] }, "target"}, // unreachable
		{func(d *Diagram) { d.PCommunication = nil }, "p_communication"},
	}
	for _, c := range cases {
		d := exampleDiagram()
		c.edit(d)
		_, err := Analyze(d, PathOptions{})
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("got %v, want error on %s", err, c.field)
		}
	}
	if _, err := Analyze(exampleDiagram(), PathOptions{Method: "magic"}); err == nil {
		t.Error("unknown method accepted")
	}
	var n Node
	if err := json.Unmarshal([]byte(`"gate"`), &n); err != nil || n.ID != "gate" {
		t.Errorf("string node: %+v %v", n, err)
	}
	if err := json.Unmarshal([]byte(`{"id":"x","colour":"red"}`), &n); err == nil {
		t.Error("unknown node field accepted")
	}
}

func TestEnumerationBudget(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	d := randomDAG(r, 12, 10, 3, false) // ~10·3^11 paths
	if _, err := Analyze(d, PathOptions{Method: MethodExhaustive, MaxPaths: 1000}); !errors.Is(err, ErrTooManyPaths) {
		t.Errorf("got %v, want ErrTooManyPaths", err)
	}
	res, err := Analyze(d, PathOptions{MaxPaths: 1000})
	if err != nil || res.Method != MethodTimely {
		t.Errorf("auto: %v %+v", err, res)
	}
}

// generated is a 10,000-node diagram: 100 layers of 100 areas, three
// elements out of each area.
func generated() *Diagram {
	return randomDAG(rand.New(rand.NewPCG(5, 5)), 100, 100, 3, true)
}

func BenchmarkMostVulnerable10k(b *testing.B) {
	d := generated()
	for b.Loop() {
		res, err := Analyze(d, PathOptions{})
		if err != nil || res.Method != MethodTimely {
			b.Fatal(err)
		}
	}
}

func BenchmarkEASI(b *testing.B) {
	p := examplePath()
	for b.Loop() {
		if _, err := EASI(p); err != nil {
			b.Fatal(err)
		}
	}
}
