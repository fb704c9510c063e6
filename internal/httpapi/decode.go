package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// MaxBodyBytes bounds every JSON request body.
const MaxBodyBytes = 1 << 20

// decodeJSON reads a JSON request body into dst strictly: the body must be
// application/json, at most MaxBodyBytes (413 beyond), valid UTF-8, one JSON value
// nested at most maxDepth deep with no unknown fields and the right types, and every
// string in it must keep the text rules (checkJSON: no control characters, at most
// maxRunes long, titles and names not blank). Errors name the offending field and the
// JSON type it takes, never a Go type.
func decodeJSON(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/merge-patch+json") {
			return booking.Errorf(booking.EINVALID, "Content-Type must be application/json.")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return booking.Errorf(booking.ETOOLARGE, "The request body is over %d bytes.", MaxBodyBytes)
		}
		return booking.Errorf(booking.EINVALID, "The request body could not be read.")
	}
	return decodeBody(body, dst)
}

// decodeBody is decodeJSON once the body is read.
func decodeBody(body []byte, dst any) error {
	if !utf8.Valid(body) {
		return booking.Errorf(booking.EINVALID, "The request body is not valid UTF-8.")
	}
	// First every string and the depth, token by token: a NUL is refused whatever
	// field it is in, even one the request type does not have.
	check := json.NewDecoder(bytes.NewReader(body))
	check.UseNumber()
	if err := checkBody(check); err != nil {
		return jsonError(err, body, dst)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, body, dst)
	}
	return nil
}

func jsonError(err error, body []byte, dst any) error {
	var de *booking.Error
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &de):
		return de
	case errors.Is(err, errTrailing):
		return booking.Errorf(booking.EINVALID, "The request body must hold one JSON value.")
	case errors.Is(err, io.EOF) && len(bytes.TrimSpace(body)) == 0:
		return booking.Errorf(booking.EINVALID, "The request body is empty.")
	case errors.As(err, &syntax):
		return booking.Errorf(booking.EINVALID, "The request body is not valid JSON (at byte %d).", syntax.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return booking.Errorf(booking.EINVALID, "The request body is not valid JSON (it ends too soon).")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return booking.Errorf(booking.EINVALID, "The request body must be %s, not %s.", jsonType(typ.Type), jsonValue(typ.Value))
		}
		return &booking.Error{Code: booking.EINVALID,
			Message: fmt.Sprintf("%s: expected %s, got %s.", typ.Field, jsonType(typ.Type), jsonValue(typ.Value)),
			Details: map[string]any{"field": typ.Field}}
	}
	if field, ok := unknownField(err.Error()); ok {
		return &booking.Error{Code: booking.EINVALID, Message: "Unknown field " + field + ".",
			Details: map[string]any{"field": field}}
	}
	// A value a type reads itself (a UUID, a duration, a decimal) that it could not
	// read: encoding/json does not say where, so find the member.
	if field, t, ok := badMember(body, dst); ok {
		return &booking.Error{Code: booking.EINVALID, Message: fmt.Sprintf("%s must be %s.", field, jsonType(t)),
			Details: map[string]any{"field": field}}
	}
	return booking.Errorf(booking.EINVALID, "The request body has a value of the wrong form.")
}

// unknownField reads the field name from encoding/json's DisallowUnknownFields error,
// which has no type of its own.
func unknownField(msg string) (string, bool) {
	const p = "json: unknown field "
	if len(msg) > len(p) && msg[:len(p)] == p {
		if f, err := strconv.Unquote(msg[len(p):]); err == nil {
			return f, true
		}
		return msg[len(p):], true
	}
	return "", false
}

// badMember finds the first top-level member of a JSON object body that dst's field
// of that name cannot take, with the field's type.
func badMember(body []byte, dst any) (string, reflect.Type, bool) {
	t := reflect.TypeOf(dst)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return "", nil, false
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) != nil {
		return "", nil, false
	}
	t = t.Elem()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		raw, ok := members[name]
		if !ok {
			continue
		}
		if json.Unmarshal(raw, reflect.New(f.Type).Interface()) != nil {
			return name, f.Type, true
		}
	}
	return "", nil, false
}

var (
	uuidType     = reflect.TypeFor[uuid.UUID]()
	durationType = reflect.TypeFor[booking.Duration]()
	decimalType  = reflect.TypeFor[decimalText]()
)

// jsonType says in JSON's words what a Go type takes.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case uuidType:
		return "a UUID (a string)"
	case durationType:
		return `a duration (a string such as "48h")`
	case decimalType:
		return "a decimal number (a number or a string)"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number within range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		switch t.Elem() {
		case uuidType:
			return "an array of UUIDs (strings)"
		case durationType:
			return `an array of durations (strings such as "48h")`
		}
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another JSON value"
}

// jsonValue names the JSON value encoding/json found ("string", "number 1.5").
func jsonValue(v string) string {
	kind, literal, _ := strings.Cut(v, " ")
	switch kind {
	case "string":
		return "a string"
	case "number":
		if literal != "" {
			return "a number out of range or with a fraction"
		}
		return "a number"
	case "bool":
		return "true or false"
	case "array":
		return "an array"
	case "object":
		return "an object"
	}
	return "another JSON value"
}
