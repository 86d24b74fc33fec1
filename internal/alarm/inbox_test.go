package alarm

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestInboxApply: what the receiver enqueued is applied exactly as Ingest
// would have applied it, also by a fresh Service (a restart between ACK and
// apply), in bounded transactions, with retransmissions across inbox rows
// recorded once and nothing left behind.
func TestInboxApply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		s, a := fixture(t, db, &now)
		ev := func(key, zone, typ, kind string) Event {
			return Event{OrgID: a.OrgID, SiteID: a.SiteID, AccountID: a.ID, Account: a.Number, Source: "dc09", DedupKey: key,
				ReceivedAt: now, Class: typ, Kind: kind, Type: typ, Priority: DefaultPriority(typ), Zone: zone, Description: typ,
				ZoneName: "Zone " + zone, SiteName: "Bank Branch 7"}
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

		restarted := &Service{DB: db, Now: func() time.Time { return now }}
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
		if n := count(t, db, `SELECT COUNT(*) FROM alarm_inbox`); n != 0 {
			t.Fatalf("%d inbox rows left", n)
		}
		if len(published) != 3 || published[0].SiteName != "Bank Branch 7" {
			t.Fatalf("published after apply: %+v", published)
		}
	})
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
