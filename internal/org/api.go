package org

import (
	"errors"
	"net/http"
	"strings"

	"vigil/internal/auth"
	"vigil/internal/store"
	"vigil/internal/web"
)

// Handlers serves the organisation, site, zone, contact and device pages and API.
type Handlers struct {
	S   *Service
	Web *web.Server
}

// Register adds every route of this module: all of them on one screen.
func (h *Handlers) Register() {
	s := h.Web
	s.API("GET", "/orgs", h.apiListOrgs, web.Doc{Summary: "List organisations you can see", Response: web.List[*Org]{}, Query: []string{"q", "limit", "offset"}})
	s.API("POST", "/orgs", h.apiCreateOrg, web.Doc{Summary: "Create a client organisation", Request: orgInput{}, Response: &Org{}, Status: 201})
	s.API("GET", "/orgs/{id}", h.apiGetOrg, web.Doc{Summary: "Get an organisation", Response: &Org{}})
	s.API("PATCH", "/orgs/{id}", h.apiUpdateOrg, web.Doc{Summary: "Update an organisation", Request: orgInput{}, Response: &Org{}})
	s.API("DELETE", "/orgs/{id}", h.apiDeleteOrg, web.Doc{Summary: "Delete an empty client organisation", Status: 204})

	s.API("GET", "/sites", h.apiListSites, web.Doc{Summary: "List sites", Response: web.List[*Site]{}, Query: []string{"org_id", "q", "limit", "offset"}})
	s.API("POST", "/sites", h.apiCreateSite, web.Doc{Summary: "Create a site", Request: siteInput{}, Response: &Site{}, Status: 201})
	s.API("GET", "/sites/{id}", h.apiGetSite, web.Doc{Summary: "Get a site", Response: &Site{}})
	s.API("PATCH", "/sites/{id}", h.apiUpdateSite, web.Doc{Summary: "Update a site", Request: siteInput{}, Response: &Site{}})
	s.API("DELETE", "/sites/{id}", h.apiDeleteSite, web.Doc{Summary: "Delete a site with its zones, devices and contacts", Status: 204})
	s.API("GET", "/sites/{id}/zones", h.apiListZones, web.Doc{Summary: "List a site's zones", Response: web.List[*Zone]{}})
	s.API("POST", "/sites/{id}/zones", h.apiCreateZone, web.Doc{Summary: "Add a zone to a site", Request: zoneInput{}, Response: &Zone{}, Status: 201})
	s.API("GET", "/sites/{id}/contacts", h.apiListContacts, web.Doc{Summary: "List a site's contacts and keyholders", Response: web.List[*Contact]{}})
	s.API("POST", "/sites/{id}/contacts", h.apiCreateContact, web.Doc{Summary: "Add a contact or keyholder to a site", Request: contactInput{}, Response: &Contact{}, Status: 201})
	s.API("DELETE", "/sites/{id}/contacts/{contact_id}", h.apiDeleteContact, web.Doc{Summary: "Remove a site contact", Status: 204})

	s.API("GET", "/zones/{id}", h.apiGetZone, web.Doc{Summary: "Get a zone", Response: &Zone{}})
	s.API("PATCH", "/zones/{id}", h.apiUpdateZone, web.Doc{Summary: "Update a zone", Request: zoneInput{}, Response: &Zone{}})
	s.API("DELETE", "/zones/{id}", h.apiDeleteZone, web.Doc{Summary: "Delete a zone", Status: 204})

	s.API("GET", "/devices", h.apiListDevices, web.Doc{Summary: "List devices", Response: web.List[*Device]{}, Query: []string{"org_id", "site_id", "zone_id", "type", "status", "q", "limit", "offset"}})
	s.API("POST", "/devices", h.apiCreateDevice, web.Doc{Summary: "Add a device to a site", Request: deviceInput{}, Response: &Device{}, Status: 201})
	s.API("GET", "/devices/{id}", h.apiGetDevice, web.Doc{Summary: "Get a device", Response: &Device{}})
	s.API("PATCH", "/devices/{id}", h.apiUpdateDevice, web.Doc{Summary: "Update a device", Request: deviceInput{}, Response: &Device{}})
	s.API("DELETE", "/devices/{id}", h.apiDeleteDevice, web.Doc{Summary: "Delete a device", Status: 204})

	h.registerUI()
}

// need is web.Need: 404 for another tenant, 403 for a forbidden action.
var need = web.Need

func principal(r *http.Request) *auth.Principal { return auth.FromContext(r.Context()) }

