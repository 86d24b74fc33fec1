package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"vigil/internal/app"
	"vigil/internal/config"
	"vigil/internal/demo"
)

func runServe(ctx context.Context, args []string, s stdio) int {
	var cfg config.Config
	fs := newFlags(s, "serve", "[options]")
	cfg.Bind(fs)
	withDemo := fs.Bool("demo", false, "load the demo data into an empty database and print its accounts")
	orgName := fs.String("org-name", envOr("VIGIL_ORG_NAME", "Security Operations"), "name of the operator organisation created on first start (env VIGIL_ORG_NAME)")
	ownerEmail := fs.String("owner-email", envOr("VIGIL_OWNER_EMAIL", "owner@vigil.local"), "email of the owner account created on first start (env VIGIL_OWNER_EMAIL)")
	if err := parse(fs, args, 0); err != nil {
		return finish(s, "serve", err)
	}
	return finish(s, "serve", serve(ctx, s, cfg, *withDemo, *orgName, *ownerEmail))
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func serve(ctx context.Context, s stdio, cfg config.Config, withDemo bool, orgName, ownerEmail string) error {
	if err := cfg.Validate(); err != nil {
		return &exitErr{2, err.Error()}
	}
	start := time.Now()
	log := newLogger(s.err, cfg)
	if cfg.DB == "" {
		if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		unlock, err := lockData(cfg.Data)
		if err != nil {
			return err
		}
		defer unlock()
	}
	a, err := app.Open(ctx, cfg, log, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	// The alarm module's background work (DC-09 receiver, live hub,
	// supervision) stops with ctx; waiting for it before a.Close lets
	// commits in flight finish, so every ACKed frame is stored.
	alarmDone := make(chan struct{})
	if cfg.DC09Listen != "" {
		if err := a.Alarm.ListenDC09(cfg.DC09Listen); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "alarm receiver (SIA DC-09, TCP+UDP) on %s\n", a.Alarm.DC09Addr())
	}
	go func() {
		if err := a.Alarm.Run(ctx); err != nil {
			log.Error("alarm module stopped", "err", err)
		}
		close(alarmDone)
	}()
	defer func() { <-alarmDone }()
	if withDemo {
		accounts, err := demo.Load(ctx, a.DB, a.Auth, a.Orgs)
		switch {
		case errors.Is(err, demo.ErrNotEmpty):
			log.Info("demo not loaded: the database already has data")
		case err != nil:
			return fmt.Errorf("demo: %w", err)
		default:
			printAccounts(s, accounts)
		}
	}
	pw, created, err := demo.Bootstrap(ctx, a.DB, a.Auth, a.Orgs, orgName, ownerEmail)
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	if created {
		fmt.Fprintf(s.out, "\nFirst start: created the organisation %q and its owner.\n  email:    %s\n  password: %s  (one-time; you must change it when you sign in)\n\n", orgName, ownerEmail, pw)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if cfg.DebugListen != "" {
		stop, err := serveDebug(s, cfg.DebugListen)
		if err != nil {
			return err
		}
		defer stop()
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	log.Info("vigil listening", "url", fmt.Sprintf("%s://%s", scheme, ln.Addr()), "db", a.DB.Dialect, "embedded_nats", a.Bus.Embedded(),
		"startup_ms", time.Since(start).Milliseconds())
	fmt.Fprintf(s.out, "vigil is running at %s://%s (Ctrl-C to stop)\n", scheme, ln.Addr())
	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

func printAccounts(s stdio, accounts []demo.Account) {
	fmt.Fprintln(s.out, "\nDemo data loaded. Sign in with any of these accounts:")
	tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ROLE\tEMAIL\tPASSWORD\tORGANISATION")
	for _, a := range accounts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Role, a.Email, a.Password, a.Org)
	}
	tw.Flush()
	fmt.Fprintln(s.out)
}

// lockData takes an exclusive lock on the data directory so two servers (or
// a restore) never use the same SQLite file at once.
func lockData(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, "vigil.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("data directory %s is in use by another vigil process", dir)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// serveDebug serves net/http/pprof's profiles on their own listener, so
// they are never reachable through the public address.
func serveDebug(s stdio, addr string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--debug-listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(s.out, "debug profiles at http://%s/debug/pprof/ (no authentication)\n", ln.Addr())
	go srv.Serve(ln)
	return func() { srv.Close() }, nil
}
