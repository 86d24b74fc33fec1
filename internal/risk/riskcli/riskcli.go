// Package riskcli is `vigil risk`: the risk engines behind a JSON-in,
// JSON-out command line, for analysts' scripts and for checking the engines
// by hand. Input comes from --input FILE (or stdin); the result is printed
// as indented JSON on stdout. Invalid input is reported on stderr with the
// offending field and exit code 2.
package riskcli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"vigil/internal/risk/dist"
	"vigil/internal/risk/fair"
	"vigil/internal/risk/pps"
)

// MaxInput bounds the JSON read, so a stray multi-gigabyte file or pipe
// fails fast instead of exhausting memory.
const MaxInput = 64 << 20

const usage = `usage: vigil risk <command> [--input FILE.json] [options]

commands:
  fair   Open FAIR Monte Carlo: annual loss exposure, percentiles, exceedance
         options: --iterations N (default 100000) --seed S --workers W
  easi   EASI probability of interruption for one adversary path
  paths  minimum-detection, minimum-delay and most vulnerable paths of an
         adversary sequence diagram
         options: --top K (default 1) --method auto|exhaustive|timely-detection
                  --max-paths N (enumeration budget, default 200000)
  dist   one distribution: mean, sd, p05, p50, p95 and fitted parameters

Input is JSON read from --input FILE (or "-" or no flag: stdin). Unknown
fields are errors. Exit codes: 0 success, 1 failure, 2 invalid usage/input.
`

// exit codes
const (
	exitOK      = 0
	exitFailed  = 1
	exitInvalid = 2
)

// invalidError marks errors in the analyst's input (exit 2).
type invalidError struct{ err error }

func (e invalidError) Error() string { return e.err.Error() }
func (e invalidError) Unwrap() error { return e.err }

func invalid(err error) error { return invalidError{err} }

// Run executes `vigil risk` with args (after "risk") and returns the exit
// code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitInvalid
	}
	cmd := args[0]
	if cmd == "-h" || cmd == "--help" || cmd == "help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fs := flag.NewFlagSet("vigil risk "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	input := fs.String("input", "", "JSON input `file` (default stdin)")
	var (
		iterations, workers, top, maxPaths *int
		seed                               *uint64
		method                             *string
	)
	switch cmd {
	case "fair":
		iterations = fs.Int("iterations", fair.DefaultIterations, "simulated years")
		seed = fs.Uint64("seed", 1, "random seed (same seed, same result)")
		workers = fs.Int("workers", 0, "parallel workers (default: all cores)")
	case "paths":
		top = fs.Int("top", 1, "number of most vulnerable paths to list")
		method = fs.String("method", pps.MethodAuto, "auto, exhaustive or timely-detection")
		maxPaths = fs.Int("max-paths", 200_000, "enumeration budget in complete paths")
	case "easi", "dist":
	default:
		fmt.Fprintf(stderr, "vigil risk: unknown command %q\n\n%s", cmd, usage)
		return exitInvalid
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitInvalid
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vigil risk %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return exitInvalid
	}
	raw, err := readInput(*input, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "vigil risk %s: %v\n", cmd, err)
		return exitInvalid
	}
	var out any
	switch cmd {
	case "fair":
		if *iterations < 1 || *iterations > fair.MaxIterations {
			fmt.Fprintf(stderr, "vigil risk fair: --iterations must be 1 to %d\n", fair.MaxIterations)
			return exitInvalid
		}
		out, err = runFair(ctx, raw, fair.Options{Iterations: *iterations, Seed: *seed, Workers: *workers})
	case "easi":
		out, err = runEASI(raw)
	case "paths":
		out, err = runPaths(raw, pps.PathOptions{TopK: *top, Method: *method, MaxPaths: *maxPaths})
	case "dist":
		out, err = runDist(raw)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vigil risk %s: %v\n", cmd, err)
		var inv invalidError
		if errors.As(err, &inv) {
			return exitInvalid
		}
		return exitFailed
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "vigil risk %s: %v\n", cmd, err)
		return exitFailed
	}
	b = append(b, '\n')
	if _, err := stdout.Write(b); err != nil {
		return exitFailed
	}
	return exitOK
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if name != "" && name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	if r == nil {
		return nil, errors.New("no input: give --input FILE or pipe JSON on stdin")
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxInput+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxInput {
		return nil, fmt.Errorf("input larger than %d MiB", MaxInput>>20)
	}
	return b, nil
}

// Decode parses JSON strictly into v (unknown fields and trailing data are
// errors) and rewrites encoding/json's errors to name the field.
func Decode(raw []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return invalid(jsonError(err, raw))
	}
	if _, err := d.Token(); err != io.EOF {
		return invalid(errors.New("malformed JSON: unexpected data after the top-level value"))
	}
	return nil
}

