package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Msg is one stored event as a subscriber sees it.
type Msg struct {
	Seq     uint64    // stream sequence: the resume point (SSE id)
	Subject string    // <root>.<org>.<module>.<event>
	Data    []byte    // owned by the receiver
	Time    time.Time // when the stream stored it
	// Delivery counts attempts: 1 on first delivery, more when Work retries.
	Delivery uint64
}

// Subscribe calls fn, in stream order, for each message matching filter. With
// fromSeq 0 it delivers only messages stored from about now on; with fromSeq N
// it is SubscribeAfter(N): everything after sequence N, then live.
func (b *Bus) Subscribe(ctx context.Context, filter string, fromSeq uint64, fn func(Msg) error) error {
	return b.follow(ctx, filter, fromSeq, fromSeq == 0, fn)
}

// SubscribeAfter calls fn, in stream order, for every message matching filter
// with a sequence above after that the stream still holds (after 0 = from the
// beginning), then follows new messages. Unlike Subscribe(0) it has no "now"
// race: a caller that read LastSeq and passes it misses nothing, even when the
// stream was empty. It blocks until ctx ends (returning ctx.Err()), fn returns
// an error (returned as is), or the bus closes (ErrClosed).
//
// Each call uses its own ephemeral ordered consumer, which the client library
// recreates after gaps or reconnects, so any number of processes can follow
// independently and nothing is left on the server when they stop.
func (b *Bus) SubscribeAfter(ctx context.Context, filter string, after uint64, fn func(Msg) error) error {
	return b.follow(ctx, filter, after, false, fn)
}

func (b *Bus) follow(ctx context.Context, filter string, after uint64, onlyNew bool, fn func(Msg) error) error {
	it, _, err := b.iterate(ctx, filter, after, onlyNew)
	if err != nil {
		return err
	}
	defer it.Stop()
	defer context.AfterFunc(ctx, it.Stop)()
	for {
		m, err := b.next(ctx, it)
		if err != nil {
			return err
		}
		if err := fn(m.Msg); err != nil {
			return err
		}
	}
}

// Replay calls fn for each stored message matching filter with after < seq <=
// upto, then returns nil. It does not wait for new messages, so a caller can
// catch up to a known point (the live hub's head) and switch to its own feed.
func (b *Bus) Replay(ctx context.Context, filter string, after, upto uint64, fn func(Msg) error) error {
	if upto <= after {
		return nil
	}
	it, pending, err := b.iterate(ctx, filter, after, false)
	if err != nil {
		return err
	}
	defer it.Stop()
	defer context.AfterFunc(ctx, it.Stop)()
	for pending > 0 {
		m, err := b.next(ctx, it)
		if err != nil {
			return err
		}
		if m.Seq > upto {
			return nil
		}
		if err := fn(m.Msg); err != nil {
			return err
		}
		if m.Seq == upto {
			return nil
		}
		pending = m.pending
	}
	return nil
}

// iterate opens an ordered consumer positioned after sequence after (or at the
// end of the stream when onlyNew) and reports how many matching messages it
// starts behind.
func (b *Bus) iterate(ctx context.Context, filter string, after uint64, onlyNew bool) (jetstream.MessagesContext, uint64, error) {
	if err := ValidFilter(b.cfg.Root, filter); err != nil {
		return nil, 0, err
	}
	if b.nc.IsClosed() {
		return nil, 0, ErrClosed
	}
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{filter},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    after + 1,
	}
	if onlyNew {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverNewPolicy, 0
	}
	cons, err := b.js.OrderedConsumer(ctx, b.cfg.Stream, cfg)
	if err != nil {
		return nil, 0, fmt.Errorf("bus: consumer on %s: %w", filter, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, 0, fmt.Errorf("bus: consume %s: %w", filter, err)
	}
	var pending uint64
	if info := cons.CachedInfo(); info != nil {
		pending = info.NumPending
	}
	return it, pending, nil
}

type msgPending struct {
	Msg
	pending uint64 // matching messages still behind this one
}

// next waits for the iterator's next message and decodes it.
func (b *Bus) next(ctx context.Context, it jetstream.MessagesContext) (msgPending, error) {
	m, err := b.receive(ctx, it)
	if err != nil {
		return msgPending{}, err
	}
	msg, md, err := decode(m)
	if err != nil {
		return msgPending{}, err
	}
	return msgPending{Msg: msg, pending: md.NumPending}, nil
}

// receive waits for the iterator's next message. The caller stops the
// iterator when ctx ends, which is how a blocked Next learns about it; the
// error says which of ctx, a closed bus or the server ended the wait.
func (b *Bus) receive(ctx context.Context, it jetstream.MessagesContext) (jetstream.Msg, error) {
	m, err := it.Next()
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case b.nc.IsClosed() || b.nc.IsDraining() || errors.Is(err, jetstream.ErrMsgIteratorClosed):
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("bus: receive: %w", err)
	}
	return m, nil
}

// decode turns a JetStream delivery into a Msg.
func decode(m jetstream.Msg) (Msg, *jetstream.MsgMetadata, error) {
	md, err := m.Metadata()
	if err != nil {
		return Msg{}, nil, fmt.Errorf("bus: message metadata: %w", err)
	}
	return Msg{Seq: md.Sequence.Stream, Subject: m.Subject(), Data: m.Data(), Time: md.Timestamp, Delivery: md.NumDelivered}, md, nil
}
