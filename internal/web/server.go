// Package web is vigil's HTTP layer: the server and its middleware, the
// layout templates and static assets, error and JSON helpers, and the
// OpenAPI document built from the registered API routes. Modules register
// their own pages and API handlers on a *Server.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigil/internal/auth"
)

// Handler is an HTTP handler that returns an error; the server turns it
// into a response (JSON for /api/, an HTML page otherwise).
type Handler func(w http.ResponseWriter, r *http.Request) error

// Route is a registered route, kept for the OpenAPI document and tests.
type Route struct {
	Method, Path string // Path without the /api/v1 prefix for API routes
	API          bool
	Public       bool // no sign-in needed
	Doc          Doc
}

// Doc describes an API route for the OpenAPI document.
type Doc struct {
	Summary  string
	Request  any      // zero value of the JSON body type
	Response any      // zero value of the success body type
	Status   int      // success status (default 200)
	Query    []string // documented query parameters
}

// Server holds the router and what every handler needs.
type Server struct {
	Auth    *auth.Service
	Log     *slog.Logger
	BaseURL *url.URL
	Secure  bool // cookies get the Secure flag (TLS or https base URL)
	// TrustProxy makes the client address the last X-Forwarded-For hop
	// (set it only behind a reverse proxy that sets that header).
	TrustProxy bool
	Tmpl       *Templates
	OrgNames   func(ctx context.Context, ids []string) map[string]string
	Ready      func(ctx context.Context) error

	mux     *http.ServeMux
	routes  []Route
	metrics *metrics
	nav     []NavItem
}

// New returns a Server with the health, metrics, static and OpenAPI routes.
func New(a *auth.Service, log *slog.Logger, base *url.URL, reg *prometheus.Registry) *Server {
	s := &Server{Auth: a, Log: log, BaseURL: base, mux: http.NewServeMux(), metrics: newMetrics(reg)}
	s.Secure = base != nil && base.Scheme == "https"
	s.mux.Handle("GET /static/", staticHandler())
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", metricsHandler(reg))
	s.mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) { JSON(w, 200, s.OpenAPI()) })
	return s
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			s.Log.Warn("not ready", "err", err)
			http.Error(w, "not ready\n", http.StatusServiceUnavailable)
			return
		}
	}
	w.Write([]byte("ready\n"))
}

// Routes returns every registered page and API route.
func (s *Server) Routes() []Route { return s.routes }

// API registers an API handler at /api/v1+path. Unless public, the caller
// must be signed in (session cookie or bearer token).
func (s *Server) API(method, path string, h Handler, doc Doc) {
	s.routes = append(s.routes, Route{Method: method, Path: path, API: true, Doc: doc})
	s.mux.Handle(method+" /api/v1"+path, s.wrap(h, true, false))
}

// PublicAPI registers an API handler that needs no sign-in.
func (s *Server) PublicAPI(method, path string, h Handler, doc Doc) {
	s.routes = append(s.routes, Route{Method: method, Path: path, API: true, Public: true, Doc: doc})
	s.mux.Handle(method+" /api/v1"+path, s.wrap(h, true, true))
}

// Page registers an HTML handler that requires a signed-in user.
func (s *Server) Page(method, path string, h Handler) {
	s.routes = append(s.routes, Route{Method: method, Path: path})
	s.mux.Handle(method+" "+path, s.wrap(h, false, false))
}

// PublicPage registers an HTML handler open to everyone (login, invitations).
func (s *Server) PublicPage(method, path string, h Handler) {
	s.routes = append(s.routes, Route{Method: method, Path: path, Public: true})
	s.mux.Handle(method+" "+path, s.wrap(h, false, true))
}

// wrap adds authentication and error handling to h.
func (s *Server) wrap(h Handler, api, public bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.FromContext(r.Context())
		if p == nil && !public {
			if api {
				s.fail(w, r, ErrUnauthorized, true)
			} else {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			}
			return
		}
		if p != nil && p.MustChangePassword && !public && !passwordChangeAllowed(r.URL.Path) {
			if api {
				s.fail(w, r, Errorf(http.StatusForbidden, "password_change_required", "change your password first (POST /api/v1/me/password)"), true)
			} else {
				http.Redirect(w, r, "/account/password", http.StatusSeeOther)
			}
			return
		}
		if err := h(w, r); err != nil {
			s.fail(w, r, err, api)
		}
	})
}

func passwordChangeAllowed(path string) bool {
	switch path {
	case "/account/password", "/logout", "/api/v1/me", "/api/v1/me/password", "/api/v1/auth/logout":
		return true
	}
	return false
}

