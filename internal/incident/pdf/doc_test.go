package pdf

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"strings"
	"testing"

	"vigil/internal/incident/pdf/pdftest"
)

func TestShape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		// بيت (house): beh initial, yeh medial, teh final.
		{"بيت", "\uFE91\uFEF4\uFE96"},
		// Alef does not join to the left: دار = dal isolated, alef isolated, reh isolated.
		{"دار", "\uFEA9\uFE8D\uFEAD"},
		// Lam-alef ligature: سلام = seen initial, lam-alef final, meem isolated.
		{"سلام", "\uFEB3\uFEFC\uFEE1"},
		{"abc", "abc"},
	} {
		if got := string(Shape([]rune(c.in))); got != c.want {
			t.Errorf("Shape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestVisual(t *testing.T) {
	for _, c := range []struct {
		in   string
		rtl  bool
		want string
	}{
		{"abc def", false, "abc def"},
		{"name: אבג דה end", false, "name: הד גבא end"},
		{"אבג abc דה", true, "הד abc גבא"},
		{"אב 123", true, "123 בא"},
	} {
		if got := string(Visual([]rune(c.in), c.rtl)); got != c.want {
			t.Errorf("Visual(%q, %v) = %q, want %q", c.in, c.rtl, got, c.want)
		}
	}
}

func testJPEG(t testing.TB, w, h int, c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{c.R, uint8(int(c.G) + x%40), uint8(int(c.B) + y%40), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sampleDoc(t testing.TB, photos int) []byte {
	d := New(Header{Org: "Operator Co — for Client A", Title: "Incident report", Ref: "INC-000042", Stamp: "Revision 3 · Approved", Footer: "generated in a test"})
	d.Heading("Summary")
	d.Facts([]KV{{"Type", "Theft"}, {"Severity", "High"}, {"Site", "Client A HQ · Lobby"}, {"Occurred", "2026-11-20 22:15 GMT"}, {"Officer", "李娜"}, {"Empty", ""}})
	d.Heading("Narrative")
	d.Para(pdftest.Multilingual)
	d.Para("تم رصد شخص مشبوه بالقرب من البوابة الرئيسية في الساعة 22:15 وتم إبلاغ الشرطة.")
	d.Para(strings.Repeat("The suspect left through the north gate and was followed on camera. ", 220))
	d.Para(strings.Repeat("长", 400))
	d.Heading("People involved")
	d.Table([]Col{{"Role", 0.2}, {"Name", 0.3}, {"Description", 0.5}}, [][]string{
		{"Witness", "Γιώργος Παπαδόπουλος", "Night porter"}, {"Suspect", "محمد عبد الله", "Grey hoodie, about 1.80 m"}, {"Victim", "王伟", strings.Repeat("long description ", 30)},
	})
	var ps []Photo
	for n := 0; n < photos; n++ {
		ps = append(ps, Photo{JPEG: testJPEG(t, 160+n%3*40, 120, color.RGBA{uint8(40 * (n % 6)), 80, 120, 255}), W: 160 + n%3*40, H: 120, Caption: "Photo with a caption " + strings.Repeat("x", n%20)})
	}
	d.Heading("Photos")
	d.Photos(ps)
	d.Signature("Officer", "Supervisor", "Date")
	var b bytes.Buffer
	if err := d.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDocRendersAllScripts(t *testing.T) {
	out := sampleDoc(t, 50)
	if !bytes.HasPrefix(out, []byte("%PDF-")) || len(out) < 10_000 {
		t.Fatalf("not a PDF: %d bytes", len(out))
	}
	pages := pdftest.RenderPages(t, out, 60)
	if len(pages) < 4 {
		t.Fatalf("rendered %d pages, want at least 4 (long narrative and 50 photos)", len(pages))
	}
}

func BenchmarkDoc(b *testing.B) {
	for b.Loop() {
		sampleDoc(b, 10)
	}
}

func FuzzShapeVisual(f *testing.F) {
	for _, s := range []string{"بيت", "سلام abc 123", "אבג abc", "", "ل", "لا", "\u064B\u0644"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, rtl bool) {
		sh := Shape([]rune(s))
		if len(sh) > len([]rune(s)) {
			t.Fatalf("shaping grew %q", s)
		}
		v := Visual(sh, rtl)
		if len(v) != len(sh) {
			t.Fatalf("reordering changed the length of %q", s)
		}
		seen := map[rune]int{}
		for _, r := range sh {
			seen[r]++
		}
		for _, r := range v {
			seen[r]--
		}
		for r, n := range seen {
			if n != 0 {
				t.Fatalf("reordering lost or added %q", r)
			}
		}
	})
}

// FuzzText lays out arbitrary text: no panic, no endless loop.
func FuzzText(f *testing.F) {
	f.Add("hello world", 40.0)
	f.Add(strings.Repeat("长", 50), 3.0)
	f.Add("averyveryveryverylongwordthatneedsbreaking", 1.0)
	f.Fuzz(func(t *testing.T, s string, w float64) {
		if w < 0.5 || w > 200 || len(s) > 2000 {
			return
		}
		d := New(Header{Title: "fuzz"})
		d.Text(s, "", 10, 15, w, 5)
		if err := d.Write(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}
