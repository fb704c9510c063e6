package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestAdminSetsAUsersLanguage: the admin user form offers the languages posthub
// writes mail in (those it has catalogs for: English, French), shows the one a user has, and stores the one the
// admin picks in users.locale (what the person's mail and notices are written in,
// until they switch the UI themselves); a language posthub has no catalog for is
// refused on the field and nothing is written.
func TestAdminSetsAUsersLanguage(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := context.Background()
	admin := a.client(t, "en")
	csrf := admin.login(t, "admin")
	id := a.users["producer"]
	locale := func() string {
		var l string
		if err := a.db.Pool.QueryRow(ctx, `SELECT locale FROM users WHERE id = $1`, id).Scan(&l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	selected := func(body string) string {
		sel := regexp.MustCompile(`(?s)<select id="edit-locale" name="locale"[^>]*>(.*?)</select>`).FindStringSubmatch(body)
		if sel == nil {
			t.Fatalf("the user form has no language field:\n%s", body)
		}
		if opts := regexp.MustCompile(`<option value="([a-z]+)"`).FindAllStringSubmatch(sel[1], -1); len(opts) != 2 || opts[0][1] != "en" || opts[1][1] != "fr" {
			t.Errorf("language options %v, want en and fr", opts)
		}
		m := regexp.MustCompile(`<option value="([a-z]+)" selected>`).FindStringSubmatch(sel[1])
		if m == nil {
			return ""
		}
		return m[1]
	}
	was := locale()
	other := map[string]string{"en": "fr", "fr": "en"}[was]
	_, body, _ := admin.get(t, "/admin/users/"+id.String())
	if got := selected(body); got != was {
		t.Fatalf("the form shows %q, the user has %q", got, was)
	}
	form := func(l string) url.Values {
		u, err := a.db.FindUserByEmail(ctx, a.actors["admin"], a.emails["producer"])
		if err != nil {
			t.Fatal(err)
		}
		return url.Values{"csrf_token": {csrf}, "name": {u.Name}, "role": {string(u.Role)}, "organisation": {u.OrganisationID.String()},
			"locale": {l}, "active": {"on"}, "version": {itoa(u.Version)}}
	}

	res, _ := admin.browse(t, "POST", "/admin/users/"+id.String(), form(other))
	if res.StatusCode != http.StatusSeeOther || locale() != other {
		t.Fatalf("setting the language to %s: %d, stored %q", other, res.StatusCode, locale())
	}
	_, body, _ = admin.get(t, "/admin/users/"+id.String())
	if got := selected(body); got != other {
		t.Errorf("after saving, the form shows %q, want %q", got, other)
	}
	_, list, _ := admin.get(t, "/admin/users")
	name := map[string]string{"en": "English", "fr": "Français"}[other]
	if row := regexp.MustCompile(`(?s)<tr[^>]*id="u-` + id.String() + `".*?</tr>`).FindString(list); !strings.Contains(row, name) {
		t.Errorf("the users list does not show %s for the user: %q", name, row)
	}

	res, body = admin.browse(t, "POST", "/admin/users/"+id.String(), form("xx"))
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(body, "edit-locale") != "Choose one of the languages offered." {
		t.Errorf("an unknown language: %d, field error %q", res.StatusCode, fieldError(body, "edit-locale"))
	}
	if locale() != other {
		t.Errorf("a refused language was stored: %q", locale())
	}
}
