package risk

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"vigil/internal/auth"
	"vigil/internal/risk/fair"
	"vigil/internal/risk/matrix"
	"vigil/internal/web"
)

// Handlers serves the risk register, analyses and path models.
type Handlers struct {
	S      *Service
	Places Places
	Web    *web.Server
}

// Register adds every route of this module: all of them on one screen.
func (h *Handlers) Register() {
	s := h.Web
	s.API("GET", "/risks", h.apiList, web.Doc{Summary: "List the risk register", Response: web.List[*RiskView]{},
		Query: []string{"org_id", "site_id", "status", "rating", "likelihood", "consequence", "residual", "overdue", "q", "limit", "offset"}})
	s.API("POST", "/risks", h.apiCreate, web.Doc{Summary: "Add a risk to the register", Request: riskInput{}, Response: &RiskView{}, Status: 201})
	s.API("GET", "/risks/{id}", h.apiGet, web.Doc{Summary: "Get a risk", Response: &RiskView{}})
	s.API("PATCH", "/risks/{id}", h.apiUpdate, web.Doc{Summary: "Update a risk (send the version you read)", Request: riskInput{}, Response: &RiskView{}})
	s.API("DELETE", "/risks/{id}", h.apiDelete, web.Doc{Summary: "Delete a risk and its analyses", Status: 204})
	s.API("GET", "/risks/{id}/revisions", h.apiRevisions, web.Doc{Summary: "A risk's saved versions, newest first", Response: []Revision{}})
	s.API("GET", "/risks/{id}/analyses", h.apiAnalyses, web.Doc{Summary: "A risk's FAIR analyses, newest first", Response: []*Analysis{}})
	s.API("POST", "/risks/{id}/analyses", h.apiCreateAnalysis, web.Doc{Summary: "Run and save a FAIR analysis, optionally with a proposed control", Request: analysisInput{}, Response: &Analysis{}, Status: 201})
	s.API("GET", "/risk-analyses/{id}", h.apiGetAnalysis, web.Doc{Summary: "Get a FAIR analysis", Response: &Analysis{}})
	s.API("GET", "/risk-matrix/{org_id}", h.apiGetMatrix, web.Doc{Summary: "An organisation's risk matrix (AS4360 5×5 until changed)", Response: &matrix.Matrix{}})
	s.API("PUT", "/risk-matrix/{org_id}", h.apiPutMatrix, web.Doc{Summary: "Replace an organisation's risk matrix and re-rate its risks", Request: matrix.Matrix{}, Response: &matrix.Matrix{}})
	h.registerPaths()
	h.registerUI()
}

// need is web.Need: 404 for another tenant, 403 for a forbidden action.
var need = web.Need

// visible lists every organisation p has a role in: objects are loaded
// within it and the action is then checked, so a role without the action
// gets 403 rather than 404 in its own organisation.
func visible(p *auth.Principal) []string {
	out := make([]string, 0, len(p.Access))
	for org := range p.Access {
		out = append(out, org)
	}
	return out
}

func principal(r *http.Request) *auth.Principal { return auth.FromContext(r.Context()) }

// RiskView is a risk with its levels and ratings spelled out from its
// organisation's matrix, as API clients and pages show them.
type RiskView struct {
	*Risk
	LikelihoodLabel  string `json:"likelihood_label"`
	ConsequenceLabel string `json:"consequence_label"`
	RatingLabel      string `json:"rating_label"`
	RatingColour     string `json:"rating_colour"`
	ResidualLabel    string `json:"residual_rating_label,omitempty"`
	ResidualColour   string `json:"residual_rating_colour,omitempty"`
}

func view(m *matrix.Matrix, r *Risk) *RiskView {
	v := &RiskView{Risk: r}
	if r.Likelihood < len(m.Likelihood) {
		v.LikelihoodLabel = m.Likelihood[r.Likelihood].Label
	}
	if r.Consequence < len(m.Consequence) {
		v.ConsequenceLabel = m.Consequence[r.Consequence].Label
	}
	rt := RatingOf(m, r.Rating)
	v.RatingLabel, v.RatingColour = rt.Label, rt.Colour
	if r.ResidualR != "" {
		rt := RatingOf(m, r.ResidualR)
		v.ResidualLabel, v.ResidualColour = rt.Label, rt.Colour
	}
	return v
}

