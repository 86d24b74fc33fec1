package alarm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"vigil/internal/store"
)

// eventInsertChunk bounds the rows of one multi-row INSERT (19 parameters
// each), well under both engines' parameter limits.
const eventInsertChunk = 400

const eventInsertCols = `id, org_id, site_id, account_id, account, source, dedup_key, received_at, event_at, code, class, kind,
	zone, user_no, description, raw, remote, on_test, alarm_id`

const eventPlaceholders = `(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`

// Ingest makes a batch of normalised events durable in ONE transaction and
// applies them to alarms in the same transaction (see apply). Only after
// commit are the changes published. A returned error means nothing of the
// batch was written. Webhooks, MQTT and supervision use it directly; the
// DC-09 receiver goes through the inbox (Enqueue, Apply).
func (s *Service) Ingest(ctx context.Context, events []Event) error {
	return s.ingest(ctx, events, s.DB.Write)
}

// ingestAhead is Ingest for signals that are also on their way through
// the inbox (the life-safety lane): the commit need not wait for the disk,
// since a transaction lost in a power cut is applied again from the inbox,
// and the inbox only deletes rows a synced transaction applied.
func (s *Service) ingestAhead(ctx context.Context, events []Event) error {
	return s.ingest(ctx, events, s.DB.WriteUnsynced)
}

func (s *Service) ingest(ctx context.Context, events []Event, write func(context.Context, func(*store.Tx) error) error) error {
	if len(events) == 0 {
		return nil
	}
	now := s.Now().UTC()
	var res applied
	err := write(ctx, func(tx *store.Tx) error {
		var err error
		res, err = s.apply(ctx, tx, events, now, false)
		return err
	})
	if err != nil {
		return err
	}
	s.announce(res, now)
	return nil
}

// applied is what a transaction changed, to publish after its commit.
type applied struct {
	alarms   []*Alarm
	events   []Event  // the new (not duplicate) events
	accounts []string // whose supervision clock was refreshed
}

// announce publishes what a transaction changed, after its commit.
func (s *Service) announce(res applied, now time.Time) {
	s.clocks.set(res.accounts, now)
	if s.Publish != nil && (len(res.alarms) > 0 || len(res.events) > 0) {
		s.Publish(dedupAlarms(res.alarms), res.events)
	}
}

// apply records events in tx: new events are inserted (a dedup key seen
// before is skipped, so a retransmission is recorded and alarmed once),
// alarm signals create or join the open alarm of their group, restores
// and cancels mark open alarms, and every signal refreshes its account's
// supervision clock (clearing a communication failure). With pending
// (SQLite only) the new events wait for indexPending to enter the
// per-account index.
func (s *Service) apply(ctx context.Context, tx *store.Tx, events []Event, now time.Time, pending bool) (applied, error) {
	var touched []*Alarm
	var fresh []Event
	// Which events are new? One indexed lookup per chunk, then the alarms
	// are changed and the events inserted already linked, so no row is
	// written twice. On PostgreSQL applies take turns (across servers too),
	// or two transactions applying the same signal at once, say the
	// life-safety lane and a receiver commit, would both count it; SQLite
	// has one writer anyway.
	if tx.Dialect() == store.Postgres {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, inboxLock); err != nil {
			return applied{}, fmt.Errorf("alarm apply lock: %w", err)
		}
	}
	seen, err := existingKeys(ctx, tx, events)
	if err != nil {
		return applied{}, err
	}
	var accounts []string
	var groups alarmGroups
	for i := range events {
		e := &events[i]
		if e.ID == "" {
			e.ID = store.NewID()
		}
		if e.AccountID != "" && e.Source != "supervision" && !slices.Contains(accounts, e.AccountID) && s.clocks.stale(e.AccountID, now) {
			accounts = append(accounts, e.AccountID)
		}
		if seen[e.DedupKey] {
			continue
		}
		seen[e.DedupKey] = true
		fresh = append(fresh, *e)
		fi := len(fresh) - 1
		if fresh[fi].Kind == KindAlarm {
			// Alarm signals are upserted together, one row per group; a
			// restore of a waiting group, or a cancel, first applies what
			// came before it, so the batch keeps the panel's order.
			if groups.add(fresh, fi) {
				a, err := groups.flush(ctx, tx, fresh, now)
				if err != nil {
					return applied{}, err
				}
				touched = append(touched, a...)
			}
			continue
		}
		if (fresh[fi].Kind == KindRestore && groups.has(&fresh[fi])) || fresh[fi].Kind == KindCancel {
			a, err := groups.flush(ctx, tx, fresh, now)
			if err != nil {
				return applied{}, err
			}
			touched = append(touched, a...)
		}
		a, err := applyEvent(ctx, tx, &fresh[fi], now)
		if err != nil {
			return applied{}, err
		}
		touched = append(touched, a...)
	}
	a, err := groups.flush(ctx, tx, fresh, now)
	if err != nil {
		return applied{}, err
	}
	touched = append(touched, a...)
	if err := insertEvents(ctx, tx, fresh, pending); err != nil {
		return applied{}, err
	}
	if len(accounts) > 0 {
		restored, err := touchAccounts(ctx, tx, accounts, now)
		if err != nil {
			return applied{}, err
		}
		touched = append(touched, restored...)
	}
	return applied{alarms: touched, events: fresh, accounts: accounts}, nil
}

