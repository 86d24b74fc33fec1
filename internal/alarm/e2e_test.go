package alarm_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"vigil/internal/alarm"
	"vigil/internal/alarm/dc09"
	"vigil/internal/app"
	"vigil/internal/auth"
	"vigil/internal/config"
	"vigil/internal/org"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

const password = "correct horse battery staple"

// env is the whole app with the bus, the live hub and the DC-09 receiver
// running, behind a real HTTP server, with one operator, one client site
// and a dispatcher of the operator.
type env struct {
	t      testing.TB
	app    *app.App
	url    string
	dc09   string
	op     *org.Org
	client *org.Org
	site   *org.Site
	zone   *org.Zone
	users  map[auth.Role]string // emails
}

var busSeq atomic.Int64

func startEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("VIGIL_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	cfg := config.Config{Addr: "127.0.0.1:0", Data: t.TempDir(), LogLevel: "info"}
	a, err := app.New(context.Background(), db, cfg, log, app.Options{BusRoot: fmt.Sprintf("alarmtest%d", busSeq.Add(1))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.Alarm.ListenDC09("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Alarm.Run(ctx); close(done) }()
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	e := &env{t: t, app: a, url: srv.URL, dc09: a.Alarm.DC09Addr().String(), users: map[auth.Role]string{}}
	bg := context.Background()
	err = db.Write(bg, func(tx *store.Tx) error {
		e.op = &org.Org{Kind: "operator", Name: "Monitoring Co", Slug: "monitoring-co", Timezone: "UTC"}
		if err := a.Orgs.CreateOrg(bg, tx, e.op, nil); err != nil {
			return err
		}
		e.client = &org.Org{Kind: "client", Name: "Bank", Slug: "bank", Timezone: "UTC", ParentID: e.op.ID}
		if err := a.Orgs.CreateOrg(bg, tx, e.client, nil); err != nil {
			return err
		}
		e.site = &org.Site{OrgID: e.client.ID, Name: "Bank Branch 7", Timezone: "UTC", Address: "1 High St", City: "Leeds"}
		if err := a.Orgs.CreateSiteTx(bg, tx, e.site, nil); err != nil {
			return err
		}
		n := 3
		e.zone = &org.Zone{OrgID: e.client.ID, SiteID: e.site.ID, Name: "Vault corridor", Number: &n}
		if err := a.Orgs.CreateZoneTx(bg, tx, e.zone, nil); err != nil {
			return err
		}
		c := &org.Contact{OrgID: e.client.ID, SiteID: e.site.ID, Name: "Kim Keyholder", Phone: "+44 113 496 0000", Keyholder: true}
		if err := a.Orgs.AddContactTx(bg, tx, c, nil); err != nil {
			return err
		}
		for _, r := range []auth.Role{auth.Dispatcher, auth.Admin, auth.Officer} {
			email := string(r) + "@monitoring.test"
			if _, err := a.Auth.CreateUser(bg, tx, auth.NewUser{Email: email, Name: "Op " + string(r), Password: password, OrgID: e.op.ID, Role: r}, nil); err != nil {
				return err
			}
			e.users[r] = email
		}
		email := "client@bank.test"
		if _, err := a.Auth.CreateUser(bg, tx, auth.NewUser{Email: email, Name: "Bank client", Password: password, OrgID: e.client.ID, Role: auth.Client}, nil); err != nil {
			return err
		}
		e.users[auth.Client] = email
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

type client struct {
	e *env
	h *http.Client
}

func (e *env) login(role auth.Role) *client {
	jar, _ := cookiejar.New(nil)
	c := &client{e: e, h: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
	if st, body := c.do("POST", "/api/v1/auth/login", map[string]any{"email": e.users[role], "password": password}, nil); st != 200 {
		e.t.Fatalf("login: %d %s", st, body)
	}
	return c
}

func (c *client) do(method, path string, body any, out any) (int, string) {
	c.e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.e.url+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.h.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			c.e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return res.StatusCode, string(b)
}

// panel is a DC-09 panel on one TCP connection.
type panel struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func (e *env) panel() *panel {
	c, err := net.Dial("tcp", e.dc09)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return &panel{t: e.t, c: c, br: bufio.NewReader(c)}
}

// send writes a frame and returns the reply's token (ACK, NAK, …).
func (p *panel) send(token, acct, data string, seq int) string {
	p.t.Helper()
	f := &dc09.Frame{Token: token, Sequence: dc09.SequenceString(seq), Line: "0", HasLine: true, Account: acct, Data: data}
	raw, err := f.Marshal(nil, nil, dc09.Quirks{})
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.c.Write(raw); err != nil {
		p.t.Fatal(err)
	}
	p.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := p.br.ReadBytes('\n'); err != nil {
		p.t.Fatal(err)
	}
	line, err := p.br.ReadBytes('\r')
	if err != nil {
		p.t.Fatal(err)
	}
	rf, err := dc09.Parse(append([]byte{'\n'}, line...))
	if err != nil {
		p.t.Fatalf("reply %q: %v", line, err)
	}
	return rf.Token
}

func (e *env) provision(c *client, number string, extra map[string]any) *alarm.Account {
	body := map[string]any{"site_id": e.site.ID, "number": number, "zone_map": map[string]any{"3": map[string]any{"name": "Vault corridor", "zone_id": e.zone.ID}}}
	for k, v := range extra {
		body[k] = v
	}
	var a alarm.Account
	if st, b := c.do("POST", "/api/v1/alarm-accounts", body, &a); st != 201 {
		e.t.Fatalf("provision: %d %s", st, b)
	}
	return &a
}

// TestEndToEnd: frames over a real socket are ACKed after commit, grouped
// into alarms shown over SSE, retransmissions stored once, and the alarm is
// worked through its SOP and resolved through the API.
func TestEndToEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := startEnv(t, db)
		admin := e.login(auth.Admin)
		e.provision(admin, "1234", nil)
		disp := e.login(auth.Dispatcher)

		// Open the console stream before the signal arrives.
		sse := openSSE(t, disp, "/alarms/stream")

		p := e.panel()
		if got := p.send(dc09.TokenCID, "1234", "#1234|1130 01 003", 1); got != "ACK" {
			t.Fatalf("burglary frame: reply %s, want ACK", got)
		}
		// The panel missed the ACK and retransmits: recorded once.
		if got := p.send(dc09.TokenCID, "1234", "#1234|1130 01 003", 1); got != "ACK" {
			t.Fatalf("retransmission: reply %s, want ACK", got)
		}
		// A repeat from the same zone (new sequence) joins the alarm.
		if got := p.send(dc09.TokenCID, "1234", "#1234|1130 01 003", 2); got != "ACK" {
			t.Fatalf("repeat: %s", got)
		}
		if got := p.send(dc09.TokenNull, "1234", "", 3); got != "ACK" {
			t.Fatalf("poll: %s", got)
		}
		if got := p.send(dc09.TokenCID, "9999", "#9999|1130 01 003", 4); got != "NAK" {
			t.Fatalf("unknown account: %s, want NAK", got)
		}

		msg := sse.next(t, func(m alarm.AlarmMessage) bool { return m.Alarm != nil && m.Alarm.Type == alarm.TypeBurglary })
		if msg.Alarm.SiteName != "Bank Branch 7" || msg.Alarm.Priority != alarm.PriorityProperty || !strings.Contains(msg.Alarm.Title, "Vault corridor") {
			t.Fatalf("live alarm: %+v", msg.Alarm)
		}

		var list struct{ Items []*alarm.Alarm }
		eventually(func() bool {
			disp.do("GET", "/api/v1/alarms?state=new", nil, &list)
			return len(list.Items) == 1 && list.Items[0].Signals >= 2
		})
		if len(list.Items) != 1 || list.Items[0].Signals != 2 {
			t.Fatalf("alarms: %+v", list.Items)
		}
		al := list.Items[0]
		// An ACKed signal is in the inbox; the applier stores it moments later.
		var evs struct{ Items []alarm.Event }
		eventually(func() bool {
			disp.do("GET", "/api/v1/alarm-events?account=1234", nil, &evs)
			return len(evs.Items) >= 3
		})
		if len(evs.Items) != 3 { // two distinct burglary frames and the poll
			t.Fatalf("events: %d, want 3 (retransmission stored once): %+v", len(evs.Items), evs.Items)
		}
		if evs.Items[0].Kind != alarm.KindPoll {
			t.Fatalf("events not newest first: %+v", evs.Items[0])
		}

		// Work the alarm: ack, resolve refused before the SOP, steps, resolve.
		if st, b := disp.do("POST", "/api/v1/alarms/"+al.ID+"/ack", nil, nil); st != 200 {
			t.Fatalf("ack: %d %s", st, b)
		}
		other := e.login(auth.Admin)
		if st, _ := other.do("POST", "/api/v1/alarms/"+al.ID+"/ack", nil, nil); st != 409 {
			t.Fatalf("second operator ack: %d, want 409", st)
		}
		if st, b := disp.do("POST", "/api/v1/alarms/"+al.ID+"/resolve", map[string]any{"disposition": "false_user"}, nil); st != 409 || !strings.Contains(b, "sop_incomplete") {
			t.Fatalf("resolve before SOP: %d %s", st, b)
		}
		steps := []alarm.StepInput{
			{Step: "review", Status: "done"},
			{Step: "keyholder", Status: "done"},
			{Step: "verified", Status: "answered", Answer: "Explained by keyholder (valid password)"},
		}
		for _, s := range steps {
			if st, b := disp.do("POST", "/api/v1/alarms/"+al.ID+"/steps", s, nil); st != 200 {
				t.Fatalf("step %s: %d %s", s.Step, st, b)
			}
		}
		disp.do("POST", "/api/v1/alarms/"+al.ID+"/notes", map[string]any{"text": "Cleaner set it off"}, nil)
		var resolved alarm.Alarm
		if st, b := disp.do("POST", "/api/v1/alarms/"+al.ID+"/resolve", map[string]any{"disposition": "false_user"}, &resolved); st != 200 {
			t.Fatalf("resolve: %d %s", st, b)
		}
		if resolved.State != alarm.StateResolved {
			t.Fatalf("state %s", resolved.State)
		}
		sse.next(t, func(m alarm.AlarmMessage) bool {
			return m.Alarm != nil && m.Alarm.ID == al.ID && m.Alarm.State == alarm.StateResolved
		})

		// A new signal after resolve opens a new alarm.
		if got := p.send(dc09.TokenCID, "1234", "#1234|1130 01 003", 5); got != "ACK" {
			t.Fatal(got)
		}
		var after struct{ Items []*alarm.Alarm }
		eventually(func() bool {
			disp.do("GET", "/api/v1/alarms", nil, &after)
			return len(after.Items) > 0
		})
		if len(after.Items) != 1 || after.Items[0].ID == al.ID {
			t.Fatalf("after resolve: %+v", after.Items)
		}

		// History is audited and timestamped.
		var d struct {
			History []alarm.LogEntry
		}
		disp.do("GET", "/api/v1/alarms/"+al.ID, nil, &d)
		if len(d.History) < 6 {
			t.Fatalf("history: %+v", d.History)
		}
		var n int
		db.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE object_id = ? AND action LIKE 'alarm.%'`, al.ID).Scan(&n)
		if n != 6 { // ack, 3 steps, note, resolve
			t.Fatalf("audit rows for the alarm: %d, want 6", n)
		}

		// The unknown account is visible to operator admins, not to clients.
		var unk struct{ Items []alarm.Unknown }
		deadline := time.Now().Add(5 * time.Second)
		for len(unk.Items) == 0 && time.Now().Before(deadline) {
			admin.do("GET", "/api/v1/alarm-unknown", nil, &unk)
			if len(unk.Items) == 0 {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if len(unk.Items) != 1 || unk.Items[0].Account != "9999" {
			t.Fatalf("unknown accounts: %+v", unk.Items)
		}
		if st, _ := e.login(auth.Client).do("GET", "/api/v1/alarm-unknown", nil, nil); st != 403 {
			t.Fatalf("client reading unknown accounts: %d, want 403", st)
		}
	})
}

type sseReader struct {
	res *http.Response
	br  *bufio.Reader
	ch  chan alarm.AlarmMessage
}

func openSSE(t *testing.T, c *client, path string) *sseReader {
	req, _ := http.NewRequest("GET", c.e.url+path, nil)
	h := &http.Client{Jar: c.h.Jar}
	res, err := h.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("stream: %d", res.StatusCode)
	}
	s := &sseReader{res: res, br: bufio.NewReader(res.Body), ch: make(chan alarm.AlarmMessage, 100)}
	t.Cleanup(func() { res.Body.Close() })
	go func() {
		defer close(s.ch)
		for {
			line, err := s.br.ReadString('\n')
			if err != nil {
				return
			}
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				var m alarm.AlarmMessage
				if json.Unmarshal([]byte(data), &m) == nil {
					s.ch <- m
				}
			}
		}
	}()
	return s
}

func (s *sseReader) next(t *testing.T, want func(alarm.AlarmMessage) bool) alarm.AlarmMessage {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-s.ch:
			if !ok {
				t.Fatal("stream ended")
			}
			if want(m) {
				return m
			}
		case <-timeout:
			t.Fatal("no matching live message within 10 s")
		}
	}
}

// eventually polls cond for up to 5 s: an ACKed signal waits in the inbox
// for a few milliseconds before it is applied. The caller checks the
// outcome, so a timeout fails there with the details.
func eventually(cond func() bool) {
	for deadline := time.Now().Add(5 * time.Second); !cond() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}
