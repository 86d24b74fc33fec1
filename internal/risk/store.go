package risk

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"vigil/internal/audit"
	"vigil/internal/auth"
	"vigil/internal/risk/matrix"
	"vigil/internal/store"
)

// Service stores the register, analyses and path models. Every read takes
// the caller's scope (the organisations they may see for the action).
type Service struct {
	DB  *store.DB
	Now func() time.Time
}

func (s *Service) record(ctx context.Context, tx *store.Tx, p *auth.Principal, org, action, typ, id string, data any) error {
	e := audit.Entry{OrgID: org, At: s.Now().UTC(), Actor: p.Label(), Action: action, ObjectType: typ, ObjectID: id, Data: data}
	if p != nil {
		e.ActorID = p.UserID
	}
	return audit.Append(ctx, tx, e)
}

// in is store.In, named short for the many scoped queries.
var in = store.In

// Page bounds a list query.
type Page struct{ Limit, Offset int }

func (p Page) norm() Page {
	if p.Limit <= 0 || p.Limit > 5000 {
		p.Limit = 50
	}
	p.Offset = max(0, p.Offset)
	return p
}

// ---- matrix ----

// rowQuerier is what both *store.DB and *store.Tx offer for one-row reads.
type rowQuerier interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// Matrix returns org's matrix, AS4360 5×5 until the organisation saves its
// own. q is s.DB, or the transaction that is about to rate a risk on it.
func (s *Service) Matrix(ctx context.Context, q rowQuerier, org string) (*matrix.Matrix, error) {
	var raw string
	err := q.QueryRow(ctx, `SELECT matrix FROM risk_matrices WHERE org_id = ?`, org).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return matrix.AS4360(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("risk matrix: %w", err)
	}
	var m matrix.Matrix
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("risk matrix of %s: %w", org, err)
	}
	return &m, nil
}

// SetMatrix replaces org's matrix and re-rates every risk on it. A matrix
// with fewer levels than a risk uses is refused: the analyst must re-rate
// those risks first rather than have them silently moved.
func (s *Service) SetMatrix(ctx context.Context, org string, m *matrix.Matrix, p *auth.Principal) error {
	if err := m.Validate(); err != nil {
		return fieldErr("", err)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		var l, c int
		err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(CASE WHEN residual_likelihood > likelihood THEN residual_likelihood ELSE likelihood END), -1),
			COALESCE(MAX(CASE WHEN residual_consequence > consequence THEN residual_consequence ELSE consequence END), -1)
			FROM risks WHERE org_id = ?`, org).Scan(&l, &c)
		if err != nil {
			return fmt.Errorf("risk levels in use: %w", err)
		}
		if l >= len(m.Likelihood) {
			return invalid("likelihood", fmt.Sprintf("needs at least %d levels: risks are rated up to level %d", l+1, l))
		}
		if c >= len(m.Consequence) {
			return invalid("consequence", fmt.Sprintf("needs at least %d levels: risks are rated up to level %d", c+1, c))
		}
		now := s.Now().UTC()
		if _, err := tx.Exec(ctx, `DELETE FROM risk_matrices WHERE org_id = ?`, org); err != nil {
			return fmt.Errorf("replace risk matrix: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO risk_matrices (org_id, matrix, updated_at) VALUES (?, ?, ?)`, org, string(raw), now); err != nil {
			return fmt.Errorf("save risk matrix: %w", err)
		}
		// Re-rate in Go: the cells are configuration, not SQL.
		rows, err := tx.Query(ctx, `SELECT id, likelihood, consequence, residual_likelihood, residual_consequence FROM risks WHERE org_id = ?`, org)
		if err != nil {
			return fmt.Errorf("re-rate risks: %w", err)
		}
		type rerate struct {
			id     string
			r, rr  string
			hasRes bool
		}
		var pending []rerate
		for rows.Next() {
			var x rerate
			var l, c int
			var rl, rc sql.NullInt64
			if err := rows.Scan(&x.id, &l, &c, &rl, &rc); err != nil {
				rows.Close()
				return err
			}
			rt, _ := m.Rate(l, c)
			x.r = rt.ID
			if rl.Valid && rc.Valid {
				rt, _ := m.Rate(int(rl.Int64), int(rc.Int64))
				x.rr = rt.ID
			}
			pending = append(pending, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, x := range pending {
			if _, err := tx.Exec(ctx, `UPDATE risks SET rating = ?, residual_rating = ? WHERE id = ?`, x.r, x.rr, x.id); err != nil {
				return fmt.Errorf("re-rate risk: %w", err)
			}
		}
		return s.record(ctx, tx, p, org, "risk.matrix.update", "risk_matrix", org, map[string]any{"name": m.Name, "rerated": len(pending)})
	})
}

