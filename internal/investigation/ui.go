package investigation

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
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
	s.AddNav(web.NavItem{Key: "cases", Label: "Cases", Href: "/cases", Action: auth.CaseRead})
	s.AddNav(web.NavItem{Key: "bolos", Label: "BOLO", Href: "/bolos", Action: auth.BoloRead})

	s.Page("GET", "/cases", h.list)
	s.Page("GET", "/cases/new", h.newCase)
	s.Page("POST", "/cases", h.create)
	s.Page("GET", "/cases/stats", h.stats)
	s.Page("GET", "/cases/export.csv", h.exportCSV)
	s.Page("GET", "/cases/{id}", h.show)
	s.Page("POST", "/cases/{id}", h.act(auth.CaseWrite, "", h.update))
	s.Page("POST", "/cases/{id}/status", h.act(auth.CaseWrite, "", h.status))
	s.Page("POST", "/cases/{id}/members", h.act(auth.CaseWrite, "team", h.addMember))
	s.Page("POST", "/cases/{id}/members/{user_id}/delete", h.act(auth.CaseWrite, "team", h.removeMember))
	s.Page("POST", "/cases/{id}/parties", h.act(auth.CaseWrite, "parties", h.addParty))
	s.Page("POST", "/cases/{id}/allegations", h.act(auth.CaseWrite, "allegations", h.addAllegation))
	s.Page("POST", "/cases/{id}/allegations/{aid}", h.act(auth.CaseWrite, "allegations", h.decide))
	s.Page("POST", "/cases/{id}/links", h.act(auth.CaseWrite, "links", h.addLink))
	s.Page("POST", "/cases/{id}/tasks", h.act(auth.CaseWrite, "tasks", h.addTask))
	s.Page("POST", "/cases/{id}/tasks/{tid}/done", h.act(auth.CaseWrite, "tasks", h.taskDone))
	s.Page("POST", "/cases/{id}/notes", h.act(auth.CaseWrite, "notes", h.addNote))
	s.Page("POST", "/cases/{id}/actions", h.act(auth.CaseWrite, "actions", h.addAction))
	s.Page("POST", "/cases/{id}/time", h.act(auth.CaseWrite, "time", h.logTime))
	s.Page("POST", "/cases/{id}/evidence", h.act(auth.CaseWrite, "evidence", h.addEvidenceForm))
	s.Page("GET", "/cases/{id}/evidence/{eid}", h.evidence)
	s.Page("POST", "/cases/{id}/evidence/{eid}/transfer", h.transfer)
	s.Page("POST", "/cases/{id}/evidence/{eid}/verify", h.verify)
	s.Page("GET", "/cases/{id}/evidence/{eid}/file", h.file)
	s.Page("GET", "/cases/{id}/evidence/{eid}/qr.png", h.qr)
	s.Page("GET", "/cases/{id}/evidence/{eid}/custody.pdf", h.custodyPDF)
	s.Page("POST", "/cases/{id}/interviews", h.act(auth.CaseWrite, "interviews", h.addInterview))
	s.Page("POST", "/cases/{id}/interviews/{iid}", h.act(auth.CaseWrite, "interviews", h.recordInterview))
	s.Page("POST", "/cases/{id}/replies", h.act(auth.CaseWrite, "hotline", h.reply))
	s.Page("POST", "/cases/{id}/assessments", h.act(auth.CaseWrite, "threat", h.assess))
	s.Page("POST", "/cases/{id}/bolos", h.act(auth.CaseWrite, "threat", h.issueBOLO))
	s.Page("POST", "/cases/{id}/bolos/{bid}/end", h.act(auth.CaseWrite, "threat", h.endBOLO))
	s.Page("POST", "/cases/{id}/revocations", h.act(auth.CaseWrite, "threat", h.revoke))
	s.Page("GET", "/cases/{id}/summary.pdf", h.summaryPDF)
	s.Page("GET", "/cases/{id}/access", h.accessLog)
	s.Page("GET", "/bolos", h.bolos)
	s.Page("GET", "/bolos/{id}/photo", h.boloPhoto)
	s.Page("GET", "/investigation/settings", h.settings)
	s.Page("POST", "/investigation/settings", h.saveSettings)

	s.PublicPage("GET", "/hotline/{slug}", h.hotlineForm)
	s.PublicPage("POST", "/hotline/{slug}", h.hotlineSubmit)
	s.PublicPage("GET", "/hotline/{slug}/status", h.hotlineStatusForm)
	s.PublicPage("POST", "/hotline/{slug}/status", h.hotlineStatus)
	s.PublicPage("POST", "/hotline/{slug}/reply", h.hotlineReply)
}

