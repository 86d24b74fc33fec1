package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"vigil/internal/app/apptest"
	"vigil/internal/auth"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestOpenAPIMatchesRoutes checks that the served document lists exactly
// the registered API routes and that real responses fit its schemas.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	c := e.Login(e.A.Users[auth.Owner].Email)
	res := e.Anon().Do("GET", "/api/v1/openapi.json", nil)
	if res.Status != 200 {
		t.Fatalf("openapi.json: %d", res.Status)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(res.Body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI 3 document: %v", err)
	}
	registered := 0
	for _, r := range e.App.Web.Routes() {
		if !r.API {
			continue
		}
		registered++
		op, ok := doc.Paths[r.Path][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("%s %s is not in openapi.json", r.Method, r.Path)
			continue
		}
		if op["summary"] == "" {
			t.Errorf("%s %s has no summary", r.Method, r.Path)
		}
	}
	documented := 0
	for _, ops := range doc.Paths {
		documented += len(ops)
	}
	if documented != registered {
		t.Errorf("openapi.json documents %d operations, the router has %d", documented, registered)
	}
	// Real responses of the read routes against their documented schemas.
	paths := map[string]string{
		"/orgs": "/orgs", "/orgs/{id}": "/orgs/" + e.A.Org.ID, "/sites": "/sites", "/sites/{id}": "/sites/" + e.A.Site.ID,
		"/sites/{id}/zones": "/sites/" + e.A.Site.ID + "/zones", "/sites/{id}/contacts": "/sites/" + e.A.Site.ID + "/contacts",
		"/zones/{id}": "/zones/" + e.A.Zone.ID, "/devices": "/devices", "/devices/{id}": "/devices/" + e.A.Device.ID,
		"/users": "/users", "/users/{id}": "/users/" + e.A.Users[auth.Officer].ID, "/audit": "/audit", "/me": "/me", "/me/tokens": "/me/tokens",
	}
	for pattern, path := range paths {
		op := doc.Paths[pattern]["get"]
		schema := dig(op, "responses", "200", "content", "application/json", "schema")
		if schema == nil {
			t.Errorf("GET %s: no 200 schema", pattern)
			continue
		}
		res := c.Do("GET", "/api/v1"+path, nil)
		if res.Status != 200 {
			t.Errorf("GET %s: %d %s", path, res.Status, res.Body)
			continue
		}
		var v any
		json.Unmarshal(res.Body, &v)
		if err := conforms(schema.(map[string]any), v, pattern); err != nil {
			t.Errorf("GET %s does not match its schema: %v", pattern, err)
		}
	}
	// Errors follow the documented error shape.
	res = c.Do("GET", "/api/v1/sites/nope", nil)
	var er struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if res.Status != 404 || json.Unmarshal(res.Body, &er) != nil || er.Error.Code != "not_found" || er.Error.Message == "" {
		t.Errorf("error shape: %d %s", res.Status, res.Body)
	}
}

func dig(m any, keys ...string) any {
	for _, k := range keys {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[k]
	}
	return m
}

