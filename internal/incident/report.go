package incident

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"vigil/internal/incident/pdf"
	"vigil/internal/org"
)

// ReportData is everything an incident's printed forms show.
type ReportData struct {
	I           *Incident
	Org         *org.Org
	Operator    *org.Org // the security company/department, if Org is its client
	Site        *org.Site
	ZoneName    string
	TypeLabel   string
	Log         []*LogEntry
	Attachments []*Attachment
	Revisions   int
	Generated   time.Time
	GeneratedBy string
}

// Load gathers ReportData for i (loaded within the caller's scope).
func (s *Service) Load(ctx context.Context, i *Incident, by string) (*ReportData, error) {
	rd := &ReportData{I: i, Generated: s.Now().UTC(), GeneratedBy: by}
	var err error
	if rd.Org, err = s.Orgs.Org(ctx, []string{i.OrgID}, i.OrgID); err != nil {
		return nil, err
	}
	if rd.Org.ParentID != "" {
		rd.Operator, _ = s.Orgs.Org(ctx, []string{rd.Org.ParentID}, rd.Org.ParentID)
	}
	if rd.Site, err = s.Orgs.Site(ctx, []string{i.OrgID}, i.SiteID); err != nil {
		return nil, err
	}
	if i.ZoneID != "" {
		if z, err := s.Orgs.Zone(ctx, []string{i.OrgID}, i.ZoneID); err == nil {
			rd.ZoneName = z.Name
		}
	}
	types, err := s.Types(ctx, nil, i.OrgID)
	if err != nil {
		return nil, err
	}
	rd.TypeLabel = i.Type
	if t, ok := FindType(types, i.Type); ok {
		rd.TypeLabel = t.Label
	}
	if rd.Log, err = s.Log(ctx, i); err != nil {
		return nil, err
	}
	if rd.Attachments, err = s.Attachments(ctx, i); err != nil {
		return nil, err
	}
	rd.Revisions = i.Revision
	return rd, nil
}

func (rd *ReportData) loc() *time.Location {
	if loc, err := time.LoadLocation(rd.Site.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

func (rd *ReportData) when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.In(rd.loc()).Format("2006-01-02 15:04 MST")
}

func (rd *ReportData) orgLine() string {
	if rd.Operator != nil {
		return rd.Operator.Name + " — for " + rd.Org.Name
	}
	return rd.Org.Name
}

func (rd *ReportData) header(title string) pdf.Header {
	i := rd.I
	stamp := fmt.Sprintf("Revision %d · %s", i.Revision, i.Status.Label())
	if i.ApprovedAt != nil {
		stamp += " " + rd.when(i.ApprovedAt)[:10] + " by " + i.ApprovedBy
	}
	return pdf.Header{Org: rd.orgLine(), Title: title, Ref: i.Ref(), Stamp: stamp,
		Footer: fmt.Sprintf("%s · generated %s by %s · times %s", i.Ref(), rd.Generated.In(rd.loc()).Format("2006-01-02 15:04 MST"), rd.GeneratedBy, rd.Site.Timezone)}
}

// ImageLoader reads a stored JPEG by its SHA-256.
type ImageLoader func(ctx context.Context, sum string) ([]byte, error)

func (s *Service) loadBlob(ctx context.Context, sum string) ([]byte, error) {
	rc, err := s.OpenBlob(ctx, sum)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, MaxUpload))
}

