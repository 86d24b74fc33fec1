package investigation_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"vigil/internal/app/apptest"
	"vigil/internal/auth"
	"vigil/internal/investigation"
	"vigil/internal/store/storetest"
)

// TestPages fills a threat case with everything a case can hold through the
// forms, then renders every page: a template error would be a 500.
func TestPages(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	inv := e.Login(e.A.Users[auth.Investigator].Email)
	res := inv.Form("/cases", map[string]string{"org_id": e.A.Org.ID, "type": "threat", "title": "Threat against reception", "due_at": "2030-01-02T10:00"})
	if res.Status != 303 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	id := strings.TrimPrefix(res.Header.Get("Location"), "/cases/")
	c := "/cases/" + id
	if res := inv.Do("GET", c, nil); res.Status != 200 {
		t.Fatalf("empty threat case page: %d %.3000s", res.Status, res.Body)
	}
	for _, f := range []struct {
		path string
		form map[string]string
	}{
		{c + "/parties", map[string]string{"kind": "subject", "name": "J. Doe", "details": "former contractor"}},
		{c + "/allegations", map[string]string{"text": "Threatened reception staff by phone"}},
		{c + "/notes", map[string]string{"body": "Called the police liaison.", "shareable": "on"}},
		{c + "/actions", map[string]string{"kind": "control_change", "stage": "recommended", "description": "Visitor pre-registration"}},
		{c + "/tasks", map[string]string{"title": "Pull phone records", "task_due_at": "2030-01-01T09:00"}},
		{c + "/time", map[string]string{"minutes": "45", "note": "interviews"}},
		{c + "/links", map[string]string{"kind": "incident", "ref": "INC-2026-0042"}},
		{c + "/interviews", map[string]string{"interviewee": "Receptionist", "interviewers": "investigator user", "scheduled_at": "2030-01-01T11:00"}},
		{c + "/assessments", map[string]string{"level": "high", "plan": "Escort on arrival; ban from site", "next_review_at": "2030-01-08T09:00", "behaviours": "direct_threat"}},
		{c + "/bolos", map[string]string{"subject_name": "J. Doe", "description": "Tall, grey coat", "site_ids": e.A.Site.ID}},
		{c + "/revocations", map[string]string{"person": "J. Doe", "credentials": "badge 4471", "reason": "banned from site"}},
		{c + "/evidence", map[string]string{"kind": "physical", "label": "Voicemail cassette", "location": "Locker 3"}},
	} {
		if res := inv.Form(f.path, f.form); res.Status != 303 {
			t.Fatalf("POST %s: %d %s", f.path, res.Status, res.Body)
		}
	}
	// A validation error re-renders the case with a 400 and nothing written.
	if res := inv.Form(c+"/assessments", map[string]string{"level": "imminent"}); res.Status != 400 || !bytes.Contains(res.Body, []byte("plan")) {
		t.Fatalf("invalid assessment: %d", res.Status)
	}
	var ev []investigation.Evidence
	must(t, inv.Do("GET", "/api/v1"+c+"/evidence", nil), 200, &ev)
	// Record the scheduled interview's statement through its own form, as
	// the page renders it (the hidden scheduled time must round-trip).
	var ivs []investigation.Interview
	must(t, inv.Do("GET", "/api/v1"+c+"/interviews", nil), 200, &ivs)
	page := inv.Do("GET", c, nil)
	sched := between(page.Body, `name="scheduled_at" value="`, `"`)
	if sched == "" {
		t.Fatal("record form lacks the scheduled time")
	}
	if res := inv.Form(c+"/interviews/"+ivs[0].ID, map[string]string{"interviewee": "Receptionist", "scheduled_at": sched, "recorded_at": "2030-01-01T11:30",
		"statement": "He said he would come back.", "signed": "on"}); res.Status != 303 {
		t.Fatalf("record statement: %d %s", res.Status, res.Body)
	}
	must(t, inv.Do("GET", "/api/v1"+c+"/interviews", nil), 200, &ivs)
	if !ivs[0].Signed || !ivs[0].ScheduledAt.Equal(*ivs[0].ScheduledAt) || ivs[0].RecordedAt == nil {
		t.Fatalf("interview %+v", ivs[0])
	}
	if res := inv.Do("PUT", "/api/v1"+c+"/interviews/"+ivs[0].ID, map[string]any{"interviewee": "x", "recorded_at": "2030-01-01T11:30:00Z", "statement": "changed"}); res.Status != 400 {
		t.Fatalf("changing a signed statement: %d", res.Status)
	}
	officer := e.Login(e.A.Users[auth.Officer].Email)
	for _, pg := range []struct {
		c      *apptest.Client
		path   string
		status int
		want   string
	}{
		{inv, "/cases", 200, "Threat against reception"},
		{inv, c, 200, "Escort on arrival"},
		{inv, c + "/evidence/" + ev[0].ID, 200, "Locker 3"},
		{inv, "/cases/new", 200, "Open case"},
		{inv, "/cases/stats", 200, "Median days to close"},
		{inv, c + "/access", 200, "case.view"},
		{officer, "/bolos", 200, "Tall, grey coat"},
		{officer, "/cases", 403, ""},
		{e.Login(e.A.Users[auth.Owner].Email), "/investigation/settings", 200, "hotline/client-a"},
		{e.Anon(), "/hotline/client-a", 200, "Report a concern"},
		{e.Anon(), "/hotline/client-a/status", 200, "Case key"},
		{e.Anon(), "/hotline/nope", 404, ""},
	} {
		res := pg.c.Do("GET", pg.path, nil)
		if res.Status != pg.status || !bytes.Contains(res.Body, []byte(pg.want)) {
			t.Errorf("GET %s: %d (want %d), want %q in:\n%.2000s", pg.path, res.Status, pg.status, pg.want, res.Body)
		}
	}
	// Nothing of the case leaks onto the officers' BOLO board.
	if res := officer.Do("GET", "/bolos", nil); bytes.Contains(res.Body, []byte("Threat against reception")) || bytes.Contains(res.Body, []byte(id)) {
		t.Error("BOLO board shows the case")
	}
}

