package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"vigil/internal/app"
	"vigil/internal/config"
)

// exitErr carries an exit code with a message for the person at the terminal.
type exitErr struct {
	code int
	msg  string
}

func (e *exitErr) Error() string { return e.msg }

func usageErr(format string, a ...any) error { return &exitErr{2, fmt.Sprintf(format, a...)} }

// finish prints err (if any) and returns the exit code.
func finish(s stdio, name string, err error) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	code := 1
	var ee *exitErr
	if errors.As(err, &ee) {
		code = ee.code
	}
	fmt.Fprintf(s.err, "vigil %s: %v\n", name, err)
	return code
}

// newFlags returns a FlagSet that reports errors instead of exiting.
func newFlags(s stdio, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("vigil "+name, flag.ContinueOnError)
	fs.SetOutput(s.err)
	fs.Usage = func() {
		fmt.Fprintf(s.err, "usage: vigil %s %s\n\noptions:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and rejects stray positional arguments beyond want.
func parse(fs *flag.FlagSet, args []string, want int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitErr{2, err.Error()}
	}
	if fs.NArg() > want {
		return usageErr("unexpected argument %q", fs.Arg(want))
	}
	return nil
}

func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openApp opens the database (and with bus, NATS) for an admin command.
func openApp(ctx context.Context, s stdio, cfg config.Config, bus bool) (*app.App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, &exitErr{2, err.Error()}
	}
	if cfg.LogLevel == "info" {
		cfg.LogLevel = "warn" // admin commands stay quiet
	}
	return app.Open(ctx, cfg, newLogger(s.err, cfg), app.Options{NoBus: !bus})
}

// dbFlags binds the options admin commands need.
func dbFlags(fs *flag.FlagSet, cfg *config.Config) {
	cfg.Bind(fs, "data", "db", "log-level")
	cfg.Addr = "127.0.0.1:0"
}

// readSecret reads a password from stdin (first line).
func readSecret(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return "", err
	}
	pw := strings.TrimRight(strings.SplitN(string(b), "\n", 2)[0], "\r")
	if pw == "" {
		return "", usageErr("no password on standard input")
	}
	return pw, nil
}
