// Package apptest starts a whole vigil app on a fresh database behind a
// real HTTP server, with named fixtures: an operator organisation, two
// client organisations (A and B) each with a site, zone, device and contact,
// and users for every role. Tests sign in as those users through the real
// login endpoint; nothing fakes the signed-in user.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"vigil/internal/app"
	"vigil/internal/auth"
	"vigil/internal/config"
	"vigil/internal/org"
	"vigil/internal/store"
)

// Password is every fixture user's password.
const Password = "correct horse battery staple"

// Tenant is one organisation's fixtures.
type Tenant struct {
	Org     *org.Org
	Site    *org.Site
	Zone    *org.Zone
	Device  *org.Device
	Contact *org.Contact
	// Users by role, each a direct member of this organisation.
	Users map[auth.Role]*auth.User
}

// Env is a running app with fixtures.
type Env struct {
	T        testing.TB
	App      *app.App
	Srv      *httptest.Server
	URL      string
	Operator *Tenant
	A, B     *Tenant
}

// Start runs the app on db (see storetest) with the fixtures loaded;
// configure adjusts the configuration first (e.g. an SMTP relay).
func Start(t testing.TB, db *store.DB, configure ...func(*config.Config)) *Env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("VIGIL_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	cfg := config.Config{Addr: "127.0.0.1:0", Data: t.TempDir(), LogLevel: "info"}
	for _, f := range configure {
		f(&cfg)
	}
	a, err := app.New(context.Background(), db, cfg, log, app.Options{NoBus: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	e := &Env{T: t, App: a, Srv: srv, URL: srv.URL}
	e.Operator = e.tenant("Operator Co", "operator-co", "", auth.Roles)
	e.A = e.tenant("Client A", "client-a", e.Operator.Org.ID, auth.Roles)
	e.B = e.tenant("Client B", "client-b", e.Operator.Org.ID, auth.Roles)
	return e
}

func (e *Env) tenant(name, slug, parent string, roles []auth.Role) *Tenant {
	t := e.T
	ctx := context.Background()
	a := e.App
	tn := &Tenant{Users: map[auth.Role]*auth.User{}}
	kind := "operator"
	if parent != "" {
		kind = "client"
	}
	err := a.DB.Write(ctx, func(tx *store.Tx) error {
		tn.Org = &org.Org{Kind: kind, Name: name, Slug: slug, Timezone: "Europe/London", ParentID: parent}
		if err := a.Orgs.CreateOrg(ctx, tx, tn.Org, nil); err != nil {
			return err
		}
		if parent == "" {
			// Users of the operator are only created when asked for: most
			// tests want client-scoped callers.
			return nil
		}
		tn.Site = &org.Site{OrgID: tn.Org.ID, Name: name + " HQ", Code: slug + "-hq", Timezone: "Europe/London", City: "London"}
		if err := a.Orgs.CreateSiteTx(ctx, tx, tn.Site, nil); err != nil {
			return err
		}
		tn.Zone = &org.Zone{OrgID: tn.Org.ID, SiteID: tn.Site.ID, Name: "Lobby"}
		if err := a.Orgs.CreateZoneTx(ctx, tx, tn.Zone, nil); err != nil {
			return err
		}
		tn.Device = &org.Device{OrgID: tn.Org.ID, SiteID: tn.Site.ID, ZoneID: tn.Zone.ID, Type: "camera", Name: "Lobby camera"}
		if err := a.Orgs.CreateDeviceTx(ctx, tx, tn.Device, nil); err != nil {
			return err
		}
		tn.Contact = &org.Contact{OrgID: tn.Org.ID, SiteID: tn.Site.ID, Name: "Key Holder", Phone: "+44 20 7946 0000", Keyholder: true}
		return a.Orgs.AddContactTx(ctx, tx, tn.Contact, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		tn.Users[r] = e.User(tn.Org.ID, string(r)+"@"+slug+".test", r)
	}
	return tn
}

// User creates a user with Password and one membership.
func (e *Env) User(orgID, email string, role auth.Role) *auth.User {
	var u *auth.User
	ctx := context.Background()
	err := e.App.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		u, err = e.App.Auth.CreateUser(ctx, tx, auth.NewUser{Email: email, Name: string(role) + " user", Password: Password, OrgID: orgID, Role: role}, nil)
		return err
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return u
}

// Client is an HTTP client with its own cookie jar, signed in or not.
type Client struct {
	e     *Env
	HTTP  *http.Client
	Token string // bearer token, if the client uses one
}

// Anon returns a client that is not signed in.
func (e *Env) Anon() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{e: e, HTTP: &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// Login signs u in through POST /api/v1/auth/login.
func (e *Env) Login(email string) *Client {
	e.T.Helper()
	c := e.Anon()
	res := c.Do("POST", "/api/v1/auth/login", map[string]any{"email": email, "password": Password})
	if res.Status != 200 {
		e.T.Fatalf("login %s: %d %s", email, res.Status, res.Body)
	}
	return c
}

// Response is a read response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r Response) JSON(v any) error { return json.Unmarshal(r.Body, v) }

// Do sends a request; body is JSON-encoded unless it is a string or []byte
// (sent as is) or nil.
func (c *Client) Do(method, path string, body any) Response {
	c.e.T.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = bytes.NewBufferString(b), "application/json"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	default:
		buf, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(buf), "application/json"
	}
	req, err := http.NewRequest(method, c.e.URL+path, rd)
	if err != nil {
		c.e.T.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.e.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return Response{res.StatusCode, res.Header, b}
}

// Form posts an HTML form (same-origin, as a browser would).
func (c *Client) Form(path string, values map[string]string) Response {
	c.e.T.Helper()
	var buf bytes.Buffer
	first := true
	for k, v := range values {
		if !first {
			buf.WriteByte('&')
		}
		first = false
		buf.WriteString(urlEscape(k) + "=" + urlEscape(v))
	}
	req, _ := http.NewRequest("POST", c.e.URL+path, &buf)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.e.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.e.T.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return Response{res.StatusCode, res.Header, b}
}

func urlEscape(s string) string {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + string("0123456789ABCDEF"[c>>4]) + string("0123456789ABCDEF"[c&15]))
		}
	}
	return b.String()
}

// Count returns a row count for a query, for side-effect checks.
func (e *Env) Count(q string, args ...any) int {
	var n int
	if err := e.App.DB.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		e.T.Fatal(err)
	}
	return n
}
