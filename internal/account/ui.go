package account

import (
	"embed"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"vigil/internal/audit"
	"vigil/internal/auth"
	"vigil/internal/web"
)

//go:embed templates/*.html
var Templates embed.FS

// ---- sign in / out ----

type loginPage struct {
	web.Page
	Email, Next string
	Error       string
	NeedTOTP    bool
}

func (h *Handlers) loginPage(w http.ResponseWriter, r *http.Request) error {
	if principal(r) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	return h.Web.Render(w, 200, "login", loginPage{Page: h.Web.NewPage(w, r, "Sign in", ""), Next: r.URL.Query().Get("next")})
}

func (h *Handlers) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	in := auth.LoginInput{Email: f.Get("email"), Password: f.Get("password"), TOTP: f.Get("totp"), Remember: f.Get("remember") == "on",
		IP: web.ClientIP(r), UserAgent: r.UserAgent()}
	tok, _, err := h.Auth.Login(r.Context(), in)
	if e := loginError(err); e != nil {
		pg := loginPage{Page: h.Web.NewPage(w, r, "Sign in", ""), Email: in.Email, Next: f.Get("next"), Error: e.Message,
			NeedTOTP: err == auth.ErrTOTPRequired || err == auth.ErrBadTOTP || in.TOTP != ""}
		return h.Web.Render(w, e.Status, "login", pg)
	}
	if err != nil {
		return err
	}
	h.Web.SetSession(w, tok, in.Remember)
	http.Redirect(w, r, safeNext(f.Get("next")), http.StatusSeeOther)
	return nil
}

func (h *Handlers) logout(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p.SessionHash != "" {
		if err := h.Auth.Logout(r.Context(), p); err != nil {
			return err
		}
	}
	h.Web.ClearSession(w)
	return h.Web.Redirect(w, r, "/login", "You have signed out.")
}

func (h *Handlers) switchOrg(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	if err := h.Auth.SwitchOrg(r.Context(), principal(r), r.PostFormValue("org_id")); err != nil {
		return err
	}
	to := "/"
	if ref, err := http.NewRequest("GET", r.Referer(), nil); err == nil && ref.URL.Host == r.Host {
		to = safeNext(ref.URL.Path)
	}
	return h.Web.Redirect(w, r, to, "")
}

// ---- overview ----

type homePage struct {
	web.Page
	Stats  []Stat
	Recent []audit.Row
}

func (h *Handlers) home(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var stats []Stat
	if h.Stats != nil {
		stats = h.Stats(r.Context(), p)
	}
	var recent []audit.Row
	if auth.Can(p, auth.AuditRead, p.OrgID) {
		var err error
		if recent, err = audit.List(r.Context(), h.DB, audit.Filter{OrgIDs: []string{p.OrgID}, Limit: 10}); err != nil {
			return err
		}
	}
	return h.Web.Render(w, 200, "home", homePage{h.Web.NewPage(w, r, "Overview", "home"), stats, recent})
}

// ---- own account ----

type profilePage struct {
	web.Page
	Tokens   []auth.Token
	NewToken string
}

func (h *Handlers) renderProfile(w http.ResponseWriter, r *http.Request, status int, errs map[string]string, newToken string) error {
	ts, err := h.Auth.Tokens(r.Context(), principal(r).UserID)
	if err != nil {
		return err
	}
	pg := h.Web.NewPage(w, r, "Your account", "")
	pg.Errors = errs
	return h.Web.Render(w, status, "profile", profilePage{pg, ts, newToken})
}

func (h *Handlers) profile(w http.ResponseWriter, r *http.Request) error {
	return h.renderProfile(w, r, 200, nil, "")
}

