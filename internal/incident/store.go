package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"vigil/internal/audit"
	"vigil/internal/auth"
	"vigil/internal/blob"
	"vigil/internal/org"
	"vigil/internal/store"
)

// Service stores incidents, DARs and everything attached to them. Every
// read takes the caller's scope explicitly.
type Service struct {
	DB   *store.DB
	Now  func() time.Time
	Orgs *org.Service
	Blob blob.Store
	Mail *Mailer // nil or unconfigured: notifications are recorded, not sent
}

// Scope is what a caller may read: every report of the Full organisations,
// and only approved or closed reports of the Approved ones (the client
// portal). It is built from auth.Can so permissions stay in one place.
type Scope struct {
	Full, Approved []string
}

// ScopeOf builds p's read scope.
func ScopeOf(p *auth.Principal) Scope {
	full := p.OrgsWhere(auth.IncidentReadAll)
	var appr []string
	for _, o := range p.OrgsWhere(auth.IncidentRead) {
		if !slices.Contains(full, o) {
			appr = append(appr, o)
		}
	}
	return Scope{Full: full, Approved: appr}
}

// Empty reports whether the scope covers nothing.
func (s Scope) Empty() bool { return len(s.Full) == 0 && len(s.Approved) == 0 }

// Narrow keeps only org (for a filter on one organisation).
func (s Scope) Narrow(org string) Scope {
	var out Scope
	if slices.Contains(s.Full, org) {
		out.Full = []string{org}
	} else if slices.Contains(s.Approved, org) {
		out.Approved = []string{org}
	}
	return out
}

// where returns the SQL condition (on alias a) and arguments for the scope.
func (s Scope) where(a string) (string, []any) {
	var parts []string
	var args []any
	// One organisation is written "org_id = ?": SQLite's planner then
	// weighs the (org_id, column, occurred_at) indexes properly, which it
	// does not for a one-element IN list.
	orgIn := func(ids []string) string {
		if len(ids) == 1 {
			args = append(args, ids[0])
			return a + "org_id = ?"
		}
		ph, xs := in(ids)
		args = append(args, xs...)
		return a + "org_id IN (" + ph + ")"
	}
	if len(s.Full) > 0 {
		parts = append(parts, orgIn(s.Full))
	}
	if len(s.Approved) > 0 {
		parts = append(parts, "("+orgIn(s.Approved)+" AND "+a+"status IN ('approved', 'closed'))")
	}
	if len(parts) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

// in is store.In, named short for the many scoped queries.
var in = store.In

func (s *Service) record(ctx context.Context, tx *store.Tx, p *auth.Principal, org, action, typ, id string, data any) error {
	e := audit.Entry{OrgID: org, At: s.Now(), Actor: p.Label(), Action: action, ObjectType: typ, ObjectID: id, Data: data}
	if p != nil {
		e.ActorID = p.UserID
	}
	return audit.Append(ctx, tx, e)
}

func actorID(p *auth.Principal) string {
	if p == nil {
		return ""
	}
	return p.UserID
}

func actorName(p *auth.Principal) string {
	if p == nil {
		return "system"
	}
	if p.Name != "" {
		return p.Name
	}
	return p.Email
}

// ---- types ----

// Types returns the organisation's incident types: the default taxonomy
// overlaid with the organisation's own rows (which may relabel, deactivate
// or add types).
func (s *Service) Types(ctx context.Context, q store.Querier, orgID string) ([]Type, error) {
	if q == nil {
		q = dbq{s.DB}
	}
	rows, err := q.Query(ctx, `SELECT code, label, fields, active FROM incident_types WHERE org_id = ? ORDER BY position, label`, orgID)
	if err != nil {
		return nil, fmt.Errorf("incident types: %w", err)
	}
	defer rows.Close()
	out := slices.Clone(DefaultTypes)
	for rows.Next() {
		var t Type
		var fields string
		if err := rows.Scan(&t.Code, &t.Label, &fields, &t.Active); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(fields), &t.Fields); err != nil {
			return nil, fmt.Errorf("incident type %s: %w", t.Code, err)
		}
		if d, ok := FindType(out, t.Code); ok {
			*d = t
		} else {
			out = append(out, t)
		}
	}
	return out, rows.Err()
}

