package incident_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vigil/internal/app/apptest"
	"vigil/internal/auth"
	"vigil/internal/browsertest"
	"vigil/internal/store/storetest"
)

func signIn(t *testing.T, p *browsertest.Tab, e *apptest.Env, email string) {
	t.Helper()
	p.Navigate(e.URL + "/login")
	p.Fill("#f-email", email)
	p.Fill("#f-password", apptest.Password)
	if st := p.ClickLink("main form", "Sign in"); st != 200 {
		t.Fatalf("sign in as %s: status %d at %s", email, st, p.URL())
	}
	p.WaitVisible("header.top .who")
}

// fetchPDF downloads url with the tab's session and returns "status type size prefix".
func fetchPDF(t *testing.T, p *browsertest.Tab, u string) string {
	t.Helper()
	js := `fetch(` + "`" + u + "`" + `).then(async r => { const b = new Uint8Array(await r.arrayBuffer());
		return r.status + " " + r.headers.get("content-type") + " " + b.length + " " + String.fromCharCode(...b.slice(0, 5)); })`
	ctx, cancel := context.WithTimeout(p.Context(), 30*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch %s: %v", u, err)
	}
	return out
}

// TestBrowserReportLifecycle: an officer writes a report with a photo and
// submits it, a supervisor returns it, the officer fixes and resubmits,
// the supervisor approves and downloads the PDF; client A's user sees it in
// the portal and client B's user cannot.
func TestBrowserReportLifecycle(t *testing.T) {
	b := browsertest.New(t)
	e := apptest.Start(t, storetest.SQLite(t))
	photo := filepath.Join(t.TempDir(), "door.jpg")
	if err := os.WriteFile(photo, testJPEG(t, 640, 480), 0o644); err != nil {
		t.Fatal(err)
	}

	off := b.Tab(t)
	signIn(t, off, e, e.A.Users[auth.Officer].Email)
	off.ClickLink("#nav", "Incidents")
	off.WaitText("main h1", "Incidents")
	off.ClickLink("main", "New report")
	off.WaitText("main h1", "New incident report")
	off.Fill("#f-title", "Side door forced at the warehouse")
	off.Select("#f-type", "Burglary")
	off.Select("#f-severity", "High")
	off.Select("#f-site_id", e.A.Site.Name+" (Europe/London)")
	when := time.Now().In(mustLoc(t, "Europe/London")).Add(-2 * time.Hour).Format("2006-01-02T15:04")
	setValue(off, "#f-occurred_at", when)
	setValue(off, "#f-narrative", "Found the side door of the warehouse forced open during the 02:00 patrol.")
	off.Fill("input[name=person_name]", "Γιώργος Παπαδόπουλος")
	if st := off.ClickLink("main form.incident-form", "Save draft"); st != 200 {
		t.Fatalf("save draft: %d", st)
	}
	off.WaitText("#status", "Draft")
	incURL := off.URL()
	id := strings.TrimPrefix(mustPath(t, incURL), "/incidents/")

	if _, err := chromedp.Run(off.Context(), chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{photo})); err != nil {
		t.Fatal(err)
	}
	off.Fill("#f-caption", "Forced side door")
	off.ClickLink("form.attach-form", "Attach")
	off.WaitText("main .flash", "door.jpg attached")
	off.WaitVisible("ul.photos img")
	if w := browsertest.Eval[int](off, `(() => { const i = document.querySelector("ul.photos img"); return i.complete ? i.naturalWidth : -1 })()`); w != 320 {
		t.Fatalf("thumbnail width %d, want 320", w)
	}
	off.ClickAndWait(`button[data-action="submit"]`)
	off.WaitText("#status", "Submitted")

	sup := b.Tab(t)
	signIn(t, sup, e, e.A.Users[auth.Supervisor].Email)
	sup.Navigate(incURL)
	sup.WaitText("#status", "Submitted")
	sup.Fill("#return-comment", "Add who you called and when")
	sup.ClickAndWait(`button[data-action="return"]`)
	sup.WaitText("#status", "Draft")

	off.Navigate(incURL)
	off.WaitText("#review-comment", "Add who you called and when")
	off.ClickLink("main .head", "Edit")
	off.WaitText("main h1", "Edit INC-")
	setValue(off, "#f-actions_taken", "Called the site manager at 02:20 and the police at 02:25.")
	off.ClickLink("main form.incident-form", "Save")
	off.WaitText("#status", "Draft")
	off.ClickAndWait(`button[data-action="submit"]`)
	off.WaitText("#status", "Submitted")

	sup.Navigate(incURL)
	sup.ClickAndWait(`button[data-action="approve"]`)
	sup.WaitText("#status", "Approved")
	href := browsertest.Eval[string](sup, `document.querySelector("a[data-pdf]").href`)
	if got := fetchPDF(t, sup, href); !strings.HasPrefix(got, "200 application/pdf ") || !strings.HasSuffix(got, " %PDF-") {
		t.Fatalf("PDF download: %s", got)
	}
	if os.Getenv("VIGIL_TEST_ARTIFACTS") != "" {
		sup.Screenshot("incident-approved")
	}
	sup.Navigate(e.URL + "/incidents/" + id + "/revisions")
	sup.WaitText("main", "actions_taken")

	ca := b.Tab(t)
	signIn(t, ca, e, e.A.Users[auth.Client].Email)
	ca.Navigate(e.URL + "/incidents")
	ca.WaitText("main table", "Side door forced at the warehouse")
	ca.ClickLink("main table", "Side door forced at the warehouse")
	ca.WaitText("#status", "Approved")
	if ca.Count(`button[data-action]`) != 0 || ca.Count(`a[href$="/edit"]`) != 0 {
		t.Fatal("the client portal offers workflow or edit actions")
	}
	if got := fetchPDF(t, ca, e.URL+"/api/v1/incidents/"+id+"/report.pdf"); !strings.HasPrefix(got, "200 application/pdf") {
		t.Fatalf("client PDF: %s", got)
	}

	cb := b.Tab(t)
	cb.AllowConsole(`status of 404`) // the refusals below are the point
	signIn(t, cb, e, e.B.Users[auth.Client].Email)
	cb.Navigate(e.URL + "/incidents")
	if strings.Contains(cb.Text("main"), "Side door forced") {
		t.Fatal("client B sees client A's report in its list")
	}
	if st := cb.Open(incURL); st != 404 {
		t.Fatalf("client B opening A's report: %d, want 404", st)
	}
	if got := fetchPDF(t, cb, e.URL+"/api/v1/incidents/"+id+"/report.pdf"); !strings.HasPrefix(got, "404 ") {
		t.Fatalf("client B PDF: %s", got)
	}
	for _, p := range []*browsertest.Tab{off, sup, ca, cb} {
		p.CheckConsole()
	}
}

func mustLoc(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustPath(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// setValue sets a field the way a person's typing ends up (textareas that
// start empty and datetime inputs cannot be typed into reliably over CDP).
func setValue(p *browsertest.Tab, sel, v string) {
	browsertest.Eval[bool](p, `(() => { const f = document.querySelector(`+jsQuote(sel)+`); f.value = `+jsQuote(v)+`; f.dispatchEvent(new Event("input", {bubbles: true})); return true })()`)
}

func jsQuote(s string) string { b, _ := json.Marshal(s); return string(b) }
