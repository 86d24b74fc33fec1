package investigation

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"vigil/internal/auth"
	"vigil/internal/store"
	"vigil/internal/web"
)

// Handlers serves the investigation pages, the JSON API and the public hotline.
type Handlers struct {
	S   *Service
	Web *web.Server
}

// Register adds every route of this module: all of them on one screen.
func (h *Handlers) Register() {
	s := h.Web
	s.API("GET", "/cases", h.apiList, web.Doc{Summary: "List the cases you may see (need-to-know)", Response: web.List[*Case]{},
		Query: []string{"org_id", "status", "type", "source", "overdue", "q", "limit", "offset"}})
	s.API("POST", "/cases", h.apiCreate, web.Doc{Summary: "Open a case", Request: CaseInput{}, Response: &Case{}, Status: 201})
	s.API("GET", "/cases/stats", h.apiStats, web.Doc{Summary: "Case statistics: by type, status, outcome, time to close", Response: &Stats{}, Query: []string{"org_id"}})
	s.API("GET", "/cases/{id}", h.apiGet, web.Doc{Summary: "Get a case file (the read is audit-logged)", Response: &CaseFile{}})
	s.API("PATCH", "/cases/{id}", h.apiUpdate, web.Doc{Summary: "Update a case's header; lead_id set on an intake case triages it", Request: CaseInput{}, Response: &Case{}})
	s.API("POST", "/cases/{id}/status", h.apiStatus, web.Doc{Summary: "Move a case through intake → open → investigating → findings → closed, or reopen", Request: statusInput{}, Response: &Case{}})
	s.API("POST", "/cases/{id}/members", h.apiAddMember, web.Doc{Summary: "Add an investigator or grant read access (conflict-of-interest checked)", Request: memberInput{}, Response: []Member{}, Status: 201})
	s.API("DELETE", "/cases/{id}/members/{user_id}", h.apiRemoveMember, web.Doc{Summary: "Remove a team member or grant", Status: 204})
	s.API("POST", "/cases/{id}/parties", h.apiAddParty, web.Doc{Summary: "Add a subject, complainant or witness", Request: PartyInput{}, Response: &Party{}, Status: 201})
	s.API("POST", "/cases/{id}/allegations", h.apiAddAllegation, web.Doc{Summary: "Add an allegation", Request: allegationInput{}, Response: &Allegation{}, Status: 201})
	s.API("PUT", "/cases/{id}/allegations/{aid}", h.apiDecide, web.Doc{Summary: "Record an allegation's outcome", Request: allegationInput{}, Status: 204})
	s.API("POST", "/cases/{id}/links", h.apiLink, web.Doc{Summary: "Link an incident, alarm or case", Request: Link{}, Status: 204})
	s.API("POST", "/cases/{id}/tasks", createOnCase(h, h.apiTask), web.Doc{Summary: "Add a task", Request: taskInput{}, Response: &Task{}, Status: 201})
	s.API("POST", "/cases/{id}/notes", createOnCase(h, h.apiNote), web.Doc{Summary: "Add an internal or shareable note", Request: noteInput{}, Response: &Note{}, Status: 201})
	s.API("POST", "/cases/{id}/actions", createOnCase(h, h.apiAction), web.Doc{Summary: "Record a recommended or taken action", Request: actionInput{}, Response: &Action{}, Status: 201})
	s.API("POST", "/cases/{id}/time", h.apiTime, web.Doc{Summary: "Log time spent", Request: timeInput{}, Status: 204})
	s.API("GET", "/cases/{id}/evidence", h.apiEvidence, web.Doc{Summary: "List a case's evidence with holder and integrity", Response: []*Evidence{}})
	s.API("POST", "/cases/{id}/evidence", h.apiAddEvidence, web.Doc{Summary: "Upload digital evidence (multipart: file, description, label) or register physical evidence (kind=physical, label, location); hashed with SHA-256 at intake",
		Response: &Evidence{}, Status: 201})
	s.API("GET", "/cases/{id}/evidence/{eid}/file", h.apiDownload, web.Doc{Summary: "Download a digital item (audit-logged)"})
	s.API("POST", "/cases/{id}/evidence/{eid}/verify", h.apiVerify, web.Doc{Summary: "Re-hash an item and check its custody chain; failures are flagged", Response: Check{}})
	s.API("POST", "/cases/{id}/evidence/{eid}/transfers", h.apiTransfer, web.Doc{Summary: "Transfer custody (append-only; signed by re-entering your password)", Request: TransferInput{}, Response: &custodyLink{}, Status: 201})
	s.API("GET", "/cases/{id}/custody", h.apiCustody, web.Doc{Summary: "Every item's custody chain, verified", Response: []custodyEntry{}})
	s.API("GET", "/cases/{id}/interviews", h.apiInterviews, web.Doc{Summary: "List interviews", Response: []Interview{}})
	s.API("POST", "/cases/{id}/interviews", h.apiAddInterview, web.Doc{Summary: "Schedule or record an interview", Request: InterviewInput{}, Response: &Interview{}, Status: 201})
	s.API("PUT", "/cases/{id}/interviews/{iid}", h.apiRecordInterview, web.Doc{Summary: "Record a statement (a signed statement is final)", Request: InterviewInput{}, Status: 204})
	s.API("POST", "/cases/{id}/replies", h.apiReply, web.Doc{Summary: "Reply to an anonymous reporter", Request: replyInput{}, Status: 204})
	s.API("POST", "/cases/{id}/assessments", createOnCase(h, h.S.Assess), web.Doc{Summary: "Record a threat assessment", Request: AssessmentInput{}, Response: &Assessment{}, Status: 201})
	s.API("POST", "/cases/{id}/bolos", createOnCase(h, h.S.IssueBOLO), web.Doc{Summary: "Issue a BOLO notice to chosen sites' officers", Request: BOLOInput{}, Response: &BOLO{}, Status: 201})
	s.API("POST", "/cases/{id}/revocations", createOnCase(h, h.S.RequestRevocation), web.Doc{Summary: "Record credentials to revoke", Request: RevocationInput{}, Response: &Revocation{}, Status: 201})
	s.API("GET", "/cases/{id}/access-log", h.apiAccessLog, web.Doc{Summary: "Who looked at or changed the case (owner or lead)", Response: []accessEntry{}, Query: []string{"limit", "offset"}})
	s.API("GET", "/bolos", h.apiBOLOs, web.Doc{Summary: "Active BOLO notices for your sites", Response: []*BOLO{}, Query: []string{"site_id"}})
	s.API("GET", "/investigation/settings/{org_id}", h.apiSettings, web.Doc{Summary: "Case-wide roles and hotline deadlines", Response: Settings{}})
	s.API("PUT", "/investigation/settings/{org_id}", h.apiSaveSettings, web.Doc{Summary: "Set case-wide roles and hotline deadlines (owner)", Request: Settings{}, Response: Settings{}})

	s.PublicAPI("POST", "/hotline/{slug}/reports", h.apiHotlineReport, web.Doc{Summary: "File an anonymous report; returns the case key and password (shown once)", Request: HotlineInput{}, Response: Receipt{}, Status: 201})
	s.PublicAPI("POST", "/hotline/{slug}/access", h.apiHotlineAccess, web.Doc{Summary: "Read your report and replies with your case key and password", Request: reporterAuth{}, Response: ReporterView{}})
	s.PublicAPI("POST", "/hotline/{slug}/messages", h.apiHotlineMessage, web.Doc{Summary: "Add information to your report", Request: reporterMessage{}, Status: 204})

	h.registerUI()
}

