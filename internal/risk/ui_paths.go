package risk

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"vigil/internal/auth"
	"vigil/internal/org"
	"vigil/internal/risk/pps"
	"vigil/internal/web"
)

func (h *Handlers) registerPathPages() {
	s := h.Web
	s.Page("GET", "/risk-paths", h.pathList)
	s.Page("POST", "/risk-paths", h.pathCreate)
	s.Page("GET", "/risk-paths/{id}", h.pathShow)
	s.Page("POST", "/risk-paths/{id}", h.pathSave)
	s.Page("POST", "/risk-paths/{id}/delete", h.pathDelete)
}

type pathListPage struct {
	web.Page
	OrgID    string
	Models   []*PathModel
	Sites    []*org.Site
	SiteName map[string]string
	CanWrite bool
}

func (h *Handlers) pathList(w http.ResponseWriter, r *http.Request) error {
	orgID, err := pageOrg(r, auth.RiskRead)
	if err != nil {
		return err
	}
	ms, err := h.S.PathModels(r.Context(), []string{orgID}, orgID, r.URL.Query().Get("site_id"), Page{Limit: 500})
	if err != nil {
		return err
	}
	sites, names := h.siteNames(r.Context(), orgID)
	return h.Web.Render(w, 200, "risk_paths", pathListPage{h.Web.NewPage(w, r, "Facility path models", "risks"), orgID, ms, sites, names,
		auth.Can(principal(r), auth.RiskWrite, orgID)})
}

// starter is a new model's diagram: one element from off-site to the
// target with Garcia's rule-of-thumb sd (30 % of the mean), so the analyst
// edits a valid diagram rather than an empty one.
func starter() pps.Diagram {
	pc := 0.95
	return pps.Diagram{
		Nodes: []pps.Node{{ID: "offsite", Name: "Off-site"}, {ID: "target", Name: "Target"}},
		Edges: []pps.Edge{{ID: "e1", From: "offsite", To: "target", Name: "Perimeter fence", PDetection: 0.5, Location: pps.Middle,
			Delay: pps.Normal{Mean: 10, SD: 3}}},
		Start: "offsite", Target: "target", ResponseForceTime: pps.Normal{Mean: 300, SD: 90}, PCommunication: &pc,
	}
}

func (h *Handlers) pathCreate(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	siteID := r.PostFormValue("site_id")
	orgID, err := h.siteOrg(r, siteID)
	if fe, ok := web.FormErrors(err); ok {
		return web.BadField("site_id", fe["site_id"])
	}
	if err != nil {
		return err
	}
	m := &PathModel{OrgID: orgID, SiteID: siteID, Name: r.PostFormValue("name"), Diagram: starter()}
	if err := h.S.SavePathModel(r.Context(), m, principal(r)); err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/risk-paths/"+m.ID, "Path model created: add the site's layers and elements.")
}

// edgeRow is one editable element row of the table editor.
type edgeRow struct {
	pps.Edge
	Link string // "zone:<id>", "device:<id>" or ""
}

type linkOption struct{ Value, Label string }

type pathPage struct {
	web.Page
	Model    *PathModel
	SiteName string
	Rows     []edgeRow
	Links    []linkOption
	PC, PN   string
	Result   *PathAnalysis
	ErrText  string
	EdgeName map[string]string
	CanWrite bool
	Top      int
	PDStep   float64
	Delay    float64
}

func (h *Handlers) renderPath(w http.ResponseWriter, r *http.Request, m *PathModel, status int, errs map[string]string) error {
	ctx := r.Context()
	_, names := h.siteNames(ctx, m.OrgID)
	pg := h.Web.NewPage(w, r, m.Name, "risks")
	pg.Errors = errs
	pp := pathPage{Page: pg, Model: m, SiteName: names[m.SiteID], CanWrite: auth.Can(principal(r), auth.RiskWrite, m.OrgID), EdgeName: map[string]string{}}
	link := map[string]string{}
	for _, l := range m.Links {
		if l.ZoneID != "" {
			link[l.EdgeID] = "zone:" + l.ZoneID
		} else {
			link[l.EdgeID] = "device:" + l.DeviceID
		}
	}
	for _, e := range m.Diagram.Edges {
		pp.Rows = append(pp.Rows, edgeRow{e, link[e.ID]})
		pp.EdgeName[e.ID] = e.Name
	}
	for range 3 {
		pp.Rows = append(pp.Rows, edgeRow{Edge: pps.Edge{Location: pps.Middle}})
	}
	if zs, err := h.zones(r, m); err == nil {
		pp.Links = zs
	}
	if m.Diagram.PCommunication != nil {
		pp.PC = strconv.FormatFloat(*m.Diagram.PCommunication, 'f', -1, 64)
	}
	if m.Diagram.PNeutralization != nil {
		pp.PN = strconv.FormatFloat(*m.Diagram.PNeutralization, 'f', -1, 64)
	}
	top, pd, delay, err := analysisParams(r)
	if err != nil {
		top, pd, delay = 5, 0.1, 30
	}
	pp.Top, pp.PDStep, pp.Delay = top, pd, delay
	if status == 200 {
		res, err := AnalyzePaths(&m.Diagram, top, pd, delay)
		if fe, ok := web.FormErrors(err); ok {
			pp.ErrText = strings.Join(values(fe), "; ")
		} else if err != nil {
			return err
		}
		pp.Result = res
	}
	return h.Web.Render(w, status, "risk_path", pp)
}

