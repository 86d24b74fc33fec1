package incident

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"vigil/internal/auth"
	"vigil/internal/org"
	"vigil/internal/store"
	"vigil/internal/web"
)

// Handlers serves the incident and DAR pages and API.
type Handlers struct {
	S   *Service
	Web *web.Server
}

// Register adds every route of this module: all of them on one screen.
func (h *Handlers) Register() {
	s := h.Web
	listQ := []string{"q", "org_id", "site_id", "type", "severity", "status", "officer_id", "from", "to", "limit", "offset"}
	s.API("GET", "/incidents", h.apiList, web.Doc{Summary: "List and search incident reports", Response: web.List[*Incident]{}, Query: listQ})
	s.API("POST", "/incidents", h.apiCreate, web.Doc{Summary: "Create an incident report (draft)", Request: incidentInput{}, Response: &Incident{}, Status: 201})
	s.API("GET", "/incidents/export.csv", h.apiExport, web.Doc{Summary: "Export matching incident reports as CSV", Query: listQ[:9]})
	s.API("GET", "/incidents/stats", h.apiStats, web.Doc{Summary: "Incident counts by type, site, severity, status and month", Response: &Stats{}, Query: listQ[1:9]})
	s.API("GET", "/incidents/{id}", h.apiGet, web.Doc{Summary: "Get an incident report", Response: &Incident{}})
	s.API("PATCH", "/incidents/{id}", h.apiUpdate, web.Doc{Summary: "Change a report (a new revision; after approval an amendment with a reason)", Request: incidentInput{}, Response: &Incident{}})
	for _, t := range []Transition{Submit, Review, Return, Approve, Close} {
		s.API("POST", "/incidents/{id}/"+string(t), h.apiTransition(t), web.Doc{Summary: "Workflow: " + string(t), Request: transitionInput{}, Response: &Incident{}})
	}
	s.API("GET", "/incidents/{id}/revisions", h.apiRevisions, web.Doc{Summary: "Every revision of a report with the changes each made", Response: []revisionOut{}})
	s.API("GET", "/incidents/{id}/log", h.apiLog, web.Doc{Summary: "The report's activity log", Response: web.List[*LogEntry]{}})
	s.API("POST", "/incidents/{id}/log", h.apiAddLog, web.Doc{Summary: "Add an activity log entry", Request: logInput{}, Response: &LogEntry{}, Status: 201})
	s.API("GET", "/incidents/{id}/attachments", h.apiAttachments, web.Doc{Summary: "List a report's photos and attachments", Response: web.List[*Attachment]{}})
	s.API("POST", "/incidents/{id}/attachments", h.apiAttach, web.Doc{Summary: "Attach a photo or file (multipart: file, caption, photo=1 to require an image)", Response: &Attachment{}, Status: 201})
	s.API("GET", "/incidents/{id}/attachments/{attachment_id}", h.apiAttachmentFile, web.Doc{Summary: "Download an attachment (size=thumb or preview for photos)", Query: []string{"size"}})
	s.API("GET", "/incidents/{id}/report.pdf", h.apiPDF("report"), web.Doc{Summary: "Incident report PDF"})
	s.API("GET", "/incidents/{id}/ics201.pdf", h.apiPDF("ics201"), web.Doc{Summary: "ICS 201 incident briefing PDF"})
	s.API("GET", "/incidents/{id}/ics214.pdf", h.apiPDF("ics214"), web.Doc{Summary: "ICS 214 activity log PDF"})
	s.API("POST", "/incidents/{id}/notify", h.apiNotify, web.Doc{Summary: "Email the approved report to the client (recorded even without SMTP)", Request: notifyInput{}, Response: &Notification{}, Status: 201})

	s.API("GET", "/incident-types", h.apiTypes, web.Doc{Summary: "Incident types of an organisation", Response: web.List[Type]{}, Query: []string{"org_id"}})
	s.API("PUT", "/incident-types/{code}", h.apiSaveType, web.Doc{Summary: "Add or change an incident type and its custom fields", Request: typeInput{}, Response: &Type{}})
	s.API("GET", "/incident-filters", h.apiFilters, web.Doc{Summary: "Your saved incident filters", Response: web.List[*SavedFilter]{}, Query: []string{"org_id"}})
	s.API("POST", "/incident-filters", h.apiSaveFilter, web.Doc{Summary: "Save an incident filter", Request: filterInput{}, Response: &SavedFilter{}, Status: 201})

	s.API("GET", "/dar", h.apiDAR, web.Doc{Summary: "The daily activity report of a site and day", Response: &DAR{}, Query: []string{"site_id", "date"}})
	s.API("POST", "/dar/entries", h.apiDAREntry, web.Doc{Summary: "Log a DAR entry (JSON, or multipart with a photo)", Request: darEntryInput{}, Response: &DAREntry{}, Status: 201})
	s.API("POST", "/dar/approve", h.apiDARStatus("approved"), web.Doc{Summary: "Approve a daily activity report", Request: darInput{}, Response: &DAR{}})
	s.API("POST", "/dar/send", h.apiDARSend, web.Doc{Summary: "Send an approved daily activity report to the client", Request: darInput{}, Response: &Notification{}, Status: 201})
	s.API("GET", "/dar/attachments/{attachment_id}", h.apiDARAttachment, web.Doc{Summary: "A DAR photo (size=thumb or preview)", Query: []string{"size"}})
	s.API("GET", "/dar/report.pdf", h.apiDARPDF, web.Doc{Summary: "Daily activity report PDF", Query: []string{"site_id", "date"}})

	h.registerUI()
}

