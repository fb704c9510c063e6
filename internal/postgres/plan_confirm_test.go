package postgres_test

import (
	"testing"

	"github.com/posthub/posthub/internal/booking"
)

// TestConfirmPlanListsAndHistory: a plan is confirmed whole only once accepted, by its
// own organisation (or a manager), each stage reported; plans and a booking's plan and
// history are confined to the producer's organisation like everything else.
func TestConfirmPlanListsAndHistory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	site := f.site(t, "casablanca")
	p, err := f.db.ProposePlan(f.ctx, f.actors["producer"], booking.PlanRequest{ProductionID: f.prod["producer"], SiteID: site,
		EarliestStart: casa("2027-06-08", 9, 0), Seed: 1,
		Stages: conformThenScreening(9)})
	if err != nil || !p.Placed {
		t.Fatalf("plan: %v %+v", err, p)
	}
	if _, err := f.db.ConfirmPlan(f.ctx, f.actors["producer"], p.ID); booking.ErrorCode(err) != booking.ECONFLICT {
		t.Fatalf("confirming a proposed plan: %v", err)
	}
	if _, _, err := f.db.AcceptPlan(f.ctx, f.actors["producer"], p.ID); err != nil {
		t.Fatal(err)
	}
	accepted, _ := f.db.FindPlan(f.ctx, f.actors["producer"], p.ID)
	first := *accepted.Stages[0].BookingID

	// Lists and the way back from a booking to its plan.
	prod := f.prod["producer"]
	mine, err := f.db.ListPlans(f.ctx, f.actors["producer"], booking.PlanFilter{ProductionID: &prod})
	if err != nil || len(mine) != 1 || mine[0].ID != p.ID || mine[0].Status != "accepted" || mine[0].Stages[0].BookingStatus != "hold" {
		t.Fatalf("the producer's plans: %v %+v", err, mine)
	}
	if others, err := f.db.ListPlans(f.ctx, f.actors["producer_other"], booking.PlanFilter{}); err != nil || len(others) != 0 {
		t.Errorf("another company lists %d plans (%v)", len(others), err)
	}
	if got, stage, err := f.db.PlanOfBooking(f.ctx, f.actors["producer"], first); err != nil || got.ID != p.ID || stage != "conform" {
		t.Errorf("plan of the first stage's booking: %v %s %s", err, got.ID, stage)
	}
	if _, _, err := f.db.PlanOfBooking(f.ctx, f.actors["producer_other"], first); booking.ErrorCode(err) != booking.ENOTFOUND {
		t.Errorf("another company's plan of a booking: %v", err)
	}
	if _, err := f.db.ConfirmPlan(f.ctx, f.actors["producer_other"], p.ID); booking.ErrorCode(err) != booking.ENOTFOUND {
		t.Errorf("another company confirming: %v", err)
	}
	if _, err := f.db.BookingHistory(f.ctx, f.actors["producer_other"], first); booking.ErrorCode(err) != booking.ENOTFOUND {
		t.Errorf("another company's booking history: %v", err)
	}

	// The first stage's hold is released; the rest is confirmed in one go.
	f.act(t, "producer", first, booking.ActionRelease)
	res, err := f.db.ConfirmPlan(f.ctx, f.actors["producer"], p.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range res.Stages {
		got[s.StageID] = s.Outcome + "/" + string(s.Status)
	}
	if got["conform"] != booking.StageSkipped+"/released" || got["screen"] != booking.StageConfirmed+"/confirmed" {
		t.Errorf("outcomes %v", got)
	}
	if res.Plan.Stages[1].BookingStatus != "confirmed" {
		t.Errorf("the plan after confirming: %+v", res.Plan.Stages)
	}
	again, err := f.db.ConfirmPlan(f.ctx, f.actors["producer"], p.ID)
	if err != nil || again.Stages[1].Outcome != booking.StageAlreadyConfirmed {
		t.Errorf("confirming again: %v %+v", err, again.Stages)
	}
	// The history of the confirmed stage: placed, then confirmed, by its producer.
	h, err := f.db.BookingHistory(f.ctx, f.actors["producer"], *accepted.Stages[1].BookingID)
	if err != nil || len(h) != 2 || h[0].Action != "booking.created" || h[1].Action != "booking.confirm" ||
		h[1].After == nil || h[1].After.Status != booking.StatusConfirmed || h[1].ActorRole != "producer" || h[1].ActorName == "" {
		t.Errorf("history: %v %+v", err, h)
	}
	// A manager sees names; the producer of another company would not (confined above).
	if mh, err := f.db.BookingHistory(f.ctx, f.actors["manager"], *accepted.Stages[1].BookingID); err != nil || mh[1].ActorName != h[1].ActorName {
		t.Errorf("the manager's history: %v %+v", err, mh)
	}
}

// conformThenScreening is a two-stage plan: a conform of these working hours on the
// DCP mastering room, then a four-hour screening after it.
func conformThenScreening(conformHours float64) []booking.StageSpec {
	return []booking.StageSpec{
		{ID: "conform", Name: "Conform", Hours: conformHours, Demands: []booking.Demand{{Kind: "dcp_mastering"}}},
		{ID: "screen", Name: "Screening", Hours: 4, Demands: []booking.Demand{{Kind: "screening_room"}},
			After: []booking.StageLink{{From: "conform"}}},
	}
}
