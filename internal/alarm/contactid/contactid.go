// Package contactid decodes Ademco Contact ID (SIA DC-05) events: the
// "QEEE GG CCC" payload carried in DC-09 ADM-CID frames and the 16-digit
// raw form "ACCT MT Q EEE GG CCC S" with its checksum, plus the full event
// code table with meanings and classes. It is pure and does no I/O.
package contactid

import (
	"errors"
	"fmt"
	"strconv"
)

// Class groups event codes the way an operator console sorts them.
type Class string

const (
	ClassFire        Class = "fire"
	ClassPanic       Class = "panic"
	ClassMedical     Class = "medical"
	ClassBurglary    Class = "burglary"
	ClassTamper      Class = "tamper"
	ClassAlarm       Class = "alarm" // 24-hour non-burglary: gas, water, temperature, CO
	ClassTrouble     Class = "trouble"
	ClassSupervisory Class = "supervisory"
	ClassOpenClose   Class = "openclose"
	ClassAccess      Class = "access"
	ClassRemote      Class = "remote" // remote programming / download
	ClassBypass      Class = "bypass"
	ClassTest        Class = "test"
	ClassRestore     Class = "restore" // any non-open/close event with qualifier 3
	ClassOther       Class = "other"
)

// NumberKind says what the CCC field counts for a code.
type NumberKind string

const (
	NumberZone       NumberKind = "zone"
	NumberUser       NumberKind = "user"
	NumberDownloader NumberKind = "downloader"
	NumberNone       NumberKind = "none"
)

// Code is one row of the DC-05 event code table. SIAEvent and SIARestore
// are the two-letter SIA codes pysiaalarm maps qualifier 1 and 3 to (empty
// where it has none).
type Code struct {
	Code        int
	Description string
	Number      NumberKind
	Group       string
	Class       Class
	SIAEvent    string
	SIARestore  string
}

// Lookup returns the table row for an event code.
func Lookup(code int) (Code, bool) {
	c, ok := codes[code]
	return c, ok
}

// Qualifier is Contact ID's Q digit.
type Qualifier int

const (
	QualifierNew     Qualifier = 1 // new event; for open/close codes: opening (disarm)
	QualifierRestore Qualifier = 3 // restore; for open/close codes: closing (arm)
	QualifierStatus  Qualifier = 6 // previously reported condition still present
)

// Errors from the parsers; wrapped with detail.
var (
	ErrSyntax   = errors.New("contactid: syntax")
	ErrChecksum = errors.New("contactid: checksum")
)

// Event is one Contact ID event.
type Event struct {
	Account     string    // raw form: 4 characters; DC-09: the data block's "#acct|" (may be empty)
	MessageType string    // raw form only: "18" or "98"
	Qualifier   Qualifier // 1, 3 or 6
	Code        int       // EEE
	Partition   int       // GG, 0 = none
	Number      int       // CCC: zone or user (see Kind)
}

// Info returns the table row for the event's code; unknown codes get a
// row saying so, so callers never have to special-case them.
func (e Event) Info() Code {
	if c, ok := codes[e.Code]; ok {
		return c
	}
	c := Code{Code: e.Code, Description: fmt.Sprintf("Unknown event %03d", e.Code), Number: NumberZone, Class: ClassOther}
	if m, ok := siaOnly[e.Code]; ok {
		c.SIAEvent, c.SIARestore = m[0], m[1]
	}
	return c
}

// Meaning is the code's description, qualified as restore/opening/closing.
func (e Event) Meaning() string {
	c := e.Info()
	switch {
	case c.Class == ClassOpenClose && e.Qualifier == QualifierNew:
		return c.Description + " (opening)"
	case c.Class == ClassOpenClose && e.Qualifier == QualifierRestore:
		return c.Description + " (closing)"
	case e.Qualifier == QualifierRestore:
		return c.Description + " restore"
	case e.Qualifier == QualifierStatus:
		return c.Description + " (still present)"
	}
	return c.Description
}

// Class is the code's class, except that a restore of anything but an
// open/close code is ClassRestore.
func (e Event) Class() Class {
	c := e.Info().Class
	if e.Qualifier == QualifierRestore && c != ClassOpenClose {
		return ClassRestore
	}
	return c
}

// Kind says whether Number is a zone or a user.
func (e Event) Kind() NumberKind { return e.Info().Number }

// SIACode is the two-letter SIA code pysiaalarm maps the event to, or ""
// when the mapping has no row for it.
func (e Event) SIACode() string {
	c := e.Info()
	if e.Qualifier == QualifierRestore {
		return c.SIARestore
	}
	return c.SIAEvent
}

// ParseDC09 reads the payload of an ADM-CID data block: "QEEE GG CCC",
// optionally preceded by "#acct|" (the account repeated). Inside DC-09 there
// is no message type and no checksum. The spaces are optional.
func ParseDC09(payload string) (Event, error) {
	var e Event
	s := payload
	if len(s) > 0 && s[0] == '#' {
		i := 1
		for i < len(s) && s[i] != '|' {
			i++
		}
		if i == len(s) {
			return e, fmt.Errorf("%w: %q: '#account' without '|'", ErrSyntax, payload)
		}
		e.Account, s = s[1:i], s[i+1:]
	}
	d, ok := digitsWithSpaces(s, []int{4, 2, 3})
	if !ok {
		return e, fmt.Errorf("%w: %q is not QEEE GG CCC", ErrSyntax, payload)
	}
	return e, e.fill(d)
}

