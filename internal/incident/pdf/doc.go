// Package pdf lays out vigil's printed reports on top of fpdf: A4 pages
// with a header and "page N of M" footer, headings, label/value grids,
// tables, photo grids and paragraphs of any script.
//
// Text in any language renders: Latin, Greek, Cyrillic and Arabic use an
// embedded subset of DejaVu Sans, Chinese/Japanese kana use an embedded
// subset of Droid Sans Fallback (the GB2312 hanzi, kana and CJK
// punctuation), chosen per character. Arabic is shaped and reordered (see
// shape.go). fpdf embeds only the glyphs a document uses. Characters none
// of the fonts cover print as an empty box.
package pdf

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"unicode"

	"codeberg.org/go-pdf/fpdf"
)

var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
	//go:embed fonts/DroidSansFallback-CJK.ttf
	fontCJK []byte
)

// Header is what every page's header shows.
type Header struct {
	Org      string // organisation (and client) line
	Title    string // document title, e.g. "Incident report"
	Ref      string // e.g. "INC-000042"
	Stamp    string // revision/status stamp, e.g. "Revision 3 · Approved"
	Footer   string // left side of the footer (generated at …)
	Portrait bool
}

// Doc is a report being laid out.
type Doc struct {
	f        *fpdf.Fpdf
	cjk      bool
	h        Header
	w        float64 // usable width
	left     float64
	images   int
	FontSize float64
}

// Accent colour of headings and rules (a dark blue that prints well in grey).
var accent = [3]int{31, 58, 96}

// New starts an A4 document.
func New(h Header) *Doc {
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCompression(true)
	f.AddUTF8FontFromBytes("dv", "", fontRegular)
	f.AddUTF8FontFromBytes("dv", "B", fontBold)
	f.SetMargins(15, 30, 15)
	f.SetAutoPageBreak(true, 18)
	f.AliasNbPages("{nb}")
	f.SetTitle(h.Title+" "+h.Ref, true)
	f.SetCreator("vigil", true)
	d := &Doc{f: f, h: h, FontSize: 10}
	pw, _ := f.GetPageSize()
	l, _, r, _ := f.GetMargins()
	d.w, d.left = pw-l-r, l
	f.SetHeaderFunc(d.header)
	f.SetFooterFunc(d.footer)
	f.AddPage()
	return d
}

func (d *Doc) header() {
	f := d.f
	f.SetY(10)
	f.SetTextColor(accent[0], accent[1], accent[2])
	d.line(d.h.Org, "B", 12, d.w*0.65, 6, "L")
	f.SetXY(d.left+d.w*0.65, 10)
	d.line(d.h.Ref, "B", 12, d.w*0.35, 6, "R")
	f.SetX(d.left)
	f.SetTextColor(60, 60, 60)
	d.line(d.h.Title, "", 9, d.w*0.6, 5, "L")
	f.SetXY(d.left+d.w*0.6, 16)
	d.line(d.h.Stamp, "", 9, d.w*0.4, 5, "R")
	f.SetDrawColor(accent[0], accent[1], accent[2])
	f.SetLineWidth(0.5)
	f.Line(d.left, 23, d.left+d.w, 23)
	f.SetTextColor(0, 0, 0)
	f.SetY(28)
}

func (d *Doc) footer() {
	f := d.f
	f.SetY(-13)
	f.SetDrawColor(180, 180, 180)
	f.SetLineWidth(0.2)
	f.Line(d.left, f.GetY(), d.left+d.w, f.GetY())
	f.SetTextColor(90, 90, 90)
	f.SetY(-12)
	d.line(d.h.Footer, "", 8, d.w*0.7, 5, "L")
	f.SetXY(d.left+d.w*0.7, -12)
	f.SetFont("dv", "", 8)
	f.CellFormat(d.w*0.3, 5, fmt.Sprintf("Page %d of {nb}", f.PageNo()), "", 0, "R", false, 0, "")
	f.SetTextColor(0, 0, 0)
}

// run is a piece of a line drawn in one font.
type run struct {
	font string
	text string
}

func isCJK(r rune) bool {
	return r >= 0x2E80 && r <= 0x9FFF || r >= 0xF900 && r <= 0xFAFF || r >= 0xFF00 && r <= 0xFFEF || r >= 0x3000 && r <= 0x30FF
}

