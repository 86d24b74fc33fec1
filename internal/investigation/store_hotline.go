package investigation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"vigil/internal/auth"
	"vigil/internal/investigation/hotline"
	"vigil/internal/org"
	"vigil/internal/store"
)

// Hotline errors. ErrBadKey never says whether the key exists.
var (
	ErrHotlineOff = errors.New("this organisation has no hotline")
	ErrThrottled  = errors.New("too many attempts from your connection; try again in an hour")
	ErrBadKey     = errors.New("wrong case key or password")
	ErrLocked     = errors.New("this report is locked after too many wrong passwords; try again later")
	ErrExpired    = errors.New("your session on this report has ended; enter your case key and password again")
)

// Receipt is what a reporter gets once: the only way back to their report.
type Receipt struct {
	Key           string    `json:"case_key"`
	Password      string    `json:"password"`
	AckDueAt      time.Time `json:"acknowledge_by"`
	FeedbackDueAt time.Time `json:"feedback_by"`
}

// HotlineOrg resolves a public hotline's organisation by slug; a missing or
// disabled hotline is ErrHotlineOff (the page is a 404).
func (s *Service) HotlineOrg(ctx context.Context, slug string) (*org.Org, Settings, error) {
	o, err := s.Orgs.OrgBySlug(ctx, slug)
	if err != nil {
		return nil, Settings{}, ErrHotlineOff
	}
	st, err := s.Settings(ctx, o.ID)
	if err != nil {
		return nil, st, err
	}
	if !st.HotlineOn {
		return nil, st, ErrHotlineOff
	}
	return o, st, nil
}

// throttle counts one attempt of kind from source in the current window and
// reports whether the window's limit is now exceeded. Only the HMAC bucket
// is stored; expired secrets and buckets are deleted here, so no separate
// job is needed.
func (s *Service) throttle(ctx context.Context, tx *store.Tx, kind, source string, limit int, count bool) (bool, error) {
	now := s.Now().UTC()
	win := hotline.Window(now)
	if _, err := tx.Exec(ctx, `DELETE FROM hotline_secrets WHERE window_start < ?`, win.Add(-time.Hour)); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM hotline_throttle WHERE window_start < ?`, win); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO hotline_secrets (window_start, secret) VALUES (?, ?) ON CONFLICT (window_start) DO NOTHING`, win, hotline.NewSecret()); err != nil {
		return false, err
	}
	var secret string
	if err := tx.QueryRow(ctx, `SELECT secret FROM hotline_secrets WHERE window_start = ?`, win).Scan(&secret); err != nil {
		return false, fmt.Errorf("hotline secret: %w", err)
	}
	bucket := hotline.Bucket([]byte(secret), kind, source)
	if count {
		if _, err := tx.Exec(ctx, `INSERT INTO hotline_throttle (bucket, window_start, n) VALUES (?, ?, 1)
			ON CONFLICT (bucket) DO UPDATE SET n = hotline_throttle.n + 1`, bucket, win); err != nil {
			return false, err
		}
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT COALESCE((SELECT n FROM hotline_throttle WHERE bucket = ?), 0)`, bucket).Scan(&n); err != nil {
		return false, err
	}
	if count {
		return n > limit, nil
	}
	return n >= limit, nil
}

// Report files an anonymous report as a new intake case with statutory
// deadlines. source identifies the connection for rate limiting only; it is
// hashed with the hour's secret and never stored or logged.
func (s *Service) Report(ctx context.Context, orgID string, st Settings, in HotlineInput, source string) (*Receipt, *Case, error) {
	if err := in.Validate(); err != nil {
		return nil, nil, err
	}
	key, pw := hotline.NewKey(), hotline.NewPassword()
	ck, _ := hotline.ParseKey(key)
	cpw, _ := hotline.ParsePassword(pw)
	pwHash := auth.HashPassword(cpw) // outside the transaction: argon2 is slow on purpose
	now := s.now()
	ackDue, fbDue := now.AddDate(0, 0, st.AckDays), now.AddDate(0, 0, st.FeedbackDays)
	c := &Case{ID: store.NewID(), OrgID: orgID, Type: hotlineType(in.Category), Title: "Hotline report: " + label(HotlineCategories, in.Category),
		Summary: in.Text, Status: "intake", Source: "hotline", CreatedAt: now, UpdatedAt: now, AckDueAt: &ackDue, FeedbackDueAt: &fbDue}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		over, err := s.throttle(ctx, tx, "report", source, s.ReportsPerHour, true)
		if err != nil {
			return err
		}
		if over {
			return ErrThrottled
		}
		if err := s.insertCase(ctx, tx, c, nil); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO hotline_reports (case_id, org_id, key_hash, password_hash, category, contact, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.ID, orgID, hotline.KeyHash(ck), pwHash, in.Category, in.Contact, now); err != nil {
			return fmt.Errorf("hotline report: %w", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO hotline_messages (id, case_id, org_id, sender, body, created_at) VALUES (?, ?, ?, 'reporter', ?, ?)`,
			store.NewID(), c.ID, orgID, in.Text, now)
		return err
	})
	if errors.Is(err, ErrThrottled) {
		// Persist the count even though the report was refused.
		s.DB.Write(ctx, func(tx *store.Tx) error {
			_, err := s.throttle(ctx, tx, "report", source, s.ReportsPerHour, true)
			return err
		})
	}
	if err != nil {
		return nil, nil, err
	}
	c.flag(s.Now().UTC())
	return &Receipt{Key: key, Password: pw, AckDueAt: ackDue, FeedbackDueAt: fbDue}, c, nil
}

