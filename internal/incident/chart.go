package incident

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// Charts are plain SVG built on the server: no script, no style attribute
// (the CSP forbids inline styles), readable by screen readers via <title>.

// BarChart draws horizontal bars, at most max of them (the rest summed as "Other").
func BarChart(title string, cs []Count, max int) template.HTML {
	if len(cs) > max {
		other := 0
		for _, c := range cs[max-1:] {
			other += c.N
		}
		cs = append(append([]Count{}, cs[:max-1]...), Count{Key: "other", Label: "Other", N: other})
	}
	const w, rowH, labelW = 560, 22, 170
	h := rowH*len(cs) + 30
	top := 1
	for _, c := range cs {
		top = maxInt(top, c.N)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" viewBox="0 0 %d %d" width="100%%" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`, w, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="0" y="14" font-size="13" font-weight="bold" fill="#1f3a60">%s</text>`, html.EscapeString(title))
	for n, c := range cs {
		y := 24 + n*rowH
		bw := float64(w-labelW-50) * float64(c.N) / float64(top)
		label := c.Label
		if r := []rune(label); len(r) > 26 {
			label = string(r[:25]) + "…"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="end" fill="#333">%s</text>`, labelW-6, y+14, html.EscapeString(label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#2f6db5"><title>%s: %d</title></rect>`, labelW, y+3, bw, rowH-6, html.EscapeString(c.Label), c.N)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" fill="#333">%d</text>`, float64(labelW)+bw+4, y+14, c.N)
	}
	if len(cs) == 0 {
		b.WriteString(`<text x="0" y="40" font-size="12" fill="#666">No incidents in this period.</text>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// TrendChart draws monthly counts as columns with a line over them.
func TrendChart(title string, cs []Count) template.HTML {
	const w, h, pad = 560, 220, 30
	top := 1
	for _, c := range cs {
		top = maxInt(top, c.N)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" viewBox="0 0 %d %d" width="100%%" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`, w, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="0" y="14" font-size="13" font-weight="bold" fill="#1f3a60">%s</text>`, html.EscapeString(title))
	if len(cs) == 0 {
		return template.HTML(b.String() + `</svg>`)
	}
	step := float64(w-pad) / float64(len(cs))
	base := float64(h - 30)
	scale := (base - 30) / float64(top)
	var pts []string
	for n, c := range cs {
		x := float64(pad) + step*float64(n)
		bh := float64(c.N) * scale
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#9bb8dc"><title>%s: %d</title></rect>`, x+2, base-bh, step-4, bh, html.EscapeString(c.Label), c.N)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x+step/2, base-bh))
		if len(cs) <= 12 || n%3 == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle" fill="#333">%s</text>`, x+step/2, base+14, html.EscapeString(c.Key[2:]))
		}
	}
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#1f3a60" stroke-width="2"/>`, strings.Join(pts, " "))
	fmt.Fprintf(&b, `<text x="%d" y="38" font-size="10" text-anchor="end" fill="#666">%d</text><line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#999"/>`, pad-4, top, pad, base, w, base)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
