package httpapi_test

import (
	"testing"

	"github.com/posthub/posthub/internal/booking"
)

// TestReplanRemainingOverAPI: an accepted plan whose grade is confirmed has its
// remaining screening planned again by its producer: the proposal (201, Location)
// replaces the plan and keeps the grade's booking; accepting it releases the old
// screening hold and places the new one, and the old plan is superseded. Another
// company's producer gets 404; a plan that is not accepted, 409.
func TestReplanRemainingOverAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, _, _ := siteAndResources(t, b)
	prods := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	req := map[string]any{"production_id": prods[0].ID, "site_id": site, "earliest_start": "2027-06-07T09:00:00Z", "seed": 1,
		"stages": []map[string]any{
			{"id": "grade", "name": "Grade", "hours": 9, "demands": []map[string]any{{"kind": "grading_suite"}}},
			{"id": "screen", "name": "Screening", "hours": 4, "demands": []map[string]any{{"kind": "screening_room"}}, "after": []map[string]any{{"from": "grade"}}},
		}}
	p := decode[booking.Plan](t, b.do(t, "POST", "/api/v1/plans", b.tokens["producer"], req), 201)
	path := "/api/v1/plans/" + p.ID.String() + "/replan-remaining"
	problem(t, b.do(t, "POST", path, b.tokens["producer"], nil), 409, booking.ECONFLICT)
	acc := decode[struct {
		Plan     booking.Plan      `json:"plan"`
		Bookings []booking.Booking `json:"bookings"`
	}](t, b.do(t, "POST", "/api/v1/plans/"+p.ID.String()+"/accept", b.tokens["producer"], nil), 200)
	grade, screen := *acc.Plan.Stages[0].BookingID, *acc.Plan.Stages[1].BookingID
	decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings/"+grade.String()+"/confirm", b.tokens["manager"], nil), 200)

	problem(t, b.do(t, "POST", path, b.tokens["producer_other"], nil), 404, booking.ENOTFOUND)
	res := b.do(t, "POST", path, b.tokens["producer"], nil)
	loc := res.Header.Get("Location")
	np := decode[booking.Plan](t, res, 201)
	if loc != "/api/v1/plans/"+np.ID.String() || np.Status != "proposed" || !np.Remaining || np.ReplacesID == nil || *np.ReplacesID != p.ID ||
		len(np.Stages) != 2 || np.Stages[0].BookingID == nil || *np.Stages[0].BookingID != grade || np.Stages[1].BookingID != nil ||
		np.Stages[1].Start.Before(np.Stages[0].End) {
		t.Fatalf("proposal (Location %q): %+v", loc, np)
	}
	acc2 := decode[struct {
		Plan     booking.Plan      `json:"plan"`
		Bookings []booking.Booking `json:"bookings"`
	}](t, b.do(t, "POST", "/api/v1/plans/"+np.ID.String()+"/accept", b.tokens["producer"], nil), 200)
	if len(acc2.Bookings) != 1 || acc2.Bookings[0].Status != booking.StatusHold || !acc2.Bookings[0].Start.Equal(np.Stages[1].Start) {
		t.Fatalf("accepted: %+v", acc2.Bookings)
	}
	if old := decode[booking.Booking](t, b.do(t, "GET", "/api/v1/bookings/"+screen.String(), b.tokens["producer"], nil), 200); old.Status != booking.StatusReleased {
		t.Errorf("the old screening hold is %s", old.Status)
	}
	if old := decode[booking.Plan](t, b.do(t, "GET", "/api/v1/plans/"+p.ID.String(), b.tokens["producer"], nil), 200); old.Status != "superseded" {
		t.Errorf("the old plan is %s", old.Status)
	}
	live := decode[booking.Plan](t, b.do(t, "GET", "/api/v1/plans/"+np.ID.String(), b.tokens["producer"], nil), 200)
	if live.Status != "accepted" || live.Stages[0].BookingStatus != "confirmed" || live.Stages[1].BookingStatus != "hold" {
		t.Errorf("the new plan: %+v", live)
	}
	problem(t, b.do(t, "POST", path, b.tokens["producer"], nil), 409, booking.ECONFLICT)
}
