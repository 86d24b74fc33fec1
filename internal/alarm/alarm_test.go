package alarm

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"vigil/internal/alarm/dc09"
	"vigil/internal/alarm/receiver"
	"vigil/internal/auth"
	"vigil/internal/org"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

func signal(t testing.TB, token, data string) receiver.Signal {
	f := &dc09.Frame{Token: token, Sequence: "0001", Line: "0", HasLine: true, Account: "1234", Data: data}
	raw, err := f.Marshal(nil, nil, dc09.Quirks{})
	if err != nil {
		t.Fatal(err)
	}
	pf, err := dc09.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return receiver.Signal{Frame: pf, ReceivedAt: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), Raw: raw, Transport: "tcp"}
}

func TestFromSignal(t *testing.T) {
	acct := &Account{ID: "acc", OrgID: "org", SiteID: "site", ZoneMap: map[string]ZoneInfo{"3": {Name: "Back door", ZoneID: "z3"}},
		Overrides: map[string]Override{"602": {Type: TypeTrouble, Priority: 2}, "BA": {Priority: 1}}}
	later := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	onTest := &Account{ID: "acc2", OrgID: "org", SiteID: "site", OnTestUntil: &later}
	tests := []struct {
		name                   string
		acct                   *Account
		token, data            string
		kind, typ, zone, descr string
		prio, n                int
	}{
		{"cid fire", acct, dc09.TokenCID, "#1234|1110 01 007", KindAlarm, TypeFire, "7", "Fire", 1, 1},
		{"cid burglary mapped zone", acct, dc09.TokenCID, "#1234|1130 01 003", KindAlarm, TypeBurglary, "3", "Burglary", 2, 1},
		{"cid restore keeps the type", acct, dc09.TokenCID, "#1234|3130 01 003", KindRestore, TypeBurglary, "3", "restore", 2, 1},
		{"cid cancel", acct, dc09.TokenCID, "#1234|1406 01 001", KindCancel, TypeOther, "", "Cancel", 4, 1},
		{"cid open/close is info", acct, dc09.TokenCID, "#1234|1401 01 001", KindInfo, TypeOther, "", "", 4, 1},
		{"cid test report override", acct, dc09.TokenCID, "#1234|1602 00 000", KindAlarm, TypeTrouble, "", "", 2, 1},
		{"sia two events", acct, dc09.TokenSIA, "#1234|Nri1/BA003/FA012", KindAlarm, TypeBurglary, "3", "Burglary", 1, 2},
		{"sia restore", acct, dc09.TokenSIA, "#1234|NBR003", KindRestore, TypeBurglary, "3", "", 2, 1},
		{"sia cancel", acct, dc09.TokenSIA, "#1234|NBC001", KindCancel, TypeOther, "", "Cancel", 4, 1},
		{"null poll", acct, dc09.TokenNull, "", KindPoll, "", "", "poll", 0, 1},
		{"undecodable payload still alarms", acct, dc09.TokenCID, "#1234|garbage", KindAlarm, TypeOther, "", "Undecodable", 4, 1},
		{"on test: logged only", onTest, dc09.TokenCID, "#1234|1110 01 007", KindInfo, TypeFire, "7", "Fire", 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs := FromSignal(signal(t, tc.token, tc.data), tc.acct, "Site")
			if len(evs) != tc.n {
				t.Fatalf("%d events, want %d: %+v", len(evs), tc.n, evs)
			}
			e := evs[0]
			if e.Kind != tc.kind || e.Type != tc.typ || e.Zone != tc.zone || e.Priority != tc.prio || !strings.Contains(e.Description, tc.descr) {
				t.Fatalf("got kind %s type %s zone %q prio %d %q", e.Kind, e.Type, e.Zone, e.Priority, e.Description)
			}
			if tc.zone == "3" && tc.acct == acct && e.ZoneName != "Back door" {
				t.Fatalf("zone map not applied: %+v", e)
			}
			if tc.n == 2 && (evs[1].Type != TypeFire || evs[0].DedupKey == evs[1].DedupKey) {
				t.Fatalf("second SIA event: %+v", evs[1])
			}
		})
	}
}

