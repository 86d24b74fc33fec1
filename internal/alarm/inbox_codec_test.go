package alarm

import (
	"reflect"
	"testing"
	"time"
)

// TestInboxCodecRoundTrip: every field an applied event needs survives the
// inbox file's encoding, including the optional panel time and the test
// flag, in order.
func TestInboxCodecRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 123456789, time.UTC)
	panel := at.Add(-3 * time.Second)
	full := Event{ID: "0193a1b2-0000-7000-8000-000000000001", OrgID: "o", SiteID: "s", AccountID: "acc", Account: "1234",
		Source: "dc09", DedupKey: "20261123T120000Z/R1/L2/1234/ADM-CID/0042/ABCD", ReceivedAt: at, EventAt: &panel, Code: "110",
		Class: "fire", Kind: KindAlarm, Zone: "012", User: "7", Description: "Fire – smoke détecteur", Raw: "\n...\r",
		Remote: "192.0.2.1:5000", OnTest: true, AlarmID: "al", Type: TypeFire, Priority: PriorityLife, ZoneName: "Lobby",
		ZoneID: "z", DeviceID: "d", SiteName: "Bank Branch 7"}
	for name, events := range map[string][]Event{
		"none":    {},
		"empty":   {{ReceivedAt: time.Unix(0, 0).UTC()}},
		"full":    {full},
		"several": {full, {ID: "2", ReceivedAt: at, Kind: KindPoll, Priority: -1}, full},
	} {
		got, err := decodeEvents(encodeEvents(nil, events))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, events) {
			t.Fatalf("%s: round trip\n got %+v\nwant %+v", name, got, events)
		}
	}
	for name, b := range map[string][]byte{
		"nothing":       nil,
		"other version": {2, 0},
		"count only":    {1, 5},
		"cut short":     encodeEvents(nil, []Event{full})[:40],
		"trailing":      append(encodeEvents(nil, []Event{full}), 0),
	} {
		if _, err := decodeEvents(b); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// FuzzDecodeEvents: any bytes decode or fail cleanly, never panic, and
// what decodes encodes back to the same bytes.
func FuzzDecodeEvents(f *testing.F) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	f.Add(encodeEvents(nil, []Event{{ID: "x", Account: "1234", ReceivedAt: at, EventAt: &at, OnTest: true, Priority: 1}}))
	f.Add(encodeEvents(nil, nil))
	f.Add([]byte{1, 200, 200, 200, 200, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		events, err := decodeEvents(b)
		if err != nil {
			return
		}
		if again := encodeEvents(nil, events); string(again) != string(b) {
			// Varints have one canonical form each, so only a
			// non-minimal encoding may differ; it must still decode
			// to the same events.
			if got, err := decodeEvents(again); err != nil || !reflect.DeepEqual(got, events) {
				t.Fatalf("re-encoding changed the events: %v", err)
			}
		}
	})
}
