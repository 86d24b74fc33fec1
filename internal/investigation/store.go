package investigation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"vigil/internal/audit"
	"vigil/internal/auth"
	"vigil/internal/blob"
	"vigil/internal/org"
	"vigil/internal/store"
)

// Service stores cases and enforces need-to-know. Every read takes the
// caller; nothing reads a case the caller may not see.
type Service struct {
	DB   *store.DB
	Blob blob.Store
	Auth *auth.Service // password re-entry for custody signatures
	Orgs *org.Service  // hotline pages address organisations by slug
	Now  func() time.Time

	// MaxUpload bounds one evidence file or photo (default 100 MiB).
	MaxUpload int64
	// Hotline limits per source and hour (defaults 10 reports, 20 failed
	// key/password attempts) and per report (5 wrong passwords lock it for
	// an hour).
	ReportsPerHour, FailuresPerHour, WrongPasswordsBeforeLock int
	LockFor                                                   time.Duration
}

// NewService returns a Service with the default limits.
func NewService(db *store.DB, b blob.Store, a *auth.Service, o *org.Service, now func() time.Time) *Service {
	return &Service{DB: db, Blob: b, Auth: a, Orgs: o, Now: now, MaxUpload: 100 << 20,
		ReportsPerHour: 10, FailuresPerHour: 20, WrongPasswordsBeforeLock: 5, LockFor: time.Hour}
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Errors shown to people.
var (
	ErrConflictOfInterest = errors.New("conflict of interest")
	ErrNotMember          = errors.New("not an active member of the organisation")
)

// nextNumber takes the next number of a scope ("case:<org>",
// "evidence:<case>") inside tx. The upsert is atomic on both engines, and on
// PostgreSQL the counter row stays locked until tx ends, so concurrent
// writers queue instead of drawing the same number.
func nextNumber(ctx context.Context, tx *store.Tx, scope string) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `INSERT INTO inv_counters (scope, n) VALUES (?, 1)
		ON CONFLICT (scope) DO UPDATE SET n = inv_counters.n + 1 RETURNING n`, scope).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("next number for %s: %w", scope, err)
	}
	return n, nil
}

func (s *Service) record(ctx context.Context, tx *store.Tx, p *auth.Principal, org, action, typ, id string, data any) error {
	e := audit.Entry{OrgID: org, At: s.Now(), Actor: p.Label(), Action: action, ObjectType: typ, ObjectID: id, Data: data}
	if p != nil {
		e.ActorID = p.UserID
	}
	return audit.Append(ctx, tx, e)
}

// in is store.In, named short for the many scoped queries.
var in = store.In

