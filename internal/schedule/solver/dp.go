package solver

import "math"

// inf marks an unreachable DP state or a forbidden choice.
const inf = math.MaxInt64 / 4

// rowModel is the static part of one employee's row subproblem: which
// shifts they may work, their contract limits in DP units, and the layout of
// the DP state space. It is read-only and shared by all workers.
//
// A DP state on day d is (run, minutes, weekends):
//   - run is either "working, last shift a, run length r" (r ≤ MaxConsecutive)
//     or "off, run length r" capped at max(1, MinConsecutiveOff);
//   - minutes is the total worked so far in units of the gcd of the shift
//     lengths, capped at MaxMinutes;
//   - weekends is the number of weekends worked so far, capped at MaxWeekends.
//
// Edge runs are recognised without a flag: a run of length d+1 on day d
// started on day 0. Everything except the per-shift-type maxima is exact in
// this state; those are priced by a Lagrangian loop in solve.
type rowModel struct {
	e int
	// allowed holds one representative shift per class of interchangeable
	// shifts (same length, same succession rules both ways, no binding
	// maximum): the DP only needs to know the class, and the cheapest member
	// is chosen per day. members lists each class; classOf maps a shift to
	// its class or -1 if the employee may not work it.
	allowed []int
	members [][]int
	classOf []int
	lenU    []int // length of allowed[a] in units
	limit   []int // MaxShifts of allowed[a]
	binding bool  // some untracked limit can bind within the horizon
	relaxW  bool  // weekends are priced, not counted (see newRowModel)
	maxW    int
	// Binding per-type maxima with small limits are tracked exactly as a
	// mixed-radix counter of C values; cntNext[c*nA+a] is the counter after
	// one more shift allowed[a], or -1 past the limit.
	C        int
	cntNext  []int32
	tracked  []bool
	forbid   []bool
	maxC     int
	minC     int
	minOff   int
	offCap   int
	nA       int
	R        int // run states
	M1       int // minute states (0..M)
	W1       int // weekend states (0..W)
	minU     int
	maxLenU  int
	dayOff   []bool
	weekend  []int8 // 0: weekday, 1: first day of a weekend, 2: later weekend day
	feasible bool   // false if the state space is empty (e.g. MaxConsecutive 0 but MinMinutes > 0 is caught by DP)
	// maxRem and minRem bound the units still workable from each
	// minutes-free state (see reach); nil if too big. -1 marks a state
	// with no valid completion.
	maxRem, minRem []int32
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func newRowModel(p *Problem, e int) *rowModel {
	emp := &p.Employees[e]
	m := &rowModel{e: e}
	m.classify(p, emp)
	m.nA = len(m.allowed)
	unit := 0
	for _, s := range m.allowed {
		unit = gcd(unit, p.Shifts[s].Minutes)
	}
	if unit == 0 {
		unit = 1
	}
	for _, s := range m.allowed {
		u := p.Shifts[s].Minutes / unit
		m.lenU = append(m.lenU, u)
		m.maxLenU = max(m.maxLenU, u)
		m.limit = append(m.limit, emp.MaxShifts[s])
	}
	m.forbid = make([]bool, m.nA*m.nA)
	for a, s := range m.allowed {
		for _, f := range p.Shifts[s].ForbiddenNext {
			for b, t := range m.allowed {
				if t == f {
					m.forbid[a*m.nA+b] = true
				}
			}
		}
	}
	m.maxC = min(emp.MaxConsecutive, p.Days)
	m.minC = emp.MinConsecutive
	m.minOff = emp.MinConsecutiveOff
	m.offCap = max(1, min(emp.MinConsecutiveOff, p.Days))
	m.R = m.nA*m.maxC + m.offCap
	maxU := min(emp.MaxMinutes/unit, p.Days*m.maxLenU)
	m.M1 = maxU + 1
	m.minU = (emp.MinMinutes + unit - 1) / unit
	m.W1 = min(emp.MaxWeekends, len(p.Weekends)) + 1
	m.trackLimits(p, emp)
	m.maxW = emp.MaxWeekends
	if m.states()*p.Days > prevBudget {
		// Long horizons with many weekends: price weekend work in the
		// Lagrangian loop instead of counting weekends in the state, so
		// the back-pointers stay within memory.
		m.relaxW = true
		m.W1 = 1
	}
	m.dayOff = make([]bool, p.Days)
	for _, d := range emp.DaysOff {
		m.dayOff[d] = true
	}
	m.weekend = make([]int8, p.Days)
	for _, w := range p.Weekends {
		m.weekend[w.First] = 1
		for d := w.First + 1; d <= w.Last; d++ {
			m.weekend[d] = 2
		}
	}
	m.feasible = m.minU <= maxU
	m.reach(p)
	return m
}

// classify groups the shifts the employee may work into classes of
// interchangeable shifts (see rowModel.allowed).
func (m *rowModel) classify(p *Problem, emp *Employee) {
	S := len(p.Shifts)
	var raw []int
	for s, lim := range emp.MaxShifts {
		if lim > 0 {
			raw = append(raw, s)
		}
	}
	forbids := func(a, b int) bool {
		for _, f := range p.Shifts[a].ForbiddenNext {
			if f == b {
				return true
			}
		}
		return false
	}
	loose := func(s int) bool {
		return emp.MaxShifts[s] >= min(p.Days, emp.MaxMinutes/p.Shifts[s].Minutes)
	}
	same := func(a, b int) bool {
		if p.Shifts[a].Minutes != p.Shifts[b].Minutes || !loose(a) || !loose(b) || forbids(a, b) != forbids(b, a) ||
			forbids(a, a) != forbids(b, b) || forbids(a, a) != forbids(a, b) {
			return false
		}
		for _, t := range raw {
			if forbids(a, t) != forbids(b, t) || forbids(t, a) != forbids(t, b) {
				return false
			}
		}
		return true
	}
	m.classOf = make([]int, S)
	for i := range m.classOf {
		m.classOf[i] = -1
	}
	for _, s := range raw {
		for c, rep := range m.allowed {
			if same(rep, s) {
				m.members[c] = append(m.members[c], s)
				m.classOf[s] = c
				break
			}
		}
		if m.classOf[s] < 0 {
			m.classOf[s] = len(m.allowed)
			m.allowed = append(m.allowed, s)
			m.members = append(m.members, []int{s})
		}
	}
}

// maxCounter bounds the extra state the exact per-type maxima may add, and
// stateBudget the size of a day's layer that counters may grow it to: on
// long horizons with many shift types an exact counter would make every
// row DP take a second, and the Lagrangian loop is far cheaper.
const (
	maxCounter  = 64
	stateBudget = 40000
	// prevBudget bounds the DP back-pointers (states × days, 4 bytes each).
	prevBudget = 16 << 20
)

// trackLimits decides which per-type maxima the DP tracks exactly: those
// that can bind (below both the horizon and what the minutes allow),
// tightest first, while the counter stays within maxCounter values. The
// rest are left to the Lagrangian loop in bestRow.
func (m *rowModel) trackLimits(p *Problem, emp *Employee) {
	m.tracked = make([]bool, m.nA)
	type cand struct{ a, lim int }
	var cs []cand
	for a, s := range m.allowed {
		possible := min(p.Days, emp.MaxMinutes/p.Shifts[s].Minutes)
		if m.limit[a] < possible {
			cs = append(cs, cand{a, m.limit[a]})
		}
	}
	// Insertion sort by limit: a handful of entries.
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].lim < cs[j-1].lim; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
	m.C = 1
	limitC := max(1, min(maxCounter, stateBudget/(m.R*m.M1*m.W1)))
	radix := make([]int, m.nA)
	for _, c := range cs {
		if m.C*(c.lim+1) <= limitC {
			m.tracked[c.a] = true
			radix[c.a] = m.C
			m.C *= c.lim + 1
		} else {
			m.binding = true
		}
	}
	m.cntNext = make([]int32, m.C*m.nA)
	for c := range m.C {
		for a := range m.nA {
			next := int32(c)
			if m.tracked[a] {
				digit := c / radix[a] % (m.limit[a] + 1)
				if digit == m.limit[a] {
					next = -1
				} else {
					next = int32(c + radix[a])
				}
			}
			m.cntNext[c*m.nA+a] = next
		}
	}
}

