package solver

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// randomProblem builds a small instance with every rule in play. With
// tightLimits some per-shift maxima can bind.
func randomProblem(rng *rand.Rand, days, staff, shifts int, tightLimits bool) *Problem {
	p := &Problem{Name: "random", Days: days, Weekends: WeekendsFromMonday(days)}
	for s := range shifts {
		sh := Shift{ID: string(rune('A' + s)), Minutes: 240 * (1 + rng.IntN(3))}
		for t := range shifts {
			if rng.IntN(3) == 0 {
				sh.ForbiddenNext = append(sh.ForbiddenNext, t)
			}
		}
		p.Shifts = append(p.Shifts, sh)
	}
	for e := range staff {
		emp := Employee{
			ID:                string(rune('a' + e)),
			MinConsecutive:    1 + rng.IntN(3),
			MaxConsecutive:    2 + rng.IntN(4),
			MinConsecutiveOff: 1 + rng.IntN(3),
			MaxWeekends:       rng.IntN(3),
		}
		for range shifts {
			lim := days
			switch rng.IntN(4) {
			case 0:
				lim = 0
			case 1:
				if tightLimits {
					lim = 1 + rng.IntN(3)
				}
			}
			emp.MaxShifts = append(emp.MaxShifts, lim)
		}
		emp.MaxMinutes = 240 * (days/2 + rng.IntN(days/2+1))
		emp.MinMinutes = max(0, emp.MaxMinutes-240*(1+rng.IntN(6)))
		for d := range days {
			if rng.IntN(8) == 0 {
				emp.DaysOff = append(emp.DaysOff, d)
			}
		}
		p.Employees = append(p.Employees, emp)
	}
	for range days * staff / 3 {
		q := Request{Employee: rng.IntN(staff), Day: rng.IntN(days), Shift: rng.IntN(shifts), Weight: 1 + rng.IntN(3)}
		if rng.IntN(2) == 0 {
			p.OnRequests = append(p.OnRequests, q)
		} else {
			p.OffRequests = append(p.OffRequests, q)
		}
	}
	for range days {
		row := make([]Cover, shifts)
		for s := range row {
			row[s] = Cover{Requirement: rng.IntN(staff/2 + 1), WeightUnder: 100, WeightOver: 1}
		}
		p.Cover = append(p.Cover, row)
	}
	return p
}

// bruteForce enumerates every row of employee e and returns the cheapest
// feasible price, or false if none is feasible.
func bruteForce(p *Problem, e int, cost []int64) (int64, bool) {
	S := len(p.Shifts)
	row := make([]int, p.Days)
	best, found := int64(0), false
	var rec func(d int, acc int64)
	rec = func(d int, acc int64) {
		if d == p.Days {
			if checkRow(p, e, row, nil) && (!found || acc < best) {
				best, found = acc, true
			}
			return
		}
		for c := -1; c < S; c++ {
			row[d] = c
			k := c
			if c == Off {
				k = S
			}
			rec(d+1, acc+cost[d*(S+1)+k])
		}
	}
	rec(0, 0)
	return best, found
}

