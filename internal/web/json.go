package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// MaxJSONBody bounds API request bodies.
const MaxJSONBody = 1 << 20

// DecodeJSON reads exactly one JSON object into v, rejecting unknown fields,
// trailing data and oversized bodies with a 400 (413 for size) that says what
// is wrong. v should then be validated by its own Validate method.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return Errorf(http.StatusBadRequest, "invalid_json", "request body must hold a single JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var big *http.MaxBytesError
	switch {
	case errors.As(err, &big):
		return Errorf(http.StatusRequestEntityTooLarge, "too_large", "request body is larger than %d bytes", big.Limit)
	case errors.As(err, &syn):
		return Errorf(http.StatusBadRequest, "invalid_json", "malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return BadField(typ.Field, fmt.Sprintf("must be a JSON %s", typ.Type.Kind()))
	case errors.Is(err, io.EOF):
		return Errorf(http.StatusBadRequest, "invalid_json", "request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(http.StatusBadRequest, "invalid_json", "malformed JSON: unexpected end")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &Error{Status: http.StatusBadRequest, Code: "invalid", Field: f, Message: "unknown field " + f}
	}
	return Errorf(http.StatusBadRequest, "invalid_json", "malformed JSON")
}

// JSON writes v with status.
func JSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}

// List is the envelope of every paginated API list.
type List[T any] struct {
	Items  []T `json:"items"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
	// NextOffset is set when there may be more items.
	NextOffset *int `json:"next_offset"`
}

// NewList builds a page; fetch limit+1 rows to know whether there is more.
func NewList[T any](items []T, limit, offset int) List[T] {
	l := List[T]{Items: items, Limit: limit, Offset: offset}
	if len(items) > limit {
		l.Items = items[:limit]
		n := offset + limit
		l.NextOffset = &n
	}
	if l.Items == nil {
		l.Items = []T{}
	}
	return l
}

// Paging reads limit (1–500, default 50) and offset from the query string.
func Paging(r *http.Request) (limit, offset int, err error) {
	limit, offset = 50, 0
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return 0, 0, BadField("limit", "must be a whole number from 1 to 500")
		}
	}
	if v := r.URL.Query().Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, BadField("offset", "must be a whole number ≥ 0")
		}
	}
	return limit, offset, nil
}
