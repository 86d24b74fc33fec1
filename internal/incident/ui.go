package incident

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"vigil/internal/auth"
	"vigil/internal/org"
	"vigil/internal/web"
)

// Templates are the module's pages.
//
//go:embed templates/*.html
var Templates embed.FS

func (h *Handlers) registerUI() {
	s := h.Web
	s.AddNav(web.NavItem{Key: "incidents", Label: "Incidents", Href: "/incidents", Action: auth.IncidentRead})
	s.AddNav(web.NavItem{Key: "dar", Label: "Daily reports", Href: "/dar", Action: auth.IncidentReadAll})

	s.Page("GET", "/incidents", h.list)
	s.Page("GET", "/incidents/new", h.newForm)
	s.Page("POST", "/incidents", h.createForm)
	s.Page("GET", "/incidents/stats", h.stats)
	s.Page("POST", "/incidents/filters", h.saveFilter)
	s.Page("POST", "/incidents/filters/{id}/delete", h.deleteFilter)
	s.Page("GET", "/incidents/{id}", h.show)
	s.Page("GET", "/incidents/{id}/edit", h.editForm)
	s.Page("POST", "/incidents/{id}", h.updateForm)
	s.Page("POST", "/incidents/{id}/workflow", h.workflowForm)
	s.Page("POST", "/incidents/{id}/log", h.logForm)
	s.Page("POST", "/incidents/{id}/attachments", h.attachForm)
	s.Page("POST", "/incidents/{id}/notify", h.notifyForm)
	s.Page("GET", "/incidents/{id}/revisions", h.revisions)

	s.Page("GET", "/dar", h.darPage)
	s.Page("POST", "/dar/entries", h.darEntryForm)
	s.Page("POST", "/dar/status", h.darStatusForm)
}

const listLimit = 50

// pager builds previous/next links for list pages.
type pager struct{ Prev, Next string }

func newPager(r *http.Request, offset, limit int, more bool) pager {
	var p pager
	q := r.URL.Query()
	if offset > 0 {
		q.Set("offset", strconv.Itoa(max(0, offset-limit)))
		p.Prev = "?" + q.Encode()
	}
	if more {
		q.Set("offset", strconv.Itoa(offset+limit))
		p.Next = "?" + q.Encode()
	}
	return p
}

// sites returns the sites the caller may report on, and names by ID.
func (h *Handlers) sites(r *http.Request, action auth.Action) ([]*org.Site, map[string]*org.Site) {
	p := principal(r)
	ss, _ := h.S.Orgs.Sites(r.Context(), p.OrgsWhere(action), org.SiteFilter{}, org.Page{Limit: 500})
	byID := map[string]*org.Site{}
	for _, s := range ss {
		byID[s.ID] = s
	}
	return ss, byID
}

// typeChoices are the active types of the caller's current organisation.
func (h *Handlers) typeChoices(r *http.Request, orgID string) []Type {
	ts, _ := h.S.Types(r.Context(), nil, orgID)
	out := ts[:0:0]
	for _, t := range ts {
		if t.Active {
			out = append(out, t)
		}
	}
	return out
}

// ---- list ----

type listPage struct {
	web.Page
	Items    []*Incident
	Sites    []*org.Site
	SiteName map[string]string
	TypeName map[string]string // code → label, the caller's organisation's types
	Types    []Type
	Filters  []*SavedFilter
	Pager    pager
	CanWrite bool
	Portal   bool // client view: approved reports only
	CSV      string
	Statuses []Status
	Sev      []Choice
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if len(p.OrgsWhere(auth.IncidentRead)) == 0 {
		return web.ErrForbidden
	}
	f, err := parseFilter(r)
	if err != nil {
		return err
	}
	off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	off = max(0, off)
	items, err := h.S.List(r.Context(), ScopeOf(p), f, Page{listLimit + 1, off})
	if err != nil {
		return err
	}
	more := len(items) > listLimit
	if more {
		items = items[:listLimit]
	}
	sites, _ := h.sites(r, auth.IncidentRead)
	names := map[string]string{}
	for _, s := range sites {
		names[s.ID] = s.Name
	}
	typeNames := map[string]string{}
	if ts, err := h.S.Types(r.Context(), nil, p.OrgID); err == nil {
		for _, t := range ts {
			typeNames[t.Code] = t.Label
		}
	}
	filters, _ := h.S.Filters(r.Context(), p.OrgID, p)
	q := r.URL.Query()
	q.Del("offset")
	pg := listPage{Page: h.Web.NewPage(w, r, "Incidents", "incidents"), Items: items, Sites: sites, SiteName: names, TypeName: typeNames,
		Types: h.typeChoices(r, p.OrgID), Filters: filters, Pager: newPager(r, off, listLimit, more),
		CanWrite: auth.Can(p, auth.IncidentWrite, p.OrgID), Portal: !auth.Can(p, auth.IncidentReadAll, p.OrgID),
		CSV: "/api/v1/incidents/export.csv?" + q.Encode(), Statuses: Statuses, Sev: Severities}
	return h.Web.Render(w, 200, "incident_list", pg)
}