func principal(r *http.Request) *auth.Principal { return auth.FromContext(r.Context()) }

// load returns the case in the path if p may see it and do action in its
// organisation: 404 if the case is outside p's need-to-know, 403 if p sees
// it but may not act.
func (h *Handlers) load(r *http.Request, action auth.Action) (*Case, error) {
	p := principal(r)
	c, err := h.S.Case(r.Context(), p, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		// A role that may not read cases at all is refused (403) in its
		// own organisations, as everywhere in vigil; anything else outside
		// need-to-know is indistinguishable from a missing case.
		if org, oerr := h.S.CaseOrg(r.Context(), r.PathValue("id")); oerr == nil && p.Sees(org) && !auth.Can(p, auth.CaseRead, org) {
			return nil, web.ErrForbidden
		}
		return nil, web.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !auth.Can(p, action, c.OrgID) {
		return nil, web.ErrForbidden
	}
	return c, nil
}

// mayManage reports whether p manages the case's team and reads its access
// log: the organisation's owner (CaseAdmin) or the case's own investigators
// (lead or investigator on the team; read-only grantees may not).
func (h *Handlers) mayManage(r *http.Request, c *Case) bool {
	p := principal(r)
	if auth.Can(p, auth.CaseAdmin, c.OrgID) {
		return true
	}
	if !auth.Can(p, auth.CaseWrite, c.OrgID) {
		return false
	}
	role, err := h.S.MemberRole(r.Context(), c, p.UserID)
	return err == nil && (role == "lead" || role == "investigator")
}

func (h *Handlers) apiList(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if len(p.OrgsWhere(auth.CaseRead)) == 0 {
		return web.ErrForbidden
	}
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	cs, err := h.S.Cases(r.Context(), p, Filter{OrgID: q.Get("org_id"), Status: q.Get("status"), Type: q.Get("type"), Source: q.Get("source"),
		Overdue: q.Get("overdue") == "true" || q.Get("overdue") == "1", Q: q.Get("q"), Limit: limit + 1, Offset: offset})
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(cs, limit, offset))
}

