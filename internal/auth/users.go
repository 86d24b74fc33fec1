package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"vigil/internal/store"
)

// User is an account. Secrets (hash, TOTP secret) never leave this package.
type User struct {
	ID                 string       `json:"id"`
	Email              string       `json:"email"`
	Name               string       `json:"name"`
	MustChangePassword bool         `json:"must_change_password"`
	TOTPEnabled        bool         `json:"totp_enabled"`
	Disabled           bool         `json:"disabled"`
	LastLoginAt        *time.Time   `json:"last_login_at"`
	CreatedAt          time.Time    `json:"created_at"`
	Memberships        []Membership `json:"memberships"`

	passwordHash string
	totpSecret   string
	failed       int
	lockedUntil  sql.NullTime
}

// Membership is a user's role in one organisation.
type Membership struct {
	OrgID string `json:"org_id"`
	Role  Role   `json:"role"`
}

const userCols = `id, email, name, password_hash, must_change_password, totp_secret, totp_enabled,
	failed_logins, locked_until, disabled_at, last_login_at, created_at`

func scanUser(sc interface{ Scan(...any) error }) (*User, error) {
	var u User
	var disabled, last sql.NullTime
	err := sc.Scan(&u.ID, &u.Email, &u.Name, &u.passwordHash, &u.MustChangePassword, &u.totpSecret, &u.TOTPEnabled,
		&u.failed, &u.lockedUntil, &disabled, &last, &u.CreatedAt)
	if err != nil {
		return nil, store.NotFound(err)
	}
	u.Disabled = disabled.Valid
	if last.Valid {
		t := last.Time.UTC()
		u.LastLoginAt = &t
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}

// UserByID loads a user (without memberships).
func (s *Service) UserByID(ctx context.Context, id string) (*User, error) {
	return scanUser(s.DB.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
}

// UserByEmail loads a user by (normalised) email.
func (s *Service) UserByEmail(ctx context.Context, email string) (*User, error) {
	return scanUser(s.DB.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE email = ?`, strings.ToLower(strings.TrimSpace(email))))
}

// NewUser is the input for CreateUser.
type NewUser struct {
	Email, Name, Password string
	OrgID                 string
	Role                  Role
	MustChangePassword    bool
}

// FieldError is a validation failure on one input field.
type FieldError struct {
	Field, Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Validate checks a NewUser and normalises its email.
func (n *NewUser) Validate() error {
	email, err := NormalizeEmail(n.Email)
	if err != nil {
		return &FieldError{"email", err.Error()}
	}
	n.Email = email
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" || utf8.RuneCountInString(n.Name) > 200 {
		return &FieldError{"name", "is required (at most 200 characters)"}
	}
	if err := ValidatePassword(n.Password); err != nil {
		return &FieldError{"password", err.Error()}
	}
	if !n.Role.Valid() {
		return &FieldError{"role", "is not a known role"}
	}
	if n.OrgID == "" {
		return &FieldError{"org_id", "is required"}
	}
	return nil
}

// ErrEmailTaken is returned when an account already uses the email.
var ErrEmailTaken = &FieldError{"email", "is already used by another account"}

// CreateUser adds a user with one membership, inside tx. by is the acting
// principal (nil for the CLI/system).
func (s *Service) CreateUser(ctx context.Context, tx *store.Tx, n NewUser, by *Principal) (*User, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	u := &User{ID: store.NewID(), Email: n.Email, Name: n.Name, MustChangePassword: n.MustChangePassword, CreatedAt: now,
		Memberships: []Membership{{n.OrgID, n.Role}}}
	_, err := tx.Exec(ctx, `INSERT INTO users (id, email, name, password_hash, must_change_password, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, u.ID, u.Email, u.Name, HashPassword(n.Password), n.MustChangePassword, now, now)
	if errors.Is(err, store.ErrConflict) {
		return nil, ErrEmailTaken
	}
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO memberships (user_id, org_id, role, created_at) VALUES (?, ?, ?, ?)`,
		u.ID, n.OrgID, string(n.Role), now); err != nil {
		return nil, fmt.Errorf("create membership: %w", err)
	}
	return u, s.record(ctx, tx, by, n.OrgID, "user.create", "user", u.ID,
		map[string]any{"email": u.Email, "name": u.Name, "role": n.Role})
}

// ListUsers returns users with a direct membership in any of orgIDs, with
// those memberships, ordered by name.
func (s *Service) ListUsers(ctx context.Context, orgIDs []string, limit, offset int) ([]*User, error) {
	if len(orgIDs) == 0 {
		return nil, nil
	}
	ph, args := store.In(orgIDs)
	rows, err := s.DB.Query(ctx, `SELECT `+userCols+` FROM users WHERE id IN
		(SELECT user_id FROM memberships WHERE org_id IN (`+ph+`)) ORDER BY name, email LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	var us []*User
	byID := map[string]*User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		us = append(us, u)
		byID[u.ID] = u
	}
	rows.Close()
	if len(us) == 0 {
		return us, nil
	}
	mrows, err := s.DB.Query(ctx, `SELECT user_id, org_id, role FROM memberships WHERE org_id IN (`+ph+`) ORDER BY created_at`, args...)
	if err != nil {
		return nil, err
	}
	defer mrows.Close()
	for mrows.Next() {
		var uid string
		var m Membership
		if err := mrows.Scan(&uid, &m.OrgID, &m.Role); err != nil {
			return nil, err
		}
		if u := byID[uid]; u != nil {
			u.Memberships = append(u.Memberships, m)
		}
	}
	return us, mrows.Err()
}

// Memberships returns all of a user's memberships.
func (s *Service) Memberships(ctx context.Context, userID string) ([]Membership, error) {
	rows, err := s.DB.Query(ctx, `SELECT org_id, role FROM memberships WHERE user_id = ? ORDER BY created_at`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		if err := rows.Scan(&m.OrgID, &m.Role); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// SetMembership gives user a role in org (adding or changing it).
func (s *Service) SetMembership(ctx context.Context, userID, org string, role Role, by *Principal) error {
	if !role.Valid() {
		return &FieldError{"role", "is not a known role"}
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE memberships SET role = ? WHERE user_id = ? AND org_id = ?`, string(role), userID, org)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO memberships (user_id, org_id, role, created_at) VALUES (?, ?, ?, ?)`,
				userID, org, string(role), s.Now().UTC()); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, by, org, "user.role", "user", userID, map[string]any{"role": role})
	})
}

// RemoveMembership takes a user out of org. The last owner of an
// organisation cannot be removed.
func (s *Service) RemoveMembership(ctx context.Context, userID, org string, by *Principal) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		var role string
		if err := tx.QueryRow(ctx, `SELECT role FROM memberships WHERE user_id = ? AND org_id = ?`, userID, org).Scan(&role); err != nil {
			return store.NotFound(err)
		}
		if Role(role) == Owner {
			var owners int
			tx.QueryRow(ctx, `SELECT COUNT(*) FROM memberships WHERE org_id = ? AND role = 'owner'`, org).Scan(&owners)
			if owners <= 1 {
				return &FieldError{"role", "the last owner of an organisation cannot be removed"}
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM memberships WHERE user_id = ? AND org_id = ?`, userID, org); err != nil {
			return err
		}
		return s.record(ctx, tx, by, org, "user.remove", "user", userID, nil)
	})
}

// UpdateProfile changes a user's display name.
func (s *Service) UpdateProfile(ctx context.Context, p *Principal, name string) error {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 200 {
		return &FieldError{"name", "is required (at most 200 characters)"}
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET name = ?, updated_at = ? WHERE id = ?`, name, s.Now().UTC(), p.UserID); err != nil {
			return err
		}
		return s.record(ctx, tx, p, p.OrgID, "user.update", "user", p.UserID, map[string]any{"name": name})
	})
}

