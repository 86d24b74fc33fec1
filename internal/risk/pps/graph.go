package pps

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Node is an area of an adversary sequence diagram (off-site, protected
// area, building, vital area, target). In JSON a node is an object
// {"id": …, "name": …} or just its id as a string.
type Node struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// UnmarshalJSON accepts "id" or {"id":…,"name":…}.
func (n *Node) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		*n = Node{}
		return jsonUnmarshalString(b, &n.ID)
	}
	type plain Node
	var p plain
	if err := strictDecode(b, &p); err != nil {
		return err
	}
	*n = Node(p)
	return nil
}

// Edge is a path element between two areas (a fence, a door, a wall, a
// travel step), directed from the outer area towards the target.
type Edge struct {
	ID         string   `json:"id"`
	From       string   `json:"from"`
	To         string   `json:"to"`
	Name       string   `json:"name,omitempty"`
	PDetection float64  `json:"p_detection"`
	Location   Location `json:"location"`
	Delay      Normal   `json:"delay"`
}

// Diagram is an adversary sequence diagram with the response parameters
// shared by all its paths.
type Diagram struct {
	Nodes             []Node   `json:"nodes"`
	Edges             []Edge   `json:"edges"`
	Start             string   `json:"start"`
	Target            string   `json:"target"`
	ResponseForceTime Normal   `json:"response_force_time"`
	PCommunication    *float64 `json:"p_communication"`
	PNeutralization   *float64 `json:"p_neutralization,omitempty"`
}

// Limits for API callers.
const (
	MaxNodes = 1_000_000
	MaxEdges = 5_000_000
)

// Validate reports the first problem by field path.
func (d *Diagram) Validate() error {
	_, err := d.index()
	return err
}

// graph is a validated diagram in compressed adjacency form.
type graph struct {
	d        *Diagram
	nodeIdx  map[string]int
	ef, et   []int   // edge endpoints as node indices
	out, in  [][]int // edge indices by node
	start    int
	target   int
	weight   []float64 // location weight per edge
	canReach []bool    // node can reach the target
}

func (d *Diagram) index() (*graph, error) {
	if len(d.Nodes) == 0 {
		return nil, fieldErr("nodes", "missing")
	}
	if len(d.Nodes) > MaxNodes {
		return nil, fieldErr("nodes", "at most %d nodes", MaxNodes)
	}
	if len(d.Edges) > MaxEdges {
		return nil, fieldErr("edges", "at most %d edges", MaxEdges)
	}
	g := &graph{d: d, nodeIdx: make(map[string]int, len(d.Nodes))}
	for i, n := range d.Nodes {
		if n.ID == "" {
			return nil, fieldErr(fmt.Sprintf("nodes[%d].id", i), "missing")
		}
		if _, dup := g.nodeIdx[n.ID]; dup {
			return nil, fieldErr(fmt.Sprintf("nodes[%d].id", i), "duplicate node %q", n.ID)
		}
		g.nodeIdx[n.ID] = i
	}
	g.out = make([][]int, len(d.Nodes))
	g.in = make([][]int, len(d.Nodes))
	g.weight = make([]float64, len(d.Edges))
	g.ef = make([]int, len(d.Edges))
	g.et = make([]int, len(d.Edges))
	seen := make(map[string]bool, len(d.Edges))
	for i, e := range d.Edges {
		f := edgeField(i)
		if e.ID == "" {
			return nil, fieldErr(f.String()+".id", "missing")
		}
		if seen[e.ID] {
			return nil, fieldErr(f.String()+".id", "duplicate edge %q", e.ID)
		}
		seen[e.ID] = true
		from, ok := g.nodeIdx[e.From]
		if !ok {
			return nil, fieldErr(f.String()+".from", "unknown node %q", e.From)
		}
		to, ok := g.nodeIdx[e.To]
		if !ok {
			return nil, fieldErr(f.String()+".to", "unknown node %q", e.To)
		}
		el := Element{PDetection: e.PDetection, Location: e.Location, Delay: e.Delay}
		if !el.valid() {
			return nil, el.validate(f.String())
		}
		g.weight[i], _ = e.Location.weight()
		g.ef[i], g.et[i] = from, to
		g.out[from] = append(g.out[from], i)
		g.in[to] = append(g.in[to], i)
	}
	var ok bool
	if g.start, ok = g.nodeIdx[d.Start]; !ok {
		if d.Start == "" {
			return nil, fieldErr("start", "missing")
		}
		return nil, fieldErr("start", "unknown node %q", d.Start)
	}
	if g.target, ok = g.nodeIdx[d.Target]; !ok {
		if d.Target == "" {
			return nil, fieldErr("target", "missing")
		}
		return nil, fieldErr("target", "unknown node %q", d.Target)
	}
	if g.start == g.target {
		return nil, fieldErr("target", "must differ from start")
	}
	if err := validateCommon(d.ResponseForceTime, d.PCommunication, d.PNeutralization, nil); err != nil {
		return nil, err
	}
	// Which nodes can still reach the target (reverse search).
	g.canReach = make([]bool, len(d.Nodes))
	g.canReach[g.target] = true
	stack := []int{g.target}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, ei := range g.in[v] {
			u := g.ef[ei]
			if !g.canReach[u] {
				g.canReach[u] = true
				stack = append(stack, u)
			}
		}
	}
	if !g.canReach[g.start] {
		return nil, fieldErr("target", "not reachable from start %q", d.Start)
	}
	return g, nil
}

