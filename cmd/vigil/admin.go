package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"vigil/internal/account"
	"vigil/internal/audit"
	"vigil/internal/auth"
	"vigil/internal/config"
	"vigil/internal/demo"
	"vigil/internal/incident"
	"vigil/internal/org"
	"vigil/internal/store"
)

func runMigrate(ctx context.Context, args []string, s stdio) int {
	var cfg config.Config
	fs := newFlags(s, "migrate", "up|status [options]")
	dbFlags(fs, &cfg)
	if len(args) == 0 || (args[0] != "up" && args[0] != "status") {
		fs.Usage()
		return 2
	}
	sub := args[0]
	if err := parse(fs, args[1:], 0); err != nil {
		return finish(s, "migrate", err)
	}
	err := func() error {
		if err := cfg.Validate(); err != nil {
			return &exitErr{2, err.Error()}
		}
		db, err := store.Open(ctx, cfg.DSN())
		if err != nil {
			return err
		}
		defer db.Close()
		if sub == "up" {
			n, err := db.Migrate(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "applied %d migration(s)\n", n)
			return nil
		}
		st, err := db.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tSTATE\tFILE")
		for _, m := range st {
			state := "pending"
			if m.Applied {
				state = "applied"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\n", m.Version, state, m.Name)
		}
		return tw.Flush()
	}()
	return finish(s, "migrate", err)
}

func runOrg(ctx context.Context, args []string, s stdio) int {
	var cfg config.Config
	fs := newFlags(s, "org", "create --name NAME --slug SLUG [--parent SLUG] [--timezone TZ]")
	dbFlags(fs, &cfg)
	name := fs.String("name", "", "organisation name")
	slug := fs.String("slug", "", "unique short name (lower-case letters, digits, hyphens)")
	parent := fs.String("parent", "", "slug of the operator organisation (makes this a client organisation)")
	tz := fs.String("timezone", "UTC", "IANA time zone")
	if len(args) == 0 || args[0] != "create" {
		fs.Usage()
		return 2
	}
	if err := parse(fs, args[1:], 0); err != nil {
		return finish(s, "org", err)
	}
	err := func() error {
		a, err := openApp(ctx, s, cfg, false)
		if err != nil {
			return err
		}
		defer a.Close()
		o := &org.Org{Kind: "operator", Name: *name, Slug: *slug, Timezone: *tz}
		if *parent != "" {
			p, err := a.Orgs.OrgBySlug(ctx, *parent)
			if err != nil {
				return usageErr("--parent %q: no such organisation", *parent)
			}
			o.Kind, o.ParentID = "client", p.ID
		}
		err = a.DB.Write(ctx, func(tx *store.Tx) error { return a.Orgs.CreateOrg(ctx, tx, o, nil) })
		if fe := fieldErr(err); fe != nil {
			return fe
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "created %s organisation %s (%s) id %s\n", o.Kind, o.Name, o.Slug, o.ID)
		return nil
	}()
	return finish(s, "org", err)
}

// fieldErr turns a validation error into a usage error naming the flag.
func fieldErr(err error) error {
	var fe *auth.FieldError
	if errors.As(err, &fe) {
		return &exitErr{2, "--" + fe.Field + ": " + fe.Message}
	}
	return nil
}

func runUser(ctx context.Context, args []string, s stdio) int {
	const usage = `create --org SLUG --email E --name N --role R --password-stdin
       vigil user passwd --email E --password-stdin [--must-change]
       vigil user disable --email E`
	if len(args) == 0 {
		newFlags(s, "user", usage).Usage()
		return 2
	}
	var cfg config.Config
	fs := newFlags(s, "user", usage)
	dbFlags(fs, &cfg)
	orgSlug := fs.String("org", "", "organisation slug")
	email := fs.String("email", "", "email address")
	name := fs.String("name", "", "full name")
	role := fs.String("role", "", "role: owner, admin, manager, supervisor, dispatcher, officer, investigator, auditor, client")
	stdinPW := fs.Bool("password-stdin", false, "read the password from standard input")
	mustChange := fs.Bool("must-change", false, "require a password change at next sign-in")
	sub := args[0]
	if err := parse(fs, args[1:], 0); err != nil {
		return finish(s, "user", err)
	}
	err := func() error {
		if *email == "" {
			return usageErr("--email is required")
		}
		var pw string
		if sub == "create" || sub == "passwd" {
			if !*stdinPW {
				return usageErr("--password-stdin is required (passwords are never taken as arguments)")
			}
			var err error
			if pw, err = readSecret(s.in); err != nil {
				return err
			}
		}
		a, err := openApp(ctx, s, cfg, false)
		if err != nil {
			return err
		}
		defer a.Close()
		switch sub {
		case "create":
			o, err := a.Orgs.OrgBySlug(ctx, *orgSlug)
			if err != nil {
				return usageErr("--org %q: no such organisation", *orgSlug)
			}
			var u *auth.User
			err = a.DB.Write(ctx, func(tx *store.Tx) error {
				u, err = a.Auth.CreateUser(ctx, tx, auth.NewUser{Email: *email, Name: *name, Password: pw, OrgID: o.ID, Role: auth.Role(*role), MustChangePassword: *mustChange}, nil)
				return err
			})
			if fe := fieldErr(err); fe != nil {
				return fe
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "created user %s (%s) as %s of %s\n", u.Email, u.ID, *role, o.Name)
		case "passwd", "disable":
			u, err := a.Auth.UserByEmail(ctx, *email)
			if err != nil {
				return &exitErr{1, "no user with email " + *email}
			}
			ms, err := a.Auth.Memberships(ctx, u.ID)
			if err != nil || len(ms) == 0 {
				return &exitErr{1, "the user has no organisation"}
			}
			if sub == "passwd" {
				err = a.Auth.SetPassword(ctx, u.ID, pw, *mustChange, "", nil, ms[0].OrgID)
			} else {
				err = a.Auth.SetDisabled(ctx, u.ID, true, nil, ms[0].OrgID)
			}
			if fe := fieldErr(err); fe != nil {
				return fe
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "%s: done for %s\n", sub, u.Email)
		default:
			return usageErr("unknown subcommand %q (create, passwd, disable)", sub)
		}
		return nil
	}()
	return finish(s, "user", err)
}

func runToken(ctx context.Context, args []string, s stdio) int {
	var cfg config.Config
	fs := newFlags(s, "token", "create --email E [--name N] [--expires 90d]")
	dbFlags(fs, &cfg)
	email := fs.String("email", "", "the user the token acts as")
	name := fs.String("name", "cli", "a label for the token")
	expires := fs.String("expires", "90d", "lifetime (e.g. 90d, 12h; empty for never)")
	if len(args) == 0 || args[0] != "create" {
		fs.Usage()
		return 2
	}
	if err := parse(fs, args[1:], 0); err != nil {
		return finish(s, "token", err)
	}
	err := func() error {
		ttl, err := account.ParseTTL(*expires)
		if err != nil {
			return usageErr("--expires %v", err)
		}
		a, err := openApp(ctx, s, cfg, false)
		if err != nil {
			return err
		}
		defer a.Close()
		u, err := a.Auth.UserByEmail(ctx, *email)
		if err != nil || u.Disabled {
			return &exitErr{1, "no active user with email " + *email}
		}
		secret, t, err := a.Auth.CreateToken(ctx, u.ID, *name, ttl, nil)
		if fe := fieldErr(err); fe != nil {
			return fe
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(s.out, secret)
		exp := "never"
		if t.ExpiresAt != nil {
			exp = t.ExpiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(s.err, "token %q for %s created (expires %s); it is shown only once\n", t.Name, u.Email, exp)
		return nil
	}()
	return finish(s, "token", err)
}

func runAudit(ctx context.Context, args []string, s stdio) int {
	var cfg config.Config
	fs := newFlags(s, "audit", "verify [options]")
	dbFlags(fs, &cfg)
	if len(args) == 0 || args[0] != "verify" {
		fs.Usage()
		return 2
	}
	if err := parse(fs, args[1:], 0); err != nil {
		return finish(s, "audit", err)
	}
	err := func() error {
		a, err := openApp(ctx, s, cfg, false)
		if err != nil {
			return err
		}
		defer a.Close()
		rep, err := audit.Verify(ctx, a.DB)
		if err != nil {
			return err
		}
		if len(rep.Broken) == 0 {
			fmt.Fprintf(s.out, "audit log intact: %d rows in %d chains verified\n", rep.Rows, rep.Chains)
			return nil
		}
		for _, b := range rep.Broken {
			name := b.OrgID
			if o, err := a.Orgs.Org(ctx, []string{b.OrgID}, b.OrgID); err == nil {
				name = fmt.Sprintf("%s (%s)", o.Name, o.ID)
			}
			fmt.Fprintf(s.out, "BROKEN: organisation %s, row %d: %s\n", name, b.N, b.Reason)
		}
		return &exitErr{1, fmt.Sprintf("audit log tampered: %d of %d chains broken (%d rows read)", len(rep.Broken), rep.Chains, rep.Rows)}
	}()
	return finish(s, "audit", err)
}

func runDemo(ctx context.Context, args []string, s stdio) int {
	var cfg config.Config
	fs := newFlags(s, "demo", "[options]")
	dbFlags(fs, &cfg)
	incidents := fs.Int("incidents", 0, "also seed `N` realistic incident reports for load testing (into an existing demo too)")
	if err := parse(fs, args, 0); err != nil {
		return finish(s, "demo", err)
	}
	err := func() error {
		a, err := openApp(ctx, s, cfg, false)
		if err != nil {
			return err
		}
		defer a.Close()
		accounts, err := demo.Load(ctx, a.DB, a.Auth, a.Orgs)
		if errors.Is(err, demo.ErrNotEmpty) && *incidents > 0 {
			accounts, err = nil, nil
		}
		if err != nil {
			return err
		}
		printAccounts(s, accounts)
		if *incidents > 0 {
			return incident.Seed(ctx, a.DB, a.Orgs, a.Now(), *incidents, uint64(time.Now().UnixNano()), s.err)
		}
		return nil
	}()
	return finish(s, "demo", err)
}
