// Package blob stores files (photos, evidence, attachments) content-addressed
// by SHA-256. Content never changes under its address, so a stored blob is
// immutable, duplicates are stored once, and tampering is detectable by
// re-hashing. The Store interface leaves room for an S3-compatible backend.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// Errors.
var (
	ErrNotFound = errors.New("blob not found")
	ErrTooLarge = errors.New("blob too large")
	ErrTampered = errors.New("blob content does not match its address")
)

// Store keeps blobs by SHA-256.
type Store interface {
	// Put stores r (at most max bytes; 0 = unlimited) and returns its hex SHA-256 and size.
	Put(ctx context.Context, r io.Reader, max int64) (sum string, size int64, err error)
	// Open returns the blob's content.
	Open(ctx context.Context, sum string) (io.ReadCloser, error)
	// Verify re-hashes a blob and returns ErrTampered if it changed.
	Verify(ctx context.Context, sum string) error
}

// FS is a Store on the local file system: <dir>/ab/cd/<sha256>.
type FS struct{ Dir string }

var sumRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (f FS) path(sum string) (string, error) {
	if !sumRE.MatchString(sum) {
		return "", fmt.Errorf("blob: malformed address %q", sum)
	}
	return filepath.Join(f.Dir, sum[:2], sum[2:4], sum), nil
}

// Put writes to a temporary file while hashing, fsyncs it, then renames it
// into place, so a blob under its address is always complete.
func (f FS) Put(ctx context.Context, r io.Reader, max int64) (string, int64, error) {
	if err := os.MkdirAll(f.Dir, 0o750); err != nil {
		return "", 0, err
	}
	tmp, err := os.CreateTemp(f.Dir, ".upload-")
	if err != nil {
		return "", 0, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	src := r
	if max > 0 {
		src = io.LimitReader(r, max+1)
	}
	n, err := io.Copy(io.MultiWriter(tmp, h), src)
	if err != nil {
		return "", 0, fmt.Errorf("blob: write: %w", err)
	}
	if max > 0 && n > max {
		return "", 0, ErrTooLarge
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	dst, _ := f.path(sum)
	if _, err := os.Stat(dst); err == nil {
		return sum, n, nil // already stored
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return "", 0, err
	}
	if err := tmp.Close(); err != nil {
		return "", 0, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", 0, err
	}
	os.Chmod(dst, 0o440)
	return sum, n, nil
}

// Open opens a blob for reading.
func (f FS) Open(ctx context.Context, sum string) (io.ReadCloser, error) {
	p, err := f.path(sum)
	if err != nil {
		return nil, err
	}
	fh, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	return fh, err
}

// Verify re-hashes the stored content.
func (f FS) Verify(ctx context.Context, sum string) error {
	rc, err := f.Open(ctx, sum)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return err
	}
	if hex.EncodeToString(h.Sum(nil)) != sum {
		return ErrTampered
	}
	return nil
}
