package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"vigil/internal/auth"
	"vigil/internal/org"
	"vigil/internal/store"
)

// DARKinds are the kinds of daily activity report entry.
var DARKinds = []Choice{{"patrol", "Patrol"}, {"observation", "Observation"}, {"visitor", "Visitor"}, {"maintenance", "Maintenance issue"},
	{"incident", "Incident"}, {"photo", "Photo"}, {"note", "Note"}}

// DAREntry is a timestamped line an officer logs during a shift.
type DAREntry struct {
	ID           string      `json:"id"`
	OrgID        string      `json:"org_id"`
	SiteID       string      `json:"site_id"`
	Day          string      `json:"day"` // YYYY-MM-DD in the site's time zone
	At           time.Time   `json:"at"`
	Kind         string      `json:"kind"`
	Text         string      `json:"text"`
	IncidentID   string      `json:"incident_id,omitempty"`
	AttachmentID string      `json:"attachment_id,omitempty"`
	OfficerName  string      `json:"officer_name"`
	Attachment   *Attachment `json:"attachment,omitempty"`
}

// DAR is the daily activity report of a site and day, compiled from the
// entries officers logged and the incidents that occurred that day.
type DAR struct {
	OrgID      string      `json:"org_id"`
	SiteID     string      `json:"site_id"`
	SiteName   string      `json:"site_name"`
	Timezone   string      `json:"timezone"`
	Day        string      `json:"date"`
	Status     string      `json:"status"` // open, approved, sent
	ApprovedBy string      `json:"approved_by,omitempty"`
	ApprovedAt *time.Time  `json:"approved_at,omitempty"`
	SentAt     *time.Time  `json:"sent_at,omitempty"`
	Entries    []*DAREntry `json:"entries"`
	Incidents  []*Incident `json:"incidents"`
	Available  bool        `json:"available"` // false: not yet approved, hidden from the client portal
	site       *org.Site
}

// ParseDay checks a YYYY-MM-DD date.
func ParseDay(s string) (time.Time, error) {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, invalid("date", "must be a date as YYYY-MM-DD")
	}
	return d, nil
}

// dayBounds returns the UTC instants that bound day in loc.
func dayBounds(day string, loc *time.Location) (time.Time, time.Time, error) {
	d, err := ParseDay(day)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	start := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
	return start.UTC(), start.AddDate(0, 0, 1).UTC(), nil
}

