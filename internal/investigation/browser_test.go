package investigation_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"vigil/internal/app/apptest"
	"vigil/internal/auth"
	"vigil/internal/browsertest"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestBrowser clicks through investigations in a real Chromium, once per
// database engine: an anonymous report answered back and forth, an
// investigator's evidence transferred and the case closed, and an outsider
// refused the case and its evidence.
func TestBrowser(t *testing.T) {
	b := browsertest.New(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		t.Run("anonymous report answered back and forth", func(t *testing.T) { hotlineRoundTrip(t, b, e) })
		t.Run("evidence transferred and case closed", func(t *testing.T) { evidenceAndClose(t, b, e) })
	})
}

func signIn(t *testing.T, p *browsertest.Tab, e *apptest.Env, email string) {
	t.Helper()
	p.Navigate(e.URL + "/login")
	p.Fill("#f-email", email)
	p.Fill("#f-password", apptest.Password)
	if st := p.ClickLink("main form", "Sign in"); st != 200 {
		t.Fatalf("sign in as %s: %d", email, st)
	}
	p.WaitVisible("header.top .who")
}

func path(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

func hotlineRoundTrip(t *testing.T, b *browsertest.Browser, e *apptest.Env) {
	rep := b.Tab(t)
	rep.Navigate(e.URL + "/hotline/" + e.A.Org.Slug)
	rep.WaitText("main h1", "Report a concern")
	rep.Select("#f-category", "Theft")
	typeIn(t, rep, "#f-text", "Pallets leave the yard on Sunday nights without paperwork.")
	if st := rep.ClickLink("#report-form", "Send report"); st != 201 {
		t.Fatalf("report: %d", st)
	}
	key, pw := rep.Text("#case-key"), rep.Text("#case-password")
	if len(key) != 19 || len(pw) != 14 {
		t.Fatalf("receipt shows key %q password %q", key, pw)
	}

	owner := b.Tab(t)
	signIn(t, owner, e, e.A.Users[auth.Owner].Email)
	owner.ClickLink("#nav", "Cases")
	owner.WaitText("main h1", "Cases")
	owner.ClickLink("#cases", "Hotline report: Theft")
	owner.WaitText("#hotline", "Messages with the reporter")
	typeIn(t, owner, "#reply-form textarea", "Thank you. Which gate do they use?")
	owner.ClickLink("#reply-form", "Send reply")
	owner.WaitText("main .flash", "Reply sent")

	rep.Navigate(e.URL + "/hotline/" + e.A.Org.Slug + "/status")
	rep.Fill("#f-case_key", strings.ToLower(key))
	rep.Fill("#f-password", pw)
	if st := rep.ClickLink("#status-form", "Open my report"); st != 200 {
		t.Fatalf("open report: %d", st)
	}
	rep.WaitText("#messages", "Which gate do they use?")
	typeIn(t, rep, "#add-info textarea", "Gate 3, after the 22:00 patrol.")
	rep.ClickLink("#add-info", "Send")
	rep.WaitText("#messages", "Gate 3, after the 22:00 patrol.")

	caseURL, _, _ := strings.Cut(owner.URL(), "#")
	owner.Navigate(caseURL)
	owner.WaitText("ol.messages", "Gate 3, after the 22:00 patrol.")
	// The reporter's tab holds no cookie from vigil.
	n := browsertest.Eval[int](rep, `document.cookie.length`)
	if n != 0 {
		t.Fatalf("reporter has cookies")
	}
}

func evidenceAndClose(t *testing.T, b *browsertest.Browser, e *apptest.Env) {
	p := b.Tab(t)
	signIn(t, p, e, e.A.Users[auth.Investigator].Email)
	p.Navigate(e.URL + "/cases/new")
	p.Select("#f-type", "Theft")
	p.Fill("#f-title", "Copper cable theft, depot 2")
	p.ClickLink("main form", "Open case")
	p.WaitText("main h1", "Copper cable theft")
	caseURL := p.URL()

	file := filepath.Join(t.TempDir(), "gate-log.txt")
	content := []byte("22:14 gate 3 opened with badge 4471\n")
	if err := os.WriteFile(file, content, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(p.Context(), browsertest.ActionTimeout)
	err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{file}))
	cancel()
	if err != nil {
		t.Fatalf("attach file: %v", err)
	}
	// The page shows the SHA-256 of the investigator's copy before upload,
	// and vigil records the same hash at intake.
	sum := sha256.Sum256(content)
	want := hex.EncodeToString(sum[:])
	p.WaitText("#f-file-sha256", want)
	p.ClickLink("#upload-form", "Upload")
	p.WaitText("main .flash", want)
	p.ClickLink("#evidence-list", p.Text("#evidence-list tbody td a"))
	p.WaitText("#custody", "intake")
	p.Select("#f-to", "officer user (officer)")
	p.Fill("#f-reason", "To the evidence room")
	p.Fill("#f-condition", "Sealed bag 0193")
	p.Fill("#f-password", apptest.Password)
	p.ClickLink("#transfer-form", "Sign and transfer")
	p.WaitText("main .flash", "Custody transferred")
	p.WaitText("#holder", "officer user")
	p.WaitText("#custody", "To the evidence room")
	evidenceURL := p.URL()

	p.Navigate(caseURL)
	for _, to := range []string{"Under investigation", "Findings", "Closed"} {
		p.ClickLink("#status-form", to)
		p.WaitText("#case-status", to)
	}

	// Someone outside the team, even an investigator, gets 404 on both.
	outsider := e.User(e.A.Org.ID, "outsider-"+string(e.App.DB.Dialect)+"@client-a.test", auth.Investigator)
	o := b.Tab(t)
	signIn(t, o, e, outsider.Email)
	o.AllowConsole(`status of 404`)
	for _, u := range []string{caseURL, evidenceURL, evidenceURL + "/file"} {
		if st := o.Open(u); st != 404 {
			t.Errorf("outsider opening %s: %d, want 404", path(t, u), st)
		}
	}
}

// typeIn types into an empty textarea (browsertest's Fill clears the field
// first, which chromedp cannot do on a textarea without a text node).
func typeIn(t *testing.T, p *browsertest.Tab, sel, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.Context(), browsertest.ActionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text)); err != nil {
		t.Fatalf("type into %s: %v", sel, err)
	}
}
