// Package browsertest drives a real headless Chromium from tests through
// chromedp, so any module can click through its own pages as a person would.
//
// The browser binary comes from VIGIL_TEST_BROWSER (Debian: /usr/bin/chromium).
// Without it the test is skipped, except under CI=true, where a missing
// browser is a failure: a suite that silently skips proves nothing.
//
// Every action runs under its own deadline, so a hung page or browser fails
// the test instead of hanging CI. When a test fails, the tab's current page is
// saved as a PNG (in $VIGIL_TEST_ARTIFACTS when set, else t.TempDir()) and
// its path logged. Console errors, uncaught exceptions and
// Content-Security-Policy violations fail the test unless allowed explicitly.
//
// A test reads as the steps a person takes:
//
//	b := browsertest.New(t)        // one Chromium per test (or per suite)
//	p := b.Tab(t)                  // a tab with its own cookies
//	p.Navigate(srv.URL + "/login")
//	p.Fill("#f-email", "owner@example.test")
//	p.Fill("#f-password", password)
//	p.ClickLink("main form", "Sign in") // waits for the next page
//	p.WaitText("main h1", "Overview")
//
// Run with VIGIL_TEST_BROWSER=/usr/bin/chromium (apt-get install chromium).
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Env vars read by New.
const (
	EnvBrowser   = "VIGIL_TEST_BROWSER"
	EnvArtifacts = "VIGIL_TEST_ARTIFACTS"
)

// Timeouts. Start covers launching Chromium on a loaded 2-core machine;
// Action covers one step (a navigation with its load, a click, a wait).
var (
	StartTimeout   = 30 * time.Second
	ActionTimeout  = 15 * time.Second
	CleanupTimeout = 10 * time.Second
)

// Browser is one headless Chromium process owned by a test.
type Browser struct {
	t        testing.TB
	ctx      context.Context // browser context: its first tab owns the process
	shotDir  string
	shotOnce sync.Once
	shotErr  error
}

// New starts Chromium for t and stops it in t.Cleanup. It skips t when
// VIGIL_TEST_BROWSER is unset, and fails it instead when CI=true.
func New(t testing.TB) *Browser {
	t.Helper()
	path := os.Getenv(EnvBrowser)
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is not set (path to a Chromium binary)", EnvBrowser)
		}
		t.Skipf("%s not set; set it to a Chromium binary to run browser tests", EnvBrowser)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s: %v", EnvBrowser, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		// A fixed window so screenshots and layout checks are repeatable.
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		// Closing waits for the process to exit; bound it so a wedged
		// browser cannot hang the test binary.
		done := make(chan struct{})
		go func() {
			cancel()
			allocCancel()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(CleanupTimeout):
			t.Errorf("browsertest: Chromium did not exit within %v", CleanupTimeout)
		}
	})
	sctx, scancel := context.WithTimeout(ctx, StartTimeout)
	defer scancel()
	// The first Do binds the browser's life to ctx, not to sctx (see
	// chromedp's "set a timeout for one action"), but a start that hangs
	// still ends at StartTimeout.
	if err := startWithin(sctx, ctx); err != nil {
		t.Fatalf("browsertest: start %s: %v", path, err)
	}
	return &Browser{t: t, ctx: ctx}
}

// startWithin starts the browser on ctx, giving up when limit ends.
func startWithin(limit, ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- chromedp.Do(ctx) }()
	select {
	case err := <-errc:
		return err
	case <-limit.Done():
		return limit.Err()
	}
}

// ArtifactDir is where screenshots go: $VIGIL_TEST_ARTIFACTS when set (kept
// after the run, for CI to upload), else a temporary directory of the test.
func (b *Browser) ArtifactDir() (string, error) {
	b.shotOnce.Do(func() {
		if d := os.Getenv(EnvArtifacts); d != "" {
			b.shotDir = d
			b.shotErr = os.MkdirAll(d, 0o755)
			return
		}
		b.shotDir = b.t.TempDir()
	})
	return b.shotDir, b.shotErr
}