// conforms is a small JSON Schema check: types, required properties, items.
func conforms(s map[string]any, v any, at string) error {
	if v == nil {
		if s["nullable"] == true || len(s) == 0 {
			return nil
		}
		return fmt.Errorf("%s: null but not nullable", at)
	}
	switch s["type"] {
	case "object":
		o, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want object, got %T", at, v)
		}
		props, _ := s["properties"].(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, k := range req {
				if _, ok := o[k.(string)]; !ok {
					return fmt.Errorf("%s: missing required %q", at, k)
				}
			}
		}
		for k, val := range o {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if s["additionalProperties"] != nil {
					if err := conforms(s["additionalProperties"].(map[string]any), val, at+"."+k); err != nil {
						return err
					}
					continue
				}
				return fmt.Errorf("%s: undocumented property %q", at, k)
			}
			if err := conforms(ps, val, at+"."+k); err != nil {
				return err
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: want array, got %T", at, v)
		}
		for i, x := range a {
			if err := conforms(s["items"].(map[string]any), x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "string":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s: want string, got %T", at, v)
		}
	case "integer", "number":
		if _, ok := v.(float64); !ok {
			return fmt.Errorf("%s: want number, got %T", at, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: want boolean, got %T", at, v)
		}
	}
	return nil
}

// TestBadInput: every kind of bad request gets a clear 4xx and writes nothing.
func TestBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		c := e.Login(e.A.Users[auth.Owner].Email)
		sites := func() int { return e.Count(`SELECT COUNT(*) FROM sites`) }
		audits := func() int { return e.Count(`SELECT COUNT(*) FROM audit_log`) }
		before, auditBefore := sites(), audits()
		big := `{"name":"` + strings.Repeat("x", 2<<20) + `","timezone":"UTC"}`
		cases := []struct {
			name   string
			body   any
			status int
			field  string
		}{
			{"malformed json", `{"name": "x",`, 400, ""},
			{"not an object", `[1,2]`, 400, ""},
			{"trailing data", `{"name":"x","timezone":"UTC"} {}`, 400, ""},
			{"unknown field", `{"name":"x","timezone":"UTC","owner":"me"}`, 400, "owner"},
			{"wrong type", `{"name":12,"timezone":"UTC"}`, 400, "name"},
			{"missing name", `{"timezone":"UTC"}`, 400, "name"},
			{"missing timezone", `{"name":"Depot"}`, 400, "timezone"},
			{"bad timezone", `{"name":"Depot","timezone":"Mars/Olympus"}`, 400, "timezone"},
			{"latitude out of range", `{"name":"Depot","timezone":"UTC","latitude":91,"longitude":0}`, 400, "latitude"},
			{"oversized body", big, 413, ""},
			{"empty body", ``, 400, ""},
		}
		for _, k := range cases {
			res := c.Do("POST", "/api/v1/sites", k.body)
			var er struct {
				Error struct{ Code, Message, Field string } `json:"error"`
			}
			json.Unmarshal(res.Body, &er)
			if res.Status != k.status || er.Error.Message == "" || (k.field != "" && er.Error.Field != k.field) {
				t.Errorf("%s: %d %s, want %d naming %q", k.name, res.Status, res.Body, k.status, k.field)
			}
		}
		if sites() != before || audits() != auditBefore {
			t.Fatalf("bad input wrote data: sites %d→%d, audit %d→%d", before, sites(), auditBefore, audits())
		}
		// SQL-looking text is stored as text.
		evil := `Robert'); DROP TABLE sites;--`
		res := c.Do("POST", "/api/v1/sites", map[string]any{"name": evil, "timezone": "UTC"})
		if res.Status != 201 || !bytes.Contains(res.Body, []byte(`DROP TABLE`)) {
			t.Fatalf("sql-looking name: %d %s", res.Status, res.Body)
		}
		if res := c.Do("GET", "/api/v1/sites?q="+strings.ReplaceAll("%' OR 1=1 --", " ", "+"), nil); res.Status != 200 || bytes.Contains(res.Body, []byte(e.B.Site.ID)) {
			t.Fatalf("sql-looking search: %d", res.Status)
		}
		// Duplicate slug and email.
		op := e.Login(e.Operator.Users[auth.Owner].Email)
		if res := op.Do("POST", "/api/v1/orgs", map[string]any{"name": "Dup", "slug": "client-b"}); res.Status != 400 || !bytes.Contains(res.Body, []byte(`"field":"slug"`)) {
			t.Errorf("duplicate slug: %d %s", res.Status, res.Body)
		}
		if res := c.Do("POST", "/api/v1/users", map[string]any{"email": e.B.Users[auth.Officer].Email, "name": "X", "password": apptest.Password, "role": "officer"}); res.Status != 400 || !bytes.Contains(res.Body, []byte(`"field":"email"`)) {
			t.Errorf("duplicate email: %d %s", res.Status, res.Body)
		}
		if res := c.Do("POST", "/api/v1/users", map[string]any{"email": "short@x.test", "name": "X", "password": "short", "role": "officer"}); res.Status != 400 || !bytes.Contains(res.Body, []byte(`"field":"password"`)) {
			t.Errorf("short password: %d %s", res.Status, res.Body)
		}
		if n := e.Count(`SELECT COUNT(*) FROM users WHERE email = 'short@x.test'`); n != 0 {
			t.Errorf("refused user was written")
		}
		// Wrong content type.
		req, _ := http.NewRequest("POST", e.URL+"/api/v1/sites", strings.NewReader("name=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r, err := c.HTTP.Do(req); err != nil || r.StatusCode != 415 {
			t.Errorf("form body to JSON API: %v %v", r.StatusCode, err)
		}
		// Bad paging.
		if res := c.Do("GET", "/api/v1/sites?limit=0", nil); res.Status != 400 {
			t.Errorf("limit=0: %d", res.Status)
		}
	})
}