// matrices caches each organisation's matrix for one request.
type matrices struct {
	s *Service
	m map[string]*matrix.Matrix
}

func (c *matrices) of(ctx context.Context, org string) (*matrix.Matrix, error) {
	if m, ok := c.m[org]; ok {
		return m, nil
	}
	m, err := c.s.Matrix(ctx, c.s.DB, org)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*matrix.Matrix{}
	}
	c.m[org] = m
	return m, nil
}

func (h *Handlers) views(ctx context.Context, rs []*Risk) ([]*RiskView, error) {
	c := matrices{s: h.S}
	out := make([]*RiskView, len(rs))
	for i, r := range rs {
		m, err := c.of(ctx, r.OrgID)
		if err != nil {
			return nil, err
		}
		out[i] = view(m, r)
	}
	return out, nil
}

// riskInput is the API body. Levels are given by label ("Likely") or by
// 0-based number; residual levels are null to clear them. review_at is a
// date (2006-01-02) or an RFC 3339 time, "" for none. On PATCH the body
// starts from the stored risk, so omitted fields keep their values.
type riskInput struct {
	SiteID              string      `json:"site_id"`
	Title               string      `json:"title"`
	Asset               string      `json:"asset"`
	Threat              string      `json:"threat"`
	Description         string      `json:"description,omitempty"`
	Owner               string      `json:"owner,omitempty"`
	Status              string      `json:"status,omitempty"`
	Strategy            string      `json:"strategy,omitempty"`
	Likelihood          any         `json:"likelihood"`
	Consequence         any         `json:"consequence"`
	ResidualLikelihood  any         `json:"residual_likelihood,omitempty"`
	ResidualConsequence any         `json:"residual_consequence,omitempty"`
	ReviewAt            string      `json:"review_at,omitempty"`
	Treatments          []Treatment `json:"treatments,omitempty"`
	Version             int         `json:"version,omitempty"`
}

func inputOf(r *Risk) riskInput {
	in := riskInput{SiteID: r.SiteID, Title: r.Title, Asset: r.Asset, Threat: r.Threat, Description: r.Description, Owner: r.Owner,
		Status: r.Status, Strategy: r.Strategy, Likelihood: r.Likelihood, Consequence: r.Consequence, Treatments: r.Treatments, Version: r.Version}
	if r.ResidualL != nil {
		in.ResidualLikelihood, in.ResidualConsequence = *r.ResidualL, *r.ResidualC
	}
	if r.ReviewAt != nil {
		in.ReviewAt = r.ReviewAt.Format(time.RFC3339)
	}
	return in
}

// level resolves a label or number against levels; nil stays nil.
func level(field string, levels []matrix.Level, v any) (*int, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		s = x
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		s = strconv.Itoa(x)
	default:
		return nil, invalid(field, "must be a level label or number")
	}
	i, ok := Level(levels, s)
	if !ok {
		return nil, invalid(field, fmt.Sprintf("%q is not a level of the organisation's matrix", s))
	}
	return &i, nil
}

// ParseDate reads a review date as a form or API client gives it.
func ParseDate(field, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return &t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, invalid(field, "must be a date (YYYY-MM-DD)")
	}
	t = t.UTC()
	return &t, nil
}

// apply sets r from in, resolving levels on m.
func (in riskInput) apply(m *matrix.Matrix, r *Risk) error {
	r.SiteID, r.Title, r.Asset, r.Threat, r.Description, r.Owner = in.SiteID, in.Title, in.Asset, in.Threat, in.Description, in.Owner
	r.Status, r.Strategy, r.Treatments, r.Version = in.Status, in.Strategy, in.Treatments, in.Version
	if r.Treatments == nil {
		r.Treatments = []Treatment{}
	}
	l, err := level("likelihood", m.Likelihood, in.Likelihood)
	if err != nil {
		return err
	}
	c, err := level("consequence", m.Consequence, in.Consequence)
	if err != nil {
		return err
	}
	if l == nil || c == nil {
		return invalid("likelihood", "and consequence are required")
	}
	r.Likelihood, r.Consequence = *l, *c
	if r.ResidualL, err = level("residual_likelihood", m.Likelihood, in.ResidualLikelihood); err != nil {
		return err
	}
	if r.ResidualC, err = level("residual_consequence", m.Consequence, in.ResidualConsequence); err != nil {
		return err
	}
	r.ReviewAt, err = ParseDate("review_at", in.ReviewAt)
	return err
}

