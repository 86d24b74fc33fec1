package solver

import (
	"math"
	"slices"
)

// Bounding the row DP.
//
// The exact row DP carries the minutes worked in its state, and on long
// horizons with short shift units that dimension is most of the work
// (Instance19: 217 minute values). The same DP without minutes is a few
// hundred states a day, so it is cheap to solve backwards many times. With
// the minutes priced at λ per unit it gives, for every state on every day,
// H_λ = the cheapest completion of the row paying λ for every unit worked,
// and since a feasible completion from a state holding mu units must work at
// least minU−mu (and at most maxU−mu) more units,
//
//	completion cost ≥ H_λ + λ·max(0, minU−mu)   for λ ≥ 0,
//	completion cost ≥ H_λ + λ·(maxU−mu)         for λ < 0.
//
// The forward DP drops every state whose cost so far plus the best of these
// bounds exceeds an upper bound on the optimum: the cheapest relaxed row that
// happens to respect the minutes, or a cutoff from the caller (pricing only
// wants rows below the employee's dual; a best response only rows no worse
// than the current one). λ is chosen by the Lagrangian dual of the minutes
// constraint (a breakpoint search, a handful of backward passes); when the
// relaxed row at the optimal λ is itself feasible and meets the dual bound,
// it is optimal and the forward DP is skipped altogether.

// maxBounds is how many λ tables the forward DP consults, and boundBudget
// the largest table (days × minutes-free states) bounding is tried for:
// the tables take maxPasses × 8 bytes per entry and worker, so huge
// state spaces (hundreds of days, many counters) run the plain DP.
const (
	maxBounds   = 4
	boundBudget = 1 << 18
)

// boundScratch is the per-worker memory of the bounding.
type boundScratch struct {
	price []int64   // [d*nA+a], with multipliers; inf if barred
	off   []int64   // [d]
	h     []float64 // maxPasses tables of days*Q, one per λ tried
	lam   []float64 // λ of each table
	sel   []int     // the tables the forward DP consults, best first
	ch    []int8    // best choice of the last backward pass: class, -1 off, -2 none
	path  []int8    // a relaxed row being traced
	ubRow []int8    // best relaxed row respecting the minutes
	ub    int64     // its price, or the cutoff
	// ubFound says that ubRow holds a row priced ub.
	ubFound bool
	lb      float64 // the best dual bound found: no row is cheaper
}

// prepare fills the day prices (the shifts' cheapest members plus the
// multipliers, as the forward DP pays them).
func (m *rowModel) prepare(p *Problem, cost []int64, sc *dpScratch) {
	S := len(p.Shifts)
	b := &sc.b
	if cap(b.price) < p.Days*m.nA {
		b.price = make([]int64, p.Days*m.nA)
	}
	if cap(b.off) < p.Days {
		b.off = make([]int64, p.Days)
	}
	b.price, b.off = b.price[:p.Days*m.nA], b.off[:p.Days]
	for d := range p.Days {
		b.off[d] = cost[d*(S+1)+S]
		for a := range m.nA {
			c := int64(inf)
			for _, s := range m.members[a] {
				c = min(c, cost[d*(S+1)+s])
			}
			pr := int64(inf)
			if !m.dayOff[d] && sc.lam[a] < inf && c < inf && m.maxC >= 1 {
				pr = c + sc.lam[a]
				if m.relaxW && m.weekend[d] != 0 {
					if sc.lamW >= inf {
						pr = inf
					} else {
						pr += sc.lamW
					}
				}
			}
			b.price[d*m.nA+a] = pr
		}
	}
}

// q is the index of a state without minutes.
func (m *rowModel) q(rs, cnt, w int) int { return (rs*m.C+cnt)*m.W1 + w }

