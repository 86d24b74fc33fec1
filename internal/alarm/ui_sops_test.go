package alarm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"vigil/internal/alarm"
	"vigil/internal/alarm/dc09"
	"vigil/internal/app/apptest"
	"vigil/internal/auth"
	"vigil/internal/browsertest"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// sopFormValues is the editor's form for steps, as a browser posts it.
func sopFormValues(name, typ, site string, steps []alarm.Step) map[string]string {
	f := map[string]string{"name": name, "alarm_type": typ, "site_id": site, "steps": fmt.Sprint(len(steps)), "op": "save"}
	for i, st := range steps {
		k := fmt.Sprintf("s%d-", i)
		f[k+"id"], f[k+"text"], f[k+"kind"], f[k+"call"] = st.ID, st.Text, st.Kind, st.Call
		if st.Required {
			f[k+"required"] = "on"
		}
		f[k+"answers"] = fmt.Sprint(len(st.Answers) + 1) // the editor always shows a spare row
		for j, a := range st.Answers {
			f[fmt.Sprintf("%sa%d-label", k, j)], f[fmt.Sprintf("%sa%d-next", k, j)] = a.Label, a.Next
		}
	}
	return f
}

var sopSteps = []alarm.Step{
	{ID: "look", Text: "Look at the cameras of the zone.", Kind: "check", Required: true},
	{ID: "manager", Text: "Is the site manager on site?", Kind: "question", Required: true,
		Answers: []alarm.Answer{{Label: "Yes – they check", Next: "end"}, {Label: "No", Next: "police"}}},
	{ID: "police", Text: "Call the police.", Kind: "call", Call: "police", Required: true},
}