// ---- list, new, stats ----

type listPage struct {
	web.Page
	Cases     []*Case
	Types     []Choice
	Statuses  []Choice
	OrgNames  map[string]string
	CanCreate bool
	CanAdmin  bool
	Overdue   int
	DueSoon   int
	Prev      string
	Next      string
}

const listLimit = 50

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if len(p.OrgsWhere(auth.CaseRead)) == 0 {
		return web.ErrForbidden
	}
	q := r.URL.Query()
	off, _ := strconv.Atoi(q.Get("offset"))
	off = max(0, off)
	status := q.Get("status")
	if !q.Has("status") {
		status = "active"
	}
	cs, err := h.S.Cases(r.Context(), p, Filter{OrgID: q.Get("org_id"), Status: status, Type: q.Get("type"), Source: q.Get("source"),
		Overdue: q.Get("overdue") == "1", Q: q.Get("q"), Limit: listLimit + 1, Offset: off})
	if err != nil {
		return err
	}
	pg := listPage{Page: h.Web.NewPage(w, r, "Cases", "cases"), Types: Types, Statuses: Statuses,
		CanCreate: len(p.OrgsWhere(auth.CaseWrite)) > 0, CanAdmin: auth.Can(p, auth.CaseAdmin, p.OrgID)}
	if len(cs) > listLimit {
		cs = cs[:listLimit]
		q.Set("offset", strconv.Itoa(off+listLimit))
		pg.Next = "?" + q.Encode()
	}
	if off > 0 {
		q.Set("offset", strconv.Itoa(max(0, off-listLimit)))
		pg.Prev = "?" + q.Encode()
	}
	pg.Cases = cs
	// Reminders: statutory and case deadlines across everything visible.
	if pg.Overdue, pg.DueSoon, err = h.S.DeadlineCounts(r.Context(), p, 48*time.Hour); err != nil {
		return err
	}
	pg.OrgNames = h.orgNames(r)
	return h.Web.Render(w, 200, "inv_list", pg)
}

func (h *Handlers) orgNames(r *http.Request) map[string]string {
	p := principal(r)
	out := map[string]string{}
	if h.Web.OrgNames != nil {
		out = h.Web.OrgNames(r.Context(), p.OrgsWhere(auth.CaseRead))
	}
	return out
}

type newPage struct {
	web.Page
	In     CaseInput
	Due    string
	Types  []Choice
	Orgs   []web.OrgOption
	People []Person
}

