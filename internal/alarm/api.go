package alarm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"vigil/internal/auth"
	"vigil/internal/store"
	"vigil/internal/web"
)

// Register adds every route of the module: all of them on one screen.
func (m *Module) Register() {
	s := m.Web
	s.API("GET", "/alarms", m.apiListAlarms, web.Doc{Summary: "List alarms in queue order (priority, then age); default: open ones", Response: web.List[*Alarm]{}, Query: []string{"state", "org_id", "site_id", "limit", "offset"}})
	s.API("GET", "/alarms/{id}", m.apiGetAlarm, web.Doc{Summary: "Get an alarm with its history and SOP checklist", Response: alarmDetail{}})
	s.API("POST", "/alarms/{id}/ack", m.apiAck, web.Doc{Summary: "Acknowledge an alarm (you own it from then on)", Response: &Alarm{}})
	s.API("POST", "/alarms/{id}/steps", alarmAction(m, m.S.Step), web.Doc{Summary: "Record an SOP step: done, answered or skipped with a reason", Request: StepInput{}, Response: &Alarm{}})
	s.API("POST", "/alarms/{id}/notes", alarmAction(m, m.apiNote), web.Doc{Summary: "Add a note to an alarm", Request: noteInput{}, Response: &Alarm{}})
	s.API("POST", "/alarms/{id}/dispatch", alarmAction(m, m.apiDispatch), web.Doc{Summary: "Record the officer or patrol dispatched", Request: dispatchInput{}, Response: &Alarm{}})
	s.API("POST", "/alarms/{id}/resolve", alarmAction(m, m.S.Resolve), web.Doc{Summary: "Resolve with a disposition (required SOP steps must be done or skipped)", Request: ResolveInput{}, Response: &Alarm{}})
	s.API("POST", "/alarms/{id}/close", m.apiClose, web.Doc{Summary: "Close a resolved alarm", Response: &Alarm{}})
	s.API("GET", "/alarm-events", m.apiEvents, web.Doc{Summary: "Raw signals, newest first", Response: web.List[Event]{}, Query: []string{"account", "alarm_id", "org_id", "limit", "offset"}})

	s.API("GET", "/alarm-accounts", m.apiListAccounts, web.Doc{Summary: "List panel accounts", Response: web.List[*Account]{}, Query: []string{"org_id", "site_id", "view", "limit", "offset"}})
	s.API("POST", "/alarm-accounts", m.apiCreateAccount, web.Doc{Summary: "Provision a panel account", Request: AccountInput{}, Response: &Account{}, Status: 201})
	s.API("GET", "/alarm-accounts/{id}", m.apiGetAccount, web.Doc{Summary: "Get a panel account (the key is never returned)", Response: &Account{}})
	s.API("PATCH", "/alarm-accounts/{id}", m.apiUpdateAccount, web.Doc{Summary: "Change a panel account", Request: AccountInput{}, Response: &Account{}})
	s.API("DELETE", "/alarm-accounts/{id}", m.apiDeleteAccount, web.Doc{Summary: "Remove a panel account (its events and alarms stay)", Status: 204})
	s.API("GET", "/alarm-unknown", m.apiUnknown, web.Doc{Summary: "Frames from unprovisioned accounts (operator administrators)", Response: web.List[Unknown]{}})
	s.API("DELETE", "/alarm-unknown", m.apiDismissUnknown, web.Doc{Summary: "Dismiss an unprovisioned account; its next frame lists it again", Status: 204, Query: []string{"account", "receiver", "line"}})

	s.API("GET", "/alarm-sources", m.apiListSources, web.Doc{Summary: "List webhook and MQTT sources", Response: web.List[*Source]{}})
	s.API("POST", "/alarm-sources", m.apiCreateSource, web.Doc{Summary: "Add a webhook (the token is shown once) or MQTT source", Request: SourceInput{}, Response: &Source{}, Status: 201})
	s.API("PATCH", "/alarm-sources/{id}", m.apiUpdateSource, web.Doc{Summary: "Change a source's site, name, broker, topic or device map (a webhook keeps its address)", Request: SourceInput{}, Response: Source{}})
	s.API("DELETE", "/alarm-sources/{id}", m.apiDeleteSource, web.Doc{Summary: "Remove a source", Status: 204})
	s.API("GET", "/alarm-sops", m.apiListSOPs, web.Doc{Summary: "The organisations' own SOPs and the shipped defaults", Response: sopList{}})
	s.API("PUT", "/alarm-sops", m.apiPutSOP, web.Doc{Summary: "Create or replace the SOP of an organisation (or site) for an alarm type", Request: SOP{}, Response: &SOP{}})
	s.API("DELETE", "/alarm-sops/{id}", m.apiDeleteSOP, web.Doc{Summary: "Remove an organisation's (or site's) SOP: the next one in line applies again", Status: 204})
	s.API("GET", "/alarm-settings", m.apiSettings, web.Doc{Summary: "Escalation times per priority of an organisation (default: yours), with where they come from", Response: Settings{}, Query: []string{"org_id"}})
	s.API("PUT", "/alarm-settings", m.apiPutSettings, web.Doc{Summary: "Set an organisation's escalation times (fields left out keep their values)", Request: settingsBody{}, Response: Settings{}})

	s.PublicAPI("POST", "/ingest/{token}", m.apiIngest, web.Doc{Summary: "Webhook ingest: one event or {\"events\": […]} with the source's secret token in the path", Request: ingestBody{}, Response: ingestResult{}, Status: 202})

	m.registerUI()
}