// TestSOPPages drives the SOP editor through the real router: list,
// start from the shipped one, editor buttons, refused saves with every
// problem on its field and nothing written, a save with a question step,
// edit, site variant, read-only view, another tenant's SOPs not found, and
// removal, all audited.
func TestSOPPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		admin := e.Login(e.A.Users[auth.Admin].Email)
		count := func() int { return e.Count(`SELECT COUNT(*) FROM alarm_sops`) }
		body := func(r apptest.Response) string { return string(r.Body) }

		list := admin.Do("GET", "/alarm-sops", nil)
		if list.Status != 200 || !strings.Contains(body(list), "Intrusion alarm") || !strings.Contains(body(list), "/alarm-sops/new?type=burglary&amp;org_id="+e.A.Org.ID) {
			t.Fatalf("list: %d %s", list.Status, list.Body)
		}
		// Start from the shipped procedure: its steps are in the form.
		res := admin.Do("GET", "/alarm-sops/new?type=burglary", nil)
		if res.Status != 200 || !strings.Contains(body(res), "Review related signals and cameras") || !strings.Contains(body(res), `name="s2-a1-label" value="Explained by keyholder (valid password)"`) {
			t.Fatalf("new from default: %d %s", res.Status, res.Body)
		}
		if res := admin.Do("GET", "/alarm-sops/new?type=volcano", nil); res.Status != 400 {
			t.Fatalf("unknown type: %d", res.Status)
		}

		// Editor buttons re-show the form and write nothing.
		f := sopFormValues("Intrusion (bank)", "burglary", "", sopSteps)
		f["op"] = "add"
		res = admin.Form("/alarm-sops", f)
		if res.Status != 200 || !strings.Contains(body(res), `name="steps" value="4"`) || !strings.Contains(body(res), `name="s3-id" value="step-4"`) {
			t.Fatalf("add step: %d %s", res.Status, res.Body)
		}
		f["op"] = "down-0"
		res = admin.Form("/alarm-sops", f)
		if res.Status != 200 || !strings.Contains(body(res), `name="s0-id" value="manager"`) {
			t.Fatalf("move down: %d %s", res.Status, res.Body)
		}
		f["op"] = "explode-1"
		if res := admin.Form("/alarm-sops", f); res.Status != 400 {
			t.Fatalf("unknown editor op: %d", res.Status)
		}

		// A refused save names every problem on its field.
		bad := sopFormValues("", "burglary", "", []alarm.Step{
			{ID: "a", Text: "", Kind: "check"},
			{ID: "b", Text: "Is it real?", Kind: "question", Answers: []alarm.Answer{{Label: "Yes"}}},
			{ID: "c", Text: "Call someone", Kind: "call"},
			{ID: "d", Text: "Back?", Kind: "question", Answers: []alarm.Answer{{Label: "Yes", Next: "b"}, {Label: "No"}}},
		})
		res = admin.Form("/alarm-sops", bad)
		for _, want := range []string{"5 things need", "give the procedure a name", "write the instruction", "a question needs 2–10 answers",
			"choose whom to call", "an answer can only lead to a later step", "e-s0-text"} {
			if !strings.Contains(body(res), want) {
				t.Errorf("refused save lacks %q", want)
			}
		}
		if res.Status != 400 || count() != 0 || e.Count(`SELECT COUNT(*) FROM audit_log WHERE action LIKE 'alarm_sop.%'`) != 0 {
			t.Fatalf("refused save: %d, %d SOPs written", res.Status, count())
		}

		// A good save.
		f["op"] = "save"
		delete(f, "s3-id")
		f["steps"] = "3"
		if res := admin.Form("/alarm-sops", f); res.Status != 303 {
			t.Fatalf("save: %d %s", res.Status, res.Body)
		}
		var id, stepsJSON string
		if err := db.QueryRow(context.Background(), `SELECT id, steps FROM alarm_sops WHERE org_id = ? AND alarm_type = 'burglary' AND site_id = ''`, e.A.Org.ID).Scan(&id, &stepsJSON); err != nil {
			t.Fatal(err)
		}
		var got []alarm.Step
		json.Unmarshal([]byte(stepsJSON), &got)
		if len(got) != 3 || got[1].Kind != "question" || len(got[1].Answers) != 2 || got[1].Answers[1].Next != "police" || got[2].Call != "police" {
			t.Fatalf("stored steps: %+v", got)
		}
		if n := e.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'alarm_sop.put' AND object_id = ?`, id); n != 1 {
			t.Fatalf("audit: %d", n)
		}
		// A second one for the same type and scope is refused, not merged.
		if res := admin.Form("/alarm-sops", f); res.Status != 400 || !strings.Contains(body(res), "already is a procedure") {
			t.Fatalf("duplicate: %d %s", res.Status, res.Body)
		}
		list = admin.Do("GET", "/alarm-sops", nil)
		if !strings.Contains(body(list), `href="/alarm-sops/`+id+`">Intrusion (bank)</a> <span class="badge ok">yours</span>`) {
			t.Fatalf("list after save: %s", list.Body)
		}

		// Edit: the type and site stay; the name changes.
		f["name"] = "Intrusion (bank, v2)"
		f["alarm_type"] = "fire"
		if res := admin.Form("/alarm-sops/"+id, f); res.Status != 303 {
			t.Fatalf("edit: %d %s", res.Status, res.Body)
		}
		if n := e.Count(`SELECT COUNT(*) FROM alarm_sops WHERE id = ? AND name = 'Intrusion (bank, v2)' AND alarm_type = 'burglary'`, id); n != 1 {
			t.Fatal("edit did not keep the type or change the name")
		}
		// A site variant: the alarm at that site gets it.
		f = sopFormValues("Intrusion (HQ)", "burglary", e.A.Site.ID, sopSteps[:1])
		if res := admin.Form("/alarm-sops", f); res.Status != 303 {
			t.Fatalf("site variant: %d %s", res.Status, res.Body)
		}
		sop, err := e.App.Alarm.S.SOPFor(context.Background(), &alarm.Alarm{OrgID: e.A.Org.ID, SiteID: e.A.Site.ID, Type: "burglary"})
		if err != nil || sop.Name != "Intrusion (HQ)" {
			t.Fatalf("SOP for the site: %v %+v", err, sop)
		}

		// Readers see the procedure, without the means to change it.
		disp := e.Login(e.A.Users[auth.Dispatcher].Email)
		if res := disp.Do("GET", "/alarm-sops/"+id, nil); res.Status != 200 || !strings.Contains(body(res), "<fieldset class=\"panel\" disabled>") || strings.Contains(body(res), "sop-save") {
			t.Fatalf("read-only view: %d %s", res.Status, res.Body)
		}
		if res := disp.Form("/alarm-sops/"+id, f); res.Status != 403 {
			t.Fatalf("dispatcher save: %d", res.Status)
		}
		if res := disp.Form("/alarm-sops", f); res.Status != 403 {
			t.Fatalf("dispatcher create: %d", res.Status)
		}

		// Client B's procedures do not exist for client A.
		bAdmin := e.Login(e.B.Users[auth.Admin].Email)
		if res := bAdmin.Form("/alarm-sops", sopFormValues("B's fire", "fire", "", sopSteps)); res.Status != 303 {
			t.Fatalf("B save: %d %s", res.Status, res.Body)
		}
		var bID string
		db.QueryRow(context.Background(), `SELECT id FROM alarm_sops WHERE org_id = ?`, e.B.Org.ID).Scan(&bID)
		for _, r := range []struct {
			method, path string
		}{{"GET", "/alarm-sops/" + bID}, {"POST", "/alarm-sops/" + bID}, {"POST", "/alarm-sops/" + bID + "/delete"},
			{"GET", "/alarm-sops?org_id=" + e.B.Org.ID}, {"GET", "/alarm-sops/new?from=" + bID}} {
			var res apptest.Response
			if r.method == "GET" {
				res = admin.Do("GET", r.path, nil)
			} else {
				res = admin.Form(r.path, sopFormValues("Taken over", "fire", "", sopSteps))
			}
			if res.Status != 404 {
				t.Errorf("%s %s as client A: %d, want 404", r.method, r.path, res.Status)
			}
		}
		if res := admin.Form("/alarm-sops", sopFormValues("At B's site", "fire", e.B.Site.ID, sopSteps)); res.Status != 400 || !strings.Contains(body(res), "is not a site you administer") {
			t.Errorf("SOP for client B's site: %d %s", res.Status, res.Body)
		}
		if n := e.Count(`SELECT COUNT(*) FROM alarm_sops WHERE org_id = ? AND name = 'B''s fire'`, e.B.Org.ID); n != 1 {
			t.Fatalf("client B's SOP changed")
		}

		// Remove: the shipped one applies again.
		if res := admin.Form("/alarm-sops/"+id+"/delete", nil); res.Status != 303 {
			t.Fatalf("delete: %d", res.Status)
		}
		sop, _ = e.App.Alarm.S.SOPFor(context.Background(), &alarm.Alarm{OrgID: e.A.Org.ID, SiteID: "elsewhere", Type: "burglary"})
		if !sop.Builtin {
			t.Fatalf("after delete: %+v", sop)
		}
		if n := e.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'alarm_sop.delete' AND object_id = ?`, id); n != 1 {
			t.Fatalf("delete audit: %d", n)
		}
	})
}