func (h *Handlers) apiCreate(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var in CaseInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.OrgID == "" {
		in.OrgID = p.OrgID
	}
	if !p.Sees(in.OrgID) {
		return web.BadField("org_id", "is not a known organisation")
	}
	if !auth.Can(p, auth.CaseWrite, in.OrgID) {
		return web.ErrForbidden
	}
	c, err := h.S.CreateCase(r.Context(), p, in)
	if err != nil {
		return err
	}
	return web.JSON(w, 201, c)
}

func (h *Handlers) apiStats(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if len(p.OrgsWhere(auth.CaseRead)) == 0 {
		return web.ErrForbidden
	}
	st, err := h.S.Statistics(r.Context(), p, r.URL.Query().Get("org_id"))
	if err != nil {
		return err
	}
	return web.JSON(w, 200, st)
}

func (h *Handlers) apiGet(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseRead)
	if err != nil {
		return err
	}
	f, err := h.S.File(r.Context(), c, false)
	if err != nil {
		return err
	}
	if err := h.S.Viewed(r.Context(), principal(r), c, "file"); err != nil {
		return err
	}
	return web.JSON(w, 200, f)
}

func (h *Handlers) apiUpdate(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	in := CaseInput{Type: c.Type, Title: c.Title, Summary: c.Summary, LeadID: c.LeadID, DueAt: c.DueAt, RootCause: c.RootCause}
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.OrgID != "" && in.OrgID != c.OrgID {
		return web.BadField("org_id", "cannot be changed")
	}
	p := principal(r)
	if c.Status == "intake" && in.LeadID != "" && in.LeadID != c.LeadID {
		err = h.S.Triage(r.Context(), p, c, in)
	} else {
		err = h.S.UpdateCase(r.Context(), p, c, in)
	}
	if err != nil {
		return err
	}
	c, err = h.S.Case(r.Context(), p, c.ID)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, c)
}

type statusInput struct {
	Status string `json:"status"`
}

func (h *Handlers) apiStatus(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	var in statusInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := h.S.Move(r.Context(), principal(r), c, in.Status); err != nil {
		return err
	}
	c, err = h.S.Case(r.Context(), principal(r), c.ID)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, c)
}

type memberInput struct {
	UserID string `json:"user_id"`
	Role   string `json:"role"` // investigator or granted
}

func (h *Handlers) apiAddMember(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	p := principal(r)
	if !h.mayManage(r, c) {
		return web.Errorf(http.StatusForbidden, "forbidden", "only the case's investigators or the organisation's owner manage its team")
	}
	var in memberInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := h.S.AddMember(r.Context(), p, c, in.UserID, in.Role); err != nil {
		return err
	}
	ms, err := h.S.Members(r.Context(), c)
	if err != nil {
		return err
	}
	return web.JSON(w, 201, ms)
}