// Tab opens a new tab in a browser context of its own, so two tabs of one
// test hold separate cookies (two users signed in at once). The tab is
// closed in t.Cleanup, after its console has been checked and, if t failed,
// after a screenshot of it has been saved.
func (b *Browser) Tab(t testing.TB) *Tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	p := &Tab{t: t, b: b, ctx: ctx, cancel: cancel}
	// Cleanups run last-in first-out: close the tab after the checks below.
	t.Cleanup(p.Close)
	sctx, scancel := context.WithTimeout(ctx, StartTimeout)
	defer scancel()
	if err := startWithin(sctx, ctx); err != nil {
		t.Fatalf("browsertest: open tab: %v", err)
	}
	p.watchConsole()
	t.Cleanup(func() {
		if t.Failed() && !p.shot {
			p.saveScreenshot("failed")
		}
		p.checkConsole()
	})
	return p
}

// Tab is one browser tab. Its methods fail the test (with a screenshot) on
// any error, so test code reads as a list of steps.
type Tab struct {
	t   testing.TB
	b   *Browser
	ctx context.Context

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
	allowed []*regexp.Regexp
	checked int // console messages already checked
	shot    bool

	cancel    context.CancelFunc
	closeOnce sync.Once
}

// Close closes the tab and its cookie jar. It runs by itself at the end of
// the test; call it to free a tab early.
func (p *Tab) Close() {
	p.closeOnce.Do(func() {
		done := make(chan struct{})
		go func() { p.cancel(); close(done) }()
		select {
		case <-done:
		case <-time.After(CleanupTimeout):
			p.t.Errorf("browsertest: tab did not close within %v", CleanupTimeout)
		}
	})
}

// Context is the tab's chromedp context, for actions this package does not
// wrap. Give each call its own deadline.
func (p *Tab) Context() context.Context { return p.ctx }

// watchConsole collects the tab's console messages from now on. The
// iterator's queue is unbounded, so it is drained continuously.
func (p *Tab) watchConsole() {
	msgs := chromedp.Console(p.ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m)
			p.mu.Unlock()
		}
	}()
}

// AllowConsole accepts console messages matching the regular expression,
// for pages that are expected to log (a deliberate 404 logs "Failed to load
// resource: … 404").
func (p *Tab) AllowConsole(pattern string) {
	p.mu.Lock()
	p.allowed = append(p.allowed, regexp.MustCompile(pattern))
	p.mu.Unlock()
}

// Console returns a copy of the console messages seen so far.
func (p *Tab) Console() []chromedp.ConsoleMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), p.console...)
}

// Problem reports whether a console message means the page is broken: an
// uncaught exception, a console error, or a Content-Security-Policy
// violation at any level (Chromium reports some as warnings).
func Problem(m chromedp.ConsoleMessage) bool {
	switch {
	case m.Source == "network" && strings.HasSuffix(m.URL, "/favicon.ico"):
		// Chromium asks for /favicon.ico on its own; the page did not.
		return false
	case m.Type == chromedp.ConsoleException, m.Type == chromedp.ConsoleError:
		return true
	case strings.Contains(m.Text, "Content Security Policy"), strings.Contains(m.Text, "Content-Security-Policy"):
		return true
	}
	return false
}

// CheckConsole fails the test for every problem message (see Problem) not
// matched by AllowConsole since the last check. It runs by itself at the end
// of the test; call it after a step to fail closer to the cause.
func (p *Tab) CheckConsole() {
	p.t.Helper()
	if p.checkConsole() != "" {
		p.saveScreenshot("console")
		p.t.FailNow()
	}
}

