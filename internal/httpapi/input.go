package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/posthub/posthub/internal/booking"
)

// The input layer: every value a request carries is bounded here, before a handler
// reads it, so no handler has to remember to. README "Security: what is bounded" is
// the contract in words.
//
//   - Times: every instant the API takes is within [MinInstant, MaxInstant]
//     (parseTime, which every handler uses, and CheckInstant); dates and site-local
//     wall-clock times are held to the same years (checkTimeText).
//   - Text: JSON strings (decodeJSON), query parameters, urlencoded form fields, the
//     path and the Authorization and Idempotency-Key headers (cleanInput) are valid
//     UTF-8 without control characters, and at most maxRunes long.

// MinInstant and MaxInstant bound every instant the API accepts (inclusive): far
// enough either way for any booking, near enough that every derived time (an end, a
// site's wall-clock, a reminder) stays within what Go, JSON and PostgreSQL all print.
var (
	MinInstant = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxInstant = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// CheckInstant refuses an instant outside [MinInstant, MaxInstant]; name is the query
// parameter it came from (requiredTime renames it to a JSON field).
func CheckInstant(name string, t time.Time) error {
	if t.Before(MinInstant) || t.After(MaxInstant) {
		return &booking.Error{Code: booking.EINVALID,
			Message: fmt.Sprintf("%s must be from %s to %s.", name, MinInstant.Format(time.RFC3339), MaxInstant.Format(time.RFC3339)),
			Details: map[string]any{"parameter": name}}
	}
	return nil
}

// bodyTime reads an optional instant from a JSON field: parseTime, with the field
// named in details.field.
func bodyTime(field, v string) (*time.Time, error) {
	t, err := parseTime(field, v)
	if de, ok := err.(*booking.Error); ok {
		de.Details = map[string]any{"field": field}
	}
	return t, err
}

// checkTimeText holds a JSON field that is a date (2027-03-10) or a site-local
// wall-clock time (2027-03-10T10:00[:00]) to the years of [MinInstant, MaxInstant),
// read as UTC. A value of another shape is left to the service, which says what it
// expects.
func checkTimeText(field, v string) error {
	for _, layout := range []string{time.DateOnly, "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, v); err == nil {
			if t.Before(MinInstant) || !t.Before(MaxInstant) {
				return &booking.Error{Code: booking.EINVALID,
					Message: fmt.Sprintf("%s must be in the years %d to %d.", field, MinInstant.Year(), MaxInstant.Year()-1),
					Details: map[string]any{"field": field}}
			}
			return nil
		}
	}
	return nil
}

