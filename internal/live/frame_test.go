package live

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"vigil/internal/bus"
)

func TestEncodeFrame(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"json", `{"a":1}`, "id: 7\nevent: alarm.received\ndata: {\"a\":1}\n\n"},
		{"empty", "", "id: 7\nevent: alarm.received\ndata: null\n\n"},
		{"lf", "a\nb", "id: 7\nevent: alarm.received\ndata: a\ndata: b\n\n"},
		{"crlf", "a\r\nb", "id: 7\nevent: alarm.received\ndata: a\ndata: b\n\n"},
		{"cr", "a\rb", "id: 7\nevent: alarm.received\ndata: a\ndata: b\n\n"},
		{"trailing newline", "a\n", "id: 7\nevent: alarm.received\ndata: a\ndata: \n\n"},
		{"field injection", "x\n\nid: 999\nevent: evil", "id: 7\nevent: alarm.received\ndata: x\ndata: \ndata: id: 999\ndata: event: evil\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(encodeFrame(7, "alarm.received", []byte(tc.data))); got != tc.want {
				t.Fatalf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestNewEventSkipsForeignSubjects(t *testing.T) {
	for subj, ok := range map[string]bool{
		"vigil.acme.alarm.received":      true,
		"vigil.acme.alarm.zone.received": true,
		"vigil.acme.alarm":               false,
		"vigil.raw":                      false,
	} {
		ev := newEvent("vigil", bus.Msg{Seq: 1, Subject: subj, Data: []byte("{}")})
		if (ev != nil) != ok {
			t.Errorf("newEvent(%q) = %v, want event=%v", subj, ev, ok)
		}
	}
	ev := newEvent("vigil", bus.Msg{Seq: 3, Subject: "vigil.acme.alarm.zone.received", Data: []byte("{}")})
	if !bytes.Contains(ev.frame, []byte("event: alarm.zone.received\n")) {
		t.Fatalf("frame %q lacks the module.event name", ev.frame)
	}
}

func TestLastEventID(t *testing.T) {
	for _, tc := range []struct {
		header, query string
		want          uint64
		given         bool
	}{
		{"", "", 0, false},
		{"42", "", 42, true},
		{" 42 ", "", 42, true},
		{"", "17", 17, true},
		{"", "0", 0, true},     // a page rendered before the stream held events
		{"42", "17", 42, true}, // the browser's own header wins
		{"-1", "", 0, false},
		{"4x", "", 0, false},
		{"18446744073709551616", "", 0, false}, // overflow
		{"18446744073709551615", "", 18446744073709551615, true},
	} {
		r, _ := http.NewRequest("GET", "/events?last-event-id="+tc.query, nil)
		if tc.header != "" {
			r.Header.Set("Last-Event-ID", tc.header)
		}
		if got, given := lastEventID(r); got != tc.want || given != tc.given {
			t.Errorf("header %q query %q: got %d %v, want %d %v", tc.header, tc.query, got, given, tc.want, tc.given)
		}
	}
}

// FuzzEncodeFrame proves that no payload can break out of its frame: parsed
// by the EventSource rules, every frame is exactly one event with our id and
// name and the payload (line endings normalised to LF).
func FuzzEncodeFrame(f *testing.F) {
	f.Add(uint64(1), []byte(`{"a":1}`))
	f.Add(uint64(0), []byte(""))
	f.Add(uint64(18446744073709551615), []byte("x\r\n\r\nid: 9\r\r\nevent: y\n"))
	f.Add(uint64(5), []byte(":comment\n\ndata: z"))
	f.Fuzz(func(t *testing.T, seq uint64, data []byte) {
		frame := encodeFrame(seq, "alarm.received", data)
		if len(frame) > len(data)*7+64 {
			t.Fatalf("frame of %d bytes for %d bytes of data", len(frame), len(data))
		}
		events := make(chan sseEvent, 4)
		err := parseSSE(bytes.NewReader(frame), events, make(chan string, 1), make(chan string, 1))
		if err != io.EOF {
			t.Fatalf("parse: %v", err)
		}
		if len(events) != 1 {
			t.Fatalf("frame %q parsed into %d events", frame, len(events))
		}
		ev := <-events
		want := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(string(data))
		if len(data) == 0 {
			want = "null"
		}
		if ev.ID != strconv.FormatUint(seq, 10) || ev.Event != "alarm.received" || ev.Data != want {
			t.Fatalf("frame %q parsed as %+v, want data %q", frame, ev, want)
		}
	})
}
