package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/posthub/posthub/internal/auth"
	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/httpapi"
)

// Everyone's API tokens, organisations' webhooks (producers for their company, admins
// for any), and the public pages of password links: a link mailed by an invitation or
// a reset opens a form that sets the password once; a link used, replaced or expired
// says so kindly and shows the way to a new one; and "forgot your password?" on the
// sign-in page asks for a reset, always answered the same.

// passwordCSRFCookie carries the password form's double-submit token: who opens a
// link has no session.
const passwordCSRFCookie = "posthub_password_csrf"

var (
	tokenFields    = []string{"name", "ttl"}
	webhookFields  = []string{"url"}
	passwordFields = []string{"password", "confirm"}
)

// tokenTTLs are the lifetimes a token may be given, in days (0: no expiry).
var tokenTTLs = []int{30, 90, 365, 0}

type tokenRow struct {
	ID, Name, Prefix, Created, Expires, LastUsed string
	Active                                       bool
	Status                                       string
}

type tokensData struct {
	Tokens []tokenRow
	New    *adminForm
	TTLs   []kindOption
	// Secret is the token just made, shown this once.
	Secret, SecretName string
	// Webhooks links to the organisation's webhooks (producers).
	Webhooks bool
}

type webhookRow struct {
	ID, URL, Org, Created, LastError string
	Enabled                          bool
	Failures                         int
}

type webhooksData struct {
	Hooks []webhookRow
	New   *adminForm
	// Secret signs the webhook just made, shown this once.
	Secret, SecretURL string
	Admin             bool
}

// passwordData is the page of a password link.
type passwordData struct {
	Token     string
	CSRF      string
	Name      string
	Email     string
	Invite    bool
	Expires   string
	MinLength int
	Form      *adminForm
	// Gone says why the link cannot be used (used, expired or replaced, or unknown).
	Gone string
}

func ttlOptions(lang string) []kindOption {
	var out []kindOption
	for _, d := range tokenTTLs {
		label := translate(lang, "admin.ttl_never")
		if d > 0 {
			label = fmt.Sprintf(translateN(lang, "admin.ttl_days", d), d)
		}
		out = append(out, kindOption{Value: strconv.Itoa(d), Label: label})
	}
	return out
}

// whenText is an instant in UTC, named; "—" for none.
func whenText(lang string, t *time.Time) string {
	if t == nil {
		return "—"
	}
	return formatInstant(lang, *t, "UTC")
}

func (u *UI) tokensPage(w http.ResponseWriter, r *http.Request) {
	u.renderTokens(w, r, http.StatusOK, newAdminForm(url.Values{"ttl": {"90"}}, tokenFields...), "", "")
}

func (u *UI) renderTokens(w http.ResponseWriter, r *http.Request, status int, f *adminForm, secret, name string) {
	lang := language(r)
	a := actor(r)
	title := translate(lang, "admin.tokens_title")
	tokens, err := u.Auth.ListTokens(r.Context(), a)
	if err != nil {
		u.adminPageError(w, r, title, err)
		return
	}
	now := u.now()
	d := tokensData{New: f, TTLs: ttlOptions(lang), Secret: secret, SecretName: name, Webhooks: a.Role == booking.RoleProducer}
	for _, t := range tokens {
		created := t.CreatedAt
		row := tokenRow{ID: t.ID.String(), Name: t.Name, Prefix: t.Prefix, Created: whenText(lang, &created), Expires: whenText(lang, t.ExpiresAt),
			LastUsed: whenText(lang, t.LastUsedAt), Active: true, Status: translate(lang, "admin.token_active")}
		switch {
		case t.RevokedAt != nil:
			row.Active, row.Status = false, translate(lang, "admin.token_revoked")
		case t.ExpiresAt != nil && !t.ExpiresAt.After(now):
			row.Active, row.Status = false, translate(lang, "admin.token_expired")
		}
		if t.ExpiresAt == nil {
			row.Expires = translate(lang, "admin.ttl_never")
		}
		d.Tokens = append(d.Tokens, row)
	}
	f.alert(lang)
	u.render(w, r, "admin_tokens.html", status, page{Title: title, Data: d})
}