// Access checks a reporter's key and password and returns a short-lived
// token for the report pages (carried in the form, never in a cookie).
// Wrong answers count against the source and against the report, which
// locks after WrongPasswordsBeforeLock failures.
func (s *Service) Access(ctx context.Context, orgID, key, password, source string) (token, caseID string, err error) {
	var limited bool
	if err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		limited, err = s.throttle(ctx, tx, "fail", source, s.FailuresPerHour, false)
		return err
	}); err != nil {
		return "", "", err
	}
	if limited {
		return "", "", ErrThrottled
	}
	fail := func(why error) (string, string, error) {
		if err := s.DB.Write(ctx, func(tx *store.Tx) error {
			_, err := s.throttle(ctx, tx, "fail", source, s.FailuresPerHour, true)
			return err
		}); err != nil {
			return "", "", err
		}
		return "", "", why
	}
	ck, err1 := hotline.ParseKey(key)
	cpw, err2 := hotline.ParsePassword(password)
	if err1 != nil || err2 != nil {
		return fail(ErrBadKey)
	}
	var hash string
	var failed int
	var lockedNT sql.NullTime
	err = s.DB.QueryRow(ctx, `SELECT case_id, password_hash, failed_attempts, locked_until FROM hotline_reports WHERE key_hash = ? AND org_id = ?`,
		hotline.KeyHash(ck), orgID).Scan(&caseID, &hash, &failed, &lockedNT)
	if err != nil {
		auth.CheckPassword(dummyHash, cpw) // same cost as a real check
		return fail(ErrBadKey)
	}
	locked := tp(lockedNT)
	now := s.now()
	if locked != nil && now.Before(*locked) {
		return fail(ErrLocked)
	}
	if !auth.CheckPassword(hash, cpw) {
		failed++
		var lockUntil any
		why := ErrBadKey
		if failed >= s.WrongPasswordsBeforeLock {
			lockUntil, failed, why = now.Add(s.LockFor), 0, ErrLocked
		}
		if err := s.DB.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE hotline_reports SET failed_attempts = ?, locked_until = ? WHERE case_id = ?`, failed, lockUntil, caseID)
			return err
		}); err != nil {
			return "", "", err
		}
		return fail(why)
	}
	token = randomToken()
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM hotline_access WHERE expires_at < ?`, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE hotline_reports SET failed_attempts = 0, locked_until = NULL WHERE case_id = ?`, caseID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO hotline_access (token_hash, case_id, expires_at) VALUES (?, ?, ?)`, tokenHash(token), caseID, now.Add(30*time.Minute))
		return err
	})
	return token, caseID, err
}

var dummyHash = auth.HashPassword("vigil-hotline-timing")

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// ReporterView is everything a reporter may see of their report.
type ReporterView struct {
	Ref           string     `json:"ref"`
	Status        string     `json:"status"`
	Category      string     `json:"category"`
	CreatedAt     time.Time  `json:"created_at"`
	AckDueAt      *time.Time `json:"acknowledge_by"`
	AckedAt       *time.Time `json:"acknowledged_at"`
	FeedbackDueAt *time.Time `json:"feedback_by"`
	Messages      []Message  `json:"messages"`
}

// Reporter returns the report behind a token from Access.
func (s *Service) Reporter(ctx context.Context, orgID, token string) (*ReporterView, *Case, error) {
	var caseID string
	err := s.DB.QueryRow(ctx, `SELECT a.case_id FROM hotline_access a JOIN cases c ON c.id = a.case_id WHERE a.token_hash = ? AND a.expires_at > ? AND c.org_id = ?`,
		tokenHash(token), s.Now().UTC(), orgID).Scan(&caseID)
	if err != nil {
		return nil, nil, ErrExpired
	}
	c, err := s.caseByID(ctx, caseID)
	if err != nil {
		return nil, nil, err
	}
	v := &ReporterView{Ref: c.Ref(), Status: reporterStatus(c.Status), CreatedAt: c.CreatedAt, AckDueAt: c.AckDueAt, AckedAt: c.AckedAt, FeedbackDueAt: c.FeedbackDueAt}
	if err := s.DB.QueryRow(ctx, `SELECT category FROM hotline_reports WHERE case_id = ?`, caseID).Scan(&v.Category); err != nil {
		return nil, nil, err
	}
	v.Category = label(HotlineCategories, v.Category)
	if v.Messages, err = s.Messages(ctx, c); err != nil {
		return nil, nil, err
	}
	return v, c, nil
}

