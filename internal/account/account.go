// Package account is the people side of the web app: signing in and out,
// the user's own profile, password, two-factor setup and API tokens, user
// administration with invitations, and the audit log viewer.
package account

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"vigil/internal/auth"
	"vigil/internal/store"
	"vigil/internal/web"
)

// Stat is a figure on the overview page.
type Stat struct {
	Label, Href string
	N           int
}

// Handlers serves this package's pages and API.
type Handlers struct {
	Auth  *auth.Service
	DB    *store.DB
	Web   *web.Server
	Stats func(ctx context.Context, p *auth.Principal) []Stat // overview figures from other modules
}

// Register adds every route of this module.
func (h *Handlers) Register() {
	s := h.Web
	s.PublicAPI("POST", "/auth/login", h.apiLogin, web.Doc{Summary: "Sign in; sets the session cookie", Request: loginInput{}, Response: meOutput{}})
	s.API("POST", "/auth/logout", h.apiLogout, web.Doc{Summary: "Sign out (end this session)", Status: 204})
	s.API("GET", "/me", h.apiMe, web.Doc{Summary: "The signed-in user and their organisations", Response: meOutput{}})
	s.API("PATCH", "/me", h.apiUpdateMe, web.Doc{Summary: "Change your display name", Request: profileInput{}, Response: meOutput{}})
	s.API("POST", "/me/password", h.apiPassword, web.Doc{Summary: "Change your password", Request: passwordInput{}, Status: 204})
	s.API("GET", "/me/tokens", h.apiTokens, web.Doc{Summary: "List your API tokens", Response: web.List[auth.Token]{}})
	s.API("POST", "/me/tokens", h.apiCreateToken, web.Doc{Summary: "Create an API token (the secret is shown once)", Request: tokenInput{}, Response: tokenOutput{}, Status: 201})
	s.API("DELETE", "/me/tokens/{id}", h.apiRevokeToken, web.Doc{Summary: "Revoke one of your API tokens", Status: 204})

	s.API("GET", "/users", h.apiUsers, web.Doc{Summary: "List users of organisations you administer or read", Response: web.List[*auth.User]{}, Query: []string{"org_id", "limit", "offset"}})
	s.API("POST", "/users", h.apiCreateUser, web.Doc{Summary: "Create a user with a one-time password", Request: createUserInput{}, Response: &auth.User{}, Status: 201})
	s.API("GET", "/users/{id}", h.apiUser, web.Doc{Summary: "Get a user", Response: &auth.User{}})
	s.API("PATCH", "/users/{id}", h.apiUpdateUser, web.Doc{Summary: "Disable or re-enable a user", Request: userPatch{}, Response: &auth.User{}})
	s.API("PUT", "/users/{id}/memberships/{org_id}", h.apiSetRole, web.Doc{Summary: "Give a user a role in an organisation", Request: roleInput{}, Response: &auth.User{}})
	s.API("DELETE", "/users/{id}/memberships/{org_id}", h.apiRemoveMember, web.Doc{Summary: "Remove a user from an organisation", Status: 204})
	s.API("POST", "/invitations", h.apiInvite, web.Doc{Summary: "Invite someone by email to an organisation; returns the link", Request: inviteInput{}, Response: inviteOutput{}, Status: 201})

	s.API("GET", "/audit", h.apiAudit, web.Doc{Summary: "Audit log (newest first); format=csv or json exports", Response: web.List[auditRow]{},
		Query: []string{"org_id", "action", "actor_id", "object_id", "from", "to", "format", "limit", "offset"}})

	s.AddNav(web.NavItem{Key: "users", Label: "Users", Href: "/users", Action: auth.UserRead, Order: 91})
	s.AddNav(web.NavItem{Key: "audit", Label: "Audit log", Href: "/audit", Action: auth.AuditRead, Order: 92})

	s.Page("GET", "/", h.home)
	s.PublicPage("GET", "/login", h.loginPage)
	s.PublicPage("POST", "/login", h.loginSubmit)
	s.Page("POST", "/logout", h.logout)
	s.Page("POST", "/account/org", h.switchOrg)
	s.Page("GET", "/account", h.profile)
	s.Page("POST", "/account", h.profileSave)
	s.Page("GET", "/account/password", h.passwordPage)
	s.Page("POST", "/account/password", h.passwordSave)
	s.Page("GET", "/account/totp", h.totpBegin)
	s.Page("POST", "/account/totp", h.totpConfirm)
	s.Page("POST", "/account/totp/disable", h.totpDisable)
	s.Page("POST", "/account/tokens", h.tokenCreate)
	s.Page("POST", "/account/tokens/{id}/revoke", h.tokenRevoke)

	s.Page("GET", "/users", h.userList)
	s.Page("GET", "/users/invite", h.invitePage)
	s.Page("POST", "/users/invite", h.inviteSubmit)
	s.Page("GET", "/users/{id}", h.userShow)
	s.Page("POST", "/users/{id}/role", h.userRole)
	s.Page("POST", "/users/{id}/remove", h.userRemove)
	s.Page("POST", "/users/{id}/disable", h.userDisable)
	s.Page("POST", "/users/{id}/enable", h.userEnable)
	s.PublicPage("GET", "/invite/{token}", h.acceptPage)
	s.PublicPage("POST", "/invite/{token}", h.acceptSubmit)

	s.Page("GET", "/audit", h.auditPage)
}

func principal(r *http.Request) *auth.Principal { return auth.FromContext(r.Context()) }

// safeNext keeps post-login redirects on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" {
		return "/"
	}
	return next
}

// loginError maps auth errors to a status and a message for the person.
func loginError(err error) *web.Error {
	switch err {
	case auth.ErrBadCredentials, auth.ErrBadTOTP:
		return &web.Error{Status: http.StatusUnauthorized, Code: "bad_credentials", Message: err.Error()}
	case auth.ErrLocked:
		return &web.Error{Status: http.StatusTooManyRequests, Code: "locked", Message: err.Error()}
	case auth.ErrTOTPRequired:
		return &web.Error{Status: http.StatusUnauthorized, Code: "totp_required", Field: "totp", Message: err.Error()}
	case auth.ErrNoAccess:
		return &web.Error{Status: http.StatusForbidden, Code: "no_access", Message: err.Error()}
	}
	return nil
}
