package dc09

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ID tokens of DC-09 (without the leading '*' of the encrypted form).
const (
	TokenSIA  = "SIA-DCS" // DC-03 SIA format event
	TokenCID  = "ADM-CID" // DC-05 Contact ID event
	TokenNull = "NULL"    // supervision poll / link test
	TokenACK  = "ACK"
	TokenNAK  = "NAK"
	TokenDUH  = "DUH"
	TokenRSP  = "RSP"
)

// MaxBody is the largest body the 0LLL length field can describe (0x0FFF).
const MaxBody = 0x0FFF

// MaxFrame is the largest possible frame: LF, 4-character CRC, 4-character
// length, body and CR.
const MaxFrame = 1 + 4 + 4 + MaxBody + 1

// Errors returned by Parse, Verify, Decrypt and CheckTime. They are wrapped
// with detail; test with errors.Is.
var (
	ErrFraming   = errors.New("dc09: framing")         // missing LF/CR, too short or too long
	ErrSyntax    = errors.New("dc09: syntax")          // header or block does not follow the grammar
	ErrCRC       = errors.New("dc09: crc mismatch")    // CRC does not match the body
	ErrLength    = errors.New("dc09: length mismatch") // length field does not match the body
	ErrQuirk     = errors.New("dc09: quirk not enabled for account")
	ErrKey       = errors.New("dc09: key")     // missing or wrong-sized key
	ErrDecrypt   = errors.New("dc09: decrypt") // ciphertext malformed or the key is wrong
	ErrTimestamp = errors.New("dc09: timestamp")
)

// Quirks are per-account tolerances for panels that deviate from the
// standard. They are switched on explicitly per account rather than
// auto-detected, so a corrupted frame from a conforming panel is never
// "repaired" into an accepted one.
type Quirks struct {
	// BinaryCRC accepts the CRC as two raw big-endian bytes (Lupus XT) and
	// makes replies use the same form.
	BinaryCRC bool `json:"binary_crc,omitempty"`
	// CRCIncludesCR accepts a CRC computed over the body plus the trailing CR
	// (ELDES).
	CRCIncludesCR bool `json:"crc_includes_cr,omitempty"`
	// DecimalLength accepts a length field written in decimal (ELDES).
	DecimalLength bool `json:"decimal_length,omitempty"`
	// NoPadTerminator accepts encrypted frames whose pad is not followed by
	// '|' (pysiaalarm-built frames, Ajax hubs).
	NoPadTerminator bool `json:"no_pad_terminator,omitempty"`
	// ClockOffset is how far the panel's clock runs ahead of UTC, for panels
	// that stamp messages in local time (pysiaalarm's device_timezone).
	// Callers apply it by checking the window against now+ClockOffset.
	ClockOffset time.Duration `json:"clock_offset,omitempty"`
	// Lenient enables every tolerance above except ClockOffset, plus: 'L'
	// with no digits or no 'L' at all, a receiver 'R' with no digits, a
	// non-decimal sequence, and an account of 1-2 characters.
	Lenient bool `json:"lenient,omitempty"`
}

// XData is an extended data block "[<ID><value>]". Unknown identifiers are
// kept so nothing a panel sent is lost.
type XData struct {
	ID    byte
	Value []byte
}

// deviation bits record grammar deviations Parse tolerated; Verify accepts
// them only under Quirks.Lenient.
const (
	devSeq = 1 << iota
	devEmptyLine
	devNoLine
	devEmptyReceiver
	devShortAccount
)

// Frame is one DC-09 message. Parse fills it from the wire; Marshal builds
// the wire form from it.
type Frame struct {
	// CRC is the CRC as transmitted; CRCBinary says it came as 2 raw bytes.
	CRC       uint16
	CRCBinary bool
	// CRCBody is the CRC computed over the body as received; CRCBodyCR over
	// the body plus the CR (ELDES quirk).
	CRCBody, CRCBodyCR uint16
	// LengthField holds the 4 length characters as received; BodyLen is the
	// real number of body bytes (from the opening '"' to before the CR).
	LengthField string
	BodyLen     int

	Token     string // without '*'
	Encrypted bool
	Sequence  string // kept verbatim: receivers echo whatever the panel sent
	Receiver  string // upper-case hex; valid only if HasReceiver
	Line      string // upper-case hex; valid only if HasLine (may be "" in lenient mode)
	Account   string // upper-case hex
	// AccountMarker is '#' normally and 'A' in the NAK form "A0". Zero means '#'.
	AccountMarker byte
	HasReceiver   bool
	HasLine       bool

	// Data is the content of the first [...] block. For encrypted frames it
	// is set by Decrypt.
	Data         string
	XData        []XData
	Timestamp    time.Time // UTC; valid only if HasTimestamp
	HasTimestamp bool

	// Sealed is the ciphertext hex of an encrypted frame as received.
	Sealed []byte
	// Pad holds the pad bytes found by Decrypt.
	Pad []byte
	// Decrypted is set once Decrypt has opened an encrypted frame.
	Decrypted bool

	dev int
}

