// Package metrics holds posthub's Prometheus metrics on a registry of its own: HTTP
// traffic by route pattern, booking transitions and conflicts, notification
// deliveries, and gauges read from the database on an interval (holds by rank, River
// jobs by queue and state, utilisation), plus the embedded tz database's release.
//
// Every series the dashboard and the alert rules (deploy/) query is exported from the
// first scrape, at zero where nothing has happened yet: a panel over a series that
// does not exist says "no data" instead of 0, and rate() misses a counter's first
// increment when the series is born with it. The label values known in advance are
// this package's own (holds' ranks, delivery channels and outcomes, River's job
// states) or given to New (queues, event kinds, retry reasons) and InitRoute (the
// routes the router registers).
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river/rivertype"

	"github.com/posthub/posthub/internal/booking"
)

// The notification channels whose deliveries Delivery counts: those that leave the hub
// and can fail.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
)

// Known are the label values, named outside this package, that exist before anything
// happens; New exports their series at zero.
type Known struct {
	Queues       []string // River's queues (posthub_river_jobs, with every job state)
	Events       []string // booking event kinds (posthub_booking_transitions_total)
	RetryReasons []string // why a booking transaction runs again (posthub_booking_tx_retries_total)
}

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
	DueOverdue      prometheus.Gauge
	Utilisation     *prometheus.GaugeVec
	TZInfo          *prometheus.GaugeVec
	RefreshFailures prometheus.Counter

	refreshMu                 sync.Mutex // one Refresh at a time: the gaugeSets remember the last
	holds, jobs, utilisations gaugeSet
}

// New builds the collectors on a fresh registry, with Go and process metrics, and
// exports at zero the series of every label value known in advance.
func New(tzVersion string, known Known) *Metrics {
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
	m.DueOverdue = prometheus.NewGauge(prometheus.GaugeOpts{Name: "posthub_due_notices_overdue",
		Help: "Reminders and hold-expiry warnings more than a minute past their due time and not yet enqueued (no worker process sweeps them)."})
	m.Utilisation = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "posthub_utilisation_ratio",
		Help: "Confirmed booked working hours over available working hours in the coming 7 days (the utilisation report's figure), by site and resource kind."}, []string{"site", "kind"})
	m.TZInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "posthub_tzdata_info",
		Help: "The embedded IANA tz database release (value 1)."}, []string{"version"})
	m.RefreshFailures = prometheus.NewCounter(prometheus.CounterOpts{Name: "posthub_metrics_refresh_failures_total",
		Help: "Failed refreshes of the database-derived gauges."})
	m.Registry.MustRegister(m.HTTPRequests, m.HTTPDuration, m.Transitions, m.Conflicts, m.TxRetries, m.Deliveries, m.HoldsByRank,
		m.Jobs, m.DueOverdue, m.Utilisation, m.TZInfo, m.RefreshFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.TZInfo.WithLabelValues(tzVersion).Set(1)

	for _, e := range known.Events {
		m.Transitions.WithLabelValues(e)
	}
	for _, r := range known.RetryReasons {
		m.TxRetries.WithLabelValues(r)
	}
	for _, c := range []string{ChannelEmail, ChannelWebhook} {
		for _, o := range []string{outcomeDelivered, outcomeFailed} {
			m.Deliveries.WithLabelValues(c, o)
		}
	}
	m.holds = gaugeSet{vec: m.HoldsByRank, labels: 1}
	for _, r := range []string{"1", "2", "3+"} {
		m.holds.always = append(m.holds.always, []string{r})
	}
	m.jobs = gaugeSet{vec: m.Jobs, labels: 2}
	for _, q := range known.Queues {
		for _, st := range rivertype.JobStates() {
			m.jobs.always = append(m.jobs.always, []string{q, string(st)})
		}
	}
	// Utilisation's sites and kinds are rows of the database: the first Refresh exports
	// every site and kind with active resources, at zero when nothing is booked.
	m.utilisations = gaugeSet{vec: m.Utilisation, labels: 2}
	m.holds.set(nil)
	m.jobs.set(nil)
	return m
}

