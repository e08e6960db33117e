package moffman

import (
	"errors"
	"fmt"
)

// Code classifies an error for the edges: the HTTP layer maps each code to
// one status, the CLI to an exit status. Keep the list short.
type Code string

// The error vocabulary of the core.
const (
	Invalid      Code = "invalid"      // the caller sent something wrong
	NotFound     Code = "not_found"    // no such office, event, job …
	Conflict     Code = "conflict"     // the thing exists already (e.g. an event id)
	Gone         Code = "gone"         // a sync token expired: a full sync is needed
	Unauthorized Code = "unauthorized" // no or wrong credentials
	Forbidden    Code = "forbidden"    // credentials lack the permission
	Unavailable  Code = "unavailable"  // an outside system is down or rate limited; try later
	Upstream     Code = "upstream"     // an outside system refused or answered nonsense
	Internal     Code = "internal"     // a bug
)

// Error is the core's error: a code, a message meant for the person who has
// to fix the problem, and optionally the underlying cause.
type Error struct {
	Code    Code
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Message == "" {
		return e.Err.Error()
	}
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with the given code and message around err.
func WrapError(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, Internal for
// any other non-nil error and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// ErrorMessage returns the message of the first *Error in err's chain
// (without its cause, which may hold internal detail), or a generic text.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "internal error"
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code Code) bool { return ErrorCode(err) == code }
