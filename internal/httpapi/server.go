// Package httpapi is posthub's HTTP surface on chi: the routes of the JSON API and the
// pages mounted beside it, the one policy table that says who may call each,
// authentication by bearer token or session cookie, CSRF and rate limits, and
// problem+json errors.
package httpapi

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/live"
	"github.com/posthub/posthub/internal/metrics"
)

// SessionCookie is the name of the web session cookie.
const SessionCookie = "posthub_session"

// Limits are the rate limits; the zero value takes the defaults.
//
// They are counted in each process's memory: with N processes serving the API behind
// a load balancer, a caller may make up to N times these requests (fewer if the
// balancer keeps a client on one process). A limiter shared through PostgreSQL would
// cost a write per request; it is not built.
type Limits struct {
	// PerCredential is the requests a token or session may make per minute (600).
	PerCredential int
	// PerUser is the requests all of a user's tokens and sessions together may make
	// per minute (1200), so minting more tokens buys no more requests, while one
	// runaway script cannot spend the budget of the user's other credentials alone.
	PerUser int
	// LoginPerIP and LoginPerEmail are login attempts per minute.
	LoginPerIP, LoginPerEmail int
}

// Server holds what the handlers need. Build it with its fields, then call Handler.
type Server struct {
	Catalogue booking.Catalogue
	Auth      booking.Auth
	Audit     booking.Auditor
	Bookings  booking.Bookings
	Blocks    booking.Blocks
	Calendars booking.Calendars
	Plans     booking.Plans
	Replans   booking.Replans
	// Notifications is the in-app feed and the organisations' webhooks.
	Notifications booking.Notifications
	// Utilisation is the capacity figures and job queue counts for operators.
	Utilisation booking.Utilisation
	// Coproduction is rate cards and quotes, the treaty report, ring-fences and
	// iCalendar feeds.
	Coproduction booking.Coproduction
	// Changes is the booking change log that GET /api/v1/events streams.
	Changes booking.Changes
	// PublicURL is where people reach the hub, for the feed URLs it hands out; empty
	// takes the request's own host.
	PublicURL string
	// OpsJobs is River's own UI, mounted at /ops/jobs/ for operators and admins.
	OpsJobs http.Handler
	// Metrics records HTTP traffic and serves /metrics; nil records nothing.
	Metrics *metrics.Metrics
	// TrustedProxies are the load balancers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Idempotency remembers answers to POSTs sent with an Idempotency-Key.
	Idempotency booking.Idempotency
	// Ready reports whether the service can take traffic (database up, schema current).
	Ready     func(context.Context) error
	Logger    *slog.Logger
	Version   string
	TZVersion string
	// SecureCookies marks cookies Secure even on plain HTTP (set when a TLS proxy is in
	// front); cookies on requests that came over TLS are always Secure.
	SecureCookies bool
	Limits        Limits
	// Mount registers further routes (the web UI) through the same policy table.
	Mount []func(*Router)
	// ErrorPage, when set (the web UI sets it as it mounts), answers a browser's
	// requests that fail outside the API as a page instead of problem+json (WantsPage).
	ErrorPage ErrorPage
	// Policies overrides the policy table; nil means the package's Policies. Tests use
	// it to show that a route without a policy cannot be registered.
	Policies map[string]Policy

	hub           *live.Hub // the process's reader of the change log (events.go)
	perCredential *httprate.RateLimiter
	perUser       *httprate.RateLimiter
	loginIP       *httprate.RateLimiter
	loginEmail    *httprate.RateLimiter
}

// actorKey carries the authenticated Actor in a request's context; sessionKey the
// session, when the caller came with a cookie.
type (
	actorKey   struct{}
	sessionKey struct{}
)

// ActorFrom returns the authenticated caller of a request.
func ActorFrom(ctx context.Context) (booking.Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(booking.Actor)
	return a, ok
}

