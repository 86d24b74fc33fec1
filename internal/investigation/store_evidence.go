package investigation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"vigil/internal/auth"
	"vigil/internal/blob"
	"vigil/internal/investigation/custody"
	"vigil/internal/store"
)

// ErrTooLarge is returned for an upload over MaxUpload.
var ErrTooLarge = errors.New("file too large")

// PutFile stores uploaded content immutably and returns its SHA-256, hashed
// as it streams in (the hash recorded at intake is the one computed here,
// never one the client sent).
func (s *Service) PutFile(ctx context.Context, r io.Reader) (sum string, size int64, err error) {
	sum, size, err = s.Blob.Put(ctx, r, s.MaxUpload)
	if errors.Is(err, blob.ErrTooLarge) {
		return "", 0, ErrTooLarge
	}
	return sum, size, err
}

// EvidenceInput registers evidence. Digital evidence carries the stored
// file's hash (from PutFile); physical evidence carries where it is kept.
type EvidenceInput struct {
	Kind        string `json:"kind"`
	Label       string `json:"label"`
	Description string `json:"description,omitempty"`
	Location    string `json:"location,omitempty"`
	InterviewID string `json:"interview_id,omitempty"`
	SHA256      string `json:"-"`
	Size        int64  `json:"-"`
	Filename    string `json:"-"`
	ContentType string `json:"-"`
}

// Validate checks evidence.
func (in *EvidenceInput) Validate() error {
	var err error
	if in.Kind != "digital" && in.Kind != "physical" {
		return invalid("kind", "must be digital or physical")
	}
	if in.Kind == "digital" && in.SHA256 == "" {
		return invalid("file", "is required for digital evidence")
	}
	if in.Label == "" && in.Filename != "" {
		in.Label = in.Filename
	}
	if in.Label, err = text("label", in.Label, true, 200); err != nil {
		return err
	}
	if in.Description, err = text("description", in.Description, false, 5000); err != nil {
		return err
	}
	if in.Location, err = text("location", in.Location, in.Kind == "physical", 200); err != nil {
		return err
	}
	if in.Filename, err = text("file", in.Filename, false, 255); err != nil {
		return err
	}
	in.ContentType, _ = text("content_type", in.ContentType, false, 100)
	return nil
}

// AddEvidence registers an item and opens its chain of custody with an
// intake link: the caller holds it from now on.
func (s *Service) AddEvidence(ctx context.Context, p *auth.Principal, c *Case, in EvidenceInput) (*Evidence, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if in.InterviewID != "" {
		var n int
		s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM interviews WHERE id = ? AND case_id = ?`, in.InterviewID, c.ID).Scan(&n)
		if n == 0 {
			return nil, invalid("interview_id", "is not an interview of this case")
		}
	}
	now := s.now()
	ev := &Evidence{ID: store.NewID(), CaseID: c.ID, OrgID: c.OrgID, Kind: in.Kind, Label: in.Label, Description: in.Description, SHA256: in.SHA256,
		Size: in.Size, Filename: in.Filename, ContentType: in.ContentType, InterviewID: in.InterviewID, CreatedAt: now,
		HolderID: p.UserID, Holder: p.Name, Location: in.Location}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		if ev.Number, err = nextNumber(ctx, tx, "evidence:"+c.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO evidence (id, case_id, org_id, number, kind, label, description, sha256, size, filename, content_type, interview_id, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ev.ID, c.ID, c.OrgID, ev.Number, ev.Kind, ev.Label, ev.Description, ev.SHA256, ev.Size,
			ev.Filename, ev.ContentType, nullStr(ev.InterviewID), p.UserID, now); err != nil {
			return fmt.Errorf("add evidence: %w", err)
		}
		l := custody.Link{EvidenceID: ev.ID, EvidenceSHA256: ev.SHA256, Action: "intake", ToUserID: p.UserID, ToName: p.Name, At: now,
			Reason: "intake", Location: in.Location, SignedByID: p.UserID, SignedBy: p.Email}
		l.Seal(nil)
		if err := insertLink(ctx, tx, c, &l); err != nil {
			return err
		}
		return s.record(ctx, tx, p, c.OrgID, "evidence.add", "case", c.ID, map[string]any{"evidence_id": ev.ID, "kind": ev.Kind, "sha256": ev.SHA256, "size": ev.Size})
	})
	if err != nil {
		return nil, err
	}
	return ev, nil
}

func insertLink(ctx context.Context, tx *store.Tx, c *Case, l *custody.Link) error {
	_, err := tx.Exec(ctx, `INSERT INTO custody (id, evidence_id, case_id, org_id, seq, action, from_user_id, from_name, to_user_id, to_name, at, reason, condition, location,
		signed_by_id, signed_by, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		store.NewID(), l.EvidenceID, c.ID, c.OrgID, l.Seq, l.Action, l.FromUserID, l.FromName, l.ToUserID, l.ToName, l.At, l.Reason, l.Condition, l.Location,
		l.SignedByID, l.SignedBy, l.PrevHash, l.Hash)
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("custody changed meanwhile; try again: %w", store.ErrBusy)
	}
	return err
}

