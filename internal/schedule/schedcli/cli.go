// Package schedcli is the `vigil schedule` command: solve a benchmark-format
// instance or check a roster against one.
package schedcli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"vigil/internal/schedule/nrp"
	"vigil/internal/schedule/solver"
)

const usage = `usage:
  vigil schedule solve FILE [--time-limit 60s] [--iterations N] [--seed N] [--threads N] [--out ROSTER.tsv] [--json]
  vigil schedule check FILE ROSTER.tsv [--json]

FILE is an instance in the Curtois & Qu shift scheduling benchmark format
(LF or CRLF). solve exits 0 with a feasible roster, 1 without one; check
exits 0 if the roster is feasible, 1 if not; both exit 2 on bad usage or a
malformed file. With a time limit, results can differ between runs because
the clock cuts the search; --iterations (per thread) with a fixed --seed and
--threads reproduces a run exactly.
`

// Run executes `vigil schedule ARGS` and returns the exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "solve":
		return solve(ctx, args[1:], stdout, stderr)
	case "check":
		return check(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "vigil schedule: unknown subcommand %q\n\n%s", args[0], usage)
		return 2
	}
}

// parseInterspersed lets positional arguments come before, between or after
// flags, as the documented `solve FILE --flags` order needs.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// report is the --json output of both subcommands.
type report struct {
	Instance       string          `json:"instance"`
	Objective      int             `json:"objective"`
	Feasible       bool            `json:"feasible"`
	HardViolations int             `json:"hard_violations"`
	CoverPenalty   int             `json:"cover_penalty"`
	RequestPenalty int             `json:"request_penalty"`
	ElapsedS       float64         `json:"elapsed_s"`
	FirstFeasibleS *float64        `json:"first_feasible_s,omitempty"`
	Iterations     int64           `json:"iterations,omitempty"`
	Seed           *uint64         `json:"seed,omitempty"`
	Threads        int             `json:"threads,omitempty"`
	Violations     []violationJSON `json:"violations"`
	Progress       []progressJSON  `json:"progress,omitempty"`
}

type violationJSON struct {
	Employee string      `json:"employee"`
	Day      int         `json:"day"`
	Rule     solver.Rule `json:"rule"`
	Detail   string      `json:"detail"`
}

type progressJSON struct {
	ElapsedS  float64 `json:"elapsed_s"`
	Objective int64   `json:"objective"`
	Feasible  bool    `json:"feasible"`
}

func violations(p *solver.Problem, ev solver.Evaluation) []violationJSON {
	out := make([]violationJSON, 0, len(ev.Violations))
	for _, v := range ev.Violations {
		out = append(out, violationJSON{Employee: p.Employees[v.Employee].ID, Day: v.Day, Rule: v.Rule, Detail: v.Detail})
	}
	return out
}

