package planner

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/posthub/posthub/internal/calendar"
)

// solveChecked solves p and fails the test unless the plan is feasible and
// passes the independent checker.
func solveChecked(t *testing.T, p Problem, opts Options) Plan {
	t.Helper()
	plan, err := Solve(context.Background(), p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Feasible {
		t.Fatalf("plan not feasible: %v", plan.Unmet)
	}
	if err := checkPlan(&p, plan); err != nil {
		t.Fatal(err)
	}
	return plan
}

func assignment(t *testing.T, plan Plan, id string) Assignment {
	t.Helper()
	for _, a := range plan.Assignments {
		if a.StageID == id {
			return a
		}
	}
	t.Fatalf("no assignment for %q", id)
	return Assignment{}
}

// TestGradeSpansTheNight: a 16-hour grade started on a Monday morning in
// Casablanca runs 9 hours on Monday and 7 on Tuesday, and its suite is held
// overnight, so a one-hour check on the same suite goes before or after it.
func TestGradeSpansTheNight(t *testing.T) {
	t.Parallel()
	cal := casablanca()
	monday := time.Date(2026, 5, 4, 9, 0, 0, 0, cal.Location)
	p := Problem{
		Calendar: cal,
		Release:  monday,
		Resources: []Resource{
			{ID: "suite-a", Kind: "grade", RateMinor: 10000},
		},
		Stages: []Stage{
			{ID: "grade", Duration: 16 * time.Hour, Demands: []Demand{{Kind: "grade"}}},
			{ID: "check", Duration: time.Hour, Demands: []Demand{{Kind: "grade"}}},
		},
	}
	plan := solveChecked(t, p, Options{Seed: 1, Budget: Budget{Schedules: 50}})
	g := assignment(t, plan, "grade")
	if g.End.Sub(g.Start) < 24*time.Hour {
		t.Fatalf("grade %v–%v does not span the night", g.Start, g.End)
	}
	want := time.Date(2026, 5, 5, 18, 0, 0, 0, cal.Location)
	if !plan.Finish.Equal(want) {
		t.Fatalf("finish %v, want %v", plan.Finish, want)
	}
	if plan.Cost != 17*10000 {
		t.Fatalf("cost %d, want %d", plan.Cost, 17*10000)
	}
	// With Tuesday a provisional holiday that the planner avoids, the
	// grade resumes on Wednesday.
	cal.Holidays = []calendar.Holiday{{Date: calendar.Date{Year: 2026, Month: 5, Day: 5}, Name: "Eid?", Provisional: true}}
	p.Stages = p.Stages[:1]
	p.Options = calendar.Options{AvoidProvisional: true}
	plan = solveChecked(t, p, Options{Seed: 1, Budget: Budget{Schedules: 10}})
	if want := time.Date(2026, 5, 6, 17, 0, 0, 0, cal.Location); !plan.Finish.Equal(want) {
		t.Fatalf("avoiding the provisional holiday: finish %v, want %v", plan.Finish, want)
	}
}

// TestBusyTimeIsAvoided: a suite booked for the first three hours pushes the
// stage after the booking.
func TestBusyTimeIsAvoided(t *testing.T) {
	t.Parallel()
	r := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	p := Problem{
		Release: r,
		Resources: []Resource{{ID: "mix-1", Kind: "mix",
			Busy: calendar.Set{{Start: r.Add(-time.Hour), End: r.Add(3 * time.Hour)}}}},
		Stages: []Stage{{ID: "mix", Duration: 2 * time.Hour, Demands: []Demand{{Kind: "mix"}}}},
	}
	plan := solveChecked(t, p, Options{})
	if got := assignment(t, plan, "mix").Start; !got.Equal(r.Add(3 * time.Hour)) {
		t.Fatalf("start %v, want %v", got, r.Add(3*time.Hour))
	}
}

// TestCapabilitiesNeedMatching: a stage needing an HDR grading suite and
// any grading suite, with one HDR suite and one plain one, must give the HDR
// suite to the HDR demand; greedy first-come choice would not.
func TestCapabilitiesNeedMatching(t *testing.T) {
	t.Parallel()
	r := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	p := Problem{
		Release: r,
		Resources: []Resource{
			{ID: "hdr", Kind: "grade", Capabilities: []string{"hdr", "4k"}},
			{ID: "plain", Kind: "grade"},
		},
		Stages: []Stage{{ID: "s", Duration: time.Hour, Demands: []Demand{
			{Kind: "grade"},
			{Kind: "grade", Capabilities: []string{"hdr"}},
		}}},
	}
	plan := solveChecked(t, p, Options{})
	if got := plan.Assignments[0].ResourceIDs; !slices.Equal(got, []string{"plain", "hdr"}) {
		t.Fatalf("resources %v, want [plain hdr] (grouped by demand)", got)
	}
}

// TestLoadIsSpread: two stages in sequence on two identical suites go to
// different suites, the last objective, both on the pooled fast path and on
// the general path.
func TestLoadIsSpread(t *testing.T) {
	t.Parallel()
	r := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	for _, cal := range []*calendar.Calendar{nil, casablanca()} {
		p := Problem{
			Release:   r,
			Calendar:  cal,
			Resources: []Resource{{ID: "a", Kind: "edit"}, {ID: "b", Kind: "edit"}},
			Stages: []Stage{
				{ID: "cut", Duration: 3 * time.Hour, Demands: []Demand{{Kind: "edit"}}},
				{ID: "conform", Duration: 2 * time.Hour, Demands: []Demand{{Kind: "edit"}},
					Predecessors: []Link{{From: "cut"}}},
			},
		}
		plan := solveChecked(t, p, Options{})
		x, y := assignment(t, plan, "cut").ResourceIDs[0], assignment(t, plan, "conform").ResourceIDs[0]
		if x == y {
			t.Fatalf("calendar %v: both stages on %q", cal != nil, x)
		}
	}
}

// TestMaximumLag: the mix must start at most one hour after the conform ends,
// but the mixing stage is booked for the first ten hours, so the planner
// must delay the conform rather than start it at the release.
func TestMaximumLag(t *testing.T) {
	t.Parallel()
	r := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	p := Problem{
		Release: r,
		Resources: []Resource{
			{ID: "edit", Kind: "edit"},
			{ID: "stage", Kind: "mix", Busy: calendar.Set{{Start: r, End: r.Add(10 * time.Hour)}}},
		},
		Stages: []Stage{
			{ID: "conform", Duration: 2 * time.Hour, Demands: []Demand{{Kind: "edit"}}},
			{ID: "mix", Duration: 4 * time.Hour, Demands: []Demand{{Kind: "mix"}},
				Predecessors: []Link{{From: "conform", MaxLag: time.Hour}}},
		},
	}
	plan := solveChecked(t, p, Options{})
	if lag := assignment(t, plan, "mix").Start.Sub(assignment(t, plan, "conform").End); lag > time.Hour {
		t.Fatalf("lag %v", lag)
	}
	if want := r.Add(14 * time.Hour); !plan.Finish.Equal(want) {
		t.Fatalf("finish %v, want %v", plan.Finish, want)
	}
}

// TestUnmetDemands: demands that no resource can meet make the plan
// infeasible with an explanation, not an error; so do maximum lags that
// contradict the precedence chain.
func TestUnmetDemands(t *testing.T) {
	t.Parallel()
	r := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	p := Problem{
		Release:   r,
		Resources: []Resource{{ID: "mix-1", Kind: "mix"}},
		Stages: []Stage{
			{ID: "atmos", Duration: time.Hour, Demands: []Demand{{Kind: "mix", Capabilities: []string{"atmos"}}}},
			{ID: "two", Duration: time.Hour, Demands: []Demand{{Kind: "mix", Count: 2}}},
		},
	}
	plan, err := Solve(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Feasible || len(plan.Unmet) != 2 || !strings.Contains(plan.Unmet[0], `"atmos"`) || len(plan.Assignments) != 0 {
		t.Fatalf("got %+v", plan)
	}
	p.Stages = []Stage{
		{ID: "a", Duration: 5 * time.Hour},
		{ID: "b", Duration: 5 * time.Hour, Predecessors: []Link{{From: "a"}}},
		{ID: "c", Duration: time.Hour, Predecessors: []Link{{From: "a", MaxLag: 2 * time.Hour}, {From: "b"}}},
	}
	plan, err = Solve(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Feasible || len(plan.Unmet) == 0 || !strings.Contains(plan.Unmet[0], "maximum lag") {
		t.Fatalf("got %+v", plan)
	}
}

// TestInvalidProblems: malformed input is an error wrapping
// ErrInvalidProblem.
func TestInvalidProblems(t *testing.T) {
	t.Parallel()
	r := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	good := func() Problem {
		return Problem{
			Release:   r,
			Resources: []Resource{{ID: "x", Kind: "k"}},
			Stages: []Stage{
				{ID: "a", Duration: time.Hour, Demands: []Demand{{Kind: "k"}}},
				{ID: "b", Duration: time.Hour, Predecessors: []Link{{From: "a"}}},
			},
		}
	}
	cases := map[string]func(p *Problem){
		"no release":        func(p *Problem) { p.Release = time.Time{} },
		"duplicate stage":   func(p *Problem) { p.Stages[1].ID = "a" },
		"empty stage ID":    func(p *Problem) { p.Stages[0].ID = "" },
		"unknown link":      func(p *Problem) { p.Stages[1].Predecessors[0].From = "zz" },
		"self link":         func(p *Problem) { p.Stages[0].Predecessors = []Link{{From: "a"}} },
		"cycle":             func(p *Problem) { p.Stages[0].Predecessors = []Link{{From: "b"}} },
		"negative duration": func(p *Problem) { p.Stages[0].Duration = -time.Hour },
		"negative count":    func(p *Problem) { p.Stages[0].Demands[0].Count = -1 },
		"negative lag":      func(p *Problem) { p.Stages[1].Predecessors[0].MinLag = -time.Hour },
		"max below min": func(p *Problem) {
			p.Stages[1].Predecessors[0] = Link{From: "a", MinLag: 2 * time.Hour, MaxLag: time.Hour}
		},
		"duplicate resource": func(p *Problem) { p.Resources = append(p.Resources, Resource{ID: "x"}) },
		"negative rate":      func(p *Problem) { p.Resources[0].RateMinor = -1 },
		"bad calendar":       func(p *Problem) { p.Calendar = &calendar.Calendar{} },
	}
	if _, err := Solve(context.Background(), good(), Options{}); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range cases {
		p := good()
		mutate(&p)
		if _, err := Solve(context.Background(), p, Options{}); !errors.Is(err, ErrInvalidProblem) {
			t.Errorf("%s: got %v, want ErrInvalidProblem", name, err)
		}
	}
}

// TestDeadlineAndEmpty covers lateness, zero-length stages and a problem with
// no stages.
func TestDeadlineAndEmpty(t *testing.T) {
	t.Parallel()
	r := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	p := Problem{
		Release:   r,
		Deadline:  r.Add(8 * time.Hour),
		Resources: []Resource{{ID: "x", Kind: "k", RateMinor: 999}},
		Stages: []Stage{
			{ID: "work", Duration: 10 * time.Hour, Demands: []Demand{{Kind: "k"}}},
			{ID: "delivered", Demands: []Demand{{Kind: "k"}}, Predecessors: []Link{{From: "work"}}},
		},
	}
	plan := solveChecked(t, p, Options{})
	if plan.Lateness != 2*time.Hour || plan.Makespan != 10*time.Hour || plan.Cost != 9990 {
		t.Fatalf("got lateness %v makespan %v cost %d", plan.Lateness, plan.Makespan, plan.Cost)
	}
	plan = solveChecked(t, Problem{Release: r}, Options{})
	if !plan.Finish.Equal(r) || plan.Makespan != 0 || len(plan.Assignments) != 0 {
		t.Fatalf("empty problem: %+v", plan)
	}
	// A milestone under a calendar starts, and ends, in working time.
	cal := casablanca()
	saturday := time.Date(2026, 5, 9, 10, 0, 0, 0, cal.Location)
	plan = solveChecked(t, Problem{Release: saturday, Calendar: cal, Stages: []Stage{{ID: "m"}}}, Options{})
	if want := time.Date(2026, 5, 11, 9, 0, 0, 0, cal.Location); !plan.Finish.Equal(want) {
		t.Fatalf("milestone at %v, want %v", plan.Finish, want)
	}
}

// TestBudgets: a wall-time budget stops a big search early with a feasible
// plan, and so does a cancelled context.
func TestBudgets(t *testing.T) {
	t.Parallel()
	inst, err := ReadSMFile(psplibDir + "/j120/j1201_1.sm")
	if err != nil {
		t.Fatal(err)
	}
	p := inst.Problem()
	start := time.Now()
	plan := solveChecked(t, p, Options{Budget: Budget{WallTime: 30 * time.Millisecond}})
	if el := time.Since(start); el > 5*time.Second || plan.Schedules == 0 {
		t.Fatalf("took %v for %d schedules", el, plan.Schedules)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	plan, err = Solve(ctx, p, Options{Budget: Budget{Schedules: 1_000_000}})
	if err != nil || !plan.Feasible || plan.Schedules > 64 {
		t.Fatalf("cancelled: %v, feasible %v, %d schedules", err, plan.Feasible, plan.Schedules)
	}
	if err := checkRCPSP(inst, plan); err != nil {
		t.Fatal(err)
	}
	if err := checkPlan(&p, plan); err != nil {
		t.Fatal(err)
	}
	plan = solveChecked(t, p, Options{Budget: Budget{Schedules: 100}})
	if plan.Schedules != 100 {
		t.Fatalf("%d schedules for a budget of 100", plan.Schedules)
	}
}

// TestHubWorkload plans a realistic multi-film workload on the general path
// and checks the plan.
func TestHubWorkload(t *testing.T) {
	t.Parallel()
	p := hubProblem(3)
	plan := solveChecked(t, p, Options{Seed: 2, Budget: Budget{Schedules: 300}})
	t.Logf("3 films: finish %v after %v, cost %d", plan.Finish, plan.Makespan, plan.Cost)
}
