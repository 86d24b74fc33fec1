package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"vigil/internal/store"
)

// Throttling policy: an account locks after AccountMaxFailures wrong
// passwords, a client address after IPMaxFailures within IPWindow; both for
// LockDuration. State is in the database so every server process agrees.
const (
	AccountMaxFailures = 5
	IPMaxFailures      = 20
	IPWindow           = 15 * time.Minute
	LockDuration       = 15 * time.Minute
)

// LoginInput is what a person types on the login form or posts to the API.
type LoginInput struct {
	Email, Password, TOTP string
	Remember              bool
	IP, UserAgent         string
}

// Login checks credentials and creates a session. It returns the session
// token for the cookie. A new token is issued on every login (rotation).
func (s *Service) Login(ctx context.Context, in LoginInput) (token string, p *Principal, err error) {
	now := s.Now().UTC()
	ipKey := "ip:" + hashToken(in.IP)[:32]
	if locked, err := s.throttled(ctx, ipKey, now); err != nil || locked {
		if err != nil {
			return "", nil, err
		}
		return "", nil, ErrLocked
	}
	u, err := s.UserByEmail(ctx, in.Email)
	if errors.Is(err, store.ErrNotFound) {
		CheckPassword(dummyHash, in.Password)
		return "", nil, s.fail(ctx, ipKey, nil, now, ErrBadCredentials)
	}
	if err != nil {
		return "", nil, err
	}
	if u.lockedUntil.Valid && u.lockedUntil.Time.After(now) {
		return "", nil, ErrLocked
	}
	if !CheckPassword(u.passwordHash, in.Password) || u.Disabled {
		return "", nil, s.fail(ctx, ipKey, u, now, ErrBadCredentials)
	}
	if u.TOTPEnabled {
		if in.TOTP == "" {
			return "", nil, ErrTOTPRequired
		}
		ok, err := s.checkSecondFactor(ctx, u, in.TOTP, now)
		if err != nil {
			return "", nil, err
		}
		if !ok {
			return "", nil, s.fail(ctx, ipKey, u, now, ErrBadTOTP)
		}
	}
	p, err = s.principal(ctx, u, "")
	if err != nil {
		return "", nil, err
	}
	token = randomToken(32)
	ttl := s.SessionTTL
	if in.Remember {
		ttl = s.RememberTTL
	}
	p.SessionHash = hashToken(token)
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, org_id, remember, created_at, last_seen_at, expires_at, user_agent)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, p.SessionHash, u.ID, p.OrgID, in.Remember, now, now, now.Add(ttl), truncate(in.UserAgent, 300)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ? WHERE id = ?`, now, u.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM login_throttle WHERE key = ?`, ipKey); err != nil {
			return err
		}
		return s.record(ctx, tx, p, p.OrgID, "user.login", "user", u.ID, map[string]any{"remember": in.Remember})
	})
	if err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	return token, p, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Service) throttled(ctx context.Context, key string, now time.Time) (bool, error) {
	var until sql.NullTime
	err := s.DB.QueryRow(ctx, `SELECT locked_until FROM login_throttle WHERE key = ?`, key).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return until.Valid && until.Time.After(now), nil
}

