package investigation

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image/jpeg"
	"image/png"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"

	"vigil/internal/auth"
	"vigil/internal/incident/pdf"
)

// QR returns a PNG QR code of content (an evidence label's link), size px square.
func QR(content string, size int) ([]byte, error) {
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		return nil, err
	}
	if code, err = barcode.Scale(code, size, size); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, code); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Count is a labelled number.
type Count struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	N     int    `json:"n"`
}

// Stats are the figures over the cases a caller may see.
type Stats struct {
	Total             int     `json:"total"`
	Open              int     `json:"open"`
	Closed            int     `json:"closed"`
	Overdue           int     `json:"overdue"`
	ByType            []Count `json:"by_type"`
	ByStatus          []Count `json:"by_status"`
	ByOutcome         []Count `json:"by_outcome"`
	BySource          []Count `json:"by_source"`
	MeanDaysToClose   float64 `json:"mean_days_to_close"`
	MedianDaysToClose float64 `json:"median_days_to_close"`
}

// Statistics computes Stats over the cases p may see in orgID ("" = all),
// in SQL so that no case count is too large for it.
func (s *Service) Statistics(ctx context.Context, p *auth.Principal, orgID string) (*Stats, error) {
	cond, args, err := s.visibility(ctx, p)
	if err != nil {
		return nil, err
	}
	if orgID != "" {
		cond += ` AND c.org_id = ?`
		args = append(args, orgID)
	}
	st := &Stats{}
	byType, byStatus, bySource, byOutcome := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	rows, err := s.DB.Query(ctx, `SELECT c.type, c.status, c.source, COUNT(*) FROM cases c WHERE `+cond+` GROUP BY c.type, c.status, c.source`, args...)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	for rows.Next() {
		var typ, status, source string
		var n int
		if err := rows.Scan(&typ, &status, &source, &n); err != nil {
			rows.Close()
			return nil, err
		}
		byType[typ] += n
		byStatus[status] += n
		bySource[source] += n
		st.Total += n
		if status == "closed" {
			st.Closed += n
		} else {
			st.Open += n
		}
	}
	rows.Close()
	rows, err = s.DB.Query(ctx, `SELECT a.outcome, COUNT(*) FROM case_allegations a JOIN cases c ON c.id = a.case_id WHERE `+cond+` GROUP BY a.outcome`, args...)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			rows.Close()
			return nil, err
		}
		byOutcome[o] = n
	}
	rows.Close()
	rows, err = s.DB.Query(ctx, `SELECT c.created_at, c.closed_at FROM cases c WHERE c.status = 'closed' AND c.closed_at IS NOT NULL AND `+cond, args...)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	var days []float64
	for rows.Next() {
		var opened, closed time.Time
		if err := rows.Scan(&opened, &closed); err != nil {
			rows.Close()
			return nil, err
		}
		days = append(days, closed.Sub(opened).Hours()/24)
	}
	rows.Close()
	if st.Overdue, _, err = s.deadlineCounts(ctx, cond, args, 0); err != nil {
		return nil, err
	}
	counts := func(cs []Choice, m map[string]int) []Count {
		out := make([]Count, 0, len(cs))
		for _, c := range cs {
			out = append(out, Count{c.Value, c.Label, m[c.Value]})
		}
		return out
	}
	st.ByType, st.ByStatus = counts(Types, byType), counts(Statuses, byStatus)
	st.ByOutcome = counts(append(slices.Clone(Outcomes), Choice{"", "Undecided"}), byOutcome)
	st.BySource = counts([]Choice{{"staff", "Staff"}, {"hotline", "Hotline"}}, bySource)
	if len(days) > 0 {
		slices.Sort(days)
		sum := 0.0
		for _, d := range days {
			sum += d
		}
		st.MeanDaysToClose = round1(sum / float64(len(days)))
		m := len(days) / 2
		st.MedianDaysToClose = days[m]
		if len(days)%2 == 0 {
			st.MedianDaysToClose = (days[m-1] + days[m]) / 2
		}
		st.MedianDaysToClose = round1(st.MedianDaysToClose)
	}
	return st, nil
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// WriteCSV exports the cases p may see: one row per case, read a page at
// a time so an export of any size streams.
func (s *Service) WriteCSV(ctx context.Context, w io.Writer, p *auth.Principal, f Filter) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"ref", "id", "org_id", "type", "title", "status", "source", "created_at", "closed_at", "days_to_close", "due_at", "overdue", "time_spent_hours"})
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	const page = 1000
	for f.Offset, f.Limit = 0, page; ; f.Offset += page {
		cases, err := s.Cases(ctx, p, f)
		if err != nil {
			return err
		}
		for _, c := range cases {
			days := ""
			if c.ClosedAt != nil {
				days = strconv.FormatFloat(round1(c.ClosedAt.Sub(c.CreatedAt).Hours()/24), 'f', 1, 64)
			}
			cw.Write([]string{c.Ref(), c.ID, c.OrgID, c.Type, csvSafe(c.Title), c.Status, c.Source, c.CreatedAt.Format(time.RFC3339), ts(c.ClosedAt), days,
				ts(c.DueAt), strconv.FormatBool(c.Overdue || c.AckOverdue || c.FeedbackOverdue), strconv.FormatFloat(float64(c.TimeSpent)/3600, 'f', 2, 64)})
		}
		if len(cases) < page {
			break
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses spreadsheet formula injection in free text.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

func when(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// newDoc starts a report on the shared PDF layout (internal/incident/pdf:
// any script renders, header and "page N of M" footer on every page).
func (s *Service) newDoc(ctx context.Context, c *Case, title, ref, stamp string, p *auth.Principal) *pdf.Doc {
	orgName := c.OrgID
	if o, err := s.Orgs.Org(ctx, []string{c.OrgID}, c.OrgID); err == nil {
		orgName = o.Name
	}
	return pdf.New(pdf.Header{Org: orgName, Title: title, Ref: ref, Stamp: stamp, Portrait: true,
		Footer: fmt.Sprintf("Generated %s by %s · %s", s.Now().UTC().Format("2006-01-02 15:04 UTC"), p.Label(), c.Ref())})
}

// qrJPEG is the QR code as the JPEG the PDF layout embeds.
func qrJPEG(content string) ([]byte, error) {
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		return nil, err
	}
	if code, err = barcode.Scale(code, 300, 300); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = jpeg.Encode(&buf, code, &jpeg.Options{Quality: 95})
	return buf.Bytes(), err
}

// CustodyReport writes the chain-of-custody PDF for one item. It re-verifies
// the file hash and the chain first and prints the result, so the report
// itself is evidence of integrity at the time it was produced.
func (s *Service) CustodyReport(ctx context.Context, w io.Writer, p *auth.Principal, c *Case, ev *Evidence, qrURL string) error {
	ck, err := s.VerifyEvidence(ctx, p, c, ev)
	if err != nil {
		return err
	}
	links, err := s.Chain(ctx, ev)
	if err != nil {
		return err
	}
	stamp := "Integrity verified"
	if !ck.OK {
		stamp = "INTEGRITY FAILURE"
	}
	d := s.newDoc(ctx, c, "Chain of custody", ev.Ref(c), stamp, p)
	d.Heading("Item")
	kv := []pdf.KV{{K: "Exhibit", V: ev.Ref(c)}, {K: "Label", V: ev.Label}, {K: "Kind", V: ev.Kind}, {K: "Registered", V: when(&ev.CreatedAt)},
		{K: "Current holder", V: ev.Holder}, {K: "Location", V: ev.Location}, {K: "Case", V: c.Ref() + " · " + c.TypeLabel()}}
	if ev.Kind == "digital" {
		kv = append(kv, pdf.KV{K: "File", V: fmt.Sprintf("%s (%d bytes, %s)", ev.Filename, ev.Size, ev.ContentType)})
	}
	d.Facts(kv)
	if ev.Description != "" {
		d.Para(ev.Description)
	}
	if ev.SHA256 != "" {
		d.Note("SHA-256 recorded at intake: " + ev.SHA256)
	}
	d.Heading("Integrity, re-verified " + s.Now().UTC().Format("2006-01-02 15:04 UTC"))
	if ck.OK {
		d.Para("VERIFIED: " + ck.Detail + ".")
	} else {
		d.Para("FAILED — TAMPERING OR LOSS DETECTED: " + ck.Detail + ". This failure is recorded in the audit log.")
	}
	d.Heading(fmt.Sprintf("Custody chain (%d entries, append-only, hash-chained)", len(links)))
	rows := make([][]string, 0, len(links))
	for _, l := range links {
		from := l.FromName
		if l.Action == "intake" {
			from = "(intake)"
		}
		rows = append(rows, []string{fmt.Sprint(l.Seq), l.At.UTC().Format("2006-01-02 15:04:05"), from, l.ToName, l.Reason, l.Condition, l.Location, l.SignedBy})
	}
	d.Table([]pdf.Col{{Head: "#", Width: .04}, {Head: "When (UTC)", Width: .15}, {Head: "From", Width: .12}, {Head: "To", Width: .12},
		{Head: "Reason", Width: .18}, {Head: "Condition", Width: .13}, {Head: "Location", Width: .11}, {Head: "Signed by login", Width: .15}}, rows)
	for _, l := range links {
		d.Note(fmt.Sprintf("#%d hash %s", l.Seq, l.Hash))
	}
	if img, err := qrJPEG(qrURL); err == nil {
		d.Heading("Label")
		d.Photos([]pdf.Photo{{JPEG: img, W: 300, H: 300, Caption: ev.Ref(c) + " · " + ev.Label}})
	}
	return d.Write(w)
}

// SummaryReport writes the case summary PDF. shared leaves out internal
// notes, the summary (for hotline cases, the reporter's own words),
// interview statements and hotline messages, for handing to HR, management
// or a client.
func (s *Service) SummaryReport(ctx context.Context, w io.Writer, p *auth.Principal, c *Case, shared bool) error {
	f, err := s.File(ctx, c, shared)
	if err != nil {
		return err
	}
	stamp := "INTERNAL — need to know"
	if shared {
		stamp = "Shareable summary"
	}
	d := s.newDoc(ctx, c, "Case summary: "+c.Title, c.Ref(), stamp, p)
	d.Heading("Case")
	lead := ""
	for _, m := range f.Members {
		if m.Role == "lead" {
			lead = m.Name
		}
	}
	d.Facts([]pdf.KV{{K: "Type", V: c.TypeLabel()}, {K: "Status", V: c.StatusLabel()}, {K: "Source", V: c.Source}, {K: "Lead", V: lead},
		{K: "Opened", V: when(&c.CreatedAt)}, {K: "Closed", V: when(c.ClosedAt)}, {K: "Time spent", V: c.Hours()}, {K: "Root cause", V: c.RootCause}})
	if c.Summary != "" && !shared {
		d.Para(c.Summary)
	}
	d.Heading("Allegations and outcomes")
	rows := [][]string{}
	for i, a := range f.Allegations {
		rows = append(rows, []string{fmt.Sprint(i + 1), a.Text, a.OutcomeLabel()})
	}
	if len(rows) == 0 {
		d.Note("None recorded.")
	} else {
		d.Table([]pdf.Col{{Head: "#", Width: .05}, {Head: "Allegation", Width: .7}, {Head: "Outcome", Width: .25}}, rows)
	}
	d.Heading("Actions")
	rows = rows[:0]
	for _, a := range f.Actions {
		rows = append(rows, []string{a.KindLabel(), a.Stage, a.Description})
	}
	if len(rows) == 0 {
		d.Note("None recorded.")
	} else {
		d.Table([]pdf.Col{{Head: "Action", Width: .25}, {Head: "Stage", Width: .15}, {Head: "Detail", Width: .6}}, rows)
	}
	d.Heading("Evidence")
	rows = rows[:0]
	for _, e := range f.Evidence {
		rows = append(rows, []string{e.Ref(c), e.Label, e.Holder, e.SHA256})
	}
	if len(rows) == 0 {
		d.Note("None registered.")
	} else {
		d.Table([]pdf.Col{{Head: "Exhibit", Width: .14}, {Head: "Item", Width: .26}, {Head: "Held by", Width: .18}, {Head: "SHA-256", Width: .42}}, rows)
	}
	d.Heading("Interviews")
	if len(f.Interviews) == 0 {
		d.Note("None.")
	}
	for _, iv := range f.Interviews {
		st := "scheduled " + when(iv.ScheduledAt)
		if iv.RecordedAt != nil {
			st = "recorded " + when(iv.RecordedAt)
		}
		if iv.Signed {
			st += ", statement signed"
		}
		d.Facts([]pdf.KV{{K: iv.Interviewee, V: st}})
		if !shared && iv.Statement != "" {
			d.Para(iv.Statement)
		}
	}
	d.Heading("Notes")
	if len(f.Notes) == 0 {
		d.Note("None.")
	}
	for _, n := range f.Notes {
		d.Note(n.CreatedAt.Format("2006-01-02") + " · " + n.Author)
		d.Para(n.Body)
	}
	return d.Write(w)
}
