package risk

import (
	"context"
	"embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"vigil/internal/auth"
	"vigil/internal/org"
	"vigil/internal/risk/dist"
	"vigil/internal/risk/fair"
	"vigil/internal/risk/matrix"
	"vigil/internal/web"
)

//go:embed templates/*.html
var Templates embed.FS

// Places is what the register needs from the organisation module: the
// sites and devices a risk can name. *org.Service implements it.
type Places interface {
	Sites(ctx context.Context, scope []string, f org.SiteFilter, pg org.Page) ([]*org.Site, error)
	Devices(ctx context.Context, scope []string, f org.DeviceFilter, pg org.Page) ([]*org.Device, error)
	Site(ctx context.Context, scope []string, id string) (*org.Site, error)
	Zones(ctx context.Context, site *org.Site) ([]*org.Zone, error)
}

func (h *Handlers) registerUI() {
	s := h.Web
	s.AddNav(web.NavItem{Key: "risks", Label: "Risk", Href: "/risks", Action: auth.RiskRead, Order: 40})

	s.Page("GET", "/risks", h.list)
	s.Page("GET", "/risks/export.csv", h.exportCSV)
	s.Page("GET", "/risks/new", h.newForm)
	s.Page("POST", "/risks", h.createForm)
	s.Page("GET", "/risks/{id}", h.show)
	s.Page("GET", "/risks/{id}/edit", h.editForm)
	s.Page("POST", "/risks/{id}", h.updateForm)
	s.Page("POST", "/risks/{id}/delete", h.deleteForm)
	s.Page("POST", "/risks/{id}/analyses", h.analysisCreate)
	s.Page("GET", "/risk-analyses/{id}", h.analysisShow)
	s.Page("GET", "/risk-matrix", h.matrixPage)
	s.Page("POST", "/risk-matrix", h.matrixSave)
	h.registerPathPages()
}

const listLimit = 100

// pageOrg is the organisation a page works in: ?org_id= when the caller may
// do action there, else their current organisation, else the first allowed.
func pageOrg(r *http.Request, action auth.Action) (string, error) {
	p := principal(r)
	if o := r.URL.Query().Get("org_id"); o != "" {
		return o, need(p, action, o)
	}
	if auth.Can(p, action, p.OrgID) {
		return p.OrgID, nil
	}
	if orgs := p.OrgsWhere(action); len(orgs) > 0 {
		return orgs[0], nil
	}
	return "", web.ErrForbidden
}

type listPage struct {
	web.Page
	OrgID    string
	Risks    []*RiskView
	Sites    []*org.Site
	SiteName map[string]string
	Matrix   *matrix.Matrix
	Heat     template.HTML
	Statuses []string
	Residual bool
	Now      time.Time
	CanWrite bool
	CanEdit  bool
	More     bool
	CSV      string
	RiskOrgs []web.OrgOption // organisations whose register the caller may read
}

func (h *Handlers) siteNames(ctx context.Context, orgID string) ([]*org.Site, map[string]string) {
	sites, _ := h.Places.Sites(ctx, []string{orgID}, org.SiteFilter{OrgID: orgID}, org.Page{Limit: 500})
	names := make(map[string]string, len(sites))
	for _, s := range sites {
		names[s.ID] = s.Name
	}
	return sites, names
}

// list is the register of one organisation (its matrix is the heat map's
// grid) with filters; each heat-map cell links to the register filtered to it.
func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	orgID, err := pageOrg(r, auth.RiskRead)
	if err != nil {
		return err
	}
	f, err := filterOf(r)
	if err != nil {
		return err
	}
	f.OrgID = orgID
	ctx := r.Context()
	m, err := h.S.Matrix(ctx, h.S.DB, orgID)
	if err != nil {
		return err
	}
	rs, err := h.S.Risks(ctx, []string{orgID}, f, Page{Limit: listLimit + 1})
	if err != nil {
		return err
	}
	more := len(rs) > listLimit
	if more {
		rs = rs[:listLimit]
	}
	hf := f // the heat map shows every cell, so it ignores the cell filters
	hf.Likelihood, hf.Consequence, hf.Rating = nil, nil, ""
	cells, err := h.S.Heat(ctx, []string{orgID}, hf)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	heat := HeatMap(m, cells, func(l, c int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("likelihood", strconv.Itoa(l))
		v.Set("consequence", strconv.Itoa(c))
		return "/risks?" + v.Encode()
	})
	sites, names := h.siteNames(ctx, orgID)
	vs := make([]*RiskView, len(rs))
	for i, x := range rs {
		vs[i] = view(m, x)
	}
	p := principal(r)
	pg := h.Web.NewPage(w, r, "Risk register", "risks")
	var orgs []web.OrgOption
	for _, o := range pg.Orgs {
		if auth.Can(p, auth.RiskRead, o.ID) {
			orgs = append(orgs, o)
		}
	}
	return h.Web.Render(w, 200, "risk_list", listPage{Page: pg, OrgID: orgID, Risks: vs, Sites: sites,
		SiteName: names, Matrix: m, Heat: heat, Statuses: Statuses, Residual: f.Residual, Now: h.S.Now(), More: more,
		CanWrite: auth.Can(p, auth.RiskWrite, orgID), CanEdit: auth.Can(p, auth.RiskConfig, orgID), CSV: "/risks/export.csv?" + q.Encode(), RiskOrgs: orgs})
}