// qualified reports whether the employee may work shift s at all.
func (m *rowModel) qualified(s int) bool { return m.classOf[s] >= 0 }

// states is the size of one day's DP layer.
func (m *rowModel) states() int { return m.R * m.C * m.M1 * m.W1 }

// runState decodes run state rs: a run of r working days in shift class a,
// or of r days off, and the run state that a day off leads to.
func (m *rowModel) runState(rs int) (working bool, a, r, offNext int) {
	workStates := m.nA * m.maxC
	if rs < workStates {
		return true, rs / m.maxC, rs%m.maxC + 1, workStates
	}
	r = rs - workStates + 1
	return false, 0, r, workStates + min(r+1, m.offCap) - 1
}

// dpScratch is one worker's reusable DP memory.
type dpScratch struct {
	cur, nxt []int64 // all inf between runs
	act      []int32
	nact     []int32
	prev     []int32
	lam      []int64
	lamW     int64
	count    []int
	// lo, hi and keep are the Lagrangian loop's brackets and best row.
	lo, hi []int64
	keep   []int
	b      boundScratch
	// pricing is set while column generation prices rows.
	pricing bool
	// exact turns the bounding off (for tests that compare both).
	exact bool
	// firstFit accepts, under a finite cutoff, the first row found within
	// it (the relaxed row of the bounding) instead of the cheapest:
	// pricing needs some improving column, not the best one.
	firstFit bool
}

