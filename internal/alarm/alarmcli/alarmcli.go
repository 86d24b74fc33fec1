// Package alarmcli is "vigil alarm": installer tools around the DC-09
// codec and receiver — decode a captured frame, act as a panel (send), load
// a receiver (bench) and run a bare receiver (listen).
package alarmcli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"vigil/internal/alarm/dc09"
)

// Run executes "vigil alarm <subcommand> …" and returns the exit code:
// 0 success, 1 failure (invalid frame, NAK, timeout …), 2 usage.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "decode":
		return runDecode(ctx, args[1:], stdin, stdout, stderr)
	case "send":
		return runSend(ctx, args[1:], stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "listen":
		return runListen(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "vigil alarm: unknown subcommand %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: vigil alarm <subcommand> [options]

subcommands:
  decode   read one raw DC-09 frame on stdin, print it as JSON (exit 0 valid, 1 invalid)
  send     act as a panel: send one frame to a receiver and check the reply
  bench    load generator: N concurrent panels, frame→ACK latency and throughput
  listen   run a bare DC-09 receiver (TCP+UDP) that accepts every account

Run 'vigil alarm <subcommand> -h' for its options.
`)
}

// keyFlags are the key options shared by every subcommand. The format is
// explicit (hex or ascii) because a 32-character key is valid in both.
type keyFlags struct {
	hex, ascii string
}

func (k *keyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.hex, "key", "", "AES key as 32/48/64 hex digits (key format hex)")
	fs.StringVar(&k.ascii, "key-ascii", "", "AES key as 16/24/32 characters used as bytes (key format ascii)")
}

func (k *keyFlags) key() ([]byte, error) {
	switch {
	case k.hex != "" && k.ascii != "":
		return nil, errors.New("give --key or --key-ascii, not both")
	case k.hex != "":
		return dc09.ParseKey(k.hex, dc09.KeyHex)
	case k.ascii != "":
		return dc09.ParseKey(k.ascii, dc09.KeyASCII)
	}
	return nil, nil
}

// quirkFlags are the per-account tolerances as command-line switches.
type quirkFlags struct{ q dc09.Quirks }

func (qf *quirkFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&qf.q.Lenient, "lenient", false, "accept every known panel deviation (empty L, hex sequence, all quirks below)")
	fs.BoolVar(&qf.q.CRCIncludesCR, "crc-includes-cr", false, "CRC computed over the body plus CR (ELDES)")
	fs.BoolVar(&qf.q.DecimalLength, "decimal-length", false, "length field in decimal (ELDES)")
	fs.BoolVar(&qf.q.BinaryCRC, "binary-crc", false, "CRC as 2 raw bytes (Lupus XT)")
	fs.BoolVar(&qf.q.NoPadTerminator, "no-pad-terminator", false, "encrypted pad without '|' (pysiaalarm, Ajax)")
	fs.DurationVar(&qf.q.ClockOffset, "clock-offset", 0, "panel clock runs this far ahead of UTC (panel set to local time), e.g. 1h")
}

// newFlagSet makes a flag set that reports errors to stderr and never exits.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("vigil alarm "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, returning the exit code to use if parsing ended
// the command (-h gives 0, errors 2).
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return 2, false
	}
	return 0, true
}

func usageErr(stderr io.Writer, cmd string, format string, a ...any) int {
	fmt.Fprintf(stderr, "vigil alarm %s: %s\n", cmd, fmt.Sprintf(format, a...))
	return 2
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// printable renders a frame for a terminal: LF and CR as <LF> and <CR>,
// other control and non-ASCII bytes as \xNN.
func printable(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		switch {
		case c == '\n':
			sb.WriteString("<LF>")
		case c == '\r':
			sb.WriteString("<CR>")
		case c < 0x20 || c >= 0x7F:
			fmt.Fprintf(&sb, `\x%02X`, c)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}