// raising returns the alarm signals that would change what an operator
// sees: those of groups without an open alarm, or whose open alarm was
// restored or cancelled. One read, no writer.
func (s *Service) raising(ctx context.Context, events []Event) ([]Event, error) {
	keys := make([]string, len(events))
	for i := range events {
		keys[i] = groupKey(&events[i])
	}
	showing := map[string]bool{}
	for start := 0; start < len(keys); start += eventInsertChunk {
		ph, args := in(keys[start:min(len(keys), start+eventInsertChunk)])
		rows, err := s.DB.Query(ctx, `SELECT group_key FROM alarms WHERE group_key IN (`+ph+`) AND is_open
			AND restored_at IS NULL AND cancelled_at IS NULL`, args...)
		if err := collect(rows, err, showing); err != nil {
			return nil, fmt.Errorf("open alarms: %w", err)
		}
	}
	var out []Event
	for i := range events {
		if !showing[keys[i]] {
			out = append(out, events[i])
		}
	}
	return out, nil
}

// existingKeys returns the dedup keys of events already stored.
func existingKeys(ctx context.Context, tx *store.Tx, events []Event) (map[string]bool, error) {
	seen := make(map[string]bool, len(events))
	for start := 0; start < len(events); start += eventInsertChunk {
		chunk := events[start:min(len(events), start+eventInsertChunk)]
		keys := make([]string, len(chunk))
		for i := range chunk {
			keys[i] = chunk[i].DedupKey
		}
		ph, args := in(keys)
		rows, err := tx.Query(ctx, `SELECT dedup_key FROM alarm_events WHERE dedup_key IN (`+ph+`)`, args...)
		if err := collect(rows, err, seen); err != nil {
			return nil, fmt.Errorf("dedup lookup: %w", err)
		}
	}
	return seen, nil
}

// collect adds the strings of a one-column query to set and closes rows.
func collect(rows *sql.Rows, err error, set map[string]bool) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return err
		}
		set[k] = true
	}
	return rows.Err()
}

// insertEvents inserts new events. The unique dedup key stays the last
// line of defence: a duplicate that slipped past existingKeys is skipped,
// never stored twice. SQLite runs in-process, so one prepared single-row
// statement executed per event is cheapest (parsing a multi-row statement
// cost more than the inserts), and pending events skip the per-account
// index until indexPending; PostgreSQL gets multi-row statements, one
// round trip per chunk.
func insertEvents(ctx context.Context, tx *store.Tx, events []Event, pending bool) error {
	const q = `INSERT INTO alarm_events (` + eventInsertCols
	const onConflict = ` ON CONFLICT (dedup_key) DO NOTHING`
	if tx.Dialect() == store.SQLite {
		st, err := tx.Prepare(ctx, q+`, indexed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`+onConflict)
		if err != nil {
			return fmt.Errorf("insert alarm events: %w", err)
		}
		defer st.Close()
		indexed := !pending
		args := make([]any, 0, 20)
		for i := range events {
			args = append(eventArgs(&events[i], args[:0]), indexed)
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("insert alarm events: %w", err)
			}
		}
		return nil
	}
	for start := 0; start < len(events); start += eventInsertChunk {
		chunk := events[start:min(len(events), start+eventInsertChunk)]
		var b strings.Builder
		b.WriteString(q + `) VALUES `)
		args := make([]any, 0, len(chunk)*19)
		for i := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(eventPlaceholders)
			args = eventArgs(&chunk[i], args)
		}
		b.WriteString(onConflict)
		if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert alarm events: %w", err)
		}
	}
	return nil
}

