package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrPermanent marks a handler error that retrying cannot fix (a malformed
// event, a deleted record): Work stops redelivering the message. Wrap it:
// fmt.Errorf("incident %s gone: %w", id, bus.ErrPermanent).
var ErrPermanent = errors.New("bus: permanent failure")

// WorkConfig names a shared job over the stream.
type WorkConfig struct {
	// Name identifies the job across processes (a durable consumer): every
	// process calling Work with the same Name shares one queue, and progress
	// survives restarts. One token, e.g. "notify-email".
	Name string
	// Filter selects the subjects, e.g. "vigil.*.alarm.received".
	Filter string
	// AckWait is how long a handler may run before the message is handed to
	// another process (default 30s). MaxDeliver caps attempts (default 5).
	AckWait    time.Duration
	MaxDeliver int
	// Retry spaces out redeliveries after a handler error; the last delay
	// repeats (default 1s, 5s, 30s, 2m).
	Retry []time.Duration
}

// Work runs fn for each message matching cfg.Filter, sharing the messages
// among every process that runs the same job: each message is handled by one
// of them, at least once. A nil return acknowledges it; an error redelivers it
// later (1s, 5s, 30s, 2m…) up to MaxDeliver attempts; an error wrapping
// ErrPermanent drops it. Msg.Delivery tells a handler it is seeing a retry,
// and handlers must be idempotent because redelivery is normal.
//
// A job that did not exist starts with messages published from its first
// start on; afterwards, messages published while every process was down
// wait for the next start. A message in flight when a process stops comes
// back to another one after AckWait. Work blocks until ctx ends (returning ctx.Err())
// or the bus closes (ErrClosed).
func (b *Bus) Work(ctx context.Context, cfg WorkConfig, fn func(Msg) error) error {
	if err := ValidToken(cfg.Name); err != nil || strings.ContainsAny(cfg.Name, `/\`) {
		return fmt.Errorf("bus: job name %q must be one subject token without slashes", cfg.Name)
	}
	if err := ValidFilter(b.cfg.Root, cfg.Filter); err != nil {
		return err
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 30 * time.Second
	}
	if cfg.MaxDeliver <= 0 {
		cfg.MaxDeliver = 5
	}
	if len(cfg.Retry) == 0 {
		cfg.Retry = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute}
	}
	cons, err := b.js.CreateOrUpdateConsumer(ctx, b.cfg.Stream, jetstream.ConsumerConfig{
		Durable:       cfg.Name,
		Description:   "vigil job " + cfg.Name,
		FilterSubject: cfg.Filter,
		DeliverPolicy: jetstream.DeliverNewPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    cfg.MaxDeliver,
		MaxAckPending: 1000,
	})
	if err != nil {
		return fmt.Errorf("bus: job %s: %w", cfg.Name, err)
	}
	// A small prefetch keeps messages flowing to idle processes instead of
	// sitting in one process's buffer while their ack clock runs.
	it, err := cons.Messages(jetstream.PullMaxMessages(8))
	if err != nil {
		return fmt.Errorf("bus: job %s: %w", cfg.Name, err)
	}
	defer it.Stop()
	defer context.AfterFunc(ctx, it.Stop)()
	log := b.log.With("job", cfg.Name)
	for {
		m, err := b.receive(ctx, it)
		if err != nil {
			return err
		}
		msg, md, err := decode(m)
		if err != nil {
			m.Term() // not a stream message; nothing to retry
			continue
		}
		herr := fn(msg)
		switch {
		case herr == nil:
			err = m.Ack()
		case errors.Is(herr, ErrPermanent):
			log.Warn("bus: job dropped a message", "subject", msg.Subject, "seq", msg.Seq, "err", herr)
			err = m.Term()
		case md.NumDelivered >= uint64(cfg.MaxDeliver):
			log.Error("bus: job gave up on a message", "subject", msg.Subject, "seq", msg.Seq, "attempts", md.NumDelivered, "err", herr)
			err = m.Term()
		default:
			delay := cfg.Retry[min(int(md.NumDelivered), len(cfg.Retry))-1]
			log.Warn("bus: job will retry a message", "subject", msg.Subject, "seq", msg.Seq, "attempt", md.NumDelivered, "in", delay, "err", herr)
			err = m.NakWithDelay(delay)
		}
		if err != nil && ctx.Err() == nil {
			// The server redelivers after AckWait anyway; nothing is lost.
			log.Warn("bus: job could not settle a message", "seq", msg.Seq, "err", err)
		}
	}
}
