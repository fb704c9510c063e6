package httpapi_test

import (
	"testing"
	"time"

	"github.com/posthub/posthub/internal/booking"
)

// TestWorkingTimeOverAPI: through the API, a Sunday hold is refused with 422 and the
// site's next working hours in the problem's details; a producer's overtime flag
// where only managers book overtime is 403; a manager's Sunday overtime is created
// and quoted with an overtime line; policies and rate-card multipliers out of range
// are 422 naming the field.
func TestWorkingTimeOverAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, suite, _ := siteAndResources(t, b)
	prods := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	sunday := map[string]any{"production_id": prods[0].ID, "resource_id": suite, "start": "2027-06-13T10:00:00Z", "end": "2027-06-13T18:00:00Z"}
	p := problem(t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], sunday), 422, booking.EUNPROCESSABLE)
	if p.Details["next_working_start_local"] != "2027-06-14T09:00:00+00:00" {
		t.Fatalf("refusal details %v", p.Details)
	}

	policy := decode[booking.SitePolicy](t, b.do(t, "GET", "/api/v1/sites/"+site.String()+"/policy", b.tokens["manager"], nil), 200)
	if policy.Overtime != booking.OvertimeApproval {
		t.Fatalf("default overtime policy %q", policy.Overtime)
	}
	put := map[string]any{"confirm_needs_approval": policy.ConfirmNeedsApproval, "hold_lifetime": policy.HoldLifetime, "challenge_window": policy.ChallengeWindow,
		"min_notice": policy.MinNotice, "reminder_offsets": policy.ReminderOffsets, "overtime": "never"}
	if p := problem(t, b.do(t, "PUT", "/api/v1/sites/"+site.String()+"/policy", b.tokens["manager"], put), 422, booking.EUNPROCESSABLE); p.Details["field"] != "overtime" {
		t.Fatalf("overtime=never: %v", p.Details)
	}
	put["overtime"] = booking.OvertimeManagers
	decode[booking.SitePolicy](t, b.do(t, "PUT", "/api/v1/sites/"+site.String()+"/policy", b.tokens["manager"], put), 200)
	sunday["overtime"] = true
	problem(t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], sunday), 403, booking.EFORBIDDEN)

	sunday["status"] = "confirmed"
	bk := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["manager"], sunday), 201)
	if !bk.Overtime || len(bk.Warnings) != 1 {
		t.Fatalf("a manager's Sunday overtime: %+v", bk)
	}
	q := decode[booking.Quote](t, b.do(t, "POST", "/api/v1/quotes", b.tokens["manager"], map[string]any{"booking_id": bk.ID}), 201)
	if len(q.Lines) != 2 || !q.Lines[1].Overtime || q.Lines[1].Quantity != "8.00" || q.TotalMinor != q.Lines[1].AmountMinor || q.TotalMinor == 0 {
		t.Fatalf("quote %+v", q.Lines)
	}

	card := map[string]any{"site_id": site, "kind": "grading_suite", "unit": "hour", "amount_minor": 100000, "overtime_multiplier_bp": 9000}
	if p := problem(t, b.do(t, "POST", "/api/v1/rate-cards", b.tokens["manager"], card), 422, booking.EUNPROCESSABLE); p.Details["field"] != "overtime_multiplier_bp" {
		t.Fatalf("multiplier 0.9×: %v", p.Details)
	}
	card["overtime_multiplier_bp"] = 20000
	if rc := decode[booking.RateCard](t, b.do(t, "POST", "/api/v1/rate-cards", b.tokens["manager"], card), 201); rc.OvertimeMultiplierBP != 20000 {
		t.Fatalf("card %+v", rc)
	}
	card["overtime_multiplier_bp"] = nil
	if rc := decode[booking.RateCard](t, b.do(t, "POST", "/api/v1/rate-cards", b.tokens["manager"], card), 201); rc.OvertimeMultiplierBP != booking.DefaultOvertimeMultiplierBP {
		t.Fatalf("card without a multiplier %+v", rc)
	}
}