// SessionFrom returns the web session of a request authenticated by cookie.
func SessionFrom(ctx context.Context) (booking.Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(booking.Session)
	return s, ok
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// Handler builds the router. It panics if a route has no policy, so a route cannot be
// born without one.
func (s *Server) Handler() http.Handler {
	s.perCredential = httprate.NewRateLimiter(orDefault(s.Limits.PerCredential, 600), time.Minute)
	// The X-RateLimit-* headers describe the credential's budget; the user's sets only
	// Retry-After, when it is the one that refuses.
	s.perUser = httprate.NewRateLimiter(orDefault(s.Limits.PerUser, 1200), time.Minute,
		httprate.WithResponseHeaders(httprate.ResponseHeaders{RetryAfter: "Retry-After"}))
	s.loginIP = httprate.NewRateLimiter(orDefault(s.Limits.LoginPerIP, 20), time.Minute)
	s.loginEmail = httprate.NewRateLimiter(orDefault(s.Limits.LoginPerEmail, 5), time.Minute)

	s.hub = s.newHub()
	r := chi.NewRouter()
	r.Use(middleware.RequestID, s.requestMeta, s.errorPages, s.logRequests, s.recoverer, s.crossOrigin)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.Logger, booking.Errorf(booking.ENOTFOUND, "No such route."))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.Logger, booking.Errorf(booking.EMETHOD, "Method not allowed on this route."))
	})
	rt := &Router{mux: r, s: s}
	rt.Handle("GET", "/healthz", s.healthz)
	rt.Handle("GET", "/readyz", s.readyz)
	rt.Handle("GET", "/openapi.json", s.openAPI)
	rt.Handle("GET", "/metrics", s.serveMetrics)
	rt.Handle("GET", "/api/v1/me", s.me)
	rt.Handle("GET", "/api/v1/sites", s.listSites)
	rt.Handle("GET", "/api/v1/sites/{id}", s.getSite)
	rt.Handle("GET", "/api/v1/resources", s.listResources)
	rt.Handle("GET", "/api/v1/resources/{id}", s.getResource)
	rt.Handle("GET", "/api/v1/productions", s.listProductions)
	rt.Handle("POST", "/api/v1/productions", s.createProduction)
	rt.Handle("GET", "/api/v1/productions/{id}", s.getProduction)
	rt.Handle("PUT", "/api/v1/productions/{id}/membership", s.putMembership)
	rt.Handle("GET", "/api/v1/tokens", s.listTokens)
	rt.Handle("POST", "/api/v1/tokens", s.createToken)
	rt.Handle("DELETE", "/api/v1/tokens/{id}", s.revokeToken)
	rt.Handle("GET", "/api/v1/users", s.listUsers)
	rt.Handle("POST", "/api/v1/users", s.createUser)
	rt.Handle("GET", "/api/v1/audit", s.listAudit)
	rt.Handle("POST", "/api/v1/sites", s.createSite)
	rt.Handle("PATCH", "/api/v1/sites/{id}", s.updateSite)
	rt.Handle("POST", "/api/v1/resources", s.createResource)
	rt.Handle("PATCH", "/api/v1/resources/{id}", s.updateResource)
	rt.Handle("GET", "/api/v1/organisations", s.listOrganisations)
	rt.Handle("POST", "/api/v1/organisations", s.createOrganisation)
	rt.Handle("PATCH", "/api/v1/organisations/{id}", s.updateOrganisation)
	rt.Handle("PATCH", "/api/v1/productions/{id}", s.updateProduction)
	rt.Handle("PATCH", "/api/v1/users/{id}", s.updateUser)
	rt.Handle("POST", "/api/v1/users/{id}/invite", s.inviteUser)
	rt.Handle("POST", "/api/v1/password-resets", s.requestPasswordReset)
	rt.Handle("POST", "/api/v1/password/{token}", s.setPassword)
	rt.Handle("GET", "/api/v1/sites/{id}/policy", s.getSitePolicy)
	rt.Handle("PUT", "/api/v1/sites/{id}/policy", s.putSitePolicy)
	rt.Handle("GET", "/api/v1/bookings", s.listBookings)
	rt.Handle("POST", "/api/v1/bookings", s.createBooking)
	rt.Handle("GET", "/api/v1/bookings/{id}", s.getBooking)
	rt.Handle("PATCH", "/api/v1/bookings/{id}", s.rescheduleBooking)
	rt.Handle("DELETE", "/api/v1/bookings/{id}/working-time-review", s.markReviewed)
	for _, act := range []booking.Action{booking.ActionConfirm, booking.ActionRelease, booking.ActionDecline, booking.ActionCancel} {
		rt.Handle("POST", "/api/v1/bookings/{id}/"+string(act), s.actOnBooking(act))
	}
	rt.Handle("GET", "/api/v1/sites/{id}/calendar", s.getCalendar)
	rt.Handle("PUT", "/api/v1/sites/{id}/calendar/week", s.putWeek)
	rt.Handle("POST", "/api/v1/sites/{id}/calendar/overrides", s.addOverride)
	rt.Handle("DELETE", "/api/v1/calendar/overrides/{id}", s.deleteOverride)
	rt.Handle("POST", "/api/v1/holidays", s.addHoliday)
	rt.Handle("POST", "/api/v1/holidays/{id}/confirm", s.confirmHoliday)
	rt.Handle("DELETE", "/api/v1/holidays/{id}", s.deleteHoliday)
	rt.Handle("GET", "/api/v1/plan-templates", s.planTemplates)
	rt.Handle("POST", "/api/v1/plans", s.proposePlan)
	rt.Handle("GET", "/api/v1/plans", s.listPlans)
	rt.Handle("POST", "/api/v1/plans/{id}/confirm", s.confirmPlan)
	rt.Handle("GET", "/api/v1/plans/{id}", s.getPlan)
	rt.Handle("POST", "/api/v1/plans/{id}/accept", s.acceptPlan)
	rt.Handle("POST", "/api/v1/plans/{id}/replan-remaining", s.replanRemaining)
	rt.Handle("POST", "/api/v1/replans", s.proposeReplan)
	rt.Handle("POST", "/api/v1/replans/{id}/apply", s.applyReplan)
	rt.Handle("GET", "/api/v1/availability", s.availability)
	rt.Handle("GET", "/api/v1/working-time", s.workingTime)
	rt.Handle("GET", "/api/v1/utilisation", s.utilisation)
	rt.Handle("GET", "/api/v1/notifications", s.listNotifications)
	rt.Handle("GET", "/api/v1/events", s.streamEvents)
	rt.Handle("POST", "/api/v1/notifications/read", s.markNotificationsRead)
	rt.Handle("GET", "/api/v1/webhooks", s.listWebhooks)
	rt.Handle("POST", "/api/v1/webhooks", s.createWebhook)
	rt.Handle("DELETE", "/api/v1/webhooks/{id}", s.deleteWebhook)
	ops := s.OpsJobs
	if ops == nil {
		ops = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, r, s.Logger, booking.Errorf(booking.ENOTFOUND, "The job queue UI is not mounted in this process."))
		})
	}
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		rt.Handle(m, "/ops/jobs/*", ops.ServeHTTP)
	}
	rt.Handle("GET", "/ops/jobs", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ops/jobs/", http.StatusMovedPermanently)
	})
	rt.Handle("GET", "/api/v1/blocks", s.listBlocks)
	rt.Handle("POST", "/api/v1/blocks", s.createBlock)
	rt.Handle("DELETE", "/api/v1/blocks/{id}", s.deleteBlock)
	// Co-production: rate cards, exchange rates, quotes, the treaty report,
	// ring-fences and iCalendar feeds.
	rt.Handle("GET", "/api/v1/rate-cards", s.copro(s.listRateCards))
	rt.Handle("POST", "/api/v1/rate-cards", s.copro(s.createRateCard))
	rt.Handle("DELETE", "/api/v1/rate-cards/{id}", s.copro(s.deleteRateCard))
	rt.Handle("GET", "/api/v1/exchange-rates", s.copro(s.listExchangeRates))
	rt.Handle("POST", "/api/v1/exchange-rates", s.copro(s.createExchangeRate))
	rt.Handle("GET", "/api/v1/quotes", s.copro(s.listQuotes))
	rt.Handle("POST", "/api/v1/quotes", s.copro(s.createQuote))
	rt.Handle("GET", "/api/v1/quotes/{id}", s.copro(s.getQuote))
	rt.Handle("GET", "/api/v1/reports/treaty", s.copro(s.treatyReport))
	rt.Handle("GET", "/api/v1/ring-fences", s.copro(s.listRingFences))
	rt.Handle("POST", "/api/v1/ring-fences", s.copro(s.createRingFence))
	rt.Handle("DELETE", "/api/v1/ring-fences/{id}", s.copro(s.deleteRingFence))
	rt.Handle("GET", "/api/v1/ical-feeds", s.copro(s.listFeeds))
	rt.Handle("POST", "/api/v1/ical-feeds", s.copro(s.createFeed))
	rt.Handle("DELETE", "/api/v1/ical-feeds/{id}", s.copro(s.revokeFeed))
	rt.Handle("GET", "/ical/{token}.ics", s.copro(s.icalFeed))
	for _, m := range s.Mount {
		m(rt)
	}
	return r
}

