// Package auth holds who someone is and what they may do: users and their
// memberships, argon2id passwords, DB-backed sessions and API tokens (stored
// only as hashes), TOTP with recovery codes, login throttling, invitations,
// and the one permission check, Can.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"vigil/internal/audit"
	"vigil/internal/store"
)

// Errors shown to people; they never reveal whether an email exists.
var (
	ErrBadCredentials  = errors.New("wrong email or password")
	ErrLocked          = errors.New("too many failed attempts; try again later")
	ErrTOTPRequired    = errors.New("enter the code from your authenticator app")
	ErrBadTOTP         = errors.New("wrong authentication code")
	ErrNoAccess        = errors.New("this account has no organisation")
	ErrUnauthenticated = errors.New("not signed in")
)

// Service is the auth store and policy. Now is injected; SQL never reads the clock.
type Service struct {
	DB          *store.DB
	Now         func() time.Time
	SessionTTL  time.Duration // idle lifetime of a normal session
	RememberTTL time.Duration // lifetime of a remember-me session
	Issuer      string        // TOTP issuer shown in authenticator apps
}

// NewService returns a Service with the default lifetimes.
func NewService(db *store.DB, now func() time.Time) *Service {
	return &Service{DB: db, Now: now, SessionTTL: 12 * time.Hour, RememberTTL: 30 * 24 * time.Hour, Issuer: "vigil"}
}

// Principal is an authenticated caller and everything needed to authorise it.
type Principal struct {
	UserID             string
	Email              string
	Name               string
	OrgID              string          // the organisation the caller is working in
	Access             map[string]Role // effective role per organisation
	MustChangePassword bool
	TOTPEnabled        bool
	SessionHash        string // set for browser sessions
	TokenID            string // set for API tokens
}

// Label is how the principal appears in the audit log.
func (p *Principal) Label() string {
	if p == nil {
		return "system"
	}
	return p.Email
}

// Role returns p's effective role in org ("" if none).
func (p *Principal) Role(org string) Role { return p.Access[org] }

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the request's principal, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// NormalizeEmail lower-cases and validates an email address.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return "", errors.New("is not a valid email address")
	}
	return s, nil
}

// randomToken returns n random bytes, URL-safe base64 encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is how session IDs, API tokens, invitation and recovery codes
// are stored: a leaked database does not let anyone sign in.
func hashToken(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// RandomPassword returns a password for one-time use (first owner, demo users).
func RandomPassword() string { return randomToken(15) }

// loadAccess resolves a user's effective roles: a membership of an operator
// organisation (other than the client role) also covers every client
// organisation under it.
func loadAccess(ctx context.Context, q store.Querier, userID string) (map[string]Role, string, error) {
	rows, err := q.Query(ctx, `SELECT m.org_id, m.role, o.kind FROM memberships m JOIN orgs o ON o.id = m.org_id
		WHERE m.user_id = ? ORDER BY CASE o.kind WHEN 'operator' THEN 0 ELSE 1 END, m.created_at`, userID)
	if err != nil {
		return nil, "", err
	}
	type mem struct {
		org  string
		role Role
		kind string
	}
	var ms []mem
	for rows.Next() {
		var m mem
		if err := rows.Scan(&m.org, &m.role, &m.kind); err != nil {
			rows.Close()
			return nil, "", err
		}
		ms = append(ms, m)
	}
	rows.Close()
	access := map[string]Role{}
	home := ""
	for _, m := range ms {
		if home == "" {
			home = m.org
		}
		access[m.org] = m.role
	}
	for _, m := range ms {
		if m.kind != "operator" || m.role == Client {
			continue
		}
		kids, err := q.Query(ctx, `SELECT id FROM orgs WHERE parent_id = ?`, m.org)
		if err != nil {
			return nil, "", err
		}
		for kids.Next() {
			var id string
			kids.Scan(&id)
			if _, direct := access[id]; !direct {
				access[id] = m.role
			}
		}
		kids.Close()
	}
	return access, home, nil
}

// dbQuerier adapts *store.DB to store.Querier for reads outside a transaction.
type dbQuerier struct{ *store.DB }

func (d dbQuerier) Dialect() store.Dialect { return d.DB.Dialect }

func (s *Service) principal(ctx context.Context, u *User, org string) (*Principal, error) {
	access, home, err := loadAccess(ctx, dbQuerier{s.DB}, u.ID)
	if err != nil {
		return nil, fmt.Errorf("load access: %w", err)
	}
	if len(access) == 0 {
		return nil, ErrNoAccess
	}
	if _, ok := access[org]; !ok {
		org = home
	}
	return &Principal{UserID: u.ID, Email: u.Email, Name: u.Name, OrgID: org, Access: access,
		MustChangePassword: u.MustChangePassword, TOTPEnabled: u.TOTPEnabled}, nil
}

// record appends an audit entry for p in tx.
func (s *Service) record(ctx context.Context, tx *store.Tx, p *Principal, org, action, objType, objID string, data any) error {
	e := audit.Entry{OrgID: org, At: s.Now(), Actor: p.Label(), Action: action, ObjectType: objType, ObjectID: objID, Data: data}
	if p != nil {
		e.ActorID = p.UserID
	}
	return audit.Append(ctx, tx, e)
}
