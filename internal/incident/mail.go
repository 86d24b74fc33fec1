package incident

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"vigil/internal/auth"
	"vigil/internal/store"
)

// Mailer sends email through an SMTP relay. A nil Mailer, or one without
// a host, is "not configured": notifications are then recorded only.
type Mailer struct {
	Host     string // host:port
	From     string
	Username string
	Password string
	// TLS is "starttls" (default: upgrade when the server offers it),
	// "tls" (implicit TLS, port 465) or "none".
	TLS     string
	Timeout time.Duration
}

// ParseSMTPURL reads smtp://user:pass@host:587?from=reports@example.com&tls=starttls.
// An empty string is "not configured" (nil, nil).
func ParseSMTPURL(s string) (*Mailer, error) {
	if s == "" {
		return nil, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
		return nil, errors.New("SMTP URL must look like smtp://user:pass@host:587?from=reports@example.com")
	}
	m := &Mailer{Host: u.Host, From: u.Query().Get("from"), TLS: u.Query().Get("tls"), Timeout: 20 * time.Second}
	if u.Scheme == "smtps" {
		m.TLS = "tls"
	}
	if m.TLS == "" {
		m.TLS = "starttls"
	}
	if m.TLS != "starttls" && m.TLS != "tls" && m.TLS != "none" {
		return nil, errors.New("SMTP tls must be starttls, tls or none")
	}
	if _, _, err := net.SplitHostPort(m.Host); err != nil {
		port := "587"
		if m.TLS == "tls" {
			port = "465"
		}
		m.Host = net.JoinHostPort(m.Host, port)
	}
	if u.User != nil {
		m.Username = u.User.Username()
		m.Password, _ = u.User.Password()
	}
	if _, err := auth.NormalizeEmail(m.From); err != nil {
		return nil, errors.New("SMTP URL needs from=<sender address>")
	}
	return m, nil
}

// Configured reports whether mail can be sent.
func (m *Mailer) Configured() bool { return m != nil && m.Host != "" }

// String describes the relay without its password.
func (m *Mailer) String() string {
	if !m.Configured() {
		return "not configured"
	}
	return fmt.Sprintf("smtp://%s (from %s)", m.Host, m.From)
}

// MailFile is an attachment of an email.
type MailFile struct {
	Name, ContentType string
	Data              []byte
}

// Message builds an RFC 5322 message with an optional attachment.
func (m *Mailer) Message(to []string, subject, body string, files []MailFile, now time.Time) []byte {
	var b bytes.Buffer
	var rb [12]byte
	rand.Read(rb[:])
	boundary := "vigil-" + hex.EncodeToString(rb[:])
	host := m.From[strings.LastIndex(m.From, "@")+1:]
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n",
		m.From, strings.Join(to, ", "), mime.QEncoding.Encode("utf-8", subject), now.Format(time.RFC1123Z), hex.EncodeToString(rb[:]), host)
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n", boundary)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n", boundary)
	wrap64(&b, []byte(body))
	for _, f := range files {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=%q\r\n\r\n",
			boundary, f.ContentType, f.Name)
		wrap64(&b, f.Data)
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}

func wrap64(b *bytes.Buffer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
}

// Send delivers msg to every recipient in one SMTP session.
func (m *Mailer) Send(ctx context.Context, to []string, msg []byte) error {
	if !m.Configured() {
		return errors.New("SMTP is not configured")
	}
	timeout := m.Timeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	d := net.Dialer{Timeout: timeout}
	host, _, _ := net.SplitHostPort(m.Host)
	var conn net.Conn
	var err error
	if m.TLS == "tls" {
		conn, err = tls.DialWithDialer(&d, "tcp", m.Host, &tls.Config{ServerName: host})
	} else {
		conn, err = d.DialContext(ctx, "tcp", m.Host)
	}
	if err != nil {
		return fmt.Errorf("smtp connect: %w", err)
	}
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: %w", err)
	}
	defer c.Close()
	if m.TLS == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
				return fmt.Errorf("smtp starttls: %w", err)
			}
		}
	}
	if m.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := c.Mail(m.From); err != nil {
		return fmt.Errorf("smtp MAIL FROM: %w", err)
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return fmt.Errorf("smtp RCPT TO %s: %w", r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp end of data: %w", err)
	}
	return c.Quit()
}

// Notification is a record of a client notification, sent or not.
type Notification struct {
	ID          string    `json:"id"`
	SubjectType string    `json:"subject_type"` // incident or dar
	SubjectID   string    `json:"subject_id"`
	Recipients  string    `json:"recipients"`
	Subject     string    `json:"subject"`
	Status      string    `json:"status"` // sent, recorded (no SMTP configured), failed
	Error       string    `json:"error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Notify emails subject/body (with a PDF) to recipients when SMTP is
// configured, and records the notification either way, with the audit entry.
func (s *Service) Notify(ctx context.Context, orgID, subjType, subjID string, to []string, subject, body string, file *MailFile, p *auth.Principal) (*Notification, error) {
	if len(to) == 0 {
		return nil, invalid("recipients", "add at least one client email address")
	}
	for n, r := range to {
		e, err := auth.NormalizeEmail(r)
		if err != nil {
			return nil, invalid("recipients", r+" "+err.Error())
		}
		to[n] = e
	}
	n := &Notification{ID: store.NewID(), SubjectType: subjType, SubjectID: subjID, Recipients: strings.Join(to, ", "), Subject: subject, Status: "recorded"}
	if s.Mail.Configured() {
		var files []MailFile
		if file != nil {
			files = append(files, *file)
		}
		if err := s.Mail.Send(ctx, to, s.Mail.Message(to, subject, body, files, s.Now())); err != nil {
			n.Status, n.Error = "failed", err.Error()
		} else {
			n.Status = "sent"
		}
	}
	n.CreatedAt = s.Now().UTC()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO incident_notifications (id, org_id, subject_type, subject_id, channel, recipients, subject, status, error, actor_id, created_at)
			VALUES (?, ?, ?, ?, 'email', ?, ?, ?, ?, ?, ?)`, n.ID, orgID, subjType, subjID, n.Recipients, subject, n.Status, n.Error, actorID(p), n.CreatedAt); err != nil {
			return err
		}
		return s.record(ctx, tx, p, orgID, subjType+".notify", subjType, subjID, map[string]any{"recipients": n.Recipients, "status": n.Status, "error": n.Error})
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// Notifications lists the notifications recorded for a subject, newest first.
func (s *Service) Notifications(ctx context.Context, orgID, subjID string) ([]*Notification, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, subject_type, subject_id, recipients, subject, status, error, created_at FROM incident_notifications
		WHERE org_id = ? AND subject_id = ? ORDER BY created_at DESC`, orgID, subjID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Notification{}
	for rows.Next() {
		var n Notification
		if err := rows.Scan(&n.ID, &n.SubjectType, &n.SubjectID, &n.Recipients, &n.Subject, &n.Status, &n.Error, &n.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, &n)
	}
	return out, rows.Err()
}
