package live

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"vigil/internal/bus"
)

// client is one open SSE stream.
type client struct {
	filters []string // sorted, without duplicates; a private copy
	remote  string
	queued  uint64        // last sequence queued, under the hub's lock
	queue   chan *event   // live events after the hub head at registration
	gone    chan struct{} // closed by the hub when the client is dropped
}

func (c *client) wants(subject string) bool {
	for _, f := range c.filters {
		if bus.Match(f, subject) {
			return true
		}
	}
	return false
}

// maxBatch bounds how many queued events are written before a flush, so one
// busy stream still lets the heartbeat and shutdown checks run.
const maxBatch = 64

// Serve streams the events matching filters to one browser until it
// disconnects, is too slow, or the hub stops. The filters are the caller's
// authorisation decision (for example []string{"vigil.<org>.alarm.>"}); every
// event is matched against them here, on replay as well as live, so a browser
// only ever sees subjects they cover.
//
// A Last-Event-ID header (or a last-event-id query parameter, for a page that
// restarts its stream after navigation) resumes after that sequence: from the
// ring when it is recent, otherwise from the stream.
//
// Serve returns an error only before the stream starts (invalid filters, hub
// not running); once headers are sent, every way a stream ends is normal and
// it returns nil.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, filters []string) error {
	ctx := r.Context()
	if len(filters) == 0 {
		return fmt.Errorf("live: no subject filters for this stream: %w", bus.ErrSubject)
	}
	for _, f := range filters {
		if err := bus.ValidFilter(h.root, f); err != nil {
			return err
		}
	}
	if !flushable(w) {
		return errors.New("live: the response writer cannot flush; a middleware wrapper must implement Flush or Unwrap")
	}
	if err := h.waitReady(ctx); err != nil {
		return err
	}
	after, resume := lastEventID(r)
	lost := false
	if after > 0 && after > h.Stats().Head {
		// The browser saw an event this process has not received yet (another
		// server is ahead) or one from a stream that no longer exists (reset).
		// Only the stream itself can tell the two apart.
		if last, err := h.src.LastSeq(ctx); err == nil && after > last {
			after, lost = 0, true
		}
	}

	c := &client{
		filters: slices.Compact(slices.Sorted(slices.Values(filters))),
		remote:  r.RemoteAddr,
		queue:   make(chan *event, h.opts.ClientBuffer),
		gone:    make(chan struct{}),
	}
	st, err := h.register(c, after, resume, lost)
	if err != nil {
		return err
	}
	defer h.unregister(c)

	rc := http.NewResponseController(w)
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no") // nginx would otherwise buffer the stream
	w.WriteHeader(http.StatusOK)

	s := &stream{w: w, rc: rc, timeout: h.opts.WriteTimeout}
	// A comment first, so the browser and any proxy see the stream open now.
	s.write([]byte("retry: " + strconv.FormatInt(h.opts.Retry.Milliseconds(), 10) + "\n: ok\n\n"))
	if s.flush() != nil {
		return nil
	}

	switch {
	case st.resync:
		s.write(encodeFrame(st.head, ResyncEvent, []byte(`{"reason":"gap"}`)))
		after = st.head
	case st.replayTo > 0:
		h.replays.Add(1)
		if err := h.replay(ctx, c, s, after, st.replayTo); err != nil {
			h.log.Debug("live: replay ended the stream", "remote", c.remote, "err", err)
			return nil
		}
		after = st.replayTo
	}
	for _, ev := range st.backlog {
		s.write(ev.frame)
	}
	if s.flush() == nil {
		h.pump(ctx, c, s, after)
	}
	return nil
}

// pump writes live events and heartbeats until the browser goes, is dropped
// for being slow, or the hub stops. Queued events at or below after were
// already sent (or seen on another server) and are skipped.
func (h *Hub) pump(ctx context.Context, c *client, s *stream, after uint64) {
	heartbeat := time.NewTicker(h.opts.Heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case ev := <-c.queue:
			writeBatch(s, c.queue, ev, after)
		case <-heartbeat.C:
			s.write([]byte(":\n\n"))
		case <-c.gone:
			return
		case <-h.done:
			return
		case <-ctx.Done():
			return
		}
		if s.flush() != nil {
			return
		}
	}
}

// writeBatch writes first and whatever else is already queued, up to
// maxBatch events, skipping those the browser has already seen.
func writeBatch(s *stream, queue <-chan *event, first *event, after uint64) {
	ev := first
	for n := 1; ; n++ {
		if ev.seq > after {
			s.write(ev.frame)
		}
		if n == maxBatch {
			return
		}
		select {
		case ev = <-queue:
		default:
			return
		}
	}
}

