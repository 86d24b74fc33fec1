package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const wait = 10 * time.Second

// follower runs Subscribe in the background and exposes what it receives.
type follower struct {
	msgs chan Msg
	done chan error
	stop context.CancelFunc
}

func follow(t *testing.T, b *Bus, filter string, fromSeq uint64) *follower {
	return startFollower(t, filter, func(ctx context.Context, fn func(Msg) error) error {
		return b.Subscribe(ctx, filter, fromSeq, fn)
	})
}

func followAfter(t *testing.T, b *Bus, filter string, after uint64) *follower {
	return startFollower(t, filter, func(ctx context.Context, fn func(Msg) error) error {
		return b.SubscribeAfter(ctx, filter, after, fn)
	})
}

func startFollower(t *testing.T, filter string, sub func(context.Context, func(Msg) error) error) *follower {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &follower{msgs: make(chan Msg, 1024), done: make(chan error, 1), stop: cancel}
	go func() {
		f.done <- sub(ctx, func(m Msg) error {
			f.msgs <- m
			return nil
		})
	}()
	t.Cleanup(cancel)
	return f
}

func (f *follower) next(t *testing.T) Msg {
	t.Helper()
	select {
	case m := <-f.msgs:
		return m
	case err := <-f.done:
		t.Fatalf("subscription ended: %v", err)
	case <-time.After(wait):
		t.Fatal("no message within", wait)
	}
	return Msg{}
}

// quiet asserts nothing more arrives for a short while.
func (f *follower) quiet(t *testing.T) {
	t.Helper()
	select {
	case m := <-f.msgs:
		t.Fatalf("unexpected message seq %d on %s: %s", m.Seq, m.Subject, m.Data)
	case <-time.After(200 * time.Millisecond):
	}
}

func publish(t *testing.T, b *Bus, org, module, event, data string) uint64 {
	t.Helper()
	subj, err := b.Subject(org, module, event)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := b.Publish(context.Background(), subj, []byte(data))
	if err != nil {
		t.Fatalf("publish %s: %v", subj, err)
	}
	return seq
}

func TestPublishSubscribe(t *testing.T) {
	servers(t, func(t *testing.T, open func(*testing.T, Config) *Bus) {
		b := open(t, Config{})
		before := publish(t, b, "orgA", "alarm", "received", `{"n":0}`)
		f := follow(t, b, b.Root()+".orgA.>", 0)

		// fromSeq 0 means "only new": probe until the consumer is live, and
		// check the message published before Subscribe never shows up.
		var first Msg
		deadline := time.Now().Add(wait)
		for first.Seq == 0 {
			if time.Now().After(deadline) {
				t.Fatal("subscription never became live")
			}
			publish(t, b, "orgA", "alarm", "probe", `{}`)
			select {
			case first = <-f.msgs:
			case <-time.After(50 * time.Millisecond):
			}
		}
		if first.Seq <= before {
			t.Fatalf("fromSeq 0 delivered old message %d (published before subscribe at %d)", first.Seq, before)
		}
		for range len(f.msgs) {
			<-f.msgs // drain surplus probes
		}

		start := time.Now().Add(-time.Second)
		seq := publish(t, b, "orgA", "incident", "opened", `{"id":"x"}`)
		publish(t, b, "orgB", "incident", "opened", `{"id":"y"}`) // other org: filtered out
		m := f.next(t)
		if m.Seq != seq || m.Subject != b.Root()+".orgA.incident.opened" || string(m.Data) != `{"id":"x"}` {
			t.Fatalf("got seq %d %s %s, want seq %d orgA incident", m.Seq, m.Subject, m.Data, seq)
		}
		if m.Time.Before(start) || m.Time.After(time.Now().Add(time.Second)) {
			t.Fatalf("message time %v not near now", m.Time)
		}
		f.quiet(t)
	})
}