// TestSOPEditorInBrowser: an administrator customises the shipped
// intrusion procedure in real Chromium — removes a step, adds a question
// whose "yes" ends the procedure, moves it to the top, marks it required —
// and the next intrusion alarm is worked with it: the answer is recorded
// and the steps it skips are off the path, so the alarm can be resolved.
func TestSOPEditorInBrowser(t *testing.T) {
	b := browsertest.New(t)
	e := startEnv(t, storetest.SQLite(t))
	e.provision(e.login(auth.Admin), "5678", nil)

	p := b.Tab(t)
	p.Navigate(e.url + "/login")
	p.Fill("#f-email", e.users[auth.Admin])
	p.Fill("#f-password", password)
	if st := p.ClickLink("main form", "Sign in"); st != 200 {
		t.Fatalf("sign in: %d", st)
	}
	p.Navigate(e.url + "/alarm-sops?org_id=" + e.client.ID)
	p.WaitText("#sop-type-burglary", "shipped")
	if st := p.ClickLink("#sop-type-burglary", "Customise"); st != 200 {
		t.Fatalf("customise: %d", st)
	}
	p.WaitText("#sop-step-0", "Review related signals")
	p.Fill("#f-name", "Intrusion – bank branches")
	if st := p.ClickAndWait(`#sop-step-0 button[value="remove-0"]`); st != 200 {
		t.Fatalf("remove: %d", st)
	}
	if st := p.ClickAndWait("#sop-add-step"); st != 200 {
		t.Fatalf("add step: %d", st)
	}
	// The new step is the fifth; the call list hides for a question and
	// its answers open (alarm_sop.js).
	typeInto(t, p, "#f-s4-text", "Is the branch manager on site?") // an empty textarea: Fill cannot clear it
	p.Select("#f-s4-kind", "Question — the answer chooses the next step")
	p.WaitHidden("#sop-step-4 .sop-call")
	p.Fill("#f-s4-a0-label", "Yes – the manager checks")
	p.Select("#f-s4-a0-next", "End the procedure")
	p.Fill("#f-s4-a1-label", "No")
	p.Click("#f-s4-required")
	for i := 4; i > 0; i-- {
		if st := p.ClickAndWait(fmt.Sprintf(`#sop-step-%d button[value="up-%d"]`, i, i)); st != 200 {
			t.Fatalf("move up: %d", st)
		}
	}
	p.WaitText("#sop-step-0", "step-5")
	if v := browsertest.Eval[string](p, `document.querySelector("#f-s0-text").value`); v != "Is the branch manager on site?" {
		t.Fatalf("moved step text: %q", v)
	}
	if st := p.ClickAndWait("#sop-save"); st != 200 {
		t.Fatalf("save: %d", st)
	}
	p.WaitText("main .flash", "saved")
	p.WaitText("#sop-type-burglary", "Intrusion – bank branches")

	// The next intrusion is worked with it.
	if got := e.panel().send(dc09.TokenCID, "5678", "#5678|1130 01 003", 1); got != "ACK" {
		t.Fatalf("frame: %s", got)
	}
	p.Navigate(e.url + "/alarms")
	if st := p.ClickLink("#alarm-queue tbody tr", "Burglary — Vault corridor"); st != 200 {
		t.Fatalf("open alarm: %d", st)
	}
	p.WaitText("#sop-h", "Intrusion – bank branches")
	p.WaitText("#step-step-5", "Is the branch manager on site?")
	if st := p.ClickAndWait("#ack-btn"); st != 200 {
		t.Fatalf("ack: %d", st)
	}
	if st := p.ClickLink("#step-step-5", "Yes – the manager checks"); st != 200 {
		t.Fatalf("answer: %d", st)
	}
	p.WaitText("#step-step-5", "answered")
	p.WaitText("#step-keyholder", "off_path")
	p.Select("#f-disposition", "False – user error")
	if st := p.ClickAndWait("#resolve-btn"); st != 200 {
		t.Fatalf("resolve: %d", st)
	}
	p.WaitText("main .flash", "Alarm resolved.")
	p.CheckConsole()
}

// typeInto types into an empty field key by key (browsertest's Fill clears
// first, which chromedp cannot do on a textarea without a text node).
func typeInto(t *testing.T, p *browsertest.Tab, sel, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.Context(), browsertest.ActionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text)); err != nil {
		t.Fatalf("type into %s: %v", sel, err)
	}
}
