package live

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"vigil/internal/bus"
)

// BenchmarkPublishToSSE measures publish → browser latency through the whole
// path (JetStream publish, the hub's subscription, fan-out, HTTP, SSE parse)
// with 1 and 200 connected streams. Each event is published only after every
// client got the previous one, so the figure is delivery latency, not queueing;
// with 200 clients the p99 is the slowest browser of the fan-out.
func BenchmarkPublishToSSE(b *testing.B) {
	for _, n := range []int{1, 200} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			e := newEnv(b, openBus(b), Options{ClientBuffer: 1024})
			f := e.filter("org", ">")
			got := make(chan time.Duration, n)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for range n {
				c := e.dial(b, "", f)
				go func() {
					for {
						select {
						case ev := <-c.events:
							sent, _ := strconv.ParseInt(ev.Data, 10, 64)
							got <- time.Duration(time.Now().UnixNano() - sent)
						case <-ctx.Done():
							return
						}
					}
				}()
			}
			subj, _ := e.bus.Subject("org", "alarm", "received")
			lats := make([]time.Duration, 0, 1024*n)
			b.ResetTimer()
			for b.Loop() {
				if _, err := e.bus.Publish(ctx, subj, strconv.AppendInt(nil, time.Now().UnixNano(), 10)); err != nil {
					b.Fatal(err)
				}
				for range n {
					select {
					case d := <-got:
						lats = append(lats, d)
					case <-time.After(10 * time.Second):
						b.Fatal("event not delivered to every client")
					}
				}
			}
			b.StopTimer()
			slices.Sort(lats)
			at := func(p float64) float64 { return float64(lats[int(p*float64(len(lats)-1))].Microseconds()) }
			b.ReportMetric(at(0.50), "p50-µs")
			b.ReportMetric(at(0.99), "p99-µs")
			if s := e.hub.Stats(); s.Dropped > 0 {
				b.Fatalf("%d clients dropped during the benchmark", s.Dropped)
			}
		})
	}
}

// BenchmarkFanOut isolates the hub's own cost per event (encode once, match
// and queue for every client) from HTTP and NATS. Half the clients belong to
// another org, so filtering is part of the figure. Queues are emptied outside
// the timed region, as the clients' own goroutines would.
func BenchmarkFanOut(b *testing.B) {
	const drainEvery = 1024
	for _, n := range []int{1, 200, 2000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			src := openBus(b)
			h := New(src, Options{ClientBuffer: drainEvery})
			root := src.Root()
			var clients []*client
			for i := range n {
				org := []string{"a", "b"}[i%2]
				c := &client{filters: []string{root + "." + org + ".>"}, queue: make(chan *event, drainEvery), gone: make(chan struct{})}
				if _, err := h.register(c, 0, false, false); err != nil {
					b.Fatal(err)
				}
				clients = append(clients, c)
			}
			data := []byte(`{"zone":"12","code":"BA","account":"1234"}`)
			subj := root + ".a.alarm.received"
			var seq uint64
			for b.Loop() {
				seq++
				h.dispatch(bus.Msg{Seq: seq, Subject: subj, Data: data, Time: time.Now()})
				if seq%drainEvery == 0 {
					b.StopTimer()
					for _, c := range clients {
						for len(c.queue) > 0 {
							<-c.queue
						}
					}
					b.StartTimer()
				}
			}
			if d := h.Stats().Dropped; d > 0 {
				b.Fatalf("%d clients dropped", d)
			}
		})
	}
}