func (h *Handlers) writableOrgs(r *http.Request, sel string) []web.OrgOption {
	p := principal(r)
	names := map[string]string{}
	ids := p.OrgsWhere(auth.CaseWrite)
	if h.Web.OrgNames != nil {
		names = h.Web.OrgNames(r.Context(), ids)
	}
	var out []web.OrgOption
	for _, id := range ids {
		out = append(out, web.OrgOption{ID: id, Name: names[id], Current: id == sel})
	}
	slices.SortFunc(out, func(a, b web.OrgOption) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (h *Handlers) newCase(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if !auth.Can(p, auth.CaseWrite, p.OrgID) && len(p.OrgsWhere(auth.CaseWrite)) == 0 {
		return web.ErrForbidden
	}
	in := CaseInput{OrgID: p.OrgID, Type: r.URL.Query().Get("type")}
	if !auth.Can(p, auth.CaseWrite, in.OrgID) {
		in.OrgID = p.OrgsWhere(auth.CaseWrite)[0]
	}
	return h.Web.Render(w, 200, "inv_new", newPage{Page: h.Web.NewPage(w, r, "New case", "cases"), In: in, Types: Types, Orgs: h.writableOrgs(r, in.OrgID)})
}

func (h *Handlers) create(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	in := CaseInput{OrgID: r.PostFormValue("org_id"), Type: r.PostFormValue("type"), Title: r.PostFormValue("title"), Summary: r.PostFormValue("summary")}
	if in.OrgID == "" {
		in.OrgID = p.OrgID
	}
	if err := needOrg(p, auth.CaseWrite, in.OrgID); err != nil {
		return err
	}
	due, err := h.formTime(r, "due_at", in.OrgID)
	if err == nil {
		in.DueAt = due
		var c *Case
		if c, err = h.S.CreateCase(r.Context(), p, in); err == nil {
			return h.Web.Redirect(w, r, "/cases/"+c.ID, "Case "+c.Ref()+" opened.")
		}
	}
	fe, ok := web.FormErrors(err)
	if !ok {
		return err
	}
	pg := h.Web.NewPage(w, r, "New case", "cases")
	pg.Errors = fe
	return h.Web.Render(w, 400, "inv_new", newPage{Page: pg, In: in, Due: r.PostFormValue("due_at"), Types: Types, Orgs: h.writableOrgs(r, in.OrgID)})
}

type statsPage struct {
	web.Page
	S *Stats
}

func (h *Handlers) stats(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if len(p.OrgsWhere(auth.CaseRead)) == 0 {
		return web.ErrForbidden
	}
	st, err := h.S.Statistics(r.Context(), p, r.URL.Query().Get("org_id"))
	if err != nil {
		return err
	}
	return h.Web.Render(w, 200, "inv_stats", statsPage{h.Web.NewPage(w, r, "Case statistics", "cases"), st})
}

func (h *Handlers) exportCSV(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if len(p.OrgsWhere(auth.CaseRead)) == 0 {
		return web.ErrForbidden
	}
	q := r.URL.Query()
	var buf bytes.Buffer
	if err := h.S.WriteCSV(r.Context(), &buf, p, Filter{OrgID: q.Get("org_id"), Status: q.Get("status"), Type: q.Get("type"), Source: q.Get("source")}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="cases-`+h.S.Now().UTC().Format("2006-01-02")+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err := buf.WriteTo(w)
	return err
}

// ---- the case file ----

type casePage struct {
	web.Page
	C            *CaseFile
	People       []Person
	Sites        []*org.Site
	Next         []Choice
	CanWrite     bool
	CanAdmin     bool
	Types        []Choice
	Outcomes     []Choice
	ActionKinds  []Choice
	PartyKinds   []Choice
	LinkKinds    []Choice
	Behaviours   []Choice
	Levels       []Choice
	Assessment   *Assessment
	HolderNames  map[string]string
	ErrorList    []string
	Due          string
	MaxUploadMiB int64
}

func (h *Handlers) show(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseRead)
	if err != nil {
		return err
	}
	return h.renderCase(w, r, c, 200, nil)
}

func (h *Handlers) renderCase(w http.ResponseWriter, r *http.Request, c *Case, status int, errs map[string]string) error {
	p := principal(r)
	f, err := h.S.File(r.Context(), c, false)
	if err != nil {
		return err
	}
	if err := h.S.Viewed(r.Context(), p, c, "file"); err != nil {
		return err
	}
	people, err := h.S.People(r.Context(), c.OrgID)
	if err != nil {
		return err
	}
	pg := casePage{Page: h.Web.NewPage(w, r, c.Ref()+" "+c.Title, "cases"), C: f, People: people, Next: Next(c.Status),
		CanWrite: auth.Can(p, auth.CaseWrite, c.OrgID), CanAdmin: h.mayManage(r, c), Types: Types, Outcomes: Outcomes, ActionKinds: ActionKinds,
		PartyKinds: PartyKinds, LinkKinds: LinkKinds, Behaviours: Behaviours, Levels: Levels, HolderNames: map[string]string{}, MaxUploadMiB: h.S.MaxUpload >> 20}
	pg.Timezone = h.tz(r, c.OrgID)
	pg.Errors = errs
	for k, v := range errs {
		pg.ErrorList = append(pg.ErrorList, k+" "+v)
	}
	if len(f.Assessments) > 0 {
		pg.Assessment = &f.Assessments[0]
	}
	if c.Type == "threat" {
		if pg.Sites, err = h.S.Sites(r.Context(), c.OrgID); err != nil {
			return err
		}
	}
	for _, pp := range people {
		pg.HolderNames[pp.ID] = pp.Name
	}
	if c.DueAt != nil {
		pg.Due = localInput(*c.DueAt, pg.Timezone)
	}
	return h.Web.Render(w, status, "inv_case", pg)
}

func (h *Handlers) tz(r *http.Request, orgID string) string {
	o, err := h.S.Orgs.Org(r.Context(), []string{orgID}, orgID)
	if err != nil {
		return "UTC"
	}
	return o.Timezone
}

func localInput(t time.Time, tz string) string {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02T15:04")
}

// formTime reads a datetime-local field in the organisation's time zone.
func (h *Handlers) formTime(r *http.Request, field, orgID string) (*time.Time, error) {
	v := strings.TrimSpace(r.PostFormValue(field))
	if v == "" {
		return nil, nil
	}
	loc, err := time.LoadLocation(h.tz(r, orgID))
	if err != nil {
		loc = time.UTC
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, invalid(field, "is not a date and time (YYYY-MM-DDTHH:MM)")
}

// act wraps a case form action: load with need-to-know and permission,
// parse the form, act, then redirect back to the section (or re-render
// the case with the error and status 400).
func (h *Handlers) act(action auth.Action, anchor string, fn func(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error)) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := h.load(r, action)
		if err != nil {
			return err
		}
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "multipart/form-data" {
			if err := web.ParseForm(w, r); err != nil {
				return err
			}
		}
		flash, err := fn(w, r, principal(r), c)
		if fe, ok := web.FormErrors(err); ok {
			c, lerr := h.S.Case(r.Context(), principal(r), c.ID)
			if lerr != nil {
				return lerr
			}
			return h.renderCase(w, r, c, http.StatusBadRequest, fe)
		}
		if err != nil {
			return err
		}
		to := "/cases/" + c.ID
		if anchor != "" {
			to += "#" + anchor
		}
		return h.Web.Redirect(w, r, to, flash)
	}
}

func (h *Handlers) update(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	due, err := h.formTime(r, "due_at", c.OrgID)
	if err != nil {
		return "", err
	}
	in := CaseInput{Type: r.PostFormValue("type"), Title: r.PostFormValue("title"), Summary: r.PostFormValue("summary"),
		LeadID: r.PostFormValue("lead_id"), DueAt: due, RootCause: r.PostFormValue("root_cause")}
	if c.Status == "intake" && in.LeadID != "" {
		return "Report triaged into an open case.", h.S.Triage(r.Context(), p, c, in)
	}
	if in.LeadID != "" && in.LeadID != c.LeadID && !h.mayManage(r, c) {
		return "", web.ErrForbidden
	}
	return "Case updated.", h.S.UpdateCase(r.Context(), p, c, in)
}

func (h *Handlers) status(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	to := r.PostFormValue("status")
	return "Status: " + label(Statuses, to) + ".", h.S.Move(r.Context(), p, c, to)
}

func (h *Handlers) addMember(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	if !h.mayManage(r, c) {
		return "", web.ErrForbidden
	}
	return "Team updated.", h.S.AddMember(r.Context(), p, c, r.PostFormValue("user_id"), r.PostFormValue("role"))
}

func (h *Handlers) removeMember(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	if !h.mayManage(r, c) {
		return "", web.ErrForbidden
	}
	return "Removed from the case.", h.S.RemoveMember(r.Context(), p, c, r.PathValue("user_id"))
}

func (h *Handlers) addParty(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	_, err := h.S.AddParty(r.Context(), p, c, PartyInput{Kind: r.PostFormValue("kind"), Name: r.PostFormValue("name"), Email: r.PostFormValue("email"),
		UserID: r.PostFormValue("user_id"), Details: r.PostFormValue("details")})
	return "Person added.", err
}

func (h *Handlers) addAllegation(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	_, err := h.S.AddAllegation(r.Context(), p, c, r.PostFormValue("text"))
	return "Allegation added.", err
}

func (h *Handlers) decide(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	return "Outcome recorded.", h.S.DecideAllegation(r.Context(), p, c, r.PathValue("aid"), r.PostFormValue("outcome"))
}

func (h *Handlers) addLink(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	return "Linked.", h.S.AddLink(r.Context(), p, c, r.PostFormValue("kind"), r.PostFormValue("ref"))
}

func (h *Handlers) addTask(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	due, err := h.formTime(r, "task_due_at", c.OrgID)
	if err != nil {
		return "", err
	}
	_, err = h.S.AddTask(r.Context(), p, c, r.PostFormValue("title"), r.PostFormValue("assignee_id"), due)
	return "Task added.", err
}

func (h *Handlers) taskDone(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	return "Task done.", h.S.CompleteTask(r.Context(), p, c, r.PathValue("tid"))
}

func (h *Handlers) addNote(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	_, err := h.S.AddNote(r.Context(), p, c, r.PostFormValue("body"), r.PostFormValue("shareable") != "")
	return "Note added.", err
}

func (h *Handlers) addAction(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	_, err := h.S.AddAction(r.Context(), p, c, r.PostFormValue("kind"), r.PostFormValue("stage"), r.PostFormValue("description"))
	return "Action recorded.", err
}

func (h *Handlers) logTime(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	m, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("minutes")))
	if err != nil {
		return "", invalid("minutes", "must be a whole number of minutes")
	}
	return "Time logged.", h.S.LogTime(r.Context(), p, c, int64(m)*60, r.PostFormValue("note"))
}

