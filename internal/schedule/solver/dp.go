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
	e        int
	allowed  []int // shift indexes with MaxShifts > 0
	lenU     []int // length of allowed[a] in units
	limit    []int // MaxShifts of allowed[a]
	binding  bool  // some limit can bind within the horizon
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
	for s, lim := range emp.MaxShifts {
		if lim > 0 {
			m.allowed = append(m.allowed, s)
		}
	}
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
		if emp.MaxShifts[s] < p.Days {
			m.binding = true
		}
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
	return m
}

// states is the size of one day's DP layer.
func (m *rowModel) states() int { return m.R * m.M1 * m.W1 }

// dpScratch is one worker's reusable DP memory.
type dpScratch struct {
	cur, nxt []int64
	prev     []int32
	lam      []int64
	count    []int
}

func (sc *dpScratch) ensure(n, days, nA int) {
	if cap(sc.cur) < n {
		sc.cur = make([]int64, n)
		sc.nxt = make([]int64, n)
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
	if !m.feasible {
		return 0, false
	}
	sc.ensure(m.states(), p.Days, m.nA)
	clear(sc.lam)
	const rounds = 10
	for round := 0; round <= rounds; round++ {
		if round == rounds {
			// Last resort: no limited type at all.
			for a := range m.nA {
				if m.limit[a] < p.Days {
					sc.lam[a] = inf
				}
			}
		}
		val, ok := m.run(p, cost, sc, out)
		if !ok {
			return 0, false
		}
		if !m.binding {
			return val, true
		}
		clear(sc.count)
		for _, s := range out {
			if s == Off {
				continue
			}
			for a, t := range m.allowed {
				if t == s {
					sc.count[a]++
				}
			}
		}
		over := false
		for a := range m.nA {
			if sc.count[a] > m.limit[a] {
				over = true
				sc.lam[a] = sc.lam[a]*2 + 8
			}
		}
		if !over {
			// Report the true price, without the multipliers.
			var v int64
			S := len(p.Shifts)
			for d, s := range out {
				if s == Off {
					v += cost[d*(S+1)+S]
				} else {
					v += cost[d*(S+1)+s]
				}
			}
			return v, true
		}
	}
	return 0, false
}

// run is one DP pass with the current multipliers.
func (m *rowModel) run(p *Problem, cost []int64, sc *dpScratch, out []int) (int64, bool) {
	S := len(p.Shifts)
	days := p.Days
	N := m.states()
	M1, W1 := m.M1, m.W1
	workStates := m.nA * m.maxC
	cur, nxt := sc.cur, sc.nxt
	for i := range cur {
		cur[i] = inf
	}
	idx := func(rs, mu, w int) int { return (rs*M1+mu)*W1 + w }
	// price of allowed shift a on day d, or inf.
	price := func(d, a int) int64 {
		if m.dayOff[d] || sc.lam[a] >= inf {
			return inf
		}
		c := cost[d*(S+1)+m.allowed[a]]
		if c >= inf {
			return inf
		}
		return c + sc.lam[a]
	}
	// reachable reports whether minimum minutes are still attainable from
	// mu units after day d.
	reachable := func(d, mu int) bool { return mu+(days-1-d)*m.maxLenU >= m.minU }

	prev := sc.prev
	// Day 0.
	for i := range N {
		prev[i] = -1
	}
	if c := cost[S]; c < inf {
		if reachable(0, 0) {
			cur[idx(workStates, 0, 0)] = c
		}
	}
	for a := range m.nA {
		if m.maxC < 1 {
			break
		}
		c := price(0, a)
		if c >= inf || m.lenU[a] >= M1 {
			continue
		}
		w := 0
		if m.weekend[0] != 0 {
			w = 1
		}
		if w >= W1 || !reachable(0, m.lenU[a]) {
			continue
		}
		cur[idx(a*m.maxC, m.lenU[a], w)] = c
	}
	for d := 1; d < days; d++ {
		for i := range nxt {
			nxt[i] = inf
		}
		pv := prev[d*N : (d+1)*N]
		offCost := cost[d*(S+1)+S]
		wk := m.weekend[d]
		for rs := 0; rs < m.R; rs++ {
			working := rs < workStates
			var a, r int
			if working {
				a, r = rs/m.maxC, rs%m.maxC+1
			} else {
				r = rs - workStates + 1
			}
			// Successor run states and their weekend increments.
			canOff := !working || r >= m.minC || r == d
			offNext := workStates
			if !working {
				offNext = workStates + min(r+1, m.offCap) - 1
			}
			canWork := working || r >= m.minOff || r == d
			wInc := 0
			if wk == 1 || (wk == 2 && !working) {
				wInc = 1
			}
			for mu := 0; mu < M1; mu++ {
				base := idx(rs, mu, 0)
				for w := range W1 {
					c := cur[base+w]
					if c >= inf {
						continue
					}
					from := int32(base + w)
					if canOff && offCost < inf && reachable(d, mu) {
						j := idx(offNext, mu, w)
						if v := c + offCost; v < nxt[j] {
							nxt[j], pv[j] = v, from
						}
					}
					if !canWork || w+wInc >= W1 {
						continue
					}
					for b := range m.nA {
						var ns int
						if working {
							if r >= m.maxC || m.forbid[a*m.nA+b] {
								continue
							}
							ns = b*m.maxC + r
						} else {
							if m.maxC < 1 {
								continue
							}
							ns = b * m.maxC
						}
						mu2 := mu + m.lenU[b]
						if mu2 >= M1 || !reachable(d, mu2) {
							continue
						}
						pc := price(d, b)
						if pc >= inf {
							continue
						}
						j := idx(ns, mu2, w+wInc)
						if v := c + pc; v < nxt[j] {
							nxt[j], pv[j] = v, from
						}
					}
				}
			}
		}
		cur, nxt = nxt, cur
	}
	best, at := int64(inf), -1
	for rs := 0; rs < m.R; rs++ {
		for mu := m.minU; mu < M1; mu++ {
			for w := range W1 {
				j := idx(rs, mu, w)
				if cur[j] < best {
					best, at = cur[j], j
				}
			}
		}
	}
	if at < 0 {
		return 0, false
	}
	for d := days - 1; d >= 0; d-- {
		rs := at / (M1 * W1)
		if rs < workStates {
			out[d] = m.allowed[rs/m.maxC]
		} else {
			out[d] = Off
		}
		at = int(prev[d*N+at])
	}
	return best, true
}
