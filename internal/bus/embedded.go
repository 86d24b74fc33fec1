package bus

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// embeddedReadyTimeout bounds how long the in-process server may take to
// recover its JetStream store at start.
const embeddedReadyTimeout = 30 * time.Second

// startEmbedded runs nats-server in this process with JetStream stored under
// DataDir/nats. It opens no listener at all (client, cluster, HTTP monitor,
// leaf, websocket and MQTT ports are all off): the only way in is
// nats.InProcessServer, so a single-binary install exposes nothing extra.
func (b *Bus) startEmbedded() error {
	dir := filepath.Join(b.cfg.DataDir, "nats")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("bus: create nats store %s: %w", dir, err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	opts := &server.Options{
		ServerName: "vigil",
		DontListen: true,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true, // the application owns signal handling
		// MaxPayload stays at the 1 MiB default: events carry references to
		// blobs, never the blobs themselves.
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		unlock()
		return fmt.Errorf("bus: embedded nats server: %w", err)
	}
	ns.SetLoggerV2(&serverLog{log: b.log.With("component", "nats-server")}, false, false, false)
	ns.Start()
	if !ns.ReadyForConnections(embeddedReadyTimeout) {
		ns.Shutdown()
		unlock()
		return fmt.Errorf("bus: embedded nats server not ready after %s (store %s)", embeddedReadyTimeout, dir)
	}
	b.ns, b.unlock = ns, unlock
	return nil
}

func (b *Bus) stopEmbedded() {
	if b.ns != nil {
		b.ns.Shutdown()
		b.ns.WaitForShutdown()
	}
	if b.unlock != nil {
		b.unlock()
		b.unlock = nil
	}
}

// serverLog routes nats-server's printf-style logging into slog. Notices are
// Info because the server uses them for start-up and store recovery, which an
// operator wants to see.
type serverLog struct{ log *slog.Logger }

func (l *serverLog) logf(level slog.Level, format string, v []any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, v...))
	}
}

func (l *serverLog) Noticef(format string, v ...any) { l.logf(slog.LevelInfo, format, v) }
func (l *serverLog) Warnf(format string, v ...any)   { l.logf(slog.LevelWarn, format, v) }
func (l *serverLog) Errorf(format string, v ...any)  { l.logf(slog.LevelError, format, v) }
func (l *serverLog) Debugf(format string, v ...any)  { l.logf(slog.LevelDebug, format, v) }
func (l *serverLog) Tracef(format string, v ...any)  { l.logf(slog.LevelDebug-4, format, v) }

// Fatalf is logged, not fatal: a library must not exit the process, and the
// server reports the same failures through ReadyForConnections or errors.
func (l *serverLog) Fatalf(format string, v ...any) { l.logf(slog.LevelError, format, v) }
