package investigation_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"vigil/internal/web"
)

// TestHotlineNotLogged: the request log carries the client address for
// every request except the hotline's, whose reporters were promised that
// their address is not recorded.
func TestHotlineNotLogged(t *testing.T) {
	var buf bytes.Buffer
	s := web.New(nil, slog.New(slog.NewTextHandler(&buf, nil)), nil, prometheus.NewRegistry())
	ok := func(w http.ResponseWriter, r *http.Request) error { w.Write([]byte("ok")); return nil }
	s.PublicPage("GET", "/hotline/{slug}", ok)
	s.PublicAPI("POST", "/hotline/{slug}/reports", ok, web.Doc{})
	s.PublicPage("GET", "/login", ok)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	for _, r := range []struct{ method, path string }{{"GET", "/hotline/acme"}, {"POST", "/api/v1/hotline/acme/reports"}, {"GET", "/login"}} {
		req, _ := http.NewRequest(r.method, srv.URL+r.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("log:\n%s", buf.String())
	}
	for i, l := range lines {
		hasIP := strings.Contains(l, "127.0.0.1") || strings.Contains(l, "ip=")
		if hotline := i < 2; hotline == hasIP {
			t.Errorf("line %d (hotline=%v) has ip=%v: %s", i, hotline, hasIP, l)
		}
	}
}
