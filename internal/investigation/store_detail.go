package investigation

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"vigil/internal/auth"
	"vigil/internal/store"
)

// AddAllegation records an allegation, undecided.
func (s *Service) AddAllegation(ctx context.Context, p *auth.Principal, c *Case, txt string) (*Allegation, error) {
	txt, err := text("text", txt, true, 5000)
	if err != nil {
		return nil, err
	}
	a := &Allegation{ID: store.NewID(), Text: txt, CreatedAt: s.now()}
	return a, s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO case_allegations (id, case_id, org_id, text, created_at) VALUES (?, ?, ?, ?, ?)`, a.ID, c.ID, c.OrgID, a.Text, a.CreatedAt); err != nil {
			return fmt.Errorf("add allegation: %w", err)
		}
		return s.record(ctx, tx, p, c.OrgID, "case.allegation.add", "case", c.ID, map[string]any{"allegation_id": a.ID})
	})
}

// DecideAllegation records an allegation's outcome.
func (s *Service) DecideAllegation(ctx context.Context, p *auth.Principal, c *Case, id, outcome string) error {
	if !valid(Outcomes, outcome) {
		return invalid("outcome", "must be substantiated, unsubstantiated, unfounded or inconclusive")
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE case_allegations SET outcome = ?, decided_at = ? WHERE id = ? AND case_id = ?`, outcome, s.now(), id, c.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return s.record(ctx, tx, p, c.OrgID, "case.allegation.decide", "case", c.ID, map[string]any{"allegation_id": id, "outcome": outcome})
	})
}

// Allegations lists a case's allegations in the order they were raised.
func (s *Service) Allegations(ctx context.Context, c *Case) ([]Allegation, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, text, outcome, created_at, decided_at FROM case_allegations WHERE case_id = ? ORDER BY created_at, id`, c.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Allegation
	for rows.Next() {
		var a Allegation
		var d sql.NullTime
		if err := rows.Scan(&a.ID, &a.Text, &a.Outcome, &a.CreatedAt, &d); err != nil {
			return nil, err
		}
		a.CreatedAt, a.DecidedAt = a.CreatedAt.UTC(), tp(d)
		out = append(out, a)
	}
	return out, rows.Err()
}

// AddLink links an incident, alarm or another case. A linked case must be
// one the caller can see in the same organisation.
func (s *Service) AddLink(ctx context.Context, p *auth.Principal, c *Case, kind, ref string) error {
	if !valid(LinkKinds, kind) {
		return invalid("kind", "must be incident, alarm or case")
	}
	ref, err := text("ref", ref, true, 100)
	if err != nil {
		return err
	}
	if kind == "case" {
		o, err := s.Case(ctx, p, ref)
		if err != nil || o.OrgID != c.OrgID || o.ID == c.ID {
			return invalid("ref", "is not another case of this organisation that you can see")
		}
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO case_links (case_id, org_id, kind, ref, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			c.ID, c.OrgID, kind, ref, s.now()); err != nil {
			return fmt.Errorf("link: %w", err)
		}
		return s.record(ctx, tx, p, c.OrgID, "case.link", "case", c.ID, map[string]any{"kind": kind, "ref": ref})
	})
}

// Links lists what a case links to.
func (s *Service) Links(ctx context.Context, c *Case) ([]Link, error) {
	rows, err := s.DB.Query(ctx, `SELECT kind, ref FROM case_links WHERE case_id = ? ORDER BY kind, created_at`, c.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Link
	for rows.Next() {
		var l Link
		if err := rows.Scan(&l.Kind, &l.Ref); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// AddTask adds a task, optionally assigned to a team member.
func (s *Service) AddTask(ctx context.Context, p *auth.Principal, c *Case, title, assignee string, due *time.Time) (*Task, error) {
	title, err := text("title", title, true, 300)
	if err != nil {
		return nil, err
	}
	if assignee != "" {
		if _, err := s.person(ctx, c.OrgID, assignee); err != nil {
			return nil, invalid("assignee_id", "is not an active user of this organisation")
		}
	}
	t := &Task{ID: store.NewID(), Title: title, AssigneeID: assignee, DueAt: due}
	return t, s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO case_tasks (id, case_id, org_id, title, assignee_id, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.ID, c.ID, c.OrgID, t.Title, nullStr(assignee), nt(due), s.now()); err != nil {
			return fmt.Errorf("add task: %w", err)
		}
		return s.record(ctx, tx, p, c.OrgID, "case.task.add", "case", c.ID, map[string]any{"task_id": t.ID})
	})
}

// CompleteTask marks a task done.
func (s *Service) CompleteTask(ctx context.Context, p *auth.Principal, c *Case, id string) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE case_tasks SET done_at = ? WHERE id = ? AND case_id = ? AND done_at IS NULL`, s.now(), id, c.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return s.record(ctx, tx, p, c.OrgID, "case.task.done", "case", c.ID, map[string]any{"task_id": id})
	})
}

