package alarm

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"vigil/internal/auth"
	"vigil/internal/store"
	"vigil/internal/web"
)

// Settings are an organisation's alarm settings: how many seconds an alarm
// may stay unacknowledged, per priority, before it escalates (and again
// after each further period). 0 means never; priority 1 (life safety)
// always escalates. An organisation without its own settings takes its
// parent's (a monitoring centre sets its policy once for every client),
// else the built-in defaults.
type Settings struct {
	OrgID       string `json:"org_id"`
	EscalateP1S int    `json:"escalate_p1_s"`
	EscalateP2S int    `json:"escalate_p2_s"`
	EscalateP3S int    `json:"escalate_p3_s"`
	EscalateP4S int    `json:"escalate_p4_s"`
	// Source says where the values come from: own, parent or default.
	Source    string     `json:"source"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// SettingsInput is a complete set of settings to store.
type SettingsInput struct {
	OrgID       string `json:"org_id"`
	EscalateP1S int    `json:"escalate_p1_s"`
	EscalateP2S int    `json:"escalate_p2_s"`
	EscalateP3S int    `json:"escalate_p3_s"`
	EscalateP4S int    `json:"escalate_p4_s"`
}

// Escalation limits. A life-safety alarm nobody acknowledged for ten
// minutes is an incident in itself, so priority 1 cannot be set later than
// that, nor switched off; every period is at least two supervision ticks.
const (
	escalateMinS   = 10
	escalateMaxP1S = 600
	escalateMaxS   = 86400
)

// Validate checks the input.
func (in *SettingsInput) Validate() error {
	if in.EscalateP1S < escalateMinS || in.EscalateP1S > escalateMaxP1S {
		return invalid("escalate_p1_s", fmt.Sprintf("must be %d–%d seconds: life-safety alarms always escalate", escalateMinS, escalateMaxP1S))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"escalate_p2_s", in.EscalateP2S}, {"escalate_p3_s", in.EscalateP3S}, {"escalate_p4_s", in.EscalateP4S}} {
		if f.v != 0 && (f.v < escalateMinS || f.v > escalateMaxS) {
			return invalid(f.name, fmt.Sprintf("must be 0 (never) or %d–%d seconds", escalateMinS, escalateMaxS))
		}
	}
	return nil
}

// After is the settings as the escalation tick uses them.
func (st Settings) After() EscalateAfter {
	return EscalateAfter{PriorityLife: time.Duration(st.EscalateP1S) * time.Second, PriorityProperty: time.Duration(st.EscalateP2S) * time.Second,
		PriorityTrouble: time.Duration(st.EscalateP3S) * time.Second, PriorityOther: time.Duration(st.EscalateP4S) * time.Second}
}

func defaultSettings(org string, d EscalateAfter) Settings {
	return Settings{OrgID: org, Source: "default", EscalateP1S: int(d[PriorityLife] / time.Second), EscalateP2S: int(d[PriorityProperty] / time.Second),
		EscalateP3S: int(d[PriorityTrouble] / time.Second), EscalateP4S: int(d[PriorityOther] / time.Second)}
}

// rowsQuerier is a *store.DB or a *store.Tx.
type rowsQuerier interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// settingsFor returns the effective settings of each organisation: its
// own row, else its parent's, else defaults. One query for any number of
// organisations (the escalation tick asks for every org with new alarms).
func (s *Service) settingsFor(ctx context.Context, q rowsQuerier, orgs []string, defaults EscalateAfter) (map[string]Settings, error) {
	out := make(map[string]Settings, len(orgs))
	for _, o := range orgs {
		out[o] = defaultSettings(o, defaults)
	}
	if len(orgs) == 0 {
		return out, nil
	}
	ph, args := in(orgs)
	rows, err := q.Query(ctx, `SELECT o.id, CASE WHEN own.org_id IS NOT NULL THEN 'own' ELSE 'parent' END,
		COALESCE(own.escalate_p1_s, par.escalate_p1_s), COALESCE(own.escalate_p2_s, par.escalate_p2_s),
		COALESCE(own.escalate_p3_s, par.escalate_p3_s), COALESCE(own.escalate_p4_s, par.escalate_p4_s),
		own.updated_at, par.updated_at
		FROM orgs o LEFT JOIN alarm_settings own ON own.org_id = o.id LEFT JOIN alarm_settings par ON par.org_id = o.parent_id
		WHERE o.id IN (`+ph+`) AND (own.org_id IS NOT NULL OR par.org_id IS NOT NULL)`, args...)
	if err != nil {
		return nil, fmt.Errorf("alarm settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st Settings
		// Two columns, not COALESCE: SQLite returns a COALESCE of
		// timestamps as text.
		var own, par sql.NullTime
		if err := rows.Scan(&st.OrgID, &st.Source, &st.EscalateP1S, &st.EscalateP2S, &st.EscalateP3S, &st.EscalateP4S, &own, &par); err != nil {
			return nil, err
		}
		if own.Valid {
			st.UpdatedAt = utcPtr(own.Time)
		} else if par.Valid {
			st.UpdatedAt = utcPtr(par.Time)
		}
		out[st.OrgID] = st
	}
	return out, rows.Err()
}

// Settings returns an organisation's effective settings. The caller has
// checked that it may read them.
func (s *Service) Settings(ctx context.Context, org string, defaults EscalateAfter) (Settings, error) {
	m, err := s.settingsFor(ctx, s.DB, []string{org}, defaults)
	return m[org], err
}

// SaveSettings stores an organisation's own settings (audited with the
// values before and after). The caller has checked AlarmAdmin in in.OrgID.
func (s *Service) SaveSettings(ctx context.Context, in SettingsInput, defaults EscalateAfter, p *auth.Principal) (Settings, error) {
	if err := in.Validate(); err != nil {
		return Settings{}, err
	}
	now := s.Now().UTC()
	var st Settings
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		before, err := s.settingsFor(ctx, tx, []string{in.OrgID}, defaults)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO alarm_settings (org_id, escalate_p1_s, escalate_p2_s, escalate_p3_s, escalate_p4_s, updated_at)
			VALUES (?,?,?,?,?,?) ON CONFLICT (org_id) DO UPDATE SET escalate_p1_s = excluded.escalate_p1_s, escalate_p2_s = excluded.escalate_p2_s,
			escalate_p3_s = excluded.escalate_p3_s, escalate_p4_s = excluded.escalate_p4_s, updated_at = excluded.updated_at`,
			in.OrgID, in.EscalateP1S, in.EscalateP2S, in.EscalateP3S, in.EscalateP4S, now); err != nil {
			return fmt.Errorf("save alarm settings: %w", err)
		}
		st = Settings{OrgID: in.OrgID, EscalateP1S: in.EscalateP1S, EscalateP2S: in.EscalateP2S, EscalateP3S: in.EscalateP3S,
			EscalateP4S: in.EscalateP4S, Source: "own", UpdatedAt: &now}
		return s.record(ctx, tx, p, in.OrgID, "alarm_settings.update", "org", in.OrgID,
			map[string]any{"before": before[in.OrgID], "after": st})
	})
	return st, err
}

