// Package nrp reads the text formats of the Curtois & Qu employee shift
// scheduling benchmark (schedulingbenchmarks.org, "nrp" instances) into
// vigil's general rostering model, and reads and writes its roster format.
//
// The instance format is comma-separated sections (SECTION_HORIZON,
// SECTION_SHIFTS, SECTION_STAFF, SECTION_DAYS_OFF, SECTION_SHIFT_ON_REQUESTS,
// SECTION_SHIFT_OFF_REQUESTS, SECTION_COVER), '#' comments, blank lines
// between sections, LF or CRLF line endings. Errors name the line.
package nrp

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"vigil/internal/schedule/solver"
)

// Limits that keep a hostile or corrupt file from allocating without bound.
const (
	maxFileBytes = 64 << 20
	maxLineBytes = 1 << 20
	maxDays      = 4000
	maxStaff     = 10000
	maxShifts    = 127
	maxCells     = 4_000_000 // staff × days
)

// Error is a parse error with its 1-based line number.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return "nrp: " + e.Msg
	}
	return fmt.Sprintf("nrp: line %d: %s", e.Line, e.Msg)
}

type parser struct {
	p      *solver.Problem
	line   int
	shift  map[string]int
	staff  map[string]int
	covers map[[2]int]bool
}

func (ps *parser) errf(format string, args ...any) error {
	return &Error{Line: ps.line, Msg: fmt.Sprintf(format, args...)}
}

// order is the required section order.
var order = []string{"HORIZON", "SHIFTS", "STAFF", "DAYS_OFF", "SHIFT_ON_REQUESTS", "SHIFT_OFF_REQUESTS", "COVER"}

