package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// jobRun runs Work in the background with a handler the test controls.
type jobRun struct {
	stop context.CancelFunc
	done chan error
}

func startJob(t *testing.T, b *Bus, cfg WorkConfig, fn func(Msg) error) *jobRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	j := &jobRun{stop: cancel, done: make(chan error, 1)}
	go func() { j.done <- b.Work(ctx, cfg, fn) }()
	t.Cleanup(func() { cancel(); <-j.done })
	return j
}

// waitJobReady publishes probes until the job has handled one, because a new
// job only sees messages published after its consumer exists.
func waitJobReady(t *testing.T, b *Bus, probes <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		publish(t, b, "probe", "m", "e", "x")
		select {
		case <-probes:
			return
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("job never started")
		}
	}
}

// Two processes running one job share its messages: each is handled once,
// a failed attempt is retried, and a permanent failure is not.
func TestWorkSharedAcrossProcesses(t *testing.T) {
	servers(t, func(t *testing.T, open func(*testing.T, Config) *Bus) {
		stream, root := uniqueNames()
		cfg := Config{Stream: stream, Root: root}
		b1 := open(t, cfg)
		b2 := b1
		if b1.ns == nil { // external: a second, independent connection
			b2 = open(t, cfg)
		}
		var mu sync.Mutex
		handled := map[string][]string{} // data -> worker ids, one per attempt
		probes := make(chan struct{}, 100)
		handler := func(worker string) func(Msg) error {
			return func(m Msg) error {
				if m.Subject == root+".probe.m.e" {
					probes <- struct{}{}
					return nil
				}
				mu.Lock()
				handled[string(m.Data)] = append(handled[string(m.Data)], worker)
				mu.Unlock()
				switch {
				case string(m.Data) == "flaky" && m.Delivery == 1:
					return errors.New("transient")
				case string(m.Data) == "poison":
					return fmt.Errorf("bad event: %w", ErrPermanent)
				}
				return nil
			}
		}
		job := WorkConfig{Name: "notify", Filter: root + ".>", Retry: []time.Duration{10 * time.Millisecond}}
		startJob(t, b1, job, handler("w1"))
		startJob(t, b2, job, handler("w2"))
		waitJobReady(t, b1, probes)

		var want []string
		for i := range 40 {
			want = append(want, strconv.Itoa(i))
		}
		want = append(want, "flaky", "poison")
		for _, d := range want {
			publish(t, b1, "o", "alarm", "received", d)
		}
		waitForCond(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(handled) == len(want) && len(handled["flaky"]) == 2
		})
		time.Sleep(200 * time.Millisecond) // give a wrong redelivery time to show
		mu.Lock()
		defer mu.Unlock()
		for _, d := range want {
			n := len(handled[d])
			if d == "flaky" && n != 2 || d != "flaky" && n != 1 {
				t.Errorf("message %q handled %d times: %v", d, n, handled[d])
			}
		}
	})
}

// Messages published while every process of a job is down are handled at
// the next start: the job's position is durable.
func TestWorkResumesAfterRestart(t *testing.T) {
	b := openTest(t, Config{DataDir: t.TempDir()})
	probes := make(chan struct{}, 100)
	got := make(chan string, 100)
	fn := func(m Msg) error {
		if m.Subject == b.Root()+".probe.m.e" {
			probes <- struct{}{}
			return nil
		}
		got <- string(m.Data)
		return nil
	}
	// A pull request of the stopped process may still be open on the server
	// and take the message; it then comes back after AckWait, kept short here.
	job := WorkConfig{Name: "archive", Filter: b.Root() + ".>", AckWait: 500 * time.Millisecond}
	j := startJob(t, b, job, fn)
	waitJobReady(t, b, probes)
	j.stop()
	if err := <-j.done; !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped job returned %v", err)
	}
	j.done <- nil // let the cleanup's receive return
	publish(t, b, "o", "alarm", "received", "while-down")
	startJob(t, b, job, fn)
	select {
	case d := <-got:
		if d != "while-down" {
			t.Fatalf("got %q", d)
		}
	case <-time.After(wait):
		t.Fatal("message published while the job was down was never handled")
	}
}

func TestWorkGivesUpAfterMaxDeliver(t *testing.T) {
	b := openTest(t, Config{DataDir: t.TempDir()})
	probes := make(chan struct{}, 100)
	var mu sync.Mutex
	attempts := 0
	job := WorkConfig{Name: "flaky", Filter: b.Root() + ".>", MaxDeliver: 3, Retry: []time.Duration{5 * time.Millisecond}}
	startJob(t, b, job, func(m Msg) error {
		if m.Subject == b.Root()+".probe.m.e" {
			probes <- struct{}{}
			return nil
		}
		mu.Lock()
		attempts++
		mu.Unlock()
		return errors.New("always fails")
	})
	waitJobReady(t, b, probes)
	publish(t, b, "o", "m", "e", "x")
	waitForCond(t, func() bool { mu.Lock(); defer mu.Unlock(); return attempts == 3 })
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if attempts != 3 {
		t.Fatalf("handled %d times, want MaxDeliver=3", attempts)
	}
}

func TestWorkRejectsBadConfig(t *testing.T) {
	b := openTest(t, Config{DataDir: t.TempDir()})
	for _, cfg := range []WorkConfig{
		{Name: "", Filter: b.Root() + ".>"},
		{Name: "a.b", Filter: b.Root() + ".>"},
		{Name: "a/b", Filter: b.Root() + ".>"},
		{Name: "ok", Filter: "elsewhere.>"},
	} {
		if err := b.Work(context.Background(), cfg, func(Msg) error { return nil }); err == nil {
			t.Errorf("Work(%+v) accepted", cfg)
		}
	}
}

func waitForCond(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