func (h *Handlers) apiRemoveMember(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	p := principal(r)
	if !h.mayManage(r, c) {
		return web.Errorf(http.StatusForbidden, "forbidden", "only the case's investigators or the organisation's owner manage its team")
	}
	if err := h.S.RemoveMember(r.Context(), p, c, r.PathValue("user_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) apiAddParty(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	var in PartyInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	pt, err := h.S.AddParty(r.Context(), principal(r), c, in)
	if err != nil {
		return err
	}
	return web.JSON(w, 201, pt)
}

type allegationInput struct {
	Text    string `json:"text,omitempty"`
	Outcome string `json:"outcome,omitempty"`
}

func (h *Handlers) apiAddAllegation(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	var in allegationInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := h.S.AddAllegation(r.Context(), principal(r), c, in.Text)
	if err != nil {
		return err
	}
	return web.JSON(w, 201, a)
}

func (h *Handlers) apiDecide(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	var in allegationInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := h.S.DecideAllegation(r.Context(), principal(r), c, r.PathValue("aid"), in.Outcome); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) apiLink(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	var in Link
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := h.S.AddLink(r.Context(), principal(r), c, in.Kind, in.Ref); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type taskInput struct {
	Title      string     `json:"title"`
	AssigneeID string     `json:"assignee_id,omitempty"`
	DueAt      *time.Time `json:"due_at,omitempty"`
}

type noteInput struct {
	Body      string `json:"body"`
	Shareable bool   `json:"shareable,omitempty"`
}

type actionInput struct {
	Kind        string `json:"kind"`
	Stage       string `json:"stage"`
	Description string `json:"description,omitempty"`
}

type timeInput struct {
	Minutes int    `json:"minutes"`
	Note    string `json:"note,omitempty"`
}

func (h *Handlers) apiTime(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	var in timeInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := h.S.LogTime(r.Context(), principal(r), c, int64(in.Minutes)*60, in.Note); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) apiEvidence(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseRead)
	if err != nil {
		return err
	}
	evs, err := h.S.Evidence(r.Context(), c)
	if err != nil {
		return err
	}
	if err := h.S.Viewed(r.Context(), principal(r), c, "evidence"); err != nil {
		return err
	}
	if evs == nil {
		evs = []*Evidence{}
	}
	return web.JSON(w, 200, evs)
}

// maxField bounds each non-file multipart field.
const maxField = 64 << 10

// readEvidenceForm streams a multipart upload: the file part goes straight
// into the blob store (hashed as it streams, bounded by MaxUpload), other
// parts are small text fields. A url-encoded form registers physical
// evidence.
func (h *Handlers) readEvidenceForm(w http.ResponseWriter, r *http.Request, fileField string) (map[string]string, *EvidenceInput, error) {
	fields := map[string]string{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	in := &EvidenceInput{Kind: "physical"}
	if ct != "multipart/form-data" && ct != "application/x-www-form-urlencoded" {
		return nil, nil, web.Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send multipart/form-data (a file part and its fields) or a url-encoded form for physical evidence")
	}
	if ct != "multipart/form-data" {
		if err := web.ParseForm(w, r); err != nil {
			return nil, nil, err
		}
		for k, vs := range r.PostForm {
			fields[k] = strings.Join(vs, ",")
		}
		return fields, in, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.S.MaxUpload+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, web.Errorf(http.StatusBadRequest, "invalid_form", "the upload could not be read")
	}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil || n > 50 {
			return nil, nil, uploadErr(err, h.S.MaxUpload)
		}
		name := part.FormName()
		if name == fileField && part.FileName() != "" {
			if in.SHA256 != "" {
				return nil, nil, web.BadField(fileField, "send one file per request")
			}
			sum, size, err := h.S.PutFile(r.Context(), part)
			if err != nil {
				return nil, nil, uploadErr(err, h.S.MaxUpload)
			}
			if size == 0 {
				return nil, nil, web.BadField(fileField, "is empty")
			}
			in.Kind, in.SHA256, in.Size = "digital", sum, size
			in.Filename = filepath.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
			in.ContentType = part.Header.Get("Content-Type")
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxField+1))
		if err != nil {
			return nil, nil, uploadErr(err, h.S.MaxUpload)
		}
		if len(b) > maxField {
			return nil, nil, web.BadField(name, "is too long")
		}
		if prev, ok := fields[name]; ok {
			fields[name] = prev + "," + string(b) // repeated checkboxes (site_ids)
		} else {
			fields[name] = string(b)
		}
	}
	return fields, in, nil
}

func uploadErr(err error, limit int64) error {
	var big *http.MaxBytesError
	if errors.Is(err, ErrTooLarge) || errors.As(err, &big) {
		return web.Errorf(http.StatusRequestEntityTooLarge, "too_large", "the file is larger than the %d MiB limit; nothing was stored", limit>>20)
	}
	if err == nil {
		return web.Errorf(http.StatusBadRequest, "invalid_form", "too many form fields")
	}
	return web.Errorf(http.StatusBadRequest, "invalid_form", "the upload could not be read")
}

func (h *Handlers) addEvidence(w http.ResponseWriter, r *http.Request, c *Case) (*Evidence, error) {
	fields, in, err := h.readEvidenceForm(w, r, "file")
	if err != nil {
		return nil, err
	}
	if k := fields["kind"]; k != "" && k != in.Kind {
		if k == "digital" {
			return nil, web.BadField("file", "is required for digital evidence")
		}
		return nil, web.BadField("kind", "must be digital when a file is sent")
	}
	in.Label, in.Description, in.Location, in.InterviewID = fields["label"], fields["description"], fields["location"], fields["interview_id"]
	return h.S.AddEvidence(r.Context(), principal(r), c, *in)
}

func (h *Handlers) apiAddEvidence(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	ev, err := h.addEvidence(w, r, c)
	if err != nil {
		return err
	}
	return web.JSON(w, 201, ev)
}

func (h *Handlers) loadEvidence(r *http.Request, action auth.Action) (*Case, *Evidence, error) {
	c, err := h.load(r, action)
	if err != nil {
		return nil, nil, err
	}
	ev, err := h.S.EvidenceItem(r.Context(), c, r.PathValue("eid"))
	return c, ev, err
}

func (h *Handlers) apiDownload(w http.ResponseWriter, r *http.Request) error {
	c, ev, err := h.loadEvidence(r, auth.CaseRead)
	if err != nil {
		return err
	}
	return h.download(w, r, c, ev)
}

func (h *Handlers) download(w http.ResponseWriter, r *http.Request, c *Case, ev *Evidence) error {
	rc, err := h.S.OpenFile(r.Context(), ev)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := h.S.Viewed(r.Context(), principal(r), c, "download "+ev.Ref(c)); err != nil {
		return err
	}
	// Served as an attachment with a neutral type: evidence is never
	// rendered by the browser in vigil's origin.
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": ev.Filename}))
	w.Header().Set("X-Content-SHA256", ev.SHA256)
	w.Header().Set("Cache-Control", "no-store")
	_, err = io.Copy(w, rc)
	return err
}

func (h *Handlers) apiVerify(w http.ResponseWriter, r *http.Request) error {
	c, ev, err := h.loadEvidence(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	ck, err := h.S.VerifyEvidence(r.Context(), principal(r), c, ev)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, ck)
}

// custodyLink is the API view of a custody link.
type custodyLink struct {
	Seq       int       `json:"seq"`
	Action    string    `json:"action"`
	From      string    `json:"from"`
	FromID    string    `json:"from_user_id"`
	To        string    `json:"to"`
	ToID      string    `json:"to_user_id"`
	At        time.Time `json:"at"`
	Reason    string    `json:"reason"`
	Condition string    `json:"condition"`
	Location  string    `json:"location"`
	SignedBy  string    `json:"signed_by"`
	Hash      string    `json:"hash"`
}

type custodyEntry struct {
	Evidence *Evidence     `json:"evidence"`
	Intact   bool          `json:"intact"`
	Problem  string        `json:"problem,omitempty"`
	Chain    []custodyLink `json:"chain"`
}

func (h *Handlers) apiTransfer(w http.ResponseWriter, r *http.Request) error {
	c, ev, err := h.loadEvidence(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	var in TransferInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	l, err := h.S.Transfer(r.Context(), principal(r), c, ev, in)
	if err != nil {
		return err
	}
	return web.JSON(w, 201, custodyLink{l.Seq, l.Action, l.FromName, l.FromUserID, l.ToName, l.ToUserID, l.At, l.Reason, l.Condition, l.Location, l.SignedBy, l.Hash})
}

func (h *Handlers) apiCustody(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseRead)
	if err != nil {
		return err
	}
	evs, err := h.S.Evidence(r.Context(), c)
	if err != nil {
		return err
	}
	out := []custodyEntry{}
	for _, ev := range evs {
		links, err := h.S.Chain(r.Context(), ev)
		if err != nil {
			return err
		}
		e := custodyEntry{Evidence: ev, Intact: true, Chain: []custodyLink{}}
		if b := verifyChain(links, ev); b != "" {
			e.Intact, e.Problem = false, b
		}
		for _, l := range links {
			e.Chain = append(e.Chain, custodyLink{l.Seq, l.Action, l.FromName, l.FromUserID, l.ToName, l.ToUserID, l.At, l.Reason, l.Condition, l.Location, l.SignedBy, l.Hash})
		}
		out = append(out, e)
	}
	if err := h.S.Viewed(r.Context(), principal(r), c, "custody"); err != nil {
		return err
	}
	return web.JSON(w, 200, out)
}

func (h *Handlers) apiInterviews(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseRead)
	if err != nil {
		return err
	}
	ivs, err := h.S.Interviews(r.Context(), c)
	if err != nil {
		return err
	}
	if err := h.S.Viewed(r.Context(), principal(r), c, "interviews"); err != nil {
		return err
	}
	if ivs == nil {
		ivs = []Interview{}
	}
	return web.JSON(w, 200, ivs)
}

