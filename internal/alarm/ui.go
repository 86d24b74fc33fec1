package alarm

import (
	"embed"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"vigil/internal/auth"
	"vigil/internal/org"
	"vigil/internal/store"
	"vigil/internal/web"
)

// Templates are the module's pages.
//
//go:embed templates/*.html
var Templates embed.FS

func (m *Module) registerUI() {
	s := m.Web
	s.AddNav(web.NavItem{Key: "alarms", Label: "Alarms", Href: "/alarms", Action: auth.AlarmRead})
	s.AddNav(web.NavItem{Key: "alarm-accounts", Label: "Alarm accounts", Href: "/alarm-accounts", Action: auth.AlarmRead, Order: 93})
	s.AddNav(web.NavItem{Key: "alarm-sops", Label: "Alarm procedures", Href: "/alarm-sops", Action: auth.AlarmRead, Order: 94})
	s.AddNav(web.NavItem{Key: "alarm-sources", Label: "Alarm sources", Href: "/alarm-sources", Action: auth.AlarmAdmin, Order: 95})
	s.AddNav(web.NavItem{Key: "alarm-settings", Label: "Alarm escalation", Href: "/alarm-settings", Action: auth.AlarmAdmin, Order: 96})

	s.Page("GET", "/alarms", m.console)
	s.Page("GET", "/alarms/stream", m.stream)
	s.Page("GET", "/alarms/{id}", m.show)
	s.Page("POST", "/alarms/{id}/ack", m.formAction("ack"))
	s.Page("POST", "/alarms/{id}/steps", m.formAction("step"))
	s.Page("POST", "/alarms/{id}/notes", m.formAction("note"))
	s.Page("POST", "/alarms/{id}/dispatch", m.formAction("dispatch"))
	s.Page("POST", "/alarms/{id}/resolve", m.formAction("resolve"))
	s.Page("POST", "/alarms/{id}/close", m.formAction("close"))

	s.Page("GET", "/alarm-accounts", m.accountList)
	s.Page("GET", "/alarm-accounts/new", m.accountNew)
	s.Page("POST", "/alarm-accounts", m.accountCreate)
	s.Page("GET", "/alarm-accounts/{id}", m.accountEdit)
	s.Page("POST", "/alarm-accounts/{id}", m.accountUpdate)
	s.Page("POST", "/alarm-accounts/{id}/delete", m.accountDelete)

	s.Page("GET", "/alarm-sops", m.sopList)
	s.Page("GET", "/alarm-sops/new", m.sopNew)
	s.Page("POST", "/alarm-sops", m.sopSave)
	s.Page("GET", "/alarm-sops/{id}", m.sopEdit)
	s.Page("POST", "/alarm-sops/{id}", m.sopSave)
	s.Page("POST", "/alarm-sops/{id}/delete", m.sopDelete)

	s.Page("GET", "/alarm-sources", m.sourceList)
	s.Page("GET", "/alarm-sources/new", m.sourceNew)
	s.Page("POST", "/alarm-sources", m.sourceCreate)
	s.Page("GET", "/alarm-sources/{id}/edit", m.sourceEdit)
	s.Page("POST", "/alarm-sources/{id}", m.sourceUpdate)
	s.Page("POST", "/alarm-sources/{id}/delete", m.sourceDelete)
	s.Page("GET", "/alarm-unknown", m.unknownList)
	s.Page("POST", "/alarm-unknown/dismiss", m.unknownDismiss)

	s.Page("GET", "/alarm-settings", m.settingsPage)
	s.Page("POST", "/alarm-settings", m.settingsSave)
}

// ---- console ----

type consolePage struct {
	web.Page
	Alarms    []*Alarm
	CanHandle bool
	Live      bool
	Stream    string // the live stream, resuming where the list was read
	States    []Choice
	State     string
}

func (m *Module) console(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	scope := p.OrgsWhere(auth.AlarmRead)
	if len(scope) == 0 {
		return web.ErrForbidden
	}
	f := AlarmFilter{}
	st := r.URL.Query().Get("state")
	if st != "" {
		if !validChoice(States, st) {
			return web.BadField("state", "is not a known state")
		}
		f.States = []string{st}
	}
	// The stream resumes after the last change this server had seen
	// before the list is read: a change committed meanwhile (an alarm the
	// inbox applies just after its panel's ACK) is replayed, not lost
	// between rendering the page and opening its stream.
	stream := "/alarms/stream"
	if m.Hub != nil {
		stream += "?last-event-id=" + strconv.FormatUint(m.Hub.Stats().Head, 10)
	}
	as, err := m.S.Alarms(r.Context(), scope, f, 500, 0)
	if err != nil {
		return err
	}
	return m.Web.Render(w, 200, "alarm_console", consolePage{Page: m.Web.NewPage(w, r, "Alarm console", "alarms"), Alarms: as,
		CanHandle: len(p.OrgsWhere(auth.AlarmHandle)) > 0, Live: m.Hub != nil && st == "", Stream: stream, States: States, State: st})
}

