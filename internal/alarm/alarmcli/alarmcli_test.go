package alarmcli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"vigil/internal/alarm/dc09"
)

func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestDecode(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	enc := &dc09.Frame{Token: dc09.TokenCID, Encrypted: true, Sequence: "0042", Receiver: "1", HasReceiver: true, Line: "2", HasLine: true,
		Account: "ABC123", Data: "#ABC123|1110 01 129", XData: []dc09.XData{{ID: 'E', Value: []byte("115000")}}, Timestamp: now.Add(-5 * time.Second), HasTimestamp: true}
	hexKey := "000102030405060708090A0B0C0D0E0F"
	kb, _ := dc09.ParseKey(hexKey, dc09.KeyHex)
	encRaw, _ := enc.Marshal(kb, nil, dc09.Quirks{})
	asciiKey := "000102030405060708090A0B0C0D0E0F" // same text as hexKey: a different (AES-256) key
	ka, _ := dc09.ParseKey(asciiKey, dc09.KeyASCII)
	encASCII, _ := enc.Marshal(ka, nil, dc09.Quirks{})
	nowArg := "--now=" + now.Format(time.RFC3339)

	tests := []struct {
		name     string
		in       string
		args     []string
		code     int
		response string
		want     map[string]any // top-level JSON fields
		contains []string
	}{
		{name: "standard example", in: "\nCE110032\"SIA-DCS\"9876R579BDFL789ABC#12345A[#12345A|NFA129]\r", code: 0, response: "ACK",
			want:     map[string]any{"crc": "CE11", "crc_ok": true, "length_ok": true, "token": "SIA-DCS", "sequence": "9876", "receiver": "579BDF", "line": "789ABC", "account": "12345A"},
			contains: []string{`"code": "FA"`, `"meaning": "Fire Alarm"`, `"zone": "129"`, `"reply": "\n1B990020\"ACK\"9876R579BDFL789ABC#12345A[]\r"`}},
		{name: "text with markers", in: "<LF>CE110032\"SIA-DCS\"9876R579BDFL789ABC#12345A[#12345A|NFA129]<CR>\n", code: 0, response: "ACK"},
		{name: "pasted line without LF/CR", in: "CE110032\"SIA-DCS\"9876R579BDFL789ABC#12345A[#12345A|NFA129]\n", code: 0, response: "ACK"},
		{name: "ELDES strict", in: "<LF>AA1A0047\"ADM-CID\"0227R4F39L4F39#4F39[#4F39|3401 01 057]<CR>", code: 1, response: "NAK",
			want: map[string]any{"crc_ok": false, "length_ok": false, "valid": false}},
		{name: "ELDES with quirks", in: "<LF>AA1A0047\"ADM-CID\"0227R4F39L4F39#4F39[#4F39|3401 01 057]<CR>", args: []string{"--crc-includes-cr", "--decimal-length"}, code: 0, response: "ACK",
			contains: []string{`"qualifier": 3`, `"event": "401"`, `"user": 57`, `"class": "openclose"`}},
		{name: "ELDES lenient", in: "<LF>AA1A0047\"ADM-CID\"0227R4F39L4F39#4F39[#4F39|3401 01 057]<CR>", args: []string{"--lenient"}, code: 0, response: "ACK"},
		{name: "HENG-BO is DUH", in: "<LF>C5C30053\"HENG-BO\"0000R000000L000000#90219125916578[#000000|1737 00 000]_09:11:19,08-05-2019<CR>", code: 1, response: "DUH"},
		{name: "encrypted hex key", in: string(encRaw), args: []string{"--key", hexKey, nowArg}, code: 0, response: "*ACK",
			want:     map[string]any{"encrypted": true, "data": "#ABC123|1110 01 129", "timestamp": "2026-11-23T11:59:55Z"},
			contains: []string{`"id": "E"`, `"value": "115000"`, `"meaning": "Fire"`}},
		{name: "encrypted ascii key", in: string(encASCII), args: []string{"--key-ascii", asciiKey, nowArg}, code: 0, response: "*ACK"},
		{name: "same key text, wrong format", in: string(encASCII), args: []string{"--key", hexKey, nowArg}, code: 1, response: "NAK",
			contains: []string{"decrypt"}},
		{name: "encrypted without key", in: string(encRaw), args: []string{nowArg}, code: 1, response: "NAK", contains: []string{"--key"}},
		{name: "outside window", in: string(encRaw), args: []string{"--key", hexKey, "--now=2026-11-23T12:05:00Z"}, code: 1, response: "NAK",
			contains: []string{"behind", `_12:05:00,11-23-2026`}},
		{name: "custom window", in: string(encRaw), args: []string{"--key", hexKey, "--now=2026-11-23T12:05:00Z", "--window=-10m,+1m"}, code: 0, response: "*ACK"},
		{name: "garbage", in: "hello", code: 1, response: "NAK"},
		{name: "garbage silent", in: "hello", args: []string{"--silent"}, code: 1, response: "none"},
		{name: "bad key", in: "x", args: []string{"--key", "123"}, code: 2},
		{name: "both keys", in: "x", args: []string{"--key", hexKey, "--key-ascii", asciiKey}, code: 2},
		{name: "bad window", in: "x", args: []string{"--window", "40s"}, code: 2},
		{name: "bad now", in: "x", args: []string{"--now", "yesterday"}, code: 2},
		{name: "unknown flag", in: "x", args: []string{"--frobnicate"}, code: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.in, append([]string{"decode"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			if tt.code == 2 {
				return
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			if got["response"] != tt.response {
				t.Errorf("response %v, want %s\n%s", got["response"], tt.response, out)
			}
			if (tt.code == 0) != (got["valid"] == true) {
				t.Errorf("valid = %v", got["valid"])
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
			for _, s := range tt.contains {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %s\n%s", s, out)
				}
			}
		})
	}
}

func TestUsage(t *testing.T) {
	if code, _, _ := run(t, ""); code != 2 {
		t.Errorf("no args: %d", code)
	}
	if code, _, _ := run(t, "", "bogus"); code != 2 {
		t.Errorf("unknown: %d", code)
	}
	if code, _, errOut := run(t, "", "help"); code != 0 || !strings.Contains(errOut, "bench") {
		t.Errorf("help: %d %s", code, errOut)
	}
	for _, args := range [][]string{{"send"}, {"bench"}, {"send", "--to", "x:1", "--token", "FOO"}, {"bench", "--to", "x:1", "--mix", "fire"},
		{"bench", "--to", "x:1", "--mix", "lava=1"}, {"listen", "--no-store", "--fsync", "f"}, {"listen", "--encrypted"}, {"send", "--to", "x:1", "--seq", "10000"}} {
		if code, _, _ := run(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// syncBuffer is a goroutine-safe bytes.Buffer for a running command's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startListen runs "vigil alarm listen" in the background and returns its
// address and output.
func startListen(t *testing.T, args ...string) (string, *syncBuffer, *syncBuffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- Run(ctx, append([]string{"listen", "--addr", "127.0.0.1:0"}, args...), nil, &out, &errOut)
	}()
	re := regexp.MustCompile(`receiving on (\S+) `)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if m := re.FindStringSubmatch(errOut.String()); m != nil {
			stop := func() int { cancel(); return <-done }
			t.Cleanup(func() { cancel() })
			return m[1], &out, &errOut, stop
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("listen did not start: %s", errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestListenSendBench(t *testing.T) {
	key := "0123456789abcdef"
	addr, out, errOut, stop := startListen(t, "--key-ascii", key)

	// A plain SIA frame over TCP and an encrypted Contact ID over UDP are
	// ACKed and printed as JSON lines.
	if code, o, e := run(t, "", "send", "--to", addr, "--token", "SIA-DCS", "--code", "FA", "--zone", "129", "--area", "2", "--text", "Kitchen"); code != 0 {
		t.Fatalf("send: %d %s %s", code, o, e)
	}
	code, o, _ := run(t, "", "send", "--to", addr, "--udp", "--key-ascii", key, "--account", "BEEF", "--code", "120", "--zone", "7", "--seq", "77", "--json")
	if code != 0 || !strings.Contains(o, `"response": "*ACK"`) {
		t.Fatalf("encrypted UDP send: %d %s", code, o)
	}
	// The wrong key format is NAKed: exit 1.
	if code, o, _ := run(t, "", "send", "--to", addr, "--key", "000102030405060708090A0B0C0D0E0F"); code != 1 || !strings.Contains(o, "NAK") {
		t.Fatalf("wrong key: %d %s", code, o)
	}
	// No receiver: exit 1.
	if code, _, _ := run(t, "", "send", "--to", "127.0.0.1:1", "--timeout", "500ms"); code != 1 {
		t.Fatalf("closed port: %d", code)
	}

	code, o, e := run(t, "", "bench", "--to", addr, "--panels", "4", "--rate", "400", "--duration", "1s", "--json", "--mix", "fire=1,null=1,sia=1")
	if code != 0 {
		t.Fatalf("bench: %d %s %s", code, o, e)
	}
	var res benchResult
	if err := json.Unmarshal([]byte(o), &res); err != nil {
		t.Fatal(err)
	}
	if res.Acked < 200 || res.Acked != res.Sent || res.Naked != 0 || res.LatencyP50 <= 0 || res.LatencyMax < res.LatencyP99 {
		t.Errorf("bench result %+v", res)
	}
	if res.Throughput > 480 {
		t.Errorf("rate 400/s not respected: %.0f/s", res.Throughput)
	}
	code, o, _ = run(t, "", "bench", "--to", addr, "--panels", "2", "--duration", "500ms", "--udp", "--key-ascii", key)
	if code != 0 || !strings.Contains(o, "acked") {
		t.Fatalf("encrypted UDP bench: %d %s", code, o)
	}

	if code := stop(); code != 0 {
		t.Fatalf("listen exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 200 {
		t.Fatalf("listen printed %d lines", len(lines))
	}
	var first, second map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	sia, _ := first["sia"].(map[string]any)
	if first["transport"] != "tcp" || sia["code"] != "FA" || sia["area"] != "2" || sia["text"] != "Kitchen" {
		t.Errorf("first signal %v", lines[0])
	}
	cid, _ := second["cid"].(map[string]any)
	if second["transport"] != "udp" || second["encrypted"] != true || second["sequence"] != "0077" || cid["event"] != "120" || cid["class"] != "panic" {
		t.Errorf("second signal %v", lines[1])
	}
	if !strings.Contains(errOut.String(), "frames ") {
		t.Errorf("no summary: %s", errOut.String())
	}
}

func TestListenFsync(t *testing.T) {
	path := t.TempDir() + "/signals.log"
	addr, out, _, stop := startListen(t, "--fsync", path, "--json")
	if code, o, e := run(t, "", "bench", "--to", addr, "--panels", "8", "--duration", "500ms"); code != 0 {
		t.Fatalf("bench: %d %s %s", code, o, e)
	}
	if code := stop(); code != 0 {
		t.Fatal("listen failed")
	}
	var snap map[string]any
	if err := json.Unmarshal([]byte(out.String()), &snap); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	acks, batches := snap["acks"].(float64), snap["commit_batches"].(float64)
	if acks == 0 || batches == 0 || batches > acks {
		t.Fatalf("acks %v batches %v", acks, batches)
	}
	data := readFile(t, path)
	if n := bytes.Count(data, []byte("\r")); float64(n) != acks {
		t.Errorf("file holds %d frames, %v acked", n, acks)
	}
}

func TestNormalizeInput(t *testing.T) {
	for in, want := range map[string]string{
		"\nX\r":       "\nX\r",
		"\nX\r\n":     "\nX\r",
		"X\n":         "\nX\r",
		"<LF>X<CR>\n": "\nX\r",
		"X":           "\nX\r",
	} {
		if got := string(normalizeInput([]byte(in))); got != want {
			t.Errorf("normalizeInput(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("\nCE110032\"SIA-DCS\"9876R579BDFL789ABC#12345A[#12345A|NFA129]\r"))
	f.Add([]byte("<LF>AA1A0047\"ADM-CID\"0227R4F39L4F39#4F39[#4F39|3401 01 057]<CR>"))
	key := []byte("0123456789abcdef")
	now := time.Unix(1.8e9, 0)
	f.Fuzz(func(t *testing.T, in []byte) {
		out := decodeFrame(normalizeInput(in), key, dc09.Quirks{Lenient: true}, now, dc09.DefaultWindow, true, false)
		if out.Valid != (out.Response == "ACK" || out.Response == "*ACK") {
			t.Fatalf("valid %v with response %s", out.Valid, out.Response)
		}
		if _, err := json.Marshal(out); err != nil {
			t.Fatal(err)
		}
	})
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A panel stamping local time (UTC+1) fails the window unless its clock
// offset is configured.
func TestDecodeClockOffset(t *testing.T) {
	utc := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	f := &dc09.Frame{Token: dc09.TokenNull, Encrypted: true, Sequence: "0000", Line: "0", HasLine: true, Account: "1234",
		Timestamp: utc.Add(time.Hour), HasTimestamp: true}
	key := "0123456789abcdef"
	raw, _ := f.Marshal([]byte(key), nil, dc09.Quirks{})
	now := "--now=" + utc.Format(time.RFC3339)
	if code, out, _ := run(t, string(raw), "decode", "--key-ascii", key, now); code != 1 || !strings.Contains(out, "ahead") {
		t.Errorf("without offset: %d %s", code, out)
	}
	if code, out, _ := run(t, string(raw), "decode", "--key-ascii", key, now, "--clock-offset", "1h"); code != 0 {
		t.Errorf("with offset: %d %s", code, out)
	}
}