func principal(r *http.Request) *auth.Principal { return auth.FromContext(r.Context()) }

// need is web.Need: 404 for another tenant, 403 for a forbidden action.
var need = web.Need

// load reads the incident in the URL and checks action. Reads use the
// caller's read scope (client users see approved reports only); any other
// action looks in every organisation the caller belongs to, so that a
// caller without the permission gets 403 rather than 404 there.
func (h *Handlers) load(r *http.Request, action auth.Action) (*Incident, error) {
	p := principal(r)
	sc := ScopeOf(p)
	if action != auth.IncidentRead {
		sc = Scope{}
		for o := range p.Access {
			sc.Full = append(sc.Full, o)
		}
	}
	i, err := h.S.Get(r.Context(), sc, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return i, need(p, action, i.OrgID)
}

// ---- input types ----

type incidentInput struct {
	OrgID        string     `json:"org_id,omitempty"`
	SiteID       string     `json:"site_id"`
	ZoneID       string     `json:"zone_id,omitempty"`
	Type         string     `json:"type"`
	Severity     string     `json:"severity"`
	Title        string     `json:"title"`
	Narrative    string     `json:"narrative"`
	OccurredAt   time.Time  `json:"occurred_at"`
	ReportedAt   time.Time  `json:"reported_at,omitzero"`
	DiscoveredAt *time.Time `json:"discovered_at,omitempty"`
	Latitude     *float64   `json:"latitude,omitempty"`
	Longitude    *float64   `json:"longitude,omitempty"`
	ICS          bool       `json:"ics,omitempty"`
	Details
	// Revision is the revision the change is based on (optional; a stale
	// one is refused with 409 rather than silently overwriting).
	Revision int    `json:"revision,omitempty"`
	Reason   string `json:"reason,omitempty"` // required for amendments after approval
}

func inputOf(i *Incident) incidentInput {
	return incidentInput{OrgID: i.OrgID, SiteID: i.SiteID, ZoneID: i.ZoneID, Type: i.Type, Severity: i.Severity, Title: i.Title,
		Narrative: i.Narrative, OccurredAt: i.OccurredAt, ReportedAt: i.ReportedAt, DiscoveredAt: i.DiscoveredAt, Latitude: i.Latitude,
		Longitude: i.Longitude, ICS: i.ICS, Details: i.Details, Revision: i.Revision}
}

func (in incidentInput) apply(i *Incident) {
	i.SiteID, i.ZoneID, i.Type, i.Severity, i.Title, i.Narrative = in.SiteID, in.ZoneID, in.Type, in.Severity, in.Title, in.Narrative
	i.OccurredAt, i.ReportedAt, i.DiscoveredAt, i.Latitude, i.Longitude, i.ICS = in.OccurredAt, in.ReportedAt, in.DiscoveredAt, in.Latitude, in.Longitude, in.ICS
	i.Details = in.Details
}

type transitionInput struct {
	Comment string `json:"comment,omitempty"`
}

type logInput struct {
	At   time.Time `json:"at,omitzero"`
	Text string    `json:"text"`
}

type notifyInput struct {
	Recipients []string `json:"recipients,omitempty"` // default: the report's client addresses
	Message    string   `json:"message,omitempty"`
}

type typeInput struct {
	OrgID  string     `json:"org_id,omitempty"`
	Label  string     `json:"label"`
	Fields []FieldDef `json:"fields,omitempty"`
	Active *bool      `json:"active,omitempty"`
}

type filterInput struct {
	OrgID string `json:"org_id,omitempty"`
	Name  string `json:"name"`
	Query string `json:"query"`
}

type darInput struct {
	SiteID     string   `json:"site_id"`
	Date       string   `json:"date"`
	Recipients []string `json:"recipients,omitempty"`
	Message    string   `json:"message,omitempty"`
}

type darEntryInput struct {
	SiteID     string    `json:"site_id"`
	At         time.Time `json:"at,omitzero"`
	Kind       string    `json:"kind"`
	Text       string    `json:"text"`
	IncidentID string    `json:"incident_id,omitempty"`
}

// ---- incidents ----

// parseFilter reads list filters from the query string.
func parseFilter(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{Q: strings.TrimSpace(q.Get("q")), OrgID: q.Get("org_id"), SiteID: q.Get("site_id"), Type: q.Get("type"),
		Severity: q.Get("severity"), Status: q.Get("status"), OfficerID: q.Get("officer_id")}
	if len(f.Q) > 500 {
		return f, web.BadField("q", "must be at most 500 characters")
	}
	var err error
	if f.From, err = parseWhen(q.Get("from"), false); err != nil {
		return f, web.BadField("from", "must be a date (YYYY-MM-DD) or an RFC 3339 time")
	}
	if f.To, err = parseWhen(q.Get("to"), true); err != nil {
		return f, web.BadField("to", "must be a date (YYYY-MM-DD) or an RFC 3339 time")
	}
	return f, nil
}

// parseWhen reads a date (a whole UTC day; end=true means the end of it)
// or an RFC 3339 instant.
func parseWhen(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.Parse("2006-01-02", s); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	return time.Parse(time.RFC3339, s)
}

func (h *Handlers) apiList(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	p := principal(r)
	if len(p.OrgsWhere(auth.IncidentRead)) == 0 {
		return web.ErrForbidden
	}
	f, err := parseFilter(r)
	if err != nil {
		return err
	}
	items, err := h.S.List(r.Context(), ScopeOf(p), f, Page{limit + 1, offset})
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(items, limit, offset))
}

