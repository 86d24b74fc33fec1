package custody

import (
	"fmt"
	"testing"
	"time"
)

func chain(n int) []Link {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	out := make([]Link, 0, n)
	var prev *Link
	for i := range n {
		l := Link{EvidenceID: "ev1", EvidenceSHA256: "abc", Action: "transfer", FromUserID: fmt.Sprintf("u%d", i), ToUserID: fmt.Sprintf("u%d", i+1),
			ToName: "someone", At: t0.Add(time.Duration(i) * time.Hour), Reason: "lab analysis", SignedByID: fmt.Sprintf("u%d", i), SignedBy: "x"}
		if i == 0 {
			l.Action, l.FromUserID = "intake", ""
		}
		l.Seal(prev)
		out = append(out, l)
		prev = &out[len(out)-1]
	}
	return out
}

func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutate  func(c []Link) []Link
		wantSeq int // 0 = intact
	}{
		{"intact", func(c []Link) []Link { return c }, 0},
		{"edited reason", func(c []Link) []Link { c[2].Reason = "lost"; return c }, 3},
		{"edited time", func(c []Link) []Link { c[1].At = c[1].At.Add(time.Second); return c }, 2},
		{"removed middle", func(c []Link) []Link { return append(c[:1], c[2:]...) }, 2},
		{"swapped", func(c []Link) []Link { c[1], c[2] = c[2], c[1]; return c }, 2},
		{"rehashed edit", func(c []Link) []Link { c[3].Reason = "x"; c[3].Hash = c[3].Compute(); return c }, 5},
		{"wrong holder", func(c []Link) []Link { c[2].FromUserID = "mallory"; return c }, 3},
		{"other evidence", func(c []Link) []Link { c[0].EvidenceSHA256 = "def"; return c }, 1},
		{"empty", func(c []Link) []Link { return nil }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := Verify(tc.mutate(chain(5)), "ev1", "abc")
			switch {
			case tc.name == "empty":
				if b == nil {
					t.Fatal("empty chain verified")
				}
			case tc.wantSeq == 0 && b != nil:
				t.Fatalf("intact chain broken: %v", b)
			case tc.wantSeq != 0 && (b == nil || b.Seq != tc.wantSeq):
				t.Fatalf("break = %v, want at link %d", b, tc.wantSeq)
			}
		})
	}
}

func BenchmarkVerify100(b *testing.B) {
	c := chain(100)
	for b.Loop() {
		if Verify(c, "ev1", "abc") != nil {
			b.Fatal("broken")
		}
	}
}
