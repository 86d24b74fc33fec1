package receiver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"vigil/internal/alarm/dc09"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// testAccounts knows 1234 (plain), 5678 (AES-256, required) and ABCD (Lupus
// binary CRC).
var testAccounts = AccountsFunc(func(_ context.Context, _, _, acct string) (Account, bool, error) {
	switch acct {
	case "1234":
		return Account{Number: acct, Ref: "acct-1234"}, true, nil
	case "5678":
		return Account{Number: acct, Key: testKey, Encrypted: true}, true, nil
	case "ABCD":
		return Account{Number: acct, Quirks: dc09.Quirks{BinaryCRC: true}}, true, nil
	case "DEAD":
		return Account{}, false, errors.New("database down")
	}
	return Account{}, false, nil
})

// recordingSink stores every committed signal.
type recordingSink struct {
	mu      sync.Mutex
	signals []Signal
	batches []int
	gate    chan struct{} // if not nil, Commit waits for a value
	entered chan struct{} // if not nil, Commit signals entry
	fail    atomic.Bool
	delay   time.Duration
}

func (s *recordingSink) Commit(ctx context.Context, batch []Signal) error {
	if s.entered != nil {
		s.entered <- struct{}{}
	}
	if s.gate != nil {
		<-s.gate
	}
	time.Sleep(s.delay)
	if s.fail.Load() {
		return errors.New("disk full")
	}
	s.mu.Lock()
	s.signals = append(s.signals, batch...)
	s.batches = append(s.batches, len(batch))
	s.mu.Unlock()
	return nil
}

func (s *recordingSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.signals)
}

