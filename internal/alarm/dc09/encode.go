package dc09

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// Marshal builds the wire form of f: LF, CRC, length, body, CR. Encrypted
// frames need key and a timestamp; pad supplies pad bytes (nil means
// crypto/rand; tests inject a fixed source). Of q, BinaryCRC,
// CRCIncludesCR, DecimalLength and NoPadTerminator make Marshal emit the
// corresponding panel quirk, so tests and the installer tools can play a
// non-conforming panel. Hex fields are written in upper case.
func (f *Frame) Marshal(key []byte, pad io.Reader, q Quirks) ([]byte, error) {
	if err := f.checkFields(); err != nil {
		return nil, err
	}
	body := make([]byte, 0, 64+len(f.Data)+2*len(f.Sealed))
	body = append(body, '"')
	if f.Encrypted {
		body = append(body, '*')
	}
	body = append(body, f.Token...)
	body = append(body, '"')
	body = append(body, f.Sequence...)
	if f.HasReceiver {
		body = append(body, 'R')
		body = append(body, upper([]byte(f.Receiver))...)
	}
	if f.HasLine {
		body = append(body, 'L')
		body = append(body, upper([]byte(f.Line))...)
	}
	if f.AccountMarker == 'A' {
		body = append(body, 'A')
	} else {
		body = append(body, '#')
	}
	body = append(body, upper([]byte(f.Account))...)
	body = append(body, '[')
	tail := f.appendTail(nil)
	if f.Encrypted {
		if !f.HasTimestamp {
			return nil, fmt.Errorf("%w: an encrypted frame needs a timestamp", ErrTimestamp)
		}
		ct, err := seal(key, tail, pad, q.NoPadTerminator)
		if err != nil {
			return nil, err
		}
		body = append(body, ct...)
	} else {
		body = append(body, tail...)
	}
	if len(body) > MaxBody {
		return nil, fmt.Errorf("%w: body of %d bytes exceeds %d", ErrFraming, len(body), MaxBody)
	}
	return frameBody(body, q), nil
}

// frameBody wraps a body with LF, CRC, length and CR.
func frameBody(body []byte, q Quirks) []byte {
	out := make([]byte, 0, len(body)+10)
	out = append(out, '\n')
	crc := CRC(body)
	if q.CRCIncludesCR {
		crc = crcUpdate(crc, []byte{'\r'})
	}
	if q.BinaryCRC {
		out = append(out, byte(crc>>8), byte(crc))
	} else {
		out = appendHex4(out, uint64(crc))
	}
	if q.DecimalLength {
		out = fmt.Appendf(out, "%04d", len(body))
	} else {
		out = appendHex4(out, uint64(len(body)))
	}
	out = append(out, body...)
	return append(out, '\r')
}

func (f *Frame) appendTail(b []byte) []byte {
	b = append(b, f.Data...)
	b = append(b, ']')
	for _, x := range f.XData {
		b = append(b, '[', x.ID)
		b = append(b, x.Value...)
		b = append(b, ']')
	}
	if f.HasTimestamp {
		b = append(b, '_')
		b = AppendTimestamp(b, f.Timestamp)
	}
	return b
}

// checkFields refuses values that would produce a frame the parser (or a
// panel) could misread.
func (f *Frame) checkFields() error {
	bad := func(what, v string) error { return fmt.Errorf("%w: %s %q", ErrSyntax, what, v) }
	if f.Token == "" || len(f.Token) > 12 || !isAlnumDash(f.Token) {
		return bad("token", f.Token)
	}
	if len(f.Sequence) != 4 || !isAlnum([]byte(f.Sequence)) {
		return bad("sequence (4 digits)", f.Sequence)
	}
	if f.HasReceiver && (len(f.Receiver) > 6 || !isHex([]byte(f.Receiver))) {
		return bad("receiver (1-6 hex digits)", f.Receiver)
	}
	if f.HasLine && (len(f.Line) > 6 || !isHex([]byte(f.Line))) {
		return bad("line (1-6 hex digits)", f.Line)
	}
	if f.Account == "" || len(f.Account) > 16 || !isHex([]byte(f.Account)) {
		return bad("account (3-16 hex digits)", f.Account)
	}
	if indexByte([]byte(f.Data), ']') >= 0 {
		return bad("data (must not contain ']')", f.Data)
	}
	for _, x := range f.XData {
		if x.ID < 'A' || x.ID > 'Z' || indexByte(x.Value, ']') >= 0 {
			return bad("extended data", string(x.ID)+string(x.Value))
		}
	}
	return nil
}

func isAlnumDash(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func appendHex4(b []byte, v uint64) []byte {
	const digits = "0123456789ABCDEF"
	return append(b, digits[v>>12&0xF], digits[v>>8&0xF], digits[v>>4&0xF], digits[v&0xF])
}

// ACK builds the positive acknowledgement for req: "ACK" echoing sequence,
// receiver, line and account with an empty data block; for an encrypted req
// it is "*ACK" whose encrypted block is pad|]_<now>. Fields absent in req
// stay absent (a receiver that rendered a missing field as "None" had its
// ACKs rejected by Pyronix panels). The CRC form follows req's.
func ACK(req *Frame, now time.Time, key []byte, pad io.Reader) ([]byte, error) {
	r := reply(req, TokenACK)
	if req.Encrypted {
		r.Encrypted = true
		r.Timestamp, r.HasTimestamp = now.UTC().Truncate(time.Second), true
	}
	return r.Marshal(key, pad, Quirks{BinaryCRC: req.CRCBinary})
}

// DUH builds the "received but cannot process" reply for req, always plain.
func DUH(req *Frame) []byte {
	r := reply(req, TokenDUH)
	b, err := r.Marshal(nil, nil, Quirks{BinaryCRC: req.CRCBinary})
	if err != nil {
		// req came from Parse, so its fields are valid; a hand-built req
		// with bad fields falls back to the fixed NAK-style header.
		return NAK(time.Now(), req.CRCBinary)
	}
	return b
}

// NAK builds the fixed negative acknowledgement "NAK"0000R0L0A0[]_<now>. It
// carries the receiver's clock so the panel can resynchronise and is never
// encrypted.
func NAK(now time.Time, binaryCRC bool) []byte {
	body := make([]byte, 0, 40)
	body = append(body, `"NAK"0000R0L0A0[]_`...)
	body = AppendTimestamp(body, now)
	return frameBody(body, Quirks{BinaryCRC: binaryCRC})
}

func reply(req *Frame, token string) *Frame {
	r := &Frame{
		Token:         token,
		Sequence:      req.Sequence,
		Receiver:      req.Receiver,
		HasReceiver:   req.HasReceiver,
		Line:          req.Line,
		HasLine:       req.HasLine,
		Account:       req.Account,
		AccountMarker: '#',
	}
	if len(r.Sequence) != 4 {
		r.Sequence = "0000"
	}
	return r
}

// SequenceString formats n (wrapped into 1..9999, as panels count) as the
// 4-digit sequence field.
func SequenceString(n int) string {
	n = (n-1)%9999 + 1
	if n <= 0 {
		n += 9999
	}
	s := strconv.Itoa(n)
	return "0000"[len(s):] + s
}
