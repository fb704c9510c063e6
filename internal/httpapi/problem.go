package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"

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

// writeError answers err as problem+json. Internal errors are logged with their cause
// and shown only as a generic message.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := booking.ErrorCode(err)
	status, ok := statusByCode[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "err", err, "code", code,
			"request_id", middleware.GetReqID(r.Context()))
	}
	p := Problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Code:      code,
		Detail:    booking.ErrorMessage(err),
		Instance:  r.URL.Path,
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