// Tasks lists a case's tasks, open ones first.
func (s *Service) Tasks(ctx context.Context, c *Case) ([]Task, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, title, COALESCE(assignee_id, ''), due_at, done_at FROM case_tasks WHERE case_id = ?
		ORDER BY CASE WHEN done_at IS NULL THEN 0 ELSE 1 END, created_at`, c.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		var t Task
		var due, done sql.NullTime
		if err := rows.Scan(&t.ID, &t.Title, &t.AssigneeID, &due, &done); err != nil {
			return nil, err
		}
		t.DueAt, t.DoneAt = tp(due), tp(done)
		out = append(out, t)
	}
	return out, rows.Err()
}

// AddNote adds an internal or shareable note.
func (s *Service) AddNote(ctx context.Context, p *auth.Principal, c *Case, body string, shareable bool) (*Note, error) {
	body, err := text("body", body, true, 20000)
	if err != nil {
		return nil, err
	}
	n := &Note{ID: store.NewID(), Author: p.Name, Body: body, Shareable: shareable, CreatedAt: s.now()}
	return n, s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO case_notes (id, case_id, org_id, author_id, author, body, shareable, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			n.ID, c.ID, c.OrgID, p.UserID, n.Author, n.Body, n.Shareable, n.CreatedAt); err != nil {
			return fmt.Errorf("add note: %w", err)
		}
		return s.record(ctx, tx, p, c.OrgID, "case.note.add", "case", c.ID, map[string]any{"note_id": n.ID, "shareable": shareable})
	})
}

// Notes lists a case's notes; shareableOnly leaves out internal ones.
func (s *Service) Notes(ctx context.Context, c *Case, shareableOnly bool) ([]Note, error) {
	q := `SELECT id, author, body, shareable, created_at FROM case_notes WHERE case_id = ?`
	if shareableOnly {
		q += ` AND shareable = TRUE`
	}
	rows, err := s.DB.Query(ctx, q+` ORDER BY created_at, id`, c.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		var n Note
		if err := rows.Scan(&n.ID, &n.Author, &n.Body, &n.Shareable, &n.CreatedAt); err != nil {
			return nil, err
		}
		n.CreatedAt = n.CreatedAt.UTC()
		out = append(out, n)
	}
	return out, rows.Err()
}

// AddAction records a recommended or taken action.
func (s *Service) AddAction(ctx context.Context, p *auth.Principal, c *Case, kind, stage, desc string) (*Action, error) {
	if !valid(ActionKinds, kind) {
		return nil, invalid("kind", "is not a known action")
	}
	if stage != "recommended" && stage != "taken" {
		return nil, invalid("stage", "must be recommended or taken")
	}
	desc, err := text("description", desc, false, 5000)
	if err != nil {
		return nil, err
	}
	a := &Action{ID: store.NewID(), Kind: kind, Stage: stage, Description: desc, CreatedAt: s.now()}
	return a, s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO case_actions (id, case_id, org_id, kind, stage, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			a.ID, c.ID, c.OrgID, a.Kind, a.Stage, a.Description, a.CreatedAt); err != nil {
			return fmt.Errorf("add action: %w", err)
		}
		return s.record(ctx, tx, p, c.OrgID, "case.action.add", "case", c.ID, map[string]any{"kind": kind, "stage": stage})
	})
}

// Actions lists a case's actions.
func (s *Service) Actions(ctx context.Context, c *Case) ([]Action, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, kind, stage, description, created_at FROM case_actions WHERE case_id = ? ORDER BY created_at, id`, c.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Action
	for rows.Next() {
		var a Action
		if err := rows.Scan(&a.ID, &a.Kind, &a.Stage, &a.Description, &a.CreatedAt); err != nil {
			return nil, err
		}
		a.CreatedAt = a.CreatedAt.UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// LogTime records time spent on a case.
func (s *Service) LogTime(ctx context.Context, p *auth.Principal, c *Case, seconds int64, note string) error {
	if seconds <= 0 || seconds > 24*3600 {
		return invalid("minutes", "must be from 1 minute to 24 hours")
	}
	note, err := text("note", note, false, 500)
	if err != nil {
		return err
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO case_time (id, case_id, org_id, user_id, seconds, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			store.NewID(), c.ID, c.OrgID, p.UserID, seconds, note, s.now()); err != nil {
			return fmt.Errorf("log time: %w", err)
		}
		return s.record(ctx, tx, p, c.OrgID, "case.time", "case", c.ID, map[string]any{"seconds": seconds})
	})
}

// ---- interviews ----

// InterviewInput schedules or records an interview.
type InterviewInput struct {
	Interviewee  string     `json:"interviewee"`
	Interviewers string     `json:"interviewers,omitempty"`
	ScheduledAt  *time.Time `json:"scheduled_at,omitempty"`
	RecordedAt   *time.Time `json:"recorded_at,omitempty"`
	Location     string     `json:"location,omitempty"`
	Statement    string     `json:"statement,omitempty"`
	Signed       bool       `json:"signed,omitempty"`
}

// Validate checks an interview.
func (in *InterviewInput) Validate() error {
	var err error
	if in.Interviewee, err = text("interviewee", in.Interviewee, true, 200); err != nil {
		return err
	}
	if in.Interviewers, err = text("interviewers", in.Interviewers, false, 500); err != nil {
		return err
	}
	if in.Location, err = text("location", in.Location, false, 200); err != nil {
		return err
	}
	if in.Statement, err = text("statement", in.Statement, false, 200000); err != nil {
		return err
	}
	if in.ScheduledAt == nil && in.RecordedAt == nil {
		return invalid("scheduled_at", "give when the interview is scheduled or when it was recorded")
	}
	if in.Signed && (in.RecordedAt == nil || in.Statement == "") {
		return invalid("signed", "only a recorded statement can be signed")
	}
	return nil
}

// AddInterview schedules or records an interview.
func (s *Service) AddInterview(ctx context.Context, p *auth.Principal, c *Case, in InterviewInput) (*Interview, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	now := s.now()
	iv := &Interview{ID: store.NewID(), CaseID: c.ID, Interviewee: in.Interviewee, Interviewers: in.Interviewers, ScheduledAt: in.ScheduledAt,
		RecordedAt: in.RecordedAt, Location: in.Location, Statement: in.Statement, Signed: in.Signed, CreatedAt: now}
	return iv, s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO interviews (id, case_id, org_id, interviewee, interviewers, scheduled_at, recorded_at, location, statement, signed, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, iv.ID, c.ID, c.OrgID, iv.Interviewee, iv.Interviewers, nt(iv.ScheduledAt), nt(iv.RecordedAt),
			iv.Location, iv.Statement, iv.Signed, now, now); err != nil {
			return fmt.Errorf("add interview: %w", err)
		}
		return s.record(ctx, tx, p, c.OrgID, "case.interview.add", "case", c.ID, map[string]any{"interview_id": iv.ID, "signed": iv.Signed})
	})
}

