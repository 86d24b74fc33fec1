package solver

import (
	"fmt"
)

// Rule names a hard constraint.
type Rule string

// The hard rules. A cell holds at most one shift by construction, so "one
// shift a day" can only be broken by a cell that is not a shift index at all.
const (
	RuleBadShift          Rule = "bad-shift"            // cell is neither Off nor a shift index
	RuleDayOff            Rule = "day-off"              // works on a fixed day off (leave)
	RuleSuccession        Rule = "forbidden-succession" // shift followed by a forbidden shift
	RuleMaxShifts         Rule = "max-shifts"           // too many of one shift type (0 = unqualified)
	RuleMinMinutes        Rule = "min-minutes"
	RuleMaxMinutes        Rule = "max-minutes"
	RuleMaxConsecutive    Rule = "max-consecutive"
	RuleMinConsecutive    Rule = "min-consecutive"
	RuleMinConsecutiveOff Rule = "min-consecutive-off"
	RuleMaxWeekends       Rule = "max-weekends"
)

// Violation is one broken hard rule. Day is the offending day, the first day
// of the offending run, or -1 for rules about the whole horizon.
type Violation struct {
	Employee int    `json:"employee"`
	Day      int    `json:"day"`
	Rule     Rule   `json:"rule"`
	Detail   string `json:"detail"`
}

// Evaluation is a roster's objective split into its parts plus every hard
// violation. Objective = CoverPenalty + RequestPenalty, whatever the violations.
type Evaluation struct {
	Objective         int
	CoverPenalty      int
	UnderCover        int // part of CoverPenalty from missing staff
	OverCover         int // part of CoverPenalty from surplus staff
	RequestPenalty    int
	OnRequestPenalty  int
	OffRequestPenalty int
	Violations        []Violation
}

// Feasible reports whether no hard rule is broken.
func (ev Evaluation) Feasible() bool { return len(ev.Violations) == 0 }

// Evaluate scores r against p from scratch. It is the reference the solver's
// incremental bookkeeping is tested against, so it shares nothing with it but
// checkRow. p must be valid; a roster of the wrong shape is an error.
func Evaluate(p *Problem, r Roster) (Evaluation, error) {
	var ev Evaluation
	if len(r) != len(p.Employees) {
		return ev, fmt.Errorf("schedule: roster has %d rows, problem has %d employees", len(r), len(p.Employees))
	}
	for e, row := range r {
		if len(row) != p.Days {
			return ev, fmt.Errorf("schedule: roster row %d has %d days, horizon is %d", e, len(row), p.Days)
		}
	}
	S := len(p.Shifts)
	count := make([]int, p.Days*S)
	for e, row := range r {
		checkRow(p, e, row, func(v Violation) { ev.Violations = append(ev.Violations, v) })
		for d, s := range row {
			if s >= 0 && s < S {
				count[d*S+s]++
			}
		}
	}
	for d := range p.Days {
		for s := range S {
			c := p.Cover[d][s]
			n := count[d*S+s]
			if n < c.Requirement {
				ev.UnderCover += c.WeightUnder * (c.Requirement - n)
			} else {
				ev.OverCover += c.WeightOver * (n - c.Requirement)
			}
		}
	}
	for _, q := range p.OnRequests {
		if r[q.Employee][q.Day] != q.Shift {
			ev.OnRequestPenalty += q.Weight
		}
	}
	for _, q := range p.OffRequests {
		if r[q.Employee][q.Day] == q.Shift {
			ev.OffRequestPenalty += q.Weight
		}
	}
	ev.CoverPenalty = ev.UnderCover + ev.OverCover
	ev.RequestPenalty = ev.OnRequestPenalty + ev.OffRequestPenalty
	ev.Objective = ev.CoverPenalty + ev.RequestPenalty
	return ev, nil
}

// checkRow checks every hard rule for employee e's row. With report == nil
// it stops at the first violation; it reports whether the row is feasible.
// It does not allocate when report is nil, so the search can call it in its
// inner loop.
func checkRow(p *Problem, e int, row []int, report func(Violation)) bool {
	emp := &p.Employees[e]
	S := len(p.Shifts)
	ok := true
	fail := func(day int, rule Rule, format string, args ...any) bool {
		ok = false
		if report == nil {
			return true
		}
		report(Violation{Employee: e, Day: day, Rule: rule, Detail: fmt.Sprintf(format, args...)})
		return false
	}
	for d, s := range row {
		if s != Off && (s < 0 || s >= S) {
			if fail(d, RuleBadShift, "cell holds %d, not a shift type", s) {
				return false
			}
		}
	}
	if !ok {
		// Further rules would index shift tables with the bad value.
		return false
	}
	for _, d := range emp.DaysOff {
		if row[d] != Off {
			if fail(d, RuleDayOff, "works %s on a fixed day off", p.Shifts[row[d]].ID) {
				return false
			}
		}
	}
	for d := 0; d+1 < len(row); d++ {
		a, b := row[d], row[d+1]
		if a == Off || b == Off {
			continue
		}
		for _, f := range p.Shifts[a].ForbiddenNext {
			if f == b {
				if fail(d+1, RuleSuccession, "%s may not follow %s", p.Shifts[b].ID, p.Shifts[a].ID) {
					return false
				}
			}
		}
	}
	// Counts per shift type and minutes, without allocating for small S.
	var small [16]int
	var counts []int
	if S <= len(small) {
		counts = small[:S]
	} else {
		counts = make([]int, S)
	}
	minutes := 0
	for _, s := range row {
		if s != Off {
			counts[s]++
			minutes += p.Shifts[s].Minutes
		}
	}
	for s, n := range counts {
		if n > emp.MaxShifts[s] {
			if fail(-1, RuleMaxShifts, "works %s %d times, limit %d", p.Shifts[s].ID, n, emp.MaxShifts[s]) {
				return false
			}
		}
	}
	if minutes < emp.MinMinutes {
		if fail(-1, RuleMinMinutes, "works %d minutes, minimum %d", minutes, emp.MinMinutes) {
			return false
		}
	}
	if minutes > emp.MaxMinutes {
		if fail(-1, RuleMaxMinutes, "works %d minutes, maximum %d", minutes, emp.MaxMinutes) {
			return false
		}
	}
	// Runs of working days and of days off. Runs touching day 0 or the last
	// day are exempt from the minimums (the horizon is embedded in unknown
	// work), but not from the maximum (days outside count as off).
	last := len(row) - 1
	for start := 0; start <= last; {
		working := row[start] != Off
		end := start
		for end+1 <= last && (row[end+1] != Off) == working {
			end++
		}
		n := end - start + 1
		edge := start == 0 || end == last
		if working {
			if n > emp.MaxConsecutive {
				if fail(start, RuleMaxConsecutive, "works %d days in a row, maximum %d", n, emp.MaxConsecutive) {
					return false
				}
			}
			if !edge && n < emp.MinConsecutive {
				if fail(start, RuleMinConsecutive, "works %d days in a row, minimum %d", n, emp.MinConsecutive) {
					return false
				}
			}
		} else if !edge && n < emp.MinConsecutiveOff {
			if fail(start, RuleMinConsecutiveOff, "%d days off in a row, minimum %d", n, emp.MinConsecutiveOff) {
				return false
			}
		}
		start = end + 1
	}
	worked := 0
	for _, w := range p.Weekends {
		for d := w.First; d <= w.Last; d++ {
			if row[d] != Off {
				worked++
				break
			}
		}
	}
	if worked > emp.MaxWeekends {
		fail(-1, RuleMaxWeekends, "works %d weekends, maximum %d", worked, emp.MaxWeekends)
	}
	return ok
}