func (h *Handlers) profileSave(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	err := h.Auth.UpdateProfile(r.Context(), principal(r), r.PostFormValue("name"))
	if fe, ok := web.FormErrors(err); ok {
		return h.renderProfile(w, r, 400, fe, "")
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/account", "Profile saved.")
}

func (h *Handlers) tokenCreate(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	p := principal(r)
	ttl, err := ParseTTL(r.PostFormValue("expires"))
	if err != nil {
		return h.renderProfile(w, r, 400, map[string]string{"expires": err.Error()}, "")
	}
	secret, _, err := h.Auth.CreateToken(r.Context(), p.UserID, r.PostFormValue("token_name"), ttl, p)
	if fe, ok := web.FormErrors(err); ok {
		return h.renderProfile(w, r, 400, prefixed("token_", fe), "")
	}
	if err != nil {
		return err
	}
	return h.renderProfile(w, r, 200, nil, secret)
}

func prefixed(p string, m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[p+k] = v
	}
	return out
}

func (h *Handlers) tokenRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := h.Auth.RevokeToken(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/account", "Token revoked.")
}

type passwordPage struct {
	web.Page
	Forced bool
}

func (h *Handlers) passwordPage(w http.ResponseWriter, r *http.Request) error {
	return h.Web.Render(w, 200, "password", passwordPage{h.Web.NewPage(w, r, "Change password", ""), principal(r).MustChangePassword})
}

func (h *Handlers) passwordSave(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	var err error
	if f.Get("new_password") != f.Get("confirm_password") {
		err = web.BadField("confirm_password", "does not match the new password")
	} else {
		err = h.changePassword(r, passwordInput{Current: f.Get("current_password"), New: f.Get("new_password")})
	}
	if fe, ok := web.FormErrors(err); ok {
		pg := h.Web.NewPage(w, r, "Change password", "")
		pg.Errors = fe
		return h.Web.Render(w, 400, "password", passwordPage{pg, principal(r).MustChangePassword})
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/account", "Password changed. Your other sessions were signed out.")
}

type totpPage struct {
	web.Page
	Enrol *auth.TOTPEnrolment
	Codes []string
}

// QR is the enrolment QR code as a data: URL that html/template lets
// through (it is generated here, never user input).
func (p totpPage) QR() template.URL { return template.URL(p.Enrol.QR) }

func (h *Handlers) totpBegin(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p.TOTPEnabled {
		return h.Web.Redirect(w, r, "/account", "Two-factor authentication is already on.")
	}
	en, err := h.Auth.BeginTOTP(p)
	if err != nil {
		return err
	}
	return h.Web.Render(w, 200, "totp", totpPage{Page: h.Web.NewPage(w, r, "Set up two-factor authentication", ""), Enrol: en})
}

func (h *Handlers) totpConfirm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	p := principal(r)
	secret := strings.TrimSpace(r.PostFormValue("secret"))
	codes, err := h.Auth.ConfirmTOTP(r.Context(), p, secret, r.PostFormValue("code"))
	if fe, ok := web.FormErrors(err); ok {
		en, eerr := h.Auth.EnrolmentFor(p, secret)
		if eerr != nil {
			return web.BadField("secret", "is malformed; start again")
		}
		pg := h.Web.NewPage(w, r, "Set up two-factor authentication", "")
		pg.Errors = fe
		return h.Web.Render(w, 400, "totp", totpPage{Page: pg, Enrol: en})
	}
	if err != nil {
		return err
	}
	return h.Web.Render(w, 200, "totp", totpPage{Page: h.Web.NewPage(w, r, "Recovery codes", ""), Codes: codes})
}

