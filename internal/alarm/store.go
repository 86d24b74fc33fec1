package alarm

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"vigil/internal/audit"
	"vigil/internal/auth"
	"vigil/internal/store"
)

// Service stores accounts, events and alarms. Every read takes the caller's
// scope (the organisations they may see) explicitly.
type Service struct {
	DB *store.DB
	// Inbox holds the receiver's signals until they are applied (nil: the
	// main database's alarm_inbox table).
	Inbox *Inbox
	Now   func() time.Time
	Log   *slog.Logger
	// Publish announces committed changes (nil: nothing is published, as in
	// tests without a bus). It is called after commit only.
	Publish func(alarms []*Alarm, events []Event)
	// OnAccountsChanged is called after an account was created, changed or
	// deleted (the receiver's account cache drops its entries).
	OnAccountsChanged func()
	// Yield reports whether something more urgent waits for the writer
	// (the life-safety lane): Apply then applies Ahead's signals and
	// commits instead of finishing its batch (nil: never).
	Yield func() bool
	// Ahead takes the signals that Yield reported waiting (nil: none).
	Ahead func() []Event

	clocks clocks // supervision clocks committed by this server
}

func (s *Service) record(ctx context.Context, tx *store.Tx, p *auth.Principal, org, action, typ, id string, data any) error {
	e := audit.Entry{OrgID: org, At: s.Now().UTC(), Actor: p.Label(), Action: action, ObjectType: typ, ObjectID: id, Data: data}
	if p != nil {
		e.ActorID = p.UserID
	}
	return audit.Append(ctx, tx, e)
}

// in is store.In, named short for the many scoped queries.
var in = store.In

type scanner interface{ Scan(...any) error }

// ---- accounts ----

const accountCols = `id, org_id, site_id, number, receiver, line, name, key_text, key_format, encrypted, quirks,
	supervision_s, zone_map, overrides, on_test_until, last_signal_at, created_at, updated_at`

func scanAccount(sc scanner) (*Account, error) {
	var a Account
	var quirks, zones, over string
	var onTest, last sql.NullTime
	if err := sc.Scan(&a.ID, &a.OrgID, &a.SiteID, &a.Number, &a.Receiver, &a.Line, &a.Name, &a.key, &a.KeyFormat,
		&a.Encrypted, &quirks, &a.SupervisionS, &zones, &over, &onTest, &last, &a.CreatedAt, &a.UpdatedAt); err != nil {
		return nil, store.NotFound(err)
	}
	if err := errors.Join(json.Unmarshal([]byte(quirks), &a.Quirks), json.Unmarshal([]byte(zones), &a.ZoneMap),
		json.Unmarshal([]byte(over), &a.Overrides)); err != nil {
		return nil, fmt.Errorf("account %s: stored JSON: %w", a.ID, err)
	}
	if onTest.Valid {
		a.OnTestUntil = utcPtr(onTest.Time)
	}
	if last.Valid {
		a.LastSignalAt = utcPtr(last.Time)
	}
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	a.KeySet = a.key != ""
	return &a, nil
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// siteOrg returns the organisation of a site the caller may write in.
func (s *Service) siteOrg(ctx context.Context, q store.Querier, scope []string, siteID string) (string, error) {
	ph, args := in(scope)
	var org string
	err := q.QueryRow(ctx, `SELECT org_id FROM sites WHERE id = ? AND org_id IN (`+ph+`)`, append([]any{siteID}, args...)...).Scan(&org)
	if err != nil {
		if errors.Is(store.NotFound(err), store.ErrNotFound) {
			return "", invalid("site_id", "is not a site you can manage")
		}
		return "", err
	}
	return org, nil
}

// CreateAccount provisions a panel account on a site within scope.
func (s *Service) CreateAccount(ctx context.Context, scope []string, in AccountInput, p *auth.Principal) (*Account, error) {
	var a *Account
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		a, err = s.CreateAccountTx(ctx, tx, scope, in, p)
		return err
	})
	return a, err
}

