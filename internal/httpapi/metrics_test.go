package httpapi_test

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/httpapi"
	"github.com/posthub/posthub/internal/metrics"
	"github.com/posthub/posthub/internal/web"
)

// TestRequestsCountOnTheSeriesTheirRouteStartsWith sends one request to every
// registered route and checks that each is counted on the series the router exported
// at zero when it registered the route, and on no other: the route label a request
// gets (chi's route pattern) is the pattern registered, so the series a dashboard
// shows from the start are those the traffic moves.
func TestRequestsCountOnTheSeriesTheirRouteStartsWith(t *testing.T) {
	t.Parallel()
	m := metrics.New("test", metrics.Known{})
	// No storage: the routes behind a policy answer 401 before reaching it, and the
	// public ones that need it answer 500; either is counted.
	api := &httpapi.Server{Metrics: m, Logger: slog.New(slog.DiscardHandler),
		Mount: []func(*httpapi.Router){(&web.UI{Logger: slog.New(slog.DiscardHandler)}).Register}}
	h := api.Handler()
	counts := func() map[string]uint64 {
		families, err := m.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]uint64{}
		for _, f := range families {
			if f.GetName() != "posthub_http_request_duration_seconds" {
				continue
			}
			for _, s := range f.GetMetric() {
				var route, method string
				for _, l := range s.GetLabel() {
					switch l.GetName() {
					case "route":
						route = l.GetValue()
					case "method":
						method = l.GetValue()
					}
				}
				out[method+" "+route] = s.GetHistogram().GetSampleCount()
			}
		}
		return out
	}
	routes := httpapi.Routes(h)
	before := counts()
	if len(before) != len(routes) {
		t.Errorf("%d routes registered, %d exported at zero", len(routes), len(before))
	}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Pattern
		if n, ok := before[key]; !ok || n != 0 {
			t.Errorf("%s: exported at zero %t, count %d", key, ok, n)
		}
		path := strings.NewReplacer("{id}", uuid.NewString(), "{token}", "x", "*", "posthub.css").Replace(rt.Pattern)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(rt.Method, path, nil))
	}
	after := counts()
	for key, n := range after {
		if _, ok := before[key]; !ok {
			t.Errorf("a request was counted under %s, a series not exported from the start", key)
		} else if n != 1 {
			t.Errorf("%s counted %d requests, want 1", key, n)
		}
	}
}