func (h *Handlers) totpDisable(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	err := h.Auth.DisableTOTP(r.Context(), principal(r), r.PostFormValue("password"))
	if fe, ok := web.FormErrors(err); ok {
		return h.renderProfile(w, r, 400, prefixed("totp_", fe), "")
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/account", "Two-factor authentication turned off.")
}

// ---- users ----

type userListPage struct {
	web.Page
	Users     []*auth.User
	OrgNames  map[string]string
	CanInvite bool
}

func (h *Handlers) orgNames(r *http.Request) map[string]string {
	p := principal(r)
	ids := make([]string, 0, len(p.Access))
	for id := range p.Access {
		ids = append(ids, id)
	}
	if h.Web.OrgNames == nil {
		return map[string]string{}
	}
	return h.Web.OrgNames(r.Context(), ids)
}

func (h *Handlers) userList(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if len(p.OrgsWhere(auth.UserRead)) == 0 {
		return web.ErrForbidden
	}
	us, err := h.listUsers(r, 500, 0)
	if err != nil {
		return err
	}
	return h.Web.Render(w, 200, "user_list", userListPage{h.Web.NewPage(w, r, "Users", "users"), us, h.orgNames(r), len(p.OrgsWhere(auth.UserManage)) > 0})
}

type invitePage struct {
	web.Page
	Orgs  []web.OrgOption
	Roles []auth.Role
	Email string
	Role  string
	Link  string
}

func (h *Handlers) manageableOrgs(r *http.Request) []web.OrgOption {
	p := principal(r)
	names := h.orgNames(r)
	var out []web.OrgOption
	for _, id := range p.OrgsWhere(auth.UserManage) {
		out = append(out, web.OrgOption{ID: id, Name: names[id], Current: id == p.OrgID})
	}
	return out
}

func (h *Handlers) invitePage(w http.ResponseWriter, r *http.Request) error {
	orgs := h.manageableOrgs(r)
	if len(orgs) == 0 {
		return web.ErrForbidden
	}
	return h.Web.Render(w, 200, "invite", invitePage{Page: h.Web.NewPage(w, r, "Invite a user", "users"), Orgs: orgs, Roles: auth.Roles, Role: "officer"})
}

func (h *Handlers) inviteSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	out, err := h.invite(r, inviteInput{Email: f.Get("email"), OrgID: f.Get("org_id"), Role: f.Get("role")})
	pg := invitePage{Page: h.Web.NewPage(w, r, "Invite a user", "users"), Orgs: h.manageableOrgs(r), Roles: auth.Roles, Email: f.Get("email"), Role: f.Get("role")}
	if fe, ok := web.FormErrors(err); ok {
		pg.Errors = fe
		return h.Web.Render(w, 400, "invite", pg)
	}
	if err != nil {
		return err
	}
	pg.Link = out.URL
	pg.Flash = "Invitation created for " + out.Invitation.Email + ". Send them this link; it works once, for 7 days."
	return h.Web.Render(w, 200, "invite", pg)
}

type userPage struct {
	web.Page
	User      *auth.User
	OrgNames  map[string]string
	Roles     []auth.Role
	Addable   []web.OrgOption
	CanManage map[string]bool
	CanToggle bool
}

