package risk_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"vigil/internal/app/apptest"
	"vigil/internal/auth"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

type riskJSON struct {
	ID              string `json:"id"`
	OrgID           string `json:"org_id"`
	Rating          string `json:"rating"`
	RatingLabel     string `json:"rating_label"`
	LikelihoodLabel string `json:"likelihood_label"`
	ResidualRating  string `json:"residual_rating"`
	Version         int    `json:"version"`
	Owner           string `json:"owner"`
	Treatments      []struct {
		Kind, DeviceID string
	} `json:"treatments"`
}

func newRisk(t *testing.T, c *apptest.Client, siteID string, extra map[string]any) riskJSON {
	t.Helper()
	body := map[string]any{"site_id": siteID, "title": "Tailgating at the loading dock", "asset": "Warehouse stock", "threat": "Organised theft",
		"likelihood": "Likely", "consequence": "Major"}
	for k, v := range extra {
		body[k] = v
	}
	res := c.Do("POST", "/api/v1/risks", body)
	if res.Status != 201 {
		t.Fatalf("create risk: %d %s", res.Status, res.Body)
	}
	var r riskJSON
	if err := res.JSON(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRegisterAPI walks the register through the real router: create rated
// on AS4360, validation naming fields, optimistic versions, revisions,
// filters, a matrix change re-rating stored risks, and CSV export.
func TestRegisterAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		c := e.Login(e.A.Users[auth.Manager].Email)
		r := newRisk(t, c, e.A.Site.ID, map[string]any{"treatments": []map[string]any{{"kind": "device", "device_id": e.A.Device.ID, "description": "door contact"}},
			"residual_likelihood": "Possible", "residual_consequence": "Moderate", "review_at": "2020-01-01"})
		// AS4360: Likely × Major is Extreme; Possible × Moderate is High.
		if r.Rating != "extreme" || r.RatingLabel != "Extreme" {
			t.Fatalf("rating = %q (%q), want Extreme", r.Rating, r.RatingLabel)
		}
		if r.Version != 1 || len(r.Treatments) != 1 || r.LikelihoodLabel != "Likely" || r.ResidualRating == "" {
			t.Fatalf("created risk: %+v", r)
		}

		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"likelihood": "Sometimes"}, "likelihood"},
			{map[string]any{"consequence": 9}, "consequence"},
			{map[string]any{"title": ""}, "title"},
			{map[string]any{"site_id": e.B.Site.ID}, "site_id"},
			{map[string]any{"treatments": []map[string]any{{"kind": "device", "device_id": e.B.Device.ID}}}, "treatments[0].device_id"},
			{map[string]any{"treatments": []map[string]any{{"kind": "dog"}}}, "treatments[0].kind"},
			{map[string]any{"residual_likelihood": "Rare"}, "residual_likelihood"},
			{map[string]any{"review_at": "soon"}, "review_at"},
			{map[string]any{"status": "done"}, "status"},
		} {
			body := map[string]any{"site_id": e.A.Site.ID, "title": "x", "asset": "a", "threat": "t", "likelihood": 0, "consequence": 0}
			for k, v := range tc.body {
				body[k] = v
			}
			res := c.Do("POST", "/api/v1/risks", body)
			if res.Status != 400 || !strings.Contains(string(res.Body), tc.field) {
				t.Errorf("%v: %d %s, want 400 naming %s", tc.body, res.Status, res.Body, tc.field)
			}
		}

		res := c.Do("PATCH", "/api/v1/risks/"+r.ID, map[string]any{"owner": "Facilities", "version": 1})
		if res.Status != 200 {
			t.Fatalf("patch: %d %s", res.Status, res.Body)
		}
		if res = c.Do("PATCH", "/api/v1/risks/"+r.ID, map[string]any{"owner": "Stale", "version": 1}); res.Status != 409 {
			t.Errorf("stale patch: %d %s, want 409", res.Status, res.Body)
		}
		var revs []struct{ Version int }
		if err := c.Do("GET", "/api/v1/risks/"+r.ID+"/revisions", nil).JSON(&revs); err != nil || len(revs) != 2 || revs[0].Version != 2 {
			t.Errorf("revisions: %v %+v", err, revs)
		}
		newRisk(t, c, e.A.Site.ID, map[string]any{"title": "Rare minor", "likelihood": 0, "consequence": 0})

		for q, want := range map[string]int{"": 2, "?likelihood=3&consequence=3": 1, "?overdue=true": 1, "?q=dock": 1, "?residual=true&likelihood=2": 1, "?rating=low": 1, "?org_id=" + e.B.Org.ID: 0} {
			var l struct{ Items []riskJSON }
			if err := c.Do("GET", "/api/v1/risks"+q, nil).JSON(&l); err != nil || len(l.Items) != want {
				t.Errorf("list %q: %v, %d items, want %d", q, err, len(l.Items), want)
			}
		}

		// A 3×3 matrix cannot hold a risk rated at level 3.
		small := map[string]any{"name": "3x3", "likelihood": []map[string]any{{"label": "Low"}, {"label": "Mid"}, {"label": "High"}},
			"consequence": []map[string]any{{"label": "Low"}, {"label": "Mid"}, {"label": "High"}},
			"cells":       [][]string{{"G", "G", "A"}, {"G", "A", "R"}, {"A", "R", "R"}},
			"ratings":     []map[string]any{{"id": "G", "label": "Green", "colour": "#2e8540", "priority": 3}, {"id": "A", "label": "Amber", "colour": "#f0ad4e", "priority": 2}, {"id": "R", "label": "Red", "colour": "#c9302c", "priority": 1}}}
		if res := c.Do("PUT", "/api/v1/risk-matrix/"+e.A.Org.ID, small); res.Status != 403 {
			t.Errorf("manager PUT matrix: %d, want 403", res.Status)
		}
		admin := e.Login(e.A.Users[auth.Admin].Email)
		if res := admin.Do("PUT", "/api/v1/risk-matrix/"+e.A.Org.ID, small); res.Status != 400 || !strings.Contains(string(res.Body), "likelihood") {
			t.Errorf("too small matrix: %d %s", res.Status, res.Body)
		}
		if res := c.Do("DELETE", "/api/v1/risks/"+r.ID, nil); res.Status != 204 {
			t.Fatalf("delete: %d", res.Status)
		}
		if res := admin.Do("PUT", "/api/v1/risk-matrix/"+e.A.Org.ID, small); res.Status != 200 {
			t.Fatalf("3x3 matrix: %d %s", res.Status, res.Body)
		}
		var l struct{ Items []riskJSON }
		if err := c.Do("GET", "/api/v1/risks", nil).JSON(&l); err != nil || len(l.Items) != 1 || l.Items[0].Rating != "G" || l.Items[0].RatingLabel != "Green" {
			t.Errorf("re-rated: %v %+v", err, l.Items)
		}

		csv := c.Do("GET", "/risks/export.csv", nil)
		if csv.Status != 200 || !strings.HasPrefix(string(csv.Body), "id,site,title") || !strings.Contains(string(csv.Body), "Rare minor") {
			t.Errorf("csv: %d %s", csv.Status, csv.Body)
		}
		if n := e.Count(`SELECT COUNT(*) FROM audit_log WHERE org_id = ? AND action LIKE 'risk.%'`, e.A.Org.ID); n < 5 {
			t.Errorf("audit rows for risk actions = %d", n)
		}
	})
}