// exportCSV writes the filtered register of one organisation (up to 5,000
// risks) for spreadsheets and board packs.
func (h *Handlers) exportCSV(w http.ResponseWriter, r *http.Request) error {
	orgID, err := pageOrg(r, auth.RiskRead)
	if err != nil {
		return err
	}
	f, err := filterOf(r)
	if err != nil {
		return err
	}
	f.OrgID = orgID
	ctx := r.Context()
	m, err := h.S.Matrix(ctx, h.S.DB, orgID)
	if err != nil {
		return err
	}
	rs, err := h.S.Risks(ctx, []string{orgID}, f, Page{Limit: 5000})
	if err != nil {
		return err
	}
	_, names := h.siteNames(ctx, orgID)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="risk-register.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "site", "title", "asset", "threat", "owner", "status", "strategy", "likelihood", "consequence", "rating",
		"residual_likelihood", "residual_consequence", "residual_rating", "review_at", "treatments", "version", "updated_at"})
	for _, x := range rs {
		v := view(m, x)
		rl, rc := "", ""
		if x.ResidualL != nil {
			rl, rc = m.Likelihood[*x.ResidualL].Label, m.Consequence[*x.ResidualC].Label
		}
		review := ""
		if x.ReviewAt != nil {
			review = x.ReviewAt.Format("2006-01-02")
		}
		var ts []string
		for _, t := range x.Treatments {
			ts = append(ts, t.Kind+": "+t.Description)
		}
		_ = cw.Write(csvSafe(x.ID, names[x.SiteID], x.Title, x.Asset, x.Threat, x.Owner, x.Status, x.Strategy, v.LikelihoodLabel, v.ConsequenceLabel,
			v.RatingLabel, rl, rc, v.ResidualLabel, review, strings.Join(ts, "; "), strconv.Itoa(x.Version), x.UpdatedAt.Format(time.RFC3339)))
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses spreadsheet formulas: a cell starting with = + - @ is
// prefixed with ' so opening the export cannot run anything (OWASP CSV
// injection).
func csvSafe(cells ...string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}

type formPage struct {
	web.Page
	Risk     *Risk
	OrgID    string
	Matrix   *matrix.Matrix
	Sites    []*org.Site
	Devices  []*org.Device
	SiteName map[string]string
	Statuses []string
	Strategy []string
	Kinds    []string
	Rows     []Treatment
	Review   string
	Action   string
	ResL     string
	ResC     string
}

func (h *Handlers) renderForm(w http.ResponseWriter, r *http.Request, status int, x *Risk, errs map[string]string) error {
	ctx := r.Context()
	m, err := h.S.Matrix(ctx, h.S.DB, x.OrgID)
	if err != nil {
		return err
	}
	sites, names := h.siteNames(ctx, x.OrgID)
	devs, _ := h.Places.Devices(ctx, []string{x.OrgID}, org.DeviceFilter{OrgID: x.OrgID}, org.Page{Limit: 500})
	title, action := "New risk", "/risks?org_id="+url.QueryEscape(x.OrgID)
	if x.ID != "" {
		title, action = "Edit "+x.Title, "/risks/"+x.ID
	}
	pg := h.Web.NewPage(w, r, title, "risks")
	pg.Errors = errs
	rows := append(append([]Treatment{}, x.Treatments...), Treatment{}, Treatment{}, Treatment{})
	fp := formPage{Page: pg, Risk: x, OrgID: x.OrgID, Matrix: m, Sites: sites, Devices: devs, SiteName: names, Statuses: Statuses,
		Strategy: Strategies, Kinds: TreatmentKinds, Rows: rows, Action: action}
	if x.ReviewAt != nil {
		fp.Review = x.ReviewAt.Format("2006-01-02")
	}
	if x.ResidualL != nil {
		fp.ResL, fp.ResC = strconv.Itoa(*x.ResidualL), strconv.Itoa(*x.ResidualC)
	}
	return h.Web.Render(w, status, "risk_form", fp)
}

func (h *Handlers) newForm(w http.ResponseWriter, r *http.Request) error {
	orgID, err := pageOrg(r, auth.RiskWrite)
	if err != nil {
		return err
	}
	x := &Risk{OrgID: orgID, SiteID: r.URL.Query().Get("site_id"), Status: StatusOpen, Strategy: "mitigate", Likelihood: 2, Consequence: 2}
	return h.renderForm(w, r, 200, x, nil)
}

// inputFromForm reads the risk form; treatment rows are parallel repeated
// fields and blank rows are skipped.
func inputFromForm(f url.Values) riskInput {
	in := riskInput{SiteID: f.Get("site_id"), Title: f.Get("title"), Asset: f.Get("asset"), Threat: f.Get("threat"), Description: f.Get("description"),
		Owner: f.Get("owner"), Status: f.Get("status"), Strategy: f.Get("strategy"), Likelihood: f.Get("likelihood"), Consequence: f.Get("consequence"),
		ReviewAt: f.Get("review_at"), Treatments: []Treatment{}}
	in.Version, _ = strconv.Atoi(f.Get("version"))
	if v := f.Get("residual_likelihood"); v != "" {
		in.ResidualLikelihood = v
	}
	if v := f.Get("residual_consequence"); v != "" {
		in.ResidualConsequence = v
	}
	kinds, devs, descs := f["treat_kind"], f["treat_device"], f["treat_desc"]
	for i := range kinds {
		t := Treatment{Kind: kinds[i]}
		if i < len(descs) {
			t.Description = descs[i]
		}
		if i < len(devs) && t.Kind == TreatDevice {
			t.DeviceID = devs[i]
		}
		if t.Kind == "" || (t.DeviceID == "" && strings.TrimSpace(t.Description) == "" && t.Kind != TreatDevice) {
			continue
		}
		if t.Kind == TreatDevice && t.DeviceID == "" && strings.TrimSpace(t.Description) == "" {
			continue
		}
		in.Treatments = append(in.Treatments, t)
	}
	return in
}

func (h *Handlers) createForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	orgID, err := pageOrg(r, auth.RiskWrite)
	if err != nil {
		return err
	}
	in := inputFromForm(r.PostForm)
	x, err := h.create(r, in)
	if fe, ok := web.FormErrors(err); ok {
		x = &Risk{OrgID: orgID}
		m, merr := h.S.Matrix(r.Context(), h.S.DB, orgID)
		if merr != nil {
			return merr
		}
		_ = in.apply(m, x) // best effort: re-show what was typed
		return h.renderForm(w, r, 400, x, fe)
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/risks/"+x.ID, "Risk "+x.Title+" added to the register.")
}

type showPage struct {
	web.Page
	Risk      *RiskView
	Matrix    *matrix.Matrix
	SiteName  string
	Devices   map[string]string
	Revisions []Revision
	Analyses  []*Analysis
	Latest    *analysisView
	CanWrite  bool
	Overdue   bool
	Form      fairForm
}

func (h *Handlers) show(w http.ResponseWriter, r *http.Request) error {
	x, err := h.load(r, auth.RiskRead)
	if err != nil {
		return err
	}
	return h.renderShow(w, r, x, 200, defaultFairForm(x), nil)
}

func (h *Handlers) renderShow(w http.ResponseWriter, r *http.Request, x *Risk, status int, ff fairForm, errs map[string]string) error {
	ctx := r.Context()
	m, err := h.S.Matrix(ctx, h.S.DB, x.OrgID)
	if err != nil {
		return err
	}
	revs, err := h.S.Revisions(ctx, x)
	if err != nil {
		return err
	}
	as, err := h.S.Analyses(ctx, x)
	if err != nil {
		return err
	}
	_, names := h.siteNames(ctx, x.OrgID)
	devs, _ := h.Places.Devices(ctx, []string{x.OrgID}, org.DeviceFilter{OrgID: x.OrgID, SiteID: x.SiteID}, org.Page{Limit: 500})
	dn := map[string]string{}
	for _, d := range devs {
		dn[d.ID] = d.Name
	}
	pg := h.Web.NewPage(w, r, x.Title, "risks")
	pg.Errors = errs
	sp := showPage{Page: pg, Risk: view(m, x), Matrix: m, SiteName: names[x.SiteID], Devices: dn, Revisions: revs, Analyses: as,
		CanWrite: auth.Can(principal(r), auth.RiskWrite, x.OrgID), Overdue: x.Overdue(h.S.Now()), Form: ff}
	if len(as) > 0 {
		sp.Latest = newAnalysisView(as[0])
	}
	return h.Web.Render(w, status, "risk_show", sp)
}

func (h *Handlers) editForm(w http.ResponseWriter, r *http.Request) error {
	x, err := h.load(r, auth.RiskWrite)
	if err != nil {
		return err
	}
	return h.renderForm(w, r, 200, x, nil)
}

func (h *Handlers) updateForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	x, err := h.load(r, auth.RiskWrite)
	if err != nil {
		return err
	}
	err = h.update(r, x, inputFromForm(r.PostForm))
	if fe, ok := web.FormErrors(err); ok {
		return h.renderForm(w, r, 400, x, fe)
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/risks/"+x.ID, "Risk saved (version "+strconv.Itoa(x.Version)+").")
}

func (h *Handlers) deleteForm(w http.ResponseWriter, r *http.Request) error {
	x, err := h.load(r, auth.RiskWrite)
	if err != nil {
		return err
	}
	if err := h.S.DeleteRisk(r.Context(), x, principal(r)); err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/risks?org_id="+url.QueryEscape(x.OrgID), "Risk "+x.Title+" deleted.")
}

// ---- FAIR analyses ----

// fairForm is the three-point (PERT) analysis form: threat event frequency,
// vulnerability and loss magnitude, and the same three with the proposed
// control in place (blank = unchanged). Analysts who need lognormals,
// secondary loss or TEF from capability vs resistance paste JSON instead.
type fairForm struct {
	Name                       string
	TEFMin, TEFMode, TEFMax    string
	Vuln                       string
	MagMin, MagMode, MagMax    string
	Control                    string
	CTEFMin, CTEFMode, CTEFMax string
	CVuln                      string
	CMagMin, CMagMode, CMagMax string
	Iterations, Seed, JSON     string
	Currency                   string
}

func defaultFairForm(x *Risk) fairForm {
	return fairForm{Name: "FAIR: " + x.Title, Iterations: strconv.Itoa(DefaultIterations)}
}

func formFair(f url.Values) fairForm {
	g := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	return fairForm{Name: g("name"), TEFMin: g("tef_min"), TEFMode: g("tef_mode"), TEFMax: g("tef_max"), Vuln: g("vulnerability"),
		MagMin: g("mag_min"), MagMode: g("mag_mode"), MagMax: g("mag_max"), Control: g("control"),
		CTEFMin: g("c_tef_min"), CTEFMode: g("c_tef_mode"), CTEFMax: g("c_tef_max"), CVuln: g("c_vulnerability"),
		CMagMin: g("c_mag_min"), CMagMode: g("c_mag_mode"), CMagMax: g("c_mag_max"), Iterations: g("iterations"), Seed: g("seed"), JSON: g("json")}
}

func num(field, v string) (*float64, error) {
	x, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
	if err != nil {
		return nil, invalid(field, "must be a number")
	}
	return &x, nil
}

func pert(prefix, lo, mode, hi string) (*dist.Spec, error) {
	a, err := num(prefix+"_min", lo)
	if err != nil {
		return nil, err
	}
	b, err := num(prefix+"_mode", mode)
	if err != nil {
		return nil, err
	}
	c, err := num(prefix+"_max", hi)
	if err != nil {
		return nil, err
	}
	return &dist.Spec{Dist: "pert", Min: a, Mode: b, Max: c}, nil
}

// models builds the analysis input from the form: JSON when given (the
// API's shape), else the PERT fields.
func (ff fairForm) input() (analysisInput, error) {
	in := analysisInput{Name: ff.Name}
	if ff.Iterations != "" {
		n, err := strconv.Atoi(ff.Iterations)
		if err != nil {
			return in, invalid("iterations", "must be a whole number")
		}
		in.Iterations = n
	}
	if ff.Seed != "" {
		s, err := strconv.ParseUint(ff.Seed, 10, 64)
		if err != nil {
			return in, invalid("seed", "must be a whole number ≥ 0")
		}
		in.Seed = &s
	}
	if ff.JSON != "" {
		var j analysisInput
		d := json.NewDecoder(strings.NewReader(ff.JSON))
		d.DisallowUnknownFields()
		if err := d.Decode(&j); err != nil {
			return in, invalid("json", "is not a valid analysis: "+err.Error())
		}
		if j.Name == "" {
			j.Name = in.Name
		}
		if j.Iterations == 0 {
			j.Iterations = in.Iterations
		}
		if j.Seed == nil {
			j.Seed = in.Seed
		}
		return j, nil
	}
	tef, err := pert("tef", ff.TEFMin, ff.TEFMode, ff.TEFMax)
	if err != nil {
		return in, err
	}
	v, err := num("vulnerability", ff.Vuln)
	if err != nil {
		return in, err
	}
	mag, err := pert("mag", ff.MagMin, ff.MagMode, ff.MagMax)
	if err != nil {
		return in, err
	}
	in.Model = &fair.Model{TEF: tef, Vulnerability: &fair.Vulnerability{Value: v}, Magnitude: mag}
	if ff.Control == "" {
		return in, nil
	}
	cm := *in.Model
	if ff.CTEFMin+ff.CTEFMode+ff.CTEFMax != "" {
		if cm.TEF, err = pert("c_tef", ff.CTEFMin, ff.CTEFMode, ff.CTEFMax); err != nil {
			return in, err
		}
	}
	if ff.CVuln != "" {
		cv, err := num("c_vulnerability", ff.CVuln)
		if err != nil {
			return in, err
		}
		cm.Vulnerability = &fair.Vulnerability{Value: cv}
	}
	if ff.CMagMin+ff.CMagMode+ff.CMagMax != "" {
		if cm.Magnitude, err = pert("c_mag", ff.CMagMin, ff.CMagMode, ff.CMagMax); err != nil {
			return in, err
		}
	}
	in.Control = &controlInput{Name: ff.Control, Model: &cm}
	return in, nil
}

// formField maps API field paths to the form's inputs, so an engine's
// complaint lands next to the box the analyst typed in.
func formField(fe map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range fe {
		f := k
		switch {
		case strings.HasPrefix(k, "model.tef"):
			f = "tef_min"
		case strings.HasPrefix(k, "model.vulnerability"):
			f = "vulnerability"
		case strings.HasPrefix(k, "model.magnitude"):
			f = "mag_min"
		case strings.HasPrefix(k, "control.model.tef"):
			f = "c_tef_min"
		case strings.HasPrefix(k, "control.model.vulnerability"):
			f = "c_vulnerability"
		case strings.HasPrefix(k, "control.model.magnitude"):
			f = "c_mag_min"
		case k == "control.name":
			f = "control"
		case strings.HasPrefix(k, "model") || strings.HasPrefix(k, "control"):
			f = "json"
		}
		if _, dup := out[f]; !dup {
			out[f] = v
		}
	}
	return out
}

func (h *Handlers) analysisCreate(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	x, err := h.load(r, auth.RiskWrite)
	if err != nil {
		return err
	}
	ff := formFair(r.PostForm)
	in, err := ff.input()
	var a *Analysis
	if err == nil {
		a = h.newAnalysis(in)
		err = h.S.CreateAnalysis(r.Context(), x, a, principal(r))
	}
	if fe, ok := web.FormErrors(err); ok {
		if ff.JSON == "" {
			fe = formField(fe)
		} else {
			fe = map[string]string{"json": strings.Join(values(fe), "; ")}
		}
		return h.renderShow(w, r, x, 400, ff, fe)
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/risk-analyses/"+a.ID, "Analysis run: mean annual loss "+Money(a.Result.ALEMean, "")+".")
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+": "+v)
	}
	return out
}

