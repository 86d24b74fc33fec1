package alarm_test

import (
	"testing"

	"vigil/internal/alarm/dc09"
	"vigil/internal/auth"
	"vigil/internal/browsertest"
	"vigil/internal/store/storetest"
)

// TestConsoleInBrowser: an operator has the console open in real Chromium;
// a frame sent over TCP appears in the queue without a reload, and the
// operator acknowledges it, works through its SOP and resolves it, all by
// clicking. Strict CSP and console errors are checked by browsertest.
func TestConsoleInBrowser(t *testing.T) {
	b := browsertest.New(t)
	e := startEnv(t, storetest.SQLite(t))
	admin := e.login(auth.Admin)
	e.provision(admin, "4321", nil)

	p := b.Tab(t)
	p.Navigate(e.url + "/login")
	p.Fill("#f-email", e.users[auth.Dispatcher])
	p.Fill("#f-password", password)
	if st := p.ClickLink("main form", "Sign in"); st != 200 {
		t.Fatalf("sign in: %d", st)
	}
	p.Navigate(e.url + "/alarms")
	p.WaitText("#live-status", "Live")
	if n := p.Count("#alarm-queue tbody tr"); n != 0 {
		t.Fatalf("queue not empty at start: %d rows", n)
	}

	// The panel reports an intrusion; the page is not reloaded.
	if got := e.panel().send(dc09.TokenCID, "4321", "#4321|1130 01 003", 1); got != "ACK" {
		t.Fatalf("frame: %s", got)
	}
	p.WaitText("#alarm-queue tbody tr", "Vault corridor")
	p.WaitText("#alarm-queue tbody tr", "Bank Branch 7")
	p.WaitHidden("#queue-empty")

	// Open it, acknowledge, work the SOP, resolve.
	if st := p.ClickLink("#alarm-queue tbody tr", "Burglary — Vault corridor"); st != 200 {
		t.Fatalf("open alarm: %d", st)
	}
	p.WaitText("#alarm-facts", "Bank Branch 7")
	if st := p.ClickAndWait("#ack-btn"); st != 200 {
		t.Fatalf("ack: %d", st)
	}
	p.WaitText("#alarm-state", "acknowledged")
	p.WaitText("#step-keyholder", "Kim Keyholder") // the call list comes from the site's keyholders
	for _, step := range []string{"review", "keyholder"} {
		if st := p.ClickAndWait(`button[data-step-done="` + step + `"]`); st != 200 {
			t.Fatalf("step %s: %d", step, st)
		}
		p.WaitText("#step-"+step, "done")
	}
	if st := p.ClickLink("#step-verified", "Explained by keyholder (valid password)"); st != 200 {
		t.Fatalf("answer: %d", st)
	}
	p.WaitText("#step-verified", "answered")
	p.Select("#f-disposition", "False – user error")
	if st := p.ClickAndWait("#resolve-btn"); st != 200 {
		t.Fatalf("resolve: %d", st)
	}
	p.WaitText("main .flash", "Alarm resolved.")
	if n := p.Count("#alarm-queue tbody tr"); n != 0 {
		t.Fatalf("resolved alarm still in the queue: %d rows", n)
	}
	p.CheckConsole()
}