func tp(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func nt(t *time.Time) any {
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

// ---- settings ----

// Settings returns an organisation's settings, or the defaults.
func (s *Service) Settings(ctx context.Context, orgID string) (Settings, error) {
	st, err := s.settingsFor(ctx, []string{orgID})
	return st[orgID], err
}

func (s *Service) settingsFor(ctx context.Context, orgs []string) (map[string]Settings, error) {
	out := make(map[string]Settings, len(orgs))
	for _, o := range orgs {
		out[o] = DefaultSettings(o)
	}
	if len(orgs) == 0 {
		return out, nil
	}
	ph, args := in(orgs)
	rows, err := s.DB.Query(ctx, `SELECT org_id, case_wide_roles, ack_days, feedback_days, hotline_enabled, hotline_intro FROM inv_settings WHERE org_id IN (`+ph+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st Settings
		var roles string
		if err := rows.Scan(&st.OrgID, &roles, &st.AckDays, &st.FeedbackDays, &st.HotlineOn, &st.HotlineIntro); err != nil {
			return nil, err
		}
		for _, r := range strings.Split(roles, ",") {
			if r != "" {
				st.CaseWideRoles = append(st.CaseWideRoles, auth.Role(r))
			}
		}
		out[st.OrgID] = st
	}
	return out, rows.Err()
}

// SaveSettings stores an organisation's settings. p must hold CaseAdmin there
// (nil for tests and the CLI).
func (s *Service) SaveSettings(ctx context.Context, p *auth.Principal, st Settings) error {
	if err := st.Validate(); err != nil {
		return err
	}
	roles := make([]string, len(st.CaseWideRoles))
	for i, r := range st.CaseWideRoles {
		roles[i] = string(r)
	}
	slices.Sort(roles)
	roles = slices.Compact(roles)
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO inv_settings (org_id, case_wide_roles, ack_days, feedback_days, hotline_enabled, hotline_intro, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id) DO UPDATE SET case_wide_roles = excluded.case_wide_roles, ack_days = excluded.ack_days,
			feedback_days = excluded.feedback_days, hotline_enabled = excluded.hotline_enabled, hotline_intro = excluded.hotline_intro, updated_at = excluded.updated_at`,
			st.OrgID, strings.Join(roles, ","), st.AckDays, st.FeedbackDays, st.HotlineOn, st.HotlineIntro, s.now())
		if err != nil {
			return fmt.Errorf("save settings: %w", err)
		}
		return s.record(ctx, tx, p, st.OrgID, "investigation.settings", "org", st.OrgID,
			map[string]any{"case_wide_roles": roles, "ack_days": st.AckDays, "feedback_days": st.FeedbackDays, "hotline_enabled": st.HotlineOn})
	})
}

// ---- need-to-know ----

// visibility is the SQL condition (on alias c) selecting the cases p may
// see: every case of the organisations where p's role has case-wide access,
// and in the others only the cases p is a member of. Each half is written
// so that an index serves it (cases by org, case_members by user).
func (s *Service) visibility(ctx context.Context, p *auth.Principal) (string, []any, error) {
	orgs := p.OrgsWhere(auth.CaseRead)
	st, err := s.settingsFor(ctx, orgs)
	if err != nil {
		return "", nil, err
	}
	var wide, team []string
	for _, o := range orgs {
		if x := st[o]; x.Wide(p.Role(o)) {
			wide = append(wide, o)
		} else {
			team = append(team, o)
		}
	}
	wph, wargs := in(wide)
	tph, targs := in(team)
	member := `(c.org_id IN (` + tph + `) AND c.id IN (SELECT m.case_id FROM case_members m WHERE m.user_id = ?))`
	switch {
	case len(team) == 0:
		return `c.org_id IN (` + wph + `)`, wargs, nil
	case len(wide) == 0:
		return member, append(targs, p.UserID), nil
	}
	return `(c.org_id IN (` + wph + `) OR ` + member + `)`, append(append(wargs, targs...), p.UserID), nil
}

const caseCols = `c.id, c.org_id, c.number, c.type, c.title, c.summary, c.status, c.source, COALESCE(c.lead_id, ''), c.due_at, c.root_cause,
	c.created_at, c.updated_at, c.closed_at, c.ack_due_at, c.acked_at, c.feedback_due_at, c.feedback_at,
	(SELECT COALESCE(SUM(t.seconds), 0) FROM case_time t WHERE t.case_id = c.id)`

func (s *Service) scanCase(sc interface{ Scan(...any) error }) (*Case, error) {
	var c Case
	var due, closed, ackDue, acked, fbDue, fb sql.NullTime
	if err := sc.Scan(&c.ID, &c.OrgID, &c.Number, &c.Type, &c.Title, &c.Summary, &c.Status, &c.Source, &c.LeadID, &due, &c.RootCause,
		&c.CreatedAt, &c.UpdatedAt, &closed, &ackDue, &acked, &fbDue, &fb, &c.TimeSpent); err != nil {
		return nil, store.NotFound(err)
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.DueAt, c.ClosedAt, c.AckDueAt, c.AckedAt, c.FeedbackDueAt, c.FeedbackAt = tp(due), tp(closed), tp(ackDue), tp(acked), tp(fbDue), tp(fb)
	c.flag(s.Now().UTC())
	return &c, nil
}

// Case returns a case p may see, or store.ErrNotFound (also when it exists
// but p is not on it: the caller cannot tell the difference).
func (s *Service) Case(ctx context.Context, p *auth.Principal, id string) (*Case, error) {
	cond, args, err := s.visibility(ctx, p)
	if err != nil {
		return nil, err
	}
	return s.scanCase(s.DB.QueryRow(ctx, `SELECT `+caseCols+` FROM cases c WHERE c.id = ? AND `+cond, append([]any{id}, args...)...))
}

// caseByID loads a case without access checks, for the hotline and workers.
func (s *Service) caseByID(ctx context.Context, id string) (*Case, error) {
	return s.scanCase(s.DB.QueryRow(ctx, `SELECT `+caseCols+` FROM cases c WHERE c.id = ?`, id))
}

// Filter selects cases for a list.
type Filter struct {
	OrgID   string
	Status  string // a status, "active" (not closed) or ""
	Type    string
	Source  string
	Overdue bool
	Q       string
	Limit   int
	Offset  int
}

// Cases lists the cases p may see, newest first.
func (s *Service) Cases(ctx context.Context, p *auth.Principal, f Filter) ([]*Case, error) {
	cond, args, err := s.visibility(ctx, p)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + caseCols + ` FROM cases c WHERE ` + cond
	if f.OrgID != "" {
		q += ` AND c.org_id = ?`
		args = append(args, f.OrgID)
	}
	switch f.Status {
	case "":
	case "active":
		q += ` AND c.status <> 'closed'`
	default:
		q += ` AND c.status = ?`
		args = append(args, f.Status)
	}
	if f.Type != "" {
		q += ` AND c.type = ?`
		args = append(args, f.Type)
	}
	if f.Source != "" {
		q += ` AND c.source = ?`
		args = append(args, f.Source)
	}
	if f.Overdue {
		now := s.Now().UTC()
		q += ` AND c.status <> 'closed' AND ((c.due_at IS NOT NULL AND c.due_at < ?) OR (c.ack_due_at IS NOT NULL AND c.acked_at IS NULL AND c.ack_due_at < ?)
			OR (c.feedback_due_at IS NOT NULL AND c.feedback_at IS NULL AND c.feedback_due_at < ?))`
		args = append(args, now, now, now)
	}
	if f.Q != "" {
		like := "%" + strings.NewReplacer("%", "", "_", "").Replace(strings.TrimSpace(f.Q)) + "%"
		q += ` AND (c.title ` + s.DB.Dialect.Like() + ` ? OR c.summary ` + s.DB.Dialect.Like() + ` ?)`
		args = append(args, like, like)
	}
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 50
	}
	q += ` ORDER BY c.id DESC LIMIT ? OFFSET ?` // UUIDv7: newest first, and the primary key index serves it
	rows, err := s.DB.Query(ctx, q, append(args, f.Limit, max(0, f.Offset))...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	var out []*Case
	for rows.Next() {
		c, err := s.scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Viewed appends "who looked" to the case's organisation's audit chain:
// every read of a case file, its evidence, custody or interviews.
func (s *Service) Viewed(ctx context.Context, p *auth.Principal, c *Case, what string) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		return s.record(ctx, tx, p, c.OrgID, "case.view", "case", c.ID, map[string]any{"what": what})
	})
}

// AccessLog returns who looked at or changed a case, newest first.
func (s *Service) AccessLog(ctx context.Context, c *Case, limit, offset int) ([]audit.Row, error) {
	return audit.List(ctx, s.DB, audit.Filter{OrgIDs: []string{c.OrgID}, ObjectID: c.ID, Limit: limit, Offset: offset})
}

// ---- people ----

// Person is a user who may work on cases in an organisation.
type Person struct {
	ID    string    `json:"id"`
	Name  string    `json:"name"`
	Email string    `json:"email"`
	Role  auth.Role `json:"role"`
}

// People lists the active users with an effective role in org (direct, or
// inherited from the operator above it), direct roles first.
func (s *Service) People(ctx context.Context, orgID string) ([]Person, error) {
	rows, err := s.DB.Query(ctx, `SELECT u.id, u.name, u.email, m.role, CASE WHEN m.org_id = ? THEN 0 ELSE 1 END FROM users u
		JOIN memberships m ON m.user_id = u.id JOIN orgs o ON o.id = m.org_id
		WHERE u.disabled_at IS NULL AND (m.org_id = ? OR (o.kind = 'operator' AND m.role <> 'client' AND m.org_id = (SELECT parent_id FROM orgs WHERE id = ?)))
		ORDER BY 5, u.name`, orgID, orgID, orgID)
	if err != nil {
		return nil, fmt.Errorf("people: %w", err)
	}
	defer rows.Close()
	var out []Person
	seen := map[string]bool{}
	for rows.Next() {
		var pp Person
		var inherited int
		if err := rows.Scan(&pp.ID, &pp.Name, &pp.Email, &pp.Role, &inherited); err != nil {
			return nil, err
		}
		if !seen[pp.ID] {
			seen[pp.ID] = true
			out = append(out, pp)
		}
	}
	return out, rows.Err()
}

// person returns one active user of org, or ErrNotMember (a user who left or
// was disabled cannot receive evidence or join a team).
func (s *Service) person(ctx context.Context, orgID, userID string) (Person, error) {
	ps, err := s.People(ctx, orgID)
	if err != nil {
		return Person{}, err
	}
	for _, pp := range ps {
		if pp.ID == userID {
			return pp, nil
		}
	}
	return Person{}, ErrNotMember
}

// ---- cases ----

// CreateCase opens a case in in.OrgID; the creator leads it unless another
// lead is named, and is on the team either way.
func (s *Service) CreateCase(ctx context.Context, p *auth.Principal, in CaseInput) (*Case, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	lead := in.LeadID
	if lead == "" && p != nil {
		lead = p.UserID
	}
	var leadP Person
	if lead != "" {
		var err error
		if leadP, err = s.person(ctx, in.OrgID, lead); err != nil || !leadP.Role.Allows(auth.CaseWrite) {
			return nil, invalid("lead_id", "must be an active user of the organisation who may work cases")
		}
	}
	now := s.now()
	c := &Case{ID: store.NewID(), OrgID: in.OrgID, Type: in.Type, Title: in.Title, Summary: in.Summary, Status: "open", Source: "staff",
		LeadID: lead, DueAt: in.DueAt, RootCause: in.RootCause, CreatedAt: now, UpdatedAt: now}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if err := s.insertCase(ctx, tx, c, p); err != nil {
			return err
		}
		if lead != "" {
			if err := s.addMember(ctx, tx, p, c, leadP, "lead"); err != nil {
				return err
			}
		}
		if p != nil && p.UserID != lead {
			me, err := s.person(ctx, in.OrgID, p.UserID)
			if err == nil {
				return s.addMember(ctx, tx, p, c, me, "investigator")
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.flag(s.Now().UTC())
	return c, nil
}

func (s *Service) insertCase(ctx context.Context, tx *store.Tx, c *Case, p *auth.Principal) error {
	var err error
	if c.Number, err = nextNumber(ctx, tx, "case:"+c.OrgID); err != nil {
		return err
	}
	createdBy := ""
	if p != nil {
		createdBy = p.UserID
	}
	_, err = tx.Exec(ctx, `INSERT INTO cases (id, org_id, number, type, title, summary, status, source, lead_id, due_at, root_cause, created_by, created_at, updated_at, ack_due_at, feedback_due_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.OrgID, c.Number, c.Type, c.Title, c.Summary, c.Status, c.Source, nullStr(c.LeadID), nt(c.DueAt), c.RootCause, createdBy, c.CreatedAt, c.UpdatedAt, nt(c.AckDueAt), nt(c.FeedbackDueAt))
	if err != nil {
		return fmt.Errorf("create case: %w", err)
	}
	data := map[string]any{"number": c.Number, "type": c.Type, "source": c.Source}
	if p == nil && c.Source == "hotline" {
		// An anonymous report: the actor is the hotline, with nothing about the reporter.
		return audit.Append(ctx, tx, audit.Entry{OrgID: c.OrgID, At: s.Now(), Actor: "hotline", Action: "case.create", ObjectType: "case", ObjectID: c.ID, Data: data})
	}
	return s.record(ctx, tx, p, c.OrgID, "case.create", "case", c.ID, data)
}

// UpdateCase changes a case's header fields.
func (s *Service) UpdateCase(ctx context.Context, p *auth.Principal, c *Case, in CaseInput) error {
	in.OrgID = c.OrgID
	if err := in.Validate(); err != nil {
		return err
	}
	if in.LeadID != "" && in.LeadID != c.LeadID {
		pp, err := s.person(ctx, c.OrgID, in.LeadID)
		if err != nil || !pp.Role.Allows(auth.CaseWrite) {
			return invalid("lead_id", "must be an active user of the organisation who may work cases")
		}
		if err := s.checkConflict(ctx, c, pp); err != nil {
			return err
		}
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		lead := c.LeadID
		if in.LeadID != "" {
			lead = in.LeadID
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET type = ?, title = ?, summary = ?, lead_id = ?, due_at = ?, root_cause = ?, updated_at = ? WHERE id = ?`,
			in.Type, in.Title, in.Summary, nullStr(lead), nt(in.DueAt), in.RootCause, s.now(), c.ID); err != nil {
			return fmt.Errorf("update case: %w", err)
		}
		if lead != c.LeadID && lead != "" {
			if _, err := tx.Exec(ctx, `UPDATE case_members SET role = 'investigator' WHERE case_id = ? AND role = 'lead'`, c.ID); err != nil {
				return err
			}
			pp, _ := s.person(ctx, c.OrgID, lead)
			if _, err := tx.Exec(ctx, `DELETE FROM case_members WHERE case_id = ? AND user_id = ?`, c.ID, lead); err != nil {
				return err
			}
			if err := s.addMember(ctx, tx, p, c, pp, "lead"); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, p, c.OrgID, "case.update", "case", c.ID, map[string]any{"type": in.Type, "lead_id": lead})
	})
}

// Move changes a case's status. Closing after findings needs an outcome on
// every allegation.
func (s *Service) Move(ctx context.Context, p *auth.Principal, c *Case, to string) error {
	if !CanMove(c.Status, to) {
		return invalid("status", fmt.Sprintf("cannot go from %s to %s", label(Statuses, c.Status), label(Statuses, to)))
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		now := s.now()
		if to == "closed" && c.Status == "findings" {
			var open int
			tx.QueryRow(ctx, `SELECT COUNT(*) FROM case_allegations WHERE case_id = ? AND outcome = ''`, c.ID).Scan(&open)
			if open > 0 {
				return invalid("status", fmt.Sprintf("record an outcome for each allegation first (%d undecided)", open))
			}
		}
		var closed any
		if to == "closed" {
			closed = now
		}
		res, err := tx.Exec(ctx, `UPDATE cases SET status = ?, closed_at = ?, updated_at = ? WHERE id = ? AND status = ?`, to, closed, now, c.ID, c.Status)
		if err != nil {
			return fmt.Errorf("move case: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return invalid("status", "the case changed meanwhile; reload and try again")
		}
		action := "case.status"
		if c.Status == "closed" {
			action = "case.reopen"
		}
		c.Status = to
		return s.record(ctx, tx, p, c.OrgID, action, "case", c.ID, map[string]any{"status": to})
	})
}

// ---- team and parties ----

// Members lists a case's team and grants.
func (s *Service) Members(ctx context.Context, c *Case) ([]Member, error) {
	rows, err := s.DB.Query(ctx, `SELECT m.user_id, u.name, u.email, m.role, m.added_at FROM case_members m JOIN users u ON u.id = m.user_id
		WHERE m.case_id = ? ORDER BY CASE m.role WHEN 'lead' THEN 0 WHEN 'investigator' THEN 1 ELSE 2 END, u.name`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.UserID, &m.Name, &m.Email, &m.Role, &m.AddedAt); err != nil {
			return nil, err
		}
		m.AddedAt = m.AddedAt.UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// checkConflict refuses a team member who is a subject of the case (by user
// or email).
func (s *Service) checkConflict(ctx context.Context, c *Case, pp Person) error {
	var n int
	if err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM case_parties WHERE case_id = ? AND kind = 'subject' AND (user_id = ? OR (email <> '' AND LOWER(email) = ?))`,
		c.ID, pp.ID, strings.ToLower(pp.Email)).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return &auth.FieldError{Field: "user_id", Message: pp.Name + " is a subject of this case and cannot work on it (conflict of interest)"}
	}
	return nil
}

// AddMember puts a user on the team ("investigator") or grants them read
// access ("granted"). They must be an active user of the case's
// organisation whose role may read cases, and not a subject of it.
func (s *Service) AddMember(ctx context.Context, p *auth.Principal, c *Case, userID, role string) error {
	if role != "investigator" && role != "granted" {
		return invalid("role", "must be investigator or granted")
	}
	pp, err := s.person(ctx, c.OrgID, userID)
	if err != nil {
		return invalid("user_id", "is not an active user of this organisation")
	}
	need := auth.CaseRead
	if role == "investigator" {
		need = auth.CaseWrite
	}
	if !pp.Role.Allows(need) {
		return invalid("user_id", "has a role ("+string(pp.Role)+") that may not "+map[string]string{"investigator": "work", "granted": "read"}[role]+" cases")
	}
	if err := s.checkConflict(ctx, c, pp); err != nil {
		return err
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM case_members WHERE case_id = ? AND user_id = ? AND role <> 'lead'`, c.ID, userID); err != nil {
			return err
		}
		return s.addMember(ctx, tx, p, c, pp, role)
	})
}

func (s *Service) addMember(ctx context.Context, tx *store.Tx, p *auth.Principal, c *Case, pp Person, role string) error {
	by := ""
	if p != nil {
		by = p.UserID
	}
	_, err := tx.Exec(ctx, `INSERT INTO case_members (case_id, user_id, org_id, role, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?)`,
		c.ID, pp.ID, c.OrgID, role, by, s.now())
	if errors.Is(err, store.ErrConflict) {
		return invalid("user_id", "is already the case's lead")
	}
	if err != nil {
		return fmt.Errorf("add member: %w", err)
	}
	return s.record(ctx, tx, p, c.OrgID, "case.member.add", "case", c.ID, map[string]any{"user_id": pp.ID, "role": role})
}

// RemoveMember takes a user off a case (not the lead: change the lead first).
func (s *Service) RemoveMember(ctx context.Context, p *auth.Principal, c *Case, userID string) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM case_members WHERE case_id = ? AND user_id = ? AND role <> 'lead'`, c.ID, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return s.record(ctx, tx, p, c.OrgID, "case.member.remove", "case", c.ID, map[string]any{"user_id": userID})
	})
}

// PartyInput adds a subject, complainant or witness.
type PartyInput struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Email   string `json:"email,omitempty"`
	UserID  string `json:"user_id,omitempty"`
	Details string `json:"details,omitempty"`
}

