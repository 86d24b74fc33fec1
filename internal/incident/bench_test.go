package incident

import (
	"bytes"
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"vigil/internal/blob"
	"vigil/internal/org"
	"vigil/internal/store"
)

// BenchmarkLargeDB measures search, list and PDF latency on a database
// seeded with `vigil demo --incidents 1000000`. It runs only when
// VIGIL_BENCH_DB names that database (a SQLite file or a postgres:// DSN):
//
//	VIGIL_BENCH_DB=/data/vigil.db go test -run X -bench LargeDB -benchtime 200x ./internal/incident/
//
// Each sub-benchmark reports p50 and p99 in milliseconds over its queries.
func BenchmarkLargeDB(b *testing.B) {
	dsn := os.Getenv("VIGIL_BENCH_DB")
	if dsn == "" {
		b.Skip("VIGIL_BENCH_DB not set")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	orgs := &org.Service{DB: db, Now: time.Now}
	s := &Service{DB: db, Now: time.Now, Orgs: orgs, Blob: blob.FS{Dir: b.TempDir()}}
	var clients []string
	rows, err := db.Query(ctx, `SELECT id FROM orgs WHERE kind = 'client' ORDER BY name`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		clients = append(clients, id)
	}
	rows.Close()
	if len(clients) == 0 {
		b.Fatal("no client organisations: seed with vigil demo --incidents N")
	}
	var total int
	db.QueryRow(ctx, `SELECT COUNT(*) FROM incidents`).Scan(&total)
	b.Logf("%s database, %d incidents, %d client organisations", db.Dialect, total, len(clients))
	operator := Scope{Full: clients}
	portal := Scope{Approved: clients[:1]}
	var site string
	db.QueryRow(ctx, `SELECT site_id FROM incidents WHERE org_id = ? LIMIT 1`, clients[0]).Scan(&site)

	measure := func(b *testing.B, cases []func() error) {
		var lat []time.Duration
		n := 0
		for b.Loop() {
			start := time.Now()
			if err := cases[n%len(cases)](); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
			n++
		}
		slices.Sort(lat)
		q := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
		b.ReportMetric(q(0.5), "p50-ms")
		b.ReportMetric(q(0.99), "p99-ms")
		b.ReportMetric(0, "ns/op")
	}
	list := func(sc Scope, f Filter, off int) func() error {
		return func() error {
			_, err := s.List(ctx, sc, f, Page{Limit: 51, Offset: off})
			return err
		}
	}
	b.Run("search", func(b *testing.B) {
		var cases []func() error
		for _, q := range []string{"laptop", "stolen", "north fence", "Kowalski", "李娜", "Παπαδόπουλος", "crowbar", "gate patrol", "fire extinguisher", "Tanaka"} {
			cases = append(cases, list(operator, Filter{Q: q}, 0), list(portal, Filter{Q: q}, 0))
		}
		cases = append(cases, list(operator, Filter{Q: "stolen", Type: "theft", Severity: "high"}, 0))
		measure(b, cases)
	})
	b.Run("list", func(b *testing.B) {
		measure(b, []func() error{
			list(operator, Filter{}, 0), list(portal, Filter{}, 0), list(operator, Filter{}, 500),
			list(operator, Filter{Status: "draft"}, 0), list(operator, Filter{Type: "fire"}, 0), list(operator, Filter{SiteID: site}, 0),
			list(operator, Filter{Severity: "critical", OrgID: clients[0]}, 0),
			list(operator, Filter{From: time.Now().AddDate(0, -1, 0)}, 0),
		})
	})
	b.Run("report.pdf", func(b *testing.B) {
		items, err := s.List(ctx, operator, Filter{}, Page{Limit: 20})
		if err != nil || len(items) == 0 {
			b.Fatal("no incidents", err)
		}
		var cases []func() error
		for _, it := range items {
			id := it.ID
			cases = append(cases, func() error {
				i, err := s.Get(ctx, operator, id)
				if err != nil {
					return err
				}
				rd, err := s.Load(ctx, i, "bench")
				if err != nil {
					return err
				}
				return s.ReportPDF(ctx, rd, &bytes.Buffer{})
			})
		}
		measure(b, cases)
	})
}
