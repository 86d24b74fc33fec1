package bus

import (
	"errors"
	"strings"
	"testing"
)

func TestSubject(t *testing.T) {
	for _, tc := range []struct {
		org, module, event string
		want               string // "" = error
	}{
		{"0192f3a4-7b1c-7def-8abc-0123456789ab", "alarm", "received", "vigil.0192f3a4-7b1c-7def-8abc-0123456789ab.alarm.received"},
		{"acme", "incident", "opened", "vigil.acme.incident.opened"},
		{"", "alarm", "received", ""},
		{"a.b", "alarm", "received", ""},
		{"acme", "al arm", "received", ""},
		{"acme", "alarm", "*", ""},
		{"acme", "alarm", ">", ""},
		{"acme", "alarm", "rec>", ""},
		{"acme", "alarm\t", "received", ""},
		{"acme", "alarm", "re\nceived", ""},
		{"acme", "alarm", "\u00a0", ""}, // non-breaking space
		{"acme", "alarm", string([]byte{0xff}), ""},
		{strings.Repeat("x", 129), "alarm", "received", ""},
		{strings.Repeat("x", 128), "alarm", "received", "vigil." + strings.Repeat("x", 128) + ".alarm.received"},
	} {
		got, err := Subject(tc.org, tc.module, tc.event)
		if tc.want == "" {
			if !errors.Is(err, ErrSubject) {
				t.Errorf("Subject(%q,%q,%q) = %q, %v; want ErrSubject", tc.org, tc.module, tc.event, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Subject(%q,%q,%q) = %q, %v; want %q", tc.org, tc.module, tc.event, got, err, tc.want)
		}
	}
}

func TestParseSubject(t *testing.T) {
	for _, tc := range []struct {
		subject, org, module, event string
		ok                          bool
	}{
		{"vigil.acme.alarm.received", "acme", "alarm", "received", true},
		{"vigil.acme.alarm.zone.opened", "acme", "alarm", "zone.opened", true},
		{"vigil.acme.alarm", "", "", "", false},
		{"vigil.acme.alarm.", "", "", "", false},
		{"vigil.acme.*.received", "", "", "", false},
		{"vigilx.acme.alarm.received", "", "", "", false},
		{"other.acme.alarm.received", "", "", "", false},
		{"vigil..alarm.received", "", "", "", false},
	} {
		org, module, event, err := ParseSubject("vigil", tc.subject)
		if (err == nil) != tc.ok || org != tc.org || module != tc.module || event != tc.event {
			t.Errorf("ParseSubject(%q) = %q %q %q %v", tc.subject, org, module, event, err)
		}
	}
}

func TestValidFilter(t *testing.T) {
	for filter, ok := range map[string]bool{
		"vigil.>":                 true,
		"vigil.acme.>":            true,
		"vigil.acme.alarm.>":      true,
		"vigil.*.alarm.received":  true,
		"vigil.acme.*.*":          true,
		"vigil":                   false,
		"vigil.":                  false,
		">":                       false,
		"vigil.>.alarm":           false,
		"vigil.acme..>":           false,
		"vigil.ac me.>":           false,
		"vigil.ac*.>":             false,
		"other.acme.>":            false,
		"vigil.acme.alarm.>extra": false,
	} {
		if err := ValidFilter("vigil", filter); (err == nil) != ok {
			t.Errorf("ValidFilter(%q) = %v, want ok=%v", filter, err, ok)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		filter, subject string
		want            bool
	}{
		{"vigil.>", "vigil.a.alarm.received", true},
		{"vigil.>", "vigil", false},
		{"vigil.a.>", "vigil.a.alarm.received", true},
		{"vigil.a.>", "vigil.b.alarm.received", false},
		{"vigil.a.>", "vigil.ab.alarm.received", false},
		{"vigil.a.>", "vigil.a", false},
		{"vigil.*.alarm.>", "vigil.a.alarm.received", true},
		{"vigil.*.alarm.>", "vigil.a.incident.opened", false},
		{"vigil.a.alarm.received", "vigil.a.alarm.received", true},
		{"vigil.a.alarm.received", "vigil.a.alarm.received.x", false},
		{"vigil.a.alarm.received.x", "vigil.a.alarm.received", false},
		{"vigil.a.*", "vigil.a.alarm", true},
		{"vigil.a.*", "vigil.a.alarm.x", false},
		{"vigil.a.*.received", "vigil.a..received", false},
		{"*", "x", true},
		{">", "x.y", true},
	} {
		if got := Match(tc.filter, tc.subject); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.filter, tc.subject, got, tc.want)
		}
	}
}

// FuzzSubject checks the invariants the tenancy boundary rests on: a subject
// Subject accepts parses back to the same parts, and it is matched by its
// org's filter and by no other org's.
func FuzzSubject(f *testing.F) {
	f.Add("acme", "alarm", "received")
	f.Add("a.b", "*", ">")
	f.Add("", " ", "\x00")
	f.Add("0192f3a4-7b1c-7def-8abc-0123456789ab", "incident", "opened")
	f.Fuzz(func(t *testing.T, org, module, event string) {
		subj, err := Subject(org, module, event)
		if err != nil {
			return
		}
		o, m, e, err := ParseSubject(DefaultRoot, subj)
		if err != nil || o != org || m != module || e != event {
			t.Fatalf("round trip of %q gave %q %q %q %v", subj, o, m, e, err)
		}
		if !Match("vigil."+org+".>", subj) || !Match("vigil.*."+module+".*", subj) {
			t.Fatalf("%q not matched by its own filters", subj)
		}
		if Match("vigil."+org+"x.>", subj) || Match("vigil.x"+org+".>", subj) {
			t.Fatalf("%q matched by another org's filter", subj)
		}
		if err := ValidFilter(DefaultRoot, "vigil."+org+".>"); err != nil {
			t.Fatalf("filter for valid org %q rejected: %v", org, err)
		}
	})
}

// FuzzParseFilterMatch feeds arbitrary subjects and filters to the parsers and
// the matcher: they must never panic, and a filter that is a literal subject
// matches exactly itself.
func FuzzParseFilterMatch(f *testing.F) {
	f.Add("vigil.a.>", "vigil.a.alarm.received")
	f.Add("vigil.*.*.*", "vigil...")
	f.Add(">", "")
	f.Add("vigil.a.b.c", "vigil.a.b.c")
	f.Fuzz(func(t *testing.T, filter, subject string) {
		_, _, _, perr := ParseSubject(DefaultRoot, subject)
		ferr := ValidFilter(DefaultRoot, filter)
		got := Match(filter, subject)
		if perr == nil && ferr == nil && !strings.ContainsAny(filter, "*>") && got != (filter == subject) {
			t.Fatalf("literal filter %q vs %q: Match = %v", filter, subject, got)
		}
		if perr == nil && !Match(DefaultRoot+".>", subject) {
			t.Fatalf("valid subject %q not matched by root filter", subject)
		}
	})
}

func TestFilter(t *testing.T) {
	b := &Bus{cfg: Config{Root: "vigil"}}
	for _, tc := range []struct{ org, module, want string }{
		{"acme", "", "vigil.acme.>"},
		{"acme", "alarm", "vigil.acme.alarm.>"},
		{"*", "", ""},
		{">", "", ""},
		{"a.b", "", ""},
		{"acme", "al.arm", ""},
		{"acme", "*", ""},
		{"", "alarm", ""},
	} {
		got, err := b.Filter(tc.org, tc.module)
		if tc.want == "" {
			if !errors.Is(err, ErrSubject) {
				t.Errorf("Filter(%q, %q) = %q, %v; want ErrSubject", tc.org, tc.module, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Filter(%q, %q) = %q, %v; want %q", tc.org, tc.module, got, err, tc.want)
		}
		if ValidFilter("vigil", got) != nil {
			t.Errorf("Filter(%q, %q) = %q is not a valid filter", tc.org, tc.module, got)
		}
	}
}