func (d *Doc) fontFor(r rune) string {
	if isCJK(r) {
		if !d.cjk {
			d.f.AddUTF8FontFromBytes("cjk", "", fontCJK)
			d.f.AddUTF8FontFromBytes("cjk", "B", fontCJK)
			d.cjk = true
		}
		return "cjk"
	}
	return "dv"
}

// runs splits visual-order text into single-font runs.
func (d *Doc) runs(s []rune) []run {
	var out []run
	for _, r := range s {
		f := d.fontFor(r)
		if len(out) > 0 && out[len(out)-1].font == f {
			out[len(out)-1].text += string(r)
			continue
		}
		out = append(out, run{f, string(r)})
	}
	return out
}

func (d *Doc) width(s []rune, style string, size float64) float64 {
	w := 0.0
	for _, r := range d.runs(s) {
		d.f.SetFont(r.font, style, size)
		w += d.f.GetStringWidth(r.text)
	}
	return w
}

// token is a unit of line breaking: a word, a space, or one CJK character.
func tokens(s []rune) [][]rune {
	var out [][]rune
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && !unicode.IsSpace(s[i]) && !isCJK(s[i]) {
			continue
		}
		if start < i {
			out = append(out, s[start:i])
		}
		if i < len(s) {
			out = append(out, s[i:i+1])
		}
		start = i + 1
	}
	return out
}

// wrap breaks one paragraph (logical order) into lines no wider than w.
func (d *Doc) wrap(p []rune, style string, size, w float64) [][]rune {
	var lines [][]rune
	var cur []rune
	curW := 0.0
	for _, t := range tokens(p) {
		tw := d.width(t, style, size)
		if curW+tw <= w || len(cur) == 0 && tw <= w {
			cur = append(cur, t...)
			curW += tw
			continue
		}
		if len(t) == 1 && unicode.IsSpace(t[0]) {
			lines = append(lines, cur)
			cur, curW = nil, 0
			continue
		}
		if len(cur) > 0 {
			lines = append(lines, trimRight(cur))
			cur, curW = nil, 0
		}
		for tw > w { // a word longer than the line: break it by characters
			n := 1
			for n < len(t) && d.width(t[:n+1], style, size) <= w {
				n++
			}
			lines = append(lines, t[:n])
			t = t[n:]
			tw = d.width(t, style, size)
		}
		cur, curW = append(cur, t...), tw
	}
	return append(lines, trimRight(cur))
}

func trimRight(s []rune) []rune {
	for len(s) > 0 && unicode.IsSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// drawLine draws one line at the current position (x) within width w.
func (d *Doc) drawLine(l []rune, rtl bool, style string, size, w, h float64, align string) {
	vis := Visual(l, rtl)
	if rtl && align == "L" {
		align = "R"
	}
	x, y := d.f.GetXY()
	lw := d.width(vis, style, size)
	switch align {
	case "R":
		x += w - lw
	case "C":
		x += (w - lw) / 2
	}
	for _, r := range d.runs(vis) {
		d.f.SetFont(r.font, style, size)
		rw := d.f.GetStringWidth(r.text)
		d.f.SetXY(x, y)
		d.f.CellFormat(rw, h, r.text, "", 0, "L", false, 0, "")
		x += rw
	}
}

func prepare(s string) ([]rune, bool) {
	s = strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if unicode.IsControl(r) && r != '\n' {
			return -1
		}
		return r
	}, s)
	return Shape([]rune(s)), ParagraphRTL(s)
}

// line draws s on one line (cut to fit w) without moving to the next line.
func (d *Doc) line(s, style string, size, w, h float64, align string) {
	p, rtl := prepare(strings.ReplaceAll(s, "\n", " "))
	lines := d.wrap(p, style, size, w)
	x := d.f.GetX()
	if len(lines) > 0 {
		d.drawLine(lines[0], rtl, style, size, w, h, align)
	}
	d.f.SetXY(x, d.f.GetY()+h)
}

// Text writes paragraphs of s at x within width w, wrapping and breaking
// pages as needed, and returns the height used on the last page.
func (d *Doc) Text(s, style string, size, x, w, h float64) {
	for _, para := range strings.Split(s, "\n") {
		p, rtl := prepare(para)
		for _, l := range d.wrap(p, style, size, w) {
			if d.f.GetY()+h > d.pageBottom() {
				d.f.AddPage()
			}
			d.f.SetX(x)
			d.drawLine(l, rtl, style, size, w, h, "L")
			d.f.SetXY(x, d.f.GetY()+h)
		}
	}
}