func (h *Handlers) saveFilter(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	p := principal(r)
	if err := need(p, auth.IncidentRead, p.OrgID); err != nil {
		return err
	}
	f := &SavedFilter{Name: r.PostFormValue("name"), Query: r.PostFormValue("query")}
	if err := h.S.SaveFilter(r.Context(), p.OrgID, f, p); err != nil {
		if fe, ok := web.FormErrors(err); ok {
			return h.Web.Redirect(w, r, "/incidents?"+f.Query, "Filter not saved: "+firstMsg(fe))
		}
		return err
	}
	return h.Web.Redirect(w, r, "/incidents?"+f.Query, "Filter “"+f.Name+"” saved.")
}

func firstMsg(m map[string]string) string {
	for k, v := range m {
		return k + " " + v
	}
	return ""
}

func (h *Handlers) deleteFilter(w http.ResponseWriter, r *http.Request) error {
	if err := h.S.DeleteFilter(r.Context(), r.PathValue("id"), principal(r)); err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/incidents", "Filter deleted.")
}

// ---- form ----

type formPage struct {
	web.Page
	I        *Incident
	Sites    []*org.Site
	Types    []Type
	Sev      []Choice
	Roles    []Choice
	PropSt   []Choice
	Times    map[string]string // datetime-local values in the site's zone
	People   []Person
	Vehicles []Vehicle
	Property []propertyRow
	Injuries []Injury
	Custom   []customField
	Amend    bool
}

type propertyRow struct {
	Property
	Amount string
}

type customField struct {
	FieldDef
	Type  string
	Value string
}

const localLayout = "2006-01-02T15:04"

func (h *Handlers) renderForm(w http.ResponseWriter, r *http.Request, status int, i *Incident, errs map[string]string) error {
	title := "New incident report"
	if i.ID != "" {
		title = "Edit " + i.Ref()
	}
	pg := formPage{Page: h.Web.NewPage(w, r, title, "incidents"), I: i, Types: h.typeChoices(r, orgOr(i.OrgID, principal(r).OrgID)),
		Sev: Severities, Roles: PersonRoles, PropSt: PropertyStatuses, Times: map[string]string{}, Amend: i.Status.Final()}
	pg.Errors = errs
	pg.Sites, _ = h.sites(r, auth.IncidentWrite)
	loc := time.UTC
	if l, err := time.LoadLocation(i.Timezone); err == nil && i.Timezone != "" {
		loc = l
	}
	for k, t := range map[string]*time.Time{"occurred_at": &i.OccurredAt, "reported_at": &i.ReportedAt, "discovered_at": i.DiscoveredAt,
		"police_contacted_at": i.Police.ContactedAt, "police_arrived_at": i.Police.ArrivedAt} {
		if t != nil && !t.IsZero() {
			pg.Times[k] = t.In(loc).Format(localLayout)
		}
	}
	pg.People = append(append([]Person{}, i.People...), Person{}, Person{})
	pg.Vehicles = append(append([]Vehicle{}, i.Vehicles...), Vehicle{})
	for _, p := range i.Property {
		pg.Property = append(pg.Property, propertyRow{p, strings.TrimSuffix(FormatMoney(p.Value, ""), " ")})
	}
	pg.Property = append(pg.Property, propertyRow{Property: Property{Currency: "USD"}})
	pg.Injuries = append(append([]Injury{}, i.Injuries...), Injury{})
	for _, t := range pg.Types {
		for _, f := range t.Fields {
			pg.Custom = append(pg.Custom, customField{f, t.Code, i.Custom[f.Name]})
		}
	}
	return h.Web.Render(w, status, "incident_form", pg)
}

func orgOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (h *Handlers) newForm(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := need(p, auth.IncidentWrite, p.OrgID); err != nil && len(p.OrgsWhere(auth.IncidentWrite)) == 0 {
		return err
	}
	now := h.S.Now().UTC().Truncate(time.Minute)
	i := &Incident{OrgID: p.OrgID, Severity: "low", OccurredAt: now, SiteID: r.URL.Query().Get("site_id")}
	i.normalise()
	sites, _ := h.sites(r, auth.IncidentWrite)
	if len(sites) > 0 {
		i.Timezone = sites[0].Timezone
	}
	return h.renderForm(w, r, 200, i, nil)
}

// formInput reads the report form. Times are local to the chosen site.
func (h *Handlers) formInput(r *http.Request, in *incidentInput) error {
	f := r.PostForm
	in.SiteID, in.ZoneID, in.Type, in.Severity = f.Get("site_id"), f.Get("zone_id"), f.Get("type"), f.Get("severity")
	in.Title, in.Narrative, in.Location = f.Get("title"), f.Get("narrative"), f.Get("location")
	in.Damage, in.Actions, in.Objectives = f.Get("damage"), f.Get("actions_taken"), f.Get("ics_objectives")
	in.ICS = f.Get("ics") == "on"
	in.Reason = f.Get("reason")
	if rv, err := strconv.Atoi(f.Get("revision")); err == nil {
		in.Revision = rv
	}
	loc := time.UTC
	if site, err := h.S.Orgs.Site(r.Context(), principal(r).OrgsWhere(auth.SiteRead), in.SiteID); err == nil {
		if l, err := time.LoadLocation(site.Timezone); err == nil {
			loc = l
		}
	}
	parse := func(name string) (*time.Time, error) {
		v := strings.TrimSpace(f.Get(name))
		if v == "" {
			return nil, nil
		}
		t, err := time.ParseInLocation(localLayout, v, loc)
		if err != nil {
			return nil, invalid(name, "must be a date and time")
		}
		return &t, nil
	}
	occ, err := parse("occurred_at")
	if err != nil {
		return err
	}
	if occ == nil {
		return invalid("occurred_at", "is required")
	}
	in.OccurredAt = *occ
	rep, err := parse("reported_at")
	if err != nil {
		return err
	}
	in.ReportedAt = time.Time{}
	if rep != nil {
		in.ReportedAt = *rep
	}
	if in.DiscoveredAt, err = parse("discovered_at"); err != nil {
		return err
	}
	if in.Police.ContactedAt, err = parse("police_contacted_at"); err != nil {
		return err
	}
	if in.Police.ArrivedAt, err = parse("police_arrived_at"); err != nil {
		return err
	}
	in.Latitude, in.Longitude = nil, nil
	if la, lo := strings.TrimSpace(f.Get("latitude")), strings.TrimSpace(f.Get("longitude")); la != "" || lo != "" {
		a, e1 := strconv.ParseFloat(la, 64)
		b, e2 := strconv.ParseFloat(lo, 64)
		if e1 != nil || e2 != nil {
			return invalid("latitude", "latitude and longitude must both be decimal degrees")
		}
		in.Latitude, in.Longitude = &a, &b
	}
	in.Police.Agency, in.Police.OfficerName, in.Police.Badge = f.Get("police_agency"), f.Get("police_officer_name"), f.Get("police_badge")
	in.Police.CaseNumber, in.Police.ReportNumber = f.Get("police_case_number"), f.Get("police_report_number")
	in.Insurer.Company, in.Insurer.ClaimNumber = f.Get("insurer_company"), f.Get("insurer_claim_number")
	in.ClientEmails = nil
	for _, e := range strings.FieldsFunc(f.Get("client_emails"), func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' }) {
		in.ClientEmails = append(in.ClientEmails, e)
	}
	in.AlarmIDs = strings.Fields(strings.ReplaceAll(f.Get("alarm_ids"), ",", " "))
	in.People = nil
	for n, name := range f["person_name"] {
		desc, role, contact := at(f["person_description"], n), at(f["person_role"], n), at(f["person_contact"], n)
		if strings.TrimSpace(name+desc+contact) == "" {
			continue
		}
		in.People = append(in.People, Person{Role: role, Name: name, Description: desc, Contact: contact})
	}
	in.Vehicles = nil
	for n, plate := range f["vehicle_plate"] {
		v := Vehicle{Plate: plate, Make: at(f["vehicle_make"], n), Model: at(f["vehicle_model"], n), Colour: at(f["vehicle_colour"], n), Description: at(f["vehicle_description"], n)}
		if strings.TrimSpace(v.Plate+v.Make+v.Model+v.Colour+v.Description) != "" {
			in.Vehicles = append(in.Vehicles, v)
		}
	}
	in.Property = nil
	for n, desc := range f["property_description"] {
		amount := at(f["property_value"], n)
		if strings.TrimSpace(desc+amount+at(f["property_serial"], n)) == "" {
			continue
		}
		v, err := ParseMoney(amount)
		if err != nil {
			return invalid("property", fmt.Sprintf("item %d: value %s", n+1, err))
		}
		in.Property = append(in.Property, Property{Description: desc, Status: at(f["property_status"], n), Value: v, Currency: at(f["property_currency"], n), Serial: at(f["property_serial"], n)})
	}
	in.Injuries = nil
	for n, person := range f["injury_person"] {
		j := Injury{Person: person, Nature: at(f["injury_nature"], n), Treatment: at(f["injury_treatment"], n)}
		if strings.TrimSpace(j.Person+j.Nature+j.Treatment) != "" {
			in.Injuries = append(in.Injuries, j)
		}
	}
	in.Custom = map[string]string{}
	prefix := "custom_" + in.Type + "_"
	for k, v := range f {
		if strings.HasPrefix(k, prefix) && len(v) > 0 && strings.TrimSpace(v[0]) != "" {
			in.Custom[strings.TrimPrefix(k, prefix)] = v[0]
		}
	}
	return nil
}

