// Package store opens vigil's SQL database (SQLite embedded, or PostgreSQL),
// runs the embedded migrations and gives modules a small, dialect-neutral way
// to run queries and transactions.
//
// SQL in vigil is written once with `?` placeholders in the portable subset of
// both engines; the store rebinds placeholders for PostgreSQL. Where the
// engines really differ (upserts, full-text search, row locks) modules ask the
// Dialect.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Dialect names the SQL engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database. SQLite uses one writer connection (SQLite allows
// one writer at a time; queuing in Go is cheaper than SQLITE_BUSY retries)
// and a pool of readers. PostgreSQL uses one pool for both.
type DB struct {
	Dialect Dialect
	path    string // SQLite: the database file
	w, r    *sql.DB
	ckpt    *sql.DB       // SQLite: the connection that checkpoints the WAL
	stop    chan struct{} // closed by Close: the checkpointer ends
	stopped chan struct{}
	closing sync.Once
}

// Open opens dsn: a postgres:// or postgresql:// URL selects PostgreSQL,
// anything else is a SQLite file path. It checks the connection, so a
// database that is down fails here with a clear error.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot reach PostgreSQL at %s: %w", redactDSN(dsn), err)
	}
	return &DB{Dialect: Postgres, w: db, r: db}, nil
}

// sqlitePragmas are applied by the driver to every new connection.
//
//   - busy_timeout first, so that the following pragmas wait instead of
//     failing while another process (a backup, the CLI) holds a lock;
//   - journal_mode(WAL) lets readers run while the writer commits;
//   - synchronous(FULL): with WAL, NORMAL does not fsync at commit, so an
//     alarm the receiver has ACKed could vanish on power loss;
//   - foreign_keys(ON): SQLite does not enforce them otherwise;
//   - temp_store(MEMORY): statement journals (a multi-row INSERT inside a
//     transaction needs one) and sort spills stay in memory instead of
//     temporary files written page by page on the alarm hot path.
var sqlitePragmas = []string{
	"busy_timeout(10000)",
	"journal_mode(WAL)",
	"synchronous(FULL)",
	"foreign_keys(ON)",
	"temp_store(MEMORY)",
}

// The writer's automatic checkpoint is off: it runs inside whichever
// commit crosses the threshold, so one unlucky transaction (often an alarm
// receiver commit that panels wait on) would pay for copying the WAL back
// into the database. checkpointLoop does it on its own connection instead.
const (
	writerOnly      = "wal_autocheckpoint(0)"
	checkpointEvery = 250 * time.Millisecond
)

func sqliteDSN(path string, readOnly bool, extra ...string) string {
	q := url.Values{}
	for _, p := range sqlitePragmas {
		q.Add("_pragma", p)
	}
	for _, p := range extra {
		q.Add("_pragma", p)
	}
	// _txlock=immediate takes the write lock at BEGIN, so two writers never
	// deadlock upgrading a read lock. _time_format=sqlite stores times as
	// text SQLite's date functions understand.
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: create directory: %w", err)
		}
	}
	w, err := sql.Open("sqlite", sqliteDSN(path, false, writerOnly))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("cannot open SQLite database %s: %w", path, err)
	}
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		w.Close()
		return nil, fmt.Errorf("sqlite: WAL mode not active on %s (got %q, %v)", path, mode, err)
	}
	r, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	ckpt, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	ckpt.SetMaxOpenConns(1)
	db := &DB{Dialect: SQLite, path: path, w: w, r: r, ckpt: ckpt, stop: make(chan struct{}), stopped: make(chan struct{})}
	go db.checkpointLoop()
	return db, nil
}

// Sibling opens a second SQLite database named name+".db" beside db's
// file, with the same settings. SQLite has one writer per file, so a
// module whose commits must never wait behind the main database's
// transactions (the alarm receiver's inbox) keeps them in a sibling. On
// PostgreSQL, which has no such limit, it returns db itself: the caller
// must not close it then.
func (db *DB) Sibling(ctx context.Context, name string) (*DB, error) {
	if db.Dialect != SQLite {
		return db, nil
	}
	return openSQLite(ctx, filepath.Join(filepath.Dir(db.path), name+".db"))
}

// checkpointLoop copies committed WAL frames back into the database file
// a few times a second. PASSIVE never waits for (or blocks) the writer or
// readers; the WAL restarts from its beginning once a checkpoint caught up.
func (db *DB) checkpointLoop() {
	defer close(db.stopped)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
		}
		// A failure (the database is being closed or restored) is retried
		// on the next tick; a later checkpoint catches up.
		db.ckpt.Exec("PRAGMA wal_checkpoint(PASSIVE)")
	}
}

// Close closes all connections.
func (db *DB) Close() error {
	if db.ckpt != nil {
		db.closing.Do(func() {
			close(db.stop)
			<-db.stopped
			db.ckpt.Close()
		})
	}
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// Ping checks that the database answers (for /readyz).
func (db *DB) Ping(ctx context.Context) error { return db.r.PingContext(ctx) }

// SQL returns the writer pool, for tools (migrations, backup) that need the
// raw handle.
func (db *DB) SQL() *sql.DB { return db.w }

// Querier is what read-only store code needs; both *Tx and a DB's reader
// implement it.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
	Dialect() Dialect
}