// SaveType adds or replaces an organisation's incident type.
func (s *Service) SaveType(ctx context.Context, orgID string, t *Type, p *auth.Principal) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if t.Fields == nil {
		t.Fields = []FieldDef{}
	}
	fields, _ := json.Marshal(t.Fields)
	now := s.Now().UTC()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO incident_types (id, org_id, code, label, fields, active, position, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)
			ON CONFLICT (org_id, code) DO UPDATE SET label = excluded.label, fields = excluded.fields, active = excluded.active, updated_at = excluded.updated_at`,
			store.NewID(), orgID, t.Code, t.Label, string(fields), t.Active, now, now)
		if err != nil {
			return fmt.Errorf("save incident type: %w", err)
		}
		return s.record(ctx, tx, p, orgID, "incident_type.save", "incident_type", t.Code, t)
	})
}

// dbq adapts *store.DB to store.Querier for reads outside a transaction.
type dbq struct{ *store.DB }

func (d dbq) Dialect() store.Dialect { return d.DB.Dialect }

// ---- incidents ----

const incidentCols = `id, org_id, site_id, COALESCE(zone_id, ''), number, type, severity, status, title, narrative, occurred_at, reported_at,
	discovered_at, latitude, longitude, officer_id, officer_name, details, ics, revision, review_comment, submitted_at, approved_at,
	approved_by, closed_at, created_at, updated_at`

const summaryCols = `id, org_id, site_id, number, type, severity, status, title, occurred_at, officer_name, updated_at`

type scanner interface{ Scan(...any) error }

func nt(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func scanIncident(sc scanner) (*Incident, error) {
	var i Incident
	var disc, sub, appr, closed sql.NullTime
	var lat, lon sql.NullFloat64
	var details string
	err := sc.Scan(&i.ID, &i.OrgID, &i.SiteID, &i.ZoneID, &i.Number, &i.Type, &i.Severity, &i.Status, &i.Title, &i.Narrative,
		&i.OccurredAt, &i.ReportedAt, &disc, &lat, &lon, &i.OfficerID, &i.OfficerName, &details, &i.ICS, &i.Revision,
		&i.ReviewComment, &sub, &appr, &i.ApprovedBy, &closed, &i.CreatedAt, &i.UpdatedAt)
	if err != nil {
		return nil, store.NotFound(err)
	}
	if err := json.Unmarshal([]byte(details), &i.Details); err != nil {
		return nil, fmt.Errorf("incident %s details: %w", i.ID, err)
	}
	i.DiscoveredAt, i.SubmittedAt, i.ApprovedAt, i.ClosedAt = nt(disc), nt(sub), nt(appr), nt(closed)
	if lat.Valid && lon.Valid {
		i.Latitude, i.Longitude = &lat.Float64, &lon.Float64
	}
	i.OccurredAt, i.ReportedAt, i.CreatedAt, i.UpdatedAt = i.OccurredAt.UTC(), i.ReportedAt.UTC(), i.CreatedAt.UTC(), i.UpdatedAt.UTC()
	i.normalise()
	return &i, nil
}

// normalise makes nil lists empty so JSON shows [] and templates range safely.
func (i *Incident) normalise() {
	if i.People == nil {
		i.People = []Person{}
	}
	if i.Vehicles == nil {
		i.Vehicles = []Vehicle{}
	}
	if i.Property == nil {
		i.Property = []Property{}
	}
	if i.Injuries == nil {
		i.Injuries = []Injury{}
	}
	if i.AlarmIDs == nil {
		i.AlarmIDs = []string{}
	}
	if i.Custom == nil {
		i.Custom = map[string]string{}
	}
	if i.ClientEmails == nil {
		i.ClientEmails = []string{}
	}
	if i.Resources == nil {
		i.Resources = []Resource{}
	}
}

func scanSummary(sc scanner) (*Incident, error) {
	var i Incident
	if err := sc.Scan(&i.seq, &i.ID, &i.OrgID, &i.SiteID, &i.Number, &i.Type, &i.Severity, &i.Status, &i.Title, &i.OccurredAt, &i.OfficerName, &i.UpdatedAt); err != nil {
		return nil, err
	}
	i.OccurredAt, i.UpdatedAt = i.OccurredAt.UTC(), i.UpdatedAt.UTC()
	i.normalise()
	return &i, nil
}

func floatOrNil(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func timeOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// checkPlace verifies that the site and zone belong to the incident's
// organisation and fills Timezone from the site.
func (s *Service) checkPlace(ctx context.Context, i *Incident) error {
	site, err := s.Orgs.Site(ctx, []string{i.OrgID}, i.SiteID)
	if err != nil {
		return invalid("site_id", "is not a known site")
	}
	i.Timezone = site.Timezone
	if i.ZoneID != "" {
		z, err := s.Orgs.Zone(ctx, []string{i.OrgID}, i.ZoneID)
		if err != nil || z.SiteID != i.SiteID {
			return invalid("zone_id", "is not a zone of this site")
		}
	}
	return nil
}

func (s *Service) logTexts(ctx context.Context, q store.Querier, id string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT text FROM incident_log WHERE incident_id = ? ORDER BY at`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Create validates and stores a new report (draft unless i.Status says
// otherwise for imports), its first revision and the audit entry.
func (s *Service) Create(ctx context.Context, i *Incident, p *auth.Principal) error {
	types, err := s.Types(ctx, nil, i.OrgID)
	if err != nil {
		return err
	}
	now := s.Now().UTC()
	if err := i.Validate(types, now); err != nil {
		return err
	}
	if err := s.checkPlace(ctx, i); err != nil {
		return err
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error { return s.CreateTx(ctx, tx, i, p) })
}

// CreateTx inserts a validated report inside tx (Create, and the demo loader
// that writes many per transaction).
func (s *Service) CreateTx(ctx context.Context, tx *store.Tx, i *Incident, p *auth.Principal) error {
	now := s.Now().UTC()
	i.ID, i.CreatedAt, i.UpdatedAt, i.Revision = store.NewID(), now, now, 1
	if i.Status == "" {
		i.Status = Draft
	}
	if p != nil && i.OfficerID == "" {
		i.OfficerID, i.OfficerName = p.UserID, actorName(p)
	}
	i.normalise()
	err := tx.QueryRow(ctx, `INSERT INTO incident_counters (org_id, next) VALUES (?, 2)
		ON CONFLICT (org_id) DO UPDATE SET next = incident_counters.next + 1 RETURNING next - 1`, i.OrgID).Scan(&i.Number)
	if err != nil {
		return fmt.Errorf("incident number: %w", err)
	}
	details, _ := json.Marshal(i.Details)
	_, err = tx.Exec(ctx, `INSERT INTO incidents (id, org_id, site_id, zone_id, number, type, severity, status, title, narrative, search_text,
		occurred_at, reported_at, discovered_at, latitude, longitude, officer_id, officer_name, details, ics, revision, review_comment,
		submitted_at, approved_at, approved_by, closed_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?)`,
		i.ID, i.OrgID, i.SiteID, nullStr(i.ZoneID), i.Number, i.Type, i.Severity, i.Status, i.Title, i.Narrative, i.SearchText(nil),
		i.OccurredAt, i.ReportedAt, timeOrNil(i.DiscoveredAt), floatOrNil(i.Latitude), floatOrNil(i.Longitude), i.OfficerID, i.OfficerName,
		string(details), i.ICS, i.Revision, timeOrNil(i.SubmittedAt), timeOrNil(i.ApprovedAt), i.ApprovedBy, timeOrNil(i.ClosedAt), now, now)
	if err != nil {
		return fmt.Errorf("create incident: %w", err)
	}
	if err := s.addRevision(ctx, tx, i, p, "created"); err != nil {
		return err
	}
	return s.record(ctx, tx, p, i.OrgID, "incident.create", "incident", i.ID, map[string]any{"number": i.Number, "type": i.Type, "severity": i.Severity, "title": i.Title})
}

func (s *Service) addRevision(ctx context.Context, tx *store.Tx, i *Incident, p *auth.Principal, reason string) error {
	snap, _ := json.Marshal(i)
	_, err := tx.Exec(ctx, `INSERT INTO incident_revisions (id, org_id, incident_id, revision, status, reason, actor_id, actor, snapshot, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, store.NewID(), i.OrgID, i.ID, i.Revision, i.Status, reason, actorID(p), actorName(p), string(snap), s.Now().UTC())
	if err != nil {
		return fmt.Errorf("incident revision: %w", err)
	}
	return nil
}

// Get returns one report within scope, with its site's time zone.
func (s *Service) Get(ctx context.Context, sc Scope, id string) (*Incident, error) {
	w, args := sc.where("")
	i, err := scanIncident(s.DB.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = ? AND `+w, append([]any{id}, args...)...))
	if err != nil {
		return nil, err
	}
	if site, err := s.Orgs.Site(ctx, []string{i.OrgID}, i.SiteID); err == nil {
		i.Timezone = site.Timezone
	} else {
		i.Timezone = "UTC"
	}
	return i, nil
}

