package booking

import (
	"errors"
	"fmt"
)

// Error codes are stable: clients match on them, the API puts them in problem+json's
// `code`, and the one table in httpapi maps each to an HTTP status.
const (
	ECONFLICT      = "conflict"      // the change collides with the current state (e.g. an overlap)
	EINTERNAL      = "internal"      // a fault of ours; its detail is logged, never shown
	EINVALID       = "invalid"       // the input is malformed or breaks a rule
	ENOTFOUND      = "not_found"     // no such object, or none the caller may see
	EUNAUTHORIZED  = "unauthorized"  // no valid credentials
	EFORBIDDEN     = "forbidden"     // valid credentials, but the role may not do this
	EPRECONDITION  = "precondition"  // If-Match did not match the current version
	ETOOLARGE      = "too_large"     // the request body is over the limit
	ERATELIMITED   = "rate_limited"  // too many requests; retry after a while
	EUNAVAILABLE   = "unavailable"   // a dependency is down; retry later
	EUNPROCESSABLE = "unprocessable" // well-formed, but cannot be acted upon (e.g. idempotency key reused)
	EGONE          = "gone"          // the object existed but is used up or expired for good (e.g. a password link)
	EMETHOD        = "method_not_allowed"
)

// Error is the domain's error: a stable code, a message safe to show the caller, and
// optional details (e.g. the interval that blocks a booking) that are also safe to show.
type Error struct {
	Code    string
	Message string
	Details map[string]any
	// Err is the cause, for logs only.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: the code of the first *Error in its chain, or
// EINTERNAL for anything else, so an unexpected error never leaks as something softer.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err; internal errors get a generic one.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "An internal error occurred."
}