func (h *Handlers) apiAddInterview(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	var in InterviewInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	iv, err := h.S.AddInterview(r.Context(), principal(r), c, in)
	if err != nil {
		return err
	}
	return web.JSON(w, 201, iv)
}

func (h *Handlers) apiRecordInterview(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	var in InterviewInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := h.S.RecordInterview(r.Context(), principal(r), c, r.PathValue("iid"), in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type replyInput struct {
	Body     string `json:"body"`
	Feedback bool   `json:"feedback,omitempty"`
}

func (h *Handlers) apiReply(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseWrite)
	if err != nil {
		return err
	}
	var in replyInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := h.S.Reply(r.Context(), principal(r), c, in.Body, in.Feedback); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiTask, apiNote and apiAction adapt the service to createOnCase.
func (h *Handlers) apiTask(ctx context.Context, p *auth.Principal, c *Case, in taskInput) (*Task, error) {
	return h.S.AddTask(ctx, p, c, in.Title, in.AssigneeID, in.DueAt)
}

func (h *Handlers) apiNote(ctx context.Context, p *auth.Principal, c *Case, in noteInput) (*Note, error) {
	return h.S.AddNote(ctx, p, c, in.Body, in.Shareable)
}

func (h *Handlers) apiAction(ctx context.Context, p *auth.Principal, c *Case, in actionInput) (*Action, error) {
	return h.S.AddAction(ctx, p, c, in.Kind, in.Stage, in.Description)
}

// createOnCase is a POST that adds a record to a case the caller may
// write: load the case, decode the input, act, answer 201 with the result.
func createOnCase[In, Out any](h *Handlers, act func(context.Context, *auth.Principal, *Case, In) (Out, error)) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := h.load(r, auth.CaseWrite)
		if err != nil {
			return err
		}
		var in In
		if err := web.DecodeJSON(w, r, &in); err != nil {
			return err
		}
		out, err := act(r.Context(), principal(r), c, in)
		if err != nil {
			return err
		}
		return web.JSON(w, 201, out)
	}
}