// Update saves changed fields as a new revision. A report that has been
// approved keeps its status: the change is an amendment and needs a reason.
func (s *Service) Update(ctx context.Context, i *Incident, reason string, p *auth.Principal) error {
	types, err := s.Types(ctx, nil, i.OrgID)
	if err != nil {
		return err
	}
	if err := i.Validate(types, s.Now()); err != nil {
		return err
	}
	if err := s.checkPlace(ctx, i); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if i.Status.Final() && reason == "" {
		return invalid("reason", "is required to amend an approved report")
	}
	if len(reason) > 2000 {
		return invalid("reason", "must be at most 2000 characters")
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		old, err := scanIncident(tx.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = ? AND org_id = ?`+tx.Dialect().ForUpdate(), i.ID, i.OrgID))
		if err != nil {
			return err
		}
		if old.Revision != i.Revision {
			return fmt.Errorf("%w: the report was changed by someone else (revision %d, you edited %d); reload it", ErrStale, old.Revision, i.Revision)
		}
		old.Timezone = i.Timezone
		changed := Changes(old, i)
		if len(changed) == 0 {
			return nil
		}
		if reason == "" {
			reason = "edited"
		}
		if old.Status.Final() {
			reason = "amendment: " + reason
		}
		i.Revision++
		i.UpdatedAt = s.Now().UTC()
		if err := s.save(ctx, tx, i); err != nil {
			return err
		}
		if err := s.addRevision(ctx, tx, i, p, reason); err != nil {
			return err
		}
		fields := make([]string, len(changed))
		for n, c := range changed {
			fields[n] = c.Field
		}
		return s.record(ctx, tx, p, i.OrgID, "incident.update", "incident", i.ID, map[string]any{"revision": i.Revision, "reason": reason, "fields": fields})
	})
}

// ErrStale is returned when a report changed since the caller read it.
var ErrStale = errors.New("stale revision")

func (s *Service) save(ctx context.Context, tx *store.Tx, i *Incident) error {
	logs, err := s.logTexts(ctx, tx, i.ID)
	if err != nil {
		return err
	}
	i.normalise()
	details, _ := json.Marshal(i.Details)
	_, err = tx.Exec(ctx, `UPDATE incidents SET site_id = ?, zone_id = ?, type = ?, severity = ?, status = ?, title = ?, narrative = ?,
		search_text = ?, occurred_at = ?, reported_at = ?, discovered_at = ?, latitude = ?, longitude = ?, details = ?, ics = ?, revision = ?,
		review_comment = ?, submitted_at = ?, approved_at = ?, approved_by = ?, closed_at = ?, updated_at = ? WHERE id = ? AND org_id = ?`,
		i.SiteID, nullStr(i.ZoneID), i.Type, i.Severity, i.Status, i.Title, i.Narrative, i.SearchText(logs), i.OccurredAt, i.ReportedAt,
		timeOrNil(i.DiscoveredAt), floatOrNil(i.Latitude), floatOrNil(i.Longitude), string(details), i.ICS, i.Revision, i.ReviewComment,
		timeOrNil(i.SubmittedAt), timeOrNil(i.ApprovedAt), i.ApprovedBy, timeOrNil(i.ClosedAt), i.UpdatedAt, i.ID, i.OrgID)
	if err != nil {
		return fmt.Errorf("save incident: %w", err)
	}
	return nil
}

// Transition moves a report through the workflow, recording who did it in
// the revision history, the incident log and the audit log.
func (s *Service) Transition(ctx context.Context, i *Incident, t Transition, comment string, p *auth.Principal) error {
	comment = strings.TrimSpace(comment)
	if len(comment) > 5000 {
		return invalid("comment", "must be at most 5000 characters")
	}
	to, err := Next(i.Status, t, comment)
	if err != nil {
		return err
	}
	if t == Submit {
		types, err := s.Types(ctx, nil, i.OrgID)
		if err != nil {
			return err
		}
		if err := i.ValidateSubmit(types); err != nil {
			return err
		}
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		cur, err := scanIncident(tx.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = ? AND org_id = ?`+tx.Dialect().ForUpdate(), i.ID, i.OrgID))
		if err != nil {
			return err
		}
		if cur.Status != i.Status {
			return &ErrTransition{cur.Status, t}
		}
		now := s.Now().UTC()
		from := cur.Status
		cur.Timezone = i.Timezone
		cur.Status, cur.UpdatedAt = to, now
		switch t {
		case Submit:
			cur.SubmittedAt, cur.ReviewComment = &now, ""
		case Return:
			cur.ReviewComment = comment
		case Approve:
			cur.ApprovedAt, cur.ApprovedBy, cur.ReviewComment = &now, actorName(p), ""
		case Close:
			cur.ClosedAt = &now
		}
		cur.Revision++
		text := fmt.Sprintf("Status %s → %s by %s", from.Label(), to.Label(), actorName(p))
		if comment != "" {
			text += ": " + comment
		}
		if err := s.addLog(ctx, tx, cur, &LogEntry{At: now, Kind: "status", Text: text}, p); err != nil {
			return err
		}
		if err := s.save(ctx, tx, cur); err != nil {
			return err
		}
		if err := s.addRevision(ctx, tx, cur, p, string(t)+nonEmpty(": ", comment)); err != nil {
			return err
		}
		*i = *cur
		return s.record(ctx, tx, p, i.OrgID, "incident."+string(t), "incident", i.ID, map[string]any{"from": from, "to": to, "comment": comment})
	})
}