// ---- risks ----

const riskCols = `id, org_id, site_id, title, asset, threat, description, owner, status, strategy, likelihood, consequence, rating,
	residual_likelihood, residual_consequence, residual_rating, review_at, version, created_at, updated_at`

func scanRisk(sc interface{ Scan(...any) error }) (*Risk, error) {
	var r Risk
	var rl, rc sql.NullInt64
	var review sql.NullTime
	err := sc.Scan(&r.ID, &r.OrgID, &r.SiteID, &r.Title, &r.Asset, &r.Threat, &r.Description, &r.Owner, &r.Status, &r.Strategy,
		&r.Likelihood, &r.Consequence, &r.Rating, &rl, &rc, &r.ResidualR, &review, &r.Version, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return nil, store.NotFound(err)
	}
	if rl.Valid && rc.Valid {
		l, c := int(rl.Int64), int(rc.Int64)
		r.ResidualL, r.ResidualC = &l, &c
	}
	if review.Valid {
		t := review.Time.UTC()
		r.ReviewAt = &t
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	r.Treatments = []Treatment{}
	return &r, nil
}

func intOrNil(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func timeOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// checkRefs proves the risk's site and devices belong to its organisation,
// so a crafted ID cannot link another tenant's objects.
func checkRefs(ctx context.Context, tx *store.Tx, r *Risk) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM sites WHERE id = ? AND org_id = ?`, r.SiteID, r.OrgID).Scan(&n); err != nil {
		return fmt.Errorf("check site: %w", err)
	}
	if n == 0 {
		return invalid("site_id", "is not a site of this organisation")
	}
	for i, t := range r.Treatments {
		if t.Kind != TreatDevice {
			continue
		}
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM devices WHERE id = ? AND org_id = ? AND site_id = ?`, t.DeviceID, r.OrgID, r.SiteID).Scan(&n); err != nil {
			return fmt.Errorf("check device: %w", err)
		}
		if n == 0 {
			return invalid(fmt.Sprintf("treatments[%d].device_id", i), "is not a device of the risk's site")
		}
	}
	return nil
}

func (s *Service) saveTreatments(ctx context.Context, tx *store.Tx, r *Risk) error {
	if _, err := tx.Exec(ctx, `DELETE FROM risk_treatments WHERE risk_id = ?`, r.ID); err != nil {
		return fmt.Errorf("replace treatments: %w", err)
	}
	for i, t := range r.Treatments {
		var dev any
		if t.DeviceID != "" {
			dev = t.DeviceID
		}
		if _, err := tx.Exec(ctx, `INSERT INTO risk_treatments (id, org_id, risk_id, kind, device_id, description, position) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			store.NewID(), r.OrgID, r.ID, t.Kind, dev, t.Description, i); err != nil {
			return fmt.Errorf("save treatment: %w", err)
		}
	}
	return nil
}

func (s *Service) revision(ctx context.Context, tx *store.Tx, r *Risk, p *auth.Principal) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	var actor any
	if p != nil {
		actor = p.UserID
	}
	_, err = tx.Exec(ctx, `INSERT INTO risk_revisions (id, org_id, risk_id, version, at, actor_id, actor, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		store.NewID(), r.OrgID, r.ID, r.Version, r.UpdatedAt, actor, p.Label(), string(raw))
	if err != nil {
		return fmt.Errorf("risk revision: %w", err)
	}
	return nil
}

// CreateRisk adds r to r.OrgID (already authorised by the caller), rated on
// the organisation's matrix.
func (s *Service) CreateRisk(ctx context.Context, r *Risk, p *auth.Principal) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		m, err := s.Matrix(ctx, tx, r.OrgID)
		if err != nil {
			return err
		}
		if err := r.Validate(m); err != nil {
			return err
		}
		if err := checkRefs(ctx, tx, r); err != nil {
			return err
		}
		now := s.Now().UTC()
		r.ID, r.Version, r.CreatedAt, r.UpdatedAt = store.NewID(), 1, now, now
		_, err = tx.Exec(ctx, `INSERT INTO risks (`+riskCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.OrgID, r.SiteID, r.Title, r.Asset, r.Threat, r.Description, r.Owner, r.Status, r.Strategy, r.Likelihood, r.Consequence, r.Rating,
			intOrNil(r.ResidualL), intOrNil(r.ResidualC), r.ResidualR, timeOrNil(r.ReviewAt), r.Version, r.CreatedAt, r.UpdatedAt)
		if err != nil {
			return fmt.Errorf("create risk: %w", err)
		}
		if err := s.saveTreatments(ctx, tx, r); err != nil {
			return err
		}
		if err := s.revision(ctx, tx, r, p); err != nil {
			return err
		}
		return s.record(ctx, tx, p, r.OrgID, "risk.create", "risk", r.ID, r)
	})
}

