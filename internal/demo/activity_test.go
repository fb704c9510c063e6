package demo_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/dbtest"
	"github.com/posthub/posthub/internal/demo"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/postgres"
)

// activityToday is the today of the main activity test: a Wednesday morning.
var activityToday = time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)

// withSink gives db the notifications' event sink with an insert-only River client, as
// `posthub dev` loads the activity before any worker runs.
func withSink(t *testing.T, db *postgres.DB) {
	t.Helper()
	rc, err := jobs.NewClient(db.Pool, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.OnEvents = jobs.Sink(rc)
}

func activity(t *testing.T, db *postgres.DB, now time.Time) demo.Summary {
	t.Helper()
	s, err := demo.Activity(context.Background(), db, now)
	if err != nil {
		t.Fatalf("Activity(%s): %v", now.Format(time.RFC3339), err)
	}
	return s
}

func TestActivity(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := context.Background()
	seed(t, db)
	withSink(t, db)
	s := activity(t, db, activityToday)
	t.Logf("activity: %+v", s)
	if s.Skipped {
		t.Fatal("Activity skipped on a hub without activity")
	}
	checkActivity(t, db, activityToday)

	// The present raised notifications (queued for a worker that is not running); the
	// past, made quietly, raised none.
	var notices, pastNotices int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE args->>'event' = 'completed'
			OR (args->>'at')::timestamptz < $1::timestamptz - interval '30 days')
		FROM river_job WHERE kind = 'booking_notice'`, activityToday).Scan(&notices, &pastNotices); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d notice jobs queued", notices)
	if notices == 0 || pastNotices != 0 {
		t.Errorf("notice jobs: %d, %d of them about the past; want some, none about the past", notices, pastNotices)
	}

	// A second start adds nothing, whatever its today.
	before := activityCounts(t, db)
	for _, now := range []time.Time{activityToday, activityToday.Add(24 * time.Hour), activityToday.Add(90 * 24 * time.Hour)} {
		if again := activity(t, db, now); !again.Skipped {
			t.Errorf("Activity(%s) again: %+v, want it skipped", now.Format(time.RFC3339), again)
		}
	}
	if after := activityCounts(t, db); !maps.Equal(before, after) {
		t.Errorf("a second Activity changed the hub:\n before %v\n after  %v", before, after)
	}
}

// TestActivityReproducible: for one today, the activity is the same each time.
func TestActivityReproducible(t *testing.T) {
	t.Parallel()
	var prints [2][]string
	for i := range prints {
		db := openDB(t)
		seed(t, db)
		activity(t, db, activityToday)
		prints[i] = fingerprint(t, db)
	}
	if !slices.Equal(prints[0], prints[1]) {
		for i := range min(len(prints[0]), len(prints[1])) {
			if prints[0][i] != prints[1][i] {
				t.Fatalf("two activities for one today differ (%d and %d bookings); first difference:\n %s\n %s",
					len(prints[0]), len(prints[1]), prints[0][i], prints[1][i])
			}
		}
		t.Fatalf("two activities for one today differ: %d and %d bookings", len(prints[0]), len(prints[1]))
	}
}

// TestActivityOnAnyDay: whatever today is (a Saturday in Ramadan, Casablanca's change
// of offset, New Year's Eve after closing, a year the migrations carry no holidays
// for), the hub's refusals do not stop the activity, and it tells the same story.
func TestActivityOnAnyDay(t *testing.T) {
	t.Parallel()
	for _, today := range []time.Time{
		time.Date(2027, 2, 20, 11, 0, 0, 0, time.UTC),   // Saturday, Ramadan hours (closed on Saturdays)
		time.Date(2026, 9, 20, 8, 0, 0, 0, time.UTC),    // Sunday, Casablanca moves from +01 to +00
		time.Date(2027, 12, 31, 18, 45, 0, 0, time.UTC), // Friday evening, the year's last day
		time.Date(2028, 7, 3, 7, 15, 0, 0, time.UTC),    // Monday before opening, no holidays in the data
	} {
		t.Run(today.Format("2006-01-02"), func(t *testing.T) {
			t.Parallel()
			db := openDB(t)
			seed(t, db)
			s := activity(t, db, today)
			t.Logf("activity: %+v", s)
			checkActivity(t, db, today)
		})
	}
}

// checkActivity checks the story the activity tells around now.
func checkActivity(t *testing.T, db *postgres.DB, now time.Time) {
	t.Helper()
	ctx := context.Background()
	sites := map[string]uuid.UUID{}
	for _, slug := range []string{"casablanca", "dakar"} {
		var id uuid.UUID
		if err := db.Pool.QueryRow(ctx, `SELECT id FROM sites WHERE slug = $1`, slug).Scan(&id); err != nil {
			t.Fatal(err)
		}
		sites[slug] = id
	}
	cals := map[uuid.UUID]*calendar.Calendar{}
	for _, id := range sites {
		cals[id] = dbtest.SiteCalendar(t, db, id)
	}
	day := 24 * time.Hour

	all := listBookings(t, db)
	var completed, ahead, holds int
	used := map[uuid.UUID]bool{}
	for _, b := range all {
		switch {
		case b.Status == booking.StatusCompleted:
			completed++
			if b.End.After(now) || b.Start.Before(now.Add(-100*day)) {
				t.Errorf("completed booking %s %s – %s: not within the three months before %s", b.ID, b.Start, b.End, now)
			}
			// Working hours: it starts and ends in its site's working time.
			cal := cals[b.SiteID]
			if w := cal.WorkingTime(calendar.Interval{Start: b.Start, End: b.End}, calendar.Options{}); len(w) == 0 ||
				!w[0].Start.Equal(b.Start) || !w[len(w)-1].End.Equal(b.End) {
				t.Errorf("completed booking %s %s – %s: not within the working hours of its site", b.ID,
					b.Start.In(cal.Location), b.End.In(cal.Location))
			}
			for _, r := range b.Resources {
				used[r.ResourceID] = true
			}
		case b.Status == booking.StatusConfirmed && b.Start.After(now):
			ahead++
			if b.Start.After(now.Add(100 * day)) {
				t.Errorf("confirmed booking %s starts %s, more than three months ahead", b.ID, b.Start)
			}
		case b.Status == booking.StatusHold:
			holds++
			if !b.Start.After(now) {
				t.Errorf("hold %s starts %s, not ahead of %s", b.ID, b.Start, now)
			}
		}
	}
	if completed < 100 || len(used) < 20 {
		t.Errorf("%d completed bookings on %d resources; want at least 100 on 20", completed, len(used))
	}
	if ahead < 40 || holds < 15 {
		t.Errorf("%d confirmed bookings and %d holds ahead; want at least 40 and 15", ahead, holds)
	}

	exists := func(what, query string, args ...any) {
		t.Helper()
		var ok bool
		if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (`+query+`)`, args...).Scan(&ok); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !ok {
			t.Errorf("no %s", what)
		}
	}
	exists("holds at ranks 1, 2 and 3 on one slot", `SELECT 1 FROM bookings b1
		JOIN bookings b2 ON b2.resource_id = b1.resource_id AND b2.during && b1.during AND b2.rank = 2 AND b2.status = 'hold'
		JOIN bookings b3 ON b3.resource_id = b1.resource_id AND b3.during && b1.during AND b3.during && b2.during AND b3.rank = 3 AND b3.status = 'hold'
		WHERE b1.rank = 1 AND b1.status = 'hold'`)
	exists("open challenge with a deadline ahead and a hold ahead of its challenger", `SELECT 1 FROM challenges c
		JOIN booking_groups g ON g.id = c.challenger_id AND g.status = 'hold'
		JOIN challenge_targets ct ON ct.challenge_id = c.id JOIN booking_groups tg ON tg.id = ct.group_id AND tg.status = 'hold'
		WHERE c.status = 'open' AND c.deadline > $1 AND c.deadline < g.start_at AND tg.hold_seq < g.hold_seq`, now)
	exists("producer's confirmation waiting for a manager's approval", `SELECT 1 FROM booking_groups g
		JOIN site_policies p ON p.site_id = g.site_id AND p.confirm_needs_approval
		WHERE g.status = 'hold' AND g.approval_requested_at IS NOT NULL AND g.start_at > $1`, now)
	exists("colourist's leave ahead", `SELECT 1 FROM resource_blocks b JOIN resources r ON r.id = b.resource_id
		WHERE b.kind = 'leave' AND r.kind = 'colourist' AND lower(b.during) > $1`, now)
	exists("maintenance ahead that a confirmed booking spans", `SELECT 1 FROM resource_blocks k
		JOIN bookings b ON b.resource_id = k.resource_id AND b.status = 'confirmed'
		WHERE k.kind = 'maintenance' AND lower(k.during) > $1 AND lower(b.during) < lower(k.during) AND upper(b.during) > upper(k.during)`, now)

	// The provisional holiday ahead, and a hold on it warned about.
	casa := cals[sites["casablanca"]]
	today := calendar.DateOf(now.In(casa.Location))
	var holiday *calendar.Holiday
	for _, h := range casa.Holidays {
		if h.Provisional && h.Date.After(today.AddDays(13)) && (holiday == nil || h.Date.Before(holiday.Date)) {
			holiday = &h
		}
	}
	if holiday == nil {
		t.Errorf("no provisional holiday ahead of %s in Casablanca", today)
	} else {
		touched := false
		for _, b := range all {
			if b.SiteID != sites["casablanca"] || !b.Status.Active() {
				continue
			}
			for _, h := range casa.UseOf(calendar.Interval{Start: b.Start, End: b.End}, nil).Holidays {
				touched = touched || h.Provisional
			}
		}
		if !touched {
			t.Errorf("no booking on the provisional holiday %s (%s)", holiday.Date, holiday.Name)
		}
	}

	// The accepted plans' stages are holds ahead; one plan runs across Dakar and
	// Casablanca, quoted in both currencies.
	rows, _ := db.Pool.Query(ctx, `SELECT id FROM plans WHERE status = 'accepted' ORDER BY created_at`)
	planIDs, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil || len(planIDs) != 2 {
		t.Fatalf("accepted plans: %d, %v; want the short's and the two-site plan", len(planIDs), err)
	}
	twoSites := false
	for _, id := range planIDs {
		p, err := db.FindPlan(ctx, booking.System, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Stages) == 0 {
			t.Fatal("an accepted plan has no stages")
		}
		at := map[uuid.UUID]bool{}
		for _, st := range p.Stages {
			at[st.SiteID] = true
			if st.BookingID == nil {
				t.Errorf("plan stage %s has no booking", st.ID)
				continue
			}
			b, err := db.FindBooking(ctx, booking.System, *st.BookingID)
			if err != nil || b.Status != booking.StatusHold || !b.Start.After(now) || b.SiteID != st.SiteID {
				t.Errorf("plan stage %s: booking %v at %s, %v; want a hold ahead at %s", st.ID, b.Status, b.SiteID, err, st.SiteID)
			}
		}
		if at[sites["dakar"]] && at[sites["casablanca"]] && len(p.Totals) == 2 && len(p.Transfers) > 0 {
			twoSites = true
		}
	}
	if !twoSites {
		t.Error("no accepted plan runs across Dakar and Casablanca with two currencies and a transfer")
	}
}

