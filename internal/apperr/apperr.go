// Package apperr defines the domain error values shared by every package: a small set of kinds
// that decide the HTTP status, a stable snake_case code that clients switch on, and the list of
// failing fields of a validation error.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error; the HTTP layer maps each kind to one status.
type Kind int

// The kinds of domain errors.
const (
	KindInternal         Kind = iota
	KindInvalid               // 422: the request is well-formed but breaks a rule
	KindBadRequest            // 400: malformed input
	KindNotFound              // 404: not found in this account
	KindConflict              // 409: the state forbids it
	KindUnauthorized          // 401: no or bad credentials
	KindForbidden             // 403: authenticated but not allowed
	KindTooLarge              // 413: body too large
	KindRateLimited           // 429
	KindUnavailable           // 503: a dependency (the database) is down
	KindBadGateway            // 502: an upstream provider (Meta's Graph API) failed or refused
	KindUnsupportedMedia      // 415: the body is not of a type the route reads (JSON sent as a form)
)

// FieldError is one failing field of a request: the JSON path of the field, a stable code and a
// human message.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is a domain error: its kind, a stable code, a message for humans, the failing fields of
// a validation error, and extra members for the problem body (such as existing_id).
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Fields  []FieldError
	Extra   map[string]any
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the same domain error: the same kind and code. A sentinel such as
// contact.ErrNotFound therefore still matches a copy that With gave extra members, and callers
// compare with errors.Is instead of looking codes up by string.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Code == e.Code
}

// New returns an error of the given kind and code.
func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Invalid returns a 422 validation error listing every failing field.
func Invalid(fields ...FieldError) *Error {
	return &Error{Kind: KindInvalid, Code: "validation_failed", Message: "the request has invalid fields", Fields: fields}
}

// NotFound returns a not-found error with the given code (e.g. contact_not_found).
func NotFound(code, message string) *Error { return New(KindNotFound, code, message) }

// Conflict returns a conflict error with the given code.
func Conflict(code, message string) *Error { return New(KindConflict, code, message) }

// Forbidden returns a forbidden error.
func Forbidden(message string) *Error { return New(KindForbidden, "forbidden", message) }

// With returns a copy of e with an extra member for the problem body.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Extra = make(map[string]any, len(e.Extra)+1)
	for k, v := range e.Extra {
		c.Extra[k] = v
	}
	c.Extra[key] = value
	return &c
}

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// IsKind reports whether err is a domain error of the given kind.
func IsKind(err error, kind Kind) bool {
	e, ok := As(err)
	return ok && e.Kind == kind
}

// FieldsOf returns the failing fields of the validation error inside err, or none when err is
// not one.
func FieldsOf(err error) Fields {
	if e, ok := As(err); ok && e.Kind == KindInvalid {
		return e.Fields
	}
	return nil
}

// Fields collects field errors; a nil Fields is ready to use.
type Fields []FieldError

// Add appends one failing field.
func (f *Fields) Add(field, code, message string) {
	*f = append(*f, FieldError{Field: field, Code: code, Message: message})
}

// Codes lists each failure as "field:code", in order: what a client switches on in errors[], in
// a form that logs and tests compare at a glance.
func (f Fields) Codes() []string {
	out := make([]string, len(f))
	for i, fe := range f {
		out[i] = fe.Field + ":" + fe.Code
	}
	return out
}

// Err returns a validation error listing the collected fields, or nil when there are none.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return Invalid(f...)
}
