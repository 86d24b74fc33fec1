package account

import (
	"encoding/csv"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"vigil/internal/audit"
	"vigil/internal/auth"
	"vigil/internal/store"
	"vigil/internal/web"
)

type loginInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	TOTP     string `json:"totp,omitempty"`
	Remember bool   `json:"remember,omitempty"`
}

type meOutput struct {
	ID                 string            `json:"id"`
	Email              string            `json:"email"`
	Name               string            `json:"name"`
	OrgID              string            `json:"org_id"`
	MustChangePassword bool              `json:"must_change_password"`
	TOTPEnabled        bool              `json:"totp_enabled"`
	Roles              map[string]string `json:"roles"`
}

func me(p *auth.Principal) meOutput {
	roles := map[string]string{}
	for org, r := range p.Access {
		roles[org] = string(r)
	}
	return meOutput{p.UserID, p.Email, p.Name, p.OrgID, p.MustChangePassword, p.TOTPEnabled, roles}
}

func (h *Handlers) apiLogin(w http.ResponseWriter, r *http.Request) error {
	var in loginInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Email == "" {
		return web.BadField("email", "is required")
	}
	if in.Password == "" {
		return web.BadField("password", "is required")
	}
	tok, p, err := h.Auth.Login(r.Context(), auth.LoginInput{Email: in.Email, Password: in.Password, TOTP: in.TOTP, Remember: in.Remember,
		IP: web.ClientIP(r), UserAgent: r.UserAgent()})
	if e := loginError(err); e != nil {
		return e
	}
	if err != nil {
		return err
	}
	h.Web.SetSession(w, tok, in.Remember)
	return web.JSON(w, 200, me(p))
}

func (h *Handlers) apiLogout(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p.SessionHash == "" {
		return web.Errorf(http.StatusBadRequest, "not_session", "API tokens are revoked with DELETE /me/tokens/{id}, not logged out")
	}
	if err := h.Auth.Logout(r.Context(), p); err != nil {
		return err
	}
	h.Web.ClearSession(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) apiMe(w http.ResponseWriter, r *http.Request) error {
	return web.JSON(w, 200, me(principal(r)))
}

type profileInput struct {
	Name string `json:"name"`
}

func (h *Handlers) apiUpdateMe(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	in := profileInput{Name: p.Name}
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := h.Auth.UpdateProfile(r.Context(), p, in.Name); err != nil {
		return err
	}
	p.Name = strings.TrimSpace(in.Name)
	return web.JSON(w, 200, me(p))
}

type passwordInput struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
}

// changePassword checks the current password, then sets the new one and
// ends the user's other sessions.
func (h *Handlers) changePassword(r *http.Request, in passwordInput) error {
	p := principal(r)
	if in.Current == "" {
		return web.BadField("current_password", "is required")
	}
	if _, err := h.Auth.Verify(r.Context(), p.Email, in.Current); err != nil {
		return web.BadField("current_password", "is wrong")
	}
	if in.New == in.Current {
		return web.BadField("new_password", "must differ from the current password")
	}
	if err := auth.ValidatePassword(in.New); err != nil {
		return web.BadField("new_password", err.Error())
	}
	return h.Auth.SetPassword(r.Context(), p.UserID, in.New, false, p.SessionHash, p, p.OrgID)
}

func (h *Handlers) apiPassword(w http.ResponseWriter, r *http.Request) error {
	var in passwordInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := h.changePassword(r, in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) apiTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := h.Auth.Tokens(r.Context(), principal(r).UserID)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(ts, len(ts)+1, 0))
}

type tokenInput struct {
	Name    string `json:"name"`
	Expires string `json:"expires,omitempty"` // e.g. "90d", "12h"; empty = never
}

type tokenOutput struct {
	Token  string      `json:"token"`
	Detail *auth.Token `json:"detail"`
}

// ParseTTL reads "90d", "12h", "30m" (or empty for no expiry).
func ParseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 3650 {
			return 0, errors.New("must be like 90d, 12h or 30m")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("must be like 90d, 12h or 30m")
	}
	return d, nil
}

func (h *Handlers) apiCreateToken(w http.ResponseWriter, r *http.Request) error {
	var in tokenInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	ttl, err := ParseTTL(in.Expires)
	if err != nil {
		return web.BadField("expires", err.Error())
	}
	p := principal(r)
	secret, t, err := h.Auth.CreateToken(r.Context(), p.UserID, in.Name, ttl, p)
	if err != nil {
		return err
	}
	return web.JSON(w, 201, tokenOutput{secret, t})
}

