// Package web is posthub's server-rendered UI: html/template pages, hand-written CSS and
// a little vanilla JavaScript, all embedded; charts and timelines are SVG drawn in Go.
// Its routes are registered through the httpapi router, so the one policy table covers
// pages too.
package web

import (
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

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

// flashCookie carries the outcome of a form to the page it redirects to.
const flashCookie = "posthub_flash"

// UI holds what the pages need. Services left nil are taken from the httpapi.Server
// the pages are mounted on.
type UI struct {
	Auth          booking.Auth
	Catalogue     booking.Catalogue
	Bookings      booking.Bookings
	Blocks        booking.Blocks
	Calendars     booking.Calendars
	Notifications booking.Notifications
	Utilisation   booking.Utilisation
	Plans         booking.Plans
	// History is bookings' audit trail and People names users; nil takes them from
	// Bookings when it has them.
	History booking.BookingHistory
	People  booking.People
	Logger  *slog.Logger
	Version string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	tmpl map[string]*template.Template
	api  *httpapi.Server
}

// pages lists the page templates; each is parsed with layout.html.
var pages = []string{"login.html", "home.html", "productions.html", "bookings.html", "booking_new.html",
	"notifications.html", "queue.html", "timeline.html", "calendar.html", "ops.html", "plan_new.html", "plan.html"}

// Register mounts the pages on r.
func (u *UI) Register(r *httpapi.Router) {
	u.api = r.Server()
	u.defaults()
	u.tmpl = parseTemplates()
	r.Handle("GET", "/login", u.loginForm)
	r.Handle("POST", "/login", u.login)
	r.Handle("POST", "/logout", u.logout)
	r.Handle("GET", "/", u.home)
	r.Handle("GET", "/static/*", staticHandler().ServeHTTP)

	// Producers (and the managers and admins who act for them).
	r.Handle("GET", "/productions", u.productions)
	r.Handle("GET", "/bookings", u.bookings)
	r.Handle("GET", "/bookings/new", u.newBooking)
	r.Handle("POST", "/bookings", u.createBooking)
	for _, act := range []booking.Action{booking.ActionConfirm, booking.ActionRelease, booking.ActionCancel, booking.ActionDecline} {
		r.Handle("POST", "/bookings/{id}/"+string(act), u.actOnBooking(act))
	}
	r.Handle("POST", "/bookings/{id}/reschedule", u.reschedule)
	r.Handle("GET", "/plans/new", u.newPlan)
	r.Handle("POST", "/plans", u.createPlan)
	r.Handle("GET", "/plans/{id}", u.showPlan)
	r.Handle("POST", "/plans/{id}/accept", u.acceptPlan)
	r.Handle("GET", "/notifications", u.notifications)
	r.Handle("POST", "/notifications/read", u.markRead)

	// Studio managers.
	r.Handle("GET", "/manage/queue", u.queue)
	r.Handle("POST", "/manage/bookings/{id}/reviewed", u.markReviewed)
	r.Handle("POST", "/manage/productions/{id}/membership", u.setMembership)
	r.Handle("GET", "/manage/timeline", u.timeline)
	u.registerBoard(r) // the scheduling board, /manage/board (board.go)
	r.Handle("GET", "/manage/calendar", u.calendarPage)
	r.Handle("POST", "/manage/sites/{id}/policy", u.updatePolicy)
	r.Handle("POST", "/manage/holidays/{id}/confirm", u.confirmHoliday)
	r.Handle("POST", "/manage/holidays/{id}/delete", u.deleteHoliday)

	// Quotes and the treaty report.
	u.registerCoproduction(r)

	// A booking's page, the lists of plans, confirming a plan, and error pages
	// (bookingpage.go).
	u.registerBookingPages(r)

	// Calendar editing (calendar_edit.go) and the productions' forms (productions.go).
	u.registerCalendarEdit(r)
	u.registerProductionForms(r)

	// The administration, tokens, webhooks and password links (admin*.go).
	u.registerAdmin(r)

	// Operators.
	r.Handle("GET", "/ops", u.ops)
	r.Handle("GET", "/ops/utilisation.csv", u.opsCSV)
}

// defaults takes the services not given from the server.
func (u *UI) defaults() {
	defer func() {
		if h, ok := u.Bookings.(booking.BookingHistory); ok && u.History == nil {
			u.History = h
		}
		if p, ok := u.Bookings.(booking.People); ok && u.People == nil {
			u.People = p
		}
	}()
	s := u.api
	if s == nil {
		return
	}
	if u.Auth == nil {
		u.Auth = s.Auth
	}
	if u.Catalogue == nil {
		u.Catalogue = s.Catalogue
	}
	if u.Bookings == nil {
		u.Bookings = s.Bookings
	}
	if u.Blocks == nil {
		u.Blocks = s.Blocks
	}
	if u.Calendars == nil {
		u.Calendars = s.Calendars
	}
	if u.Notifications == nil {
		u.Notifications = s.Notifications
	}
	if u.Utilisation == nil {
		u.Utilisation = s.Utilisation
	}
	if u.Plans == nil {
		u.Plans = s.Plans
	}
	if u.Logger == nil {
		u.Logger = s.Logger
	}
}

func (u *UI) now() time.Time {
	if u.Now != nil {
		return u.Now()
	}
	return time.Now()
}

func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}

