package alarmcli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"vigil/internal/alarm/contactid"
	"vigil/internal/alarm/dc09"
)

// panelFlags describe the frame a simulated panel sends.
type panelFlags struct {
	token, account, receiver, line, data string
	seq                                  int
	code, qualifier, partition, zone     string
	area, user, text                     string
	timestamp                            bool
}

func (p *panelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.token, "token", dc09.TokenCID, "ID token: ADM-CID, SIA-DCS or NULL")
	fs.StringVar(&p.account, "account", "1234", "account (3-16 hex digits)")
	fs.StringVar(&p.receiver, "receiver", "", "receiver number R (1-6 hex digits; omitted if empty)")
	fs.StringVar(&p.line, "line", "0", "line / account prefix L (1-6 hex digits)")
	fs.IntVar(&p.seq, "seq", 1, "sequence number 0-9999")
	fs.StringVar(&p.data, "data", "", "raw data block content (overrides --code etc.), e.g. '#1234|1130 01 015'")
	fs.StringVar(&p.code, "code", "", "event: Contact ID code (default 130) or SIA two-letter code (default BA)")
	fs.StringVar(&p.qualifier, "qualifier", "1", "Contact ID qualifier: 1 new/opening, 3 restore/closing, 6 status")
	fs.StringVar(&p.partition, "partition", "1", "Contact ID partition (00-99)")
	fs.StringVar(&p.zone, "zone", "1", "zone (Contact ID: or user, per code) / SIA number")
	fs.StringVar(&p.area, "area", "", "SIA area (ri)")
	fs.StringVar(&p.user, "user", "", "SIA user (id)")
	fs.StringVar(&p.text, "text", "", "SIA text (^text^)")
	fs.BoolVar(&p.timestamp, "timestamp", false, "add a timestamp to unencrypted frames (always present when encrypted)")
}

// payload builds the data block from the flags.
func (p *panelFlags) payload() (string, error) {
	if p.data != "" {
		return p.data, nil
	}
	switch p.token {
	case dc09.TokenNull:
		return "", nil
	case dc09.TokenCID:
		code := p.code
		if code == "" {
			code = "130"
		}
		var e contactid.Event
		var q, c, part, z int
		if _, err := fmt.Sscanf(p.qualifier+" "+code+" "+p.partition+" "+p.zone, "%d %d %d %d", &q, &c, &part, &z); err != nil {
			return "", fmt.Errorf("contact id fields: %v", err)
		}
		e = contactid.Event{Account: p.account, Qualifier: contactid.Qualifier(q), Code: c, Partition: part, Number: z}
		out := e.DC09()
		if _, err := contactid.ParseDC09(out); err != nil || c > 999 || part > 99 || z > 999 {
			return "", fmt.Errorf("contact id event %q is not valid (qualifier 1/3/6, code 0-999, partition 0-99, zone 0-999)", out)
		}
		return out, nil
	case dc09.TokenSIA:
		code := p.code
		if code == "" {
			code = "BA"
		}
		if len(code) != 2 || strings.ToUpper(code) != code {
			return "", fmt.Errorf("SIA code %q must be two upper-case letters", code)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "#%s|N", p.account)
		if p.area != "" {
			fmt.Fprintf(&b, "ri%s/", p.area)
		}
		if p.user != "" {
			fmt.Fprintf(&b, "id%s/", p.user)
		}
		b.WriteString(code + p.zone)
		if p.text != "" {
			fmt.Fprintf(&b, "^%s^", p.text)
		}
		return b.String(), nil
	}
	return "", fmt.Errorf("token %q: use ADM-CID, SIA-DCS or NULL, or give --data", p.token)
}

// frame builds the wire frame.
func (p *panelFlags) frame(seq int, data string, key []byte, q dc09.Quirks, now time.Time) ([]byte, error) {
	f := &dc09.Frame{Token: p.token, Encrypted: key != nil, Sequence: fmt.Sprintf("%04d", seq%10000),
		Receiver: p.receiver, HasReceiver: p.receiver != "", Line: p.line, HasLine: true,
		Account: p.account, Data: data}
	if key != nil || p.timestamp {
		f.Timestamp, f.HasTimestamp = now, true
	}
	return f.Marshal(key, nil, q)
}