// TestHotlinePagesNoJS files and answers a report through the plain HTML
// forms, with no cookie set at any step.
func TestHotlinePagesNoJS(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	anon := e.Anon()
	res := anon.Form("/hotline/client-a", map[string]string{"category": "harassment", "text": "My supervisor keeps making comments about my religion."})
	if res.Status != 201 {
		t.Fatalf("report: %d %s", res.Status, res.Body)
	}
	key, pw := between(res.Body, `id="case-key">`, "<"), between(res.Body, `id="case-password">`, "<")
	if len(key) != 19 || len(pw) != 14 {
		t.Fatalf("receipt key %q password %q", key, pw)
	}
	res = anon.Form("/hotline/client-a/status", map[string]string{"case_key": key, "password": pw})
	if res.Status != 200 || !bytes.Contains(res.Body, []byte("comments about my religion")) {
		t.Fatalf("status: %d", res.Status)
	}
	tok := between(res.Body, `name="t" value="`, `"`)
	res = anon.Form("/hotline/client-a/reply", map[string]string{"t": tok, "text": "It happened again on Monday."})
	if res.Status != 200 || !bytes.Contains(res.Body, []byte("again on Monday")) {
		t.Fatalf("add info: %d", res.Status)
	}
	if res := anon.Form("/hotline/client-a/status", map[string]string{"case_key": key, "password": "WRONG-WRONG-WRONG"}); res.Status != 401 || !bytes.Contains(res.Body, []byte("wrong case key or password")) {
		t.Fatalf("wrong password: %d", res.Status)
	}
	u, _ := http.NewRequest("GET", e.URL, nil)
	if cs := anon.HTTP.Jar.Cookies(u.URL); len(cs) != 0 {
		t.Fatalf("the reporter got cookies: %v", cs)
	}
	var cid string
	if err := e.App.DB.QueryRow(t.Context(), `SELECT id FROM cases WHERE source = 'hotline'`).Scan(&cid); err != nil {
		t.Fatal(err)
	}
	owner := e.Login(e.A.Users[auth.Owner].Email)
	if res := owner.Form("/cases/"+cid+"/replies", map[string]string{"body": "Thank you. Which Monday?", "feedback": ""}); res.Status != 303 {
		t.Fatalf("reply: %d", res.Status)
	}
	if res := owner.Form("/cases/"+cid, map[string]string{"type": "harassment", "title": "Religious harassment, shift B", "lead_id": e.A.Users[auth.Investigator].ID}); res.Status != 303 {
		t.Fatalf("triage: %d %s", res.Status, res.Body)
	}
	var c investigation.Case
	must(t, owner.Do("GET", "/api/v1/cases/"+cid, nil), 200, &c)
	if c.Status != "open" || c.LeadID != e.A.Users[auth.Investigator].ID || c.AckedAt == nil {
		t.Fatalf("triaged case %+v", c)
	}
	res = anon.Form("/hotline/client-a/status", map[string]string{"case_key": strings.ToLower(key), "password": pw})
	if !bytes.Contains(res.Body, []byte("Which Monday?")) || !bytes.Contains(res.Body, []byte("Being looked into")) {
		t.Fatalf("reporter does not see the reply: %s", res.Body)
	}
}

func between(b []byte, start, end string) string {
	s := string(b)
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	j := strings.Index(s, end)
	if j < 0 {
		return ""
	}
	return s[:j]
}