type accessEntry struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Data   string    `json:"data"`
}

func (h *Handlers) apiAccessLog(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, auth.CaseRead)
	if err != nil {
		return err
	}
	if !h.mayManage(r, c) {
		return web.Errorf(http.StatusForbidden, "forbidden", "only the organisation's owner or the case's investigators see its access log")
	}
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	rows, err := h.S.AccessLog(r.Context(), c, limit, offset)
	if err != nil {
		return err
	}
	out := make([]accessEntry, 0, len(rows))
	for _, x := range rows {
		out = append(out, accessEntry{x.At, x.Actor, x.Action, string(x.Data)})
	}
	return web.JSON(w, 200, out)
}

func (h *Handlers) apiBOLOs(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if len(p.OrgsWhere(auth.BoloRead)) == 0 {
		return web.ErrForbidden
	}
	bs, err := h.S.ActiveBOLOs(r.Context(), p, r.URL.Query().Get("site_id"))
	if err != nil {
		return err
	}
	if bs == nil {
		bs = []*BOLO{}
	}
	return web.JSON(w, 200, bs)
}

var needOrg = web.Need

func (h *Handlers) apiSettings(w http.ResponseWriter, r *http.Request) error {
	org := r.PathValue("org_id")
	if err := needOrg(principal(r), auth.CaseAdmin, org); err != nil {
		return err
	}
	st, err := h.S.Settings(r.Context(), org)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, st)
}