// Parse reads one frame (LF … CR) and checks its grammar. It does not judge
// the CRC or length (see Verify) and does not decrypt (see Decrypt), because
// both depend on the account the header names. The returned Frame is non-nil
// whenever the envelope was recognised, so tools can show the CRC and length
// even for a frame with a bad header.
func Parse(raw []byte) (*Frame, error) {
	if len(raw) < 2 || raw[0] != '\n' || raw[len(raw)-1] != '\r' {
		return nil, fmt.Errorf("%w: a frame starts with LF and ends with CR", ErrFraming)
	}
	if len(raw) > MaxFrame {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrFraming, len(raw), MaxFrame)
	}
	f := &Frame{}
	var hdr int
	switch {
	case len(raw) > 10 && raw[9] == '"' && isHex(raw[1:5]):
		c, _ := strconv.ParseUint(string(raw[1:5]), 16, 16)
		f.CRC = uint16(c)
		hdr = 9
	case len(raw) > 8 && raw[7] == '"':
		f.CRC = uint16(raw[1])<<8 | uint16(raw[2])
		f.CRCBinary = true
		hdr = 7
	default:
		return nil, fmt.Errorf("%w: no ID token after CRC and length", ErrFraming)
	}
	f.LengthField = string(raw[hdr-4 : hdr])
	body := raw[hdr : len(raw)-1]
	f.BodyLen = len(body)
	f.CRCBody = CRC(body)
	f.CRCBodyCR = crcUpdate(f.CRCBody, []byte{'\r'})
	if !isAlnum(raw[hdr-4 : hdr]) {
		return f, fmt.Errorf("%w: length field %q", ErrSyntax, f.LengthField)
	}
	return f, f.parseBody(body)
}

func (f *Frame) parseBody(b []byte) error {
	// "TOKEN" or "*TOKEN"
	end := -1
	for i := 1; i < len(b) && i < 16; i++ {
		if b[i] == '"' {
			end = i
			break
		}
	}
	if end < 0 {
		return fmt.Errorf("%w: unterminated ID token", ErrSyntax)
	}
	tok := b[1:end]
	if len(tok) > 0 && tok[0] == '*' {
		f.Encrypted = true
		tok = tok[1:]
	}
	if len(tok) == 0 {
		return fmt.Errorf("%w: empty ID token", ErrSyntax)
	}
	for _, c := range tok {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("%w: ID token %q", ErrSyntax, tok)
		}
	}
	f.Token = string(tok)
	b = b[end+1:]

	// Sequence: 4 decimal digits (some diallers wrongly send hex).
	if len(b) < 4 || !isAlnum(b[:4]) {
		return fmt.Errorf("%w: sequence must be 4 digits", ErrSyntax)
	}
	if !isDigits(b[:4]) {
		f.dev |= devSeq
	}
	f.Sequence = string(b[:4])
	b = b[4:]

	if len(b) > 0 && b[0] == 'R' {
		n := hexRun(b[1:], 6)
		if n == 0 {
			f.dev |= devEmptyReceiver
		}
		f.Receiver, f.HasReceiver = upper(b[1:1+n]), true
		b = b[1+n:]
	}
	if len(b) > 0 && b[0] == 'L' {
		n := hexRun(b[1:], 6)
		if n == 0 {
			f.dev |= devEmptyLine
		}
		f.Line, f.HasLine = upper(b[1:1+n]), true
		b = b[1+n:]
	} else {
		f.dev |= devNoLine
	}
	if len(b) > 0 && b[0] == '[' {
		// The NAK form "L0A0[" ends in "A<acct>", and A is a hex digit, so
		// the L (or R) run swallowed it: give the tail back.
		if f.splitAccountA() {
			return f.afterAccount(b)
		}
	}
	if len(b) == 0 || (b[0] != '#' && b[0] != 'A') {
		return fmt.Errorf("%w: missing #account", ErrSyntax)
	}
	f.AccountMarker = b[0]
	n := hexRun(b[1:], 16)
	if n == 0 {
		return fmt.Errorf("%w: empty account", ErrSyntax)
	}
	if n < 3 && f.AccountMarker == '#' {
		f.dev |= devShortAccount
	}
	f.Account = upper(b[1 : 1+n])
	return f.afterAccount(b[1+n:])
}

