// Package bus is vigil's message bus: NATS with one JetStream stream over
// <root>.> (default vigil.>), either served by an nats-server embedded in the
// process (no TCP port; all state under the data directory) or by an external
// cluster that several vigil processes share.
//
// The bus carries events after their durable record is committed to SQL
// (DESIGN.md §5); the stream keeps them long enough for live pages to resume
// and for workers on other servers to follow, not as the system of record.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults applied by Open to zero Config fields.
const (
	DefaultStream         = "VIGIL"
	DefaultMaxAge         = 24 * time.Hour
	DefaultMaxBytes       = 1 << 30 // 1 GiB: a day of live events with a wide margin
	DefaultDuplicates     = 2 * time.Minute
	DefaultConnectTimeout = 5 * time.Second
	DefaultName           = "vigil"
)

// ErrClosed is returned by operations on a closed Bus.
var ErrClosed = errors.New("bus: closed")

// Config selects and tunes the bus. The zero value plus DataDir is a working
// embedded bus.
type Config struct {
	// URL of an external NATS cluster (comma-separated seed URLs; credentials
	// may be embedded). Empty starts the embedded server.
	URL string
	// CredsFile is a NATS .creds file for the external cluster (optional).
	CredsFile string
	// CAFile verifies the cluster's TLS certificate when it is not signed by
	// a system root; CertFile and KeyFile present a client certificate to
	// clusters that require mutual TLS. All optional.
	CAFile, CertFile, KeyFile string
	// DataDir holds the embedded server's JetStream store, under DataDir/nats.
	// Required when URL is empty.
	DataDir string
	// Logger receives connection events and embedded-server logs.
	Logger *slog.Logger

	// Stream is the JetStream stream name (default "VIGIL"), and Root the first
	// subject token (default "vigil"). Tests set both to unique values so runs
	// against a shared server never collide.
	Stream string
	Root   string

	// MaxAge and MaxBytes bound the stream (defaults 24h and 1 GiB; oldest
	// messages are discarded first). Duplicates is the Nats-Msg-Id
	// de-duplication window (default 2m).
	MaxAge     time.Duration
	MaxBytes   int64
	Duplicates time.Duration
	// Replicas of the stream on an external cluster (1, 3 or 5; default 1).
	// The embedded server is a single node and always uses 1.
	Replicas int

	// Name is the client connection name shown by NATS monitoring (default
	// "vigil"), and ConnectTimeout bounds the initial connection (default 5s).
	Name           string
	ConnectTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Root == "" {
		c.Root = DefaultRoot
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.Duplicates == 0 {
		c.Duplicates = DefaultDuplicates
	}
	if c.Replicas == 0 || c.URL == "" {
		c.Replicas = 1
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
}

func (c *Config) validate() error {
	if err := ValidToken(c.Root); err != nil {
		return fmt.Errorf("bus: root %q: %w", c.Root, err)
	}
	if c.Stream == "" || strings.ContainsAny(c.Stream, ".*> \t\r\n/\\") {
		return fmt.Errorf("bus: stream name %q must be one token without '.', '*', '>', slashes or spaces", c.Stream)
	}
	switch c.Replicas {
	case 1, 3, 5:
	default:
		return fmt.Errorf("bus: replicas must be 1, 3 or 5, not %d", c.Replicas)
	}
	if c.MaxAge < 0 || c.Duplicates < 0 || c.Duplicates > c.MaxAge {
		return fmt.Errorf("bus: need 0 <= duplicates (%s) <= max age (%s)", c.Duplicates, c.MaxAge)
	}
	if c.URL == "" && c.DataDir == "" {
		return errors.New("bus: the embedded NATS server needs a data directory")
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return errors.New("bus: a client certificate needs both a cert file and a key file")
	}
	return nil
}

// Bus is a connection to NATS with vigil's stream set up. It is safe for
// concurrent use.
type Bus struct {
	cfg    Config
	log    *slog.Logger
	nc     *nats.Conn
	js     jetstream.JetStream
	ns     *server.Server // nil when connected to an external cluster
	unlock func()         // releases the embedded store's lock file
	closed chan struct{}  // closed by the connection's ClosedHandler

	closeOnce sync.Once
	closeErr  error
}

// Open connects the bus: it starts the embedded server when cfg.URL is empty
// or dials the external cluster, then creates or updates the stream. Several
// processes may Open against one cluster at the same time.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	b := &Bus{cfg: cfg, log: cfg.Logger, closed: make(chan struct{})}
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.Timeout(cfg.ConnectTimeout),
		nats.ClosedHandler(func(*nats.Conn) { close(b.closed) }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			b.log.Warn("nats async error", "subject", subj, "err", err)
		}),
	}
	if cfg.URL == "" {
		if err := b.startEmbedded(); err != nil {
			return nil, err
		}
		opts = append(opts, nats.InProcessServer(b.ns), nats.NoReconnect())
	} else {
		opts = append(opts,
			nats.MaxReconnects(-1), // a cluster restart must never leave a vigil process deaf
			nats.ReconnectWait(time.Second),
			nats.ReconnectJitter(500*time.Millisecond, 2*time.Second),
			nats.PingInterval(20*time.Second),
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				b.log.Warn("nats disconnected", "err", err)
			}),
			nats.ReconnectHandler(func(nc *nats.Conn) {
				b.log.Info("nats reconnected", "server", redactURL(nc.ConnectedUrl()))
			}),
		)
		if cfg.CredsFile != "" {
			opts = append(opts, nats.UserCredentials(cfg.CredsFile))
		}
		if cfg.CAFile != "" {
			opts = append(opts, nats.RootCAs(cfg.CAFile))
		}
		if cfg.CertFile != "" || cfg.KeyFile != "" {
			opts = append(opts, nats.ClientCert(cfg.CertFile, cfg.KeyFile))
		}
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		b.stopEmbedded()
		switch {
		case cfg.URL == "":
			return nil, fmt.Errorf("bus: connect to embedded nats server: %w", err)
		case errors.Is(err, nats.ErrNoServers), errors.Is(err, nats.ErrTimeout):
			return nil, fmt.Errorf("bus: cannot reach NATS at %s (is the server running and the URL right?): %w", redactURL(cfg.URL), err)
		}
		return nil, fmt.Errorf("bus: connect to NATS at %s: %w", redactURL(cfg.URL), err)
	}
	b.nc = nc
	if b.js, err = jetstream.New(nc); err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	if err := b.ensureStream(ctx); err != nil {
		b.Close()
		return nil, err
	}
	where := "embedded"
	if cfg.URL != "" {
		where = redactURL(nc.ConnectedUrl())
	}
	b.log.Info("bus ready", "nats", where, "stream", cfg.Stream, "subjects", cfg.Root+".>")
	return b, nil
}

