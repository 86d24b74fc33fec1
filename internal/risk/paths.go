package risk

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"time"

	"vigil/internal/auth"
	"vigil/internal/risk/pps"
	"vigil/internal/store"
	"vigil/internal/web"
)

// Limits on a stored path model: a facility's adversary sequence diagram
// has tens of elements; the bounds keep one request's analysis small.
const (
	MaxPathEdges    = 2000
	MaxUpgradeEdges = 300 // "which upgrade" re-analyses the diagram twice per edge
	MaxTopPaths     = 20
)

// PathModel is a facility's adversary sequence diagram: areas (nodes) and
// the elements between them (edges: fences, doors, walls, travel) with their
// detection probability and delay, and optionally the real zone or device
// each element stands for.
type PathModel struct {
	ID        string      `json:"id"`
	OrgID     string      `json:"org_id"`
	SiteID    string      `json:"site_id"`
	Name      string      `json:"name"`
	Diagram   pps.Diagram `json:"diagram"`
	Links     []EdgeLink  `json:"links"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// EdgeLink ties a diagram element to a zone or device of the model's site.
type EdgeLink struct {
	EdgeID   string `json:"edge_id"`
	ZoneID   string `json:"zone_id,omitempty"`
	DeviceID string `json:"device_id,omitempty"`
}

// Validate checks the name, the diagram (by the engine) and the links.
func (m *PathModel) Validate() error {
	var err error
	if m.Name, err = text("name", m.Name, true, 200); err != nil {
		return err
	}
	if m.SiteID == "" {
		return invalid("site_id", "is required")
	}
	if len(m.Diagram.Edges) > MaxPathEdges {
		return invalid("diagram.edges", fmt.Sprintf("holds more than %d elements; analyse it with `vigil risk paths`", MaxPathEdges))
	}
	if err := m.Diagram.Validate(); err != nil {
		return fieldErr("diagram", err)
	}
	edges := make(map[string]bool, len(m.Diagram.Edges))
	for _, e := range m.Diagram.Edges {
		edges[e.ID] = true
	}
	if m.Links == nil {
		m.Links = []EdgeLink{}
	}
	for i, l := range m.Links {
		f := fmt.Sprintf("links[%d]", i)
		if !edges[l.EdgeID] {
			return invalid(f+".edge_id", "is not an element of the diagram")
		}
		if (l.ZoneID == "") == (l.DeviceID == "") {
			return invalid(f, "names exactly one of zone_id and device_id")
		}
	}
	return nil
}

func (s *Service) checkLinks(ctx context.Context, tx *store.Tx, m *PathModel) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM sites WHERE id = ? AND org_id = ?`, m.SiteID, m.OrgID).Scan(&n); err != nil {
		return fmt.Errorf("check site: %w", err)
	}
	if n == 0 {
		return invalid("site_id", "is not a site of this organisation")
	}
	for i, l := range m.Links {
		q, id, f := `SELECT COUNT(*) FROM zones WHERE id = ? AND org_id = ? AND site_id = ?`, l.ZoneID, "zone_id"
		if l.DeviceID != "" {
			q, id, f = `SELECT COUNT(*) FROM devices WHERE id = ? AND org_id = ? AND site_id = ?`, l.DeviceID, "device_id"
		}
		if err := tx.QueryRow(ctx, q, id, m.OrgID, m.SiteID).Scan(&n); err != nil {
			return fmt.Errorf("check link: %w", err)
		}
		if n == 0 {
			return invalid(fmt.Sprintf("links[%d].%s", i, f), "is not on the model's site")
		}
	}
	return nil
}

type pathDoc struct {
	Diagram pps.Diagram `json:"diagram"`
	Links   []EdgeLink  `json:"links"`
}