func nonEmpty(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// Filter narrows a list of reports.
type Filter struct {
	Q         string    `json:"q,omitempty"`
	OrgID     string    `json:"org_id,omitempty"`
	SiteID    string    `json:"site_id,omitempty"`
	Type      string    `json:"type,omitempty"`
	Severity  string    `json:"severity,omitempty"`
	Status    string    `json:"status,omitempty"`
	OfficerID string    `json:"officer_id,omitempty"`
	From      time.Time `json:"from,omitzero"` // occurred at or after
	To        time.Time `json:"to,omitzero"`   // occurred before
}

// Page bounds a list query.
type Page struct{ Limit, Offset int }

// searchToken is one word of a search. Words match whole words; a word
// typed with a trailing * ("Papad*") matches as a prefix. Text in scripts
// written without spaces (Chinese, Japanese) is one "word" per run of
// characters, so a name matches when it stands apart (as names in the
// people list do) but a word inside a Chinese sentence does not.
type searchToken struct {
	text   string
	prefix bool
}

// ftsTokens splits a search into at most 8 word tokens: only letters and
// digits reach the query, so no search syntax can be injected. Whole-word
// matching is the default because a prefix query must gather the postings
// of every matching term before it can return anything, and common
// prefixes ("patrol*") cover most of a large archive.
func ftsTokens(q string) []searchToken {
	var out []searchToken
	rs := []rune(q)
	for i := 0; i < len(rs) && len(out) < 8; {
		if !unicode.IsLetter(rs[i]) && !unicode.IsDigit(rs[i]) {
			i++
			continue
		}
		j := i
		for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j])) {
			j++
		}
		w := rs[i:j]
		if len(w) > 64 {
			w = w[:64]
		}
		out = append(out, searchToken{text: string(w), prefix: j < len(rs) && rs[j] == '*'})
		i = j
	}
	return out
}

