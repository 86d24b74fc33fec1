package alarm

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"time"

	"vigil/internal/store"
)

// Supervise raises a communication-failure alarm for every supervised
// account whose last signal is older than its interval. The synthetic
// event's dedup key names the account and its last signal time, so every
// server may run this and each failure is raised once; the account's next
// signal restores the alarm (in Ingest).
func (s *Service) Supervise(ctx context.Context) error {
	now := s.Now().UTC()
	rows, err := s.DB.Query(ctx, `SELECT a.id, a.org_id, a.site_id, s.name, a.number, a.supervision_s, a.last_signal_at, a.created_at,
		a.on_test_until FROM alarm_accounts a JOIN sites s ON s.id = a.site_id WHERE a.supervision_s > 0`)
	if err != nil {
		return err
	}
	var events []Event
	for rows.Next() {
		var a Account
		var site string
		var last, onTest sql.NullTime
		if err := rows.Scan(&a.ID, &a.OrgID, &a.SiteID, &site, &a.Number, &a.SupervisionS, &last, &a.CreatedAt, &onTest); err != nil {
			rows.Close()
			return err
		}
		if last.Valid {
			a.LastSignalAt = utcPtr(last.Time)
		}
		if onTest.Valid {
			a.OnTestUntil = utcPtr(onTest.Time)
		}
		if !a.overdue(now) {
			continue
		}
		since := a.CreatedAt.UTC()
		if a.LastSignalAt != nil {
			since = *a.LastSignalAt
		}
		e := Event{OrgID: a.OrgID, SiteID: a.SiteID, AccountID: a.ID, Account: a.Number, Source: "supervision",
			DedupKey: fmt.Sprintf("supervision/%s/%d", a.ID, since.UnixNano()), ReceivedAt: now, Class: "supervision",
			Kind: KindAlarm, Type: TypeCommFailure, Priority: DefaultPriority(TypeCommFailure), SiteName: site, OnTest: a.OnTest(now),
			Description: fmt.Sprintf("Communication failure: no signal since %s (interval %ds)", since.Format(time.RFC3339), a.SupervisionS)}
		if e.OnTest {
			e.Kind = KindInfo
		}
		events = append(events, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return s.Ingest(ctx, events)
}

// EscalateAfter is how long an alarm may stay unacknowledged, per
// priority, before it escalates (and again after each further period).
type EscalateAfter map[int]time.Duration

// DefaultEscalation: life-safety alarms escalate after 30 s.
var DefaultEscalation = EscalateAfter{PriorityLife: 30 * time.Second, PriorityProperty: time.Minute,
	PriorityTrouble: 5 * time.Minute, PriorityOther: 10 * time.Minute}

// Escalate raises the escalation level of unacknowledged alarms past their
// deadline; the console shows the level, and the change is logged and
// published. The conditional UPDATE makes concurrent servers harmless.
// Each organisation's settings (its own, else its parent's) decide the
// periods; defaults applies where neither has any.
func (s *Service) Escalate(ctx context.Context, defaults EscalateAfter) error {
	now := s.Now().UTC()
	rows, err := s.DB.Query(ctx, `SELECT `+alarmCols+alarmFrom+` WHERE a.state = 'new' ORDER BY a.priority, a.first_at LIMIT 500`)
	if err != nil {
		return err
	}
	var waiting []*Alarm
	orgs := map[string]bool{}
	for rows.Next() {
		a, err := scanAlarm(rows)
		if err != nil {
			rows.Close()
			return err
		}
		waiting = append(waiting, a)
		orgs[a.OrgID] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(waiting) == 0 {
		return nil
	}
	settings, err := s.settingsFor(ctx, s.DB, slices.Sorted(maps.Keys(orgs)), defaults)
	if err != nil {
		return err
	}
	var due []*Alarm
	for _, a := range waiting {
		d := settings[a.OrgID].After()[a.Priority]
		if d <= 0 {
			continue
		}
		if level := int(now.Sub(a.FirstAt) / d); level > a.Escalation {
			a.Escalation = level
			due = append(due, a)
		}
	}
	if len(due) == 0 {
		return nil
	}
	// One transaction for the whole tick: escalations compete with the
	// receiver's group commits for the single writer, so they must cost
	// one commit, not one per alarm.
	var changed []*Alarm
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		changed = changed[:0]
		for _, a := range due {
			res, err := tx.Exec(ctx, `UPDATE alarms SET escalation = ?, escalated_at = ?, updated_at = ? WHERE id = ? AND state = 'new' AND escalation < ?`,
				a.Escalation, now, now, a.ID, a.Escalation)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // acknowledged or escalated by another server meanwhile
			}
			a.EscalatedAt, a.UpdatedAt = &now, now
			changed = append(changed, a)
			if err := s.appendLog(ctx, tx, a, nil, now, LogEntry{Kind: "escalation", Status: fmt.Sprint(a.Escalation),
				Text: fmt.Sprintf("Not acknowledged after %s: escalated to level %d", now.Sub(a.FirstAt).Round(time.Second), a.Escalation)}); err != nil {
				return err
			}
			if err := s.record(ctx, tx, nil, a.OrgID, "alarm.escalate", "alarm", a.ID, map[string]any{"level": a.Escalation}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(changed) > 0 && s.Publish != nil {
		s.Publish(changed, nil)
	}
	return nil
}