// Height is how tall Text(s…) would be.
func (d *Doc) Height(s, style string, size, w, h float64) float64 {
	n := 0
	for _, para := range strings.Split(s, "\n") {
		p, _ := prepare(para)
		n += len(d.wrap(p, style, size, w))
	}
	return float64(n) * h
}

func (d *Doc) pageBottom() float64 {
	_, ph := d.f.GetPageSize()
	_, b := d.f.GetAutoPageBreak()
	return ph - b
}

// Need starts a new page unless h millimetres fit on this one.
func (d *Doc) Need(h float64) {
	if d.f.GetY()+h > d.pageBottom() {
		d.f.AddPage()
	}
}

// Heading is a section title with a rule under it.
func (d *Doc) Heading(s string) {
	d.Need(16)
	d.f.Ln(3)
	d.f.SetX(d.left)
	d.f.SetTextColor(accent[0], accent[1], accent[2])
	d.line(s, "B", 12, d.w, 7, "L")
	d.f.SetDrawColor(200, 205, 215)
	d.f.SetLineWidth(0.3)
	d.f.Line(d.left, d.f.GetY(), d.left+d.w, d.f.GetY())
	d.f.SetTextColor(0, 0, 0)
	d.f.Ln(2)
}

// Para writes a paragraph across the page.
func (d *Doc) Para(s string) {
	if strings.TrimSpace(s) == "" {
		return
	}
	d.Text(s, "", d.FontSize, d.left, d.w, 5)
	d.f.Ln(1.5)
}

// Note writes small grey text.
func (d *Doc) Note(s string) {
	d.f.SetTextColor(90, 90, 90)
	d.Text(s, "", 8, d.left, d.w, 4)
	d.f.SetTextColor(0, 0, 0)
}

// KV is a label and its value.
type KV struct{ K, V string }