// pgSearchDoc is PostgreSQL's stored full-text document (GIN-indexed).
const pgSearchDoc = `i.search_doc`

// MaxListOffset bounds paging: past this many rows, narrow the filters.
const MaxListOffset = 10_000

// filterSQL is the condition (on alias i) and arguments for f's filters
// other than the scope and the search text.
func (f Filter) filterSQL() (string, []any) {
	var w string
	var args []any
	for _, c := range []struct{ col, v string }{{"site_id", f.SiteID}, {"type", f.Type}, {"severity", f.Severity}, {"status", f.Status}, {"officer_id", f.OfficerID}} {
		if c.v != "" {
			w += ` AND i.` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	if !f.From.IsZero() {
		w += ` AND i.occurred_at >= ?`
		args = append(args, f.From.UTC())
	}
	if !f.To.IsZero() {
		w += ` AND i.occurred_at < ?`
		args = append(args, f.To.UTC())
	}
	return w, args
}

var listCols = `i.seq, ` + strings.ReplaceAll(`i.`+summaryCols, ", ", ", i.")

func (s *Service) query(ctx context.Context, q string, args ...any) ([]*Incident, error) {
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	var out []*Incident
	for rows.Next() {
		i, err := scanSummary(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// List returns reports in scope matching f: newest occurrence first, or
// with search text newest entry first. Fetch Limit+1 to know whether
// there is more.
//
// Without search text it runs one query per organisation in scope, each
// walking that organisation's (org_id, …, occurred_at) index in order and
// stopping after offset+limit rows, and merges them: a single query with
// org_id IN (…) would have to sort every matching row of every
// organisation before it could return the first page.
func (s *Service) List(ctx context.Context, sc Scope, f Filter, pg Page) ([]*Incident, error) {
	if pg.Limit <= 0 || pg.Limit > 501 {
		pg.Limit = 51
	}
	if pg.Offset < 0 || pg.Offset > MaxListOffset {
		return nil, invalid("offset", fmt.Sprintf("must be between 0 and %d; narrow the filters to go further", MaxListOffset))
	}
	if f.OrgID != "" {
		sc = sc.Narrow(f.OrgID)
	}
	if f.SiteID != "" {
		// A site belongs to one organisation: ask only that one.
		site, err := s.Orgs.Site(ctx, append(append([]string{}, sc.Full...), sc.Approved...), f.SiteID)
		if err != nil {
			return nil, nil
		}
		sc = sc.Narrow(site.OrgID)
	}
	fw, fargs := f.filterSQL()
	if toks := ftsTokens(f.Q); len(toks) > 0 {
		return s.search(ctx, sc, toks, fw, fargs, pg)
	}
	var parts []Scope
	for _, o := range sc.Full {
		parts = append(parts, Scope{Full: []string{o}})
	}
	for _, o := range sc.Approved {
		parts = append(parts, Scope{Approved: []string{o}})
	}
	if len(parts) == 0 {
		return nil, nil
	}
	// First the keys of the page, from the indexes alone (seq is the rowid,
	// so the (org_id, …, occurred_at) indexes cover it), then only the
	// page's rows: skipping offset rows never touches the table.
	type key struct {
		seq int64
		at  time.Time
	}
	var keys []key
	for _, part := range parts {
		w, args := part.where("i.")
		rows, err := s.DB.Query(ctx, `SELECT i.seq, i.occurred_at FROM incidents i WHERE `+w+fw+` ORDER BY i.occurred_at DESC, i.seq DESC LIMIT ?`,
			append(append(args, fargs...), pg.Offset+pg.Limit)...)
		if err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.seq, &k.at); err != nil {
				rows.Close()
				return nil, err
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return cmpInt(b.seq, a.seq)
	})
	if pg.Offset >= len(keys) {
		return nil, nil
	}
	keys = keys[pg.Offset:min(len(keys), pg.Offset+pg.Limit)]
	ph := make([]string, len(keys))
	args := make([]any, len(keys))
	pos := make(map[int64]int, len(keys))
	for n, k := range keys {
		ph[n], args[n], pos[k.seq] = "?", k.seq, n
	}
	got, err := s.query(ctx, `SELECT `+listCols+` FROM incidents i WHERE i.seq IN (`+strings.Join(ph, ",")+`)`, args...)
	if err != nil {
		return nil, err
	}
	out := make([]*Incident, len(keys))
	for _, i := range got {
		out[pos[i.seq]] = i
	}
	// A row deleted between the two reads leaves a hole; drop it.
	return slices.DeleteFunc(out, func(i *Incident) bool { return i == nil }), nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// search runs a full-text query. SQLite walks the FTS5 index in rowid
// (entry) order from the newest and stops at the page; PostgreSQL uses the
// GIN index on the same expression the migration declares.
func (s *Service) search(ctx context.Context, sc Scope, toks []searchToken, fw string, fargs []any, pg Page) ([]*Incident, error) {
	w, args := sc.where("i.")
	q := make([]string, len(toks))
	if s.DB.Dialect == store.Postgres {
		for n, t := range toks {
			q[n] = strings.ToLower(t.text)
			if t.prefix {
				q[n] += ":*"
			}
		}
		args = append(append(args, strings.Join(q, " & ")), fargs...)
		return s.pgSearch(ctx, w+` AND `+pgSearchDoc+` @@ to_tsquery('simple', ?)`+fw, args, pg)
	}
	for n, t := range toks {
		q[n] = `"` + t.text + `"`
		if t.prefix {
			q[n] += "*"
		}
	}
	// CROSS JOIN keeps the FTS table as the outer loop (SQLite does not
	// reorder a CROSS JOIN), so ORDER BY f.rowid is served by the index.
	args = append(append([]any{strings.Join(q, " ")}, args...), fargs...)
	return s.query(ctx, `SELECT `+listCols+` FROM incident_fts f CROSS JOIN incidents i ON i.seq = f.rowid WHERE incident_fts MATCH ? AND `+w+fw+
		` ORDER BY f.rowid DESC LIMIT ? OFFSET ?`, append(args, pg.Limit, pg.Offset)...)
}

// pgRecentWindow is how many of the newest reports a PostgreSQL search
// checks first, one stored vector each, before it asks the GIN index.
const pgRecentWindow = 20_000

// pgSearch chooses the plan itself. PostgreSQL's estimate for a text
// search with LIMIT tends to pick a backward primary-key scan that checks
// every row until the page is full: fast for a common word, tens of
// seconds for a word that matches nothing. So a first page is looked for
// among the newest pgRecentWindow reports (a bounded walk); a word too
// rare to fill it there has few matches, and those are read from the GIN
// index and sorted.
func (s *Service) pgSearch(ctx context.Context, where string, args []any, pg Page) ([]*Incident, error) {
	var out []*Incident
	read := func(tx *store.Tx, q string, args ...any) error {
		out = out[:0]
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("search: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			i, err := scanSummary(rows)
			if err != nil {
				return err
			}
			out = append(out, i)
		}
		return rows.Err()
	}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		if pg.Offset == 0 {
			if _, err := tx.Exec(ctx, `SET LOCAL enable_bitmapscan = off`); err != nil {
				return err
			}
			// The bound is a value, not a subquery, so the planner sees how
			// narrow the range is and walks the primary key.
			var top int64
			if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM incidents`).Scan(&top); err != nil {
				return err
			}
			err := read(tx, `SELECT `+listCols+` FROM incidents i WHERE i.seq > ? AND `+where+` ORDER BY i.seq DESC LIMIT ?`,
				append(append([]any{top - pgRecentWindow}, args...), pg.Limit)...)
			if err != nil || len(out) == pg.Limit {
				return err
			}
			if _, err := tx.Exec(ctx, `SET LOCAL enable_bitmapscan = on`); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `SET LOCAL enable_indexscan = off`); err != nil {
			return err
		}
		return read(tx, `SELECT `+listCols+` FROM incidents i WHERE `+where+` ORDER BY i.seq DESC LIMIT ? OFFSET ?`, append(args, pg.Limit, pg.Offset)...)
	})
	return out, err
}

// ---- revisions ----

// Revision is one saved state of a report.
type Revision struct {
	Revision  int       `json:"revision"`
	Status    Status    `json:"status"`
	Reason    string    `json:"reason"`
	Actor     string    `json:"actor"`
	CreatedAt time.Time `json:"created_at"`
	Snapshot  *Incident `json:"snapshot,omitempty"`
}

// Revisions lists every revision of i, oldest first, with snapshots.
func (s *Service) Revisions(ctx context.Context, i *Incident) ([]*Revision, error) {
	rows, err := s.DB.Query(ctx, `SELECT revision, status, reason, actor, snapshot, created_at FROM incident_revisions
		WHERE incident_id = ? AND org_id = ? ORDER BY revision`, i.ID, i.OrgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Revision
	for rows.Next() {
		var r Revision
		var snap string
		if err := rows.Scan(&r.Revision, &r.Status, &r.Reason, &r.Actor, &snap, &r.CreatedAt); err != nil {
			return nil, err
		}
		r.Snapshot = &Incident{}
		if err := json.Unmarshal([]byte(snap), r.Snapshot); err != nil {
			return nil, fmt.Errorf("revision %d: %w", r.Revision, err)
		}
		r.CreatedAt = r.CreatedAt.UTC()
		out = append(out, &r)
	}
	return out, rows.Err()
}

// ---- log entries ----

// LogEntry is a timestamped line of an incident's activity log (ICS 214).
type LogEntry struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"` // note, status, assignment
	Author string    `json:"author"`
	Text   string    `json:"text"`
}

// AddLog appends an entry to the incident's activity log and reindexes it.
func (s *Service) AddLog(ctx context.Context, i *Incident, e *LogEntry, p *auth.Principal) error {
	var err error
	if e.Text, err = text("text", e.Text, true, 5000); err != nil {
		return err
	}
	now := s.Now().UTC()
	if e.At.IsZero() {
		e.At = now
	}
	if e.At.After(now.Add(FutureTolerance)) {
		return invalid("at", "is in the future")
	}
	e.Kind = "note"
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if err := s.addLog(ctx, tx, i, e, p); err != nil {
			return err
		}
		logs, err := s.logTexts(ctx, tx, i.ID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE incidents SET search_text = ? WHERE id = ?`, i.SearchText(logs), i.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, p, i.OrgID, "incident.log", "incident", i.ID, map[string]any{"at": e.At, "text": e.Text})
	})
}

func (s *Service) addLog(ctx context.Context, tx *store.Tx, i *Incident, e *LogEntry, p *auth.Principal) error {
	e.ID, e.Author = store.NewID(), actorName(p)
	e.At = e.At.UTC().Truncate(time.Second)
	_, err := tx.Exec(ctx, `INSERT INTO incident_log (id, org_id, incident_id, at, kind, actor_id, author, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, i.OrgID, i.ID, e.At, e.Kind, actorID(p), e.Author, e.Text, s.Now().UTC())
	return err
}

// Log lists an incident's activity log, oldest first.
func (s *Service) Log(ctx context.Context, i *Incident) ([]*LogEntry, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, at, kind, author, text FROM incident_log WHERE incident_id = ? AND org_id = ? ORDER BY at, created_at`, i.ID, i.OrgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*LogEntry{}
	for rows.Next() {
		var e LogEntry
		if err := rows.Scan(&e.ID, &e.At, &e.Kind, &e.Author, &e.Text); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		out = append(out, &e)
	}
	return out, rows.Err()
}

// ---- saved filters ----

// SavedFilter is a named list query of one user in one organisation.
type SavedFilter struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Query string `json:"query"` // URL query string of the list page
}

// SaveFilter stores a named filter for p in org.
func (s *Service) SaveFilter(ctx context.Context, orgID string, f *SavedFilter, p *auth.Principal) error {
	var err error
	if f.Name, err = text("name", f.Name, true, 100); err != nil {
		return err
	}
	if f.Query, err = text("query", f.Query, false, 2000); err != nil {
		return err
	}
	f.Query = strings.TrimPrefix(f.Query, "?")
	f.ID = store.NewID()
	_, err = s.DB.Exec(ctx, `INSERT INTO incident_filters (id, org_id, user_id, name, query, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		f.ID, orgID, p.UserID, f.Name, f.Query, s.Now().UTC())
	if errors.Is(err, store.ErrConflict) {
		return invalid("name", "you already have a filter with this name")
	}
	return err
}

// Filters lists p's saved filters in org.
func (s *Service) Filters(ctx context.Context, orgID string, p *auth.Principal) ([]*SavedFilter, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, name, query FROM incident_filters WHERE org_id = ? AND user_id = ? ORDER BY name`, orgID, p.UserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*SavedFilter{}
	for rows.Next() {
		var f SavedFilter
		if err := rows.Scan(&f.ID, &f.Name, &f.Query); err != nil {
			return nil, err
		}
		out = append(out, &f)
	}
	return out, rows.Err()
}

// DeleteFilter removes one of p's saved filters.
func (s *Service) DeleteFilter(ctx context.Context, id string, p *auth.Principal) error {
	res, err := s.DB.Exec(ctx, `DELETE FROM incident_filters WHERE id = ? AND user_id = ?`, id, p.UserID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}