// fail records a failed attempt against the address and (if known) the
// account, locks either when its limit is reached, and returns why.
func (s *Service) fail(ctx context.Context, ipKey string, u *User, now time.Time, why error) error {
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var failures int
		var start time.Time
		err := tx.QueryRow(ctx, `SELECT failures, window_start FROM login_throttle WHERE key = ?`+tx.Dialect().ForUpdate(), ipKey).Scan(&failures, &start)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.Exec(ctx, `INSERT INTO login_throttle (key, failures, window_start) VALUES (?, 1, ?)`, ipKey, now); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if now.Sub(start) > IPWindow {
				failures, start = 0, now
			}
			failures++
			var until any
			if failures >= IPMaxFailures {
				until = now.Add(LockDuration)
			}
			if _, err := tx.Exec(ctx, `UPDATE login_throttle SET failures = ?, window_start = ?, locked_until = ? WHERE key = ?`,
				failures, start, until, ipKey); err != nil {
				return err
			}
		}
		if u == nil {
			return nil
		}
		n := u.failed + 1
		if u.lockedUntil.Valid && !u.lockedUntil.Time.After(now) {
			n = 1 // the previous lock has expired: start counting again
		}
		var until any
		if n >= AccountMaxFailures {
			until = now.Add(LockDuration)
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?`, n, until, u.ID); err != nil {
			return err
		}
		org, err := homeOrg(ctx, tx, u.ID)
		if err != nil || org == "" {
			return err
		}
		return s.record(ctx, tx, &Principal{UserID: u.ID, Email: u.Email}, org, "user.login_failed", "user", u.ID,
			map[string]any{"reason": why.Error(), "locked": until != nil})
	})
	if err != nil {
		return fmt.Errorf("record failed login: %w", err)
	}
	return why
}

func homeOrg(ctx context.Context, q store.Querier, userID string) (string, error) {
	var org string
	err := q.QueryRow(ctx, `SELECT org_id FROM memberships WHERE user_id = ? ORDER BY created_at LIMIT 1`, userID).Scan(&org)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return org, err
}

// SessionPrincipal resolves a session cookie. Expired or unknown sessions and
// disabled users yield ErrUnauthenticated. The expiry slides on use.
func (s *Service) SessionPrincipal(ctx context.Context, token string) (*Principal, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrUnauthenticated
	}
	now := s.Now().UTC()
	h := hashToken(token)
	var userID, org string
	var remember bool
	var lastSeen, expires time.Time
	err := s.DB.QueryRow(ctx, `SELECT user_id, org_id, remember, last_seen_at, expires_at FROM sessions WHERE id_hash = ?`, h).
		Scan(&userID, &org, &remember, &lastSeen, &expires)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !expires.After(now)) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	u, err := s.UserByID(ctx, userID)
	if err != nil || u.Disabled {
		return nil, ErrUnauthenticated
	}
	p, err := s.principal(ctx, u, org)
	if err != nil {
		return nil, ErrUnauthenticated
	}
	p.SessionHash = h
	if now.Sub(lastSeen) > time.Minute {
		ttl := s.SessionTTL
		if remember {
			ttl = s.RememberTTL
		}
		s.DB.Exec(ctx, `UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?`, now, now.Add(ttl), h)
	}
	return p, nil
}

// SwitchOrg changes the organisation a session works in.
func (s *Service) SwitchOrg(ctx context.Context, p *Principal, org string) error {
	if !p.Sees(org) || p.SessionHash == "" {
		return store.ErrNotFound
	}
	_, err := s.DB.Exec(ctx, `UPDATE sessions SET org_id = ? WHERE id_hash = ?`, org, p.SessionHash)
	return err
}

// Logout ends the session.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, p.SessionHash); err != nil {
			return err
		}
		return s.record(ctx, tx, p, p.OrgID, "user.logout", "user", p.UserID, nil)
	})
}

// TokenPrefix starts every API token so that leaked tokens are easy to find
// in code and logs with secret scanners.
const TokenPrefix = "vgl_"

// Token is an API token's metadata.
type Token struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Revoked    bool       `json:"revoked"`
}

// CreateToken issues an API token for a user and returns its secret, which
// is shown once and never stored.
func (s *Service) CreateToken(ctx context.Context, userID, name string, ttl time.Duration, by *Principal) (string, *Token, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", nil, &FieldError{"name", "is required (at most 100 characters)"}
	}
	if ttl < 0 {
		return "", nil, &FieldError{"expires", "must not be negative"}
	}
	now := s.Now().UTC()
	secret := TokenPrefix + randomToken(32)
	t := &Token{ID: store.NewID(), UserID: userID, Name: name, CreatedAt: now}
	var exp any
	if ttl > 0 {
		e := now.Add(ttl)
		t.ExpiresAt, exp = &e, e
	}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		org, err := homeOrg(ctx, tx, userID)
		if err != nil {
			return err
		}
		if org == "" {
			return ErrNoAccess
		}
		if _, err := tx.Exec(ctx, `INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			t.ID, userID, name, hashToken(secret), now, exp); err != nil {
			return err
		}
		return s.record(ctx, tx, by, org, "token.create", "api_token", t.ID, map[string]any{"user_id": userID, "name": name})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// TokenPrincipal resolves a bearer token.
func (s *Service) TokenPrincipal(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 100 {
		return nil, ErrUnauthenticated
	}
	now := s.Now().UTC()
	var id, userID string
	var exp, last, revoked sql.NullTime
	err := s.DB.QueryRow(ctx, `SELECT id, user_id, expires_at, last_used_at, revoked_at FROM api_tokens WHERE token_hash = ?`, hashToken(secret)).
		Scan(&id, &userID, &exp, &last, &revoked)
	if err != nil || revoked.Valid || (exp.Valid && !exp.Time.After(now)) {
		return nil, ErrUnauthenticated
	}
	u, err := s.UserByID(ctx, userID)
	if err != nil || u.Disabled {
		return nil, ErrUnauthenticated
	}
	p, err := s.principal(ctx, u, "")
	if err != nil {
		return nil, ErrUnauthenticated
	}
	p.TokenID = id
	if !last.Valid || now.Sub(last.Time) > time.Minute {
		s.DB.Exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, now, id)
	}
	return p, nil
}

// Tokens lists a user's API tokens.
func (s *Service) Tokens(ctx context.Context, userID string) ([]Token, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, user_id, name, created_at, expires_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var exp, last, rev sql.NullTime
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &t.CreatedAt, &exp, &last, &rev); err != nil {
			return nil, err
		}
		t.ExpiresAt, t.LastUsedAt, t.Revoked = nullTime(exp), nullTime(last), rev.Valid
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes one of a user's tokens.
func (s *Service) RevokeToken(ctx context.Context, p *Principal, id string) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL`, s.Now().UTC(), id, p.UserID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return s.record(ctx, tx, p, p.OrgID, "token.revoke", "api_token", id, nil)
	})
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// sha256hex is used for recovery codes.
func sha256hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