// createToken makes a token for oneself and shows it this once: the answer is the
// page itself, never a redirect that would carry it.
func (u *UI) createToken(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	a := actor(r)
	if err := parseForm(w, r); err != nil {
		f := newAdminForm(nil, tokenFields...)
		f.fail("", translate(lang, "login.bad_form"))
		u.renderTokens(w, r, http.StatusBadRequest, f, "", "")
		return
	}
	f := newAdminForm(r.PostForm, tokenFields...)
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || len(name) > 200 {
		f.fail("name", translate(lang, "admin.err_token_name"))
	}
	days, err := strconv.Atoi(r.PostFormValue("ttl"))
	known := false
	for _, d := range tokenTTLs {
		known = known || d == days
	}
	if err != nil || !known {
		f.fail("ttl", translate(lang, "admin.err_ttl"))
	}
	if f.failed() {
		u.renderTokens(w, r, http.StatusUnprocessableEntity, f, "", "")
		return
	}
	info, secret, err := u.Auth.CreateToken(r.Context(), a, a.UserID, name, time.Duration(days)*24*time.Hour)
	if err != nil {
		u.refuseForm(lang, f, err)
		u.renderTokens(w, r, refusedStatus(err), f, "", "")
		return
	}
	u.renderTokens(w, r, http.StatusCreated, newAdminForm(url.Values{"ttl": {"90"}}, tokenFields...), secret, info.Name)
}

func (u *UI) revokeToken(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	id, ok := u.formID(w, r, "/account/tokens", "token")
	if !ok {
		return
	}
	if err := u.Auth.RevokeToken(r.Context(), actor(r), id); err != nil {
		f := newAdminForm(nil)
		u.refuseForm(lang, f, err)
		u.done(w, r, "/account/tokens", "error", f.Error)
		return
	}
	u.done(w, r, "/account/tokens", "ok", translate(lang, "admin.token_revoked_flash"))
}

func (u *UI) webhooksPage(w http.ResponseWriter, r *http.Request) {
	u.renderWebhooks(w, r, http.StatusOK, newAdminForm(nil, webhookFields...), "", "")
}

func (u *UI) renderWebhooks(w http.ResponseWriter, r *http.Request, status int, f *adminForm, secret, hookURL string) {
	lang := language(r)
	a := actor(r)
	title := translate(lang, "admin.webhooks_title")
	if u.Notifications == nil {
		u.adminPageError(w, r, title, booking.Errorf(booking.EUNAVAILABLE, "Webhooks are not available in this process."))
		return
	}
	hooks, err := u.Notifications.ListWebhooks(r.Context(), a)
	if err != nil {
		u.adminPageError(w, r, title, err)
		return
	}
	orgs := u.organisationNames(r.Context(), a)
	d := webhooksData{New: f, Secret: secret, SecretURL: hookURL, Admin: a.Role == booking.RoleAdmin}
	for _, h := range hooks {
		created := h.CreatedAt
		d.Hooks = append(d.Hooks, webhookRow{ID: h.ID.String(), URL: h.URL, Org: orgs[h.OrganisationID], Created: whenText(lang, &created),
			LastError: h.LastError, Enabled: h.Enabled, Failures: h.ConsecutiveFailures})
	}
	f.alert(lang)
	u.render(w, r, "admin_webhooks.html", status, page{Title: title, Data: d})
}

// createWebhook registers an endpoint for the actor's organisation and shows its
// signing secret this once.
func (u *UI) createWebhook(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	if err := parseForm(w, r); err != nil {
		f := newAdminForm(nil, webhookFields...)
		f.fail("", translate(lang, "login.bad_form"))
		u.renderWebhooks(w, r, http.StatusBadRequest, f, "", "")
		return
	}
	f := newAdminForm(r.PostForm, webhookFields...)
	raw := strings.TrimSpace(r.PostFormValue("url"))
	if p, err := url.Parse(raw); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || len(raw) > 2000 {
		f.fail("url", translate(lang, "admin.err_url"))
		u.renderWebhooks(w, r, http.StatusUnprocessableEntity, f, "", "")
		return
	}
	if u.Notifications == nil {
		u.adminPageError(w, r, translate(lang, "admin.webhooks_title"), booking.Errorf(booking.EUNAVAILABLE, "Webhooks are not available in this process."))
		return
	}
	h, secret, err := u.Notifications.CreateWebhook(r.Context(), actor(r), raw)
	if err != nil {
		u.refuseForm(lang, f, err)
		u.renderWebhooks(w, r, refusedStatus(err), f, "", "")
		return
	}
	u.renderWebhooks(w, r, http.StatusCreated, newAdminForm(nil, webhookFields...), secret, h.URL)
}

