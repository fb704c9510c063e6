package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

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
	m := metrics.New("2026f")
	m.ObserveHTTP("/api/v1/bookings", "POST", 409, 3*time.Millisecond)
	m.Conflict()
	m.Transition(string(booking.EventConfirmed))
	m.Delivery("email", nil)

	// A confirmed booking in the coming week and a first hold feed the gauges.
	var suite, prod uuid.UUID
	if err := db.Pool.QueryRow(ctx, `SELECT r.id, (SELECT id FROM productions ORDER BY title LIMIT 1) FROM resources r
		JOIN sites s ON s.id = r.site_id WHERE s.slug = 'casablanca' AND r.kind = 'grading_suite' ORDER BY r.name LIMIT 1`).Scan(&suite, &prod); err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Hour)
	if _, err := db.Book(ctx, booking.System, booking.BookingInput{ProductionID: prod, ResourceIDs: []uuid.UUID{suite}, Start: start, End: start.Add(7 * time.Hour), Status: booking.StatusConfirmed}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Book(ctx, booking.System, booking.BookingInput{ProductionID: prod, ResourceIDs: []uuid.UUID{suite}, Start: start.Add(24 * time.Hour), End: start.Add(26 * time.Hour), Status: booking.StatusHold}); err != nil {
		t.Fatal(err)
	}
	rc, err := jobs.NewClient(db.Pool, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Insert(ctx, jobs.TokenCleanupArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(ctx, db.Pool); err != nil {
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
		`posthub_utilisation_ratio{kind="grading_suite",site="casablanca"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// 7 confirmed hours on one of three grading suites over a week of hours.
	if !strings.Contains(out, `posthub_utilisation_ratio{kind="grading_suite",site="casablanca"} 0.013888888888888`) {
		t.Errorf("utilisation of the grading suites: %s", grep(out, "posthub_utilisation_ratio{kind=\"grading_suite\""))
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