// Parse reads an instance. name becomes Problem.Name. The result is
// validated; every (day, shift) pair without a cover line gets requirement 0
// with zero weights.
func Parse(r io.Reader, name string) (*solver.Problem, error) {
	ps := &parser{
		p:      &solver.Problem{Name: name, Days: -1},
		shift:  map[string]int{},
		staff:  map[string]int{},
		covers: map[[2]int]bool{},
	}
	sc := bufio.NewScanner(io.LimitReader(r, maxFileBytes))
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	section := ""
	next := 0 // index into order of the next allowed section
	// Forbidden-next lists name shifts that may be defined later in the
	// section, so they are resolved after it closes.
	var pendingForbid [][]string
	var pendingForbidLine []int
	var staffLimits []string
	var staffLine []int
	closeSection := func() error {
		// Errors found here belong to earlier lines; restore the counter.
		defer func(l int) { ps.line = l }(ps.line)
		switch section {
		case "SHIFTS":
			for i, names := range pendingForbid {
				for _, n := range names {
					s, ok := ps.shift[n]
					if !ok {
						ps.line = pendingForbidLine[i]
						return ps.errf("shift %q forbids unknown shift %q", ps.p.Shifts[i].ID, n)
					}
					ps.p.Shifts[i].ForbiddenNext = append(ps.p.Shifts[i].ForbiddenNext, s)
				}
			}
		case "STAFF":
			for i, lim := range staffLimits {
				ps.line = staffLine[i]
				if err := ps.parseLimits(&ps.p.Employees[i], lim); err != nil {
					return err
				}
			}
		}
		section = ""
		return nil
	}
	for sc.Scan() {
		ps.line++
		line := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line == "" {
			if err := closeSection(); err != nil {
				return nil, err
			}
			continue
		}
		if name, ok := strings.CutPrefix(line, "SECTION_"); ok {
			if err := closeSection(); err != nil {
				return nil, err
			}
			i := indexOf(order, name)
			if i < 0 {
				return nil, ps.errf("unknown section %q", line)
			}
			if i < next {
				return nil, ps.errf("section %s is repeated or out of order", name)
			}
			if i > 0 && ps.p.Days < 0 {
				return nil, ps.errf("section %s before SECTION_HORIZON", name)
			}
			if i > 1 && len(ps.p.Shifts) == 0 {
				return nil, ps.errf("section %s before any shift is defined", name)
			}
			if i > 2 && len(ps.p.Employees) == 0 {
				return nil, ps.errf("section %s before any staff is defined", name)
			}
			next = i + 1
			section = name
			continue
		}
		f := strings.Split(line, ",")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		var err error
		switch section {
		case "":
			err = ps.errf("data outside a section: %q", clip(line))
		case "HORIZON":
			err = ps.horizon(f)
		case "SHIFTS":
			var forbid []string
			forbid, err = ps.shiftLine(f)
			pendingForbid = append(pendingForbid, forbid)
			pendingForbidLine = append(pendingForbidLine, ps.line)
		case "STAFF":
			var lim string
			lim, err = ps.staffLine(f)
			staffLimits = append(staffLimits, lim)
			staffLine = append(staffLine, ps.line)
		case "DAYS_OFF":
			err = ps.daysOff(f)
		case "SHIFT_ON_REQUESTS":
			err = ps.request(f, &ps.p.OnRequests)
		case "SHIFT_OFF_REQUESTS":
			err = ps.request(f, &ps.p.OffRequests)
		case "COVER":
			err = ps.cover(f)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{Line: ps.line + 1, Msg: err.Error()}
	}
	if err := closeSection(); err != nil {
		return nil, err
	}
	ps.line = 0
	switch {
	case ps.p.Days < 0:
		return nil, ps.errf("missing SECTION_HORIZON")
	case len(ps.p.Shifts) == 0:
		return nil, ps.errf("no shifts (SECTION_SHIFTS missing or empty)")
	case len(ps.p.Employees) == 0:
		return nil, ps.errf("no staff (SECTION_STAFF missing or empty)")
	case next < len(order):
		return nil, ps.errf("missing SECTION_%s", order[len(order)-1])
	}
	if len(ps.p.Cover) == 0 {
		ps.fillCover()
	}
	ps.p.Weekends = solver.WeekendsFromMonday(ps.p.Days)
	if err := ps.p.Validate(); err != nil {
		return nil, &Error{Msg: err.Error()}
	}
	return ps.p, nil
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

func (ps *parser) atoi(field, what string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(field)
	if err != nil {
		return 0, ps.errf("%s: %q is not an integer", what, clip(field))
	}
	if n < lo || n > hi {
		return 0, ps.errf("%s: %d is outside %d..%d", what, n, lo, hi)
	}
	return n, nil
}

func (ps *parser) fields(f []string, want int, what string) error {
	if len(f) != want {
		return ps.errf("%s line has %d fields, want %d", what, len(f), want)
	}
	return nil
}

func (ps *parser) horizon(f []string) error {
	if ps.p.Days >= 0 {
		return ps.errf("SECTION_HORIZON has more than one value")
	}
	if err := ps.fields(f, 1, "horizon"); err != nil {
		return err
	}
	n, err := ps.atoi(f[0], "horizon", 1, maxDays)
	if err != nil {
		return err
	}
	ps.p.Days = n
	return nil
}

func (ps *parser) shiftLine(f []string) ([]string, error) {
	if err := ps.fields(f, 3, "shift"); err != nil {
		return nil, err
	}
	id := f[0]
	if id == "" {
		return nil, ps.errf("empty shift ID")
	}
	if _, dup := ps.shift[id]; dup {
		return nil, ps.errf("duplicate shift ID %q", clip(id))
	}
	if len(ps.p.Shifts) >= maxShifts {
		return nil, ps.errf("more than %d shift types", maxShifts)
	}
	mins, err := ps.atoi(f[1], "shift length", 1, 24*60*7)
	if err != nil {
		return nil, err
	}
	ps.shift[id] = len(ps.p.Shifts)
	ps.p.Shifts = append(ps.p.Shifts, solver.Shift{ID: id, Minutes: mins})
	var forbid []string
	if f[2] != "" {
		for _, n := range strings.Split(f[2], "|") {
			forbid = append(forbid, strings.TrimSpace(n))
		}
	}
	return forbid, nil
}

func (ps *parser) staffLine(f []string) (string, error) {
	if err := ps.fields(f, 8, "staff"); err != nil {
		return "", err
	}
	id := f[0]
	if id == "" {
		return "", ps.errf("empty staff ID")
	}
	if _, dup := ps.staff[id]; dup {
		return "", ps.errf("duplicate staff ID %q", clip(id))
	}
	if len(ps.p.Employees) >= maxStaff || (len(ps.p.Employees)+1)*ps.p.Days > maxCells {
		return "", ps.errf("too many staff for this horizon")
	}
	const big = 1 << 30
	e := solver.Employee{ID: id}
	var err error
	vals := []*int{&e.MaxMinutes, &e.MinMinutes, &e.MaxConsecutive, &e.MinConsecutive, &e.MinConsecutiveOff, &e.MaxWeekends}
	names := []string{"MaxTotalMinutes", "MinTotalMinutes", "MaxConsecutiveShifts", "MinConsecutiveShifts", "MinConsecutiveDaysOff", "MaxWeekends"}
	for i, v := range vals {
		if *v, err = ps.atoi(f[2+i], names[i], 0, big); err != nil {
			return "", err
		}
	}
	ps.staff[id] = len(ps.p.Employees)
	ps.p.Employees = append(ps.p.Employees, e)
	return f[1], nil
}

// parseLimits reads "E=28|L=0"; shifts it does not name are unlimited.
func (ps *parser) parseLimits(e *solver.Employee, s string) error {
	e.MaxShifts = make([]int, len(ps.p.Shifts))
	for i := range e.MaxShifts {
		e.MaxShifts[i] = solver.Unlimited
	}
	if s == "" {
		return nil
	}
	named := make([]bool, len(ps.p.Shifts))
	for _, kv := range strings.Split(s, "|") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return ps.errf("staff %q: shift limit %q is not ShiftID=limit", e.ID, clip(kv))
		}
		si, ok := ps.shift[strings.TrimSpace(k)]
		if !ok {
			return ps.errf("staff %q: limit for unknown shift %q", e.ID, clip(k))
		}
		if named[si] {
			return ps.errf("staff %q: shift %q limited twice", e.ID, k)
		}
		named[si] = true
		n, err := ps.atoi(strings.TrimSpace(v), "shift limit", 0, 1<<30)
		if err != nil {
			return err
		}
		e.MaxShifts[si] = n
	}
	return nil
}

