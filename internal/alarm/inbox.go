package alarm

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"vigil/internal/store"
)

// The DC-09 receiver commits in two steps. Enqueue appends a receiver
// group commit to alarm_inbox as one row (a few pages at the end of a
// small table) and the panels are ACKed after that commit: the signal is
// durable. Apply then moves inbox rows into alarm_events and alarms in
// larger transactions, so a crash between the two steps only delays the
// signals (they are applied after the restart), never loses or doubles
// them. Applying one signal touches a page of every alarm_events index;
// doing it for thousands of signals per transaction instead of the
// hundred a group commit holds is what lets the receiver keep up with tens
// of thousands of signals per second.
//
// Where the inbox lives depends on the engine. SQLite has one writer per
// file, so the inbox is a sibling file (InboxFile): the receiver's commits
// never wait behind an apply, an operator's click or a pruning batch in
// the main database, which keeps the ACK fast while applies grow large.
// The apply transaction records the last applied inbox row in the main
// database (alarm_inbox_applied), so after a crash no row is applied twice
// or skipped; applied rows are deleted from the inbox afterwards. On
// PostgreSQL the inbox is a table of the main database, and rows are
// deleted in the apply transaction itself.

// InboxFile names the SQLite inbox beside the main database file.
const InboxFile = "alarm-inbox"

// inboxLock serialises appliers across servers on PostgreSQL, so a panel's
// signals are applied in order and none twice (SQLite has one writer). It
// is taken before the inbox rows are read, and again (it is re-entrant)
// by every apply.
const inboxLock = 0x76_69_67_69_6c_01 // "vigil" + 1

// inboxSchema creates the sibling file's tables. AUTOINCREMENT: a seq is
// never reused after the table emptied, since the main database remembers
// the last one applied. A backup pins the inbox (alarm_inbox_pins) so that
// rows applied while it copies the main database stay until it copied them.
const inboxSchema = `CREATE TABLE IF NOT EXISTS alarm_inbox (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	received_at  TIMESTAMP NOT NULL,
	events       BLOB NOT NULL -- encodeEvents
);
CREATE TABLE IF NOT EXISTS alarm_inbox_meta (epoch TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alarm_inbox_pins (id TEXT PRIMARY KEY, at TIMESTAMP NOT NULL)`

// inboxSweep is how often applied rows are deleted from the inbox file.
const inboxSweep = 200 * time.Millisecond

// pinTTL is how long a backup's pin holds applied rows; a backup killed
// midway must not make the inbox grow forever.
const pinTTL = time.Hour

// Inbox is where the receiver's signals wait to be applied.
type Inbox struct {
	db      *store.DB // a sibling file (SQLite) or the main database
	side    bool      // db is a sibling file
	epoch   string    // side: the file's identity
	mu      sync.Mutex
	seq     int64     // side: the last row applied
	synced  int64     // side: the last row a synced transaction applied …
	syncAt  time.Time // … at this time
	sweptTo int64     // side: applied rows were deleted up to this one
	pending int       // side: signals applied but not yet in the per-account index
	old     bool      // side: the main database's own alarm_inbox may hold rows
}

// OpenInbox opens the inbox of the main database db: on SQLite the sibling
// file (created if needed), on PostgreSQL the main database's table.
func OpenInbox(ctx context.Context, db *store.DB) (*Inbox, error) {
	idb, err := db.Sibling(ctx, InboxFile)
	if err != nil {
		return nil, fmt.Errorf("alarm inbox: %w", err)
	}
	in := &Inbox{db: idb, side: idb != db, old: true}
	if !in.side {
		return in, nil
	}
	err = idb.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, inboxSchema); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT epoch FROM alarm_inbox_meta`).Scan(&in.epoch)
		if errors.Is(err, sql.ErrNoRows) {
			in.epoch = store.NewID()
			_, err = tx.Exec(ctx, `INSERT INTO alarm_inbox_meta (epoch) VALUES (?)`, in.epoch)
		}
		return err
	})
	if err == nil {
		err = db.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM alarm_inbox_applied WHERE epoch = ?`, in.epoch).Scan(&in.seq)
	}
	if err == nil {
		err = db.QueryRow(ctx, `SELECT COUNT(*) FROM alarm_events WHERE indexed = 0`).Scan(&in.pending)
	}
	if err != nil {
		idb.Close()
		return nil, fmt.Errorf("alarm inbox: %w", err)
	}
	return in, nil
}