// Router registers handlers behind their policy.
type Router struct {
	mux chi.Router
	s   *Server
}

// Handle registers h for method and pattern behind the route's policy; it panics when
// the policy table has no entry for the route.
func (rt *Router) Handle(method, pattern string, h http.HandlerFunc) {
	table := rt.s.Policies
	if table == nil {
		table = Policies
	}
	p, ok := table[method+" "+pattern]
	if !ok {
		panic("httpapi: route " + method + " " + pattern + " has no policy in the policy table")
	}
	if method == http.MethodPost && strings.HasPrefix(pattern, "/api/") {
		h = rt.s.idempotent(p.SecretAnswer, h)
	}
	// Every value the request carries is checked before anything reads it (input.go).
	rt.mux.Method(method, pattern, rt.s.cleanInput(rt.s.authorize(p, h)))
	// The route's HTTP series, at zero until its first request. Requests are labelled
	// with chi's route pattern, which is this pattern
	// (TestRequestsCountOnTheSeriesTheirRouteStartsWith).
	rt.s.Metrics.InitRoute(pattern, method)
}

// Server returns the server the router belongs to, so mounted pages can share its
// error writer and session handling.
func (rt *Router) Server() *Server { return rt.s }

// authorize enforces a route's policy: 401 without valid credentials (a page redirects
// to the login form instead), 403 for a role the policy does not list, 429 past the
// credential's or its user's rate limit, and a CSRF token on every unsafe request made
// with a cookie.
func (s *Server) authorize(p Policy, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.Public {
			// A public page still knows who is signed in, e.g. to greet them.
			if sess, ok := s.sessionFromCookie(r); ok {
				r = r.WithContext(context.WithValue(context.WithValue(r.Context(), sessionKey{}, sess), actorKey{}, sess.Actor))
			}
			next(w, r)
			return
		}
		a, sess, err := s.authenticate(r)
		if err != nil {
			if p.Page && booking.ErrorCode(err) == booking.EUNAUTHORIZED {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			if booking.ErrorCode(err) == booking.EUNAUTHORIZED {
				w.Header().Set("WWW-Authenticate", `Bearer realm="posthub"`)
			}
			writeError(w, r, s.Logger, err)
			return
		}
		if s.perCredential.OnLimit(w, r, a.Credential) || s.perUser.OnLimit(w, r, a.UserID.String()) {
			writeError(w, r, s.Logger, booking.Errorf(booking.ERATELIMITED, "Too many requests; retry later."))
			return
		}
		ctx := context.WithValue(r.Context(), actorKey{}, a)
		if sess != nil {
			// River's UI sends no CSRF token; its routes rely on the cross-origin check.
			if !safeMethod(r.Method) && !p.OriginCheckOnly && !validCSRF(r, sess.CSRFToken) {
				writeError(w, r.WithContext(ctx), s.Logger, booking.Errorf(booking.EFORBIDDEN, "The form's CSRF token is missing or wrong; reload the page."))
				return
			}
			ctx = context.WithValue(ctx, sessionKey{}, *sess)
		}
		if !p.Allows(a.Role) {
			// The refusal knows who asked, so a page can show them where they may go.
			writeError(w, r.WithContext(ctx), s.Logger, booking.Errorf(booking.EFORBIDDEN, "Your role may not do this."))
			return
		}
		next(w, r.WithContext(ctx))
	})
}

