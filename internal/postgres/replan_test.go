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

// TestReplanKeepsThePlan: a plan's conform and screening were pushed to Thursday and
// Friday by a confirmed booking that is then cancelled. The manager's what-if brings
// them earlier but keeps the plan: not before its earliest start (Tuesday), the
// screening after the conform. Applied, the plan shows where its stages are now.
func TestReplanKeepsThePlan(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	site := f.site(t, "casablanca")
	dcp := f.resourceNamed(t, "DCP Mastering")
	blocker := f.book(t, "manager", f.prod["producer"], []uuid.UUID{dcp}, casa("2027-06-08", 9, 0), casa("2027-06-09", 19, 0), booking.StatusConfirmed, 0)
	p, err := f.db.ProposePlan(f.ctx, f.actors["producer"], booking.PlanRequest{ProductionID: f.prod["producer"], SiteID: site,
		EarliestStart: casa("2027-06-08", 9, 0), Seed: 1,
		Stages: conformThenScreening(9)})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Placed || !p.Stages[0].Start.Equal(casa("2027-06-10", 9, 0)) || !p.Stages[1].Start.Equal(casa("2027-06-11", 9, 0)) {
		t.Fatalf("plan %+v", p.Stages)
	}
	if _, _, err := f.db.AcceptPlan(f.ctx, f.actors["producer"], p.ID); err != nil {
		t.Fatal(err)
	}
	f.act(t, "manager", blocker.ID, booking.ActionCancel)

	rp, err := f.db.ProposeReplan(f.ctx, f.actors["manager"], site, casa("2027-06-07", 0, 0), casa("2027-06-14", 0, 0), "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]time.Time{
		"conform": {casa("2027-06-08", 9, 0), casa("2027-06-08", 19, 0)}, // Tuesday, not Monday: the plan starts then
		"screen":  {casa("2027-06-09", 9, 0), casa("2027-06-09", 13, 0)}, // after the conform
	}
	byBooking := map[uuid.UUID]string{}
	for _, s := range p.Stages {
		byBooking[f.stageBooking(t, p.ID, s.ID)] = s.ID
	}
	if len(rp.Moves) != 2 {
		t.Fatalf("moves %+v", rp.Moves)
	}
	for _, m := range rp.Moves {
		w := want[byBooking[m.BookingID]]
		if !m.ToStart.Equal(w[0]) || !m.ToEnd.Equal(w[1]) {
			t.Errorf("%s moves to %v – %v, want %v – %v", byBooking[m.BookingID], m.ToStart, m.ToEnd, w[0], w[1])
		}
	}
	// Two working days earlier each: 18 working hours.
	if rp.HoursEarlier != 36 {
		t.Errorf("hours earlier %v, want 36 (18 working hours each)", rp.HoursEarlier)
	}
	if _, err := f.db.ApplyReplan(f.ctx, f.actors["manager"], rp.ID); err != nil {
		t.Fatal(err)
	}
	live, err := f.db.FindPlan(f.ctx, f.actors["producer"], p.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range live.Stages {
		w := want[s.ID]
		if s.BookingStatus != "hold" || !s.Start.Equal(w[0]) || !s.End.Equal(w[1]) || s.Changed == nil ||
			!s.Changed.PreviousStart.Equal(p.Stages[i].Start) {
			t.Errorf("live stage %+v (changed %+v), want it at %v – %v, moved from %v", s, s.Changed, w[0], w[1], p.Stages[i].Start)
		}
	}
}

// stageBooking is the booking an accepted plan placed for a stage.
func (f *fixture) stageBooking(t *testing.T, plan uuid.UUID, stage string) uuid.UUID {
	t.Helper()
	p, err := f.db.FindPlan(f.ctx, booking.System, plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Stages {
		if s.ID == stage && s.BookingID != nil {
			return *s.BookingID
		}
	}
	t.Fatalf("stage %s has no booking", stage)
	return uuid.Nil
}

// TestReplanPropertyKeepsEveryPlan: plans of random chains of stages (random kinds,
// hours and lags), pushed late by random confirmed bookings that are then cancelled,
// are re-planned over random windows and applied; afterwards every accepted plan,
// read back as it stands, has each stage at or after its earliest start and after
// its predecessors by at least their minimum lag in the site's working time (an
// independent check on the calendar), and no hold ends later than before.
func TestReplanPropertyKeepsEveryPlan(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	site := f.site(t, "casablanca")
	cal := dbtest.SiteCalendar(t, f.db, site)
	opts := calendar.Options{AvoidProvisional: true}
	kinds := []string{"dcp_mastering", "screening_room", "edit_suite", "mix_stage", "grading_suite"}
	rng := rand.New(rand.NewPCG(7, 11))
	moved := 0
	for round := range 6 {
		weekStart := casa("2027-05-03", 0, 0).AddDate(0, 0, 14*round) // a Monday
		var blockers []uuid.UUID
		for range 3 {
			k := kinds[rng.IntN(len(kinds))]
			var res []uuid.UUID
			rows, _ := f.db.Pool.Query(f.ctx, `SELECT r.id FROM resources r JOIN sites s ON s.id = r.site_id WHERE s.slug = 'casablanca' AND r.kind = $1`, k)
			res, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
			if err != nil {
				t.Fatal(err)
			}
			day := weekStart.AddDate(0, 0, rng.IntN(3))
			b, err := f.db.Book(f.ctx, f.actors["manager"], booking.BookingInput{ProductionID: f.prod["producer"], ResourceIDs: res,
				Start: day.Add(9 * time.Hour), End: day.Add(time.Duration(24+19) * time.Hour), Status: booking.StatusConfirmed})
			if err == nil {
				blockers = append(blockers, b.ID)
			}
		}
		var plans []uuid.UUID
		for range 2 {
			var stages []booking.StageSpec
			for j := range 2 + rng.IntN(3) {
				st := booking.StageSpec{ID: fmt.Sprintf("s%d", j), Name: fmt.Sprintf("Stage %d", j), Hours: float64(2 + rng.IntN(14)),
					Demands: []booking.Demand{{Kind: kinds[rng.IntN(len(kinds))]}}}
				if j > 0 {
					st.After = []booking.StageLink{{From: fmt.Sprintf("s%d", j-1), MinLagHours: float64(rng.IntN(3) * 2)}}
				}
				stages = append(stages, st)
			}
			p, err := f.db.ProposePlan(f.ctx, f.actors["producer"], booking.PlanRequest{ProductionID: f.prod["producer"], SiteID: site,
				EarliestStart: weekStart.AddDate(0, 0, rng.IntN(2)).Add(9 * time.Hour), Seed: uint64(round), Stages: stages})
			if err != nil || !p.Placed {
				t.Fatalf("round %d: plan %v %+v", round, err, p.Unmet)
			}
			if _, _, err := f.db.AcceptPlan(f.ctx, f.actors["producer"], p.ID); err != nil {
				t.Fatalf("round %d: accept: %v", round, err)
			}
			plans = append(plans, p.ID)
		}
		for _, b := range blockers {
			f.act(t, "manager", b, booking.ActionCancel)
		}
		before := map[uuid.UUID]booking.PlannedStage{}
		for _, id := range plans {
			p, _ := f.db.FindPlan(f.ctx, booking.System, id)
			for _, s := range p.Stages {
				before[*s.BookingID] = s
			}
		}
		from := weekStart.Add(time.Duration(rng.IntN(48)) * time.Hour)
		rp, err := f.db.ProposeReplan(f.ctx, f.actors["manager"], site, from, from.AddDate(0, 0, 5+rng.IntN(10)), "")
		if err != nil {
			t.Fatalf("round %d: re-plan: %v", round, err)
		}
		if _, err := f.db.ApplyReplan(f.ctx, f.actors["manager"], rp.ID); err != nil {
			t.Fatalf("round %d: apply: %v", round, err)
		}
		moved += len(rp.Moves)
		for _, id := range plans {
			p, err := f.db.FindPlan(f.ctx, booking.System, id)
			if err != nil {
				t.Fatal(err)
			}
			at := map[string]booking.PlannedStage{}
			for _, s := range p.Stages {
				at[s.ID] = s
				if s.Start.Before(p.EarliestStart) {
					t.Errorf("round %d: stage %s starts %v before the plan's earliest start %v", round, s.ID, s.Start, p.EarliestStart)
				}
				if s.End.After(before[*s.BookingID].End) {
					t.Errorf("round %d: stage %s ends later than before the re-plan", round, s.ID)
				}
			}
			for _, s := range p.Stages {
				for _, l := range s.After {
					pred := at[l.From]
					lag := cal.WorkingHoursBetween(pred.End, s.Start, opts)
					if s.Start.Before(pred.End) || lag < time.Duration(l.MinLagHours*float64(time.Hour)) {
						t.Errorf("round %d: stage %s starts %v, %v of working time after %s ends %v; minimum lag %v h",
							round, s.ID, s.Start, lag, l.From, pred.End, l.MinLagHours)
					}
				}
			}
		}
	}
	t.Logf("%d holds moved over 6 rounds", moved)
	if moved < 6 {
		t.Fatalf("only %d holds moved: the scenarios test too little", moved)
	}
}
