package live

import "sort"

// ring keeps the newest events in sequence order for resumes, bounded both
// by count and by the bytes of their encoded frames.
type ring struct {
	buf             []*event
	start, n        int // index of the oldest event; how many are held
	bytes, maxBytes int
}

func newRing(size, maxBytes int) ring { return ring{buf: make([]*event, size), maxBytes: maxBytes} }

// push appends ev and evicts the oldest events until both bounds hold (the
// newest event always stays). It returns the highest evicted sequence, 0 when
// nothing was evicted, so the hub knows how far back the ring still reaches.
func (r *ring) push(ev *event) (evicted uint64) {
	if r.n == len(r.buf) {
		evicted = r.popOldest()
	}
	r.buf[(r.start+r.n)%len(r.buf)] = ev
	r.n++
	r.bytes += len(ev.frame)
	for r.bytes > r.maxBytes && r.n > 1 {
		evicted = r.popOldest()
	}
	return evicted
}

func (r *ring) popOldest() uint64 {
	ev := r.buf[r.start]
	r.buf[r.start] = nil // let the frame be collected
	r.start = (r.start + 1) % len(r.buf)
	r.n--
	r.bytes -= len(ev.frame)
	return ev.seq
}

func (r *ring) at(i int) *event { return r.buf[(r.start+i)%len(r.buf)] }

// after returns the events with seq > after that keep returns true.
func (r *ring) after(after uint64, keep func(*event) bool) []*event {
	i := sort.Search(r.n, func(i int) bool { return r.at(i).seq > after })
	var out []*event
	for ; i < r.n; i++ {
		if ev := r.at(i); keep(ev) {
			out = append(out, ev)
		}
	}
	return out
}