// ReportPDF renders the incident report: header with organisation and
// client, every section, photos, the revision stamp and page numbers.
func (s *Service) ReportPDF(ctx context.Context, rd *ReportData, w io.Writer) error {
	i := rd.I
	d := pdf.New(rd.header("Incident report"))
	d.Text(i.Title, "B", 15, 15, 180, 7.5)
	d.Heading("Summary")
	loc := rd.Site.Name
	if rd.ZoneName != "" {
		loc += " · " + rd.ZoneName
	}
	coords := ""
	if i.Latitude != nil {
		coords = fmt.Sprintf("%.6f, %.6f", *i.Latitude, *i.Longitude)
	}
	d.Facts([]pdf.KV{
		{K: "Report number", V: i.Ref()}, {K: "Status", V: i.Status.Label()},
		{K: "Type", V: rd.TypeLabel}, {K: "Severity", V: SeverityLabel(i.Severity)},
		{K: "Site", V: loc}, {K: "Location", V: i.Location},
		{K: "Address", V: strings.Join(nonBlank(rd.Site.Address, rd.Site.City, rd.Site.Country), ", ")}, {K: "Coordinates", V: coords},
		{K: "Occurred", V: rd.when(&i.OccurredAt)}, {K: "Discovered", V: rd.when(i.DiscoveredAt)},
		{K: "Reported", V: rd.when(&i.ReportedAt)}, {K: "Reporting officer", V: i.OfficerName},
		{K: "Submitted", V: rd.when(i.SubmittedAt)}, {K: "Approved", V: strings.TrimSpace(rd.when(i.ApprovedAt) + " " + i.ApprovedBy)},
	})
	if len(i.Custom) > 0 {
		var kvs []pdf.KV
		keys := make([]string, 0, len(i.Custom))
		for k := range i.Custom {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			kvs = append(kvs, pdf.KV{K: strings.ReplaceAll(k, "_", " "), V: i.Custom[k]})
		}
		d.Facts(kvs)
	}
	d.Heading("Narrative")
	d.Para(i.Narrative)
	if len(i.People) > 0 {
		d.Heading("People involved")
		rows := make([][]string, len(i.People))
		for n, p := range i.People {
			rows[n] = []string{labelOf(PersonRoles, p.Role), p.Name, p.Description, p.Contact}
		}
		d.Table([]pdf.Col{{Head: "Role", Width: 0.13}, {Head: "Name", Width: 0.25}, {Head: "Description", Width: 0.42}, {Head: "Contact", Width: 0.20}}, rows)
	}
	if len(i.Vehicles) > 0 {
		d.Heading("Vehicles")
		rows := make([][]string, len(i.Vehicles))
		for n, v := range i.Vehicles {
			rows[n] = []string{v.Plate, strings.TrimSpace(v.Make + " " + v.Model), v.Colour, v.Description}
		}
		d.Table([]pdf.Col{{Head: "Plate", Width: 0.16}, {Head: "Make / model", Width: 0.26}, {Head: "Colour", Width: 0.13}, {Head: "Description", Width: 0.45}}, rows)
	}
	if len(i.Property) > 0 {
		d.Heading("Property")
		rows := make([][]string, len(i.Property))
		for n, p := range i.Property {
			rows[n] = []string{p.Description, labelOf(PropertyStatuses, p.Status), p.Serial, FormatMoney(p.Value, p.Currency)}
		}
		for cur, v := range i.PropertyTotal() {
			rows = append(rows, []string{"Total", "", "", FormatMoney(v, cur)})
		}
		d.Table([]pdf.Col{{Head: "Item", Width: 0.45}, {Head: "Status", Width: 0.15}, {Head: "Serial", Width: 0.18}, {Head: "Value", Width: 0.22}}, rows)
	}
	if len(i.Injuries) > 0 {
		d.Heading("Injuries")
		rows := make([][]string, len(i.Injuries))
		for n, j := range i.Injuries {
			rows[n] = []string{j.Person, j.Nature, j.Treatment}
		}
		d.Table([]pdf.Col{{Head: "Person", Width: 0.28}, {Head: "Nature of injury", Width: 0.42}, {Head: "Treatment", Width: 0.30}}, rows)
	}
	if i.Damage != "" {
		d.Heading("Damage")
		d.Para(i.Damage)
	}
	if i.Actions != "" {
		d.Heading("Actions taken")
		d.Para(i.Actions)
	}
	pol := i.Police
	if pol.Agency != "" || pol.CaseNumber != "" || i.Insurer.ClaimNumber != "" {
		d.Heading("Law enforcement and insurer")
		d.Facts([]pdf.KV{
			{K: "Agency", V: pol.Agency}, {K: "Officer", V: strings.TrimSpace(pol.OfficerName + nonEmpty(" · badge ", pol.Badge))},
			{K: "Case number", V: pol.CaseNumber}, {K: "Report number", V: pol.ReportNumber},
			{K: "Contacted", V: rd.when(pol.ContactedAt)}, {K: "Arrived", V: rd.when(pol.ArrivedAt)},
			{K: "Insurer", V: i.Insurer.Company}, {K: "Claim number", V: i.Insurer.ClaimNumber},
		})
	}
	if len(i.AlarmIDs) > 0 {
		d.Heading("Linked alarms")
		d.Para(strings.Join(i.AlarmIDs, ", "))
	}
	if len(rd.Log) > 0 {
		d.Heading("Activity log")
		rows := make([][]string, len(rd.Log))
		for n, e := range rd.Log {
			rows[n] = []string{rd.when(&e.At), e.Author, e.Text}
		}
		d.Table([]pdf.Col{{Head: "Time", Width: 0.22}, {Head: "By", Width: 0.20}, {Head: "Entry", Width: 0.58}}, rows)
	}
	var photos []pdf.Photo
	var files [][]string
	for n, a := range rd.Attachments {
		if !a.IsImage() {
			files = append(files, []string{a.Filename, a.ContentType, fmt.Sprintf("%d KB", (a.Size+1023)/1024), a.SHA256})
			continue
		}
		sum := a.PreviewSHA
		if sum == "" {
			sum = a.ThumbSHA256
		}
		data, err := s.loadBlob(ctx, sum)
		if err != nil {
			return fmt.Errorf("photo %s: %w", a.ID, err)
		}
		w, h := a.Width, a.Height
		cap := fmt.Sprintf("Photo %d", n+1)
		if a.Caption != "" {
			cap += ": " + a.Caption
		}
		photos = append(photos, pdf.Photo{JPEG: data, W: w, H: h, Caption: cap + " · " + rd.when(&a.CreatedAt)})
	}
	if len(photos) > 0 {
		d.Heading(fmt.Sprintf("Photos (%d)", len(photos)))
		d.Photos(photos)
	}
	if len(files) > 0 {
		d.Heading("Attachments")
		d.Table([]pdf.Col{{Head: "File", Width: 0.3}, {Head: "Type", Width: 0.18}, {Head: "Size", Width: 0.1}, {Head: "SHA-256", Width: 0.42}}, files)
	}
	d.Heading("Certification")
	d.Note(fmt.Sprintf("This report is revision %d of %s. Earlier revisions are kept unchanged in vigil's revision history and audit log; attachments are identified by their SHA-256 digest.", i.Revision, i.Ref()))
	d.Signature("Reporting officer", "Reviewing supervisor", "Date")
	return d.Write(w)
}

