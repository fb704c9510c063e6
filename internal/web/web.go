// Package web is posthub's server-rendered UI: html/template pages, hand-written CSS and
// a little vanilla JavaScript, all embedded. Its routes are registered through the
// httpapi router, so the one policy table covers pages too.
package web

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/posthub/posthub/internal/auth"
	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/httpapi"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// SessionTTL is how long a web session lasts.
const SessionTTL = 12 * time.Hour

// loginCSRFCookie carries the login form's double-submit token: there is no session yet
// to hold a synchronizer token.
const loginCSRFCookie = "posthub_login_csrf"

// UI holds what the pages need.
type UI struct {
	Auth    booking.Auth
	Logger  *slog.Logger
	Version string
	tmpl    map[string]*template.Template
	api     *httpapi.Server
}

// Register mounts the pages on r.
func (u *UI) Register(r *httpapi.Router) {
	u.tmpl = parseTemplates()
	r.Handle("GET", "/login", u.loginForm)
	r.Handle("POST", "/login", u.login)
	r.Handle("POST", "/logout", u.logout)
	r.Handle("GET", "/", u.home)
	r.Handle("GET", "/static/*", staticHandler().ServeHTTP)
	u.api = r.Server()
}

func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	return http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
}

func parseTemplates() map[string]*template.Template {
	funcs := template.FuncMap{"t": func(lang, key string) string { return translate(lang, key) }}
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	out := map[string]*template.Template{}
	for _, name := range []string{"login.html", "home.html"} {
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name))
	}
	return out
}

// page is the data every template gets.
type page struct {
	Lang      string
	Title     string
	CSRF      string
	Actor     *booking.Actor
	Version   string
	Error     string
	Next      string
	Email     string
	Greeting  string
	RoleLabel string
}

func (u *UI) render(w http.ResponseWriter, r *http.Request, name string, status int, p page) {
	p.Lang = language(r)
	p.Version = u.Version
	if sess, ok := httpapi.SessionFrom(r.Context()); ok {
		p.CSRF = sess.CSRFToken
		a := sess.Actor
		p.Actor = &a
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := u.tmpl[name].ExecuteTemplate(w, "layout.html", p); err != nil {
		u.Logger.Error("rendering page", "page", name, "err", err)
	}
}

func (u *UI) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := httpapi.SessionFrom(r.Context()); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	u.renderLogin(w, r, http.StatusOK, "", "")
}

func (u *UI) renderLogin(w http.ResponseWriter, r *http.Request, status int, errKey, email string) {
	token := auth.NewSecret(32)
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: token, Path: "/login", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: u.api.SecureRequest(r), MaxAge: 3600})
	p := page{Title: translate(language(r), "login.title"), CSRF: token, Next: safeNext(r.URL.Query().Get("next")), Email: email}
	if errKey != "" {
		p.Error = translate(language(r), errKey)
	}
	u.render(w, r, "login.html", status, p)
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		u.renderLogin(w, r, http.StatusBadRequest, "login.bad_form", "")
		return
	}
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || c.Value == "" || c.Value != r.PostForm.Get("csrf_token") {
		u.renderLogin(w, r, http.StatusForbidden, "login.csrf", "")
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	if u.api.LoginLimited(w, r, email) {
		u.renderLogin(w, r, http.StatusTooManyRequests, "login.rate_limited", email)
		return
	}
	id, sess, err := u.Auth.Login(r.Context(), email, r.PostForm.Get("password"), SessionTTL)
	if err != nil {
		status := http.StatusUnauthorized
		key := "login.failed"
		if booking.ErrorCode(err) != booking.EUNAUTHORIZED {
			status, key = http.StatusServiceUnavailable, "login.unavailable"
		}
		u.renderLogin(w, r, status, key, email)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: httpapi.SessionCookie, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: u.api.SecureRequest(r), Expires: sess.ExpiresAt})
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: "", Path: "/login", MaxAge: -1})
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	a, _ := httpapi.ActorFrom(r.Context())
	if c, err := r.Cookie(httpapi.SessionCookie); err == nil {
		if err := u.Auth.Logout(r.Context(), a, c.Value); err != nil {
			u.Logger.Error("logout", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: httpapi.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: u.api.SecureRequest(r)})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (u *UI) home(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	a, _ := httpapi.ActorFrom(r.Context())
	lang := language(r)
	u.render(w, r, "home.html", http.StatusOK, page{Title: "posthub", RoleLabel: translate(lang, "role."+string(a.Role))})
}

// safeNext keeps a post-login redirect on this site: only a local absolute path.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}
