package alarm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"vigil/internal/auth"
	"vigil/internal/store"
	"vigil/internal/web"
)

// errConflict is a 409 with a message the operator can act on.
func errConflict(format string, args ...any) error {
	return web.Errorf(http.StatusConflict, "conflict", format, args...)
}

// act runs fn on the alarm in one transaction after locking its row and
// checking it may be worked by p: an alarm is owned by whoever acknowledged
// it, and working a new alarm acknowledges it to you. The change, its log
// line and its audit entry commit together; the new state is published
// after commit. The first action fixes sop (the alarm's procedure, looked
// up when nil) on the alarm.
func (s *Service) act(ctx context.Context, a *Alarm, sop *SOP, p *auth.Principal, action string, data map[string]any,
	fn func(tx *store.Tx, a *Alarm, now time.Time) (logs []LogEntry, err error)) error {
	now := s.Now().UTC()
	var err error
	if sop == nil {
		if sop, err = s.SOPFor(ctx, a); err != nil {
			return err
		}
	}
	fixed, err := json.Marshal(sop)
	if err != nil {
		return err
	}
	var fresh *Alarm
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		lock := "" // SQLite's single writer already serialises
		if tx.Dialect() == store.Postgres {
			lock = " FOR UPDATE OF a" // the site join is nullable: lock the alarm row only
		}
		cur, err := scanAlarm(tx.QueryRow(ctx, `SELECT `+alarmCols+alarmFrom+` WHERE a.id = ? AND a.org_id = ?`+lock, a.ID, a.OrgID))
		if err != nil {
			return err
		}
		logs, err := fn(tx, cur, now)
		if err != nil {
			return err
		}
		cur.UpdatedAt = now
		_, err = tx.Exec(ctx, `UPDATE alarms SET state = ?, is_open = ?, owner_id = ?, owner_name = ?, acked_at = ?, dispatched_to = ?,
			resolved_at = ?, disposition = ?, closed_at = ?, escalation = ?, escalated_at = ?, updated_at = ? WHERE id = ?`,
			cur.State, cur.Open(), cur.OwnerID, cur.OwnerName, nullTime(cur.AckedAt), cur.DispatchedTo, nullTime(cur.ResolvedAt),
			cur.Disposition, nullTime(cur.ClosedAt), cur.Escalation, nullTime(cur.EscalatedAt), now, cur.ID)
		if err != nil {
			return fmt.Errorf("update alarm: %w", err)
		}
		// The first operator action fixes the procedure on the alarm.
		if _, err := tx.Exec(ctx, `UPDATE alarms SET sop = ? WHERE id = ? AND sop = ''`, string(fixed), cur.ID); err != nil {
			return fmt.Errorf("fix alarm procedure: %w", err)
		}
		for _, l := range logs {
			if err := s.appendLog(ctx, tx, cur, p, now, l); err != nil {
				return err
			}
		}
		if data == nil {
			data = map[string]any{}
		}
		data["state"] = cur.State
		if err := s.record(ctx, tx, p, cur.OrgID, action, "alarm", cur.ID, data); err != nil {
			return err
		}
		fresh = cur
		return nil
	})
	if err != nil {
		return err
	}
	*a = *fresh
	if s.Publish != nil {
		s.Publish([]*Alarm{fresh}, nil)
	}
	return nil
}

