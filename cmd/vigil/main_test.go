package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"vigil/internal/alarm"
	"vigil/internal/store"
)

// vigil runs the CLI in-process and returns exit code, stdout and stderr.
func vigil(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, stdio{strings.NewReader(stdin), &out, &errb})
	return code, out.String(), errb.String()
}

func TestAdminCLI(t *testing.T) {
	data := t.TempDir()
	d := "--data=" + data
	steps := []struct {
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"", []string{"migrate", "up", d}, 0, "applied"},
		{"", []string{"migrate", "status", d}, 0, "applied"},
		{"", []string{"org", "create", d, "--name", "Acme Security", "--slug", "acme"}, 0, "created operator organisation"},
		{"", []string{"org", "create", d, "--name", "Client One", "--slug", "client-one", "--parent", "acme"}, 0, "created client organisation"},
		{"", []string{"org", "create", d, "--name", "Dup", "--slug", "acme"}, 2, "--slug"},
		{"", []string{"org", "create", d, "--name", "Orphan", "--slug", "orphan", "--parent", "nope"}, 2, "no such organisation"},
		{"a long enough password\n", []string{"user", "create", d, "--org", "acme", "--email", "Ana@Acme.test", "--name", "Ana", "--role", "owner", "--password-stdin"}, 0, "created user ana@acme.test"},
		{"short\n", []string{"user", "create", d, "--org", "acme", "--email", "bo@acme.test", "--name", "Bo", "--role", "owner", "--password-stdin"}, 2, "--password"},
		{"a long enough password\n", []string{"user", "create", d, "--org", "acme", "--email", "bo@acme.test", "--name", "Bo", "--role", "emperor", "--password-stdin"}, 2, "--role"},
		{"", []string{"user", "create", d, "--org", "acme", "--email", "bo@acme.test", "--name", "Bo", "--role", "owner"}, 2, "--password-stdin"},
		{"another long password\n", []string{"user", "passwd", d, "--email", "ana@acme.test", "--password-stdin"}, 0, "done"},
		{"", []string{"token", "create", d, "--email", "ana@acme.test", "--expires", "30d"}, 0, "vgl_"},
		{"", []string{"token", "create", d, "--email", "ana@acme.test", "--expires", "soon"}, 2, "--expires"},
		{"", []string{"token", "create", d, "--email", "nobody@acme.test"}, 1, "no active user"},
		{"", []string{"audit", "verify", d}, 0, "audit log intact"},
		{"", []string{"user", "disable", d, "--email", "ana@acme.test"}, 0, "done"},
		{"", []string{"nonsense"}, 2, "unknown command"},
		{"", []string{"org", "create", d, "--bogus"}, 2, "bogus"},
	}
	for _, s := range steps {
		code, out, errs := vigil(t, s.stdin, s.args...)
		if code != s.code || !strings.Contains(out+errs, s.want) {
			t.Fatalf("vigil %v: exit %d (want %d)\nstdout: %s\nstderr: %s\nwant %q", s.args, code, s.code, out, errs, s.want)
		}
	}
}

