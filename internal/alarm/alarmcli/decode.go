package alarmcli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"vigil/internal/alarm/dc09"
)

// runDecode is "vigil alarm decode": one frame on stdin, JSON on stdout.
// The verdict and reply are what vigil's receiver would answer for an
// account with the given key and quirks.
func runDecode(_ context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("decode", stderr)
	var kf keyFlags
	var qf quirkFlags
	kf.register(fs)
	qf.register(fs)
	nowFlag := fs.String("now", "", "receiver time as RFC 3339 (default: the clock); used for the window and replies")
	windowFlag := fs.String("window", "-40s,+20s", "accepted timestamp window BEHIND,AHEAD")
	checkPlain := fs.Bool("check-plain-timestamp", false, "apply the window to unencrypted frames too")
	silent := fs.Bool("silent", false, "answer CRC/format errors with silence instead of NAK")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: vigil alarm decode [--key HEX | --key-ascii TEXT] [--now RFC3339] [--window -40s,+20s] [quirk flags] < frame")
		fmt.Fprintln(fs.Output(), "\nThe frame may be raw bytes (LF … CR) or a line of text; <LF>/<CR> markers and a missing LF/CR are accepted.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	key, err := kf.key()
	if err != nil {
		return usageErr(stderr, "decode", "%v", err)
	}
	window, err := dc09.ParseWindow(*windowFlag)
	if err != nil {
		return usageErr(stderr, "decode", "%v", err)
	}
	now := time.Now().UTC()
	if *nowFlag != "" {
		if now, err = time.Parse(time.RFC3339, *nowFlag); err != nil {
			return usageErr(stderr, "decode", "--now: %v", err)
		}
	}
	in, err := io.ReadAll(io.LimitReader(stdin, 4*dc09.MaxFrame))
	if err != nil {
		fmt.Fprintf(stderr, "vigil alarm decode: reading stdin: %v\n", err)
		return 1
	}
	out := decodeFrame(normalizeInput(in), key, qf.q, now, window, *checkPlain, *silent)
	writeJSON(stdout, out)
	if out.Valid {
		return 0
	}
	return 1
}

// normalizeInput turns what an installer pastes into a frame: "<LF>"/"<CR>"
// markers become the bytes, one trailing newline after the CR is dropped,
// and a missing LF or CR is added. The body is left untouched, so the CRC is
// still checked over the bytes as given.
func normalizeInput(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\r\n"))
	if !bytes.HasSuffix(b, []byte("\r")) {
		b = bytes.TrimSuffix(b, []byte("\n"))
	}
	if bytes.HasPrefix(b, []byte("<LF>")) {
		b = append([]byte("\n"), b[4:]...)
	}
	if bytes.HasSuffix(b, []byte("<CR>")) {
		b = append(b[:len(b)-4:len(b)-4], '\r')
	}
	if len(b) == 0 || b[0] != '\n' {
		b = append([]byte("\n"), b...)
	}
	if b[len(b)-1] != '\r' {
		b = append(b, '\r')
	}
	return b
}

// decodeFrame applies the receiver's policy to raw for an account with key
// and q, returning the description, the verdict and the reply.
func decodeFrame(raw, key []byte, q dc09.Quirks, now time.Time, w dc09.Window, checkPlain, silent bool) frameJSON {
	var out frameJSON
	fail := func(err error, reply []byte, resp string) frameJSON {
		out.Error = err.Error()
		out.Response, out.Reply = resp, string(reply)
		if reply == nil {
			out.Response = "none"
		}
		return out
	}
	badFrame := func(f *dc09.Frame, err error) frameJSON {
		if silent {
			return fail(err, nil, "")
		}
		return fail(err, dc09.NAK(now, f != nil && f.CRCBinary), "NAK")
	}
	f, err := dc09.Parse(raw)
	if f != nil {
		describeEnvelope(&out, f, q)
	}
	if err != nil {
		return badFrame(f, err)
	}
	if err := f.Verify(q); err != nil {
		return badFrame(f, err)
	}
	switch f.Token {
	case dc09.TokenSIA, dc09.TokenCID, dc09.TokenNull:
	default:
		describeContent(&out, f)
		return fail(fmt.Errorf("token %q is not an event the receiver processes", f.Token), dc09.DUH(f), "DUH")
	}
	if f.Encrypted {
		if key == nil {
			return fail(fmt.Errorf("encrypted frame: give --key or --key-ascii"), dc09.NAK(now, f.CRCBinary), "NAK")
		}
		if err := f.Decrypt(key, q); err != nil {
			return fail(err, dc09.NAK(now, f.CRCBinary), "NAK")
		}
	}
	describeContent(&out, f)
	if err := f.CheckTime(now.Add(q.ClockOffset), w, checkPlain); err != nil {
		return fail(err, dc09.NAK(now, f.CRCBinary), "NAK")
	}
	ack, err := dc09.ACK(f, now, key, nil)
	if err != nil {
		return fail(err, nil, "")
	}
	out.Valid = true
	out.Response, out.Reply = "ACK", string(ack)
	if f.Encrypted {
		out.Response = "*ACK"
	}
	return out
}
