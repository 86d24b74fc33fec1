package risk_test

import (
	"testing"

	"vigil/internal/app/apptest"
	"vigil/internal/auth"
	"vigil/internal/browsertest"
	"vigil/internal/store/storetest"
)

// TestRegisterInBrowser: a security manager adds a risk in real Chromium,
// finds it in its cell of the heat map, runs a FAIR analysis with a proposed
// control and reads what the control saves a year and both loss-exceedance
// curves. Strict CSP and console errors are checked by browsertest.
func TestRegisterInBrowser(t *testing.T) {
	b := browsertest.New(t)
	e := apptest.Start(t, storetest.SQLite(t))
	p := b.Tab(t)
	p.Navigate(e.URL + "/login")
	p.Fill("#f-email", e.A.Users[auth.Manager].Email)
	p.Fill("#f-password", apptest.Password)
	if st := p.ClickLink("main form", "Sign in"); st != 200 {
		t.Fatalf("sign in: %d at %s", st, p.URL())
	}

	p.Navigate(e.URL + "/risks")
	if st := p.ClickLink("main .head", "New risk"); st != 200 {
		t.Fatalf("new risk: %d", st)
	}
	p.Select("#f-site_id", e.A.Site.Name)
	p.Fill("#f-title", "Tailgating at the loading dock")
	p.Fill("#f-asset", "Warehouse stock")
	p.Fill("#f-threat", "Organised theft")
	p.Select("#f-likelihood", "Likely")
	p.Select("#f-consequence", "Major")
	p.Select(`select[name="treat_kind"]`, "device")
	p.Select(`select[name="treat_device"]`, e.A.Device.Name+" ("+e.A.Site.Name+")")
	if st := p.ClickLink("#risk-form", "Save risk"); st != 200 {
		t.Fatalf("save risk: %d", st)
	}
	p.WaitText("main .flash", "added to the register")
	p.WaitText("#risk-rating", "Extreme")

	// The heat map on the register counts it in Likely × Major.
	p.Navigate(e.URL + "/risks")
	p.WaitText(`svg.heatmap a[data-cell="3-3"]`, "1")
	if n := p.Count(`svg.heatmap circle`); n != 1 {
		t.Fatalf("heat map shows %d occupied cells, want 1", n)
	}
	if st := p.ClickAndWait(`svg.heatmap a[data-cell="3-3"]`); st != 200 {
		t.Fatalf("open cell: %d", st)
	}
	if st := p.ClickLink("#risk-table", "Tailgating at the loading dock"); st != 200 {
		t.Fatalf("open risk: %d", st)
	}

	// FAIR with and without a dock camera that halves vulnerability.
	for sel, v := range map[string]string{"#f-tef_min": "2", "#f-tef_mode": "6", "#f-tef_max": "20", "#f-vulnerability": "0.4",
		"#f-mag_min": "2000", "#f-mag_mode": "8000", "#f-mag_max": "60000", "#f-control": "Dock camera", "#f-c_vulnerability": "0.2",
		"#f-iterations": "20000", "#f-seed": "11"} {
		p.Fill(sel, v)
	}
	if st := p.ClickLink("#fair-form", "Run analysis"); st != 200 {
		t.Fatalf("run analysis: %d", st)
	}
	p.WaitText("#fair-saves", "falls by")
	if n := p.Count("svg.lec polyline"); n != 2 {
		t.Fatalf("loss-exceedance chart has %d curves, want 2", n)
	}
	p.WaitText("#fair-result", "Mean annual loss")
	p.CheckConsole()
}
