package dbtest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/postgres"
)

// SiteCalendar is a site's working calendar as bookings are checked against it (its
// week, overrides and holidays), for tests that must book inside working time
// whatever day and hour they run.
func SiteCalendar(t testing.TB, db *postgres.DB, siteID uuid.UUID) *calendar.Calendar {
	t.Helper()
	sc, err := db.SiteCalendar(context.Background(), siteID)
	if err != nil {
		t.Fatalf("calendar of site %s: %v", siteID, err)
	}
	cal, err := sc.Calendar()
	if err != nil {
		t.Fatalf("calendar of site %s: %v", siteID, err)
	}
	return cal
}

// NextWorking is the first instant at or after from that is working time in cal,
// provisional holidays counted as closed: a booking starting then holds working time
// (one with none is refused unless booked as overtime) and is not warned about a
// provisional holiday on its first day. The answer is in UTC.
func NextWorking(t testing.TB, cal *calendar.Calendar, from time.Time) time.Time {
	t.Helper()
	const chunk = 31 * 24 * time.Hour
	for lo := from; lo.Before(from.Add(calendar.Horizon)); lo = lo.Add(chunk) {
		if ws := cal.WorkingTime(calendar.Interval{Start: lo, End: lo.Add(chunk)}, calendar.Options{AvoidProvisional: true}); len(ws) > 0 {
			return ws[0].Start
		}
	}
	t.Fatalf("no working time within %s of %s", calendar.Horizon, from.Format(time.RFC3339))
	return time.Time{}
}