// CreateAccountTx is CreateAccount within tx (the demo loads accounts with
// the rest of its data).
func (s *Service) CreateAccountTx(ctx context.Context, tx *store.Tx, scope []string, in AccountInput, p *auth.Principal) (*Account, error) {
	a := &Account{}
	if err := in.apply(a, true); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	a.ID, a.CreatedAt, a.UpdatedAt = store.NewID(), now, now
	org, err := s.siteOrg(ctx, tx, scope, a.SiteID)
	if err != nil {
		return nil, err
	}
	a.OrgID = org
	if _, err := tx.Exec(ctx, `INSERT INTO alarm_accounts (`+accountCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		a.ID, a.OrgID, a.SiteID, a.Number, a.Receiver, a.Line, a.Name, a.key, a.KeyFormat, a.Encrypted, mustJSON(a.Quirks),
		a.SupervisionS, mustJSON(a.ZoneMap), mustJSON(a.Overrides), nullTime(a.OnTestUntil), nil, a.CreatedAt, a.UpdatedAt); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, invalid("number", "this account number is already provisioned on that receiver and line")
		}
		return nil, fmt.Errorf("create alarm account: %w", err)
	}
	tx.AfterCommit(s.accountsChanged)
	return a, s.record(ctx, tx, p, a.OrgID, "alarm_account.create", "alarm_account", a.ID, a.auditView())
}

func (a *Account) auditView() map[string]any {
	return map[string]any{"number": a.Number, "receiver": a.Receiver, "line": a.Line, "site_id": a.SiteID,
		"encrypted": a.Encrypted, "key_set": a.KeySet, "key_format": a.KeyFormat, "supervision_s": a.SupervisionS,
		"on_test_until": a.OnTestUntil}
}

func (s *Service) accountsChanged() {
	if s.OnAccountsChanged != nil {
		s.OnAccountsChanged()
	}
}

// Account returns one account within scope.
func (s *Service) Account(ctx context.Context, scope []string, id string) (*Account, error) {
	ph, args := in(scope)
	return scanAccount(s.DB.QueryRow(ctx, `SELECT `+accountCols+` FROM alarm_accounts WHERE id = ? AND org_id IN (`+ph+`)`, append([]any{id}, args...)...))
}

// AccountFilter narrows Accounts.
type AccountFilter struct {
	OrgID, SiteID string
	OnTest        bool // only accounts on test at Now
	NotReporting  bool // only supervised accounts past their deadline at Now
}