// waitReady holds an early request until Run has positioned the hub, for at
// most one write timeout.
func (h *Hub) waitReady(ctx context.Context) error {
	t := time.NewTimer(h.opts.WriteTimeout)
	defer t.Stop()
	select {
	case <-h.ready:
		return nil
	case <-h.done:
		return ErrClosed
	case <-t.C:
		return ErrNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
}

// start is how a new stream catches up before it follows the live queue.
type start struct {
	head     uint64   // hub head when the client was admitted
	backlog  []*event // ring events after the resume point, or
	replayTo uint64   // replay (after, replayTo] from the stream, or
	resync   bool     // continuity is lost: tell the page to reload
}

// register adds c to the fan-out and works out what it missed: ring events
// when the ring reaches back far enough, a stream replay when the gap is
// moderate, and a resync when it is larger than MaxReplay or unknowable
// (lost). All of it is decided under the lock that admits c, so the live
// queue continues exactly where the catch-up stops.
func (h *Hub) register(c *client, after uint64, resume, lost bool) (start, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return start{}, ErrClosed
	}
	st := start{head: h.head, resync: lost}
	switch {
	case lost || (after == 0 && !resume) || after >= h.head:
	case after >= h.coveredAfter:
		st.backlog = h.ring.after(after, func(ev *event) bool { return c.wants(ev.subject) })
	case h.head-after > uint64(h.opts.MaxReplay):
		st.resync = true
	default:
		st.replayTo = h.head
	}
	h.subs.add(c)
	return st, nil
}

func (h *Hub) unregister(c *client) {
	h.mu.Lock()
	h.subs.remove(c)
	h.mu.Unlock()
}

// replay writes the stored events in (after, upto] that match c. One filter
// is given to the server; several are replayed over the whole root and
// matched here, because servers before 2.10 accept only one filter and
// overlapping filters are refused.
func (h *Hub) replay(ctx context.Context, c *client, s *stream, after, upto uint64) error {
	filter := h.root + ".>"
	if len(c.filters) == 1 {
		filter = c.filters[0]
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // a drop or shutdown during a long replay ends it too
		select {
		case <-c.gone:
		case <-h.done:
		case <-ctx.Done():
		}
		cancel()
	}()
	n := 0
	err := h.src.Replay(ctx, filter, after, upto, func(m bus.Msg) error {
		if !c.wants(m.Subject) {
			return nil
		}
		if ev := newEvent(h.root, m); ev != nil {
			s.write(ev.frame)
			if n++; n%maxBatch == 0 {
				return s.flush()
			}
		}
		return s.err
	})
	if err != nil {
		return err
	}
	return s.flush()
}

// flushable reports whether w, or a writer it wraps, can flush. Without that
// every event would sit in a buffer and the browser would see a dead stream,
// so Serve refuses up front instead.
func flushable(w http.ResponseWriter) bool {
	for {
		switch t := w.(type) {
		case http.Flusher, interface{ FlushError() error }:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return false
		}
	}
}

// lastEventID reads the resume point and whether there was one; anything
// unparsable starts afresh. An explicit 0 is a page rendered before the
// stream held any event: it resumes from the stream's start.
func lastEventID(r *http.Request) (uint64, bool) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("last-event-id")
	}
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// stream writes to one response, bounding each write-and-flush by the write
// timeout; the first error sticks. The deadline is cleared once the flush is
// done: on HTTP/2 a pending deadline resets the stream when it fires even if
// nothing is being written, which would kill every idle live page.
type stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	armed   bool // a write deadline is set
	err     error
}

func (s *stream) write(p []byte) {
	if s.err != nil {
		return
	}
	if !s.armed {
		s.setDeadline(time.Now().Add(s.timeout))
		s.armed = true
	}
	if s.err == nil {
		_, s.err = s.w.Write(p)
	}
}

func (s *stream) flush() error {
	if s.err == nil {
		s.err = s.rc.Flush()
	}
	if s.err == nil && s.armed {
		s.setDeadline(time.Time{})
		s.armed = false
	}
	return s.err
}

// setDeadline tolerates writers without deadlines (tests, some wrappers):
// they simply go unbounded.
func (s *stream) setDeadline(t time.Time) {
	if err := s.rc.SetWriteDeadline(t); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.err = err
	}
}
