package postgres_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// groups counts the booking groups, to show a refusal wrote nothing.
func (f *fixture) groups(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT count(*) FROM booking_groups`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func asError(err error, de **booking.Error) bool { return errors.As(err, de) }

func casa(day string, hour, minute int) time.Time { // Casablanca is +00 all year in 2027
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		panic(err)
	}
	return d.Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}

// TestWorkingTimeRefusalsAndWarnings: a booking whose interval holds no working time
// at its site (a Sunday, Throne Day, an evening) is refused with the site's next
// working hours, for producers and managers, on creation and on reschedule, and
// nothing is written; one that reserves closed time or touches a holiday is accepted
// with warnings naming them.
func TestWorkingTimeRefusalsAndWarnings(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	suite := f.resources[len(f.resources)-1]
	refusals := []struct {
		who, what  string
		start, end time.Time
		next       time.Time
	}{
		{"producer", "a Sunday", casa("2027-03-14", 10, 0), casa("2027-03-14", 18, 0), casa("2027-03-15", 9, 0)},
		{"producer", "Throne Day", casa("2027-07-30", 9, 0), casa("2027-07-30", 18, 0), casa("2027-07-31", 9, 0)},
		{"producer", "an evening", casa("2027-03-15", 20, 0), casa("2027-03-15", 23, 0), casa("2027-03-16", 9, 0)},
		{"manager", "the lunch hour", casa("2027-03-15", 13, 0), casa("2027-03-15", 14, 0), casa("2027-03-15", 14, 0)},
	}
	before := f.groups(t)
	for _, r := range refusals {
		_, err := f.db.Book(f.ctx, f.actors[r.who], booking.BookingInput{ProductionID: f.prod["producer"], ResourceIDs: []uuid.UUID{suite},
			Start: r.start, End: r.end, Status: booking.StatusHold})
		var de *booking.Error
		if booking.ErrorCode(err) != booking.EUNPROCESSABLE || !asError(err, &de) {
			t.Fatalf("%s on %s: %v, want unprocessable", r.who, r.what, err)
		}
		if next, _ := de.Details["next_working_start"].(time.Time); !next.Equal(r.next) || !strings.Contains(de.Message, r.next.Format("2006-01-02 15:04")) {
			t.Errorf("%s: next working hours %v in %q, want %s", r.what, de.Details["next_working_start"], de.Message, r.next)
		}
	}
	if n := f.groups(t); n != before {
		t.Fatalf("refusals wrote %d booking groups", n-before)
	}

	// Across the lunch hour: accepted, the hour reserved but not sold is named.
	b := f.hold(t, "producer", []uuid.UUID{suite}, casa("2027-03-15", 12, 0), casa("2027-03-15", 15, 0))
	if len(b.Warnings) != 1 || !strings.HasPrefix(b.Warnings[0], "1 h of the booking is outside working hours: reserved, not sold (2 h of working time is)") {
		t.Fatalf("across lunch: warnings %q", b.Warnings)
	}
	// Thursday to Saturday over Throne Day: the holiday is named.
	hb := f.hold(t, "producer", []uuid.UUID{suite}, casa("2027-07-29", 9, 0), casa("2027-07-31", 13, 0))
	if len(hb.Warnings) != 2 || hb.Warnings[0] != "holiday 2027-07-30 (Throne Day): the site is closed that day" {
		t.Fatalf("over Throne Day: warnings %q", hb.Warnings)
	}
	// A manager's reschedule onto the closed Sunday is refused, and the booking stays.
	if _, err := f.db.Reschedule(f.ctx, f.actors["manager"], b.ID, casa("2027-03-14", 10, 0), casa("2027-03-14", 18, 0), booking.ActOptions{}); booking.ErrorCode(err) != booking.EUNPROCESSABLE {
		t.Fatalf("reschedule onto a Sunday: %v", err)
	}
	if got := f.get(t, b.ID); !got.Start.Equal(b.Start) || got.Version != b.Version {
		t.Fatalf("a refused reschedule changed the booking: %+v", got)
	}
	// Moved within working hours, the warning goes.
	moved, err := f.db.Reschedule(f.ctx, f.actors["manager"], b.ID, casa("2027-03-16", 9, 0), casa("2027-03-16", 13, 0), booking.ActOptions{})
	if err != nil || len(moved.Warnings) != 0 {
		t.Fatalf("reschedule into the morning: %v %q", err, moved.Warnings)
	}
}

// TestOvertimeBookings: a manager books a Sunday as overtime outright and its quote
// bills the day at the overtime rate on a line of its own; a producer's overtime
// hold needs a manager's approval to confirm at a site whose policy says so, is
// confirmed outright where the policy allows it, and is forbidden where only managers
// book overtime.
func TestOvertimeBookings(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	suite := f.resources[len(f.resources)-1]
	sunday := casa("2027-03-14", 10, 0)
	ot, err := f.db.Book(f.ctx, f.actors["manager"], booking.BookingInput{ProductionID: f.prod["producer"], ResourceIDs: []uuid.UUID{suite},
		Start: sunday, End: sunday.Add(8 * time.Hour), Status: booking.StatusConfirmed, Overtime: true})
	if err != nil || !ot.Overtime || ot.Status != booking.StatusConfirmed {
		t.Fatalf("a manager's Sunday overtime: %+v %v", ot, err)
	}
	q, err := f.db.QuoteBooking(f.ctx, f.actors["manager"], ot.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Lines) != 2 || q.Lines[0].Overtime || q.Lines[0].AmountMinor != 0 || !q.Lines[1].Overtime ||
		q.Lines[1].Quantity != "8.00" || q.Lines[1].MultiplierBP != booking.DefaultOvertimeMultiplierBP ||
		q.Lines[1].AmountMinor != q.Lines[1].RateMinor*8*3/2 || q.TotalMinor != q.Lines[1].AmountMinor {
		t.Fatalf("quote of a Sunday's overtime: %+v", q.Lines)
	}

	var site uuid.UUID
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT site_id FROM resources WHERE id = $1`, suite).Scan(&site); err != nil {
		t.Fatal(err)
	}
	setPolicy := func(overtime string) {
		t.Helper()
		p, err := f.db.SitePolicy(f.ctx, site)
		if err != nil {
			t.Fatal(err)
		}
		p.Overtime = overtime
		if got, err := f.db.UpdateSitePolicy(f.ctx, f.actors["manager"], p); err != nil || got.Overtime != overtime {
			t.Fatalf("policy %s: %+v %v", overtime, got, err)
		}
	}
	evening := func(day string) booking.BookingInput {
		return booking.BookingInput{ProductionID: f.prod["producer"], ResourceIDs: []uuid.UUID{suite},
			Start: casa(day, 17, 0), End: casa(day, 22, 0), Status: booking.StatusHold, Overtime: true}
	}
	// The default policy: approval.
	h, err := f.db.Book(f.ctx, f.actors["producer"], evening("2027-03-15"))
	if err != nil || !h.Overtime {
		t.Fatalf("a producer's overtime hold: %+v %v", h, err)
	}
	if c := f.act(t, "producer", h.ID, booking.ActionConfirm); c.Status != booking.StatusHold || !c.ApprovalPending {
		t.Fatalf("a producer's overtime confirmation without approval: %s pending %v", c.Status, c.ApprovalPending)
	}
	if c := f.act(t, "manager", h.ID, booking.ActionConfirm); c.Status != booking.StatusConfirmed {
		t.Fatalf("approved: %s", c.Status)
	}
	// Allowed: confirmed outright.
	setPolicy(booking.OvertimeAllowed)
	h2, err := f.db.Book(f.ctx, f.actors["producer"], evening("2027-03-16"))
	if err != nil {
		t.Fatal(err)
	}
	if c := f.act(t, "producer", h2.ID, booking.ActionConfirm); c.Status != booking.StatusConfirmed {
		t.Fatalf("overtime allowed: %s pending %v", c.Status, c.ApprovalPending)
	}
	// Managers only: a producer's overtime is forbidden, and nothing is written.
	setPolicy(booking.OvertimeManagers)
	before := f.groups(t)
	if _, err := f.db.Book(f.ctx, f.actors["producer"], evening("2027-03-17")); booking.ErrorCode(err) != booking.EFORBIDDEN {
		t.Fatalf("a producer's overtime where only managers book it: %v", err)
	}
	if f.groups(t) != before {
		t.Fatal("a forbidden overtime booking was written")
	}
	// A policy out of range is refused with its field.
	p, _ := f.db.SitePolicy(f.ctx, site)
	p.Overtime = "sometimes"
	var de *booking.Error
	if _, err := f.db.UpdateSitePolicy(f.ctx, f.actors["manager"], p); !asError(err, &de) || de.Code != booking.EUNPROCESSABLE || de.Details["field"] != "overtime" {
		t.Fatalf("policy overtime=sometimes: %v", err)
	}
}

