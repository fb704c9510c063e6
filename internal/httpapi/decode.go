package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/posthub/posthub/internal/booking"
)

// MaxBodyBytes bounds every JSON request body.
const MaxBodyBytes = 1 << 20

// decodeJSON reads a JSON request body into dst strictly: the body must be
// application/json, at most MaxBodyBytes (413 beyond), valid UTF-8, one JSON value with
// no unknown fields and the right types. Errors name the offending field.
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
	if !utf8.Valid(body) {
		return booking.Errorf(booking.EINVALID, "The request body is not valid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return booking.Errorf(booking.EINVALID, "The request body must hold one JSON value.")
	}
	return nil
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return booking.Errorf(booking.EINVALID, "The request body is empty.")
	case errors.As(err, &syntax):
		return booking.Errorf(booking.EINVALID, "The request body is not valid JSON (at byte %d).", syntax.Offset)
	case errors.As(err, &typ):
		return &booking.Error{Code: booking.EINVALID, Message: fmt.Sprintf("%s must be %s.", typ.Field, typ.Type),
			Details: map[string]any{"field": typ.Field}}
	}
	if field, ok := unknownField(err.Error()); ok {
		return &booking.Error{Code: booking.EINVALID, Message: "Unknown field " + field + ".",
			Details: map[string]any{"field": field}}
	}
	return booking.Errorf(booking.EINVALID, "The request body is not valid JSON.")
}

// unknownField reads the field name from encoding/json's DisallowUnknownFields error,
// which has no type of its own.
func unknownField(msg string) (string, bool) {
	const p = "json: unknown field "
	if len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p):], true
	}
	return "", false
}