func (h *Handlers) addEvidenceForm(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	ev, err := h.addEvidence(w, r, c)
	if err != nil {
		return "", err
	}
	msg := "Evidence " + ev.Ref(c) + " registered."
	if ev.SHA256 != "" {
		msg += " SHA-256 " + ev.SHA256
	}
	return msg, nil
}

func (h *Handlers) addInterview(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	in, err := h.interviewForm(r, c)
	if err != nil {
		return "", err
	}
	_, err = h.S.AddInterview(r.Context(), p, c, in)
	return "Interview saved.", err
}

func (h *Handlers) recordInterview(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	in, err := h.interviewForm(r, c)
	if err != nil {
		return "", err
	}
	return "Interview saved.", h.S.RecordInterview(r.Context(), p, c, r.PathValue("iid"), in)
}

func (h *Handlers) interviewForm(r *http.Request, c *Case) (InterviewInput, error) {
	in := InterviewInput{Interviewee: r.PostFormValue("interviewee"), Interviewers: r.PostFormValue("interviewers"), Location: r.PostFormValue("location"),
		Statement: r.PostFormValue("statement"), Signed: r.PostFormValue("signed") != ""}
	var err error
	if in.ScheduledAt, err = h.formTime(r, "scheduled_at", c.OrgID); err != nil {
		return in, err
	}
	in.RecordedAt, err = h.formTime(r, "recorded_at", c.OrgID)
	return in, err
}