const evidenceCols = `e.id, e.case_id, e.org_id, e.number, e.kind, e.label, e.description, e.sha256, e.size, e.filename, e.content_type, COALESCE(e.interview_id, ''), e.created_at,
	COALESCE((SELECT k.to_user_id FROM custody k WHERE k.evidence_id = e.id ORDER BY k.seq DESC LIMIT 1), ''),
	COALESCE((SELECT k.to_name FROM custody k WHERE k.evidence_id = e.id ORDER BY k.seq DESC LIMIT 1), ''),
	COALESCE((SELECT k.location FROM custody k WHERE k.evidence_id = e.id ORDER BY k.seq DESC LIMIT 1), ''),
	COALESCE((SELECT CASE WHEN x.ok THEN 'ok' ELSE 'tampered' END FROM evidence_checks x WHERE x.evidence_id = e.id ORDER BY x.at DESC, x.id DESC LIMIT 1), '')`

func scanEvidence(sc interface{ Scan(...any) error }) (*Evidence, error) {
	var e Evidence
	if err := sc.Scan(&e.ID, &e.CaseID, &e.OrgID, &e.Number, &e.Kind, &e.Label, &e.Description, &e.SHA256, &e.Size, &e.Filename, &e.ContentType, &e.InterviewID,
		&e.CreatedAt, &e.HolderID, &e.Holder, &e.Location, &e.Integrity); err != nil {
		return nil, store.NotFound(err)
	}
	e.CreatedAt = e.CreatedAt.UTC()
	return &e, nil
}