func (h *Handlers) apiSaveSettings(w http.ResponseWriter, r *http.Request) error {
	org := r.PathValue("org_id")
	p := principal(r)
	if err := needOrg(p, auth.CaseAdmin, org); err != nil {
		return err
	}
	st, err := h.S.Settings(r.Context(), org)
	if err != nil {
		return err
	}
	if err := web.DecodeJSON(w, r, &st); err != nil {
		return err
	}
	st.OrgID = org
	if err := h.S.SaveSettings(r.Context(), p, st); err != nil {
		return err
	}
	return web.JSON(w, 200, st)
}

// ---- public hotline API ----

// hotlineErr maps hotline errors to responses that reveal nothing about
// whether a key exists.
func hotlineErr(err error) error {
	switch {
	case errors.Is(err, ErrHotlineOff):
		return web.ErrNotFound
	case errors.Is(err, ErrThrottled):
		return web.Errorf(http.StatusTooManyRequests, "rate_limited", "%s", ErrThrottled.Error())
	case errors.Is(err, ErrLocked):
		return web.Errorf(http.StatusTooManyRequests, "locked", "%s", ErrLocked.Error())
	case errors.Is(err, ErrBadKey):
		return web.Errorf(http.StatusUnauthorized, "wrong_key", "%s", ErrBadKey.Error())
	case errors.Is(err, ErrExpired):
		return web.Errorf(http.StatusUnauthorized, "expired", "%s", ErrExpired.Error())
	}
	return err
}

func (h *Handlers) apiHotlineReport(w http.ResponseWriter, r *http.Request) error {
	o, st, err := h.S.HotlineOrg(r.Context(), r.PathValue("slug"))
	if err != nil {
		return hotlineErr(err)
	}
	var in HotlineInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	rc, _, err := h.S.Report(r.Context(), o.ID, st, in, web.ClientIP(r))
	if err != nil {
		return hotlineErr(err)
	}
	w.Header().Set("Cache-Control", "no-store")
	return web.JSON(w, 201, rc)
}

type reporterAuth struct {
	Key      string `json:"case_key"`
	Password string `json:"password"`
}

type reporterMessage struct {
	Key      string `json:"case_key"`
	Password string `json:"password"`
	Text     string `json:"text"`
}

func (h *Handlers) apiHotlineAccess(w http.ResponseWriter, r *http.Request) error {
	o, _, err := h.S.HotlineOrg(r.Context(), r.PathValue("slug"))
	if err != nil {
		return hotlineErr(err)
	}
	var in reporterAuth
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	tok, _, err := h.S.Access(r.Context(), o.ID, in.Key, in.Password, web.ClientIP(r))
	if err != nil {
		return hotlineErr(err)
	}
	v, _, err := h.S.Reporter(r.Context(), o.ID, tok)
	if err != nil {
		return hotlineErr(err)
	}
	w.Header().Set("Cache-Control", "no-store")
	return web.JSON(w, 200, v)
}

func (h *Handlers) apiHotlineMessage(w http.ResponseWriter, r *http.Request) error {
	o, _, err := h.S.HotlineOrg(r.Context(), r.PathValue("slug"))
	if err != nil {
		return hotlineErr(err)
	}
	var in reporterMessage
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	tok, _, err := h.S.Access(r.Context(), o.ID, in.Key, in.Password, web.ClientIP(r))
	if err != nil {
		return hotlineErr(err)
	}
	_, c, err := h.S.Reporter(r.Context(), o.ID, tok)
	if err != nil {
		return hotlineErr(err)
	}
	if err := h.S.ReporterMessage(r.Context(), c, in.Text); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
