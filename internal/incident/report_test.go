package incident

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	"vigil/internal/incident/pdf/pdftest"
	"vigil/internal/store/storetest"
)

func photoJPEG(t testing.TB, n, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x*255/w + n*37), uint8(y * 255 / h), uint8(90 + n*13), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bigReport makes an approved report with every section filled, a very
// long narrative in several scripts and n photos.
func bigReport(t testing.TB, w *world, photos int) *Incident {
	ctx := context.Background()
	police := w.Now.Add(-150 * time.Minute)
	arrived := police.Add(12 * time.Minute)
	i := w.draft(func(i *Incident) {
		i.Title = "Break-in at the east warehouse — Διάρρηξη — 仓库盗窃"
		i.Narrative = strings.Repeat("At 22:15 the night officer heard glass breaking at the east warehouse and found the side door forced. "+
			"Two people were seen running towards the car park; one dropped a crowbar. ", 40) +
			"\n\n" + pdftest.Multilingual + "\n\nشاهد الحارس شخصين يغادران المستودع عبر الباب الجانبي.\n\n" + strings.Repeat("监控录像显示两名嫌疑人于二十二点十五分进入仓库。", 20)
		i.People = []Person{{Role: "witness", Name: "Γιώργος Παπαδόπουλος", Description: "Night porter, saw two people leave", Contact: "+30 21 0000 0000"},
			{Role: "suspect", Name: "محمد عبد الله", Description: "Tall, grey hoodie, carried a crowbar"},
			{Role: "suspect", Name: "王伟", Description: "Short, dark jacket, white trainers"},
			{Role: "officer", Name: "Olga Petrova", Description: "Responding officer"}}
		i.Vehicles = []Vehicle{{Plate: "AB12 CDE", Make: "Ford", Model: "Transit", Colour: "White", Description: "Parked by gate 3 with engine running"}}
		i.Property = []Property{{Description: "Pallet of laptops", Status: "stolen", Value: 2450000, Currency: "GBP", Serial: "PAL-77"},
			{Description: "Side door", Status: "damaged", Value: 85000, Currency: "GBP"}}
		i.Injuries = []Injury{{Person: "Olga Petrova", Nature: "Cut to the left hand from broken glass", Treatment: "First aid on site"}}
		i.Damage, i.Actions = "Side door frame split; window pane broken.", "Area secured, police called, CCTV preserved, door boarded up."
		i.Police = Police{Agency: "Metropolitan Police", OfficerName: "PC Jane Smith", Badge: "4411", CaseNumber: "CAD 4411/20NOV", ReportNumber: "CR/2026/11820", ContactedAt: &police, ArrivedAt: &arrived}
		i.Insurer = Insurer{Company: "Acme Mutual", ClaimNumber: "CLM-889102"}
		i.ICS, i.Objectives = true, "Secure the perimeter; preserve evidence; restore access control by 06:00."
		i.Resources = []Resource{{Name: "officer", Position: "Incident Commander", Agency: "Operator", AssignedAt: police}, {Name: "PC Jane Smith", Position: "Liaison Officer", Agency: "Metropolitan Police", AssignedAt: arrived}}
		i.Custom = map[string]string{}
	})
	if err := w.S.Create(ctx, i, w.Officer); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < 6; n++ {
		if err := w.S.AddLog(ctx, i, &LogEntry{At: police.Add(time.Duration(n) * 10 * time.Minute), Text: fmt.Sprintf("Log entry %d: patrol of the perimeter, nothing further — 第%d次巡逻", n+1, n+1)}, w.Officer); err != nil {
			t.Fatal(err)
		}
	}
	for n := 0; n < photos; n++ {
		if _, err := w.S.Attach(ctx, i, Upload{Filename: fmt.Sprintf("photo-%02d.jpg", n+1), Caption: fmt.Sprintf("View %d of the side door", n+1),
			Body: bytes.NewReader(photoJPEG(t, n, 800+n%3*200, 600)), PhotoOnly: true}, w.Officer); err != nil {
			t.Fatal(err)
		}
	}
	for _, tr := range []Transition{Submit, Approve} {
		if err := w.S.Transition(ctx, i, tr, "", w.Super); err != nil {
			t.Fatal(err)
		}
	}
	return i
}

// TestReportPDFs renders the incident report (long narrative, Greek,
// Arabic and Chinese text, 50 photos), ICS 201 and ICS 214 to PNG pages
// with pdftoppm and checks every page has content. Set VIGIL_PDF_OUT=dir
// to keep the pages and look at them.
func TestReportPDFs(t *testing.T) {
	db := storetest.SQLite(t)
	w := newWorld(t, db)
	ctx := context.Background()
	i := bigReport(t, w, 50)
	rd, err := w.S.Load(ctx, i, "Test Supervisor")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		fn       func(*bytes.Buffer) error
		minPages int
	}{
		{"report", func(b *bytes.Buffer) error { return w.S.ReportPDF(ctx, rd, b) }, 8},
		{"ics201", func(b *bytes.Buffer) error { return w.S.ICS201PDF(ctx, rd, b) }, 2},
		{"ics214", func(b *bytes.Buffer) error { return w.S.ICS214PDF(ctx, rd, b) }, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			start := time.Now()
			if err := c.fn(&b); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d bytes in %v", c.name, b.Len(), time.Since(start))
			pages := pdftest.RenderPages(t, b.Bytes(), 50)
			if len(pages) < c.minPages {
				t.Fatalf("%d pages, want at least %d", len(pages), c.minPages)
			}
		})
	}
}

func BenchmarkReportPDF(b *testing.B) {
	db := storetest.SQLite(b)
	w := newWorld(b, db)
	ctx := context.Background()
	i := bigReport(b, w, 10)
	for b.Loop() {
		rd, err := w.S.Load(ctx, i, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if err := w.S.ReportPDF(ctx, rd, &bytes.Buffer{}); err != nil {
			b.Fatal(err)
		}
	}
}