func jsonError(err error, raw []byte) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "input"
		}
		return &dist.FieldError{Field: field, Problem: fmt.Sprintf("must be %s, got JSON %s", jsonType(te.Type.String()), te.Value)}
	case errors.Is(err, io.EOF):
		return errors.New("no input: expected a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("malformed JSON: input ends early")
	}
	var fe *dist.FieldError
	if errors.As(err, &fe) {
		return fe
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		key := strings.Trim(f, `"`)
		return &dist.FieldError{Field: keyPath(raw, key), Problem: "unknown field"}
	}
	return errors.New(strings.TrimPrefix(msg, "json: "))
}

// keyPath finds where key first occurs as an object key in raw and returns
// its path ("tef.typo", "elements[0].delay.x"); encoding/json reports an
// unknown field by its name only. Falls back to the bare key.
func keyPath(raw []byte, key string) string {
	type frame struct {
		array bool
		index int
		name  string
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	var stack []frame
	expectKey := false
	path := func(last string) string {
		var b strings.Builder
		for _, f := range stack[:len(stack)-1] {
			if f.array {
				fmt.Fprintf(&b, "[%d]", f.index)
			} else {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.name)
			}
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(last)
		return b.String()
	}
	// advance marks a value as consumed in the enclosing container.
	advance := func() {
		if len(stack) == 0 {
			return
		}
		top := &stack[len(stack)-1]
		if top.array {
			top.index++
		} else {
			expectKey = true
		}
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return key
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, frame{array: t == '['})
				expectKey = t == '{'
			default:
				stack = stack[:len(stack)-1]
				advance()
			}
			continue
		case string:
			if expectKey && len(stack) > 0 && !stack[len(stack)-1].array {
				if t == key {
					return path(t)
				}
				stack[len(stack)-1].name = t
				expectKey = false
				continue
			}
		}
		advance()
	}
}

func jsonType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "float"), strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), goType == "*float64":
		return "a number"
	case goType == "string", strings.HasSuffix(goType, "Location"), strings.HasSuffix(goType, "Aggregation"):
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	}
	return "an object"
}

// FairInput is `vigil risk fair`'s input: a fair.Model.
type FairInput = fair.Model

func runFair(ctx context.Context, raw []byte, o fair.Options) (any, error) {
	var m fair.Model
	if err := Decode(raw, &m); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, invalid(err)
	}
	res, err := fair.Simulate(ctx, &m, o)
	if errors.Is(err, fair.ErrTooMuchWork) || errors.Is(err, fair.ErrOverflow) {
		return nil, invalid(err)
	}
	return res, err
}

func runEASI(raw []byte) (any, error) {
	var p pps.Path
	if err := Decode(raw, &p); err != nil {
		return nil, err
	}
	res, err := pps.EASI(&p)
	if err != nil {
		return nil, invalid(err)
	}
	return res, nil
}

func runPaths(raw []byte, o pps.PathOptions) (any, error) {
	var d pps.Diagram
	if err := Decode(raw, &d); err != nil {
		return nil, err
	}
	res, err := pps.Analyze(&d, o)
	if err != nil {
		var fe *pps.FieldError
		if errors.As(err, &fe) || errors.Is(err, pps.ErrTooManyPaths) {
			return nil, invalid(err)
		}
		return nil, err
	}
	return res, nil
}

// DistOutput is `vigil risk dist`'s result: the exact summary of one
// distribution plus its fitted parameters, flattened into the same object.
type DistOutput struct {
	Dist   string
	Mean   float64
	SD     float64
	P05    float64
	P50    float64
	P95    float64
	Params map[string]float64
}

// MarshalJSON flattens Params beside the summary.
func (d DistOutput) MarshalJSON() ([]byte, error) {
	m := map[string]any{"dist": d.Dist, "mean": d.Mean, "sd": d.SD, "p05": d.P05, "p50": d.P50, "p95": d.P95}
	for k, v := range d.Params {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

func runDist(raw []byte) (any, error) {
	var s dist.Spec
	if err := Decode(raw, &s); err != nil {
		return nil, err
	}
	d, err := s.Build()
	if err != nil {
		return nil, invalid(err)
	}
	out := DistOutput{Dist: d.Kind(), Mean: d.Mean(), SD: d.SD(), P05: d.Quantile(0.05),
		P50: d.Quantile(0.5), P95: d.Quantile(0.95), Params: d.Params()}
	for _, v := range []float64{out.Mean, out.SD, out.P05, out.P50, out.P95} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, invalid(errors.New("the distribution's summary is not finite; check its parameters"))
		}
	}
	return out, nil
}
