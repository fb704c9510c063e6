package postgres_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// TestReplanRemainingReleasesAndPlacesAtomically: a plan's screening was pushed to
// Thursday by a confirmed booking that is then cancelled; its conform is confirmed.
// Re-planning the remaining stages keeps the conform as it is and proposes the
// screening on Wednesday, after the conform ends (not Tuesday, when the room is free
// but the conform still runs). A booking taken on Wednesday before the proposal is
// accepted refuses the acceptance whole — the old hold stays, no new hold is placed,
// the old plan stays accepted — and the refusal carries a new proposal; accepting that
// one releases the old hold and places the new one in one transaction, and the old
// plan is superseded. Planned again with nothing changed, the screening keeps its slot:
// the plan's own holds are not in its way. Another company's producer sees nothing.
func TestReplanRemainingReleasesAndPlacesAtomically(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var site uuid.UUID
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT id FROM sites WHERE slug = 'casablanca'`).Scan(&site); err != nil {
		t.Fatal(err)
	}
	room := f.resourceNamed(t, "Screening Room — Salle Atlas")
	blocker := f.book(t, "manager", f.prod["producer"], []uuid.UUID{room}, casa("2027-06-08", 9, 0), casa("2027-06-09", 19, 0), booking.StatusConfirmed, 0)
	p, err := f.db.ProposePlan(f.ctx, f.actors["producer"], booking.PlanRequest{ProductionID: f.prod["producer"], SiteID: site,
		EarliestStart: casa("2027-06-08", 9, 0), Seed: 1,
		Stages: []booking.StageSpec{
			{ID: "conform", Name: "Conform", Hours: 9, Demands: []booking.Demand{{Kind: "dcp_mastering"}}},
			{ID: "screen", Name: "Screening", Hours: 4, Demands: []booking.Demand{{Kind: "screening_room"}},
				After: []booking.StageLink{{From: "conform"}}},
		}})
	if err != nil || !p.Placed || !p.Stages[1].Start.Equal(casa("2027-06-10", 9, 0)) {
		t.Fatalf("plan: %v %+v", err, p.Stages)
	}
	if _, err := f.db.ReplanRemaining(f.ctx, f.actors["producer"], p.ID); booking.ErrorCode(err) != booking.ECONFLICT {
		t.Errorf("re-planning a proposed plan: %v", err)
	}
	if _, _, err := f.db.AcceptPlan(f.ctx, f.actors["producer"], p.ID); err != nil {
		t.Fatal(err)
	}
	conform, oldScreen := f.stageBooking(t, p.ID, "conform"), f.stageBooking(t, p.ID, "screen")
	f.act(t, "producer", conform, booking.ActionConfirm)
	f.act(t, "manager", blocker.ID, booking.ActionCancel)

	if _, err := f.db.ReplanRemaining(f.ctx, f.actors["producer_other"], p.ID); booking.ErrorCode(err) != booking.ENOTFOUND {
		t.Errorf("another company re-planning: %v", err)
	}
	if _, err := f.db.ReplanRemaining(f.ctx, f.actors["manager"], p.ID); err != nil {
		t.Errorf("a manager re-planning: %v", err)
	}
	r1, err := f.db.ReplanRemaining(f.ctx, f.actors["producer"], p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Status != "proposed" || !r1.Remaining || r1.ReplacesID == nil || *r1.ReplacesID != p.ID || !r1.Placed || len(r1.Stages) != 2 {
		t.Fatalf("proposal %+v", r1)
	}
	if k := r1.Stages[0]; k.ID != "conform" || k.BookingID == nil || *k.BookingID != conform || !k.Start.Equal(p.Stages[0].Start) || k.Changed != nil {
		t.Errorf("the confirmed conform does not stay as it is: %+v", k)
	}
	if s := r1.Stages[1]; !s.Start.Equal(casa("2027-06-09", 9, 0)) || s.BookingID != nil || s.Changed == nil ||
		!s.Changed.PreviousStart.Equal(casa("2027-06-10", 9, 0)) {
		t.Errorf("the screening is proposed %v (changed %+v), want Wednesday 09:00, after the conform, moved from Thursday", s.Start, s.Changed)
	}

	// A booking on Wednesday morning: accepting refuses, and nothing happens.
	taken := f.book(t, "manager", f.prod["producer_other"], []uuid.UUID{room}, casa("2027-06-09", 9, 0), casa("2027-06-09", 12, 0), booking.StatusConfirmed, 0)
	before := holdsOf(t, f, f.prod["producer"])
	_, _, err = f.db.AcceptPlan(f.ctx, f.actors["producer"], r1.ID)
	if booking.ErrorCode(err) != booking.ECONFLICT {
		t.Fatalf("accepting over a taken slot: %v", err)
	}
	var be *booking.Error
	r2, ok := err.(*booking.Error).Details["replanned"].(booking.Plan)
	if be = err.(*booking.Error); !ok || r2.ReplacesID == nil || *r2.ReplacesID != p.ID || !r2.Placed || r2.Stages[1].Start.Before(taken.End) {
		t.Fatalf("the refusal's new proposal: %v %+v", be, r2)
	}
	if after := holdsOf(t, f, f.prod["producer"]); len(after) != len(before) || after[oldScreen] != booking.StatusHold {
		t.Errorf("a refused acceptance changed the holds: before %v, after %v", before, after)
	}
	if old, _ := f.db.FindPlan(f.ctx, f.actors["producer"], p.ID); old.Status != "accepted" {
		t.Errorf("the old plan is %s after a refused acceptance", old.Status)
	}
	if stale, _ := f.db.FindPlan(f.ctx, f.actors["producer"], r1.ID); stale.Status != "superseded" {
		t.Errorf("the refused proposal is %s", stale.Status)
	}

	// The new proposal is accepted: the old hold goes and the new one comes together.
	f.events = nil
	accepted, holds, err := f.db.AcceptPlan(f.ctx, f.actors["producer"], r2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(holds) != 1 || !holds[0].Start.Equal(r2.Stages[1].Start) || accepted.Stages[0].BookingID == nil || *accepted.Stages[0].BookingID != conform {
		t.Fatalf("accepted %+v, holds %+v", accepted.Stages, holds)
	}
	after := holdsOf(t, f, f.prod["producer"])
	if after[oldScreen] != booking.StatusReleased || after[holds[0].ID] != booking.StatusHold || after[conform] != booking.StatusConfirmed {
		t.Errorf("after acceptance: %v", after)
	}
	kinds := map[booking.EventKind]int{}
	for _, e := range f.events {
		if e.ProductionID == f.prod["producer"] {
			kinds[e.Kind]++
		}
	}
	if kinds[booking.EventReleased] != 1 || kinds[booking.EventHoldPlaced] != 1 {
		t.Errorf("events of the acceptance: %v", kinds)
	}
	old, _ := f.db.FindPlan(f.ctx, f.actors["producer"], p.ID)
	live, _ := f.db.FindPlan(f.ctx, f.actors["producer"], r2.ID)
	if old.Status != "superseded" || live.Status != "accepted" || live.Stages[0].BookingStatus != "confirmed" || live.Stages[1].BookingStatus != "hold" {
		t.Errorf("old plan %s; new plan %s %+v", old.Status, live.Status, live.Stages)
	}
	if got, stage, err := f.db.PlanOfBooking(f.ctx, f.actors["producer"], conform); err != nil || got.ID != r2.ID || stage != "conform" {
		t.Errorf("the kept booking's plan: %v %s %s", err, got.ID, stage)
	}
	if _, err := f.db.ReplanRemaining(f.ctx, f.actors["producer"], p.ID); booking.ErrorCode(err) != booking.ECONFLICT {
		t.Errorf("re-planning a superseded plan: %v", err)
	}

	// Nothing changed: the screening keeps its slot.
	r3, err := f.db.ReplanRemaining(f.ctx, f.actors["producer"], r2.ID)
	if err != nil || !r3.Placed || !r3.Stages[1].Start.Equal(holds[0].Start) || r3.Stages[1].Changed != nil {
		t.Errorf("re-planned with nothing changed: %v %+v", err, r3.Stages)
	}

	// Every stage confirmed: nothing remains.
	f.act(t, "producer", holds[0].ID, booking.ActionConfirm)
	if _, err := f.db.ReplanRemaining(f.ctx, f.actors["producer"], r2.ID); booking.ErrorCode(err) != booking.ECONFLICT {
		t.Errorf("re-planning a confirmed plan: %v", err)
	}
	// The proposal made before the screening was confirmed no longer fits: refused.
	if _, _, err := f.db.AcceptPlan(f.ctx, f.actors["producer"], r3.ID); booking.ErrorCode(err) != booking.ECONFLICT {
		t.Errorf("accepting a proposal whose remaining stages changed since: %v", err)
	}
	if after := holdsOf(t, f, f.prod["producer"]); after[holds[0].ID] != booking.StatusConfirmed {
		t.Errorf("the confirmed screening is %s", after[holds[0].ID])
	}
}

// holdsOf is the status of each of a production's bookings.
func holdsOf(t *testing.T, f *fixture, prod uuid.UUID) map[uuid.UUID]booking.Status {
	t.Helper()
	out := map[uuid.UUID]booking.Status{}
	rows, err := f.db.Pool.Query(f.ctx, `SELECT id, status FROM booking_groups WHERE production_id = $1`, prod)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var st booking.Status
		if err := rows.Scan(&id, &st); err != nil {
			t.Fatal(err)
		}
		out[id] = st
	}
	return out
}

// TestReplanRemainingKeepsTheOrderAroundKeptStages: the screening is confirmed and the
// conform before it released. Re-planned while the DCP room is taken until the
// screening starts, the conform cannot end before the kept screening: the proposal
// is not placed and names it, and cannot be accepted. With the room free again the
// conform is proposed before the screening; but the screening is moved before the
// proposal is accepted, so the acceptance is refused whole — nothing placed, nothing
// released — and the refusal carries a proposal made around the screening's new slot.
func TestReplanRemainingKeepsTheOrderAroundKeptStages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var site uuid.UUID
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT id FROM sites WHERE slug = 'casablanca'`).Scan(&site); err != nil {
		t.Fatal(err)
	}
	dcp := f.resourceNamed(t, "DCP Mastering")
	p, err := f.db.ProposePlan(f.ctx, f.actors["producer"], booking.PlanRequest{ProductionID: f.prod["producer"], SiteID: site,
		EarliestStart: casa("2027-06-08", 9, 0), Seed: 1,
		Stages: []booking.StageSpec{
			{ID: "conform", Name: "Conform", Hours: 9, Demands: []booking.Demand{{Kind: "dcp_mastering"}}},
			{ID: "screen", Name: "Screening", Hours: 4, Demands: []booking.Demand{{Kind: "screening_room"}},
				After: []booking.StageLink{{From: "conform"}}},
		}})
	if err != nil || !p.Placed {
		t.Fatalf("plan: %v %+v", err, p)
	}
	if _, _, err := f.db.AcceptPlan(f.ctx, f.actors["producer"], p.ID); err != nil {
		t.Fatal(err)
	}
	conform, screen := f.stageBooking(t, p.ID, "conform"), f.stageBooking(t, p.ID, "screen")
	f.act(t, "producer", screen, booking.ActionConfirm)
	f.act(t, "producer", conform, booking.ActionRelease)
	taken := f.book(t, "manager", f.prod["producer_other"], []uuid.UUID{dcp}, casa("2027-06-08", 9, 0), casa("2027-06-08", 19, 0), booking.StatusConfirmed, 0)

	late, err := f.db.ReplanRemaining(f.ctx, f.actors["producer"], p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if late.Placed || late.Feasible || len(late.Unmet) != 1 || late.Unmet[0] != "conform" {
		t.Fatalf("a conform that cannot end before the kept screening: placed %v, unmet %v, stages %+v", late.Placed, late.Unmet, late.Stages)
	}
	if _, _, err := f.db.AcceptPlan(f.ctx, f.actors["producer"], late.ID); booking.ErrorCode(err) != booking.EUNPROCESSABLE {
		t.Errorf("accepting an unplaced proposal: %v", err)
	}

	f.act(t, "manager", taken.ID, booking.ActionCancel)
	r, err := f.db.ReplanRemaining(f.ctx, f.actors["producer"], p.ID)
	if err != nil || !r.Placed || !r.Stages[0].Start.Equal(casa("2027-06-08", 9, 0)) || r.Stages[0].End.After(r.Stages[1].Start) {
		t.Fatalf("re-planned with the room free: %v %+v", err, r.Stages)
	}
	if _, err := f.db.Reschedule(f.ctx, f.actors["manager"], screen, casa("2027-06-10", 9, 0), casa("2027-06-10", 13, 0), booking.ActOptions{}); err != nil {
		t.Fatal(err)
	}
	before := holdsOf(t, f, f.prod["producer"])
	_, _, err = f.db.AcceptPlan(f.ctx, f.actors["producer"], r.ID)
	if booking.ErrorCode(err) != booking.ECONFLICT {
		t.Fatalf("accepting around a kept stage that moved: %v", err)
	}
	if after := holdsOf(t, f, f.prod["producer"]); len(after) != len(before) {
		t.Errorf("a refused acceptance placed holds: %v → %v", before, after)
	}
	again, ok := err.(*booking.Error).Details["replanned"].(booking.Plan)
	if !ok || !again.Placed || !again.Stages[1].Start.Equal(casa("2027-06-10", 9, 0)) || again.Stages[0].End.After(again.Stages[1].Start) {
		t.Fatalf("the refusal's proposal: %+v", again)
	}
	if _, holds, err := f.db.AcceptPlan(f.ctx, f.actors["producer"], again.ID); err != nil || len(holds) != 1 || !holds[0].Start.Equal(again.Stages[0].Start) {
		t.Fatalf("accepting the fresh proposal: %v %+v", err, holds)
	}
}