func TestSOPWalk(t *testing.T) {
	sop := DefaultSOPs[TypeBurglary]
	walk := func(done map[string]Progress) ([]StepView, bool) { return sop.Walk(done) }
	v, ok := walk(nil)
	if ok || !v[0].Current || v[0].Status != "current" {
		t.Fatalf("fresh: complete=%v first=%+v", ok, v[0])
	}
	// The keyholder explains it: the procedure ends, police and patrol are off the path.
	v, ok = walk(map[string]Progress{"review": {Status: "done"}, "keyholder": {Status: "done"},
		"verified": {Status: "answered", Answer: "Explained by keyholder (valid password)"}})
	if !ok || v[3].OnPath || v[4].OnPath {
		t.Fatalf("explained: complete=%v %+v", ok, v)
	}
	// Verified: police is required, patrol optional.
	v, ok = walk(map[string]Progress{"review": {Status: "done"}, "keyholder": {Status: "skipped", Text: "no answer"},
		"verified": {Status: "answered", Answer: "Verified / unexplained"}})
	if ok || !v[3].Current {
		t.Fatalf("verified without police: complete=%v %+v", ok, v[3])
	}
	v, ok = walk(map[string]Progress{"review": {Status: "done"}, "keyholder": {Status: "done"},
		"verified": {Status: "answered", Answer: "Verified / unexplained"}, "police": {Status: "done"}})
	if !ok || v[4].Status != "current" {
		t.Fatalf("police done: complete=%v patrol %+v", ok, v[4])
	}
	for typ, d := range DefaultSOPs {
		if err := d.Validate(); err != nil {
			t.Errorf("default SOP %s: %v", typ, err)
		}
	}
	bad := &SOP{AlarmType: TypeFire, Name: "x", Steps: []Step{
		{ID: "a", Text: "q", Kind: "question", Answers: []Answer{{Label: "y", Next: "a"}, {Label: "n"}}}}}
	if err := bad.Validate(); err == nil {
		t.Fatal("a question leading back to itself must be refused")
	}
}