func (h *Handlers) apiCreate(w http.ResponseWriter, r *http.Request) error {
	var in incidentInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	i, err := h.create(r, in)
	if err != nil {
		return err
	}
	return web.JSON(w, 201, i)
}

// create resolves the site (its organisation owns the report) and stores the draft.
func (h *Handlers) create(r *http.Request, in incidentInput) (*Incident, error) {
	p := principal(r)
	if in.SiteID == "" {
		return nil, web.BadField("site_id", "is required")
	}
	site, err := h.S.Orgs.Site(r.Context(), p.OrgsWhere(auth.SiteRead), in.SiteID)
	if err != nil {
		return nil, web.BadField("site_id", "is not a known site")
	}
	if in.OrgID != "" && in.OrgID != site.OrgID {
		return nil, web.BadField("org_id", "does not own this site")
	}
	if err := need(p, auth.IncidentWrite, site.OrgID); err != nil {
		return nil, err
	}
	i := &Incident{OrgID: site.OrgID}
	in.apply(i)
	return i, h.S.Create(r.Context(), i, p)
}

func (h *Handlers) apiGet(w http.ResponseWriter, r *http.Request) error {
	i, err := h.load(r, auth.IncidentRead)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, i)
}

// mayEdit: drafts by anyone who writes reports; reports under review or
// approved only by reviewers (an approved one as an amendment).
func mayEdit(p *auth.Principal, i *Incident) error {
	if i.Status == Draft {
		return need(p, auth.IncidentWrite, i.OrgID)
	}
	return need(p, auth.IncidentReview, i.OrgID)
}

