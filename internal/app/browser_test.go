package app_test

import (
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"vigil/internal/app/apptest"
	"vigil/internal/auth"
	"vigil/internal/browsertest"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// Phone and desktop viewports, in CSS pixels (an iPhone 12–15 and a laptop).
const (
	phoneW, phoneH     = 390, 844
	desktopW, desktopH = 1280, 900
)

// TestBrowser clicks through the platform core in a real Chromium, once per
// database engine. One browser serves every scenario; each scenario gets its
// own tab (and cookie jar) so sign-ins never leak between them.
func TestBrowser(t *testing.T) {
	b := browsertest.New(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		t.Run("owner adds site, zone and device", func(t *testing.T) { ownerAddsSite(t, b, e) })
		t.Run("client sees only its own organisation", func(t *testing.T) { clientIsolation(t, b, e) })
		t.Run("phone width", func(t *testing.T) { phoneWidth(t, b, e) })
		// Layout does not depend on the engine; one pass is enough.
		if db.Dialect == store.SQLite {
			t.Run("layout and screenshots", func(t *testing.T) { layoutAndShots(t, b, e) })
		}
	})
}

// signIn signs email in through the login form and waits for the overview.
func signIn(t *testing.T, p *browsertest.Tab, e *apptest.Env, email string) {
	t.Helper()
	p.Navigate(e.URL + "/login")
	p.Fill("#f-email", email)
	p.Fill("#f-password", apptest.Password)
	if st := p.ClickLink("main form", "Sign in"); st != 200 {
		t.Fatalf("sign in as %s: status %d at %s", email, st, p.URL())
	}
	if path := pathOf(t, p.URL()); path != "/" {
		t.Fatalf("sign in as %s landed on %s, want /", email, path)
	}
	p.WaitVisible("header.top .who")
}

func pathOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

