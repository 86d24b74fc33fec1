package investigation

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image/png"
	"io"
	"slices"
	"strconv"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"

	"vigil/internal/auth"
	"vigil/internal/investigation/custody"
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

// Statistics computes Stats over the cases p may see in orgID ("" = all).
func (s *Service) Statistics(ctx context.Context, p *auth.Principal, orgID string) (*Stats, error) {
	cases, err := s.Cases(ctx, p, Filter{OrgID: orgID, Limit: 10000})
	if err != nil {
		return nil, err
	}
	st := &Stats{Total: len(cases)}
	byType, byStatus, bySource := map[string]int{}, map[string]int{}, map[string]int{}
	var days []float64
	for _, c := range cases {
		byType[c.Type]++
		byStatus[c.Status]++
		bySource[c.Source]++
		if c.Status == "closed" && c.ClosedAt != nil {
			st.Closed++
			days = append(days, c.ClosedAt.Sub(c.CreatedAt).Hours()/24)
		} else {
			st.Open++
		}
		if c.Overdue || c.AckOverdue || c.FeedbackOverdue {
			st.Overdue++
		}
	}
	cond, args, err := s.visibility(ctx, p)
	if err != nil {
		return nil, err
	}
	q := `SELECT a.outcome, COUNT(*) FROM case_allegations a JOIN cases c ON c.id = a.case_id WHERE ` + cond
	if orgID != "" {
		q += ` AND c.org_id = ?`
		args = append(args, orgID)
	}
	rows, err := s.DB.Query(ctx, q+` GROUP BY a.outcome`, args...)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	byOutcome := map[string]int{}
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

// WriteCSV exports the cases p may see: one row per case.
func (s *Service) WriteCSV(ctx context.Context, w io.Writer, p *auth.Principal, f Filter) error {
	f.Limit = 10000
	cases, err := s.Cases(ctx, p, f)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"ref", "id", "org_id", "type", "title", "status", "source", "created_at", "closed_at", "days_to_close", "due_at", "overdue", "time_spent_hours"})
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, c := range cases {
		days := ""
		if c.ClosedAt != nil {
			days = strconv.FormatFloat(round1(c.ClosedAt.Sub(c.CreatedAt).Hours()/24), 'f', 1, 64)
		}
		cw.Write([]string{c.Ref(), c.ID, c.OrgID, c.Type, csvSafe(c.Title), c.Status, c.Source, c.CreatedAt.Format(time.RFC3339), ts(c.ClosedAt), days,
			ts(c.DueAt), strconv.FormatBool(c.Overdue || c.AckOverdue || c.FeedbackOverdue), strconv.FormatFloat(float64(c.TimeSpent)/3600, 'f', 2, 64)})
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

// pdfDoc is the small shared layout of vigil's investigation reports.
type pdfDoc struct {
	*fpdf.Fpdf
	tr func(string) string
}

func newPDF(title, sub string, at time.Time) *pdfDoc {
	f := fpdf.New("P", "mm", "A4", "")
	d := &pdfDoc{Fpdf: f, tr: f.UnicodeTranslatorFromDescriptor("")}
	f.SetTitle(title, true)
	f.SetCreator("vigil", true)
	f.SetCreationDate(at)
	f.SetModificationDate(at)
	f.SetFooterFunc(func() {
		f.SetY(-12)
		f.SetFont("Helvetica", "I", 8)
		f.CellFormat(0, 8, d.tr(fmt.Sprintf("%s · generated %s UTC · page %d/{nb}", title, at.UTC().Format("2006-01-02 15:04"), f.PageNo())), "", 0, "C", false, 0, "")
	})
	f.AliasNbPages("")
	f.AddPage()
	f.SetFont("Helvetica", "B", 16)
	f.MultiCell(0, 8, d.tr(title), "", "L", false)
	f.SetFont("Helvetica", "", 10)
	f.MultiCell(0, 5, d.tr(sub), "", "L", false)
	f.Ln(3)
	return d
}

func (d *pdfDoc) heading(s string) {
	d.Ln(2)
	d.SetFont("Helvetica", "B", 12)
	d.MultiCell(0, 7, d.tr(s), "B", "L", false)
	d.SetFont("Helvetica", "", 9)
	d.Ln(1)
}

func (d *pdfDoc) field(k, v string) {
	d.SetFont("Helvetica", "B", 9)
	d.CellFormat(45, 5, d.tr(k), "", 0, "L", false, 0, "")
	d.SetFont("Helvetica", "", 9)
	d.MultiCell(0, 5, d.tr(v), "", "L", false)
}

func (d *pdfDoc) para(s string) {
	d.SetFont("Helvetica", "", 9)
	d.MultiCell(0, 5, d.tr(s), "", "L", false)
}

func when(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
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
	now := s.Now().UTC()
	d := newPDF("Chain of custody "+ev.Ref(c), fmt.Sprintf("%s · %s · prepared by %s", c.Ref(), c.TypeLabel(), p.Label()), now)
	if png, err := QR(qrURL, 256); err == nil {
		d.RegisterImageOptionsReader("qr", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(png))
		d.ImageOptions("qr", 165, 12, 32, 32, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	}
	d.heading("Item")
	d.field("Exhibit", ev.Ref(c))
	d.field("Label", ev.Label)
	d.field("Kind", ev.Kind)
	if ev.Description != "" {
		d.field("Description", ev.Description)
	}
	if ev.Kind == "digital" {
		d.field("File", fmt.Sprintf("%s (%d bytes, %s)", ev.Filename, ev.Size, ev.ContentType))
		d.field("SHA-256 at intake", ev.SHA256)
	}
	d.field("Registered", when(&ev.CreatedAt))
	d.field("Current holder", ev.Holder)
	d.field("Location", ev.Location)
	d.heading("Integrity")
	result := "VERIFIED: " + ck.Detail
	if !ck.OK {
		result = "FAILED — TAMPERING OR LOSS DETECTED: " + ck.Detail
		d.SetTextColor(180, 0, 0)
	}
	d.field("Re-verified "+now.Format("2006-01-02 15:04"), result)
	d.SetTextColor(0, 0, 0)
	d.heading(fmt.Sprintf("Custody chain (%d entries)", len(links)))
	for _, l := range links {
		d.custodyLink(l)
	}
	return d.Output(w)
}

func (d *pdfDoc) custodyLink(l custody.Link) {
	d.SetFont("Helvetica", "B", 9)
	from := l.FromName
	if l.Action == "intake" {
		from = "(intake)"
	}
	d.MultiCell(0, 5, d.tr(fmt.Sprintf("#%d  %s  %s → %s", l.Seq, l.At.UTC().Format("2006-01-02 15:04:05 UTC"), from, l.ToName)), "T", "L", false)
	d.SetFont("Helvetica", "", 9)
	d.MultiCell(0, 5, d.tr(fmt.Sprintf("Reason: %s", l.Reason)), "", "L", false)
	if l.Condition != "" {
		d.MultiCell(0, 5, d.tr("Condition: "+l.Condition), "", "L", false)
	}
	if l.Location != "" {
		d.MultiCell(0, 5, d.tr("Location: "+l.Location), "", "L", false)
	}
	d.MultiCell(0, 5, d.tr("Signed by login of "+l.SignedBy), "", "L", false)
	d.SetFont("Courier", "", 7)
	d.MultiCell(0, 4, "hash "+l.Hash, "", "L", false)
	d.SetFont("Helvetica", "", 9)
}

// SummaryReport writes the case summary PDF. shared leaves out internal
// notes, interview statements and hotline messages, for handing to HR,
// management or a client.
func (s *Service) SummaryReport(ctx context.Context, w io.Writer, p *auth.Principal, c *Case, shared bool) error {
	f, err := s.File(ctx, c, shared)
	if err != nil {
		return err
	}
	audience := "INTERNAL — need to know"
	if shared {
		audience = "Shareable summary"
	}
	d := newPDF(fmt.Sprintf("Case %s: %s", c.Ref(), c.Title), fmt.Sprintf("%s · %s · prepared by %s", audience, c.TypeLabel(), p.Label()), s.Now().UTC())
	d.heading("Case")
	d.field("Status", c.StatusLabel())
	d.field("Source", c.Source)
	d.field("Opened", when(&c.CreatedAt))
	d.field("Closed", when(c.ClosedAt))
	for _, m := range f.Members {
		if m.Role == "lead" {
			d.field("Lead investigator", m.Name)
		}
	}
	d.field("Time spent", fmt.Sprintf("%.1f hours", float64(c.TimeSpent)/3600))
	if c.Summary != "" && !shared {
		d.field("Summary", c.Summary)
	}
	if c.RootCause != "" {
		d.field("Root cause", c.RootCause)
	}
	d.heading("Allegations and outcomes")
	if len(f.Allegations) == 0 {
		d.para("None recorded.")
	}
	for i, a := range f.Allegations {
		d.field(fmt.Sprintf("%d. %s", i+1, a.OutcomeLabel()), a.Text)
	}
	d.heading("Actions")
	if len(f.Actions) == 0 {
		d.para("None recorded.")
	}
	for _, a := range f.Actions {
		d.field(a.KindLabel()+" ("+a.Stage+")", a.Description)
	}
	d.heading("Evidence")
	if len(f.Evidence) == 0 {
		d.para("None registered.")
	}
	for _, e := range f.Evidence {
		v := e.Label
		if e.SHA256 != "" {
			v += " · SHA-256 " + e.SHA256
		}
		v += " · held by " + e.Holder
		d.field(e.Ref(c), v)
	}
	d.heading("Interviews")
	if len(f.Interviews) == 0 {
		d.para("None.")
	}
	for _, iv := range f.Interviews {
		st := "scheduled " + when(iv.ScheduledAt)
		if iv.RecordedAt != nil {
			st = "recorded " + when(iv.RecordedAt)
		}
		if iv.Signed {
			st += ", statement signed"
		}
		d.field(iv.Interviewee, st)
		if !shared && iv.Statement != "" {
			d.para(iv.Statement)
		}
	}
	d.heading("Notes")
	if len(f.Notes) == 0 {
		d.para("None.")
	}
	for _, n := range f.Notes {
		d.field(n.CreatedAt.Format("2006-01-02")+" "+n.Author, n.Body)
	}
	return d.Output(w)
}