// errorPages lets writeError answer a browser with a page (Server.ErrorPage). An error
// met before the route authenticated anyone (an unknown path, a method the route does
// not take) still shows who is signed in, from the session cookie.
func (s *Server) errorPages(next http.Handler) http.Handler {
	page := ErrorPage(func(w http.ResponseWriter, r *http.Request, status int, err error) {
		if _, ok := ActorFrom(r.Context()); !ok && s.Auth != nil {
			if sess, ok := s.sessionFromCookie(r); ok {
				r = r.WithContext(context.WithValue(context.WithValue(r.Context(), sessionKey{}, sess), actorKey{}, sess.Actor))
			}
		}
		s.ErrorPage(w, r, status, err)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.ErrorPage != nil {
			r = r.WithContext(context.WithValue(r.Context(), errorPageKey{}, page))
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate finds the caller: a bearer token if the request has an Authorization
// header (a wrong one is an error, never a fallback to the cookie), else the session
// cookie.
func (s *Server) authenticate(r *http.Request) (booking.Actor, *booking.Session, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return booking.Actor{}, nil, booking.Errorf(booking.EUNAUTHORIZED, "Use Authorization: Bearer <token>.")
		}
		a, err := s.Auth.AuthenticateToken(r.Context(), strings.TrimSpace(token))
		return a, nil, err
	}
	if sess, ok := s.sessionFromCookie(r); ok {
		return sess.Actor, &sess, nil
	}
	return booking.Actor{}, nil, booking.Errorf(booking.EUNAUTHORIZED, "Authentication required.")
}

func (s *Server) sessionFromCookie(r *http.Request) (booking.Session, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return booking.Session{}, false
	}
	sess, err := s.Auth.AuthenticateSession(r.Context(), c.Value)
	return sess, err == nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// validCSRF checks the synchronizer token a form (field csrf_token) or script
// (header X-CSRF-Token) sends against the session's.
func validCSRF(r *http.Request, want string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf_token")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// crossOrigin refuses unsafe cross-origin browser requests (Sec-Fetch-Site / Origin),
// a second line of defence behind the CSRF tokens, and the only one the login form
// needs beside its own cookie token.
func (s *Server) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.Logger, booking.Errorf(booking.EFORBIDDEN, "Cross-origin request refused."))
	}))
	return cop.Handler(next)
}