func TestResumeFromSequence(t *testing.T) {
	servers(t, func(t *testing.T, open func(*testing.T, Config) *Bus) {
		b := open(t, Config{})
		var seqs []uint64
		for i := range 5 {
			seqs = append(seqs, publish(t, b, "o1", "alarm", "received", fmt.Sprintf(`{"n":%d}`, i)))
		}
		f := follow(t, b, b.Root()+".>", seqs[1])
		for _, want := range seqs[2:] {
			if m := f.next(t); m.Seq != want {
				t.Fatalf("resume delivered seq %d, want %d", m.Seq, want)
			}
		}
		live := publish(t, b, "o1", "alarm", "cleared", `{}`)
		if m := f.next(t); m.Seq != live {
			t.Fatalf("after catch-up got seq %d, want live %d", m.Seq, live)
		}
		f.quiet(t)
	})
}

func TestTwoIndependentSubscribers(t *testing.T) {
	servers(t, func(t *testing.T, open func(*testing.T, Config) *Bus) {
		b := open(t, Config{})
		last, err := b.LastSeq(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		all := b.Root() + ".>"
		f1, f2 := followAfter(t, b, all, last), followAfter(t, b, all, last)
		a := publish(t, b, "o", "m", "e1", "1")
		if f1.next(t).Seq != a || f2.next(t).Seq != a {
			t.Fatal("both subscribers must see the first message")
		}
		// Stopping one leaves the other following.
		f1.stop()
		if err := <-f1.done; !errors.Is(err, context.Canceled) {
			t.Fatalf("stopped subscriber returned %v, want context.Canceled", err)
		}
		c := publish(t, b, "o", "m", "e2", "2")
		if f2.next(t).Seq != c {
			t.Fatal("remaining subscriber missed a message")
		}
	})
}

func TestSubscriberErrorEndsSubscription(t *testing.T) {
	b := openTest(t, Config{DataDir: t.TempDir()})
	seq := publish(t, b, "o", "m", "e", "x")
	boom := errors.New("boom")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var got uint64
	err := b.SubscribeAfter(ctx, b.Root()+".>", seq-1, func(m Msg) error { got = m.Seq; return boom })
	if !errors.Is(err, boom) || got != seq {
		t.Fatalf("Subscribe = %v after seq %d, want the callback's error after seq %d", err, got, seq)
	}
}

func TestReplayStopsAtUpper(t *testing.T) {
	servers(t, func(t *testing.T, open func(*testing.T, Config) *Bus) {
		b := open(t, Config{})
		var seqs []uint64
		for i := range 6 {
			org := "a"
			if i%2 == 1 {
				org = "b"
			}
			seqs = append(seqs, publish(t, b, org, "m", "e", strconv.Itoa(i)))
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		tests := []struct {
			name        string
			filter      string
			after, upto uint64
			want        []uint64
		}{
			{"all in range", b.Root() + ".>", seqs[0], seqs[3], seqs[1:4]},
			{"filtered", b.Root() + ".a.>", seqs[0], seqs[5], []uint64{seqs[2], seqs[4]}},
			{"upper not matching", b.Root() + ".b.>", 0, seqs[4], []uint64{seqs[1], seqs[3]}},
			{"nothing matches", b.Root() + ".zz.>", 0, seqs[5], nil},
			{"empty range", b.Root() + ".>", seqs[3], seqs[3], nil},
			{"upper beyond stream", b.Root() + ".a.>", seqs[3], seqs[5] + 100, []uint64{seqs[4]}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var got []uint64
				err := b.Replay(ctx, tc.filter, tc.after, tc.upto, func(m Msg) error {
					got = append(got, m.Seq)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Fatalf("replay got %v, want %v", got, tc.want)
				}
			})
		}
		boom := errors.New("boom")
		if err := b.Replay(ctx, b.Root()+".>", 0, seqs[5], func(Msg) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("Replay returned %v, want the callback's error", err)
		}
	})
}

// A resume point older than what the stream still holds replays what is left
// rather than failing or waiting.
func TestReplayAfterDiscard(t *testing.T) {
	b := openTest(t, Config{DataDir: t.TempDir(), MaxBytes: 4096})
	var seqs []uint64
	for range 50 {
		seqs = append(seqs, publish(t, b, "o", "m", "e", strings.Repeat("x", 200)))
	}
	var got []uint64
	err := b.Replay(context.Background(), b.Root()+".>", seqs[0], seqs[49], func(m Msg) error {
		got = append(got, m.Seq)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || len(got) >= 49 || got[len(got)-1] != seqs[49] {
		t.Fatalf("replay after discard got %v", got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] != got[i-1]+1 {
			t.Fatalf("gap in what the stream kept: %v", got)
		}
	}
}

func TestMsgIDDeduplicates(t *testing.T) {
	servers(t, func(t *testing.T, open func(*testing.T, Config) *Bus) {
		b := open(t, Config{})
		subj, _ := b.Subject("o", "alarm", "received")
		ctx := context.Background()
		s1, err := b.Publish(ctx, subj, []byte("sig"), MsgID("acct-1|seq-7"))
		if err != nil {
			t.Fatal(err)
		}
		s2, err := b.Publish(ctx, subj, []byte("sig"), MsgID("acct-1|seq-7"))
		if err != nil {
			t.Fatal(err)
		}
		last, _ := b.LastSeq(ctx)
		if s1 != s2 || last != s1 {
			t.Fatalf("duplicate stored: first %d second %d last %d", s1, s2, last)
		}
	})
}

func TestPublishJSON(t *testing.T) {
	b := openTest(t, Config{DataDir: t.TempDir()})
	subj, _ := b.Subject("o", "incident", "opened")
	seq, err := b.PublishJSON(context.Background(), subj, map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	b.Replay(context.Background(), subj, seq-1, seq, func(m Msg) error { got = string(m.Data); return nil })
	if got != `{"n":1}` {
		t.Fatalf("stored %q", got)
	}
	if _, err := b.PublishJSON(context.Background(), subj, func() {}); err == nil {
		t.Fatal("unencodable value published")
	}
}

func TestPublishRejectsBadSubjects(t *testing.T) {
	b := openTest(t, Config{DataDir: t.TempDir()})
	for _, subj := range []string{
		"other.o.m.e",           // outside the root: no stream would store it
		b.Root() + ".o.m",       // too short
		b.Root() + ".o.*.e",     // wildcard
		b.Root() + ".o.m.e ",    // space
		b.Root() + ".o..e",      // empty token
		b.Root() + ".o.m.e.>",   // wildcard tail
		b.Root() + ".o\x00.m.e", // control character
		b.Root() + "x.o.m.e",    // root prefix but not the root token
	} {
		if _, err := b.Publish(context.Background(), subj, nil); !errors.Is(err, ErrSubject) {
			t.Errorf("Publish(%q) = %v, want ErrSubject", subj, err)
		}
	}
	for _, filter := range []string{"other.>", b.Root() + ".>.x", b.Root() + ".o m.>", b.Root()} {
		if err := b.Subscribe(context.Background(), filter, 0, func(Msg) error { return nil }); !errors.Is(err, ErrSubject) {
			t.Errorf("Subscribe(%q) = %v, want ErrSubject", filter, err)
		}
	}
}

func TestEmbeddedReopenKeepsMessages(t *testing.T) {
	dir := t.TempDir()
	stream, root := uniqueNames()
	cfg := Config{DataDir: dir, Stream: stream, Root: root}
	b, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for i := range 3 {
		seqs = append(seqs, publish(t, b, "o", "alarm", "received", strconv.Itoa(i)))
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := b.Check(context.Background()); err == nil {
		t.Fatal("Check passed on a closed bus")
	}
	if _, err := b.Publish(context.Background(), root+".o.m.e", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close = %v, want ErrClosed", err)
	}

	b2 := openTest(t, cfg)
	if err := b2.Check(context.Background()); err != nil {
		t.Fatalf("Check after reopen: %v", err)
	}
	last, err := b2.LastSeq(context.Background())
	if err != nil || last != seqs[2] {
		t.Fatalf("after reopen LastSeq = %d, %v; want %d", last, err, seqs[2])
	}
	var got []string
	err = b2.Replay(context.Background(), root+".>", 0, last, func(m Msg) error {
		got = append(got, string(m.Data))
		return nil
	})
	if err != nil || strings.Join(got, ",") != "0,1,2" {
		t.Fatalf("after reopen replay = %v, %v", got, err)
	}
	if next := publish(t, b2, "o", "alarm", "received", "3"); next != last+1 {
		t.Fatalf("sequence after reopen = %d, want %d", next, last+1)
	}
}

func TestEmbeddedStoreIsLocked(t *testing.T) {
	dir := t.TempDir()
	openTest(t, Config{DataDir: dir})
	_, err := Open(context.Background(), Config{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second Open on one data dir = %v, want a lock error", err)
	}
}

func TestEmbeddedOpensNoTCPPort(t *testing.T) {
	before := listeningSockets(t)
	b := openTest(t, Config{DataDir: t.TempDir()})
	if addr := b.ns.Addr(); addr != nil {
		t.Fatalf("embedded server listens on %v", addr)
	}
	publish(t, b, "o", "m", "e", "x") // the server is really serving
	if after := listeningSockets(t); after != before {
		t.Fatalf("listening TCP sockets of this process went from %d to %d", before, after)
	}
}

// listeningSockets counts TCP sockets in LISTEN state owned by this process,
// by matching /proc/net/tcp{,6} inodes against /proc/self/fd.
func listeningSockets(t *testing.T) int {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("socket ownership check needs Linux /proc; the Addr() check above still ran")
	}
	owned := map[string]bool{}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			owned[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	n := 0
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) > 9 && f[3] == "0A" && owned[f[9]] {
				n++
			}
		}
	}
	return n
}

func TestExternalUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // a port nobody listens on
	start := time.Now()
	_, err = Open(context.Background(), Config{URL: "nats://user:s3cret@" + addr, ConnectTimeout: time.Second})
	if err == nil {
		t.Fatal("Open succeeded against a closed port")
	}
	msg := err.Error()
	if !strings.Contains(msg, "cannot reach NATS") || !strings.Contains(msg, addr) || strings.Contains(msg, "s3cret") {
		t.Fatalf("error %q should name the address, not the password", msg)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("unreachable server took %s to report", d)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"embedded without data dir", Config{}, "data directory"},
		{"bad root", Config{DataDir: "x", Root: "a.b"}, "root"},
		{"bad stream", Config{DataDir: "x", Stream: "A.B"}, "stream name"},
		{"bad replicas", Config{URL: "nats://127.0.0.1:1", Replicas: 2}, "replicas"},
		{"dup window beyond age", Config{DataDir: "x", MaxAge: time.Minute, Duplicates: time.Hour}, "duplicates"},
		{"cert without key", Config{URL: "nats://127.0.0.1:1", CertFile: "c.pem"}, "key file"},
		{"missing CA file", Config{URL: "tls://127.0.0.1:1", CAFile: "/nonexistent/ca.pem"}, "ca.pem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open = %v, want error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	stream, root := uniqueNames()
	b, err := Open(context.Background(), Config{DataDir: t.TempDir(), Stream: stream, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	f := follow(t, b, root+".>", 0)
	time.Sleep(100 * time.Millisecond)
	b.Close()
	select {
	case err := <-f.done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Subscribe after Close returned %v, want ErrClosed", err)
		}
	case <-time.After(wait):
		t.Fatal("Subscribe still running after Close")
	}
}

// Several vigil processes start at once against one cluster: every Open must
// succeed and they must share one stream.
func TestExternalConcurrentOpen(t *testing.T) {
	url := externalURL(t)
	stream, root := uniqueNames()
	cfg := Config{URL: url, Stream: stream, Root: root}
	defer deleteStream(t, url, stream)
	var wg sync.WaitGroup
	buses := make([]*Bus, 6)
	errs := make([]error, len(buses))
	for i := range buses {
		wg.Go(func() { buses[i], errs[i] = Open(context.Background(), cfg) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer buses[i].Close()
	}
	seq := publish(t, buses[0], "o", "m", "e", "x")
	for i, b := range buses {
		if last, err := b.LastSeq(context.Background()); err != nil || last != seq {
			t.Fatalf("bus %d sees last %d, %v; want %d", i, last, err, seq)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"nats://127.0.0.1:4222":                 "nats://127.0.0.1:4222",
		"nats://u:p@h:4222":                     "nats://u:xxxxx@h:4222",
		"nats://tok@h:4222,nats://u:pw@h2:4222": "nats://xxxxx@h:4222,nats://u:xxxxx@h2:4222",
		"tls://h1:4222, tls://h2:4222":          "tls://h1:4222,tls://h2:4222",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
