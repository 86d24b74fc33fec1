// Package solver is vigil's roster optimiser: a general model of employees,
// days, shift types and coverage targets, an evaluator that splits the
// objective into its parts and names every hard violation, and a search that
// returns the best feasible roster it finds within a time or iteration limit.
//
// The package is pure (no I/O). The workforce module maps officers, posts and
// licences onto this model; the benchmark file format lives in package nrp.
//
// Every hard rule concerns a single employee's row, so feasibility of a roster
// is the feasibility of each row; coverage and requests are soft and priced.
// The solver exploits this: an exact per-employee dynamic programme
// re-optimises one row against the coverage left by everybody else.
package solver

import (
	"errors"
	"fmt"
)

// Off marks a day off in a Roster cell.
const Off = -1

// Unlimited is a limit large enough never to bind; use it for contract fields
// that have no limit (a literal 0 means "never", as the benchmark uses it).
const Unlimited = 1 << 30

// Shift is a shift type (a post's day, late or night duty, say).
type Shift struct {
	ID      string
	Minutes int
	// ForbiddenNext lists shift indexes that may not be worked on the day
	// after this one (minimum rest between duties).
	ForbiddenNext []int
}

// Employee is one officer and their contract limits. All limits are literal:
// MaxShifts[s] == 0 means the employee is not qualified (licensed) for s.
type Employee struct {
	ID string
	// MaxShifts is indexed by shift type.
	MaxShifts         []int
	MinMinutes        int
	MaxMinutes        int
	MinConsecutive    int // shortest run of working days, except runs touching the horizon's edges
	MaxConsecutive    int // longest run of working days; days outside the horizon are off
	MinConsecutiveOff int // shortest run of days off, except runs touching the edges
	MaxWeekends       int // worked weekends; a weekend is worked if any of its days is
	DaysOff           []int
}

// Request is a soft wish of an employee to work (on-request) or not to work
// (off-request) shift Shift on day Day; Weight is paid when it is not granted.
type Request struct {
	Employee, Day, Shift, Weight int
}

// Cover is the staffing target of one shift on one day; every missing person
// costs WeightUnder, every surplus person WeightOver.
type Cover struct {
	Requirement, WeightUnder, WeightOver int
}

// DayRange is an inclusive range of days.
type DayRange struct {
	First, Last int
}

// Problem is one rostering instance.
type Problem struct {
	Name      string
	Days      int
	Shifts    []Shift
	Employees []Employee
	// Weekends are disjoint ranges of consecutive days; each counts once
	// against MaxWeekends if any of its days is worked.
	Weekends    []DayRange
	OnRequests  []Request
	OffRequests []Request
	// Cover is indexed [day][shift].
	Cover [][]Cover
}

// WeekendsFromMonday returns the Saturday–Sunday ranges of a horizon whose
// day 0 is a Monday, the benchmark's convention.
func WeekendsFromMonday(days int) []DayRange {
	var w []DayRange
	for sat := 5; sat < days; sat += 7 {
		last := sat + 1
		if last >= days {
			last = days - 1
		}
		w = append(w, DayRange{sat, last})
	}
	return w
}

// Roster assigns each employee (first index) on each day (second index) a
// shift index or Off.
type Roster [][]int

// NewRoster returns an all-off roster shaped for p.
func NewRoster(p *Problem) Roster {
	r := make(Roster, len(p.Employees))
	for e := range r {
		r[e] = make([]int, p.Days)
		for d := range r[e] {
			r[e][d] = Off
		}
	}
	return r
}

// Clone returns a deep copy.
func (r Roster) Clone() Roster {
	c := make(Roster, len(r))
	for i, row := range r {
		c[i] = append([]int(nil), row...)
	}
	return c
}

// maxDays bounds the horizon so that int32 DP costs and allocation stay
// bounded whatever a caller or a file asks for.
const maxDays = 4000

// maxWeight bounds weights and requirements so objective sums cannot overflow.
const maxWeight = 1_000_000

// Validate reports the first structural problem (bad index, negative weight,
// wrong dimensions); it does not judge whether a feasible roster exists.
func (p *Problem) Validate() error {
	if p == nil {
		return errors.New("schedule: nil problem")
	}
	if p.Days <= 0 || p.Days > maxDays {
		return fmt.Errorf("schedule: horizon of %d days is outside 1..%d", p.Days, maxDays)
	}
	S := len(p.Shifts)
	if S == 0 || S > 127 {
		return fmt.Errorf("schedule: %d shift types, want 1..127", S)
	}
	for i, s := range p.Shifts {
		if s.Minutes <= 0 || s.Minutes > 24*60*7 {
			return fmt.Errorf("schedule: shift %q: length %d minutes is out of range", s.ID, s.Minutes)
		}
		for _, f := range s.ForbiddenNext {
			if f < 0 || f >= S {
				return fmt.Errorf("schedule: shift %q: forbidden successor %d out of range", p.Shifts[i].ID, f)
			}
		}
	}
	if len(p.Employees) == 0 {
		return errors.New("schedule: no employees")
	}
	for _, e := range p.Employees {
		if len(e.MaxShifts) != S {
			return fmt.Errorf("schedule: employee %q: %d shift limits for %d shift types", e.ID, len(e.MaxShifts), S)
		}
		for _, m := range e.MaxShifts {
			if m < 0 {
				return fmt.Errorf("schedule: employee %q: negative shift limit", e.ID)
			}
		}
		if e.MinMinutes < 0 || e.MaxMinutes < 0 || e.MinConsecutive < 0 || e.MaxConsecutive < 0 ||
			e.MinConsecutiveOff < 0 || e.MaxWeekends < 0 {
			return fmt.Errorf("schedule: employee %q: negative contract limit", e.ID)
		}
		for _, d := range e.DaysOff {
			if d < 0 || d >= p.Days {
				return fmt.Errorf("schedule: employee %q: day off %d outside the horizon", e.ID, d)
			}
		}
	}
	prev := -1
	for _, w := range p.Weekends {
		if w.First <= prev || w.Last < w.First || w.Last >= p.Days {
			return fmt.Errorf("schedule: weekend %d..%d is out of order or outside the horizon", w.First, w.Last)
		}
		prev = w.Last
	}
	for _, rs := range [][]Request{p.OnRequests, p.OffRequests} {
		for _, q := range rs {
			if q.Employee < 0 || q.Employee >= len(p.Employees) || q.Day < 0 || q.Day >= p.Days ||
				q.Shift < 0 || q.Shift >= S || q.Weight < 0 || q.Weight > maxWeight {
				return fmt.Errorf("schedule: request %+v out of range", q)
			}
		}
	}
	if len(p.Cover) != p.Days {
		return fmt.Errorf("schedule: cover has %d days, horizon %d", len(p.Cover), p.Days)
	}
	for d, row := range p.Cover {
		if len(row) != S {
			return fmt.Errorf("schedule: cover of day %d has %d shifts, want %d", d, len(row), S)
		}
		for _, c := range row {
			if c.Requirement < 0 || c.WeightUnder < 0 || c.WeightOver < 0 ||
				c.Requirement > maxWeight || c.WeightUnder > maxWeight || c.WeightOver > maxWeight {
				return fmt.Errorf("schedule: cover of day %d: requirement or weight out of 0..%d", d, maxWeight)
			}
		}
	}
	return nil
}
