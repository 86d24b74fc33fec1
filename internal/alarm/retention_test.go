package alarm

import (
	"context"
	"fmt"
	"testing"
	"time"

	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

func TestMinIDOrdersWithNewID(t *testing.T) {
	before, id, after := minID(time.Now().Add(-time.Second)), store.NewID(), minID(time.Now().Add(time.Second))
	if !(before < id && id < after) {
		t.Fatalf("want %s < %s < %s", before, id, after)
	}
}

// TestPruneEvents: expired signals that belong to no alarm are deleted;
// recent ones and those of alarms stay.
func TestPruneEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		s, a := fixture(t, db, &now)
		old := now.AddDate(0, 0, -100)
		n := 0
		ev := func(at time.Time, kind string) Event {
			n++
			return Event{ID: minID(at)[:24] + fmt.Sprintf("%012x", n), OrgID: a.OrgID, SiteID: a.SiteID, AccountID: a.ID, Account: a.Number,
				Source: "dc09", DedupKey: fmt.Sprint("k", n), ReceivedAt: at, Class: "x", Kind: kind, Type: TypeBurglary,
				Priority: PriorityProperty, Zone: "1"}
		}
		var evs []Event
		for range 7 {
			evs = append(evs, ev(old, KindPoll), ev(old, KindInfo), ev(now, KindPoll))
		}
		evs = append(evs, ev(old, KindAlarm))
		if err := s.Ingest(ctx, evs); err != nil {
			t.Fatal(err)
		}
		got, err := s.PruneEvents(ctx, time.Time{}, now.AddDate(0, 0, -90))
		if err != nil {
			t.Fatal(err)
		}
		if got != 14 {
			t.Fatalf("deleted %d, want the 14 expired polls and open/closes", got)
		}
		left := fmt.Sprint(count(t, db, `SELECT COUNT(*) FROM alarm_events WHERE kind = 'poll'`), count(t, db, `SELECT COUNT(*) FROM alarm_events WHERE kind = 'alarm'`))
		if left != "7 1" {
			t.Fatalf("left polls, alarm signals: %s, want 7 1", left)
		}
		// A range that starts after the expired signals deletes nothing.
		if err := s.Ingest(ctx, []Event{ev(old, KindPoll)}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.PruneEvents(ctx, old.Add(time.Hour), now.AddDate(0, 0, -90)); err != nil || got != 0 {
			t.Fatalf("pruning after the old signal: %d %v, want 0", got, err)
		}
	})
}
