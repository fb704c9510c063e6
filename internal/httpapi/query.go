package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// query reads a request's URL parameters for list and search endpoints. It keeps the
// first error, so a handler reads every parameter and checks once. Every parameter
// has already passed cleanInput (input.go): valid UTF-8, no control characters, within
// its length; every time goes through parseTime's range.
type query struct {
	v   url.Values
	err error
}

func newQuery(r *http.Request) *query { return &query{v: r.URL.Query()} }

// id reads an optional UUID parameter.
func (q *query) id(name string) *uuid.UUID {
	v := q.v.Get(name)
	if v == "" || q.err != nil {
		return nil
	}
	id, err := parseID(name, v)
	if err != nil {
		q.err = err
		return nil
	}
	return &id
}

// time reads an optional RFC 3339 parameter (an offset is required).
func (q *query) time(name string) *time.Time {
	if q.err != nil {
		return nil
	}
	t, err := parseTime(name, q.v.Get(name))
	if err != nil {
		q.err = err
	}
	return t
}

// flag reads an optional boolean parameter: true or false (absent: false).
func (q *query) flag(name string) bool {
	v := q.v.Get(name)
	if v == "" || q.err != nil {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		q.err = &booking.Error{Code: booking.EINVALID, Message: name + " must be true or false.", Details: map[string]any{"parameter": name}}
	}
	return b
}

// limit reads an optional page size from 1 to max; 0 when absent.
func (q *query) limit(max int) int {
	v := q.v.Get("limit")
	if v == "" || q.err != nil {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		q.err = &booking.Error{Code: booking.EINVALID, Message: fmt.Sprintf("limit must be 1 to %d.", max), Details: map[string]any{"parameter": "limit"}}
		return 0
	}
	return n
}
