package httpapi_test

import (
	"testing"
	"time"

	"github.com/posthub/posthub/internal/booking"
)

// TestWhatIfReplanMovesHoldsOnlyWhenApplied: holds placed late in a week are packed
// earlier by a manager's what-if; nothing moves until the manager applies it, and a
// hold that changed meanwhile makes the whole application refuse.
func TestWhatIfReplanMovesHoldsOnlyWhenApplied(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, suite, _ := siteAndResources(t, b)
	prods := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	// Two holds on Thursday and Friday; Monday to Wednesday are free.
	late := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], map[string]any{
		"production_id": prods[0].ID, "resource_id": suite, "start": "2027-03-18T09:00:00Z", "end": "2027-03-18T13:00:00Z"}), 201)
	later := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], map[string]any{
		"production_id": prods[0].ID, "resource_id": suite, "start": "2027-03-19T09:00:00Z", "end": "2027-03-19T13:00:00Z"}), 201)
	req := map[string]any{"site_id": site, "from": "2027-03-15T00:00:00Z", "to": "2027-03-22T00:00:00Z"}
	problem(t, b.do(t, "POST", "/api/v1/replans", b.tokens["producer"], req), 403, booking.EFORBIDDEN)
	rp := decode[booking.Replan](t, b.do(t, "POST", "/api/v1/replans", b.tokens["manager"], req), 201)
	if rp.Holds != 2 || len(rp.Moves) != 2 || rp.HoursEarlier <= 0 {
		t.Fatalf("re-plan: %+v", rp)
	}
	for _, m := range rp.Moves {
		if !m.ToEnd.Before(m.FromEnd) || m.ToEnd.Sub(m.ToStart) != 4*time.Hour && m.ToStart.Hour() != 9 {
			t.Fatalf("move: %+v", m)
		}
	}
	// Proposed only: the holds have not moved.
	if got := decode[booking.Booking](t, b.do(t, "GET", "/api/v1/bookings/"+late.ID.String(), b.tokens["producer"], nil), 200); !got.Start.Equal(late.Start) {
		t.Fatalf("a proposal moved a hold: %+v", got)
	}
	applied := decode[booking.Replan](t, b.do(t, "POST", "/api/v1/replans/"+rp.ID.String()+"/apply", b.tokens["manager"], nil), 200)
	if applied.Status != "applied" {
		t.Fatalf("apply: %+v", applied)
	}
	for _, m := range rp.Moves {
		got := decode[booking.Booking](t, b.do(t, "GET", "/api/v1/bookings/"+m.BookingID.String(), b.tokens["producer"], nil), 200)
		if !got.Start.Equal(m.ToStart) || !got.End.Equal(m.ToEnd) || got.Status != booking.StatusHold {
			t.Fatalf("after apply: %+v, want %+v", got, m)
		}
	}
	problem(t, b.do(t, "POST", "/api/v1/replans/"+rp.ID.String()+"/apply", b.tokens["manager"], nil), 409, booking.ECONFLICT)

	// A second proposal goes stale when a hold changes before it is applied.
	third := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], map[string]any{
		"production_id": prods[0].ID, "resource_id": suite, "start": "2027-03-26T09:00:00Z", "end": "2027-03-26T12:00:00Z"}), 201)
	rp2 := decode[booking.Replan](t, b.do(t, "POST", "/api/v1/replans", b.tokens["manager"], map[string]any{
		"site_id": site, "from": "2027-03-22T00:00:00Z", "to": "2027-03-29T00:00:00Z"}), 201)
	if len(rp2.Moves) != 1 {
		t.Fatalf("second re-plan: %+v", rp2)
	}
	decode[booking.Booking](t, b.do(t, "PATCH", "/api/v1/bookings/"+third.ID.String(), b.tokens["producer"], map[string]any{
		"start": "2027-03-25T14:00:00Z", "end": "2027-03-25T17:00:00Z"}), 200)
	problem(t, b.do(t, "POST", "/api/v1/replans/"+rp2.ID.String()+"/apply", b.tokens["manager"], nil), 412, booking.EPRECONDITION)
	_ = later
}