// Problems returns the problem messages (see Problem) not matched by
// AllowConsole that arrived since the last check, and marks them checked:
// a test that expects a problem takes it here so it does not fail the test.
func (p *Tab) Problems() []chromedp.ConsoleMessage {
	// Console events travel asynchronously; a short settle lets messages of
	// the last page arrive before judging.
	time.Sleep(50 * time.Millisecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []chromedp.ConsoleMessage
	for _, m := range p.console[p.checked:] {
		if Problem(m) && !matchAny(p.allowed, m.Text) {
			out = append(out, m)
		}
	}
	p.checked = len(p.console)
	return out
}

// checkConsole reports problems with t.Errorf and returns them.
func (p *Tab) checkConsole() string {
	p.t.Helper()
	msgs := p.Problems()
	if len(msgs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("browser console problems:")
	for _, m := range msgs {
		fmt.Fprintf(&b, "\n  %s %s:%d: %s", m.Type, m.URL, m.Line+1, m.Text)
	}
	p.t.Errorf("%s", b.String())
	return b.String()
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// run runs steps under ActionTimeout and fails the test on error.
func (p *Tab) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.failNow(what, err)
	}
}

// failNow saves a screenshot and stops the test.
func (p *Tab) failNow(what string, err error) {
	p.t.Helper()
	loc := p.location()
	p.saveScreenshot("failed")
	p.t.Fatalf("browser: %s (at %s): %v", what, loc, err)
}

// location is the current URL, or "?" when the tab cannot tell.
func (p *Tab) location() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return u
}

// Navigate opens url and waits for its load event.
func (p *Tab) Navigate(url string) {
	p.t.Helper()
	p.run("navigate to "+url, chromedp.Navigate(url))
}

// Open opens url, waits for it to load and returns the HTTP status of the
// document, for pages expected to answer 404 or 403.
func (p *Tab) Open(url string) int {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		p.failNow("open "+url, err)
	}
	return int(res.Status)
}

// Fill clears the field matching the CSS selector and types value into it
// key by key, as a person would.
func (p *Tab) Fill(sel, value string) {
	p.t.Helper()
	p.run("fill "+sel,
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Clear(chromedp.CSS(sel)),
		chromedp.SendKeys(chromedp.CSS(sel), value),
	)
}

// Select picks the option whose visible label is label in the <select>
// matching sel, firing input and change events as a real choice does.
func (p *Tab) Select(sel, label string) {
	p.t.Helper()
	js := fmt.Sprintf(`(() => {
  const s = document.querySelector(%s);
  if (!s) return "no element";
  const o = Array.from(s.options).find(o => o.textContent.trim() === %s);
  if (!o) return "no option";
  s.value = o.value;
  s.dispatchEvent(new Event("input", {bubbles: true}));
  s.dispatchEvent(new Event("change", {bubbles: true}));
  return "";
})()`, jsString(sel), jsString(label))
	p.run("select "+label+" in "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		msg, err := chromedp.Evaluate[string](js)(ctx, t)
		if err == nil && msg != "" {
			err = errors.New(msg)
		}
		return chromedp.Void{}, err
	})
}