// backward solves the minutes-free DP backwards with minutes priced at lam,
// into table h (days*Q) and b.ch, and traces the best row from day 0 into
// b.path. It returns the row's price (without lam), its units worked and
// the relaxed optimum; ok is false if no row exists even without minutes.
func (m *rowModel) backward(p *Problem, sc *dpScratch, lam float64, h []float64) (price int64, units int, val float64, ok bool) {
	b := &sc.b
	days := p.Days
	nA, C, W1 := m.nA, m.C, m.W1
	Q := m.R * C * W1
	workStates := nA * m.maxC
	pInf := math.Inf(1)
	last := h[(days-1)*Q : days*Q]
	for i := range last {
		last[i] = 0
	}
	for d := days - 2; d >= 0; d-- {
		t := d + 1
		hn := h[t*Q : (t+1)*Q]
		hd := h[d*Q : (d+1)*Q]
		ch := b.ch[d*Q : (d+1)*Q]
		offC := b.off[t]
		pr := b.price[t*nA : (t+1)*nA]
		wk := m.weekend[t]
		for rs := range m.R {
			working, a, r, offNext := m.runState(rs)
			canOff := (!working || r >= m.minC || r == d+1) && offC < inf
			canWork := !(!working && r < m.minOff && r != d+1) && !(working && r >= m.maxC)
			for cnt := range C {
				for w := range W1 {
					best, arg := pInf, int8(-2)
					if canOff {
						if v := float64(offC) + hn[(offNext*C+cnt)*W1+w]; v < best {
							best, arg = v, -1
						}
					}
					w2 := w
					if !m.relaxW && (wk == 1 || (wk == 2 && !working)) {
						w2++
					}
					if canWork && w2 < W1 {
						for bb := range nA {
							pc := pr[bb]
							if pc >= inf || (working && m.forbid[a*nA+bb]) {
								continue
							}
							cn := m.cntNext[cnt*nA+bb]
							if cn < 0 {
								continue
							}
							ns := bb * m.maxC
							if working {
								ns += r
							}
							if v := float64(pc) - lam*float64(m.lenU[bb]) + hn[(ns*C+int(cn))*W1+w2]; v < best {
								best, arg = v, int8(bb)
							}
						}
					}
					j := (rs*C+cnt)*W1 + w
					hd[j], ch[j] = best, arg
				}
			}
		}
	}
	// Day 0 and the trace.
	best, arg, at := pInf, int8(-2), -1
	if c := b.off[0]; c < inf {
		j := m.q(workStates, 0, 0)
		if v := float64(c) + h[j]; v < best {
			best, arg, at = v, -1, j
		}
	}
	w0 := 0
	if m.weekend[0] != 0 && !m.relaxW {
		w0 = 1
	}
	for a := range nA {
		pc := b.price[a]
		cn := m.cntNext[a]
		if pc >= inf || cn < 0 || w0 >= W1 {
			continue
		}
		j := m.q(a*m.maxC, int(cn), w0)
		if v := float64(pc) - lam*float64(m.lenU[a]) + h[j]; v < best {
			best, arg, at = v, int8(a), j
		}
	}
	if at < 0 || math.IsInf(best, 1) {
		return 0, 0, 0, false
	}
	val = best
	for d := 0; ; d++ {
		b.path[d] = arg
		if arg >= 0 {
			price += b.price[d*nA+int(arg)]
			units += m.lenU[arg]
		} else {
			price += b.off[d]
		}
		if d == days-1 {
			break
		}
		arg = b.ch[d*Q+at]
		at = m.next(at, d+1, arg)
	}
	return price, units, val, true
}

// next is the minutes-free state after choosing arg (a class, or -1 for a
// day off) on day t from state j of day t-1.
func (m *rowModel) next(j, t int, arg int8) int {
	W1, C := m.W1, m.C
	w := j % W1
	cnt := j / W1 % C
	working, _, r, offNext := m.runState(j / W1 / C)
	if arg < 0 {
		return m.q(offNext, cnt, w)
	}
	bb := int(arg)
	wk := m.weekend[t]
	if !m.relaxW && (wk == 1 || (wk == 2 && !working)) {
		w++
	}
	ns := bb * m.maxC
	if working {
		ns += r
	}
	return m.q(ns, int(m.cntNext[cnt*m.nA+bb]), w)
}

// boundResult says what bound found.
type boundResult int

