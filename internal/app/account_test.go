package app_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"vigil/internal/app/apptest"
	"vigil/internal/auth"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestTOTPAndRecoveryCodes enrols TOTP through the pages, then signs in
// with a code and with a one-time recovery code.
func TestTOTPAndRecoveryCodes(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	email := e.A.Users[auth.Manager].Email
	c := e.Login(email)
	page := c.Do("GET", "/account/totp", nil)
	m := regexp.MustCompile(`name="secret" value="([A-Z2-7]+)"`).FindSubmatch(page.Body)
	if page.Status != 200 || m == nil || !bytes.Contains(page.Body, []byte("data:image/png;base64,")) {
		t.Fatalf("enrolment page: %d", page.Status)
	}
	secret := string(m[1])
	if r := c.Form("/account/totp", map[string]string{"secret": secret, "code": "000000"}); r.Status != 400 {
		t.Fatalf("wrong code accepted: %d", r.Status)
	}
	code, _ := totp.GenerateCode(secret, time.Now())
	r := c.Form("/account/totp", map[string]string{"secret": secret, "code": code})
	codes := regexp.MustCompile(`<li>([a-z0-9_-]{5}-[a-z0-9_-]{5})</li>`).FindAllSubmatch(r.Body, -1)
	if r.Status != 200 || len(codes) != auth.RecoveryCodeCount {
		t.Fatalf("confirm: %d, %d codes", r.Status, len(codes))
	}
	login := func(second string) int {
		return e.Anon().Do("POST", "/api/v1/auth/login", map[string]any{"email": email, "password": apptest.Password, "totp": second}).Status
	}
	if s := login(""); s != 401 {
		t.Fatalf("password alone: %d", s)
	}
	code, _ = totp.GenerateCode(secret, time.Now())
	if s := login(code); s != 200 {
		t.Fatalf("with TOTP: %d", s)
	}
	rc := string(codes[0][1])
	if s := login(rc); s != 200 {
		t.Fatalf("recovery code: %d", s)
	}
	if s := login(rc); s != 401 {
		t.Fatalf("recovery code reused: %d", s)
	}
}

// TestInvitation: an admin invites by link; the invitee sets a password and
// signs in with the invited role; the link then stops working.
func TestInvitation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		admin := e.Login(e.A.Users[auth.Admin].Email)
		res := admin.Do("POST", "/api/v1/invitations", map[string]any{"email": "new.guard@a.test", "org_id": e.A.Org.ID, "role": "officer"})
		var out struct{ URL string }
		if res.Status != 201 || json.Unmarshal(res.Body, &out) != nil || !strings.Contains(out.URL, "/invite/") {
			t.Fatalf("invite: %d %s", res.Status, res.Body)
		}
		if r := admin.Do("POST", "/api/v1/invitations", map[string]any{"email": "boss@a.test", "org_id": e.A.Org.ID, "role": "owner"}); r.Status != 400 {
			t.Fatalf("admin inviting an owner: %d", r.Status)
		}
		path := out.URL[strings.Index(out.URL, "/invite/"):]
		anon := e.Anon()
		if r := anon.Do("GET", path, nil); r.Status != 200 || !bytes.Contains(r.Body, []byte("Client A")) {
			t.Fatalf("invite page: %d", r.Status)
		}
		if r := anon.Form(path, map[string]string{"name": "New Guard", "password": "short", "confirm_password": "short"}); r.Status != 400 {
			t.Fatalf("short password: %d", r.Status)
		}
		pw := "a strong enough passphrase"
		if r := anon.Form(path, map[string]string{"name": "New Guard", "password": pw, "confirm_password": pw}); r.Status != 303 {
			t.Fatalf("accept: %d %s", r.Status, r.Body)
		}
		if r := anon.Do("GET", path, nil); r.Status != 404 {
			t.Fatalf("used invitation: %d", r.Status)
		}
		res = e.Anon().Do("POST", "/api/v1/auth/login", map[string]any{"email": "new.guard@a.test", "password": pw})
		if res.Status != 200 || !bytes.Contains(res.Body, []byte(`"`+e.A.Org.ID+`":"officer"`)) {
			t.Fatalf("invitee login: %d %s", res.Status, res.Body)
		}
	})
}

// TestPagesRender: every page of the core renders for an owner, and
// page-level permissions match the API.
func TestPagesRender(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	c := e.Login(e.A.Users[auth.Owner].Email)
	for _, p := range []string{"/", "/orgs", "/orgs/" + e.A.Org.ID, "/sites", "/sites/new", "/sites/" + e.A.Site.ID, "/sites/" + e.A.Site.ID + "/edit",
		"/zones/" + e.A.Zone.ID + "/edit", "/devices", "/devices/new", "/devices/new?site_id=" + e.A.Site.ID, "/devices/" + e.A.Device.ID + "/edit",
		"/users", "/users/invite", "/users/" + e.A.Users[auth.Officer].ID, "/audit", "/account", "/account/password", "/account/totp"} {
		r := c.Do("GET", p, nil)
		if r.Status != 200 || !bytes.Contains(r.Body, []byte("</html>")) {
			t.Errorf("GET %s: %d", p, r.Status)
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
		if bytes.Contains(r.Body, []byte("<script>")) || bytes.Contains(r.Body, []byte(" style=")) {
			t.Errorf("GET %s: inline script or style", p)
		}
	}
	for _, p := range []string{"/sites/" + e.B.Site.ID, "/devices/" + e.B.Device.ID + "/edit", "/users/" + e.B.Users[auth.Officer].ID, "/orgs/" + e.B.Org.ID} {
		if r := c.Do("GET", p, nil); r.Status != 404 {
			t.Errorf("GET %s (client B): %d, want 404", p, r.Status)
		}
	}
	o := e.Login(e.A.Users[auth.Officer].Email)
	for _, p := range []string{"/sites/new", "/users/invite", "/audit", "/sites/" + e.A.Site.ID + "/edit"} {
		if r := o.Do("GET", p, nil); r.Status != 403 {
			t.Errorf("officer GET %s: %d, want 403", p, r.Status)
		}
	}
	// Form validation shows errors next to fields and writes nothing.
	before := e.Count(`SELECT COUNT(*) FROM sites`)
	r := c.Form("/sites", map[string]string{"org_id": e.A.Org.ID, "name": "", "timezone": "Nowhere/Else"})
	if r.Status != 400 || !bytes.Contains(r.Body, []byte(`class="error"`)) || e.Count(`SELECT COUNT(*) FROM sites`) != before {
		t.Fatalf("invalid site form: %d", r.Status)
	}
}