// AddParty records a person in the case. A subject who is on the team is
// refused: the conflict must be resolved by removing them first.
func (s *Service) AddParty(ctx context.Context, p *auth.Principal, c *Case, in PartyInput) (*Party, error) {
	if !valid(PartyKinds, in.Kind) {
		return nil, invalid("kind", "must be subject, complainant or witness")
	}
	var err error
	if in.Name, err = text("name", in.Name, true, 200); err != nil {
		return nil, err
	}
	if in.Details, err = text("details", in.Details, false, 5000); err != nil {
		return nil, err
	}
	if in.Email = strings.TrimSpace(in.Email); in.Email != "" {
		if in.Email, err = auth.NormalizeEmail(in.Email); err != nil {
			return nil, invalid("email", err.Error())
		}
	}
	if in.UserID != "" {
		pp, err := s.person(ctx, c.OrgID, in.UserID)
		if err != nil {
			return nil, invalid("user_id", "is not a user of this organisation")
		}
		if in.Email == "" {
			in.Email = pp.Email
		}
	}
	pt := &Party{ID: store.NewID(), Kind: in.Kind, Name: in.Name, Email: in.Email, UserID: in.UserID, Details: in.Details, CreatedAt: s.now()}
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		if in.Kind == "subject" {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM case_members m JOIN users u ON u.id = m.user_id WHERE m.case_id = ? AND (m.user_id = ? OR LOWER(u.email) = ?)`,
				c.ID, in.UserID, strings.ToLower(in.Email)).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return &auth.FieldError{Field: "name", Message: "this person is on the case team; remove them from the team before naming them a subject (conflict of interest)"}
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO case_parties (id, case_id, org_id, kind, name, email, user_id, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			pt.ID, c.ID, c.OrgID, pt.Kind, pt.Name, pt.Email, nullStr(pt.UserID), pt.Details, pt.CreatedAt); err != nil {
			return fmt.Errorf("add party: %w", err)
		}
		return s.record(ctx, tx, p, c.OrgID, "case.party.add", "case", c.ID, map[string]any{"party_id": pt.ID, "kind": pt.Kind})
	})
	return pt, err
}

// Parties lists a case's people.
func (s *Service) Parties(ctx context.Context, c *Case) ([]Party, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, kind, name, email, COALESCE(user_id, ''), details, created_at FROM case_parties WHERE case_id = ?
		ORDER BY CASE kind WHEN 'subject' THEN 0 WHEN 'complainant' THEN 1 ELSE 2 END, created_at`, c.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Party
	for rows.Next() {
		var x Party
		if err := rows.Scan(&x.ID, &x.Kind, &x.Name, &x.Email, &x.UserID, &x.Details, &x.CreatedAt); err != nil {
			return nil, err
		}
		x.CreatedAt = x.CreatedAt.UTC()
		out = append(out, x)
	}
	return out, rows.Err()
}

// sqlRows and txQuerier let read helpers run on the DB or inside a transaction.
type sqlRows = sql.Rows

type txQuerier struct{ tx *store.Tx }

func (q txQuerier) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return q.tx.Query(ctx, query, args...)
}

