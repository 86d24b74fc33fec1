package sia

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// Real data blocks quoted in the reference (§1.5) and multi-event forms.
func TestParse(t *testing.T) {
	type ev struct{ code, num, area, user, text, extra string }
	tests := []struct {
		in      string
		account string
		events  []ev
		text    string
		areaNm  string
	}{
		{in: "#12345A|NFA129", account: "12345A", events: []ev{{code: "FA", num: "129"}}},
		{in: "Nri1/CL501", events: []ev{{code: "CL", num: "501", area: "1"}}},
		{in: "Nri1CL0^VX FRONTE ^", events: []ev{{code: "CL", num: "0", area: "1", text: "VX FRONTE "}}},
		{in: "Nri04/OP001NM", events: []ev{{code: "OP", num: "001", area: "04", extra: "NM"}}},
		{in: "NRR|Atest", events: []ev{{code: "RR"}}, text: "test"},
		{in: "Nri01^TOTAL^/LX901^centrale d'alarme JA-106K(R)^", events: []ev{{code: "LX", num: "901", area: "01", text: "centrale d'alarme JA-106K(R)"}}, areaNm: "TOTAL"},
		{in: "#AAA|Nri1/BA501/BR502", account: "AAA", events: []ev{{code: "BA", num: "501", area: "1"}, {code: "BR", num: "502", area: "1"}}},
		{in: "Nri1id12/OP1/ri2BA3", events: []ev{{code: "OP", num: "1", area: "1", user: "12"}, {code: "BA", num: "3", area: "2", user: "12"}}},
		{in: "Nti12:30/id7/CL7", events: []ev{{code: "CL", num: "7", user: "7"}}},
		{in: "NL501", events: []ev{{code: "NL", num: "501"}}},
		{in: "Nri1BA1BA2", events: []ev{{code: "BA", num: "1", area: "1"}, {code: "BA", num: "2", area: "1"}}},
	}
	for _, tt := range tests {
		m, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		var got []ev
		for _, e := range m.Events {
			got = append(got, ev{e.Code, e.Number, e.Area, e.User, e.Text, e.Extra})
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.events) || m.Account != tt.account || m.Text != tt.text {
			t.Errorf("Parse(%q) = %+v acct %q text %q", tt.in, got, m.Account, m.Text)
		}
		if tt.areaNm != "" && m.Events[0].AreaName != tt.areaNm {
			t.Errorf("Parse(%q) area name %q", tt.in, m.Events[0].AreaName)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"", "N", "#1234", "#1234|", "Nri1", "N^open", "Nr1BA1", "N$BA1"} {
		if _, err := Parse(in); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, want ErrSyntax", in, err)
		}
	}
}

func TestMeaningAndClass(t *testing.T) {
	tests := []struct {
		code, meaning string
		class         Class
	}{
		{"FA", "Fire Alarm", ClassFire},
		{"BA", "Burglary Alarm", ClassBurglary},
		{"BH", "Burglary Alarm Restore", ClassRestore},
		{"PA", "Panic Alarm", ClassPanic},
		{"MA", "Medical Alarm", ClassMedical},
		{"TA", "Tamper Alarm", ClassTamper},
		{"YT", "System Battery Trouble", ClassTrouble},
		{"OP", "Opening Report", ClassOpenClose},
		{"CL", "Closing Report", ClassOpenClose},
		{"RP", "Automatic Test", ClassTest},
		{"BB", "Burglary Bypass", ClassBypass},
		{"QQ", "Unknown code QQ", ClassOther},
	}
	for _, tt := range tests {
		e := Event{Code: tt.code}
		if e.Meaning() != tt.meaning || e.Class() != tt.class {
			t.Errorf("%s: %q %s, want %q %s", tt.code, e.Meaning(), e.Class(), tt.meaning, tt.class)
		}
	}
	if len(codes) != 325 {
		t.Errorf("table has %d codes, reference lists 325", len(codes))
	}
}

func TestPairs(t *testing.T) {
	tests := []struct {
		cond string
		rs   []string
	}{
		{"BA", []string{"BH", "BR"}},
		{"FA", []string{"FH", "FR"}},
		{"FT", []string{"FJ", "FR"}},
		{"AT", []string{"AR"}},
		{"YT", []string{"YR"}},
		{"TA", []string{"TH", "TR"}},
		{"BB", []string{"BU"}},
		{"OP", nil},
	}
	for _, tt := range tests {
		if got := RestoredBy(tt.cond); !slices.Equal(got, tt.rs) {
			t.Errorf("RestoredBy(%s) = %v, want %v", tt.cond, got, tt.rs)
		}
	}
	if got := Restores("YK"); !slices.Equal(got, []string{"YC", "YS"}) {
		t.Errorf("Restores(YK) = %v", got)
	}
	for r, conds := range restores {
		if Lookup(r); len(conds) == 0 {
			t.Errorf("empty restore row %s", r)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"#12345A|NFA129", "Nri1/CL501", "Nri1CL0^VX FRONTE ^", "NRR|Atest",
		"Nri01^TOTAL^/LX901^centrale d'alarme JA-106K(R)^", "#AAA|Nri1/BA501/BR502", "Nti12:30/id7/CL7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Parse(s)
		if err != nil {
			return
		}
		if len(m.Events) == 0 || len(m.Events) > len(s) {
			t.Fatalf("%q: %d events", s, len(m.Events))
		}
		for _, e := range m.Events {
			_ = e.Meaning()
			if len(e.Code) != 2 {
				t.Fatalf("%q: code %q", s, e.Code)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("#1234|Nri1/id5/BA501^Front door^"); err != nil {
			b.Fatal(err)
		}
	}
}