func at(vs []string, n int) string {
	if n < len(vs) {
		return vs[n]
	}
	return ""
}

func (h *Handlers) createForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	var in incidentInput
	err := h.formInput(r, &in)
	var i *Incident
	if err == nil {
		i, err = h.create(r, in)
	}
	if fe, ok := web.FormErrors(err); ok {
		i = &Incident{OrgID: principal(r).OrgID}
		in.apply(i)
		i.normalise()
		return h.renderForm(w, r, 400, i, fe)
	}
	if err != nil {
		return err
	}
	if r.PostFormValue("then") == "submit" {
		if err := h.transition(r, i, Submit, ""); err != nil {
			if fe, ok := web.FormErrors(err); ok {
				return h.Web.Redirect(w, r, "/incidents/"+i.ID, "Saved as a draft; not submitted: "+firstMsg(fe))
			}
			return err
		}
	}
	return h.Web.Redirect(w, r, "/incidents/"+i.ID, i.Ref()+" saved.")
}

func (h *Handlers) editForm(w http.ResponseWriter, r *http.Request) error {
	i, err := h.load(r, auth.IncidentWrite)
	if err != nil {
		return err
	}
	if err := mayEdit(principal(r), i); err != nil {
		return err
	}
	return h.renderForm(w, r, 200, i, nil)
}

