package incident

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	_ "image/png" // decode PNG uploads
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"vigil/internal/auth"
	"vigil/internal/blob"
	"vigil/internal/store"
)

// Upload limits. A photo is decoded to check it really is one, so its
// pixel count is bounded before decoding (a small file can claim a huge
// image and exhaust memory).
const (
	MaxUpload        = 20 << 20
	MaxImagePixels   = 50_000_000
	MaxAttachments   = 200
	thumbSize        = 320
	previewSize      = 1280
	thumbJPEGQuality = 80
)

// Attachment is a file attached to an incident (or a DAR entry: IncidentID empty).
type Attachment struct {
	ID          string    `json:"id"`
	OrgID       string    `json:"org_id"`
	IncidentID  string    `json:"incident_id,omitempty"`
	SHA256      string    `json:"sha256"`
	ThumbSHA256 string    `json:"thumb_sha256,omitempty"`
	PreviewSHA  string    `json:"-"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	Width       int       `json:"width,omitempty"`
	Height      int       `json:"height,omitempty"`
	Caption     string    `json:"caption"`
	CreatedAt   time.Time `json:"created_at"`
}

// IsImage reports whether the attachment is a photo with a thumbnail.
func (a *Attachment) IsImage() bool { return a.ThumbSHA256 != "" }

// allowedDocs are the non-image types accepted as attachments.
var allowedDocs = map[string]bool{"application/pdf": true, "text/plain; charset=utf-8": true, "application/zip": true}

// Upload is a file being attached.
type Upload struct {
	Filename string
	Caption  string
	Body     io.Reader
	// PhotoOnly refuses anything that is not a decodable JPEG or PNG.
	PhotoOnly bool
}

// ErrFileTooLarge marks an upload over MaxUpload (the API answers 413).
var ErrFileTooLarge = errors.New("file too large")

// Prepare reads, checks and stores an upload's content (and for images a
// thumbnail and a print-size preview) in the blob store, and returns the
// attachment to record. Blobs are content-addressed and immutable, so a
// failure after this point leaves only unreferenced blobs, never a
// half-written attachment row.
func (s *Service) Prepare(ctx context.Context, orgID string, u Upload) (*Attachment, error) {
	name := filepath.Base(strings.ReplaceAll(u.Filename, "\\", "/"))
	if name == "." || name == "/" || !utf8.ValidString(name) || len(name) > 200 {
		name = "attachment"
	}
	caption, err := text("caption", u.Caption, false, 500)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(u.Body, MaxUpload+1))
	if err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	if len(data) == 0 {
		return nil, invalid("file", "is empty")
	}
	if len(data) > MaxUpload {
		return nil, errors.Join(ErrFileTooLarge, invalid("file", fmt.Sprintf("is larger than %d MB", MaxUpload>>20)))
	}
	a := &Attachment{OrgID: orgID, Filename: name, Caption: caption, Size: int64(len(data))}
	ct := http.DetectContentType(data)
	switch ct {
	case "image/jpeg", "image/png":
		img, err := decodeImage(data)
		if err != nil {
			return nil, invalid("file", "is not a valid JPEG or PNG image: "+err.Error())
		}
		a.ContentType, a.Width, a.Height = ct, img.Bounds().Dx(), img.Bounds().Dy()
		if a.ThumbSHA256, err = s.putJPEG(ctx, Resize(img, thumbSize)); err != nil {
			return nil, err
		}
		if a.PreviewSHA, err = s.putJPEG(ctx, Resize(img, previewSize)); err != nil {
			return nil, err
		}
	default:
		if u.PhotoOnly {
			return nil, invalid("file", "must be a JPEG or PNG photo")
		}
		if !allowedDocs[ct] {
			return nil, invalid("file", "must be a photo (JPEG, PNG), a PDF, a text file or a ZIP archive")
		}
		a.ContentType = ct
	}
	if a.SHA256, _, err = s.Blob.Put(ctx, bytes.NewReader(data), MaxUpload); err != nil {
		return nil, fmt.Errorf("store upload: %w", err)
	}
	return a, nil
}

func decodeImage(data []byte) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return nil, fmt.Errorf("%d×%d pixels is too large (at most %d megapixels)", cfg.Width, cfg.Height, MaxImagePixels/1_000_000)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	return img, err
}

func (s *Service) putJPEG(ctx context.Context, img image.Image) (string, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: thumbJPEGQuality}); err != nil {
		return "", err
	}
	sum, _, err := s.Blob.Put(ctx, &buf, 0)
	return sum, err
}

// Resize scales img so that its longer side is at most max pixels, by
// averaging the source pixels that fall into each target pixel (a box
// filter: sharp enough for thumbnails, no moiré from skipping pixels).
// The result is opaque RGBA on white (JPEG has no alpha).
func Resize(img image.Image, max int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	tw, th := w, h
	if w > max || h > max {
		if w >= h {
			tw, th = max, int(int64(h)*int64(max)/int64(w))
		} else {
			tw, th = int(int64(w)*int64(max)/int64(h)), max
		}
	}
	tw, th = maxInt(tw, 1), maxInt(th, 1)
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(src, src.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Over)
	if tw == w && th == h {
		return src
	}
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	for y := 0; y < th; y++ {
		y0, y1 := y*h/th, maxInt((y+1)*h/th, y*h/th+1)
		for x := 0; x < tw; x++ {
			x0, x1 := x*w/tw, maxInt((x+1)*w/tw, x*w/tw+1)
			var r, g, bl, n uint32
			for sy := y0; sy < y1; sy++ {
				off := sy*src.Stride + x0*4
				for sx := x0; sx < x1; sx++ {
					r += uint32(src.Pix[off])
					g += uint32(src.Pix[off+1])
					bl += uint32(src.Pix[off+2])
					off += 4
					n++
				}
			}
			o := y*dst.Stride + x*4
			dst.Pix[o], dst.Pix[o+1], dst.Pix[o+2], dst.Pix[o+3] = uint8(r/n), uint8(g/n), uint8(bl/n), 255
		}
	}
	return dst
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

const attachCols = `id, org_id, COALESCE(incident_id, ''), sha256, thumb_sha256, preview_sha256, filename, content_type, size, width, height, caption, created_at`

func scanAttachment(sc scanner) (*Attachment, error) {
	var a Attachment
	if err := sc.Scan(&a.ID, &a.OrgID, &a.IncidentID, &a.SHA256, &a.ThumbSHA256, &a.PreviewSHA, &a.Filename, &a.ContentType, &a.Size,
		&a.Width, &a.Height, &a.Caption, &a.CreatedAt); err != nil {
		return nil, store.NotFound(err)
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return &a, nil
}

func (s *Service) insertAttachment(ctx context.Context, tx *store.Tx, a *Attachment, p *auth.Principal) error {
	a.ID, a.CreatedAt = store.NewID(), s.Now().UTC()
	_, err := tx.Exec(ctx, `INSERT INTO incident_attachments (id, org_id, incident_id, sha256, thumb_sha256, preview_sha256, filename, content_type,
		size, width, height, caption, actor_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.OrgID, nullStr(a.IncidentID), a.SHA256, a.ThumbSHA256, a.PreviewSHA, a.Filename, a.ContentType, a.Size, a.Width, a.Height,
		a.Caption, actorID(p), a.CreatedAt)
	if err != nil {
		return fmt.Errorf("attachment: %w", err)
	}
	return nil
}