func parseTemplates() map[string]*template.Template {
	funcs := template.FuncMap{
		"t":  func(lang, key string) string { return translate(lang, key) },
		"tf": func(lang, key string, args ...any) string { return fmt.Sprintf(translate(lang, key), args...) },
		// tn is a message with a count, in the plural form for it: {{tn .Lang "ops.resources" 3}}.
		"tn": func(lang, key string, n int) string { return fmt.Sprintf(translateN(lang, key, n), n) },
		"pct": func(v float64) string {
			return fmt.Sprintf("%.0f%%", v*100)
		},
		"hours": formatHours,
		"kind":  kindLabel,
		"deref": func(b *bool) bool { return b != nil && *b },
		"nums":  func(n ...int) []int { return n },
		// dict passes several values to a shared template: dict "P" $ "B" .
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict needs key and value pairs")
			}
			m := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict keys are strings")
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
	}
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html"))
	out := map[string]*template.Template{}
	for _, name := range pages {
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name))
	}
	return out
}

// navItem is a link of the navigation bar.
type navItem struct {
	Href, Label string
	Current     bool
	Badge       int
	// NewTab opens the link in a tab of its own: River's job UI has no way back.
	NewTab bool
}

// flash is the outcome of the last form, shown once.
type flash struct {
	Kind string `json:"k"` // ok or error
	Text string `json:"t"`
}

// page is the data every template gets; Data is the page's own.
type page struct {
	Lang      string
	Title     string
	CSRF      string
	Actor     *booking.Actor
	Version   string
	Error     string
	Next      string
	Email     string
	RoleLabel string
	// Name is the signed-in person's name, to greet them (their email without one).
	Name string
	// NewTabHint says a link opens in a tab of its own.
	NewTabHint string
	Nav        []navItem
	// Planner is the "Request a plan" link (layout.html's nav_planner block), for
	// those who may plan.
	Planner *navItem
	Flash   *flash
	// Langs are this page in the other languages.
	Langs []langLink
	// Back is this page's own address, for forms to come back to.
	Back string
	Data any
}

func (u *UI) render(w http.ResponseWriter, r *http.Request, name string, status int, p page) {
	p.Lang = language(r)
	p.Version = u.Version
	if sess, ok := httpapi.SessionFrom(r.Context()); ok {
		p.CSRF = sess.CSRFToken
	}
	if a, ok := httpapi.ActorFrom(r.Context()); ok && name != "login.html" {
		p.Actor = &a
		p.RoleLabel = translate(p.Lang, "role."+string(a.Role))
		p.Name = a.Email
		if u.People != nil && a.UserID != uuid.Nil {
			if n, err := u.People.UserName(r.Context(), a.UserID); err == nil {
				p.Name = n
			}
		}
		p.Nav = u.nav(r, a, p.Lang)
		p.Planner = u.plannerNav(r, a, p.Lang)
	}
	p.Langs = langLinks(r, p.Lang)
	p.NewTabHint = translate(p.Lang, "ops.jobs_new_tab")
	p.Back = r.URL.RequestURI()
	if f := readFlash(w, r); f != nil {
		p.Flash = f
	}
	// The language switch sticks: ?lang= sets the cookie that later pages read, and
	// becomes the signed-in person's language, which their mails are written in.
	if l := r.URL.Query().Get("lang"); catalog.Supported(l) {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			SameSite: http.SameSiteLaxMode, Secure: u.secure(r)})
		u.keepLanguage(r, l)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	if err := u.tmpl[name].ExecuteTemplate(w, "layout.html", p); err != nil {
		u.Logger.Error("rendering page", "page", name, "err", err)
	}
}

func (u *UI) secure(r *http.Request) bool { return u.api != nil && u.api.SecureRequest(r) }

