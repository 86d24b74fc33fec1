// Package app wires vigil together: it opens the store and the bus, builds
// the services and registers every module's routes on one web server.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigil/internal/account"
	"vigil/internal/alarm"
	"vigil/internal/auth"
	"vigil/internal/blob"
	"vigil/internal/bus"
	"vigil/internal/config"
	"vigil/internal/incident"
	"vigil/internal/investigation"
	"vigil/internal/org"
	"vigil/internal/risk"
	"vigil/internal/store"
	"vigil/internal/web"
)

// App is a running vigil instance (without its listeners).
type App struct {
	Cfg  config.Config
	Log  *slog.Logger
	DB   *store.DB
	Bus  *bus.Bus
	Auth *auth.Service
	Orgs *org.Service
	// Alarm is the alarm module; the server runs its background work
	// (DC-09 receiver, live hub, supervision) with Alarm.Run.
	Alarm *alarm.Module
	Web   *web.Server
	Blob  blob.Store // content-addressed files under <data>/blobs
	Now   func() time.Time

	inbox *alarm.Inbox // the DC-09 receiver's inbox (a sibling file on SQLite)
}

// Options are the parts tests replace.
type Options struct {
	Now     func() time.Time // default time.Now
	NoBus   bool             // skip NATS (CLI commands that only touch the database)
	BusRoot string           // subject root/stream suffix, for tests sharing a NATS server
}

// Open opens the database (migrating it), the bus, and builds the web app.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, opt Options) (*App, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	db, err := OpenDB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return New(ctx, db, cfg, log, opt)
}

// New builds the app on an open, migrated database, which it then owns.
func New(ctx context.Context, db *store.DB, cfg config.Config, log *slog.Logger, opt Options) (*App, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	var err error
	a := &App{Cfg: cfg, Log: log, DB: db, Now: opt.Now, Blob: blob.FS{Dir: filepath.Join(cfg.Data, "blobs")}}
	if !opt.NoBus {
		bc := bus.Config{URL: cfg.NATS, DataDir: cfg.Data, Logger: log}
		if opt.BusRoot != "" {
			bc.Root, bc.Stream = opt.BusRoot, "VIGIL_"+opt.BusRoot
		}
		if a.Bus, err = bus.Open(ctx, bc); err != nil {
			db.Close()
			return nil, fmt.Errorf("message bus: %w", err)
		}
	}
	if a.inbox, err = alarm.OpenInbox(ctx, db); err != nil {
		a.Close()
		return nil, err
	}
	a.Auth = auth.NewService(db, opt.Now)
	a.Orgs = &org.Service{DB: db, Now: opt.Now}
	if err := a.buildWeb(); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// OpenDB opens and migrates the configured database.
func OpenDB(ctx context.Context, cfg config.Config) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.DSN())
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (a *App) buildWeb() error {
	var base *url.URL
	if a.Cfg.BaseURL != "" {
		base, _ = url.Parse(a.Cfg.BaseURL)
	}
	reg := prometheus.NewRegistry()
	if a.Bus != nil {
		reg.MustRegister(a.Bus.Collectors()...)
	}
	s := web.New(a.Auth, a.Log, base, reg)
	s.Secure = s.Secure || a.Cfg.TLSCert != ""
	s.TrustProxy = a.Cfg.TrustProxy
	s.OrgNames = a.orgNames
	s.Ready = func(ctx context.Context) error {
		if err := a.DB.Ping(ctx); err != nil {
			return fmt.Errorf("database: %w", err)
		}
		if a.Bus != nil {
			if err := a.Bus.Check(ctx); err != nil {
				return fmt.Errorf("message bus: %w", err)
			}
		}
		return nil
	}
	tmpl, err := web.ParseTemplates(account.Templates, org.Templates, investigation.Templates, alarm.Templates, incident.Templates, risk.Templates)
	if err != nil {
		return err
	}
	s.Tmpl = tmpl
	a.Web = s
	(&account.Handlers{Auth: a.Auth, DB: a.DB, Web: s, Stats: a.stats}).Register()
	(&org.Handlers{S: a.Orgs, Web: s}).Register()
	retention, err := a.Cfg.AlarmRetention()
	if err != nil {
		return err
	}
	if a.Alarm, err = alarm.New(a.DB, a.Orgs, s, a.Bus, a.Log, a.Now, reg, alarm.Options{DC09Listen: a.Cfg.DC09Listen, Retention: retention, Inbox: a.inbox}); err != nil {
		return err
	}
	a.Alarm.Register()
	(&investigation.Handlers{S: investigation.NewService(a.DB, a.Blob, a.Auth, a.Orgs, a.Now), Web: s}).Register()
	if _, err := incident.Register(a.DB, a.Orgs, a.Blob, a.Now, s, a.Cfg.SMTPURL); err != nil {
		return err
	}
	(&risk.Handlers{S: &risk.Service{DB: a.DB, Now: a.Now}, Places: a.Orgs, Web: s}).Register()
	return nil
}

// Handler is the HTTP handler of the whole app.
func (a *App) Handler() http.Handler { return a.Web.Handler() }

// Close releases the bus and the database.
func (a *App) Close() error {
	var err error
	if a.Bus != nil {
		err = a.Bus.Close()
	}
	if a.inbox != nil {
		err = errors.Join(err, a.inbox.Close())
	}
	return errors.Join(err, a.DB.Close())
}

func (a *App) orgNames(ctx context.Context, ids []string) map[string]string {
	out := map[string]string{}
	orgs, err := a.Orgs.Orgs(ctx, ids, "", org.Page{Limit: 500})
	if err != nil {
		a.Log.Warn("org names", "err", err)
		return out
	}
	for _, o := range orgs {
		out[o.ID] = o.Name
	}
	return out
}

// stats are the overview page's figures: for an operator, across every
// client organisation the user works in; for a client, its own.
func (a *App) stats(ctx context.Context, p *auth.Principal) []account.Stat {
	var out []account.Stat
	count := func(label, href, q string, action auth.Action) {
		scope := p.OrgsWhere(action)
		if !auth.Can(p, action, p.OrgID) || len(scope) == 0 {
			return
		}
		args := make([]any, len(scope))
		for i, id := range scope {
			args[i] = id
		}
		var n int
		if err := a.DB.QueryRow(ctx, strings.Replace(q, "(?)", "("+strings.TrimSuffix(strings.Repeat("?,", len(scope)), ",")+")", 1), args...).Scan(&n); err == nil {
			out = append(out, account.Stat{Label: label, Href: href, N: n})
		}
	}
	count("Client organisations", "/orgs", `SELECT COUNT(*) FROM orgs WHERE kind = 'client' AND id IN (?)`, auth.OrgCreate)
	count("Sites", "/sites", `SELECT COUNT(*) FROM sites WHERE org_id IN (?)`, auth.SiteRead)
	count("Devices", "/devices", `SELECT COUNT(*) FROM devices WHERE org_id IN (?)`, auth.SiteRead)
	count("Devices needing attention", "/devices?status=faulty", `SELECT COUNT(*) FROM devices WHERE status IN ('faulty', 'offline') AND org_id IN (?)`, auth.SiteRead)
	count("Users", "/users", `SELECT COUNT(DISTINCT user_id) FROM memberships WHERE org_id IN (?)`, auth.UserRead)
	return out
}