func nonBlank(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// ICS201PDF renders an ICS 201 Incident Briefing from the incident, its log
// and the resources assigned.
func (s *Service) ICS201PDF(ctx context.Context, rd *ReportData, w io.Writer) error {
	i := rd.I
	d := pdf.New(rd.header("ICS 201 — Incident Briefing"))
	d.Text("INCIDENT BRIEFING (ICS 201)", "B", 14, 15, 180, 7)
	d.Box("1. Incident name", i.Title+" ("+i.Ref()+")", 12)
	d.Box("2. Incident number", i.Ref()+nonEmpty(" · police case ", i.Police.CaseNumber), 12)
	d.Box("3. Date/time initiated", rd.when(&i.OccurredAt), 12)
	loc := rd.Site.Name + nonEmpty(", ", rd.Site.Address) + nonEmpty(", ", rd.Site.City) + nonEmpty(" · ", i.Location)
	if i.Latitude != nil {
		loc += fmt.Sprintf(" · %.6f, %.6f", *i.Latitude, *i.Longitude)
	}
	d.Box("4. Map/sketch — location", loc, 14)
	d.Box("5. Situation summary and health and safety briefing", i.Narrative+nonEmpty("\n\nDamage: ", i.Damage)+injurySummary(i), 40)
	d.Box("6. Current and planned objectives", i.Objectives, 24)
	d.Box("7. Current and planned actions, strategies and tactics", i.Actions, 24)
	d.Heading("Actions (time · action)")
	var rows [][]string
	for _, e := range rd.Log {
		rows = append(rows, []string{rd.when(&e.At), e.Text})
	}
	if len(rows) == 0 {
		rows = [][]string{{"", "No actions logged"}}
	}
	d.Table([]pdf.Col{{Head: "Date/time", Width: 0.25}, {Head: "Action", Width: 0.75}}, rows)
	d.Heading("8. Current organisation")
	rows = rows[:0]
	for _, r := range i.Resources {
		rows = append(rows, []string{r.Position, r.Name, r.Agency, rd.when(&r.AssignedAt)})
	}
	if len(rows) == 0 {
		rows = [][]string{{"Incident Commander", i.OfficerName, rd.orgLine(), rd.when(&i.ReportedAt)}}
	}
	d.Table([]pdf.Col{{Head: "ICS position", Width: 0.3}, {Head: "Name", Width: 0.25}, {Head: "Agency", Width: 0.25}, {Head: "Assigned", Width: 0.2}}, rows)
	d.Heading("9. Resource summary")
	var res [][]string
	if i.Police.Agency != "" {
		res = append(res, []string{i.Police.Agency, strings.TrimSpace(i.Police.OfficerName + nonEmpty(" #", i.Police.Badge)), rd.when(i.Police.ContactedAt), rd.when(i.Police.ArrivedAt)})
	}
	for _, r := range i.Resources {
		res = append(res, []string{r.Agency, r.Name + " (" + r.Position + ")", rd.when(&r.AssignedAt), rd.when(&r.AssignedAt)})
	}
	if len(res) == 0 {
		res = [][]string{{"", "No external resources", "", ""}}
	}
	d.Table([]pdf.Col{{Head: "Resource / agency", Width: 0.3}, {Head: "Identifier", Width: 0.3}, {Head: "Ordered", Width: 0.2}, {Head: "On scene", Width: 0.2}}, res)
	d.Box("Prepared by (name, position, signature, date/time)", rd.GeneratedBy+" · "+rd.Generated.In(rd.loc()).Format("2006-01-02 15:04 MST"), 14)
	return d.Write(w)
}

func injurySummary(i *Incident) string {
	if len(i.Injuries) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n\nInjuries:")
	for _, j := range i.Injuries {
		b.WriteString("\n• " + j.Person + ": " + j.Nature + nonEmpty(" (", j.Treatment) + map[bool]string{true: ")", false: ""}[j.Treatment != ""])
	}
	return b.String()
}

// ICS214PDF renders an ICS 214 Activity Log: the resources assigned and
// the incident's notable activities.
func (s *Service) ICS214PDF(ctx context.Context, rd *ReportData, w io.Writer) error {
	i := rd.I
	d := pdf.New(rd.header("ICS 214 — Activity Log"))
	d.Text("ACTIVITY LOG (ICS 214)", "B", 14, 15, 180, 7)
	from, to := i.OccurredAt, rd.Generated
	if n := len(rd.Log); n > 0 {
		to = rd.Log[n-1].At
	}
	d.Facts([]pdf.KV{
		{K: "1. Incident name", V: i.Title}, {K: "Incident number", V: i.Ref()},
		{K: "2. Operational period", V: rd.when(&from) + " to " + rd.when(&to)},
		{K: "3. Name", V: i.OfficerName}, {K: "4. ICS position", V: firstPosition(i)}, {K: "5. Home agency (unit)", V: rd.orgLine()},
	})
	d.Heading("6. Resources assigned")
	var rows [][]string
	for _, r := range i.Resources {
		rows = append(rows, []string{r.Name, r.Position, r.Agency})
	}
	if len(rows) == 0 {
		rows = [][]string{{i.OfficerName, "Reporting officer", rd.orgLine()}}
	}
	d.Table([]pdf.Col{{Head: "Name", Width: 0.35}, {Head: "ICS position", Width: 0.3}, {Head: "Home agency (and unit)", Width: 0.35}}, rows)
	d.Heading("7. Activity log")
	rows = rows[:0]
	for _, e := range rd.Log {
		rows = append(rows, []string{rd.when(&e.At), e.Author, e.Text})
	}
	if len(rows) == 0 {
		rows = [][]string{{"", "", "No activities logged"}}
	}
	d.Table([]pdf.Col{{Head: "Date/time", Width: 0.22}, {Head: "By", Width: 0.18}, {Head: "Notable activities", Width: 0.6}}, rows)
	d.Box("8. Prepared by (name, position/title, signature, date/time)", rd.GeneratedBy+" · "+rd.Generated.In(rd.loc()).Format("2006-01-02 15:04 MST"), 14)
	return d.Write(w)
}

func firstPosition(i *Incident) string {
	for _, r := range i.Resources {
		if r.Name == i.OfficerName {
			return r.Position
		}
	}
	return "Reporting officer"
}

// DARPDF renders a daily activity report.
func (s *Service) DARPDF(ctx context.Context, dar *DAR, orgName, by string, w io.Writer) error {
	loc := siteLoc(dar.site)
	now := s.Now()
	stamp := "Not approved"
	if dar.ApprovedAt != nil {
		stamp = "Approved " + dar.ApprovedAt.In(loc).Format("2006-01-02 15:04") + " by " + dar.ApprovedBy
	}
	d := pdf.New(pdf.Header{Org: orgName, Title: "Daily activity report · " + dar.SiteName, Ref: "DAR " + dar.Day, Stamp: stamp,
		Footer: fmt.Sprintf("DAR %s %s · generated %s by %s · times in %s", dar.SiteName, dar.Day, now.In(loc).Format("2006-01-02 15:04 MST"), by, dar.Timezone)})
	d.Text("Daily activity report — "+dar.SiteName+", "+dar.Day, "B", 14, 15, 180, 7)
	officers := map[string]bool{}
	for _, e := range dar.Entries {
		officers[e.OfficerName] = true
	}
	names := make([]string, 0, len(officers))
	for n := range officers {
		names = append(names, n)
	}
	sort.Strings(names)
	d.Facts([]pdf.KV{{K: "Site", V: dar.SiteName}, {K: "Date", V: dar.Day}, {K: "Entries", V: fmt.Sprint(len(dar.Entries))},
		{K: "Incidents", V: fmt.Sprint(len(dar.Incidents))}, {K: "Officers", V: strings.Join(names, ", ")}, {K: "Status", V: stamp}})
	d.Heading("Activity")
	var rows [][]string
	var photos []pdf.Photo
	for _, e := range dar.Entries {
		t := e.Text
		if e.Attachment != nil && e.Attachment.IsImage() {
			if data, err := s.loadBlob(ctx, firstNonEmpty(e.Attachment.PreviewSHA, e.Attachment.ThumbSHA256)); err == nil {
				photos = append(photos, pdf.Photo{JPEG: data, W: e.Attachment.Width, H: e.Attachment.Height,
					Caption: e.At.In(loc).Format("15:04") + " " + e.OfficerName + nonEmpty(": ", e.Text)})
				t = strings.TrimSpace(t + fmt.Sprintf(" [photo %d]", len(photos)))
			}
		}
		rows = append(rows, []string{e.At.In(loc).Format("15:04"), labelOf(DARKinds, e.Kind), e.OfficerName, t})
	}
	if len(rows) == 0 {
		rows = [][]string{{"", "", "", "No activity logged"}}
	}
	d.Table([]pdf.Col{{Head: "Time", Width: 0.1}, {Head: "Kind", Width: 0.16}, {Head: "Officer", Width: 0.2}, {Head: "Entry", Width: 0.54}}, rows)
	if len(dar.Incidents) > 0 {
		d.Heading("Incidents")
		rows = rows[:0]
		for _, i := range dar.Incidents {
			rows = append(rows, []string{i.OccurredAt.In(loc).Format("15:04"), i.Ref(), i.Type, SeverityLabel(i.Severity), i.Title})
		}
		d.Table([]pdf.Col{{Head: "Time", Width: 0.1}, {Head: "Report", Width: 0.15}, {Head: "Type", Width: 0.18}, {Head: "Severity", Width: 0.12}, {Head: "Title", Width: 0.45}}, rows)
	}
	if len(photos) > 0 {
		d.Heading("Photos")
		d.Photos(photos)
	}
	d.Signature("Site supervisor", "Client representative", "Date")
	return d.Write(w)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// RenderPDF runs one of the report functions into memory (for email).
func RenderPDF(fn func(w io.Writer) error) ([]byte, error) {
	var b bytes.Buffer
	err := fn(&b)
	return b.Bytes(), err
}
