// Package config holds vigil's typed server options: each has a flag, a
// VIGIL_* environment variable and a default, is validated at start with a
// clear message, and is printed with secrets redacted.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"vigil/internal/store"
)

// Config is the server configuration, passed by value.
type Config struct {
	Addr     string // HTTP listen address
	Data     string // data directory: SQLite file, NATS store, blobs
	DB       string // postgres:// DSN; empty = SQLite in Data
	NATS     string // external NATS URL; empty = embedded server
	BaseURL  string // public URL, for links in invitations and emails
	TLSCert  string
	TLSKey   string
	LogLevel string
	LogJSON  bool
	// DC09Listen is the alarm receiver's TCP+UDP address; empty: none.
	DC09Listen string
	// SMTPURL relays email (client notifications); empty: none sent.
	SMTPURL string
	// TrustProxy takes the client address from X-Forwarded-For.
	TrustProxy bool
	// DebugListen serves Go's pprof profiles; empty: none.
	DebugListen string
	// AlarmRetentionDays keeps raw alarm signals that belong to no alarm
	// (polls, open/close, tests) this many days; "0": forever.
	AlarmRetentionDays string
}

// Option describes one setting for flags, env and documentation.
type Option struct {
	Flag, Env, Default, Help string
	Secret                   bool
	ptr                      any
}

// Options returns the option table bound to c.
func (c *Config) Options() []Option {
	return []Option{
		{"addr", "VIGIL_ADDR", "127.0.0.1:8080", "HTTP listen address", false, &c.Addr},
		{"data", "VIGIL_DATA", "./vigil-data", "data directory (SQLite database, NATS store, file blobs)", false, &c.Data},
		{"db", "VIGIL_DB", "", "PostgreSQL DSN (postgres://…); empty uses SQLite in the data directory", true, &c.DB},
		{"nats", "VIGIL_NATS", "", "external NATS cluster URL; empty runs an embedded NATS server (no TCP port)", true, &c.NATS},
		{"base-url", "VIGIL_BASE_URL", "", "public base URL, e.g. https://vigil.example.com (for links)", false, &c.BaseURL},
		{"tls-cert", "VIGIL_TLS_CERT", "", "TLS certificate file (optional; most sites use a reverse proxy)", false, &c.TLSCert},
		{"tls-key", "VIGIL_TLS_KEY", "", "TLS private key file", false, &c.TLSKey},
		{"log-level", "VIGIL_LOG_LEVEL", "info", "log level: debug, info, warn, error", false, &c.LogLevel},
		{"log-json", "VIGIL_LOG_JSON", "false", "log as JSON lines instead of text", false, &c.LogJSON},
		{"dc09-listen", "VIGIL_DC09_LISTEN", "", "SIA DC-09 alarm receiver address, TCP and UDP (e.g. :9000; port 0 picks one); empty: no receiver", false, &c.DC09Listen},
		{"smtp-url", "VIGIL_SMTP_URL", "", "SMTP relay for client notifications: smtp://user:pass@host:587?from=reports@example.com (empty: record only)", true, &c.SMTPURL},
		{"trust-proxy", "VIGIL_TRUST_PROXY", "false", "behind a reverse proxy: take the client address from X-Forwarded-For (for login throttling and logs)", false, &c.TrustProxy},
		{"alarm-retention-days", "VIGIL_ALARM_RETENTION_DAYS", "0", "delete raw alarm signals that belong to no alarm (polls, open/close, tests) after this many days; signals of alarms are kept; 0: keep all", false, &c.AlarmRetentionDays},
		{"debug-listen", "VIGIL_DEBUG_LISTEN", "", "serve Go profiles (/debug/pprof/) on this address, e.g. 127.0.0.1:6060; unauthenticated, keep it on loopback; empty: off", false, &c.DebugListen},
	}
}

// Bind registers c's options on fs with defaults taken from the
// environment, so a flag overrides VIGIL_*, which overrides the default.
func (c *Config) Bind(fs *flag.FlagSet, only ...string) {
	for _, o := range c.Options() {
		if len(only) > 0 && !contains(only, o.Flag) {
			continue
		}
		def := o.Default
		if v, ok := os.LookupEnv(o.Env); ok {
			def = v
		}
		help := o.Help + " (env " + o.Env + ")"
		switch p := o.ptr.(type) {
		case *string:
			fs.StringVar(p, o.Flag, def, help)
		case *bool:
			fs.BoolVar(p, o.Flag, def == "true" || def == "1", help)
		}
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// AlarmRetention is --alarm-retention-days as a duration (0: forever).
func (c Config) AlarmRetention() (time.Duration, error) {
	if strings.TrimSpace(c.AlarmRetentionDays) == "" { // a command that does not take the option
		return 0, nil
	}
	d, err := strconv.Atoi(strings.TrimSpace(c.AlarmRetentionDays))
	if err != nil || d < 0 || d > 36500 {
		return 0, fmt.Errorf("--alarm-retention-days %q: want a whole number of days, 0 to keep everything", c.AlarmRetentionDays)
	}
	return time.Duration(d) * 24 * time.Hour, nil
}

// DSN is the database to open: the PostgreSQL DSN, or the SQLite file.
func (c Config) DSN() string {
	if c.DB != "" {
		return c.DB
	}
	return filepath.Join(c.Data, "vigil.db")
}

// Validate checks every option and says which one is wrong.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr %q: want host:port (%v)", c.Addr, err))
	}
	if c.DC09Listen != "" {
		if _, _, err := net.SplitHostPort(c.DC09Listen); err != nil {
			errs = append(errs, fmt.Errorf("--dc09-listen %q: want host:port (%v)", c.DC09Listen, err))
		}
	}
	if _, err := c.AlarmRetention(); err != nil {
		errs = append(errs, err)
	}
	if c.DebugListen != "" {
		if _, _, err := net.SplitHostPort(c.DebugListen); err != nil {
			errs = append(errs, fmt.Errorf("--debug-listen %q: want host:port (%v)", c.DebugListen, err))
		}
	}
	if c.Data == "" {
		errs = append(errs, errors.New("--data must not be empty"))
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		errs = append(errs, errors.New("--db must be a postgres:// or postgresql:// URL (leave empty for SQLite)"))
	}
	if c.NATS != "" {
		if u, err := url.Parse(c.NATS); err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--nats %q: want nats://host:port", c.NATS))
		}
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--base-url %q: want http(s)://host[:port]", c.BaseURL))
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	for _, f := range []string{c.TLSCert, c.TLSKey} {
		if f != "" {
			if _, err := os.Stat(f); err != nil {
				errs = append(errs, fmt.Errorf("TLS file: %v", err))
			}
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}

// Print writes the effective configuration with secrets redacted.
func (c Config) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, o := range c.Options() {
		var v string
		switch p := o.ptr.(type) {
		case *string:
			v = *p
		case *bool:
			v = fmt.Sprint(*p)
		}
		if o.Secret && v != "" {
			v = redact(v)
		}
		fmt.Fprintf(tw, "%s\t%s\n", o.Flag, v)
	}
	tw.Flush()
}

func redact(v string) string {
	if strings.HasPrefix(v, "postgres") {
		return store.RedactDSN(v)
	}
	if u, err := url.Parse(v); err == nil && u.User != nil {
		u.User = url.User(u.User.Username())
		return u.String() + " (credentials redacted)"
	}
	return v
}