func (h *Handlers) reply(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	return "Reply sent to the reporter.", h.S.Reply(r.Context(), p, c, r.PostFormValue("body"), r.PostFormValue("feedback") != "")
}

func (h *Handlers) assess(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	next, err := h.formTime(r, "next_review_at", c.OrgID)
	if err != nil {
		return "", err
	}
	_, err = h.S.Assess(r.Context(), p, c, AssessmentInput{Behaviours: r.PostForm["behaviours"], Level: r.PostFormValue("level"), Plan: r.PostFormValue("plan"), NextReviewAt: next})
	return "Assessment recorded.", err
}

func (h *Handlers) issueBOLO(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	fields, photo, err := h.readEvidenceForm(w, r, "photo")
	if err != nil {
		return "", err
	}
	var sites []string
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		sites = csvList(fields["site_ids"])
	} else {
		sites = r.PostForm["site_ids"]
	}
	_, err = h.S.IssueBOLO(r.Context(), p, c, BOLOInput{SubjectName: fields["subject_name"], Description: fields["description"], SiteIDs: sites, PhotoSHA256: photo.SHA256})
	return "BOLO issued to the chosen sites.", err
}

func (h *Handlers) endBOLO(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	return "BOLO withdrawn.", h.S.EndBOLO(r.Context(), p, c, r.PathValue("bid"))
}

