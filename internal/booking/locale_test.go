package booking

import (
	"strings"
	"testing"
)

// TestLocalesAreTheCatalogs: a user's language is one posthub has a message catalog
// for, and the rule says which.
func TestLocalesAreTheCatalogs(t *testing.T) {
	for l, want := range map[string]bool{"en": true, "fr": true, "xx": false, "": false, "EN": false} {
		if got := ValidLocale(l); got != want {
			t.Errorf("ValidLocale(%q) = %v", l, got)
		}
	}
	if r := LocaleRule(); !strings.Contains(r, "en") || !strings.Contains(r, "fr") {
		t.Errorf("rule %q", r)
	}
	p := "xx"
	if err := (UserPatch{Locale: &p}).Validate(); ErrorCode(err) != EINVALID {
		t.Errorf("a patch to an unknown language: %v", err)
	}
}
