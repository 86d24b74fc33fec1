package alarm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"vigil/internal/alarm/dc09"
	"vigil/internal/auth"
	"vigil/internal/store"
)

// TestServeBenchmarks records the figures of docs/benchmarks.md against a
// real `vigil serve` (embedded defaults: SQLite WAL synchronous=FULL,
// embedded NATS): the no-store ceiling (`vigil alarm listen --no-store`)
// in the same run, sustained throughput with 100 panels, p99 frame→ACK at
// 5 000/s, p99 frame→console SSE at 5 000/s, and the storm (trouble flood
// at full rate while fire alarms arrive). It runs only when
// VIGIL_ALARM_BENCH names the sustained duration (e.g. 60s);
// VIGIL_ALARM_BENCH_PG=postgres://… repeats the throughput run on PostgreSQL.
func TestServeBenchmarks(t *testing.T) {
	d := os.Getenv("VIGIL_ALARM_BENCH")
	if d == "" {
		t.Skip("set VIGIL_ALARM_BENCH=60s to run the end-to-end benchmarks")
	}
	dur, err := time.ParseDuration(d)
	if err != nil {
		t.Fatal(err)
	}
	bin := vigilBinary(t)
	bench := func(addr string, extra ...string) string {
		args := append([]string{"alarm", "bench", "--to", addr, "--panels", "100", "--json"}, extra...)
		out, err := exec.Command(bin, args...).Output()
		if err != nil && !bytes.HasPrefix(bytes.TrimSpace(out), []byte("{")) {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("bench %v: %v: %s", args, err, stderr)
		}
		return summarize(out)
	}

	// VIGIL_ALARM_BENCH_ONLY=postgres skips the ceiling and SQLite runs;
	// =sqlite runs only the SQLite sustained throughput (a quick check
	// while tuning the ingest path); =latency only the SQLite latency
	// probes; =ack only the first of them (5 000/s, default mix).
	only := os.Getenv("VIGIL_ALARM_BENCH_ONLY")
	// No-store ceiling, same machine, same run.
	if only == "" {
		lis := exec.Command(bin, "alarm", "listen", "--addr", "127.0.0.1:0", "--no-store", "--duration", (dur + 10*time.Second).String(), "--json")
		lout, _ := lis.StderrPipe()
		if err := lis.Start(); err != nil {
			t.Fatal(err)
		}
		laddr := ""
		sc := bufio.NewScanner(lout)
		re := regexp.MustCompile(`127\.0\.0\.1:\d+`)
		for laddr == "" && sc.Scan() {
			laddr = re.FindString(sc.Text())
		}
		go func() {
			for sc.Scan() {
			}
		}()
		if laddr == "" {
			t.Fatal("listen did not print its address")
		}
		t.Logf("no-store ceiling, rate 0, %s: %s", dur, bench(laddr, "--rate", "0", "--duration", dur.String()))
		lis.Process.Kill()
		lis.Wait()
	}

	run := func(name, dsn string) {
		data := t.TempDir()
		pg := dsn
		if dsn == "" {
			dsn = data + "/vigil.db"
		}
		p := startServe(t, data, pg, "")
		db := waitDB(t, dsn)
		defer db.Close()
		provisionPanels(t, db, 1000, 101) // 1000–1099 for bench, 1100 for the fire prober
		if only != "latency" && only != "ack" {
			cpu0 := cpuTime(p)
			res := bench(p.dc09, "--rate", "0", "--duration", dur.String())
			cpu := cpuTime(p) - cpu0
			t.Logf("%s sustained, rate 0, %s: %s; %s; server CPU %.1f s", name, dur, res, inboxStats(t, p), cpu.Seconds())
		}
		if name != "sqlite" || only == "sqlite" {
			return
		}
		sse := loginSSE(t, db, p)
		first := 1
		probe := func(label string, extra ...string) {
			zone := first
			first += probeZones
			ctx, cancel := context.WithCancel(context.Background())
			lat := make(chan []time.Duration, 1)
			go func() { lat <- fireProbe(ctx, t, p.dc09, sse, zone) }()
			res := bench(p.dc09, extra...)
			cancel()
			l := <-lat
			sse.mu.Lock()
			rc := sse.reconnects
			sse.mu.Unlock()
			t.Logf("%s: bench %s; fire frame→console SSE: %s (stream reconnects so far: %d)", label, res, pct(l), rc)
		}
		probe("sqlite 5000/s default mix", "--rate", "5000", "--duration", "20s")
		if only == "ack" {
			return
		}
		// A storm at the rate of the latency test, then one at whatever
		// rate the server takes (the machine saturated: the load
		// generator runs on the same two cores).
		probe("sqlite storm: trouble/supervision flood at 5000/s", "--rate", "5000", "--duration", "20s",
			"--mix", "trouble=60,null=30,restore=10")
		probe("sqlite storm: trouble/supervision flood at full rate", "--rate", "0", "--duration", "20s",
			"--mix", "trouble=60,null=30,restore=10")
	}
	if only != "postgres" {
		run("sqlite", "")
	}
	if pg := os.Getenv("VIGIL_ALARM_BENCH_PG"); pg != "" && only != "latency" && only != "ack" {
		run("postgres", pg)
	}
}