func (h *Handlers) apiUpdate(w http.ResponseWriter, r *http.Request) error {
	i, err := h.load(r, auth.IncidentWrite)
	if err != nil {
		return err
	}
	if err := mayEdit(principal(r), i); err != nil {
		return err
	}
	in := inputOf(i)
	in.Revision = 0
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.OrgID != i.OrgID {
		return web.BadField("org_id", "cannot be changed")
	}
	if in.Revision != 0 {
		i.Revision = in.Revision
	}
	in.apply(i)
	if err := h.update(r, i, in.Reason); err != nil {
		return err
	}
	return web.JSON(w, 200, i)
}

func (h *Handlers) update(r *http.Request, i *Incident, reason string) error {
	err := h.S.Update(r.Context(), i, reason, principal(r))
	if errors.Is(err, ErrStale) {
		return web.Errorf(http.StatusConflict, "stale", "%s", strings.TrimPrefix(err.Error(), ErrStale.Error()+": "))
	}
	return err
}

func transitionAction(t Transition) auth.Action {
	if t == Submit {
		return auth.IncidentWrite
	}
	return auth.IncidentReview
}

func (h *Handlers) transition(r *http.Request, i *Incident, t Transition, comment string) error {
	err := h.S.Transition(r.Context(), i, t, comment, principal(r))
	var te *ErrTransition
	if errors.As(err, &te) {
		return web.Errorf(http.StatusConflict, "invalid_transition", "%s", te.Error())
	}
	return err
}

func (h *Handlers) apiTransition(t Transition) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		i, err := h.load(r, transitionAction(t))
		if err != nil {
			return err
		}
		var in transitionInput
		if r.ContentLength != 0 {
			if err := web.DecodeJSON(w, r, &in); err != nil {
				return err
			}
		}
		if err := h.transition(r, i, t, in.Comment); err != nil {
			return err
		}
		return web.JSON(w, 200, i)
	}
}

type revisionOut struct {
	Revision  int       `json:"revision"`
	Status    Status    `json:"status"`
	Reason    string    `json:"reason"`
	Actor     string    `json:"actor"`
	CreatedAt time.Time `json:"created_at"`
	Changes   []Change  `json:"changes"`
	Snapshot  *Incident `json:"snapshot"`
}

// revisionList pairs each revision with what it changed from the one before.
func revisionList(revs []*Revision) []revisionOut {
	out := make([]revisionOut, len(revs))
	for n, rv := range revs {
		o := revisionOut{Revision: rv.Revision, Status: rv.Status, Reason: rv.Reason, Actor: rv.Actor, CreatedAt: rv.CreatedAt, Snapshot: rv.Snapshot, Changes: []Change{}}
		if n > 0 {
			if c := Changes(revs[n-1].Snapshot, rv.Snapshot); c != nil {
				o.Changes = c
			}
		}
		out[n] = o
	}
	return out
}

func (h *Handlers) apiRevisions(w http.ResponseWriter, r *http.Request) error {
	i, err := h.load(r, auth.IncidentReadAll)
	if err != nil {
		return err
	}
	revs, err := h.S.Revisions(r.Context(), i)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, revisionList(revs))
}

func (h *Handlers) apiLog(w http.ResponseWriter, r *http.Request) error {
	i, err := h.load(r, auth.IncidentReadAll)
	if err != nil {
		return err
	}
	log, err := h.S.Log(r.Context(), i)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(log, len(log)+1, 0))
}

func (h *Handlers) apiAddLog(w http.ResponseWriter, r *http.Request) error {
	i, err := h.load(r, auth.IncidentWrite)
	if err != nil {
		return err
	}
	var in logInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	e := &LogEntry{At: in.At, Text: in.Text}
	if err := h.S.AddLog(r.Context(), i, e, principal(r)); err != nil {
		return err
	}
	return web.JSON(w, 201, e)
}

func (h *Handlers) apiAttachments(w http.ResponseWriter, r *http.Request) error {
	i, err := h.load(r, auth.IncidentRead)
	if err != nil {
		return err
	}
	as, err := h.S.Attachments(r.Context(), i)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(as, len(as)+1, 0))
}