// CaseFile is a case with everything recorded on it.
type CaseFile struct {
	*Case
	Members     []Member     `json:"members"`
	Parties     []Party      `json:"parties"`
	Allegations []Allegation `json:"allegations"`
	Links       []Link       `json:"links"`
	Tasks       []Task       `json:"tasks"`
	Notes       []Note       `json:"notes"`
	Actions     []Action     `json:"actions"`
	Evidence    []*Evidence  `json:"evidence"`
	Interviews  []Interview  `json:"interviews"`
	Messages    []Message    `json:"messages,omitempty"`
	Hotline     *HotlineInfo `json:"hotline,omitempty"`
	Assessments []Assessment `json:"assessments,omitempty"`
	BOLOs       []*BOLO      `json:"bolos,omitempty"`
	Revocations []Revocation `json:"revocations,omitempty"`
}

// File loads a case's whole file; shareableOnly leaves out internal notes.
func (s *Service) File(ctx context.Context, c *Case, shareableOnly bool) (*CaseFile, error) {
	f := &CaseFile{Case: c}
	var err error
	steps := []func(){
		func() { f.Members, err = s.Members(ctx, c) },
		func() { f.Parties, err = s.Parties(ctx, c) },
		func() { f.Allegations, err = s.Allegations(ctx, c) },
		func() { f.Links, err = s.Links(ctx, c) },
		func() { f.Tasks, err = s.Tasks(ctx, c) },
		func() { f.Notes, err = s.Notes(ctx, c, shareableOnly) },
		func() { f.Actions, err = s.Actions(ctx, c) },
		func() { f.Evidence, err = s.Evidence(ctx, c) },
		func() { f.Interviews, err = s.Interviews(ctx, c) },
		func() {
			if c.Source == "hotline" && !shareableOnly {
				if f.Messages, err = s.Messages(ctx, c); err != nil {
					return
				}
				f.Hotline = &HotlineInfo{}
				err = s.DB.QueryRow(ctx, `SELECT category, contact FROM hotline_reports WHERE case_id = ?`, c.ID).Scan(&f.Hotline.Category, &f.Hotline.Contact)
				f.Hotline.Category = label(HotlineCategories, f.Hotline.Category)
			}
		},
		func() {
			if c.Type == "threat" {
				f.Assessments, err = s.Assessments(ctx, c)
			}
		},
		func() { f.BOLOs, err = s.CaseBOLOs(ctx, c) },
		func() { f.Revocations, err = s.Revocations(ctx, c) },
	}
	for _, step := range steps {
		if step(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// MemberRole returns userID's role on the case ("lead", "investigator",
// "granted"), or store.ErrNotFound.
func (s *Service) MemberRole(ctx context.Context, c *Case, userID string) (string, error) {
	var role string
	err := s.DB.QueryRow(ctx, `SELECT role FROM case_members WHERE case_id = ? AND user_id = ?`, c.ID, userID).Scan(&role)
	return role, store.NotFound(err)
}

// CaseOrg returns the organisation a case belongs to, unscoped: only to
// choose between 403 and 404 for a caller who cannot see the case.
func (s *Service) CaseOrg(ctx context.Context, id string) (string, error) {
	var org string
	err := s.DB.QueryRow(ctx, `SELECT org_id FROM cases WHERE id = ?`, id).Scan(&org)
	return org, store.NotFound(err)
}

// DeadlineCounts counts the open cases p may see that are overdue (case due
// date or a statutory hotline deadline passed) and those with a deadline
// within `within`, for the reminder banner.
func (s *Service) DeadlineCounts(ctx context.Context, p *auth.Principal, within time.Duration) (overdue, soon int, err error) {
	cond, args, err := s.visibility(ctx, p)
	if err != nil {
		return 0, 0, err
	}
	return s.deadlineCounts(ctx, cond, args, within)
}

func (s *Service) deadlineCounts(ctx context.Context, cond string, args []any, within time.Duration) (overdue, soon int, err error) {
	now := s.Now().UTC()
	until := now.Add(within)
	past := `((c.due_at < ?) OR (c.ack_due_at < ? AND c.acked_at IS NULL) OR (c.feedback_due_at < ? AND c.feedback_at IS NULL))`
	near := `((c.due_at BETWEEN ? AND ?) OR (c.ack_due_at BETWEEN ? AND ? AND c.acked_at IS NULL) OR (c.feedback_due_at BETWEEN ? AND ? AND c.feedback_at IS NULL))`
	q := `SELECT COALESCE(SUM(CASE WHEN ` + past + ` THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN ` + past + ` THEN 0 WHEN ` + near + ` THEN 1 ELSE 0 END), 0)
		FROM cases c WHERE c.status <> 'closed' AND ` + cond
	a := []any{now, now, now, now, now, now, now, until, now, until, now, until}
	err = s.DB.QueryRow(ctx, q, append(a, args...)...).Scan(&overdue, &soon)
	return overdue, soon, err
}
