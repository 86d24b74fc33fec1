package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// columns lists table → column names, so the two engines' schemas can be
// compared after migration.
func columns(t *testing.T, db *store.DB) map[string][]string {
	t.Helper()
	q := `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
	      WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE 'goose_%'`
	if db.Dialect == store.Postgres {
		q = `SELECT table_name, column_name FROM information_schema.columns
		     WHERE table_schema = current_schema() AND table_name NOT LIKE 'goose_%'`
	}
	rows, err := db.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var tbl, col string
		if err := rows.Scan(&tbl, &col); err != nil {
			t.Fatal(err)
		}
		out[tbl] = append(out[tbl], col)
	}
	for _, c := range out {
		sort.Strings(c)
	}
	if db.Dialect == store.SQLite {
		// Full-text search is an FTS5 virtual table (plus its shadow tables)
		// on SQLite and a tsvector column on PostgreSQL: engine-specific by
		// design, so they are left out of the comparison.
		vt, err := db.Query(context.Background(), `SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'`)
		if err != nil {
			t.Fatal(err)
		}
		var virtual []string
		for vt.Next() {
			var n string
			vt.Scan(&n)
			virtual = append(virtual, n)
		}
		vt.Close()
		for tbl := range out {
			for _, v := range virtual {
				if tbl == v || strings.HasPrefix(tbl, v+"_") {
					delete(out, tbl)
				}
			}
		}
	}
	return out
}

// searchColumns are PostgreSQL-only full-text columns (tsvector), the
// counterpart of SQLite's FTS5 tables.
func dropSearchColumns(cols map[string][]string) {
	for tbl, c := range cols {
		kept := c[:0]
		for _, name := range c {
			if !strings.HasSuffix(name, "_tsv") {
				kept = append(kept, name)
			}
		}
		cols[tbl] = kept
	}
}

func TestMigrationsMatchAcrossEngines(t *testing.T) {
	lite := columns(t, storetest.SQLite(t))
	pg := columns(t, storetest.Postgres(t))
	dropSearchColumns(pg)
	if len(lite) < 10 {
		t.Fatalf("suspiciously few tables: %v", lite)
	}
	if !reflect.DeepEqual(lite, pg) {
		for tbl, c := range lite {
			if !reflect.DeepEqual(c, pg[tbl]) {
				t.Errorf("table %s: sqlite %v, postgres %v", tbl, c, pg[tbl])
			}
		}
		for tbl := range pg {
			if _, ok := lite[tbl]; !ok {
				t.Errorf("table %s only on postgres", tbl)
			}
		}
	}
}

func TestTxAndErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		ins := `INSERT INTO orgs (id, kind, name, slug, created_at, updated_at) VALUES (?, 'operator', ?, ?, ?, ?)`
		committed := false
		err := db.Write(ctx, func(tx *store.Tx) error {
			tx.AfterCommit(func() { committed = true })
			_, err := tx.Exec(ctx, ins, "o1", "One", "one", now, now)
			return err
		})
		if err != nil || !committed {
			t.Fatalf("write: %v committed=%v", err, committed)
		}
		// A failing callback rolls back and never runs after-commit hooks.
		boom := errors.New("boom")
		committed = false
		err = db.Write(ctx, func(tx *store.Tx) error {
			tx.AfterCommit(func() { committed = true })
			if _, err := tx.Exec(ctx, ins, "o2", "Two", "two", now, now); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || committed {
			t.Fatalf("rollback: %v committed=%v", err, committed)
		}
		var n int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM orgs`).Scan(&n)
		if n != 1 {
			t.Fatalf("rows after rollback = %d, want 1", n)
		}
		_, err = db.Exec(ctx, ins, "o3", "Dup", "one", now, now)
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate slug: %v, want ErrConflict", err)
		}
		var got time.Time
		err = db.QueryRow(ctx, `SELECT created_at FROM orgs WHERE id = ?`, "o1").Scan(&got)
		if err != nil || !got.Equal(now) {
			t.Fatalf("time round trip: %v %v", got, err)
		}
		err = store.NotFound(db.QueryRow(ctx, `SELECT id FROM orgs WHERE id = ?`, "nope").Scan(new(string)))
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing row: %v", err)
		}
	})
}

func TestOpenFailsClearly(t *testing.T) {
	_, err := store.Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("want error for unreachable PostgreSQL")
	}
}

// TestCheckpointInBackground: the writer never checkpoints, so committed
// pages reach the database file only through the background checkpointer.
func TestCheckpointInBackground(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ckpt.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ctx, `CREATE TABLE blobs (b TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	before := fileSize(t, path)
	err = db.Write(ctx, func(tx *store.Tx) error {
		for range 512 {
			if _, err := tx.Exec(ctx, `INSERT INTO blobs (b) VALUES (?)`, strings.Repeat("x", 4000)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); fileSize(t, path) < before+2<<20; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes 10 s after a 2 MB commit: the WAL was not checkpointed", fileSize(t, path))
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestWriteUnsynced: the transaction commits and is visible like any other,
// only its commit skips the sync, and the writer syncs again afterwards
// (also after a transaction that failed).
func TestWriteUnsynced(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		setting := `PRAGMA synchronous` // 2 = FULL, 1 = NORMAL
		on, off := "2", "1"
		if db.Dialect == store.Postgres {
			setting, on, off = `SHOW synchronous_commit`, "on", "off"
		}
		inside := func(tx *store.Tx) string {
			var v string
			if err := tx.QueryRow(ctx, setting).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		if _, err := db.Exec(ctx, `CREATE TABLE unsynced (n INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		err := db.WriteUnsynced(ctx, func(tx *store.Tx) error {
			if v := inside(tx); v != off {
				t.Errorf("inside: %s = %s, want %s", setting, v, off)
			}
			_, err := tx.Exec(ctx, `INSERT INTO unsynced (n) VALUES (1)`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		failed := errors.New("rolled back")
		if err := db.WriteUnsynced(ctx, func(tx *store.Tx) error {
			tx.Exec(ctx, `INSERT INTO unsynced (n) VALUES (2)`)
			return failed
		}); !errors.Is(err, failed) {
			t.Fatalf("failed transaction: %v", err)
		}
		var n int
		if err := db.QueryRow(ctx, `SELECT COALESCE(SUM(n), 0) FROM unsynced`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("committed rows: sum %d, %v; want 1", n, err)
		}
		db.Write(ctx, func(tx *store.Tx) error {
			if v := inside(tx); v != on {
				t.Errorf("after: %s = %s, want %s", setting, v, on)
			}
			return nil
		})
	})
}
