package postgres_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// leaveOn puts a resource on leave for a whole Casablanca day in June 2027.
func (f *fixture) leaveOn(t *testing.T, resource uuid.UUID, day string) {
	t.Helper()
	start := casa(day, 0, 0)
	if _, err := f.db.AddBlock(f.ctx, f.actors["manager"], booking.Block{ResourceID: resource, Kind: "leave", Reason: "leave",
		Start: start, End: start.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

// TestBookingPausesOverLeave: a booking may span its resource's leave, which it
// neither sells nor uses (the warning says so), but may not start or end in it, and
// a booking whose resource is away for all its working time is refused.
func TestBookingPausesOverLeave(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	colourist := f.resourceNamed(t, "Yasmine El Alami")
	f.leaveOn(t, colourist, "2027-06-09") // Wednesday
	book := func(start, end time.Time) (booking.Booking, error) {
		return f.db.Book(f.ctx, f.actors["manager"], booking.BookingInput{ProductionID: f.prod["producer"], ResourceIDs: []uuid.UUID{colourist},
			Start: start, End: end, Status: booking.StatusHold})
	}
	for _, c := range []struct {
		name       string
		start, end time.Time
		want       string
	}{
		{"starts in the leave", casa("2027-06-09", 10, 0), casa("2027-06-10", 19, 0), booking.ECONFLICT},
		{"ends in the leave", casa("2027-06-08", 9, 0), casa("2027-06-09", 12, 0), booking.ECONFLICT},
		{"ends as the leave ends", casa("2027-06-08", 9, 0), casa("2027-06-10", 0, 0), booking.ECONFLICT},
		{"only the leave's working time", casa("2027-06-08", 19, 0), casa("2027-06-10", 9, 0), booking.EUNPROCESSABLE},
	} {
		before := f.groups(t)
		if _, err := book(c.start, c.end); booking.ErrorCode(err) != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
		if f.groups(t) != before {
			t.Errorf("%s: a refused booking was written", c.name)
		}
	}

	b, err := book(casa("2027-06-07", 9, 0), casa("2027-06-10", 19, 0)) // Monday to Thursday
	if err != nil {
		t.Fatal(err)
	}
	var warned bool
	for _, w := range b.Warnings {
		warned = warned || strings.HasPrefix(w, "Yasmine El Alami is out of service Wed 2027-06-09 00:00 – Thu 2027-06-10 00:00 (Africa/Casablanca,") &&
			strings.HasSuffix(w, "9 h of working time is not sold")
	}
	if !warned {
		t.Errorf("warnings %q do not name the leave", b.Warnings)
	}
	q, err := f.db.QuoteBooking(f.ctx, f.actors["manager"], b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Lines) != 1 || q.Lines[0].Seconds != int64(27*time.Hour/time.Second) {
		t.Fatalf("quote lines %+v, want one line of 27 working hours (36 less Wednesday's 9)", q.Lines)
	}
	// Moving it so that it ends in the leave is refused like booking it there.
	if _, err := f.db.Reschedule(f.ctx, f.actors["manager"], b.ID, casa("2027-06-07", 9, 0), casa("2027-06-09", 11, 0), booking.ActOptions{}); booking.ErrorCode(err) != booking.ECONFLICT {
		t.Fatalf("move into the leave: %v", err)
	}
}

// TestPlanStagePausesOverLeave: the only HDR colourist is on leave on a Wednesday;
// a three-day grade released on Monday pauses over the leave instead of waiting
// for Thursday, its acceptance places the hold the plan promised (the booking
// rules and the planner agree on pauses), and the plan's quote is its hold's.
func TestPlanStagePausesOverLeave(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	colourist := f.resourceNamed(t, "Yasmine El Alami")
	f.leaveOn(t, colourist, "2027-06-09")
	site := f.site(t, "casablanca")
	p, err := f.db.ProposePlan(f.ctx, f.actors["producer"], booking.PlanRequest{ProductionID: f.prod["producer"], SiteID: site,
		EarliestStart: casa("2027-06-07", 9, 0), Seed: 1,
		Stages: []booking.StageSpec{{ID: "grade", Name: "Grade", Hours: 27,
			Demands: []booking.Demand{{Kind: "colourist", Capabilities: []string{"hdr"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Placed || len(p.Stages) != 1 {
		t.Fatalf("plan %+v", p)
	}
	st := p.Stages[0]
	if !st.Start.Equal(casa("2027-06-07", 9, 0)) || !st.End.Equal(casa("2027-06-10", 19, 0)) {
		t.Fatalf("grade planned %v – %v, want Monday 09:00 to Thursday 19:00 over Wednesday's leave", st.Start, st.End)
	}
	accepted, holds, err := f.db.AcceptPlan(f.ctx, f.actors["producer"], p.ID)
	if err != nil {
		t.Fatalf("accepting the plan: %v", err)
	}
	if len(holds) != 1 || !holds[0].Start.Equal(st.Start) || !holds[0].End.Equal(st.End) {
		t.Fatalf("holds %+v", holds)
	}
	q, err := f.db.QuoteBooking(f.ctx, f.actors["producer"], holds[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if accepted.Quote == nil || accepted.Quote.TotalMinor != q.TotalMinor || q.Lines[0].Seconds != int64(27*time.Hour/time.Second) {
		t.Fatalf("plan quote %+v, hold quote %+v: want equal, 27 working hours", accepted.Quote, q)
	}
}