func (sc *dpScratch) ensure(n, days, nA int) {
	if cap(sc.cur) < n {
		sc.cur = make([]int64, n)
		sc.nxt = make([]int64, n)
		for i := range sc.cur {
			sc.cur[i], sc.nxt[i] = inf, inf
		}
	}
	sc.cur, sc.nxt = sc.cur[:n], sc.nxt[:n]
	if cap(sc.prev) < n*days {
		sc.prev = make([]int32, n*days)
	}
	sc.prev = sc.prev[:n*days]
	if cap(sc.lam) < nA {
		sc.lam = make([]int64, nA)
		sc.count = make([]int, nA)
	}
	sc.lam, sc.count = sc.lam[:nA], sc.count[:nA]
}

// bestRow writes into out the cheapest feasible row for the employee, where
// cost[d*(S+1)+s] is the price of working shift s on day d and
// cost[d*(S+1)+S] the price of a day off. It returns the row's price and
// whether a feasible row was found. Per-shift-type maxima are enforced by
// raising that type's price until the optimum respects them (a Lagrangian
// heuristic, so the result is then feasible but not always optimal), and
// finally by forbidding the limited types outright.
func (m *rowModel) bestRow(p *Problem, cost []int64, sc *dpScratch, out []int) (int64, bool) {
	return m.bestRowWithin(p, cost, sc, out, inf)
}