func (e *Event) fill(d string) error {
	e.Qualifier = Qualifier(d[0] - '0')
	e.Code, _ = strconv.Atoi(d[1:4])
	e.Partition, _ = strconv.Atoi(d[4:6])
	e.Number, _ = strconv.Atoi(d[6:9])
	switch e.Qualifier {
	case QualifierNew, QualifierRestore, QualifierStatus:
		return nil
	}
	return fmt.Errorf("%w: qualifier %d (want 1, 3 or 6)", ErrSyntax, e.Qualifier)
}

// digitsWithSpaces accepts decimal groups of the given sizes separated by
// single optional spaces and returns the digits joined.
func digitsWithSpaces(s string, groups []int) (string, bool) {
	out := make([]byte, 0, 16)
	for gi, n := range groups {
		if gi > 0 && len(s) > 0 && s[0] == ' ' {
			s = s[1:]
		}
		if len(s) < n {
			return "", false
		}
		for i := 0; i < n; i++ {
			if s[i] < '0' || s[i] > '9' {
				return "", false
			}
		}
		out = append(out, s[:n]...)
		s = s[n:]
	}
	return string(out), s == ""
}

// digitValue is a DTMF digit's checksum weight: 0 counts as 10, B-F as 11-15.
func digitValue(c byte) int {
	switch {
	case c == '0':
		return 10
	case c >= '1' && c <= '9':
		return int(c - '0')
	case c >= 'B' && c <= 'F':
		return int(c-'B') + 11
	case c >= 'b' && c <= 'f':
		return int(c-'b') + 11
	}
	return -1
}

// Checksum returns the check digit S for the 15 digits before it: the
// digit that makes the weighted sum a multiple of 15 (written 1-9, 0 for
// 10, B-F for 11-15).
func Checksum(digits15 string) (byte, error) {
	if len(digits15) != 15 {
		return 0, fmt.Errorf("%w: want 15 digits, got %d", ErrSyntax, len(digits15))
	}
	sum := 0
	for i := 0; i < 15; i++ {
		v := digitValue(digits15[i])
		if v < 0 {
			return 0, fmt.Errorf("%w: %q is not a Contact ID digit", ErrSyntax, digits15[i])
		}
		sum += v
	}
	return checkDigits[15-sum%15], nil
}

// checkDigits maps a check value 1..15 to its character.
const checkDigits = "?1234567890BCDEF"

// ParseRaw reads the 16-digit form "ACCT MT Q EEE GG CCC S" (spaces
// optional) and verifies the checksum.
func ParseRaw(s string) (Event, error) {
	var e Event
	b := make([]byte, 0, 16)
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			b = append(b, s[i])
		}
	}
	if len(b) != 16 {
		return e, fmt.Errorf("%w: %q: want 16 digits", ErrSyntax, s)
	}
	sum := 0
	for i, c := range b {
		v := digitValue(c)
		if v < 0 || i >= 4 && i < 15 && (c < '0' || c > '9') {
			return e, fmt.Errorf("%w: %q: bad digit %q", ErrSyntax, s, c)
		}
		sum += v
	}
	if sum%15 != 0 {
		return e, fmt.Errorf("%w: %q: digit sum %d is not a multiple of 15", ErrChecksum, s, sum)
	}
	e.Account = upper(string(b[:4]))
	e.MessageType = string(b[4:6])
	if e.MessageType != "18" && e.MessageType != "98" {
		return e, fmt.Errorf("%w: message type %s (want 18 or 98)", ErrSyntax, e.MessageType)
	}
	return e, e.fill(string(b[6:15]))
}

// Raw formats e as the 16-digit form with its checksum ("1234181131010158").
// Account must be 4 Contact ID digits; MessageType defaults to 18.
func (e Event) Raw() (string, error) {
	mt := e.MessageType
	if mt == "" {
		mt = "18"
	}
	if e.Code < 0 || e.Code > 999 || e.Partition < 0 || e.Partition > 99 || e.Number < 0 || e.Number > 999 || e.Qualifier < 0 || e.Qualifier > 9 {
		return "", fmt.Errorf("%w: field out of range", ErrSyntax)
	}
	d := fmt.Sprintf("%4s%s%d%03d%02d%03d", e.Account, mt, e.Qualifier, e.Code, e.Partition, e.Number)
	s, err := Checksum(d)
	if err != nil {
		return "", err
	}
	return d + string(s), nil
}

// DC09 formats e as an ADM-CID payload "#acct|QEEE GG CCC" (without
// "#acct|" when Account is empty).
func (e Event) DC09() string {
	p := fmt.Sprintf("%d%03d %02d %03d", e.Qualifier, e.Code, e.Partition, e.Number)
	if e.Account != "" {
		return "#" + e.Account + "|" + p
	}
	return p
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
