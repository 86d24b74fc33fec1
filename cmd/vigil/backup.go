package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"vigil/internal/alarm"
	"vigil/internal/config"
	"vigil/internal/store"
)

// A backup is a gzipped tar holding vigil.db (a consistent snapshot taken
// with VACUUM INTO while the server keeps running, including the alarm
// signals still waiting in alarm-inbox.db) and the blobs/ tree.

func runBackup(ctx context.Context, args []string, s stdio) int {
	var cfg config.Config
	fs := newFlags(s, "backup", "--out FILE [--data DIR]")
	cfg.Bind(fs, "data", "db")
	out := fs.String("out", "", "backup file to write (.tar.gz)")
	if err := parse(fs, args, 0); err != nil {
		return finish(s, "backup", err)
	}
	return finish(s, "backup", backup(ctx, s, cfg, *out))
}

func backup(ctx context.Context, s stdio, cfg config.Config, out string) error {
	if out == "" {
		return usageErr("--out is required")
	}
	if cfg.DB != "" {
		return usageErr("backup covers the embedded SQLite deployment; back up PostgreSQL with pg_dump and the data directory's blobs/")
	}
	dbPath := filepath.Join(cfg.Data, "vigil.db")
	if _, err := os.Stat(dbPath); err != nil {
		return &exitErr{1, "no database at " + dbPath}
	}
	start := time.Now()
	tmp, err := os.MkdirTemp(filepath.Dir(absOr(out)), ".vigil-backup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	snap := filepath.Join(tmp, "vigil.db")
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	// VACUUM INTO reads one consistent snapshot; writers carry on meanwhile.
	// Signals the alarm receiver has ACKed but not yet applied come along.
	err = alarm.Snapshot(ctx, db, snap, time.Now())
	db.Close()
	if err != nil {
		return err
	}
	part := out + ".part"
	f, err := os.OpenFile(part, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(part)
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	files := 0
	add := func(src, name string) error {
		fi, err := os.Stat(src)
		if err != nil {
			return err
		}
		hdr, _ := tar.FileInfoHeader(fi, "")
		hdr.Name = name
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		in, err := os.Open(src)
		if err != nil {
			return err
		}
		defer in.Close()
		files++
		_, err = io.Copy(tw, in)
		return err
	}
	if err := add(snap, "vigil.db"); err != nil {
		return err
	}
	blobs := filepath.Join(cfg.Data, "blobs")
	err = filepath.WalkDir(blobs, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(cfg.Data, p)
		return add(p, filepath.ToSlash(rel))
	})
	if err != nil {
		return fmt.Errorf("blobs: %w", err)
	}
	if err := errors.Join(tw.Close(), gz.Close(), f.Sync(), f.Close()); err != nil {
		return err
	}
	if err := os.Rename(part, out); err != nil {
		return err
	}
	fi, _ := os.Stat(out)
	fmt.Fprintf(s.out, "backup written to %s: %d file(s), %d bytes, %s\n", out, files, fi.Size(), time.Since(start).Round(time.Millisecond))
	return nil
}

func absOr(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func runRestore(ctx context.Context, args []string, s stdio) int {
	var cfg config.Config
	fs := newFlags(s, "restore", "--in FILE [--data DIR] [--force]")
	cfg.Bind(fs, "data")
	in := fs.String("in", "", "backup file to restore")
	force := fs.Bool("force", false, "replace an existing database in the data directory")
	if err := parse(fs, args, 0); err != nil {
		return finish(s, "restore", err)
	}
	return finish(s, "restore", restore(ctx, s, cfg, *in, *force))
}

func restore(ctx context.Context, s stdio, cfg config.Config, in string, force bool) error {
	if in == "" {
		return usageErr("--in is required")
	}
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return err
	}
	unlock, err := lockData(cfg.Data)
	if err != nil {
		return &exitErr{1, err.Error() + "; stop the server before restoring"}
	}
	defer unlock()
	dbPath := filepath.Join(cfg.Data, "vigil.db")
	if _, err := os.Stat(dbPath); err == nil && !force {
		return &exitErr{1, dbPath + " exists; pass --force to replace it"}
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return &exitErr{1, "not a vigil backup (gzip): " + err.Error()}
	}
	// Extract into a staging directory first, so a damaged archive leaves
	// the current data untouched.
	stage, err := os.MkdirTemp(cfg.Data, ".restore-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	tr := tar.NewReader(gz)
	files, sawDB := 0, false
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return &exitErr{1, "damaged backup: " + err.Error()}
		}
		name := path.Clean(hdr.Name)
		if hdr.Typeflag != tar.TypeReg || (name != "vigil.db" && !strings.HasPrefix(name, "blobs/")) || strings.Contains(name, "..") {
			return &exitErr{1, "unexpected entry in backup: " + hdr.Name}
		}
		dst := filepath.Join(stage, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return err
		}
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, tr)
		if err = errors.Join(err, out.Sync(), out.Close()); err != nil {
			return &exitErr{1, "damaged backup: " + err.Error()}
		}
		sawDB = sawDB || name == "vigil.db"
		files++
	}
	if !sawDB {
		return &exitErr{1, "backup holds no vigil.db"}
	}
	db, err := store.Open(ctx, filepath.Join(stage, "vigil.db"))
	if err != nil {
		return &exitErr{1, "backup database does not open: " + err.Error()}
	}
	var ok string
	err = db.QueryRow(ctx, `PRAGMA integrity_check`).Scan(&ok)
	db.Close()
	if err != nil || ok != "ok" {
		return &exitErr{1, fmt.Sprintf("backup database failed its integrity check: %v %s", err, ok)}
	}
	// The alarm inbox file belongs to the replaced database: signals it
	// holds were received after the backup and are not part of it.
	inbox := filepath.Join(cfg.Data, alarm.InboxFile+".db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(dbPath + suffix)
		os.Remove(inbox + suffix)
	}
	if err := os.Rename(filepath.Join(stage, "vigil.db"), dbPath); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(stage, "blobs")); err == nil {
		os.RemoveAll(filepath.Join(cfg.Data, "blobs"))
		if err := os.Rename(filepath.Join(stage, "blobs"), filepath.Join(cfg.Data, "blobs")); err != nil {
			return err
		}
	}
	fmt.Fprintf(s.out, "restored %d file(s) from %s into %s\n", files, in, cfg.Data)
	return nil
}
