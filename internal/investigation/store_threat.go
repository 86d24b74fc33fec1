package investigation

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"vigil/internal/auth"
	"vigil/internal/org"
	"vigil/internal/store"
)

// AssessmentInput is a structured threat assessment.
type AssessmentInput struct {
	Behaviours   []string   `json:"behaviours"`
	Level        string     `json:"level"`
	Plan         string     `json:"plan"`
	NextReviewAt *time.Time `json:"next_review_at,omitempty"`
}

// Validate checks an assessment. A high or imminent threat needs a
// management plan and a review date.
func (in *AssessmentInput) Validate() error {
	for _, b := range in.Behaviours {
		if !valid(Behaviours, b) {
			return invalid("behaviours", "contains an unknown behaviour "+b)
		}
	}
	slices.Sort(in.Behaviours)
	in.Behaviours = slices.Compact(in.Behaviours)
	if !valid(Levels, in.Level) {
		return invalid("level", "must be low, moderate, high or imminent")
	}
	var err error
	if in.Plan, err = text("plan", in.Plan, in.Level == "high" || in.Level == "imminent", 20000); err != nil {
		return err
	}
	if in.NextReviewAt == nil && in.Level != "low" {
		return invalid("next_review_at", "is required unless the threat is low")
	}
	return nil
}

// Assess appends a new assessment; earlier ones are kept as history.
func (s *Service) Assess(ctx context.Context, p *auth.Principal, c *Case, in AssessmentInput) (*Assessment, error) {
	if c.Type != "threat" {
		return nil, invalid("level", "threat assessment applies to workplace violence / threat cases")
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	a := &Assessment{ID: store.NewID(), Behaviours: in.Behaviours, Level: in.Level, Plan: in.Plan, NextReviewAt: in.NextReviewAt, AssessedBy: p.Name, CreatedAt: s.now()}
	return a, s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO threat_assessments (id, case_id, org_id, behaviours, level, plan, next_review_at, assessed_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, c.ID, c.OrgID, strings.Join(a.Behaviours, ","), a.Level, a.Plan, nt(a.NextReviewAt), a.AssessedBy, a.CreatedAt); err != nil {
			return fmt.Errorf("assess: %w", err)
		}
		// The next review is the case's due date while it is open.
		if a.NextReviewAt != nil {
			if _, err := tx.Exec(ctx, `UPDATE cases SET due_at = ?, updated_at = ? WHERE id = ?`, a.NextReviewAt.UTC(), a.CreatedAt, c.ID); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, p, c.OrgID, "threat.assess", "case", c.ID, map[string]any{"level": a.Level, "behaviours": len(a.Behaviours)})
	})
}

// Assessments lists a case's assessments, newest first.
func (s *Service) Assessments(ctx context.Context, c *Case) ([]Assessment, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, behaviours, level, plan, next_review_at, assessed_by, created_at FROM threat_assessments WHERE case_id = ? ORDER BY created_at DESC, id DESC`, c.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Assessment
	for rows.Next() {
		var a Assessment
		var bs string
		var next sql.NullTime
		if err := rows.Scan(&a.ID, &bs, &a.Level, &a.Plan, &next, &a.AssessedBy, &a.CreatedAt); err != nil {
			return nil, err
		}
		a.Behaviours, a.NextReviewAt, a.CreatedAt = csvList(bs), tp(next), a.CreatedAt.UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// BOLOInput issues a be-on-the-lookout notice.
type BOLOInput struct {
	SubjectName string   `json:"subject_name"`
	Description string   `json:"description"`
	SiteIDs     []string `json:"site_ids"`
	PhotoSHA256 string   `json:"-"`
}

// IssueBOLO publishes a notice to officers of the chosen sites of the case's
// organisation.
func (s *Service) IssueBOLO(ctx context.Context, p *auth.Principal, c *Case, in BOLOInput) (*BOLO, error) {
	var err error
	if in.SubjectName, err = text("subject_name", in.SubjectName, true, 200); err != nil {
		return nil, err
	}
	if in.Description, err = text("description", in.Description, true, 5000); err != nil {
		return nil, err
	}
	if len(in.SiteIDs) == 0 {
		return nil, invalid("site_ids", "choose at least one site")
	}
	slices.Sort(in.SiteIDs)
	in.SiteIDs = slices.Compact(in.SiteIDs)
	sites, err := s.Sites(ctx, c.OrgID)
	if err != nil {
		return nil, err
	}
	for _, id := range in.SiteIDs {
		if !slices.ContainsFunc(sites, func(x *org.Site) bool { return x.ID == id }) {
			return nil, invalid("site_ids", "contains a site that is not the organisation's")
		}
	}
	b := &BOLO{ID: store.NewID(), CaseID: c.ID, OrgID: c.OrgID, SubjectName: in.SubjectName, Description: in.Description, PhotoSHA256: in.PhotoSHA256,
		SiteIDs: in.SiteIDs, Active: true, CreatedAt: s.now()}
	return b, s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO bolos (id, case_id, org_id, subject_name, description, photo_sha256, site_ids, active, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, TRUE, ?, ?)`,
			b.ID, c.ID, c.OrgID, b.SubjectName, b.Description, b.PhotoSHA256, strings.Join(b.SiteIDs, ","), p.UserID, b.CreatedAt); err != nil {
			return fmt.Errorf("bolo: %w", err)
		}
		return s.record(ctx, tx, p, c.OrgID, "bolo.issue", "case", c.ID, map[string]any{"bolo_id": b.ID, "sites": len(b.SiteIDs)})
	})
}

