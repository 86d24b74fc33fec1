package investigation

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vigil/internal/blob"
	"vigil/internal/web"
)

func uploadHandlers(t testing.TB, max int64) (*Handlers, string) {
	dir := t.TempDir()
	return &Handlers{S: &Service{Blob: blob.FS{Dir: dir}, MaxUpload: max}}, dir
}

func multipartBody(fields map[string]string, file []byte) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("file", `C:\Users\me\evidence.bin`)
		fw.Write(file)
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func storedBlobs(t testing.TB, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// TestUploadLimits: an attachment over the configured size is refused with
// a 413 and nothing is stored; within the limit it is hashed as it streams.
func TestUploadLimits(t *testing.T) {
	h, dir := uploadHandlers(t, 1024)
	for _, tc := range []struct {
		name   string
		size   int
		status int
	}{
		{"within the limit", 1024, 0},
		{"one byte over", 1025, http.StatusRequestEntityTooLarge},
		{"far over", 1 << 20, http.StatusRequestEntityTooLarge},
		{"empty file", 0, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := storedBlobs(t, dir)
			body, ct := multipartBody(map[string]string{"description": "cctv"}, bytes.Repeat([]byte{'x'}, tc.size))
			r := httptest.NewRequest("POST", "/api/v1/cases/x/evidence", body)
			r.Header.Set("Content-Type", ct)
			fields, in, err := h.readEvidenceForm(httptest.NewRecorder(), r, "file")
			if tc.status == 0 {
				if err != nil || in.Kind != "digital" || in.Size != int64(tc.size) || len(in.SHA256) != 64 || in.Filename != "evidence.bin" || fields["description"] != "cctv" {
					t.Fatalf("got %+v %v %v", in, fields, err)
				}
				return
			}
			var we *web.Error
			if !errors.As(err, &we) || we.Status != tc.status {
				t.Fatalf("err = %v, want status %d", err, tc.status)
			}
			if tc.status == http.StatusRequestEntityTooLarge && storedBlobs(t, dir) != before {
				t.Fatal("an oversized upload left a file behind")
			}
		})
	}
	// Repeated checkboxes (a BOLO's sites) arrive as one comma list.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("site_ids", "s1")
	mw.WriteField("site_ids", "s2")
	mw.Close()
	r := httptest.NewRequest("POST", "/", &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	if fields, _, err := h.readEvidenceForm(httptest.NewRecorder(), r, "photo"); err != nil || fields["site_ids"] != "s1,s2" {
		t.Fatalf("repeated fields: %v %v", fields, err)
	}
	r = httptest.NewRequest("POST", "/", strings.NewReader(`{"label":"x"}`))
	r.Header.Set("Content-Type", "application/json")
	var we *web.Error
	if _, _, err := h.readEvidenceForm(httptest.NewRecorder(), r, "file"); !errors.As(err, &we) || we.Status != http.StatusUnsupportedMediaType {
		t.Fatalf("JSON upload: %v", err)
	}
}

// FuzzEvidenceForm: any request body under any multipart boundary is either
// refused or read into bounded fields; nothing panics, and no text field
// exceeds maxField.
func FuzzEvidenceForm(f *testing.F) {
	body, ct := multipartBody(map[string]string{"label": "still", "description": "bay 3"}, []byte("jpeg"))
	f.Add(body.Bytes(), strings.TrimPrefix(ct, "multipart/form-data; boundary="))
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nxx\r\n--b--\r\n"), "b")
	f.Add([]byte("--b\r\n\r\n"), "b")
	f.Add([]byte{}, "")
	h, _ := uploadHandlers(f, 4096)
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		fields, in, err := h.readEvidenceForm(httptest.NewRecorder(), r, "file")
		if err != nil {
			var we *web.Error
			if !errors.As(err, &we) || we.Status < 400 || we.Status > 499 {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		for k, v := range fields {
			if len(v) > maxField {
				t.Fatalf("field %q has %d bytes", k, len(v))
			}
		}
		if in.Size > 4096 {
			t.Fatalf("stored %d bytes over the limit", in.Size)
		}
	})
}

// FuzzHotlineInput: the public report body is decoded and validated as the
// API does; whatever passes is bounded, trimmed text in a known category.
func FuzzHotlineInput(f *testing.F) {
	for _, s := range []string{`{"category":"fraud","text":"Split invoices under the limit"}`, `{"category":"x"}`, `{"text":"\u0000"}`, `[]`, `{"contact":"` + strings.Repeat("a", 600) + `"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var in HotlineInput
		if json.Unmarshal(b, &in) != nil || in.Validate() != nil {
			return
		}
		if !valid(HotlineCategories, in.Category) || len(in.Text) == 0 || strings.ContainsRune(in.Text, 0) || len([]rune(in.Contact)) > 500 {
			t.Fatalf("accepted %+v", in)
		}
	})
}
