package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/posthub/posthub/internal/booking"
)

// statusByCode is the one table from domain error codes to HTTP statuses.
var statusByCode = map[string]int{
	booking.EINVALID:       http.StatusBadRequest,
	booking.EUNAUTHORIZED:  http.StatusUnauthorized,
	booking.EFORBIDDEN:     http.StatusForbidden,
	booking.ENOTFOUND:      http.StatusNotFound,
	booking.EMETHOD:        http.StatusMethodNotAllowed,
	booking.ECONFLICT:      http.StatusConflict,
	booking.EPRECONDITION:  http.StatusPreconditionFailed,
	booking.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	booking.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	booking.EGONE:          http.StatusGone,
	booking.ERATELIMITED:   http.StatusTooManyRequests,
	booking.EINTERNAL:      http.StatusInternalServerError,
	booking.EUNAVAILABLE:   http.StatusServiceUnavailable,
}

// Problem is an RFC 9457 problem document with posthub's stable code.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Code      string         `json:"code"`
	Detail    string         `json:"detail"`
	Instance  string         `json:"instance,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
}

// StatusOf is the HTTP status of an error by the one table: 500 for a code it lacks.
func StatusOf(err error) int {
	if status, ok := statusByCode[booking.ErrorCode(err)]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// ErrorPage shows an error to a person's browser as a page, with the status the one
// table gives it (Server.ErrorPage).
type ErrorPage func(w http.ResponseWriter, r *http.Request, status int, err error)

type errorPageKey struct{}

// WantsPage reports whether an error should be answered as a page rather than as
// problem+json: the request asks for HTML (a browser's navigation or form; fetch and
// API clients do not) and is not for the API.
func WantsPage(r *http.Request) bool {
	p := r.URL.Path
	if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/ops/jobs/api/") || p == "/openapi.json" || p == "/metrics" ||
		p == "/healthz" || p == "/readyz" {
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		typ, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(typ), "text/html") {
			continue
		}
		for _, prm := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(prm), "="); ok && strings.EqualFold(k, "q") {
				if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && q == 0 {
					return false
				}
			}
		}
		return true
	}
	return false
}

// writeError answers err as problem+json, or as a page to a browser when the pages
// are mounted (WantsPage). Internal errors are logged with their cause and shown only
// as a generic message.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := booking.ErrorCode(err)
	status := StatusOf(err)
	if status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "err", err, "code", code,
			"request_id", middleware.GetReqID(r.Context()))
	}
	if page, ok := r.Context().Value(errorPageKey{}).(ErrorPage); ok && page != nil && WantsPage(r) {
		if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "1")
		}
		page(w, r, status, err)
		return
	}
	p := Problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Code:      code,
		Detail:    booking.ErrorMessage(err),
		Instance:  redactPath(r.URL.Path),
		RequestID: middleware.GetReqID(r.Context()),
	}
	if de, ok := err.(*booking.Error); ok && code != booking.EINTERNAL {
		p.Details = de.Details
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		// Contention and restarts pass within seconds.
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON answers v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// list is the envelope of every list answer, so a cursor can be added without
// breaking clients.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}
