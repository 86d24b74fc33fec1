package receiver

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	"vigil/internal/alarm/dc09"
)

// benchServer runs a receiver accepting every account with sink.
func benchServer(b *testing.B, sink Sink) string {
	b.Helper()
	srv, err := New(Config{Sink: sink, Accounts: AccountsFunc(func(_ context.Context, _, _, a string) (Account, bool, error) {
		return Account{Number: a}, true, nil
	})})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return srv.Addr().String()
}

// benchRoundTrips runs frame→ACK round trips over parallel TCP panels
// (GOMAXPROCS×8 connections); ns/op is per acknowledged frame.
func benchRoundTrips(b *testing.B, addr string) {
	raw := plainFrame(b, dc09.TokenCID, "1234", "#1234|1130 01 015", 1)
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for pb.Next() {
			if _, err := c.Write(raw); err != nil {
				b.Error(err)
				return
			}
			if _, err := br.ReadSlice('\r'); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkTCPNoStore(b *testing.B) {
	benchRoundTrips(b, benchServer(b, SinkFunc(func(context.Context, []Signal) error { return nil })))
}

// BenchmarkTCPFsyncPerBatch commits each batch with one write+fsync, the
// cost structure of a durable store: throughput comes from batching.
func BenchmarkTCPFsyncPerBatch(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "signals"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var buf []byte
	sink := SinkFunc(func(_ context.Context, batch []Signal) error {
		buf = buf[:0]
		for _, s := range batch {
			buf = append(buf, s.Raw...)
		}
		if _, err := f.Write(buf); err != nil {
			return err
		}
		return f.Sync()
	})
	benchRoundTrips(b, benchServer(b, sink))
}
