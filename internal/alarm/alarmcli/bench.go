package alarmcli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"vigil/internal/alarm/dc09"
)

// mixKinds are the event kinds bench can send, each as the payload a panel
// would produce.
var mixKinds = map[string]struct {
	token string
	data  func(acct string, zone int) string
}{
	"fire":      {dc09.TokenCID, func(a string, z int) string { return fmt.Sprintf("#%s|1110 01 %03d", a, z) }},
	"burglary":  {dc09.TokenCID, func(a string, z int) string { return fmt.Sprintf("#%s|1130 01 %03d", a, z) }},
	"panic":     {dc09.TokenCID, func(a string, z int) string { return fmt.Sprintf("#%s|1120 01 %03d", a, z) }},
	"medical":   {dc09.TokenCID, func(a string, z int) string { return fmt.Sprintf("#%s|1100 01 %03d", a, z) }},
	"tamper":    {dc09.TokenCID, func(a string, z int) string { return fmt.Sprintf("#%s|1137 01 %03d", a, z) }},
	"trouble":   {dc09.TokenCID, func(a string, z int) string { return fmt.Sprintf("#%s|1301 00 %03d", a, z) }},
	"restore":   {dc09.TokenCID, func(a string, z int) string { return fmt.Sprintf("#%s|3130 01 %03d", a, z) }},
	"openclose": {dc09.TokenCID, func(a string, z int) string { return fmt.Sprintf("#%s|3401 01 %03d", a, z) }},
	"test":      {dc09.TokenCID, func(a string, z int) string { return fmt.Sprintf("#%s|1602 00 000", a) }},
	"sia":       {dc09.TokenSIA, func(a string, z int) string { return fmt.Sprintf("#%s|Nri1/BA%d", a, z) }},
	"null":      {dc09.TokenNull, func(string, int) string { return "" }},
}

const defaultMix = "null=40,openclose=30,test=10,burglary=10,fire=5,panic=5"

type mixEntry struct {
	kind   string
	weight int
}

func parseMix(s string) ([]mixEntry, int, error) {
	var mix []mixEntry
	total := 0
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, 0, fmt.Errorf("--mix %q: want kind=weight,…", s)
		}
		if _, known := mixKinds[k]; !known {
			names := make([]string, 0, len(mixKinds))
			for n := range mixKinds {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, 0, fmt.Errorf("--mix: unknown kind %q (kinds: %s)", k, strings.Join(names, ", "))
		}
		w, err := strconv.Atoi(v)
		if err != nil || w < 0 {
			return nil, 0, fmt.Errorf("--mix: weight %q for %s", v, k)
		}
		mix = append(mix, mixEntry{k, w})
		total += w
	}
	if total == 0 {
		return nil, 0, errors.New("--mix: weights sum to 0")
	}
	return mix, total, nil
}

// benchResult is bench's output.
type benchResult struct {
	To          string  `json:"to"`
	Transport   string  `json:"transport"`
	Encrypted   bool    `json:"encrypted"`
	Panels      int     `json:"panels"`
	TargetRate  float64 `json:"target_rate"`
	DurationS   float64 `json:"duration_s"`
	Sent        int     `json:"sent"`
	Acked       int     `json:"acked"`
	Naked       int     `json:"naked"`
	Duhs        int     `json:"duhs"`
	Timeouts    int     `json:"timeouts"`
	BadReplies  int     `json:"bad_replies"`
	ConnErrors  int     `json:"connection_errors"`
	Throughput  float64 `json:"acked_per_s"`
	LatencyP50  float64 `json:"latency_p50_ms"`
	LatencyP90  float64 `json:"latency_p90_ms"`
	LatencyP99  float64 `json:"latency_p99_ms"`
	LatencyMax  float64 `json:"latency_max_ms"`
	LatencyMean float64 `json:"latency_mean_ms"`
}

type panelStats struct {
	sent, acked, naked, duhs, timeouts, bad, connErrs int
	lat                                               []time.Duration
}