func loadInstance(path string) (*solver.Problem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := nrp.Parse(f, strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// isTerminal reports whether w is a character device, so live progress is
// drawn only for a person watching, never into a log or a pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func solve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigil schedule solve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	limit := fs.Duration("time-limit", 60*time.Second, "stop searching after this long (0: no time limit)")
	iters := fs.Int64("iterations", 0, "stop after this many iterations per thread (0: no limit); reproducible")
	seed := fs.Uint64("seed", 1, "random seed")
	threads := fs.Int("threads", 0, "search threads (0: one per CPU)")
	out := fs.String("out", "", "write the roster to this file (tab-separated, one line per employee)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "vigil schedule solve: want one instance file, got %d arguments\n", len(pos))
		return 2
	}
	if *limit < 0 || *iters < 0 || *threads < 0 {
		fmt.Fprintln(stderr, "vigil schedule solve: --time-limit, --iterations and --threads must not be negative")
		return 2
	}
	if *limit == 0 && *iters == 0 {
		fmt.Fprintln(stderr, "vigil schedule solve: set --time-limit or --iterations")
		return 2
	}
	p, err := loadInstance(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, "vigil schedule solve:", err)
		return 2
	}
	opt := solver.Options{Seed: *seed, Threads: *threads, TimeLimit: *limit, MaxIterations: *iters}
	live := isTerminal(stderr)
	if live {
		opt.Progress = func(pr solver.Progress) {
			state := "feasible"
			if !pr.Feasible {
				state = "INFEASIBLE"
			}
			fmt.Fprintf(stderr, "\r%s  %7.1fs  best %d  %s   ", p.Name, pr.Elapsed.Seconds(), pr.Objective, state)
		}
	}
	sol, err := solver.Solve(ctx, p, opt)
	if live {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "vigil schedule solve:", err)
		return 2
	}
	if *out != "" {
		var buf bytes.Buffer
		if err := nrp.WriteRoster(&buf, p, sol.Roster); err != nil {
			fmt.Fprintln(stderr, "vigil schedule solve:", err)
			return 1
		}
		if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
			fmt.Fprintln(stderr, "vigil schedule solve:", err)
			return 1
		}
	}
	ev := sol.Evaluation
	if *asJSON {
		r := report{
			Instance: p.Name, Objective: ev.Objective, Feasible: ev.Feasible(),
			HardViolations: len(ev.Violations), CoverPenalty: ev.CoverPenalty, RequestPenalty: ev.RequestPenalty,
			ElapsedS: round3(sol.Elapsed.Seconds()), Iterations: sol.Iterations, Seed: seed,
			Threads: effectiveThreads(*threads), Violations: violations(p, ev),
		}
		if sol.FirstFeasible >= 0 {
			s := round3(sol.FirstFeasible.Seconds())
			r.FirstFeasibleS = &s
		}
		for _, pr := range sol.Trace {
			r.Progress = append(r.Progress, progressJSON{round3(pr.Elapsed.Seconds()), pr.Objective, pr.Feasible})
		}
		if err := writeJSON(stdout, r); err != nil {
			fmt.Fprintln(stderr, "vigil schedule solve:", err)
			return 1
		}
	} else {
		printText(stdout, p, ev)
		fmt.Fprintf(stdout, "elapsed %.1fs, %d iterations", sol.Elapsed.Seconds(), sol.Iterations)
		if sol.FirstFeasible >= 0 {
			fmt.Fprintf(stdout, ", first feasible after %.3fs", sol.FirstFeasible.Seconds())
		}
		fmt.Fprintln(stdout)
	}
	if !ev.Feasible() {
		return 1
	}
	return 0
}

func effectiveThreads(t int) int {
	if t > 0 {
		return t
	}
	return runtime.GOMAXPROCS(0)
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printText(w io.Writer, p *solver.Problem, ev solver.Evaluation) {
	state := "feasible"
	if !ev.Feasible() {
		state = fmt.Sprintf("INFEASIBLE (%d hard violations)", len(ev.Violations))
	}
	fmt.Fprintf(w, "%s: objective %d = cover %d (under %d, over %d) + requests %d (on %d, off %d); %s\n",
		p.Name, ev.Objective, ev.CoverPenalty, ev.UnderCover, ev.OverCover,
		ev.RequestPenalty, ev.OnRequestPenalty, ev.OffRequestPenalty, state)
	for _, v := range ev.Violations {
		day := "whole horizon"
		if v.Day >= 0 {
			day = fmt.Sprintf("day %d", v.Day)
		}
		fmt.Fprintf(w, "  employee %s, %s: %s: %s\n", p.Employees[v.Employee].ID, day, v.Rule, v.Detail)
	}
}

func check(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigil schedule check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 2 {
		fmt.Fprintf(stderr, "vigil schedule check: want an instance file and a roster file, got %d arguments\n", len(pos))
		return 2
	}
	p, err := loadInstance(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, "vigil schedule check:", err)
		return 2
	}
	f, err := os.Open(pos[1])
	if err != nil {
		fmt.Fprintln(stderr, "vigil schedule check:", err)
		return 2
	}
	ro, err := nrp.ReadRoster(f, p)
	f.Close()
	if err != nil {
		var pe *nrp.Error
		if errors.As(err, &pe) {
			err = fmt.Errorf("%s: %w", pos[1], err)
		}
		fmt.Fprintln(stderr, "vigil schedule check:", err)
		return 2
	}
	ev, err := solver.Evaluate(p, ro)
	if err != nil {
		fmt.Fprintln(stderr, "vigil schedule check:", err)
		return 2
	}
	if *asJSON {
		r := report{
			Instance: p.Name, Objective: ev.Objective, Feasible: ev.Feasible(),
			HardViolations: len(ev.Violations), CoverPenalty: ev.CoverPenalty, RequestPenalty: ev.RequestPenalty,
			Violations: violations(p, ev),
		}
		if err := writeJSON(stdout, r); err != nil {
			fmt.Fprintln(stderr, "vigil schedule check:", err)
			return 2
		}
	} else {
		printText(stdout, p, ev)
	}
	if !ev.Feasible() {
		return 1
	}
	return 0
}