// readUpload parses a multipart body with one file. The body limit is a
// little above MaxUpload so that an oversized file gets a clear 413.
func readUpload(w http.ResponseWriter, r *http.Request) (Upload, func(), error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return Upload{}, nil, web.Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send multipart/form-data with a file field")
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxUpload+1<<20)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var big *http.MaxBytesError
		if errors.As(err, &big) {
			return Upload{}, nil, web.Errorf(http.StatusRequestEntityTooLarge, "too_large", "the file is larger than %d MB", MaxUpload>>20)
		}
		return Upload{}, nil, web.Errorf(http.StatusBadRequest, "invalid_form", "the upload could not be read")
	}
	cleanup := func() { r.MultipartForm.RemoveAll() }
	f, fh, err := r.FormFile("file")
	if err != nil {
		cleanup()
		return Upload{}, nil, web.BadField("file", "is required")
	}
	return Upload{Filename: fh.Filename, Caption: r.FormValue("caption"), Body: f, PhotoOnly: r.FormValue("photo") == "1"},
		func() { f.Close(); cleanup() }, nil
}

func (h *Handlers) apiAttach(w http.ResponseWriter, r *http.Request) error {
	i, err := h.load(r, auth.IncidentWrite)
	if err != nil {
		return err
	}
	if err := mayEdit(principal(r), i); err != nil {
		return err
	}
	u, done, err := readUpload(w, r)
	if err != nil {
		return err
	}
	defer done()
	a, err := h.S.Attach(r.Context(), i, u, principal(r))
	if errors.Is(err, ErrFileTooLarge) {
		return web.Errorf(http.StatusRequestEntityTooLarge, "too_large", "the file is larger than %d MB", MaxUpload>>20)
	}
	if err != nil {
		return err
	}
	return web.JSON(w, 201, a)
}

func (h *Handlers) apiAttachmentFile(w http.ResponseWriter, r *http.Request) error {
	i, err := h.load(r, auth.IncidentRead)
	if err != nil {
		return err
	}
	a, err := h.S.Attachment(r.Context(), i.OrgID, r.PathValue("attachment_id"))
	if err != nil || a.IncidentID != i.ID {
		return web.ErrNotFound
	}
	return h.serveAttachment(w, r, a)
}

func (h *Handlers) serveAttachment(w http.ResponseWriter, r *http.Request, a *Attachment) error {
	sum, ct, disp := a.SHA256, a.ContentType, "attachment"
	switch r.URL.Query().Get("size") {
	case "thumb":
		if a.IsImage() {
			sum, ct = a.ThumbSHA256, "image/jpeg"
		}
	case "preview":
		if a.PreviewSHA != "" {
			sum, ct = a.PreviewSHA, "image/jpeg"
		}
	}
	if strings.HasPrefix(ct, "image/") {
		disp = "inline"
	}
	rc, err := h.S.OpenBlob(r.Context(), sum)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": a.Filename}))
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
	w.Header().Set("ETag", `"`+sum+`"`)
	_, err = io.Copy(w, rc)
	return err
}

func (h *Handlers) apiPDF(kind string) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		action := auth.IncidentReadAll
		if kind == "report" {
			action = auth.IncidentRead
		}
		i, err := h.load(r, action)
		if err != nil {
			return err
		}
		return h.writePDF(w, r, i, kind)
	}
}

func (h *Handlers) renderPDF(r *http.Request, i *Incident, kind string) ([]byte, error) {
	rd, err := h.S.Load(r.Context(), i, actorName(principal(r)))
	if err != nil {
		return nil, err
	}
	return RenderPDF(func(w io.Writer) error {
		switch kind {
		case "ics201":
			return h.S.ICS201PDF(r.Context(), rd, w)
		case "ics214":
			return h.S.ICS214PDF(r.Context(), rd, w)
		}
		return h.S.ReportPDF(r.Context(), rd, w)
	})
}

func (h *Handlers) writePDF(w http.ResponseWriter, r *http.Request, i *Incident, kind string) error {
	data, err := h.renderPDF(r, i, kind)
	if err != nil {
		return err
	}
	name := i.Ref() + ".pdf"
	if kind != "report" {
		name = i.Ref() + "-" + strings.ToUpper(kind) + ".pdf"
	}
	sendPDF(w, name, data)
	return nil
}