// Tx is a transaction that rebinds placeholders for its dialect.
type Tx struct {
	tx *sql.Tx
	d  Dialect
	// after runs once the transaction has committed (bus publishes, cache
	// invalidation): nothing is announced that a rollback could undo.
	after []func()
}

func (t *Tx) Dialect() Dialect { return t.d }

func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	r, err := t.tx.ExecContext(ctx, rebind(t.d, q), args...)
	return r, mapErr(err)
}

func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	r, err := t.tx.QueryContext(ctx, rebind(t.d, q), args...)
	return r, mapErr(err)
}

func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, rebind(t.d, q), args...)
}

// Prepare prepares q for repeated use within the transaction; the caller
// closes the statement.
func (t *Tx) Prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	st, err := t.tx.PrepareContext(ctx, rebind(t.d, q))
	return st, mapErr(err)
}

// AfterCommit registers fn to run after a successful commit.
func (t *Tx) AfterCommit(fn func()) { t.after = append(t.after, fn) }

// Write runs fn in a read-write transaction and commits if fn returns nil.
func (db *DB) Write(ctx context.Context, fn func(tx *Tx) error) error {
	return db.inTx(ctx, db.w, false, fn)
}

// WriteUnsynced runs fn like Write, but its commit does not wait for the
// disk: a power cut may lose the transaction (never corrupt the database)
// until a later synced commit or checkpoint made it durable. Only for
// changes whose source is durable elsewhere and applied again after a
// crash, such as alarms applied ahead of the receiver's inbox: the commit
// then costs no fsync, which on a busy disk can take tens of milliseconds.
func (db *DB) WriteUnsynced(ctx context.Context, fn func(tx *Tx) error) error {
	if db.Dialect == Postgres {
		return db.Write(ctx, func(tx *Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit TO OFF`); err != nil {
				return err
			}
			return fn(tx)
		})
	}
	// synchronous cannot change inside a transaction: set it on the
	// writer connection around this one.
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return mapErr(err)
	}
	err = db.inTx(ctx, conn, false, fn)
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`); rerr != nil {
		// Never return a connection that does not sync to the pool.
		conn.Raw(func(any) error { return driver.ErrBadConn })
		if err == nil {
			err = mapErr(rerr)
		}
	}
	return err
}

// Read runs fn in a read-only transaction (a consistent snapshot).
func (db *DB) Read(ctx context.Context, fn func(tx *Tx) error) error {
	return db.inTx(ctx, db.r, true, fn)
}

func (db *DB) inTx(ctx context.Context, pool interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}, ro bool, fn func(tx *Tx) error) error {
	var opts *sql.TxOptions
	if ro && db.Dialect == Postgres {
		opts = &sql.TxOptions{ReadOnly: true}
	}
	stx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return mapErr(fmt.Errorf("begin: %w", err))
	}
	tx := &Tx{tx: stx, d: db.Dialect}
	if err := fn(tx); err != nil {
		stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return mapErr(fmt.Errorf("commit: %w", err))
	}
	for _, f := range tx.after {
		f()
	}
	return nil
}

// Exec, Query and QueryRow on DB run outside an explicit transaction:
// Exec on the writer, the others on the readers.
func (db *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	r, err := db.w.ExecContext(ctx, rebind(db.Dialect, q), args...)
	return r, mapErr(err)
}

func (db *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	r, err := db.r.QueryContext(ctx, rebind(db.Dialect, q), args...)
	return r, mapErr(err)
}

func (db *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return db.r.QueryRowContext(ctx, rebind(db.Dialect, q), args...)
}

// rebind turns `?` placeholders into `$1…$n` for PostgreSQL. vigil's SQL
// never puts a literal `?` inside a string, so a plain scan is enough.
func rebind(d Dialect, q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// ForUpdate is the row-lock suffix for a SELECT that will be updated in the
// same transaction. SQLite needs none: its single writer serialises.
func (d Dialect) ForUpdate() string {
	if d == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// Like is the case-insensitive LIKE operator.
func (d Dialect) Like() string {
	if d == Postgres {
		return "ILIKE"
	}
	return "LIKE"
}

func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable DSN)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	return u.String()
}

// RedactDSN hides the password in a DSN for logs and messages.
func RedactDSN(dsn string) string {
	if strings.HasPrefix(dsn, "postgres") {
		return redactDSN(dsn)
	}
	return dsn
}

// NewID returns a new UUIDv7: time-ordered, so inserts stay index-friendly,
// and unique across servers without coordination.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// In returns the placeholders and arguments for `col IN (…)` over ids. With
// no ids it returns "NULL", which matches nothing (an empty scope sees
// nothing, rather than being a syntax error).
func In(ids []string) (string, []any) {
	if len(ids) == 0 {
		return "NULL", nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return strings.TrimSuffix(strings.Repeat("?,", len(ids)), ","), args
}
