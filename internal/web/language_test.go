package web_test

import (
	"context"
	"net/http"
	"testing"
)

// TestLanguageSwitchIsThePersonsLanguage: the language a signed-in person picks with the
// switch becomes theirs (users.locale), which their mails and notices are written in;
// a language without a catalog changes nothing, and signed out the switch only sets
// the cookie.
func TestLanguageSwitchIsThePersonsLanguage(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	locale := func() string {
		t.Helper()
		var l string
		if err := a.db.Pool.QueryRow(context.Background(), `SELECT locale FROM users WHERE id = $1`, a.users["producer"]).Scan(&l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := locale(); l != "fr" {
		t.Fatalf("the demo producer reads %q, want fr", l)
	}
	signedOut := a.client(t, "")
	if res, _ := signedOut.do(t, "GET", "/login?lang=en", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("the login page in English: %d", res.StatusCode)
	}
	c := a.client(t, "fr")
	c.login(t, "producer")
	if res, _ := c.do(t, "GET", "/?lang=en", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("switching to English: %d", res.StatusCode)
	}
	if l := locale(); l != "en" {
		t.Errorf("after switching to English the producer reads %q", l)
	}
	if res, _ := c.do(t, "GET", "/bookings?lang=xx", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("a language without a catalog: %d", res.StatusCode)
	}
	if l := locale(); l != "en" {
		t.Errorf("a language without a catalog changed the producer's to %q", l)
	}
	if res, _ := c.do(t, "GET", "/bookings?lang=fr", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("switching back to French: %d", res.StatusCode)
	}
	if l := locale(); l != "fr" {
		t.Errorf("after switching back to French the producer reads %q", l)
	}
}
