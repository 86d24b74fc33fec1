package contactid

import (
	"errors"
	"testing"
)

// Check digits worked out in the reference (§2.1).
func TestChecksumReference(t *testing.T) {
	for in, want := range map[string]byte{
		"123418113101015": '8',
		"123418340101003": '4',
		"123418160200000": '2',
		"567818113001015": 'D',
	} {
		got, err := Checksum(in)
		if err != nil || got != want {
			t.Errorf("Checksum(%s) = %c, %v; want %c", in, got, err, want)
		}
	}
}

func TestParseRaw(t *testing.T) {
	tests := []struct {
		in      string
		wantErr error
		want    Event
		class   Class
	}{
		{in: "1234 18 1 131 01 015 8", want: Event{Account: "1234", MessageType: "18", Qualifier: 1, Code: 131, Partition: 1, Number: 15}, class: ClassBurglary},
		{in: "1234181340101003" + "4", wantErr: ErrSyntax}, // 17 digits
		{in: "1234183401010034", want: Event{Account: "1234", MessageType: "18", Qualifier: 3, Code: 401, Partition: 1, Number: 3}, class: ClassOpenClose},
		{in: "5678181130010151", wantErr: ErrChecksum},
		{in: "567818113001015D", want: Event{Account: "5678", MessageType: "18", Qualifier: 1, Code: 130, Partition: 1, Number: 15}, class: ClassBurglary},
		{in: "BCDF18113001015" + "?", wantErr: ErrSyntax},
		{in: "1234 17 1 131 01 015 9", wantErr: ErrSyntax},
		{in: "", wantErr: ErrSyntax},
	}
	for _, tt := range tests {
		got, err := ParseRaw(tt.in)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("ParseRaw(%q) err = %v, want %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && (got != tt.want || got.Class() != tt.class) {
			t.Errorf("ParseRaw(%q) = %+v class %s, want %+v class %s", tt.in, got, got.Class(), tt.want, tt.class)
		}
	}
}

func TestRawRoundTrip(t *testing.T) {
	for code := range codes {
		for _, q := range []Qualifier{1, 3, 6} {
			e := Event{Account: "B0C1", MessageType: "18", Qualifier: q, Code: code, Partition: 2, Number: 999}
			raw, err := e.Raw()
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseRaw(raw)
			if err != nil || got != e {
				t.Fatalf("round trip %+v -> %s -> %+v, %v", e, raw, got, err)
			}
		}
	}
}

func TestParseDC09(t *testing.T) {
	tests := []struct {
		in      string
		want    Event
		meaning string
		class   Class
		sia     string
		wantErr bool
	}{
		{in: "#1234|1110 00 129", want: Event{Account: "1234", Qualifier: 1, Code: 110, Number: 129}, meaning: "Fire", class: ClassFire, sia: "FA"},
		{in: "#4F39|3401 01 057", want: Event{Account: "4F39", Qualifier: 3, Code: 401, Partition: 1, Number: 57}, meaning: "O/C by user (closing)", class: ClassOpenClose, sia: "CL"},
		{in: "#4F39|1412 00 000", want: Event{Account: "4F39", Qualifier: 1, Code: 412}, meaning: "Successful download/access", class: ClassRemote, sia: "RB"},
		{in: "1130 01 015", want: Event{Qualifier: 1, Code: 130, Partition: 1, Number: 15}, meaning: "Burglary", class: ClassBurglary, sia: "BA"},
		{in: "3130 01 015", want: Event{Qualifier: 3, Code: 130, Partition: 1, Number: 15}, meaning: "Burglary restore", class: ClassRestore, sia: "BH"},
		{in: "113001015", want: Event{Qualifier: 1, Code: 130, Partition: 1, Number: 15}, meaning: "Burglary", class: ClassBurglary, sia: "BA"},
		{in: "#000000|1737 00 000", want: Event{Account: "000000", Qualifier: 1, Code: 737}, meaning: "Unknown event 737", class: ClassOther},
		{in: "1602 00 000", want: Event{Qualifier: 1, Code: 602}, meaning: "Periodic test report", class: ClassTest, sia: "RP"},
		{in: "1137 01 004", want: Event{Qualifier: 1, Code: 137, Partition: 1, Number: 4}, meaning: "Tamper", class: ClassTamper, sia: "TA"},
		{in: "1358 00 000", want: Event{Qualifier: 1, Code: 358}, meaning: "Unknown event 358", class: ClassOther, sia: "YC"},
		{in: "2110 00 129", wantErr: true},
		{in: "1110 00 12", wantErr: true},
		{in: "#1234 1110 00 129", wantErr: true},
		{in: "1110 00 129 ", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseDC09(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseDC09(%q) err = %v", tt.in, err)
			continue
		}
		if err != nil {
			continue
		}
		if got != tt.want || got.Meaning() != tt.meaning || got.Class() != tt.class || got.SIACode() != tt.sia {
			t.Errorf("ParseDC09(%q) = %+v %q %s %q", tt.in, got, got.Meaning(), got.Class(), got.SIACode())
		}
		if back, _ := ParseDC09(got.DC09()); back != got {
			t.Errorf("DC09 round trip %q -> %q", tt.in, got.DC09())
		}
	}
}

func TestTable(t *testing.T) {
	if len(codes) != 258 {
		t.Errorf("table has %d codes, reference lists 258", len(codes))
	}
	for code, c := range codes {
		if c.Code != code || c.Description == "" || c.Class == "" || c.Number == "" {
			t.Errorf("incomplete row %d: %+v", code, c)
		}
	}
	if c, _ := Lookup(121); c.Number != NumberUser || c.Class != ClassPanic {
		t.Errorf("121 duress: %+v", c)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"#1234|1110 00 129", "1130 01 015", "1234 18 1 131 01 015 8", "#|", "BCDF181130010158"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if e, err := ParseDC09(s); err == nil {
			_ = e.Meaning()
			if back, err := ParseDC09(e.DC09()); err != nil || back != e {
				t.Fatalf("%q -> %q -> %+v %v", s, e.DC09(), back, err)
			}
		}
		if e, err := ParseRaw(s); err == nil {
			if raw, err := e.Raw(); err != nil || raw != upper(stripSpaces(s)) {
				t.Fatalf("%q -> %q %v", s, raw, err)
			}
		}
	})
}

func stripSpaces(s string) string {
	b := []byte{}
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

func BenchmarkParseDC09(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		e, err := ParseDC09("#1234|1110 01 129")
		if err != nil || e.Class() != ClassFire {
			b.Fatal(err)
		}
	}
}