// runSend is "vigil alarm send": play a panel for one frame.
func runSend(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("send", stderr)
	to := fs.String("to", "", "receiver HOST:PORT (required)")
	udp := fs.Bool("udp", false, "send over UDP instead of TCP")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the reply")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	var kf keyFlags
	var pf panelFlags
	var qf quirkFlags
	kf.register(fs)
	pf.register(fs)
	fs.BoolVar(&qf.q.BinaryCRC, "binary-crc", false, "send the CRC as 2 raw bytes (play a Lupus XT)")
	fs.BoolVar(&qf.q.CRCIncludesCR, "crc-includes-cr", false, "compute the CRC over body+CR (play an ELDES)")
	fs.BoolVar(&qf.q.DecimalLength, "decimal-length", false, "write the length in decimal (play an ELDES)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: vigil alarm send --to HOST:PORT [--udp] [--key HEX | --key-ascii TEXT] [frame flags]")
		fmt.Fprintln(fs.Output(), "\nSends one frame as a panel would and checks the reply. Exit 0 on a matching ACK, 1 on NAK, DUH, timeout or a bad reply.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *to == "" {
		return usageErr(stderr, "send", "--to is required")
	}
	key, err := kf.key()
	if err != nil {
		return usageErr(stderr, "send", "%v", err)
	}
	data, err := pf.payload()
	if err != nil {
		return usageErr(stderr, "send", "%v", err)
	}
	if pf.seq < 0 || pf.seq > 9999 {
		return usageErr(stderr, "send", "--seq must be 0-9999")
	}
	raw, err := pf.frame(pf.seq, data, key, qf.q, time.Now())
	if err != nil {
		return usageErr(stderr, "send", "%v", err)
	}
	network := "tcp"
	if *udp {
		network = "udp"
	}
	res := exchange(ctx, network, *to, raw, key, *timeout)
	if *jsonOut {
		writeJSON(stdout, res)
	} else {
		fmt.Fprintf(stdout, "sent   %s\n", printable(raw))
		if res.Reply != "" {
			fmt.Fprintf(stdout, "reply  %s\n", printable([]byte(res.Reply)))
		}
		fmt.Fprintf(stdout, "result %s in %.1f ms", res.Response, res.LatencyMS)
		if res.Error != "" {
			fmt.Fprintf(stdout, ": %s", res.Error)
		}
		fmt.Fprintln(stdout)
	}
	if res.OK {
		return 0
	}
	return 1
}

type sendResult struct {
	OK        bool    `json:"ok"`
	Sent      string  `json:"sent"`
	Response  string  `json:"response"` // ACK, *ACK, NAK, DUH, timeout, error
	Reply     string  `json:"reply,omitempty"`
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
}

// exchange dials, sends raw and reads one reply.
func exchange(ctx context.Context, network, addr string, raw, key []byte, timeout time.Duration) sendResult {
	res := sendResult{Sent: string(raw)}
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		res.Response, res.Error = "error", err.Error()
		return res
	}
	defer c.Close()
	req, _ := dc09.Parse(raw)
	t0 := time.Now()
	c.SetDeadline(t0.Add(timeout))
	if _, err := c.Write(raw); err != nil {
		res.Response, res.Error = "error", err.Error()
		return res
	}
	reply, err := readFrame(bufio.NewReader(c))
	res.LatencyMS = float64(time.Since(t0).Microseconds()) / 1000
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			res.Response, res.Error = "timeout", fmt.Sprintf("no reply within %s", timeout)
		} else {
			res.Response, res.Error = "error", err.Error()
		}
		return res
	}
	res.Reply = string(reply)
	res.Response, err = checkReply(req, reply, key)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.OK = true
	return res
}

// checkReply classifies a receiver's reply to req. Only an ACK that echoes
// req's sequence and account (and, for an encrypted req, a *ACK that
// decrypts with the key) is OK.
func checkReply(req *dc09.Frame, reply, key []byte) (string, error) {
	f, err := dc09.Parse(reply)
	if err == nil {
		err = f.Verify(dc09.Quirks{BinaryCRC: true})
	}
	if err != nil {
		return "bad-reply", fmt.Errorf("reply does not parse: %v", err)
	}
	switch f.Token {
	case dc09.TokenNAK:
		return "NAK", errors.New("receiver sent NAK")
	case dc09.TokenDUH:
		return "DUH", errors.New("receiver sent DUH (cannot process)")
	case dc09.TokenACK:
	default:
		return "bad-reply", fmt.Errorf("unexpected reply token %q", f.Token)
	}
	resp := "ACK"
	if f.Encrypted {
		resp = "*ACK"
	}
	if f.Sequence != req.Sequence || f.Account != req.Account {
		return resp, fmt.Errorf("ACK echoes sequence %s account %s, sent %s %s", f.Sequence, f.Account, req.Sequence, req.Account)
	}
	if req.Encrypted {
		if !f.Encrypted {
			return resp, errors.New("plain ACK to an encrypted frame")
		}
		if err := f.Decrypt(key, dc09.Quirks{}); err != nil {
			return resp, fmt.Errorf("*ACK: %v", err)
		}
	}
	return resp, nil
}

// readFrame reads one LF … CR frame, skipping bytes before the LF. The
// reply's binary CRC (Lupus) may contain CR, so the binary layout is
// detected from the header like the receiver does.
func readFrame(br *bufio.Reader) ([]byte, error) {
	if _, err := br.ReadSlice('\n'); err != nil {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = br.ReadSlice('\n')
		}
		if err != nil {
			return nil, err
		}
	}
	buf := []byte{'\n'}
	if hdr, err := br.Peek(9); err == nil && hdr[8] != '"' && hdr[6] == '"' {
		buf = append(buf, hdr[:2]...)
		br.Discard(2)
	}
	for {
		chunk, err := br.ReadSlice('\r')
		buf = append(buf, chunk...)
		if len(buf) > dc09.MaxFrame {
			return nil, errors.New("reply longer than a DC-09 frame")
		}
		if err == nil {
			return buf, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}