// fixture creates an org, a site and one supervised account.
func fixture(t *testing.T, db *store.DB, now *time.Time) (*Service, *Account) {
	ctx := context.Background()
	clock := func() time.Time { return *now }
	orgs := &org.Service{DB: db, Now: clock}
	var site *org.Site
	err := db.Write(ctx, func(tx *store.Tx) error {
		o := &org.Org{Kind: "operator", Name: "Op", Slug: "op", Timezone: "UTC"}
		if err := orgs.CreateOrg(ctx, tx, o, nil); err != nil {
			return err
		}
		site = &org.Site{OrgID: o.ID, Name: "Depot", Timezone: "UTC"}
		return orgs.CreateSiteTx(ctx, tx, site, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{DB: db, Now: clock}
	num, sup := "77", 60
	a, err := s.CreateAccount(ctx, []string{site.OrgID}, AccountInput{SiteID: &site.ID, Number: &num, SupervisionS: &sup}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, a
}

func TestSupervisionAndEscalation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		s, a := fixture(t, db, &now)
		var published []*Alarm
		s.Publish = func(as []*Alarm, _ []Event) { published = append(published, as...) }
		poll := func() {
			e := Event{OrgID: a.OrgID, SiteID: a.SiteID, AccountID: a.ID, Account: a.Number, Source: "dc09", DedupKey: "poll" + now.String(),
				ReceivedAt: now, Class: "poll", Kind: KindPoll}
			if err := s.Ingest(ctx, []Event{e}); err != nil {
				t.Fatal(err)
			}
		}
		poll()
		now = now.Add(50 * time.Second)
		if err := s.Supervise(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM alarms`); n != 0 {
			t.Fatalf("alarm before the deadline: %d", n)
		}
		now = now.Add(20 * time.Second) // 70 s without a signal
		for range 2 {                   // twice: a second server or tick raises nothing new
			if err := s.Supervise(ctx); err != nil {
				t.Fatal(err)
			}
		}
		as, _ := s.Alarms(ctx, []string{a.OrgID}, AlarmFilter{}, 10, 0)
		if len(as) != 1 || as[0].Type != TypeCommFailure || as[0].Signals != 1 || as[0].RestoredAt != nil {
			t.Fatalf("communication failure: %+v", as)
		}
		// Unacknowledged for 5 min: the trouble priority escalates once.
		now = now.Add(5*time.Minute + time.Second)
		if err := s.Escalate(ctx, DefaultEscalation); err != nil {
			t.Fatal(err)
		}
		if err := s.Escalate(ctx, DefaultEscalation); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Alarm(ctx, []string{a.OrgID}, as[0].ID)
		if got.Escalation != 1 || got.EscalatedAt == nil {
			t.Fatalf("escalation: %+v", got)
		}
		// The panel reports again: the failure is restored.
		poll()
		got, _ = s.Alarm(ctx, []string{a.OrgID}, as[0].ID)
		if got.RestoredAt == nil {
			t.Fatal("communication failure not restored by the next signal")
		}
		if len(published) == 0 || published[len(published)-1].RestoredAt == nil {
			t.Fatal("the restore was not published")
		}
	})
}

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	return scalar[int](t, db, q, args...)
}

// scalar is the one value q returns.
func scalar[T any](t *testing.T, db *store.DB, q string, args ...any) T {
	t.Helper()
	var v T
	if err := db.QueryRow(context.Background(), q, args...).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestIngestGroupsAndDedups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		s, a := fixture(t, db, &now)
		ev := func(key, zone, typ, kind string) Event { return testEvent(a, now, key, zone, typ, kind) }
		// One batch with a duplicate inside it, a repeat, another zone and a fire.
		batch := []Event{ev("k1", "1", TypeTrouble, KindAlarm), ev("k1", "1", TypeTrouble, KindAlarm), ev("k2", "1", TypeTrouble, KindAlarm),
			ev("k3", "2", TypeTrouble, KindAlarm), ev("k4", "9", TypeFire, KindAlarm)}
		if err := s.Ingest(ctx, batch); err != nil {
			t.Fatal(err)
		}
		// The same batch again (a retransmission): nothing changes.
		if err := s.Ingest(ctx, []Event{ev("k1", "1", TypeTrouble, KindAlarm), ev("k4", "9", TypeFire, KindAlarm)}); err != nil {
			t.Fatal(err)
		}
		as, _ := s.Alarms(ctx, []string{a.OrgID}, AlarmFilter{}, 10, 0)
		if len(as) != 3 || as[0].Type != TypeFire || as[1].Signals != 2 {
			t.Fatalf("queue: fire first, trouble grouped with 2 signals: %+v %+v", as[0], as[1])
		}
		if n := count(t, db, `SELECT COUNT(*) FROM alarm_events`); n != 4 {
			t.Fatalf("events stored: %d, want 4", n)
		}
		// A restore marks the open alarm; a cancel marks them all.
		if err := s.Ingest(ctx, []Event{ev("k5", "1", TypeTrouble, KindRestore), ev("k6", "", TypeOther, KindCancel)}); err != nil {
			t.Fatal(err)
		}
		as, _ = s.Alarms(ctx, []string{a.OrgID}, AlarmFilter{}, 10, 0)
		for _, x := range as {
			if x.CancelledAt == nil {
				t.Fatalf("cancel not applied: %+v", x)
			}
			if (x.Zone == "1") != (x.RestoredAt != nil) {
				t.Fatalf("restore applied to the wrong alarm: %+v", x)
			}
		}
		// Order inside one batch is kept: raised then restored is restored;
		// restored then raised again is open and unrestored.
		if err := s.Ingest(ctx, []Event{ev("k7", "7", TypeTamper, KindAlarm), ev("k8", "7", TypeTamper, KindRestore),
			ev("k9", "8", TypeTamper, KindAlarm), ev("k10", "8", TypeTamper, KindRestore), ev("k11", "8", TypeTamper, KindAlarm)}); err != nil {
			t.Fatal(err)
		}
		as, _ = s.Alarms(ctx, []string{a.OrgID}, AlarmFilter{}, 10, 0)
		for _, x := range as {
			switch x.Zone {
			case "7":
				if x.RestoredAt == nil || x.Signals != 1 {
					t.Fatalf("zone 7 (alarm, restore): %+v", x)
				}
			case "8":
				if x.RestoredAt != nil || x.Signals != 2 {
					t.Fatalf("zone 8 (alarm, restore, alarm): %+v", x)
				}
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM alarm_events WHERE kind = 'alarm' AND alarm_id = ''`); n != 0 {
			t.Fatalf("%d alarm events not linked to their alarm", n)
		}
		// Another tenant sees nothing.
		if as, _ := s.Alarms(ctx, []string{"other-org"}, AlarmFilter{}, 10, 0); len(as) != 0 {
			t.Fatalf("alarms across tenants: %+v", as)
		}
	})
}

// FuzzIngestPayload: whatever a webhook or MQTT device sends is either
// refused or normalised into a bounded event; it never panics.
func FuzzIngestPayload(f *testing.F) {
	for _, s := range []string{`{"type":"fire","zone":"3"}`, `{"id":"x","restore":true}`, `1`, `OFF`, `{"at":"2026-11-23T12:00:00Z","type":"video"}`, ``, `{"priority":9}`} {
		f.Add("site/door1", []byte(s))
	}
	src := &Source{ID: "01234567-89ab-cdef-0123-456789abcdef", OrgID: "o", SiteID: "s", Kind: "mqtt", Name: "sensors",
		DeviceMap: map[string]DeviceRoute{"door1": {Zone: "1", Type: TypeBurglary}}}
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		var in IngestEvent
		if json.Unmarshal(payload, &in) != nil || in.Validate() != nil {
			in = IngestEvent{}
		}
		e := src.normalize(in, topic, "", payload, time.Unix(0, 0))
		if e.DedupKey == "" || e.Type == "" || e.Priority < 1 || e.Priority > PriorityOther || len(e.Raw) > 2048+8 {
			t.Fatalf("bad event: %+v", e)
		}
	})
}