// reporterStatus tells a reporter where their report stands without
// revealing investigation detail.
func reporterStatus(s string) string {
	switch s {
	case "intake":
		return "Received"
	case "closed":
		return "Closed"
	}
	return "Being looked into"
}

// Messages lists a hotline case's messages, oldest first.
func (s *Service) Messages(ctx context.Context, c *Case) ([]Message, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, sender, body, created_at FROM hotline_messages WHERE case_id = ? ORDER BY created_at, id`, c.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.ID, &m.Sender, &m.Body, &m.CreatedAt); err != nil {
			return nil, err
		}
		m.CreatedAt = m.CreatedAt.UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// ReporterMessage adds information from the reporter.
func (s *Service) ReporterMessage(ctx context.Context, c *Case, body string) error {
	body, err := text("text", body, true, 20000)
	if err != nil {
		return err
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO hotline_messages (id, case_id, org_id, sender, body, created_at) VALUES (?, ?, ?, 'reporter', ?, ?)`,
			store.NewID(), c.ID, c.OrgID, body, s.now()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE cases SET updated_at = ? WHERE id = ?`, s.now(), c.ID)
		return err
	})
}

// Reply sends a message to the reporter. The first reply acknowledges
// receipt; feedback marks the statutory feedback as given.
func (s *Service) Reply(ctx context.Context, p *auth.Principal, c *Case, body string, feedback bool) error {
	if c.Source != "hotline" {
		return invalid("body", "only hotline reports have a reporter to reply to")
	}
	body, err := text("body", body, true, 20000)
	if err != nil {
		return err
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		now := s.now()
		if _, err := tx.Exec(ctx, `INSERT INTO hotline_messages (id, case_id, org_id, sender, author_id, body, created_at) VALUES (?, ?, ?, 'staff', ?, ?, ?)`,
			store.NewID(), c.ID, c.OrgID, p.UserID, body, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET acked_at = COALESCE(acked_at, ?), updated_at = ? WHERE id = ?`, now, now, c.ID); err != nil {
			return err
		}
		if feedback {
			if _, err := tx.Exec(ctx, `UPDATE cases SET feedback_at = COALESCE(feedback_at, ?) WHERE id = ?`, now, c.ID); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, p, c.OrgID, "hotline.reply", "case", c.ID, map[string]any{"feedback": feedback})
	})
}

// Triage turns an intake case into an investigation: type, title and lead,
// status open.
func (s *Service) Triage(ctx context.Context, p *auth.Principal, c *Case, in CaseInput) error {
	if c.Status != "intake" {
		return invalid("status", "only intake cases are triaged")
	}
	if in.LeadID == "" {
		return invalid("lead_id", "choose who leads the investigation")
	}
	if err := s.UpdateCase(ctx, p, c, in); err != nil {
		return err
	}
	c.LeadID = in.LeadID
	return s.Move(ctx, p, c, "open")
}

// Reminder is a statutory or case deadline due soon or overdue.
type Reminder struct {
	OrgID   string    `json:"org_id"`
	CaseID  string    `json:"case_id"`
	Ref     string    `json:"ref"`
	LeadID  string    `json:"lead_id"`
	What    string    `json:"what"` // acknowledge, feedback, due
	DueAt   time.Time `json:"due_at"`
	Overdue bool      `json:"overdue"`
}

// Reminders lists every open case deadline within `within` of now or past,
// across organisations, for a notifier; it reads no case content.
func (s *Service) Reminders(ctx context.Context, within time.Duration) ([]Reminder, error) {
	now := s.Now().UTC()
	rows, err := s.DB.Query(ctx, `SELECT c.org_id, c.id, c.number, COALESCE(c.lead_id, ''), w.what, w.due FROM cases c JOIN (
		SELECT id, 'acknowledge' AS what, ack_due_at AS due FROM cases WHERE acked_at IS NULL AND ack_due_at IS NOT NULL
		UNION ALL SELECT id, 'feedback', feedback_due_at FROM cases WHERE feedback_at IS NULL AND feedback_due_at IS NOT NULL
		UNION ALL SELECT id, 'due', due_at FROM cases WHERE due_at IS NOT NULL) w ON w.id = c.id
		WHERE c.status <> 'closed' AND w.due < ? ORDER BY w.due`, now.Add(within))
	if err != nil {
		return nil, fmt.Errorf("reminders: %w", err)
	}
	defer rows.Close()
	var out []Reminder
	for rows.Next() {
		var r Reminder
		var n int
		if err := rows.Scan(&r.OrgID, &r.CaseID, &n, &r.LeadID, &r.What, &r.DueAt); err != nil {
			return nil, err
		}
		r.DueAt = r.DueAt.UTC()
		r.Ref, r.Overdue = (&Case{Number: n}).Ref(), now.After(r.DueAt)
		out = append(out, r)
	}
	return out, rows.Err()
}