// RecordInterview stores the statement of a scheduled interview. A signed
// statement is final: it cannot be changed afterwards.
func (s *Service) RecordInterview(ctx context.Context, p *auth.Principal, c *Case, id string, in InterviewInput) error {
	if err := in.Validate(); err != nil {
		return err
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE interviews SET interviewee = ?, interviewers = ?, scheduled_at = ?, recorded_at = ?, location = ?, statement = ?, signed = ?, updated_at = ?
			WHERE id = ? AND case_id = ? AND signed = FALSE`, in.Interviewee, in.Interviewers, nt(in.ScheduledAt), nt(in.RecordedAt), in.Location, in.Statement, in.Signed, s.now(), id, c.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var signed bool
			if tx.QueryRow(ctx, `SELECT signed FROM interviews WHERE id = ? AND case_id = ?`, id, c.ID).Scan(&signed) == nil && signed {
				return invalid("statement", "is signed and can no longer be changed")
			}
			return store.ErrNotFound
		}
		return s.record(ctx, tx, p, c.OrgID, "case.interview.record", "case", c.ID, map[string]any{"interview_id": id, "signed": in.Signed})
	})
}

// Interviews lists a case's interviews.
func (s *Service) Interviews(ctx context.Context, c *Case) ([]Interview, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, interviewee, interviewers, scheduled_at, recorded_at, location, statement, signed, created_at FROM interviews
		WHERE case_id = ? ORDER BY COALESCE(recorded_at, scheduled_at), id`, c.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Interview
	for rows.Next() {
		iv := Interview{CaseID: c.ID}
		var sch, rec sql.NullTime
		if err := rows.Scan(&iv.ID, &iv.Interviewee, &iv.Interviewers, &sch, &rec, &iv.Location, &iv.Statement, &iv.Signed, &iv.CreatedAt); err != nil {
			return nil, err
		}
		iv.ScheduledAt, iv.RecordedAt, iv.CreatedAt = tp(sch), tp(rec), iv.CreatedAt.UTC()
		out = append(out, iv)
	}
	return out, rows.Err()
}

func csvList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