// streamConfig is the stream vigil wants; ensureStream converges the server
// to it.
func (b *Bus) streamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        b.cfg.Stream,
		Description: "vigil live events",
		Subjects:    []string{b.cfg.Root + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardOld,
		MaxAge:      b.cfg.MaxAge,
		MaxBytes:    b.cfg.MaxBytes,
		MaxMsgs:     -1,
		Duplicates:  b.cfg.Duplicates,
		Replicas:    b.cfg.Replicas,
		AllowDirect: true,
	}
}

// ensureStream creates the stream or updates it to the configured limits.
// Concurrent Opens race between "not found" and "create"; the loser sees
// "name already in use" and simply updates instead.
func (b *Bus) ensureStream(ctx context.Context) error {
	cfg := b.streamConfig()
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		_, err = b.js.CreateOrUpdateStream(ctx, cfg)
		if err == nil || !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("bus: create or update stream %s over %s.>: %w", cfg.Name, b.cfg.Root, err)
	}
	return nil
}

// Conn is the core NATS connection, for request/reply and fire-and-forget
// messages that need no persistence. Do not close it; Close the Bus.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// JetStream is the JetStream context, for the rare caller that needs a
// consumer kind the helpers here do not offer.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Root is the configured first subject token.
func (b *Bus) Root() string { return b.cfg.Root }

// StreamName is the configured JetStream stream.
func (b *Bus) StreamName() string { return b.cfg.Stream }

// Embedded reports whether the bus runs its own in-process server.
func (b *Bus) Embedded() bool { return b.ns != nil }

// Subject builds <root>.<org>.<module>.<event> with validated tokens.
func (b *Bus) Subject(org, module, event string) (string, error) {
	return subjectUnder(b.cfg.Root, org, module, event)
}

// Filter builds the subscription filter for one organisation's events:
// <root>.<org>.<module>.> for one module, or <root>.<org>.> for all of them
// when module is empty. The web layer builds a browser's filters with it
// from the memberships it has checked, so an org ID can never widen them.
func (b *Bus) Filter(org, module string) (string, error) {
	if err := ValidToken(org); err != nil {
		return "", fmt.Errorf("%w: org: %w", ErrSubject, err)
	}
	if module == "" {
		return b.cfg.Root + "." + org + ".>", nil
	}
	if err := ValidToken(module); err != nil {
		return "", fmt.Errorf("%w: module: %w", ErrSubject, err)
	}
	return b.cfg.Root + "." + org + "." + module + ".>", nil
}

// Close drains the connection (pending publishes and in-flight deliveries
// finish) and shuts the embedded server down. It is safe to call twice.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		if b.nc != nil {
			if err := b.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
				b.closeErr = fmt.Errorf("bus: drain: %w", err)
				b.nc.Close()
			}
			select {
			case <-b.closed:
			case <-time.After(b.cfg.ConnectTimeout + 5*time.Second):
				b.nc.Close()
			}
		}
		b.stopEmbedded()
	})
	return b.closeErr
}

// redactURL hides passwords and tokens in a (comma-separated) NATS URL so it
// can be logged and shown in errors.
func redactURL(raw string) string {
	parts := strings.Split(raw, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		u, err := url.Parse(p)
		if err != nil {
			if strings.Contains(p, "@") {
				parts[i] = "<unparseable url>"
			}
			continue
		}
		if u.User != nil {
			if _, hasPass := u.User.Password(); hasPass {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
			} else {
				u.User = url.User("xxxxx") // a bare user part is a token
			}
		}
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}