// bestRowWithin is bestRow for callers that only want a row priced at most
// cutoff (pricing wants rows below the employee's dual, a best response
// rows no worse than the current one); it reports false if there is none,
// and the bounds then prune far more of the DP.
func (m *rowModel) bestRowWithin(p *Problem, cost []int64, sc *dpScratch, out []int, cutoff int64) (int64, bool) {
	if !m.feasible {
		return 0, false
	}
	sc.ensure(m.states(), p.Days, m.nA)
	clear(sc.lam)
	sc.lamW = 0
	if !m.binding && !m.relaxW {
		return m.run(p, cost, sc, out, cutoff)
	}
	// Multipliers grow from the scale of the prices themselves.
	var scale int64 = 1
	for _, c := range cost {
		if c < inf {
			scale = max(scale, c, -c)
		}
	}
	scale = max(1, scale/8)
	// A row that respects every limit pays at most lam·limit in
	// multipliers (weekend days at most maxWeekendLen per weekend), so
	// (DP optimum − that) bounds every such row from below, and a row
	// priced at most c costs at most c + that in the multiplied prices.
	wkLen := 1
	for _, w := range p.Weekends {
		wkLen = max(wkLen, w.Last-w.First+1)
	}
	slack := func() (int64, bool) {
		var t int64
		for a := range m.nA {
			if l := sc.lam[a]; l > 0 && !m.tracked[a] && m.limit[a] < p.Days {
				if l >= inf {
					return 0, false
				}
				t += l * int64(m.limit[a])
			}
		}
		if sc.lamW > 0 {
			if sc.lamW >= inf {
				return 0, false
			}
			t += sc.lamW * int64(wkLen*m.maxW)
		}
		return t, t < inf/4
	}
	// lo and hi bracket each multiplier between the last value at which its
	// type was over the limit and the last at which the row respected it
	// (hi < 0: none yet); after the first row within every limit the loop
	// bisects them, keeping the cheapest such row.
	if cap(sc.lo) < m.nA+1 {
		sc.lo = make([]int64, m.nA+1)
		sc.hi = make([]int64, m.nA+1)
	}
	lo, hi := sc.lo[:m.nA+1], sc.hi[:m.nA+1]
	for a := range lo {
		lo[a], hi[a] = 0, -1
	}
	if cap(sc.keep) < p.Days {
		sc.keep = make([]int, p.Days)
	}
	keep := sc.keep[:p.Days]
	bestV, have := int64(inf), false
	truePrice := func(row []int) int64 { return rowPrice(cost, len(p.Shifts), row) }
	// want is the dearest true price still of interest.
	want := func() int64 {
		if have {
			return min(cutoff, bestV-1)
		}
		return cutoff
	}
	// Pricing refines the row it found for 4 more passes (a row priced
	// too high ends column generation early); the local search takes the
	// first row within the limits after one (it prices many more rows).
	const rounds = 16
	refine, refined := 1, 0
	if sc.pricing {
		refine = 4
	}
	for round := 0; round <= rounds; round++ {
		if round == rounds {
			if have {
				break
			}
			// Last resort: no limited type at all.
			for a := range m.nA {
				if !m.tracked[a] && m.limit[a] < p.Days {
					sc.lam[a] = inf
				}
			}
			if m.relaxW && sc.lamW > 0 {
				sc.lamW = inf
			}
		}
		cut := int64(inf)
		sl, finite := slack()
		if w := want(); w < inf && finite {
			cut = w + sl
		}
		val, ok := m.run(p, cost, sc, out, cut)
		if !ok {
			break
		}
		if finite && want() < inf && val-sl > want() {
			// No row within the limits is wanted.
			break
		}
		clear(sc.count)
		for _, s := range out {
			if s != Off {
				sc.count[m.classOf[s]]++
			}
		}
		within := true
		for a := range m.nA {
			if !m.tracked[a] && sc.count[a] > m.limit[a] {
				within = false
			}
		}
		wkOver := m.relaxW && weekendsWorked(p, out) > m.maxW
		if wkOver {
			within = false
		}
		if within {
			v := truePrice(out)
			if v < bestV {
				bestV, have = v, true
				copy(keep, out)
			}
			if finite && v <= val-sl {
				break // the Lagrangian bound is met: optimal
			}
		}
		if have {
			if refined == refine {
				break
			}
			refined++
		}
		// Next multipliers: raise those over their limit (double until
		// a bracket exists, then bisect), lower the others of a row
		// within every limit towards their last violated value.
		moved := false
		step := func(a int, l *int64, over bool) {
			switch {
			case over:
				lo[a] = *l
				if hi[a] >= 0 {
					*l = (lo[a] + hi[a] + 1) / 2
				} else {
					*l = *l*2 + scale
				}
			case within && *l > 0:
				hi[a] = *l
				*l = (lo[a] + hi[a]) / 2
			default:
				return
			}
			moved = true
		}
		for a := range m.nA {
			if !m.tracked[a] && m.limit[a] < p.Days && sc.lam[a] < inf {
				step(a, &sc.lam[a], sc.count[a] > m.limit[a])
			}
		}
		if m.relaxW && sc.lamW < inf {
			step(m.nA, &sc.lamW, wkOver)
		}
		if !moved && round < rounds-1 {
			if have {
				break
			}
			round = rounds - 1
		}
	}
	if !have {
		return 0, false
	}
	copy(out, keep)
	return bestV, true
}