// stream is the console's SSE feed: alarm changes of every organisation
// the user may read alarms in, and nothing else (the filters are the
// authorisation; live checks every event against them, replay included).
func (m *Module) stream(w http.ResponseWriter, r *http.Request) error {
	if m.Hub == nil {
		return web.Errorf(http.StatusServiceUnavailable, "no_live", "live updates need the message bus")
	}
	p := principal(r)
	var filters []string
	for _, o := range p.OrgsWhere(auth.AlarmRead) {
		subj, err := m.Bus.Subject(o, "alarm", "alarm")
		if err != nil {
			return err
		}
		filters = append(filters, subj)
	}
	if len(filters) == 0 {
		return web.ErrForbidden
	}
	return m.Hub.Serve(w, r, filters)
}

// ---- alarm page ----

type showPage struct {
	web.Page
	A            *Alarm
	Site         *org.Site
	Zone         *org.Zone
	Device       *org.Device
	Contacts     []*org.Contact
	History      []LogEntry
	Events       []Event
	SOP          *SOP
	Steps        []stepView
	CanResolve   bool
	CanHandle    bool
	Mine         bool
	Dispositions []Choice
}

// stepView adds the call list to a step for the page.
type stepView struct {
	StepView
	Calls []*org.Contact
	N     int
}