// SavePathModel creates m (no ID yet) or replaces its diagram.
func (s *Service) SavePathModel(ctx context.Context, m *PathModel, p *auth.Principal) error {
	if err := m.Validate(); err != nil {
		return err
	}
	raw, err := json.Marshal(pathDoc{m.Diagram, m.Links})
	if err != nil {
		return err
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if err := s.checkLinks(ctx, tx, m); err != nil {
			return err
		}
		now := s.Now().UTC()
		action := "risk.path.update"
		if m.ID == "" {
			action = "risk.path.create"
			m.ID, m.CreatedAt = store.NewID(), now
			m.UpdatedAt = now
			if _, err := tx.Exec(ctx, `INSERT INTO risk_path_models (id, org_id, site_id, name, diagram, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				m.ID, m.OrgID, m.SiteID, m.Name, string(raw), now, now); err != nil {
				return fmt.Errorf("create path model: %w", err)
			}
		} else {
			m.UpdatedAt = now
			res, err := tx.Exec(ctx, `UPDATE risk_path_models SET name = ?, diagram = ?, updated_at = ? WHERE id = ? AND org_id = ?`, m.Name, string(raw), now, m.ID, m.OrgID)
			if err != nil {
				return fmt.Errorf("update path model: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return store.ErrNotFound
			}
		}
		return s.record(ctx, tx, p, m.OrgID, action, "risk_path_model", m.ID, map[string]any{"name": m.Name, "site_id": m.SiteID, "edges": len(m.Diagram.Edges)})
	})
}

// DeletePathModel removes a model (the audit log keeps that it existed).
func (s *Service) DeletePathModel(ctx context.Context, m *PathModel, p *auth.Principal) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM risk_path_models WHERE id = ? AND org_id = ?`, m.ID, m.OrgID); err != nil {
			return fmt.Errorf("delete path model: %w", err)
		}
		return s.record(ctx, tx, p, m.OrgID, "risk.path.delete", "risk_path_model", m.ID, map[string]any{"name": m.Name})
	})
}

const pathCols = `id, org_id, site_id, name, diagram, created_at, updated_at`

func scanPath(sc interface{ Scan(...any) error }) (*PathModel, error) {
	var m PathModel
	var raw string
	if err := sc.Scan(&m.ID, &m.OrgID, &m.SiteID, &m.Name, &raw, &m.CreatedAt, &m.UpdatedAt); err != nil {
		return nil, store.NotFound(err)
	}
	var d pathDoc
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return nil, fmt.Errorf("path model %s: %w", m.ID, err)
	}
	m.Diagram, m.Links = d.Diagram, d.Links
	if m.Links == nil {
		m.Links = []EdgeLink{}
	}
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	return &m, nil
}

// PathModel returns one model within scope.
func (s *Service) PathModel(ctx context.Context, scope []string, id string) (*PathModel, error) {
	ph, args := in(scope)
	return scanPath(s.DB.QueryRow(ctx, `SELECT `+pathCols+` FROM risk_path_models WHERE id = ? AND org_id IN (`+ph+`)`, append([]any{id}, args...)...))
}

