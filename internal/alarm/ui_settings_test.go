package alarm_test

import (
	"strings"
	"testing"

	"vigil/internal/alarm"
	"vigil/internal/app/apptest"
	"vigil/internal/auth"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestSettingsHTTP drives the escalation settings through the real router:
// API and page, bad input refused with the field named and nothing
// written, another tenant's organisation not found, the operator's times
// inherited by clients without their own.
func TestSettingsHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		admin := e.Login(e.A.Users[auth.Admin].Email)
		rows := func() int { return e.Count(`SELECT COUNT(*) FROM alarm_settings`) }

		var st alarm.Settings
		res := admin.Do("GET", "/api/v1/alarm-settings", nil)
		if res.Status != 200 || res.JSON(&st) != nil || st.Source != "default" || st.EscalateP1S != 30 || st.OrgID != e.A.Org.ID {
			t.Fatalf("defaults: %d %s", res.Status, res.Body)
		}

		for _, bad := range []struct {
			body  any
			field string
		}{
			{map[string]any{"escalate_p1_s": 0}, "escalate_p1_s"},
			{map[string]any{"escalate_p1_s": 900}, "escalate_p1_s"},
			{map[string]any{"escalate_p2_s": 3}, "escalate_p2_s"},
			{map[string]any{"escalate_p3_s": -5}, "escalate_p3_s"},
			{map[string]any{"escalate_p4_s": "ten"}, "escalate_p4_s"},
			{map[string]any{"escalate_p5_s": 10}, "escalate_p5_s"},
		} {
			res := admin.Do("PUT", "/api/v1/alarm-settings", bad.body)
			if res.Status != 400 || !strings.Contains(string(res.Body), bad.field) {
				t.Errorf("PUT %v: %d %s, want 400 naming %s", bad.body, res.Status, res.Body, bad.field)
			}
		}
		if n := rows(); n != 0 {
			t.Fatalf("refused input wrote %d settings rows", n)
		}

		// Fields left out keep their values.
		res = admin.Do("PUT", "/api/v1/alarm-settings", map[string]any{"escalate_p2_s": 45})
		if res.Status != 200 || res.JSON(&st) != nil || st.Source != "own" || st.EscalateP2S != 45 || st.EscalateP1S != 30 || st.EscalateP4S != 600 {
			t.Fatalf("PUT: %d %s", res.Status, res.Body)
		}
		if n := e.Count(`SELECT COUNT(*) FROM audit_log WHERE org_id = ? AND action = 'alarm_settings.update'`, e.A.Org.ID); n != 1 {
			t.Fatalf("audit rows: %d", n)
		}

		// Another tenant's organisation: not found, nothing written.
		for _, req := range []struct {
			method, path string
			body         any
		}{{"GET", "/api/v1/alarm-settings?org_id=" + e.B.Org.ID, nil}, {"PUT", "/api/v1/alarm-settings", map[string]any{"org_id": e.B.Org.ID, "escalate_p1_s": 20}}} {
			if res := admin.Do(req.method, req.path, req.body); res.Status != 404 {
				t.Errorf("%s %s for client B: %d, want 404", req.method, req.path, res.Status)
			}
		}
		if res := admin.Form("/alarm-settings", map[string]string{"org_id": e.B.Org.ID, "escalate_p1_s": "20", "escalate_p2_s": "60", "escalate_p3_s": "0", "escalate_p4_s": "0"}); res.Status != 404 {
			t.Errorf("form for client B: %d, want 404", res.Status)
		}
		// Handling alarms is not administering them.
		if res := e.Login(e.A.Users[auth.Dispatcher].Email).Do("PUT", "/api/v1/alarm-settings", map[string]any{"escalate_p1_s": 20}); res.Status != 403 {
			t.Errorf("dispatcher PUT: %d, want 403", res.Status)
		}
		if n := e.Count(`SELECT COUNT(*) FROM alarm_settings WHERE org_id <> ?`, e.A.Org.ID); n != 0 {
			t.Fatalf("settings written outside client A: %d", n)
		}

		// The page: bad values are shown on the form with status 400.
		form := map[string]string{"org_id": e.A.Org.ID, "escalate_p1_s": "soon", "escalate_p2_s": "60", "escalate_p3_s": "300", "escalate_p4_s": "600"}
		res = admin.Form("/alarm-settings", form)
		if res.Status != 400 || !strings.Contains(string(res.Body), "must be a whole number of seconds") || !strings.Contains(string(res.Body), `value="soon"`) {
			t.Fatalf("form with text: %d %s", res.Status, res.Body)
		}
		form["escalate_p1_s"] = "3600"
		res = admin.Form("/alarm-settings", form)
		if res.Status != 400 || !strings.Contains(string(res.Body), "life-safety alarms always escalate") {
			t.Fatalf("form with a late priority 1: %d %s", res.Status, res.Body)
		}
		form["escalate_p1_s"] = "20"
		if res := admin.Form("/alarm-settings", form); res.Status != 303 {
			t.Fatalf("form save: %d %s", res.Status, res.Body)
		}
		admin.Do("GET", "/api/v1/alarm-settings", nil).JSON(&st)
		if st.EscalateP1S != 20 || st.EscalateP2S != 60 {
			t.Fatalf("after the form: %+v", st)
		}
		page := admin.Do("GET", "/alarm-settings", nil)
		if page.Status != 200 || !strings.Contains(string(page.Body), "set for this organisation") || !strings.Contains(string(page.Body), `href="/alarm-settings"`) {
			t.Fatalf("page: %d %s", page.Status, page.Body)
		}

		// The operator sets its centre's times; client B has none and
		// follows them. Client A's own times stay.
		op := e.User(e.Operator.Org.ID, "alarm-admin@operator.test", auth.Admin)
		opc := e.Login(op.Email)
		if res := opc.Do("PUT", "/api/v1/alarm-settings", map[string]any{"escalate_p1_s": 15, "escalate_p2_s": 30}); res.Status != 200 {
			t.Fatalf("operator PUT: %d %s", res.Status, res.Body)
		}
		b := e.Login(e.B.Users[auth.Admin].Email)
		b.Do("GET", "/api/v1/alarm-settings", nil).JSON(&st)
		if st.Source != "parent" || st.EscalateP1S != 15 {
			t.Fatalf("client B inherits: %+v", st)
		}
		admin.Do("GET", "/api/v1/alarm-settings", nil).JSON(&st)
		if st.Source != "own" || st.EscalateP1S != 20 {
			t.Fatalf("client A keeps its own: %+v", st)
		}

		// Reset from the page: A follows the operator too.
		if res := admin.Form("/alarm-settings", map[string]string{"org_id": e.A.Org.ID, "reset": "1"}); res.Status != 303 {
			t.Fatalf("reset: %d %s", res.Status, res.Body)
		}
		admin.Do("GET", "/api/v1/alarm-settings", nil).JSON(&st)
		if st.Source != "parent" || st.EscalateP1S != 15 {
			t.Fatalf("after reset: %+v", st)
		}
	})
}