// listBookings lists every booking of the hub.
func listBookings(t *testing.T, db *postgres.DB) []booking.Booking {
	t.Helper()
	var all []booking.Booking
	f := booking.BookingFilter{Limit: 200}
	for {
		page, _, next, err := db.ListBookings(context.Background(), booking.System, f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		f.Cursor = next
	}
}

// fingerprint describes every booking of the hub by what the activity chose.
func fingerprint(t *testing.T, db *postgres.DB) []string {
	t.Helper()
	rows, _ := db.Pool.Query(context.Background(), `SELECT p.title || ' ' || g.status || ' ' || g.start_at || ' ' || g.end_at || ' ' || regexp_replace(coalesce(g.note, ''), 'Plan [0-9a-f]{8}', 'Plan') || ' ' ||
			array_to_string(array(SELECT r.name FROM bookings b JOIN resources r ON r.id = b.resource_id WHERE b.group_id = g.id ORDER BY r.name), ',')
		FROM booking_groups g JOIN productions p ON p.id = g.production_id ORDER BY g.start_at, p.title, 1`)
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// activityCounts counts the rows the activity writes.
func activityCounts(t *testing.T, db *postgres.DB) map[string]int {
	t.Helper()
	c := map[string]int{}
	for _, table := range []string{"booking_groups", "bookings", "challenges", "challenge_targets", "resource_blocks", "holidays",
		"plans", "site_policies", "audit_log", "river_job"} {
		var n int
		if err := db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		c[table] = n
	}
	return c
}
