// Package metrics holds posthub's Prometheus metrics on a registry of its own: HTTP
// traffic by route pattern, booking transitions and conflicts, notification
// deliveries, and gauges read from the database on an interval (holds by rank, River
// jobs by queue and state, utilisation), plus the embedded tz database's release.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of posthub's collectors. A nil *Metrics records nothing, so
// tests and tools need not build one.
type Metrics struct {
	Registry *prometheus.Registry

	HTTPRequests    *prometheus.CounterVec
	HTTPDuration    *prometheus.HistogramVec
	Transitions     *prometheus.CounterVec
	Conflicts       prometheus.Counter
	TxRetries       *prometheus.CounterVec
	Deliveries      *prometheus.CounterVec
	HoldsByRank     *prometheus.GaugeVec
	Jobs            *prometheus.GaugeVec
	Utilisation     *prometheus.GaugeVec
	TZInfo          *prometheus.GaugeVec
	RefreshFailures prometheus.Counter
}

// New builds the collectors on a fresh registry, with Go and process metrics.
func New(tzVersion string) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.HTTPRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "posthub_http_requests_total",
		Help: "HTTP requests by route pattern, method and status code."}, []string{"route", "method", "code"})
	m.HTTPDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "posthub_http_request_duration_seconds",
		Help:    "HTTP request latency by route pattern and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route", "method"})
	m.Transitions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "posthub_booking_transitions_total",
		Help: "Booking events raised, by kind (hold_placed, confirmed, released, ...)."}, []string{"event"})
	m.Conflicts = prometheus.NewCounter(prometheus.CounterOpts{Name: "posthub_booking_conflicts_total",
		Help: "Booking requests refused with 409 because the slot was taken or blocked."})
	m.TxRetries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "posthub_booking_tx_retries_total",
		Help: "Booking transactions run again (lock_order, deadlock, serialization) or given up with 503 (exhausted)."}, []string{"reason"})
	m.Deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "posthub_notification_deliveries_total",
		Help: "Notification deliveries by channel and outcome (delivered, failed)."}, []string{"channel", "outcome"})
	m.HoldsByRank = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "posthub_holds",
		Help: "Active holds by rank (1, 2, 3+)."}, []string{"rank"})
	m.Jobs = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "posthub_river_jobs",
		Help: "River jobs by queue and state."}, []string{"queue", "state"})
	m.Utilisation = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "posthub_utilisation_ratio",
		Help: "Confirmed booked hours over resource-hours in the coming 7 days, by site and resource kind."}, []string{"site", "kind"})
	m.TZInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "posthub_tzdata_info",
		Help: "The embedded IANA tz database release (value 1)."}, []string{"version"})
	m.RefreshFailures = prometheus.NewCounter(prometheus.CounterOpts{Name: "posthub_metrics_refresh_failures_total",
		Help: "Failed refreshes of the database-derived gauges."})
	m.Registry.MustRegister(m.HTTPRequests, m.HTTPDuration, m.Transitions, m.Conflicts, m.TxRetries, m.Deliveries, m.HoldsByRank,
		m.Jobs, m.Utilisation, m.TZInfo, m.RefreshFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.TZInfo.WithLabelValues(tzVersion).Set(1)
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// ObserveHTTP records one request.
func (m *Metrics) ObserveHTTP(route, method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	m.HTTPRequests.WithLabelValues(route, method, codeLabel(code)).Inc()
	m.HTTPDuration.WithLabelValues(route, method).Observe(d.Seconds())
}

func codeLabel(code int) string {
	const digits = "0123456789"
	if code < 100 || code > 999 {
		return "other"
	}
	return string([]byte{digits[code/100], digits[code/10%10], digits[code%10]})
}

// Conflict counts a refused booking.
func (m *Metrics) Conflict() {
	if m != nil {
		m.Conflicts.Inc()
	}
}

// TxRetry counts a booking transaction run again or given up, by reason.
func (m *Metrics) TxRetry(reason string) {
	if m != nil {
		m.TxRetries.WithLabelValues(reason).Inc()
	}
}

// Transition counts a booking event.
func (m *Metrics) Transition(kind string) {
	if m != nil {
		m.Transitions.WithLabelValues(kind).Inc()
	}
}

// Delivery counts a notification delivery attempt.
func (m *Metrics) Delivery(channel string, err error) {
	if m == nil {
		return
	}
	outcome := "delivered"
	if err != nil {
		outcome = "failed"
	}
	m.Deliveries.WithLabelValues(channel, outcome).Inc()
}

// Refresh reads the database-derived gauges once. The queries are aggregate reads
// over indexed columns, cheap enough for every half minute.
func (m *Metrics) Refresh(ctx context.Context, pool *pgxpool.Pool) error {
	if m == nil {
		return nil
	}
	type row struct {
		A, B string
		V    float64
	}
	read := func(sql string, args ...any) ([]row, error) {
		rows, _ := pool.Query(ctx, sql, args...)
		return pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	}
	holds, err := read(`SELECT CASE WHEN rank >= 3 THEN '3+' ELSE rank::text END, '', count(DISTINCT group_id)::float8
		FROM bookings WHERE status = 'hold' AND rank IS NOT NULL GROUP BY 1`)
	if err != nil {
		return err
	}
	jobs, err := read(`SELECT queue, state::text, count(*)::float8 FROM river_job GROUP BY 1, 2`)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	util, err := read(`
		WITH win AS (SELECT tstzrange($1, $2) AS w),
		     caps AS (SELECT s.slug, r.kind, count(*) AS n FROM resources r JOIN sites s ON s.id = r.site_id WHERE r.active GROUP BY 1, 2),
		     used AS (
		       SELECT s.slug, r.kind,
		              sum(extract(epoch FROM upper(b.during * win.w) - lower(b.during * win.w))) / 3600 AS hours
		       FROM bookings b JOIN resources r ON r.id = b.resource_id JOIN sites s ON s.id = r.site_id, win
		       WHERE b.status = 'confirmed' AND b.during && win.w
		       GROUP BY 1, 2)
		SELECT caps.slug, caps.kind, coalesce(used.hours, 0) / (caps.n * 7 * 24)
		FROM caps LEFT JOIN used USING (slug, kind)`, now, now.Add(7*24*time.Hour))
	if err != nil {
		return err
	}
	m.HoldsByRank.Reset()
	for _, r := range holds {
		m.HoldsByRank.WithLabelValues(r.A).Set(r.V)
	}
	m.Jobs.Reset()
	for _, r := range jobs {
		m.Jobs.WithLabelValues(r.A, r.B).Set(r.V)
	}
	m.Utilisation.Reset()
	for _, r := range util {
		m.Utilisation.WithLabelValues(r.A, r.B).Set(r.V)
	}
	return nil
}

// RefreshEvery refreshes the gauges until ctx ends.
func (m *Metrics) RefreshEvery(ctx context.Context, pool *pgxpool.Pool, every time.Duration, log *slog.Logger) {
	if m == nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := m.Refresh(ctx, pool); err != nil && ctx.Err() == nil {
			m.RefreshFailures.Inc()
			log.Warn("refreshing metrics", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
