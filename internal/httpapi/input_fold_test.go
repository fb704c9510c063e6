package httpapi

import (
	"strings"
	"testing"
)

// TestKeysInAnotherCaseKeepTheirFieldsRules: encoding/json fills a field from a key
// that matches its name case-insensitively (Unicode folding included), so the text
// rules must go by the field, not the key as written. Found by TestAPIFuzz: {"NAME":
// "   "} made a user named with spaces, {"REASON": 501 characters} was stored.
func TestKeysInAnotherCaseKeepTheirFieldsRules(t *testing.T) {
	t.Parallel()
	type target struct {
		Title  string `json:"title"`
		Name   string `json:"name"`
		Reason string `json:"reason"`
		Kind   string `json:"kind"`
		Note   string `json:"note"`
	}
	for _, body := range []string{
		`{"TITLE":"   "}`,
		`{"Name":"` + strings.Repeat("é", 201) + `"}`,
		`{"REASON":"` + strings.Repeat("a", 501) + `"}`,
		`{"rea` + "\u017f" + `on":"` + strings.Repeat("a", 501) + `"}`, // ſ folds to s
		`{"` + "\u212a" + `ind":"` + strings.Repeat("a", 64) + `"}`,    // the Kelvin sign folds to k
	} {
		var dst target
		if err := decodeBody([]byte(body), &dst); err == nil {
			t.Errorf("%.40s…: accepted as %+v", body, dst)
		}
	}
	// The field's own allowances follow it too: a note in capitals may hold lines.
	var dst target
	if err := decodeBody([]byte(`{"NOTE":"one\ntwo"}`), &dst); err != nil || dst.Note != "one\ntwo" {
		t.Errorf("NOTE with a line break: %v, %+v", err, dst)
	}
}