// InitRoute exports the HTTP series of a registered route at zero, before its first
// request. The router calls it for every method and pattern it registers: the latency
// histogram, and the request counter with code "200" (success) and "500" (what the
// error-rate alert and the 5xx panels select), so those have a series to rate() from
// the start; other codes appear when they happen. The label sets are bounded by the
// routes (about a hundred: some 200 counter and 1,500 histogram series) and the same a
// replica reaches anyway once each route has served; an unregistered path counts under
// route "unmatched" only when requested.
func (m *Metrics) InitRoute(route, method string) {
	if m == nil {
		return
	}
	for _, code := range []string{"200", "500"} {
		m.HTTPRequests.WithLabelValues(route, method, code)
	}
	m.HTTPDuration.WithLabelValues(route, method)
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

const (
	outcomeDelivered = "delivered"
	outcomeFailed    = "failed"
)

// Delivery counts a notification delivery attempt on a channel (ChannelEmail,
// ChannelWebhook).
func (m *Metrics) Delivery(channel string, err error) {
	if m == nil {
		return
	}
	outcome := outcomeDelivered
	if err != nil {
		outcome = outcomeFailed
	}
	m.Deliveries.WithLabelValues(channel, outcome).Inc()
}

// Refresh reads the database-derived gauges once. The queries are aggregate reads
// over indexed columns, cheap enough for every half minute.
func (m *Metrics) Refresh(ctx context.Context, pool *pgxpool.Pool, u booking.Utilisation) error {
	if m == nil {
		return nil
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
	var overdue float64
	if err := pool.QueryRow(ctx, `SELECT count(*)::float8 FROM booking_due_notices WHERE due_at < now() - interval '1 minute'`).Scan(&overdue); err != nil {
		return err
	}
	util, err := utilisation(ctx, pool, u, time.Now().UTC())
	if err != nil {
		return err
	}
	m.refreshMu.Lock()
	defer m.refreshMu.Unlock()
	m.holds.set(holds)
	m.jobs.set(jobs)
	m.DueOverdue.Set(overdue)
	m.utilisations.set(util)
	return nil
}

// utilisation is each site's utilisation by resource kind over the coming seven days,
// as the utilisation report gives it: booked working hours over available working
// hours, by the one definition of working time.
func utilisation(ctx context.Context, pool *pgxpool.Pool, u booking.Utilisation, now time.Time) ([]row, error) {
	type site struct {
		ID   uuid.UUID
		Slug string
	}
	rows, _ := pool.Query(ctx, `SELECT id, slug FROM sites ORDER BY slug`)
	sites, err := pgx.CollectRows(rows, pgx.RowToStructByPos[site])
	if err != nil {
		return nil, err
	}
	var out []row
	for _, s := range sites {
		rep, err := u.Utilisation(ctx, booking.System, booking.UtilisationQuery{SiteID: s.ID, From: now, To: now.Add(7 * 24 * time.Hour),
			GroupBy: []booking.Dimension{booking.DimKind}})
		if err != nil {
			return nil, err
		}
		for _, r := range rep.Rows {
			out = append(out, row{A: s.Slug, B: r.Kind, V: r.Utilisation})
		}
	}
	return out, nil
}

// row is one gauge value read from the database, with up to two label values.
type row struct {
	A, B string
	V    float64
}

// gaugeSet keeps a database-derived gauge vector at what the last read found: the
// series it always exports, at zero when no row names them, and those rows name;
// series of the read before that no row names now are deleted. Unlike Reset, it never
// leaves a concurrent scrape without the vector's series.
type gaugeSet struct {
	vec    *prometheus.GaugeVec
	labels int        // how many of a row's label values the vector takes
	always [][]string // label values exported even without a row
	last   map[string][]string
}

func (g *gaugeSet) set(rows []row) {
	labels, values := map[string][]string{}, map[string]float64{}
	put := func(l []string, v float64) {
		k := strings.Join(l, "\xff")
		labels[k], values[k] = l, v
	}
	for _, l := range g.always {
		put(l, 0)
	}
	for _, r := range rows {
		put([]string{r.A, r.B}[:g.labels], r.V)
	}
	for k, v := range values {
		g.vec.WithLabelValues(labels[k]...).Set(v)
	}
	for k, l := range g.last {
		if _, ok := labels[k]; !ok {
			g.vec.DeleteLabelValues(l...)
		}
	}
	g.last = labels
}

// RefreshEvery refreshes the gauges once before it returns, so that the first scrape
// has them, and then every interval in a goroutine until ctx ends. A refresh may take
// up to an interval; a failed one is counted and logged, and leaves the gauges as they
// were.
func (m *Metrics) RefreshEvery(ctx context.Context, pool *pgxpool.Pool, u booking.Utilisation, every time.Duration, log *slog.Logger) {
	if m == nil {
		return
	}
	refresh := func() {
		rctx, cancel := context.WithTimeout(ctx, every)
		defer cancel()
		if err := m.Refresh(rctx, pool, u); err != nil && ctx.Err() == nil {
			m.RefreshFailures.Inc()
			log.Warn("refreshing metrics", "err", err)
		}
	}
	refresh()
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				refresh()
			}
		}
	}()
}