// analysisView is what the analysis pages show.
type analysisView struct {
	*Analysis
	Chart    template.HTML
	Saves    string
	HasSaves bool
	Worse    bool
	Rows     []resultRow
	JSON     string
}

type resultRow struct{ Label, Before, After string }

func newAnalysisView(a *Analysis) *analysisView {
	v := &analysisView{Analysis: a}
	series := []Series{{Name: "Current: " + a.Name, Colour: "#1f5fa8", Points: a.Result.LEC}}
	if a.ControlResult != nil {
		series = append(series, Series{Name: "With " + a.ControlName, Colour: "#2e8540", Points: a.ControlResult.LEC})
		s, _ := a.Saves()
		v.HasSaves, v.Worse, v.Saves = true, s < 0, Money(s, "")
	}
	v.Chart = LEC(series, "")
	row := func(label string, f func(*fair.Result) string) {
		rr := resultRow{Label: label, Before: f(a.Result)}
		if a.ControlResult != nil {
			rr.After = f(a.ControlResult)
		}
		v.Rows = append(v.Rows, rr)
	}
	m := func(g func(*fair.Result) float64) func(*fair.Result) string {
		return func(r *fair.Result) string { return Money(g(r), "") }
	}
	row("Mean annual loss", m(func(r *fair.Result) float64 { return r.ALEMean }))
	row("Exact mean (closed form)", m(func(r *fair.Result) float64 { return r.ALEMeanExact }))
	row("Standard deviation", m(func(r *fair.Result) float64 { return r.ALESD }))
	row("Median (P50)", m(func(r *fair.Result) float64 { return r.P50 }))
	row("P90", m(func(r *fair.Result) float64 { return r.P90 }))
	row("P95", m(func(r *fair.Result) float64 { return r.P95 }))
	row("P99", m(func(r *fair.Result) float64 { return r.P99 }))
	row("Chance of no loss in a year", func(r *fair.Result) string { return fmt.Sprintf("%.1f %%", r.PZeroLoss*100) })
	row("Loss events a year (mean)", func(r *fair.Result) string { return fmt.Sprintf("%.3g", r.LEFMean) })
	b, _ := json.MarshalIndent(map[string]any{"model": a.Model, "control": map[string]any{"name": a.ControlName, "model": a.ControlModel}}, "", "  ")
	v.JSON = string(b)
	return v
}