const (
	boundSearch boundResult = iota // run the forward DP with the tables
	boundDone                      // b.ubRow is optimal
	boundNone                      // no row at or below the cutoff exists
)

// maxPasses bounds the backward passes of one breakpoint search.
const maxPasses = 10

// bound prepares the λ tables and the upper bound for one forward pass.
func (m *rowModel) bound(p *Problem, sc *dpScratch, cutoff int64) boundResult {
	b := &sc.b
	days := p.Days
	Q := m.R * m.C * m.W1
	if cap(b.h) < maxPasses*days*Q {
		b.h = make([]float64, maxPasses*days*Q)
	}
	if cap(b.ch) < days*Q {
		b.ch = make([]int8, days*Q)
	}
	if cap(b.path) < days {
		b.path = make([]int8, days)
		b.ubRow = make([]int8, days)
	}
	b.ch, b.path, b.ubRow = b.ch[:days*Q], b.path[:days], b.ubRow[:days]
	b.lam, b.sel = b.lam[:0], b.sel[:0]
	b.ub = cutoff
	minU, maxU := m.minU, m.M1-1
	b.ubFound = false
	// A pass at lam: keep its table, offer its row as an upper bound, and
	// return the dual value (a lower bound on the optimum).
	pass := func(lam float64) (c int64, u int, dual float64, ok bool) {
		k := len(b.lam)
		c, u, val, ok := m.backward(p, sc, lam, b.h[k*days*Q:(k+1)*days*Q])
		if !ok {
			return 0, 0, 0, false
		}
		b.lam = append(b.lam, lam)
		if u >= minU && u <= maxU && c <= b.ub {
			b.ub = c
			copy(b.ubRow, b.path)
			b.ubFound = true
		}
		return c, u, val + lam*targetOf(lam, minU, maxU), true
	}
	finish := func(best float64) boundResult {
		b.lb = best
		switch {
		case best > float64(b.ub)+1e-6:
			return boundNone
		case b.ubFound && float64(b.ub) <= best+1e-6:
			return boundDone
		}
		return boundSearch
	}
	c0, u0, d0, ok := pass(0)
	if !ok {
		return boundNone
	}
	b.sel = append(b.sel, 0)
	if u0 >= minU && u0 <= maxU {
		return finish(d0)
	}
	// Breakpoint search for the best λ. lo is a row on the short side of
	// the violated limit, hi one on the other side; the next λ is where
	// their priced lines cross. The first hi prices a unit of work above
	// any difference in cost, so it works as much (or as little) as the
	// rules allow.
	var maxAbs int64 = 1
	for _, v := range b.price {
		if v < inf {
			maxAbs = max(maxAbs, v, -v)
		}
	}
	for _, v := range b.off {
		if v < inf {
			maxAbs = max(maxAbs, v, -v)
		}
	}
	sign := 1.0
	short := func(u int) bool { return u < minU }
	if u0 > maxU {
		sign = -1
		short = func(u int) bool { return u > maxU }
	}
	cHi, uHi, dHi, ok := pass(sign * (2*float64(days)*float64(maxAbs) + 1))
	if !ok {
		return boundNone
	}
	best := max(d0, dHi)
	kLo, kHi := 0, 1
	if short(uHi) {
		// Even the extreme row misses the limit: the tables prove no
		// row exists.
		b.sel = append(b.sel, 1)
		return boundNone
	}
	cLo, uLo := c0, u0
	kBest := 1
	if d0 >= dHi {
		kBest = 0
	}
	for len(b.lam) < maxPasses && uHi != uLo && !(sc.firstFit && b.goodEnough(best, cutoff)) {
		lam := float64(cHi-cLo) / float64(uHi-uLo)
		c, u, dv, ok := pass(lam)
		if !ok {
			break
		}
		k := len(b.lam) - 1
		if dv > best {
			best, kBest = dv, k
		}
		// Both lines give the same dual value at lam; a row below them
		// moves the bracket, none means lam is optimal.
		if dv >= float64(cLo)-lam*float64(uLo)+lam*targetOf(lam, minU, maxU)-1e-7 {
			break
		}
		if short(u) {
			cLo, uLo, kLo = c, u, k
		} else {
			cHi, uHi, kHi = c, u, k
		}
	}
	b.sel = b.sel[:0]
	for _, k := range []int{kBest, kLo, kHi, 0} {
		if len(b.sel) < maxBounds && !slices.Contains(b.sel, k) {
			b.sel = append(b.sel, k)
		}
	}
	return finish(best)
}