// siteOrg finds the organisation of a site the caller may write risks in;
// a site they cannot see is "not a known site" rather than a 404 of the route.
func (h *Handlers) siteOrg(r *http.Request, siteID string) (string, error) {
	var org string
	if siteID == "" {
		return "", invalid("site_id", "is required")
	}
	err := h.S.DB.QueryRow(r.Context(), `SELECT org_id FROM sites WHERE id = ?`, siteID).Scan(&org)
	p := principal(r)
	if err != nil || !p.Sees(org) {
		return "", web.BadField("site_id", "is not a known site")
	}
	return org, need(p, auth.RiskWrite, org)
}

func boolQuery(r *http.Request, k string) bool {
	v, _ := strconv.ParseBool(r.URL.Query().Get(k))
	return v
}

func intQuery(r *http.Request, k string) (*int, error) {
	v := r.URL.Query().Get(k)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return nil, web.BadField(k, "must be a level number (0 = least severe)")
	}
	return &n, nil
}

// filterOf reads the register filters shared by the API, the pages and CSV.
func filterOf(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{OrgID: q.Get("org_id"), SiteID: q.Get("site_id"), Status: q.Get("status"), Rating: q.Get("rating"), Q: q.Get("q"),
		Residual: boolQuery(r, "residual"), Overdue: boolQuery(r, "overdue")}
	var err error
	if f.Likelihood, err = intQuery(r, "likelihood"); err != nil {
		return f, err
	}
	f.Consequence, err = intQuery(r, "consequence")
	return f, err
}

func (h *Handlers) apiList(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	p := principal(r)
	scope := p.OrgsWhere(auth.RiskRead)
	if len(scope) == 0 {
		return web.ErrForbidden
	}
	f, err := filterOf(r)
	if err != nil {
		return err
	}
	rs, err := h.S.Risks(r.Context(), scope, f, Page{limit + 1, offset})
	if err != nil {
		return err
	}
	vs, err := h.views(r.Context(), rs)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(vs, limit, offset))
}

func (h *Handlers) apiCreate(w http.ResponseWriter, r *http.Request) error {
	var in riskInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	x, err := h.create(r, in)
	if err != nil {
		return err
	}
	m, err := h.S.Matrix(r.Context(), h.S.DB, x.OrgID)
	if err != nil {
		return err
	}
	return web.JSON(w, 201, view(m, x))
}

func (h *Handlers) create(r *http.Request, in riskInput) (*Risk, error) {
	org, err := h.siteOrg(r, in.SiteID)
	if err != nil {
		return nil, err
	}
	m, err := h.S.Matrix(r.Context(), h.S.DB, org)
	if err != nil {
		return nil, err
	}
	x := &Risk{OrgID: org}
	if err := in.apply(m, x); err != nil {
		return nil, err
	}
	return x, h.S.CreateRisk(r.Context(), x, principal(r))
}

// load returns the risk named by the path within the caller's scope,
// checking action on its organisation.
func (h *Handlers) load(r *http.Request, action auth.Action) (*Risk, error) {
	p := principal(r)
	x, err := h.S.Risk(r.Context(), visible(p), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return x, need(p, action, x.OrgID)
}

func (h *Handlers) apiGet(w http.ResponseWriter, r *http.Request) error {
	x, err := h.load(r, auth.RiskRead)
	if err != nil {
		return err
	}
	m, err := h.S.Matrix(r.Context(), h.S.DB, x.OrgID)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, view(m, x))
}

func (h *Handlers) apiUpdate(w http.ResponseWriter, r *http.Request) error {
	x, err := h.load(r, auth.RiskWrite)
	if err != nil {
		return err
	}
	in := inputOf(x)
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := h.update(r, x, in); err != nil {
		return err
	}
	m, err := h.S.Matrix(r.Context(), h.S.DB, x.OrgID)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, view(m, x))
}