// need is web.Need: 404 for another tenant, 403 for a forbidden action.
var need = web.Need

func principal(r *http.Request) *auth.Principal { return auth.FromContext(r.Context()) }

// listScope is the orgs to list from: those where p may do action,
// narrowed to org_id if given (403 when the caller may see it but not list).
func listScope(r *http.Request, action auth.Action) ([]string, error) {
	p := principal(r)
	scope := p.OrgsWhere(action)
	if len(scope) == 0 {
		return nil, web.ErrForbidden
	}
	if org := r.URL.Query().Get("org_id"); org != "" {
		if err := need(p, action, org); err != nil {
			if err == web.ErrNotFound {
				return []string{}, nil
			}
			return nil, err
		}
		return []string{org}, nil
	}
	return scope, nil
}

// ---- alarms ----

func (m *Module) apiListAlarms(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	scope, err := listScope(r, auth.AlarmRead)
	if err != nil {
		return err
	}
	f := AlarmFilter{SiteID: r.URL.Query().Get("site_id")}
	if st := r.URL.Query().Get("state"); st != "" {
		for _, v := range strings.Split(st, ",") {
			if !validChoice(States, v) {
				return web.BadField("state", "must be new, acknowledged, in_progress, resolved or closed (comma-separated)")
			}
			f.States = append(f.States, v)
		}
	}
	as, err := m.S.Alarms(r.Context(), scope, f, limit+1, offset)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(as, limit, offset))
}

// loadAlarm loads the alarm in the caller's scope and checks action.
func (m *Module) loadAlarm(r *http.Request, action auth.Action) (*Alarm, error) {
	p := principal(r)
	a, err := m.S.Alarm(r.Context(), p.OrgsWhere(auth.AlarmRead), r.PathValue("id"))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, web.ErrNotFound
		}
		return nil, err
	}
	return a, need(p, action, a.OrgID)
}

type alarmDetail struct {
	Alarm   *Alarm     `json:"alarm"`
	History []LogEntry `json:"history"`
	Events  []Event    `json:"events"`
	SOP     *SOP       `json:"sop"`
	Steps   []stepJSON `json:"steps"`
	// CanResolve: every required step on the SOP's path is done or skipped.
	CanResolve bool `json:"can_resolve"`
}

type stepJSON struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Answer   string `json:"answer,omitempty"`
	Note     string `json:"note,omitempty"`
	Required bool   `json:"required"`
	OnPath   bool   `json:"on_path"`
}