// EndBOLO withdraws a notice.
func (s *Service) EndBOLO(ctx context.Context, p *auth.Principal, c *Case, id string) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE bolos SET active = FALSE, ended_at = ? WHERE id = ? AND case_id = ? AND active = TRUE`, s.now(), id, c.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return s.record(ctx, tx, p, c.OrgID, "bolo.end", "case", c.ID, map[string]any{"bolo_id": id})
	})
}

const boloCols = `id, case_id, org_id, subject_name, description, photo_sha256, site_ids, active, created_at, ended_at`

func scanBOLO(sc interface{ Scan(...any) error }) (*BOLO, error) {
	var b BOLO
	var sites string
	var ended sql.NullTime
	if err := sc.Scan(&b.ID, &b.CaseID, &b.OrgID, &b.SubjectName, &b.Description, &b.PhotoSHA256, &sites, &b.Active, &b.CreatedAt, &ended); err != nil {
		return nil, store.NotFound(err)
	}
	b.SiteIDs, b.CreatedAt, b.EndedAt = csvList(sites), b.CreatedAt.UTC(), tp(ended)
	return &b, nil
}

func (s *Service) bolos(ctx context.Context, q string, args ...any) ([]*BOLO, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+boloCols+` FROM bolos WHERE `+q+` ORDER BY created_at DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("bolos: %w", err)
	}
	defer rows.Close()
	var out []*BOLO
	for rows.Next() {
		b, err := scanBOLO(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// CaseBOLOs lists a case's notices.
func (s *Service) CaseBOLOs(ctx context.Context, c *Case) ([]*BOLO, error) {
	return s.bolos(ctx, `case_id = ?`, c.ID)
}

// ActiveBOLOs lists the active notices of the organisations where p may
// read BOLOs, optionally for one site. Officers see the notice, not the case.
func (s *Service) ActiveBOLOs(ctx context.Context, p *auth.Principal, siteID string) ([]*BOLO, error) {
	ph, args := in(p.OrgsWhere(auth.BoloRead))
	out, err := s.bolos(ctx, `active = TRUE AND org_id IN (`+ph+`)`, args...)
	if err != nil || siteID == "" {
		return out, err
	}
	return slices.DeleteFunc(out, func(b *BOLO) bool { return !slices.Contains(b.SiteIDs, siteID) }), nil
}

// BOLOFor returns one active notice p may read.
func (s *Service) BOLOFor(ctx context.Context, p *auth.Principal, id string) (*BOLO, error) {
	ph, args := in(p.OrgsWhere(auth.BoloRead))
	return scanBOLO(s.DB.QueryRow(ctx, `SELECT `+boloCols+` FROM bolos WHERE id = ? AND org_id IN (`+ph+`)`, append([]any{id}, args...)...))
}

// RevocationInput records credentials to disable.
type RevocationInput struct {
	Person      string `json:"person"`
	Credentials string `json:"credentials"`
	Reason      string `json:"reason"`
}

// RequestRevocation records a "revoke access" action for the
// visitor/credential module (status pending until it acts).
func (s *Service) RequestRevocation(ctx context.Context, p *auth.Principal, c *Case, in RevocationInput) (*Revocation, error) {
	var err error
	if in.Person, err = text("person", in.Person, true, 200); err != nil {
		return nil, err
	}
	if in.Credentials, err = text("credentials", in.Credentials, true, 2000); err != nil {
		return nil, err
	}
	if in.Reason, err = text("reason", in.Reason, true, 2000); err != nil {
		return nil, err
	}
	r := &Revocation{ID: store.NewID(), CaseID: c.ID, OrgID: c.OrgID, Person: in.Person, Credentials: in.Credentials, Reason: in.Reason, Status: "pending", CreatedAt: s.now()}
	return r, s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO access_revocations (id, case_id, org_id, person, credentials, reason, status, requested_by, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
			r.ID, c.ID, c.OrgID, r.Person, r.Credentials, r.Reason, p.UserID, r.CreatedAt); err != nil {
			return fmt.Errorf("revocation: %w", err)
		}
		return s.record(ctx, tx, p, c.OrgID, "access.revoke.request", "case", c.ID, map[string]any{"revocation_id": r.ID})
	})
}

// Revocations lists a case's revocation requests.
func (s *Service) Revocations(ctx context.Context, c *Case) ([]Revocation, error) {
	return s.revocations(ctx, `case_id = ?`, c.ID)
}

// PendingRevocations lists every organisation's pending requests, for the
// visitor/credential module to act on.
func (s *Service) PendingRevocations(ctx context.Context, orgID string) ([]Revocation, error) {
	return s.revocations(ctx, `org_id = ? AND status = 'pending'`, orgID)
}

func (s *Service) revocations(ctx context.Context, q string, args ...any) ([]Revocation, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, case_id, org_id, person, credentials, reason, status, created_at FROM access_revocations WHERE `+q+` ORDER BY created_at`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Revocation
	for rows.Next() {
		var r Revocation
		if err := rows.Scan(&r.ID, &r.CaseID, &r.OrgID, &r.Person, &r.Credentials, &r.Reason, &r.Status, &r.CreatedAt); err != nil {
			return nil, err
		}
		r.CreatedAt = r.CreatedAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// Sites lists an organisation's sites (for choosing where a BOLO applies).
func (s *Service) Sites(ctx context.Context, orgID string) ([]*org.Site, error) {
	return s.Orgs.Sites(ctx, []string{orgID}, org.SiteFilter{OrgID: orgID}, org.Page{Limit: 500})
}
