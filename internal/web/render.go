package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"vigil/internal/auth"
)

//go:embed templates
var ownTemplates embed.FS

// Templates holds every page, each parsed together with the layout at
// start-up, so a template error stops the server before it serves anything.
type Templates struct {
	pages map[string]*template.Template
}

// Funcs available in every template.
var funcs = template.FuncMap{
	"static": StaticURL,
	"when": func(t any, tz string) string {
		var tt time.Time
		switch v := t.(type) {
		case time.Time:
			tt = v
		case *time.Time:
			if v == nil {
				return "—"
			}
			tt = *v
		default:
			return ""
		}
		if tt.IsZero() {
			return "—"
		}
		loc, err := time.LoadLocation(tz)
		if err != nil {
			loc = time.UTC
		}
		return tt.In(loc).Format("2006-01-02 15:04 MST")
	},
	"can": func(p *auth.Principal, action, org string) bool { return auth.Can(p, auth.Action(action), org) },
	"add": func(a, b int) int { return a + b },
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"deref": func(p any) any {
		switch v := p.(type) {
		case *float64:
			if v == nil {
				return ""
			}
			return *v
		case *int:
			if v == nil {
				return ""
			}
			return *v
		}
		return p
	},
	"query": func(base url.Values, kv ...any) string {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(fmt.Sprint(kv[i]), fmt.Sprint(kv[i+1]))
		}
		return "?" + q.Encode()
	},
}

// ParseTemplates parses the layout with every *.html page of each module
// file system. Page names (file names without .html) must be unique.
func ParseTemplates(modules ...fs.FS) (*Templates, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(ownTemplates, "templates/base/*.html")
	if err != nil {
		return nil, fmt.Errorf("layout templates: %w", err)
	}
	t := &Templates{pages: map[string]*template.Template{}}
	for _, m := range append([]fs.FS{ownTemplates}, modules...) {
		files, err := fs.Glob(m, "templates/*.html")
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			name := strings.TrimSuffix(path.Base(f), ".html")
			if _, dup := t.pages[name]; dup {
				return nil, fmt.Errorf("template %s defined twice", name)
			}
			c, err := base.Clone()
			if err != nil {
				return nil, err
			}
			if _, err := c.ParseFS(m, f); err != nil {
				return nil, fmt.Errorf("template %s: %w", f, err)
			}
			t.pages[name] = c.Lookup(path.Base(f))
		}
	}
	return t, nil
}

// Page is the data every page's layout needs; page data structs embed it.
type Page struct {
	Title     string
	Nav       string
	P         *auth.Principal
	OrgName   string
	Orgs      []OrgOption
	Menu      []NavItem
	AdminMenu []NavItem // entries with Order ≥ AdminOrder, folded under "Admin"
	Flash     string
	Errors    map[string]string
	Path      string
	Query     url.Values
	Timezone  string
}

// OrgOption is an entry of the organisation switcher.
type OrgOption struct {
	ID, Name string
	Current  bool
}

// NavItem is a top-level navigation entry; modules add theirs.
type NavItem struct {
	Key, Label, Href string
	Action           auth.Action // shown only if the user may do this in the current org
	// Order places the entry: daily work first (0, in registration order),
	// places next (around 20), administration last (90s).
	Order int
}

// AdminOrder and above are administration entries, folded into one menu.
const AdminOrder = 90

// AddNav adds a navigation entry.
func (s *Server) AddNav(n NavItem) {
	s.nav = append(s.nav, n)
	slices.SortStableFunc(s.nav, func(a, b NavItem) int { return a.Order - b.Order })
}

const flashCookie = "vigil_flash"

// Flash stores a one-time message shown on the next page.
func (s *Server) Flash(w http.ResponseWriter, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: "/", HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

// NewPage fills the common page data for r.
func (s *Server) NewPage(w http.ResponseWriter, r *http.Request, title, nav string) Page {
	pg := Page{Title: title, Nav: nav, Path: r.URL.Path, Query: r.URL.Query(), Timezone: "UTC"}
	if c, err := r.Cookie(flashCookie); err == nil {
		pg.Flash, _ = url.QueryUnescape(c.Value)
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1})
	}
	p := auth.FromContext(r.Context())
	if p == nil {
		return pg
	}
	pg.P = p
	ids := make([]string, 0, len(p.Access))
	for id := range p.Access {
		ids = append(ids, id)
	}
	names := map[string]string{}
	if s.OrgNames != nil {
		names = s.OrgNames(r.Context(), ids)
	}
	for _, id := range ids {
		pg.Orgs = append(pg.Orgs, OrgOption{ID: id, Name: names[id], Current: id == p.OrgID})
	}
	slices.SortFunc(pg.Orgs, func(a, b OrgOption) int { return strings.Compare(a.Name, b.Name) })
	pg.OrgName = names[p.OrgID]
	for _, n := range s.nav {
		switch {
		case !auth.Can(p, n.Action, p.OrgID):
		case n.Order >= AdminOrder:
			pg.AdminMenu = append(pg.AdminMenu, n)
		default:
			pg.Menu = append(pg.Menu, n)
		}
	}
	return pg
}

// Render executes the named page with data (a struct embedding Page).
// Rendering into a buffer first means a template error is a clean 500,
// never half a page.
func (s *Server) Render(w http.ResponseWriter, status int, name string, data any) error {
	t := s.Tmpl.pages[name]
	if t == nil {
		return fmt.Errorf("no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

type errorPage struct {
	Page
	Status  int
	Message string
	ID      string
}

// RenderError shows an error page.
func (s *Server) RenderError(w http.ResponseWriter, r *http.Request, e *Error) {
	if e.Status == http.StatusUnauthorized {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	pg := s.NewPage(w, r, http.StatusText(e.Status), "")
	if err := s.Render(w, e.Status, "error", errorPage{pg, e.Status, e.Message, RequestID(r.Context())}); err != nil {
		http.Error(w, e.Message, e.Status)
	}
}

// FormErrors turns a validation error into per-field messages for a form.
// ok is false for any other error, which the caller returns.
func FormErrors(err error) (map[string]string, bool) {
	var fe *auth.FieldError
	if errors.As(err, &fe) {
		return map[string]string{fe.Field: fe.Message}, true
	}
	var we *Error
	if errors.As(err, &we) && we.Field != "" {
		return map[string]string{we.Field: we.Message}, true
	}
	return nil, false
}

// ParseForm parses a urlencoded or multipart form with a size limit.
func ParseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return Errorf(http.StatusBadRequest, "invalid_form", "the form could not be read")
	}
	return nil
}

// Redirect sends a 303 after a successful POST, with a flash message.
func (s *Server) Redirect(w http.ResponseWriter, r *http.Request, to, flash string) error {
	if flash != "" {
		s.Flash(w, flash)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// OrgNamesFunc is set by the app to resolve org IDs to names.
type OrgNamesFunc = func(ctx context.Context, ids []string) map[string]string
