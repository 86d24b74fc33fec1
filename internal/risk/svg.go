package risk

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"

	"vigil/internal/risk/fair"
	"vigil/internal/risk/matrix"
)

// Charts are drawn on the server as inline SVG: they print, need no script
// (the CSP allows none inline) and carry their numbers as text for screen
// readers. Only presentation attributes are used, never style attributes.

// HeatMap draws m with the number of risks in each cell, most likely at the
// top and most severe consequence on the right. href gives each cell's
// link (the register filtered to it).
func HeatMap(m *matrix.Matrix, cells []Cell, href func(l, c int) string) template.HTML {
	const cw, ch, left, bottom, top = 96, 52, 132, 64, 8
	nl, nc := len(m.Likelihood), len(m.Consequence)
	count := make(map[[2]int]int, len(cells))
	for _, x := range cells {
		count[[2]int{x.Likelihood, x.Consequence}] += x.Count
	}
	w, h := left+nc*cw+4, top+nl*ch+bottom
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="heatmap" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="heat-title"><title id="heat-title">Risk heat map: %s</title>`, w, h, esc(m.Name))
	for l := 0; l < nl; l++ {
		y := top + (nl-1-l)*ch
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="12" fill="#333">%s</text>`, left-8, y+ch/2+4, esc(clip(m.Likelihood[l].Label, 18)))
		for c := 0; c < nc; c++ {
			x := left + c*cw
			rt, _ := m.Rate(l, c)
			n := count[[2]int{l, c}]
			label := fmt.Sprintf("%s × %s: %d risk%s (%s)", m.Likelihood[l].Label, m.Consequence[c].Label, n, plural(n), rt.Label)
			fmt.Fprintf(&b, `<a href="%s" data-cell="%d-%d"><title>%s</title><rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#fff" stroke-width="2"/>`,
				esc(href(l, c)), l, c, esc(label), x, y, cw, ch, esc(colour(rt.Colour)))
			if n > 0 {
				fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="15" fill="#fff" fill-opacity="0.85"/><text x="%d" y="%d" text-anchor="middle" font-size="15" font-weight="bold" fill="#111">%d</text>`,
					x+cw/2, y+ch/2, x+cw/2, y+ch/2+5, n)
			}
			b.WriteString(`</a>`)
		}
	}
	for c := 0; c < nc; c++ {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="12" fill="#333">%s</text>`, left+c*cw+cw/2, top+nl*ch+18, esc(clip(m.Consequence[c].Label, 14)))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="12" fill="#666">Consequence →</text>`, left+nc*cw/2, top+nl*ch+44)
	fmt.Fprintf(&b, `<text x="12" y="%d" font-size="12" fill="#666" transform="rotate(-90 12 %d)" text-anchor="middle">Likelihood →</text>`, top+nl*ch/2, top+nl*ch/2)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// Series is one loss-exceedance curve.
type Series struct {
	Name, Colour string
	Points       []fair.Exceedance
}

// LEC draws loss-exceedance curves: P(annual loss > x) against x on a log
// axis, the way FAIR reports are read ("a 10 % chance of losing more than …").
func LEC(series []Series, currency string) template.HTML {
	const w, h, left, right, top, bottom = 640, 300, 56, 16, 12, 56
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, p := range s.Points {
			if p.Threshold > 0 {
				lo, hi = math.Min(lo, p.Threshold), math.Max(hi, p.Threshold)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="lec" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="lec-title"><title id="lec-title">Loss exceedance curve</title>`, w, h)
	if math.IsInf(lo, 1) {
		b.WriteString(`<text x="20" y="40" font-size="13" fill="#666">No losses were simulated.</text></svg>`)
		return template.HTML(b.String())
	}
	llo, lhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if lhi <= llo {
		lhi = llo + 1
	}
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	px := func(x float64) float64 { return float64(left) + (math.Log10(x)-llo)/(lhi-llo)*pw }
	py := func(p float64) float64 { return float64(top) + (1-p)*ph }
	for _, p := range []float64{0, .25, .5, .75, 1} {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end" font-size="11" fill="#555">%d%%</text>`,
			left, w-right, py(p), py(p), left-6, py(p)+4, int(p*100))
	}
	for e := llo; e <= lhi; e++ {
		x := px(math.Pow(10, e))
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#eee"/><text x="%.1f" y="%d" text-anchor="middle" font-size="11" fill="#555">%s</text>`,
			x, x, top, h-bottom, x, h-bottom+16, Money(math.Pow(10, e), ""))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="12" fill="#666">Annual loss%s (log scale) — curve: chance of losing more</text>`, left+int(pw)/2, h-bottom+36, paren(currency))
	for i, s := range series {
		var pts []string
		for _, p := range s.Points {
			if p.Threshold > 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p.Threshold), py(p.Exceedance)))
			}
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5"><title>%s</title></polyline>`, strings.Join(pts, " "), esc(colour(s.Colour)), esc(s.Name))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="4" fill="%s"/><text x="%d" y="%d" font-size="12" fill="#333">%s</text>`,
			w-right-200, top+8+i*16, esc(colour(s.Colour)), w-right-184, top+13+i*16, esc(clip(s.Name, 28)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// Money formats an amount compactly (12.3k, 4.5M) for axes and summaries.
func Money(v float64, currency string) string {
	a := math.Abs(v)
	var s string
	switch {
	case a >= 1e9:
		s = fmt.Sprintf("%.3gB", v/1e9)
	case a >= 1e6:
		s = fmt.Sprintf("%.3gM", v/1e6)
	case a >= 1e3:
		s = fmt.Sprintf("%.3gk", v/1e3)
	default:
		s = fmt.Sprintf("%.3g", v)
	}
	if currency != "" {
		s += " " + currency
	}
	return s
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func esc(s string) string { return html.EscapeString(s) }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// colour admits only #rgb/#rrggbb and plain names, so a configured colour
// cannot break out of the attribute.
func colour(c string) string {
	ok := c != "" && len(c) <= 20
	for i, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '#' && i == 0) {
			ok = false
		}
	}
	if !ok {
		return "#9e9e9e"
	}
	return c
}