// ---- organisations ----

type orgInput struct {
	Name     string `json:"name"`
	Slug     string `json:"slug,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	ParentID string `json:"parent_id,omitempty"`
}

func (h *Handlers) apiListOrgs(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	p := principal(r)
	orgs, err := h.S.Orgs(r.Context(), p.OrgsWhere(auth.OrgRead), r.URL.Query().Get("q"), Page{limit + 1, offset})
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(orgs, limit, offset))
}

func (h *Handlers) apiCreateOrg(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var in orgInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.ParentID == "" {
		in.ParentID = p.OrgID
	}
	if err := need(p, auth.OrgCreate, in.ParentID); err != nil {
		if err == web.ErrNotFound {
			return web.BadField("parent_id", "is not a known organisation")
		}
		return err
	}
	o, err := h.createClientOrg(r, in)
	if err != nil {
		return err
	}
	return web.JSON(w, 201, o)
}

func (h *Handlers) createClientOrg(r *http.Request, in orgInput) (*Org, error) {
	o := &Org{Kind: "client", Name: in.Name, Slug: in.Slug, Timezone: in.Timezone, ParentID: in.ParentID}
	if o.Slug == "" {
		o.Slug = Slugify(o.Name)
	}
	err := h.S.DB.Write(r.Context(), func(tx *store.Tx) error { return h.S.CreateOrg(r.Context(), tx, o, principal(r)) })
	return o, err
}

// Slugify makes a URL-safe slug from a name.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

func (h *Handlers) loadOrg(r *http.Request, action auth.Action) (*Org, error) {
	p := principal(r)
	id := r.PathValue("id")
	if err := need(p, action, id); err != nil {
		return nil, err
	}
	return h.S.Org(r.Context(), p.OrgsWhere(auth.OrgRead), id)
}

func (h *Handlers) apiGetOrg(w http.ResponseWriter, r *http.Request) error {
	o, err := h.loadOrg(r, auth.OrgRead)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, o)
}

func (h *Handlers) apiUpdateOrg(w http.ResponseWriter, r *http.Request) error {
	o, err := h.loadOrg(r, auth.OrgUpdate)
	if err != nil {
		return err
	}
	in := orgInput{Name: o.Name, Slug: o.Slug, Timezone: o.Timezone, ParentID: o.ParentID}
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Slug != o.Slug || in.ParentID != o.ParentID {
		return web.BadField("slug", "and parent_id cannot be changed")
	}
	o.Name, o.Timezone = in.Name, in.Timezone
	if err := h.S.UpdateOrg(r.Context(), o, principal(r)); err != nil {
		return err
	}
	return web.JSON(w, 200, o)
}

func (h *Handlers) apiDeleteOrg(w http.ResponseWriter, r *http.Request) error {
	o, err := h.loadOrg(r, auth.OrgDelete)
	if err != nil {
		return err
	}
	if err := h.deleteOrg(r, o); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) deleteOrg(r *http.Request, o *Org) error {
	err := h.S.DeleteOrg(r.Context(), o, principal(r))
	if errors.Is(err, ErrInUse) {
		return web.Errorf(http.StatusConflict, "in_use", "remove the organisation's sites and members first")
	}
	return err
}

// ---- sites ----

type siteInput struct {
	OrgID      string   `json:"org_id,omitempty"`
	Name       string   `json:"name"`
	Code       string   `json:"code,omitempty"`
	Address    string   `json:"address,omitempty"`
	City       string   `json:"city,omitempty"`
	Region     string   `json:"region,omitempty"`
	PostalCode string   `json:"postal_code,omitempty"`
	Country    string   `json:"country,omitempty"`
	Timezone   string   `json:"timezone"`
	Latitude   *float64 `json:"latitude,omitempty"`
	Longitude  *float64 `json:"longitude,omitempty"`
	Phone      string   `json:"phone,omitempty"`
	Notes      string   `json:"notes,omitempty"`
}

func (in siteInput) apply(x *Site) {
	x.Name, x.Code, x.Address, x.City, x.Region, x.PostalCode, x.Country = in.Name, in.Code, in.Address, in.City, in.Region, in.PostalCode, in.Country
	x.Timezone, x.Latitude, x.Longitude, x.Phone, x.Notes = in.Timezone, in.Latitude, in.Longitude, in.Phone, in.Notes
}

func inputOf(x *Site) siteInput {
	return siteInput{OrgID: x.OrgID, Name: x.Name, Code: x.Code, Address: x.Address, City: x.City, Region: x.Region, PostalCode: x.PostalCode,
		Country: x.Country, Timezone: x.Timezone, Latitude: x.Latitude, Longitude: x.Longitude, Phone: x.Phone, Notes: x.Notes}
}

func (h *Handlers) apiListSites(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	p := principal(r)
	f := SiteFilter{OrgID: r.URL.Query().Get("org_id"), Q: r.URL.Query().Get("q")}
	if f.OrgID != "" && !p.Sees(f.OrgID) {
		return web.JSON(w, 200, web.NewList([]*Site{}, limit, offset))
	}
	sites, err := h.S.Sites(r.Context(), p.OrgsWhere(auth.SiteRead), f, Page{limit + 1, offset})
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(sites, limit, offset))
}

func (h *Handlers) apiCreateSite(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var in siteInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.OrgID == "" {
		in.OrgID = p.OrgID
	}
	if err := need(p, auth.SiteWrite, in.OrgID); err != nil {
		if err == web.ErrNotFound {
			return web.BadField("org_id", "is not a known organisation")
		}
		return err
	}
	x := &Site{OrgID: in.OrgID}
	in.apply(x)
	if err := h.S.CreateSite(r.Context(), x, p); err != nil {
		return err
	}
	return web.JSON(w, 201, x)
}

func (h *Handlers) loadSite(r *http.Request, action auth.Action) (*Site, error) {
	p := principal(r)
	x, err := h.S.Site(r.Context(), p.OrgsWhere(auth.SiteRead), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return x, need(p, action, x.OrgID)
}

func (h *Handlers) apiGetSite(w http.ResponseWriter, r *http.Request) error {
	x, err := h.loadSite(r, auth.SiteRead)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, x)
}

func (h *Handlers) apiUpdateSite(w http.ResponseWriter, r *http.Request) error {
	x, err := h.loadSite(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	in := inputOf(x)
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.OrgID != x.OrgID {
		return web.BadField("org_id", "cannot be changed")
	}
	in.apply(x)
	if err := h.S.UpdateSite(r.Context(), x, principal(r)); err != nil {
		return err
	}
	return web.JSON(w, 200, x)
}

func (h *Handlers) apiDeleteSite(w http.ResponseWriter, r *http.Request) error {
	x, err := h.loadSite(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	if err := h.S.DeleteSite(r.Context(), x, principal(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- zones ----

type zoneInput struct {
	Name        string `json:"name"`
	Number      *int   `json:"number,omitempty"`
	Description string `json:"description,omitempty"`
}

func (h *Handlers) apiListZones(w http.ResponseWriter, r *http.Request) error {
	x, err := h.loadSite(r, auth.SiteRead)
	if err != nil {
		return err
	}
	zs, err := h.S.Zones(r.Context(), x)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(zs, len(zs)+1, 0))
}

func (h *Handlers) apiCreateZone(w http.ResponseWriter, r *http.Request) error {
	x, err := h.loadSite(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	var in zoneInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	z := &Zone{OrgID: x.OrgID, SiteID: x.ID, Name: in.Name, Number: in.Number, Description: in.Description}
	if err := h.S.CreateZone(r.Context(), z, principal(r)); err != nil {
		return err
	}
	return web.JSON(w, 201, z)
}

func (h *Handlers) loadZone(r *http.Request, action auth.Action) (*Zone, error) {
	p := principal(r)
	z, err := h.S.Zone(r.Context(), p.OrgsWhere(auth.SiteRead), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return z, need(p, action, z.OrgID)
}

func (h *Handlers) apiGetZone(w http.ResponseWriter, r *http.Request) error {
	z, err := h.loadZone(r, auth.SiteRead)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, z)
}

func (h *Handlers) apiUpdateZone(w http.ResponseWriter, r *http.Request) error {
	z, err := h.loadZone(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	in := zoneInput{Name: z.Name, Number: z.Number, Description: z.Description}
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	z.Name, z.Number, z.Description = in.Name, in.Number, in.Description
	if err := h.S.UpdateZone(r.Context(), z, principal(r)); err != nil {
		return err
	}
	return web.JSON(w, 200, z)
}

func (h *Handlers) apiDeleteZone(w http.ResponseWriter, r *http.Request) error {
	z, err := h.loadZone(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	if err := h.S.DeleteZone(r.Context(), z, principal(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- contacts ----

type contactInput struct {
	Name      string `json:"name"`
	Role      string `json:"role,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Email     string `json:"email,omitempty"`
	Keyholder bool   `json:"keyholder,omitempty"`
	CallOrder int    `json:"call_order,omitempty"`
}