// zones lists the site's zones and devices an element can stand for.
func (h *Handlers) zones(r *http.Request, m *PathModel) ([]linkOption, error) {
	var out []linkOption
	site, err := h.Places.Site(r.Context(), []string{m.OrgID}, m.SiteID)
	if err != nil {
		return nil, err
	}
	zs, err := h.Places.Zones(r.Context(), site)
	if err != nil {
		return nil, err
	}
	for _, z := range zs {
		out = append(out, linkOption{"zone:" + z.ID, "Zone: " + z.Name})
	}
	devs, err := h.Places.Devices(r.Context(), []string{m.OrgID}, org.DeviceFilter{OrgID: m.OrgID, SiteID: m.SiteID}, org.Page{Limit: 500})
	if err != nil {
		return nil, err
	}
	for _, d := range devs {
		out = append(out, linkOption{"device:" + d.ID, "Device: " + d.Name})
	}
	return out, nil
}

func (h *Handlers) pathShow(w http.ResponseWriter, r *http.Request) error {
	m, err := h.loadPath(r, auth.RiskRead)
	if err != nil {
		return err
	}
	return h.renderPath(w, r, m, 200, nil)
}

// diagramFromForm reads the table editor: parallel repeated e_* fields, one
// per element row; rows without from and to are blank and skipped. Areas
// are the distinct from/to names in order of appearance.
func diagramFromForm(f url.Values) (pps.Diagram, []EdgeLink, error) {
	d := pps.Diagram{Start: strings.TrimSpace(f.Get("start")), Target: strings.TrimSpace(f.Get("target"))}
	var err error
	num := func(field, v string, dflt float64) float64 {
		if err != nil {
			return 0
		}
		v = strings.TrimSpace(v)
		if v == "" {
			return dflt
		}
		x, e := strconv.ParseFloat(v, 64)
		if e != nil {
			err = invalid(field, "must be a number")
		}
		return x
	}
	d.ResponseForceTime = pps.Normal{Mean: num("rft_mean", f.Get("rft_mean"), 0), SD: num("rft_sd", f.Get("rft_sd"), 0)}
	pc := num("p_communication", f.Get("p_communication"), 1)
	d.PCommunication = &pc
	if v := f.Get("p_neutralization"); strings.TrimSpace(v) != "" {
		pn := num("p_neutralization", v, 1)
		d.PNeutralization = &pn
	}
	seen := map[string]bool{}
	node := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			d.Nodes = append(d.Nodes, pps.Node{ID: id})
		}
	}
	node(d.Start)
	var links []EdgeLink
	get := func(k string, i int) string {
		if vs := f[k]; i < len(vs) {
			return strings.TrimSpace(vs[i])
		}
		return ""
	}
	for i := range f["e_from"] {
		from, to := get("e_from", i), get("e_to", i)
		if from == "" && to == "" {
			continue
		}
		row := fmt.Sprintf("edges[%d]", len(d.Edges))
		e := pps.Edge{ID: get("e_id", i), From: from, To: to, Name: get("e_name", i), Location: pps.Location(strings.ToUpper(get("e_loc", i)))}
		if e.ID == "" {
			e.ID = fmt.Sprintf("e%d", len(d.Edges)+1)
		}
		e.PDetection = num(row+".p_detection", get("e_pd", i), 0)
		e.Delay = pps.Normal{Mean: num(row+".delay.mean", get("e_dmean", i), 0), SD: num(row+".delay.sd", get("e_dsd", i), 0)}
		node(from)
		node(to)
		d.Edges = append(d.Edges, e)
		if l := get("e_link", i); l != "" {
			kind, id, _ := strings.Cut(l, ":")
			switch kind {
			case "zone":
				links = append(links, EdgeLink{EdgeID: e.ID, ZoneID: id})
			case "device":
				links = append(links, EdgeLink{EdgeID: e.ID, DeviceID: id})
			}
		}
	}
	node(d.Target)
	return d, links, err
}

func (h *Handlers) pathSave(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	m, err := h.loadPath(r, auth.RiskWrite)
	if err != nil {
		return err
	}
	m.Name = r.PostFormValue("name")
	m.Diagram, m.Links, err = diagramFromForm(r.PostForm)
	if err == nil {
		err = h.S.SavePathModel(r.Context(), m, principal(r))
	}
	if fe, ok := web.FormErrors(err); ok {
		pe := map[string]string{"diagram": strings.Join(values(fe), "; ")}
		return h.renderPath(w, r, m, 400, pe)
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/risk-paths/"+m.ID, "Path model saved.")
}

func (h *Handlers) pathDelete(w http.ResponseWriter, r *http.Request) error {
	m, err := h.loadPath(r, auth.RiskWrite)
	if err != nil {
		return err
	}
	if err := h.S.DeletePathModel(r.Context(), m, principal(r)); err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/risk-paths?org_id="+url.QueryEscape(m.OrgID), "Path model deleted.")
}