func ownerAddsSite(t *testing.T, b *browsertest.Browser, e *apptest.Env) {
	owner := e.A.Users[auth.Owner]
	p := b.Tab(t)
	p.Viewport(desktopW, desktopH, false)
	signIn(t, p, e, owner.Email)

	p.ClickLink("#nav", "Sites")
	p.WaitText("main h1", "Sites")
	p.ClickLink("main", "New site")
	p.WaitText("main h1", "New site")
	if p.Count("#f-org_id") > 0 {
		p.Select("#f-org_id", e.A.Org.Name)
	}
	p.Fill("#f-name", "Harbour Depot")
	p.Fill("#f-code", "HD-1")
	p.Fill("#f-city", "Boston")
	// A mistyped time zone comes back as a 400 with the error beside the
	// field, what was typed kept, and nothing written.
	p.Fill("#f-timezone", "America/New_Yrok")
	p.AllowConsole(`status of 400`)
	if st := p.ClickLink("main form", "Create site"); st != 400 {
		t.Fatalf("bad time zone: status %d, want 400", st)
	}
	p.WaitText(".field.has-error", "not a known IANA time zone")
	if got := browsertest.Eval[string](p, `document.querySelector("#f-name").value + "|" + document.querySelector("#f-city").value`); got != "Harbour Depot|Boston" {
		t.Errorf("form after a validation error kept %q, want the typed values", got)
	}
	if n := e.Count(`SELECT count(*) FROM sites WHERE name = ?`, "Harbour Depot"); n != 0 {
		t.Fatalf("a rejected site form wrote %d sites", n)
	}
	p.Fill("#f-timezone", "America/New_York")
	p.ClickLink("main form", "Create site")
	p.WaitText("main h1", "Harbour Depot")
	p.WaitText("main .flash", "Site Harbour Depot created.")
	p.WaitText("main dl.facts", "America/New_York")
	sitePath := pathOf(t, p.URL())
	siteID := strings.TrimPrefix(sitePath, "/sites/")

	// The zone form shares the page with the contact form, so address its
	// fields through the form, not by id.
	zoneForm := `form[action$="/zones"]`
	p.Fill(zoneForm+` input[name="name"]`, "Loading bay")
	p.Fill(zoneForm+` input[name="number"]`, "7")
	p.ClickLink(zoneForm, "Add zone")
	p.WaitText("main .flash", "Zone Loading bay added.")
	p.WaitText("main", "Loading bay")

	p.ClickLink("main", "Add a device")
	p.WaitText("main h1", "device")
	p.Fill("#f-name", "Dock camera 1")
	p.Select("#f-type", "Camera")
	p.Select("#f-zone_id", "Loading bay")
	p.Fill("#f-serial", "SN-4411")
	p.ClickLink("main form", "Add device")
	if got := pathOf(t, p.URL()); got != sitePath {
		t.Fatalf("after adding a device: at %s, want %s", got, sitePath)
	}
	p.WaitText("main .flash", "Device Dock camera 1 added.")
	row := p.Text(`#devices + table`)
	for _, want := range []string{"Dock camera 1", "Loading bay", "SN-4411"} {
		if !strings.Contains(row, want) {
			t.Errorf("device row on the site page %q lacks %q", row, want)
		}
	}

	p.ClickLink("#nav", "Devices")
	p.WaitText("main h1", "Devices")
	list := p.Text("main table")
	for _, want := range []string{"Dock camera 1", "Harbour Depot", "SN-4411", e.A.Device.Name} {
		if !strings.Contains(list, want) {
			t.Errorf("/devices lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, e.B.Site.Name) {
		t.Errorf("/devices for client A's owner shows client B's site %q", e.B.Site.Name)
	}

	// The same changes, as the owner reads them in the audit log.
	p.Click("#nav .admin-menu summary") // administration sits under "Admin"
	p.ClickLink("#nav", "Audit log")
	p.WaitText("main h1", "Audit log")
	audit := p.Text("main table")
	for _, want := range []string{"site.create", "zone.create", "device.create", owner.Email} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log page lacks %q", want)
		}
	}
	noSideScroll(t, p, "desktop /audit")

	p.ClickLink("header.top .who", "Sign out")
	if got := pathOf(t, p.URL()); got != "/login" {
		t.Fatalf("after signing out: at %s, want /login", got)
	}
	p.WaitText("main .flash", "You have signed out.")
	p.WaitVisible("#f-password")
	if n := p.Count("header.top"); n != 0 {
		t.Errorf("signed-out login page still shows the signed-in header")
	}
	// Signed out means signed out: the site page now asks for a login.
	p.Navigate(e.URL + sitePath)
	if got := pathOf(t, p.URL()); got != "/login" {
		t.Errorf("site page after sign-out: at %s, want /login", got)
	}

	// Every change went into client A's audit chain, by the owner.
	for _, c := range []struct {
		action, object string
	}{
		{"site.create", siteID},
		{"zone.create", ""},
		{"device.create", ""},
		{"user.login", owner.ID},
		{"user.logout", owner.ID},
	} {
		q := `SELECT count(*) FROM audit_log WHERE org_id = ? AND action = ? AND actor_id = ?`
		args := []any{e.A.Org.ID, c.action, owner.ID}
		if c.object != "" {
			q += ` AND object_id = ?`
			args = append(args, c.object)
		}
		if n := e.Count(q, args...); n != 1 {
			t.Errorf("audit rows for %s by the owner: %d, want 1", c.action, n)
		}
	}
	if n := e.Count(`SELECT count(*) FROM devices WHERE org_id = ? AND site_id = ? AND name = ? AND serial = ?`, e.A.Org.ID, siteID, "Dock camera 1", "SN-4411"); n != 1 {
		t.Errorf("devices row: %d, want 1", n)
	}
}