// TestLoginAndSessions covers wrong passwords, lockout, logout, expired
// sessions, tokens and cross-origin form posts.
func TestLoginAndSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		email := e.A.Users[auth.Manager].Email
		anon := e.Anon()
		if res := anon.Do("GET", "/api/v1/me", nil); res.Status != 401 {
			t.Fatalf("me without session: %d", res.Status)
		}
		if res := anon.Do("POST", "/api/v1/auth/login", map[string]any{"email": email, "password": "wrong password!!"}); res.Status != 401 {
			t.Fatalf("wrong password: %d %s", res.Status, res.Body)
		}
		if res := anon.Do("POST", "/api/v1/auth/login", map[string]any{"email": "nobody@x.test", "password": "wrong password!!"}); res.Status != 401 || !bytes.Contains(res.Body, []byte("wrong email or password")) {
			t.Fatalf("unknown email must look like a wrong password: %d %s", res.Status, res.Body)
		}
		if res := anon.Do("POST", "/api/v1/auth/login", map[string]any{"email": email}); res.Status != 400 || !bytes.Contains(res.Body, []byte(`"field":"password"`)) {
			t.Fatalf("missing password: %d %s", res.Status, res.Body)
		}
		// Lockout after repeated failures, even with the right password.
		for i := 0; i < auth.AccountMaxFailures; i++ {
			anon.Do("POST", "/api/v1/auth/login", map[string]any{"email": email, "password": "wrong password!!"})
		}
		if res := anon.Do("POST", "/api/v1/auth/login", map[string]any{"email": email, "password": apptest.Password}); res.Status != 429 {
			t.Fatalf("locked account: %d %s", res.Status, res.Body)
		}
		if n := e.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'user.login_failed'`); n < auth.AccountMaxFailures {
			t.Fatalf("failed logins not audited: %d", n)
		}
		// Too many failures from one address lock that address out, even
		// for another account with the right password.
		for i := 0; i < auth.IPMaxFailures; i++ {
			anon.Do("POST", "/api/v1/auth/login", map[string]any{"email": fmt.Sprintf("guess%d@x.test", i), "password": "wrong password!!"})
		}
		if res := anon.Do("POST", "/api/v1/auth/login", map[string]any{"email": e.A.Users[auth.Owner].Email, "password": apptest.Password}); res.Status != 429 {
			t.Fatalf("locked address: %d %s", res.Status, res.Body)
		}
		e.App.DB.Exec(t.Context(), `DELETE FROM login_throttle`)
		// Sessions: logout ends the session; the cookie no longer works.
		c := e.Login(e.A.Users[auth.Owner].Email)
		if res := c.Do("GET", "/api/v1/me", nil); res.Status != 200 {
			t.Fatalf("me: %d", res.Status)
		}
		c.Do("POST", "/api/v1/auth/logout", nil)
		if res := c.Do("GET", "/api/v1/me", nil); res.Status != 401 {
			t.Fatalf("me after logout: %d", res.Status)
		}
		// Expired session.
		c = e.Login(e.A.Users[auth.Owner].Email)
		e.App.DB.Exec(t.Context(), `UPDATE sessions SET expires_at = ?`, time.Now().Add(-time.Minute).UTC())
		if res := c.Do("GET", "/api/v1/me", nil); res.Status != 401 {
			t.Fatalf("expired session: %d", res.Status)
		}
		if res := c.Do("GET", "/sites", nil); res.Status != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Fatalf("expired session on a page: %d %s", res.Status, res.Header.Get("Location"))
		}
		// API tokens: work as bearer, stop working when revoked; a bad token is 401.
		c = e.Login(e.A.Users[auth.Owner].Email)
		var tok struct {
			Token  string
			Detail struct{ ID string }
		}
		c.Do("POST", "/api/v1/me/tokens", map[string]any{"name": "script"}).JSON(&tok)
		b := e.Anon()
		b.Token = tok.Token
		if res := b.Do("GET", "/api/v1/sites", nil); res.Status != 200 || !bytes.Contains(res.Body, []byte(e.A.Site.ID)) {
			t.Fatalf("bearer token: %d", res.Status)
		}
		c.Do("DELETE", "/api/v1/me/tokens/"+tok.Detail.ID, nil)
		if res := b.Do("GET", "/api/v1/sites", nil); res.Status != 401 {
			t.Fatalf("revoked token: %d", res.Status)
		}
		b.Token = "vgl_forged"
		if res := b.Do("GET", "/api/v1/sites", nil); res.Status != 401 {
			t.Fatalf("forged token: %d", res.Status)
		}
		// Cross-origin form post is refused and writes nothing.
		before := e.Count(`SELECT COUNT(*) FROM sites`)
		req, _ := http.NewRequest("POST", e.URL+"/sites", strings.NewReader("org_id="+e.A.Org.ID+"&name=Evil&timezone=UTC"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		res, err := c.HTTP.Do(req)
		if err != nil || res.StatusCode != 403 || e.Count(`SELECT COUNT(*) FROM sites`) != before {
			t.Fatalf("cross-origin post: %v %v", res.StatusCode, err)
		}
		// The same form from the same origin works.
		if r := c.Form("/sites", map[string]string{"org_id": e.A.Org.ID, "name": "Good", "timezone": "UTC"}); r.Status != 303 {
			t.Fatalf("same-origin post: %d %s", r.Status, r.Body)
		}
	})
}

// TestForcedPasswordChange: a one-time password must be replaced first.
func TestForcedPasswordChange(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	u := e.A.Users[auth.Officer]
	e.App.DB.Exec(t.Context(), `UPDATE users SET must_change_password = TRUE WHERE id = ?`, u.ID)
	c := e.Login(u.Email)
	if res := c.Do("GET", "/api/v1/sites", nil); res.Status != 403 || !bytes.Contains(res.Body, []byte("password_change_required")) {
		t.Fatalf("before change: %d %s", res.Status, res.Body)
	}
	if res := c.Do("GET", "/sites", nil); res.Status != 303 || res.Header.Get("Location") != "/account/password" {
		t.Fatalf("page before change: %d %s", res.Status, res.Header.Get("Location"))
	}
	if res := c.Do("POST", "/api/v1/me/password", map[string]any{"current_password": apptest.Password, "new_password": "a much better passphrase"}); res.Status != 204 {
		t.Fatalf("change: %d %s", res.Status, res.Body)
	}
	if res := c.Do("GET", "/api/v1/sites", nil); res.Status != 200 {
		t.Fatalf("after change: %d %s", res.Status, res.Body)
	}
}

// TestAuditExport: owners and auditors read and export; others may not.
func TestAuditExport(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	c := e.Login(e.A.Users[auth.Auditor].Email)
	res := c.Do("GET", "/api/v1/audit?format=csv", nil)
	if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !bytes.Contains(res.Body, []byte("site.create")) {
		t.Fatalf("csv export: %d %s", res.Status, res.Body)
	}
	if bytes.Contains(res.Body, []byte(e.B.Org.ID)) {
		t.Fatal("export leaked client B")
	}
	res = c.Do("GET", "/api/v1/audit?format=json&action=site.", nil)
	var rows []map[string]any
	if res.Status != 200 || json.Unmarshal(res.Body, &rows) != nil || len(rows) == 0 {
		t.Fatalf("json export: %d %s", res.Status, res.Body)
	}
	if res := c.Do("GET", "/api/v1/audit?format=xml", nil); res.Status != 400 {
		t.Fatalf("bad format: %d", res.Status)
	}
	if res := c.Do("GET", "/api/v1/audit?from=yesterday", nil); res.Status != 400 {
		t.Fatalf("bad date: %d", res.Status)
	}
	if res := e.Login(e.A.Users[auth.Officer].Email).Do("GET", "/api/v1/audit", nil); res.Status != 403 {
		t.Fatalf("officer reading audit: %d", res.Status)
	}
	if res := c.Do("GET", "/audit?action=site.", nil); res.Status != 200 || !bytes.Contains(res.Body, []byte("site.create")) {
		t.Fatalf("audit page: %d", res.Status)
	}
}