// run is one DP pass with the current multipliers. States are laid out as
// ((run*C + counter)*M1 + minutes)*W1 + weekends. Most of that space is
// unreachable on any given day, so the pass walks a list of the states
// reached the day before; cur and nxt are all-inf between calls. Unless
// sc.exact is set, states that cannot lead to a row priced at most cutoff
// (or at most the best relaxed row found by bound) are dropped; a false
// result then means that no row is priced at most cutoff.
func (m *rowModel) run(p *Problem, cost []int64, sc *dpScratch, out []int, cutoff int64) (int64, bool) {
	days := p.Days
	N := m.states()
	M1, W1, C, nA := m.M1, m.W1, m.C, m.nA
	workStates := nA * m.maxC
	cur, nxt := sc.cur, sc.nxt
	act, nact := sc.act[:0], sc.nact[:0]
	idx := func(rs, cnt, mu, w int) int { return ((rs*C+cnt)*M1+mu)*W1 + w }
	m.prepare(p, cost, sc)
	b := &sc.b
	ubF := math.MaxFloat64
	var sel []int
	Q := m.R * C * W1
	if !sc.exact && days*Q <= boundBudget {
		switch m.bound(p, sc, cutoff) {
		case boundNone:
			return 0, false
		case boundDone:
			for d, a := range b.ubRow {
				out[d] = m.member(p, cost, d, int(a))
			}
			return b.ub, true
		}
		if sc.firstFit && b.goodEnough(b.lb, cutoff) {
			for d, a := range b.ubRow {
				out[d] = m.member(p, cost, d, int(a))
			}
			return b.ub, true
		}
		if b.ub < inf {
			ubF = float64(b.ub) + 0.5
		}
		sel = b.sel
	}
	minU, maxU := m.minU, M1-1
	// pruned reports that no completion of a state of day d (minutes-free
	// index q, mu units) with price v can stay within the upper bound.
	reach := !sc.exact && m.maxRem != nil
	pruned := func(v int64, d, q, mu int) bool {
		at := d*Q + q
		if reach {
			if hi := m.maxRem[at]; hi < 0 || mu+int(hi) < minU || mu+int(m.minRem[at]) > maxU {
				return true
			}
		}
		fv := float64(v)
		for _, k := range sel {
			lam := b.lam[k]
			t := b.h[k*days*Q+at]
			if lam > 0 {
				if rem := minU - mu; rem > 0 {
					t += lam * float64(rem)
				}
			} else if lam < 0 {
				t += lam * float64(maxU-mu)
			}
			if fv+t > ubF {
				return true
			}
		}
		return false
	}
	prev := sc.prev
	// Day 0.
	minLeft := func(d int) int { return m.minU - (days-1-d)*m.maxLenU } // least minutes needed by day d
	if c := b.off[0]; c < inf && 0 >= minLeft(0) && !pruned(c, 0, m.q(workStates, 0, 0), 0) {
		j := idx(workStates, 0, 0, 0)
		cur[j] = c
		act = append(act, int32(j))
	}
	for a := range nA {
		c := b.price[a]
		cn := m.cntNext[a]
		if c >= inf || m.lenU[a] >= M1 || cn < 0 || m.lenU[a] < minLeft(0) {
			continue
		}
		w := 0
		if m.weekend[0] != 0 && !m.relaxW {
			w = 1
		}
		if w >= W1 || pruned(c, 0, m.q(a*m.maxC, int(cn), w), m.lenU[a]) {
			continue
		}
		j := idx(a*m.maxC, int(cn), m.lenU[a], w)
		cur[j] = c
		act = append(act, int32(j))
	}
	for d := 1; d < days; d++ {
		price := b.price[d*nA : (d+1)*nA]
		pv := prev[d*N : (d+1)*N]
		offCost := b.off[d]
		wk := m.weekend[d]
		need := minLeft(d)
		nact = nact[:0]
		for _, j32 := range act {
			from := int(j32)
			c := cur[from]
			cur[from] = inf
			w := from % W1
			t := from / W1
			mu := t % M1
			t /= M1
			cnt := t % C
			rs := t / C
			working, a, r, offNext := m.runState(rs)
			if (!working || r >= m.minC || r == d) && offCost < inf && mu >= need {
				k := idx(offNext, cnt, mu, w)
				if v := c + offCost; v < nxt[k] && !pruned(v, d, m.q(offNext, cnt, w), mu) {
					if nxt[k] >= inf {
						nact = append(nact, int32(k))
					}
					nxt[k], pv[k] = v, j32
				}
			}
			if !working && r < m.minOff && r != d {
				continue
			}
			if working && r >= m.maxC {
				continue
			}
			w2 := w
			if !m.relaxW && (wk == 1 || (wk == 2 && !working)) {
				w2++
			}
			if w2 >= W1 {
				continue
			}
			for nb := range nA {
				pc := price[nb]
				if pc >= inf {
					continue
				}
				var ns int
				if working {
					if m.forbid[a*nA+nb] {
						continue
					}
					ns = nb*m.maxC + r
				} else {
					ns = nb * m.maxC
				}
				mu2 := mu + m.lenU[nb]
				cn := m.cntNext[cnt*nA+nb]
				if mu2 >= M1 || mu2 < need || cn < 0 {
					continue
				}
				k := idx(ns, int(cn), mu2, w2)
				if v := c + pc; v < nxt[k] && !pruned(v, d, m.q(ns, int(cn), w2), mu2) {
					if nxt[k] >= inf {
						nact = append(nact, int32(k))
					}
					nxt[k], pv[k] = v, j32
				}
			}
		}
		cur, nxt = nxt, cur
		act, nact = nact, act
	}
	best, at := int64(inf), -1
	for _, j32 := range act {
		j := int(j32)
		mu := j / W1 % M1
		if mu >= m.minU && cur[j] < best {
			best, at = cur[j], j
		}
		cur[j] = inf
	}
	sc.act, sc.nact = act, nact
	if at < 0 {
		return 0, false
	}
	for d := days - 1; d >= 0; d-- {
		rs := at / (C * M1 * W1)
		if rs < workStates {
			out[d] = m.member(p, cost, d, rs/m.maxC)
		} else {
			out[d] = Off
		}
		at = int(prev[d*N+at])
	}
	return best, true
}

// member is the shift worked for class a (or Off for a < 0) on day d: the
// cheapest member of the class, first on ties.
func (m *rowModel) member(p *Problem, cost []int64, d, a int) int {
	if a < 0 {
		return Off
	}
	S := len(p.Shifts)
	best := -1
	for _, s := range m.members[a] {
		if best < 0 || cost[d*(S+1)+s] < cost[d*(S+1)+best] {
			best = s
		}
	}
	return best
}

// weekendsWorked counts the weekends in which row works at least one day.
func weekendsWorked(p *Problem, row []int) int {
	n := 0
	for _, w := range p.Weekends {
		for d := w.First; d <= w.Last; d++ {
			if row[d] != Off {
				n++
				break
			}
		}
	}
	return n
}

// rowPrice is row's price under per-cell costs laid out as the row DP's:
// cost[d*(S+1)+s] for shift s on day d, cost[d*(S+1)+S] for a day off.
func rowPrice(cost []int64, S int, row []int) int64 {
	var v int64
	for d, s := range row {
		if s == Off {
			s = S
		}
		v += cost[d*(S+1)+s]
	}
	return v
}