// edgeField names edges[i] without formatting unless an error needs it.
type edgeField int

func (f edgeField) String() string { return fmt.Sprintf("edges[%d]", int(f)) }

func (g *graph) from(e int) int { return g.ef[e] }
func (g *graph) to(e int) int   { return g.et[e] }

// RankedPath is one adversary path with its EASI figures.
type RankedPath struct {
	Edges          []string `json:"edges"`
	PInterruption  float64  `json:"p_interruption"`
	PEffectiveness float64  `json:"p_effectiveness"`
	DelayMean      float64  `json:"delay_mean"`
	PDetection     float64  `json:"p_detection"`
}

// DetectionPath is the path least likely to be detected anywhere.
type DetectionPath struct {
	Edges      []string `json:"edges"`
	PDetection float64  `json:"p_detection"`
}

// DelayPath is the fastest path.
type DelayPath struct {
	Edges     []string `json:"edges"`
	DelayMean float64  `json:"delay_mean"`
}

// Methods for the most vulnerable path.
const (
	// MethodAuto enumerates when the diagram's simple paths fit the budget
	// and falls back to MethodTimely otherwise.
	MethodAuto = "auto"
	// MethodExhaustive evaluates EASI on every simple start→target path
	// (SAVI-style) and ranks them.
	MethodExhaustive = "exhaustive"
	// MethodTimely is the polynomial timely-detection shortest path
	// (risk-methods.md §3.3, method 3), re-scored with EASI.
	MethodTimely = "timely-detection"
)

// PathOptions tune path analysis.
type PathOptions struct {
	// TopK is how many most-vulnerable paths to return (default 1).
	TopK int
	// Method is MethodAuto (default), MethodExhaustive or MethodTimely.
	Method string
	// MaxPaths caps enumeration (default 200,000 complete paths; the
	// search also stops after 50 edge expansions per allowed path).
	MaxPaths int
}

// PathsResult is the outcome of path analysis.
type PathsResult struct {
	Method string `json:"method"`
	// PathCount is the number of simple paths, when they were enumerated.
	PathCount *int `json:"path_count,omitempty"`
	// MostVulnerable is ordered most vulnerable (lowest P(I)) first.
	MostVulnerable []RankedPath  `json:"most_vulnerable"`
	MinDetection   DetectionPath `json:"min_detection"`
	MinDelay       DelayPath     `json:"min_delay"`
}

// ErrTooManyPaths reports that exhaustive enumeration exceeded its budget.
var ErrTooManyPaths = errors.New("too many paths to enumerate")