func (m *Module) detail(r *http.Request, a *Alarm) (*alarmDetail, []StepView, error) {
	ctx := r.Context()
	hist, err := m.S.History(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	evs, err := m.S.Events(ctx, []string{a.OrgID}, EventFilter{AlarmID: a.ID}, 100, 0)
	if err != nil {
		return nil, nil, err
	}
	sop, err := m.S.SOPFor(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	views, complete := sop.Walk(m.S.Progress(hist))
	d := &alarmDetail{Alarm: a, History: hist, Events: evs, SOP: sop, CanResolve: complete}
	for _, v := range views {
		d.Steps = append(d.Steps, stepJSON{ID: v.ID, Status: v.Status, Answer: v.Answer, Note: v.Note, Required: v.Required, OnPath: v.OnPath})
	}
	return d, views, nil
}

func (m *Module) apiGetAlarm(w http.ResponseWriter, r *http.Request) error {
	a, err := m.loadAlarm(r, auth.AlarmRead)
	if err != nil {
		return err
	}
	d, _, err := m.detail(r, a)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, d)
}

func (m *Module) apiAck(w http.ResponseWriter, r *http.Request) error {
	a, err := m.loadAlarm(r, auth.AlarmHandle)
	if err != nil {
		return err
	}
	if err := m.S.Ack(r.Context(), a, principal(r)); err != nil {
		return err
	}
	return web.JSON(w, 200, a)
}

type noteInput struct {
	Text string `json:"text"`
}

type dispatchInput struct {
	To string `json:"to"`
}

// apiNote and apiDispatch adapt the service to alarmAction.
func (m *Module) apiNote(ctx context.Context, a *Alarm, in noteInput, p *auth.Principal) error {
	return m.S.Note(ctx, a, in.Text, p)
}

func (m *Module) apiDispatch(ctx context.Context, a *Alarm, in dispatchInput, p *auth.Principal) error {
	return m.S.Dispatch(ctx, a, in.To, p)
}

// alarmAction is a POST that changes an alarm the caller may handle: load
// it, decode the input, act, answer with the alarm's new state.
func alarmAction[In any](m *Module, act func(context.Context, *Alarm, In, *auth.Principal) error) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, err := m.loadAlarm(r, auth.AlarmHandle)
		if err != nil {
			return err
		}
		var in In
		if err := web.DecodeJSON(w, r, &in); err != nil {
			return err
		}
		if err := act(r.Context(), a, in, principal(r)); err != nil {
			return err
		}
		return web.JSON(w, 200, a)
	}
}

func (m *Module) apiClose(w http.ResponseWriter, r *http.Request) error {
	a, err := m.loadAlarm(r, auth.AlarmHandle)
	if err != nil {
		return err
	}
	if err := m.S.Close(r.Context(), a, principal(r)); err != nil {
		return err
	}
	return web.JSON(w, 200, a)
}

func (m *Module) apiEvents(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	scope, err := listScope(r, auth.AlarmRead)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	evs, err := m.S.Events(r.Context(), scope, EventFilter{Account: q.Get("account"), AlarmID: q.Get("alarm_id")}, limit+1, offset)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(evs, limit, offset))
}

// ---- accounts ----

func (m *Module) apiListAccounts(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	scope, err := listScope(r, auth.AlarmRead)
	if err != nil {
		return err
	}
	f := AccountFilter{SiteID: r.URL.Query().Get("site_id")}
	switch r.URL.Query().Get("view") {
	case "":
	case "on_test":
		f.OnTest = true
	case "not_reporting":
		f.NotReporting = true
	default:
		return web.BadField("view", "must be on_test or not_reporting")
	}
	as, err := m.S.Accounts(r.Context(), scope, f, limit+1, offset)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(as, limit, offset))
}

func (m *Module) apiCreateAccount(w http.ResponseWriter, r *http.Request) error {
	var in AccountInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	p := principal(r)
	scope := p.OrgsWhere(auth.AlarmAdmin)
	if len(scope) == 0 {
		return web.ErrForbidden
	}
	a, err := m.S.CreateAccount(r.Context(), scope, in, p)
	if err != nil {
		return err
	}
	return web.JSON(w, 201, a)
}

func (m *Module) loadAccount(r *http.Request, action auth.Action) (*Account, error) {
	p := principal(r)
	a, err := m.S.Account(r.Context(), p.OrgsWhere(auth.AlarmRead), r.PathValue("id"))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, web.ErrNotFound
		}
		return nil, err
	}
	return a, need(p, action, a.OrgID)
}