// nav builds the navigation for the actor's role.
func (u *UI) nav(r *http.Request, a booking.Actor, lang string) []navItem {
	var items []navItem
	add := func(href, key string, roles ...booking.Role) {
		for _, x := range roles {
			if x == a.Role {
				items = append(items, navItem{Href: href, Label: translate(lang, key),
					Current: r.URL.Path == href || (href != "/" && strings.HasPrefix(r.URL.Path, href+"/") && href != "/bookings" &&
						!(href == "/plans" && r.URL.Path == "/plans/new"))})
				return
			}
		}
	}
	const (
		ad, ma, op, pr = booking.RoleAdmin, booking.RoleManager, booking.RoleOperator, booking.RoleProducer
	)
	add("/", "nav.dashboard", ad, ma, op, pr)
	add("/productions", "nav.productions", ad, ma, op, pr)
	add("/bookings", "nav.bookings", ad, ma, pr)
	add("/bookings/new", "nav.new_booking", ad, ma, pr)
	if u.Plans != nil {
		add("/plans", "nav.plans", ad, ma, pr)
	}
	// The planner's "Request a plan" link is plannerNav's, drawn by the nav_planner
	// block in layout.html.
	add("/manage/queue", "nav.queue", ad, ma)
	add("/manage/board", "nav.board", ad, ma)
	add("/manage/timeline", "nav.timeline", ad, ma)
	add("/manage/calendar", "nav.calendar", ad, ma)
	add("/ops", "nav.ops", ad, op)
	add("/reports/treaty", "nav.treaty", ad, ma, op)
	add("/ops/jobs/", "nav.jobs", ad, op)
	if n := len(items); n > 0 && items[n-1].Href == "/ops/jobs/" {
		items[n-1].NewTab = true
	}
	add("/admin", "nav.admin", ad, ma)
	add("/webhooks", "nav.webhooks", pr)
	add("/notifications", "nav.notifications", ad, ma, op, pr)
	if u.Notifications != nil {
		if n, err := u.Notifications.UnreadCount(r.Context(), a); err == nil {
			items[len(items)-1].Badge = n
		}
	}
	return items
}

// plannerNav is the "Request a plan" link, for producers and the managers and admins
// who act for them; nil for others or without a planner.
func (u *UI) plannerNav(r *http.Request, a booking.Actor, lang string) *navItem {
	if u.Plans == nil || (a.Role != booking.RoleProducer && a.Role != booking.RoleManager && a.Role != booking.RoleAdmin) {
		return nil
	}
	return &navItem{Href: "/plans/new", Label: translate(lang, "nav.request_plan"), Current: r.URL.Path == "/plans/new"}
}

// setFlash leaves a message for the next page.
func (u *UI) setFlash(w http.ResponseWriter, r *http.Request, kind, text string) {
	raw, _ := json.Marshal(flash{Kind: kind, Text: text})
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString(raw), Path: "/",
		MaxAge: 120, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: u.secure(r)})
}

// readFlash takes the message left for this page, once.
func readFlash(w http.ResponseWriter, r *http.Request) *flash {
	c, err := r.Cookie(flashCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil
	}
	var f flash
	if json.Unmarshal(raw, &f) != nil || f.Text == "" || (f.Kind != "ok" && f.Kind != "error") {
		return nil
	}
	return &f
}

// done ends a form: a flash message and a redirect to the page the form came from.
func (u *UI) done(w http.ResponseWriter, r *http.Request, fallback, kind, text string) {
	u.setFlash(w, r, kind, text)
	back := r.PostFormValue("back")
	if back == "" {
		back = fallback
	}
	http.Redirect(w, r, safeNext(back), http.StatusSeeOther)
}

// failed ends a form that the service refused, with the reason in words (and for a
// clash, what is in the way).
func (u *UI) failed(w http.ResponseWriter, r *http.Request, fallback string, err error) {
	u.done(w, r, fallback, "error", u.explain(r, err))
}

// errorText says what went wrong: the code in the page's language, then the
// service's own explanation. Internal errors are logged and never detailed.
func (u *UI) errorText(lang string, err error) string {
	code := booking.ErrorCode(err)
	if code == booking.EINTERNAL || code == booking.EUNAVAILABLE {
		u.Logger.Error("page action failed", "err", err)
		return translate(lang, "error."+code)
	}
	return translate(lang, "error."+code) + " " + booking.ErrorMessage(err)
}

// parseForm reads a posted form of at most 64 KiB.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	return r.ParseForm()
}

func actor(r *http.Request) booking.Actor {
	a, _ := httpapi.ActorFrom(r.Context())
	return a
}

// pageError shows a page that could not be built, with the reason in words and the
// status the one error table (httpapi.StatusOf) gives it.
func (u *UI) pageError(w http.ResponseWriter, r *http.Request, title string, err error) {
	u.renderError(w, r, httpapi.StatusOf(err), title, u.errorText(language(r), err))
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
		SameSite: http.SameSiteStrictMode, Secure: u.secure(r), MaxAge: 3600})
	p := page{Title: translate(language(r), "login.title"), CSRF: token, Next: safeNext(r.URL.Query().Get("next")), Email: email}
	if errKey != "" {
		p.Error = translate(language(r), errKey)
	}
	u.render(w, r, "login.html", status, p)
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
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
		SameSite: http.SameSiteLaxMode, Secure: u.secure(r), Expires: sess.ExpiresAt})
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
		SameSite: http.SameSiteLaxMode, Secure: u.secure(r)})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
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
