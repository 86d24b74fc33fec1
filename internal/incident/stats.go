package incident

import (
	"context"
	"fmt"
	"sort"
	"time"

	"vigil/internal/store"
)

// Count is a label with a number of incidents.
type Count struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	N     int    `json:"n"`
}

// Stats are incident counts over a period.
type Stats struct {
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Total      int       `json:"total"`
	ByType     []Count   `json:"by_type"`
	BySite     []Count   `json:"by_site"`
	BySeverity []Count   `json:"by_severity"`
	ByMonth    []Count   `json:"by_month"` // every month of the period, zeros included
	ByStatus   []Count   `json:"by_status"`
}

// Stats counts incidents in scope matching f (f.From/f.To bound the period;
// without them, the twelve months up to now).
func (s *Service) Stats(ctx context.Context, sc Scope, f Filter, now time.Time) (*Stats, error) {
	if f.To.IsZero() {
		f.To = now.UTC()
	}
	if f.From.IsZero() {
		y, m, _ := f.To.AddDate(0, -11, 0).Date()
		f.From = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	}
	if !f.From.Before(f.To) {
		return nil, invalid("from", "must be before to")
	}
	if f.To.Sub(f.From) > 10*366*24*time.Hour {
		return nil, invalid("from", "the period is limited to ten years")
	}
	if f.OrgID != "" {
		sc = sc.Narrow(f.OrgID)
	}
	st := &Stats{From: f.From, To: f.To}
	w, args := sc.where("")
	w += ` AND occurred_at >= ? AND occurred_at < ?`
	args = append(args, f.From, f.To)
	for _, c := range []struct{ col, v string }{{"site_id", f.SiteID}, {"type", f.Type}, {"severity", f.Severity}, {"status", f.Status}, {"officer_id", f.OfficerID}} {
		if c.v != "" {
			w += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	month := `strftime('%Y-%m', occurred_at)`
	if s.DB.Dialect == store.Postgres {
		month = `to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM')`
	}
	// One pass over the period (served by the incidents_stats covering
	// index), grouped by every dimension at once and summed here.
	rows, err := s.DB.Query(ctx, `SELECT type, site_id, severity, status, `+month+`, COUNT(*) FROM incidents WHERE `+w+` GROUP BY 1, 2, 3, 4, 5`, args...)
	if err != nil {
		return nil, fmt.Errorf("incident stats: %w", err)
	}
	byType, bySite, bySev, byStatus, have := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	for rows.Next() {
		var typ, site, sev, status, mon string
		var n int
		if err := rows.Scan(&typ, &site, &sev, &status, &mon, &n); err != nil {
			rows.Close()
			return nil, err
		}
		byType[typ] += n
		bySite[site] += n
		bySev[sev] += n
		byStatus[status] += n
		have[mon] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	counts := func(m map[string]int) []Count {
		out := make([]Count, 0, len(m))
		for k, n := range m {
			out = append(out, Count{Key: k, Label: k, N: n})
		}
		sort.Slice(out, func(a, b int) bool { return out[a].N > out[b].N || out[a].N == out[b].N && out[a].Key < out[b].Key })
		return out
	}
	st.ByType, st.BySite, st.BySeverity, st.ByStatus = counts(byType), counts(bySite), counts(bySev), counts(byStatus)
	for t := time.Date(f.From.Year(), f.From.Month(), 1, 0, 0, 0, 0, time.UTC); t.Before(f.To); t = t.AddDate(0, 1, 0) {
		k := t.Format("2006-01")
		st.ByMonth = append(st.ByMonth, Count{Key: k, Label: t.Format("Jan 2006"), N: have[k]})
	}
	// Severity in its natural order, not by count.
	sev := map[string]int{}
	for _, c := range st.BySeverity {
		sev[c.Key] = c.N
	}
	st.BySeverity = st.BySeverity[:0]
	for _, s := range Severities {
		st.BySeverity = append(st.BySeverity, Count{Key: s.Value, Label: s.Label, N: sev[s.Value]})
	}
	for _, c := range st.ByType {
		st.Total += c.N
	}
	return st, nil
}