// TestProducerMoveOfConfirmedBookingNeedsApproval: at a site whose confirmations need
// a manager, a producer's PATCH of an approved booking is a request (202): the booking
// keeps its slot until a manager confirms (the move is made) or declines (it stays);
// the producer cannot settle it. Where no approval is needed the move is made at once.
func TestProducerMoveOfConfirmedBookingNeedsApproval(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, suite, _ := siteAndResources(t, b)
	prods := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	bk := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["manager"], map[string]any{"production_id": prods[0].ID,
		"resource_id": suite, "start": "2027-06-14T09:00:00Z", "end": "2027-06-14T10:00:00Z", "status": "confirmed"}), 201)
	policy := decode[booking.SitePolicy](t, b.do(t, "GET", "/api/v1/sites/"+site.String()+"/policy", b.tokens["manager"], nil), 200)
	put := func(approval bool) {
		t.Helper()
		decode[booking.SitePolicy](t, b.do(t, "PUT", "/api/v1/sites/"+site.String()+"/policy", b.tokens["manager"], map[string]any{
			"confirm_needs_approval": approval, "hold_lifetime": policy.HoldLifetime, "challenge_window": policy.ChallengeWindow,
			"min_notice": policy.MinNotice, "reminder_offsets": policy.ReminderOffsets, "overtime": policy.Overtime}), 200)
	}
	put(true)
	// Into a year: a request, not a move.
	req := decode[booking.Booking](t, b.do(t, "PATCH", "/api/v1/bookings/"+bk.ID.String(), b.tokens["producer"],
		map[string]any{"start": "2027-06-15T09:00:00Z", "end": "2028-06-14T09:00:00Z"}), 202)
	if !req.Start.Equal(bk.Start) || !req.End.Equal(bk.End) || req.Status != booking.StatusConfirmed || !req.ApprovalPending ||
		req.RequestedStart == nil || !req.RequestedStart.Equal(time.Date(2027, 6, 15, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("a producer's move into a year: %+v", req)
	}
	problem(t, b.do(t, "POST", "/api/v1/bookings/"+bk.ID.String()+"/confirm", b.tokens["producer"], nil), 403, booking.EFORBIDDEN)
	// The manager declines: the booking keeps its slot, the request goes.
	kept := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings/"+bk.ID.String()+"/decline", b.tokens["manager"], map[string]any{"reason": "too long"}), 200)
	if !kept.Start.Equal(bk.Start) || kept.RequestedStart != nil || kept.ApprovalPending || kept.Status != booking.StatusConfirmed {
		t.Fatalf("declined move: %+v", kept)
	}
	problem(t, b.do(t, "POST", "/api/v1/bookings/"+bk.ID.String()+"/confirm", b.tokens["manager"], nil), 409, booking.ECONFLICT)
	// A second request, approved: the move is made.
	decode[booking.Booking](t, b.do(t, "PATCH", "/api/v1/bookings/"+bk.ID.String(), b.tokens["producer"],
		map[string]any{"start": "2027-06-15T09:00:00Z", "end": "2027-06-15T11:00:00Z"}), 202)
	moved := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings/"+bk.ID.String()+"/confirm", b.tokens["manager"], nil), 200)
	if !moved.Start.Equal(time.Date(2027, 6, 15, 9, 0, 0, 0, time.UTC)) || !moved.End.Equal(time.Date(2027, 6, 15, 11, 0, 0, 0, time.UTC)) ||
		moved.RequestedStart != nil || moved.ApprovalPending {
		t.Fatalf("approved move: %+v", moved)
	}
	// Without approval at the site, the producer's move is made at once.
	put(false)
	now := decode[booking.Booking](t, b.do(t, "PATCH", "/api/v1/bookings/"+bk.ID.String(), b.tokens["producer"],
		map[string]any{"start": "2027-06-16T09:00:00Z", "end": "2027-06-16T11:00:00Z"}), 200)
	if !now.Start.Equal(time.Date(2027, 6, 16, 9, 0, 0, 0, time.UTC)) || now.RequestedStart != nil {
		t.Fatalf("move without approval: %+v", now)
	}
}