// holidayNamed is the id of a holiday of the Casablanca site's calendar.
func (f *fixture) holidayNamed(t *testing.T, name, date string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT id FROM holidays WHERE name = $1 AND date = $2 AND country = 'MA'`, name, date).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestCalendarChangesRecheckBookings: confirming a provisional Eid on its date, moving
// the second day of Eid to another date and adding a period of shorter hours flag
// exactly the future bookings whose working time changed, tell of each once (a
// working_time_changed event), list them for review, keep the quotes made before, and
// are cleared by a manager's review or a reschedule.
func TestCalendarChangesRecheckBookings(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	suite, colourist := f.resources[len(f.resources)-1], f.resources[0]
	onEid := f.hold(t, "producer", []uuid.UUID{suite}, casa("2027-03-10", 9, 0), casa("2027-03-10", 19, 0))
	onSecond := f.hold(t, "producer", []uuid.UUID{suite}, casa("2027-03-11", 9, 0), casa("2027-03-11", 19, 0))
	onFriday := f.hold(t, "producer", []uuid.UUID{colourist}, casa("2027-03-12", 9, 0), casa("2027-03-12", 19, 0))
	inApril := f.hold(t, "producer", []uuid.UUID{suite}, casa("2027-04-06", 9, 0), casa("2027-04-06", 19, 0))
	quote, err := f.db.QuoteBooking(f.ctx, f.actors["producer"], onEid.ID)
	if err != nil || quote.TotalMinor == 0 {
		t.Fatalf("quote before: %+v %v", quote, err)
	}
	reviewed := func() map[uuid.UUID]string {
		t.Helper()
		items, _, _, err := f.db.ListBookings(f.ctx, f.actors["manager"], booking.BookingFilter{NeedsReview: true})
		if err != nil {
			t.Fatal(err)
		}
		out := map[uuid.UUID]string{}
		for _, b := range items {
			out[b.ID] = b.WorkingTimeReview
		}
		return out
	}
	changed := func() []uuid.UUID {
		var ids []uuid.UUID
		for _, e := range f.events {
			if e.Kind == booking.EventWorkingTimeChanged {
				ids = append(ids, e.BookingID)
			}
		}
		f.events = nil
		return ids
	}
	changed()

	// Eid al-Fitr confirmed on 10 March: that day's 9 working hours go.
	if _, err := f.db.ConfirmHoliday(f.ctx, f.actors["manager"], f.holidayNamed(t, "Eid al-Fitr", "2027-03-10"), ""); err != nil {
		t.Fatal(err)
	}
	if ids := changed(); len(ids) != 1 || ids[0] != onEid.ID {
		t.Fatalf("events after confirming Eid: %v, want only %s", ids, onEid.ID)
	}
	if r := reviewed(); len(r) != 1 || r[onEid.ID] != "Eid al-Fitr confirmed on 2027-03-10: the booking now holds 0 h of working time, not 9 h" {
		t.Fatalf("to review: %q", r)
	}
	// Its second day is announced for Friday 12 March instead of Thursday 11: Thursday
	// is an ordinary day as it was counted, Friday loses its hours.
	if _, err := f.db.ConfirmHoliday(f.ctx, f.actors["manager"], f.holidayNamed(t, "Eid al-Fitr (second day)", "2027-03-11"), "2027-03-12"); err != nil {
		t.Fatal(err)
	}
	if ids := changed(); len(ids) != 1 || ids[0] != onFriday.ID {
		t.Fatalf("events after moving Eid's second day: %v, want only %s", ids, onFriday.ID)
	}
	// A period of shorter hours in April: 09:00–15:00 leaves 6 of 9 hours.
	short := booking.Week{}
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday"} {
		short[d] = []booking.WorkingSpan{{From: "09:00", To: "15:00"}}
	}
	var site uuid.UUID
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT site_id FROM resources WHERE id = $1`, suite).Scan(&site); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.AddOverride(f.ctx, f.actors["manager"], site, booking.CalendarOverride{Name: "Inventory week", From: "2027-04-05", To: "2027-04-09", Week: short}); err != nil {
		t.Fatal(err)
	}
	if ids := changed(); len(ids) != 1 || ids[0] != inApril.ID {
		t.Fatalf("events after the April period: %v, want only %s", ids, inApril.ID)
	}
	r := reviewed()
	if len(r) != 3 || r[onSecond.ID] != "" || !strings.Contains(r[inApril.ID], "now holds 6 h of working time, not 9 h") {
		t.Fatalf("to review: %q", r)
	}

	// The quote made before stands; a new one shows the new figure.
	if again, err := f.db.FindQuote(f.ctx, f.actors["producer"], quote.ID); err != nil || again.TotalMinor != quote.TotalMinor {
		t.Fatalf("stored quote: %+v %v", again, err)
	}
	if now, err := f.db.QuoteBooking(f.ctx, f.actors["producer"], onEid.ID); err != nil || now.TotalMinor != 0 {
		t.Fatalf("new quote on a confirmed Eid: %d %v", now.TotalMinor, err)
	}

	// Reviews: producers cannot clear them, operators may not, managers do; a
	// reschedule clears the flag too.
	if _, err := f.db.MarkWorkingTimeReviewed(f.ctx, f.actors["producer"], onEid.ID); booking.ErrorCode(err) != booking.ENOTFOUND {
		t.Fatalf("a producer cleared a review: %v", err)
	}
	if _, err := f.db.MarkWorkingTimeReviewed(f.ctx, f.actors["operator"], onEid.ID); booking.ErrorCode(err) != booking.EFORBIDDEN {
		t.Fatalf("an operator cleared a review: %v", err)
	}
	if b, err := f.db.MarkWorkingTimeReviewed(f.ctx, f.actors["manager"], onEid.ID); err != nil || b.WorkingTimeReview != "" {
		t.Fatalf("manager's review: %+v %v", b, err)
	}
	if _, err := f.db.Reschedule(f.ctx, f.actors["manager"], onFriday.ID, casa("2027-03-15", 9, 0), casa("2027-03-15", 19, 0), booking.ActOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := reviewed(); len(r) != 1 || r[inApril.ID] == "" {
		t.Fatalf("still to review: %q", r)
	}
}

