package nrp

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vigil/internal/schedule/solver"
)

func load(t testing.TB, name string) *solver.Problem {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := Parse(f, strings.TrimSuffix(name, ".txt"))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

// TestReferenceRosters is the evaluator's acceptance test: the objectives
// and their parts are the benchmark README's reference-roster table.
func TestReferenceRosters(t *testing.T) {
	tests := []struct {
		file, instance             string
		objective, cover, requests int
	}{
		{"Instance1.optimal.tsv", "Instance1.txt", 607, 601, 6},
		{"Instance1.colgen.tsv", "Instance1.txt", 608, 601, 7},
		{"Instance2.colgen.tsv", "Instance2.txt", 845, 800, 45},
		{"Instance3.colgen.tsv", "Instance3.txt", 1005, 1000, 5},
		{"Instance4.colgen.tsv", "Instance4.txt", 1733, 1706, 27},
		{"Instance5.colgen.tsv", "Instance5.txt", 1264, 1200, 64},
		{"Instance6.colgen.tsv", "Instance6.txt", 2192, 2110, 82},
		{"Instance7.colgen.tsv", "Instance7.txt", 1183, 1102, 81},
		{"Instance8.colgen.tsv", "Instance8.txt", 2734, 2507, 227},
		{"Instance9.colgen.tsv", "Instance9.txt", 442, 400, 42},
		{"Instance10.colgen.tsv", "Instance10.txt", 4650, 4605, 45},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := load(t, tt.instance)
			raw, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			ro, err := ReadRoster(bytes.NewReader(raw), p)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := solver.Evaluate(p, ro)
			if err != nil {
				t.Fatal(err)
			}
			if !ev.Feasible() {
				t.Errorf("violations: %+v", ev.Violations)
			}
			if ev.Objective != tt.objective || ev.CoverPenalty != tt.cover || ev.RequestPenalty != tt.requests {
				t.Errorf("objective %d (cover %d, requests %d), want %d (%d, %d)",
					ev.Objective, ev.CoverPenalty, ev.RequestPenalty, tt.objective, tt.cover, tt.requests)
			}
			// Writing it back gives the same bytes (the files use LF).
			var out bytes.Buffer
			if err := WriteRoster(&out, p, ro); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), raw) {
				t.Errorf("WriteRoster does not round-trip %s", tt.file)
			}
		})
	}
}

func TestParseSizes(t *testing.T) {
	// Counts from the benchmark README's instance-size table.
	tests := []struct {
		file                               string
		days, staff, shifts, on, off, off2 int
	}{
		{"Instance1.txt", 14, 8, 1, 21, 5, 8},
		{"Instance4.txt", 28, 10, 2, 52, 19, 20},
		{"Instance10.txt", 28, 40, 5, 210, 74, 80},
	}
	for _, tt := range tests {
		p := load(t, tt.file)
		daysOff := 0
		for _, e := range p.Employees {
			daysOff += len(e.DaysOff)
		}
		if p.Days != tt.days || len(p.Employees) != tt.staff || len(p.Shifts) != tt.shifts ||
			len(p.OnRequests) != tt.on || len(p.OffRequests) != tt.off || daysOff != tt.off2 {
			t.Errorf("%s: got %d days %d staff %d shifts %d on %d off %d days-off", tt.file,
				p.Days, len(p.Employees), len(p.Shifts), len(p.OnRequests), len(p.OffRequests), daysOff)
		}
		if len(p.Weekends) != tt.days/7 {
			t.Errorf("%s: %d weekends", tt.file, len(p.Weekends))
		}
	}
}

func TestParseCRLF(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "Instance2.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lf, err := Parse(bytes.NewReader(raw), "lf")
	if err != nil {
		t.Fatal(err)
	}
	crlf, err := Parse(bytes.NewReader(bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))), "crlf")
	if err != nil {
		t.Fatal(err)
	}
	crlf.Name = "lf"
	if !equalProblems(lf, crlf) {
		t.Error("CRLF parse differs from LF parse")
	}
	ro, err := ReadRoster(strings.NewReader("D\t\tD\r\n"), &solver.Problem{
		Days: 3, Shifts: []solver.Shift{{ID: "D", Minutes: 1}}, Employees: make([]solver.Employee, 1)})
	if err != nil || ro[0][0] != 0 || ro[0][1] != solver.Off || ro[0][2] != 0 {
		t.Errorf("CRLF roster: %v %v", ro, err)
	}
}

func equalProblems(a, b *solver.Problem) bool {
	var x, y bytes.Buffer
	x.WriteString(strings.ReplaceAll(strings.TrimSpace(dump(a)), " ", ""))
	y.WriteString(strings.ReplaceAll(strings.TrimSpace(dump(b)), " ", ""))
	return x.String() == y.String()
}

func dump(p *solver.Problem) string {
	var b strings.Builder
	b.WriteString(p.Name)
	for _, x := range []any{p.Days, p.Shifts, p.Employees, p.Weekends, p.OnRequests, p.OffRequests, p.Cover} {
		b.WriteString(strings.TrimSpace(strings.ReplaceAll(sprint(x), "\n", "")))
	}
	return b.String()
}