// ResetSettings drops an organisation's own settings: its parent's or the
// defaults apply again.
func (s *Service) ResetSettings(ctx context.Context, org string, p *auth.Principal) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM alarm_settings WHERE org_id = ?`, org)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.record(ctx, tx, p, org, "alarm_settings.reset", "org", org, nil)
	})
}

// ---- API ----

// settingsOrg is the organisation a settings request is about: org_id if
// given, else the caller's current one; 404 outside the caller's orgs.
func settingsOrg(p *auth.Principal, org string, action auth.Action) (string, error) {
	if org == "" {
		org = p.OrgID
	}
	return org, need(p, action, org)
}

func (m *Module) apiSettings(w http.ResponseWriter, r *http.Request) error {
	org, err := settingsOrg(principal(r), r.URL.Query().Get("org_id"), auth.AlarmRead)
	if err != nil {
		return err
	}
	st, err := m.S.Settings(r.Context(), org, m.Opts.Escalation)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, st)
}

// settingsBody is the PUT body: fields left out keep their current values.
type settingsBody struct {
	OrgID       string `json:"org_id"`
	EscalateP1S *int   `json:"escalate_p1_s"`
	EscalateP2S *int   `json:"escalate_p2_s"`
	EscalateP3S *int   `json:"escalate_p3_s"`
	EscalateP4S *int   `json:"escalate_p4_s"`
}

func (b settingsBody) apply(org string, cur Settings) SettingsInput {
	in := SettingsInput{OrgID: org, EscalateP1S: cur.EscalateP1S, EscalateP2S: cur.EscalateP2S, EscalateP3S: cur.EscalateP3S, EscalateP4S: cur.EscalateP4S}
	for _, f := range []struct {
		v   *int
		dst *int
	}{{b.EscalateP1S, &in.EscalateP1S}, {b.EscalateP2S, &in.EscalateP2S}, {b.EscalateP3S, &in.EscalateP3S}, {b.EscalateP4S, &in.EscalateP4S}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	return in
}

func (m *Module) apiPutSettings(w http.ResponseWriter, r *http.Request) error {
	var body settingsBody
	if err := web.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	p := principal(r)
	org, err := settingsOrg(p, body.OrgID, auth.AlarmAdmin)
	if err != nil {
		return err
	}
	cur, err := m.S.Settings(r.Context(), org, m.Opts.Escalation)
	if err != nil {
		return err
	}
	st, err := m.S.SaveSettings(r.Context(), body.apply(org, cur), m.Opts.Escalation, p)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, st)
}

// ---- page ----

type settingsPage struct {
	web.Page
	S        Settings
	Form     map[string]string
	Defaults Settings
	OrgID    string
	Choices  []web.OrgOption // organisations the caller administers
	Parent   string          // the parent's name when its settings apply
	CanEdit  bool
	Rows     []settingsRow
}

// settingsRow is one priority's line on the page.
type settingsRow struct {
	Name, Label, Hint string
	Default, Current  string // e.g. "5m0s", "never"
}

var settingsRows = []settingsRow{
	{Name: "escalate_p1_s", Label: "Priority 1 — fire, panic / duress, medical, bomb threat", Hint: "10–600 s; life-safety alarms always escalate"},
	{Name: "escalate_p2_s", Label: "Priority 2 — intrusion, tamper, 24-hour alarm, video", Hint: "0 = never, else 10–86400 s"},
	{Name: "escalate_p3_s", Label: "Priority 3 — trouble, supervisory, communication failure", Hint: "0 = never, else 10–86400 s"},
	{Name: "escalate_p4_s", Label: "Priority 4 — other", Hint: "0 = never, else 10–86400 s"},
}

// humanSeconds writes 90 as "1 min 30 s" and 0 as "never" for the page.
func humanSeconds(s string) string {
	n, err := strconv.Atoi(s)
	switch {
	case err != nil || n < 0:
		return ""
	case n == 0:
		return "never"
	}
	var parts []string
	for _, u := range []struct {
		n    int
		name string
	}{{3600, "h"}, {60, "min"}, {1, "s"}} {
		if n >= u.n {
			parts = append(parts, strconv.Itoa(n/u.n)+" "+u.name)
			n %= u.n
		}
	}
	return strings.Join(parts, " ")
}

func (st Settings) values() map[string]string {
	return map[string]string{"escalate_p1_s": strconv.Itoa(st.EscalateP1S), "escalate_p2_s": strconv.Itoa(st.EscalateP2S),
		"escalate_p3_s": strconv.Itoa(st.EscalateP3S), "escalate_p4_s": strconv.Itoa(st.EscalateP4S)}
}

func (m *Module) settingsPage(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	org, err := settingsOrg(p, r.URL.Query().Get("org_id"), auth.AlarmRead)
	if err != nil {
		return err
	}
	st, err := m.S.Settings(r.Context(), org, m.Opts.Escalation)
	if err != nil {
		return err
	}
	return m.renderSettings(w, r, 200, org, st, st.values(), nil)
}

func (m *Module) renderSettings(w http.ResponseWriter, r *http.Request, status int, org string, st Settings, form map[string]string, errs map[string]string) error {
	p := principal(r)
	pg := settingsPage{Page: m.Web.NewPage(w, r, "Alarm escalation", "alarm-settings"), S: st, Form: form, OrgID: org,
		Defaults: defaultSettings(org, m.Opts.Escalation), CanEdit: auth.Can(p, auth.AlarmAdmin, org)}
	pg.Errors = errs
	for _, o := range pg.Orgs {
		if auth.Can(p, auth.AlarmAdmin, o.ID) || o.ID == org {
			o.Current = o.ID == org
			pg.Choices = append(pg.Choices, o)
		}
	}
	if st.Source == "parent" {
		pg.Parent = "the monitoring organisation"
		if names := m.orgNames(r, org); names != "" {
			pg.Parent = names
		}
	}
	defaults, current := pg.Defaults.values(), st.values()
	for _, row := range settingsRows {
		row.Default, row.Current = humanSeconds(defaults[row.Name]), humanSeconds(current[row.Name])
		pg.Rows = append(pg.Rows, row)
	}
	return m.Web.Render(w, status, "alarm_settings", pg)
}

// orgNames names org's parent for the page ("" if unknown or not visible).
func (m *Module) orgNames(r *http.Request, org string) string {
	var parent sql.NullString
	if err := m.S.DB.QueryRow(r.Context(), `SELECT parent_id FROM orgs WHERE id = ?`, org).Scan(&parent); err != nil || !parent.Valid {
		return ""
	}
	if m.Web.OrgNames == nil {
		return ""
	}
	return m.Web.OrgNames(r.Context(), []string{parent.String})[parent.String]
}

func (m *Module) settingsSave(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	p := principal(r)
	org, err := settingsOrg(p, r.PostFormValue("org_id"), auth.AlarmAdmin)
	if err != nil {
		return err
	}
	cur, err := m.S.Settings(r.Context(), org, m.Opts.Escalation)
	if err != nil {
		return err
	}
	if r.PostFormValue("reset") != "" {
		if err := m.S.ResetSettings(r.Context(), org, p); err != nil {
			return err
		}
		return m.Web.Redirect(w, r, "/alarm-settings?org_id="+org, "Escalation settings reset: the inherited or built-in times apply.")
	}
	form := map[string]string{}
	vals := map[string]int{}
	for _, row := range settingsRows {
		v := strings.TrimSpace(r.PostFormValue(row.Name))
		form[row.Name] = v
		n, err := strconv.Atoi(v)
		if err != nil {
			return m.renderSettings(w, r, 400, org, cur, form, map[string]string{row.Name: "must be a whole number of seconds"})
		}
		vals[row.Name] = n
	}
	in := SettingsInput{OrgID: org, EscalateP1S: vals["escalate_p1_s"], EscalateP2S: vals["escalate_p2_s"],
		EscalateP3S: vals["escalate_p3_s"], EscalateP4S: vals["escalate_p4_s"]}
	if _, err := m.S.SaveSettings(r.Context(), in, m.Opts.Escalation, p); err != nil {
		if fe, ok := web.FormErrors(err); ok {
			return m.renderSettings(w, r, 400, org, cur, form, fe)
		}
		return err
	}
	return m.Web.Redirect(w, r, "/alarm-settings?org_id="+org, "Escalation settings saved.")
}