// TestRingFenceCapacityLessLeave: a fence's capacity is its kind's resources' working
// time less their leave: a colourist's Tuesday of leave takes that day's 9 hours out
// of the month's capacity, and the programme's share with it.
func TestRingFenceCapacityLessLeave(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	site := f.site(t, "casablanca")
	fence, err := f.db.CreateRingFence(f.ctx, f.actors["manager"], booking.RingFenceInput{SiteID: site, Kind: "colourist",
		Programme: "emerging-filmmakers", SharePct: 50, Period: booking.PeriodMonth, ReleaseDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	before := f.fenceStanding(t, site, fence.ID, casa("2027-06-15", 12, 0))
	colourist := f.resources[0]
	if _, err := f.db.AddBlock(f.ctx, f.actors["manager"], booking.Block{ResourceID: colourist, Kind: "leave", Reason: "leave",
		Start: casa("2027-06-08", 0, 0), End: casa("2027-06-09", 0, 0)}); err != nil {
		t.Fatal(err)
	}
	after := f.fenceStanding(t, site, fence.ID, casa("2027-06-15", 12, 0))
	if before.Working-after.Working != 9*time.Hour || after.Reserved*2 != after.Working || after.Resources != before.Resources {
		t.Fatalf("June's capacity: %v before the leave, %v after (reserved %v)", before.Working, after.Working, after.Reserved)
	}
}
