package web

import (
	"errors"
	"fmt"
	"net/http"

	"vigil/internal/auth"
	"vigil/internal/store"
)

// Error is an error with an HTTP status and a message safe to show.
type Error struct {
	Status  int
	Code    string // machine-readable, e.g. "not_found", "invalid"
	Message string
	Field   string // the input field at fault, if any
	Err     error  // the cause, for the log only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Common errors.
var (
	ErrNotFound     = &Error{Status: http.StatusNotFound, Code: "not_found", Message: "Nothing here — it may have been removed, or it belongs to an organisation you do not have access to."}
	ErrForbidden    = &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "you do not have permission to do this"}
	ErrUnauthorized = &Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "sign in first"}
)

// BadField is a 400 naming the field.
func BadField(field, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid", Field: field, Message: field + " " + msg}
}

// classify turns any error from a handler into an *Error. Unknown errors
// become a 500 whose details go only to the log.
func classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var fe *auth.FieldError
	if errors.As(err, &fe) {
		return BadField(fe.Field, fe.Message)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: "this conflicts with existing data", Err: err}
	case errors.Is(err, store.ErrBusy):
		return &Error{Status: http.StatusServiceUnavailable, Code: "busy", Message: "the database is busy; try again", Err: err}
	case errors.Is(err, auth.ErrUnauthenticated):
		return ErrUnauthorized
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; it has been logged", Err: err}
}

// Need is the handlers' authorisation step for an object of org: 404 when
// the caller has no role there at all (another tenant's objects are
// indistinguishable from missing ones), 403 when they can see the org but
// may not do action.
func Need(p *auth.Principal, action auth.Action, org string) error {
	if !p.Sees(org) {
		return ErrNotFound
	}
	if !auth.Can(p, action, org) {
		return ErrForbidden
	}
	return nil
}