func sendPDF(w http.ResponseWriter, name string, data []byte) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": name}))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(data)
}

func (h *Handlers) notify(r *http.Request, i *Incident, to []string, msg string) (*Notification, error) {
	if !i.Status.Final() {
		return nil, web.Errorf(http.StatusConflict, "not_approved", "only approved reports are sent to clients")
	}
	if len(to) == 0 {
		to = append([]string(nil), i.ClientEmails...)
	}
	if len(msg) > 5000 {
		return nil, web.BadField("message", "must be at most 5000 characters")
	}
	data, err := h.renderPDF(r, i, "report")
	if err != nil {
		return nil, err
	}
	body := fmt.Sprintf("%s\n\nIncident report %s: %s\nOccurred %s, severity %s.\n\nThe full report is attached.\n",
		strings.TrimSpace(msg), i.Ref(), i.Title, i.OccurredAt.Format("2006-01-02 15:04 UTC"), SeverityLabel(i.Severity))
	return h.S.Notify(r.Context(), i.OrgID, "incident", i.ID, to, "Incident report "+i.Ref()+": "+i.Title, strings.TrimSpace(body),
		&MailFile{Name: i.Ref() + ".pdf", ContentType: "application/pdf", Data: data}, principal(r))
}

func (h *Handlers) apiNotify(w http.ResponseWriter, r *http.Request) error {
	i, err := h.load(r, auth.IncidentReview)
	if err != nil {
		return err
	}
	var in notifyInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	n, err := h.notify(r, i, in.Recipients, in.Message)
	if err != nil {
		return err
	}
	return web.JSON(w, 201, n)
}

// CSVHeader is the first row of an export.
var CSVHeader = []string{"number", "id", "org_id", "site_id", "type", "severity", "status", "title", "occurred_at", "officer", "updated_at"}

// maxExport bounds one CSV export (narrow the filters, e.g. by date, for
// more); a capped export says so in the X-Vigil-Truncated header.
const maxExport = MaxListOffset

func (h *Handlers) apiExport(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if len(p.OrgsWhere(auth.IncidentRead)) == 0 {
		return web.ErrForbidden
	}
	f, err := parseFilter(r)
	if err != nil {
		return err
	}
	return h.exportCSV(w, r, f)
}