func (u *UI) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	id, ok := u.formID(w, r, "/webhooks", "webhook")
	if !ok {
		return
	}
	var err error = booking.Errorf(booking.EUNAVAILABLE, "Webhooks are not available in this process.")
	if u.Notifications != nil {
		err = u.Notifications.DeleteWebhook(r.Context(), actor(r), id)
	}
	if err != nil {
		f := newAdminForm(nil)
		u.refuseForm(lang, f, err)
		u.done(w, r, "/webhooks", "error", f.Error)
		return
	}
	u.done(w, r, "/webhooks", "ok", translate(lang, "admin.webhook_deleted"))
}

// goneText says kindly why a link cannot be used.
func goneText(lang string, err error) string {
	if booking.ErrorCode(err) != booking.EGONE {
		return translate(lang, "admin.link_unknown")
	}
	switch errDetail(err, "reason") {
	case booking.ReasonLinkUsed:
		return translate(lang, "admin.link_used")
	case booking.ReasonLinkExpired:
		return translate(lang, "admin.link_expired")
	}
	return translate(lang, "admin.link_replaced")
}

// inLinkLanguage is r read in the language of the link's user, the language their
// mail was written in, unless the page's language was chosen (?lang=, the switch's
// cookie).
func inLinkLanguage(r *http.Request, l booking.PasswordLink) *http.Request {
	if !catalog.Supported(l.Locale) || catalog.Supported(r.URL.Query().Get("lang")) {
		return r
	}
	if c, err := r.Cookie("lang"); err == nil && catalog.Supported(c.Value) {
		return r
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set("Accept-Language", l.Locale)
	return r2
}

// passwordPage opens a password link: its form, or why it cannot be used.
func (u *UI) passwordPage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	l, err := u.Auth.CheckPasswordLink(r.Context(), token)
	if err != nil {
		u.linkRefused(w, r, err)
		return
	}
	r = inLinkLanguage(r, l)
	u.renderPassword(w, r, http.StatusOK, token, l, newAdminForm(nil, passwordFields...))
}

// linkRefused shows why a link cannot be used: 404 for no such link, 410 for one
// used, expired or replaced (an internal error is the error page).
func (u *UI) linkRefused(w http.ResponseWriter, r *http.Request, err error) {
	lang := language(r)
	switch booking.ErrorCode(err) {
	case booking.ENOTFOUND, booking.EGONE:
		u.render(w, r, "admin_password.html", httpapi.StatusOf(err), page{Title: translate(lang, "admin.password_title"),
			Data: passwordData{Gone: goneText(lang, err)}})
	default:
		u.adminPageError(w, r, translate(lang, "admin.password_title"), err)
	}
}

