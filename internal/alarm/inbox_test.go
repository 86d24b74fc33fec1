package alarm

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"vigil/internal/alarm/dc09"
	"vigil/internal/alarm/receiver"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestInboxApply: what the receiver enqueued is applied exactly as Ingest
// would have applied it, also by a fresh Service (a restart between ACK and
// apply), in bounded transactions, with retransmissions across inbox rows
// recorded once and nothing left behind.
// On SQLite it runs twice: with the main database's table, as on
// PostgreSQL, and with the inbox file the server uses.
func TestInboxApply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { testInboxApply(t, db, false) })
	t.Run("sqlite-file", func(t *testing.T) { testInboxApply(t, storetest.SQLite(t), true) })
}

func testInboxApply(t *testing.T, db *store.DB, file bool) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s, a := fixture(t, db, &now)
	inbox := func() *Inbox { return nil }
	if file {
		inbox = func() *Inbox { return openInbox(t, db) }
	}
	s.Inbox = inbox()
	ev := func(key, zone, typ, kind string) Event {
		e := testEvent(a, now, key, zone, typ, kind)
		e.ZoneName, e.SiteName = "Zone "+zone, "Bank Branch 7"
		return e
	}
	if err := s.Enqueue(ctx, []Event{ev("k1", "1", TypeTrouble, KindAlarm), ev("k1", "1", TypeTrouble, KindAlarm),
		ev("k2", "1", TypeTrouble, KindAlarm), ev("k3", "2", TypeTrouble, KindAlarm), ev("k4", "9", TypeFire, KindAlarm)}); err != nil {
		t.Fatal(err)
	}
	// A retransmission lands in a second row.
	if err := s.Enqueue(ctx, []Event{ev("k1", "1", TypeTrouble, KindAlarm), ev("k4", "9", TypeFire, KindAlarm)}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM alarm_events`); n != 0 {
		t.Fatalf("%d events stored before apply", n)
	}

	restarted := &Service{DB: db, Inbox: inbox(), Now: func() time.Time { return now }}
	var published []*Alarm
	restarted.Publish = func(as []*Alarm, _ []Event) { published = append(published, as...) }
	var got []int
	for {
		n, err := restarted.Apply(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
		if n == 0 {
			break
		}
	}
	if fmt.Sprint(got) != "[5 2 0]" { // one row per transaction once 3 events are reached
		t.Fatalf("events per Apply: %v, want [5 2 0]", got)
	}
	as, _ := s.Alarms(ctx, []string{a.OrgID}, AlarmFilter{}, 10, 0)
	if len(as) != 3 || as[0].Type != TypeFire || as[1].Signals != 2 || as[1].ZoneName != "Zone 1" {
		t.Fatalf("queue: fire first, trouble grouped with 2 signals: %+v", as)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM alarm_events`); n != 4 {
		t.Fatalf("events stored: %d, want 4", n)
	}
	if n := inboxRows(t, s); n != 0 {
		t.Fatalf("%d inbox rows left", n)
	}
	if len(published) != 3 || published[0].SiteName != "Bank Branch 7" {
		t.Fatalf("published after apply: %+v", published)
	}
}

// fileInboxFixture is a SQLite database with an account (fixture) and its
// service on an inbox file.
func fileInboxFixture(t *testing.T) (*store.DB, *Service, *Account, time.Time) {
	db := storetest.SQLite(t)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s, a := fixture(t, db, &now)
	s.Inbox = openInbox(t, db)
	return db, s, a, now
}

