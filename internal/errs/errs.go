// Package errs is the vocabulary of failures the use cases report: a kind
// that transports map to their own codes, and a French message a person can
// read. It names no domain: a dossier and a match fail the same ways.
package errs

import (
	"errors"
	"fmt"
	"time"
)

// Kind is what went wrong, as a transport needs to know it.
type Kind int

const (
	KindInternal Kind = iota
	// KindInvalid input: each failing field is named.
	KindInvalid
	// KindUnauthenticated: no identity, or one that cannot be verified.
	KindUnauthenticated
	// KindForbidden: the identity may not do this.
	KindForbidden
	// KindNotFound: nothing there, or nothing the caller may know of.
	KindNotFound
	// KindConflict: the object is not in a state that allows the action.
	KindConflict
	// KindTooMany: rate-limited; RetryAfter says when to come back.
	KindTooMany
	// KindUnavailable: a dependency is down; RetryAfter says when to retry.
	KindUnavailable
)

// Error is a use case's failure.
type Error struct {
	Kind    Kind
	Message string
	Fields  []Field
	// State is, for a Conflict, the object's current state, for programs
	// (the message names it in French).
	State string
	// RetryAfter is set for TooMany and Unavailable.
	RetryAfter time.Duration
	// Err is the cause, for logs; never shown.
	Err error
}

// Field is one invalid input, named as the API names it (body.grantor.nne).
type Field struct {
	Location string
	Message  string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// KindOf is err's kind; Internal for anything not raised by a use case.
func KindOf(err error) Kind {
	if e, ok := As(err); ok {
		return e.Kind
	}
	return KindInternal
}

func NotFound(msg string) *Error  { return &Error{Kind: KindNotFound, Message: msg} }
func Forbidden(msg string) *Error { return &Error{Kind: KindForbidden, Message: msg} }
func Conflict(msg string) *Error  { return &Error{Kind: KindConflict, Message: msg} }

// ConflictIn is a conflict with the state the object is in.
func ConflictIn(msg, state string) *Error {
	return &Error{Kind: KindConflict, Message: msg, State: state}
}
func Unauthenticated(msg string) *Error { return &Error{Kind: KindUnauthenticated, Message: msg} }

// TooManyRequests is a refusal until wait has passed.
func TooManyRequests(msg string, wait time.Duration) *Error {
	return &Error{Kind: KindTooMany, Message: msg, RetryAfter: wait}
}

// ServiceUnavailable wraps a dependency's failure.
func ServiceUnavailable(cause error) *Error {
	return &Error{Kind: KindUnavailable, Message: "Service momentanément indisponible, réessayez dans quelques instants.",
		RetryAfter: 5 * time.Second, Err: cause}
}

// InvalidMessage is the detail of every 422.
const InvalidMessage = "Données invalides : voir la liste des champs en erreur."

// Fields collects every bad field of an input before refusing it.
type Fields []Field

func (f *Fields) Add(location, message string) {
	*f = append(*f, Field{Location: location, Message: message})
}

// Has reports whether location was already refused.
func (f Fields) Has(location string) bool {
	for _, x := range f {
		if x.Location == location {
			return true
		}
	}
	return false
}

// Err is nil when no field failed.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Message: InvalidMessage, Fields: f}
}

// InvalidField refuses one field.
func InvalidField(location, message string) *Error {
	return &Error{Kind: KindInvalid, Message: InvalidMessage, Fields: []Field{{Location: location, Message: message}}}
}

// HTTPStatus is the status both HTTP transports (the API, the pages)
// answer for the failure.
func (e *Error) HTTPStatus() int {
	switch e.Kind {
	case KindInvalid:
		return 422
	case KindUnauthenticated:
		return 401
	case KindForbidden:
		return 403
	case KindNotFound:
		return 404
	case KindConflict:
		return 409
	case KindTooMany:
		return 429
	case KindUnavailable:
		return 503
	}
	return 500
}