// UpdateRisk saves r's fields as a new version. A risk cannot move to
// another site's organisation: the site must stay within r.OrgID.
func (s *Service) UpdateRisk(ctx context.Context, r *Risk, p *auth.Principal) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		m, err := s.Matrix(ctx, tx, r.OrgID)
		if err != nil {
			return err
		}
		if err := r.Validate(m); err != nil {
			return err
		}
		if err := checkRefs(ctx, tx, r); err != nil {
			return err
		}
		r.UpdatedAt = s.Now().UTC()
		res, err := tx.Exec(ctx, `UPDATE risks SET site_id = ?, title = ?, asset = ?, threat = ?, description = ?, owner = ?, status = ?, strategy = ?,
			likelihood = ?, consequence = ?, rating = ?, residual_likelihood = ?, residual_consequence = ?, residual_rating = ?, review_at = ?,
			version = version + 1, updated_at = ? WHERE id = ? AND org_id = ? AND version = ?`,
			r.SiteID, r.Title, r.Asset, r.Threat, r.Description, r.Owner, r.Status, r.Strategy, r.Likelihood, r.Consequence, r.Rating,
			intOrNil(r.ResidualL), intOrNil(r.ResidualC), r.ResidualR, timeOrNil(r.ReviewAt), r.UpdatedAt, r.ID, r.OrgID, r.Version)
		if err != nil {
			return fmt.Errorf("update risk: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return store.ErrConflict // someone saved a newer version meanwhile
		}
		r.Version++
		if err := s.saveTreatments(ctx, tx, r); err != nil {
			return err
		}
		if err := s.revision(ctx, tx, r, p); err != nil {
			return err
		}
		return s.record(ctx, tx, p, r.OrgID, "risk.update", "risk", r.ID, r)
	})
}

// DeleteRisk removes a risk with its analyses; its revisions go with it but
// the audit log keeps every state it had.
func (s *Service) DeleteRisk(ctx context.Context, r *Risk, p *auth.Principal) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		for _, q := range []string{`DELETE FROM risk_analyses WHERE risk_id = ?`, `DELETE FROM risk_treatments WHERE risk_id = ?`,
			`DELETE FROM risk_revisions WHERE risk_id = ?`, `DELETE FROM risks WHERE id = ?`} {
			if _, err := tx.Exec(ctx, q, r.ID); err != nil {
				return fmt.Errorf("delete risk: %w", err)
			}
		}
		return s.record(ctx, tx, p, r.OrgID, "risk.delete", "risk", r.ID, map[string]any{"title": r.Title, "version": r.Version})
	})
}

// Risk returns one risk within scope, with its treatments.
func (s *Service) Risk(ctx context.Context, scope []string, id string) (*Risk, error) {
	ph, args := in(scope)
	r, err := scanRisk(s.DB.QueryRow(ctx, `SELECT `+riskCols+` FROM risks WHERE id = ? AND org_id IN (`+ph+`)`, append([]any{id}, args...)...))
	if err != nil {
		return nil, err
	}
	return r, s.loadTreatments(ctx, []*Risk{r})
}

