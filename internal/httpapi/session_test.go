package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/demo"
	"github.com/posthub/posthub/internal/httpapi"
)

// browser is an HTTP client with a cookie jar that does not follow redirects, standing
// in for a person's browser.
type browser struct {
	b      *testBundle
	client *http.Client
	base   *url.URL
}

func newBrowser(t *testing.T, b *testBundle) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(b.srv.URL)
	return &browser{b: b, base: u, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// get fetches a page and returns its status, body and the form's CSRF token.
func (c *browser) get(t *testing.T, path string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest("GET", c.b.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := doChecked(t, c.client, req)
	body, _ := io.ReadAll(res.Body)
	token := ""
	if m := csrfField.FindStringSubmatch(string(body)); m != nil {
		token = m[1]
	}
	return res.StatusCode, string(body), token
}

func (c *browser) post(t *testing.T, path string, form url.Values, hdr map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", c.b.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res := doChecked(t, c.client, req)
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// login fills in the login form and returns the status of its submission.
func (c *browser) login(t *testing.T, email, password string) int {
	t.Helper()
	st, _, token := c.get(t, "/login")
	if st != 200 || token == "" {
		t.Fatalf("login form: status %d, csrf %q", st, token)
	}
	return c.post(t, "/login", url.Values{"email": {email}, "password": {password}, "csrf_token": {token}}, nil).StatusCode
}

func (c *browser) session(t *testing.T) string {
	for _, ck := range c.client.Jar.Cookies(c.base) {
		if ck.Name == httpapi.SessionCookie {
			return ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

func TestLoginSessionAndLogout(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := newBrowser(t, b)

	// Pages need a session.
	res, err := c.client.Get(b.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("home without a session: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}

	// The login form refuses a submission without its CSRF token.
	st, _, _ := c.get(t, "/login")
	if st != 200 {
		t.Fatalf("login form: %d", st)
	}
	res = c.post(t, "/login", url.Values{"email": {"aminata.diop@teranga-lumiere.example"}, "password": {demo.Password}}, nil)
	if res.StatusCode != 403 {
		t.Fatalf("login without csrf_token: %d", res.StatusCode)
	}
	if st := c.login(t, "aminata.diop@teranga-lumiere.example", "not the password"); st != 401 {
		t.Fatalf("wrong password: %d", st)
	}
	if st := c.login(t, "aminata.diop@teranga-lumiere.example", demo.Password); st != 303 {
		t.Fatalf("login: %d", st)
	}
	st, body, csrf := c.get(t, "/")
	if st != 200 || !strings.Contains(body, "aminata.diop@teranga-lumiere.example") || csrf == "" {
		t.Fatalf("home after login: %d, csrf %q", st, csrf)
	}

	// The session works for the API too; unsafe API calls need the CSRF header.
	req, _ := http.NewRequest("GET", b.srv.URL+"/api/v1/me", nil)
	res = doChecked(t, c.client, req)
	me := decode[map[string]any](t, res, 200)
	if me["email"] != "aminata.diop@teranga-lumiere.example" {
		t.Fatalf("me: %v", me)
	}
	req, _ = http.NewRequest("POST", b.srv.URL+"/api/v1/tokens", strings.NewReader(`{"name":"from the browser"}`))
	req.Header.Set("Content-Type", "application/json")
	res = doChecked(t, c.client, req)
	problem(t, res, 403, booking.EFORBIDDEN)
	req, _ = http.NewRequest("POST", b.srv.URL+"/api/v1/tokens", strings.NewReader(`{"name":"from the browser"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	res = doChecked(t, c.client, req)
	decode[map[string]any](t, res, 201)

	// A cross-site form post is refused even with the right token.
	res = c.post(t, "/logout", url.Values{"csrf_token": {csrf}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if res.StatusCode != 403 {
		t.Fatalf("cross-site logout: %d", res.StatusCode)
	}
	// Logout needs the form's token.
	if res := c.post(t, "/logout", url.Values{}, nil); res.StatusCode != 403 {
		t.Fatalf("logout without csrf_token: %d", res.StatusCode)
	}
	session := c.session(t)
	if res := c.post(t, "/logout", url.Values{"csrf_token": {csrf}}, nil); res.StatusCode != 303 {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	if _, err := b.db.AuthenticateSession(context.Background(), session); booking.ErrorCode(err) != booking.EUNAUTHORIZED {
		t.Fatalf("the session outlived logout: %v", err)
	}
	res, err = c.client.Get(b.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 303 {
		t.Fatalf("home after logout: %d", res.StatusCode)
	}

	// Both logins and the logout are in the audit log.
	var actions []string
	rows, _ := b.db.Pool.Query(context.Background(), `SELECT action FROM audit_log WHERE action LIKE 'auth.%' ORDER BY id`)
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		actions = append(actions, a)
	}
	if got := strings.Join(actions, ","); got != "auth.login_failed,auth.login,auth.logout" {
		t.Fatalf("auth audit: %s", got)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		b := setup(t, &setupOpts{secure: secure})
		c := newBrowser(t, b)
		_, _, token := c.get(t, "/login")
		res := c.post(t, "/login", url.Values{"email": {"admin@atlas-post.example"}, "password": {demo.Password}, "csrf_token": {token}, "next": {"//evil.example/x"}}, nil)
		if res.StatusCode != 303 || res.Header.Get("Location") != "/" {
			t.Fatalf("login with a foreign next: %d → %q", res.StatusCode, res.Header.Get("Location"))
		}
		var ck *http.Cookie
		for _, x := range res.Cookies() {
			if x.Name == httpapi.SessionCookie {
				ck = x
			}
		}
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != secure {
			t.Fatalf("session cookie (secure=%t): %+v", secure, ck)
		}
	}
}