func clientIsolation(t *testing.T, b *browsertest.Browser, e *apptest.Env) {
	p := b.Tab(t)
	p.Viewport(desktopW, desktopH, false)
	signIn(t, p, e, e.A.Users[auth.Client].Email)

	p.ClickLink("#nav", "Sites")
	p.WaitText("main h1", "Sites")
	list := p.Text("main")
	if !strings.Contains(list, e.A.Site.Name) {
		t.Errorf("client A's user does not see %q on /sites:\n%s", e.A.Site.Name, list)
	}
	if strings.Contains(list, e.B.Site.Name) || strings.Contains(list, e.B.Org.Name) {
		t.Errorf("client A's user sees client B on /sites:\n%s", list)
	}
	// A read-only client cannot add sites: no button, no link.
	if n := p.Count(`main a[href="/sites/new"]`); n != 0 {
		t.Errorf("client role sees %d links to /sites/new", n)
	}
	// Searching for B's site by name finds nothing either.
	p.Fill("#q", e.B.Site.Name)
	p.ClickLink("main form.filters", "Filter")
	if txt := p.Text("main"); strings.Contains(txt, e.B.Site.Name) || p.Count(`main a[href="/sites/`+e.B.Site.ID+`"]`) != 0 {
		t.Errorf("searching for client B's site shows it:\n%s", txt)
	}

	// B's site page by its address is a plain 404, not a 403 that would
	// confirm the site exists.
	p.AllowConsole(`status of 404`)
	if st := p.Open(e.URL + "/sites/" + e.B.Site.ID); st != 404 {
		t.Errorf("client B's site for client A's user: status %d, want 404", st)
	}
	txt := p.Text("main")
	if strings.Contains(txt, e.B.Site.Name) {
		t.Errorf("404 page names client B's site:\n%s", txt)
	}
	p.WaitVisible("header.top .who") // still signed in, with the normal layout
	if st := p.Open(e.URL + "/sites/" + e.A.Site.ID); st != 200 {
		t.Errorf("own site: status %d", st)
	}
	p.WaitText("main h1", e.A.Site.Name)
	if n := p.Count(`main a[href$="/edit"]`); n != 0 {
		t.Errorf("client role sees %d edit links on its site page", n)
	}
}

func phoneWidth(t *testing.T, b *browsertest.Browser, e *apptest.Env) {
	p := b.Tab(t)
	p.Viewport(phoneW, phoneH, true)
	p.Navigate(e.URL + "/login")
	noSideScroll(t, p, "/login")
	signIn(t, p, e, e.A.Users[auth.Owner].Email)

	// The menu starts closed; the toggle opens it and says so.
	p.WaitVisible(".menu-toggle")
	p.WaitHidden("#nav a")
	p.Click(".menu-toggle")
	p.WaitVisible(`#nav a[href="/sites"]`)
	if got := browsertest.Eval[string](p, `document.querySelector(".menu-toggle").getAttribute("aria-expanded")`); got != "true" {
		t.Errorf("open menu: aria-expanded=%q", got)
	}
	p.ClickLink("#nav", "Sites")
	p.WaitText("main h1", "Sites")
	p.WaitHidden("#nav a") // a new page starts with the menu closed
	noSideScroll(t, p, "/sites")
	// Each site is a readable card, not a squeezed table.
	if got := browsertest.Eval[string](p, `getComputedStyle(document.querySelector("main table thead")).display`); got != "none" {
		t.Errorf("site list at phone width shows its table header (display %q)", got)
	}
	p.ClickLink("main table", e.A.Site.Name)
	p.WaitText("main h1", e.A.Site.Name)
	noSideScroll(t, p, "site page")
	p.Click(".menu-toggle")
	p.ClickLink("#nav", "Devices")
	p.WaitText("main h1", "Devices")
	noSideScroll(t, p, "/devices")
	p.Click(".menu-toggle")
	p.WaitVisible(`#nav a[href="/sites"]`)
	p.Click(".menu-toggle")
	p.WaitHidden("#nav a")
}

// noSideScroll fails when the page is wider than the viewport: a user
// would have to scroll sideways to read it.
func noSideScroll(t *testing.T, p *browsertest.Tab, page string) {
	t.Helper()
	if over := browsertest.Eval[int](p, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
		wide := browsertest.Eval[string](p, `Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + String(e.className).replace(/ /g, ".") : "")).join(", ")`)
		t.Errorf("%s is %dpx wider than the window; too wide: %s", page, over, wide)
	}
}