type analysisPage struct {
	web.Page
	A    *analysisView
	Risk *Risk
}

func (h *Handlers) analysisShow(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	a, err := h.S.Analysis(r.Context(), visible(p), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := need(p, auth.RiskRead, a.OrgID); err != nil {
		return err
	}
	x, err := h.S.Risk(r.Context(), []string{a.OrgID}, a.RiskID)
	if err != nil {
		return err
	}
	return h.Web.Render(w, 200, "risk_analysis", analysisPage{h.Web.NewPage(w, r, a.Name, "risks"), newAnalysisView(a), x})
}

// ---- matrix ----

type matrixPage struct {
	web.Page
	OrgID   string
	Matrix  *matrix.Matrix
	Grid    template.HTML
	JSON    string
	CanEdit bool
}

func (h *Handlers) renderMatrix(w http.ResponseWriter, r *http.Request, orgID string, status int, raw string, errs map[string]string) error {
	m, err := h.S.Matrix(r.Context(), h.S.DB, orgID)
	if err != nil {
		return err
	}
	if raw == "" {
		b, _ := json.MarshalIndent(m, "", "  ")
		raw = string(b)
	}
	grid := HeatMap(m, nil, func(l, c int) string {
		return fmt.Sprintf("/risks?org_id=%s&likelihood=%d&consequence=%d", url.QueryEscape(orgID), l, c)
	})
	pg := h.Web.NewPage(w, r, "Risk matrix", "risks")
	pg.Errors = errs
	return h.Web.Render(w, status, "risk_matrix", matrixPage{pg, orgID, m, grid, raw, auth.Can(principal(r), auth.RiskConfig, orgID)})
}

func (h *Handlers) matrixPage(w http.ResponseWriter, r *http.Request) error {
	orgID, err := pageOrg(r, auth.RiskRead)
	if err != nil {
		return err
	}
	return h.renderMatrix(w, r, orgID, 200, "", nil)
}

func (h *Handlers) matrixSave(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	orgID, err := pageOrg(r, auth.RiskConfig)
	if err != nil {
		return err
	}
	raw := r.PostFormValue("matrix")
	var m matrix.Matrix
	d := json.NewDecoder(strings.NewReader(raw))
	d.DisallowUnknownFields()
	if r.PostFormValue("reset") != "" {
		raw = ""
		err = h.S.SetMatrix(r.Context(), orgID, matrix.AS4360(), principal(r))
	} else if err = d.Decode(&m); err != nil {
		err = invalid("matrix", "is not valid JSON: "+err.Error())
	} else {
		err = h.S.SetMatrix(r.Context(), orgID, &m, principal(r))
	}
	if fe, ok := web.FormErrors(err); ok {
		return h.renderMatrix(w, r, orgID, 400, raw, map[string]string{"matrix": strings.Join(values(fe), "; ")})
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/risk-matrix?org_id="+url.QueryEscape(orgID), "Risk matrix saved; risks re-rated.")
}
