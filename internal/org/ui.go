package org

import (
	"embed"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"vigil/internal/auth"
	"vigil/internal/web"
)

//go:embed templates/*.html
var Templates embed.FS

func (h *Handlers) registerUI() {
	s := h.Web
	s.AddNav(web.NavItem{Key: "orgs", Label: "Organisations", Href: "/orgs", Action: auth.OrgRead, Order: 90})
	s.AddNav(web.NavItem{Key: "sites", Label: "Sites", Href: "/sites", Action: auth.SiteRead, Order: 20})
	s.AddNav(web.NavItem{Key: "devices", Label: "Devices", Href: "/devices", Action: auth.SiteRead, Order: 21})

	s.Page("GET", "/orgs", h.orgList)
	s.Page("GET", "/orgs/new", h.orgNew)
	s.Page("POST", "/orgs", h.orgCreate)
	s.Page("GET", "/orgs/{id}", h.orgShow)
	s.Page("POST", "/orgs/{id}", h.orgUpdate)
	s.Page("POST", "/orgs/{id}/delete", h.orgDelete)

	s.Page("GET", "/sites", h.siteList)
	s.Page("GET", "/sites/new", h.siteNew)
	s.Page("POST", "/sites", h.siteCreate)
	s.Page("GET", "/sites/{id}", h.siteShow)
	s.Page("GET", "/sites/{id}/edit", h.siteEdit)
	s.Page("POST", "/sites/{id}", h.siteUpdate)
	s.Page("POST", "/sites/{id}/delete", h.siteDelete)
	s.Page("POST", "/sites/{id}/zones", h.zoneCreate)
	s.Page("POST", "/sites/{id}/contacts", h.contactCreate)
	s.Page("POST", "/sites/{id}/contacts/{contact_id}/delete", h.contactDelete)
	s.Page("GET", "/zones/{id}/edit", h.zoneEdit)
	s.Page("POST", "/zones/{id}", h.zoneUpdate)
	s.Page("POST", "/zones/{id}/delete", h.zoneDelete)

	s.Page("GET", "/devices", h.deviceList)
	s.Page("GET", "/devices/new", h.deviceNew)
	s.Page("POST", "/devices", h.deviceCreate)
	s.Page("GET", "/devices/{id}/edit", h.deviceEdit)
	s.Page("POST", "/devices/{id}", h.deviceUpdate)
	s.Page("POST", "/devices/{id}/delete", h.deviceDelete)
}

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

func pageOffset(r *http.Request) int {
	n, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	return max(0, n)
}

const listLimit = 50

// ---- organisations ----

type orgListPage struct {
	web.Page
	Items     []*Org
	Names     map[string]string
	CanCreate bool
	Pager     pager
}

func (h *Handlers) orgList(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	off := pageOffset(r)
	orgs, err := h.S.Orgs(r.Context(), p.OrgsWhere(auth.OrgRead), r.URL.Query().Get("q"), Page{listLimit + 1, off})
	if err != nil {
		return err
	}
	more := len(orgs) > listLimit
	if more {
		orgs = orgs[:listLimit]
	}
	names := map[string]string{}
	for _, o := range orgs {
		names[o.ID] = o.Name
	}
	return h.Web.Render(w, 200, "org_list", orgListPage{h.Web.NewPage(w, r, "Organisations", "orgs"), orgs, names,
		len(p.OrgsWhere(auth.OrgCreate)) > 0, newPager(r, off, listLimit, more)})
}

type orgFormPage struct {
	web.Page
	Org     *Org
	Parents []web.OrgOption
	Zones   []string
	CanEdit bool
	CanDel  bool
}

func (h *Handlers) parents(w http.ResponseWriter, r *http.Request) []web.OrgOption {
	p := principal(r)
	var out []web.OrgOption
	ops, _ := h.S.Orgs(r.Context(), p.OrgsWhere(auth.OrgCreate), "", Page{Limit: 500})
	for _, o := range ops {
		if o.Kind == "operator" {
			out = append(out, web.OrgOption{ID: o.ID, Name: o.Name})
		}
	}
	return out
}

func (h *Handlers) orgNew(w http.ResponseWriter, r *http.Request) error {
	ps := h.parents(w, r)
	if len(ps) == 0 {
		return web.ErrForbidden
	}
	return h.Web.Render(w, 200, "org_form", orgFormPage{Page: h.Web.NewPage(w, r, "New client organisation", "orgs"),
		Org: &Org{Timezone: "UTC", ParentID: ps[0].ID}, Parents: ps, CanEdit: true})
}

