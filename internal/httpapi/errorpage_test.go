package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/posthub/posthub/internal/booking"
)

// TestErrorsAsPagesOnlyForBrowsers: a browser's request outside the API gets an error
// as a page, with the one table's status; the API, fetch and clients that do not ask
// for HTML get problem+json.
func TestErrorsAsPagesOnlyForBrowsers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		path, accept string
		want         bool
	}{
		{"/bookings/x", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"/no-such-page", "TEXT/HTML", true},
		{"/no-such-page", "*/*", false},
		{"/no-such-page", "", false},
		{"/no-such-page", "application/json", false},
		{"/no-such-page", "text/html;q=0, */*", false},
		{"/api/v1/bookings", "text/html", false},
		{"/ops/jobs/api/jobs", "text/html", false},
		{"/openapi.json", "text/html", false},
	} {
		r := httptest.NewRequest("GET", c.path, nil)
		if c.accept != "" {
			r.Header.Set("Accept", c.accept)
		}
		if got := WantsPage(r); got != c.want {
			t.Errorf("%s with Accept %q: %v, want %v", c.path, c.accept, got, c.want)
		}
	}
	for code, status := range statusByCode {
		if got := StatusOf(booking.Errorf(code, "x")); got != status {
			t.Errorf("StatusOf(%s) = %d, want %d", code, got, status)
		}
	}
	if got := StatusOf(errors.New("plain")); got != http.StatusInternalServerError {
		t.Errorf("StatusOf(a plain error) = %d", got)
	}

	// writeError hands a browser's error to the page, with the table's status.
	var gotStatus int
	page := ErrorPage(func(w http.ResponseWriter, r *http.Request, status int, err error) {
		gotStatus = status
		w.WriteHeader(status)
	})
	r := httptest.NewRequest("GET", "/plans", nil)
	r.Header.Set("Accept", "text/html")
	r = r.WithContext(context.WithValue(r.Context(), errorPageKey{}, page))
	w := httptest.NewRecorder()
	writeError(w, r, slog.New(slog.DiscardHandler), booking.Errorf(booking.EMETHOD, "no"))
	if gotStatus != http.StatusMethodNotAllowed || w.Code != http.StatusMethodNotAllowed {
		t.Errorf("page status %d, answer %d", gotStatus, w.Code)
	}
	r = httptest.NewRequest("GET", "/api/v1/plans", nil)
	r.Header.Set("Accept", "text/html")
	r = r.WithContext(context.WithValue(r.Context(), errorPageKey{}, page))
	w = httptest.NewRecorder()
	gotStatus = 0
	writeError(w, r, slog.New(slog.DiscardHandler), booking.Errorf(booking.ENOTFOUND, "no"))
	if gotStatus != 0 || w.Code != http.StatusNotFound || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("API: page %d, answer %d %s", gotStatus, w.Code, w.Header().Get("Content-Type"))
	}
}