func (h *Handlers) userShow(w http.ResponseWriter, r *http.Request) error {
	u, err := h.visibleUser(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.renderUser(w, r, u, 200, nil)
}

func (h *Handlers) renderUser(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errs map[string]string) error {
	p := principal(r)
	cm := map[string]bool{}
	for _, m := range u.Memberships {
		cm[m.OrgID] = auth.Can(p, auth.UserManage, m.OrgID) && u.ID != p.UserID
	}
	var addable []web.OrgOption
	for _, o := range h.manageableOrgs(r) {
		if _, member := membershipRole(u, o.ID); !member {
			addable = append(addable, o)
		}
	}
	pg := h.Web.NewPage(w, r, u.Name, "users")
	pg.Errors = errs
	return h.Web.Render(w, status, "user_show", userPage{pg, u, h.orgNames(r), auth.Roles, addable, cm,
		u.ID != p.UserID && len(p.OrgsWhere(auth.UserManage)) > 0})
}

func (h *Handlers) userRole(w http.ResponseWriter, r *http.Request) error {
	u, err := h.visibleUser(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	err = h.setRole(r, u, r.PostFormValue("org_id"), auth.Role(r.PostFormValue("role")))
	if fe, ok := web.FormErrors(err); ok {
		return h.renderUser(w, r, u, 400, fe)
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/users/"+u.ID, "Role saved.")
}

func (h *Handlers) userRemove(w http.ResponseWriter, r *http.Request) error {
	u, err := h.visibleUser(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	err = h.removeMember(r, u, r.PostFormValue("org_id"))
	if fe, ok := web.FormErrors(err); ok {
		return h.renderUser(w, r, u, 400, fe)
	}
	if err != nil {
		return err
	}
	if _, err := h.visibleUser(r, u.ID); err != nil {
		return h.Web.Redirect(w, r, "/users", u.Name+" removed.")
	}
	return h.Web.Redirect(w, r, "/users/"+u.ID, "Membership removed.")
}

func (h *Handlers) userToggle(w http.ResponseWriter, r *http.Request, disabled bool) error {
	u, err := h.visibleUser(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := h.setDisabled(r, u, disabled); err != nil {
		return err
	}
	msg := u.Name + " can sign in again."
	if disabled {
		msg = u.Name + " is disabled; their sessions and API tokens were ended."
	}
	return h.Web.Redirect(w, r, "/users/"+u.ID, msg)
}

func (h *Handlers) userDisable(w http.ResponseWriter, r *http.Request) error {
	return h.userToggle(w, r, true)
}
func (h *Handlers) userEnable(w http.ResponseWriter, r *http.Request) error {
	return h.userToggle(w, r, false)
}

type acceptPage struct {
	web.Page
	Invite  *auth.Invitation
	OrgName string
	Name    string
	Invalid bool
}

func (h *Handlers) acceptPage(w http.ResponseWriter, r *http.Request) error {
	inv, err := h.Auth.InvitationBySecret(r.Context(), r.PathValue("token"))
	pg := acceptPage{Page: h.Web.NewPage(w, r, "Join vigil", ""), Invite: inv, Invalid: err != nil}
	if inv != nil && h.Web.OrgNames != nil {
		pg.OrgName = h.Web.OrgNames(r.Context(), []string{inv.OrgID})[inv.OrgID]
	}
	status := 200
	if err != nil {
		status = http.StatusNotFound
	}
	return h.Web.Render(w, status, "accept", pg)
}

func (h *Handlers) acceptSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	token := r.PathValue("token")
	inv, err := h.Auth.InvitationBySecret(r.Context(), token)
	if err != nil {
		return h.Web.Render(w, http.StatusNotFound, "accept", acceptPage{Page: h.Web.NewPage(w, r, "Join vigil", ""), Invalid: true})
	}
	if f.Get("password") != f.Get("confirm_password") {
		err = web.BadField("confirm_password", "does not match the password")
	} else {
		_, err = h.Auth.AcceptInvite(r.Context(), token, f.Get("name"), f.Get("password"))
	}
	if fe, ok := web.FormErrors(err); ok {
		pg := acceptPage{Page: h.Web.NewPage(w, r, "Join vigil", ""), Invite: inv, Name: f.Get("name")}
		pg.Errors = fe
		return h.Web.Render(w, 400, "accept", pg)
	}
	if err != nil {
		return err
	}
	return h.Web.Redirect(w, r, "/login", "Your account is ready. Sign in with "+inv.Email+".")
}

// ---- audit ----

type auditPage struct {
	web.Page
	Rows     []audit.Row
	OrgNames map[string]string
	Export   string
	Pager    struct{ Prev, Next string }
}

func (h *Handlers) auditPage(w http.ResponseWriter, r *http.Request) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	_, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	const limit = 100
	f.Limit, f.Offset = limit+1, offset
	rows, err := audit.List(r.Context(), h.DB, f)
	if err != nil {
		return err
	}
	pg := auditPage{Page: h.Web.NewPage(w, r, "Audit log", "audit"), OrgNames: h.orgNames(r)}
	q := r.URL.Query()
	q.Del("offset")
	pg.Export = "/api/v1/audit?" + q.Encode()
	if len(rows) > limit {
		rows = rows[:limit]
		q.Set("offset", itoa(offset+limit))
		pg.Pager.Next = "?" + q.Encode()
	}
	if offset > 0 {
		q.Set("offset", itoa(max(0, offset-limit)))
		pg.Pager.Prev = "?" + q.Encode()
	}
	pg.Rows = rows
	return h.Web.Render(w, 200, "audit", pg)
}

func itoa(n int) string { return strconv.Itoa(n) }