// loadTreatments fills the treatments of rs with one query. A device link
// whose device was deleted (ON DELETE SET NULL) is shown as a procedure so
// the control's description is not lost.
func (s *Service) loadTreatments(ctx context.Context, rs []*Risk) error {
	if len(rs) == 0 {
		return nil
	}
	byID := make(map[string]*Risk, len(rs))
	ids := make([]string, len(rs))
	for i, r := range rs {
		byID[r.ID], ids[i] = r, r.ID
	}
	ph, args := in(ids)
	rows, err := s.DB.Query(ctx, `SELECT risk_id, kind, COALESCE(device_id, ''), description FROM risk_treatments WHERE risk_id IN (`+ph+`) ORDER BY risk_id, position`, args...)
	if err != nil {
		return fmt.Errorf("treatments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var t Treatment
		if err := rows.Scan(&id, &t.Kind, &t.DeviceID, &t.Description); err != nil {
			return err
		}
		if t.Kind == TreatDevice && t.DeviceID == "" {
			t.Description = strings.TrimSpace(t.Description + " (device removed)")
			t.Kind = TreatProcedure
		}
		if r := byID[id]; r != nil {
			r.Treatments = append(r.Treatments, t)
		}
	}
	return rows.Err()
}

// Filter narrows the register. Levels are pointers so level 0 can be asked for.
type Filter struct {
	OrgID, SiteID, Status, Rating, Q string
	Likelihood, Consequence          *int
	Residual                         bool // Likelihood/Consequence/Rating match the residual rating (inherent where none)
	Overdue                          bool
}

func (s *Service) where(scope []string, f Filter) (string, []any) {
	ph, args := in(scope)
	q := ` WHERE org_id IN (` + ph + `)`
	add := func(cond string, v any) {
		q += ` AND ` + cond
		args = append(args, v)
	}
	l, c, rating := `likelihood`, `consequence`, `rating`
	if f.Residual {
		l, c, rating = `COALESCE(residual_likelihood, likelihood)`, `COALESCE(residual_consequence, consequence)`, `CASE WHEN residual_rating = '' THEN rating ELSE residual_rating END`
	}
	if f.OrgID != "" {
		add(`org_id = ?`, f.OrgID)
	}
	if f.SiteID != "" {
		add(`site_id = ?`, f.SiteID)
	}
	if f.Status != "" {
		add(`status = ?`, f.Status)
	}
	if f.Rating != "" {
		add(rating+` = ?`, f.Rating)
	}
	if f.Likelihood != nil {
		add(l+` = ?`, *f.Likelihood)
	}
	if f.Consequence != nil {
		add(c+` = ?`, *f.Consequence)
	}
	if f.Overdue {
		add(`status <> 'closed' AND review_at < ?`, s.Now().UTC())
	}
	if f.Q != "" {
		lk := s.DB.Dialect.Like()
		v := "%" + strings.NewReplacer("%", "", "_", "").Replace(strings.TrimSpace(f.Q)) + "%"
		q += ` AND (title ` + lk + ` ? OR asset ` + lk + ` ? OR threat ` + lk + ` ? OR owner ` + lk + ` ?)`
		args = append(args, v, v, v, v)
	}
	return q, args
}

// Risks lists the register in scope, most severe inherent score first.
func (s *Service) Risks(ctx context.Context, scope []string, f Filter, pg Page) ([]*Risk, error) {
	pg = pg.norm()
	w, args := s.where(scope, f)
	rows, err := s.DB.Query(ctx, `SELECT `+riskCols+` FROM risks`+w+` ORDER BY (likelihood + 1) * (consequence + 1) DESC, title, id LIMIT ? OFFSET ?`,
		append(args, pg.Limit, pg.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("list risks: %w", err)
	}
	defer rows.Close()
	out := []*Risk{}
	for rows.Next() {
		r, err := scanRisk(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return out, s.loadTreatments(ctx, out)
}

// Cell is one heat-map cell's count.
type Cell struct{ Likelihood, Consequence, Count int }

// Heat counts the risks per matrix cell (residual where rated, when
// f.Residual), for one organisation's matrix.
func (s *Service) Heat(ctx context.Context, scope []string, f Filter) ([]Cell, error) {
	w, args := s.where(scope, f)
	l, c := `likelihood`, `consequence`
	if f.Residual {
		l, c = `COALESCE(residual_likelihood, likelihood)`, `COALESCE(residual_consequence, consequence)`
	}
	rows, err := s.DB.Query(ctx, `SELECT `+l+`, `+c+`, COUNT(*) FROM risks`+w+` GROUP BY `+l+`, `+c, args...)
	if err != nil {
		return nil, fmt.Errorf("heat map: %w", err)
	}
	defer rows.Close()
	var out []Cell
	for rows.Next() {
		var x Cell
		if err := rows.Scan(&x.Likelihood, &x.Consequence, &x.Count); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// Revision is one saved state of a risk.
type Revision struct {
	Version int       `json:"version"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Risk    *Risk     `json:"risk"`
}

// Revisions returns r's history, newest first.
func (s *Service) Revisions(ctx context.Context, r *Risk) ([]Revision, error) {
	rows, err := s.DB.Query(ctx, `SELECT version, at, actor, data FROM risk_revisions WHERE risk_id = ? AND org_id = ? ORDER BY version DESC`, r.ID, r.OrgID)
	if err != nil {
		return nil, fmt.Errorf("risk revisions: %w", err)
	}
	defer rows.Close()
	out := []Revision{}
	for rows.Next() {
		var v Revision
		var raw string
		if err := rows.Scan(&v.Version, &v.At, &v.Actor, &raw); err != nil {
			return nil, err
		}
		v.At = v.At.UTC()
		if err := json.Unmarshal([]byte(raw), &v.Risk); err != nil {
			return nil, fmt.Errorf("risk revision %d: %w", v.Version, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