// SetPassword replaces a user's password, clears the forced-change flag and
// ends every other session of that user. keepSession (a hash) survives.
func (s *Service) SetPassword(ctx context.Context, userID, pw string, mustChange bool, keepSession string, by *Principal, org string) error {
	if err := ValidatePassword(pw); err != nil {
		return &FieldError{"password", err.Error()}
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE users SET password_hash = ?, must_change_password = ?, failed_logins = 0, locked_until = NULL, updated_at = ? WHERE id = ?`,
			HashPassword(pw), mustChange, s.Now().UTC(), userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?`, userID, keepSession); err != nil {
			return err
		}
		return s.record(ctx, tx, by, org, "user.password", "user", userID, nil)
	})
}

// SetDisabled disables (ending sessions and revoking tokens) or re-enables a user.
func (s *Service) SetDisabled(ctx context.Context, userID string, disabled bool, by *Principal, org string) error {
	now := s.Now().UTC()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		var at any
		action := "user.enable"
		if disabled {
			at, action = now, "user.disable"
		}
		res, err := tx.Exec(ctx, `UPDATE users SET disabled_at = ?, updated_at = ? WHERE id = ?`, at, now, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if disabled {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, now, userID); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, by, org, action, "user", userID, nil)
	})
}

// CountUsers returns the number of accounts (0 means first start).
func (s *Service) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// Verify checks a user's password without signing in (re-authentication
// before sensitive changes).
func (s *Service) Verify(ctx context.Context, email, pw string) (*User, error) {
	u, err := s.UserByEmail(ctx, email)
	if err != nil {
		CheckPassword(dummyHash, pw)
		return nil, ErrBadCredentials
	}
	if u.Disabled || !CheckPassword(u.passwordHash, pw) {
		return nil, ErrBadCredentials
	}
	return u, nil
}
