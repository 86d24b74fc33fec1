// Package pdftest checks generated PDFs the way a person would: it renders
// their pages to PNG images with pdftoppm (poppler-utils) and checks each
// page has content. Tests can keep the images to look at them.
package pdftest

import (
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Multilingual is a paragraph in the scripts reports must handle.
const Multilingual = "Witnesses: Γιώργος Παπαδόπουλος (Greek), محمد عبد الله (Arabic), 王伟 and 李娜 (Chinese), Ольга Петрова (Russian), José Núñez."

// RenderPages rasterises a PDF with pdftoppm at dpi and checks every page
// has ink; it returns the PNG paths. Without pdftoppm it skips, except in
// CI (CI=true), where poppler-utils must be installed. VIGIL_PDF_OUT keeps
// the PNGs in that directory so a person can look at them.
func RenderPages(t testing.TB, data []byte, dpi int) []string {
	t.Helper()
	bin, err := exec.LookPath("pdftoppm")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftoppm not found: install poppler-utils")
		}
		t.Skip("pdftoppm not installed (poppler-utils)")
	}
	dir := t.TempDir()
	if keep := os.Getenv("VIGIL_PDF_OUT"); keep != "" {
		dir = filepath.Join(keep, strings.ReplaceAll(t.Name(), "/", "_"))
		os.MkdirAll(dir, 0o755)
	}
	in := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-r", strconv.Itoa(dpi), "-png", in, filepath.Join(dir, "page"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	if out, _ := cmd.CombinedOutput(); len(out) > 0 {
		t.Errorf("pdftoppm complained: %s", out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "page-*.png"))
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		b := img.Bounds()
		ink := 0
		for y := b.Min.Y; y < b.Max.Y; y += 2 {
			for x := b.Min.X; x < b.Max.X; x += 2 {
				if r, g, bl, _ := img.At(x, y).RGBA(); r+g+bl < 3*0xC000 {
					ink++
				}
			}
		}
		if ink < 200 {
			t.Errorf("%s looks blank (%d dark samples)", filepath.Base(f), ink)
		}
	}
	return files
}

func itoa(n int) string { return strconv.Itoa(n) }
