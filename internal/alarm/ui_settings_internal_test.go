package alarm

import (
	"context"
	"strings"
	"testing"
	"time"

	"vigil/internal/org"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestEscalationUsesSettings: the escalation tick takes each
// organisation's own times, else its parent's, else the defaults it is
// given, and the stored row is what counts (not a cached copy).
func TestEscalationUsesSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		s, a := fixture(t, db, &now) // a's organisation is an operator
		orgs := &org.Service{DB: db, Now: func() time.Time { return now }}
		var client *org.Site
		err := db.Write(ctx, func(tx *store.Tx) error {
			o := &org.Org{Kind: "client", Name: "Client", Slug: "client", Timezone: "UTC", ParentID: a.OrgID}
			if err := orgs.CreateOrg(ctx, tx, o, nil); err != nil {
				return err
			}
			client = &org.Site{OrgID: o.ID, Name: "Shop", Timezone: "UTC"}
			return orgs.CreateSiteTx(ctx, tx, client, nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		raise := func(orgID, siteID, key string) {
			e := Event{OrgID: orgID, SiteID: siteID, Account: key, Source: "webhook", DedupKey: key, ReceivedAt: now, Class: TypeBurglary,
				Kind: KindAlarm, Type: TypeBurglary, Priority: PriorityProperty, Description: "Intrusion"}
			if err := s.Ingest(ctx, []Event{e}); err != nil {
				t.Fatal(err)
			}
		}
		raise(a.OrgID, a.SiteID, "op")
		raise(client.OrgID, client.ID, "client")
		level := func(orgID string) int {
			as, err := s.Alarms(ctx, []string{orgID}, AlarmFilter{}, 10, 0)
			if err != nil || len(as) != 1 {
				t.Fatalf("alarms of %s: %v %+v", orgID, err, as)
			}
			return as[0].Escalation
		}

		// The operator escalates priority 2 after 20 s; its client has no
		// times of its own and follows.
		if _, err := s.SaveSettings(ctx, SettingsInput{OrgID: a.OrgID, EscalateP1S: 15, EscalateP2S: 20, EscalateP3S: 0, EscalateP4S: 0}, DefaultEscalation, nil); err != nil {
			t.Fatal(err)
		}
		now = now.Add(25 * time.Second) // the default for priority 2 is a minute
		if err := s.Escalate(ctx, DefaultEscalation); err != nil {
			t.Fatal(err)
		}
		if l := level(a.OrgID); l != 1 {
			t.Fatalf("operator alarm after 25 s with a 20 s setting: level %d, want 1", l)
		}
		if l := level(client.OrgID); l != 1 {
			t.Fatalf("client alarm (inherits 20 s): level %d, want 1", l)
		}
		st, err := s.Settings(ctx, client.OrgID, DefaultEscalation)
		if err != nil || st.Source != "parent" || st.EscalateP2S != 20 {
			t.Fatalf("client settings: %v %+v", err, st)
		}

		// The client's own times win over the operator's: never for priority 2.
		if _, err := s.SaveSettings(ctx, SettingsInput{OrgID: client.OrgID, EscalateP1S: 30, EscalateP2S: 0, EscalateP3S: 300, EscalateP4S: 600}, DefaultEscalation, nil); err != nil {
			t.Fatal(err)
		}
		now = now.Add(10 * time.Minute)
		if err := s.Escalate(ctx, DefaultEscalation); err != nil {
			t.Fatal(err)
		}
		if l := level(client.OrgID); l != 1 {
			t.Fatalf("client alarm with escalation off: level %d, want it to stay 1", l)
		}
		if l := level(a.OrgID); l != 31 { // 625 s / 20 s
			t.Fatalf("operator alarm: level %d, want 31", l)
		}

		// Reset: the client follows the operator again.
		if err := s.ResetSettings(ctx, client.OrgID, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Escalate(ctx, DefaultEscalation); err != nil {
			t.Fatal(err)
		}
		if l := level(client.OrgID); l != 31 {
			t.Fatalf("client alarm after reset: level %d, want 31", l)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action LIKE 'alarm_settings.%'`); n != 3 {
			t.Fatalf("audit rows for settings: %d, want 3 (two saves, one reset)", n)
		}
	})
}

func TestSettingsValidate(t *testing.T) {
	for _, tc := range []struct {
		in    SettingsInput
		field string
	}{
		{SettingsInput{EscalateP1S: 30, EscalateP2S: 60, EscalateP3S: 300, EscalateP4S: 600}, ""},
		{SettingsInput{EscalateP1S: 10, EscalateP2S: 0, EscalateP3S: 0, EscalateP4S: 86400}, ""},
		{SettingsInput{EscalateP1S: 0, EscalateP2S: 60}, "escalate_p1_s"},   // life safety cannot be switched off
		{SettingsInput{EscalateP1S: 601, EscalateP2S: 60}, "escalate_p1_s"}, // nor put off beyond ten minutes
		{SettingsInput{EscalateP1S: 30, EscalateP2S: 5}, "escalate_p2_s"},
		{SettingsInput{EscalateP1S: 30, EscalateP3S: -1}, "escalate_p3_s"},
		{SettingsInput{EscalateP1S: 30, EscalateP4S: 86401}, "escalate_p4_s"},
	} {
		err := tc.in.Validate()
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: %v", tc.in, err)
		case tc.field != "" && (err == nil || !strings.Contains(err.Error(), tc.field)):
			t.Errorf("%+v: %v, want an error on %s", tc.in, err, tc.field)
		}
	}
}
