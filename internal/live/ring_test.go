package live

import (
	"strconv"
	"strings"
	"testing"
)

func TestRing(t *testing.T) {
	ids := func(evs []*event) string {
		var s []string
		for _, ev := range evs {
			s = append(s, strconv.FormatUint(ev.seq, 10))
		}
		return strings.Join(s, ",")
	}
	all := func(*event) bool { return true }
	ev := func(seq uint64, size int) *event { return &event{seq: seq, frame: make([]byte, size)} }

	r := newRing(3, 1000)
	for seq := uint64(10); seq <= 30; seq += 10 {
		if got := r.push(ev(seq, 10)); got != 0 {
			t.Fatalf("evicted %d before full", got)
		}
	}
	if got := r.push(ev(40, 10)); got != 10 {
		t.Fatalf("push on a full ring evicted %d, want 10", got)
	}
	for after, want := range map[uint64]string{0: "20,30,40", 20: "30,40", 25: "30,40", 40: "", 99: ""} {
		if got := ids(r.after(after, all)); got != want {
			t.Errorf("after(%d) = %q, want %q", after, got, want)
		}
	}
	if got := ids(r.after(0, func(ev *event) bool { return ev.seq != 30 })); got != "20,40" {
		t.Errorf("filtered after = %q", got)
	}

	// The byte bound evicts as many old events as it takes, but never the
	// newest one.
	r = newRing(10, 100)
	for seq := uint64(1); seq <= 4; seq++ {
		r.push(ev(seq, 25))
	}
	if got := r.push(ev(5, 60)); got != 3 {
		t.Fatalf("byte bound evicted up to %d, want 3", got)
	}
	if got := ids(r.after(0, all)); got != "4,5" || r.bytes != 85 {
		t.Fatalf("ring holds %q (%d bytes)", got, r.bytes)
	}
	if got := r.push(ev(6, 500)); got != 5 {
		t.Fatalf("oversized event evicted up to %d, want 5", got)
	}
	if got := ids(r.after(0, all)); got != "6" {
		t.Fatalf("ring holds %q, want only the oversized newest event", got)
	}
}
