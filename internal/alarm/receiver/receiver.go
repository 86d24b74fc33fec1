// Package receiver is the network side of vigil's alarm receiver: a SIA
// DC-09 server on TCP and UDP on one address. It validates frames against
// the app's accounts, hands accepted signals to a Sink in group commits, and
// acknowledges a frame only after the batch holding it was committed, so an
// ACKed alarm is durable (DESIGN.md §5). Storage, caching of accounts and
// publishing to the bus are the app's business, behind Accounts and Sink.
package receiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"vigil/internal/alarm/dc09"
)

// Account is what the receiver needs to know about a panel account.
type Account struct {
	// Number, Receiver and Line identify the account as the app stores it
	// (upper-case hex). The receiver does not match them itself: Lookup is
	// given the frame's R, L and #acct and decides.
	Number   string
	Receiver string
	Line     string
	// Key is the AES key (16, 24 or 32 bytes) already decoded with the
	// account's explicit key format (dc09.ParseKey); nil for none.
	Key []byte
	// Encrypted refuses plain frames for this account, so a panel set up for
	// encryption cannot be impersonated in clear text.
	Encrypted bool
	Quirks    dc09.Quirks
	// Ref is the app's own reference (e.g. the account row's ID), passed
	// through to the Sink untouched.
	Ref string
}

// Accounts resolves the account a frame names. ok=false means unknown;
// an error means the lookup itself failed (the frame is NAKed so the panel
// retries). The app serves it from its database, with its own cache.
type Accounts interface {
	Lookup(ctx context.Context, receiver, line, account string) (Account, bool, error)
}

// AccountsFunc adapts a function to Accounts.
type AccountsFunc func(ctx context.Context, receiver, line, account string) (Account, bool, error)

// Lookup calls f.
func (f AccountsFunc) Lookup(ctx context.Context, receiver, line, account string) (Account, bool, error) {
	return f(ctx, receiver, line, account)
}

// Signal is one accepted frame: parsed, CRC-checked, decrypted and inside
// the time window.
type Signal struct {
	Frame      *dc09.Frame
	Account    Account
	ReceivedAt time.Time // receiver clock, UTC
	Remote     string    // panel address "ip:port"
	Transport  string    // "tcp" or "udp"
	Raw        []byte    // the frame exactly as received (LF … CR)
	Note       any       // what Config.OnAccept returned for it, for the Sink
}

// DedupKey identifies a frame across retransmissions: a panel that missed
// the ACK resends the same frame, which is committed again. Use it as the
// unique key of the stored signal or as JetStream's Nats-Msg-Id. It is built
// from the envelope (receiver, line, account, token, sequence), the
// timestamp when present and the CRC of the body, so a wrapped sequence
// number with new content gets a new key; two identical plain frames without
// timestamp are only told apart by the window the caller dedups within.
// The timestamp comes first, so keys of timestamped frames arrive in
// roughly ascending order and a unique index on them grows at its end
// instead of touching a page per account on every commit.
func (s Signal) DedupKey() string {
	f := s.Frame
	ts := ""
	if f.HasTimestamp {
		ts = f.Timestamp.UTC().Format("20060102T150405Z")
	}
	return fmt.Sprintf("%s/%s/%s/%s/%s/%s/%04X", ts, f.Receiver, f.Line, f.Account, f.Token, f.Sequence, f.CRCBody)
}

// Sink makes signals durable. Commit is called from one goroutine with
// everything queued at that moment (group commit, no linger); the receiver
// ACKs the frames of a batch only after Commit returned nil, and NAKs them
// if it failed. Commit must not keep batch after returning (the slice is
// reused); the Signals' fields may be kept.
//
// Panels retransmit when an ACK is lost, so the same frame can be committed
// twice: de-duplicate in the sink (e.g. on account, sequence, timestamp and
// CRC) if that matters. NULL supervision polls are passed too.
type Sink interface {
	Commit(ctx context.Context, batch []Signal) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, batch []Signal) error

// Commit calls f.
func (f SinkFunc) Commit(ctx context.Context, batch []Signal) error { return f(ctx, batch) }

// Reason says why a frame was refused.
type Reason string

const (
	ReasonBadFrame       Reason = "bad_frame"       // framing, syntax, CRC, length
	ReasonUnknownAccount Reason = "unknown_account" // account not provisioned
	ReasonLookup         Reason = "lookup_error"    // Accounts.Lookup failed
	ReasonUnsupported    Reason = "unsupported"     // token the receiver does not process (DUH)
	ReasonKey            Reason = "key"             // encrypted frame, account has no key; or plain frame for an encrypted account
	ReasonDecrypt        Reason = "decrypt"         // wrong key or malformed ciphertext
	ReasonTimestamp      Reason = "timestamp"       // missing or outside the window
	ReasonCommit         Reason = "commit"          // Sink.Commit failed
)

// Rejection describes a refused frame, for the app's log and its "unknown
// account" signals.
type Rejection struct {
	Reason     Reason
	Err        error
	Frame      *dc09.Frame // nil if the frame could not be parsed
	Raw        []byte
	Remote     string
	Transport  string
	ReceivedAt time.Time
	Response   string // "NAK", "DUH" or "" (no reply)
}