// splitAccountA moves a trailing "A<hex>" from the line (or receiver) field
// into the account, for the NAK form. It reports whether it did.
func (f *Frame) splitAccountA() bool {
	field := &f.Line
	if !f.HasLine {
		if !f.HasReceiver {
			return false
		}
		field = &f.Receiver
	}
	s := *field
	for k := len(s) - 2; k >= 0; k-- {
		if s[k] == 'A' {
			*field, f.AccountMarker, f.Account = s[:k], 'A', s[k+1:]
			if k == 0 && field == &f.Line {
				f.dev |= devEmptyLine
			}
			return true
		}
	}
	return false
}

func (f *Frame) afterAccount(b []byte) error {
	if len(b) == 0 || b[0] != '[' {
		return fmt.Errorf("%w: expected '[' after account", ErrSyntax)
	}
	b = b[1:]
	if f.Encrypted {
		if len(b) == 0 || len(b)%2 != 0 || !isHex(b) {
			return fmt.Errorf("%w: encrypted block must be hex digits in pairs", ErrSyntax)
		}
		f.Sealed = append([]byte(nil), b...)
		return nil
	}
	return f.parseTail(b)
}

// parseTail reads `data]` `[x…]`* `_timestamp`? — what follows the data
// block's '[' in a plain frame, and what follows the pad in a decrypted one.
func (f *Frame) parseTail(b []byte) error {
	i := indexByte(b, ']')
	if i < 0 {
		return fmt.Errorf("%w: data block not closed", ErrSyntax)
	}
	f.Data = string(b[:i])
	b = b[i+1:]
	f.XData = nil
	for len(b) > 0 && b[0] == '[' {
		j := indexByte(b, ']')
		if j < 0 {
			return fmt.Errorf("%w: extended data block not closed", ErrSyntax)
		}
		if j < 2 || b[1] < 'A' || b[1] > 'Z' {
			return fmt.Errorf("%w: extended data block needs an upper-case identifier", ErrSyntax)
		}
		f.XData = append(f.XData, XData{ID: b[1], Value: append([]byte(nil), b[2:j]...)})
		b = b[j+1:]
	}
	if len(b) == 0 {
		return nil
	}
	if b[0] != '_' {
		return fmt.Errorf("%w: unexpected %q after data blocks", ErrSyntax, b[0])
	}
	t, err := ParseTimestamp(b[1:])
	if err != nil {
		return err
	}
	f.Timestamp, f.HasTimestamp = t, true
	return nil
}

// Verify checks the CRC, the length field and any tolerated grammar
// deviations against the account's quirks.
func (f *Frame) Verify(q Quirks) error {
	if f.CRCBinary && !q.BinaryCRC && !q.Lenient {
		return fmt.Errorf("%w: binary CRC", ErrQuirk)
	}
	if !f.CRCOK(q) {
		return fmt.Errorf("%w: sent %04X, computed %04X", ErrCRC, f.CRC, f.CRCBody)
	}
	if !f.LengthOK(q) {
		return fmt.Errorf("%w: field %q, body %d bytes (%04X)", ErrLength, f.LengthField, f.BodyLen, f.BodyLen)
	}
	if f.dev != 0 && !q.Lenient {
		return fmt.Errorf("%w: non-standard header (%s)", ErrQuirk, f.deviations())
	}
	return nil
}

// CRCOK reports whether the transmitted CRC matches under q.
func (f *Frame) CRCOK(q Quirks) bool {
	return f.CRC == f.CRCBody || (q.CRCIncludesCR || q.Lenient) && f.CRC == f.CRCBodyCR
}

// LengthOK reports whether the length field matches the body under q.
func (f *Frame) LengthOK(q Quirks) bool {
	if v, err := strconv.ParseUint(f.LengthField, 16, 16); err == nil && int(v) == f.BodyLen {
		return true
	}
	if q.DecimalLength || q.Lenient {
		if v, err := strconv.ParseUint(f.LengthField, 10, 16); err == nil && int(v) == f.BodyLen {
			return true
		}
	}
	return false
}

func (f *Frame) deviations() string {
	var s string
	add := func(bit int, what string) {
		if f.dev&bit != 0 {
			if s != "" {
				s += ", "
			}
			s += what
		}
	}
	add(devSeq, "non-decimal sequence")
	add(devEmptyLine, "L without digits")
	add(devNoLine, "no L field")
	add(devEmptyReceiver, "R without digits")
	add(devShortAccount, "account shorter than 3")
	return s
}

// SplitData splits a SIA-DCS or ADM-CID data block "#acct|payload" into the
// repeated account and the payload. Without the "#acct|" prefix the whole
// block is the payload.
func (f *Frame) SplitData() (account, payload string) {
	d := f.Data
	if len(d) > 0 && d[0] == '#' {
		for i := 1; i < len(d); i++ {
			if d[i] == '|' {
				return d[1:i], d[i+1:]
			}
		}
	}
	return "", d
}

