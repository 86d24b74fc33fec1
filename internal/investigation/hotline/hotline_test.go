package hotline

import (
	"strings"
	"testing"
	"time"
)

func TestKeyRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		k := NewKey()
		if len(k) != KeyLen+3 || strings.Count(k, "-") != 3 {
			t.Fatalf("key %q not grouped as XXXX-XXXX-XXXX-XXXX", k)
		}
		c, err := ParseKey(k)
		if err != nil {
			t.Fatalf("ParseKey(%q): %v", k, err)
		}
		if seen[c] {
			t.Fatalf("duplicate key %s", c)
		}
		seen[c] = true
		p := NewPassword()
		if _, err := ParsePassword(p); err != nil {
			t.Fatalf("ParsePassword(%q): %v", p, err)
		}
	}
}

func TestParseKey(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"ABCD-EFGH-JKMN-PQRS", "ABCDEFGHJKMNPQRS", true},
		{"abcd efgh jkmn pqrs", "ABCDEFGHJKMNPQRS", true},
		{"0O1I-L234-5678-9XYZ", "0011123456789XYZ", true}, // look-alikes read as digits
		{"ABCD-EFGH-JKMN-PQR", "", false},                 // too short
		{"ABCD-EFGH-JKMN-PQRST", "", false},               // too long
		{"ABCD-EFGH-JKMN-PQRU", "", false},                // U is not in the alphabet
		{"ABCD-EFGH-JKMN-PQR!", "", false},
		{"", "", false},
		{strings.Repeat("-", 1000), "", false},
		{"ÄBCD-EFGH-JKMN-PQRS", "", false},
	} {
		got, err := ParseKey(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseKey(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestBucket(t *testing.T) {
	s1, s2 := []byte(NewSecret()), []byte(NewSecret())
	a := Bucket(s1, "report", "192.0.2.1")
	if a != Bucket(s1, "report", "192.0.2.1") {
		t.Fatal("bucket not deterministic within a window")
	}
	for _, other := range []string{Bucket(s1, "report", "192.0.2.2"), Bucket(s1, "access", "192.0.2.1"), Bucket(s2, "report", "192.0.2.1")} {
		if other == a {
			t.Fatal("different source, kind or secret gave the same bucket")
		}
	}
	// A keyed hash and nothing else: 64 hex digits, no part of the address.
	// (Checking for a substring such as "192" failed ~1.5 % of runs, when
	// the random hex happened to contain it.)
	if len(a) != 64 || strings.Trim(a, "0123456789abcdef") != "" || strings.Contains(a, "192.0.2.1") {
		t.Fatalf("bucket %q is not a bare HMAC", a)
	}
	w := Window(time.Date(2026, 11, 23, 10, 59, 59, 0, time.FixedZone("x", 3600)))
	if !w.Equal(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("window %v", w)
	}
}

// FuzzParseKey: any input is either refused or yields a canonical key that
// parses to itself; nothing panics and long inputs are refused early.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"ABCD-EFGH-JKMN-PQRS", "0O1I-L234-5678-9XYZ", "", "----", "abcd efgh jkmn pqrs", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseKey(s)
		if err != nil {
			return
		}
		if len(c) != KeyLen {
			t.Fatalf("canonical %q has length %d", c, len(c))
		}
		again, err := ParseKey(c)
		if err != nil || again != c {
			t.Fatalf("canonical %q does not round-trip: %q %v", c, again, err)
		}
	})
}

func BenchmarkParseKey(b *testing.B) {
	k := NewKey()
	for b.Loop() {
		ParseKey(k)
	}
}

func BenchmarkBucket(b *testing.B) {
	s := []byte(NewSecret())
	for b.Loop() {
		Bucket(s, "report", "2001:db8::1")
	}
}
