// Package audit keeps vigil's tamper-evident audit log: every state change
// appends a row whose hash covers the previous row's hash and the row's own
// canonical bytes, in one chain per organisation. Rows are never updated or
// deleted, so editing, removing or reordering any of them breaks the chain,
// and Verify names the first broken row.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"vigil/internal/store"
)

// Entry is what a caller records.
type Entry struct {
	OrgID      string
	At         time.Time
	ActorID    string // user ID, or "" for the system
	Actor      string // human label at the time (email, "system", "hotline")
	Action     string // e.g. "site.create", "user.login"
	ObjectType string
	ObjectID   string
	Data       any // marshalled to JSON; keep it small and free of secrets
}

// Row is a stored entry with its place in the chain.
type Row struct {
	OrgID      string          `json:"org_id"`
	N          int64           `json:"n"`
	At         time.Time       `json:"at"`
	ActorID    string          `json:"actor_id"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	Data       json.RawMessage `json:"data"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// canonical returns the bytes the hash covers. Field order is fixed by the
// struct; times are UTC with microsecond precision (what PostgreSQL keeps).
func (r *Row) canonical() []byte {
	b, _ := json.Marshal(struct {
		Org, At, ActorID, Actor, Action, ObjectType, ObjectID string
		N                                                     int64
		Data                                                  json.RawMessage
	}{r.OrgID, r.At.UTC().Format(time.RFC3339Nano), r.ActorID, r.Actor, r.Action, r.ObjectType, r.ObjectID, r.N, r.Data})
	return b
}

func (r *Row) computeHash() string {
	h := sha256.New()
	h.Write([]byte(r.PrevHash))
	h.Write([]byte{'\n'})
	h.Write(r.canonical())
	return hex.EncodeToString(h.Sum(nil))
}

// Append adds e to its organisation's chain inside tx. Concurrent appends to
// one chain serialise on the chain's head row.
func Append(ctx context.Context, tx *store.Tx, e Entry) error {
	if e.OrgID == "" || e.Action == "" {
		return errors.New("audit: org and action are required")
	}
	data := []byte("{}")
	if e.Data != nil {
		var err error
		if data, err = json.Marshal(e.Data); err != nil {
			return fmt.Errorf("audit: data: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_heads (org_id, n, hash) VALUES (?, 0, '') ON CONFLICT (org_id) DO NOTHING`, e.OrgID); err != nil {
		return fmt.Errorf("audit: head: %w", err)
	}
	r := Row{OrgID: e.OrgID, At: e.At.UTC().Truncate(time.Microsecond), ActorID: e.ActorID, Actor: e.Actor,
		Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID, Data: data}
	if err := tx.QueryRow(ctx, `SELECT n, hash FROM audit_heads WHERE org_id = ?`+tx.Dialect().ForUpdate(), e.OrgID).Scan(&r.N, &r.PrevHash); err != nil {
		return fmt.Errorf("audit: head: %w", err)
	}
	r.N++
	r.Hash = r.computeHash()
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (org_id, n, at, actor_id, actor, action, object_type, object_id, data, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.OrgID, r.N, r.At, r.ActorID, r.Actor, r.Action, r.ObjectType, r.ObjectID, string(r.Data), r.PrevHash, r.Hash); err != nil {
		return fmt.Errorf("audit: insert: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_heads SET n = ?, hash = ? WHERE org_id = ?`, r.N, r.Hash, r.OrgID); err != nil {
		return fmt.Errorf("audit: head: %w", err)
	}
	return nil
}

const rowCols = `org_id, n, at, actor_id, actor, action, object_type, object_id, data, prev_hash, hash`

func scanRow(sc interface{ Scan(...any) error }) (Row, error) {
	var r Row
	var data string
	err := sc.Scan(&r.OrgID, &r.N, &r.At, &r.ActorID, &r.Actor, &r.Action, &r.ObjectType, &r.ObjectID, &data, &r.PrevHash, &r.Hash)
	r.Data = json.RawMessage(data)
	r.At = r.At.UTC()
	return r, err
}

// Filter selects audit rows for listing. OrgIDs must already be limited to
// the organisations the caller may audit.
type Filter struct {
	OrgIDs   []string
	Action   string // prefix match, e.g. "site." or "user.login"
	ActorID  string
	ObjectID string
	From, To time.Time // To is exclusive; zero means open
	Limit    int
	Offset   int
}

// List returns matching rows, newest first.
func List(ctx context.Context, db *store.DB, f Filter) ([]Row, error) {
	if len(f.OrgIDs) == 0 {
		return nil, nil
	}
	ph, args := store.In(f.OrgIDs)
	q := `SELECT ` + rowCols + ` FROM audit_log WHERE org_id IN (` + ph + `)`
	if f.Action != "" {
		q += ` AND action LIKE ?`
		args = append(args, escapeLike(f.Action)+"%")
	}
	if f.ActorID != "" {
		q += ` AND actor_id = ?`
		args = append(args, f.ActorID)
	}
	if f.ObjectID != "" {
		q += ` AND object_id = ?`
		args = append(args, f.ObjectID)
	}
	if !f.From.IsZero() {
		q += ` AND at >= ?`
		args = append(args, f.From.UTC())
	}
	if !f.To.IsZero() {
		q += ` AND at < ?`
		args = append(args, f.To.UTC())
	}
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 100
	}
	q += ` ORDER BY at DESC, org_id, n DESC LIMIT ? OFFSET ?`
	args = append(args, f.Limit, f.Offset)
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, fmt.Errorf("audit: list: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func escapeLike(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' || s[i] == '_' {
			continue
		}
		out = append(out, s[i])
	}
	return string(out)
}

// Break describes the first broken link of a chain.
type Break struct {
	OrgID  string
	N      int64 // the row where the chain first fails
	Reason string
}

// Report is the result of Verify.
type Report struct {
	Rows   int
	Chains int
	Broken []Break
}

// Verify walks every chain in order and recomputes each hash. A changed row
// fails its own hash; a removed row leaves a gap in n; reordered rows fail
// their prev-hash link; a removed tail no longer matches audit_heads.
func Verify(ctx context.Context, db *store.DB) (Report, error) {
	var rep Report
	heads := map[string]Row{}
	rows, err := db.Query(ctx, `SELECT org_id, n, hash FROM audit_heads`)
	if err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	for rows.Next() {
		var h Row
		if err := rows.Scan(&h.OrgID, &h.N, &h.Hash); err != nil {
			rows.Close()
			return rep, err
		}
		heads[h.OrgID] = h
	}
	rows.Close()
	rows, err = db.Query(ctx, `SELECT `+rowCols+` FROM audit_log ORDER BY org_id, n`)
	if err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	var cur string
	var prev Row
	broken := map[string]bool{}
	seen := map[string]bool{}
	fail := func(org string, n int64, why string) {
		if !broken[org] {
			broken[org] = true
			rep.Broken = append(rep.Broken, Break{org, n, why})
		}
	}
	endChain := func() {
		if cur == "" {
			return
		}
		if h, ok := heads[cur]; ok && (h.N != prev.N || h.Hash != prev.Hash) {
			fail(cur, prev.N+1, fmt.Sprintf("chain ends at row %d but its head records row %d: rows were removed", prev.N, h.N))
		}
	}
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return rep, fmt.Errorf("audit: verify: %w", err)
		}
		rep.Rows++
		if r.OrgID != cur {
			endChain()
			cur, prev = r.OrgID, Row{}
			seen[cur] = true
			rep.Chains++
		}
		switch {
		case r.N != prev.N+1:
			fail(r.OrgID, prev.N+1, fmt.Sprintf("row %d is missing (next row is %d)", prev.N+1, r.N))
		case r.PrevHash != prev.Hash:
			fail(r.OrgID, r.N, "previous-hash link does not match the row before it")
		case r.computeHash() != r.Hash:
			fail(r.OrgID, r.N, "row contents do not match its hash (altered)")
		}
		prev = r
	}
	if err := rows.Err(); err != nil {
		return rep, err
	}
	endChain()
	for org, h := range heads {
		if !seen[org] && h.N > 0 {
			rep.Chains++
			fail(org, 1, fmt.Sprintf("all %d rows are missing", h.N))
		}
	}
	return rep, nil
}
