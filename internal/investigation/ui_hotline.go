package investigation

import (
	"errors"
	"net/http"

	"vigil/internal/web"
)

// The public hotline pages work without JavaScript and set no cookie: the
// reporter's return access is a short-lived token in a hidden form field,
// and the server log omits their address (see web.Server's observe). Pages
// render directly instead of redirecting with a flash message, because
// flash messages are cookies.

type hotlinePage struct {
	web.Page
	Slug       string
	OrgName    string
	Intro      string
	Categories []Choice
	In         HotlineInput
	Receipt    *Receipt
	View       *ReporterView
	Token      string
	Error      string
	AckDays    int
	FbDays     int
}

func (h *Handlers) hotlinePage(w http.ResponseWriter, r *http.Request, title string) (hotlinePage, error) {
	o, st, err := h.S.HotlineOrg(r.Context(), r.PathValue("slug"))
	if err != nil {
		return hotlinePage{}, hotlineErr(err)
	}
	pg := hotlinePage{Page: web.Page{Title: title, Path: r.URL.Path, Timezone: o.Timezone}, Slug: o.Slug, OrgName: o.Name,
		Intro: st.HotlineIntro, Categories: HotlineCategories, AckDays: st.AckDays, FbDays: st.FeedbackDays}
	w.Header().Set("Referrer-Policy", "no-referrer")
	return pg, nil
}

func (h *Handlers) hotlineForm(w http.ResponseWriter, r *http.Request) error {
	pg, err := h.hotlinePage(w, r, "Report a concern")
	if err != nil {
		return err
	}
	return h.Web.Render(w, 200, "hotline_form", pg)
}

func (h *Handlers) hotlineSubmit(w http.ResponseWriter, r *http.Request) error {
	pg, err := h.hotlinePage(w, r, "Report a concern")
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	o, st, err := h.S.HotlineOrg(r.Context(), pg.Slug)
	if err != nil {
		return hotlineErr(err)
	}
	pg.In = HotlineInput{Category: r.PostFormValue("category"), Text: r.PostFormValue("text"), Contact: r.PostFormValue("contact")}
	rc, _, err := h.S.Report(r.Context(), o.ID, st, pg.In, web.ClientIP(r))
	if fe, ok := web.FormErrors(err); ok {
		pg.Errors = fe
		return h.Web.Render(w, 400, "hotline_form", pg)
	}
	if errors.Is(err, ErrThrottled) {
		pg.Error = ErrThrottled.Error()
		return h.Web.Render(w, http.StatusTooManyRequests, "hotline_form", pg)
	}
	if err != nil {
		return err
	}
	pg.Title, pg.Receipt = "Report received", rc
	return h.Web.Render(w, 201, "hotline_receipt", pg)
}

func (h *Handlers) hotlineStatusForm(w http.ResponseWriter, r *http.Request) error {
	pg, err := h.hotlinePage(w, r, "Check your report")
	if err != nil {
		return err
	}
	return h.Web.Render(w, 200, "hotline_status", pg)
}

func (h *Handlers) hotlineStatus(w http.ResponseWriter, r *http.Request) error {
	pg, err := h.hotlinePage(w, r, "Check your report")
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	o, _, err := h.S.HotlineOrg(r.Context(), pg.Slug)
	if err != nil {
		return hotlineErr(err)
	}
	tok, _, err := h.S.Access(r.Context(), o.ID, r.PostFormValue("case_key"), r.PostFormValue("password"), web.ClientIP(r))
	if err != nil {
		return h.hotlineRefused(w, pg, err)
	}
	return h.renderReporter(w, r, pg, o.ID, tok, 200)
}

func (h *Handlers) hotlineRefused(w http.ResponseWriter, pg hotlinePage, err error) error {
	status := http.StatusUnauthorized
	switch {
	case errors.Is(err, ErrThrottled), errors.Is(err, ErrLocked):
		status = http.StatusTooManyRequests
	case errors.Is(err, ErrBadKey), errors.Is(err, ErrExpired):
	default:
		return err
	}
	pg.Error = err.Error()
	return h.Web.Render(w, status, "hotline_status", pg)
}

func (h *Handlers) renderReporter(w http.ResponseWriter, r *http.Request, pg hotlinePage, orgID, tok string, status int) error {
	v, _, err := h.S.Reporter(r.Context(), orgID, tok)
	if err != nil {
		return h.hotlineRefused(w, pg, err)
	}
	pg.Title, pg.View, pg.Token = "Your report "+v.Ref, v, tok
	return h.Web.Render(w, status, "hotline_view", pg)
}

func (h *Handlers) hotlineReply(w http.ResponseWriter, r *http.Request) error {
	pg, err := h.hotlinePage(w, r, "Your report")
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	o, _, err := h.S.HotlineOrg(r.Context(), pg.Slug)
	if err != nil {
		return hotlineErr(err)
	}
	tok := r.PostFormValue("t")
	_, c, err := h.S.Reporter(r.Context(), o.ID, tok)
	if err != nil {
		return h.hotlineRefused(w, pg, err)
	}
	if err := h.S.ReporterMessage(r.Context(), c, r.PostFormValue("text")); err != nil {
		if fe, ok := web.FormErrors(err); ok {
			pg.Errors = fe
			return h.renderReporter(w, r, pg, o.ID, tok, 400)
		}
		return err
	}
	return h.renderReporter(w, r, pg, o.ID, tok, 200)
}