// fail writes err as JSON or an error page; unknown errors are logged with
// the request ID and shown without detail.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error, api bool) {
	e := classify(err)
	if e.Status >= 500 {
		s.Log.Error("request failed", "id", RequestID(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if api {
		body := map[string]any{"code": e.Code, "message": e.Message, "request_id": RequestID(r.Context())}
		if e.Field != "" {
			body["field"] = e.Field
		}
		JSON(w, e.Status, map[string]any{"error": body})
		return
	}
	s.RenderError(w, r, e)
}

type ridKey struct{}

// RequestID returns the request's ID (also sent as X-Request-ID).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ridKey{}).(string)
	return id
}

// SessionCookie is the name of the browser session cookie.
const SessionCookie = "vigil_session"

// Handler returns the whole middleware chain around the router.
func (s *Server) Handler() http.Handler {
	var h http.Handler = s.mux
	h = s.authenticate(h)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, Errorf(http.StatusForbidden, "cross_origin", "cross-origin request refused"), strings.HasPrefix(r.URL.Path, "/api/"))
	}))
	h = cop.Handler(h)
	h = securityHeaders(h)
	h = s.observe(h)
	return h
}

// authenticate resolves a bearer token or the session cookie.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p *auth.Principal
		var err error
		if h := r.Header.Get("Authorization"); h != "" {
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if p, err = s.Auth.TokenPrincipal(r.Context(), strings.TrimSpace(tok)); !ok || err != nil {
				s.fail(w, r, Errorf(http.StatusUnauthorized, "unauthenticated", "invalid or expired API token"), true)
				return
			}
		} else if c, cerr := r.Cookie(SessionCookie); cerr == nil {
			if p, err = s.Auth.SessionPrincipal(r.Context(), c.Value); err != nil {
				p = nil
				if !errors.Is(err, auth.ErrUnauthenticated) {
					s.fail(w, r, err, strings.HasPrefix(r.URL.Path, "/api/"))
					return
				}
				s.ClearSession(w)
			}
		}
		if p != nil {
			r = r.WithContext(auth.WithPrincipal(r.Context(), p))
		}
		next.ServeHTTP(w, r)
	})
}

// SetSession sets the session cookie. Persistent only with remember-me.
func (s *Server) SetSession(w http.ResponseWriter, token string, remember bool) {
	c := &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteLaxMode}
	if remember {
		c.MaxAge = int(s.Auth.RememberTTL.Seconds())
	}
	http.SetCookie(w, c)
}

// ClearSession removes the session cookie.
func (s *Server) ClearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteLaxMode})
}

// securityHeaders sets a strict CSP (no inline script or style) and friends.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; media-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets SSE handlers stream through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe assigns a request ID, recovers panics, logs and counts requests.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var b [8]byte
		rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-ID", id)
		ctx := context.WithValue(r.Context(), ridKey{}, id)
		r = r.WithContext(context.WithValue(ctx, ipKey{}, s.clientIP(r)))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.Error("panic", "id", id, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				if sw.status == 0 {
					s.fail(sw, r, errors.New("panic"), strings.HasPrefix(r.URL.Path, "/api/"))
				}
			}
			pattern := r.Pattern
			if pattern == "" {
				pattern = "unmatched"
			}
			d := time.Since(start)
			s.metrics.observe(pattern, sw.status, d)
			if r.URL.Path != "/healthz" && r.URL.Path != "/metrics" {
				attrs := []any{"id", id, "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", d.Milliseconds()}
				// The anonymous hotline promises reporters that their address
				// is not recorded, so its pages and API are logged without it.
				if !AnonymousPath(r.URL.Path) {
					attrs = append(attrs, "ip", ClientIP(r))
				}
				s.Log.Info("http", attrs...)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

type ipKey struct{}

// AnonymousPath reports whether path belongs to the public whistleblower
// hotline (/hotline/… and /api/v1/hotline/…), whose requests are logged
// without the client's address.
func AnonymousPath(path string) bool {
	return strings.HasPrefix(path, "/hotline/") || strings.HasPrefix(path, "/api/v1/hotline/")
}

// ClientIP is the client's address: the connection's remote address, or
// with TrustProxy the address the proxy appended to X-Forwarded-For. vigil
// does not trust the header otherwise, so a client cannot dodge login
// throttling by forging it.
func ClientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(ipKey{}).(string); ok {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) clientIP(r *http.Request) string {
	if s.TrustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			hops := strings.Split(xff[len(xff)-1], ",")
			if ip := strings.TrimSpace(hops[len(hops)-1]); net.ParseIP(ip) != nil {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
