package bus

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"
)

// benchPayload is the size of a typical alarm event as JSON.
var benchPayload = make([]byte, 256)

// benchServers runs fn on the embedded server and, when VIGIL_TEST_NATS is
// set, on the external one (over TCP, for comparison).
func benchServers(b *testing.B, fn func(b *testing.B, bus *Bus)) {
	b.Run("embedded", func(b *testing.B) { fn(b, openTest(b, Config{DataDir: b.TempDir()})) })
	b.Run("external", func(b *testing.B) { fn(b, openTest(b, Config{URL: externalURL(b)})) })
}

// BenchmarkPublish measures sequential publishes, each waiting for the
// JetStream ack: the cost a worker pays per event.
func BenchmarkPublish(b *testing.B) { benchServers(b, benchPublish) }

func benchPublish(b *testing.B, bus *Bus) {
	subj, _ := bus.Subject("org", "alarm", "received")
	ctx := context.Background()
	b.SetBytes(int64(len(benchPayload)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := bus.Publish(ctx, subj, benchPayload); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkPublishParallel measures throughput with many concurrent
// publishers (HTTP handlers and workers publishing at once).
func BenchmarkPublishParallel(b *testing.B) { benchServers(b, benchPublishParallel) }

func benchPublishParallel(b *testing.B, bus *Bus) {
	subj, _ := bus.Subject("org", "alarm", "received")
	ctx := context.Background()
	b.SetBytes(int64(len(benchPayload)))
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := bus.Publish(ctx, subj, benchPayload); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkPublishToDelivery measures the time from Publish to the
// subscriber's callback, one event at a time so queueing does not hide it.
func BenchmarkPublishToDelivery(b *testing.B) { benchServers(b, benchPublishToDelivery) }

func benchPublishToDelivery(b *testing.B, bus *Bus) {
	subj, _ := bus.Subject("org", "alarm", "received")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan time.Duration, 1)
	go bus.SubscribeAfter(ctx, bus.Root()+".>", 0, func(m Msg) error {
		sent, _ := strconv.ParseInt(string(m.Data), 10, 64)
		got <- time.Duration(time.Now().UnixNano() - sent)
		return nil
	})
	lats := make([]time.Duration, 0, 1024)
	b.ResetTimer()
	for b.Loop() {
		if _, err := bus.Publish(ctx, subj, strconv.AppendInt(nil, time.Now().UnixNano(), 10)); err != nil {
			b.Fatal(err)
		}
		select {
		case d := <-got:
			lats = append(lats, d)
		case <-time.After(10 * time.Second):
			b.Fatal("message not delivered")
		}
	}
	reportPercentiles(b, lats)
}

func reportPercentiles(b *testing.B, lats []time.Duration) {
	if len(lats) == 0 {
		return
	}
	slices.Sort(lats)
	at := func(p float64) float64 { return float64(lats[int(p*float64(len(lats)-1))].Microseconds()) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
