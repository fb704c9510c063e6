package metrics_test

import (
	"context"
	"io"
	"math"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/dbtest"
	"github.com/posthub/posthub/internal/demo"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/metrics"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetricsExposeTrafficTransitionsAndDatabaseGauges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.New(t)
	if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error { _, err := demo.Seed(ctx, tx); return err }); err != nil {
		t.Fatal(err)
	}
	m := metrics.New("2026f", metrics.Known{})
	m.ObserveHTTP("/api/v1/bookings", "POST", 409, 3*time.Millisecond)
	m.Conflict()
	m.Transition(string(booking.EventConfirmed))
	m.Delivery("email", nil)

	// A confirmed booking in the coming week and a first hold feed the gauges. Both
	// start at the site's next working time after their earliest start, so they hold
	// working time whatever day and hour the test runs; the confirmed one's 7 hours stay
	// inside the coming week unless the site closes for more than four days in a row.
	var suite, prod, site uuid.UUID
	if err := db.Pool.QueryRow(ctx, `SELECT r.id, (SELECT id FROM productions ORDER BY title LIMIT 1), s.id FROM resources r
		JOIN sites s ON s.id = r.site_id WHERE s.slug = 'casablanca' AND r.kind = 'grading_suite' ORDER BY r.name LIMIT 1`).Scan(&suite, &prod, &site); err != nil {
		t.Fatal(err)
	}
	cal := dbtest.SiteCalendar(t, db, site)
	start := dbtest.NextWorking(t, cal, time.Now().UTC().Add(48*time.Hour).Truncate(time.Hour))
	if _, err := db.Book(ctx, booking.System, booking.BookingInput{ProductionID: prod, ResourceIDs: []uuid.UUID{suite}, Start: start, End: start.Add(7 * time.Hour), Status: booking.StatusConfirmed}); err != nil {
		t.Fatal(err)
	}
	holdStart := dbtest.NextWorking(t, cal, start.Add(24*time.Hour))
	if _, err := db.Book(ctx, booking.System, booking.BookingInput{ProductionID: prod, ResourceIDs: []uuid.UUID{suite}, Start: holdStart, End: holdStart.Add(2 * time.Hour), Status: booking.StatusHold}); err != nil {
		t.Fatal(err)
	}
	rc, err := jobs.NewClient(db.Pool, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Insert(ctx, jobs.TokenCleanupArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	// A reminder two minutes past its time that no sweeper enqueued (the booking's own
	// are days ahead).
	if _, err := db.Pool.Exec(ctx, `INSERT INTO booking_due_notices (booking_id, kind, ref_at, before_ns, due_at)
		VALUES (gen_random_uuid(), 'reminder', now() + interval '1 hour', 3600000000000, now() - interval '2 minutes')`); err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(ctx, db.Pool, db); err != nil {
		t.Fatal(err)
	}
	out := scrape(t, m)
	for _, want := range []string{
		`posthub_http_requests_total{code="409",method="POST",route="/api/v1/bookings"} 1`,
		`posthub_booking_conflicts_total 1`,
		`posthub_booking_transitions_total{event="confirmed"} 1`,
		`posthub_notification_deliveries_total{channel="email",outcome="delivered"} 1`,
		`posthub_holds{rank="1"} 1`,
		`posthub_tzdata_info{version="2026f"} 1`,
		`posthub_river_jobs{queue="maintenance",state="available"} 1`,
		`posthub_due_notices_overdue 1`,
		`posthub_utilisation_ratio{kind="grading_suite",site="casablanca"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// The gauge is the utilisation report's figure for the coming week: the confirmed
	// booking's working hours over the grading suites' available working hours.
	now := time.Now().UTC()
	rep, err := db.Utilisation(ctx, booking.System, booking.UtilisationQuery{SiteID: site, From: now, To: now.Add(7 * 24 * time.Hour),
		GroupBy: []booking.Dimension{booking.DimKind}})
	if err != nil {
		t.Fatal(err)
	}
	var want float64
	for _, r := range rep.Rows {
		if r.Kind == "grading_suite" {
			want = r.Utilisation
		}
	}
	line := grep(out, `posthub_utilisation_ratio{kind="grading_suite",site="casablanca"}`)
	got, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
	if err != nil || want <= 0 || math.Abs(got-want) > 1e-3 {
		t.Errorf("utilisation of the grading suites: gauge %q, report %v", line, want)
	}
}

func grep(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// TestKnownSeriesAreZeroBeforeAnythingHappens checks the series known in advance are
// exported at zero by New, and stay after a Refresh that reads rows for some of them
// and none for the others, while a series whose row is gone goes.
func TestKnownSeriesAreZeroBeforeAnythingHappens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := metrics.New("2026f", metrics.Known{Queues: []string{"q1", "q2"}, Events: []string{"confirmed"}, RetryReasons: []string{"deadlock"}})
	m.InitRoute("/api/v1/bookings", "POST")
	zeros := []string{
		`posthub_booking_transitions_total{event="confirmed"} 0`,
		`posthub_booking_tx_retries_total{reason="deadlock"} 0`,
		`posthub_notification_deliveries_total{channel="email",outcome="delivered"} 0`,
		`posthub_notification_deliveries_total{channel="email",outcome="failed"} 0`,
		`posthub_notification_deliveries_total{channel="webhook",outcome="delivered"} 0`,
		`posthub_notification_deliveries_total{channel="webhook",outcome="failed"} 0`,
		`posthub_holds{rank="1"} 0`, `posthub_holds{rank="2"} 0`, `posthub_holds{rank="3+"} 0`,
		`posthub_http_requests_total{code="200",method="POST",route="/api/v1/bookings"} 0`,
		`posthub_http_requests_total{code="500",method="POST",route="/api/v1/bookings"} 0`,
		`posthub_http_request_duration_seconds_count{method="POST",route="/api/v1/bookings"} 0`,
		`posthub_booking_conflicts_total 0`,
		`posthub_metrics_refresh_failures_total 0`,
	}
	for _, q := range []string{"q1", "q2"} {
		for _, st := range rivertype.JobStates() {
			zeros = append(zeros, `posthub_river_jobs{queue="`+q+`",state="`+string(st)+`"} 0`)
		}
	}
	check := func(when string, want []string) {
		t.Helper()
		out := scrape(t, m)
		for _, w := range want {
			if !strings.Contains(out, w+"\n") {
				t.Errorf("%s: metrics lack %q", when, w)
			}
		}
	}
	check("after New", zeros)

	db := dbtest.New(t)
	rc, err := jobs.NewClient(db.Pool, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Unique by queue: the job kind is unique per hour.
	unique := river.UniqueOpts{ByQueue: true, ByPeriod: time.Hour}
	job, err := rc.Insert(ctx, jobs.TokenCleanupArgs{}, &river.InsertOpts{Queue: "q1", UniqueOpts: unique})
	if err != nil {
		t.Fatal(err)
	}
	other, err := rc.Insert(ctx, jobs.TokenCleanupArgs{}, &river.InsertOpts{Queue: "elsewhere", UniqueOpts: unique})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(ctx, db.Pool, db); err != nil {
		t.Fatal(err)
	}
	var afterRefresh []string
	for _, z := range zeros {
		if z != `posthub_river_jobs{queue="q1",state="available"} 0` {
			afterRefresh = append(afterRefresh, z)
		}
	}
	check("after a Refresh", append(afterRefresh, `posthub_river_jobs{queue="q1",state="available"} 1`, `posthub_river_jobs{queue="elsewhere",state="available"} 1`))

	// Jobs gone: the known series are back at zero, the unknown queue's series goes.
	if _, err := db.Pool.Exec(ctx, `DELETE FROM river_job WHERE id = ANY($1)`, []int64{job.Job.ID, other.Job.ID}); err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(ctx, db.Pool, db); err != nil {
		t.Fatal(err)
	}
	check("after the jobs went", zeros)
	if out := scrape(t, m); strings.Contains(out, `queue="elsewhere"`) {
		t.Errorf("the series of a queue without jobs stays: %s", grep(out, `queue="elsewhere"`))
	}
}