// Close closes the sibling file, if there is one.
func (in *Inbox) Close() error {
	if in.side {
		return in.db.Close()
	}
	return nil
}

// queued is an event as it waits in the inbox: the stored fields plus those
// derived from its account on receipt, so applying needs no lookup.
type queued struct {
	Event
	Key      string `json:"k"`
	Type     string `json:"t,omitempty"`
	Priority int    `json:"p,omitempty"`
	ZoneName string `json:"zn,omitempty"`
	ZoneID   string `json:"zi,omitempty"`
	DeviceID string `json:"di,omitempty"`
	SiteName string `json:"sn,omitempty"`
}

// sharedInbox reports whether the inbox is a table of the main database
// (PostgreSQL, or a Service without an Inbox, as in tests).
func (s *Service) sharedInbox() bool { return s.Inbox == nil || !s.Inbox.side }

// Enqueue makes events durable in the inbox with one INSERT; Apply turns
// them into alarm events and alarms.
func (s *Service) Enqueue(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	for i := range events {
		if events[i].ID == "" {
			events[i].ID = store.NewID()
		}
	}
	db, data := s.DB, any(nil)
	if s.sharedInbox() {
		b, err := encodeJSON(events)
		if err != nil {
			return err
		}
		data = string(b)
	} else {
		db, data = s.Inbox.db, encodeEvents(nil, events)
	}
	now := s.Now().UTC()
	return db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO alarm_inbox (received_at, events) VALUES (?, ?)`, now, data); err != nil {
			return fmt.Errorf("alarm inbox: %w", err)
		}
		return nil
	})
}

// encodeJSON is the shared inbox table's form of events (a TEXT column).
func encodeJSON(events []Event) ([]byte, error) {
	qs := make([]queued, len(events))
	for i := range events {
		e := &events[i]
		qs[i] = queued{Event: *e, Key: e.DedupKey, Type: e.Type, Priority: e.Priority, ZoneName: e.ZoneName, ZoneID: e.ZoneID,
			DeviceID: e.DeviceID, SiteName: e.SiteName}
	}
	b, err := json.Marshal(qs)
	if err != nil {
		return nil, fmt.Errorf("alarm inbox: %w", err)
	}
	return b, nil
}

func decodeJSON(data []byte) ([]Event, error) {
	var qs []queued
	if err := json.Unmarshal(data, &qs); err != nil {
		return nil, err
	}
	events := make([]Event, len(qs))
	for i, q := range qs {
		e := q.Event
		e.DedupKey, e.Type, e.Priority, e.ZoneName, e.ZoneID, e.DeviceID, e.SiteName = q.Key, q.Type, q.Priority, q.ZoneName,
			q.ZoneID, q.DeviceID, q.SiteName
		events[i] = e
	}
	return events, nil
}

// Apply applies the oldest inbox rows, up to about maxEvents events, and
// publishes after commit. It returns the number of events taken from the
// inbox (duplicates included); 0 means the inbox was empty.
func (s *Service) Apply(ctx context.Context, maxEvents int) (int, error) {
	if s.sharedInbox() {
		return s.applyShared(ctx, maxEvents)
	}
	in := s.Inbox
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.old {
		// Rows an earlier version left in the main database's inbox, or
		// a restored backup's: older than anything in the sibling file.
		n, err := s.applyShared(ctx, maxEvents)
		if n > 0 || err != nil {
			return n, err
		}
		in.old = false
	}
	// A reader of the inbox file: neither the receiver nor the main
	// writer waits while the batch is read and decoded.
	rows, err := in.db.Query(ctx, `SELECT seq, events FROM alarm_inbox WHERE seq > ? ORDER BY seq LIMIT 256`, in.seq)
	if err != nil {
		return 0, fmt.Errorf("alarm inbox: %w", err)
	}
	seqs, ends, events, err := s.readInbox(rows, maxEvents, decodeEvents)
	if err != nil {
		return 0, err
	}
	if len(seqs) == 0 {
		s.indexIdle(ctx)
		s.sweepInbox(ctx)
		return 0, nil
	}
	now := s.Now().UTC()
	var res applied
	var last int64  // the last row applied …
	var done int    // … and the events up to its end
	var indexed int // signals moved into the per-account index …
	var dry bool    // … and none left pending
	// Most applies commit without waiting for the disk and leave the
	// applied position alone: their rows stay in the inbox, and after a
	// crash they are applied again, which changes nothing that survived
	// (every event is recorded once by its dedup key). One apply every
	// inboxSweep is synced and records the position, which makes every
	// earlier apply durable too (the WAL is synced in order); only rows up
	// to it leave the inbox. So the main database's fsyncs no longer queue
	// on the disk in front of the receiver's, whose ACKs wait for theirs.
	sync := time.Since(in.syncAt) >= inboxSweep
	write := s.DB.WriteUnsynced
	if sync {
		write = s.DB.Write
	}
	err = write(ctx, func(tx *store.Tx) error {
		res, last, done, indexed, dry = applied{}, 0, 0, 0, false
		yielded := false
		// Whole rows in parts of about applyPart events: between parts
		// the transaction ends early if a life-safety alarm waits for
		// the writer, so it waits for one part, not the whole batch.
		for i := range seqs {
			if ends[i]-done < applyPart && i < len(seqs)-1 {
				continue
			}
			if err := s.applyPending(ctx, tx, events[done:ends[i]], now, &res); err != nil {
				return err
			}
			last, done = seqs[i], ends[i]
			if s.yield() {
				// What waits goes into this transaction, which commits
				// now: one commit where the lane would add its own.
				if s.Ahead != nil {
					if err := s.applyPending(ctx, tx, s.Ahead(), now, &res); err != nil {
						return err
					}
				}
				yielded = true
				break
			}
		}
		// Not when it yielded: the alarms it took along must not wait.
		if in.pending+len(res.events) >= indexBatch && !yielded {
			var err error
			if indexed, dry, err = indexPending(ctx, tx, s.yield); err != nil {
				return err
			}
		}
		if sync {
			return in.record(ctx, tx, last)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	in.seq = last
	in.indexed(len(res.events), indexed, dry)
	s.announce(res, now)
	if sync {
		in.synced, in.syncAt = last, time.Now()
		s.sweepInbox(ctx)
	}
	return done, nil
}

// applyPending applies events from the inbox file (pending the
// per-account index) and adds what changed to r.
func (s *Service) applyPending(ctx context.Context, tx *store.Tx, events []Event, now time.Time, r *applied) error {
	if len(events) == 0 {
		return nil
	}
	part, err := s.apply(ctx, tx, events, now, true)
	r.alarms = append(r.alarms, part.alarms...)
	r.events = append(r.events, part.events...)
	r.accounts = append(r.accounts, part.accounts...)
	return err
}

// yield reports whether a life-safety alarm waits for the writer.
func (s *Service) yield() bool { return s.Yield != nil && s.Yield() }

// indexed counts added pending signals and moved ones (dry: none left).
func (in *Inbox) indexed(added, moved int, dry bool) {
	in.pending += added - moved
	if dry || in.pending < 0 {
		in.pending = 0
	}
}

// indexIdle moves every pending signal into the per-account index when
// the applier has caught up, a batch per transaction, and stops early for
// a life-safety alarm. The transactions need not wait for the disk: the
// index is rebuilt from the pending set after a crash.
func (s *Service) indexIdle(ctx context.Context) {
	in := s.Inbox
	for in.pending > 0 && !s.yield() && ctx.Err() == nil {
		var n int
		var dry bool
		err := s.DB.WriteUnsynced(ctx, func(tx *store.Tx) (err error) {
			n, dry, err = indexPending(ctx, tx, s.yield)
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				s.logger().Warn("alarm: indexing signals", "err", err)
			}
			return
		}
		in.indexed(0, n, dry)
	}
}

// applyPart is how many events Apply applies between looks at Yield: a
// fire waits for about one part (50 events, ~7 ms in a storm).
const applyPart = 50

// record stores seq as the last applied row of the inbox, in tx.
func (in *Inbox) record(ctx context.Context, tx *store.Tx, seq int64) error {
	if _, err := tx.Exec(ctx, `INSERT INTO alarm_inbox_applied (epoch, seq) VALUES (?, ?)
		ON CONFLICT (epoch) DO UPDATE SET seq = excluded.seq`, in.epoch, seq); err != nil {
		return fmt.Errorf("alarm inbox: %w", err)
	}
	return nil
}

// sweepInbox deletes the rows up to the last synced apply from the inbox
// file. It runs after each synced apply (at most every inboxSweep while
// signals flow) and when the applier caught up, which first records the
// applied position in a synced transaction. So the receiver's commits
// rarely wait for a delete. One that fails is repeated later, and rows
// stay while a backup pins the inbox.
func (s *Service) sweepInbox(ctx context.Context) {
	in := s.Inbox
	if in.synced < in.seq {
		if err := s.DB.Write(ctx, func(tx *store.Tx) error { return in.record(ctx, tx, in.seq) }); err != nil {
			if ctx.Err() == nil {
				s.logger().Warn("alarm inbox: recording the applied position", "err", err)
			}
			return
		}
		in.synced, in.syncAt = in.seq, time.Now()
	}
	if in.sweptTo == in.synced {
		return
	}
	err := in.db.WriteUnsynced(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM alarm_inbox WHERE seq <= ? AND NOT EXISTS (SELECT 1 FROM alarm_inbox_pins WHERE at > ?)`,
			in.synced, s.Now().UTC().Add(-pinTTL))
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			s.logger().Warn("alarm inbox: deleting applied rows", "err", err)
		}
		return
	}
	in.sweptTo = in.synced
}