// Config configures a Server. Accounts and Sink are required; every other
// zero value picks the default given.
type Config struct {
	Accounts Accounts
	Sink     Sink
	// OnUnknownAccount is called (synchronously, keep it short) for frames
	// from accounts Accounts does not know, so the app can record them.
	OnUnknownAccount func(ctx context.Context, r Rejection)
	// OnReject is called for every other refused frame.
	OnReject func(ctx context.Context, r Rejection)
	// OnAccept, if set, sees every accepted signal (synchronously, keep it
	// short) as soon as it was read, before it waits for its group commit:
	// the app can act on a fire alarm while an overloaded commit queue
	// holds the signals ahead of it. The signal is ACKed only after Sink
	// committed it, as every other. What it returns reaches the Sink as the
	// signal's Note, so work done here need not be done again.
	OnAccept func(ctx context.Context, sig Signal) any
	Logger   *slog.Logger     // default: discard
	Now      func() time.Time // default: time.Now
	Window   dc09.Window      // default: dc09.DefaultWindow (-40 s/+20 s)
	// CheckPlainTimestamp also applies the window to unencrypted frames
	// that carry a timestamp (and refuses those that do not).
	CheckPlainTimestamp bool
	// SilentOnBadFrame refuses CRC/format errors without a reply instead
	// of a NAK. Neither ever ACKs.
	SilentOnBadFrame bool
	// SilentOnCommitError leaves frames whose commit failed unanswered
	// instead of NAKing them; the panel retries either way.
	SilentOnCommitError bool
	IdleTimeout         time.Duration // TCP: max wait for the next frame; default 2 min
	ReadTimeout         time.Duration // TCP: max time to receive a frame once its LF arrived; default 10 s
	WriteTimeout        time.Duration // reply write; default 10 s
	MaxFrame            int           // default and maximum dc09.MaxFrame
	MaxConns            int           // concurrent TCP connections; default 10000
	MaxBatch            int           // signals per Commit; default 4096
	UDPWorkers          int           // concurrent UDP frames in flight; default 1024
	// Pad is the pad source for encrypted ACKs (default crypto/rand). It
	// must be safe for concurrent use.
	Pad     io.Reader
	Metrics *Metrics // default: a fresh one (see Server.Metrics)
}

// Server is a DC-09 receiver. Create it with New, bind with Listen, run with Serve.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *Metrics
	tcp     net.Listener
	udp     *net.UDPConn
	queue   chan *job
	conns   connSet
}

// New checks cfg and applies defaults.
func New(cfg Config) (*Server, error) {
	if cfg.Accounts == nil || cfg.Sink == nil {
		return nil, errors.New("receiver: Accounts and Sink are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Window == (dc09.Window{}) {
		cfg.Window = dc09.DefaultWindow
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.IdleTimeout, 2*time.Minute)
	def(&cfg.ReadTimeout, 10*time.Second)
	def(&cfg.WriteTimeout, 10*time.Second)
	if cfg.MaxFrame <= 0 || cfg.MaxFrame > dc09.MaxFrame {
		cfg.MaxFrame = dc09.MaxFrame
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 10000
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 4096
	}
	if cfg.UDPWorkers <= 0 {
		cfg.UDPWorkers = 1024
	}
	if cfg.Metrics == nil {
		cfg.Metrics = &Metrics{}
	}
	return &Server{cfg: cfg, log: cfg.Logger, metrics: cfg.Metrics, queue: make(chan *job, cfg.MaxBatch)}, nil
}

// Metrics returns the server's counters.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Listen binds TCP and UDP on the same address. With port 0 the system
// picks a TCP port and UDP is bound to the same number (retrying a few
// times if that UDP port is taken).
func (s *Server) Listen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("receiver: address %q: %w", addr, err)
	}
	for attempt := 0; ; attempt++ {
		tl, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("receiver: %w", err)
		}
		ua, err := net.ResolveUDPAddr("udp", tl.Addr().String())
		if err == nil {
			var uc *net.UDPConn
			if uc, err = net.ListenUDP("udp", ua); err == nil {
				s.tcp, s.udp = tl, uc
				return nil
			}
		}
		tl.Close()
		if port != "0" || attempt >= 10 {
			return fmt.Errorf("receiver: udp on %s: %w", net.JoinHostPort(host, port), err)
		}
	}
}

// Addr is the bound address (the same port serves TCP and UDP).
func (s *Server) Addr() net.Addr {
	if s.tcp == nil {
		return nil
	}
	return s.tcp.Addr()
}

// Serve runs until ctx is cancelled, then shuts down gracefully: it stops
// accepting, lets frames already being handled finish their commit and
// reply, and returns once everything has stopped. Call Listen first.
func (s *Server) Serve(ctx context.Context) error {
	if s.tcp == nil {
		return errors.New("receiver: Serve before Listen")
	}
	// Commits in progress must complete even though ctx is done: an
	// accepted frame is either committed and ACKed or NAKed, never lost
	// half-way.
	commitCtx := context.WithoutCancel(ctx)
	committed := make(chan struct{})
	go func() { s.commitLoop(commitCtx); close(committed) }()

	handlers := make(chan struct{})
	go func() {
		defer close(handlers)
		done := make(chan struct{}, 2)
		go func() { s.acceptLoop(ctx); done <- struct{}{} }()
		go func() { s.udpLoop(ctx); done <- struct{}{} }()
		<-done
		<-done
	}()

	<-ctx.Done()
	s.tcp.Close()
	s.udp.SetReadDeadline(time.Now())
	s.conns.closeAll()
	<-handlers
	s.udp.Close()
	close(s.queue)
	<-committed
	return nil
}

// ListenAndServe is Listen followed by Serve; ready (if not nil) receives
// the bound address once listening.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready chan<- net.Addr) error {
	if err := s.Listen(addr); err != nil {
		return err
	}
	if ready != nil {
		ready <- s.Addr()
	}
	return s.Serve(ctx)
}