func (h *Handlers) apiRevokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := h.Auth.RevokeToken(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- users ----

// visibleUser loads a user that shares an organisation where the caller may
// read users; anyone else is "not found".
func (h *Handlers) visibleUser(r *http.Request, id string) (*auth.User, error) {
	p := principal(r)
	u, err := h.Auth.UserByID(r.Context(), id)
	if err != nil {
		return nil, err
	}
	ms, err := h.Auth.Memberships(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	readable := p.OrgsWhere(auth.UserRead)
	shared := false
	for _, m := range ms {
		shared = shared || p.Sees(m.OrgID)
		if slices.Contains(readable, m.OrgID) {
			u.Memberships = append(u.Memberships, m)
		}
	}
	switch {
	case !shared:
		return nil, web.ErrNotFound
	case len(u.Memberships) == 0:
		return nil, web.ErrForbidden // a colleague, but this role may not look at users
	}
	return u, nil
}

func (h *Handlers) listUsers(r *http.Request, limit, offset int) ([]*auth.User, error) {
	p := principal(r)
	orgs := p.OrgsWhere(auth.UserRead)
	if o := r.URL.Query().Get("org_id"); o != "" {
		if !slices.Contains(orgs, o) {
			return nil, nil
		}
		orgs = []string{o}
	}
	return h.Auth.ListUsers(r.Context(), orgs, limit, offset)
}

func (h *Handlers) apiUsers(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	if len(principal(r).OrgsWhere(auth.UserRead)) == 0 {
		return web.ErrForbidden
	}
	us, err := h.listUsers(r, limit+1, offset)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(us, limit, offset))
}

type createUserInput struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
	OrgID    string `json:"org_id"`
	Role     string `json:"role"`
}

// mayAssign checks that p can give role in org.
func mayAssign(p *auth.Principal, org string, role auth.Role) error {
	if !p.Sees(org) {
		return web.BadField("org_id", "is not a known organisation")
	}
	if !auth.Can(p, auth.UserManage, org) {
		return web.ErrForbidden
	}
	if !role.Valid() {
		return web.BadField("role", "is not a known role")
	}
	if role == auth.Owner && p.Role(org) != auth.Owner {
		return web.BadField("role", "only an owner can make someone an owner")
	}
	return nil
}

func (h *Handlers) apiCreateUser(w http.ResponseWriter, r *http.Request) error {
	var in createUserInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	p := principal(r)
	if in.OrgID == "" {
		in.OrgID = p.OrgID
	}
	if err := mayAssign(p, in.OrgID, auth.Role(in.Role)); err != nil {
		return err
	}
	var u *auth.User
	err := h.DB.Write(r.Context(), func(tx *store.Tx) error {
		var err error
		u, err = h.Auth.CreateUser(r.Context(), tx, auth.NewUser{Email: in.Email, Name: in.Name, Password: in.Password, OrgID: in.OrgID,
			Role: auth.Role(in.Role), MustChangePassword: true}, p)
		return err
	})
	if err != nil {
		return err
	}
	return web.JSON(w, 201, u)
}