// firstFitShare: under firstFit, a relaxed row is good enough when its
// price is within this share of the way from the lower bound to the
// cutoff. Taking any row below the cutoff (share 1) made column
// generation take twice the rounds on Instance18, where exact pricing
// is cheap; on Instance13, where it is not, skipping it halves a round.
const firstFitShare = 0.5

// goodEnough reports that the relaxed row found so far may be returned
// under firstFit, given the lower bound lb on the optimum.
func (b *boundScratch) goodEnough(lb float64, cutoff int64) bool {
	return b.ubFound && cutoff < inf && float64(b.ub) <= lb+firstFitShare*(float64(cutoff)-lb)+1e-9
}

func targetOf(lam float64, minU, maxU int) float64 {
	if lam < 0 {
		return float64(maxU)
	}
	return float64(minU)
}

// reachBudget bounds the per-employee reach tables (days × minutes-free
// states, 8 bytes each).
const reachBudget = 1 << 20

// reach fills m.maxRem and m.minRem: for every minutes-free state at the
// end of day d, the most and the fewest units the rest of the row can work
// under the rules that do not depend on prices. The windows between the
// minimum and maximum minutes are narrow (Instance19: 208..216 units of a
// possible 217), so a state that cannot reach the window is common, and the
// estimate "every remaining day at the longest shift" that the DP used
// before ignores the rest days the run rules force.
func (m *rowModel) reach(p *Problem) {
	days := p.Days
	nA, C, W1 := m.nA, m.C, m.W1
	Q := m.R * C * W1
	if days*Q > reachBudget || m.maxC < 1 {
		return
	}
	const none = math.MaxInt32
	m.maxRem = make([]int32, days*Q)
	m.minRem = make([]int32, days*Q)
	for i := (days - 1) * Q; i < days*Q; i++ {
		m.maxRem[i], m.minRem[i] = 0, 0
	}
	for d := days - 2; d >= 0; d-- {
		t := d + 1
		for rs := range m.R {
			working, a, r, offNext := m.runState(rs)
			canOff := !working || r >= m.minC || r == d+1
			canWork := !m.dayOff[t] && !(!working && r < m.minOff && r != d+1) && !(working && r >= m.maxC)
			for cnt := range C {
				for w := range W1 {
					hi, lo := int32(-1), int32(none)
					if canOff {
						k := t*Q + (offNext*C+cnt)*W1 + w
						if m.maxRem[k] >= 0 {
							hi, lo = m.maxRem[k], m.minRem[k]
						}
					}
					w2 := w
					if !m.relaxW && (m.weekend[t] == 1 || (m.weekend[t] == 2 && !working)) {
						w2++
					}
					if canWork && w2 < W1 {
						for bb := range nA {
							if working && m.forbid[a*nA+bb] {
								continue
							}
							cn := m.cntNext[cnt*nA+bb]
							if cn < 0 {
								continue
							}
							ns := bb * m.maxC
							if working {
								ns += r
							}
							k := t*Q + (ns*C+int(cn))*W1 + w2
							if m.maxRem[k] < 0 {
								continue
							}
							u := int32(m.lenU[bb])
							hi = max(hi, m.maxRem[k]+u)
							lo = min(lo, m.minRem[k]+u)
						}
					}
					j := d*Q + (rs*C+cnt)*W1 + w
					if hi < 0 {
						m.maxRem[j], m.minRem[j] = -1, -1 // dead end
					} else {
						m.maxRem[j], m.minRem[j] = hi, lo
					}
				}
			}
		}
	}
}