// Analyze finds the minimum-detection, minimum-delay and most vulnerable
// paths of the diagram.
func Analyze(d *Diagram, o PathOptions) (*PathsResult, error) {
	g, err := d.index()
	if err != nil {
		return nil, err
	}
	if o.TopK == 0 {
		o.TopK = 1
	}
	if o.TopK < 0 || o.TopK > 1000 {
		return nil, fieldErr("top", "must be between 1 and 1000, got %d", o.TopK)
	}
	if o.MaxPaths <= 0 {
		o.MaxPaths = 200_000
	}
	res := &PathsResult{}

	// Minimum detection: Dijkstra on −ln(1 − P(D)); certain detections are
	// counted separately so they compare above every finite weight.
	det := g.dijkstra(g.start, true, func(e int) cost { return detCost(g.d.Edges[e].PDetection) })
	p := det.path(g, g.target)
	res.MinDetection = DetectionPath{Edges: g.ids(p), PDetection: det.dist[g.target].pDetect()}

	del := g.dijkstra(g.start, true, func(e int) cost { return cost{w: g.d.Edges[e].Delay.Mean} })
	p = del.path(g, g.target)
	res.MinDelay = DelayPath{Edges: g.ids(p), DelayMean: del.dist[g.target].w}

	method := o.Method
	switch method {
	case "", MethodAuto:
		if n, dag := g.countPaths(o.MaxPaths); dag && n > o.MaxPaths {
			res.Method = MethodTimely
			res.MostVulnerable = g.timely(o.TopK)
			return res, nil
		}
		ranked, count, err := g.enumerate(o.TopK, o.MaxPaths)
		if err == nil {
			res.Method, res.PathCount, res.MostVulnerable = MethodExhaustive, &count, ranked
			return res, nil
		}
		if !errors.Is(err, ErrTooManyPaths) {
			return nil, err
		}
		method = MethodTimely
	case MethodExhaustive:
		ranked, count, err := g.enumerate(o.TopK, o.MaxPaths)
		if err != nil {
			return nil, err
		}
		res.Method, res.PathCount, res.MostVulnerable = MethodExhaustive, &count, ranked
		return res, nil
	case MethodTimely:
	default:
		return nil, fieldErr("method", "unknown method %q; %q, %q or %q", o.Method, MethodAuto, MethodExhaustive, MethodTimely)
	}
	res.Method = method
	res.MostVulnerable = g.timely(o.TopK)
	return res, nil
}

func (g *graph) ids(path []int) []string {
	out := make([]string, len(path))
	for i, e := range path {
		out[i] = g.d.Edges[e].ID
	}
	return out
}

// easi returns P(I) of a path of edge indices, its mean delay and its
// P(detection) without allocating. Walking backwards, the first-detection
// sum is accumulated as Σ P(D_i) P(R|A_i) Π_{j<i}(1 − P(D_j)) by Horner's
// rule: S_i = P(D_i) P(R|A_i) + (1 − P(D_i)) S_{i+1}.
func (g *graph) easi(path []int) (pi, delay, pdet float64) {
	d := g.d
	var sufMean, sufVar, s float64
	miss := 1.0
	for i := len(path) - 1; i >= 0; i-- {
		e := &d.Edges[path[i]]
		w := g.weight[path[i]]
		pr := pResponse(w*e.Delay.Mean+sufMean, w*w*e.Delay.SD*e.Delay.SD+sufVar, d.ResponseForceTime)
		s = e.PDetection*pr + (1-e.PDetection)*s
		miss *= 1 - e.PDetection
		sufMean += e.Delay.Mean
		sufVar += e.Delay.SD * e.Delay.SD
	}
	return *d.PCommunication * s, sufMean, 1 - miss
}

// score evaluates EASI on a path of edge indices.
func (g *graph) score(path []int) RankedPath {
	pi, delay, pdet := g.easi(path)
	pn := 1.0
	if g.d.PNeutralization != nil {
		pn = *g.d.PNeutralization
	}
	return RankedPath{Edges: g.ids(path), PInterruption: pi, PEffectiveness: pi * pn, DelayMean: delay, PDetection: pdet}
}

// less orders paths most vulnerable first, deterministically.
func less(a, b RankedPath) bool {
	if a.PInterruption != b.PInterruption {
		return a.PInterruption < b.PInterruption
	}
	if len(a.Edges) != len(b.Edges) {
		return len(a.Edges) < len(b.Edges)
	}
	return slices.Compare(a.Edges, b.Edges) < 0
}

