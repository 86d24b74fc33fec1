package dist

import "errors"

// FieldError is an invalid input, named by the JSON path of the field at
// fault (for example "magnitude.mode"), so a CLI or HTTP handler can point
// the analyst at the exact value to fix.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Problem
	}
	return e.Field + ": " + e.Problem
}

// Prefix returns err with its field path placed under parent, so nested
// validators can report "secondary.magnitude.min" rather than "min". Errors
// that are not FieldErrors are wrapped as one for parent.
func Prefix(parent string, err error) error {
	if err == nil || parent == "" {
		return err
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		f := parent
		if fe.Field != "" {
			f += "." + fe.Field
		}
		return &FieldError{Field: f, Problem: fe.Problem}
	}
	return &FieldError{Field: parent, Problem: err.Error()}
}

func fieldErr(field, problem string) error { return &FieldError{Field: field, Problem: problem} }