// Evidence lists a case's evidence.
func (s *Service) Evidence(ctx context.Context, c *Case) ([]*Evidence, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+evidenceCols+` FROM evidence e WHERE e.case_id = ? ORDER BY e.number`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	defer rows.Close()
	var out []*Evidence
	for rows.Next() {
		e, err := scanEvidence(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// EvidenceItem returns one item of case c.
func (s *Service) EvidenceItem(ctx context.Context, c *Case, id string) (*Evidence, error) {
	return scanEvidence(s.DB.QueryRow(ctx, `SELECT `+evidenceCols+` FROM evidence e WHERE e.id = ? AND e.case_id = ?`, id, c.ID))
}

// Chain returns an item's custody links in order.
func (s *Service) Chain(ctx context.Context, ev *Evidence) ([]custody.Link, error) {
	return chain(ctx, s.DB, ev.ID)
}

func chain(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (*sqlRows, error)
}, id string) ([]custody.Link, error) {
	rows, err := q.Query(ctx, `SELECT k.evidence_id, e.sha256, k.seq, k.action, k.from_user_id, k.from_name, k.to_user_id, k.to_name, k.at, k.reason, k.condition,
		k.location, k.signed_by_id, k.signed_by, k.prev_hash, k.hash FROM custody k JOIN evidence e ON e.id = k.evidence_id WHERE k.evidence_id = ? ORDER BY k.seq`, id)
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	defer rows.Close()
	var out []custody.Link
	for rows.Next() {
		var l custody.Link
		if err := rows.Scan(&l.EvidenceID, &l.EvidenceSHA256, &l.Seq, &l.Action, &l.FromUserID, &l.FromName, &l.ToUserID, &l.ToName, &l.At, &l.Reason,
			&l.Condition, &l.Location, &l.SignedByID, &l.SignedBy, &l.PrevHash, &l.Hash); err != nil {
			return nil, err
		}
		l.At = l.At.UTC()
		out = append(out, l)
	}
	return out, rows.Err()
}

// TransferInput hands evidence to someone. Password is the signer's own
// login password: re-entering it is the signature on the transfer.
type TransferInput struct {
	ToUserID  string `json:"to_user_id"`
	Reason    string `json:"reason"`
	Condition string `json:"condition,omitempty"`
	Location  string `json:"location,omitempty"`
	Password  string `json:"password"`
}

// Transfer appends a custody link from the current holder to another active
// user of the organisation. Nothing is written unless every check passes.
func (s *Service) Transfer(ctx context.Context, p *auth.Principal, c *Case, ev *Evidence, in TransferInput) (*custody.Link, error) {
	var err error
	if in.Reason, err = text("reason", in.Reason, true, 1000); err != nil {
		return nil, err
	}
	if in.Condition, err = text("condition", in.Condition, false, 1000); err != nil {
		return nil, err
	}
	if in.Location, err = text("location", in.Location, false, 200); err != nil {
		return nil, err
	}
	if in.ToUserID == "" {
		return nil, invalid("to_user_id", "is required")
	}
	to, err := s.person(ctx, c.OrgID, in.ToUserID)
	if errors.Is(err, ErrNotMember) {
		return nil, invalid("to_user_id", "is not an active user of this organisation (they may have left); choose someone who can take custody")
	}
	if err != nil {
		return nil, err
	}
	if in.ToUserID == ev.HolderID {
		return nil, invalid("to_user_id", "already holds this item")
	}
	if in.Password == "" {
		return nil, invalid("password", "is required: your password signs the transfer")
	}
	u, err := s.Auth.Verify(ctx, p.Email, in.Password)
	if err != nil || u.ID != p.UserID {
		return nil, invalid("password", "is wrong; the transfer was not recorded")
	}
	var l custody.Link
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		// Concurrent transfers of one item queue on its row (PostgreSQL;
		// SQLite's single writer already serialises them).
		var id string
		if err := tx.QueryRow(ctx, `SELECT id FROM evidence WHERE id = ?`+tx.Dialect().ForUpdate(), ev.ID).Scan(&id); err != nil {
			return store.NotFound(err)
		}
		links, err := chain(ctx, txQuerier{tx}, ev.ID)
		if err != nil {
			return err
		}
		if len(links) == 0 {
			return fmt.Errorf("evidence %s has no intake link", ev.ID)
		}
		last := &links[len(links)-1]
		loc := in.Location
		if loc == "" {
			loc = last.Location
		}
		l = custody.Link{EvidenceID: ev.ID, EvidenceSHA256: ev.SHA256, Action: "transfer", FromUserID: last.ToUserID, FromName: last.ToName,
			ToUserID: to.ID, ToName: to.Name, At: s.now(), Reason: in.Reason, Condition: in.Condition, Location: loc, SignedByID: p.UserID, SignedBy: p.Email}
		l.Seal(last)
		if err := insertLink(ctx, tx, c, &l); err != nil {
			return err
		}
		return s.record(ctx, tx, p, c.OrgID, "evidence.transfer", "case", c.ID, map[string]any{"evidence_id": ev.ID, "seq": l.Seq, "to_user_id": to.ID})
	})
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// Check is the result of re-verifying one item.
type Check struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// VerifyEvidence re-hashes a digital item's stored content and checks its
// custody chain, records the result (append-only) and, on failure, flags it
// in the audit log.
func (s *Service) VerifyEvidence(ctx context.Context, p *auth.Principal, c *Case, ev *Evidence) (Check, error) {
	links, err := s.Chain(ctx, ev)
	if err != nil {
		return Check{}, err
	}
	var problems []string
	if ev.Kind == "digital" {
		switch err := s.Blob.Verify(ctx, ev.SHA256); {
		case errors.Is(err, blob.ErrTampered):
			problems = append(problems, "stored file no longer matches its SHA-256 recorded at intake")
		case errors.Is(err, blob.ErrNotFound):
			problems = append(problems, "stored file is missing")
		case err != nil:
			return Check{}, fmt.Errorf("verify blob: %w", err)
		}
	}
	if b := custody.Verify(links, ev.ID, ev.SHA256); b != nil {
		problems = append(problems, b.Error())
	}
	ck := Check{OK: len(problems) == 0, Detail: "file hash and custody chain verified"}
	if !ck.OK {
		ck.Detail = strings.Join(problems, "; ")
	}
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO evidence_checks (id, evidence_id, org_id, at, ok, detail) VALUES (?, ?, ?, ?, ?, ?)`,
			store.NewID(), ev.ID, c.OrgID, s.now(), ck.OK, ck.Detail); err != nil {
			return err
		}
		action := "evidence.verify"
		if !ck.OK {
			action = "evidence.tampered"
		}
		return s.record(ctx, tx, p, c.OrgID, action, "case", c.ID, map[string]any{"evidence_id": ev.ID, "ok": ck.OK, "detail": ck.Detail})
	})
	if ck.OK {
		ev.Integrity = "ok"
	} else {
		ev.Integrity = "tampered"
	}
	return ck, err
}

// OpenFile returns a digital item's content, verifying as it is read is left
// to VerifyEvidence; downloads are logged by the caller.
func (s *Service) OpenFile(ctx context.Context, ev *Evidence) (io.ReadCloser, error) {
	if ev.Kind != "digital" {
		return nil, store.ErrNotFound
	}
	rc, err := s.Blob.Open(ctx, ev.SHA256)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, store.ErrNotFound
	}
	return rc, err
}

// verifyChain returns why an item's chain is broken, or "".
func verifyChain(links []custody.Link, ev *Evidence) string {
	if b := custody.Verify(links, ev.ID, ev.SHA256); b != nil {
		return b.Error()
	}
	return ""
}
