package httpapi_test

import (
	"testing"

	"github.com/posthub/posthub/internal/booking"
)

// TestPlanListAndConfirmAllOverAPI: a producer lists their production's plans (another
// company sees none of them), confirms a whole accepted plan in one request — every
// stage's hold confirmed, or sent for approval where the site wants it — and a second
// confirm-all changes nothing; another company's producer gets 404.
func TestPlanListAndConfirmAllOverAPI(t *testing.T) {
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
	decode[map[string]any](t, b.do(t, "POST", "/api/v1/plans/"+p.ID.String()+"/accept", b.tokens["producer"], nil), 200)

	listed := decode[listOf[booking.Plan]](t, b.do(t, "GET", "/api/v1/plans?production_id="+prods[0].ID.String(), b.tokens["producer"], nil), 200).Items
	if len(listed) != 1 || listed[0].ID != p.ID || listed[0].Status != "accepted" {
		t.Fatalf("the production's plans: %+v", listed)
	}
	if others := decode[listOf[booking.Plan]](t, b.do(t, "GET", "/api/v1/plans", b.tokens["producer_other"], nil), 200).Items; len(others) != 0 {
		t.Fatalf("another company lists %d plans", len(others))
	}
	problem(t, b.do(t, "POST", "/api/v1/plans/"+p.ID.String()+"/confirm", b.tokens["producer_other"], nil), 404, booking.ENOTFOUND)
	problem(t, b.do(t, "GET", "/api/v1/plans?limit=0", b.tokens["producer"], nil), 400, booking.EINVALID)

	policy := decode[booking.SitePolicy](t, b.do(t, "GET", "/api/v1/sites/"+site.String()+"/policy", b.tokens["manager"], nil), 200)
	c := decode[booking.PlanConfirmation](t, b.do(t, "POST", "/api/v1/plans/"+p.ID.String()+"/confirm", b.tokens["producer"], nil), 200)
	want := booking.StageConfirmed
	if policy.ConfirmNeedsApproval {
		want = booking.StageApprovalRequested
	}
	if len(c.Stages) != 2 {
		t.Fatalf("confirmation %+v", c)
	}
	for _, s := range c.Stages {
		if s.Outcome != want || s.BookingID == nil {
			t.Fatalf("stage %+v, want %s", s, want)
		}
		bk := decode[booking.Booking](t, b.do(t, "GET", "/api/v1/bookings/"+s.BookingID.String(), b.tokens["producer"], nil), 200)
		if (want == booking.StageConfirmed) != (bk.Status == booking.StatusConfirmed) || (want == booking.StageApprovalRequested) != bk.ApprovalPending {
			t.Fatalf("booking after confirm-all %+v", bk)
		}
	}
	again := decode[booking.PlanConfirmation](t, b.do(t, "POST", "/api/v1/plans/"+p.ID.String()+"/confirm", b.tokens["producer"], nil), 200)
	for i, s := range again.Stages {
		if s.Status != c.Stages[i].Status {
			t.Fatalf("a second confirm-all changed stage %s: %+v → %+v", s.StageID, c.Stages[i], s)
		}
	}
}

// TestPlanAnswersHaveNoNullsOrZeroes: a plan that places nothing answers stages as an
// empty list, not null; a placed plan's quote is a preview without a zero id or a
// year-one date.
func TestPlanAnswersHaveNoNullsOrZeroes(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, _, _ := siteAndResources(t, b)
	prods := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	stage := func(kind string) map[string]any {
		return map[string]any{"production_id": prods[0].ID, "site_id": site, "earliest_start": "2027-06-07T09:00:00Z", "seed": 1,
			"stages": []map[string]any{{"id": "s", "name": "S", "hours": 4, "demands": []map[string]any{{"kind": kind}}}}}
	}
	raw := decode[map[string]any](t, b.do(t, "POST", "/api/v1/plans", b.tokens["producer"], stage("telecine")), 201)
	if st, ok := raw["stages"].([]any); !ok || len(st) != 0 || raw["placed"] != false {
		t.Fatalf("an unplaced plan: stages %#v, placed %v", raw["stages"], raw["placed"])
	}
	raw = decode[map[string]any](t, b.do(t, "POST", "/api/v1/plans", b.tokens["producer"], stage("grading_suite")), 201)
	q, _ := raw["quote"].(map[string]any)
	if q == nil || q["total_minor"] == nil {
		t.Fatalf("a placed plan's quote %v", raw["quote"])
	}
	if _, ok := q["id"]; ok {
		t.Fatalf("the plan's preview quote has an id %v", q["id"])
	}
	if _, ok := q["created_at"]; ok {
		t.Fatalf("the plan's preview quote has a created_at %v", q["created_at"])
	}
}