func (m *Module) apiGetAccount(w http.ResponseWriter, r *http.Request) error {
	a, err := m.loadAccount(r, auth.AlarmRead)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, a)
}

func (m *Module) apiUpdateAccount(w http.ResponseWriter, r *http.Request) error {
	a, err := m.loadAccount(r, auth.AlarmAdmin)
	if err != nil {
		return err
	}
	var in AccountInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	p := principal(r)
	if err := m.S.UpdateAccount(r.Context(), p.OrgsWhere(auth.AlarmAdmin), a, in, p); err != nil {
		return err
	}
	return web.JSON(w, 200, a)
}

func (m *Module) apiDeleteAccount(w http.ResponseWriter, r *http.Request) error {
	a, err := m.loadAccount(r, auth.AlarmAdmin)
	if err != nil {
		return err
	}
	if err := m.S.DeleteAccount(r.Context(), a, principal(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// unknownAllowed: unprovisioned accounts belong to no tenant; only
// administrators of an operator organisation see them.
func (m *Module) unknownAllowed(r *http.Request) (bool, error) {
	ops, err := m.unknownAdminOrgs(r)
	return len(ops) > 0, err
}

// unknownAdminOrgs are the operator organisations the caller administers
// alarms in.
func (m *Module) unknownAdminOrgs(r *http.Request) ([]string, error) {
	return m.S.OperatorOrgs(r.Context(), principal(r).OrgsWhere(auth.AlarmAdmin))
}

// dismissUnknown forgets the unknown account named by the request's
// account, receiver and line values (the API and the page share it).
func (m *Module) dismissUnknown(r *http.Request) (Unknown, error) {
	ops, err := m.unknownAdminOrgs(r)
	if err != nil {
		return Unknown{}, err
	}
	if len(ops) == 0 {
		return Unknown{}, web.ErrForbidden
	}
	u := Unknown{Account: r.FormValue("account"), Receiver: r.FormValue("receiver"), Line: r.FormValue("line")}
	if u.Account == "" {
		return u, web.Errorf(http.StatusBadRequest, "invalid", "account is required (and receiver and line as the panel sent them)")
	}
	if err := m.S.DismissUnknown(r.Context(), principal(r), ops[0], u); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return u, web.ErrNotFound
		}
		return u, err
	}
	return u, nil
}

func (m *Module) apiDismissUnknown(w http.ResponseWriter, r *http.Request) error {
	if _, err := m.dismissUnknown(r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (m *Module) apiUnknown(w http.ResponseWriter, r *http.Request) error {
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
	return web.JSON(w, 200, web.NewList(us, 200, 0))
}

// ---- sources and SOPs ----

func (m *Module) apiListSources(w http.ResponseWriter, r *http.Request) error {
	scope, err := listScope(r, auth.AlarmAdmin)
	if err != nil {
		return err
	}
	srcs, err := m.S.Sources(r.Context(), scope, "")
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(srcs, 500, 0))
}

func (m *Module) apiCreateSource(w http.ResponseWriter, r *http.Request) error {
	var in SourceInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	p := principal(r)
	scope := p.OrgsWhere(auth.AlarmAdmin)
	if len(scope) == 0 {
		return web.ErrForbidden
	}
	src, err := m.S.CreateSource(r.Context(), scope, in, p)
	if err != nil {
		return err
	}
	if src.Kind == "mqtt" {
		m.ReloadMQTT()
	}
	return web.JSON(w, 201, src)
}

// apiUpdateSource changes the fields the body names; the others stay.
func (m *Module) apiUpdateSource(w http.ResponseWriter, r *http.Request) error {
	src, err := m.adminSource(r)
	if err != nil {
		return err
	}
	in := SourceInput{SiteID: src.SiteID, Kind: src.Kind, Name: src.Name, BrokerURL: src.BrokerURL, Topic: src.Topic, DeviceMap: src.DeviceMap}
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	p := principal(r)
	out, err := m.S.UpdateSource(r.Context(), p.OrgsWhere(auth.AlarmAdmin), src, in, p)
	if err != nil {
		return err
	}
	if out.Kind == "mqtt" {
		m.ReloadMQTT()
	}
	return web.JSON(w, 200, out)
}

func (m *Module) apiDeleteSource(w http.ResponseWriter, r *http.Request) error {
	if _, err := m.deleteSource(r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// adminSource loads the source named in the path for a caller who may
// administer it: 404 outside the caller's organisations, 403 without the
// right within them.
func (m *Module) adminSource(r *http.Request) (*Source, error) {
	p := principal(r)
	src, err := m.S.Source(r.Context(), p.OrgsWhere(auth.AlarmRead), r.PathValue("id"))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, web.ErrNotFound
		}
		return nil, err
	}
	return src, need(p, auth.AlarmAdmin, src.OrgID)
}

// deleteSource removes the source named in the path (the API and the page
// share it) and stops its MQTT subscription.
func (m *Module) deleteSource(r *http.Request) (*Source, error) {
	src, err := m.adminSource(r)
	if err != nil {
		return nil, err
	}
	if err := m.S.DeleteSource(r.Context(), src, principal(r)); err != nil {
		return nil, err
	}
	m.ReloadMQTT()
	return src, nil
}

type sopList struct {
	Items    []*SOP `json:"items"`
	Defaults []*SOP `json:"defaults"`
}

func (m *Module) apiListSOPs(w http.ResponseWriter, r *http.Request) error {
	scope, err := listScope(r, auth.AlarmRead)
	if err != nil {
		return err
	}
	sops, err := m.S.SOPs(r.Context(), scope)
	if err != nil {
		return err
	}
	out := sopList{Items: sops}
	for _, t := range Types {
		if d, ok := DefaultSOPs[t.Value]; ok {
			out.Defaults = append(out.Defaults, d)
		}
	}
	out.Defaults = append(out.Defaults, genericSOP)
	return web.JSON(w, 200, out)
}

func (m *Module) apiPutSOP(w http.ResponseWriter, r *http.Request) error {
	var in SOP
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	p := principal(r)
	if in.OrgID == "" {
		in.OrgID = p.OrgID
	}
	if err := need(p, auth.AlarmAdmin, in.OrgID); err != nil {
		if err == web.ErrNotFound {
			return web.BadField("org_id", "is not a known organisation")
		}
		return err
	}
	if err := m.S.PutSOP(r.Context(), p.OrgsWhere(auth.AlarmAdmin), &in, p); err != nil {
		return err
	}
	return web.JSON(w, 200, &in)
}

// ---- webhook ingest ----

type ingestBody struct {
	IngestEvent
	Events []IngestEvent `json:"events,omitempty"`
}

type ingestResult struct {
	Accepted int `json:"accepted"`
}

// apiIngest takes events from a webhook source. The token in the path is
// the credential (hash compared in the database); the response comes only
// after the events committed, so a 202 means they are durable.
func (m *Module) apiIngest(w http.ResponseWriter, r *http.Request) error {
	tok := r.PathValue("token")
	if len(tok) < 10 || len(tok) > 100 {
		return web.ErrNotFound
	}
	src, site, err := m.S.sourceByToken(r.Context(), tok)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return web.ErrNotFound
		}
		return err
	}
	var body ingestBody
	if err := web.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	evs := body.Events
	if len(evs) == 0 {
		evs = []IngestEvent{body.IngestEvent}
	} else if body.IngestEvent != (IngestEvent{}) {
		return web.BadField("events", "send one event or {\"events\": […]}, not both")
	}
	if len(evs) > 500 {
		return web.BadField("events", "at most 500 events per request")
	}
	now := m.S.Now().UTC()
	out := make([]Event, 0, len(evs))
	for i := range evs {
		if err := evs[i].Validate(); err != nil {
			return err
		}
		route := evs[i].Device
		one, _ := json.Marshal(evs[i])
		out = append(out, src.normalize(evs[i], route, site, one, now))
	}
	if err := m.S.Ingest(r.Context(), out); err != nil {
		return err
	}
	return web.JSON(w, http.StatusAccepted, ingestResult{Accepted: len(out)})
}
