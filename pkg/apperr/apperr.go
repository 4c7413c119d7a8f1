package apperr

import (
	"errors"
	"time"
)

// Kind classifies an error. Append new kinds; never reorder.
type Kind int

const (
	KindInternal     Kind = iota // a bug or an unexpected failure; details stay in the log
	KindInvalid                  // the input is wrong; retrying it unchanged will fail again
	KindUnauthorized             // no valid credentials
	KindForbidden                // valid credentials, not allowed
	KindNotFound                 // no such thing, or not visible to the caller
	KindConflict                 // the current state forbids it
	KindGone                     // it existed but has expired
	KindTooLarge                 // the request is too large
	KindThrottled                // too many attempts; retry after RetryAfter
	KindUnavailable              // a dependency is throttling or down; retry after RetryAfter
	KindUnsupported              // the request's media type is not accepted
	KindPrecondition             // the request's precondition (If-Match) does not hold
)

// FieldError is one bad field of an input.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an error the client may see: a kind, a stable code and a message
// written for the client. Err, if set, is the cause and is only logged.
type Error struct {
	Kind       Kind
	Code       string
	Message    string
	Fields     []FieldError
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an Error of the given kind.
func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Invalid, Forbidden, NotFound and Conflict build sentinels of their kind.
func Invalid(code, message string) *Error   { return New(KindInvalid, code, message) }
func Forbidden(code, message string) *Error { return New(KindForbidden, code, message) }
func NotFound(code, message string) *Error  { return New(KindNotFound, code, message) }
func Conflict(code, message string) *Error  { return New(KindConflict, code, message) }

// Common errors shared by every domain package.
var (
	ErrUnauthorized = New(KindUnauthorized, "unauthorized", "Sign in to use this route.")
	ErrForbidden    = New(KindForbidden, "forbidden", "You may not do this.")
	ErrNotFound     = New(KindNotFound, "not_found", "No such resource.")
	ErrInternal     = New(KindInternal, "internal", "Something went wrong on our side.")
	// ErrPrecondition answers an If-Match that no longer matches: the
	// resource changed since the client read it.
	ErrPrecondition = New(KindPrecondition, "precondition_failed", "It changed since you read it: read it again, then retry.")
)

// Validation returns a validation_failed error listing the bad fields.
func Validation(fields ...FieldError) *Error {
	return &Error{Kind: KindInvalid, Code: "validation_failed", Message: "The request has invalid fields.", Fields: fields}
}

// Throttled returns a throttled error that may be retried after d.
func Throttled(message string, d time.Duration) *Error {
	return &Error{Kind: KindThrottled, Code: "throttled", Message: message, RetryAfter: d}
}

// Unavailable wraps a dependency failure that may be retried after d.
func Unavailable(cause error, d time.Duration) *Error {
	return &Error{Kind: KindUnavailable, Code: "unavailable", Message: "The service is busy; retry shortly.", RetryAfter: d, Err: cause}
}

// Contended reports a write that lost races to other writers more often than
// it retries: transient, so the client is told to retry shortly.
func Contended(what string) *Error {
	return &Error{Kind: KindUnavailable, Code: "unavailable", Message: what + " changed meanwhile; retry shortly.", RetryAfter: time.Second}
}

// As returns the *Error in err's chain; an error without one is internal.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: KindInternal, Code: ErrInternal.Code, Message: ErrInternal.Message, Err: err}
}

// KindOf returns the kind of err (KindInternal when it carries none).
func KindOf(err error) Kind { return As(err).Kind }

// Fields collects field errors; its Err is nil while it holds none.
type Fields []FieldError

// Add records a bad field.
func (f *Fields) Add(field, message string) {
	*f = append(*f, FieldError{Field: field, Message: message})
}

// Err returns a validation error, or nil if no field was added.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return Validation(f...)
}