const header = "SECTION_HORIZON\n14\n\nSECTION_SHIFTS\nD,480,\n\n"
const staff = "SECTION_STAFF\nA,D=14,4320,3360,5,2,2,1\n\n"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text string
		line       int
		fragment   string
	}{
		{"empty", "", 0, "missing SECTION_HORIZON"},
		{"unknown section", "SECTION_FOO\n", 1, "unknown section"},
		{"bad horizon", "SECTION_HORIZON\nfourteen\n", 2, "not an integer"},
		{"zero horizon", "SECTION_HORIZON\n0\n", 2, "outside"},
		{"two horizons", "SECTION_HORIZON\n14\n15\n", 3, "more than one"},
		{"shift fields", "SECTION_HORIZON\n14\n\nSECTION_SHIFTS\nD,480\n", 5, "fields"},
		{"shift length", "SECTION_HORIZON\n14\n\nSECTION_SHIFTS\nD,-4,\n", 5, "outside"},
		{"forbid unknown", "SECTION_HORIZON\n14\n\nSECTION_SHIFTS\nD,480,X\n\n", 5, "unknown shift \"X\""},
		{"dup shift", "SECTION_HORIZON\n14\n\nSECTION_SHIFTS\nD,480,\nD,480,\n", 6, "duplicate"},
		{"staff before shifts", "SECTION_HORIZON\n14\n\nSECTION_STAFF\nA,D=1,1,1,1,1,1,1\n", 4, "before any shift"},
		{"out of order", header + staff + "SECTION_SHIFTS\n", 10, "out of order"},
		{"staff limit syntax", header + "SECTION_STAFF\nA,D:14,4320,3360,5,2,2,1\n\n", 8, "ShiftID=limit"},
		{"staff limit shift", header + "SECTION_STAFF\nA,X=14,4320,3360,5,2,2,1\n\n", 8, "unknown shift"},
		{"staff number", header + "SECTION_STAFF\nA,D=14,43x0,3360,5,2,2,1\n\n", 8, "MaxTotalMinutes"},
		{"dup staff", header + "SECTION_STAFF\nA,D=14,4320,3360,5,2,2,1\nA,D=14,4320,3360,5,2,2,1\n", 9, "duplicate staff"},
		{"day off range", header + staff + "SECTION_DAYS_OFF\nA,14\n", 11, "outside 0..13"},
		{"day off staff", header + staff + "SECTION_DAYS_OFF\nB,1\n", 11, "unknown staff"},
		{"request fields", header + staff + "SECTION_SHIFT_ON_REQUESTS\nA,1,D\n", 11, "fields"},
		{"request shift", header + staff + "SECTION_SHIFT_OFF_REQUESTS\nA,1,N,1\n", 11, "unknown shift"},
		{"cover dup", header + staff + "SECTION_COVER\n0,D,1,100,1\n0,D,1,100,1\n", 12, "second cover"},
		{"cover weight", header + staff + "SECTION_COVER\n0,D,1,-100,1\n", 11, "under-cover weight"},
		{"no cover", header + staff, 0, "missing SECTION_COVER"},
		{"data outside", "14\n", 1, "outside a section"},
		{"crlf line numbers", "SECTION_HORIZON\r\n14\r\n\r\nSECTION_SHIFTS\r\nD,480\r\n", 5, "fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.text), "x")
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if pe.Line != tt.line || !strings.Contains(pe.Msg, tt.fragment) {
				t.Errorf("got line %d %q, want line %d containing %q", pe.Line, pe.Msg, tt.line, tt.fragment)
			}
		})
	}
}

func TestReadRosterErrors(t *testing.T) {
	p := load(t, "Instance1.txt")
	row := strings.Repeat("D\t", 13) + "D\n"
	tests := []struct {
		name, text string
		line       int
		fragment   string
	}{
		{"short row", "D\tD\n", 1, "2 cells, want 14"},
		{"unknown shift", strings.Repeat("D\t", 13) + "N\n", 1, "unknown shift"},
		{"too few rows", row, 0, "1 rows, want 8"},
		{"too many rows", strings.Repeat(row, 9), 9, "more than 8"},
		{"blank inside", row + "\n" + row, 3, "blank line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadRoster(strings.NewReader(tt.text), p)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if pe.Line != tt.line || !strings.Contains(pe.Msg, tt.fragment) {
				t.Errorf("got line %d %q, want line %d containing %q", pe.Line, pe.Msg, tt.line, tt.fragment)
			}
		})
	}
}

// FuzzParse: any input either parses into a valid problem or fails with a
// *Error, without panicking; the size caps bound what it can allocate.
func FuzzParse(f *testing.F) {
	for _, n := range []string{"Instance1.txt", "Instance3.txt"} {
		raw, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(header + staff + "SECTION_COVER\n0,D,1,100,1\n"))
	f.Add([]byte("SECTION_HORIZON\r\n7\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(bytes.NewReader(data), "fuzz")
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not *Error", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("Parse returned an invalid problem: %v", err)
		}
		ro := solver.NewRoster(p)
		if _, err := solver.Evaluate(p, ro); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzReadRoster(f *testing.F) {
	p := load(f, "Instance1.txt")
	raw, err := os.ReadFile(filepath.Join("testdata", "Instance1.optimal.tsv"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Fuzz(func(t *testing.T, data []byte) {
		ro, err := ReadRoster(bytes.NewReader(data), p)
		if err != nil {
			return
		}
		if _, err := solver.Evaluate(p, ro); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "Instance10.txt"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(raw), "x"); err != nil {
			b.Fatal(err)
		}
	}
}

func sprint(x any) string { return fmt.Sprintf("%+v", x) }
