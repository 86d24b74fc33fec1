package alarm

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"vigil/internal/auth"
	"vigil/internal/org"
	"vigil/internal/web"
)

// ---- ingest sources ----

type sourceListPage struct {
	web.Page
	Sources []*Source
	Unknown bool // the caller may see unknown accounts
}

func (m *Module) sourceList(w http.ResponseWriter, r *http.Request) error {
	scope := principal(r).OrgsWhere(auth.AlarmAdmin)
	if len(scope) == 0 {
		return web.ErrForbidden
	}
	srcs, err := m.S.Sources(r.Context(), scope, "")
	if err != nil {
		return err
	}
	pg := sourceListPage{Page: m.Web.NewPage(w, r, "Alarm sources: webhooks and MQTT", "alarm-sources"), Sources: srcs}
	if pg.Unknown, err = m.unknownAllowed(r); err != nil {
		return err
	}
	return m.Web.Render(w, 200, "alarm_sources", pg)
}

// SiteName is the source's site, for the list.
func (src *Source) SiteName() string { return src.siteName }

// sourceForm is the add-a-source form as typed, device map rows included.
type sourceForm struct {
	Kind, SiteID, Name, BrokerURL, Topic string
	Devices                              []deviceRow
}

type deviceRow struct {
	Key string
	DeviceRoute
}

const maxDeviceRows = 200

type sourceFormPage struct {
	web.Page
	F      sourceForm
	Groups []siteGroup
	Types  []Choice
	Kinds  []Choice
	Edit   *Source // the source being changed; nil: a new one
}

// Action is where the form posts.
func (pg sourceFormPage) Action() string {
	if pg.Edit != nil {
		return "/alarm-sources/" + pg.Edit.ID
	}
	return "/alarm-sources"
}

// siteGroup is one organisation's sites in the site list (an operator
// administrator adds sources for every client).
type siteGroup struct {
	Org   string
	Sites []*org.Site
}

// DeviceErr returns the error of field of device row i.
func (pg sourceFormPage) DeviceErr(i int, field string) string {
	return pg.Errors["d"+strconv.Itoa(i)+"-"+field]
}

// DeviceRows are the rows typed plus spare empty ones.
func (pg sourceFormPage) DeviceRows() []deviceRow {
	rows := append([]deviceRow(nil), pg.F.Devices...)
	for len(rows) < 3 || (len(rows) < maxDeviceRows && rows[len(rows)-1].Key != "") {
		rows = append(rows, deviceRow{})
	}
	return rows
}

var sourceKinds = []Choice{{"webhook", "Webhook — the sending system posts JSON to a secret address"}, {"mqtt", "MQTT — vigil subscribes to a broker topic"}}

func (m *Module) renderSourceForm(w http.ResponseWriter, r *http.Request, status int, f sourceForm, edit *Source, errs map[string]string) error {
	scope := principal(r).OrgsWhere(auth.AlarmAdmin)
	title := "Add an alarm source"
	if edit != nil {
		scope, title = []string{edit.OrgID}, "Change “"+edit.Name+"”"
	}
	sites, err := m.Orgs.Sites(r.Context(), scope, org.SiteFilter{}, org.Page{Limit: 1000})
	if err != nil {
		return err
	}
	pg := sourceFormPage{Page: m.Web.NewPage(w, r, title, "alarm-sources"), F: f, Types: Types, Kinds: sourceKinds, Edit: edit}
	pg.Errors = errs
	names := map[string]string{}
	for _, o := range pg.Page.Orgs {
		names[o.ID] = o.Name
	}
	at := map[string]int{}
	for _, site := range sites {
		i, ok := at[site.OrgID]
		if !ok {
			i = len(pg.Groups)
			at[site.OrgID] = i
			pg.Groups = append(pg.Groups, siteGroup{Org: names[site.OrgID]})
		}
		pg.Groups[i].Sites = append(pg.Groups[i].Sites, site)
	}
	slices.SortStableFunc(pg.Groups, func(a, b siteGroup) int { return strings.Compare(a.Org, b.Org) })
	return m.Web.Render(w, status, "alarm_source_form", pg)
}

func (m *Module) sourceNew(w http.ResponseWriter, r *http.Request) error {
	if len(principal(r).OrgsWhere(auth.AlarmAdmin)) == 0 {
		return web.ErrForbidden
	}
	kind := r.URL.Query().Get("kind")
	if kind != "mqtt" {
		kind = "webhook"
	}
	return m.renderSourceForm(w, r, 200, sourceForm{Kind: kind}, nil, nil)
}