func (h *Handlers) update(r *http.Request, x *Risk, in riskInput) error {
	if in.SiteID != x.SiteID {
		org, err := h.siteOrg(r, in.SiteID)
		if err != nil {
			return err
		}
		if org != x.OrgID {
			return web.BadField("site_id", "must be a site of the risk's organisation")
		}
	}
	m, err := h.S.Matrix(r.Context(), h.S.DB, x.OrgID)
	if err != nil {
		return err
	}
	if err := in.apply(m, x); err != nil {
		return err
	}
	return h.S.UpdateRisk(r.Context(), x, principal(r))
}

func (h *Handlers) apiDelete(w http.ResponseWriter, r *http.Request) error {
	x, err := h.load(r, auth.RiskWrite)
	if err != nil {
		return err
	}
	if err := h.S.DeleteRisk(r.Context(), x, principal(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) apiRevisions(w http.ResponseWriter, r *http.Request) error {
	x, err := h.load(r, auth.RiskRead)
	if err != nil {
		return err
	}
	revs, err := h.S.Revisions(r.Context(), x)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, revs)
}

// ---- analyses ----

type controlInput struct {
	Name  string      `json:"name"`
	Model *fair.Model `json:"model"`
}

// analysisInput is a FAIR model in the CLI's JSON shape (`vigil risk fair`),
// an optional proposed control (the same scenario with the control in
// place), and the run's iterations and seed (random when absent, stored).
type analysisInput struct {
	Name       string        `json:"name"`
	Model      *fair.Model   `json:"model"`
	Control    *controlInput `json:"control,omitempty"`
	Iterations int           `json:"iterations,omitempty"`
	Seed       *uint64       `json:"seed,omitempty"`
}

func (h *Handlers) newAnalysis(in analysisInput) *Analysis {
	a := &Analysis{Name: in.Name, Model: in.Model, Iterations: in.Iterations}
	if in.Control != nil {
		a.ControlName, a.ControlModel = in.Control.Name, in.Control.Model
		if a.ControlModel == nil {
			a.ControlModel = &fair.Model{}
		}
	}
	if in.Seed != nil {
		a.Seed = *in.Seed
	} else {
		a.Seed = uint64(h.S.Now().UnixNano())
	}
	return a
}

func (h *Handlers) apiCreateAnalysis(w http.ResponseWriter, r *http.Request) error {
	x, err := h.load(r, auth.RiskWrite)
	if err != nil {
		return err
	}
	var in analysisInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	a := h.newAnalysis(in)
	if err := h.S.CreateAnalysis(r.Context(), x, a, principal(r)); err != nil {
		return err
	}
	return web.JSON(w, 201, a)
}

func (h *Handlers) apiAnalyses(w http.ResponseWriter, r *http.Request) error {
	x, err := h.load(r, auth.RiskRead)
	if err != nil {
		return err
	}
	as, err := h.S.Analyses(r.Context(), x)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, as)
}

func (h *Handlers) apiGetAnalysis(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	a, err := h.S.Analysis(r.Context(), visible(p), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := need(p, auth.RiskRead, a.OrgID); err != nil {
		return err
	}
	return web.JSON(w, 200, a)
}

// ---- matrix ----

func (h *Handlers) apiGetMatrix(w http.ResponseWriter, r *http.Request) error {
	org := r.PathValue("org_id")
	if err := need(principal(r), auth.RiskRead, org); err != nil {
		return err
	}
	m, err := h.S.Matrix(r.Context(), h.S.DB, org)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, m)
}

func (h *Handlers) apiPutMatrix(w http.ResponseWriter, r *http.Request) error {
	org := r.PathValue("org_id")
	if err := need(principal(r), auth.RiskConfig, org); err != nil {
		return err
	}
	var m matrix.Matrix
	if err := web.DecodeJSON(w, r, &m); err != nil {
		return err
	}
	if err := h.S.SetMatrix(r.Context(), org, &m, principal(r)); err != nil {
		return err
	}
	return web.JSON(w, 200, &m)
}
