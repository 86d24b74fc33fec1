package investigation_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigil/internal/app/apptest"
	"vigil/internal/auth"
	"vigil/internal/investigation"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

func svc(e *apptest.Env) *investigation.Service {
	return investigation.NewService(e.App.DB, e.App.Blob, e.App.Auth, e.App.Orgs, e.App.Now)
}

// upload posts a multipart evidence upload as the API documents it.
func upload(t *testing.T, e *apptest.Env, c *apptest.Client, caseID, name string, content []byte, desc string) apptest.Response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("description", desc)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", e.URL+"/api/v1/cases/"+caseID+"/evidence", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return apptest.Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func must(t *testing.T, res apptest.Response, status int, v any) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d: %s", res.Status, status, res.Body)
	}
	if v != nil {
		if err := res.JSON(v); err != nil {
			t.Fatalf("decode %s: %v", res.Body, err)
		}
	}
}

// TestNeedToKnow: a user outside the team gets 404 on the case and its
// evidence even with a role that may read cases; a grant or a case-wide
// role opens it; every read is in the owner-visible access log.
func TestNeedToKnow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		inv := e.Login(e.A.Users[auth.Investigator].Email)
		outsiderU := e.User(e.A.Org.ID, "outsider@client-a.test", auth.Investigator)
		outsider := e.Login(outsiderU.Email)

		var c investigation.Case
		must(t, inv.Do("POST", "/api/v1/cases", map[string]any{"type": "fraud", "title": "Expense fraud in depot"}), 201, &c)
		if c.ID == "" || c.OrgID != e.A.Org.ID || c.Type != "fraud" || c.Status != "open" || c.Title == "" {
			t.Fatalf("case %+v", c)
		}
		var ev investigation.Evidence
		must(t, upload(t, e, inv, c.ID, "ledger.csv", []byte("a,b\n1,2\n"), "ledger export"), 201, &ev)

		for _, path := range []string{"/cases/" + c.ID, "/cases/" + c.ID + "/evidence", "/cases/" + c.ID + "/custody", "/cases/" + c.ID + "/interviews",
			"/cases/" + c.ID + "/evidence/" + ev.ID + "/file"} {
			if res := outsider.Do("GET", "/api/v1"+path, nil); res.Status != 404 {
				t.Errorf("outsider GET %s: %d, want 404", path, res.Status)
			}
		}
		for _, path := range []string{"/cases/" + c.ID, "/cases/" + c.ID + "/evidence/" + ev.ID} {
			if res := outsider.Do("GET", path, nil); res.Status != 404 {
				t.Errorf("outsider page %s: %d, want 404", path, res.Status)
			}
		}
		var list struct{ Items []investigation.Case }
		must(t, outsider.Do("GET", "/api/v1/cases", nil), 200, &list)
		if len(list.Items) != 0 {
			t.Fatalf("outsider lists %d cases", len(list.Items))
		}
		if res := e.Login(e.A.Users[auth.Officer].Email).Do("GET", "/api/v1/cases/"+c.ID, nil); res.Status != 403 {
			t.Errorf("officer: %d, want 403", res.Status)
		}
		// The owner has case-wide access; an admin does not until given it.
		owner := e.Login(e.A.Users[auth.Owner].Email)
		must(t, owner.Do("GET", "/api/v1/cases/"+c.ID, nil), 200, nil)
		admin := e.Login(e.A.Users[auth.Admin].Email)
		if res := admin.Do("GET", "/api/v1/cases/"+c.ID, nil); res.Status != 404 {
			t.Fatalf("admin before case-wide access: %d", res.Status)
		}
		must(t, owner.Do("PUT", "/api/v1/investigation/settings/"+e.A.Org.ID, map[string]any{"case_wide_roles": []string{"admin"}}), 200, nil)
		must(t, admin.Do("GET", "/api/v1/cases/"+c.ID, nil), 200, nil)
		if res := admin.Do("PUT", "/api/v1/investigation/settings/"+e.A.Org.ID, map[string]any{"case_wide_roles": []string{"admin", "manager"}}); res.Status != 403 {
			t.Fatalf("admin changing case-wide roles: %d, want 403", res.Status)
		}
		// The lead grants the outsider read access.
		must(t, inv.Do("POST", "/api/v1/cases/"+c.ID+"/members", map[string]any{"user_id": outsiderU.ID, "role": "granted"}), 201, nil)
		must(t, outsider.Do("GET", "/api/v1/cases/"+c.ID+"/evidence", nil), 200, nil)
		// A granted user may not manage the team or read the access log.
		if res := outsider.Do("GET", "/api/v1/cases/"+c.ID+"/access-log", nil); res.Status != 403 {
			t.Fatalf("granted user reading access log: %d", res.Status)
		}
		var log []struct{ Actor, Action, Data string }
		must(t, owner.Do("GET", "/api/v1/cases/"+c.ID+"/access-log?limit=500", nil), 200, &log)
		looked := map[string]bool{}
		for _, x := range log {
			if x.Action == "case.view" {
				looked[x.Actor] = true
			}
		}
		for _, who := range []string{outsiderU.Email, e.A.Users[auth.Admin].Email, e.A.Users[auth.Owner].Email} {
			if !looked[who] {
				t.Errorf("access log misses %s: %+v", who, log)
			}
		}
		// Client B's users see nothing of it.
		if res := e.Login(e.B.Users[auth.Owner].Email).Do("GET", "/api/v1/cases/"+c.ID, nil); res.Status != 404 {
			t.Fatalf("other tenant's owner: %d", res.Status)
		}
	})
}