func openInbox(t *testing.T, db *store.DB) *Inbox {
	t.Helper()
	in, err := OpenInbox(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

// inboxRows counts the rows waiting in s's inbox.
func inboxRows(t *testing.T, s *Service) int {
	if s.sharedInbox() {
		return count(t, s.DB, `SELECT COUNT(*) FROM alarm_inbox`)
	}
	return count(t, s.Inbox.db, `SELECT COUNT(*) FROM alarm_inbox`)
}

// TestInboxConcurrentAppliers: appliers racing over one inbox (several
// servers on PostgreSQL) apply every row once.
func TestInboxConcurrentAppliers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		s, a := fixture(t, db, &now)
		const rows, per = 20, 5
		for r := range rows {
			var evs []Event
			for i := range per {
				evs = append(evs, Event{OrgID: a.OrgID, SiteID: a.SiteID, AccountID: a.ID, Account: a.Number, Source: "dc09",
					DedupKey: fmt.Sprintf("k%d-%d", r, i), ReceivedAt: now, Class: "burglary", Kind: KindAlarm, Type: TypeBurglary,
					Priority: PriorityProperty, Zone: "4"})
			}
			if err := s.Enqueue(ctx, evs); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					n, err := s.Apply(ctx, 7)
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		as, _ := s.Alarms(ctx, []string{a.OrgID}, AlarmFilter{}, 10, 0)
		if len(as) != 1 || as[0].Signals != rows*per {
			t.Fatalf("one alarm with %d signals, got %+v", rows*per, as)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM alarm_events`); n != rows*per {
			t.Fatalf("events stored: %d, want %d", n, rows*per)
		}
	})
}

// TestBacklogWaits: the receiver waits while the applier is behind and
// goes on once events are applied, or when its context ends.
func TestBacklogWaits(t *testing.T) {
	b := newBacklog(10)
	b.add(10)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := b.wait(ctx); err == nil {
		t.Fatal("wait returned with a full backlog")
	}
	released := make(chan error)
	go func() { released <- b.wait(context.Background()) }()
	b.done(1)
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	b.done(100) // another server's rows: never below zero
	b.add(9)
	if err := b.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestSinkSpillsWhenBusy: the receiver's sink applies a small group commit
// in its own transaction, but a large one, and anything after it while it
// waits, goes to the inbox in order, for the applier to apply.
func TestSinkSpillsWhenBusy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		_, a := fixture(t, db, &now)
		m, err := New(db, nil, nil, nil, slog.Default(), func() time.Time { return now }, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		k := sink{c: m.cache, m: m}
		seq := 0
		signals := func(n int) []receiver.Signal { return cidSignals(t, a, now, &seq, n, "130") }
		state := func() string {
			return fmt.Sprintf("events %d, inbox rows %d", count(t, db, `SELECT COUNT(*) FROM alarm_events`),
				count(t, db, `SELECT COUNT(*) FROM alarm_inbox`))
		}
		if err := k.Commit(ctx, signals(2)); err != nil { // quiet: applied at once
			t.Fatal(err)
		}
		if got := state(); got != "events 2, inbox rows 0" {
			t.Fatalf("small group commit: %s", got)
		}
		if err := k.Commit(ctx, signals(spillAt)); err != nil { // busy: spilled
			t.Fatal(err)
		}
		if err := k.Commit(ctx, signals(1)); err != nil { // behind the spill: queued too
			t.Fatal(err)
		}
		if got := state(); got != "events 2, inbox rows 2" {
			t.Fatalf("after a large group commit: %s", got)
		}
		go m.applyLoop(ctx)
		want := fmt.Sprintf("events %d, inbox rows 0", 3+spillAt)
		for deadline := time.Now().Add(10 * time.Second); state() != want; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("applier: %s, want %s", state(), want)
			}
		}
		if m.backlog.size() != 0 {
			t.Fatalf("backlog %d after the inbox drained", m.backlog.size())
		}
	})
}

// TestInboxFileRecovery: with the inbox in its own file, a crash after the
// apply committed but before the applied rows were deleted repeats
// nothing; a new inbox file (its seqs start again at 1) is not mistaken
// for applied; rows left in the main database's table by an earlier
// version or a restored backup are applied first; and a backup's pin keeps
// applied rows until it is removed.
func TestInboxFileRecovery(t *testing.T) {
	ctx := context.Background()
	db, s, a, now := fileInboxFixture(t)
	ev := func(key string) Event { return testEvent(a, now, key, "3", TypeBurglary, KindAlarm) }
	drain := func(s *Service) {
		t.Helper()
		for {
			n, err := s.Apply(ctx, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
		}
	}
	signals := func() int {
		as, err := s.Alarms(ctx, []string{a.OrgID}, AlarmFilter{}, 10, 0)
		if err != nil || len(as) != 1 {
			t.Fatalf("alarms: %v %+v", err, as)
		}
		return as[0].Signals
	}

	// Legacy rows in the main database come first.
	legacy, _ := encodeJSON([]Event{ev("old")})
	if _, err := db.Exec(ctx, `INSERT INTO alarm_inbox (received_at, events) VALUES (?, ?)`, now, string(legacy)); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, []Event{ev("a"), ev("b")}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Apply(ctx, 1000); err != nil || n != 1 {
		t.Fatalf("first apply took %d (%v), want the 1 legacy event", n, err)
	}
	drain(s)
	if signals() != 3 || count(t, db, `SELECT COUNT(*) FROM alarm_inbox`) != 0 || inboxRows(t, s) != 0 {
		t.Fatalf("after drain: %d signals, %d legacy rows, %d inbox rows", signals(), count(t, db, `SELECT COUNT(*) FROM alarm_inbox`), inboxRows(t, s))
	}

	// A crash between the apply's commit and the delete: the rows are
	// back in the file, but the main database says they were applied.
	if err := s.Enqueue(ctx, []Event{ev("c")}); err != nil {
		t.Fatal(err)
	}
	var seq int64
	var data []byte
	if err := s.Inbox.db.QueryRow(ctx, `SELECT seq, events FROM alarm_inbox`).Scan(&seq, &data); err != nil {
		t.Fatal(err)
	}
	drain(s)
	if _, err := s.Inbox.db.Exec(ctx, `INSERT INTO alarm_inbox (seq, received_at, events) VALUES (?, ?, ?)`, seq, now, data); err != nil {
		t.Fatal(err)
	}
	restarted := &Service{DB: db, Inbox: openInbox(t, db), Now: s.Now}
	drain(restarted)
	if signals() != 4 || inboxRows(t, restarted) != 0 {
		t.Fatalf("a row applied before the crash: %d signals (want 4), %d rows left (want 0)", signals(), inboxRows(t, restarted))
	}

	// A backup's pin keeps applied rows; without it they go.
	if _, err := s.Inbox.db.Exec(ctx, `INSERT INTO alarm_inbox_pins (id, at) VALUES ('backup', ?)`, now); err != nil {
		t.Fatal(err)
	}
	if err := restarted.Enqueue(ctx, []Event{ev("d")}); err != nil {
		t.Fatal(err)
	}
	drain(restarted)
	if n := inboxRows(t, restarted); n != 1 {
		t.Fatalf("pinned: %d rows kept, want 1", n)
	}
	if _, err := s.Inbox.db.Exec(ctx, `DELETE FROM alarm_inbox_pins`); err != nil {
		t.Fatal(err)
	}
	if err := restarted.Enqueue(ctx, []Event{ev("e")}); err != nil {
		t.Fatal(err)
	}
	drain(restarted)
	if n := inboxRows(t, restarted); n != 0 || signals() != 6 {
		t.Fatalf("unpinned: %d rows kept, %d signals; want 0, 6", n, signals())
	}

	// A new inbox file starts at seq 1 under a new epoch.
	restarted.Inbox.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(filepath.Join(filepath.Dir(dbPath(t, db)), InboxFile+".db"+suffix))
	}
	fresh := &Service{DB: db, Inbox: openInbox(t, db), Now: s.Now}
	if fresh.Inbox.epoch == s.Inbox.epoch || fresh.Inbox.seq != 0 {
		t.Fatalf("new file: epoch %s (old %s), seq %d", fresh.Inbox.epoch, s.Inbox.epoch, fresh.Inbox.seq)
	}
	if err := fresh.Enqueue(ctx, []Event{ev("f")}); err != nil {
		t.Fatal(err)
	}
	drain(fresh)
	if signals() != 7 {
		t.Fatalf("new inbox file's first row: %d signals, want 7", signals())
	}
}

// dbPath is the SQLite file behind db.
func dbPath(t *testing.T, db *store.DB) string {
	return scalar[string](t, db, `SELECT file FROM pragma_database_list WHERE name = 'main'`)
}

// TestOutOfOrderApply: life-safety alarms are applied ahead of the inbox,
// so older signals of the same alarm, and restores or cancels received
// before it, can be applied after it. They count, but they neither move
// its times back nor restore or cancel an alarm that came later.
func TestOutOfOrderApply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		s, a := fixture(t, db, &t0)
		at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
		ev := func(key string, sec int, kind string) Event { return testEvent(a, at(sec), key, "5", TypeFire, kind) }
		state := func() string {
			as, err := s.Alarms(ctx, []string{a.OrgID}, AlarmFilter{}, 10, 0)
			if err != nil || len(as) != 1 {
				t.Fatalf("alarms: %v %+v", err, as)
			}
			x := as[0]
			return fmt.Sprintf("signals %d, last %s, restored %v, cancelled %v", x.Signals, x.LastAt.Sub(t0), x.RestoredAt != nil, x.CancelledAt != nil)
		}
		step := func(want string, events ...Event) {
			t.Helper()
			if err := s.Ingest(ctx, events); err != nil {
				t.Fatal(err)
			}
			if got := state(); got != want {
				t.Fatalf("got %s, want %s", got, want)
			}
		}
		step("signals 1, last 10s, restored false, cancelled false", ev("alarm@10", 10, KindAlarm))          // ahead of the inbox
		step("signals 1, last 10s, restored false, cancelled false", ev("restore@5", 5, KindRestore))        // received before it
		step("signals 1, last 10s, restored false, cancelled false", Event{OrgID: a.OrgID, SiteID: a.SiteID, // so was this cancel
			AccountID: a.ID, Account: a.Number, Source: "dc09", DedupKey: "cancel@6", ReceivedAt: at(6), Class: "cancel", Kind: KindCancel})
		step("signals 2, last 10s, restored false, cancelled false", ev("alarm@8", 8, KindAlarm))      // an older repeat
		step("signals 2, last 10s, restored true, cancelled false", ev("restore@12", 12, KindRestore)) // in order
		step("signals 3, last 11s, restored true, cancelled false", ev("alarm@11", 11, KindAlarm))     // older than the restore
		step("signals 4, last 13s, restored false, cancelled false", ev("alarm@13", 13, KindAlarm))    // newer: active again
	})
}

// cidSignals builds n received Contact ID signals with event code for a,
// numbering frames and zones from *seq on.
func cidSignals(t *testing.T, a *Account, now time.Time, seq *int, n int, code string) []receiver.Signal {
	var out []receiver.Signal
	for range n {
		*seq++
		out = append(out, cidSignal(t, a, now, *seq, "1"+code, *seq))
	}
	return out
}

// cidSignal is one Contact ID signal (qualifier and code, e.g. "1110") for
// zone of a.
func cidSignal(t *testing.T, a *Account, now time.Time, seq int, event string, zone int) receiver.Signal {
	f := &dc09.Frame{Token: dc09.TokenCID, Sequence: dc09.SequenceString(seq), Line: "0", HasLine: true, Account: a.Number,
		Data: fmt.Sprintf("#%s|%s 01 %03d", a.Number, event, zone), Timestamp: now, HasTimestamp: true}
	raw, err := f.Marshal(nil, nil, dc09.Quirks{})
	if err != nil {
		t.Fatal(err)
	}
	return receiver.Signal{Frame: f, Account: receiver.Account{Ref: a.ID}, ReceivedAt: now, Raw: raw}
}

// TestLaneFireFirst: with trouble signals waiting in the inbox file, a
// fire alarm received after them reaches the alarm queue first, before
// its own group commit, and the inbox later applies it as a known
// duplicate.
func TestLaneFireFirst(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	_, a := fixture(t, db, &now)
	m, err := New(db, nil, nil, nil, slog.Default(), func() time.Time { return now }, nil, Options{Inbox: openInbox(t, db)})
	if err != nil {
		t.Fatal(err)
	}
	k := sink{c: m.cache, m: m}
	seq := 0
	if err := k.Commit(ctx, cidSignals(t, a, now, &seq, 200, "373")); err != nil { // fire trouble
		t.Fatal(err)
	}
	fire := cidSignals(t, a, now, &seq, 1, "110")
	fire[0].Note = m.accept(ctx, fire[0]) // as the receiver does on reading it
	m.applyLane(ctx)
	if err := k.Commit(ctx, fire); err != nil {
		t.Fatal(err)
	}
	as, err := m.S.Alarms(ctx, []string{a.OrgID}, AlarmFilter{}, 10, 0)
	if err != nil || len(as) != 1 || as[0].Type != TypeFire || count(t, db, `SELECT COUNT(*) FROM alarm_events`) != 1 {
		t.Fatalf("after the lane: %v %+v, %d events", err, as, count(t, db, `SELECT COUNT(*) FROM alarm_events`))
	}
	for {
		n, err := m.S.Apply(ctx, applyEvents)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	as, _ = m.S.Alarms(ctx, []string{a.OrgID}, AlarmFilter{}, 300, 0)
	if n := count(t, db, `SELECT COUNT(*) FROM alarm_events`); n != 201 || len(as) != 201 || as[0].Signals != 1 {
		t.Fatalf("after the inbox: %d events, %d alarms, fire signals %d; want 201, 201, 1", n, len(as), as[0].Signals)
	}

	// A repeat of the fire on the console takes no lane transaction (its
	// count follows with the inbox); a fire after the alarm was restored
	// does, since the operator must see it again at once.
	lane := func(sig receiver.Signal, wantEvents int) {
		t.Helper()
		sig.Note = m.accept(ctx, sig)
		m.applyLane(ctx)
		if n := count(t, db, `SELECT COUNT(*) FROM alarm_events`); n != wantEvents {
			t.Fatalf("after the lane: %d events, want %d", n, wantEvents)
		}
		if err := k.Commit(ctx, []receiver.Signal{sig}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.S.Apply(ctx, applyEvents); err != nil {
			t.Fatal(err)
		}
	}
	seq++
	lane(cidSignal(t, a, now, seq, "1110", 201), 201)
	now = now.Add(time.Second)
	seq++
	lane(cidSignal(t, a, now, seq, "3110", 201), 202) // restore: not life safety, no lane
	now = now.Add(time.Second)
	seq++
	lane(cidSignal(t, a, now, seq, "1110", 201), 204)
	as, _ = m.S.Alarms(ctx, []string{a.OrgID}, AlarmFilter{}, 1, 0)
	if as[0].Type != TypeFire || as[0].Signals != 3 || as[0].RestoredAt != nil {
		t.Fatalf("fire after repeats and a restore: %+v", as[0])
	}
}

// TestApplyYields: while something more urgent waits for the writer, Apply
// applies it and commits after a part of about applyPart events (whole
// inbox rows), and the next Apply goes on from there: nothing skipped,
// nothing applied twice.
func TestApplyYields(t *testing.T) {
	ctx := context.Background()
	db, s, a, now := fileInboxFixture(t)
	const rows, perRow = 5, applyPart * 3 / 5 // two rows make a part
	for r := range rows {
		evs := make([]Event, perRow)
		for i := range evs {
			evs[i] = testEvent(a, now, fmt.Sprintf("k%d-%d", r, i), strconv.Itoa(i%7), TypeTrouble, KindAlarm)
		}
		if err := s.Enqueue(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	// The fire that made it yield is applied in the same transaction.
	fire := []Event{testEvent(a, now, "fire", "9", TypeFire, KindAlarm)}
	urgent := true
	s.Yield = func() bool { return urgent }
	s.Ahead = func() []Event { ahead := fire; fire = nil; return ahead }
	n, err := s.Apply(ctx, applyEvents)
	if err != nil || n != 2*perRow { // two rows reach applyPart
		t.Fatalf("yielding apply: %d events, %v; want %d", n, err, 2*perRow)
	}
	if got := count(t, db, `SELECT COUNT(*) FROM alarm_events`); got != 2*perRow+1 {
		t.Fatalf("%d events stored, want %d and the fire", got, 2*perRow)
	}
	if got := count(t, db, `SELECT COUNT(*) FROM alarms WHERE type = ?`, TypeFire); got != 1 {
		t.Fatalf("%d fire alarms after the yielding apply, want 1", got)
	}
	urgent = false
	if n, err = s.Apply(ctx, applyEvents); err != nil || n != (rows-2)*perRow {
		t.Fatalf("second apply: %d events, %v; want %d", n, err, (rows-2)*perRow)
	}
	if got := count(t, db, `SELECT COUNT(*) FROM alarm_events`); got != rows*perRow+1 {
		t.Fatalf("%d events stored, want %d and the fire", got, rows*perRow)
	}
	var signals int
	if err := db.QueryRow(ctx, `SELECT SUM(signals) FROM alarms`).Scan(&signals); err != nil || signals != rows*perRow+1 {
		t.Fatalf("alarms count %d signals (%v), want %d and the fire", signals, err, rows*perRow)
	}
}

// TestUnsyncedApplies: only a synced apply records the applied position and
// lets rows leave the inbox file; applies in between keep their rows, and
// catching up records the position (synced) and sweeps.
func TestUnsyncedApplies(t *testing.T) {
	ctx := context.Background()
	db, s, a, now := fileInboxFixture(t)
	position := func() int64 {
		var seq int64
		db.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM alarm_inbox_applied`).Scan(&seq)
		return seq
	}
	enqueueApply := func(key string) {
		t.Helper()
		if err := s.Enqueue(ctx, []Event{testEvent(a, now, key, "1", TypeTrouble, KindAlarm)}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Apply(ctx, applyEvents); err != nil || n != 1 {
			t.Fatalf("apply %s: %d, %v", key, n, err)
		}
	}
	enqueueApply("a") // the first apply is synced
	if position() != 1 || inboxRows(t, s) != 0 {
		t.Fatalf("after a synced apply: position %d, %d rows; want 1, 0", position(), inboxRows(t, s))
	}
	enqueueApply("b") // within inboxSweep: unsynced
	enqueueApply("c")
	if position() != 1 || inboxRows(t, s) != 2 || count(t, db, `SELECT COUNT(*) FROM alarm_events`) != 3 {
		t.Fatalf("after unsynced applies: position %d, %d rows, %d events; want 1, 2, 3", position(), inboxRows(t, s),
			count(t, db, `SELECT COUNT(*) FROM alarm_events`))
	}
	// A restart here applies b and c again: nothing changes.
	restarted := &Service{DB: db, Inbox: openInbox(t, db), Now: s.Now}
	if n, err := restarted.Apply(ctx, applyEvents); err != nil || n != 2 {
		t.Fatalf("re-apply after a restart: %d, %v", n, err)
	}
	as, _ := s.Alarms(ctx, []string{a.OrgID}, AlarmFilter{}, 10, 0)
	if len(as) != 1 || as[0].Signals != 3 {
		t.Fatalf("after re-applying: %+v", as)
	}
	if n, err := s.Apply(ctx, applyEvents); err != nil || n != 0 { // caught up
		t.Fatalf("caught up: %d, %v", n, err)
	}
	if position() != 3 || inboxRows(t, s) != 0 {
		t.Fatalf("after catching up: position %d, %d rows; want 3, 0", position(), inboxRows(t, s))
	}
}

// TestPendingIndex: signals applied from the inbox file wait outside the
// per-account index until the applier moves them in bulk; listing by
// account shows them all the same, merged in order with signals that
// were indexed at once (webhooks, the life-safety lane), through indexes.
func TestPendingIndex(t *testing.T) {
	ctx := context.Background()
	db, s, a, now := fileInboxFixture(t)
	want := func() []string { // newest first, by a plain scan
		rows, err := db.Query(ctx, `SELECT id FROM alarm_events WHERE account = ? ORDER BY rowid DESC`, a.Number)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		return ids
	}
	check := func(stage string) {
		t.Helper()
		all := want()
		for _, page := range [][2]int{{100, 0}, {7, 0}, {7, 7}, {7, 20}, {5, len(all) - 3}} {
			evs, err := s.Events(ctx, []string{a.OrgID}, EventFilter{Account: a.Number}, page[0], page[1])
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range evs {
				got = append(got, e.ID)
			}
			exp := all[min(page[1], len(all)):min(page[1]+page[0], len(all))]
			if !slices.Equal(got, exp) {
				t.Fatalf("%s, limit %d offset %d: got %v, want %v", stage, page[0], page[1], got, exp)
			}
		}
	}
	n := 0
	ev := func() Event {
		n++
		return testEvent(a, now, fmt.Sprintf("k%d", n), fmt.Sprint(n%3), TypeBurglary, KindAlarm)
	}
	for round := 0; round < 4; round++ {
		if err := s.Enqueue(ctx, []Event{ev(), ev(), ev(), ev()}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Apply(ctx, 1000); err != nil {
			t.Fatal(err)
		}
		if err := s.Ingest(ctx, []Event{ev(), ev()}); err != nil {
			t.Fatal(err)
		}
	}
	if got := count(t, db, `SELECT COUNT(*) FROM alarm_events WHERE indexed = 0`); got != 16 || s.Inbox.pending != 16 {
		t.Fatalf("%d pending signals (%d counted), want 16", got, s.Inbox.pending)
	}
	check("pending")
	// The planner reads each part through its index, never the table.
	q, args := s.eventsQuery([]string{a.OrgID}, EventFilter{Account: a.Number})
	rows, err := db.Query(ctx, `EXPLAIN QUERY PLAN `+q, append(args, 10, 0)...)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		rows.Scan(&id, &parent, &unused, &detail)
		plan = append(plan, detail)
	}
	rows.Close()
	if p := strings.Join(plan, "; "); !strings.Contains(p, "alarm_events_account") || !strings.Contains(p, "alarm_events_pending") || strings.Contains(p, "SCAN") {
		t.Fatalf("plan: %s", p)
	}
	// Caught up, the applier moves them into the index.
	if n, err := s.Apply(ctx, 1000); err != nil || n != 0 {
		t.Fatalf("idle apply: %d, %v", n, err)
	}
	if got := count(t, db, `SELECT COUNT(*) FROM alarm_events WHERE indexed = 0`); got != 0 || s.Inbox.pending != 0 {
		t.Fatalf("%d pending signals (%d counted) after an idle apply", got, s.Inbox.pending)
	}
	check("indexed")
	// A restart counts what is pending.
	if err := s.Enqueue(ctx, []Event{ev(), ev()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	if again := openInbox(t, db); again.pending != 2 {
		t.Fatalf("reopened inbox counts %d pending, want 2", again.pending)
	}
	check("after restart")
	// Under load an apply moves a batch in its own transaction, unless a
	// fire alarm waits: then it commits at once.
	many := make([]Event, indexBatch)
	for i := range many {
		many[i] = ev()
	}
	pending := func(want int) {
		t.Helper()
		if got := count(t, db, `SELECT COUNT(*) FROM alarm_events WHERE indexed = 0`); got != want || s.Inbox.pending != want {
			t.Fatalf("%d pending signals (%d counted), want %d", got, s.Inbox.pending, want)
		}
	}
	fire := []Event{testEvent(a, now, "fire", "9", TypeFire, KindAlarm)}
	s.Yield = func() bool { return len(fire) > 0 }
	s.Ahead = func() []Event { ahead := fire; fire = nil; return ahead }
	if err := s.Enqueue(ctx, many); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Apply(ctx, 2*indexBatch); err != nil || n != indexBatch {
		t.Fatalf("yielding apply: %d, %v", n, err)
	}
	pending(2 + indexBatch + 1)
	if err := s.Enqueue(ctx, []Event{ev(), ev()}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Apply(ctx, 2*indexBatch); err != nil || n != 2 {
		t.Fatalf("apply: %d, %v", n, err)
	}
	pending(5)
	check("under load")
}