// readSourceForm reads the form: device rows d<i>-key, -zone, -name, -type
// with "devices" their count. Rows without a key and without anything else
// are spare rows and left out.
func readSourceForm(r *http.Request) sourceForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := sourceForm{Kind: v("kind"), SiteID: v("site_id"), Name: v("name"), BrokerURL: v("broker_url"), Topic: v("topic")}
	n, _ := strconv.Atoi(v("devices"))
	for i := range min(max(n, 0), maxDeviceRows+1) {
		k := "d" + strconv.Itoa(i) + "-"
		d := deviceRow{Key: v(k + "key"), DeviceRoute: DeviceRoute{Zone: v(k + "zone"), Name: v(k + "name"), Type: v(k + "type")}}
		f.Devices = append(f.Devices, d)
	}
	return f
}

// toInput checks the form, naming each problem on its field, and builds
// the service's input. A webhook has no broker or topic: those fields are
// ignored for it rather than refused (the page shows them for MQTT only).
func (f *sourceForm) toInput() (SourceInput, map[string]string) {
	in := SourceInput{Kind: f.Kind, SiteID: f.SiteID, Name: f.Name, DeviceMap: map[string]DeviceRoute{}}
	if f.Kind == "mqtt" {
		in.BrokerURL, in.Topic = f.BrokerURL, f.Topic
	}
	errs := map[string]string{}
	if len(f.Devices) > maxDeviceRows {
		errs["devices"] = fmt.Sprintf("at most %d device rows", maxDeviceRows)
	}
	for i, d := range f.Devices {
		k := "d" + strconv.Itoa(i) + "-"
		if d.Key == "" {
			if d.Zone != "" || d.Name != "" || d.Type != "" {
				errs[k+"key"] = "name the device (or topic) this row maps"
			}
			continue
		}
		if len(d.Key) > 200 {
			errs[k+"key"] = "at most 200 characters"
		} else if _, dup := in.DeviceMap[d.Key]; dup {
			errs[k+"key"] = "this device is mapped twice"
		}
		if d.Type != "" && !validChoice(Types, d.Type) {
			errs[k+"type"] = "choose an alarm type"
		}
		if len(d.Zone) > 40 {
			errs[k+"zone"] = "at most 40 characters"
		}
		in.DeviceMap[d.Key] = d.DeviceRoute
	}
	if len(errs) > 0 {
		return in, errs
	}
	if err := in.Validate(); err != nil {
		if fe, ok := web.FormErrors(err); ok {
			return in, fe
		}
		return in, map[string]string{"kind": err.Error()}
	}
	return in, nil
}

type sourceCreatedPage struct {
	web.Page
	S       *Source
	URL     string
	BaseURL bool // the address comes from --base-url, not from this request
	Example string
}

// ingestURL is the full address a sending system posts to.
func (m *Module) ingestURL(r *http.Request, token string) (string, bool) {
	path := "/api/v1/ingest/" + token
	if m.Web.BaseURL != nil {
		return strings.TrimSuffix(m.Web.BaseURL.String(), "/") + path, true
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: r.Host, Path: path}).String(), false
}