// checkTimeTexts applies checkTimeText to pairs of field name and value.
func checkTimeTexts(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := checkTimeText(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// maxRunes is the one table of text lengths, in characters (runes): a JSON string
// field, urlencoded form field or query parameter of this name holds at most this
// many, any other at most defaultMaxRunes. The service's own rules may be narrower.
var maxRunes = map[string]int{
	"title":     300,
	"name":      200,
	"programme": 200,
	"note":      2000,
	"reason":    500,
	"kind":      63,
	"email":     254,
	"url":       2000,
	"rrule":     500,
}

const (
	// defaultMaxRunes bounds a string field or parameter the table does not name.
	defaultMaxRunes = 1000
	// maxKeyRunes bounds a JSON object key or a parameter name.
	maxKeyRunes = 100
	// maxDepth bounds the nesting of a JSON body.
	maxDepth = 32
	// MaxFormBytes bounds an urlencoded form body.
	MaxFormBytes = 64 << 10
)

// multiLine names the free-text fields that may hold tabs and line breaks; every
// other string is one line.
var multiLine = map[string]bool{"note": true, "reason": true}

// nonBlank names the fields that, when given, must hold more than white space.
var nonBlank = map[string]bool{"title": true, "name": true, "programme": true}

// limitOf is the most characters a field or parameter called name may hold.
func limitOf(name string) int {
	if n, ok := maxRunes[name]; ok {
		return n
	}
	return defaultMaxRunes
}

// badRune reports the first character text may not hold: invalid UTF-8, a C0 control
// (tab, LF and CR allowed when multi is set), DEL or a C1 control.
func badRune(text string, multi bool) (rune, bool) {
	if !utf8.ValidString(text) {
		return utf8.RuneError, true
	}
	for _, c := range text {
		switch {
		case c == '\t' || c == '\n' || c == '\r':
			if !multi {
				return c, true
			}
		case c < 0x20 || (c >= 0x7f && c <= 0x9f):
			return c, true
		}
	}
	return 0, false
}

// checkText applies the rules to one value: its field (or parameter) is where it
// is, for the answer's details; name is the field's own name, which picks the rules.
func checkText(detail, where, name, v string) error {
	bad := func(msg string, args ...any) *booking.Error {
		return &booking.Error{Code: booking.EINVALID, Message: fmt.Sprintf(msg, args...), Details: map[string]any{detail: where}}
	}
	if c, ok := badRune(v, multiLine[name]); ok {
		if c == utf8.RuneError {
			return bad("%s is not valid UTF-8.", where)
		}
		if multiLine[name] {
			return bad("%s must not hold control characters (U+%04X); tab and line breaks are allowed.", where, c)
		}
		return bad("%s must not hold control characters or line breaks (U+%04X).", where, c)
	}
	if max := limitOf(name); utf8.RuneCountInString(v) > max {
		e := bad("%s must be at most %d characters.", where, max)
		e.Details["max"] = max
		return e
	}
	if nonBlank[name] && v != "" && strings.TrimSpace(v) == "" {
		return bad("%s must not be only white space.", where)
	}
	return nil
}

// ruleName is the field whose rules a JSON object key takes. encoding/json gives a
// value to the field whose name matches its key case-insensitively, folding as
// strings.EqualFold does ("TITLE" fills title; the Kelvin sign K is a k, ſ an s),
// so the rules follow the same match: otherwise {"TITLE": …} took the default
// length and could be blank. Every name with rules of its own is in maxRunes.
func ruleName(k string) string {
	for name := range maxRunes {
		if strings.EqualFold(k, name) {
			return name
		}
	}
	return k
}

// checkKey applies the rules to a JSON object key or a parameter name.
func checkKey(detail, where, k string) error {
	if _, ok := badRune(k, false); ok || utf8.RuneCountInString(k) > maxKeyRunes {
		return &booking.Error{Code: booking.EINVALID,
			Message: fmt.Sprintf("A name in the request must be valid UTF-8 without control characters, at most %d characters.", maxKeyRunes),
			Details: map[string]any{detail: where}}
	}
	return nil
}

// checkJSON walks one JSON value token by token and checks every string in it (keys
// included; escapes such as \u0000 are decoded first) and its depth. A string in an
// array takes the rules of the array's field. It returns the decoder's own error for
// malformed JSON.
func checkJSON(dec *json.Decoder, path, name string, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case string:
		return checkText("field", orBody(path), name, v)
	case json.Delim:
		if depth >= maxDepth {
			return booking.Errorf(booking.EINVALID, "The request body nests deeper than %d levels.", maxDepth)
		}
		if v == '{' {
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k, _ := kt.(string)
				at := k
				if path != "" {
					at = path + "." + k
				}
				if err := checkKey("field", at, k); err != nil {
					return err
				}
				if err := checkJSON(dec, at, ruleName(k), depth+1); err != nil {
					return err
				}
			}
		} else {
			for i := 0; dec.More(); i++ {
				if err := checkJSON(dec, fmt.Sprintf("%s[%d]", path, i), name, depth+1); err != nil {
					return err
				}
			}
		}
		_, err = dec.Token() // the closing delimiter
		return err
	}
	return nil
}

func orBody(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// cleanInput refuses a request whose path, query parameters, urlencoded form fields,
// Authorization or Idempotency-Key header break the text rules, before it is
// authenticated or read: 400 invalid, or 413 for a form over MaxFormBytes. JSON
// bodies are checked where they are decoded (decodeJSON).
func (s *Server) cleanInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkRequest(w, r); err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func checkRequest(w http.ResponseWriter, r *http.Request) error {
	if _, bad := badRune(r.URL.Path, false); bad {
		return booking.Errorf(booking.EINVALID, "The path must be valid UTF-8 without control characters.")
	}
	for _, h := range []string{"Authorization", "Idempotency-Key"} {
		if _, bad := badRune(r.Header.Get(h), false); bad {
			return &booking.Error{Code: booking.EINVALID, Message: h + " must be valid UTF-8 without control characters.",
				Details: map[string]any{"header": h}}
		}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return booking.Errorf(booking.EINVALID, "The query string is malformed.")
	}
	if err := checkValues("parameter", q); err != nil {
		return err
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodDelete || r.Body == nil {
		return nil
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/x-www-form-urlencoded") {
		return nil
	}
	// Parsed once here, within MaxFormBytes; later ParseForm calls reuse it.
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return booking.Errorf(booking.ETOOLARGE, "The form is over %d bytes.", MaxFormBytes)
		}
		return booking.Errorf(booking.EINVALID, "The form is malformed.")
	}
	return checkValues("field", r.PostForm)
}

// checkValues applies the text rules to query parameters or form fields.
func checkValues(detail string, vs url.Values) error {
	for k, list := range vs {
		if err := checkKey(detail, k, k); err != nil {
			return err
		}
		for _, v := range list {
			if err := checkText(detail, k, k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// errTrailing is a body with more after its one JSON value.
var errTrailing = errors.New("trailing data")

// checkBody checks the text and depth of a whole JSON body (checkJSON), and that it
// is one value.
func checkBody(dec *json.Decoder) error {
	if err := checkJSON(dec, "", "", 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errTrailing
	}
	return nil
}
