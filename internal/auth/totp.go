package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"vigil/internal/store"
)

// TOTPEnrolment is a secret being set up, with its QR code as a data URL.
type TOTPEnrolment struct {
	Secret string
	URL    string
	QR     string // data:image/png;base64,…
}

// BeginTOTP generates a new secret for p. Nothing is stored until
// ConfirmTOTP proves the user's app produces valid codes.
func (s *Service) BeginTOTP(p *Principal) (*TOTPEnrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.Issuer, AccountName: p.Email})
	if err != nil {
		return nil, err
	}
	return enrolment(key)
}

// EnrolmentFor rebuilds the enrolment view for a secret (re-shown after a
// wrong confirmation code).
func (s *Service) EnrolmentFor(p *Principal, secret string) (*TOTPEnrolment, error) {
	key, err := otp.NewKeyFromURL("otpauth://totp/" + s.Issuer + ":" + p.Email + "?secret=" + secret + "&issuer=" + s.Issuer)
	if err != nil {
		return nil, err
	}
	return enrolment(key)
}

func enrolment(key *otp.Key) (*TOTPEnrolment, error) {
	img, err := key.Image(220, 220)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return &TOTPEnrolment{Secret: key.Secret(), URL: key.URL(),
		QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// RecoveryCodeCount is how many one-time recovery codes a user gets.
const RecoveryCodeCount = 10

// ConfirmTOTP enables TOTP if code is valid for secret and returns fresh
// recovery codes (shown once; stored hashed).
func (s *Service) ConfirmTOTP(ctx context.Context, p *Principal, secret, code string) ([]string, error) {
	if len(secret) < 16 || !totp.Validate(strings.TrimSpace(code), secret) {
		return nil, &FieldError{"code", ErrBadTOTP.Error()}
	}
	codes := make([]string, RecoveryCodeCount)
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = ?, totp_enabled = TRUE, updated_at = ? WHERE id = ?`, secret, s.Now().UTC(), p.UserID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, p.UserID); err != nil {
			return err
		}
		for i := range codes {
			c := strings.ToLower(randomToken(8))[:10]
			codes[i] = c[:5] + "-" + c[5:]
			if _, err := tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`, p.UserID, sha256hex(codes[i])); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, p, p.OrgID, "user.totp_enable", "user", p.UserID, nil)
	})
	return codes, err
}

// DisableTOTP turns the second factor off after checking the password.
func (s *Service) DisableTOTP(ctx context.Context, p *Principal, password string) error {
	u, err := s.UserByID(ctx, p.UserID)
	if err != nil {
		return err
	}
	if !CheckPassword(u.passwordHash, password) {
		return &FieldError{"password", "is wrong"}
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = '', totp_enabled = FALSE, updated_at = ? WHERE id = ?`, s.Now().UTC(), p.UserID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, p.UserID); err != nil {
			return err
		}
		return s.record(ctx, tx, p, p.OrgID, "user.totp_disable", "user", p.UserID, nil)
	})
}

// checkSecondFactor accepts a current TOTP code or an unused recovery code
// (which is then spent).
func (s *Service) checkSecondFactor(ctx context.Context, u *User, code string, now time.Time) (bool, error) {
	code = strings.ToLower(strings.TrimSpace(code))
	if ok, _ := totp.ValidateCustom(code, u.totpSecret, now, totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}); ok {
		return true, nil
	}
	if len(code) != 11 {
		return false, nil
	}
	res, err := s.DB.Exec(ctx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`, now, u.ID, sha256hex(code))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ErrInviteInvalid covers unknown, used and expired invitations alike.
var ErrInviteInvalid = errors.New("this invitation link is invalid, used or expired")

// Invitation is a pending invitation to join an organisation.
type Invitation struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"org_id"`
	Email     string    `json:"email"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// InviteTTL is how long an invitation link stays valid.
const InviteTTL = 7 * 24 * time.Hour

// Invite creates an invitation and returns the secret for the link.
func (s *Service) Invite(ctx context.Context, by *Principal, org, email string, role Role) (string, *Invitation, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return "", nil, &FieldError{"email", err.Error()}
	}
	if !role.Valid() {
		return "", nil, &FieldError{"role", "is not a known role"}
	}
	if role == Owner && by.Role(org) != Owner {
		return "", nil, &FieldError{"role", "only an owner can invite another owner"}
	}
	now := s.Now().UTC()
	secret := randomToken(24)
	inv := &Invitation{ID: store.NewID(), OrgID: org, Email: email, Role: role, CreatedAt: now, ExpiresAt: now.Add(InviteTTL)}
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO invitations (id, org_id, email, role, token_hash, invited_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			inv.ID, org, email, string(role), hashToken(secret), by.UserID, now, inv.ExpiresAt); err != nil {
			return err
		}
		return s.record(ctx, tx, by, org, "user.invite", "invitation", inv.ID, map[string]any{"email": email, "role": role})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, inv, nil
}

// InvitationBySecret returns a pending, unexpired invitation.
func (s *Service) InvitationBySecret(ctx context.Context, secret string) (*Invitation, error) {
	var inv Invitation
	var accepted *time.Time
	err := s.DB.QueryRow(ctx, `SELECT id, org_id, email, role, created_at, expires_at, accepted_at FROM invitations WHERE token_hash = ?`, hashToken(secret)).
		Scan(&inv.ID, &inv.OrgID, &inv.Email, &inv.Role, &inv.CreatedAt, &inv.ExpiresAt, &accepted)
	if err != nil || accepted != nil || !inv.ExpiresAt.After(s.Now()) {
		return nil, ErrInviteInvalid
	}
	return &inv, nil
}

// AcceptInvite creates the account (or adds the membership to an existing
// account with that email, whose password must then match).
func (s *Service) AcceptInvite(ctx context.Context, secret, name, password string) (*User, error) {
	inv, err := s.InvitationBySecret(ctx, secret)
	if err != nil {
		return nil, err
	}
	existing, err := s.UserByEmail(ctx, inv.Email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	var u *User
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE invitations SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL`, s.Now().UTC(), inv.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrInviteInvalid
		}
		if existing != nil {
			if !CheckPassword(existing.passwordHash, password) {
				return &FieldError{"password", "is not this account's password"}
			}
			u = existing
			if _, err := tx.Exec(ctx, `INSERT INTO memberships (user_id, org_id, role, created_at) VALUES (?, ?, ?, ?)`, u.ID, inv.OrgID, string(inv.Role), s.Now().UTC()); err != nil {
				if errors.Is(err, store.ErrConflict) {
					return &FieldError{"email", "this account is already a member"}
				}
				return err
			}
			return s.record(ctx, tx, &Principal{UserID: u.ID, Email: u.Email}, inv.OrgID, "user.join", "user", u.ID, map[string]any{"role": inv.Role})
		}
		u, err = s.CreateUser(ctx, tx, NewUser{Email: inv.Email, Name: name, Password: password, OrgID: inv.OrgID, Role: inv.Role},
			&Principal{Email: inv.Email})
		return err
	})
	return u, err
}
