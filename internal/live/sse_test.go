package live

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"vigil/internal/bus"
)

const wait = 10 * time.Second

// env is one vigil "process": a bus, a running hub and an HTTP server whose
// /events route stands in for the web layer, passing the filters it was asked
// for (the real web layer derives them from the user's memberships).
type env struct {
	bus  *bus.Bus
	hub  *Hub
	srv  *httptest.Server
	stop context.CancelFunc
	ran  chan error
}

// openBus opens an embedded bus with a unique stream and root.
func openBus(t testing.TB) *bus.Bus {
	t.Helper()
	var r [6]byte
	rand.Read(r[:])
	h := hex.EncodeToString(r[:])
	return openBusConfig(t, bus.Config{DataDir: t.TempDir(), Stream: "T_" + strings.ToUpper(h), Root: "t" + h})
}

func openBusConfig(t testing.TB, cfg bus.Config) *bus.Bus {
	t.Helper()
	b, err := bus.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// externalURL returns VIGIL_TEST_NATS; in CI its absence is a failure.
func externalURL(t testing.TB) string {
	url := os.Getenv("VIGIL_TEST_NATS")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("VIGIL_TEST_NATS is not set but CI=true: the external NATS tests must run in CI")
		}
		t.Skip("VIGIL_TEST_NATS not set; external NATS tests skipped (set it to nats://127.0.0.1:4222)")
	}
	return url
}

func newEnv(t testing.TB, b *bus.Bus, opts Options) *env {
	t.Helper()
	return newEnvSource(t, b, b, envOptions{Options: opts})
}

// envOptions are hub options plus how the test server listens.
type envOptions struct {
	Options
	tls            bool          // HTTPS with HTTP/2, as behind a TLS-terminating vigil serve
	serverTimeouts time.Duration // the server's ReadTimeout and WriteTimeout
}

// newEnvSource feeds the hub from src (b when nil), a wrapper around b that
// tests use to hold events back.
func newEnvSource(t testing.TB, b *bus.Bus, src Source, opts envOptions) *env {
	t.Helper()
	if src == nil {
		src = b
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &env{bus: b, hub: New(src, opts.Options), stop: cancel, ran: make(chan error, 1)}
	go func() { e.ran <- e.hub.Run(ctx) }()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		if err := e.hub.Serve(w, r, r.URL.Query()["f"]); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	e.srv = httptest.NewUnstartedServer(mux)
	e.srv.Config.ReadTimeout = opts.serverTimeouts
	e.srv.Config.WriteTimeout = opts.serverTimeouts
	if opts.tls {
		e.srv.EnableHTTP2 = true
		e.srv.StartTLS()
	} else {
		e.srv.Start()
	}
	t.Cleanup(func() {
		cancel()
		e.srv.CloseClientConnections()
		e.srv.Close()
	})
	select {
	case <-e.hub.ready:
	case <-time.After(wait):
		t.Fatal("hub never became ready")
	}
	return e
}

// publish stores one event for org/module/event and returns its sequence.
func (e *env) publish(t testing.TB, org, module, event, data string) uint64 {
	t.Helper()
	subj, err := e.bus.Subject(org, module, event)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := e.bus.Publish(context.Background(), subj, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// filter is the filter for org's subjects under this env's root.
func (e *env) filter(parts ...string) string {
	return e.bus.Root() + "." + strings.Join(parts, ".")
}

// sseEvent is one dispatched Server-Sent Event.
type sseEvent struct{ ID, Event, Data string }

// sseClient reads a real HTTP response as a browser's EventSource would.
type sseClient struct {
	resp     *http.Response
	cancel   context.CancelFunc
	events   chan sseEvent
	comments chan string
	retry    chan string
	ended    chan error
}

func (e *env) dial(t testing.TB, lastID string, filters ...string) *sseClient {
	t.Helper()
	q := url.Values{"f": filters}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/events?"+q.Encode(), nil)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	c := &sseClient{
		resp: resp, cancel: cancel,
		events: make(chan sseEvent, 4096), comments: make(chan string, 64),
		retry: make(chan string, 1), ended: make(chan error, 1),
	}
	go func() { c.ended <- parseSSE(resp.Body, c.events, c.comments, c.retry) }()
	t.Cleanup(c.close)
	return c
}

func (c *sseClient) close() {
	c.cancel()
	c.resp.Body.Close()
}

func (c *sseClient) next(t testing.TB) sseEvent {
	t.Helper()
	select {
	case ev := <-c.events:
		return ev
	case err := <-c.ended:
		t.Fatalf("stream ended: %v", err)
	case <-time.After(wait):
		t.Fatal("no event within", wait)
	}
	return sseEvent{}
}

// quiet asserts no event arrives for a moment.
func (c *sseClient) quiet(t testing.TB) {
	t.Helper()
	select {
	case ev := <-c.events:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}
}

// parseSSE implements the EventSource parsing rules of the HTML standard: lines
// end in CRLF, LF or CR; ':' starts a comment; "field: value" drops one space;
// data lines join with LF; a blank line dispatches, unless data is empty.
func parseSSE(r io.Reader, events chan<- sseEvent, comments, retry chan<- string) error {
	br := bufio.NewReader(r)
	var ev sseEvent
	var data []string
	for {
		line, err := readLine(br)
		if err != nil {
			return err
		}
		if line == "" {
			if data != nil {
				ev.Data = strings.Join(data, "\n")
				events <- ev
			}
			ev.Event, data = "", nil
			continue
		}
		if strings.HasPrefix(line, ":") {
			select {
			case comments <- line:
			default:
			}
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.ID = value
		case "event":
			ev.Event = value
		case "data":
			data = append(data, value)
		case "retry":
			select {
			case retry <- value:
			default:
			}
		}
	}
}

func readLine(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		c, err := br.ReadByte()
		if err != nil {
			return "", err
		}
		switch c {
		case '\n':
			return b.String(), nil
		case '\r':
			if next, err := br.Peek(1); err == nil && next[0] == '\n' {
				br.ReadByte()
			}
			return b.String(), nil
		}
		b.WriteByte(c)
	}
}