func TestConflictOfInterest(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	inv := e.Login(e.A.Users[auth.Investigator].Email)
	mgr := e.A.Users[auth.Manager]
	var c investigation.Case
	must(t, inv.Do("POST", "/api/v1/cases", map[string]any{"type": "misconduct", "title": "Manager misconduct"}), 201, &c)
	must(t, inv.Do("POST", "/api/v1/cases/"+c.ID+"/parties", map[string]any{"kind": "subject", "name": "The manager", "email": mgr.Email}), 201, nil)
	res := inv.Do("POST", "/api/v1/cases/"+c.ID+"/members", map[string]any{"user_id": mgr.ID, "role": "investigator"})
	if res.Status != 400 || !strings.Contains(string(res.Body), "conflict of interest") {
		t.Fatalf("adding a subject as investigator: %d %s", res.Status, res.Body)
	}
	// And the other way round: a team member cannot be named a subject.
	res = inv.Do("POST", "/api/v1/cases/"+c.ID+"/parties", map[string]any{"kind": "subject", "name": "Me", "user_id": e.A.Users[auth.Investigator].ID})
	if res.Status != 400 {
		t.Fatalf("naming the lead a subject: %d %s", res.Status, res.Body)
	}
	if n := e.Count(`SELECT COUNT(*) FROM case_members WHERE case_id = ?`, c.ID); n != 1 {
		t.Fatalf("team has %d members", n)
	}
}