func siteLoc(site *org.Site) *time.Location {
	loc, err := time.LoadLocation(site.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// AddDAREntry logs an entry at site (already authorised by the caller).
// A photo entry carries an attachment prepared with Prepare.
func (s *Service) AddDAREntry(ctx context.Context, site *org.Site, e *DAREntry, photo *Attachment, p *auth.Principal) error {
	var err error
	if !has(DARKinds, e.Kind) {
		return invalid("kind", "must be patrol, observation, visitor, maintenance, incident, photo or note")
	}
	if e.Text, err = text("text", e.Text, e.Kind != "photo", 5000); err != nil {
		return err
	}
	now := s.Now().UTC()
	if e.At.IsZero() {
		e.At = now
	}
	if e.At.After(now.Add(FutureTolerance)) {
		return invalid("at", "is in the future")
	}
	if e.At.Before(now.AddDate(0, 0, -31)) {
		return invalid("at", "is more than 31 days ago")
	}
	if e.Kind == "photo" && photo == nil {
		return invalid("file", "a photo entry needs a photo")
	}
	e.At = e.At.UTC().Truncate(time.Second)
	e.OrgID, e.SiteID, e.Day = site.OrgID, site.ID, e.At.In(siteLoc(site)).Format("2006-01-02")
	e.ID, e.OfficerName = store.NewID(), actorName(p)
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if e.IncidentID != "" {
			var n int
			tx.QueryRow(ctx, `SELECT COUNT(*) FROM incidents WHERE id = ? AND org_id = ?`, e.IncidentID, site.OrgID).Scan(&n)
			if n == 0 {
				return invalid("incident_id", "is not a known incident")
			}
		}
		var st string
		err := tx.QueryRow(ctx, `SELECT status FROM dar_reports WHERE site_id = ? AND day = ?`, site.ID, e.Day).Scan(&st)
		if err == nil && st != "open" {
			return invalid("at", "the daily report for "+e.Day+" has already been approved")
		}
		if photo != nil {
			if err := s.insertAttachment(ctx, tx, photo, p); err != nil {
				return err
			}
			e.AttachmentID, e.Attachment = photo.ID, photo
		}
		if _, err := tx.Exec(ctx, `INSERT INTO dar_entries (id, org_id, site_id, day, at, kind, text, incident_id, attachment_id, officer_id, officer_name, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, e.OrgID, e.SiteID, e.Day, e.At, e.Kind, e.Text, e.IncidentID, e.AttachmentID,
			actorID(p), e.OfficerName, now); err != nil {
			return fmt.Errorf("dar entry: %w", err)
		}
		return s.record(ctx, tx, p, site.OrgID, "dar.entry", "dar", site.ID+"/"+e.Day, map[string]any{"id": e.ID, "kind": e.Kind, "at": e.At})
	})
}

// DAR compiles the report for site and day, with the incidents of that
// day the caller may see (sc).
func (s *Service) DAR(ctx context.Context, site *org.Site, day string, sc Scope) (*DAR, error) {
	loc := siteLoc(site)
	from, to, err := dayBounds(day, loc)
	if err != nil {
		return nil, err
	}
	d := &DAR{OrgID: site.OrgID, SiteID: site.ID, SiteName: site.Name, Timezone: site.Timezone, Day: day, Status: "open", site: site}
	var appr, sent sql.NullTime
	err = s.DB.QueryRow(ctx, `SELECT status, approved_by, approved_at, sent_at FROM dar_reports WHERE site_id = ? AND day = ? AND org_id = ?`,
		site.ID, day, site.OrgID).Scan(&d.Status, &d.ApprovedBy, &appr, &sent)
	if err != nil && !errors.Is(store.NotFound(err), store.ErrNotFound) {
		return nil, err
	}
	d.ApprovedAt, d.SentAt = nt(appr), nt(sent)
	rows, err := s.DB.Query(ctx, `SELECT id, at, kind, text, incident_id, attachment_id, officer_name FROM dar_entries
		WHERE site_id = ? AND org_id = ? AND day = ? ORDER BY at, created_at`, site.ID, site.OrgID, day)
	if err != nil {
		return nil, err
	}
	d.Entries = []*DAREntry{}
	for rows.Next() {
		e := &DAREntry{OrgID: site.OrgID, SiteID: site.ID, Day: day}
		if err := rows.Scan(&e.ID, &e.At, &e.Kind, &e.Text, &e.IncidentID, &e.AttachmentID, &e.OfficerName); err != nil {
			rows.Close()
			return nil, err
		}
		e.At = e.At.UTC()
		d.Entries = append(d.Entries, e)
	}
	rows.Close()
	for _, e := range d.Entries {
		if e.AttachmentID != "" {
			if e.Attachment, err = s.Attachment(ctx, site.OrgID, e.AttachmentID); err != nil {
				return nil, err
			}
		}
	}
	d.Incidents, err = s.List(ctx, sc.Narrow(site.OrgID), Filter{SiteID: site.ID, From: from, To: to}, Page{Limit: 500})
	if err != nil {
		return nil, err
	}
	if d.Incidents == nil {
		d.Incidents = []*Incident{}
	}
	d.Available = true
	return d, nil
}

// SetDARStatus approves a DAR or marks it sent (status "approved" or "sent").
func (s *Service) SetDARStatus(ctx context.Context, d *DAR, status string, p *auth.Principal) error {
	now := s.Now().UTC()
	switch status {
	case "approved":
		if d.Status != "open" {
			return invalid("status", "the daily report is already "+d.Status)
		}
		if len(d.Entries) == 0 && len(d.Incidents) == 0 {
			return invalid("date", "there is nothing to approve: no entries and no incidents that day")
		}
		d.ApprovedBy, d.ApprovedAt = actorName(p), &now
	case "sent":
		if d.Status == "open" {
			return invalid("status", "approve the daily report before sending it")
		}
		d.SentAt = &now
	default:
		return invalid("status", "must be approved or sent")
	}
	d.Status = status
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO dar_reports (id, org_id, site_id, day, status, approved_by, approved_at, sent_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (site_id, day) DO UPDATE SET status = excluded.status, approved_by = excluded.approved_by,
			approved_at = excluded.approved_at, sent_at = excluded.sent_at`,
			store.NewID(), d.OrgID, d.SiteID, d.Day, d.Status, d.ApprovedBy, timeOrNil(d.ApprovedAt), timeOrNil(d.SentAt), now)
		if err != nil {
			return fmt.Errorf("dar status: %w", err)
		}
		return s.record(ctx, tx, p, d.OrgID, "dar."+status, "dar", d.SiteID+"/"+d.Day, map[string]any{"entries": len(d.Entries), "incidents": len(d.Incidents)})
	})
}

// DARAttachment returns a photo logged in a DAR within orgs, with the site
// and day of its entry.
func (s *Service) DARAttachment(ctx context.Context, orgs []string, id string) (*Attachment, string, string, error) {
	ph, args := in(orgs)
	var siteID, day, orgID string
	err := s.DB.QueryRow(ctx, `SELECT site_id, day, org_id FROM dar_entries WHERE attachment_id = ? AND org_id IN (`+ph+`)`, append([]any{id}, args...)...).Scan(&siteID, &day, &orgID)
	if err != nil {
		return nil, "", "", store.NotFound(err)
	}
	a, err := s.Attachment(ctx, orgID, id)
	return a, siteID, day, err
}
