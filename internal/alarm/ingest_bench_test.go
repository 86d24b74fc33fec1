package alarm

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"vigil/internal/store"
)

// BenchmarkIngest measures applying signals from 100 panels in one
// transaction, for a receiver group commit (50), a part of an inbox apply
// (100) and a whole one (500), with the bench's default mix (40 % polls,
// 30 % open/close, 10 % test, 20 % alarms joining open alarms) and with a
// storm's (60 % trouble alarms over 64 zones a panel, 30 % polls, 10 %
// restores).
func BenchmarkIngest(b *testing.B) {
	for _, mix := range []string{"default", "storm"} {
		for _, batch := range []int{50, 100, 500} {
			b.Run(fmt.Sprintf("mix=%s/batch=%d", mix, batch), func(b *testing.B) { benchIngest(b, mix == "storm", batch) })
		}
	}
}

func benchIngest(b *testing.B, storm bool, batch int) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := db.Exec(ctx, `INSERT INTO orgs (id, kind, name, slug, timezone, created_at, updated_at) VALUES (?, 'operator', 'Op', 'op', 'UTC', ?, ?)`,
		store.NewID(), now, now); err != nil {
		b.Fatal(err)
	}
	provisionPanels(b, db, 1000, 100)
	rows, _ := db.Query(ctx, `SELECT id, org_id, site_id, number FROM alarm_accounts`)
	type acct struct{ id, org, site, num string }
	var accts []acct
	for rows.Next() {
		var a acct
		rows.Scan(&a.id, &a.org, &a.site, &a.num)
		accts = append(accts, a)
	}
	rows.Close()
	s := &Service{DB: db, Now: time.Now}
	n := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		evs := make([]Event, batch)
		for j := range evs {
			n++
			a := accts[n%len(accts)]
			e := Event{OrgID: a.org, SiteID: a.site, AccountID: a.id, Account: a.num, Source: "dc09", DedupKey: fmt.Sprintf("%s/R0/L0/%s/ADM-CID/%04d/%04X", time.Now().UTC().Format("20060102T150405Z"), a.num, n%10000, n%65536),
				ReceivedAt: time.Now(), Raw: "\\x0A0000\"ADM-CID\"0001L0#1000[#1000|1130 01 003]\\x0D"}
			switch {
			case storm && n%10 < 6:
				e.Kind, e.Class, e.Type, e.Priority, e.Code, e.Zone, e.Description = KindAlarm, "trouble", TypeTrouble, 3, "300", fmt.Sprint(n%64), "Trouble"
			case storm && n%10 == 9:
				e.Kind, e.Class, e.Type, e.Code, e.Zone, e.Description = KindRestore, "trouble", TypeTrouble, "300", fmt.Sprint((n/7)%64), "Trouble restore"
			case storm:
				e.Kind, e.Class, e.Description = KindPoll, "poll", "Supervision poll"
			case n%10 < 2:
				e.Kind, e.Class, e.Type, e.Priority, e.Code, e.Zone, e.Description = KindAlarm, "burglary", TypeBurglary, 2, "130", fmt.Sprint(n%8), "Burglary"
			case n%10 < 6:
				e.Kind, e.Class, e.Description = KindPoll, "poll", "Supervision poll"
			default:
				e.Kind, e.Class, e.Code, e.Description = KindInfo, "openclose", "401", "Open/close"
			}
			evs[j] = e
		}
		if err := s.Ingest(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}