// runBench is "vigil alarm bench". Each panel is one TCP connection (or
// connected UDP socket) that sends a frame and waits for the reply before
// the next, as DC-09 panels do (no pipelining); with --rate the panels are
// paced to that total rate, with 0 they go as fast as replies allow.
// Latency is measured from the write of a frame to the arrival of its reply.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", stderr)
	to := fs.String("to", "", "receiver HOST:PORT (required)")
	udp := fs.Bool("udp", false, "use UDP instead of TCP")
	panels := fs.Int("panels", 10, "concurrent panels (connections)")
	rate := fs.Float64("rate", 0, "total frames per second across panels (0 = as fast as possible)")
	duration := fs.Duration("duration", 10*time.Second, "how long to send")
	timeout := fs.Duration("timeout", 5*time.Second, "reply timeout per frame")
	base := fs.Int("account-base", 1000, "first account number; panel i uses base+i (as digits)")
	mixFlag := fs.String("mix", defaultMix, "event mix as kind=weight,… (kinds: fire burglary panic medical tamper trouble restore openclose test sia null)")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	var kf keyFlags
	kf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: vigil alarm bench --to HOST:PORT --panels N --rate R --duration D [--udp] [--key …] [--mix fire=…] [--json]")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *to == "" {
		return usageErr(stderr, "bench", "--to is required")
	}
	if *panels < 1 || *duration <= 0 || *rate < 0 || *base < 0 {
		return usageErr(stderr, "bench", "--panels ≥ 1, --duration > 0, --rate ≥ 0, --account-base ≥ 0")
	}
	key, err := kf.key()
	if err != nil {
		return usageErr(stderr, "bench", "%v", err)
	}
	mix, total, err := parseMix(*mixFlag)
	if err != nil {
		return usageErr(stderr, "bench", "%v", err)
	}
	network := "tcp"
	if *udp {
		network = "udp"
	}
	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	stats := make([]panelStats, *panels)
	var interval time.Duration
	if *rate > 0 {
		interval = time.Duration(float64(*panels) / *rate * float64(time.Second))
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range *panels {
		wg.Go(func() {
			p := panel{network: network, addr: *to, account: strconv.Itoa(*base + i), key: key, timeout: *timeout,
				mix: mix, total: total, rng: rand.New(rand.NewPCG(uint64(i), 42)), st: &stats[i]}
			// Spread the panels' phases over one interval.
			var phase time.Duration
			if interval > 0 {
				phase = time.Duration(int64(interval) * int64(i) / int64(*panels))
			}
			p.run(ctx, start.Add(phase), interval)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	res := benchResult{To: *to, Transport: network, Encrypted: key != nil, Panels: *panels, TargetRate: *rate,
		DurationS: elapsed.Seconds()}
	var lat []time.Duration
	for _, s := range stats {
		res.Sent += s.sent
		res.Acked += s.acked
		res.Naked += s.naked
		res.Duhs += s.duhs
		res.Timeouts += s.timeouts
		res.BadReplies += s.bad
		res.ConnErrors += s.connErrs
		lat = append(lat, s.lat...)
	}
	res.Throughput = float64(res.Acked) / elapsed.Seconds()
	if len(lat) > 0 {
		slices.Sort(lat)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		q := func(p float64) float64 { return ms(lat[min(len(lat)-1, int(p*float64(len(lat))))]) }
		res.LatencyP50, res.LatencyP90, res.LatencyP99 = q(0.50), q(0.90), q(0.99)
		res.LatencyMax = ms(lat[len(lat)-1])
		var sum time.Duration
		for _, d := range lat {
			sum += d
		}
		res.LatencyMean = ms(sum / time.Duration(len(lat)))
	}
	if *jsonOut {
		writeJSON(stdout, res)
	} else {
		fmt.Fprintf(stdout, "target      %s (%s, %d panels, rate %s, %s)\n", res.To, res.Transport, res.Panels, rateText(*rate), elapsed.Round(time.Millisecond))
		fmt.Fprintf(stdout, "sent        %d\n", res.Sent)
		fmt.Fprintf(stdout, "acked       %d\n", res.Acked)
		fmt.Fprintf(stdout, "naked       %d\n", res.Naked)
		fmt.Fprintf(stdout, "duh         %d\n", res.Duhs)
		fmt.Fprintf(stdout, "timeouts    %d\n", res.Timeouts)
		fmt.Fprintf(stdout, "bad replies %d\n", res.BadReplies)
		fmt.Fprintf(stdout, "conn errors %d\n", res.ConnErrors)
		fmt.Fprintf(stdout, "throughput  %.0f acked/s\n", res.Throughput)
		fmt.Fprintf(stdout, "latency ms  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  mean %.3f\n",
			res.LatencyP50, res.LatencyP90, res.LatencyP99, res.LatencyMax, res.LatencyMean)
	}
	if res.Acked == 0 {
		fmt.Fprintln(stderr, "vigil alarm bench: no frame was acknowledged")
		return 1
	}
	return 0
}

func rateText(r float64) string {
	if r == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%.0f/s", r)
}

// panel is one simulated panel of bench.
type panel struct {
	network, addr, account string
	key                    []byte
	timeout                time.Duration
	mix                    []mixEntry
	total                  int
	rng                    *rand.Rand
	st                     *panelStats

	mu   sync.Mutex // guards conn against the end-of-run AfterFunc
	conn net.Conn
	br   *bufio.Reader
}

func (p *panel) setConn(c net.Conn) {
	p.mu.Lock()
	p.conn = c
	p.mu.Unlock()
}

func (p *panel) run(ctx context.Context, next time.Time, interval time.Duration) {
	defer func() {
		if p.conn != nil {
			p.conn.Close()
		}
	}()
	// Close the connection when the run ends so a blocked read returns.
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		if p.conn != nil {
			p.conn.SetDeadline(time.Now())
		}
		p.mu.Unlock()
	})
	defer stop()
	seq := 0
	for ctx.Err() == nil {
		if interval > 0 {
			if d := time.Until(next); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
			next = next.Add(interval)
		}
		if p.conn == nil {
			d := net.Dialer{Timeout: p.timeout}
			c, err := d.DialContext(ctx, p.network, p.addr)
			if err != nil {
				if ctx.Err() == nil {
					p.st.connErrs++
					time.Sleep(50 * time.Millisecond)
				}
				continue
			}
			p.setConn(c)
			p.br = bufio.NewReaderSize(c, 512)
			if ctx.Err() != nil {
				return
			}
		}
		seq = seq%9999 + 1
		kind := p.pick()
		m := mixKinds[kind]
		f := &dc09.Frame{Token: m.token, Encrypted: p.key != nil, Sequence: dc09.SequenceString(seq), Line: "0", HasLine: true,
			Account: p.account, Data: m.data(p.account, 1+p.rng.IntN(64)), Timestamp: time.Now(), HasTimestamp: true}
		raw, err := f.Marshal(p.key, nil, dc09.Quirks{})
		if err != nil {
			p.st.bad++
			return
		}
		t0 := time.Now()
		p.conn.SetDeadline(t0.Add(p.timeout))
		if _, err := p.conn.Write(raw); err != nil {
			p.fail(ctx)
			continue
		}
		p.st.sent++
		reply, err := p.readReply(f.Sequence)
		if err != nil {
			if ctx.Err() != nil {
				p.st.sent-- // cut off by the end of the run, not by the receiver
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				p.st.timeouts++
			} else {
				p.st.connErrs++
			}
			p.fail(ctx)
			continue
		}
		lat := time.Since(t0)
		resp, err := checkReply(f, reply, p.key)
		switch {
		case resp == "NAK":
			p.st.naked++
		case resp == "DUH":
			p.st.duhs++
		case err != nil:
			p.st.bad++
		default:
			p.st.acked++
			p.st.lat = append(p.st.lat, lat)
		}
	}
}

// readReply reads replies until one echoes seq (a NAK echoes none, so any
// NAK counts); over UDP a late reply to an earlier frame is skipped.
func (p *panel) readReply(seq string) ([]byte, error) {
	for {
		r, err := readFrame(p.br)
		if err != nil {
			return nil, err
		}
		if p.network == "tcp" {
			return r, nil
		}
		if f, err := dc09.Parse(r); err != nil || f.Token == dc09.TokenNAK || f.Sequence == seq {
			return r, nil
		}
	}
}

// fail drops a TCP connection after an error (its stream may be out of
// step); a UDP socket is kept.
func (p *panel) fail(ctx context.Context) {
	if p.network == "tcp" && p.conn != nil {
		p.conn.Close()
		p.setConn(nil)
	}
	if ctx.Err() == nil && p.network == "tcp" {
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *panel) pick() string {
	n := p.rng.IntN(p.total)
	for _, m := range p.mix {
		if n < m.weight {
			return m.kind
		}
		n -= m.weight
	}
	return p.mix[len(p.mix)-1].kind
}
