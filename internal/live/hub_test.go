package live

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"vigil/internal/bus"
)

func TestDeliveryAndHeaders(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1", true: "http2"}[tls], func(t *testing.T) {
			testDelivery(t, newEnvSource(t, openBus(t), nil, envOptions{tls: tls}), tls)
		})
	}
}

func testDelivery(t *testing.T, e *env, tls bool) {
	c := e.dial(t, "", e.filter("orgA", ">"))
	if tls && c.resp.ProtoMajor != 2 {
		t.Fatalf("served over %s, want HTTP/2", c.resp.Proto)
	}
	for k, want := range map[string]string{
		"Content-Type":      "text/event-stream; charset=utf-8",
		"Cache-Control":     "no-cache",
		"X-Accel-Buffering": "no",
	} {
		if got := c.resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	select {
	case r := <-c.retry:
		if r != "3000" {
			t.Errorf("retry = %q, want 3000", r)
		}
	case <-time.After(wait):
		t.Fatal("no retry field at stream start")
	}
	seq := e.publish(t, "orgA", "alarm", "received", `{"zone":"12","code":"BA"}`)
	got := c.next(t)
	want := sseEvent{ID: strconv.FormatUint(seq, 10), Event: "alarm.received", Data: `{"zone":"12","code":"BA"}`}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// A browser of org A must never receive org B's events, whatever mix of
// filters the web layer grants.
func TestFiltering(t *testing.T) {
	e := newEnv(t, openBus(t), Options{})
	a := e.dial(t, "", e.filter("orgA", ">"))
	b := e.dial(t, "", e.filter("orgB", ">"))
	mixed := e.dial(t, "", e.filter("orgA", "alarm", ">"), e.filter("orgB", "incident", "*"))
	type pub struct{ org, module, event string }
	pubs := []pub{
		{"orgA", "alarm", "received"}, {"orgB", "alarm", "received"}, {"orgA", "incident", "opened"},
		{"orgB", "incident", "opened"}, {"orgAB", "alarm", "received"}, {"orgA", "alarm", "cleared"},
	}
	want := map[*sseClient][]string{}
	for i, p := range pubs {
		seq := strconv.FormatUint(e.publish(t, p.org, p.module, p.event, strconv.Itoa(i)), 10)
		subj := e.filter(p.org, p.module, p.event)
		for c, filters := range map[*sseClient][]string{
			a:     {e.filter("orgA", ">")},
			b:     {e.filter("orgB", ">")},
			mixed: {e.filter("orgA", "alarm", ">"), e.filter("orgB", "incident", "*")},
		} {
			for _, f := range filters {
				if bus.Match(f, subj) {
					want[c] = append(want[c], seq)
					break
				}
			}
		}
	}
	for name, c := range map[string]*sseClient{"orgA": a, "orgB": b, "mixed": mixed} {
		var got []string
		for range want[c] {
			got = append(got, c.next(t).ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(want[c]) {
			t.Errorf("%s got ids %v, want %v", name, got, want[c])
		}
		c.quiet(t)
	}
	if len(want[a]) != 3 || len(want[b]) != 2 || len(want[mixed]) != 3 {
		t.Fatalf("fixture drifted: %d %d %d", len(want[a]), len(want[b]), len(want[mixed]))
	}
}

// Overlapping and repeated filters still deliver each event once.
func TestOverlappingFilters(t *testing.T) {
	e := newEnv(t, openBus(t), Options{})
	all, alarm := e.filter("o", ">"), e.filter("o", "alarm", ">")
	c := e.dial(t, "", alarm, all, alarm, e.filter("*", "alarm", "received"))
	plain := e.dial(t, "", all)
	var want []string
	for _, ev := range []string{"received", "cleared"} {
		want = append(want, strconv.FormatUint(e.publish(t, "o", "alarm", ev, ev), 10))
	}
	want = append(want, strconv.FormatUint(e.publish(t, "o", "incident", "opened", "x"), 10))
	for _, cl := range []*sseClient{c, plain} {
		var got []string
		for range want {
			got = append(got, cl.next(t).ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		cl.quiet(t)
	}
	c.close()
	plain.close()
	waitFor(t, "both unregistered", func() bool { return e.hub.Stats().Clients == 0 })
	e.hub.mu.Lock()
	left := len(e.hub.subs.byFilter)
	e.hub.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d filter sets left after every client went", left)
	}
}

func TestResumeFromRing(t *testing.T) {
	e := newEnv(t, openBus(t), Options{})
	f := e.filter("o", ">")
	c := e.dial(t, "", f)
	var seqs []uint64
	for i := range 3 {
		seqs = append(seqs, e.publish(t, "o", "alarm", "received", strconv.Itoa(i)))
	}
	var last string
	for range seqs {
		last = c.next(t).ID
	}
	c.close()
	missed := []uint64{e.publish(t, "o", "alarm", "received", "3"), e.publish(t, "o", "alarm", "cleared", "4")}
	e.publish(t, "other", "alarm", "received", "x")

	c2 := e.dial(t, last, f)
	for _, want := range missed {
		if got := c2.next(t).ID; got != strconv.FormatUint(want, 10) {
			t.Fatalf("resume got id %s, want %d", got, want)
		}
	}
	live := e.publish(t, "o", "incident", "opened", "5")
	if got := c2.next(t).ID; got != strconv.FormatUint(live, 10) {
		t.Fatalf("after resume got %s, want live %d", got, live)
	}
	c2.quiet(t)
	if r := e.hub.Stats().Replays; r != 0 {
		t.Fatalf("a recent resume used %d stream replays, want the ring", r)
	}
}

// When the ring no longer reaches back to Last-Event-ID the stream replays
// from JetStream, for one filter (server-side) and for several (local match).
// A page rendered before the stream held any event resumes after 0: what
// was published between rendering and connecting is not lost, while a
// stream opened without a resume point starts with live events only.
func TestResumeFromStart(t *testing.T) {
	e := newEnv(t, openBus(t), Options{})
	f := e.filter("o", ">")
	first := e.publish(t, "o", "alarm", "alarm", "0")
	second := e.publish(t, "o", "alarm", "alarm", "1")
	waitFor(t, "hub to see both events", func() bool { return e.hub.Stats().Head == second })
	fresh := e.dial(t, "", f)
	c := e.dial(t, "0", f)
	for _, want := range []uint64{first, second} {
		if got := c.next(t).ID; got != strconv.FormatUint(want, 10) {
			t.Fatalf("resume after 0 got id %s, want %d", got, want)
		}
	}
	live := e.publish(t, "o", "alarm", "alarm", "2")
	if got := fresh.next(t).ID; got != strconv.FormatUint(live, 10) {
		t.Fatalf("a stream without a resume point got %s first, want the live %d", got, live)
	}
}

func TestResumeFromStream(t *testing.T) {
	e := newEnv(t, openBus(t), Options{RingSize: 4})
	type stored struct {
		seq  uint64
		subj string
	}
	var log []stored
	pub := func(org string) uint64 {
		seq := e.publish(t, org, "alarm", "received", strconv.Itoa(len(log)))
		log = append(log, stored{seq, e.filter(org, "alarm", "received")})
		return seq
	}
	for i := range 20 {
		pub([]string{"a", "b"}[i%2])
	}
	resumeAt := log[2].seq
	waitFor(t, "hub to see all events", func() bool { return e.hub.Stats().Head == log[19].seq })
	for _, tc := range []struct {
		name    string
		filters []string
	}{
		{"one filter", []string{e.filter("a", ">")}},
		{"two filters", []string{e.filter("a", "alarm", ">"), e.filter("b", "nothing", ">")}},
		{"all", []string{e.filter(">")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []uint64
			for _, m := range log {
				if m.seq > resumeAt && wants(tc.filters, m.subj) {
					want = append(want, m.seq)
				}
			}
			if len(want) < 8 {
				t.Fatalf("fixture: only %d events to replay", len(want))
			}
			before := e.hub.Stats().Replays
			c := e.dial(t, strconv.FormatUint(resumeAt, 10), tc.filters...)
			for _, w := range want {
				if got := c.next(t).ID; got != strconv.FormatUint(w, 10) {
					t.Fatalf("replay got id %s, want %d", got, w)
				}
			}
			live := pub("a")
			if got := c.next(t).ID; got != strconv.FormatUint(live, 10) {
				t.Fatalf("after replay got %s, want live %d", got, live)
			}
			c.quiet(t)
			if e.hub.Stats().Replays != before+1 {
				t.Fatal("resume did not go to the stream")
			}
			c.close()
		})
	}
}

func wants(filters []string, subject string) bool {
	for _, f := range filters {
		if bus.Match(f, subject) {
			return true
		}
	}
	return false
}

// A resume further back than MaxReplay gets a resync at the current
// position instead of a long replay, and follows live from there.
func TestResumeBeyondMaxReplay(t *testing.T) {
	e := newEnv(t, openBus(t), Options{RingSize: 2, MaxReplay: 5})
	f := e.filter("o", ">")
	var seqs []uint64
	for i := range 10 {
		seqs = append(seqs, e.publish(t, "o", "alarm", "received", strconv.Itoa(i)))
	}
	waitFor(t, "hub to see all events", func() bool { return e.hub.Stats().Head == seqs[9] })
	c := e.dial(t, strconv.FormatUint(seqs[1], 10), f) // 8 behind > MaxReplay 5
	if got := c.next(t); got.Event != ResyncEvent || got.ID != strconv.FormatUint(seqs[9], 10) {
		t.Fatalf("got %+v, want a resync at %d", got, seqs[9])
	}
	live := e.publish(t, "o", "alarm", "received", "live")
	if got := c.next(t).ID; got != strconv.FormatUint(live, 10) {
		t.Fatalf("after resync got %s, want %d", got, live)
	}
	c.quiet(t)
	// Within MaxReplay it is a replay, not a resync.
	c2 := e.dial(t, strconv.FormatUint(seqs[6], 10), f)
	for _, want := range append(seqs[7:], live) {
		if got := c2.next(t); got.ID != strconv.FormatUint(want, 10) || got.Event == ResyncEvent {
			t.Fatalf("got %+v, want event %d", got, want)
		}
	}
}

// Two processes behind a load balancer: a browser that read from one and
// reconnects to the other continues without a gap or a repeat.
func TestResumeOnAnotherServer(t *testing.T) {
	b := openBus(t)
	s1, s2 := newEnv(t, b, Options{}), newEnv(t, b, Options{})
	f := s1.filter("o", ">")
	c := s1.dial(t, "", f)
	s1.publish(t, "o", "alarm", "received", "1")
	last := c.next(t).ID
	c.close()
	missed := s1.publish(t, "o", "alarm", "received", "2")
	c2 := s2.dial(t, last, f)
	if got := c2.next(t).ID; got != strconv.FormatUint(missed, 10) {
		t.Fatalf("other server resumed at %s, want %d", got, missed)
	}
	c2.quiet(t)
}

// The same across two real connections to an external cluster, as two vigil
// processes behind a load balancer would have, including a browser whose
// Last-Event-ID is ahead of the server it lands on.
func TestResumeOnAnotherServerExternal(t *testing.T) {
	url := externalURL(t)
	var r [6]byte
	rand.Read(r[:])
	h := hex.EncodeToString(r[:])
	cfg := bus.Config{URL: url, Stream: "T_" + strings.ToUpper(h), Root: "t" + h}
	b1, b2 := openBusConfig(t, cfg), openBusConfig(t, cfg)
	t.Cleanup(func() { b1.JetStream().DeleteStream(context.Background(), cfg.Stream) })
	s1, s2 := newEnv(t, b1, Options{}), newEnv(t, b2, Options{})
	f := s1.filter("o", ">")
	c := s1.dial(t, "", f)
	s1.publish(t, "o", "alarm", "received", "1")
	last := c.next(t).ID
	c.close()
	missed := s2.publish(t, "o", "alarm", "received", "2")
	c2 := s2.dial(t, last, f)
	if got := c2.next(t).ID; got != strconv.FormatUint(missed, 10) {
		t.Fatalf("other server resumed at %s, want %d", got, missed)
	}
	c2.quiet(t)

	// Server 1 may still be a moment behind an event the browser already saw
	// on server 2; that event must not be sent twice.
	ahead := strconv.FormatUint(missed, 10)
	c3 := s1.dial(t, ahead, f)
	next := s2.publish(t, "o", "alarm", "received", "3")
	if got := c3.next(t).ID; got != strconv.FormatUint(next, 10) {
		t.Fatalf("resumed at %s, want %d", got, next)
	}
	c3.quiet(t)
}

// gatedSource holds every event back until gate is closed, so a test can
// make this process's hub lag behind the stream.
type gatedSource struct {
	*bus.Bus
	gate chan struct{}
}

func (g gatedSource) SubscribeAfter(ctx context.Context, filter string, after uint64, fn func(bus.Msg) error) error {
	return g.Bus.SubscribeAfter(ctx, filter, after, func(m bus.Msg) error {
		select {
		case <-g.gate:
			return fn(m)
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// A browser that already saw events this hub has not received yet (another
// server was ahead) gets neither a repeat nor a gap once the hub catches up.
func TestResumeAheadOfHub(t *testing.T) {
	b := openBus(t)
	src := gatedSource{b, make(chan struct{})}
	e := newEnvSource(t, b, src, envOptions{})
	f := e.filter("o", ">")
	seqs := []uint64{
		e.publish(t, "o", "alarm", "received", "1"),
		e.publish(t, "o", "alarm", "received", "2"),
		e.publish(t, "o", "alarm", "received", "3"),
	}
	if head := e.hub.Stats().Head; head >= seqs[0] {
		t.Fatalf("hub not lagging: head %d", head)
	}
	c := e.dial(t, strconv.FormatUint(seqs[1], 10), f)
	close(src.gate)
	if got := c.next(t); got.ID != strconv.FormatUint(seqs[2], 10) || got.Data != "3" {
		t.Fatalf("got %+v, want only event %d", got, seqs[2])
	}
	c.quiet(t)
}

// A Last-Event-ID beyond anything the stream holds (a stream that was reset)
// is a fresh start with a resync, instead of waiting forever; garbage is a
// plain fresh start.
func TestResumeFromUnknownFuture(t *testing.T) {
	e := newEnv(t, openBus(t), Options{})
	f := e.filter("o", ">")
	old := e.publish(t, "o", "alarm", "received", "old")
	waitFor(t, "hub to see the event", func() bool { return e.hub.Stats().Head == old })
	c := e.dial(t, "999999", f)
	if got := c.next(t); got != (sseEvent{ID: strconv.FormatUint(old, 10), Event: ResyncEvent, Data: `{"reason":"gap"}`}) {
		t.Fatalf("got %+v, want a resync at %d", got, old)
	}
	seq := e.publish(t, "o", "alarm", "received", "new")
	if got := c.next(t); got.ID != strconv.FormatUint(seq, 10) || got.Data != "new" {
		t.Fatalf("got %+v, want the new event %d", got, seq)
	}
	// Garbage is a fresh start too.
	c2 := e.dial(t, "not-a-number", f)
	seq = e.publish(t, "o", "alarm", "received", "newer")
	if got := c2.next(t).ID; got != strconv.FormatUint(seq, 10) {
		t.Fatalf("got %s, want %d", got, seq)
	}
}

// An operator deleting and recreating the stream restarts sequence numbers;
// the hub must notice instead of waiting silently for the old head, and
// browsers must start afresh on the new stream.
func TestStreamResetReconnects(t *testing.T) {
	b := openBus(t)
	e := newEnv(t, b, Options{StreamCheck: 20 * time.Millisecond})
	f := e.filter("o", ">")
	c := e.dial(t, "", f)
	var last string
	for i := range 5 {
		e.publish(t, "o", "alarm", "received", strconv.Itoa(i))
		last = c.next(t).ID
	}
	ctx := context.Background()
	if err := b.JetStream().DeleteStream(ctx, b.StreamName()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.JetStream().CreateStream(ctx, jetstream.StreamConfig{Name: b.StreamName(), Subjects: []string{b.Root() + ".>"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.ended:
	case <-time.After(wait):
		t.Fatal("stream kept open across a stream reset")
	}
	c2 := e.dial(t, last, f)
	if got := c2.next(t); got.Event != ResyncEvent || got.ID != "0" {
		t.Fatalf("reconnect after reset got %+v, want a resync", got)
	}
	seq := e.publish(t, "o", "alarm", "received", "after-reset")
	if seq != 1 {
		t.Fatalf("recreated stream gave seq %d", seq)
	}
	if got := c2.next(t); got.ID != "1" || got.Data != "after-reset" {
		t.Fatalf("after reset got %+v", got)
	}
}

// vigil serve sets ReadTimeout (and may set WriteTimeout) on its server, and
// the hub bounds each write; a stream idle for longer than any of them must
// stay open. On HTTP/2 a write deadline is a timer that resets the stream even
// when no write is pending, so it must not outlive the write it guards.
func TestStreamOutlivesTimeouts(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1", true: "http2"}[tls], func(t *testing.T) {
			e := newEnvSource(t, openBus(t), nil, envOptions{tls: tls, serverTimeouts: 200 * time.Millisecond,
				Options: Options{Heartbeat: 400 * time.Millisecond, WriteTimeout: 100 * time.Millisecond}})
			c := e.dial(t, "", e.filter("o", ">"))
			time.Sleep(time.Second) // well past every timeout, with heartbeats in between
			seq := e.publish(t, "o", "alarm", "received", "late")
			if got := c.next(t); got.ID != strconv.FormatUint(seq, 10) {
				t.Fatalf("got %+v, want %d", got, seq)
			}
			select {
			case err := <-c.ended:
				t.Fatalf("stream ended: %v", err)
			default:
			}
		})
	}
}

func TestHeartbeat(t *testing.T) {
	e := newEnv(t, openBus(t), Options{Heartbeat: 50 * time.Millisecond})
	c := e.dial(t, "", e.filter("o", ">"))
	n := 0
	deadline := time.After(wait)
	for n < 3 {
		select {
		case line := <-c.comments:
			if line == ":" {
				n++
			}
		case <-deadline:
			t.Fatalf("saw %d heartbeats", n)
		}
	}
}

// A browser that stops reading is disconnected once its queue fills, while a
// reader on the same hub keeps receiving every event.
func TestSlowClientDropped(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1", true: "http2"}[tls], func(t *testing.T) {
			testSlowClientDropped(t, newEnvSource(t, openBus(t), nil, envOptions{tls: tls,
				Options: Options{ClientBuffer: 4, WriteTimeout: 500 * time.Millisecond}}))
		})
	}
}

func testSlowClientDropped(t *testing.T, e *env) {
	f := e.filter("o", ">")
	fast := e.dial(t, "", f)

	req, _ := http.NewRequest("GET", e.srv.URL+"/events?f="+f, nil)
	slow, err := e.srv.Client().Do(req) // never read
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Body.Close()
	waitFor(t, "two clients", func() bool { return e.hub.Stats().Clients == 2 })

	payload := `"` + strings.Repeat("x", 64<<10) + `"`
	received := 0
	for i := 0; e.hub.Stats().Dropped == 0; i++ {
		if i == 2000 {
			t.Fatal("slow client never dropped after 2000 64 KiB events")
		}
		e.publish(t, "o", "alarm", "received", payload)
		if ev := fast.next(t); len(ev.Data) != len(payload) {
			t.Fatalf("fast client got %d bytes", len(ev.Data))
		}
		received++
	}
	waitFor(t, "slow client to be gone", func() bool { return e.hub.Stats().Clients == 1 })
	// The slow client's connection really ends: its body reaches EOF.
	done := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, slow.Body); done <- err }()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("slow client's connection stayed open")
	}
	e.publish(t, "o", "alarm", "received", `"after"`)
	if ev := fast.next(t); ev.Data != `"after"` {
		t.Fatalf("fast client got %q after the drop", ev.Data)
	}
	t.Logf("slow client dropped after %d events", received)
}

func TestShutdownEndsStreams(t *testing.T) {
	e := newEnv(t, openBus(t), Options{})
	c := e.dial(t, "", e.filter("o", ">"))
	e.stop()
	select {
	case err := <-c.ended:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("stream ended with %v, want EOF", err)
		}
	case <-time.After(wait):
		t.Fatal("stream still open after hub stop")
	}
	if err := <-e.ran; err != nil {
		t.Fatalf("Run returned %v", err)
	}
	resp, err := e.srv.Client().Get(e.srv.URL + "/events?f=" + e.filter(">"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || !bytes.Contains(body, []byte("hub stopped")) {
		t.Fatalf("after stop: %d %s", resp.StatusCode, body)
	}
}

func TestDisconnectUnregisters(t *testing.T) {
	e := newEnv(t, openBus(t), Options{})
	c := e.dial(t, "", e.filter("o", ">"))
	waitFor(t, "client registered", func() bool { return e.hub.Stats().Clients == 1 })
	c.close()
	waitFor(t, "client gone", func() bool { return e.hub.Stats().Clients == 0 })
}

func TestBusClosedStopsHub(t *testing.T) {
	b := openBus(t)
	e := newEnv(t, b, Options{})
	c := e.dial(t, "", e.filter("o", ">"))
	b.Close()
	select {
	case err := <-e.ran:
		if !errors.Is(err, bus.ErrClosed) {
			t.Fatalf("Run returned %v, want bus.ErrClosed", err)
		}
	case <-time.After(wait):
		t.Fatal("hub kept running on a closed bus")
	}
	select {
	case <-c.ended:
	case <-time.After(wait):
		t.Fatal("stream open after the hub stopped")
	}
}

func TestServeRefusesBadRequests(t *testing.T) {
	e := newEnv(t, openBus(t), Options{})
	for _, q := range []string{
		"",                                // no filters at all
		"f=" + url.QueryEscape("other.>"), // outside the root
		"f=" + url.QueryEscape(e.filter("o m", ">")),     // space in a token
		"f=" + url.QueryEscape(e.filter(">", "alarm")),   // '>' not last
		"f=" + e.filter("o", ">") + "&f=" + e.filter(""), // one bad among good
	} {
		resp, err := e.srv.Client().Get(e.srv.URL + "/events?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 500 || resp.Header.Get("Content-Type") == "text/event-stream; charset=utf-8" {
			t.Errorf("%q: status %d %s, want a refusal before streaming", q, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

func TestServeBeforeRun(t *testing.T) {
	h := New(openBus(t), Options{WriteTimeout: 100 * time.Millisecond})
	err := h.Serve(httptest.NewRecorder(), httptest.NewRequest("GET", "/events", nil), []string{h.root + ".>"})
	if !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Serve before Run = %v, want ErrNotRunning", err)
	}
}

// Middleware wrappers must let the stream flush: through Unwrap, as the
// web layer's status recorder does, or by flushing themselves.
func TestServeNeedsFlusher(t *testing.T) {
	e := newEnv(t, openBus(t), Options{})
	f := []string{e.filter(">")}
	req := httptest.NewRequest("GET", "/events", nil)
	if err := e.hub.Serve(discard{}, req, f); err == nil || !strings.Contains(err.Error(), "cannot flush") {
		t.Fatalf("Serve on a writer that cannot flush = %v", err)
	}
	rec := httptest.NewRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.hub.Serve(unwrapper{rec}, req.WithContext(ctx), f) }()
	waitFor(t, "stream through an Unwrap wrapper", func() bool { return e.hub.Stats().Clients == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve through an Unwrap wrapper = %v", err)
	}
	if !strings.Contains(rec.Body.String(), ": ok\n\n") {
		t.Fatalf("nothing streamed: %q", rec.Body.String())
	}
}

// unwrapper hides Flush but offers the writer it wraps, like most
// middleware response recorders.
type unwrapper struct{ w http.ResponseWriter }

func (u unwrapper) Header() http.Header         { return u.w.Header() }
func (u unwrapper) Write(p []byte) (int, error) { return u.w.Write(p) }
func (u unwrapper) WriteHeader(code int)        { u.w.WriteHeader(code) }
func (u unwrapper) Unwrap() http.ResponseWriter { return u.w }

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
