package riskcli

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vigil/internal/risk/fair"
	"vigil/internal/risk/pps"
)

func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunExamples(t *testing.T) {
	cases := []struct {
		name string
		args []string
		keys []string
	}{
		{"fair", []string{"fair", "--input", "testdata/fair.json", "--iterations", "20000", "--seed", "7"},
			[]string{"ale_mean", "ale_sd", "p10", "p50", "p90", "p95", "p99", "p_zero_loss", "lef_mean", "vulnerability", "lec", "ale_mean_exact"}},
		{"easi", []string{"easi", "--input", "testdata/easi.json"},
			[]string{"p_interruption", "p_effectiveness", "elements"}},
		{"paths", []string{"paths", "--input", "testdata/paths.json", "--top", "3"},
			[]string{"path_count", "most_vulnerable", "min_detection", "min_delay", "method"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := run(t, "", c.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			for _, k := range c.keys {
				if _, ok := m[k]; !ok {
					t.Errorf("output lacks %q:\n%s", k, out)
				}
			}
		})
	}
	// Same seed, same output; stdin works like --input.
	in, _ := os.ReadFile("testdata/fair.json")
	_, a, _ := run(t, string(in), "fair", "--iterations", "5000", "--seed", "3")
	_, b, _ := run(t, "", "fair", "--input", "testdata/fair.json", "--iterations", "5000", "--seed", "3")
	if a != b {
		t.Error("stdin and --input runs differ")
	}
	// EASI elements carry the per-element fields.
	_, out, _ := run(t, "", "easi", "--input", "testdata/easi.json")
	var er pps.Result
	json.Unmarshal([]byte(out), &er)
	if len(er.Elements) != 4 || math.Abs(er.Elements[2].PFirstDetection-0.36) > 1e-12 {
		t.Errorf("easi elements: %+v", er.Elements)
	}
	if !strings.Contains(out, `"p_response_given_alarm"`) || !strings.Contains(out, `"remaining_time_variance"`) {
		t.Error("per-element fields missing")
	}
}

func TestRunDist(t *testing.T) {
	code, out, errs := run(t, `{"dist":"lognormal","low":10,"high":1000}`, "dist")
	if code != 0 {
		t.Fatal(errs)
	}
	var m map[string]float64
	if err := json.Unmarshal([]byte(strings.Replace(out, `"dist": "lognormal",`, "", 1)), &m); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if math.Abs(m["p05"]-10) > 1e-9 || math.Abs(m["p95"]-1000) > 1e-6 || math.Abs(m["mu"]-math.Log(100)) > 1e-12 {
		t.Errorf("lognormal summary: %v", m)
	}
	_, out, _ = run(t, `{"dist":"pert","min":1,"mode":10,"max":100,"method":"pyfair"}`, "dist")
	if !strings.Contains(out, `"alpha": 1.2096`) {
		t.Errorf("pyfair PERT alpha missing:\n%s", out)
	}
}

func TestRunInvalidInput(t *testing.T) {
	cases := []struct {
		name, cmd, in string
		frag          string
	}{
		{"malformed", "fair", `{"frequency":`, "malformed JSON"},
		{"syntax", "easi", `{"elements": [1,,]}`, "malformed JSON at byte"},
		{"empty", "dist", ``, "no input"},
		{"trailing", "dist", `{"dist":"constant","value":1} {}`, "after the top-level value"},
		{"unknown field", "fair", `{"frequency":{"dist":"constant","value":1,"vaule":2},"magnitude":{"dist":"constant","value":1}}`, "frequency.vaule: unknown field"},
		{"wrong type", "easi", `{"elements":[{"name":"a","p_detection":"high"}]}`, "p_detection: must be a number"},
		{"min > max", "dist", `{"dist":"pert","min":9,"mode":5,"max":1}`, "max: must be >= min"},
		{"probability", "easi", `{"elements":[{"name":"a","p_detection":1.5,"location":"B","delay":{"mean":1,"sd":0}}],"response_force_time":{"mean":1,"sd":0},"p_communication":1}`, "elements[0].p_detection: must be a probability"},
		{"negative delay", "easi", `{"elements":[{"name":"a","p_detection":0.5,"location":"B","delay":{"mean":-1,"sd":0}}],"response_force_time":{"mean":1,"sd":0},"p_communication":1}`, "elements[0].delay.mean"},
		{"bad location", "easi", `{"elements":[{"name":"a","p_detection":0.5,"location":"Q","delay":{"mean":1,"sd":0}}],"response_force_time":{"mean":1,"sd":0},"p_communication":1}`, "elements[0].location"},
		{"unknown node", "paths", `{"nodes":["a","b"],"edges":[{"id":"e","from":"a","to":"c","p_detection":0.5,"location":"B","delay":{"mean":1,"sd":0}}],"start":"a","target":"b","response_force_time":{"mean":1,"sd":0},"p_communication":1}`, `edges[0].to: unknown node "c"`},
		{"vulnerability range", "fair", `{"tef":{"dist":"constant","value":1},"vulnerability":2,"magnitude":{"dist":"constant","value":1}}`, "vulnerability: must be a probability"},
		{"negative magnitude", "fair", `{"frequency":{"dist":"constant","value":1},"magnitude":{"dist":"uniform","min":-5,"max":5}}`, "magnitude: must not be negative"},
		{"unknown dist", "dist", `{"dist":"weibull"}`, `dist: unknown distribution "weibull"`},
		{"too much work", "fair", `{"frequency":{"dist":"constant","value":1e8},"magnitude":{"dist":"constant","value":1}}`, "too many loss events"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := run(t, c.in, c.cmd)
			if code != 2 {
				t.Errorf("exit %d, want 2 (stdout %q)", code, out)
			}
			if !strings.Contains(errs, c.frag) {
				t.Errorf("stderr %q lacks %q", errs, c.frag)
			}
			if out != "" {
				t.Errorf("stdout not empty on error: %q", out)
			}
		})
	}
}

func TestRunUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
	}{
		{nil, 2}, {[]string{"help"}, 0}, {[]string{"bogus"}, 2}, {[]string{"fair", "--bogus"}, 2},
		{[]string{"easi", "--iterations", "5"}, 2}, {[]string{"fair", "extra"}, 2},
		{[]string{"fair", "--iterations", "0"}, 2}, {[]string{"fair", "-h"}, 0},
		{[]string{"dist", "--input", filepath.Join(t.TempDir(), "missing.json")}, 2},
	} {
		if code, _, _ := run(t, `{}`, c.args...); code != c.code {
			t.Errorf("%v: exit %d, want %d", c.args, code, c.code)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	in, _ := os.ReadFile("testdata/fair.json")
	if code := Run(ctx, []string{"fair", "--iterations", "1000000"}, bytes.NewReader(in), &out, &errb); code != 1 {
		t.Errorf("cancelled run: exit %d, want 1", code)
	}
}

// FuzzInputs feeds arbitrary bytes to every command's decoding, validation
// and engine: nothing may panic, hang or produce unencodable output. Work is
// bounded the way a server would bound it.
func FuzzInputs(f *testing.F) {
	for _, name := range []string{"fair", "easi", "paths"} {
		b, _ := os.ReadFile("testdata/" + name + ".json")
		f.Add(b, map[string]uint8{"fair": 0, "easi": 1, "paths": 2}[name])
	}
	f.Add([]byte(`{"dist":"poisson","min":0,"mode":1,"max":1e9}`), uint8(3))
	f.Add([]byte(`{"dist":"normal","mean":1,"sd":2,"min":0}`), uint8(3))
	f.Add([]byte(`{"tef":{"dist":"poisson","rate":3},"vulnerability":{"dist":"pert","min":0,"mode":0.2,"max":1},"magnitude":{"dist":"normal","mean":5,"sd":9},"aggregation":"per-year"}`), uint8(0))
	f.Add([]byte(`{"nodes":["a","b"],"edges":[{"id":"x","from":"a","to":"b","p_detection":1,"location":"m","delay":{"mean":0,"sd":0}}],"start":"a","target":"b","response_force_time":{"mean":0,"sd":0},"p_communication":1}`), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		var out any
		var err error
		switch which % 4 {
		case 0:
			out, err = runFair(context.Background(), data, fair.Options{Iterations: 64, Seed: 1, Workers: 1, MaxEventDraws: 1e5})
		case 1:
			out, err = runEASI(data)
		case 2:
			out, err = runPaths(data, pps.PathOptions{TopK: 3, MaxPaths: 2000})
		case 3:
			out, err = runDist(data)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("result does not encode: %v\ninput %q", err, data)
		}
	})
}
