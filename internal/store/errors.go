package store

import (
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors: callers test for these with errors.Is and never look at
// driver messages.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict") // unique or foreign-key violation
	ErrBusy     = errors.New("database busy")
)

// mapErr wraps driver errors so that errors.Is works with the sentinels while
// the original error stays in the chain for the log.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return errors.Join(ErrNotFound, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT:
			return errors.Join(ErrConflict, err)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return errors.Join(ErrBusy, err)
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505", "23503", "23514":
			return errors.Join(ErrConflict, err)
		case "40001", "40P01", "55P03":
			return errors.Join(ErrBusy, err)
		}
	}
	return err
}

// NotFound converts sql.ErrNoRows from a Scan into ErrNotFound.
func NotFound(err error) error { return mapErr(err) }