// Attach stores an upload and links it to incident i. Attachments are
// evidence: they are never changed or removed, and adding one to an
// approved report is recorded like any amendment.
func (s *Service) Attach(ctx context.Context, i *Incident, u Upload, p *auth.Principal) (*Attachment, error) {
	a, err := s.Prepare(ctx, i.OrgID, u)
	if err != nil {
		return nil, err
	}
	a.IncidentID = i.ID
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM incident_attachments WHERE incident_id = ?`, i.ID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxAttachments {
			return invalid("file", fmt.Sprintf("a report holds at most %d attachments", MaxAttachments))
		}
		if err := s.insertAttachment(ctx, tx, a, p); err != nil {
			return err
		}
		return s.record(ctx, tx, p, i.OrgID, "incident.attach", "incident", i.ID,
			map[string]any{"attachment": a.ID, "sha256": a.SHA256, "filename": a.Filename, "size": a.Size, "status": i.Status})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Attachments lists an incident's attachments, oldest first.
func (s *Service) Attachments(ctx context.Context, i *Incident) ([]*Attachment, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+attachCols+` FROM incident_attachments WHERE incident_id = ? AND org_id = ? ORDER BY created_at, id`, i.ID, i.OrgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Attachment{}
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Attachment returns one attachment of org (the caller has loaded the
// incident or DAR it belongs to within scope).
func (s *Service) Attachment(ctx context.Context, orgID, id string) (*Attachment, error) {
	return scanAttachment(s.DB.QueryRow(ctx, `SELECT `+attachCols+` FROM incident_attachments WHERE id = ? AND org_id = ?`, id, orgID))
}

// OpenBlob opens a stored file.
func (s *Service) OpenBlob(ctx context.Context, sum string) (io.ReadCloser, error) {
	rc, err := s.Blob.Open(ctx, sum)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, store.ErrNotFound
	}
	return rc, err
}
