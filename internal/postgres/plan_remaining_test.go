package postgres_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/dbtest"
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
	site := f.site(t, "casablanca")
	room := f.resourceNamed(t, "Screening Room — Salle Atlas")
	blocker := f.book(t, "manager", f.prod["producer"], []uuid.UUID{room}, casa("2027-06-08", 9, 0), casa("2027-06-09", 19, 0), booking.StatusConfirmed, 0)
	p, err := f.db.ProposePlan(f.ctx, f.actors["producer"], booking.PlanRequest{ProductionID: f.prod["producer"], SiteID: site,
		EarliestStart: casa("2027-06-08", 9, 0), Seed: 1,
		Stages: conformThenScreening(9)})
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
	site := f.site(t, "casablanca")
	dcp := f.resourceNamed(t, "DCP Mastering")
	p, err := f.db.ProposePlan(f.ctx, f.actors["producer"], booking.PlanRequest{ProductionID: f.prod["producer"], SiteID: site,
		EarliestStart: casa("2027-06-08", 9, 0), Seed: 1,
		Stages: conformThenScreening(9)})
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

// TestReplanRemainingPropertyKeepsEveryLink: random plans (chains of stages of random
// kinds, hours and lags, with a link skipping a stage now and then) are accepted; then
// each stage's booking is confirmed, released or left a hold at random, and random
// confirmed bookings take some capacity. The remaining stages are re-planned and the
// proposal accepted. Read back as it stands, every new plan keeps its kept stages'
// bookings where they were, has every other stage held, at or after the re-plan's
// release, and after each predecessor by at least the link's minimum lag in the site's
// working time (an independent check on the calendar); the old plan is superseded and
// none of its holds is left.
func TestReplanRemainingPropertyKeepsEveryLink(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	site := f.site(t, "casablanca")
	cal := dbtest.SiteCalendar(t, f.db, site)
	opts := calendar.Options{AvoidProvisional: true}
	kinds := []string{"dcp_mastering", "screening_room", "edit_suite", "mix_stage", "grading_suite"}
	rng := rand.New(rand.NewPCG(3, 17))
	replaced := 0
	for round := range 8 {
		weekStart := casa("2027-05-03", 0, 0).AddDate(0, 0, 14*round) // a Monday
		var stages []booking.StageSpec
		for j := range 3 + rng.IntN(3) {
			st := booking.StageSpec{ID: fmt.Sprintf("s%d", j), Name: fmt.Sprintf("Stage %d", j), Hours: float64(2 + rng.IntN(14)),
				Demands: []booking.Demand{{Kind: kinds[rng.IntN(len(kinds))]}}}
			if j > 0 {
				st.After = []booking.StageLink{{From: fmt.Sprintf("s%d", j-1), MinLagHours: float64(rng.IntN(3) * 2)}}
			}
			if j > 1 && rng.IntN(3) == 0 {
				st.After = append(st.After, booking.StageLink{From: fmt.Sprintf("s%d", j-2), MinLagHours: float64(rng.IntN(2) * 4)})
			}
			stages = append(stages, st)
		}
		earliest := weekStart.AddDate(0, 0, rng.IntN(2)).Add(9 * time.Hour)
		p, err := f.db.ProposePlan(f.ctx, f.actors["producer"], booking.PlanRequest{ProductionID: f.prod["producer"], SiteID: site,
			EarliestStart: earliest, Seed: uint64(round), Stages: stages})
		if err != nil || !p.Placed {
			t.Fatalf("round %d: plan %v %+v", round, err, p.Unmet)
		}
		if _, _, err := f.db.AcceptPlan(f.ctx, f.actors["producer"], p.ID); err != nil {
			t.Fatalf("round %d: accept: %v", round, err)
		}
		old, _ := f.db.FindPlan(f.ctx, booking.System, p.ID)
		kept := map[string]booking.PlannedStage{}
		var holds []uuid.UUID
		for _, s := range old.Stages {
			switch rng.IntN(3) {
			case 0:
				f.act(t, "manager", *s.BookingID, booking.ActionConfirm)
				now, _ := f.db.FindBooking(f.ctx, booking.System, *s.BookingID)
				if now.Status == booking.StatusConfirmed {
					kept[s.ID] = s
				} else {
					holds = append(holds, *s.BookingID) // a challenge: still a hold
				}
			case 1:
				f.act(t, "producer", *s.BookingID, booking.ActionRelease)
			default:
				holds = append(holds, *s.BookingID)
			}
		}
		for range 2 {
			k := kinds[rng.IntN(len(kinds))]
			rows, _ := f.db.Pool.Query(f.ctx, `SELECT r.id FROM resources r JOIN sites s ON s.id = r.site_id WHERE s.slug = 'casablanca' AND r.kind = $1`, k)
			res, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
			if err != nil {
				t.Fatal(err)
			}
			day := weekStart.AddDate(0, 0, rng.IntN(5))
			_, _ = f.db.Book(f.ctx, f.actors["manager"], booking.BookingInput{ProductionID: f.prod["producer_other"], ResourceIDs: res[:1],
				Start: day.Add(9 * time.Hour), End: day.Add(17 * time.Hour), Status: booking.StatusConfirmed}) // where free
		}

		r, err := f.db.ReplanRemaining(f.ctx, f.actors["producer"], p.ID)
		if len(kept) == len(old.Stages) {
			if booking.ErrorCode(err) != booking.ECONFLICT {
				t.Errorf("round %d: re-planning a plan confirmed whole: %v", round, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("round %d: re-plan: %v", round, err)
		}
		if !r.Placed {
			if len(r.Unmet) == 0 {
				t.Errorf("round %d: an unplaced proposal names no stage", round)
			}
			continue
		}
		if _, _, err := f.db.AcceptPlan(f.ctx, f.actors["producer"], r.ID); err != nil {
			t.Fatalf("round %d: accepting the re-plan: %v", round, err)
		}
		replaced++
		live, err := f.db.FindPlan(f.ctx, booking.System, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		release := earliest
		if f.now.After(release) {
			release = f.now
		}
		at := map[string]booking.PlannedStage{}
		for _, s := range live.Stages {
			at[s.ID] = s
			if k, ok := kept[s.ID]; ok {
				if s.BookingID == nil || *s.BookingID != *k.BookingID || !s.Start.Equal(k.Start) || s.BookingStatus != "confirmed" {
					t.Errorf("round %d: kept stage %s is now %+v, was %+v", round, s.ID, s, k)
				}
				continue
			}
			if s.BookingStatus != "hold" || s.Start.Before(release) {
				t.Errorf("round %d: stage %s re-planned to %v (%s), release %v", round, s.ID, s.Start, s.BookingStatus, release)
			}
		}
		if len(at) != len(stages) {
			t.Errorf("round %d: the new plan has %d stages of %d", round, len(at), len(stages))
		}
		for _, spec := range stages {
			s := at[spec.ID]
			for _, l := range spec.After {
				pred := at[l.From]
				lag := cal.WorkingHoursBetween(pred.End, s.Start, opts)
				if s.Start.Before(pred.End) || lag < time.Duration(l.MinLagHours*float64(time.Hour)) {
					t.Errorf("round %d: stage %s starts %v, %v of working time after %s ends %v; minimum lag %v h",
						round, s.ID, s.Start, lag, l.From, pred.End, l.MinLagHours)
				}
			}
		}
		if o, _ := f.db.FindPlan(f.ctx, booking.System, p.ID); o.Status != "superseded" {
			t.Errorf("round %d: the old plan is %s", round, o.Status)
		}
		for _, h := range holds {
			if b, _ := f.db.FindBooking(f.ctx, booking.System, h); b.Status != booking.StatusReleased {
				t.Errorf("round %d: the old plan's hold %s is %s", round, h, b.Status)
			}
		}
	}
	t.Logf("%d plans replaced over 8 rounds", replaced)
	if replaced < 4 {
		t.Fatalf("only %d plans replaced: the scenarios test too little", replaced)
	}
}