func (u *UI) renderPassword(w http.ResponseWriter, r *http.Request, status int, token string, l booking.PasswordLink, f *adminForm) {
	lang := language(r)
	csrf := auth.NewSecret(32)
	http.SetCookie(w, &http.Cookie{Name: passwordCSRFCookie, Value: csrf, Path: "/password/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: u.secure(r), MaxAge: 3600})
	d := passwordData{Token: token, CSRF: csrf, Name: l.Name, Email: l.Email, Invite: l.Purpose == booking.LinkInvite,
		Expires: formatInstant(lang, l.ExpiresAt, "UTC"), MinLength: auth.MinPasswordLength, Form: f}
	f.alert(lang)
	u.render(w, r, "admin_password.html", status, page{Title: translate(lang, "admin.password_title"), Data: d})
}

// setPassword sets the password of a link's user, once, and sends them to sign in.
func (u *UI) setPassword(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	token := r.PathValue("token")
	if err := parseForm(w, r); err != nil {
		u.renderError(w, r, http.StatusBadRequest, translate(lang, "admin.password_title"), translate(lang, "login.bad_form"))
		return
	}
	c, err := r.Cookie(passwordCSRFCookie)
	if err != nil || c.Value == "" || c.Value != r.PostFormValue("csrf_token") {
		u.renderError(w, r, http.StatusForbidden, translate(lang, "admin.password_title"), translate(lang, "admin.password_csrf"))
		return
	}
	l, err := u.Auth.CheckPasswordLink(r.Context(), token)
	if err != nil {
		u.linkRefused(w, r, err)
		return
	}
	r = inLinkLanguage(r, l)
	lang = language(r)
	f := newAdminForm(url.Values{}, passwordFields...)
	password := r.PostFormValue("password")
	if len(password) < auth.MinPasswordLength {
		f.fail("password", fmt.Sprintf(translate(lang, "admin.err_password"), auth.MinPasswordLength))
	} else if password != r.PostFormValue("confirm") {
		f.fail("confirm", translate(lang, "admin.err_confirm"))
	}
	if f.failed() {
		u.renderPassword(w, r, http.StatusUnprocessableEntity, token, l, f)
		return
	}
	if err := u.Auth.SetPasswordWithLink(r.Context(), token, password); err != nil {
		switch booking.ErrorCode(err) {
		case booking.ENOTFOUND, booking.EGONE:
			u.linkRefused(w, r, err)
			return
		case booking.EINVALID:
			if errDetail(err, "field") == "password" {
				f.fail("password", fmt.Sprintf(translate(lang, "admin.err_password"), auth.MinPasswordLength))
				u.renderPassword(w, r, http.StatusUnprocessableEntity, token, l, f)
				return
			}
		}
		u.refuseForm(lang, f, err)
		u.renderPassword(w, r, refusedStatus(err), token, l, f)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: passwordCSRFCookie, Value: "", Path: "/password/", MaxAge: -1})
	u.setFlash(w, r, "ok", fmt.Sprintf(translate(lang, "admin.password_set"), l.Email))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// requestReset asks for a reset link by email from the sign-in page. The answer is the
// same whether the email is known or not.
func (u *UI) requestReset(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	if err := parseForm(w, r); err != nil {
		u.renderLoginNotice(w, r, http.StatusBadRequest, "error", translate(lang, "login.bad_form"))
		return
	}
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || c.Value == "" || c.Value != r.PostForm.Get("csrf_token") {
		u.renderLoginNotice(w, r, http.StatusForbidden, "error", translate(lang, "login.csrf"))
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	if !emailShape.MatchString(email) || len(email) > 254 {
		u.renderLoginNotice(w, r, http.StatusUnprocessableEntity, "error", translate(lang, "admin.err_email"))
		return
	}
	if u.api != nil && u.api.LoginLimited(w, r, email) {
		u.renderLoginNotice(w, r, http.StatusTooManyRequests, "error", translate(lang, "login.rate_limited"))
		return
	}
	if err := u.Auth.RequestPasswordReset(r.Context(), email); err != nil {
		u.Logger.Error("password reset request", "err", err)
		u.renderLoginNotice(w, r, httpapi.StatusOf(err), "error", translate(lang, "login.unavailable"))
		return
	}
	u.renderLoginNotice(w, r, http.StatusOK, "ok", translate(lang, "admin.reset_sent"))
}

// renderLoginNotice shows the sign-in form with a notice at its top.
func (u *UI) renderLoginNotice(w http.ResponseWriter, r *http.Request, status int, kind, text string) {
	token := auth.NewSecret(32)
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: token, Path: "/login", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: u.secure(r), MaxAge: 3600})
	u.render(w, r, "login.html", status, page{Title: translate(language(r), "login.title"), CSRF: token, Next: "/",
		Flash: &flash{Kind: kind, Text: text}})
}
