package nrp

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"vigil/internal/schedule/solver"
)

// ReadRoster reads the benchmark's roster format: one line per employee in
// staff order, one tab-separated cell per day holding a shift ID or nothing
// for a day off. LF and CRLF are accepted; trailing blank lines are ignored.
func ReadRoster(r io.Reader, p *solver.Problem) (solver.Roster, error) {
	shift := make(map[string]int, len(p.Shifts))
	for i, s := range p.Shifts {
		shift[s.ID] = i
	}
	sc := bufio.NewScanner(io.LimitReader(r, maxFileBytes))
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	var ro solver.Roster
	line, blank := 0, 0
	for sc.Scan() {
		line++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			blank++
			continue
		}
		if blank > 0 {
			return nil, &Error{Line: line, Msg: "blank line inside the roster"}
		}
		if len(ro) == len(p.Employees) {
			return nil, &Error{Line: line, Msg: fmt.Sprintf("more than %d rows (one per employee)", len(p.Employees))}
		}
		cells := strings.Split(text, "\t")
		if len(cells) != p.Days {
			return nil, &Error{Line: line, Msg: fmt.Sprintf("employee %s: %d cells, want %d (one per day)", p.Employees[len(ro)].ID, len(cells), p.Days)}
		}
		row := make([]int, p.Days)
		for d, c := range cells {
			c = strings.TrimSpace(c)
			if c == "" {
				row[d] = solver.Off
				continue
			}
			s, ok := shift[c]
			if !ok {
				return nil, &Error{Line: line, Msg: fmt.Sprintf("day %d: unknown shift %q", d, clip(c))}
			}
			row[d] = s
		}
		ro = append(ro, row)
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{Line: line + 1, Msg: err.Error()}
	}
	if len(ro) != len(p.Employees) {
		return nil, &Error{Msg: fmt.Sprintf("roster has %d rows, want %d (one per employee)", len(ro), len(p.Employees))}
	}
	return ro, nil
}

// WriteRoster writes ro in the format ReadRoster reads, with LF endings.
func WriteRoster(w io.Writer, p *solver.Problem, ro solver.Roster) error {
	bw := bufio.NewWriter(w)
	for _, row := range ro {
		for d, s := range row {
			if d > 0 {
				bw.WriteByte('\t')
			}
			if s != solver.Off {
				if s < 0 || s >= len(p.Shifts) {
					return fmt.Errorf("nrp: roster cell %d is not a shift index", s)
				}
				bw.WriteString(p.Shifts[s].ID)
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