func summarize(out []byte) string {
	var r struct {
		Sent, Acked, Naked, Timeouts int
		Throughput                   float64 `json:"acked_per_s"`
		P50                          float64 `json:"latency_p50_ms"`
		P99                          float64 `json:"latency_p99_ms"`
		Max                          float64 `json:"latency_max_ms"`
	}
	json.Unmarshal(out, &r)
	return fmt.Sprintf("acked/s %.0f, p50 %.1f ms, p99 %.1f ms, max %.0f ms (sent %d, acked %d, nak %d, timeouts %d) raw=%s",
		r.Throughput, r.P50, r.P99, r.Max, r.Sent, r.Acked, r.Naked, r.Timeouts, bytes.TrimSpace(out))
}

type sseConn struct {
	mu         sync.Mutex
	account    string               // the prober's account ID
	seen       map[string]time.Time // zone → first fire message
	reconnects int
}

// loginSSE signs a dispatcher in and follows the console stream.
func loginSSE(t *testing.T, db *store.DB, p *serveProc) *sseConn {
	ctx := context.Background()
	var opID string
	db.QueryRow(ctx, `SELECT id FROM orgs WHERE kind = 'operator'`).Scan(&opID)
	as := auth.NewService(db, time.Now)
	email := "bench@vigil.test"
	err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := as.CreateUser(ctx, tx, auth.NewUser{Email: email, Name: "Bench", Password: "correct horse battery staple", OrgID: opID, Role: auth.Dispatcher}, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + p.http
	jar, _ := cookiejar.New(nil)
	h := &http.Client{Jar: jar}
	body, _ := json.Marshal(map[string]string{"email": email, "password": "correct horse battery staple"})
	res, err := h.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("login: %v %v", err, res)
	}
	res.Body.Close()
	c := &sseConn{seen: map[string]time.Time{}}
	// Only the prober's account counts: the bench's own fire alarms use
	// zones 1–64 too.
	if err := db.QueryRow(ctx, `SELECT id FROM alarm_accounts WHERE number = '1100'`).Scan(&c.account); err != nil {
		t.Fatal(err)
	}
	// Follow the stream as a browser does: when the hub drops a slow
	// reader, reconnect with Last-Event-ID and get the missed events. The
	// probes start once the stream is open, or the first fire alarm could
	// be published before anyone listens.
	open := make(chan struct{})
	go func() {
		last := ""
		for {
			req, _ := http.NewRequest("GET", base+"/alarms/stream", nil)
			if last != "" {
				req.Header.Set("Last-Event-ID", last)
			}
			res, err := h.Do(req)
			if err != nil {
				return
			}
			if last == "" && c.reconnects == 0 {
				close(open)
			}
			br := bufio.NewReader(res.Body)
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					break
				}
				if id, ok := strings.CutPrefix(line, "id: "); ok {
					last = strings.TrimSpace(id)
					continue
				}
				data, ok := strings.CutPrefix(line, "data: ")
				if !ok {
					continue
				}
				now := time.Now()
				var m AlarmMessage
				if json.Unmarshal([]byte(data), &m) != nil || m.Alarm == nil || m.Alarm.Type != TypeFire || m.Alarm.Signals != 1 ||
					m.Alarm.AccountID != c.account {
					continue
				}
				c.mu.Lock()
				if _, ok := c.seen[m.Alarm.Zone]; !ok {
					c.seen[m.Alarm.Zone] = now
				}
				c.mu.Unlock()
			}
			res.Body.Close()
			c.mu.Lock()
			c.reconnects++
			c.mu.Unlock()
		}
	}()
	select {
	case <-open:
	case <-time.After(10 * time.Second):
		t.Fatal("the console stream did not open in 10 s")
	}
	return c
}