// FuzzSOP: any JSON procedure is validated or refused, and walking a valid
// one with any progress terminates.
func FuzzSOP(f *testing.F) {
	b, _ := json.Marshal(DefaultSOPs[TypeFire])
	f.Add(b, "confirmed", "Yes – fire confirmed")
	f.Add([]byte(`{"alarm_type":"fire","name":"x","steps":[{"id":"a","text":"t","kind":"check"}]}`), "a", "")
	f.Fuzz(func(t *testing.T, data []byte, step, answer string) {
		var p SOP
		if json.Unmarshal(data, &p) != nil || p.Validate() != nil {
			return
		}
		done := map[string]Progress{step: {Status: "answered", Answer: answer}}
		for _, st := range p.Steps {
			if st.ID != step {
				done[st.ID] = Progress{Status: "done"}
				break
			}
		}
		views, _ := p.Walk(done)
		if len(views) != len(p.Steps) {
			t.Fatal("walk lost steps")
		}
	})
}

// testEvent is a normalised DC-09 event of account a.
func testEvent(a *Account, at time.Time, key, zone, typ, kind string) Event {
	return Event{OrgID: a.OrgID, SiteID: a.SiteID, AccountID: a.ID, Account: a.Number, Source: "dc09", DedupKey: key,
		ReceivedAt: at, Class: typ, Kind: kind, Type: typ, Priority: DefaultPriority(typ), Zone: zone, Description: typ}
}

// TestSOPFixedOnFirstAction: editing a procedure changes new alarms and
// untouched ones, never the checklist of an alarm an operator works.
func TestSOPFixedOnFirstAction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		s, a := fixture(t, db, &now)
		if err := s.Ingest(ctx, []Event{testEvent(a, now, "k1", "1", TypeBurglary, KindAlarm),
			testEvent(a, now, "k2", "2", TypeBurglary, KindAlarm)}); err != nil {
			t.Fatal(err)
		}
		as, err := s.Alarms(ctx, []string{a.OrgID}, AlarmFilter{}, 10, 0)
		if err != nil || len(as) != 2 {
			t.Fatalf("alarms: %v %v", as, err)
		}
		worked, untouched := as[0], as[1]
		op := &auth.Principal{UserID: "u1", Name: "Operator", OrgID: a.OrgID, Access: map[string]auth.Role{a.OrgID: auth.Dispatcher}}
		if err := s.Ack(ctx, worked, op); err != nil {
			t.Fatal(err)
		}
		own := &SOP{OrgID: a.OrgID, AlarmType: TypeBurglary, Name: "Vault procedure", Steps: []Step{check("vault", "Check the vault camera.", true)}}
		if err := s.PutSOP(ctx, []string{a.OrgID}, own, nil); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			a    *Alarm
			want string
		}{{worked, DefaultSOPs[TypeBurglary].Name}, {untouched, "Vault procedure"}} {
			p, err := s.SOPFor(ctx, c.a)
			if err != nil || p.Name != c.want {
				t.Fatalf("alarm zone %s: procedure %+v %v, want %q", c.a.Zone, p, err, c.want)
			}
		}
	})
}

func TestRaisesLife(t *testing.T) {
	fire := &Alarm{Priority: PriorityLife, Signals: 1}
	for _, tc := range []struct {
		name   string
		alarms []*Alarm
		want   bool
	}{
		{"nothing", nil, false},
		{"a new fire", []*Alarm{fire}, true},
		{"two new life-safety alarms", []*Alarm{fire, {Priority: PriorityLife, Signals: 1}}, true},
		{"a repeat or re-raise", []*Alarm{{Priority: PriorityLife, Signals: 2}}, false},
		{"with a trouble alarm", []*Alarm{fire, {Priority: PriorityOther, Signals: 1}}, false},
	} {
		if got := raisesLife(tc.alarms); got != tc.want {
			t.Errorf("%s: raisesLife = %v, want %v", tc.name, got, tc.want)
		}
	}
}
