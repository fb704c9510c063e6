package planner

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/posthub/posthub/internal/calendar"
)

// TestStagePausesOverLeave: a two-day grade needs a suite and a colourist who
// is on leave on Wednesday. Starting on Monday, the stage pauses for the day
// of leave and ends on Thursday evening holding both throughout, rather than
// waiting for the colourist to be back, which is what the same leave as busy
// time gives.
func TestStagePausesOverLeave(t *testing.T) {
	t.Parallel()
	cal := casablanca()
	loc := cal.Location
	at := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, loc) }
	leave := calendar.Set{{Start: at(11, 0), End: at(12, 0)}} // Wednesday 11 November
	mk := func(colourist Resource) Problem {
		return Problem{
			Calendar: cal, Release: at(9, 9), // Monday 09:00
			Resources: []Resource{{ID: "suite", Kind: "grade", RateMinor: 100}, colourist},
			Stages: []Stage{{ID: "grade", Duration: 27 * time.Hour, // three working days
				Demands: []Demand{{Kind: "grade"}, {Kind: "colourist"}}}},
		}
	}
	paused := mk(Resource{ID: "amina", Kind: "colourist", RateMinor: 10, Pauses: leave})
	plan := solveChecked(t, paused, Options{Seed: 1})
	a := assignment(t, plan, "grade")
	if !a.Start.Equal(at(9, 9)) || !a.End.Equal(at(12, 19)) {
		t.Fatalf("grade placed %v–%v, want Monday 09:00 to Thursday 19:00 pausing over Wednesday", a.Start, a.End)
	}
	// The suite works the four days it is held; the colourist the three she is in.
	if want := int64(36*100 + 27*10); plan.Cost != want {
		t.Errorf("cost %d, want %d (suite 36 h, colourist 27 h)", plan.Cost, want)
	}

	busy := mk(Resource{ID: "amina", Kind: "colourist", Busy: leave})
	plan = solveChecked(t, busy, Options{Seed: 1})
	if a := assignment(t, plan, "grade"); !a.Start.Equal(at(12, 9)) {
		t.Fatalf("with the leave as busy time the grade starts %v, want Thursday 09:00", a.Start)
	}
}

// TestStageNeverStartsInAPause: released during the leave, the stage waits for
// the colourist instead of holding the suite from a day she is away.
func TestStageNeverStartsInAPause(t *testing.T) {
	t.Parallel()
	cal := casablanca()
	loc := cal.Location
	at := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, loc) }
	p := Problem{
		Calendar: cal, Release: at(11, 9),
		Resources: []Resource{{ID: "amina", Kind: "colourist",
			Pauses: calendar.Set{{Start: at(10, 0), End: at(12, 0)}}}},
		Stages: []Stage{{ID: "grade", Duration: 4 * time.Hour, Demands: []Demand{{Kind: "colourist"}}}},
	}
	a := assignment(t, solveChecked(t, p, Options{Seed: 1}), "grade")
	if !a.Start.Equal(at(12, 9)) {
		t.Fatalf("grade starts %v, want Thursday 09:00 when the colourist is back", a.Start)
	}
}

// TestPausedPlansAreFeasible: random problems whose resources also have pauses
// (leave of a few hours to a few days) pass the independent checker, which
// recomputes every stage's working time outside its resources' pauses.
func TestPausedPlansAreFeasible(t *testing.T) {
	t.Parallel()
	for _, withCal := range []bool{false, true} {
		t.Run(fmt.Sprintf("calendar=%v", withCal), func(t *testing.T) {
			t.Parallel()
			feasible, spanning := 0, 0
			const runs = 400
			for i := range runs {
				rng := rand.New(rand.NewPCG(uint64(i), 7))
				p := randomProblem(rng, withCal)
				for r := range p.Resources {
					var pz []calendar.Interval
					for range rng.IntN(3) {
						s := p.Release.Add(time.Duration(rng.IntN(10*24*2)) * 30 * time.Minute)
						pz = append(pz, calendar.Interval{Start: s, End: s.Add(time.Duration(1+rng.IntN(96)) * 30 * time.Minute)})
					}
					p.Resources[r].Pauses = calendar.Normalize(pz...)
				}
				plan, err := Solve(context.Background(), p, Options{Seed: uint64(i), Budget: Budget{Schedules: 30 + rng.IntN(100)}})
				if err != nil {
					t.Fatalf("instance %d: %v", i, err)
				}
				if !plan.Feasible {
					continue
				}
				feasible++
				if err := checkPlan(&p, plan); err != nil {
					t.Fatalf("instance %d: %v\nproblem: %+v\nplan: %+v", i, err, p, plan)
				}
				for k, a := range plan.Assignments {
					iv := calendar.Interval{Start: a.Start, End: a.End}
					for _, id := range a.ResourceIDs {
						for _, r := range p.Resources {
							if r.ID == id && len(calendar.Normalize(r.Pauses...).Intersect(calendar.Set{iv})) > 0 && p.Stages[k].Duration > 0 {
								spanning++
							}
						}
					}
				}
			}
			t.Logf("%d feasible, %d stage-resource pairs spanning a pause", feasible, spanning)
			if feasible < runs/3 || spanning < runs/10 {
				t.Fatalf("only %d feasible plans and %d spans over a pause: the generator tests too little", feasible, spanning)
			}
		})
	}
}