// TestAnalysisSavesWithSameSeed checks the before/after comparison: the
// same model as its own "control" saves exactly 0 (same seed), and halving
// vulnerability roughly halves the mean ALE.
func TestAnalysisSavesWithSameSeed(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	c := e.Login(e.A.Users[auth.Manager].Email)
	r := newRisk(t, c, e.A.Site.ID, nil)
	model := func(v float64) map[string]any {
		return map[string]any{"tef": map[string]any{"dist": "pert", "min": 1, "mode": 4, "max": 10}, "vulnerability": v,
			"magnitude": map[string]any{"dist": "pert", "min": 1000, "mode": 5000, "max": 40000}}
	}
	run := func(control float64) map[string]any {
		res := c.Do("POST", "/api/v1/risks/"+r.ID+"/analyses", map[string]any{"name": "Dock theft", "model": model(0.4), "iterations": 20000, "seed": 7,
			"control": map[string]any{"name": "Dock camera", "model": model(control)}})
		if res.Status != 201 {
			t.Fatalf("analysis: %d %s", res.Status, res.Body)
		}
		var a map[string]any
		_ = json.Unmarshal(res.Body, &a)
		return a
	}
	ale := func(a map[string]any, k string) float64 { return a[k].(map[string]any)["ale_mean"].(float64) }
	same := run(0.4)
	if ale(same, "result") != ale(same, "control_result") {
		t.Errorf("same model, same seed: %v vs %v", ale(same, "result"), ale(same, "control_result"))
	}
	half := run(0.2)
	ratio := ale(half, "control_result") / ale(half, "result")
	if ratio < 0.4 || ratio > 0.6 {
		t.Errorf("halved vulnerability: ALE ratio %.3f", ratio)
	}
	for _, tc := range []struct {
		body  string
		field string
	}{
		{`{"name":"x","model":{"magnitude":{"dist":"constant","value":1}}}`, "model"},
		{`{"name":"x","iterations":10000000,"model":{"frequency":{"dist":"constant","value":1},"magnitude":{"dist":"constant","value":1}}}`, "iterations"},
		{`{"name":"x","model":{"frequency":{"dist":"pert","min":5,"mode":1,"max":2},"magnitude":{"dist":"constant","value":1}}}`, "model.frequency"},
		{`{"name":"x","model":{"frequency":{"dist":"constant","value":1e9},"magnitude":{"dist":"constant","value":1}},"iterations":200000}`, "model"},
		{`{"name":"x","model":{"frequency":{"dist":"constant","value":1},"magnitude":{"dist":"constant","value":1},"bogus":1}}`, "bogus"},
	} {
		res := c.Do("POST", "/api/v1/risks/"+r.ID+"/analyses", tc.body)
		if res.Status != 400 || !strings.Contains(string(res.Body), tc.field) {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.body, res.Status, res.Body, tc.field)
		}
	}
}

