// Package sia decodes SIA DC-03 ("SIA format", DC-09 token SIA-DCS) data
// blocks: "#acct|N<modifiers><CC><number>[^text^]/…[|A<text>]", with the
// full two-letter code table and the alarm/restore pairs. It is pure and
// does no I/O.
package sia

import (
	"errors"
	"fmt"
)

// Class groups codes for routing; the same names as package contactid.
type Class string

const (
	ClassFire        Class = "fire"
	ClassPanic       Class = "panic"
	ClassMedical     Class = "medical"
	ClassBurglary    Class = "burglary"
	ClassTamper      Class = "tamper"
	ClassAlarm       Class = "alarm"
	ClassTrouble     Class = "trouble"
	ClassSupervisory Class = "supervisory"
	ClassOpenClose   Class = "openclose"
	ClassAccess      Class = "access"
	ClassBypass      Class = "bypass"
	ClassTest        Class = "test"
	ClassRestore     Class = "restore"
	ClassOther       Class = "other"
)

// Code is one row of the two-letter code table. Number says what the
// number after the code counts ("Zone or point", "User number", "Area
// number", "Unused", …), as the table words it.
type Code struct {
	Code    string
	Meaning string
	Number  string
	Class   Class
}

// Lookup returns the table row for a two-letter code.
func Lookup(code string) (Code, bool) {
	c, ok := codes[code]
	return c, ok
}

// ErrSyntax is returned (wrapped) for a data block that cannot be read.
var ErrSyntax = errors.New("sia: syntax")

// Modifier is a lower-case field such as ri (area), id (user), ti (time)
// or pi (peripheral), with the optional ^name^ that followed it.
type Modifier struct {
	Name, Value, Text string
}

// Event is one code in a block with the modifiers in force for it.
type Event struct {
	Code       string
	Number     string // zone, user, area… per the code's Number column; may be empty
	Area       string // ri
	AreaName   string // ^text^ after ri
	User       string // id
	UserName   string // ^text^ after id
	Time       string // ti
	Peripheral string // pi
	Text       string // ^text^ after the code and number
	Extra      string // anything else up to the next '/', kept verbatim
	Modifiers  []Modifier
}

// Info returns the code's table row (an "Unknown code" row if absent).
func (e Event) Info() Code {
	if c, ok := codes[e.Code]; ok {
		return c
	}
	return Code{Code: e.Code, Meaning: "Unknown code " + e.Code, Number: "Unknown", Class: ClassOther}
}

// Meaning is the code's meaning from the table.
func (e Event) Meaning() string { return e.Info().Meaning }

// Class is the code's class.
func (e Event) Class() Class { return e.Info().Class }

// Message is a parsed data block.
type Message struct {
	Account string // from "#acct|", empty if absent
	Old     bool   // block started with 'O' (old event) rather than 'N'
	Events  []Event
	Text    string // "|A<text>" ASCII block
	// Modifiers that followed the last event (kept, rarely used).
	Trailing []Modifier
}

// Parse reads a SIA-DCS data block. Modifiers stay in force for the events
// after them (an area given once covers the following codes); an event
// code is two upper-case letters followed by an optional number.
func Parse(block string) (Message, error) {
	var m Message
	s := block
	if len(s) > 0 && s[0] == '#' {
		i := 1
		for i < len(s) && s[i] != '|' {
			i++
		}
		if i == len(s) {
			return m, fmt.Errorf("%w: %q: '#account' without '|'", ErrSyntax, block)
		}
		m.Account, s = s[1:i], s[i+1:]
	}
	if len(s) > 0 && (s[0] == 'N' || s[0] == 'O') && (len(s) == 1 || !isUpper(s[1]) || len(s) > 2 && isUpper(s[2])) {
		// 'N'/'O' prefix; but "NL501" is the code NL, not N + "L5…".
		m.Old = s[0] == 'O'
		s = s[1:]
	}
	var cur struct{ area, areaName, user, userName, time, peri string }
	var mods []Modifier
	var last *Event
	lastMod := -1
	for len(s) > 0 {
		c := s[0]
		switch {
		case c == '/' || c == ' ':
			s = s[1:]
		case c == '|':
			rest := s[1:]
			if len(rest) > 0 && rest[0] == 'A' {
				m.Text = rest[1:]
			} else {
				m.Text = rest
			}
			s = ""
		case c == '^':
			j := 1
			for j < len(s) && s[j] != '^' {
				j++
			}
			if j == len(s) {
				return m, fmt.Errorf("%w: %q: unterminated ^text^", ErrSyntax, block)
			}
			text := s[1:j]
			s = s[j+1:]
			switch {
			case lastMod >= 0:
				mods[lastMod].Text = text
				switch mods[lastMod].Name {
				case "ri":
					cur.areaName = text
				case "id":
					cur.userName = text
				}
			case last != nil:
				last.Text += text
			default:
				m.Text += text
			}
		case isLower(c):
			if len(s) < 2 || !isLower(s[1]) {
				return m, fmt.Errorf("%w: %q: modifier needs two lower-case letters", ErrSyntax, block)
			}
			j := 2
			for j < len(s) && s[j] != '/' && s[j] != '^' && s[j] != '|' && !isUpper(s[j]) && !isLower(s[j]) {
				j++
			}
			md := Modifier{Name: s[:2], Value: s[2:j]}
			s = s[j:]
			if last != nil && lastMod < 0 {
				mods = nil // modifiers after an event start a new context
			}
			switch md.Name {
			case "ri":
				cur.area, cur.areaName = md.Value, ""
			case "id":
				cur.user, cur.userName = md.Value, ""
			case "ti":
				cur.time = md.Value
			case "pi":
				cur.peri = md.Value
			}
			mods = append(mods, md)
			lastMod = len(mods) - 1
		case isUpper(c):
			if len(s) < 2 || !isUpper(s[1]) {
				return m, fmt.Errorf("%w: %q: event code needs two upper-case letters", ErrSyntax, block)
			}
			j := 2
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			ev := Event{Code: s[:2], Number: s[2:j], Area: cur.area, AreaName: cur.areaName, User: cur.user,
				UserName: cur.userName, Time: cur.time, Peripheral: cur.peri, Modifiers: append([]Modifier(nil), mods...)}
			s = s[j:]
			// Extra text up to the next separator; a known code followed
			// by digits starts the next event instead.
			k := 0
			for k < len(s) && s[k] != '/' && s[k] != '^' && s[k] != '|' {
				if k+2 < len(s) && isUpper(s[k]) && isUpper(s[k+1]) && isDigit(s[k+2]) {
					if _, known := codes[s[k:k+2]]; known {
						break
					}
				}
				k++
			}
			ev.Extra = s[:k]
			s = s[k:]
			m.Events = append(m.Events, ev)
			last = &m.Events[len(m.Events)-1]
			lastMod = -1
		default:
			return m, fmt.Errorf("%w: %q: unexpected %q", ErrSyntax, block, c)
		}
	}
	if lastMod >= 0 && last != nil {
		m.Trailing = mods
	}
	if len(m.Events) == 0 {
		return m, fmt.Errorf("%w: %q: no event code", ErrSyntax, block)
	}
	return m, nil
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