// enumerate runs EASI on every simple start→target path, keeping the topK
// most vulnerable in a bounded heap.
func (g *graph) enumerate(topK, maxPaths int) ([]RankedPath, int, error) {
	budget := 50 * maxPaths
	onPath := make([]bool, len(g.d.Nodes))
	var path []int
	top := &rankHeap{}
	count := 0
	var walk func(v int) error
	walk = func(v int) error {
		if v == g.target {
			count++
			if count > maxPaths {
				return ErrTooManyPaths
			}
			pi, _, _ := g.easi(path)
			if top.Len() == topK && pi > (*top)[0].PInterruption {
				return nil // cheap reject before building the ranked path
			}
			rp := g.score(path)
			if top.Len() < topK {
				heap.Push(top, rp)
			} else if less(rp, (*top)[0]) {
				(*top)[0] = rp
				heap.Fix(top, 0)
			}
			return nil
		}
		onPath[v] = true
		defer func() { onPath[v] = false }()
		for _, e := range g.out[v] {
			w := g.to(e)
			if onPath[w] || !g.canReach[w] {
				continue
			}
			if budget--; budget < 0 {
				return ErrTooManyPaths
			}
			path = append(path, e)
			err := walk(w)
			path = path[:len(path)-1]
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(g.start); err != nil {
		return nil, 0, fmt.Errorf("%w (more than %d paths or %d steps)", err, maxPaths, 50*maxPaths)
	}
	out := []RankedPath(*top)
	slices.SortFunc(out, func(a, b RankedPath) int {
		if less(a, b) {
			return -1
		}
		if less(b, a) {
			return 1
		}
		return 0
	})
	return out, count, nil
}

// countPaths counts start→target paths by dynamic programming when the
// useful part of the diagram is acyclic (then every path is simple),
// saturating just above limit. dag is false when a cycle makes the count
// unavailable this way.
func (g *graph) countPaths(limit int) (n int, dag bool) {
	// Kahn's algorithm over nodes that can reach the target.
	indeg := make([]int, len(g.d.Nodes))
	for e := range g.d.Edges {
		if g.canReach[g.ef[e]] && g.canReach[g.et[e]] {
			indeg[g.et[e]]++
		}
	}
	var order []int
	for v := range indeg {
		if g.canReach[v] && indeg[v] == 0 {
			order = append(order, v)
		}
	}
	for i := 0; i < len(order); i++ {
		for _, e := range g.out[order[i]] {
			if w := g.et[e]; g.canReach[w] {
				if indeg[w]--; indeg[w] == 0 {
					order = append(order, w)
				}
			}
		}
	}
	reach := 0
	for _, ok := range g.canReach {
		if ok {
			reach++
		}
	}
	if len(order) != reach {
		return 0, false
	}
	ways := make([]int, len(g.d.Nodes))
	ways[g.start] = 1
	for _, v := range order {
		if ways[v] == 0 {
			continue
		}
		for _, e := range g.out[v] {
			if w := g.et[e]; g.canReach[w] {
				ways[w] = min(ways[w]+ways[v], limit+1)
			}
		}
	}
	return ways[g.target], true
}

// rankHeap is a max-heap on vulnerability order: the root is the least
// vulnerable of the kept paths, the one to evict.
type rankHeap []RankedPath

func (h rankHeap) Len() int           { return len(h) }
func (h rankHeap) Less(i, j int) bool { return less(h[j], h[i]) }
func (h rankHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *rankHeap) Push(x any)        { *h = append(*h, x.(RankedPath)) }
func (h *rankHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// timely is the polynomial method: the minimum remaining delay Tmin(v) to
// the target (reverse Dijkstra on mean delays) decides for each edge u→v
// whether its detection is timely (w·delay + Tmin(v) >= mean RFT); timely
// edges weigh −ln(1 − P(D)), late ones 0, and the shortest start→target path
// under those weights is the most vulnerable. It assumes the adversary takes
// the fastest continuation, so its P(I) is conservative; each candidate is
// re-scored with full EASI. For topK > 1, Yen's k-shortest loopless paths
// on the same weights supply the candidates.
func (g *graph) timely(topK int) []RankedPath {
	tmin := g.dijkstra(g.target, false, func(e int) cost { return cost{w: g.d.Edges[e].Delay.Mean} })
	rft := g.d.ResponseForceTime.Mean
	wt := make([]cost, len(g.d.Edges))
	for e := range g.d.Edges {
		ed := &g.d.Edges[e]
		rem := g.weight[e]*ed.Delay.Mean + tmin.dist[g.to(e)].w
		if rem >= rft {
			wt[e] = detCost(ed.PDetection)
		}
	}
	paths := g.yen(topK, func(e int) cost { return wt[e] })
	out := make([]RankedPath, len(paths))
	for i, p := range paths {
		out[i] = g.score(p)
	}
	slices.SortStableFunc(out, func(a, b RankedPath) int {
		if less(a, b) {
			return -1
		}
		if less(b, a) {
			return 1
		}
		return 0
	})
	return out
}

// cost is a path weight with certain events (P(D) = 1, weight +∞) counted
// apart so that paths through them still compare and are still found.
type cost struct {
	inf int
	w   float64
}

func detCost(pd float64) cost {
	if pd >= 1 {
		return cost{inf: 1}
	}
	return cost{w: -math.Log1p(-pd)}
}

func (c cost) add(d cost) cost { return cost{c.inf + d.inf, c.w + d.w} }
func (c cost) less(d cost) bool {
	if c.inf != d.inf {
		return c.inf < d.inf
	}
	return c.w < d.w
}
func (c cost) pDetect() float64 {
	if c.inf > 0 {
		return 1
	}
	return -math.Expm1(-c.w)
}

// tree is a shortest-path tree.
type tree struct {
	dist    []cost
	pred    []int // edge into the node, −1 at the root or unreached
	reached []bool
}

func (t *tree) path(g *graph, v int) []int {
	var p []int
	for t.pred[v] >= 0 {
		p = append(p, t.pred[v])
		v = g.from(t.pred[v])
	}
	slices.Reverse(p)
	return p
}

// dijkstra from root along out-edges (forward) or in-edges (reverse).
func (g *graph) dijkstra(root int, forward bool, w func(e int) cost) *tree {
	return g.dijkstraMasked(root, forward, w, nil, nil)
}

// dijkstraMasked skips removed nodes and edges (used by Yen).
func (g *graph) dijkstraMasked(root int, forward bool, w func(e int) cost, nodeOff, edgeOff []bool) *tree {
	n := len(g.d.Nodes)
	t := &tree{dist: make([]cost, n), pred: make([]int, n), reached: make([]bool, n)}
	for i := range t.pred {
		t.pred[i] = -1
	}
	done := make([]bool, n)
	t.reached[root] = true
	pq := costHeap{{v: root}}
	for len(pq) > 0 {
		it := pq.pop()
		if done[it.v] {
			continue
		}
		done[it.v] = true
		adj := g.out[it.v]
		if !forward {
			adj = g.in[it.v]
		}
		for _, e := range adj {
			if edgeOff != nil && edgeOff[e] {
				continue
			}
			u := g.to(e)
			if !forward {
				u = g.from(e)
			}
			if done[u] || (nodeOff != nil && nodeOff[u]) {
				continue
			}
			nd := t.dist[it.v].add(w(e))
			if !t.reached[u] || nd.less(t.dist[u]) {
				t.reached[u] = true
				t.dist[u] = nd
				t.pred[u] = e
				pq.push(costItem{v: u, c: nd})
			}
		}
	}
	return t
}

type costItem struct {
	v int
	c cost
}

// costHeap is a binary min-heap with lazy deletion, typed to avoid
// container/heap's interface boxing on every push.
type costHeap []costItem

func (h *costHeap) push(x costItem) {
	*h = append(*h, x)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !a[i].c.less(a[p].c) {
			break
		}
		a[i], a[p] = a[p], a[i]
		i = p
	}
}

func (h *costHeap) pop() costItem {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a = a[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(a) {
			break
		}
		m := l
		if r := l + 1; r < len(a) && a[r].c.less(a[l].c) {
			m = r
		}
		if !a[m].c.less(a[i].c) {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}

// yen returns up to k loopless start→target paths in increasing cost
// (J. Y. Yen, Management Science 17(11), 1971).
func (g *graph) yen(k int, w func(e int) cost) [][]int {
	first := g.dijkstra(g.start, true, w)
	if !first.reached[g.target] {
		return nil
	}
	type cand struct {
		path []int
		c    cost
	}
	pathCost := func(p []int) cost {
		var c cost
		for _, e := range p {
			c = c.add(w(e))
		}
		return c
	}
	key := func(p []int) string {
		var b strings.Builder
		for _, e := range p {
			fmt.Fprintf(&b, "%d,", e)
		}
		return b.String()
	}
	A := [][]int{first.path(g, g.target)}
	seen := map[string]bool{key(A[0]): true}
	var B []cand
	nodeOff := make([]bool, len(g.d.Nodes))
	edgeOff := make([]bool, len(g.d.Edges))
	for len(A) < k {
		prev := A[len(A)-1]
		for i := 0; i < len(prev); i++ {
			spur := g.start
			if i > 0 {
				spur = g.to(prev[i-1])
			}
			root := prev[:i]
			for _, p := range A {
				if len(p) > i && slices.Equal(p[:i], root) {
					edgeOff[p[i]] = true
				}
			}
			for _, e := range root {
				nodeOff[g.from(e)] = true
			}
			t := g.dijkstraMasked(spur, true, w, nodeOff, edgeOff)
			if t.reached[g.target] {
				np := append(slices.Clone(root), t.path(g, g.target)...)
				if kk := key(np); !seen[kk] {
					seen[kk] = true
					B = append(B, cand{np, pathCost(np)})
				}
			}
			clear(nodeOff)
			clear(edgeOff)
		}
		if len(B) == 0 {
			break
		}
		best := 0
		for j := range B {
			if B[j].c.less(B[best].c) || (!B[best].c.less(B[j].c) && len(B[j].path) < len(B[best].path)) {
				best = j
			}
		}
		A = append(A, B[best].path)
		B = slices.Delete(B, best, best+1)
	}
	return A
}