func (m *Module) show(w http.ResponseWriter, r *http.Request) error {
	a, err := m.loadAlarm(r, auth.AlarmRead)
	if err != nil {
		return err
	}
	d, views, err := m.detail(r, a)
	if err != nil {
		return err
	}
	p := principal(r)
	pg := showPage{Page: m.Web.NewPage(w, r, a.Title, "alarms"), A: a, History: d.History, Events: d.Events, SOP: d.SOP,
		CanResolve: d.CanResolve, CanHandle: auth.Can(p, auth.AlarmHandle, a.OrgID), Mine: a.OwnerID == p.UserID,
		Dispositions: Dispositions}
	scope := []string{a.OrgID}
	ctx := r.Context()
	if site, err := m.Orgs.Site(ctx, scope, a.SiteID); err == nil {
		pg.Site = site
		pg.Page.Timezone = site.Timezone
		if pg.Contacts, err = m.Orgs.Contacts(ctx, site); err != nil {
			return err
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if a.ZoneID != "" {
		pg.Zone, _ = m.Orgs.Zone(ctx, scope, a.ZoneID)
	}
	if a.DeviceID != "" {
		pg.Device, _ = m.Orgs.Device(ctx, scope, a.DeviceID)
	}
	for i, v := range views {
		sv := stepView{StepView: v, N: i + 1}
		if v.Kind == "call" {
			sv.Calls = callList(pg.Contacts, v.Call)
		}
		pg.Steps = append(pg.Steps, sv)
	}
	return m.Web.Render(w, 200, "alarm_show", pg)
}

// callList picks the contacts a call step dials, in call order.
func callList(cs []*org.Contact, who string) []*org.Contact {
	var out []*org.Contact
	for _, c := range cs {
		role := strings.ToLower(c.Role)
		switch who {
		case "keyholders":
			if c.Keyholder {
				out = append(out, c)
			}
		case "contacts":
			out = append(out, c)
		default: // police, fire, ambulance: contacts whose role names the service
			if strings.Contains(role, who) || (who == "ambulance" && strings.Contains(role, "medical")) {
				out = append(out, c)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CallOrder < out[j].CallOrder })
	return out
}

// formAction handles the alarm page's forms: same services as the API,
// then back to the alarm (or a 400 page naming the problem).
func (m *Module) formAction(kind string) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, err := m.loadAlarm(r, auth.AlarmHandle)
		if err != nil {
			return err
		}
		if err := web.ParseForm(w, r); err != nil {
			return err
		}
		p, ctx := principal(r), r.Context()
		var flash string
		switch kind {
		case "ack":
			err, flash = m.S.Ack(ctx, a, p), "Acknowledged: the alarm is yours."
		case "step":
			err, flash = m.S.Step(ctx, a, StepInput{Step: r.PostFormValue("step"), Status: r.PostFormValue("status"),
				Answer: r.PostFormValue("answer"), Reason: r.PostFormValue("reason")}, p), "Step recorded."
		case "note":
			err, flash = m.S.Note(ctx, a, r.PostFormValue("text"), p), "Note added."
		case "dispatch":
			err, flash = m.S.Dispatch(ctx, a, r.PostFormValue("to"), p), "Dispatch recorded."
		case "resolve":
			err, flash = m.S.Resolve(ctx, a, ResolveInput{Disposition: r.PostFormValue("disposition"), Note: r.PostFormValue("note")}, p), "Alarm resolved."
		case "close":
			err, flash = m.S.Close(ctx, a, p), "Alarm closed."
		}
		if err != nil {
			return err
		}
		if kind == "resolve" || kind == "close" {
			return m.Web.Redirect(w, r, "/alarms", flash)
		}
		return m.Web.Redirect(w, r, "/alarms/"+a.ID, flash)
	}
}

// ---- accounts ----

type accountListPage struct {
	web.Page
	Accounts []*Account
	Unknown  []Unknown
	View     string
	CanAdmin bool
	Sites    map[string]string
	Now      time.Time
}

func (m *Module) accountList(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	scope := p.OrgsWhere(auth.AlarmRead)
	if len(scope) == 0 {
		return web.ErrForbidden
	}
	view := r.URL.Query().Get("view")
	f := AccountFilter{OnTest: view == "on_test", NotReporting: view == "not_reporting"}
	if view != "" && !f.OnTest && !f.NotReporting {
		return web.BadField("view", "must be on_test or not_reporting")
	}
	as, err := m.S.Accounts(r.Context(), scope, f, 500, 0)
	if err != nil {
		return err
	}
	title := map[string]string{"": "Alarm accounts", "on_test": "Sites on test", "not_reporting": "Accounts not reporting"}[view]
	pg := accountListPage{Page: m.Web.NewPage(w, r, title, "alarm-accounts"), Accounts: as, View: view,
		CanAdmin: len(p.OrgsWhere(auth.AlarmAdmin)) > 0, Sites: map[string]string{}, Now: m.S.Now().UTC()}
	sites, err := m.Orgs.Sites(r.Context(), scope, org.SiteFilter{}, org.Page{Limit: 500})
	if err != nil {
		return err
	}
	for _, s := range sites {
		pg.Sites[s.ID] = s.Name
	}
	if ok, err := m.unknownAllowed(r); err != nil {
		return err
	} else if ok && view == "" {
		if pg.Unknown, err = m.S.Unknowns(r.Context(), 50); err != nil {
			return err
		}
	}
	return m.Web.Render(w, 200, "alarm_accounts", pg)
}

type accountFormPage struct {
	web.Page
	A       *Account
	Sites   []*org.Site
	Form    map[string]string
	IsNew   bool
	CanEdit bool
	// KeyFormats: the key format is chosen explicitly, never guessed.
	KeyFormats []Choice
}

func (m *Module) accountForm(w http.ResponseWriter, r *http.Request, status int, a *Account, form map[string]string, errs map[string]string) error {
	p := principal(r)
	sites, err := m.Orgs.Sites(r.Context(), p.OrgsWhere(auth.AlarmAdmin), org.SiteFilter{}, org.Page{Limit: 500})
	if err != nil {
		return err
	}
	title := "New alarm account"
	if a.ID != "" {
		title = "Alarm account " + a.Number
	}
	pg := accountFormPage{Page: m.Web.NewPage(w, r, title, "alarm-accounts"), A: a, Sites: sites, Form: form, IsNew: a.ID == "",
		CanEdit:    a.ID == "" || auth.Can(p, auth.AlarmAdmin, a.OrgID),
		KeyFormats: []Choice{{"hex", "Hex digits"}, {"ascii", "ASCII characters"}}}
	pg.Errors = errs
	return m.Web.Render(w, status, "alarm_account_form", pg)
}

func accountFormValues(a *Account) map[string]string {
	f := map[string]string{"site_id": a.SiteID, "number": a.Number, "receiver": a.Receiver, "line": a.Line, "name": a.Name,
		"key_format": a.KeyFormat, "supervision_s": strconv.Itoa(a.SupervisionS), "zone_map": "", "overrides": ""}
	if a.Encrypted {
		f["encrypted"] = "on"
	}
	if a.OnTestUntil != nil {
		f["on_test_until"] = a.OnTestUntil.Format(time.RFC3339)
	}
	if len(a.ZoneMap) > 0 {
		f["zone_map"] = mustJSON(a.ZoneMap)
	}
	if len(a.Overrides) > 0 {
		f["overrides"] = mustJSON(a.Overrides)
	}
	return f
}

// inputFromForm reads the account form. Zone map and overrides are JSON
// text areas (installers paste them from their programming sheets).
func inputFromForm(r *http.Request) (AccountInput, map[string]string, error) {
	f := map[string]string{}
	for _, k := range []string{"site_id", "number", "receiver", "line", "name", "key", "key_format", "supervision_s", "on_test_until", "zone_map", "overrides", "encrypted"} {
		f[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	in := AccountInput{SiteID: ptr(f["site_id"]), Number: ptr(f["number"]), Receiver: ptr(f["receiver"]), Line: ptr(f["line"]),
		Name: ptr(f["name"]), KeyFormat: ptr(f["key_format"]), OnTestUntil: ptr(f["on_test_until"])}
	enc := f["encrypted"] == "on"
	in.Encrypted = &enc
	if f["key"] != "" {
		in.Key = ptr(f["key"])
	}
	n, err := strconv.Atoi(f["supervision_s"])
	if f["supervision_s"] == "" {
		n, err = 0, nil
	}
	if err != nil {
		return in, f, invalid("supervision_s", "must be a whole number of seconds")
	}
	in.SupervisionS = &n
	in.ZoneMap = map[string]ZoneInfo{}
	if f["zone_map"] != "" {
		if err := jsonStrict(f["zone_map"], &in.ZoneMap); err != nil {
			return in, f, invalid("zone_map", `must be JSON like {"3": {"name": "Back door"}}`)
		}
	}
	in.Overrides = map[string]Override{}
	if f["overrides"] != "" {
		if err := jsonStrict(f["overrides"], &in.Overrides); err != nil {
			return in, f, invalid("overrides", `must be JSON like {"BA": {"priority": 1}}`)
		}
	}
	return in, f, nil
}

func ptr(s string) *string { return &s }

func (m *Module) accountNew(w http.ResponseWriter, r *http.Request) error {
	if len(principal(r).OrgsWhere(auth.AlarmAdmin)) == 0 {
		return web.ErrForbidden
	}
	// The unknown-accounts page links here with what the panel sent.
	q := r.URL.Query()
	return m.accountForm(w, r, 200, &Account{}, map[string]string{"supervision_s": "0", "number": q.Get("number"), "receiver": q.Get("receiver"), "line": q.Get("line")}, nil)
}

func (m *Module) accountCreate(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	scope := p.OrgsWhere(auth.AlarmAdmin)
	if len(scope) == 0 {
		return web.ErrForbidden
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	in, f, err := inputFromForm(r)
	var a *Account
	if err == nil {
		a, err = m.S.CreateAccount(r.Context(), scope, in, p)
	}
	if err != nil {
		if fe, ok := web.FormErrors(err); ok {
			return m.accountForm(w, r, 400, &Account{}, f, fe)
		}
		return err
	}
	return m.Web.Redirect(w, r, "/alarm-accounts", "Account "+a.Number+" provisioned.")
}

func (m *Module) accountEdit(w http.ResponseWriter, r *http.Request) error {
	a, err := m.loadAccount(r, auth.AlarmRead)
	if err != nil {
		return err
	}
	return m.accountForm(w, r, 200, a, accountFormValues(a), nil)
}

func (m *Module) accountUpdate(w http.ResponseWriter, r *http.Request) error {
	a, err := m.loadAccount(r, auth.AlarmAdmin)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	p := principal(r)
	in, f, err := inputFromForm(r)
	if err == nil {
		err = m.S.UpdateAccount(r.Context(), p.OrgsWhere(auth.AlarmAdmin), a, in, p)
	}
	if err != nil {
		if fe, ok := web.FormErrors(err); ok {
			return m.accountForm(w, r, 400, a, f, fe)
		}
		return err
	}
	return m.Web.Redirect(w, r, "/alarm-accounts", "Account "+a.Number+" saved.")
}

func (m *Module) accountDelete(w http.ResponseWriter, r *http.Request) error {
	a, err := m.loadAccount(r, auth.AlarmAdmin)
	if err != nil {
		return err
	}
	if err := m.S.DeleteAccount(r.Context(), a, principal(r)); err != nil {
		return err
	}
	return m.Web.Redirect(w, r, "/alarm-accounts", "Account "+a.Number+" removed.")
}