func (h *Handlers) apiUser(w http.ResponseWriter, r *http.Request) error {
	u, err := h.visibleUser(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	return web.JSON(w, 200, u)
}

type userPatch struct {
	Disabled *bool `json:"disabled"`
}

// setDisabled requires user.manage in every organisation the user belongs
// to, so a client's admin cannot lock out the operator's staff.
func (h *Handlers) setDisabled(r *http.Request, u *auth.User, disabled bool) error {
	p := principal(r)
	if u.ID == p.UserID {
		return web.Errorf(http.StatusBadRequest, "self", "you cannot disable your own account")
	}
	all, err := h.Auth.Memberships(r.Context(), u.ID)
	if err != nil {
		return err
	}
	for _, m := range all {
		if !auth.Can(p, auth.UserManage, m.OrgID) {
			return web.ErrForbidden
		}
	}
	return h.Auth.SetDisabled(r.Context(), u.ID, disabled, p, u.Memberships[0].OrgID)
}

func (h *Handlers) apiUpdateUser(w http.ResponseWriter, r *http.Request) error {
	u, err := h.visibleUser(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	var in userPatch
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Disabled == nil {
		return web.BadField("disabled", "is required")
	}
	if err := h.setDisabled(r, u, *in.Disabled); err != nil {
		return err
	}
	u.Disabled = *in.Disabled
	return web.JSON(w, 200, u)
}

type roleInput struct {
	Role string `json:"role"`
}

func (h *Handlers) setRole(r *http.Request, u *auth.User, org string, role auth.Role) error {
	p := principal(r)
	if err := mayAssign(p, org, role); err != nil {
		return err
	}
	if u.ID == p.UserID {
		return web.Errorf(http.StatusBadRequest, "self", "you cannot change your own role")
	}
	if cur, ok := membershipRole(u, org); ok && cur == auth.Owner && p.Role(org) != auth.Owner {
		return web.ErrForbidden
	}
	return h.Auth.SetMembership(r.Context(), u.ID, org, role, p)
}

func membershipRole(u *auth.User, org string) (auth.Role, bool) {
	for _, m := range u.Memberships {
		if m.OrgID == org {
			return m.Role, true
		}
	}
	return "", false
}

func (h *Handlers) apiSetRole(w http.ResponseWriter, r *http.Request) error {
	u, err := h.visibleUser(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	var in roleInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := h.setRole(r, u, r.PathValue("org_id"), auth.Role(in.Role)); err != nil {
		return err
	}
	u, err = h.visibleUser(r, u.ID)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, u)
}

func (h *Handlers) removeMember(r *http.Request, u *auth.User, org string) error {
	p := principal(r)
	if !p.Sees(org) {
		return web.ErrNotFound
	}
	if !auth.Can(p, auth.UserManage, org) {
		return web.ErrForbidden
	}
	if cur, ok := membershipRole(u, org); !ok {
		return web.ErrNotFound
	} else if cur == auth.Owner && p.Role(org) != auth.Owner {
		return web.ErrForbidden
	}
	return h.Auth.RemoveMembership(r.Context(), u.ID, org, p)
}

func (h *Handlers) apiRemoveMember(w http.ResponseWriter, r *http.Request) error {
	u, err := h.visibleUser(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := h.removeMember(r, u, r.PathValue("org_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type inviteInput struct {
	Email string `json:"email"`
	OrgID string `json:"org_id"`
	Role  string `json:"role"`
}

type inviteOutput struct {
	Invitation *auth.Invitation `json:"invitation"`
	URL        string           `json:"url"`
}

func (h *Handlers) invite(r *http.Request, in inviteInput) (*inviteOutput, error) {
	p := principal(r)
	if in.OrgID == "" {
		in.OrgID = p.OrgID
	}
	if err := mayAssign(p, in.OrgID, auth.Role(in.Role)); err != nil {
		return nil, err
	}
	secret, inv, err := h.Auth.Invite(r.Context(), p, in.OrgID, in.Email, auth.Role(in.Role))
	if err != nil {
		return nil, err
	}
	return &inviteOutput{inv, h.absURL(r, "/invite/"+secret)}, nil
}

func (h *Handlers) absURL(r *http.Request, path string) string {
	if b := h.Web.BaseURL; b != nil && b.Host != "" {
		return strings.TrimSuffix(b.String(), "/") + path
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

func (h *Handlers) apiInvite(w http.ResponseWriter, r *http.Request) error {
	var in inviteInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	out, err := h.invite(r, in)
	if err != nil {
		return err
	}
	return web.JSON(w, 201, out)
}

// ---- audit ----

type auditRow = audit.Row

// auditFilter reads the audit filters; org_id narrows to one organisation
// the caller may audit.
func auditFilter(r *http.Request) (audit.Filter, error) {
	p := principal(r)
	if len(p.OrgsWhere(auth.AuditRead)) == 0 {
		return audit.Filter{}, web.ErrForbidden
	}
	q := r.URL.Query()
	f := audit.Filter{OrgIDs: p.OrgsWhere(auth.AuditRead), Action: q.Get("action"), ActorID: q.Get("actor_id"), ObjectID: q.Get("object_id")}
	if o := q.Get("org_id"); o != "" {
		if !slices.Contains(f.OrgIDs, o) {
			f.OrgIDs = nil
		} else {
			f.OrgIDs = []string{o}
		}
	}
	for _, d := range []struct {
		name string
		t    *time.Time
		end  bool
	}{{"from", &f.From, false}, {"to", &f.To, true}} {
		v := q.Get(d.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			day, derr := time.Parse("2006-01-02", v)
			if derr != nil {
				return f, web.BadField(d.name, "must be a date (YYYY-MM-DD) or RFC 3339 time")
			}
			if t = day; d.end {
				t = day.Add(24 * time.Hour)
			}
		}
		*d.t = t
	}
	return f, nil
}

func (h *Handlers) apiAudit(w http.ResponseWriter, r *http.Request) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	switch format := r.URL.Query().Get("format"); format {
	case "csv", "json":
		f.Limit = 10000
		return h.exportAudit(w, r, f, format)
	case "":
	default:
		return web.BadField("format", "must be csv or json")
	}
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	f.Limit, f.Offset = limit+1, offset
	rows, err := audit.List(r.Context(), h.DB, f)
	if err != nil {
		return err
	}
	return web.JSON(w, 200, web.NewList(rows, limit, offset))
}

// exportAudit streams up to 10,000 rows per request as CSV or JSON;
// auditors page through larger ranges with from/to.
func (h *Handlers) exportAudit(w http.ResponseWriter, r *http.Request, f audit.Filter, format string) error {
	rows, err := audit.List(r.Context(), h.DB, f)
	if err != nil {
		return err
	}
	name := "vigil-audit-" + time.Now().UTC().Format("20060102-150405")
	if format == "json" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.json"`)
		if rows == nil {
			rows = []audit.Row{}
		}
		return web.JSON(w, 200, rows)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"org_id", "n", "at", "actor_id", "actor", "action", "object_type", "object_id", "data", "prev_hash", "hash"})
	for _, a := range rows {
		cw.Write([]string{a.OrgID, strconv.FormatInt(a.N, 10), a.At.Format(time.RFC3339Nano), a.ActorID, csvSafe(a.Actor), a.Action,
			a.ObjectType, a.ObjectID, csvSafe(string(a.Data)), a.PrevHash, a.Hash})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe stops spreadsheet formula injection from user-entered text.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
