package alarm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"vigil/internal/auth"
	"vigil/internal/org"
	"vigil/internal/store"
	"vigil/internal/web"
)

// ---- store ----

// SOP returns one of the organisations' own procedures within scope.
func (s *Service) SOP(ctx context.Context, scope []string, id string) (*SOP, error) {
	ph, args := in(scope)
	return scanSOP(s.DB.QueryRow(ctx, `SELECT id, org_id, site_id, alarm_type, name, steps FROM alarm_sops
		WHERE id = ? AND org_id IN (`+ph+`)`, append([]any{id}, args...)...))
}

// DeleteSOP removes an organisation's (or site's) procedure: the next one
// in line applies again (the organisation's, then the shipped default).
// Alarms being worked keep their recorded steps.
func (s *Service) DeleteSOP(ctx context.Context, p *SOP, by *auth.Principal) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM alarm_sops WHERE id = ? AND org_id = ?`, p.ID, p.OrgID); err != nil {
			return err
		}
		return s.record(ctx, tx, by, p.OrgID, "alarm_sop.delete", "alarm_sop", p.ID, map[string]any{"alarm_type": p.AlarmType, "site_id": p.SiteID, "name": p.Name})
	})
}

// DefaultSOP is the shipped procedure for an alarm type (the general one
// for types without their own).
func DefaultSOP(typ string) *SOP {
	if d, ok := DefaultSOPs[typ]; ok {
		return d
	}
	g := *genericSOP
	g.AlarmType = typ
	return &g
}

// ---- API ----

func (m *Module) loadSOP(r *http.Request, action auth.Action) (*SOP, error) {
	p := principal(r)
	sop, err := m.S.SOP(r.Context(), p.OrgsWhere(auth.AlarmRead), r.PathValue("id"))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, web.ErrNotFound
		}
		return nil, err
	}
	return sop, need(p, action, sop.OrgID)
}

func (m *Module) apiDeleteSOP(w http.ResponseWriter, r *http.Request) error {
	sop, err := m.loadSOP(r, auth.AlarmAdmin)
	if err != nil {
		return err
	}
	if err := m.S.DeleteSOP(r.Context(), sop, principal(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- list page ----

type sopListPage struct {
	web.Page
	OrgID   string
	Choices []web.OrgOption
	Rows    []sopTypeRow
	CanEdit bool
}

// sopTypeRow is one alarm type: the procedure operators get
// organisation-wide, and the sites with their own.
type sopTypeRow struct {
	Type    Choice
	InUse   *SOP // the organisation's own, or the shipped one
	Own     bool
	Sites   []siteSOP
	Shipped *SOP
}

type siteSOP struct {
	SOP      *SOP
	SiteName string
}

// pickOrg is the organisation a page is about: ?org_id= or the current
// one, and the organisations the caller may switch to on the page.
func pickOrg(pg web.Page, p *auth.Principal, org string, action auth.Action) (string, []web.OrgOption, error) {
	if org == "" {
		org = p.OrgID
	}
	if err := need(p, action, org); err != nil {
		return "", nil, err
	}
	var choices []web.OrgOption
	for _, o := range pg.Orgs {
		if auth.Can(p, action, o.ID) {
			o.Current = o.ID == org
			choices = append(choices, o)
		}
	}
	return org, choices, nil
}

func (m *Module) sopList(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	pg := sopListPage{Page: m.Web.NewPage(w, r, "Alarm procedures (SOPs)", "alarm-sops")}
	org, choices, err := pickOrg(pg.Page, p, r.URL.Query().Get("org_id"), auth.AlarmRead)
	if err != nil {
		return err
	}
	pg.OrgID, pg.Choices, pg.CanEdit = org, choices, auth.Can(p, auth.AlarmAdmin, org)
	ctx := r.Context()
	own, err := m.S.SOPs(ctx, []string{org})
	if err != nil {
		return err
	}
	sites, err := m.siteNames(ctx, []string{org})
	if err != nil {
		return err
	}
	for _, t := range Types {
		row := sopTypeRow{Type: t, Shipped: DefaultSOP(t.Value)}
		row.InUse = row.Shipped
		for _, s := range own {
			switch {
			case s.AlarmType != t.Value:
			case s.SiteID == "":
				row.InUse, row.Own = s, true
			default:
				row.Sites = append(row.Sites, siteSOP{SOP: s, SiteName: sites[s.SiteID]})
			}
		}
		pg.Rows = append(pg.Rows, row)
	}
	return m.Web.Render(w, 200, "alarm_sops", pg)
}

func (m *Module) siteNames(ctx context.Context, scope []string) (map[string]string, error) {
	sites, err := m.Orgs.Sites(ctx, scope, org.SiteFilter{}, org.Page{Limit: 1000})
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(sites))
	for _, s := range sites {
		out[s.ID] = s.Name
	}
	return out, nil
}

// ---- the form ----

// Step kinds as the form offers them.
var stepKinds = []Choice{{"check", "Action — tick when done"}, {"question", "Question — the answer chooses the next step"}, {"call", "Call list"}}

// Call lists as the form offers them.
var callLists = []Choice{{"keyholders", "The site's keyholders, in call order"}, {"contacts", "All site contacts"}, {"police", "Police"},
	{"fire", "Fire service"}, {"ambulance", "Ambulance"}}

// sopForm is the SOP editor's state: what the browser sent (or the SOP
// being edited), kept whole so a refused save shows exactly what was typed.
type sopForm struct {
	OrgID, SiteID, AlarmType, Name string
	Steps                          []stepForm
}

type stepForm struct {
	ID, Text, Kind, Call string
	Required             bool
	Answers              []Answer
}

const (
	maxFormSteps   = 100
	maxFormAnswers = 10
)

func formFromSOP(p *SOP) sopForm {
	f := sopForm{OrgID: p.OrgID, SiteID: p.SiteID, AlarmType: p.AlarmType, Name: p.Name}
	for _, st := range p.Steps {
		f.Steps = append(f.Steps, stepForm{ID: st.ID, Text: st.Text, Kind: st.Kind, Call: st.Call, Required: st.Required,
			Answers: append([]Answer(nil), st.Answers...)})
	}
	return f
}

// newStepID gives an added step an id no other step of the form has.
func (f *sopForm) newStepID() string {
	used := map[string]bool{}
	for _, st := range f.Steps {
		used[st.ID] = true
	}
	for i := len(f.Steps) + 1; ; i++ {
		if id := "step-" + strconv.Itoa(i); !used[id] {
			return id
		}
	}
}

// readSOPForm reads the editor's fields: steps.N (hidden count), then per
// step s<i>-id, -text, -kind, -call, -required and answers s<i>-a<j>-label,
// s<i>-a<j>-next with s<i>-answers their count.
func readSOPForm(r *http.Request) sopForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := sopForm{OrgID: v("org_id"), SiteID: v("site_id"), AlarmType: v("alarm_type"), Name: v("name")}
	n, _ := strconv.Atoi(v("steps"))
	for i := range min(max(n, 0), maxFormSteps+1) {
		k := "s" + strconv.Itoa(i) + "-"
		st := stepForm{ID: v(k + "id"), Text: v(k + "text"), Kind: v(k + "kind"), Call: v(k + "call"), Required: r.PostFormValue(k+"required") != ""}
		na, _ := strconv.Atoi(v(k + "answers"))
		for j := range min(max(na, 0), maxFormAnswers+1) {
			ka := k + "a" + strconv.Itoa(j) + "-"
			st.Answers = append(st.Answers, Answer{Label: v(ka + "label"), Next: v(ka + "next")})
		}
		f.Steps = append(f.Steps, st)
	}
	return f
}

// edit applies one of the editor's buttons (op): add a step or an answer,
// move or remove a step. Nothing is saved; the form is shown again.
func (f *sopForm) edit(op string) bool {
	verb, arg, _ := strings.Cut(op, "-")
	i, err := strconv.Atoi(arg)
	if verb == "add" {
		if len(f.Steps) < maxFormSteps {
			f.Steps = append(f.Steps, stepForm{ID: f.newStepID(), Kind: "check"})
		}
		return true
	}
	if err != nil || i < 0 || i >= len(f.Steps) {
		return false
	}
	switch verb {
	case "up":
		if i > 0 {
			f.Steps[i-1], f.Steps[i] = f.Steps[i], f.Steps[i-1]
		}
	case "down":
		if i+1 < len(f.Steps) {
			f.Steps[i+1], f.Steps[i] = f.Steps[i], f.Steps[i+1]
		}
	case "remove":
		f.Steps = append(f.Steps[:i], f.Steps[i+1:]...)
	case "answer":
		if len(f.Steps[i].Answers) < maxFormAnswers {
			f.Steps[i].Answers = append(f.Steps[i].Answers, Answer{})
		}
	default:
		return false
	}
	return true
}

// toSOP turns the form into an SOP, with every problem the operator can fix
// named on its own field (all at once, not one per save). Answers with no
// label are left out (the editor shows spare rows); so are call lists of
// steps that are not calls, and answers of steps that are not questions.
func (f *sopForm) toSOP() (*SOP, map[string]string) {
	errs := map[string]string{}
	p := &SOP{OrgID: f.OrgID, SiteID: f.SiteID, AlarmType: f.AlarmType, Name: f.Name}
	if !validChoice(Types, f.AlarmType) {
		errs["alarm_type"] = "choose an alarm type"
	}
	if n := utf8.RuneCountInString(f.Name); n == 0 || n > 200 {
		errs["name"] = "give the procedure a name (up to 200 characters)"
	}
	switch {
	case len(f.Steps) == 0:
		errs["steps"] = "a procedure needs at least one step"
	case len(f.Steps) > maxFormSteps:
		errs["steps"] = fmt.Sprintf("a procedure has at most %d steps", maxFormSteps)
	}
	pos := map[string]int{}
	for i, st := range f.Steps {
		if st.ID != "" {
			if _, dup := pos[st.ID]; !dup {
				pos[st.ID] = i
			}
		}
	}
	for i, st := range f.Steps {
		k := "s" + strconv.Itoa(i) + "-"
		out := Step{ID: st.ID, Text: st.Text, Kind: st.Kind, Required: st.Required}
		if st.ID == "" || len(st.ID) > 40 || st.ID == "end" || pos[st.ID] != i {
			errs[k+"text"] = "this step's id is missing or used twice; remove the step and add it again"
		}
		if n := utf8.RuneCountInString(st.Text); n == 0 || n > 1000 {
			errs[k+"text"] = "write the instruction (up to 1000 characters), or remove the step"
		}
		switch st.Kind {
		case "check":
		case "call":
			out.Call = st.Call
			if !validCall(st.Call) {
				errs[k+"call"] = "choose whom to call"
			}
		case "question":
			for j, a := range st.Answers {
				if a.Label == "" {
					continue
				}
				ka := k + "a" + strconv.Itoa(j) + "-"
				if len(a.Label) > 100 {
					errs[ka+"label"] = "at most 100 characters"
				}
				if a.Next != "" && a.Next != "end" {
					if at, ok := pos[a.Next]; !ok {
						errs[ka+"next"] = "that step no longer exists"
					} else if at <= i {
						errs[ka+"next"] = "an answer can only lead to a later step"
					}
				}
				out.Answers = append(out.Answers, a)
			}
			if len(out.Answers) < 2 || len(out.Answers) > maxFormAnswers {
				errs[k+"answers"] = fmt.Sprintf("a question needs 2–%d answers", maxFormAnswers)
			}
		default:
			errs[k+"kind"] = "choose action, question or call list"
		}
		p.Steps = append(p.Steps, out)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	// The form's checks mirror Validate; anything it still refuses is
	// shown above the steps.
	if err := p.Validate(); err != nil {
		if fe, ok := web.FormErrors(err); ok {
			return nil, fe
		}
		return nil, map[string]string{"steps": err.Error()}
	}
	return p, nil
}

type sopFormPage struct {
	web.Page
	F         sopForm
	SOP       *SOP // the stored SOP being edited; nil for a new one
	IsNew     bool
	CanEdit   bool
	Shipped   bool // viewing a shipped default
	Types     []Choice
	Kinds     []Choice
	Calls     []Choice
	Sites     []*org.Site
	OrgName   string
	SiteName  string
	TypeLabel string
	Problems  int
}

// StepLabel names step i for the answers' "next step" choices.
func (pg sopFormPage) StepLabel(i int) string {
	t := pg.F.Steps[i].Text
	if utf8.RuneCountInString(t) > 60 {
		t = string([]rune(t)[:60]) + "…"
	}
	if t == "" {
		t = "(new step)"
	}
	return fmt.Sprintf("Step %d: %s", i+1, t)
}

// Err returns the error of a field of step i.
func (pg sopFormPage) Err(i int, field string) string {
	return pg.Errors["s"+strconv.Itoa(i)+"-"+field]
}

// AnswerErr returns the error of field of answer j of step i.
func (pg sopFormPage) AnswerErr(i, j int, field string) string {
	return pg.Errors["s"+strconv.Itoa(i)+"-a"+strconv.Itoa(j)+"-"+field]
}

// AnswerRows are a question step's answers plus spare empty rows (at least
// two answers show for a question).
func (pg sopFormPage) AnswerRows(i int) []Answer {
	as := append([]Answer(nil), pg.F.Steps[i].Answers...)
	for len(as) < 2 || (len(as) < maxFormAnswers && as[len(as)-1].Label != "") {
		as = append(as, Answer{})
	}
	return as
}

func (m *Module) renderSOPForm(w http.ResponseWriter, r *http.Request, status int, f sopForm, stored *SOP, errs map[string]string) error {
	p := principal(r)
	isNew := stored == nil
	title := "New procedure"
	switch {
	case !isNew:
		title = "Procedure: " + stored.Name
	case !auth.Can(p, auth.AlarmAdmin, f.OrgID):
		title = "Shipped procedure: " + f.Name
	}
	pg := sopFormPage{Page: m.Web.NewPage(w, r, title, "alarm-sops"), F: f, SOP: stored, IsNew: isNew,
		CanEdit: auth.Can(p, auth.AlarmAdmin, f.OrgID), Types: Types, Kinds: stepKinds, Calls: callLists, Problems: len(errs)}
	pg.Shipped = isNew && !pg.CanEdit
	pg.Errors = errs
	for _, t := range Types {
		if t.Value == f.AlarmType {
			pg.TypeLabel = t.Label
		}
	}
	ctx := r.Context()
	// The organisation is chosen on the list page; the editor offers its
	// sites only (an operator's clients' sites would be a long mixed list).
	for _, o := range pg.Page.Orgs {
		if o.ID == f.OrgID {
			pg.OrgName = o.Name
		}
	}
	if isNew && pg.CanEdit {
		var err error
		if pg.Sites, err = m.Orgs.Sites(ctx, []string{f.OrgID}, org.SiteFilter{}, org.Page{Limit: 1000}); err != nil {
			return err
		}
	}
	if f.SiteID != "" {
		if names, err := m.siteNames(ctx, []string{f.OrgID}); err == nil {
			pg.SiteName = names[f.SiteID]
		}
	}
	return m.Web.Render(w, status, "alarm_sop_form", pg)
}

// sopNew shows the editor for a new procedure, filled from the shipped one
// for ?type= or from one of the organisation's (?from=<id>, e.g. to give
// one site its own variant).
func (m *Module) sopNew(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	q := r.URL.Query()
	orgID := q.Get("org_id")
	if orgID == "" {
		orgID = p.OrgID
	}
	if err := need(p, auth.AlarmRead, orgID); err != nil {
		return err
	}
	typ := q.Get("type")
	if typ == "" {
		typ = TypeFire
	}
	if !validChoice(Types, typ) {
		return web.BadField("type", "is not a known alarm type")
	}
	f := formFromSOP(DefaultSOP(typ))
	if from := q.Get("from"); from != "" {
		src, err := m.S.SOP(r.Context(), p.OrgsWhere(auth.AlarmRead), from)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return web.ErrNotFound
			}
			return err
		}
		f = formFromSOP(src)
		f.SiteID = ""
	}
	f.OrgID = orgID
	if site := q.Get("site_id"); site != "" {
		f.SiteID = site
	}
	return m.renderSOPForm(w, r, 200, f, nil, nil)
}

// sopSave handles both the new and the edit form: an editor button
// (add, move, remove, answer) shows the form again; save validates, writes
// in one transaction with its audit entry, and returns to the list.
func (m *Module) sopSave(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var stored *SOP
	if r.PathValue("id") != "" {
		var err error
		if stored, err = m.loadSOP(r, auth.AlarmAdmin); err != nil {
			return err
		}
	} else if len(p.OrgsWhere(auth.AlarmAdmin)) == 0 {
		return web.ErrForbidden
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	f := readSOPForm(r)
	ctx := r.Context()
	if stored != nil {
		// Where a stored procedure applies is fixed; another type or site
		// is another procedure.
		f.OrgID, f.SiteID, f.AlarmType = stored.OrgID, stored.SiteID, stored.AlarmType
	} else {
		if f.SiteID != "" {
			site, err := m.Orgs.Site(ctx, p.OrgsWhere(auth.AlarmAdmin), f.SiteID)
			if errors.Is(err, store.ErrNotFound) {
				return m.renderSOPForm(w, r, 400, f, nil, map[string]string{"site_id": "is not a site you administer"})
			} else if err != nil {
				return err
			}
			f.OrgID = site.OrgID
		}
		if f.OrgID == "" {
			f.OrgID = p.OrgID
		}
		if err := need(p, auth.AlarmAdmin, f.OrgID); err != nil {
			if errors.Is(err, web.ErrNotFound) {
				return m.renderSOPForm(w, r, 400, f, nil, map[string]string{"org_id": "choose an organisation you administer"})
			}
			return err
		}
	}
	if op := r.PostFormValue("op"); op != "" && op != "save" {
		if !f.edit(op) {
			return web.BadField("op", "is not an editor action")
		}
		return m.renderSOPForm(w, r, 200, f, stored, nil)
	}
	sop, errs := f.toSOP()
	if errs == nil && stored == nil {
		// A new procedure never silently replaces one: edit that instead.
		existing, err := m.S.SOPs(ctx, []string{f.OrgID})
		if err != nil {
			return err
		}
		for _, e := range existing {
			if e.AlarmType == f.AlarmType && e.SiteID == f.SiteID {
				errs = map[string]string{"alarm_type": "there already is a procedure for this alarm type here; edit that one"}
			}
		}
	}
	if errs == nil {
		err := m.S.PutSOP(ctx, p.OrgsWhere(auth.AlarmAdmin), sop, p)
		if fe, ok := web.FormErrors(err); ok {
			errs = fe
		} else if err != nil {
			return err
		}
	}
	if errs != nil {
		return m.renderSOPForm(w, r, 400, f, stored, errs)
	}
	return m.Web.Redirect(w, r, "/alarm-sops?org_id="+sop.OrgID, "Procedure “"+sop.Name+"” saved.")
}

func (m *Module) sopEdit(w http.ResponseWriter, r *http.Request) error {
	sop, err := m.loadSOP(r, auth.AlarmRead)
	if err != nil {
		return err
	}
	return m.renderSOPForm(w, r, 200, formFromSOP(sop), sop, nil)
}

func (m *Module) sopDelete(w http.ResponseWriter, r *http.Request) error {
	sop, err := m.loadSOP(r, auth.AlarmAdmin)
	if err != nil {
		return err
	}
	if err := m.S.DeleteSOP(r.Context(), sop, principal(r)); err != nil {
		return err
	}
	return m.Web.Redirect(w, r, "/alarm-sops?org_id="+sop.OrgID, "Procedure “"+sop.Name+"” removed; the next one in line applies again.")
}

// nextChoice is an option of an answer's "then" list.
type nextChoice struct {
	Value, Label string
	Selected     bool
}

// NextChoices lists where answer cur of step i may lead: the following
// step, any later step, or the end. A target that is no longer valid
// (the step was removed or moved before this one) stays selected under a
// warning, so saving names the problem instead of changing the flow.
func (pg sopFormPage) NextChoices(i int, cur string) []nextChoice {
	out := []nextChoice{{Value: "", Label: "Continue with the following step", Selected: cur == ""}}
	found := cur == ""
	for k := i + 1; k < len(pg.F.Steps); k++ {
		id := pg.F.Steps[k].ID
		out = append(out, nextChoice{Value: id, Label: "Go to " + pg.StepLabel(k), Selected: id == cur})
		found = found || id == cur
	}
	out = append(out, nextChoice{Value: "end", Label: "End the procedure", Selected: cur == "end"})
	if !found && cur != "end" {
		out = append(out, nextChoice{Value: cur, Label: "⚠ a step that is no longer after this one", Selected: true})
	}
	return out
}