// TestRowDPMatchesBruteForce: the DP is exact whenever no per-shift maximum
// binds, and always returns a feasible row priced as claimed.
func TestRowDPMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 300 {
		tight := trial%3 == 0
		p := randomProblem(rng, 7, 3, 2, tight)
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		S := len(p.Shifts)
		for e := range p.Employees {
			cost := make([]int64, p.Days*(S+1))
			for i := range cost {
				cost[i] = int64(rng.IntN(21) - 10)
			}
			m := newRowModel(p, e)
			var sc dpScratch
			out := make([]int, p.Days)
			got, ok := m.bestRow(p, cost, &sc, out)
			want, wantOK := bruteForce(p, e, cost)
			if ok && !checkRow(p, e, out, nil) {
				t.Fatalf("trial %d employee %d: DP row %v is infeasible", trial, e, out)
			}
			if ok {
				var price int64
				for d, s := range out {
					if s == Off {
						s = S
					}
					price += cost[d*(S+1)+s]
				}
				if price != got {
					t.Fatalf("trial %d: DP claims %d, row costs %d", trial, got, price)
				}
			}
			if ok && !wantOK {
				t.Fatalf("trial %d: DP found a row brute force says cannot exist", trial)
			}
			if !m.binding {
				if ok != wantOK || (ok && got != want) {
					t.Fatalf("trial %d employee %d: DP (%d, %v), brute force (%d, %v)", trial, e, got, ok, want, wantOK)
				}
			} else if ok && got < want {
				t.Fatalf("trial %d: DP beat brute force (%d < %d)", trial, got, want)
			}
			// The memory-saving mode that prices weekends instead of
			// counting them must still return only feasible rows.
			m.relaxW, m.W1 = true, 1
			var sc2 dpScratch
			if got2, ok2 := m.bestRow(p, cost, &sc2, out); ok2 {
				if !checkRow(p, e, out, nil) {
					t.Fatalf("trial %d employee %d: relaxed-weekend row %v is infeasible", trial, e, out)
				}
				if wantOK && got2 < want {
					t.Fatalf("trial %d: relaxed DP beat brute force", trial)
				}
			}
		}
	}
}

// TestSolveOutputPassesEvaluator is the solver's property test: whatever it
// returns is exactly what the reference evaluator says, its bookkeeping
// never drifts, and a feasible roster comes back whenever every employee
// has some feasible row.
func TestSolveOutputPassesEvaluator(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	for trial := range 25 {
		p := randomProblem(rng, 14, 3+rng.IntN(6), 1+rng.IntN(3), trial%2 == 0)
		sol, err := Solve(context.Background(), p, Options{Seed: uint64(trial), Threads: 2, MaxIterations: 150})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := Evaluate(p, sol.Roster)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ev, sol.Evaluation) {
			t.Fatalf("trial %d: solution evaluation %+v, evaluator %+v", trial, sol.Evaluation, ev)
		}
		allRows := true
		S := len(p.Shifts)
		for e := range p.Employees {
			m := newRowModel(p, e)
			var sc dpScratch
			if _, ok := m.bestRow(p, make([]int64, p.Days*(S+1)), &sc, make([]int, p.Days)); !ok {
				allRows = false
			}
		}
		if allRows && !ev.Feasible() {
			t.Fatalf("trial %d: infeasible result %v although every row is satisfiable", trial, ev.Violations)
		}
		if n := len(sol.Trace); n > 0 && sol.Trace[n-1].Objective != int64(ev.Objective) && ev.Feasible() {
			t.Fatalf("trial %d: last progress %d, result %d", trial, sol.Trace[n-1].Objective, ev.Objective)
		}
	}
}

// TestWorkerBookkeeping checks the incremental objective against a full
// evaluation after many random moves.
func TestWorkerBookkeeping(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	p := randomProblem(rng, 21, 8, 3, true)
	w := newWorker(newShared(p), 3, 0)
	w.construct()
	for range 300 {
		w.step()
		ev, err := Evaluate(p, Roster(w.rows))
		if err != nil {
			t.Fatal(err)
		}
		if int64(ev.Objective) != w.obj || len(ev.Violations) > 0 != (w.bad > 0) {
			t.Fatalf("incremental objective %d (bad %d), evaluator %d (%d violations)", w.obj, w.bad, ev.Objective, len(ev.Violations))
		}
	}
}