func (ps *parser) employee(id string) (int, error) {
	e, ok := ps.staff[id]
	if !ok {
		return 0, ps.errf("unknown staff ID %q", clip(id))
	}
	return e, nil
}

func (ps *parser) daysOff(f []string) error {
	if len(f) < 1 {
		return ps.errf("days-off line is empty")
	}
	e, err := ps.employee(f[0])
	if err != nil {
		return err
	}
	for _, x := range f[1:] {
		if x == "" {
			continue
		}
		d, err := ps.atoi(x, "day off", 0, ps.p.Days-1)
		if err != nil {
			return err
		}
		ps.p.Employees[e].DaysOff = append(ps.p.Employees[e].DaysOff, d)
	}
	return nil
}

func (ps *parser) request(f []string, dst *[]solver.Request) error {
	if err := ps.fields(f, 4, "request"); err != nil {
		return err
	}
	e, err := ps.employee(f[0])
	if err != nil {
		return err
	}
	d, err := ps.atoi(f[1], "request day", 0, ps.p.Days-1)
	if err != nil {
		return err
	}
	s, ok := ps.shift[f[2]]
	if !ok {
		return ps.errf("request names unknown shift %q", clip(f[2]))
	}
	w, err := ps.atoi(f[3], "request weight", 0, 1_000_000)
	if err != nil {
		return err
	}
	if len(*dst) >= maxCells {
		return ps.errf("too many requests")
	}
	*dst = append(*dst, solver.Request{Employee: e, Day: d, Shift: s, Weight: w})
	return nil
}

func (ps *parser) fillCover() {
	ps.p.Cover = make([][]solver.Cover, ps.p.Days)
	for d := range ps.p.Cover {
		ps.p.Cover[d] = make([]solver.Cover, len(ps.p.Shifts))
	}
}

func (ps *parser) cover(f []string) error {
	if err := ps.fields(f, 5, "cover"); err != nil {
		return err
	}
	if ps.p.Cover == nil {
		ps.fillCover()
	}
	d, err := ps.atoi(f[0], "cover day", 0, ps.p.Days-1)
	if err != nil {
		return err
	}
	s, ok := ps.shift[f[1]]
	if !ok {
		return ps.errf("cover names unknown shift %q", clip(f[1]))
	}
	if ps.covers[[2]int{d, s}] {
		return ps.errf("second cover line for day %d shift %s", d, f[1])
	}
	ps.covers[[2]int{d, s}] = true
	var c solver.Cover
	if c.Requirement, err = ps.atoi(f[2], "requirement", 0, 1_000_000); err != nil {
		return err
	}
	if c.WeightUnder, err = ps.atoi(f[3], "under-cover weight", 0, 1_000_000); err != nil {
		return err
	}
	if c.WeightOver, err = ps.atoi(f[4], "over-cover weight", 0, 1_000_000); err != nil {
		return err
	}
	ps.p.Cover[d][s] = c
	return nil
}