func (h *Handlers) apiListContacts(w http.ResponseWriter, r *http.Request) error {
	x, err := h.loadSite(r, auth.SiteRead)
	if err != nil {
		return err
	}
	cs, err := h.S.Contacts(r.Context(), x)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(cs, len(cs)+1, 0))
}

func (h *Handlers) apiCreateContact(w http.ResponseWriter, r *http.Request) error {
	x, err := h.loadSite(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	var in contactInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	c := &Contact{OrgID: x.OrgID, SiteID: x.ID, Name: in.Name, Role: in.Role, Phone: in.Phone, Email: in.Email, Keyholder: in.Keyholder, CallOrder: in.CallOrder}
	if err := h.S.AddContact(r.Context(), c, principal(r)); err != nil {
		return err
	}
	return web.JSON(w, 201, c)
}

func (h *Handlers) apiDeleteContact(w http.ResponseWriter, r *http.Request) error {
	x, err := h.loadSite(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	if err := h.S.DeleteContact(r.Context(), x, r.PathValue("contact_id"), principal(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- devices ----

type deviceInput struct {
	SiteID      string `json:"site_id"`
	ZoneID      string `json:"zone_id,omitempty"`
	Type        string `json:"type"`
	Name        string `json:"name"`
	Make        string `json:"make,omitempty"`
	Model       string `json:"model,omitempty"`
	Serial      string `json:"serial,omitempty"`
	InstalledOn string `json:"installed_on,omitempty"`
	Status      string `json:"status,omitempty"`
	Notes       string `json:"notes,omitempty"`
}

func (in deviceInput) apply(d *Device) {
	d.ZoneID, d.Type, d.Name, d.Make, d.Model, d.Serial, d.InstalledOn, d.Status, d.Notes =
		in.ZoneID, in.Type, in.Name, in.Make, in.Model, in.Serial, in.InstalledOn, in.Status, in.Notes
}

func (h *Handlers) apiListDevices(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := DeviceFilter{OrgID: q.Get("org_id"), SiteID: q.Get("site_id"), ZoneID: q.Get("zone_id"), Type: q.Get("type"), Status: q.Get("status"), Q: q.Get("q")}
	ds, err := h.S.Devices(r.Context(), principal(r).OrgsWhere(auth.SiteRead), f, Page{limit + 1, offset})
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(ds, limit, offset))
}

func (h *Handlers) apiCreateDevice(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var in deviceInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.SiteID == "" {
		return web.BadField("site_id", "is required")
	}
	x, err := h.S.Site(r.Context(), p.OrgsWhere(auth.SiteRead), in.SiteID)
	if err != nil {
		return web.BadField("site_id", "is not a known site")
	}
	if err := need(p, auth.SiteWrite, x.OrgID); err != nil {
		return err
	}
	d := &Device{OrgID: x.OrgID, SiteID: x.ID}
	in.apply(d)
	if err := h.S.CreateDevice(r.Context(), d, p); err != nil {
		return err
	}
	return web.JSON(w, 201, d)
}

func (h *Handlers) loadDevice(r *http.Request, action auth.Action) (*Device, error) {
	p := principal(r)
	d, err := h.S.Device(r.Context(), p.OrgsWhere(auth.SiteRead), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return d, need(p, action, d.OrgID)
}

func (h *Handlers) apiGetDevice(w http.ResponseWriter, r *http.Request) error {
	d, err := h.loadDevice(r, auth.SiteRead)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, d)
}

func (h *Handlers) apiUpdateDevice(w http.ResponseWriter, r *http.Request) error {
	d, err := h.loadDevice(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	in := deviceInput{SiteID: d.SiteID, ZoneID: d.ZoneID, Type: d.Type, Name: d.Name, Make: d.Make, Model: d.Model, Serial: d.Serial,
		InstalledOn: d.InstalledOn, Status: d.Status, Notes: d.Notes}
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.SiteID != d.SiteID {
		return web.BadField("site_id", "cannot be changed; delete and re-add the device")
	}
	in.apply(d)
	if err := h.S.UpdateDevice(r.Context(), d, principal(r)); err != nil {
		return err
	}
	return web.JSON(w, 200, d)
}

func (h *Handlers) apiDeleteDevice(w http.ResponseWriter, r *http.Request) error {
	d, err := h.loadDevice(r, auth.SiteWrite)
	if err != nil {
		return err
	}
	if err := h.S.DeleteDevice(r.Context(), d, principal(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