// Facts writes label/value pairs in two columns of label + value.
func (d *Doc) Facts(kvs []KV) {
	colW := d.w / 2
	lw := 32.0
	for i := 0; i < len(kvs); i += 2 {
		row := kvs[i:min(i+2, len(kvs))]
		h := 5.0
		for _, kv := range row {
			h = max(h, d.Height(orDash(kv.V), "", 9, colW-lw-2, 4.6))
		}
		d.Need(h + 1)
		y := d.f.GetY()
		for c, kv := range row {
			x := d.left + float64(c)*colW
			d.f.SetXY(x, y)
			d.f.SetTextColor(90, 90, 90)
			d.line(kv.K, "", 8, lw, 4.6, "L")
			d.f.SetTextColor(0, 0, 0)
			d.f.SetXY(x+lw, y)
			d.Text(orDash(kv.V), "", 9, x+lw, colW-lw-2, 4.6)
		}
		d.f.SetXY(d.left, y+h+1)
	}
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// Col is a table column: a header and a share of the width.
type Col struct {
	Head  string
	Width float64 // fraction of the page width
}

// Table draws rows under a header row, repeating the header on new pages.
func (d *Doc) Table(cols []Col, rows [][]string) {
	size, lh := 8.5, 4.4
	head := func() {
		d.f.SetFillColor(accent[0], accent[1], accent[2])
		d.f.SetTextColor(255, 255, 255)
		y := d.f.GetY()
		x := d.left
		d.f.Rect(d.left, y, d.w, 6, "F")
		for _, c := range cols {
			d.f.SetXY(x+1, y+0.5)
			d.line(c.Head, "B", 8, c.Width*d.w-2, 5, "L")
			x += c.Width * d.w
		}
		d.f.SetTextColor(0, 0, 0)
		d.f.SetXY(d.left, y+6)
	}
	d.Need(12)
	head()
	for n, r := range rows {
		h := lh
		for i, c := range cols {
			if i < len(r) {
				h = max(h, d.Height(orDash(r[i]), "", size, c.Width*d.w-2, lh))
			}
		}
		if d.f.GetY()+h+1 > d.pageBottom() {
			d.f.AddPage()
			head()
		}
		y := d.f.GetY()
		if n%2 == 1 {
			d.f.SetFillColor(242, 244, 248)
			d.f.Rect(d.left, y, d.w, h+1, "F")
		}
		x := d.left
		for i, c := range cols {
			v := ""
			if i < len(r) {
				v = r[i]
			}
			d.f.SetXY(x+1, y+0.5)
			d.Text(orDash(v), "", size, x+1, c.Width*d.w-2, lh)
			x += c.Width * d.w
		}
		d.f.SetXY(d.left, y+h+1)
	}
	d.f.Ln(2)
}

// Photo is an image to place in a grid.
type Photo struct {
	JPEG    []byte // JPEG data
	W, H    int    // pixel size
	Caption string
}

// Photos lays out photos three to a row with captions.
func (d *Doc) Photos(ps []Photo) {
	const perRow = 3
	gap := 4.0
	cw := (d.w - gap*(perRow-1)) / perRow
	maxH := cw * 0.8
	for i := 0; i < len(ps); i += perRow {
		row := ps[i:min(i+perRow, len(ps))]
		capH := 0.0
		for _, p := range row {
			capH = max(capH, d.Height(p.Caption, "", 7.5, cw, 3.6))
		}
		d.Need(maxH + capH + 4)
		y := d.f.GetY()
		for c, p := range row {
			x := d.left + float64(c)*(cw+gap)
			w, h := cw, maxH
			if p.W > 0 && p.H > 0 {
				if float64(p.H)/float64(p.W) > maxH/cw {
					w = maxH * float64(p.W) / float64(p.H)
				} else {
					h = cw * float64(p.H) / float64(p.W)
				}
			}
			d.images++
			name := fmt.Sprintf("img%d", d.images)
			d.f.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "JPG"}, bytes.NewReader(p.JPEG))
			d.f.ImageOptions(name, x+(cw-w)/2, y+(maxH-h)/2, w, h, false, fpdf.ImageOptions{ImageType: "JPG"}, 0, "")
			d.f.SetDrawColor(200, 200, 200)
			d.f.Rect(x, y, cw, maxH, "D")
			d.f.SetXY(x, y+maxH+1)
			d.f.SetTextColor(70, 70, 70)
			d.Text(p.Caption, "", 7.5, x, cw, 3.6)
			d.f.SetTextColor(0, 0, 0)
		}
		d.f.SetXY(d.left, y+maxH+capH+4)
	}
}

// Box draws a labelled form box (ICS forms) with s inside, at least minH tall.
func (d *Doc) Box(label, s string, minH float64) {
	inner := d.w - 4
	h := max(minH, d.Height(orDash(s), "", 9, inner, 4.6)+7)
	if h > d.pageBottom()-30 { // taller than a page: let the text flow instead
		d.Heading(label)
		d.Para(s)
		return
	}
	d.Need(h + 2)
	y := d.f.GetY()
	d.f.SetDrawColor(0, 0, 0)
	d.f.SetLineWidth(0.3)
	d.f.Rect(d.left, y, d.w, h, "D")
	d.f.SetXY(d.left+2, y+1)
	d.line(label, "B", 8, inner, 4.5, "L")
	d.f.SetXY(d.left+2, y+6)
	d.Text(orDash(s), "", 9, d.left+2, inner, 4.6)
	d.f.SetXY(d.left, y+h+2)
}

// Signature draws "name / signature / date" lines.
func (d *Doc) Signature(labels ...string) {
	d.Need(18)
	d.f.Ln(8)
	y := d.f.GetY()
	w := d.w / float64(len(labels))
	for i, l := range labels {
		x := d.left + float64(i)*w
		d.f.SetDrawColor(0, 0, 0)
		d.f.Line(x, y, x+w-8, y)
		d.f.SetXY(x, y+1)
		d.line(l, "", 8, w-8, 4, "L")
	}
	d.f.SetXY(d.left, y+7)
}

// Write renders the document.
func (d *Doc) Write(w io.Writer) error {
	if err := d.f.Error(); err != nil {
		return fmt.Errorf("pdf: %w", err)
	}
	if err := d.f.Output(w); err != nil {
		return fmt.Errorf("pdf: %w", err)
	}
	return nil
}

// Pages is the number of pages so far.
func (d *Doc) Pages() int { return d.f.PageNo() }