// TestAuditVerifyCatchesEdits edits the SQLite file directly, as an
// insider with file access would, and expects verify to name the row.
func TestAuditVerifyCatchesEdits(t *testing.T) {
	data := t.TempDir()
	d := "--data=" + data
	if code, out, errs := vigil(t, "", "demo", d); code != 0 {
		t.Fatalf("demo: %d %s %s", code, out, errs)
	}
	if code, out, _ := vigil(t, "", "audit", "verify", d); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("fresh demo: %d %s", code, out)
	}
	db, err := sql.Open("sqlite", filepath.Join(data, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	var org string
	db.QueryRow(`SELECT org_id FROM audit_log WHERE action = 'site.create' LIMIT 1`).Scan(&org)
	if _, err := db.Exec(`UPDATE audit_log SET actor = 'someone else' WHERE org_id = ? AND n = 2`, org); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, errs := vigil(t, "", "audit", "verify", d)
	if code != 1 || !strings.Contains(out, "row 2") || !strings.Contains(out, org) || !strings.Contains(errs, "tampered") {
		t.Fatalf("tampered: exit %d\n%s\n%s", code, out, errs)
	}
}

func TestBackupRestore(t *testing.T) {
	data := t.TempDir()
	d := "--data=" + data
	if code, _, errs := vigil(t, "", "demo", d); code != 0 {
		t.Fatal(errs)
	}
	// A signal the receiver has ACKed but not yet applied is part of the
	// backup, and is applied by a server started on the restored copy.
	ctx := context.Background()
	pending := alarm.Event{OrgID: "o", Source: "dc09", DedupKey: "pending-at-backup", ReceivedAt: time.Now().UTC(), Class: "poll", Kind: alarm.KindPoll}
	withInbox(t, filepath.Join(data, "vigil.db"), func(s *alarm.Service) {
		// The demo's panels, their zones named after the sites' zones.
		var n int
		if err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM alarm_accounts WHERE zone_map LIKE '%Dock B (hazmat)%' OR number <> '1001'`).Scan(&n); err != nil || n != 5 {
			t.Fatalf("demo alarm accounts: %d %v", n, err)
		}
		if err := s.Enqueue(ctx, []alarm.Event{pending}); err != nil {
			t.Fatal(err)
		}
	})
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	if code, o, errs := vigil(t, "", "backup", d, "--out", out); code != 0 || !strings.Contains(o, "backup written") {
		t.Fatalf("backup: %d %s %s", code, o, errs)
	}
	// Restoring over an existing database needs --force.
	if code, _, errs := vigil(t, "", "restore", d, "--in", out); code != 1 || !strings.Contains(errs, "--force") {
		t.Fatalf("restore without force: %d %s", code, errs)
	}
	fresh := t.TempDir()
	if code, o, errs := vigil(t, "", "restore", "--data="+fresh, "--in", out); code != 0 || !strings.Contains(o, "restored") {
		t.Fatalf("restore: %d %s %s", code, o, errs)
	}
	if code, o, _ := vigil(t, "", "audit", "verify", "--data="+fresh); code != 0 || !strings.Contains(o, "intact") {
		t.Fatalf("restored audit: %d %s", code, o)
	}
	withInbox(t, filepath.Join(fresh, "vigil.db"), func(s *alarm.Service) {
		if n, err := s.Apply(ctx, 100); err != nil || n != 1 {
			t.Fatalf("restored inbox: applied %d (%v), want the pending signal", n, err)
		}
		evs, err := s.Events(ctx, []string{"o"}, alarm.EventFilter{}, 10, 0)
		if err != nil || len(evs) != 1 {
			t.Fatalf("restored events: %v %+v", err, evs)
		}
	})
	// Restoring over a data directory drops its inbox file: signals
	// received after the backup are not part of the restored state.
	if code, o, errs := vigil(t, "", "restore", d, "--in", out, "--force"); code != 0 {
		t.Fatalf("restore --force: %d %s %s", code, o, errs)
	}
	if _, err := os.Stat(filepath.Join(data, alarm.InboxFile+".db")); !os.IsNotExist(err) {
		t.Fatalf("inbox file after restore: %v", err)
	}
	// A damaged file is refused and leaves data alone.
	bad := filepath.Join(t.TempDir(), "bad.tar.gz")
	writeFile(t, bad, "not a backup")
	if code, _, errs := vigil(t, "", "restore", "--data="+t.TempDir(), "--in", bad); code != 1 || !strings.Contains(errs, "not a vigil backup") {
		t.Fatalf("bad backup: %d %s", code, errs)
	}
	if code, _, errs := vigil(t, "", "backup", d); code != 2 || !strings.Contains(errs, "--out") {
		t.Fatalf("backup without --out: %d %s", code, errs)
	}
}

func TestDatabaseDownIsClear(t *testing.T) {
	code, _, errs := vigil(t, "", "migrate", "up", "--db", "postgres://nobody@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	if code != 1 || !strings.Contains(errs, "cannot reach PostgreSQL") {
		t.Fatalf("db down: %d %s", code, errs)
	}
	code, _, errs = vigil(t, "", "serve", "--db", "mysql://x", "--addr", "nonsense", "--alarm-retention-days", "90d")
	if code != 2 || !strings.Contains(errs, "--db") || !strings.Contains(errs, "--addr") || !strings.Contains(errs, "--alarm-retention-days") {
		t.Fatalf("bad config: %d %s", code, errs)
	}
}

// withInbox opens the SQLite database at path with its alarm inbox file.
func withInbox(t *testing.T, path string, fn func(s *alarm.Service)) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	in, err := alarm.OpenInbox(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	fn(&alarm.Service{DB: db, Inbox: in, Now: time.Now})
}
