// Package httpapi is posthub's JSON API on chi: the routes, the one policy table that
// says who may call each, problem+json errors, and health endpoints.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/posthub/posthub/internal/booking"
)

// Server holds what the handlers need. Build it with its fields, then call Handler.
type Server struct {
	Catalogue booking.Catalogue
	Auth      booking.Authenticator
	// Ready reports whether the service can take traffic (database up, schema current).
	Ready     func(context.Context) error
	Logger    *slog.Logger
	Version   string
	TZVersion string
}

// actorKey carries the authenticated Actor in a request's context.
type actorKey struct{}

// ActorFrom returns the authenticated caller of a request.
func ActorFrom(ctx context.Context) (booking.Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(booking.Actor)
	return a, ok
}

// Handler builds the router. It panics if a route has no policy, so a route cannot be
// born without one.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, s.logRequests, s.recoverer)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.Logger, booking.Errorf(booking.ENOTFOUND, "No such route."))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.Logger, booking.Errorf(booking.EMETHOD, "Method not allowed on this route."))
	})
	rt := &router{mux: r, s: s}
	rt.handle("GET", "/healthz", s.healthz)
	rt.handle("GET", "/readyz", s.readyz)
	rt.handle("GET", "/api/v1/me", s.me)
	rt.handle("GET", "/api/v1/sites", s.listSites)
	rt.handle("GET", "/api/v1/sites/{id}", s.getSite)
	rt.handle("GET", "/api/v1/resources", s.listResources)
	rt.handle("GET", "/api/v1/resources/{id}", s.getResource)
	rt.handle("GET", "/api/v1/productions", s.listProductions)
	rt.handle("GET", "/api/v1/productions/{id}", s.getProduction)
	return r
}

// router registers handlers behind their policy.
type router struct {
	mux chi.Router
	s   *Server
}

func (rt *router) handle(method, pattern string, h http.HandlerFunc) {
	p, ok := Policies[method+" "+pattern]
	if !ok {
		panic("httpapi: route " + method + " " + pattern + " has no policy in the policy table")
	}
	rt.mux.Method(method, pattern, rt.s.authorize(p, h))
}

// authorize enforces a route's policy: 401 without valid credentials, 403 for a role
// the policy does not list.
func (s *Server) authorize(p Policy, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.Public {
			next(w, r)
			return
		}
		token, ok := bearerToken(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="posthub"`)
			writeError(w, r, s.Logger, booking.Errorf(booking.EUNAUTHORIZED, "Authentication required."))
			return
		}
		a, err := s.Auth.AuthenticateToken(r.Context(), token)
		if err != nil {
			if booking.ErrorCode(err) == booking.EUNAUTHORIZED {
				w.Header().Set("WWW-Authenticate", `Bearer realm="posthub", error="invalid_token"`)
			}
			writeError(w, r, s.Logger, err)
			return
		}
		if !p.Allows(a.Role) {
			writeError(w, r, s.Logger, booking.Errorf(booking.EFORBIDDEN, "Your role may not do this."))
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, a)))
	})
}

func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// logRequests writes one structured line per request. It logs the path without the
// query string and never a header, so credentials cannot reach the logs.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		start := time.Now()
		next.ServeHTTP(ww, r)
		route := chi.RouteContext(r.Context()).RoutePattern()
		s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "http request",
			slog.String("request_id", middleware.GetReqID(r.Context())),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", r.URL.Path),
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