func TestEvidenceCustody(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		invU := e.A.Users[auth.Investigator]
		inv := e.Login(invU.Email)
		var c investigation.Case
		must(t, inv.Do("POST", "/api/v1/cases", map[string]any{"type": "theft", "title": "Warehouse theft"}), 201, &c)
		content := []byte("CCTV still, 02:14, loading bay")
		sum := sha256.Sum256(content)
		var ev investigation.Evidence
		must(t, upload(t, e, inv, c.ID, "still.jpg", content, "CCTV still"), 201, &ev)
		if ev.SHA256 != hex.EncodeToString(sum[:]) || ev.Size != int64(len(content)) || ev.HolderID != invU.ID {
			t.Fatalf("evidence %+v", ev)
		}
		res := inv.Do("GET", "/api/v1/cases/"+c.ID+"/evidence/"+ev.ID+"/file", nil)
		if res.Status != 200 || !bytes.Equal(res.Body, content) || res.Header.Get("Content-Disposition") == "" {
			t.Fatalf("download: %d %q", res.Status, res.Body)
		}
		// Physical evidence needs a location.
		if res := inv.Form("/cases/"+c.ID+"/evidence", map[string]string{"kind": "physical", "label": "Bolt cutters"}); res.Status != 400 {
			t.Fatalf("physical without location: %d", res.Status)
		}
		officer := e.A.Users[auth.Officer]
		tr := func(to, pw string) apptest.Response {
			return inv.Do("POST", "/api/v1/cases/"+c.ID+"/evidence/"+ev.ID+"/transfers",
				map[string]any{"to_user_id": to, "reason": "to lab for analysis", "condition": "sealed bag 4471", "password": pw})
		}
		if res := tr(officer.ID, "wrong password!"); res.Status != 400 || !strings.Contains(string(res.Body), "password") {
			t.Fatalf("transfer with a wrong password: %d %s", res.Status, res.Body)
		}
		// A user who left (disabled) cannot receive evidence.
		gone := e.User(e.A.Org.ID, "gone@client-a.test", auth.Officer)
		if err := e.App.Auth.SetDisabled(context.Background(), gone.ID, true, nil, e.A.Org.ID); err != nil {
			t.Fatal(err)
		}
		if res := tr(gone.ID, apptest.Password); res.Status != 400 || !strings.Contains(string(res.Body), "left") {
			t.Fatalf("transfer to a user who left: %d %s", res.Status, res.Body)
		}
		if res := tr(e.B.Users[auth.Officer].ID, apptest.Password); res.Status != 400 {
			t.Fatalf("transfer to another tenant's user: %d %s", res.Status, res.Body)
		}
		if n := e.Count(`SELECT COUNT(*) FROM custody WHERE evidence_id = ?`, ev.ID); n != 1 {
			t.Fatalf("refused transfers wrote %d links", n)
		}
		must(t, tr(officer.ID, apptest.Password), 201, nil)
		var chains []struct {
			Intact bool
			Chain  []struct {
				Seq        int
				To, Reason string
			}
		}
		must(t, inv.Do("GET", "/api/v1/cases/"+c.ID+"/custody", nil), 200, &chains)
		if len(chains) != 1 || !chains[0].Intact || len(chains[0].Chain) != 2 || chains[0].Chain[1].Reason != "to lab for analysis" {
			t.Fatalf("custody %+v", chains)
		}
		var ck investigation.Check
		must(t, inv.Do("POST", "/api/v1/cases/"+c.ID+"/evidence/"+ev.ID+"/verify", nil), 200, &ck)
		if !ck.OK {
			t.Fatalf("intact evidence failed verification: %+v", ck)
		}
		// Tamper with the stored file (as an attacker with disk access would).
		p := filepath.Join(e.App.Cfg.Data, "blobs", ev.SHA256[:2], ev.SHA256[2:4], ev.SHA256)
		os.Chmod(p, 0o600)
		if err := os.WriteFile(p, []byte("doctored"), 0o600); err != nil {
			t.Fatal(err)
		}
		must(t, inv.Do("POST", "/api/v1/cases/"+c.ID+"/evidence/"+ev.ID+"/verify", nil), 200, &ck)
		if ck.OK || !strings.Contains(ck.Detail, "SHA-256") {
			t.Fatalf("tampered blob not detected: %+v", ck)
		}
		var evs []investigation.Evidence
		must(t, inv.Do("GET", "/api/v1/cases/"+c.ID+"/evidence", nil), 200, &evs)
		if evs[0].Integrity != "tampered" || evs[0].HolderID != officer.ID {
			t.Fatalf("evidence after tamper: %+v", evs[0])
		}
		if n := e.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'evidence.tampered' AND object_id = ?`, c.ID); n != 1 {
			t.Fatalf("tamper flagged %d times in audit", n)
		}
		// Editing a stored custody row breaks the chain.
		if _, err := e.App.DB.Exec(context.Background(), `UPDATE custody SET reason = 'lunch' WHERE evidence_id = ? AND seq = 2`, ev.ID); err != nil {
			t.Fatal(err)
		}
		must(t, inv.Do("GET", "/api/v1/cases/"+c.ID+"/custody", nil), 200, &chains)
		if chains[0].Intact {
			t.Fatal("edited custody link not detected")
		}
		// The custody report is a PDF.
		res = inv.Do("GET", "/cases/"+c.ID+"/evidence/"+ev.ID+"/custody.pdf", nil)
		if res.Status != 200 || !bytes.HasPrefix(res.Body, []byte("%PDF")) {
			t.Fatalf("custody PDF: %d %.40q", res.Status, res.Body)
		}
		if d := os.Getenv("VIGIL_TEST_ARTIFACTS"); d != "" {
			os.WriteFile(filepath.Join(d, "custody-"+string(db.Dialect)+".pdf"), res.Body, 0o644)
		}
		res = inv.Do("GET", "/cases/"+c.ID+"/evidence/"+ev.ID+"/qr.png", nil)
		if res.Status != 200 || !bytes.HasPrefix(res.Body, []byte("\x89PNG")) {
			t.Fatalf("QR: %d", res.Status)
		}
	})
}

func TestCaseLifecycle(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	inv := e.Login(e.A.Users[auth.Investigator].Email)
	var c investigation.Case
	must(t, inv.Do("POST", "/api/v1/cases", map[string]any{"type": "harassment", "title": "Complaint from shift B"}), 201, &c)
	var a investigation.Allegation
	must(t, inv.Do("POST", "/api/v1/cases/"+c.ID+"/allegations", map[string]any{"text": "Repeated verbal abuse"}), 201, &a)
	for _, to := range []string{"investigating", "findings"} {
		must(t, inv.Do("POST", "/api/v1/cases/"+c.ID+"/status", map[string]any{"status": to}), 200, nil)
	}
	if res := inv.Do("POST", "/api/v1/cases/"+c.ID+"/status", map[string]any{"status": "closed"}); res.Status != 400 {
		t.Fatalf("closing with an undecided allegation: %d", res.Status)
	}
	must(t, inv.Do("PUT", "/api/v1/cases/"+c.ID+"/allegations/"+a.ID, map[string]any{"outcome": "substantiated"}), 204, nil)
	must(t, inv.Do("POST", "/api/v1/cases/"+c.ID+"/actions", map[string]any{"kind": "discipline", "stage": "taken", "description": "final written warning"}), 201, nil)
	must(t, inv.Do("POST", "/api/v1/cases/"+c.ID+"/time", map[string]any{"minutes": 90}), 204, nil)
	must(t, inv.Do("POST", "/api/v1/cases/"+c.ID+"/status", map[string]any{"status": "closed"}), 200, &c)
	if c.Status != "closed" || c.ClosedAt == nil || c.TimeSpent != 5400 {
		t.Fatalf("closed case %+v", c)
	}
	if res := inv.Do("POST", "/api/v1/cases/"+c.ID+"/status", map[string]any{"status": "findings"}); res.Status != 400 {
		t.Fatalf("closed → findings: %d", res.Status)
	}
	must(t, inv.Do("POST", "/api/v1/cases/"+c.ID+"/status", map[string]any{"status": "open"}), 200, &c)
	var st investigation.Stats
	must(t, inv.Do("GET", "/api/v1/cases/stats", nil), 200, &st)
	if st.Total != 1 || st.ByOutcome[0].N != 1 {
		t.Fatalf("stats %+v", st)
	}
	res := inv.Do("GET", "/cases/export.csv", nil)
	if res.Status != 200 || !strings.Contains(string(res.Body), "C-0001") {
		t.Fatalf("csv: %d %s", res.Status, res.Body)
	}
	res = inv.Do("GET", "/cases/"+c.ID+"/summary.pdf?shared=1", nil)
	if res.Status != 200 || !bytes.HasPrefix(res.Body, []byte("%PDF")) {
		t.Fatalf("summary PDF: %d", res.Status)
	}
}

func TestHotline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		anon := e.Anon()
		var rc investigation.Receipt
		must(t, anon.Do("POST", "/api/v1/hotline/client-a/reports", map[string]any{"category": "fraud", "text": "Invoices are split to stay under the approval limit."}), 201, &rc)
		if rc.Key == "" || rc.Password == "" {
			t.Fatalf("receipt %+v", rc)
		}
		if res := anon.Do("POST", "/api/v1/hotline/no-such-org/reports", map[string]any{"category": "fraud", "text": "xxxxxxxxxxxxxxxx"}); res.Status != 404 {
			t.Fatalf("unknown org: %d", res.Status)
		}
		if n := e.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'case.create' AND actor = 'hotline' AND actor_id = '' AND data NOT LIKE '%127.0.0.1%'`); n != 1 {
			t.Fatalf("hotline report audited %d times as the hotline", n)
		}
		// Nothing identifying is stored: no IP anywhere in the hotline tables.
		for _, q := range []string{`SELECT COUNT(*) FROM hotline_throttle WHERE bucket LIKE '%127.0.0.1%'`, `SELECT COUNT(*) FROM hotline_reports WHERE contact <> ''`} {
			if n := e.Count(q); n != 0 {
				t.Fatalf("%s = %d", q, n)
			}
		}
		if res := anon.Do("GET", "/hotline/client-a", nil); res.Header.Get("Set-Cookie") != "" {
			t.Fatalf("hotline page sets a cookie: %s", res.Header.Get("Set-Cookie"))
		}
		// The owner (case-wide) sees it in intake with statutory deadlines.
		owner := e.Login(e.A.Users[auth.Owner].Email)
		var list struct{ Items []investigation.Case }
		must(t, owner.Do("GET", "/api/v1/cases?source=hotline", nil), 200, &list)
		if len(list.Items) != 1 || list.Items[0].Status != "intake" || list.Items[0].AckDueAt == nil || list.Items[0].FeedbackDueAt == nil {
			t.Fatalf("hotline cases %+v", list.Items)
		}
		c := list.Items[0]
		if d := c.FeedbackDueAt.Sub(c.CreatedAt).Hours() / 24; d != 90 {
			t.Fatalf("feedback due after %v days", d)
		}
		must(t, owner.Do("POST", "/api/v1/cases/"+c.ID+"/replies", map[string]any{"body": "Thank you, we are looking into it."}), 204, nil)
		var v investigation.ReporterView
		must(t, anon.Do("POST", "/api/v1/hotline/client-a/access", map[string]any{"case_key": strings.ToLower(rc.Key), "password": rc.Password}), 200, &v)
		if len(v.Messages) != 2 || v.Messages[1].Sender != "staff" || v.AckedAt == nil {
			t.Fatalf("reporter view %+v", v)
		}
		must(t, anon.Do("POST", "/api/v1/hotline/client-a/messages", map[string]any{"case_key": rc.Key, "password": rc.Password, "text": "The supplier is Acme Ltd."}), 204, nil)
		// Another organisation's hotline does not know the key.
		if res := anon.Do("POST", "/api/v1/hotline/client-b/access", map[string]any{"case_key": rc.Key, "password": rc.Password}); res.Status != 401 {
			t.Fatalf("key at another org: %d", res.Status)
		}
		// Wrong passwords lock the report; the right one is then refused too.
		for i := range 5 {
			res := anon.Do("POST", "/api/v1/hotline/client-a/access", map[string]any{"case_key": rc.Key, "password": "AAAA-AAAA-AAAA"})
			want := 401
			if i == 4 {
				want = 429
			}
			if res.Status != want {
				t.Fatalf("wrong password %d: %d %s", i+1, res.Status, res.Body)
			}
		}
		if res := anon.Do("POST", "/api/v1/hotline/client-a/access", map[string]any{"case_key": rc.Key, "password": rc.Password}); res.Status != 429 {
			t.Fatalf("locked report opened: %d %s", res.Status, res.Body)
		}
		// Guessing keys is throttled per source after FailuresPerHour failures.
		var last apptest.Response
		for i := 0; i < 20; i++ {
			last = anon.Do("POST", "/api/v1/hotline/client-a/access", map[string]any{"case_key": fmt.Sprintf("ZZZZ-ZZZZ-ZZZZ-%04d", i), "password": "AAAA-AAAA-AAAA"})
		}
		if last.Status != 429 {
			t.Fatalf("key guessing not throttled: %d %s", last.Status, last.Body)
		}
		// Report spam from one source is throttled.
		for i := 0; i < 12; i++ {
			last = anon.Do("POST", "/api/v1/hotline/client-a/reports", map[string]any{"category": "other", "text": "spam spam spam spam"})
		}
		if last.Status != 429 {
			t.Fatalf("spam not throttled: %d", last.Status)
		}
		if n := e.Count(`SELECT COUNT(*) FROM cases WHERE source = 'hotline'`); n != 10 {
			t.Fatalf("%d hotline cases after spam, want 10", n)
		}
		var dump bytes.Buffer
		json.NewEncoder(&dump).Encode(last)
		if strings.Contains(dump.String(), "127.0.0.1") {
			t.Fatal("response shows the source address")
		}
	})
}