// CheckTime applies the timestamp window. Encrypted frames must carry a
// timestamp inside the window; plain frames are checked only when
// checkPlain is set (their timestamp is optional in the standard).
func (f *Frame) CheckTime(now time.Time, w Window, checkPlain bool) error {
	if !f.Encrypted && !checkPlain {
		return nil
	}
	if !f.HasTimestamp {
		return fmt.Errorf("%w: missing", ErrTimestamp)
	}
	return w.Check(f.Timestamp, now)
}

// Window is the accepted clock difference between a message timestamp and
// the receiver's clock: from now-Behind to now+Ahead, inclusive.
type Window struct {
	Behind, Ahead time.Duration
}

// DefaultWindow is DC-09's −40 s/+20 s.
var DefaultWindow = Window{Behind: 40 * time.Second, Ahead: 20 * time.Second}

// Check returns ErrTimestamp if ts is outside the window around now.
func (w Window) Check(ts, now time.Time) error {
	if ts.Before(now.Add(-w.Behind)) {
		return fmt.Errorf("%w: %s is more than %s behind receiver time %s", ErrTimestamp,
			ts.UTC().Format(time.RFC3339), w.Behind, now.UTC().Format(time.RFC3339))
	}
	if ts.After(now.Add(w.Ahead)) {
		return fmt.Errorf("%w: %s is more than %s ahead of receiver time %s", ErrTimestamp,
			ts.UTC().Format(time.RFC3339), w.Ahead, now.UTC().Format(time.RFC3339))
	}
	return nil
}

// ParseWindow reads "-40s,+20s" (signs optional).
func ParseWindow(s string) (Window, error) {
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			b, err1 := time.ParseDuration(trimSign(s[:i]))
			a, err2 := time.ParseDuration(trimSign(s[i+1:]))
			if err1 != nil || err2 != nil || b < 0 || a < 0 {
				break
			}
			return Window{Behind: b, Ahead: a}, nil
		}
	}
	return Window{}, fmt.Errorf("dc09: window %q: want BEHIND,AHEAD such as -40s,+20s", s)
}

func trimSign(s string) string {
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		return s[1:]
	}
	return s
}

// TimestampLen is the length of "HH:MM:SS,MM-DD-YYYY" (without the '_').
// It is parsed by hand: in a Go layout ",01" would read as fractional seconds.
const TimestampLen = 19

// ParseTimestamp reads "HH:MM:SS,MM-DD-YYYY" (UTC).
func ParseTimestamp(b []byte) (time.Time, error) {
	bad := func() error { return fmt.Errorf("%w: %q is not HH:MM:SS,MM-DD-YYYY", ErrTimestamp, b) }
	if len(b) != TimestampLen || b[2] != ':' || b[5] != ':' || b[8] != ',' || b[11] != '-' || b[14] != '-' {
		return time.Time{}, bad()
	}
	num := func(s []byte) int {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	hh, mm, ss := num(b[0:2]), num(b[3:5]), num(b[6:8])
	mo, dd, yy := num(b[9:11]), num(b[12:14]), num(b[15:19])
	if hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59 || mo < 1 || mo > 12 || dd < 1 || yy < 0 {
		return time.Time{}, bad()
	}
	t := time.Date(yy, time.Month(mo), dd, hh, mm, ss, 0, time.UTC)
	if t.Day() != dd {
		return time.Time{}, bad() // e.g. 02-30
	}
	return t, nil
}

// AppendTimestamp appends t (in UTC) as "HH:MM:SS,MM-DD-YYYY".
func AppendTimestamp(b []byte, t time.Time) []byte {
	t = t.UTC()
	two := func(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
	b = two(b, t.Hour())
	b = append(b, ':')
	b = two(b, t.Minute())
	b = append(b, ':')
	b = two(b, t.Second())
	b = append(b, ',')
	b = two(b, int(t.Month()))
	b = append(b, '-')
	b = two(b, t.Day())
	b = append(b, '-')
	y := t.Year() % 10000
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !isHexByte(c) {
			return false
		}
	}
	return true
}

func isHexByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f'
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isAlnum(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// hexRun counts leading hex digits of b, at most max.
func hexRun(b []byte, max int) int {
	n := 0
	for n < len(b) && n < max && isHexByte(b[n]) {
		n++
	}
	return n
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// upper returns b as an upper-case string (hex fields are emitted in upper case).
func upper(b []byte) string {
	for _, c := range b {
		if c >= 'a' && c <= 'z' {
			u := make([]byte, len(b))
			for i, c := range b {
				if c >= 'a' && c <= 'z' {
					c -= 'a' - 'A'
				}
				u[i] = c
			}
			return string(u)
		}
	}
	return string(b)
}