func (m *Module) sourceCreate(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	scope := p.OrgsWhere(auth.AlarmAdmin)
	if len(scope) == 0 {
		return web.ErrForbidden
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	f := readSourceForm(r)
	in, done, err := m.sourceFormInput(w, r, f, nil)
	if done || err != nil {
		return err
	}
	src, err := m.S.CreateSource(r.Context(), scope, in, p)
	if err != nil {
		if fe, ok := web.FormErrors(err); ok {
			return m.renderSourceForm(w, r, 400, f, nil, fe)
		}
		return err
	}
	if src.Kind == "mqtt" {
		m.ReloadMQTT()
		return m.Web.Redirect(w, r, "/alarm-sources", "MQTT source “"+src.Name+"” added: vigil subscribes to "+src.Topic+" now.")
	}
	// The token exists only in this response: show it once, here.
	pg := sourceCreatedPage{Page: m.Web.NewPage(w, r, "Webhook “"+src.Name+"” added", "alarm-sources"), S: src}
	pg.URL, pg.BaseURL = m.ingestURL(r, src.Token)
	pg.Example = "curl -X POST '" + pg.URL + "' \\\n  -H 'Content-Type: application/json' \\\n" +
		`  -d '{"id": "evt-1", "type": "video", "device": "cam7", "description": "Person in yard"}'`
	return m.Web.Render(w, 200, "alarm_source_created", pg)
}

func (m *Module) sourceDelete(w http.ResponseWriter, r *http.Request) error {
	src, err := m.deleteSource(r)
	if err != nil {
		return err
	}
	return m.Web.Redirect(w, r, "/alarm-sources", "Source “"+src.Name+"” removed: its address or subscription no longer delivers alarms.")
}

// sourceFormInput handles what the add and change forms share: "more
// device rows" re-renders with five spare rows, and a form with mistakes is
// shown again with them marked (done: the response is written).
func (m *Module) sourceFormInput(w http.ResponseWriter, r *http.Request, f sourceForm, edit *Source) (in SourceInput, done bool, err error) {
	if r.PostFormValue("op") == "rows" {
		for range 5 {
			if len(f.Devices) < maxDeviceRows {
				f.Devices = append(f.Devices, deviceRow{})
			}
		}
		return in, true, m.renderSourceForm(w, r, 200, f, edit, nil)
	}
	in, errs := f.toInput()
	if errs != nil {
		return in, true, m.renderSourceForm(w, r, 400, f, edit, errs)
	}
	return in, false, nil
}

func (m *Module) sourceEdit(w http.ResponseWriter, r *http.Request) error {
	src, err := m.adminSource(r)
	if err != nil {
		return err
	}
	f := sourceForm{Kind: src.Kind, SiteID: src.SiteID, Name: src.Name, BrokerURL: src.BrokerURL, Topic: src.Topic}
	for _, k := range slices.Sorted(maps.Keys(src.DeviceMap)) {
		f.Devices = append(f.Devices, deviceRow{Key: k, DeviceRoute: src.DeviceMap[k]})
	}
	return m.renderSourceForm(w, r, 200, f, src, nil)
}

func (m *Module) sourceUpdate(w http.ResponseWriter, r *http.Request) error {
	src, err := m.adminSource(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	f := readSourceForm(r)
	f.Kind = src.Kind
	in, done, err := m.sourceFormInput(w, r, f, src)
	if done || err != nil {
		return err
	}
	p := principal(r)
	out, err := m.S.UpdateSource(r.Context(), p.OrgsWhere(auth.AlarmAdmin), src, in, p)
	if err != nil {
		if fe, ok := web.FormErrors(err); ok {
			return m.renderSourceForm(w, r, 400, f, src, fe)
		}
		return err
	}
	if out.Kind == "mqtt" {
		m.ReloadMQTT()
	}
	return m.Web.Redirect(w, r, "/alarm-sources", "Source “"+out.Name+"” saved.")
}

// ---- unknown accounts ----

type unknownPage struct {
	web.Page
	Unknown []unknownRow
}

// unknownRow is an unknown account with what became of it: the counter
// stays after the account is provisioned, so the page says it was.
type unknownRow struct {
	Unknown
	AccountID string // provisioned since, in an organisation the caller sees
	Elsewhere bool   // provisioned since, outside the caller's organisations
}

// provisioned marks the unknown accounts that have an account now, by the
// receiver's own matching rule (an exact receiver/line, or "" for any).
func (m *Module) provisioned(ctx context.Context, scope []string, us []Unknown) ([]unknownRow, error) {
	rows := make([]unknownRow, len(us))
	if len(us) == 0 {
		return rows, nil
	}
	nums := make([]string, len(us))
	for i, u := range us {
		rows[i].Unknown, nums[i] = u, u.Account
	}
	ph, args := in(nums)
	res, err := m.S.DB.Query(ctx, `SELECT id, org_id, number, receiver, line FROM alarm_accounts WHERE number IN (`+ph+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	visible := map[string]bool{}
	for _, o := range scope {
		visible[o] = true
	}
	for res.Next() {
		var id, org, number, receiver, line string
		if err := res.Scan(&id, &org, &number, &receiver, &line); err != nil {
			return nil, err
		}
		for i := range rows {
			u := &rows[i]
			if u.Account != number || (receiver != "" && receiver != u.Receiver) || (line != "" && line != u.Line) {
				continue
			}
			if visible[org] {
				u.AccountID = id
			} else {
				u.Elsewhere = true
			}
		}
	}
	return rows, res.Err()
}

// ProvisionURL opens the account form filled with what the panel sent.
func (u Unknown) ProvisionURL() string {
	q := url.Values{"number": {u.Account}, "receiver": {u.Receiver}, "line": {u.Line}}
	return "/alarm-accounts/new?" + q.Encode()
}

func (m *Module) unknownList(w http.ResponseWriter, r *http.Request) error {
	ok, err := m.unknownAllowed(r)
	if err != nil {
		return err
	}
	if !ok {
		return web.ErrForbidden
	}
	us, err := m.S.Unknowns(r.Context(), 200)
	if err != nil {
		return err
	}
	rows, err := m.provisioned(r.Context(), principal(r).OrgsWhere(auth.AlarmRead), us)
	if err != nil {
		return err
	}
	return m.Web.Render(w, 200, "alarm_unknown", unknownPage{Page: m.Web.NewPage(w, r, "Unknown alarm accounts", "alarm-unknown"), Unknown: rows})
}

func (m *Module) unknownDismiss(w http.ResponseWriter, r *http.Request) error {
	u, err := m.dismissUnknown(r)
	if err != nil {
		return err
	}
	return m.Web.Redirect(w, r, "/alarm-unknown", "Account "+u.Account+" dismissed. It is listed again if the panel sends another frame.")
}