func (h *Handlers) orgCreate(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	in := orgInput{Name: r.PostFormValue("name"), Slug: r.PostFormValue("slug"), Timezone: r.PostFormValue("timezone"), ParentID: r.PostFormValue("parent_id")}
	p := principal(r)
	if err := need(p, auth.OrgCreate, in.ParentID); err != nil {
		return err
	}
	o, err := h.createClientOrg(r, in)
	if fe, ok := web.FormErrors(err); ok {
		pg := h.Web.NewPage(w, r, "New client organisation", "orgs")
		pg.Errors = fe
		return h.Web.Render(w, 400, "org_form", orgFormPage{Page: pg, Org: o, Parents: h.parents(w, r), CanEdit: true})
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/orgs/"+o.ID, "Organisation "+o.Name+" created.")
}

func (h *Handlers) orgShow(w http.ResponseWriter, r *http.Request) error {
	o, err := h.loadOrg(r, auth.OrgRead)
	if err != nil {
		return err
	}
	p := principal(r)
	return h.Web.Render(w, 200, "org_form", orgFormPage{Page: h.Web.NewPage(w, r, o.Name, "orgs"), Org: o,
		CanEdit: auth.Can(p, auth.OrgUpdate, o.ID), CanDel: o.Kind == "client" && auth.Can(p, auth.OrgDelete, o.ID)})
}

func (h *Handlers) orgUpdate(w http.ResponseWriter, r *http.Request) error {
	o, err := h.loadOrg(r, auth.OrgUpdate)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	o.Name, o.Timezone = r.PostFormValue("name"), r.PostFormValue("timezone")
	err = h.S.UpdateOrg(r.Context(), o, principal(r))
	if fe, ok := web.FormErrors(err); ok {
		pg := h.Web.NewPage(w, r, "Edit organisation", "orgs")
		pg.Errors = fe
		return h.Web.Render(w, 400, "org_form", orgFormPage{Page: pg, Org: o, CanEdit: true})
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/orgs/"+o.ID, "Saved.")
}

func (h *Handlers) orgDelete(w http.ResponseWriter, r *http.Request) error {
	o, err := h.loadOrg(r, auth.OrgDelete)
	if err != nil {
		return err
	}
	if err := h.deleteOrg(r, o); err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/orgs", "Organisation "+o.Name+" deleted.")
}

// ---- sites ----

type siteListPage struct {
	web.Page
	Sites    []*Site
	OrgNames map[string]string
	CanAdd   bool
	Pager    pager
}

func (h *Handlers) orgNames(r *http.Request) map[string]string {
	orgs, _ := h.S.Orgs(r.Context(), principal(r).OrgsWhere(auth.OrgRead), "", Page{Limit: 500})
	m := map[string]string{}
	for _, o := range orgs {
		m[o.ID] = o.Name
	}
	return m
}

func (h *Handlers) siteList(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	off := pageOffset(r)
	f := SiteFilter{OrgID: r.URL.Query().Get("org_id"), Q: r.URL.Query().Get("q")}
	sites, err := h.S.Sites(r.Context(), p.OrgsWhere(auth.SiteRead), f, Page{listLimit + 1, off})
	if err != nil {
		return err
	}
	more := len(sites) > listLimit
	if more {
		sites = sites[:listLimit]
	}
	return h.Web.Render(w, 200, "site_list", siteListPage{h.Web.NewPage(w, r, "Sites", "sites"), sites, h.orgNames(r),
		len(p.OrgsWhere(auth.SiteWrite)) > 0, newPager(r, off, listLimit, more)})
}

type siteFormPage struct {
	web.Page
	Site      *Site
	Lat, Lon  string
	OrgChoice []web.OrgOption
}

func (h *Handlers) writableOrgs(r *http.Request, current string) []web.OrgOption {
	names := h.orgNames(r)
	var out []web.OrgOption
	for _, id := range principal(r).OrgsWhere(auth.SiteWrite) {
		out = append(out, web.OrgOption{ID: id, Name: names[id], Current: id == current})
	}
	return out
}

func fmtFloat(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func (h *Handlers) siteNew(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	orgs := h.writableOrgs(r, p.OrgID)
	if len(orgs) == 0 {
		return web.ErrForbidden
	}
	org := p.OrgID
	if !auth.Can(p, auth.SiteWrite, org) {
		org = orgs[0].ID
	}
	tz := "UTC"
	if o, err := h.S.Org(r.Context(), p.OrgsWhere(auth.OrgRead), org); err == nil {
		tz = o.Timezone
	}
	return h.Web.Render(w, 200, "site_form", siteFormPage{Page: h.Web.NewPage(w, r, "New site", "sites"),
		Site: &Site{OrgID: org, Timezone: tz}, OrgChoice: orgs})
}

// siteFromForm reads the site form into x.
func siteFromForm(r *http.Request, x *Site) (lat, lon string, err error) {
	f := r.PostForm
	in := siteInput{Name: f.Get("name"), Code: f.Get("code"), Address: f.Get("address"), City: f.Get("city"), Region: f.Get("region"),
		PostalCode: f.Get("postal_code"), Country: f.Get("country"), Timezone: f.Get("timezone"), Phone: f.Get("phone"), Notes: f.Get("notes")}
	lat, lon = strings.TrimSpace(f.Get("latitude")), strings.TrimSpace(f.Get("longitude"))
	if in.Latitude, err = optFloat("latitude", lat); err == nil {
		in.Longitude, err = optFloat("longitude", lon)
	}
	in.apply(x)
	return lat, lon, err
}

func optFloat(field, v string) (*float64, error) {
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil, web.BadField(field, "must be a number")
	}
	return &f, nil
}

func (h *Handlers) siteCreate(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	p := principal(r)
	x := &Site{OrgID: r.PostFormValue("org_id")}
	if err := need(p, auth.SiteWrite, x.OrgID); err != nil {
		return err
	}
	lat, lon, err := siteFromForm(r, x)
	if err == nil {
		err = h.S.CreateSite(r.Context(), x, p)
	}
	if fe, ok := web.FormErrors(err); ok {
		pg := h.Web.NewPage(w, r, "New site", "sites")
		pg.Errors = fe
		return h.Web.Render(w, 400, "site_form", siteFormPage{pg, x, lat, lon, h.writableOrgs(r, x.OrgID)})
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/sites/"+x.ID, "Site "+x.Name+" created.")
}

type siteShowPage struct {
	web.Page
	Site     *Site
	OrgName  string
	Zones    []*Zone
	Devices  []*Device
	Contacts []*Contact
	ZoneName map[string]string
	CanEdit  bool
	Types    []Choice
}

func (h *Handlers) siteShow(w http.ResponseWriter, r *http.Request) error {
	x, err := h.loadSite(r, auth.SiteRead)
	if err != nil {
		return err
	}
	return h.renderSite(w, r, x, 200, nil)
}

func (h *Handlers) renderSite(w http.ResponseWriter, r *http.Request, x *Site, status int, errs map[string]string) error {
	ctx := r.Context()
	zs, err := h.S.Zones(ctx, x)
	if err != nil {
		return err
	}
	ds, err := h.S.Devices(ctx, []string{x.OrgID}, DeviceFilter{SiteID: x.ID}, Page{Limit: 500})
	if err != nil {
		return err
	}
	cs, err := h.S.Contacts(ctx, x)
	if err != nil {
		return err
	}
	zn := map[string]string{}
	for _, z := range zs {
		zn[z.ID] = z.Name
	}
	pg := h.Web.NewPage(w, r, x.Name, "sites")
	pg.Errors = errs
	pg.Timezone = x.Timezone
	return h.Web.Render(w, status, "site_show", siteShowPage{pg, x, h.orgNames(r)[x.OrgID], zs, ds, cs, zn,
		auth.Can(principal(r), auth.SiteWrite, x.OrgID), DeviceTypes})
}

func (h *Handlers) siteEdit(w http.ResponseWriter, r *http.Request) error {
	x, err := h.loadSite(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	return h.Web.Render(w, 200, "site_form", siteFormPage{h.Web.NewPage(w, r, "Edit "+x.Name, "sites"), x, fmtFloat(x.Latitude), fmtFloat(x.Longitude), nil})
}

func (h *Handlers) siteUpdate(w http.ResponseWriter, r *http.Request) error {
	x, err := h.loadSite(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	lat, lon, err := siteFromForm(r, x)
	if err == nil {
		err = h.S.UpdateSite(r.Context(), x, principal(r))
	}
	if fe, ok := web.FormErrors(err); ok {
		pg := h.Web.NewPage(w, r, "Edit site", "sites")
		pg.Errors = fe
		return h.Web.Render(w, 400, "site_form", siteFormPage{pg, x, lat, lon, nil})
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/sites/"+x.ID, "Saved.")
}

func (h *Handlers) siteDelete(w http.ResponseWriter, r *http.Request) error {
	x, err := h.loadSite(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	if err := h.S.DeleteSite(r.Context(), x, principal(r)); err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/sites", "Site "+x.Name+" deleted.")
}

// ---- zones and contacts (managed from the site page) ----

func zoneFromForm(f url.Values, z *Zone) error {
	z.Name, z.Description = f.Get("name"), f.Get("description")
	z.Number = nil
	if v := strings.TrimSpace(f.Get("number")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return web.BadField("number", "must be a whole number")
		}
		z.Number = &n
	}
	return nil
}

func (h *Handlers) zoneCreate(w http.ResponseWriter, r *http.Request) error {
	x, err := h.loadSite(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	z := &Zone{OrgID: x.OrgID, SiteID: x.ID}
	err = zoneFromForm(r.PostForm, z)
	if err == nil {
		err = h.S.CreateZone(r.Context(), z, principal(r))
	}
	if fe, ok := web.FormErrors(err); ok {
		return h.renderSite(w, r, x, 400, prefixed("zone_", fe))
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/sites/"+x.ID+"#zones", "Zone "+z.Name+" added.")
}

// prefixed namespaces field errors of the small forms on the site page.
func prefixed(p string, m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[p+k] = v
	}
	return out
}

type zoneFormPage struct {
	web.Page
	Zone *Zone
}

func (h *Handlers) zoneEdit(w http.ResponseWriter, r *http.Request) error {
	z, err := h.loadZone(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	return h.Web.Render(w, 200, "zone_form", zoneFormPage{h.Web.NewPage(w, r, "Edit zone "+z.Name, "sites"), z})
}

func (h *Handlers) zoneUpdate(w http.ResponseWriter, r *http.Request) error {
	z, err := h.loadZone(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	err = zoneFromForm(r.PostForm, z)
	if err == nil {
		err = h.S.UpdateZone(r.Context(), z, principal(r))
	}
	if fe, ok := web.FormErrors(err); ok {
		pg := h.Web.NewPage(w, r, "Edit zone", "sites")
		pg.Errors = fe
		return h.Web.Render(w, 400, "zone_form", zoneFormPage{pg, z})
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/sites/"+z.SiteID+"#zones", "Zone saved.")
}

func (h *Handlers) zoneDelete(w http.ResponseWriter, r *http.Request) error {
	z, err := h.loadZone(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	if err := h.S.DeleteZone(r.Context(), z, principal(r)); err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/sites/"+z.SiteID+"#zones", "Zone "+z.Name+" deleted.")
}

func (h *Handlers) contactCreate(w http.ResponseWriter, r *http.Request) error {
	x, err := h.loadSite(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	order, _ := strconv.Atoi(f.Get("call_order"))
	c := &Contact{OrgID: x.OrgID, SiteID: x.ID, Name: f.Get("name"), Role: f.Get("role"), Phone: f.Get("phone"), Email: f.Get("email"),
		Keyholder: f.Get("keyholder") == "on", CallOrder: order}
	err = h.S.AddContact(r.Context(), c, principal(r))
	if fe, ok := web.FormErrors(err); ok {
		return h.renderSite(w, r, x, 400, prefixed("contact_", fe))
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/sites/"+x.ID+"#contacts", "Contact "+c.Name+" added.")
}

func (h *Handlers) contactDelete(w http.ResponseWriter, r *http.Request) error {
	x, err := h.loadSite(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	if err := h.S.DeleteContact(r.Context(), x, r.PathValue("contact_id"), principal(r)); err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/sites/"+x.ID+"#contacts", "Contact removed.")
}

// ---- devices ----

type deviceListPage struct {
	web.Page
	Devices   []*Device
	SiteNames map[string]string
	Types     []Choice
	Statuses  []Choice
	Sites     []*Site
	CanAdd    bool
	Pager     pager
}

func choiceLabel(cs []Choice, v string) string {
	for _, c := range cs {
		if c.Value == v {
			return c.Label
		}
	}
	return v
}

func (h *Handlers) deviceList(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	q := r.URL.Query()
	off := pageOffset(r)
	scope := p.OrgsWhere(auth.SiteRead)
	f := DeviceFilter{SiteID: q.Get("site_id"), Type: q.Get("type"), Status: q.Get("status"), Q: q.Get("q")}
	ds, err := h.S.Devices(r.Context(), scope, f, Page{listLimit + 1, off})
	if err != nil {
		return err
	}
	more := len(ds) > listLimit
	if more {
		ds = ds[:listLimit]
	}
	sites, err := h.S.Sites(r.Context(), scope, SiteFilter{}, Page{Limit: 500})
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, x := range sites {
		names[x.ID] = x.Name
	}
	return h.Web.Render(w, 200, "device_list", deviceListPage{h.Web.NewPage(w, r, "Devices", "devices"), ds, names, DeviceTypes, DeviceStatuses,
		sites, len(p.OrgsWhere(auth.SiteWrite)) > 0, newPager(r, off, listLimit, more)})
}

type deviceFormPage struct {
	web.Page
	Device   *Device
	Site     *Site
	Sites    []*Site
	Zones    []*Zone
	Types    []Choice
	Statuses []Choice
}

func (h *Handlers) renderDeviceForm(w http.ResponseWriter, r *http.Request, status int, d *Device, errs map[string]string) error {
	p := principal(r)
	title := "New device"
	if d.ID != "" {
		title = "Edit " + d.Name
	}
	pg := h.Web.NewPage(w, r, title, "devices")
	pg.Errors = errs
	data := deviceFormPage{Page: pg, Device: d, Types: DeviceTypes, Statuses: DeviceStatuses}
	if d.SiteID != "" {
		x, err := h.S.Site(r.Context(), p.OrgsWhere(auth.SiteRead), d.SiteID)
		if err != nil {
			return err
		}
		data.Site = x
		if data.Zones, err = h.S.Zones(r.Context(), x); err != nil {
			return err
		}
	} else {
		sites, err := h.S.Sites(r.Context(), p.OrgsWhere(auth.SiteWrite), SiteFilter{}, Page{Limit: 500})
		if err != nil {
			return err
		}
		data.Sites = sites
	}
	return h.Web.Render(w, status, "device_form", data)
}

func (h *Handlers) deviceNew(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	d := &Device{Status: "active", SiteID: r.URL.Query().Get("site_id")}
	if d.SiteID != "" {
		x, err := h.S.Site(r.Context(), p.OrgsWhere(auth.SiteRead), d.SiteID)
		if err != nil {
			return err
		}
		if err := need(p, auth.SiteWrite, x.OrgID); err != nil {
			return err
		}
	} else if len(p.OrgsWhere(auth.SiteWrite)) == 0 {
		return web.ErrForbidden
	}
	return h.renderDeviceForm(w, r, 200, d, nil)
}

func deviceFromForm(f url.Values, d *Device) {
	deviceInput{ZoneID: f.Get("zone_id"), Type: f.Get("type"), Name: f.Get("name"), Make: f.Get("make"), Model: f.Get("model"),
		Serial: f.Get("serial"), InstalledOn: f.Get("installed_on"), Status: f.Get("status"), Notes: f.Get("notes")}.apply(d)
}

func (h *Handlers) deviceCreate(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	p := principal(r)
	x, err := h.S.Site(r.Context(), p.OrgsWhere(auth.SiteRead), r.PostFormValue("site_id"))
	if err != nil {
		return h.renderDeviceForm(w, r, 400, &Device{}, map[string]string{"site_id": "choose a site"})
	}
	if err := need(p, auth.SiteWrite, x.OrgID); err != nil {
		return err
	}
	d := &Device{OrgID: x.OrgID, SiteID: x.ID}
	deviceFromForm(r.PostForm, d)
	err = h.S.CreateDevice(r.Context(), d, p)
	if fe, ok := web.FormErrors(err); ok {
		d.ID = ""
		return h.renderDeviceForm(w, r, 400, d, fe)
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/sites/"+x.ID+"#devices", "Device "+d.Name+" added.")
}

func (h *Handlers) deviceEdit(w http.ResponseWriter, r *http.Request) error {
	d, err := h.loadDevice(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	return h.renderDeviceForm(w, r, 200, d, nil)
}

func (h *Handlers) deviceUpdate(w http.ResponseWriter, r *http.Request) error {
	d, err := h.loadDevice(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	deviceFromForm(r.PostForm, d)
	err = h.S.UpdateDevice(r.Context(), d, principal(r))
	if fe, ok := web.FormErrors(err); ok {
		return h.renderDeviceForm(w, r, 400, d, fe)
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/sites/"+d.SiteID+"#devices", "Device saved.")
}

func (h *Handlers) deviceDelete(w http.ResponseWriter, r *http.Request) error {
	d, err := h.loadDevice(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	if err := h.S.DeleteDevice(r.Context(), d, principal(r)); err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/sites/"+d.SiteID+"#devices", "Device "+d.Name+" deleted.")
}
