package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// servers runs fn against the embedded server always and against the external
// NATS named by VIGIL_TEST_NATS when set. In CI a missing external server is a
// failure, because the scale-out path would otherwise go untested unnoticed.
func servers(t *testing.T, fn func(t *testing.T, open func(t *testing.T, cfg Config) *Bus)) {
	t.Run("embedded", func(t *testing.T) {
		fn(t, func(t *testing.T, cfg Config) *Bus {
			if cfg.DataDir == "" {
				cfg.DataDir = t.TempDir()
			}
			return openTest(t, cfg)
		})
	})
	t.Run("external", func(t *testing.T) {
		url := externalURL(t)
		fn(t, func(t *testing.T, cfg Config) *Bus {
			cfg.URL = url
			return openTest(t, cfg)
		})
	})
}

// externalURL returns VIGIL_TEST_NATS, failing in CI and skipping (loudly)
// elsewhere when it is unset.
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

// uniqueNames gives a test its own stream and subject root so parallel and
// repeated runs against one shared server never see each other's messages.
func uniqueNames() (stream, root string) {
	var b [6]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return "T_" + strings.ToUpper(h), "t" + h
}

// openTest opens a bus with unique names (unless the test chose its own) and
// removes the stream from external servers afterwards.
func openTest(t testing.TB, cfg Config) *Bus {
	t.Helper()
	if cfg.Stream == "" {
		cfg.Stream, cfg.Root = uniqueNames()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		b.Close()
		if cfg.URL != "" {
			deleteStream(t, cfg.URL, cfg.Stream)
		}
	})
	return b
}

// deleteStream removes a test stream from a shared server over a connection of
// its own, since the test may already have closed its bus.
func deleteStream(t testing.TB, url, stream string) {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Errorf("cleanup connect: %v", err)
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Errorf("cleanup jetstream: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := js.DeleteStream(ctx, stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("cleanup delete stream %s: %v", stream, err)
	}
}