// fireProbe sends a fire alarm on a new zone of account 1100 every 50 ms
// and returns each one's frame-write → SSE-arrival latency.
// probeZones is how many fire alarms one probe raises at most, each in a
// zone of its own (Contact ID zones have three digits, and three probes
// share 1–999).
const probeZones = 333

func fireProbe(ctx context.Context, t *testing.T, addr string, sse *sseConn, firstZone int) []time.Duration {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return nil
	}
	defer c.Close()
	br := bufio.NewReader(c)
	sentAt := map[string]time.Time{}
	// Every probe is a new alarm (its own zone), so its first live message
	// is the one measured; runs use disjoint zone ranges.
	for seq := 1; ctx.Err() == nil && seq <= probeZones; seq++ {
		zone := firstZone + seq - 1
		z := strconv.Itoa(zone)
		f := &dc09.Frame{Token: dc09.TokenCID, Sequence: dc09.SequenceString(seq), Line: "0", HasLine: true, Account: "1100",
			Data: fmt.Sprintf("#1100|1110 01 %03d", zone)}
		raw, _ := f.Marshal(nil, nil, dc09.Quirks{})
		sentAt[z] = time.Now()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write(raw)
		br.ReadBytes('\n')
		reply, err := br.ReadBytes('\r')
		if err != nil || !bytes.Contains(reply, []byte(`"ACK"`)) {
			t.Logf("fire probe zone %s: no ACK (%q, %v)", z, reply, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	time.Sleep(2 * time.Second) // let the last ones arrive
	sse.mu.Lock()
	defer sse.mu.Unlock()
	var out []time.Duration
	for z, at := range sentAt {
		if got, ok := sse.seen[z]; ok {
			out = append(out, got.Sub(at))
			delete(sse.seen, z)
		} else {
			out = append(out, time.Hour) // never arrived: counts as a miss
			t.Logf("fire probe zone %s, sent %s: no console message", z, at.Format("15:04:05.000"))
		}
	}
	return out
}

func pct(l []time.Duration) string {
	if len(l) == 0 {
		return "no samples"
	}
	slices.Sort(l)
	q := func(p float64) time.Duration { return l[min(len(l)-1, int(p*float64(len(l))))] }
	miss := 0
	for _, d := range l {
		if d >= time.Hour {
			miss++
		}
	}
	if miss == len(l) {
		return fmt.Sprintf("n=%d, none arrived", len(l))
	}
	// Missing probes sort last (1 h), so they push the percentiles up.
	return fmt.Sprintf("n=%d p50 %.1f ms p99 %.1f ms max arrived %.1f ms missing %d", len(l),
		float64(q(.5).Microseconds())/1000, float64(q(.99).Microseconds())/1000, float64(l[len(l)-1-miss].Microseconds())/1000, miss)
}

// inboxStats reads the server's inbox counters: how many signals each
// apply transaction took on average.
func inboxStats(t *testing.T, p *serveProc) string {
	res, err := http.Get("http://" + p.http + "/metrics")
	if err != nil {
		return fmt.Sprint("metrics: ", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	val := func(name string) float64 {
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(b)
		if m == nil {
			return 0
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	applies, applied, commits := val("vigil_alarm_inbox_applies_total"), val("vigil_alarm_inbox_applied_total"), val("vigil_alarm_receiver_commits_total")
	return fmt.Sprintf("receiver commits %.0f (mean %.1f signals), apply transactions %.0f (mean %.1f signals)",
		commits, applied/max(commits, 1), applies, applied/max(applies, 1))
}

// cpuTime is the server's user+system CPU time so far (Linux), so a run on
// a busy machine can still be compared by CPU per signal.
func cpuTime(p *serveProc) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * time.Second / 100 // USER_HZ
}