// TestDeadlines: statutory hotline deadlines come from the organisation's
// settings, flag overdue when passed, and are met by replying.
func TestDeadlines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		s := svc(e)
		ctx := context.Background()
		st := investigation.DefaultSettings(e.A.Org.ID)
		st.AckDays, st.FeedbackDays = 2, 30
		if err := s.SaveSettings(ctx, nil, st); err != nil {
			t.Fatal(err)
		}
		st, _ = s.Settings(ctx, e.A.Org.ID)
		_, c, err := s.Report(ctx, e.A.Org.ID, st, investigation.HotlineInput{Category: "safety", Text: "Fire exit chained shut at night"}, "src")
		if err != nil {
			t.Fatal(err)
		}
		if d := c.AckDueAt.Sub(c.CreatedAt); d != 48*time.Hour {
			t.Fatalf("acknowledge due after %v", d)
		}
		owner := principalOf(e.A, auth.Owner)
		check := func(at time.Time, ack, fb bool, overdue, soon int) {
			t.Helper()
			s.Now = func() time.Time { return at }
			got, err := s.Case(ctx, owner, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.AckOverdue != ack || got.FeedbackOverdue != fb {
				t.Errorf("at %v: ack overdue %v feedback overdue %v", at, got.AckOverdue, got.FeedbackOverdue)
			}
			o, n, err := s.DeadlineCounts(ctx, owner, 48*time.Hour)
			if err != nil || o != overdue || n != soon {
				t.Errorf("at %v: counts %d overdue %d soon (%v), want %d %d", at, o, n, err, overdue, soon)
			}
		}
		check(c.CreatedAt.Add(time.Hour), false, false, 0, 1)
		check(c.CreatedAt.Add(72*time.Hour), true, false, 1, 0)
		s.Now = func() time.Time { return c.CreatedAt.Add(72 * time.Hour) }
		if err := s.Reply(ctx, owner, c, "Received; the exit has been cleared.", false); err != nil {
			t.Fatal(err)
		}
		check(c.CreatedAt.Add(72*time.Hour), false, false, 0, 0)
		check(c.CreatedAt.Add(31*24*time.Hour), false, true, 1, 0)
		rs, err := s.Reminders(ctx, 0)
		if err != nil || len(rs) != 1 || rs[0].What != "feedback" || !rs[0].Overdue {
			t.Fatalf("reminders %+v %v", rs, err)
		}
	})
}

// TestConcurrentNumbers: cases and evidence opened at the same moment by
// several servers' worth of writers still get distinct, gap-free numbers.
func TestConcurrentNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		s := svc(e)
		ctx := context.Background()
		const n = 8
		errs := make(chan error, n)
		for i := range n {
			go func() {
				_, err := s.CreateCase(ctx, nil, investigation.CaseInput{OrgID: e.A.Org.ID, Type: "loss", Title: fmt.Sprintf("Loss %d", i), LeadID: e.A.Users[auth.Investigator].ID})
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if got := e.Count(`SELECT COUNT(DISTINCT number) FROM cases WHERE org_id = ? AND number BETWEEN 1 AND ?`, e.A.Org.ID, n); got != n {
			t.Fatalf("%d distinct numbers for %d cases", got, n)
		}
	})
}
