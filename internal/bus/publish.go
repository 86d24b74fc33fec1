package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// PublishOption adjusts one Publish.
type PublishOption func(*[]jetstream.PublishOpt)

// MsgID sets Nats-Msg-Id so the stream drops a re-publish of the same event
// inside the duplicate window (a worker retrying after a lost ack, a panel
// retransmitting a signal). The returned sequence is then the original's.
func MsgID(id string) PublishOption {
	return func(o *[]jetstream.PublishOpt) { *o = append(*o, jetstream.WithMsgID(id)) }
}

// Publish stores data on subject in the stream and returns its stream
// sequence once JetStream has acknowledged it. The subject must be a concrete
// <root>.<org>.<module>.<event>; anything else would find no stream and fail
// slowly with "no responders", so it is refused up front.
func (b *Bus) Publish(ctx context.Context, subject string, data []byte, opts ...PublishOption) (uint64, error) {
	if _, _, _, err := ParseSubject(b.cfg.Root, subject); err != nil {
		return 0, err
	}
	jsOpts := []jetstream.PublishOpt{jetstream.WithExpectStream(b.cfg.Stream)}
	for _, o := range opts {
		o(&jsOpts)
	}
	ack, err := b.js.Publish(ctx, subject, data, jsOpts...)
	if err != nil {
		if errors.Is(err, nats.ErrConnectionClosed) {
			return 0, ErrClosed
		}
		return 0, fmt.Errorf("bus: publish %s: %w", subject, err)
	}
	return ack.Sequence, nil
}

// PublishJSON marshals v and publishes it; live pages receive the JSON as the
// SSE data field unchanged.
func (b *Bus) PublishJSON(ctx context.Context, subject string, v any, opts ...PublishOption) (uint64, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("bus: encode %s: %w", subject, err)
	}
	return b.Publish(ctx, subject, data, opts...)
}

// LastSeq is the stream's newest sequence (0 when empty). The live hub uses it
// to start its fan-out exactly where the stream stands and to tell a resume
// point that is merely ahead of this process from one that never existed.
func (b *Bus) LastSeq(ctx context.Context) (uint64, error) {
	s, err := b.js.Stream(ctx, b.cfg.Stream)
	if err != nil {
		return 0, fmt.Errorf("bus: stream %s: %w", b.cfg.Stream, err)
	}
	return s.CachedInfo().State.LastSeq, nil
}

// Check reports whether the bus can serve: the connection is up and the
// stream answers. It is meant for /readyz, so it costs one small request.
func (b *Bus) Check(ctx context.Context) error {
	if st := b.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("bus: nats connection is %s", st)
	}
	_, err := b.LastSeq(ctx)
	return err
}