// indexBatch is how many pending signals one transaction moves into the
// per-account index: enough that each panel's page of it is written once
// for many of its signals. They move indexStep at a time (a few
// milliseconds each), so a fire alarm waiting for the writer waits for
// one step, not the batch (2 000 at once took 7–40 ms).
const (
	indexBatch = 2000
	indexStep  = 250
)

// indexPending moves up to indexBatch pending signals, oldest first, into
// the per-account index (SQLite, see migration 00090), stopping early when
// stop reports true. It returns how many it moved and whether none are
// left. Losing this in a crash is harmless: the signals stay pending, and
// queries by account read the pending ones too.
func indexPending(ctx context.Context, tx *store.Tx, stop func() bool) (moved int, dry bool, err error) {
	for moved < indexBatch && !stop() {
		res, err := tx.Exec(ctx, `UPDATE alarm_events SET indexed = 1 WHERE rowid IN (
			SELECT rowid FROM alarm_events WHERE indexed = 0 ORDER BY rowid LIMIT ?)`, indexStep)
		if err != nil {
			return 0, false, fmt.Errorf("index alarm events: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, false, err
		}
		moved += int(n)
		if n < indexStep {
			return moved, true, nil
		}
	}
	return moved, false, nil
}

// eventArgs appends e's values in eventInsertCols order.
func eventArgs(e *Event, args []any) []any {
	return append(args, e.ID, e.OrgID, e.SiteID, e.AccountID, e.Account, e.Source, e.DedupKey, e.ReceivedAt.UTC(),
		nullTime(e.EventAt), e.Code, e.Class, e.Kind, e.Zone, e.User, truncate(e.Description, 500), e.Raw, e.Remote, e.OnTest, e.AlarmID)
}

const alarmReturning = ` RETURNING id, org_id, site_id, '', account_id, type, priority, title, zone, zone_name, zone_id, device_id, state,
	signals, first_at, last_at, restored_at, cancelled_at, owner_id, owner_name, acked_at, escalation, escalated_at, dispatched_to,
	resolved_at, disposition, closed_at, updated_at`

// alarmGroups collects the alarm signals of a batch by group, so each
// group costs one row of one multi-row upsert instead of one statement
// per signal (a storm repeats the same few groups).
type alarmGroups struct {
	order []*alarmGroup
	byKey map[string]*alarmGroup
}

type alarmGroup struct {
	key     string
	members []int // indexes into the batch's fresh events
	last    time.Time
}

// maxGroupRows bounds one upsert statement (16 parameters per row).
const maxGroupRows = 300

// add puts fresh[i] in its group and reports whether the upsert is full.
func (g *alarmGroups) add(fresh []Event, i int) bool {
	if g.byKey == nil {
		g.byKey = map[string]*alarmGroup{}
	}
	key := groupKey(&fresh[i])
	x := g.byKey[key]
	if x == nil {
		x = &alarmGroup{key: key}
		g.byKey[key] = x
		g.order = append(g.order, x)
	}
	x.members = append(x.members, i)
	if at := fresh[i].ReceivedAt.UTC(); at.After(x.last) {
		x.last = at
	}
	return len(g.order) >= maxGroupRows
}

// has reports whether e's group has signals waiting to be upserted.
func (g *alarmGroups) has(e *Event) bool {
	_, ok := g.byKey[groupKey(e)]
	return ok
}

// flush upserts the collected groups: a new alarm per group without an
// open one, otherwise the open alarm gains the group's signals. Each
// member event is linked to its alarm before the events are inserted.
func (g *alarmGroups) flush(ctx context.Context, tx *store.Tx, fresh []Event, now time.Time) ([]*Alarm, error) {
	if len(g.order) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO alarms (id, org_id, site_id, account_id, group_key, is_open, type, priority, title,
		zone, zone_name, zone_id, device_id, state, signals, first_at, last_at, updated_at) VALUES `)
	args := make([]any, 0, len(g.order)*16)
	for i, x := range g.order {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?,?,?,?,?,TRUE,?,?,?,?,?,?,?,'new',?,?,?,?)`)
		e := &fresh[x.members[0]]
		args = append(args, store.NewID(), e.OrgID, e.SiteID, e.AccountID, x.key, e.Type, e.Priority, e.title(), e.Zone, e.ZoneName,
			e.ZoneID, e.DeviceID, len(x.members), e.ReceivedAt.UTC(), x.last, now)
	}
	b.WriteString(` ON CONFLICT (group_key) WHERE is_open DO UPDATE SET signals = alarms.signals + excluded.signals,` + keepLatest +
		`, updated_at = excluded.updated_at` + alarmReturning + `, group_key`)
	rows, err := tx.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("raise alarms: %w", err)
	}
	defer rows.Close()
	out := make([]*Alarm, 0, len(g.order))
	for rows.Next() {
		var key string
		a, err := scanAlarm(multiScan{rows, &key})
		if err != nil {
			return nil, err
		}
		x := g.byKey[key]
		if x == nil {
			return nil, fmt.Errorf("raise alarms: unexpected group %q returned", key)
		}
		a.SiteName = fresh[x.members[0]].SiteName
		for _, m := range x.members {
			fresh[m].AlarmID = a.ID
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	g.order, g.byKey = g.order[:0], nil
	return out, nil
}

// keepLatest is how a repeat signal updates its open alarm: the alarm
// keeps its latest signal time, and a restore stays unless the signal is
// newer. Signals usually arrive in order, but life-safety alarms are
// applied ahead of the inbox (see lane), so an older signal of the same
// group, or a restore or cancel received before the alarm, may be applied
// after it; restores and cancels only touch alarms older than themselves.
const keepLatest = ` last_at = CASE WHEN excluded.last_at > alarms.last_at THEN excluded.last_at ELSE alarms.last_at END,
	restored_at = CASE WHEN alarms.restored_at > excluded.last_at THEN alarms.restored_at END`

// applyEvent applies one new event to alarms and returns the alarms it changed.
func applyEvent(ctx context.Context, tx *store.Tx, e *Event, now time.Time) ([]*Alarm, error) {
	switch e.Kind {
	case KindAlarm:
		at := e.ReceivedAt.UTC()
		a, err := scanAlarm(tx.QueryRow(ctx, `INSERT INTO alarms (id, org_id, site_id, account_id, group_key, is_open, type, priority, title,
			zone, zone_name, zone_id, device_id, state, signals, first_at, last_at, updated_at)
			VALUES (?,?,?,?,?,TRUE,?,?,?,?,?,?,?,'new',1,?,?,?)
			ON CONFLICT (group_key) WHERE is_open DO UPDATE SET signals = alarms.signals + 1,`+keepLatest+`,
			updated_at = excluded.updated_at`+alarmReturning,
			store.NewID(), e.OrgID, e.SiteID, e.AccountID, groupKey(e), e.Type, e.Priority, e.title(), e.Zone, e.ZoneName, e.ZoneID,
			e.DeviceID, at, at, now))
		if err != nil {
			return nil, fmt.Errorf("raise alarm: %w", err)
		}
		a.SiteName = e.SiteName
		e.AlarmID = a.ID
		return []*Alarm{a}, nil
	case KindRestore:
		if e.Type == "" {
			return nil, nil
		}
		return updateAlarms(ctx, tx, e, `UPDATE alarms SET restored_at = ?, updated_at = ? WHERE group_key = ? AND is_open AND restored_at IS NULL
			AND last_at <= ?`, e.ReceivedAt.UTC(), now, groupKey(e), e.ReceivedAt.UTC())
	case KindCancel:
		if e.AccountID == "" {
			return nil, nil
		}
		return updateAlarms(ctx, tx, e, `UPDATE alarms SET cancelled_at = ?, updated_at = ? WHERE account_id = ? AND is_open AND cancelled_at IS NULL
			AND first_at <= ?`, e.ReceivedAt.UTC(), now, e.AccountID, e.ReceivedAt.UTC())
	}
	return nil, nil
}

// updateAlarms runs an UPDATE … RETURNING over open alarms and links the
// event to the first alarm it changed.
func updateAlarms(ctx context.Context, tx *store.Tx, e *Event, q string, args ...any) ([]*Alarm, error) {
	rows, err := tx.Query(ctx, q+alarmReturning, args...)
	if err != nil {
		return nil, fmt.Errorf("update alarms: %w", err)
	}
	var out []*Alarm
	for rows.Next() {
		a, err := scanAlarm(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		a.SiteName = e.SiteName
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) > 0 {
		e.AlarmID = out[0].ID // the event is inserted after, already linked
	}
	return out, nil
}

// touchAccounts refreshes the supervision clock of every account that
// signalled and restores their open communication-failure alarms. The
// clock is written at most every supervisionGrain per account: intervals
// are minutes, and rewriting every account row on every batch would cost
// more than the signals themselves. Only accounts whose clock was stale
// can have a communication failure to restore.
func touchAccounts(ctx context.Context, tx *store.Tx, ids []string, now time.Time) ([]*Alarm, error) {
	ph, args := in(ids)
	rows, err := tx.Query(ctx, `UPDATE alarm_accounts SET last_signal_at = ? WHERE id IN (`+ph+`)
		AND (last_signal_at IS NULL OR last_signal_at < ?) RETURNING id`, append(append([]any{now}, args...), now.Add(-supervisionGrain))...)
	if err != nil {
		return nil, fmt.Errorf("supervision clock: %w", err)
	}
	var stale []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		stale = append(stale, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(stale) == 0 {
		return nil, err
	}
	ph, args = in(stale)
	rows, err = tx.Query(ctx, `UPDATE alarms SET restored_at = ?, updated_at = ? WHERE type = 'comm_failure' AND is_open
		AND restored_at IS NULL AND account_id IN (`+ph+`)`+alarmReturning, append([]any{now, now}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("restore communication failures: %w", err)
	}
	defer rows.Close()
	var out []*Alarm
	for rows.Next() {
		a, err := scanAlarm(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// supervisionGrain is the resolution of an account's last-signal clock.
const supervisionGrain = 5 * time.Second

// clocks remembers when this server last committed an account's
// supervision clock, so a batch only asks the database about accounts
// that may be due (at 10,000 signals a second most are not). Another
// server's writes are not seen here: such an account is merely asked
// about once more.
type clocks struct {
	mu    sync.Mutex
	at    map[string]time.Time
	reset time.Time
}

func (c *clocks) stale(id string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.at[id]
	return !ok || !now.Before(at.Add(supervisionGrain))
}

func (c *clocks) set(ids []string, now time.Time) {
	if len(ids) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at == nil || now.Sub(c.reset) > 4*supervisionGrain {
		c.at, c.reset = map[string]time.Time{}, now // bounded: only recent accounts
	}
	for _, id := range ids {
		c.at[id] = now
	}
}

// dedupAlarms keeps the last state of each alarm, most urgent first, so
// publishing a batch announces fire alarms before the trouble flood.
func dedupAlarms(as []*Alarm) []*Alarm {
	seen := make(map[string]int, len(as))
	out := as[:0:0]
	for _, a := range as {
		if i, ok := seen[a.ID]; ok {
			name := out[i].SiteName
			out[i] = a
			if a.SiteName == "" {
				a.SiteName = name
			}
			continue
		}
		seen[a.ID] = len(out)
		out = append(out, a)
	}
	slices.SortStableFunc(out, func(x, y *Alarm) int { return x.Priority - y.Priority })
	return out
}

// errNoAccount is returned by the sink when an accepted signal's account
// vanished between lookup and commit (deleted meanwhile): the frame is
// NAKed and the panel's retry meets the unknown-account path.
var errNoAccount = errors.New("alarm: account no longer provisioned")