func (h *Handlers) revoke(w http.ResponseWriter, r *http.Request, p *auth.Principal, c *Case) (string, error) {
	_, err := h.S.RequestRevocation(r.Context(), p, c, RevocationInput{Person: r.PostFormValue("person"), Credentials: r.PostFormValue("credentials"), Reason: r.PostFormValue("reason")})
	return "Access revocation recorded for the credential team.", err
}

// ---- evidence ----

type evidencePage struct {
	web.Page
	C        *Case
	E        *Evidence
	Ref      string
	Chain    []custodyLink
	Problem  string
	People   []Person
	CanWrite bool
	QR       string
}

func (h *Handlers) evidence(w http.ResponseWriter, r *http.Request) error {
	c, ev, err := h.loadEvidence(r, auth.CaseRead)
	if err != nil {
		return err
	}
	return h.renderEvidence(w, r, c, ev, 200, nil)
}

func (h *Handlers) renderEvidence(w http.ResponseWriter, r *http.Request, c *Case, ev *Evidence, status int, errs map[string]string) error {
	p := principal(r)
	links, err := h.S.Chain(r.Context(), ev)
	if err != nil {
		return err
	}
	people, err := h.S.People(r.Context(), c.OrgID)
	if err != nil {
		return err
	}
	if err := h.S.Viewed(r.Context(), p, c, "evidence "+ev.Ref(c)); err != nil {
		return err
	}
	pg := evidencePage{Page: h.Web.NewPage(w, r, ev.Ref(c)+" "+ev.Label, "cases"), C: c, E: ev, Ref: ev.Ref(c), Problem: verifyChain(links, ev),
		People: people, CanWrite: auth.Can(p, auth.CaseWrite, c.OrgID), QR: h.evidenceURL(r, c, ev)}
	pg.Timezone = h.tz(r, c.OrgID)
	pg.Errors = errs
	for _, l := range links {
		pg.Chain = append(pg.Chain, custodyLink{l.Seq, l.Action, l.FromName, l.FromUserID, l.ToName, l.ToUserID, l.At, l.Reason, l.Condition, l.Location, l.SignedBy, l.Hash})
	}
	return h.Web.Render(w, status, "inv_evidence", pg)
}

// evidenceURL is what the item's QR label encodes: its page, which only
// people on the case can open.
func (h *Handlers) evidenceURL(r *http.Request, c *Case, ev *Evidence) string {
	path := "/cases/" + c.ID + "/evidence/" + ev.ID
	if h.Web.BaseURL != nil {
		return strings.TrimSuffix(h.Web.BaseURL.String(), "/") + path
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: r.Host, Path: path}).String()
}