// requestMeta puts the request id and client address in the context for the audit log.
func (s *Server) requestMeta(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := booking.WithRequestMeta(r.Context(), booking.RequestMeta{
			RequestID:  middleware.GetReqID(r.Context()),
			RemoteAddr: s.clientIP(r),
		})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// clientIP is the client's address: the peer's, or, when the peer is a trusted proxy,
// the nearest address in X-Forwarded-For that is not a trusted proxy. Rate limits and
// the audit key on it, so forwarded headers are believed only from the proxies named.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !s.trusted(host) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			continue
		}
		if !s.trusted(hop) {
			return hop
		}
		host = hop
	}
	return host
}

func (s *Server) trusted(addr string) bool {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	for _, p := range s.TrustedProxies {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

// logRequests writes one structured line per request. It logs the path without the
// query string and never a header or body, so credentials cannot reach the logs.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		start := time.Now()
		next.ServeHTTP(ww, r)
		route := chi.RouteContext(r.Context()).RoutePattern()
		s.Metrics.ObserveHTTP(route, r.Method, ww.Status(), time.Since(start))
		if ww.Status() == http.StatusConflict && strings.HasPrefix(route, "/api/v1/bookings") {
			s.Metrics.Conflict()
		}
		s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "http request",
			slog.String("request_id", middleware.GetReqID(r.Context())),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", redactPath(r.URL.Path)),
			slog.Int("status", ww.Status()),
			slog.Int("bytes", ww.BytesWritten()),
			slog.Duration("duration", time.Since(start)),
		)
	})
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.ErrorContext(r.Context(), "panic", "panic", v, "request_id", middleware.GetReqID(r.Context()))
				writeError(w, r, s.Logger, booking.Errorf(booking.EINTERNAL, "panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// LoginLimited counts a login attempt against the per-address and per-email limits
// and reports whether it is over either; it sets Retry-After when it is.
func (s *Server) LoginLimited(w http.ResponseWriter, r *http.Request, email string) bool {
	return s.loginIP.OnLimit(w, r, "ip:"+s.clientIP(r)) ||
		s.loginEmail.OnLimit(w, r, "email:"+strings.ToLower(email))
}

// SecureRequest reports whether cookies set on r's answer must be Secure: it came over
// TLS, or a TLS proxy is in front (SecureCookies).
func (s *Server) SecureRequest(r *http.Request) bool { return s.SecureCookies || r.TLS != nil }

// Route is one registered method and pattern.
type Route struct{ Method, Pattern string }

// Routes lists the routes of a handler built by Handler, for the policy test and the
// OpenAPI check.
func Routes(h http.Handler) []Route {
	var out []Route
	_ = chi.Walk(h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, Route{Method: method, Pattern: route})
		return nil
	})
	return out
}

// serveMetrics exposes the Prometheus registry (or an empty answer without one).
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.Metrics == nil {
		writeError(w, r, s.Logger, booking.Errorf(booking.ENOTFOUND, "Metrics are not enabled in this process."))
		return
	}
	s.Metrics.Handler().ServeHTTP(w, r)
}
