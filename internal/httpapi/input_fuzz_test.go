package httpapi

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// fuzzTarget has a field of every shape the request types use.
type fuzzTarget struct {
	OrganisationID uuid.UUID           `json:"organisation_id"`
	Title          string              `json:"title"`
	RuntimeMinutes int                 `json:"runtime_minutes"`
	Emerging       bool                `json:"emerging"`
	Programme      string              `json:"programme"`
	Origins        []booking.Origin    `json:"origins"`
	Note           string              `json:"note"`
	Reason         string              `json:"reason"`
	Stages         []booking.StageSpec `json:"stages"`
	Prefs          map[string][]string `json:"preferences"`
	Week           booking.Week        `json:"week"`
	Hold           booking.Duration    `json:"hold_lifetime"`
	Rate           decimalText         `json:"rate"`
	Resources      []string            `json:"resource_ids"`
}

var goWords = regexp.MustCompile(`Go (struct|value)|of type|\bint(64)?\b|float64|uuid\.|booking\.|httpapi\.|\[\]|map\[|json:`)

// FuzzDecodeBody: whatever the bytes, decodeBody answers a 400 in JSON's words or
// fills the target with text that keeps every rule of the input layer.
func FuzzDecodeBody(f *testing.F) {
	for _, seed := range []string{
		`{"title":"Ndox","format":"short","runtime_minutes":12,"origins":[{"country":"SN","share_pct":100}]}`,
		`{"title":"Nd\u0000ox"}`,
		`{"note":"line one\r\n\tline two","reason":"ok"}`,
		`{"title":"   "}`,
		`{"runtime_minutes":"five"}`,
		`{"organisation_id":"nope"}`,
		`{"stages":[{"id":"grade","name":"Grade","hours":8,"demands":[{"kind":"grading_suite","capabilities":["hdr"]}]}]}`,
		`{"preferences":{"colourist":["lang:fr","\u007f"]}}`,
		`{"week":{"monday":[{"from":"09:00","to":"13:00"}]},"hold_lifetime":"48h","rate":"11.2"}`,
		"{\"title\":\"\xff\"}",
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		`{} {}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst fuzzTarget
		err := decodeBody(body, &dst)
		if err != nil {
			var de *booking.Error
			if !errors.As(err, &de) || de.Code != booking.EINVALID {
				t.Fatalf("%q: %v, want an invalid problem", body, err)
			}
			if goWords.MatchString(de.Message) {
				t.Fatalf("%q: the message speaks Go: %q", body, de.Message)
			}
			return
		}
		walkStrings(reflect.ValueOf(dst), "", func(name, s string) {
			if _, bad := badRune(s, multiLine[name]); bad {
				t.Fatalf("%q: %s holds %q", body, name, s)
			}
			if utf8.RuneCountInString(s) > limitOf(name) {
				t.Fatalf("%q: %s is %d characters", body, name, utf8.RuneCountInString(s))
			}
			if nonBlank[name] && s != "" && strings.TrimSpace(s) == "" {
				t.Fatalf("%q: %s is blank", body, name)
			}
		})
	})
}

// walkStrings calls f with every string in v and the JSON name of the field it is in.
func walkStrings(v reflect.Value, name string, f func(name, s string)) {
	switch v.Kind() {
	case reflect.String:
		f(name, v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), name, f)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkStrings(v.Index(i), name, f)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			walkStrings(it.Key(), name, f)
			walkStrings(it.Value(), it.Key().String(), f)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			n, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if n == "" {
				n = name
			}
			walkStrings(v.Field(i), n, f)
		}
	}
}