func (s *Service) appendLog(ctx context.Context, tx *store.Tx, a *Alarm, p *auth.Principal, now time.Time, l LogEntry) error {
	actorID, actor := "", "system"
	if p != nil {
		actorID, actor = p.UserID, actorName(p)
	}
	_, err := tx.Exec(ctx, `INSERT INTO alarm_log (id, org_id, alarm_id, at, actor_id, actor, kind, step, status, text) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		store.NewID(), a.OrgID, a.ID, now, actorID, actor, l.Kind, l.Step, l.Status, truncate(l.Text, 2000))
	if err != nil {
		return fmt.Errorf("alarm log: %w", err)
	}
	return nil
}

func actorName(p *auth.Principal) string {
	if p.Name != "" {
		return p.Name
	}
	return p.Email
}

// claim acknowledges a new alarm to p, or checks p owns it.
func claim(a *Alarm, p *auth.Principal, now time.Time) ([]LogEntry, error) {
	switch a.State {
	case StateNew:
		a.State, a.OwnerID, a.OwnerName, a.AckedAt = StateAcknowledged, p.UserID, actorName(p), &now
		return []LogEntry{{Kind: "state", Status: StateAcknowledged, Text: "Acknowledged"}}, nil
	case StateAcknowledged, StateInProgress:
		if a.OwnerID != p.UserID {
			return nil, errConflict("this alarm is being handled by %s", a.OwnerName)
		}
		return nil, nil
	}
	return nil, errConflict("this alarm is %s", strings.ReplaceAll(a.State, "_", " "))
}

// work claims the alarm and moves it to in progress.
func work(a *Alarm, p *auth.Principal, now time.Time) ([]LogEntry, error) {
	logs, err := claim(a, p, now)
	if err != nil {
		return nil, err
	}
	if a.State == StateAcknowledged {
		a.State = StateInProgress
		logs = append(logs, LogEntry{Kind: "state", Status: StateInProgress, Text: "In progress"})
	}
	return logs, nil
}

// Ack acknowledges a new alarm: p owns it from now on.
func (s *Service) Ack(ctx context.Context, a *Alarm, p *auth.Principal) error {
	return s.act(ctx, a, nil, p, "alarm.ack", nil, func(tx *store.Tx, a *Alarm, now time.Time) ([]LogEntry, error) {
		if a.State != StateNew {
			if a.OwnerID == p.UserID && a.Open() {
				return nil, nil // a double click is not an error
			}
			if a.Open() {
				return nil, errConflict("already acknowledged by %s", a.OwnerName)
			}
			return nil, errConflict("this alarm is %s", a.State)
		}
		return claim(a, p, now)
	})
}

// StepInput records progress on one SOP step.
type StepInput struct {
	Step   string `json:"step"`
	Status string `json:"status"` // done, skipped, answered
	Answer string `json:"answer,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Step records a SOP step (timestamped in the alarm's history and audited).
func (s *Service) Step(ctx context.Context, a *Alarm, in StepInput, p *auth.Principal) error {
	sop, err := s.SOPFor(ctx, a)
	if err != nil {
		return err
	}
	st, ok := sop.StepByID(in.Step)
	if !ok {
		return invalid("step", "is not a step of this alarm's procedure")
	}
	switch in.Status {
	case "done":
		if st.Kind == "question" {
			return invalid("status", "a question is answered, not done")
		}
	case "answered":
		found := false
		for _, ans := range st.Answers {
			found = found || ans.Label == in.Answer
		}
		if st.Kind != "question" || !found {
			return invalid("answer", "is not one of this question's answers")
		}
	case "skipped":
		if strings.TrimSpace(in.Reason) == "" {
			return invalid("reason", "is required to skip a step")
		}
	default:
		return invalid("status", "must be done, answered or skipped")
	}
	if utf8.RuneCountInString(in.Reason) > 1000 {
		return invalid("reason", "is longer than 1000 characters")
	}
	text := in.Answer
	if in.Status == "skipped" {
		text = strings.TrimSpace(in.Reason)
	}
	return s.act(ctx, a, sop, p, "alarm.step", map[string]any{"step": in.Step, "status": in.Status, "answer": in.Answer},
		func(tx *store.Tx, a *Alarm, now time.Time) ([]LogEntry, error) {
			logs, err := work(a, p, now)
			if err != nil {
				return nil, err
			}
			return append(logs, LogEntry{Kind: "step", Step: in.Step, Status: in.Status, Text: text}), nil
		})
}

// Progress returns what has been done on each SOP step (the latest entry
// per step wins, so a step can be redone).
func (s *Service) Progress(log []LogEntry) map[string]Progress {
	out := map[string]Progress{}
	for _, l := range log {
		if l.Kind == "step" {
			pr := Progress{Status: l.Status, Text: l.Text}
			if l.Status == "answered" {
				pr.Answer, pr.Text = l.Text, ""
			}
			out[l.Step] = pr
		}
	}
	return out
}

// Note adds a free-text note. Anyone who may handle alarms can add one,
// including to a closed alarm (late information).
func (s *Service) Note(ctx context.Context, a *Alarm, text string, p *auth.Principal) error {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > 2000 {
		return invalid("text", "must be 1–2000 characters")
	}
	return s.act(ctx, a, nil, p, "alarm.note", nil, func(tx *store.Tx, a *Alarm, now time.Time) ([]LogEntry, error) {
		return []LogEntry{{Kind: "note", Text: text}}, nil
	})
}

// Dispatch records that an officer or patrol was sent.
func (s *Service) Dispatch(ctx context.Context, a *Alarm, to string, p *auth.Principal) error {
	to = strings.TrimSpace(to)
	if to == "" || utf8.RuneCountInString(to) > 200 {
		return invalid("to", "must name the officer or patrol (1–200 characters)")
	}
	return s.act(ctx, a, nil, p, "alarm.dispatch", map[string]any{"to": to}, func(tx *store.Tx, a *Alarm, now time.Time) ([]LogEntry, error) {
		logs, err := work(a, p, now)
		if err != nil {
			return nil, err
		}
		a.DispatchedTo = to
		return append(logs, LogEntry{Kind: "dispatch", Text: "Dispatched " + to}), nil
	})
}

// ResolveInput closes the operator's work on an alarm.
type ResolveInput struct {
	Disposition string `json:"disposition"`
	Note        string `json:"note,omitempty"`
}

// ErrSOPIncomplete is returned when required steps are still open.
var ErrSOPIncomplete = errors.New("required procedure steps are not done or skipped")

// Resolve records the disposition. Every required step on the procedure's
// path must be done or skipped with a reason first.
func (s *Service) Resolve(ctx context.Context, a *Alarm, in ResolveInput, p *auth.Principal) error {
	if !validChoice(Dispositions, in.Disposition) {
		return invalid("disposition", "is not a known disposition")
	}
	if utf8.RuneCountInString(in.Note) > 2000 {
		return invalid("note", "is longer than 2000 characters")
	}
	sop, err := s.SOPFor(ctx, a)
	if err != nil {
		return err
	}
	return s.act(ctx, a, sop, p, "alarm.resolve", map[string]any{"disposition": in.Disposition},
		func(tx *store.Tx, a *Alarm, now time.Time) ([]LogEntry, error) {
			logs, err := work(a, p, now)
			if err != nil {
				return nil, err
			}
			log, err := s.logTx(ctx, tx, a)
			if err != nil {
				return nil, err
			}
			if _, complete := sop.Walk(s.Progress(log)); !complete {
				return nil, &web.Error{Status: http.StatusConflict, Code: "sop_incomplete", Message: ErrSOPIncomplete.Error()}
			}
			a.State, a.ResolvedAt, a.Disposition = StateResolved, &now, in.Disposition
			logs = append(logs, LogEntry{Kind: "state", Status: StateResolved, Text: dispositionLabel(in.Disposition)})
			if n := strings.TrimSpace(in.Note); n != "" {
				logs = append(logs, LogEntry{Kind: "note", Text: n})
			}
			return logs, nil
		})
}

func dispositionLabel(v string) string {
	for _, d := range Dispositions {
		if d.Value == v {
			return d.Label
		}
	}
	return v
}

// Close ends a resolved alarm (a supervisor's review, or at once).
func (s *Service) Close(ctx context.Context, a *Alarm, p *auth.Principal) error {
	return s.act(ctx, a, nil, p, "alarm.close", nil, func(tx *store.Tx, a *Alarm, now time.Time) ([]LogEntry, error) {
		if a.State != StateResolved {
			return nil, errConflict("only a resolved alarm can be closed")
		}
		a.State, a.ClosedAt = StateClosed, &now
		return []LogEntry{{Kind: "state", Status: StateClosed, Text: "Closed"}}, nil
	})
}

func (s *Service) logTx(ctx context.Context, tx *store.Tx, a *Alarm) ([]LogEntry, error) {
	rows, err := tx.Query(ctx, `SELECT id, at, actor_id, actor, kind, step, status, text FROM alarm_log WHERE alarm_id = ? ORDER BY at, id`, a.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LogEntry
	for rows.Next() {
		var e LogEntry
		if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.Actor, &e.Kind, &e.Step, &e.Status, &e.Text); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
