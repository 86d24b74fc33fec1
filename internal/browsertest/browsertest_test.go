package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vigil/internal/browsertest"
)

// site is a tiny app under the same strict CSP as vigil's pages, with one
// page per behaviour the helpers must handle.
func site(t testing.TB) *httptest.Server {
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>t</title></head><body>%s</body></html>`, body)
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<h1 id="h">Home</h1><p><a id="go" href="/form">Form</a></p><div id="late"></div><script src="/late.js"></script>`)
	})
	mux.HandleFunc("GET /late.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `setTimeout(() => { document.getElementById("late").textContent = "arrived later"; }, 200);`)
	})
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<form method="post" action="/form"><label for="n">Name</label><input id="n" name="name" value="prefilled">
<select id="c" name="colour"><option value="r">Red</option><option value="g">Green</option></select>
<button id="send" type="submit">Send</button></form>`)
	})
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/done?name="+r.FormValue("name")+"&colour="+r.FormValue("colour"), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /done", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<p id="out">`+r.FormValue("name")+"/"+r.FormValue("colour")+`</p>`)
	})
	mux.HandleFunc("GET /inline", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<p>inline</p><script>document.title = "ran";</script>`)
	})
	mux.HandleFunc("GET /throw", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<p>throws</p><script src="/throw.js"></script>`)
	})
	mux.HandleFunc("GET /throw.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `throw new Error("boom from page");`)
	})
	mux.HandleFunc("GET /missing", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		page(w, `<h1>Not found</h1>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestBrowsertest runs every case on one Chromium: starting one takes
// seconds on a loaded machine, and tabs are isolated from each other anyway.
func TestBrowsertest(t *testing.T) {
	b := browsertest.New(t)
	for _, c := range []struct {
		name string
		fn   func(*testing.T, *browsertest.Browser)
	}{
		{"TabSteps", testTabSteps},
		{"ConsoleProblems", testConsoleProblems},
		{"TabsHaveSeparateCookies", testTabsHaveSeparateCookies},
		{"StuckStepFailsWithScreenshot", testStuckStepFailsWithScreenshot},
		{"ConsoleProblemFailsTest", testConsoleProblemFailsTest},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, b) })
	}
}

// problems waits briefly for console problems to arrive and takes them.
func problems(p *browsertest.Tab) []chromedp.ConsoleMessage {
	deadline := time.Now().Add(5 * time.Second)
	for {
		if ms := p.Problems(); len(ms) > 0 || time.Now().After(deadline) {
			return ms
		}
	}
}

func testTabSteps(t *testing.T, b *browsertest.Browser) {
	srv := site(t)
	p := b.Tab(t)
	p.Navigate(srv.URL)
	if got := p.Text("#h"); got != "Home" {
		t.Fatalf("heading %q", got)
	}
	p.WaitText("#late", "arrived later")
	if st := p.ClickAndWait("#go"); st != 200 || !strings.HasSuffix(p.URL(), "/form") {
		t.Fatalf("link: status %d at %s", st, p.URL())
	}
	p.Fill("#n", "Ada Lovelace")
	p.Select("#c", "Green")
	if st := p.ClickLink("form", "Send"); st != 200 {
		t.Fatalf("submit: status %d", st)
	}
	p.WaitText("#out", "Ada Lovelace/g")
	if n := p.Count("p"); n != 1 {
		t.Fatalf("%d paragraphs", n)
	}
	p.AllowConsole(`status of 404`)
	if st := p.Open(srv.URL + "/missing"); st != 404 {
		t.Fatalf("missing page: status %d", st)
	}
	path := p.Screenshot("missing")
	png, err := os.ReadFile(path)
	if err != nil || len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	if filepath.Ext(path) != ".png" {
		t.Fatalf("screenshot name %s", path)
	}
}

func testConsoleProblems(t *testing.T, b *browsertest.Browser) {
	srv := site(t)
	cases := []struct {
		path, want string
	}{
		{"/inline", "Content Security Policy"},
		{"/throw", "boom from page"},
	}
	for _, c := range cases {
		t.Run(strings.TrimPrefix(c.path, "/"), func(t *testing.T) {
			p := b.Tab(t)
			p.Navigate(srv.URL + c.path)
			ms := problems(p)
			var texts []string
			for _, m := range ms {
				texts = append(texts, m.String())
			}
			if !strings.Contains(strings.Join(texts, "\n"), c.want) {
				t.Fatalf("want a problem mentioning %q, got %q (all: %v)", c.want, texts, p.Console())
			}
		})
	}
	t.Run("clean page", func(t *testing.T) {
		p := b.Tab(t)
		p.Navigate(srv.URL)
		p.WaitText("#late", "arrived later")
		if ms := p.Problems(); len(ms) != 0 {
			t.Fatalf("clean page reported %v", ms)
		}
	})
}

func testTabsHaveSeparateCookies(t *testing.T, b *browsertest.Browser) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /set", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "who", Value: "first", Path: "/"})
		fmt.Fprint(w, "<p id=v>set</p>")
	})
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("who")
		v := "none"
		if err == nil {
			v = c.Value
		}
		fmt.Fprintf(w, "<p id=v>%s</p>", v)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	one, two := b.Tab(t), b.Tab(t)
	one.Navigate(srv.URL + "/set")
	one.Navigate(srv.URL + "/get")
	two.Navigate(srv.URL + "/get")
	if a, b := one.Text("#v"), two.Text("#v"); a != "first" || b != "none" {
		t.Fatalf("tab cookies: first tab %q, second tab %q", a, b)
	}
}

// recorder stands in for a test whose failures are the subject of the test:
// it records Errorf/Fatalf instead of failing the real test, and ends the
// goroutine on Fatalf as testing does.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed bool
	msgs   []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) FailNow() {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.msgs, "\n")
}

// inGoroutine runs fn the way testing runs a test body, so Fatalf's
// Goexit ends fn and not the caller.
func inGoroutine(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

// A step that can never succeed must fail within ActionTimeout, leave a
// screenshot of the page and name the step and the page.
func testStuckStepFailsWithScreenshot(t *testing.T, b *browsertest.Browser) {
	srv := site(t)
	defer func(d time.Duration) { browsertest.ActionTimeout = d }(browsertest.ActionTimeout)
	browsertest.ActionTimeout = 2 * time.Second
	rec := &recorder{TB: t}
	p := b.Tab(rec)
	p.Navigate(srv.URL + "/form")
	start := time.Now()
	inGoroutine(func() { p.WaitText("#n", "never there") })
	took := time.Since(start)
	if !rec.Failed() {
		t.Fatal("a step that cannot succeed did not fail the test")
	}
	if took > 10*time.Second {
		t.Errorf("stuck step took %v to fail, want about ActionTimeout", took)
	}
	out := rec.text()
	for _, want := range []string{"never there", "/form", "screenshot of the failing page"} {
		if !strings.Contains(out, want) {
			t.Errorf("failure report lacks %q:\n%s", want, out)
		}
	}
	shots, _ := filepath.Glob(filepath.Join(mustDir(t, b), "*failed.png"))
	if len(shots) == 0 {
		t.Errorf("no failure screenshot in %s", mustDir(t, b))
	}
}

// Console problems found at the end of a test fail it.
func testConsoleProblemFailsTest(t *testing.T, b *browsertest.Browser) {
	srv := site(t)
	rec := &recorder{TB: t}
	p := b.Tab(rec)
	p.Navigate(srv.URL + "/throw")
	deadline := time.Now().Add(5 * time.Second)
	for len(p.Console()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	inGoroutine(p.CheckConsole)
	if !rec.Failed() || !strings.Contains(rec.text(), "boom from page") {
		t.Fatalf("an uncaught exception did not fail the test:\n%s", rec.text())
	}
	// Allowed messages do not.
	rec2 := &recorder{TB: t}
	p2 := b.Tab(rec2)
	p2.AllowConsole("boom from page")
	p2.Navigate(srv.URL + "/throw")
	time.Sleep(200 * time.Millisecond)
	inGoroutine(p2.CheckConsole)
	if rec2.Failed() {
		t.Fatalf("an allowed message failed the test:\n%s", rec2.text())
	}
}

func mustDir(t *testing.T, b *browsertest.Browser) string {
	d, err := b.ArtifactDir()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// BenchmarkFormRoundTrip is one person-like step sequence: open a form,
// type into a field, submit, and wait for the page after the redirect. It
// tells how many such steps a browser suite can afford within its budget.
func BenchmarkFormRoundTrip(b *testing.B) {
	br := browsertest.New(b)
	srv := site(b)
	p := br.Tab(b)
	b.ResetTimer()
	for b.Loop() {
		p.Navigate(srv.URL + "/form")
		p.Fill("#n", "Ada")
		p.ClickAndWait("#send")
	}
}

// BenchmarkOpenTab measures a new tab with its own cookie jar, the cost each
// scenario pays for isolation.
func BenchmarkOpenTab(b *testing.B) {
	br := browsertest.New(b)
	for b.Loop() {
		br.Tab(b).Close()
	}
}

func (r *recorder) Skipf(format string, args ...any) {
	r.Logf("SKIP: "+format, args...)
	runtime.Goexit()
}

// Without a browser a developer's run skips, but CI must fail: a browser
// suite that silently skips in CI proves nothing.
func TestNewWithoutBrowser(t *testing.T) {
	cases := []struct {
		name, browser, ci string
		fail              bool
		say               string
	}{
		{"unset, developer", "", "", false, "SKIP: VIGIL_TEST_BROWSER not set"},
		{"unset, CI", "", "true", true, "CI=true but VIGIL_TEST_BROWSER is not set"},
		{"missing binary", filepath.Join(t.TempDir(), "no-chromium"), "", true, "no-chromium"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(browsertest.EnvBrowser, c.browser)
			t.Setenv("CI", c.ci)
			rec := &recorder{TB: t}
			var got *browsertest.Browser
			inGoroutine(func() { got = browsertest.New(rec) })
			if got != nil {
				t.Fatal("New returned a browser")
			}
			if rec.Failed() != c.fail || !strings.Contains(rec.text(), c.say) {
				t.Fatalf("failed=%v, output %q; want failed=%v saying %q", rec.Failed(), rec.text(), c.fail, c.say)
			}
		})
	}
}

func TestProblem(t *testing.T) {
	cases := []struct {
		name string
		m    chromedp.ConsoleMessage
		want bool
	}{
		{"log", chromedp.ConsoleMessage{Type: chromedp.ConsoleLog, Text: "hello"}, false},
		{"warning", chromedp.ConsoleMessage{Type: chromedp.ConsoleWarning, Text: "deprecated API"}, false},
		{"console.error", chromedp.ConsoleMessage{Type: chromedp.ConsoleError, Text: "oops"}, true},
		{"exception", chromedp.ConsoleMessage{Type: chromedp.ConsoleException, Text: "Uncaught Error: boom"}, true},
		{"CSP as warning", chromedp.ConsoleMessage{Type: chromedp.ConsoleWarning, Text: "Refused to apply inline style because it violates the following Content Security Policy directive"}, true},
		{"failed asset", chromedp.ConsoleMessage{Type: chromedp.ConsoleError, Source: "network", URL: "http://x/static/app.css", Text: "Failed to load resource: 404"}, true},
		{"favicon", chromedp.ConsoleMessage{Type: chromedp.ConsoleError, Source: "network", URL: "http://x/favicon.ico", Text: "Failed to load resource: 404"}, false},
	}
	for _, c := range cases {
		if got := browsertest.Problem(c.m); got != c.want {
			t.Errorf("%s: Problem = %v, want %v", c.name, got, c.want)
		}
	}
}