func TestSolveDeterministic(t *testing.T) {
	p := randomProblem(rand.New(rand.NewPCG(1, 2)), 14, 8, 3, false)
	opt := Options{Seed: 42, Threads: 2, MaxIterations: 400}
	a, err := Solve(context.Background(), p, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Solve(context.Background(), p, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Roster, b.Roster) || a.Iterations != b.Iterations {
		t.Error("same seed, threads and iteration limit gave different rosters")
	}
}

func TestSolveCancelled(t *testing.T) {
	p := randomProblem(rand.New(rand.NewPCG(1, 9)), 28, 10, 3, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	sol, err := Solve(ctx, p, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("cancelled solve took %v", time.Since(start))
	}
	if _, err := Evaluate(p, sol.Roster); err != nil {
		t.Fatal(err)
	}
}

func TestSolveTimeLimitAndProgress(t *testing.T) {
	p := randomProblem(rand.New(rand.NewPCG(3, 9)), 28, 12, 3, false)
	var calls int
	start := time.Now()
	sol, err := Solve(context.Background(), p, Options{Seed: 1, Threads: 2, TimeLimit: 300 * time.Millisecond,
		Progress: func(Progress) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 4*time.Second {
		t.Errorf("300ms limit took %v", el)
	}
	if calls == 0 || calls != len(sol.Trace) {
		t.Errorf("%d progress calls, trace %d", calls, len(sol.Trace))
	}
	for i := 1; i < len(sol.Trace); i++ {
		a, b := sol.Trace[i-1], sol.Trace[i]
		if better(0, a.Objective, 0, b.Objective) && a.Feasible == b.Feasible {
			t.Errorf("progress went backwards: %+v then %+v", a, b)
		}
	}
}

func TestEvaluateRules(t *testing.T) {
	p := &Problem{
		Days:     14,
		Shifts:   []Shift{{ID: "E", Minutes: 480}, {ID: "L", Minutes: 480, ForbiddenNext: []int{0}}},
		Weekends: WeekendsFromMonday(14),
		Employees: []Employee{{ID: "A", MaxShifts: []int{14, 0}, MinMinutes: 480 * 3, MaxMinutes: 480 * 5,
			MinConsecutive: 2, MaxConsecutive: 3, MinConsecutiveOff: 2, MaxWeekends: 1, DaysOff: []int{9}}},
	}
	for range 14 {
		p.Cover = append(p.Cover, []Cover{{1, 100, 1}, {0, 100, 1}})
	}
	const E, L, o = 0, 1, Off
	tests := []struct {
		name string
		row  []int
		want []Rule
	}{
		{"feasible", []int{E, E, E, o, o, E, E, o, o, o, o, o, o, o}, nil},
		{"edge runs exempt", []int{E, o, o, E, E, o, o, o, o, o, o, o, o, E}, nil},
		{"not qualified", []int{E, E, E, o, o, o, o, o, o, o, o, o, L, L}, []Rule{RuleMaxShifts}},
		{"succession and day off", []int{o, o, o, o, o, o, o, o, L, E, E, o, o, o}, []Rule{RuleDayOff, RuleSuccession, RuleMaxShifts}},
		{"too long", []int{E, E, E, E, o, o, o, o, o, o, o, o, o, o}, []Rule{RuleMaxConsecutive}},
		{"too short", []int{E, E, o, o, E, o, o, o, o, o, o, o, o, E}, []Rule{RuleMinConsecutive}},
		{"short rest", []int{E, E, o, E, E, o, o, o, o, o, o, o, o, o}, []Rule{RuleMinConsecutiveOff}},
		{"minutes", []int{E, E, o, o, o, o, o, o, o, o, o, o, o, o}, []Rule{RuleMinMinutes}},
		{"too many minutes", []int{E, E, E, o, o, E, E, o, o, o, E, E, o, o}, []Rule{RuleMaxMinutes}},
		{"weekends", []int{o, o, o, o, E, E, o, o, o, o, o, E, E, o}, []Rule{RuleMaxWeekends}},
		{"bad cell", []int{7, o, o, o, o, o, o, o, o, o, o, o, o, o}, []Rule{RuleBadShift}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Evaluate(p, Roster{tt.row})
			if err != nil {
				t.Fatal(err)
			}
			var got []Rule
			for _, v := range ev.Violations {
				got = append(got, v.Rule)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rules %v, want %v (%+v)", got, tt.want, ev.Violations)
			}
			if checkRow(p, 0, tt.row, nil) != (len(tt.want) == 0) {
				t.Error("checkRow without report disagrees")
			}
		})
	}
	if _, err := Evaluate(p, Roster{{E}}); err == nil {
		t.Error("short row accepted")
	}
}

func BenchmarkRowDP(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	p := randomProblem(rng, 28, 10, 4, true)
	S := len(p.Shifts)
	cost := make([]int64, p.Days*(S+1))
	for i := range cost {
		cost[i] = int64(rng.IntN(201) - 100)
	}
	m := newRowModel(p, 0)
	out := make([]int, p.Days)
	for _, exact := range []bool{true, false} {
		name := "bounded"
		if exact {
			name = "exact"
		}
		b.Run(name, func(b *testing.B) {
			sc := dpScratch{exact: exact}
			for b.Loop() {
				m.bestRow(p, cost, &sc, out)
			}
		})
	}
}

// TestSolveUnsatisfiableEmployee: an employee whose contract admits no row
// at all makes the roster infeasible; Solve still returns the best roster
// and names the violation instead of failing.
func TestSolveUnsatisfiableEmployee(t *testing.T) {
	p := randomProblem(rand.New(rand.NewPCG(4, 4)), 14, 4, 2, false)
	p.Employees[2].MinMinutes = p.Days * 24 * 60 // cannot be reached
	p.Employees[2].MaxMinutes = Unlimited
	sol, err := Solve(context.Background(), p, Options{Seed: 1, Threads: 2, MaxIterations: 30})
	if err != nil {
		t.Fatal(err)
	}
	if sol.Evaluation.Feasible() || sol.FirstFeasible >= 0 {
		t.Fatalf("reported feasible: %+v", sol.Evaluation)
	}
	S := len(p.Shifts)
	flagged := map[int]bool{}
	for _, v := range sol.Evaluation.Violations {
		flagged[v.Employee] = true
	}
	for e := range p.Employees {
		var sc dpScratch
		_, ok := newRowModel(p, e).bestRow(p, make([]int64, p.Days*(S+1)), &sc, make([]int, p.Days))
		if ok == flagged[e] {
			t.Errorf("employee %d: satisfiable %v but violations reported %v", e, ok, flagged[e])
		}
	}
	if !flagged[2] {
		t.Error("the unsatisfiable employee has no violation")
	}
}

// TestSolveBeyondMasterLimit: a problem too big for the dense master LP is
// still solved by local search, within the time limit, feasibly, and its
// result is exactly what the evaluator says.
func TestSolveBeyondMasterLimit(t *testing.T) {
	p := randomProblem(rand.New(rand.NewPCG(4, 4)), 182, 12, 17, false)
	if rows := len(p.Employees) + p.Days*len(p.Shifts); rows <= maxMasterRows {
		t.Fatalf("test problem has only %d master rows", rows)
	}
	start := time.Now()
	sol, err := Solve(context.Background(), p, Options{Seed: 1, Threads: 2, TimeLimit: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 4*time.Second {
		t.Errorf("3 s limit took %v", el)
	}
	ev, err := Evaluate(p, sol.Roster)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ev, sol.Evaluation) {
		t.Fatalf("solution evaluation %+v, evaluator %+v", sol.Evaluation, ev)
	}
	S := len(p.Shifts)
	for e := range p.Employees {
		var sc dpScratch
		if _, ok := newRowModel(p, e).bestRow(p, make([]int64, p.Days*(S+1)), &sc, make([]int, p.Days)); !ok {
			t.Fatalf("employee %d has no feasible row; pick another test problem", e)
		}
	}
	if !ev.Feasible() {
		t.Errorf("infeasible result %v although every row is satisfiable", ev.Violations)
	}
}