// TestPages renders every page and posts the forms a browser would.
func TestPages(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	c := e.Login(e.A.Users[auth.Manager].Email)
	res := c.Form("/risks", map[string]string{"site_id": e.A.Site.ID, "title": "Ram raid", "asset": "Shopfront", "threat": "Vehicle",
		"likelihood": "1", "consequence": "4", "status": "open", "strategy": "mitigate", "review_at": "2030-01-02",
		"treat_kind": "device", "treat_device": e.A.Device.ID, "treat_desc": "bollards"})
	if res.Status != 303 {
		t.Fatalf("create form: %d %s", res.Status, res.Body)
	}
	loc := res.Header.Get("Location")
	if res := c.Form("/risks", map[string]string{"site_id": e.A.Site.ID, "title": "", "asset": "a", "threat": "t", "likelihood": "1", "consequence": "1"}); res.Status != 400 || !strings.Contains(string(res.Body), "is required") {
		t.Errorf("invalid form: %d", res.Status)
	}
	res = c.Form(loc+"/analyses", map[string]string{"name": "Ram raid FAIR", "tef_min": "0.1", "tef_mode": "0.5", "tef_max": "2", "vulnerability": "0.5",
		"mag_min": "10000", "mag_mode": "50000", "mag_max": "400000", "control": "Bollards", "c_vulnerability": "0.05", "iterations": "5000", "seed": "3"})
	if res.Status != 303 {
		t.Fatalf("analysis form: %d %s", res.Status, res.Body)
	}
	an := res.Header.Get("Location")
	if res := c.Form(loc+"/analyses", map[string]string{"name": "bad", "tef_min": "x"}); res.Status != 400 || !strings.Contains(string(res.Body), "must be a number") {
		t.Errorf("bad analysis form: %d", res.Status)
	}
	for path, want := range map[string]string{
		"/risks":                            "Ram raid",
		"/risks?likelihood=1&consequence=4": `data-cell="1-4"`,
		"/risks/new":                        "Treatments",
		loc:                                 "Ram raid FAIR",
		loc + "/edit":                       "bollards",
		an:                                  "fair-saves",
		"/risk-matrix":                      "AS",
	} {
		res := c.Do("GET", path, nil)
		if res.Status != 200 || !strings.Contains(string(res.Body), want) {
			t.Errorf("GET %s: %d, want %q in body", path, res.Status, want)
		}
	}
	admin := e.Login(e.A.Users[auth.Admin].Email)
	if res := admin.Form("/risk-matrix", map[string]string{"matrix": "{not json"}); res.Status != 400 || !strings.Contains(string(res.Body), "not valid JSON") {
		t.Errorf("matrix page, bad JSON: %d", res.Status)
	}
	if res := admin.Form("/risk-matrix", map[string]string{"matrix": "", "reset": "1"}); res.Status != 303 {
		t.Errorf("matrix page, reset: %d %s", res.Status, res.Body)
	}
	if res := c.Form("/risk-matrix", map[string]string{"reset": "1"}); res.Status != 403 {
		t.Errorf("manager saving the matrix: %d", res.Status)
	}
	// The operator's manager reads client A's register through the
	// organisation filter, which offers the clients too.
	op := e.Login(e.Operator.Users[auth.Manager].Email)
	if res := op.Do("GET", "/risks?org_id="+e.A.Org.ID, nil); res.Status != 200 || !strings.Contains(string(res.Body), "Ram raid") ||
		!strings.Contains(string(res.Body), `<option value="`+e.B.Org.ID+`"`) {
		t.Errorf("operator reading client A's register: %d", res.Status)
	}
	// An officer has no risk access: 403, and no menu entry.
	o := e.Login(e.A.Users[auth.Officer].Email)
	if res := o.Do("GET", "/risks", nil); res.Status != 403 {
		t.Errorf("officer /risks: %d", res.Status)
	}
	// Another tenant's risk is a 404.
	b := e.Login(e.B.Users[auth.Manager].Email)
	if res := b.Do("GET", loc, nil); res.Status != 404 {
		t.Errorf("other tenant: %d", res.Status)
	}
}