// applyShared applies inbox rows of the main database and deletes them in
// the same transaction.
func (s *Service) applyShared(ctx context.Context, maxEvents int) (int, error) {
	// A reader answers "empty" without taking the writer the receiver
	// waits on (the applier also polls every second).
	var waiting bool
	if err := s.DB.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM alarm_inbox)`).Scan(&waiting); err != nil {
		return 0, fmt.Errorf("alarm inbox: %w", err)
	}
	if !waiting {
		return 0, nil
	}
	now := s.Now().UTC()
	var res applied
	var n int
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		n = 0
		if tx.Dialect() == store.Postgres {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, inboxLock); err != nil {
				return fmt.Errorf("alarm inbox lock: %w", err)
			}
		}
		rows, err := tx.Query(ctx, `SELECT seq, events FROM alarm_inbox ORDER BY seq LIMIT 256`)
		if err != nil {
			return fmt.Errorf("alarm inbox: %w", err)
		}
		seqs, _, events, err := s.readInbox(rows, maxEvents, decodeJSON)
		if err != nil || len(seqs) == 0 {
			return err
		}
		if res, err = s.apply(ctx, tx, events, now, false); err != nil {
			return err
		}
		// seq is an integer column: the IN list is built from integers
		// only, so it is inlined rather than bound as text parameters.
		list := make([]string, len(seqs))
		for i, q := range seqs {
			list[i] = strconv.FormatInt(q, 10)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM alarm_inbox WHERE seq IN (`+strings.Join(list, ",")+`)`); err != nil {
			return fmt.Errorf("alarm inbox: %w", err)
		}
		n = len(events)
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.announce(res, now)
	return n, nil
}

