package schedcli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testdata = "../nrp/testdata"

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestSolveJSONAndCheckRoundTrip(t *testing.T) {
	dir := t.TempDir()
	roster := filepath.Join(dir, "r.tsv")
	code, out, errs := run("solve", filepath.Join(testdata, "Instance1.txt"), "--iterations", "20", "--time-limit", "0",
		"--seed", "3", "--threads", "2", "--out", roster, "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"instance", "objective", "feasible", "hard_violations", "cover_penalty", "request_penalty", "elapsed_s"} {
		if _, ok := r[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if r["instance"] != "Instance1" || r["feasible"] != true || r["hard_violations"].(float64) != 0 {
		t.Errorf("unexpected report %v", r)
	}
	obj := r["objective"].(float64)
	if obj < 607 || obj != r["cover_penalty"].(float64)+r["request_penalty"].(float64) {
		t.Errorf("objective %v inconsistent (optimum is 607)", obj)
	}
	if errs != "" {
		t.Errorf("progress written to a non-terminal: %q", errs)
	}
	code, out, errs = run("check", filepath.Join(testdata, "Instance1.txt"), roster, "--json")
	if code != 0 {
		t.Fatalf("check of solver output: exit %d %s", code, errs)
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	if c["objective"].(float64) != obj {
		t.Errorf("check says %v, solve said %v", c["objective"], obj)
	}
}

func TestCheck(t *testing.T) {
	inst := filepath.Join(testdata, "Instance1.txt")
	code, out, _ := run("check", inst, filepath.Join(testdata, "Instance1.optimal.tsv"))
	if code != 0 || !strings.Contains(out, "objective 607 = cover 601") {
		t.Errorf("exit %d, output %q", code, out)
	}
	// Everyone works every day: many hard violations, exit 1.
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.tsv")
	row := strings.Repeat("D\t", 13) + "D\n"
	if err := os.WriteFile(bad, []byte(strings.Repeat(row, 8)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run("check", inst, bad, "--json")
	if code != 1 {
		t.Errorf("infeasible roster: exit %d", code)
	}
	var c struct {
		Feasible       bool
		HardViolations int `json:"hard_violations"`
		Violations     []struct {
			Employee string
			Rule     string
		}
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	if c.Feasible || c.HardViolations == 0 || len(c.Violations) != c.HardViolations || c.Violations[0].Employee != "A" {
		t.Errorf("unexpected %+v", c)
	}
}

func TestUsageAndMalformed(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.txt")
	if err := os.WriteFile(broken, []byte("SECTION_HORIZON\r\n14\r\n\r\nSECTION_SHIFTS\r\nD,480\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	shortRoster := filepath.Join(dir, "short.tsv")
	if err := os.WriteFile(shortRoster, []byte("D\tD\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inst := filepath.Join(testdata, "Instance1.txt")
	tests := []struct {
		name     string
		args     []string
		fragment string
	}{
		{"no args", nil, "usage"},
		{"unknown", []string{"frobnicate"}, "unknown subcommand"},
		{"solve no file", []string{"solve"}, "want one instance file"},
		{"solve bad flag", []string{"solve", inst, "--bogus"}, "bogus"},
		{"solve no limit", []string{"solve", inst, "--time-limit", "0"}, "set --time-limit or --iterations"},
		{"solve missing", []string{"solve", filepath.Join(dir, "nope.txt")}, "no such file"},
		{"solve malformed", []string{"solve", broken}, "line 5"},
		{"check one arg", []string{"check", inst}, "want an instance file and a roster"},
		{"check malformed roster", []string{"check", inst, shortRoster}, "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := run(tt.args...)
			if code != 2 || !strings.Contains(errs, tt.fragment) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errs, tt.fragment)
			}
		})
	}
}