// start runs a server on a loopback port and stops it when the test ends.
func start(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.Accounts == nil {
		cfg.Accounts = testAccounts
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return srv, srv.Addr().String()
}

func plainFrame(t testing.TB, token, acct, data string, seq int) []byte {
	f := &dc09.Frame{Token: token, Sequence: dc09.SequenceString(seq), Line: "0", HasLine: true, Account: acct, Data: data}
	raw, err := f.Marshal(nil, nil, dc09.Quirks{})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func encFrame(t testing.TB, acct, data string, ts time.Time) []byte {
	f := &dc09.Frame{Token: dc09.TokenSIA, Encrypted: true, Sequence: "0001", Receiver: "1", HasReceiver: true, Line: "0",
		HasLine: true, Account: acct, Data: data, Timestamp: ts, HasTimestamp: true}
	raw, err := f.Marshal(testKey, nil, dc09.Quirks{})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// readReply reads one LF…CR reply within d.
func readReply(c net.Conn, br *bufio.Reader, d time.Duration) (*dc09.Frame, error) {
	c.SetReadDeadline(time.Now().Add(d))
	fr := frameReader{br: br, max: dc09.MaxFrame}
	raw, err := fr.next(func() {})
	if err != nil {
		return nil, err
	}
	f, err := dc09.Parse(append([]byte(nil), raw...))
	if err != nil {
		return nil, err
	}
	if err := f.Verify(dc09.Quirks{BinaryCRC: true}); err != nil {
		return nil, err
	}
	return f, nil
}

func dial(t *testing.T, network, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// The receiver must not ACK before Commit returned: a sink that blocks
// holds the ACK back on both transports.
func TestACKOnlyAfterCommit(t *testing.T) {
	for _, network := range []string{"tcp", "udp"} {
		t.Run(network, func(t *testing.T) {
			sink := &recordingSink{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
			_, addr := start(t, Config{Sink: sink})
			c, br := dial(t, network, addr)
			if _, err := c.Write(plainFrame(t, dc09.TokenCID, "1234", "#1234|1130 01 015", 7)); err != nil {
				t.Fatal(err)
			}
			select {
			case <-sink.entered:
			case <-time.After(5 * time.Second):
				t.Fatal("Commit was not called")
			}
			if f, err := readReply(c, br, 300*time.Millisecond); err == nil {
				t.Fatalf("reply %s before Commit returned", f.Token)
			}
			sink.gate <- struct{}{}
			f, err := readReply(c, br, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if f.Token != dc09.TokenACK || f.Sequence != "0007" || f.Account != "1234" || f.Line != "0" {
				t.Fatalf("reply %+v", f)
			}
			if sink.count() != 1 || sink.signals[0].Account.Ref != "acct-1234" || sink.signals[0].Transport != network {
				t.Fatalf("sink got %+v", sink.signals)
			}
		})
	}
}

func TestRepliesOverTCP(t *testing.T) {
	var unknown atomic.Int32
	var rejects sync.Map
	sink := &recordingSink{}
	now := time.Now().UTC()
	srv, addr := start(t, Config{Sink: sink,
		OnUnknownAccount: func(_ context.Context, r Rejection) {
			if r.Frame.Account == "9999" && r.Response == "NAK" {
				unknown.Add(1)
			}
		},
		OnReject: func(_ context.Context, r Rejection) { rejects.Store(r.Reason, true) },
	})
	c, br := dial(t, "tcp", addr)
	badCRC := plainFrame(t, dc09.TokenNull, "1234", "", 1)
	copy(badCRC[1:5], "0000")
	tests := []struct {
		name  string
		raw   []byte
		token string
		check func(f *dc09.Frame) error
	}{
		{"NULL is committed and ACKed", plainFrame(t, dc09.TokenNull, "1234", "", 0), dc09.TokenACK, nil},
		{"SIA-DCS", plainFrame(t, dc09.TokenSIA, "1234", "#1234|Nri1/BA501", 2), dc09.TokenACK, nil},
		{"unknown account", plainFrame(t, dc09.TokenCID, "9999", "#9999|1130 01 015", 3), dc09.TokenNAK, nil},
		{"lookup failure", plainFrame(t, dc09.TokenCID, "DEAD", "#DEAD|1130 01 015", 3), dc09.TokenNAK, nil},
		{"bad CRC", badCRC, dc09.TokenNAK, nil},
		{"unsupported token", plainFrame(t, "HENG-BO", "1234", "#1234|1130 01 015", 4), dc09.TokenDUH, func(f *dc09.Frame) error {
			if f.Sequence != "0004" || f.Account != "1234" {
				return fmt.Errorf("DUH must echo: %+v", f)
			}
			return nil
		}},
		{"plain frame for encrypted account", plainFrame(t, dc09.TokenSIA, "5678", "#5678|NFA1", 5), dc09.TokenNAK, nil},
		{"encrypted round trip", encFrame(t, "5678", "#5678|NFA129", now), dc09.TokenACK, func(f *dc09.Frame) error {
			if !f.Encrypted {
				return errors.New("want *ACK")
			}
			if err := f.Decrypt(testKey, dc09.Quirks{}); err != nil {
				return err
			}
			if f.Receiver != "1" || f.Data != "" || f.Timestamp.Sub(now).Abs() > 5*time.Second {
				return fmt.Errorf("*ACK content %+v", f)
			}
			return nil
		}},
		{"timestamp outside window", encFrame(t, "5678", "#5678|NFA129", now.Add(-2*time.Minute)), dc09.TokenNAK, func(f *dc09.Frame) error {
			if !f.HasTimestamp || f.Timestamp.Sub(now).Abs() > 5*time.Second {
				return fmt.Errorf("NAK must carry receiver time, got %v", f.Timestamp)
			}
			return nil
		}},
		{"encrypted for account without key", encFrame(t, "1234", "#1234|NFA129", now), dc09.TokenNAK, nil},
	}
	for _, tt := range tests {
		if _, err := c.Write(tt.raw); err != nil {
			t.Fatal(err)
		}
		f, err := readReply(c, br, 5*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if f.Token != tt.token {
			t.Errorf("%s: reply %s, want %s", tt.name, f.Token, tt.token)
			continue
		}
		if tt.check != nil {
			if err := tt.check(f); err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
		}
	}
	if unknown.Load() != 1 {
		t.Errorf("OnUnknownAccount called %d times", unknown.Load())
	}
	for _, r := range []Reason{ReasonBadFrame, ReasonUnsupported, ReasonKey, ReasonTimestamp, ReasonLookup} {
		if _, ok := rejects.Load(r); !ok {
			t.Errorf("OnReject not called for %s", r)
		}
	}
	if sink.count() != 3 {
		t.Errorf("committed %d signals, want 3 (NULL, SIA-DCS, encrypted)", sink.count())
	}
	m := srv.Metrics().Snapshot()
	if m.Frames != uint64(len(tests)) || m.Acks != 3 || m.Duhs != 1 || m.UnknownAccounts != 1 || m.BadFrames != 1 {
		t.Errorf("metrics %+v", m)
	}
}

func TestCommitErrorNAKs(t *testing.T) {
	sink := &recordingSink{}
	sink.fail.Store(true)
	srv, addr := start(t, Config{Sink: sink})
	c, br := dial(t, "tcp", addr)
	c.Write(plainFrame(t, dc09.TokenNull, "1234", "", 0))
	f, err := readReply(c, br, 5*time.Second)
	if err != nil || f.Token != dc09.TokenNAK {
		t.Fatalf("reply %v %v, want NAK", f, err)
	}
	if srv.Metrics().CommitErrors.Load() != 1 {
		t.Error("commit error not counted")
	}
}

func TestSilentOnBadFrame(t *testing.T) {
	_, addr := start(t, Config{Sink: &recordingSink{}, SilentOnBadFrame: true})
	c, br := dial(t, "udp", addr)
	bad := plainFrame(t, dc09.TokenNull, "1234", "", 1)
	bad[len(bad)-3] = '!'
	c.Write(bad)
	if f, err := readReply(c, br, 300*time.Millisecond); err == nil {
		t.Fatalf("reply %s to a bad frame in silent mode", f.Token)
	}
}

// A binary CRC may contain CR or LF bytes; framing must still hold.
func TestBinaryCRCFraming(t *testing.T) {
	sink := &recordingSink{}
	_, addr := start(t, Config{Sink: sink})
	c, br := dial(t, "tcp", addr)
	sent := 0
	for seq := 1; seq < 9999 && sent < 3; seq++ {
		f := &dc09.Frame{Token: dc09.TokenCID, Sequence: dc09.SequenceString(seq), Line: "0", HasLine: true, Account: "ABCD", Data: "#ABCD|1130 01 015"}
		raw, _ := f.Marshal(nil, nil, dc09.Quirks{BinaryCRC: true})
		if !bytes.ContainsAny(raw[1:3], "\r\n") {
			continue
		}
		sent++
		c.Write(raw)
		r, err := readReply(c, br, 5*time.Second)
		if err != nil || r.Token != dc09.TokenACK || !r.CRCBinary || r.Sequence != f.Sequence {
			t.Fatalf("seq %d (CRC % X): reply %+v %v", seq, raw[1:3], r, err)
		}
	}
	if sent == 0 {
		t.Fatal("no sequence produced a CR/LF in the CRC")
	}
}

// Garbage, slowloris and oversize connections must not delay a good panel,
// and must themselves be closed.
func TestMisbehavingConnectionsIsolated(t *testing.T) {
	sink := &recordingSink{}
	srv, addr := start(t, Config{Sink: sink, ReadTimeout: 300 * time.Millisecond, IdleTimeout: 2 * time.Second, MaxFrame: 512})

	// 1. garbage without LF: closed after MaxFrame bytes.
	g, _ := dial(t, "tcp", addr)
	go g.Write(bytes.Repeat([]byte("x"), 4096))
	// 2. slowloris: a frame start, then a byte every 100 ms.
	sl, _ := dial(t, "tcp", addr)
	go func() {
		sl.Write([]byte("\nABCD"))
		for range 50 {
			time.Sleep(100 * time.Millisecond)
			if _, err := sl.Write([]byte("0")); err != nil {
				return
			}
		}
	}()
	// 3. huge line: LF then 10 KiB without CR.
	h, hbr := dial(t, "tcp", addr)
	h.Write(append([]byte("\n"), bytes.Repeat([]byte("0"), 10000)...))

	// A good panel keeps getting prompt ACKs meanwhile.
	c, br := dial(t, "tcp", addr)
	for i := 1; i <= 20; i++ {
		t0 := time.Now()
		c.Write(plainFrame(t, dc09.TokenCID, "1234", "#1234|1130 01 015", i))
		f, err := readReply(c, br, 2*time.Second)
		if err != nil || f.Token != dc09.TokenACK {
			t.Fatalf("good panel frame %d: %v %v", i, f, err)
		}
		if d := time.Since(t0); d > 250*time.Millisecond {
			t.Errorf("good panel frame %d took %v", i, d)
		}
	}
	// The huge line gets a NAK and a close.
	if f, err := readReply(h, hbr, 2*time.Second); err != nil || f.Token != dc09.TokenNAK {
		t.Errorf("oversize: %v %v, want NAK", f, err)
	}
	for _, conn := range []net.Conn{g, sl, h} {
		conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := readAll(conn); err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
			t.Errorf("misbehaving connection not closed by the server: %v", err)
		}
	}
	m := srv.Metrics().Snapshot()
	if m.Oversize == 0 || m.Timeouts == 0 || m.GarbageBytes == 0 {
		t.Errorf("metrics %+v", m)
	}
}

// readAll drains c until EOF or error; EOF returns nil.
func readAll(c net.Conn) ([]byte, error) {
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			if err.Error() == "EOF" {
				return out, nil
			}
			return out, err
		}
	}
}

func TestIdleTimeout(t *testing.T) {
	_, addr := start(t, Config{Sink: &recordingSink{}, IdleTimeout: 200 * time.Millisecond})
	c, _ := dial(t, "tcp", addr)
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	t0 := time.Now()
	if _, err := readAll(c); err != nil {
		t.Fatalf("idle connection not closed: %v", err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("closed after %v", d)
	}
}

// Many concurrent panels against a slow sink: every frame ACKed exactly
// once, and the committer batches.
func TestGroupCommit(t *testing.T) {
	sink := &recordingSink{delay: 5 * time.Millisecond}
	srv, addr := start(t, Config{Sink: sink})
	const panels, frames = 50, 20
	var wg sync.WaitGroup
	errs := make(chan error, panels)
	for p := range panels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			acct := "1234"
			for i := 1; i <= frames; i++ {
				c.Write(plainFrame(t, dc09.TokenCID, acct, fmt.Sprintf("#%s|1130 01 %03d", acct, p), i))
				f, err := readReply(c, br, 10*time.Second)
				if err != nil || f.Token != dc09.TokenACK || f.Sequence != dc09.SequenceString(i) {
					errs <- fmt.Errorf("panel %d frame %d: %v %v", p, i, f, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	m := srv.Metrics().Snapshot()
	if sink.count() != panels*frames || m.CommitSignals != panels*frames || m.Acks != panels*frames {
		t.Fatalf("committed %d, metrics %+v", sink.count(), m)
	}
	if m.MaxBatch < 10 || m.CommitBatches > panels*frames/5 {
		t.Errorf("no batching: %d batches, max %d", m.CommitBatches, m.MaxBatch)
	}
}

// Cancelling the context while a frame is being committed still ACKs it,
// and Serve returns afterwards.
func TestGracefulShutdown(t *testing.T) {
	sink := &recordingSink{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	srv, err := New(Config{Accounts: testAccounts, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error)
	go func() { served <- srv.Serve(ctx) }()
	c, br := dial(t, "tcp", srv.Addr().String())
	c.Write(plainFrame(t, dc09.TokenCID, "1234", "#1234|1130 01 015", 1))
	<-sink.entered
	cancel()
	select {
	case <-served:
		t.Fatal("Serve returned with a commit in flight")
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := net.DialTimeout("tcp", srv.Addr().String(), time.Second); err == nil {
		t.Error("still accepting after cancel")
	}
	sink.gate <- struct{}{}
	f, err := readReply(c, br, 5*time.Second)
	if err != nil || f.Token != dc09.TokenACK {
		t.Fatalf("in-flight frame: %v %v, want ACK", f, err)
	}
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func TestMaxConns(t *testing.T) {
	srv, addr := start(t, Config{Sink: &recordingSink{}, MaxConns: 2})
	a, _ := dial(t, "tcp", addr)
	b, _ := dial(t, "tcp", addr)
	_, _ = a, b
	time.Sleep(100 * time.Millisecond)
	c, _ := dial(t, "tcp", addr)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := readAll(c); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("third connection not closed: %v", err)
	}
	if srv.Metrics().ConnectionsRefused.Load() != 1 {
		t.Errorf("refused %d", srv.Metrics().ConnectionsRefused.Load())
	}
}

// FuzzFrameReader: any byte stream splits into frames without panics and
// every frame respects the size bound.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte("\nCE110032\"SIA-DCS\"9876R579BDFL789ABC#12345A[#12345A|NFA129]\r"))
	f.Add([]byte("xx\n\n\r\nAB\r\n\x0d\x0a0014\"NULL\"\r"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr := frameReader{br: bufio.NewReaderSize(bytes.NewReader(b), 16), max: 64}
		for range len(b) + 1 {
			raw, err := fr.next(func() {})
			if err != nil {
				return
			}
			if len(raw) > 64 || raw[0] != '\n' || raw[len(raw)-1] != '\r' {
				t.Fatalf("bad frame %q", raw)
			}
		}
	})
}

// Thousands of panels may hold connections open at once; all of them get
// served, and the commits batch across connections.
func TestManyConnections(t *testing.T) {
	n := 1500
	if testing.Short() {
		n = 200
	}
	sink := &recordingSink{delay: time.Millisecond}
	srv, addr := start(t, Config{Sink: sink})
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Skipf("cannot open %d connections here: %v", n, err)
		}
		conns = append(conns, c)
	}
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i, c := range conns {
		wg.Go(func() {
			c.Write(plainFrame(t, dc09.TokenNull, "1234", "", i%9999+1))
			f, err := readReply(c, bufio.NewReader(c), 20*time.Second)
			if err != nil || f.Token != dc09.TokenACK {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d connections not ACKed", failed.Load(), n)
	}
	m := srv.Metrics().Snapshot()
	if m.ConnectionsOpen != int64(n) || m.Acks != uint64(n) || m.MaxBatch < 2 {
		t.Errorf("metrics %+v", m)
	}
}

func TestDedupKey(t *testing.T) {
	key := func(raw []byte) string {
		f, err := dc09.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return Signal{Frame: f}.DedupKey()
	}
	a := plainFrame(t, dc09.TokenCID, "1234", "#1234|1130 01 015", 7)
	b := plainFrame(t, dc09.TokenCID, "1234", "#1234|1130 01 016", 7)
	if key(a) != key(a) || key(a) == key(b) {
		t.Errorf("keys %s %s", key(a), key(b))
	}
	if want := "//0/1234/ADM-CID/0007/"; !strings.HasPrefix(key(a), want) {
		t.Errorf("key %s, want prefix %s", key(a), want)
	}
	// Timestamped: the timestamp leads, so keys grow with time.
	f := &dc09.Frame{Token: dc09.TokenCID, Sequence: "0007", Line: "0", HasLine: true, Account: "1234", Data: "#1234|1130 01 015",
		Timestamp: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), HasTimestamp: true}
	raw, err := f.Marshal(nil, nil, dc09.Quirks{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "20261123T120000Z//0/1234/ADM-CID/0007/"; !strings.HasPrefix(key(raw), want) {
		t.Errorf("key %s, want prefix %s", key(raw), want)
	}
}