func (h *Handlers) exportCSV(w http.ResponseWriter, r *http.Request, f Filter) error {
	sc := ScopeOf(principal(r))
	// Read everything first: a database error must become a clean error
	// response, never half a file.
	var all []*Incident
	truncated := false
	for off := 0; ; off += 500 {
		if off >= maxExport {
			truncated = true
			break
		}
		items, err := h.S.List(r.Context(), sc, f, Page{Limit: 500, Offset: off})
		if err != nil {
			return err
		}
		all = append(all, items...)
		if len(items) < 500 {
			break
		}
	}
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write(CSVHeader)
	for _, i := range all {
		cw.Write([]string{i.Ref(), i.ID, i.OrgID, i.SiteID, i.Type, i.Severity, string(i.Status), csvSafe(i.Title),
			i.OccurredAt.Format(time.RFC3339), csvSafe(i.OfficerName), i.UpdatedAt.Format(time.RFC3339)})
	}
	cw.Flush()
	if truncated {
		w.Header().Set("X-Vigil-Truncated", "true")
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="incidents.csv"`)
	_, err := b.WriteTo(w)
	return err
}

// csvSafe stops spreadsheet formula injection: a cell starting with = + -
// @ is prefixed with an apostrophe.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (h *Handlers) apiStats(w http.ResponseWriter, r *http.Request) error {
	st, err := h.statsFor(r)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, st)
}

// statsFor computes the statistics of the incidents the caller may read
// that match the request's filter (the page and the API share it).
func (h *Handlers) statsFor(r *http.Request) (*Stats, error) {
	p := principal(r)
	if len(p.OrgsWhere(auth.IncidentRead)) == 0 {
		return nil, web.ErrForbidden
	}
	f, err := parseFilter(r)
	if err != nil {
		return nil, err
	}
	return h.S.Stats(r.Context(), ScopeOf(p), f, h.S.Now())
}

// ---- types and saved filters ----

// orgParam is the organisation a request is about: ?org_id= or the one
// the caller works in.
func orgParam(r *http.Request, fromBody string) string {
	if fromBody != "" {
		return fromBody
	}
	if o := r.URL.Query().Get("org_id"); o != "" {
		return o
	}
	return principal(r).OrgID
}

func (h *Handlers) apiTypes(w http.ResponseWriter, r *http.Request) error {
	org := orgParam(r, "")
	if err := need(principal(r), auth.IncidentRead, org); err != nil {
		return err
	}
	ts, err := h.S.Types(r.Context(), nil, org)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(ts, len(ts)+1, 0))
}

func (h *Handlers) apiSaveType(w http.ResponseWriter, r *http.Request) error {
	var in typeInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	org := orgParam(r, in.OrgID)
	if err := need(principal(r), auth.IncidentConfig, org); err != nil {
		return err
	}
	t := &Type{Code: r.PathValue("code"), Label: in.Label, Fields: in.Fields, Active: in.Active == nil || *in.Active}
	if err := h.S.SaveType(r.Context(), org, t, principal(r)); err != nil {
		return err
	}
	return web.JSON(w, 200, t)
}

func (h *Handlers) apiFilters(w http.ResponseWriter, r *http.Request) error {
	org := orgParam(r, "")
	if err := need(principal(r), auth.IncidentRead, org); err != nil {
		return err
	}
	fs, err := h.S.Filters(r.Context(), org, principal(r))
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(fs, len(fs)+1, 0))
}

func (h *Handlers) apiSaveFilter(w http.ResponseWriter, r *http.Request) error {
	var in filterInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	org := orgParam(r, in.OrgID)
	if err := need(principal(r), auth.IncidentRead, org); err != nil {
		return err
	}
	f := &SavedFilter{Name: in.Name, Query: in.Query}
	if err := h.S.SaveFilter(r.Context(), org, f, principal(r)); err != nil {
		return err
	}
	return web.JSON(w, 201, f)
}

// ---- daily activity reports ----

// darSite loads the site named by id within the caller's scope and checks action.
func (h *Handlers) darSite(r *http.Request, id string, action auth.Action) (*org.Site, error) {
	p := principal(r)
	if id == "" {
		return nil, web.BadField("site_id", "is required")
	}
	site, err := h.S.Orgs.Site(r.Context(), p.OrgsWhere(auth.SiteRead), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, web.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return site, need(p, action, site.OrgID)
}

// loadDAR compiles a DAR for the caller. Client users (no IncidentReadAll)
// see a DAR only once it is approved.
func (h *Handlers) loadDAR(r *http.Request, siteID, day string, action auth.Action) (*DAR, error) {
	site, err := h.darSite(r, siteID, action)
	if err != nil {
		return nil, err
	}
	if _, err := ParseDay(day); err != nil {
		return nil, err
	}
	d, err := h.S.DAR(r.Context(), site, day, ScopeOf(principal(r)))
	if err != nil {
		return nil, err
	}
	if !auth.Can(principal(r), auth.IncidentReadAll, site.OrgID) && d.Status == "open" {
		d.Entries, d.Incidents, d.Available = []*DAREntry{}, []*Incident{}, false
	}
	return d, nil
}

func (h *Handlers) apiDAR(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	d, err := h.loadDAR(r, q.Get("site_id"), q.Get("date"), auth.IncidentRead)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, d)
}

func (h *Handlers) apiDAREntry(w http.ResponseWriter, r *http.Request) error {
	var in darEntryInput
	var photo *Attachment
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		u, done, err := readUpload(w, r)
		if err != nil {
			return err
		}
		defer done()
		in = darEntryInput{SiteID: r.FormValue("site_id"), Kind: r.FormValue("kind"), Text: r.FormValue("text"), IncidentID: r.FormValue("incident_id")}
		if at := r.FormValue("at"); at != "" {
			var perr error
			if in.At, perr = time.Parse(time.RFC3339, at); perr != nil {
				return web.BadField("at", "must be an RFC 3339 time")
			}
		}
		site, err := h.darSite(r, in.SiteID, auth.IncidentWrite)
		if err != nil {
			return err
		}
		u.PhotoOnly = true
		if photo, err = h.S.Prepare(r.Context(), site.OrgID, u); err != nil {
			return err
		}
	} else if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	site, err := h.darSite(r, in.SiteID, auth.IncidentWrite)
	if err != nil {
		if errors.Is(err, web.ErrNotFound) {
			return web.BadField("site_id", "is not a known site")
		}
		return err
	}
	e := &DAREntry{At: in.At, Kind: in.Kind, Text: in.Text, IncidentID: in.IncidentID}
	if err := h.S.AddDAREntry(r.Context(), site, e, photo, principal(r)); err != nil {
		return err
	}
	return web.JSON(w, 201, e)
}

func (h *Handlers) apiDARStatus(status string) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in darInput
		if err := web.DecodeJSON(w, r, &in); err != nil {
			return err
		}
		d, err := h.loadDAR(r, in.SiteID, in.Date, auth.IncidentReview)
		if err != nil {
			return err
		}
		if err := h.S.SetDARStatus(r.Context(), d, status, principal(r)); err != nil {
			return err
		}
		return web.JSON(w, 200, d)
	}
}

func (h *Handlers) darPDF(r *http.Request, d *DAR) ([]byte, error) {
	o, err := h.S.Orgs.Org(r.Context(), []string{d.OrgID}, d.OrgID)
	if err != nil {
		return nil, err
	}
	return RenderPDF(func(w io.Writer) error { return h.S.DARPDF(r.Context(), d, o.Name, actorName(principal(r)), w) })
}

func (h *Handlers) sendDAR(r *http.Request, d *DAR, to []string, msg string) (*Notification, error) {
	if d.Status == "open" {
		return nil, web.Errorf(http.StatusConflict, "not_approved", "approve the daily report before sending it")
	}
	data, err := h.darPDF(r, d)
	if err != nil {
		return nil, err
	}
	body := strings.TrimSpace(msg + fmt.Sprintf("\n\nDaily activity report for %s, %s: %d entries, %d incidents. The report is attached.", d.SiteName, d.Day, len(d.Entries), len(d.Incidents)))
	n, err := h.S.Notify(r.Context(), d.OrgID, "dar", d.SiteID+"/"+d.Day, to, "Daily activity report "+d.SiteName+" "+d.Day, body,
		&MailFile{Name: "DAR-" + d.Day + ".pdf", ContentType: "application/pdf", Data: data}, principal(r))
	if err != nil {
		return nil, err
	}
	if n.Status != "failed" {
		if err := h.S.SetDARStatus(r.Context(), d, "sent", principal(r)); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func (h *Handlers) apiDARSend(w http.ResponseWriter, r *http.Request) error {
	var in darInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	d, err := h.loadDAR(r, in.SiteID, in.Date, auth.IncidentReview)
	if err != nil {
		return err
	}
	n, err := h.sendDAR(r, d, in.Recipients, in.Message)
	if err != nil {
		return err
	}
	return web.JSON(w, 201, n)
}

func (h *Handlers) apiDARPDF(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	d, err := h.loadDAR(r, q.Get("site_id"), q.Get("date"), auth.IncidentRead)
	if err != nil {
		return err
	}
	if !d.Available {
		return web.ErrNotFound
	}
	data, err := h.darPDF(r, d)
	if err != nil {
		return err
	}
	sendPDF(w, "DAR-"+d.SiteName+"-"+d.Day+".pdf", data)
	return nil
}

func (h *Handlers) apiDARAttachment(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	a, siteID, day, err := h.S.DARAttachment(r.Context(), p.OrgsWhere(auth.IncidentRead), r.PathValue("attachment_id"))
	if err != nil {
		return err
	}
	if !auth.Can(p, auth.IncidentReadAll, a.OrgID) {
		site, err := h.darSite(r, siteID, auth.IncidentRead)
		if err != nil {
			return err
		}
		d, err := h.S.DAR(r.Context(), site, day, ScopeOf(p))
		if err != nil {
			return err
		}
		if d.Status == "open" {
			return web.ErrNotFound
		}
	}
	return h.serveAttachment(w, r, a)
}
