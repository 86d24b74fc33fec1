// Package live streams bus events to browsers as Server-Sent Events.
//
// Each process runs one Hub: a single JetStream subscription over <root>.>
// fans events out to every connected browser of that process, and a ring of
// recent events serves reconnects (Last-Event-ID). A browser that reconnects
// after a longer gap, or to another server behind the load balancer, is
// replayed from the stream itself, so nothing lives only in one process's
// memory; when even that cannot continue the stream without a gap, the page
// is told to reload (ResyncEvent). One consumer per process rather than per
// browser keeps the NATS load flat however many consoles are open.
package live

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"vigil/internal/bus"
)

// Source is the part of the bus the hub needs; *bus.Bus implements it.
type Source interface {
	Root() string
	LastSeq(ctx context.Context) (uint64, error)
	SubscribeAfter(ctx context.Context, filter string, after uint64, fn func(bus.Msg) error) error
	Replay(ctx context.Context, filter string, after, upto uint64, fn func(bus.Msg) error) error
}

// Options tunes a Hub; zero fields take the defaults below.
type Options struct {
	Logger *slog.Logger
	// RingSize is how many recent events are kept for resume (default 4096),
	// and RingBytes caps their encoded size (default 64 MiB), since a
	// payload may be up to 1 MiB.
	RingSize  int
	RingBytes int
	// ClientBuffer is how many events may wait for one browser before it is
	// judged too slow and disconnected (default 4096). It reconnects with
	// Last-Event-ID and is replayed, so a drop loses nothing, but the
	// reconnect delays what follows: the buffer must hold a burst, such as
	// the hundreds of new trouble alarms one apply announces in a storm
	// (256 dropped the benchmark's console 2–4 times in 20 s).
	ClientBuffer int
	// Heartbeat is the interval of SSE comment lines that keep proxies from
	// timing out an idle stream and reveal dead connections (default 15s).
	Heartbeat time.Duration
	// WriteTimeout bounds each write to a browser (default 10s).
	WriteTimeout time.Duration
	// Retry is the reconnect delay suggested to browsers (default 3s).
	Retry time.Duration
	// MaxReplay caps how many stream messages a resume may replay (default
	// 10000); past that the browser gets a ResyncEvent instead, because
	// reloading the page's data is quicker than streaming a day of events.
	MaxReplay int
	// StreamCheck is how often the hub checks that the stream was not reset
	// under it (default 30s).
	StreamCheck time.Duration
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.RingSize <= 0 {
		o.RingSize = 4096
	}
	if o.RingBytes <= 0 {
		o.RingBytes = 64 << 20
	}
	if o.ClientBuffer <= 0 {
		o.ClientBuffer = 4096
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.Retry <= 0 {
		o.Retry = 3 * time.Second
	}
	if o.MaxReplay <= 0 {
		o.MaxReplay = 10000
	}
	if o.StreamCheck <= 0 {
		o.StreamCheck = 30 * time.Second
	}
}

// ResyncEvent is the SSE event name sent when a browser's stream cannot be
// continued without a gap: its Last-Event-ID is older than MaxReplay
// messages, or from a stream that was reset. Its id is the current position,
// so the browser resumes from there; the page should reload its data (for
// example refetch the alarm queue) when it sees this event. Module events are
// always named module.event, so the name cannot collide.
const ResyncEvent = "resync"

// Errors returned by Serve before a stream starts.
var (
	ErrNotRunning = errors.New("live: hub is not running")
	ErrClosed     = errors.New("live: hub stopped")
)

// Hub fans bus events out to SSE clients. Create it with New, run it with Run,
// and hand requests to Serve.
type Hub struct {
	src   Source
	root  string
	opts  Options
	log   *slog.Logger
	ready chan struct{} // closed once Run knows where the stream stands
	done  chan struct{} // closed when Run returns: every stream ends

	mu           sync.Mutex
	ring         ring
	coveredAfter uint64 // the ring holds every deliverable event after this sequence
	head         uint64 // newest sequence the hub has seen
	subs         subscribers
	stopped      bool

	started                  atomic.Bool
	events, dropped, replays atomic.Uint64
}

// Stats are counters for metrics and tests.
type Stats struct {
	Clients int    // connected streams
	Head    uint64 // newest stream sequence fanned out
	Events  uint64 // events received from the bus
	Dropped uint64 // clients disconnected for being too slow
	Replays uint64 // resumes served from the stream rather than the ring
}

// New makes a hub over src. Nothing happens until Run.
func New(src Source, opts Options) *Hub {
	opts.setDefaults()
	return &Hub{
		src:   src,
		root:  src.Root(),
		opts:  opts,
		log:   opts.Logger,
		ready: make(chan struct{}),
		done:  make(chan struct{}),
		ring:  newRing(opts.RingSize, opts.RingBytes),
		subs:  subscribers{byFilter: make(map[string]map[*client]struct{})},
	}
}

// Run follows the bus until ctx ends, then ends every open stream and
// returns nil. It starts exactly at the stream's current end (no "now" race),
// and after a broken subscription it resumes from the last event it saw, so
// the fan-out never skips or repeats. It returns bus.ErrClosed if the bus is
// closed under it. Cancel ctx before http.Server.Shutdown (for instance with
// RegisterOnShutdown), since open streams never go idle by themselves.
func (h *Hub) Run(ctx context.Context) error {
	if !h.started.CompareAndSwap(false, true) {
		return errors.New("live: Run called twice")
	}
	defer h.stop()
	backoff := time.Second
	for {
		last, err := h.src.LastSeq(ctx)
		if err == nil {
			h.mu.Lock()
			h.head, h.coveredAfter = last, last
			h.mu.Unlock()
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		h.log.Warn("live: cannot read the stream position; retrying", "err", err, "in", backoff)
		if !sleep(ctx, backoff) {
			return nil
		}
		backoff = min(2*backoff, 30*time.Second)
	}
	close(h.ready)
	backoff = time.Second
	for {
		h.mu.Lock()
		from := h.head
		h.mu.Unlock()
		subCtx, cancel := context.WithCancel(ctx)
		reset := make(chan uint64, 1)
		go h.watchReset(subCtx, cancel, reset)
		err := h.src.SubscribeAfter(subCtx, h.root+".>", from, h.dispatch)
		cancel()
		select {
		case last := <-reset:
			h.restart(last)
			continue
		default:
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, bus.ErrClosed):
			return err
		}
		if h.Stats().Head > from {
			backoff = time.Second // it worked for a while: not a persistent fault
		}
		h.log.Warn("live: bus subscription broke; resuming", "err", err, "after", from, "in", backoff)
		if !sleep(ctx, backoff) {
			return nil
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// watchReset notices a stream that was deleted and recreated (or restored
// from an older backup): its last sequence falls below what the hub has
// already seen, and a subscription waiting for head+1 would sit silent for
// as long as it took the new stream to get there. The hub cannot be ahead of
// the stream otherwise, since head is read before the stream's position.
func (h *Hub) watchReset(ctx context.Context, stopSub context.CancelFunc, reset chan<- uint64) {
	t := time.NewTicker(h.opts.StreamCheck)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		h.mu.Lock()
		head := h.head
		h.mu.Unlock()
		if last, err := h.src.LastSeq(ctx); err == nil && last < head {
			reset <- last
			stopSub()
			return
		}
	}
}

// restart repositions the hub at the end of a reset stream. Sequence numbers
// start over, so every open stream is ended: browsers reconnect, their old
// Last-Event-ID is beyond the new stream, and they start afresh.
func (h *Hub) restart(last uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log.Warn("live: the stream was reset; reconnecting every browser", "seen", h.head, "stream_last", last)
	h.ring = newRing(h.opts.RingSize, h.opts.RingBytes)
	h.head, h.coveredAfter = last, last
	for _, set := range h.subs.byFilter {
		for c := range set {
			h.subs.remove(c)
			close(c.gone)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (h *Hub) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.stopped {
		h.stopped = true
		close(h.done)
	}
}

// dispatch records one bus message and hands it to every interested client.
// It never blocks on a client: a full queue means the client is dropped.
func (h *Hub) dispatch(m bus.Msg) error {
	ev := newEvent(h.root, m)
	h.events.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if m.Seq <= h.head {
		return nil // the consumer re-delivered after a reset; already fanned out
	}
	h.head = m.Seq
	if ev == nil {
		return nil // not a vigil event subject: nothing a browser can be sent
	}
	if evicted := h.ring.push(ev); evicted > 0 {
		h.coveredAfter = evicted
	}
	for f, set := range h.subs.byFilter {
		if !bus.Match(f, ev.subject) {
			continue
		}
		for c := range set {
			if c.queued == ev.seq {
				continue // already queued through another of its filters
			}
			c.queued = ev.seq
			select {
			case c.queue <- ev:
			default:
				h.dropLocked(c)
			}
		}
	}
	return nil
}

// dropLocked disconnects a client that cannot keep up. h.mu must be held.
func (h *Hub) dropLocked(c *client) {
	if h.subs.remove(c) {
		close(c.gone)
		h.dropped.Add(1)
		h.log.Info("live: disconnected a slow client", "remote", c.remote, "buffer", cap(c.queue))
	}
}

// subscribers indexes clients by filter, so each event is matched once per
// distinct filter (a few per organisation) instead of once per browser. A
// client sits in the set of each of its (deduplicated) filters.
type subscribers struct {
	byFilter map[string]map[*client]struct{}
	n        int
}

func (s *subscribers) add(c *client) {
	for _, f := range c.filters {
		set := s.byFilter[f]
		if set == nil {
			set = make(map[*client]struct{})
			s.byFilter[f] = set
		}
		set[c] = struct{}{}
	}
	s.n++
}

// remove takes c out and reports whether it was there, so a client dropped
// by the hub and then unregistered by its handler is only counted once.
func (s *subscribers) remove(c *client) bool {
	if _, ok := s.byFilter[c.filters[0]][c]; !ok {
		return false
	}
	for _, f := range c.filters {
		set := s.byFilter[f]
		delete(set, c)
		if len(set) == 0 {
			delete(s.byFilter, f)
		}
	}
	s.n--
	return true
}

// Stats returns current counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	n, head := h.subs.n, h.head
	h.mu.Unlock()
	return Stats{Clients: n, Head: head, Events: h.events.Load(), Dropped: h.dropped.Load(), Replays: h.replays.Load()}
}
