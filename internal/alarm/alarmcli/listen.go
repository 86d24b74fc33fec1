package alarmcli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"vigil/internal/alarm/dc09"
	"vigil/internal/alarm/receiver"
)

// runListen is "vigil alarm listen": the bare receiver, accepting every
// account with the given key and quirks. Without --no-store or --fsync it
// prints each committed signal as a JSON line, so an installer can watch
// what a panel sends.
func runListen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("listen", stderr)
	addr := fs.String("addr", "127.0.0.1:0", "TCP and UDP address to listen on (port 0 picks one)")
	noStore := fs.Bool("no-store", false, "ACK without storing anything (measures the receiver's ceiling)")
	fsyncPath := fs.String("fsync", "", "append each batch's raw frames to FILE and fsync once per batch (group commit)")
	encrypted := fs.Bool("encrypted", false, "refuse unencrypted frames (needs --key or --key-ascii)")
	windowFlag := fs.String("window", "-40s,+20s", "accepted timestamp window BEHIND,AHEAD")
	checkPlain := fs.Bool("check-plain-timestamp", false, "apply the window to unencrypted frames too")
	silent := fs.Bool("silent", false, "answer CRC/format errors with silence instead of NAK")
	duration := fs.Duration("duration", 0, "stop after this long (0 = until interrupted)")
	idle := fs.Duration("idle-timeout", 2*time.Minute, "close TCP connections idle this long")
	readTO := fs.Duration("read-timeout", 10*time.Second, "max time to receive one frame")
	maxConns := fs.Int("max-conns", 10000, "max concurrent TCP connections")
	maxBatch := fs.Int("max-batch", 4096, "max signals per commit")
	jsonOut := fs.Bool("json", false, "print the final counters as JSON on stdout")
	verbose := fs.Bool("v", false, "log refused frames to stderr")
	var kf keyFlags
	var qf quirkFlags
	kf.register(fs)
	qf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: vigil alarm listen [--addr 127.0.0.1:0] [--no-store | --fsync FILE] [--key …] [quirk flags]")
		fmt.Fprintln(fs.Output(), "\nRuns a DC-09 receiver on TCP and UDP that accepts every account. Stops on interrupt or after --duration.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	key, err := kf.key()
	if err != nil {
		return usageErr(stderr, "listen", "%v", err)
	}
	if *encrypted && key == nil {
		return usageErr(stderr, "listen", "--encrypted needs --key or --key-ascii")
	}
	if *noStore && *fsyncPath != "" {
		return usageErr(stderr, "listen", "give --no-store or --fsync, not both")
	}
	window, err := dc09.ParseWindow(*windowFlag)
	if err != nil {
		return usageErr(stderr, "listen", "%v", err)
	}

	var sink receiver.Sink
	var closeSink func() error
	switch {
	case *noStore:
		sink = receiver.SinkFunc(func(context.Context, []receiver.Signal) error { return nil })
	case *fsyncPath != "":
		fsink, err := newFsyncSink(*fsyncPath)
		if err != nil {
			fmt.Fprintf(stderr, "vigil alarm listen: %v\n", err)
			return 1
		}
		sink, closeSink = fsink, fsink.f.Close
	default:
		sink = &printSink{w: bufio.NewWriter(stdout)}
	}
	acct := receiver.Account{Key: key, Encrypted: *encrypted, Quirks: qf.q}
	logLevel := slog.LevelWarn
	if *verbose {
		logLevel = slog.LevelDebug
	}
	srv, err := receiver.New(receiver.Config{
		Accounts: receiver.AccountsFunc(func(_ context.Context, _, _, number string) (receiver.Account, bool, error) {
			a := acct
			a.Number = number
			return a, true, nil
		}),
		Sink:                sink,
		Logger:              slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel})),
		Window:              window,
		CheckPlainTimestamp: *checkPlain,
		SilentOnBadFrame:    *silent,
		IdleTimeout:         *idle,
		ReadTimeout:         *readTO,
		MaxConns:            *maxConns,
		MaxBatch:            *maxBatch,
	})
	if err != nil {
		fmt.Fprintf(stderr, "vigil alarm listen: %v\n", err)
		return 1
	}
	if err := srv.Listen(*addr); err != nil {
		fmt.Fprintf(stderr, "vigil alarm listen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "vigil alarm listen: receiving on %s (tcp+udp)\n", srv.Addr())
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	t0 := time.Now()
	srv.Serve(ctx)
	elapsed := time.Since(t0)
	if closeSink != nil {
		if err := closeSink(); err != nil {
			fmt.Fprintf(stderr, "vigil alarm listen: closing %s: %v\n", *fsyncPath, err)
		}
	}
	m := srv.Metrics().Snapshot()
	if *jsonOut {
		writeJSON(stdout, struct {
			receiver.Snapshot
			MeanBatch float64 `json:"mean_batch"`
			Seconds   float64 `json:"seconds"`
		}{m, m.MeanBatch(), elapsed.Seconds()})
	} else {
		fmt.Fprintf(stderr, "frames %d  acks %d  naks %d  duh %d  bad %d  commits %d  mean batch %.1f  max batch %d  commit errors %d\n",
			m.Frames, m.Acks, m.Naks, m.Duhs, m.BadFrames, m.CommitBatches, m.MeanBatch(), m.MaxBatch, m.CommitErrors)
	}
	return 0
}

// fsyncSink is the simplest durable group-commit sink: append the batch's
// raw frames, then one fsync. It shows what batching buys when each commit
// costs a disk flush.
type fsyncSink struct {
	f   *os.File
	buf []byte
}

func newFsyncSink(path string) (*fsyncSink, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &fsyncSink{f: f}, nil
}

// Commit is called from the receiver's single committer goroutine only.
func (s *fsyncSink) Commit(_ context.Context, batch []receiver.Signal) error {
	s.buf = s.buf[:0]
	for _, sig := range batch {
		s.buf = append(s.buf, sig.Raw...)
	}
	if _, err := s.f.Write(s.buf); err != nil {
		return err
	}
	return s.f.Sync()
}

// printSink writes each signal as one JSON line.
type printSink struct {
	mu sync.Mutex
	w  *bufio.Writer
}

type signalJSON struct {
	ReceivedAt string `json:"received_at"`
	Remote     string `json:"remote"`
	Transport  string `json:"transport"`
	frameJSON
}

func (s *printSink) Commit(_ context.Context, batch []receiver.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	enc := json.NewEncoder(s.w)
	enc.SetEscapeHTML(false)
	for _, sig := range batch {
		out := signalJSON{ReceivedAt: sig.ReceivedAt.Format(time.RFC3339Nano), Remote: sig.Remote, Transport: sig.Transport}
		describeEnvelope(&out.frameJSON, sig.Frame, sig.Account.Quirks)
		describeContent(&out.frameJSON, sig.Frame)
		out.Valid = true
		out.Response = "ACK"
		if sig.Frame.Encrypted {
			out.Response = "*ACK"
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	}
	return s.w.Flush()
}
