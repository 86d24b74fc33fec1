package alarm

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"vigil/internal/store"
)

// The DC-09 receiver commits in two steps. Enqueue appends a receiver
// group commit to alarm_inbox as one row (a few pages at the end of a
// small table) and the panels are ACKed after that commit: the signal is
// durable. Apply then moves inbox rows into alarm_events and alarms in
// larger transactions and deletes them in the same transaction, so a crash
// between the two steps only delays the signals (they are applied after the
// restart), never loses or doubles them. Applying one signal touches a page
// of every alarm_events index; doing it for thousands of signals per
// transaction instead of the hundred a group commit holds is what lets the
// receiver keep up with tens of thousands of signals per second.

// inboxLock serialises appliers across servers on PostgreSQL, so a panel's
// signals are applied in order and none twice (SQLite has one writer).
const inboxLock = 0x76_69_67_69_6c_01 // "vigil" + 1

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

// Enqueue makes events durable in the inbox with one INSERT; Apply turns
// them into alarm events and alarms.
func (s *Service) Enqueue(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	qs := make([]queued, len(events))
	for i := range events {
		e := &events[i]
		if e.ID == "" {
			e.ID = store.NewID()
		}
		qs[i] = queued{Event: *e, Key: e.DedupKey, Type: e.Type, Priority: e.Priority, ZoneName: e.ZoneName, ZoneID: e.ZoneID,
			DeviceID: e.DeviceID, SiteName: e.SiteName}
	}
	b, err := json.Marshal(qs)
	if err != nil {
		return fmt.Errorf("alarm inbox: %w", err)
	}
	now := s.Now().UTC()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO alarm_inbox (received_at, events) VALUES (?, ?)`, now, string(b)); err != nil {
			return fmt.Errorf("alarm inbox: %w", err)
		}
		return nil
	})
}

// Apply applies the oldest inbox rows, up to about maxEvents events, in one
// transaction that also deletes them, and publishes after commit. It
// returns the number of events taken from the inbox (duplicates included);
// 0 means the inbox was empty.
func (s *Service) Apply(ctx context.Context, maxEvents int) (int, error) {
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
		var seqs []string
		var events []Event
		for len(events) < maxEvents && rows.Next() {
			var seq int64
			var data string
			if err := rows.Scan(&seq, &data); err != nil {
				rows.Close()
				return fmt.Errorf("alarm inbox: %w", err)
			}
			seqs = append(seqs, strconv.FormatInt(seq, 10))
			var qs []queued
			if err := json.Unmarshal([]byte(data), &qs); err != nil {
				// Only a row this code did not write can fail here; keep
				// it out of the way rather than stop every alarm behind it.
				s.logger().Error("alarm inbox: undecodable row dropped", "seq", seq, "err", err, "data", truncate(data, 2000))
				continue
			}
			for _, q := range qs {
				e := q.Event
				e.DedupKey, e.Type, e.Priority, e.ZoneName, e.ZoneID, e.DeviceID, e.SiteName = q.Key, q.Type, q.Priority, q.ZoneName,
					q.ZoneID, q.DeviceID, q.SiteName
				events = append(events, e)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("alarm inbox: %w", err)
		}
		if len(seqs) == 0 {
			return nil
		}
		if res, err = apply(ctx, tx, events, now); err != nil {
			return err
		}
		// seq is an integer column: the IN list is built from integers
		// only, so it is inlined rather than bound as text parameters.
		if _, err := tx.Exec(ctx, `DELETE FROM alarm_inbox WHERE seq IN (`+strings.Join(seqs, ",")+`)`); err != nil {
			return fmt.Errorf("alarm inbox: %w", err)
		}
		n = len(events)
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.announce(res)
	return n, nil
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