// PathModels lists models in scope, optionally of one organisation or site.
func (s *Service) PathModels(ctx context.Context, scope []string, orgID, siteID string, pg Page) ([]*PathModel, error) {
	pg = pg.norm()
	ph, args := in(scope)
	q := `SELECT ` + pathCols + ` FROM risk_path_models WHERE org_id IN (` + ph + `)`
	if orgID != "" {
		q += ` AND org_id = ?`
		args = append(args, orgID)
	}
	if siteID != "" {
		q += ` AND site_id = ?`
		args = append(args, siteID)
	}
	rows, err := s.DB.Query(ctx, q+` ORDER BY name, id LIMIT ? OFFSET ?`, append(args, pg.Limit, pg.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("list path models: %w", err)
	}
	defer rows.Close()
	out := []*PathModel{}
	for rows.Next() {
		m, err := scanPath(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Upgrade is one candidate improvement of one element and the P(I) of the
// most vulnerable path once it is made.
type Upgrade struct {
	EdgeID string  `json:"edge_id"`
	Name   string  `json:"name"`
	Kind   string  `json:"kind"` // "detection" or "delay"
	From   float64 `json:"from"`
	To     float64 `json:"to"`
	PI     float64 `json:"p_interruption"`
	Gain   float64 `json:"gain"`
}

// PathAnalysis is a model's most-vulnerable-path result and the ranking of
// single-element upgrades.
type PathAnalysis struct {
	Paths    *pps.PathsResult `json:"paths"`
	PI       float64          `json:"p_interruption"` // of the most vulnerable path: the facility's P(I)
	PDStep   float64          `json:"pd_step"`
	DelayStp float64          `json:"delay_step"`
	Upgrades []Upgrade        `json:"upgrades"`
	// UpgradesSkipped is set when the diagram is too large to rank upgrades.
	UpgradesSkipped bool `json:"upgrades_skipped,omitempty"`
}

// AnalyzePaths finds the top most-vulnerable paths of d and, for diagrams
// up to MaxUpgradeEdges elements, ranks every single upgrade: each
// element's P(D) raised by pdStep (capped at 1) or its mean delay raised by
// delayStep seconds (sd scaled in proportion), re-running the analysis and
// reporting the new facility P(I) — the weakest path's, since the adversary
// switches to whatever path is then weakest.
func AnalyzePaths(d *pps.Diagram, top int, pdStep, delayStep float64) (*PathAnalysis, error) {
	if top <= 0 {
		top = 5
	}
	top = min(top, MaxTopPaths)
	switch {
	case math.IsNaN(pdStep) || pdStep < 0 || pdStep > 1:
		return nil, invalid("pd_step", "must be between 0 and 1")
	case math.IsNaN(delayStep) || delayStep < 0 || delayStep > 86400:
		return nil, invalid("delay_step", "must be between 0 and 86400 seconds")
	}
	res, err := pps.Analyze(d, pps.PathOptions{TopK: top})
	if err != nil {
		return nil, fieldErr("diagram", err)
	}
	a := &PathAnalysis{Paths: res, PDStep: pdStep, DelayStp: delayStep, Upgrades: []Upgrade{}}
	if len(res.MostVulnerable) == 0 {
		return a, nil
	}
	a.PI = res.MostVulnerable[0].PInterruption
	if len(d.Edges) > MaxUpgradeEdges {
		a.UpgradesSkipped = true
		return a, nil
	}
	try := func(i int, kind string, from, to float64, edit func(e *pps.Edge)) error {
		c := *d
		c.Edges = append([]pps.Edge(nil), d.Edges...)
		edit(&c.Edges[i])
		r, err := pps.Analyze(&c, pps.PathOptions{TopK: 1})
		if err != nil {
			return fieldErr("diagram", err)
		}
		pi := r.MostVulnerable[0].PInterruption
		a.Upgrades = append(a.Upgrades, Upgrade{EdgeID: d.Edges[i].ID, Name: d.Edges[i].Name, Kind: kind, From: from, To: to, PI: pi, Gain: pi - a.PI})
		return nil
	}
	for i, e := range d.Edges {
		if pdStep > 0 && e.PDetection < 1 {
			to := math.Min(1, e.PDetection+pdStep)
			if err := try(i, "detection", e.PDetection, to, func(x *pps.Edge) { x.PDetection = to }); err != nil {
				return nil, err
			}
		}
		if delayStep > 0 {
			to := e.Delay.Mean + delayStep
			if err := try(i, "delay", e.Delay.Mean, to, func(x *pps.Edge) {
				if x.Delay.Mean > 0 {
					x.Delay.SD *= to / x.Delay.Mean
				}
				x.Delay.Mean = to
			}); err != nil {
				return nil, err
			}
		}
	}
	sort.SliceStable(a.Upgrades, func(i, j int) bool { return a.Upgrades[i].Gain > a.Upgrades[j].Gain })
	return a, nil
}

// ---- API ----

func (h *Handlers) registerPaths() {
	s := h.Web
	s.API("GET", "/risk-paths", h.apiListPaths, web.Doc{Summary: "List facility path models", Response: web.List[*PathModel]{}, Query: []string{"org_id", "site_id", "limit", "offset"}})
	s.API("POST", "/risk-paths", h.apiCreatePath, web.Doc{Summary: "Create a facility path model (adversary sequence diagram) for a site", Request: pathInput{}, Response: &PathModel{}, Status: 201})
	s.API("GET", "/risk-paths/{id}", h.apiGetPath, web.Doc{Summary: "Get a path model", Response: &PathModel{}})
	s.API("PUT", "/risk-paths/{id}", h.apiPutPath, web.Doc{Summary: "Replace a path model's name, diagram and links", Request: pathInput{}, Response: &PathModel{}})
	s.API("DELETE", "/risk-paths/{id}", h.apiDeletePath, web.Doc{Summary: "Delete a path model", Status: 204})
	s.API("GET", "/risk-paths/{id}/analysis", h.apiAnalyzePath, web.Doc{Summary: "Most vulnerable paths (EASI) and the single upgrades that raise P(I) most",
		Response: &PathAnalysis{}, Query: []string{"top", "pd_step", "delay_step"}})
}

// pathInput is the API body: the diagram in the `vigil risk paths` shape.
type pathInput struct {
	SiteID  string      `json:"site_id"`
	Name    string      `json:"name"`
	Diagram pps.Diagram `json:"diagram"`
	Links   []EdgeLink  `json:"links,omitempty"`
}

func (h *Handlers) apiListPaths(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	scope := principal(r).OrgsWhere(auth.RiskRead)
	if len(scope) == 0 {
		return web.ErrForbidden
	}
	ms, err := h.S.PathModels(r.Context(), scope, r.URL.Query().Get("org_id"), r.URL.Query().Get("site_id"), Page{limit + 1, offset})
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(ms, limit, offset))
}

func (h *Handlers) apiCreatePath(w http.ResponseWriter, r *http.Request) error {
	var in pathInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	org, err := h.siteOrg(r, in.SiteID)
	if err != nil {
		return err
	}
	m := &PathModel{OrgID: org, SiteID: in.SiteID, Name: in.Name, Diagram: in.Diagram, Links: in.Links}
	if err := h.S.SavePathModel(r.Context(), m, principal(r)); err != nil {
		return err
	}
	return web.JSON(w, 201, m)
}

func (h *Handlers) loadPath(r *http.Request, action auth.Action) (*PathModel, error) {
	p := principal(r)
	m, err := h.S.PathModel(r.Context(), visible(p), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return m, need(p, action, m.OrgID)
}

func (h *Handlers) apiGetPath(w http.ResponseWriter, r *http.Request) error {
	m, err := h.loadPath(r, auth.RiskRead)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, m)
}

func (h *Handlers) apiPutPath(w http.ResponseWriter, r *http.Request) error {
	m, err := h.loadPath(r, auth.RiskWrite)
	if err != nil {
		return err
	}
	in := pathInput{SiteID: m.SiteID}
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.SiteID != m.SiteID {
		return web.BadField("site_id", "cannot be changed; create a model for the other site")
	}
	m.Name, m.Diagram, m.Links = in.Name, in.Diagram, in.Links
	if err := h.S.SavePathModel(r.Context(), m, principal(r)); err != nil {
		return err
	}
	return web.JSON(w, 200, m)
}

func (h *Handlers) apiDeletePath(w http.ResponseWriter, r *http.Request) error {
	m, err := h.loadPath(r, auth.RiskWrite)
	if err != nil {
		return err
	}
	if err := h.S.DeletePathModel(r.Context(), m, principal(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// analysisParams reads top, pd_step (default 0.1) and delay_step (default
// 30 s) from the query.
func analysisParams(r *http.Request) (top int, pd, delay float64, err error) {
	q := r.URL.Query()
	top, pd, delay = 5, 0.1, 30
	if v := q.Get("top"); v != "" {
		if top, err = strconv.Atoi(v); err != nil || top < 1 {
			return 0, 0, 0, web.BadField("top", "must be a whole number ≥ 1")
		}
	}
	if v := q.Get("pd_step"); v != "" {
		if pd, err = strconv.ParseFloat(v, 64); err != nil {
			return 0, 0, 0, web.BadField("pd_step", "must be a number")
		}
	}
	if v := q.Get("delay_step"); v != "" {
		if delay, err = strconv.ParseFloat(v, 64); err != nil {
			return 0, 0, 0, web.BadField("delay_step", "must be a number of seconds")
		}
	}
	return top, pd, delay, nil
}

func (h *Handlers) apiAnalyzePath(w http.ResponseWriter, r *http.Request) error {
	m, err := h.loadPath(r, auth.RiskRead)
	if err != nil {
		return err
	}
	top, pd, delay, err := analysisParams(r)
	if err != nil {
		return err
	}
	a, err := AnalyzePaths(&m.Diagram, top, pd, delay)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, a)
}