// Accounts lists accounts within scope, by number.
func (s *Service) Accounts(ctx context.Context, scope []string, f AccountFilter, limit, offset int) ([]*Account, error) {
	ph, args := in(scope)
	q := `SELECT ` + accountCols + ` FROM alarm_accounts WHERE org_id IN (` + ph + `)`
	now := s.Now().UTC()
	if f.OrgID != "" {
		q += ` AND org_id = ?`
		args = append(args, f.OrgID)
	}
	if f.SiteID != "" {
		q += ` AND site_id = ?`
		args = append(args, f.SiteID)
	}
	if f.OnTest {
		q += ` AND on_test_until > ?`
		args = append(args, now)
	}
	if f.NotReporting {
		q += ` AND supervision_s > 0`
	}
	q += ` ORDER BY number, receiver, line LIMIT ? OFFSET ?`
	rows, err := s.DB.Query(ctx, q, append(args, limit, offset)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Account{}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		if f.NotReporting && !a.overdue(now) {
			continue
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// overdue reports whether a supervised account missed its poll deadline.
func (a *Account) overdue(now time.Time) bool {
	if a.SupervisionS <= 0 {
		return false
	}
	last := a.CreatedAt
	if a.LastSignalAt != nil {
		last = *a.LastSignalAt
	}
	return now.Sub(last) > time.Duration(a.SupervisionS)*time.Second
}

// UpdateAccount changes an account; nil input fields stay as they are.
func (s *Service) UpdateAccount(ctx context.Context, scope []string, a *Account, in AccountInput, p *auth.Principal) error {
	if err := in.apply(a, false); err != nil {
		return err
	}
	a.UpdatedAt = s.Now().UTC()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if in.SiteID != nil {
			org, err := s.siteOrg(ctx, tx, scope, a.SiteID)
			if err != nil {
				return err
			}
			if org != a.OrgID {
				return invalid("site_id", "must belong to the account's organisation")
			}
		}
		_, err := tx.Exec(ctx, `UPDATE alarm_accounts SET site_id = ?, number = ?, receiver = ?, line = ?, name = ?, key_text = ?,
			key_format = ?, encrypted = ?, quirks = ?, supervision_s = ?, zone_map = ?, overrides = ?, on_test_until = ?, updated_at = ?
			WHERE id = ? AND org_id = ?`,
			a.SiteID, a.Number, a.Receiver, a.Line, a.Name, a.key, a.KeyFormat, a.Encrypted, mustJSON(a.Quirks), a.SupervisionS,
			mustJSON(a.ZoneMap), mustJSON(a.Overrides), nullTime(a.OnTestUntil), a.UpdatedAt, a.ID, a.OrgID)
		if errors.Is(err, store.ErrConflict) {
			return invalid("number", "this account number is already provisioned on that receiver and line")
		}
		if err != nil {
			return fmt.Errorf("update alarm account: %w", err)
		}
		tx.AfterCommit(s.accountsChanged)
		return s.record(ctx, tx, p, a.OrgID, "alarm_account.update", "alarm_account", a.ID, a.auditView())
	})
}

// DeleteAccount removes an account; its events and alarms stay (they are
// the record of what happened).
func (s *Service) DeleteAccount(ctx context.Context, a *Account, p *auth.Principal) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM alarm_accounts WHERE id = ? AND org_id = ?`, a.ID, a.OrgID); err != nil {
			return fmt.Errorf("delete alarm account: %w", err)
		}
		tx.AfterCommit(s.accountsChanged)
		return s.record(ctx, tx, p, a.OrgID, "alarm_account.delete", "alarm_account", a.ID, a.auditView())
	})
}

// lookupAccount finds the account a frame names: an exact receiver/line
// match wins over an account provisioned for any receiver or line ("").
func (s *Service) lookupAccount(ctx context.Context, receiver, line, number string) (*Account, string, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+accountPrefixed+`, s.name FROM alarm_accounts a JOIN sites s ON s.id = a.site_id
		WHERE a.number = ? AND (a.receiver = ? OR a.receiver = '') AND (a.line = ? OR a.line = '')
		ORDER BY a.receiver DESC, a.line DESC LIMIT 1`, number, receiver, line)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, "", rows.Err()
	}
	var site string
	a, err := scanAccount(multiScan{rows, &site})
	return a, site, err
}

var accountPrefixed = func() string {
	cols := strings.Split(accountCols, ",")
	for i, c := range cols {
		cols[i] = "a." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

// multiScan appends extra destinations after a scanner's own.
type multiScan struct {
	sc    scanner
	extra any
}

func (m multiScan) Scan(dest ...any) error { return m.sc.Scan(append(dest, m.extra)...) }

// ---- alarms ----

const alarmCols = `a.id, a.org_id, a.site_id, COALESCE(s.name, ''), a.account_id, a.type, a.priority, a.title, a.zone, a.zone_name,
	a.zone_id, a.device_id, a.state, a.signals, a.first_at, a.last_at, a.restored_at, a.cancelled_at, a.owner_id, a.owner_name,
	a.acked_at, a.escalation, a.escalated_at, a.dispatched_to, a.resolved_at, a.disposition, a.closed_at, a.updated_at`

const alarmFrom = ` FROM alarms a LEFT JOIN sites s ON s.id = a.site_id`

func scanAlarm(sc scanner) (*Alarm, error) {
	var a Alarm
	var restored, cancelled, acked, escalated, resolved, closed sql.NullTime
	if err := sc.Scan(&a.ID, &a.OrgID, &a.SiteID, &a.SiteName, &a.AccountID, &a.Type, &a.Priority, &a.Title, &a.Zone, &a.ZoneName,
		&a.ZoneID, &a.DeviceID, &a.State, &a.Signals, &a.FirstAt, &a.LastAt, &restored, &cancelled, &a.OwnerID, &a.OwnerName,
		&acked, &a.Escalation, &escalated, &a.DispatchedTo, &resolved, &a.Disposition, &closed, &a.UpdatedAt); err != nil {
		return nil, store.NotFound(err)
	}
	for _, x := range []struct {
		n   sql.NullTime
		dst **time.Time
	}{{restored, &a.RestoredAt}, {cancelled, &a.CancelledAt}, {acked, &a.AckedAt}, {escalated, &a.EscalatedAt}, {resolved, &a.ResolvedAt}, {closed, &a.ClosedAt}} {
		if x.n.Valid {
			*x.dst = utcPtr(x.n.Time)
		}
	}
	a.FirstAt, a.LastAt, a.UpdatedAt = a.FirstAt.UTC(), a.LastAt.UTC(), a.UpdatedAt.UTC()
	return &a, nil
}

// Alarm returns one alarm within scope.
func (s *Service) Alarm(ctx context.Context, scope []string, id string) (*Alarm, error) {
	ph, args := in(scope)
	return scanAlarm(s.DB.QueryRow(ctx, `SELECT `+alarmCols+alarmFrom+` WHERE a.id = ? AND a.org_id IN (`+ph+`)`, append([]any{id}, args...)...))
}

// AlarmFilter narrows Alarms. States empty means the open ones.
type AlarmFilter struct {
	States []string
	OrgID  string
	SiteID string
}

// Alarms lists alarms within scope in queue order: priority, then age.
func (s *Service) Alarms(ctx context.Context, scope []string, f AlarmFilter, limit, offset int) ([]*Alarm, error) {
	ph, args := in(scope)
	q := `SELECT ` + alarmCols + alarmFrom + ` WHERE a.org_id IN (` + ph + `)`
	states := f.States
	if len(states) == 0 {
		states = []string{StateNew, StateAcknowledged, StateInProgress}
	}
	sph, sargs := in(states)
	q += ` AND a.state IN (` + sph + `)`
	args = append(args, sargs...)
	if f.OrgID != "" {
		q += ` AND a.org_id = ?`
		args = append(args, f.OrgID)
	}
	if f.SiteID != "" {
		q += ` AND a.site_id = ?`
		args = append(args, f.SiteID)
	}
	q += ` ORDER BY a.priority, a.first_at, a.id LIMIT ? OFFSET ?`
	rows, err := s.DB.Query(ctx, q, append(args, limit, offset)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Alarm{}
	for rows.Next() {
		a, err := scanAlarm(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// History returns an alarm's history, oldest first.
func (s *Service) History(ctx context.Context, a *Alarm) ([]LogEntry, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, at, actor_id, actor, kind, step, status, text FROM alarm_log
		WHERE alarm_id = ? AND org_id = ? ORDER BY at, id`, a.ID, a.OrgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []LogEntry{}
	for rows.Next() {
		var e LogEntry
		if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.Actor, &e.Kind, &e.Step, &e.Status, &e.Text); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// ---- events ----

const eventCols = `id, org_id, site_id, account_id, account, source, received_at, event_at, code, class, kind, zone, user_no,
	description, raw, remote, on_test, alarm_id`

func scanEvent(sc scanner) (Event, error) {
	var e Event
	var at sql.NullTime
	err := sc.Scan(&e.ID, &e.OrgID, &e.SiteID, &e.AccountID, &e.Account, &e.Source, &e.ReceivedAt, &at, &e.Code, &e.Class, &e.Kind,
		&e.Zone, &e.User, &e.Description, &e.Raw, &e.Remote, &e.OnTest, &e.AlarmID)
	if at.Valid {
		e.EventAt = utcPtr(at.Time)
	}
	e.ReceivedAt = e.ReceivedAt.UTC()
	return e, err
}

// EventFilter narrows Events.
type EventFilter struct {
	Account string // the panel's account number as sent
	AlarmID string
	OrgID   string
}

// Events lists raw events within scope, newest first.
func (s *Service) Events(ctx context.Context, scope []string, f EventFilter, limit, offset int) ([]Event, error) {
	q, args := s.eventsQuery(scope, f)
	rows, err := s.DB.Query(ctx, q, append(args, limit, offset)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Event{}
	var seq int64
	for rows.Next() {
		sc := scanner(rows)
		if s.DB.Dialect == store.SQLite {
			sc = multiScan{rows, &seq}
		}
		e, err := scanEvent(sc)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// eventsQuery is Events' query, without the LIMIT and OFFSET arguments.
func (s *Service) eventsQuery(scope []string, f EventFilter) (string, []any) {
	ph, args := in(scope)
	cond := `org_id IN (` + ph + `)`
	if f.Account != "" {
		cond += ` AND account = ?`
		args = append(args, strings.ToUpper(f.Account))
	}
	if f.AlarmID != "" {
		cond += ` AND alarm_id = ?`
		args = append(args, f.AlarmID)
	}
	if f.OrgID != "" {
		cond += ` AND org_id = ?`
		args = append(args, f.OrgID)
	}
	// Newest first. On SQLite that is the rowid order (events are inserted
	// as they were received), which the account and alarm indexes deliver
	// without a sort. By account, the signals not yet in the per-account
	// index (indexed = 0, see indexPending) are merged in, each part read
	// through its own index. PostgreSQL's account index ends with
	// received_at.
	var q string
	switch {
	case s.DB.Dialect != store.SQLite:
		q = `SELECT ` + eventCols + ` FROM alarm_events WHERE ` + cond + ` ORDER BY received_at DESC, id DESC LIMIT ? OFFSET ?`
	case f.Account != "" && f.AlarmID == "":
		part := `SELECT ` + eventCols + `, rowid AS seq FROM alarm_events WHERE `
		q = part + `indexed = 1 AND ` + cond + ` UNION ALL ` + part + `indexed = 0 AND ` + cond + ` ORDER BY seq DESC LIMIT ? OFFSET ?`
		args = append(args, args...)
	default:
		q = `SELECT ` + eventCols + `, rowid FROM alarm_events WHERE ` + cond + ` ORDER BY rowid DESC LIMIT ? OFFSET ?`
	}
	return q, args
}

// Unknown is a frame identity nobody provisioned.
type Unknown struct {
	Receiver string    `json:"receiver"`
	Line     string    `json:"line"`
	Account  string    `json:"account"`
	Remote   string    `json:"remote"`
	Raw      string    `json:"raw"`
	Frames   int       `json:"frames"`
	FirstAt  time.Time `json:"first_at"`
	LastAt   time.Time `json:"last_at"`
}

// RecordUnknown counts a frame from an unprovisioned account.
func (s *Service) RecordUnknown(ctx context.Context, u Unknown) error {
	ident := u.Receiver + "/" + u.Line + "/" + u.Account
	_, err := s.DB.Exec(ctx, `INSERT INTO alarm_unknown (ident, receiver, line, account, remote, raw, frames, first_at, last_at)
		VALUES (?,?,?,?,?,?,1,?,?)
		ON CONFLICT (ident) DO UPDATE SET frames = alarm_unknown.frames + 1, last_at = excluded.last_at,
		remote = excluded.remote, raw = excluded.raw`,
		ident, u.Receiver, u.Line, u.Account, u.Remote, u.Raw, u.LastAt, u.LastAt)
	return err
}

// DismissUnknown forgets an unknown account's row: a wrong number that
// was fixed at the panel, or a test. The panel's next frame brings it
// back. org is the operator organisation whose audit chain records it.
func (s *Service) DismissUnknown(ctx context.Context, p *auth.Principal, org string, u Unknown) error {
	ident := u.Receiver + "/" + u.Line + "/" + u.Account
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		var frames int
		if err := tx.QueryRow(ctx, `DELETE FROM alarm_unknown WHERE ident = ? RETURNING frames`, ident).Scan(&frames); err != nil {
			return store.NotFound(err)
		}
		return s.record(ctx, tx, p, org, "alarm_unknown.dismiss", "alarm_unknown", ident,
			map[string]any{"account": u.Account, "receiver": u.Receiver, "line": u.Line, "frames": frames})
	})
}

// Unknowns lists unprovisioned accounts seen, most recent first. They
// belong to no organisation; only operator administrators see them.
func (s *Service) Unknowns(ctx context.Context, limit int) ([]Unknown, error) {
	rows, err := s.DB.Query(ctx, `SELECT receiver, line, account, remote, raw, frames, first_at, last_at FROM alarm_unknown
		ORDER BY last_at DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Unknown{}
	for rows.Next() {
		var u Unknown
		if err := rows.Scan(&u.Receiver, &u.Line, &u.Account, &u.Remote, &u.Raw, &u.Frames, &u.FirstAt, &u.LastAt); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// OperatorOrgs filters ids to operator organisations (unknown accounts are
// the operator's business, never a client's).
func (s *Service) OperatorOrgs(ctx context.Context, ids []string) ([]string, error) {
	ph, args := in(ids)
	rows, err := s.DB.Query(ctx, `SELECT id FROM orgs WHERE kind = 'operator' AND id IN (`+ph+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