// readInbox decodes inbox rows (seq, events) in order until about
// maxEvents events were read, and closes rows. Row i's events end at
// ends[i].
func (s *Service) readInbox(rows *sql.Rows, maxEvents int, decode func([]byte) ([]Event, error)) (seqs []int64, ends []int, events []Event, err error) {
	defer rows.Close()
	for len(events) < maxEvents && rows.Next() {
		var seq int64
		var data []byte
		if err := rows.Scan(&seq, &data); err != nil {
			return nil, nil, nil, fmt.Errorf("alarm inbox: %w", err)
		}
		evs, err := decode(data)
		seqs = append(seqs, seq)
		events = append(events, evs...)
		ends = append(ends, len(events))
		if err != nil {
			// Only a row this code did not write can fail here; keep it
			// out of the way rather than stop every alarm behind it.
			s.logger().Error("alarm inbox: undecodable row dropped", "seq", seq, "err", err, "data", truncate(string(data), 2000))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("alarm inbox: %w", err)
	}
	return seqs, ends, events, nil
}

// backlog bounds how far the applier may fall behind the receiver: the
// receiver waits before enqueueing while more than max events wait, so an
// overload shows as slower ACKs (panels retry) rather than alarms reaching
// the console later and later.
type backlog struct {
	mu      sync.Mutex
	n, max  int
	changed chan struct{}
}

func newBacklog(max int) *backlog { return &backlog{max: max, changed: make(chan struct{})} }

// wait blocks while the backlog is full.
func (b *backlog) wait(ctx context.Context) error {
	for {
		b.mu.Lock()
		if b.n < b.max {
			b.mu.Unlock()
			return nil
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *backlog) size() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

func (b *backlog) add(n int) {
	b.mu.Lock()
	b.n += n
	b.mu.Unlock()
}

// done records n applied events (another server's, on PostgreSQL, too:
// the count never goes below zero).
func (b *backlog) done(n int) {
	b.mu.Lock()
	b.n = max(0, b.n-n)
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

func (s *Service) logger() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// Snapshot writes a consistent copy of the SQLite database db to path
// (VACUUM INTO, while the server keeps running). Signals still waiting in
// the inbox file go into the copy's own alarm_inbox table, where a server
// started on the copy applies them first. While it copies, the inbox keeps
// applied rows (a pin), so no row can be applied after the snapshot was
// taken and deleted before it was read.
func Snapshot(ctx context.Context, db *store.DB, path string, now time.Time) error {
	in, err := OpenInbox(ctx, db)
	if err != nil {
		return err
	}
	defer in.Close()
	pin := store.NewID()
	if _, err := in.db.Exec(ctx, `INSERT INTO alarm_inbox_pins (id, at) VALUES (?, ?)`, pin, now.UTC()); err != nil {
		return fmt.Errorf("alarm inbox pin: %w", err)
	}
	defer in.db.Exec(context.WithoutCancel(ctx), `DELETE FROM alarm_inbox_pins WHERE id = ?`, pin)
	if _, err := db.Exec(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	snap, err := store.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer snap.Close()
	var applied int64
	if err := snap.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM alarm_inbox_applied WHERE epoch = ?`, in.epoch).Scan(&applied); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	rows, err := in.db.Query(ctx, `SELECT received_at, events FROM alarm_inbox WHERE seq > ? ORDER BY seq`, applied)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer rows.Close()
	return snap.Write(ctx, func(tx *store.Tx) error {
		for rows.Next() {
			var at time.Time
			var data []byte
			if err := rows.Scan(&at, &data); err != nil {
				return fmt.Errorf("snapshot: %w", err)
			}
			events, err := decodeEvents(data)
			if err != nil {
				return fmt.Errorf("snapshot: inbox row: %w", err)
			}
			b, err := encodeJSON(events)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO alarm_inbox (received_at, events) VALUES (?, ?)`, at, string(b)); err != nil {
				return fmt.Errorf("snapshot: %w", err)
			}
		}
		return rows.Err()
	})
}