// Click clicks the first visible element matching the CSS selector. Use
// ClickAndWait when the click loads a new page.
func (p *Tab) Click(sel string) {
	p.t.Helper()
	p.run("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// ClickAndWait clicks the element matching the CSS selector (a link or a
// submit button), waits for the page it leads to (after any redirects) and
// returns that page's HTTP status.
func (p *Tab) ClickAndWait(sel string) int {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		p.failNow("click "+sel+" and wait for the next page", err)
	}
	return int(res.Status)
}

// ClickLink clicks the first visible link or button (a, button) inside the
// element matching scope whose trimmed text is exactly text, waits for the
// page it leads to and returns its HTTP status.
func (p *Tab) ClickLink(scope, text string) int {
	p.t.Helper()
	js := fmt.Sprintf(`(() => {
  const root = document.querySelector(%s);
  if (!root) return false;
  const el = Array.from(root.querySelectorAll("a, button")).find(e => e.textContent.trim() === %s && e.offsetParent !== null);
  if (!el) return false;
  document.querySelectorAll("[data-browsertest-target]").forEach(e => e.removeAttribute("data-browsertest-target"));
  el.setAttribute("data-browsertest-target", "");
  return true;
})()`, jsString(scope), jsString(text))
	p.poll("find "+text+" in "+scope, js)
	return p.ClickAndWait("[data-browsertest-target]")
}

// WaitText waits until the element matching sel contains text.
func (p *Tab) WaitText(sel, text string) {
	p.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.textContent.includes(%s); })()`, jsString(sel), jsString(text))
	p.poll(fmt.Sprintf("wait for %q in %s", text, sel), js)
}

// poll waits until the JavaScript expression js is true. A navigation that
// lands while the poll runs (a redirect finishing, a page replacing itself)
// destroys the execution context the poll was evaluating in; that is not a
// failure, so the poll starts again in the new document until the step's
// time limit.
func (p *Tab) poll(what, js string) {
	p.t.Helper()
	deadline := time.Now().Add(ActionTimeout)
	for {
		ctx, cancel := context.WithDeadline(p.ctx, deadline)
		err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(time.Until(deadline))))
		cancel()
		if err == nil {
			return
		}
		if !strings.Contains(err.Error(), "Cannot find context with specified id") || time.Now().After(deadline) {
			p.failNow(what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitVisible waits until an element matching the CSS selector is visible.
func (p *Tab) WaitVisible(sel string) {
	p.t.Helper()
	p.run("wait until visible "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// WaitHidden waits until no element matching sel is visible (present but
// hidden, or absent).
func (p *Tab) WaitHidden(sel string) {
	p.t.Helper()
	js := fmt.Sprintf(`Array.from(document.querySelectorAll(%s)).every(e => e.offsetParent === null && getComputedStyle(e).position !== "fixed")`, jsString(sel))
	p.poll("wait until hidden "+sel, js)
}

// Text returns the text of the first element matching sel, as rendered
// (innerText: hidden parts left out).
func (p *Tab) Text(sel string) string {
	p.t.Helper()
	return Eval[string](p, fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) throw new Error("no element " + %s); return e.innerText; })()`, jsString(sel), jsString(sel)))
}

// Count returns how many elements match sel.
func (p *Tab) Count(sel string) int {
	p.t.Helper()
	return Eval[int](p, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel)))
}

// URL returns the tab's current address.
func (p *Tab) URL() string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		p.failNow("read location", err)
	}
	return u
}

// Eval evaluates a JavaScript expression in the tab and decodes its value.
func Eval[T any](p *Tab, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.failNow("evaluate "+firstLine(expr), err)
	}
	return v
}

// Viewport sets the page's viewport in CSS pixels; mobile also turns on
// touch and the mobile meta-viewport handling, like a phone.
func (p *Tab) Viewport(width, height int, mobile bool) {
	p.t.Helper()
	var opts []chromedp.EmulateViewportOption
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	p.run(fmt.Sprintf("set viewport %dx%d", width, height), chromedp.EmulateViewport(int64(width), int64(height), opts...))
}

// Screenshot saves the whole page (not just the viewport) as
// <ArtifactDir>/<test>-<name>.png, logs and returns the path.
func (p *Tab) Screenshot(name string) string {
	p.t.Helper()
	path, err := p.screenshot(name)
	if err != nil {
		p.t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	return path
}

func (p *Tab) saveScreenshot(name string) {
	p.t.Helper()
	p.shot = true
	if path, err := p.screenshot(name); err != nil {
		p.t.Logf("browser: could not save a screenshot: %v", err)
	} else {
		p.t.Logf("browser: screenshot of the failing page: %s", path)
	}
}

func (p *Tab) screenshot(name string) (string, error) {
	dir, err := p.b.ArtifactDir()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, fileName(p.t.Name()+"-"+name)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "", err
	}
	p.t.Logf("browser: screenshot %s", path)
	return path, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileName turns a test name into a safe file name.
func fileName(s string) string {
	return strings.Trim(unsafeName.ReplaceAllString(s, "_"), "_")
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + "…"
	}
	return s
}