func (h *Handlers) transfer(w http.ResponseWriter, r *http.Request) error {
	c, ev, err := h.loadEvidence(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	_, err = h.S.Transfer(r.Context(), principal(r), c, ev, TransferInput{ToUserID: r.PostFormValue("to_user_id"), Reason: r.PostFormValue("reason"),
		Condition: r.PostFormValue("condition"), Location: r.PostFormValue("location"), Password: r.PostFormValue("password")})
	if fe, ok := web.FormErrors(err); ok {
		return h.renderEvidence(w, r, c, ev, http.StatusBadRequest, fe)
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/cases/"+c.ID+"/evidence/"+ev.ID, "Custody transferred and signed.")
}

func (h *Handlers) verify(w http.ResponseWriter, r *http.Request) error {
	c, ev, err := h.loadEvidence(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	ck, err := h.S.VerifyEvidence(r.Context(), principal(r), c, ev)
	if err != nil {
		return err
	}
	msg := "Verified: " + ck.Detail + "."
	if !ck.OK {
		msg = "TAMPERING DETECTED: " + ck.Detail + ". The failure is recorded in the audit log."
	}
	return h.Web.Redirect(w, r, "/cases/"+c.ID+"/evidence/"+ev.ID, msg)
}

func (h *Handlers) file(w http.ResponseWriter, r *http.Request) error {
	c, ev, err := h.loadEvidence(r, auth.CaseRead)
	if err != nil {
		return err
	}
	return h.download(w, r, c, ev)
}

func (h *Handlers) qr(w http.ResponseWriter, r *http.Request) error {
	c, ev, err := h.loadEvidence(r, auth.CaseRead)
	if err != nil {
		return err
	}
	png, err := QR(h.evidenceURL(r, c, ev), 320)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, no-store")
	_, err = w.Write(png)
	return err
}

func (h *Handlers) custodyPDF(w http.ResponseWriter, r *http.Request) error {
	c, ev, err := h.loadEvidence(r, auth.CaseRead)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := h.S.CustodyReport(r.Context(), &buf, principal(r), c, ev, h.evidenceURL(r, c, ev)); err != nil {
		return err
	}
	if err := h.S.Viewed(r.Context(), principal(r), c, "custody report "+ev.Ref(c)); err != nil {
		return err
	}
	return sendPDF(w, fmt.Sprintf("custody-%s-E%d.pdf", c.Ref(), ev.Number), &buf)
}

func sendPDF(w http.ResponseWriter, name string, buf *bytes.Buffer) error {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Cache-Control", "no-store")
	_, err := buf.WriteTo(w)
	return err
}

func (h *Handlers) summaryPDF(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseRead)
	if err != nil {
		return err
	}
	shared := r.URL.Query().Get("shared") == "1"
	var buf bytes.Buffer
	if err := h.S.SummaryReport(r.Context(), &buf, principal(r), c, shared); err != nil {
		return err
	}
	if err := h.S.Viewed(r.Context(), principal(r), c, "summary report"); err != nil {
		return err
	}
	return sendPDF(w, "case-"+c.Ref()+".pdf", &buf)
}

type accessPage struct {
	web.Page
	C    *Case
	Rows []accessEntry
}

func (h *Handlers) accessLog(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseRead)
	if err != nil {
		return err
	}
	if !h.mayManage(r, c) {
		return web.ErrForbidden
	}
	rows, err := h.S.AccessLog(r.Context(), c, 1000, 0)
	if err != nil {
		return err
	}
	pg := accessPage{Page: h.Web.NewPage(w, r, "Access log "+c.Ref(), "cases"), C: c}
	pg.Timezone = h.tz(r, c.OrgID)
	for _, x := range rows {
		pg.Rows = append(pg.Rows, accessEntry{x.At, x.Actor, x.Action, string(x.Data)})
	}
	return h.Web.Render(w, 200, "inv_access", pg)
}

// ---- BOLO board ----

type boloPage struct {
	web.Page
	BOLOs     []*BOLO
	SiteNames map[string]string
}

func (h *Handlers) bolos(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if len(p.OrgsWhere(auth.BoloRead)) == 0 {
		return web.ErrForbidden
	}
	bs, err := h.S.ActiveBOLOs(r.Context(), p, r.URL.Query().Get("site_id"))
	if err != nil {
		return err
	}
	names := map[string]string{}
	sites, err := h.S.Orgs.Sites(r.Context(), p.OrgsWhere(auth.BoloRead), org.SiteFilter{}, org.Page{Limit: 500})
	if err != nil {
		return err
	}
	for _, s := range sites {
		names[s.ID] = s.Name
	}
	return h.Web.Render(w, 200, "inv_bolos", boloPage{h.Web.NewPage(w, r, "Be on the lookout", "bolos"), bs, names})
}

func (h *Handlers) boloPhoto(w http.ResponseWriter, r *http.Request) error {
	b, err := h.S.BOLOFor(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	if b.PhotoSHA256 == "" {
		return web.ErrNotFound
	}
	rc, err := h.S.Blob.Open(r.Context(), b.PhotoSHA256)
	if err != nil {
		return web.ErrNotFound
	}
	defer rc.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(rc, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return err
	}
	ct := http.DetectContentType(head[:n])
	if !strings.HasPrefix(ct, "image/") {
		return web.ErrNotFound // only images are shown inline
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "private, max-age=300")
	if _, err := w.Write(head[:n]); err != nil {
		return err
	}
	_, err = io.Copy(w, rc)
	return err
}

// ---- settings ----

type settingsPage struct {
	web.Page
	S     Settings
	Roles []auth.Role
	Slug  string
}

func (h *Handlers) settings(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := needOrg(p, auth.CaseAdmin, p.OrgID); err != nil {
		return err
	}
	return h.renderSettings(w, r, 200, nil, nil)
}

func (h *Handlers) renderSettings(w http.ResponseWriter, r *http.Request, status int, st *Settings, errs map[string]string) error {
	p := principal(r)
	if st == nil {
		x, err := h.S.Settings(r.Context(), p.OrgID)
		if err != nil {
			return err
		}
		st = &x
	}
	o, err := h.S.Orgs.Org(r.Context(), []string{p.OrgID}, p.OrgID)
	if err != nil {
		return err
	}
	var roles []auth.Role
	for _, ro := range auth.Roles {
		if ro != auth.Owner && ro.Allows(auth.CaseRead) {
			roles = append(roles, ro)
		}
	}
	pg := settingsPage{Page: h.Web.NewPage(w, r, "Investigation settings", "cases"), S: *st, Roles: roles, Slug: o.Slug}
	pg.Errors = errs
	return h.Web.Render(w, status, "inv_settings", pg)
}

func (h *Handlers) saveSettings(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := needOrg(p, auth.CaseAdmin, p.OrgID); err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	st := Settings{OrgID: p.OrgID, HotlineOn: r.PostFormValue("hotline_enabled") != "", HotlineIntro: r.PostFormValue("hotline_intro")}
	for _, ro := range r.PostForm["case_wide_roles"] {
		st.CaseWideRoles = append(st.CaseWideRoles, auth.Role(ro))
	}
	st.AckDays, _ = strconv.Atoi(r.PostFormValue("ack_days"))
	st.FeedbackDays, _ = strconv.Atoi(r.PostFormValue("feedback_days"))
	err := h.S.SaveSettings(r.Context(), p, st)
	if fe, ok := web.FormErrors(err); ok {
		return h.renderSettings(w, r, 400, &st, fe)
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/investigation/settings", "Settings saved.")
}

// HasRole reports whether role r is ticked on the settings page.
func (pg settingsPage) HasRole(r auth.Role) bool { return slices.Contains(pg.S.CaseWideRoles, r) }
