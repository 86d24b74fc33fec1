package app_test

import (
	"context"
	"fmt"
	"testing"

	"vigil/internal/alarm"
	"vigil/internal/app/apptest"
	"vigil/internal/auth"
)

// freshAlarm raises a new trouble alarm for tenant t (the general SOP has
// no required steps, so it can be resolved at once) and moves it to state.
func freshAlarm(t *testing.T, e *apptest.Env, tn *apptest.Tenant, state string) *alarm.Alarm {
	t.Helper()
	seq++
	ctx := context.Background()
	s := e.App.Alarm.S
	evs := []alarm.Event{{OrgID: tn.Org.ID, SiteID: tn.Site.ID, Account: "matrix", Source: "webhook", DedupKey: fmt.Sprintf("matrix/%d", seq),
		ReceivedAt: s.Now().UTC(), Class: "trouble", Kind: alarm.KindAlarm, Type: alarm.TypeTrouble, Priority: alarm.PriorityTrouble,
		Zone: fmt.Sprint(seq), Description: "AC power loss"}}
	if err := s.Ingest(ctx, evs); err != nil {
		t.Fatal(err)
	}
	var id string
	if err := e.App.DB.QueryRow(ctx, `SELECT alarm_id FROM alarm_events WHERE dedup_key = ?`, evs[0].DedupKey).Scan(&id); err != nil {
		t.Fatal(err)
	}
	a, err := s.Alarm(ctx, []string{tn.Org.ID}, id)
	if err != nil {
		t.Fatal(err)
	}
	if state == alarm.StateResolved {
		// The tenant's dispatcher resolved it (a fixture, not a request).
		owner := tn.Users[auth.Dispatcher]
		p := &auth.Principal{UserID: owner.ID, Email: owner.Email, Name: owner.Name, OrgID: tn.Org.ID, Access: map[string]auth.Role{tn.Org.ID: auth.Dispatcher}}
		if err := s.Resolve(ctx, a, alarm.ResolveInput{Disposition: "false_equipment"}, p); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func alarmReq(t *testing.T, suffix, state string) func(e *apptest.Env, tn *apptest.Tenant) (string, any) {
	return func(e *apptest.Env, tn *apptest.Tenant) (string, any) {
		return "/alarms/" + freshAlarm(curT, e, tn, state).ID + suffix, nil
	}
}

func alarmBody(t *testing.T, suffix string, body map[string]any) func(e *apptest.Env, tn *apptest.Tenant) (string, any) {
	return func(e *apptest.Env, tn *apptest.Tenant) (string, any) {
		return "/alarms/" + freshAlarm(curT, e, tn, alarm.StateNew).ID + suffix, body
	}
}

func accountReq(t *testing.T, suffix string) func(e *apptest.Env, tn *apptest.Tenant) (string, any) {
	return func(e *apptest.Env, tn *apptest.Tenant) (string, any) {
		seq++
		num := fmt.Sprintf("B%04X", seq)
		a, err := e.App.Alarm.S.CreateAccount(context.Background(), []string{tn.Org.ID}, alarm.AccountInput{SiteID: &tn.Site.ID, Number: &num}, nil)
		if err != nil {
			curT.Fatal(err)
		}
		return "/alarm-accounts/" + a.ID + suffix, nil
	}
}

func webhookSource(t *testing.T, e *apptest.Env, tn *apptest.Tenant) *alarm.Source {
	src, err := e.App.Alarm.S.CreateSource(context.Background(), []string{tn.Org.ID}, alarm.SourceInput{SiteID: tn.Site.ID, Kind: "webhook", Name: "Matrix camera"}, nil)
	if err != nil {
		curT.Fatal(err)
	}
	return src
}