func (h *Handlers) updateForm(w http.ResponseWriter, r *http.Request) error {
	i, err := h.load(r, auth.IncidentWrite)
	if err != nil {
		return err
	}
	if err := mayEdit(principal(r), i); err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	in := inputOf(i)
	err = h.formInput(r, &in)
	if err == nil {
		if in.Revision != 0 {
			i.Revision = in.Revision
		}
		in.apply(i)
		err = h.update(r, i, in.Reason)
	}
	if fe, ok := web.FormErrors(err); ok {
		in.apply(i)
		return h.renderForm(w, r, 400, i, fe)
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/incidents/"+i.ID, "Saved as revision "+strconv.Itoa(i.Revision)+".")
}

// ---- show ----

type showPage struct {
	web.Page
	I           *Incident
	Site        *org.Site
	ZoneName    string
	TypeLabel   string
	Log         []*LogEntry
	Photos      []*Attachment
	Files       []*Attachment
	Notes       []*Notification
	Actions     []Transition
	CanEdit     bool
	CanLog      bool
	CanAttach   bool
	CanNotify   bool
	CanReadAll  bool
	Mail        string
	PropertySum []string
}

func (h *Handlers) show(w http.ResponseWriter, r *http.Request) error {
	i, err := h.load(r, auth.IncidentRead)
	if err != nil {
		return err
	}
	p := principal(r)
	pg := showPage{Page: h.Web.NewPage(w, r, i.Ref()+" "+i.Title, "incidents"), I: i, CanReadAll: auth.Can(p, auth.IncidentReadAll, i.OrgID)}
	pg.Timezone = i.Timezone
	rd, err := h.S.Load(r.Context(), i, actorName(p))
	if err != nil {
		return err
	}
	pg.Site, pg.ZoneName, pg.TypeLabel = rd.Site, rd.ZoneName, rd.TypeLabel
	if pg.CanReadAll {
		pg.Log = rd.Log
		pg.Notes, _ = h.S.Notifications(r.Context(), i.OrgID, i.ID)
	}
	for _, a := range rd.Attachments {
		if a.IsImage() {
			pg.Photos = append(pg.Photos, a)
		} else {
			pg.Files = append(pg.Files, a)
		}
	}
	for _, t := range []Transition{Submit, Review, Return, Approve, Close} {
		if _, err := Next(i.Status, t, "x"); err == nil && auth.Can(p, transitionAction(t), i.OrgID) {
			pg.Actions = append(pg.Actions, t)
		}
	}
	pg.CanEdit = mayEdit(p, i) == nil
	pg.CanLog = auth.Can(p, auth.IncidentWrite, i.OrgID)
	pg.CanAttach = pg.CanEdit
	pg.CanNotify = i.Status.Final() && auth.Can(p, auth.IncidentReview, i.OrgID)
	pg.Mail = h.S.Mail.String()
	for cur, v := range i.PropertyTotal() {
		pg.PropertySum = append(pg.PropertySum, FormatMoney(v, cur))
	}
	return h.Web.Render(w, 200, "incident_show", pg)
}

func (h *Handlers) workflowForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	t := Transition(r.PostFormValue("action"))
	if _, ok := transitions[t]; !ok {
		return web.BadField("action", "is not a workflow step")
	}
	i, err := h.load(r, transitionAction(t))
	if err != nil {
		return err
	}
	err = h.transition(r, i, t, r.PostFormValue("comment"))
	var we *web.Error
	if fe, ok := web.FormErrors(err); ok {
		return h.Web.Redirect(w, r, "/incidents/"+i.ID, "Not done: "+firstMsg(fe))
	} else if errors.As(err, &we) && we.Status == http.StatusConflict {
		return h.Web.Redirect(w, r, "/incidents/"+i.ID, "Not done: "+we.Message)
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/incidents/"+i.ID, i.Ref()+" is now "+strings.ToLower(i.Status.Label())+".")
}

func (h *Handlers) logForm(w http.ResponseWriter, r *http.Request) error {
	i, err := h.load(r, auth.IncidentWrite)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	e := &LogEntry{Text: r.PostFormValue("text")}
	if v := r.PostFormValue("at"); v != "" {
		loc, _ := time.LoadLocation(i.Timezone)
		t, err := time.ParseInLocation(localLayout, v, loc)
		if err != nil {
			return h.Web.Redirect(w, r, "/incidents/"+i.ID+"#log", "Not logged: the time must be a date and time.")
		}
		e.At = t
	}
	if err := h.S.AddLog(r.Context(), i, e, principal(r)); err != nil {
		if fe, ok := web.FormErrors(err); ok {
			return h.Web.Redirect(w, r, "/incidents/"+i.ID+"#log", "Not logged: "+firstMsg(fe))
		}
		return err
	}
	return h.Web.Redirect(w, r, "/incidents/"+i.ID+"#log", "Logged.")
}

func (h *Handlers) attachForm(w http.ResponseWriter, r *http.Request) error {
	i, err := h.load(r, auth.IncidentWrite)
	if err != nil {
		return err
	}
	if err := mayEdit(principal(r), i); err != nil {
		return err
	}
	u, done, err := readUpload(w, r)
	if err != nil {
		var we *web.Error
		if errors.As(err, &we) && we.Status < 500 {
			return h.Web.Redirect(w, r, "/incidents/"+i.ID+"#photos", "Not attached: "+we.Message)
		}
		return err
	}
	defer done()
	a, err := h.S.Attach(r.Context(), i, u, principal(r))
	if fe, ok := web.FormErrors(err); ok {
		return h.Web.Redirect(w, r, "/incidents/"+i.ID+"#photos", "Not attached: "+firstMsg(fe))
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/incidents/"+i.ID+"#photos", a.Filename+" attached.")
}

func (h *Handlers) notifyForm(w http.ResponseWriter, r *http.Request) error {
	i, err := h.load(r, auth.IncidentReview)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	to := strings.FieldsFunc(r.PostFormValue("recipients"), func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' })
	n, err := h.notify(r, i, to, r.PostFormValue("message"))
	var we *web.Error
	if fe, ok := web.FormErrors(err); ok {
		return h.Web.Redirect(w, r, "/incidents/"+i.ID, "Not sent: "+firstMsg(fe))
	} else if errors.As(err, &we) && we.Status < 500 {
		return h.Web.Redirect(w, r, "/incidents/"+i.ID, "Not sent: "+we.Message)
	}
	if err != nil {
		return err
	}
	msg := map[string]string{"sent": "Emailed to " + n.Recipients + ".", "recorded": "Recorded (SMTP is not configured, nothing was emailed).",
		"failed": "Email failed: " + n.Error}[n.Status]
	return h.Web.Redirect(w, r, "/incidents/"+i.ID, msg)
}

type revisionsPage struct {
	web.Page
	I    *Incident
	Revs []revisionOut
}

func (h *Handlers) revisions(w http.ResponseWriter, r *http.Request) error {
	i, err := h.load(r, auth.IncidentReadAll)
	if err != nil {
		return err
	}
	revs, err := h.S.Revisions(r.Context(), i)
	if err != nil {
		return err
	}
	out := revisionList(revs)
	for a, b := 0, len(out)-1; a < b; a, b = a+1, b-1 { // newest first
		out[a], out[b] = out[b], out[a]
	}
	pg := revisionsPage{Page: h.Web.NewPage(w, r, "Revisions of "+i.Ref(), "incidents"), I: i, Revs: out}
	pg.Timezone = i.Timezone
	return h.Web.Render(w, 200, "incident_revisions", pg)
}

// ---- statistics ----

type statsPage struct {
	web.Page
	St                        *Stats
	TypeChart, SiteChart      template.HTML
	SeverityChart, MonthChart template.HTML
}

func (h *Handlers) stats(w http.ResponseWriter, r *http.Request) error {
	st, err := h.statsFor(r)
	if err != nil {
		return err
	}
	_, sites := h.sites(r, auth.IncidentRead)
	for n, c := range st.BySite {
		if s := sites[c.Key]; s != nil {
			st.BySite[n].Label = s.Name
		}
	}
	types, _ := h.S.Types(r.Context(), nil, principal(r).OrgID)
	for n, c := range st.ByType {
		if t, ok := FindType(types, c.Key); ok {
			st.ByType[n].Label = t.Label
		}
	}
	pg := statsPage{Page: h.Web.NewPage(w, r, "Incident statistics", "incidents"), St: st,
		TypeChart: BarChart("Incidents by type", st.ByType, 12), SiteChart: BarChart("Incidents by site", st.BySite, 12),
		SeverityChart: BarChart("Incidents by severity", st.BySeverity, 4), MonthChart: TrendChart("Incidents per month", st.ByMonth)}
	return h.Web.Render(w, 200, "incident_stats", pg)
}

// ---- daily activity reports ----

type darPage struct {
	web.Page
	Sites     []*org.Site
	Site      *org.Site
	Day       string
	D         *DAR
	Kinds     []Choice
	CanWrite  bool
	CanReview bool
	Mail      string
	PDF       string
}

func (h *Handlers) darPage(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	sites, byID := h.sites(r, auth.IncidentRead)
	q := r.URL.Query()
	pg := darPage{Page: h.Web.NewPage(w, r, "Daily activity reports", "dar"), Sites: sites, Kinds: DARKinds, Mail: h.S.Mail.String()}
	siteID := q.Get("site_id")
	if siteID == "" && len(sites) > 0 {
		siteID = sites[0].ID
	}
	pg.Site = byID[siteID]
	if pg.Site == nil {
		return h.Web.Render(w, 200, "incident_dar", pg)
	}
	pg.Timezone = pg.Site.Timezone
	pg.Day = q.Get("date")
	if pg.Day == "" {
		pg.Day = h.S.Now().In(siteLoc(pg.Site)).Format("2006-01-02")
	}
	d, err := h.loadDAR(r, pg.Site.ID, pg.Day, auth.IncidentRead)
	if err != nil {
		return err
	}
	pg.D = d
	pg.CanWrite = auth.Can(p, auth.IncidentWrite, pg.Site.OrgID) && d.Status == "open"
	pg.CanReview = auth.Can(p, auth.IncidentReview, pg.Site.OrgID)
	pg.PDF = "/api/v1/dar/report.pdf?" + url.Values{"site_id": {pg.Site.ID}, "date": {pg.Day}}.Encode()
	return h.Web.Render(w, 200, "incident_dar", pg)
}

func darURL(siteID, day string) string {
	return "/dar?" + url.Values{"site_id": {siteID}, "date": {day}}.Encode()
}

func (h *Handlers) darEntryForm(w http.ResponseWriter, r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	var photo *Attachment
	var site *org.Site
	var err error
	if strings.HasPrefix(ct, "multipart/form-data") {
		r.Body = http.MaxBytesReader(w, r.Body, MaxUpload+1<<20)
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return web.Errorf(http.StatusRequestEntityTooLarge, "too_large", "the upload is too large or could not be read")
		}
		defer r.MultipartForm.RemoveAll()
	} else if err := web.ParseForm(w, r); err != nil {
		return err
	}
	if site, err = h.darSite(r, r.FormValue("site_id"), auth.IncidentWrite); err != nil {
		return err
	}
	back := darURL(site.ID, r.FormValue("date"))
	if f, fh, ferr := r.FormFile("file"); ferr == nil {
		defer f.Close()
		photo, err = h.S.Prepare(r.Context(), site.OrgID, Upload{Filename: fh.Filename, Body: f, PhotoOnly: true, Caption: r.FormValue("text")})
		if fe, ok := web.FormErrors(err); ok {
			return h.Web.Redirect(w, r, back, "Not logged: "+firstMsg(fe))
		}
		if err != nil {
			return err
		}
	}
	e := &DAREntry{Kind: r.FormValue("kind"), Text: r.FormValue("text")}
	if photo != nil && e.Kind == "" {
		e.Kind = "photo"
	}
	if v := r.FormValue("at"); v != "" {
		t, err := time.ParseInLocation(localLayout, v, siteLoc(site))
		if err != nil {
			return h.Web.Redirect(w, r, back, "Not logged: the time must be a date and time.")
		}
		e.At = t
	}
	if err := h.S.AddDAREntry(r.Context(), site, e, photo, principal(r)); err != nil {
		if fe, ok := web.FormErrors(err); ok {
			return h.Web.Redirect(w, r, back, "Not logged: "+firstMsg(fe))
		}
		return err
	}
	return h.Web.Redirect(w, r, darURL(site.ID, e.Day), "Logged.")
}

func (h *Handlers) darStatusForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	siteID, day := r.PostFormValue("site_id"), r.PostFormValue("date")
	d, err := h.loadDAR(r, siteID, day, auth.IncidentReview)
	if err != nil {
		return err
	}
	back := darURL(siteID, day)
	var msg string
	switch r.PostFormValue("action") {
	case "approve":
		err, msg = h.S.SetDARStatus(r.Context(), d, "approved", principal(r)), "Daily report approved."
	case "send":
		to := strings.FieldsFunc(r.PostFormValue("recipients"), func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' })
		var n *Notification
		n, err = h.sendDAR(r, d, to, r.PostFormValue("message"))
		if err == nil {
			msg = map[string]string{"sent": "Emailed to " + n.Recipients + ".", "recorded": "Recorded as sent (SMTP is not configured, nothing was emailed).", "failed": "Email failed: " + n.Error}[n.Status]
		}
	default:
		return web.BadField("action", "must be approve or send")
	}
	var we *web.Error
	if fe, ok := web.FormErrors(err); ok {
		return h.Web.Redirect(w, r, back, "Not done: "+firstMsg(fe))
	} else if errors.As(err, &we) && we.Status < 500 {
		return h.Web.Redirect(w, r, back, "Not done: "+we.Message)
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, back, msg)
}
