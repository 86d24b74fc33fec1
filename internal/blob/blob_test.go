package blob

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

func TestFS(t *testing.T) {
	ctx := context.Background()
	s := FS{Dir: t.TempDir()}
	sum, n, err := s.Put(ctx, strings.NewReader("evidence"), 100)
	if err != nil || n != 8 || len(sum) != 64 {
		t.Fatalf("put: %s %d %v", sum, n, err)
	}
	again, _, err := s.Put(ctx, strings.NewReader("evidence"), 100)
	if err != nil || again != sum {
		t.Fatalf("same content, different address: %s %s %v", sum, again, err)
	}
	rc, err := s.Open(ctx, sum)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "evidence" {
		t.Fatalf("read back %q", b)
	}
	if err := s.Verify(ctx, sum); err != nil {
		t.Fatal(err)
	}
	p, _ := s.path(sum)
	os.Chmod(p, 0o640)
	os.WriteFile(p, []byte("evidencE"), 0o640)
	if err := s.Verify(ctx, sum); !errors.Is(err, ErrTampered) {
		t.Fatalf("tampered blob: %v", err)
	}
	if _, _, err := s.Put(ctx, strings.NewReader("0123456789"), 5); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized: %v", err)
	}
	if _, err := s.Open(ctx, strings.Repeat("a", 64)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := s.Open(ctx, "../../etc/passwd"); err == nil {
		t.Fatal("path traversal accepted")
	}
}