// TestPathPages creates a path model from the page, edits it through the
// table editor, and reads P(I) and the upgrade ranking from page and API.
func TestPathPages(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	c := e.Login(e.A.Users[auth.Manager].Email)
	res := c.Form("/risk-paths", map[string]string{"site_id": e.A.Site.ID, "name": "Cash office"})
	if res.Status != 303 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	loc := res.Header.Get("Location")
	if res := c.Do("GET", loc, nil); res.Status != 200 || !strings.Contains(string(res.Body), `id="facility-pi"`) || !strings.Contains(string(res.Body), "Perimeter fence") {
		t.Fatalf("show: %d", res.Status)
	}
	// The editor repeats e_* fields; apptest's Form takes a map, so post the
	// encoded body directly.
	body := "name=Cash+office&start=out&target=safe&rft_mean=120&rft_sd=36&p_communication=1" +
		"&e_id=&e_from=out&e_to=safe&e_name=Door&e_pd=0.9&e_loc=B&e_dmean=90&e_dsd=27&e_link=zone:" + e.A.Zone.ID +
		"&e_id=&e_from=out&e_to=safe&e_name=Window&e_pd=0.1&e_loc=B&e_dmean=90&e_dsd=27&e_link="
	req := postRaw(t, e, c, loc, body)
	if req.Status != 303 {
		t.Fatalf("save: %d %s", req.Status, req.Body)
	}
	var a struct {
		PI       float64 `json:"p_interruption"`
		Upgrades []struct {
			EdgeID string `json:"edge_id"`
			Kind   string
		}
	}
	if err := c.Do("GET", "/api/v1"+loc+"/analysis?pd_step=0.3", nil).JSON(&a); err != nil || a.PI <= 0 || len(a.Upgrades) == 0 || a.Upgrades[0].EdgeID != "e2" {
		t.Fatalf("analysis: %v %+v", err, a)
	}
	if res := c.Do("GET", "/api/v1"+loc+"/analysis?pd_step=2", nil); res.Status != 400 {
		t.Errorf("pd_step 2: %d", res.Status)
	}
	bad := postRaw(t, e, c, loc, "name=x&start=out&target=safe&rft_mean=60&e_from=out&e_to=safe&e_pd=1.5&e_dmean=1&e_loc=M")
	if bad.Status != 400 || !strings.Contains(string(bad.Body), "p_detection") {
		t.Errorf("invalid P(D): %d", bad.Status)
	}
}

// postRaw posts an already-encoded form the way a browser does (same origin).
func postRaw(t *testing.T, e *apptest.Env, c *apptest.Client, path, body string) apptest.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", e.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return apptest.Response{Status: res.StatusCode, Header: res.Header, Body: b}
}