// knownDuplicateIDs lists ids allowed to repeat on a page (none: the site
// page's zone and contact forms now give their fields distinct ids).
var knownDuplicateIDs = map[string]bool{}

// formsLabelled fails when ids repeat on a page (a label then names the
// wrong field) or a visible form field has no label a screen reader can
// announce.
func formsLabelled(t *testing.T, p *browsertest.Tab, page string) {
	t.Helper()
	var dups []string
	for _, id := range browsertest.Eval[[]string](p, `(() => {
  const n = {};
  document.querySelectorAll("[id]").forEach(e => n[e.id] = (n[e.id] || 0) + 1);
  return Object.keys(n).filter(k => n[k] > 1);
})()`) {
		if !knownDuplicateIDs[id] {
			dups = append(dups, id)
		}
	}
	if len(dups) > 0 {
		t.Errorf("%s repeats ids %v", page, dups)
	}
	// A field whose id is a known duplicate loses its label for the same
	// reported reason; it is left out here so the report is not doubled.
	unlabelled := browsertest.Eval[[]string](p, `Array.from(document.querySelectorAll("input, select, textarea"))
  .filter(e => e.type !== "hidden" && !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby"))
  .filter(e => !`+knownDupJS()+`.includes(e.id))
  .map(e => e.name || e.id || e.outerHTML.slice(0, 60))`)
	if len(unlabelled) > 0 {
		t.Errorf("%s has form fields without a label: %v", page, unlabelled)
	}
}

// knownDupJS is knownDuplicateIDs as a JavaScript array literal.
func knownDupJS() string {
	ids := make([]string, 0, len(knownDuplicateIDs))
	for id := range knownDuplicateIDs {
		ids = append(ids, strconv.Quote(id))
	}
	return "[" + strings.Join(ids, ",") + "]"
}

// layoutAndShots opens the core pages at phone width (and, when screenshots
// are kept, at desktop width too), checks none needs sideways scrolling, and
// saves a screenshot of each into $VIGIL_TEST_ARTIFACTS for people to look
// at. Without that variable the pictures would be thrown away, so only the
// checks run, which keeps the suite fast.
func layoutAndShots(t *testing.T, b *browsertest.Browser, e *apptest.Env) {
	keep := os.Getenv(browsertest.EnvArtifacts) != ""
	type viewport struct {
		name   string
		w, h   int
		mobile bool
	}
	vs := []viewport{{"phone", phoneW, phoneH, true}}
	if keep {
		vs = append(vs, viewport{"desktop", desktopW, desktopH, false})
	}
	shot := func(p *browsertest.Tab, name string) {
		if keep {
			p.Screenshot(name)
		}
	}
	for _, v := range vs {
		p := b.Tab(t)
		p.Viewport(v.w, v.h, v.mobile)
		p.Navigate(e.URL + "/login")
		shot(p, v.name+"-login")
		signIn(t, p, e, e.A.Users[auth.Owner].Email)
		for _, pg := range []struct{ name, path string }{
			{"overview", "/"},
			{"sites", "/sites"},
			{"site", "/sites/" + e.A.Site.ID},
			{"site-new", "/sites/new"},
			{"devices", "/devices"},
			{"device-new", "/devices/new?site_id=" + e.A.Site.ID},
			{"not-found", "/sites/" + e.B.Site.ID},
			{"audit", "/audit"},
			{"users", "/users"},
			{"account", "/account"},
		} {
			if pg.name == "not-found" {
				p.AllowConsole(`status of 404`)
			}
			p.Navigate(e.URL + pg.path)
			noSideScroll(t, p, v.name+" "+pg.path)
			formsLabelled(t, p, pg.path)
			shot(p, v.name+"-"+pg.name)
		}
		if v.mobile {
			p.Navigate(e.URL + "/sites")
			p.Click(".menu-toggle")
			p.WaitVisible(`#nav a[href="/sites"]`)
			noSideScroll(t, p, "phone menu")
			shot(p, v.name+"-menu-open")
		}
	}
}
