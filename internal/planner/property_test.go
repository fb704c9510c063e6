package planner

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/posthub/posthub/internal/calendar"
)

// casablanca is the test site's calendar: Monday to Friday 09:00–13:00 and
// 14:00–19:00 in Africa/Casablanca, whose UTC offset changes around Ramadan
// and on 2026-09-20, which exercises the day-by-day conversion.
func casablanca() *calendar.Calendar {
	day := []calendar.Span{
		{From: calendar.Clock{Hour: 9}, To: calendar.Clock{Hour: 13}},
		{From: calendar.Clock{Hour: 14}, To: calendar.Clock{Hour: 19}},
	}
	c := &calendar.Calendar{Location: calendar.MustLoadLocation("Africa/Casablanca")}
	for wd := time.Monday; wd <= time.Friday; wd++ {
		c.Week[wd] = day
	}
	return c
}

var (
	testKinds = []string{"grade", "mix", "master"}
	testCaps  = []string{"hdr", "atmos", "4k"}
)

// randomProblem builds a random instance: a random DAG of stages with lags,
// resources of a few kinds with random capabilities and busy time, demands
// for one or two resources, with or without the Casablanca calendar.
func randomProblem(rng *rand.Rand, withCalendar bool) Problem {
	p := Problem{}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Releases spread over the year, including Ramadan and the September
	// offset change; sometimes at odd seconds.
	p.Release = base.Add(time.Duration(rng.IntN(330*24*60)) * time.Minute)
	if rng.IntN(4) == 0 {
		p.Release = p.Release.Add(time.Duration(rng.IntN(3600)) * time.Second)
	}
	if withCalendar {
		p.Calendar = casablanca()
	}
	step := 30 * time.Minute
	if p.Calendar == nil && rng.IntN(2) == 0 {
		step = time.Hour
	}
	nres := 3 + rng.IntN(8)
	for r := range nres {
		res := Resource{
			ID:        fmt.Sprintf("res%d", r),
			Kind:      testKinds[rng.IntN(len(testKinds))],
			RateMinor: int64(rng.IntN(20000)),
		}
		for _, c := range testCaps {
			if rng.IntN(2) == 0 {
				res.Capabilities = append(res.Capabilities, c)
			}
		}
		var busy []calendar.Interval
		for range rng.IntN(4) {
			s := p.Release.Add(time.Duration(rng.IntN(14*24*4)-4*24) * 15 * time.Minute)
			busy = append(busy, calendar.Interval{Start: s, End: s.Add(time.Duration(1+rng.IntN(48)) * 30 * time.Minute)})
		}
		res.Busy = calendar.Normalize(busy...)
		p.Resources = append(p.Resources, res)
	}
	n := 1 + rng.IntN(14)
	for j := range n {
		st := Stage{ID: fmt.Sprintf("s%d", j), Duration: time.Duration(rng.IntN(33)) * step}
		for range rng.IntN(3) {
			// Mostly demands that some resource can serve, sometimes
			// arbitrary ones that may be unmet.
			var d Demand
			if rng.IntN(40) == 0 {
				d.Kind = testKinds[rng.IntN(len(testKinds))]
				d.Capabilities = []string{testCaps[rng.IntN(len(testCaps))]}
			} else {
				r := &p.Resources[rng.IntN(nres)]
				if rng.IntN(6) > 0 {
					d.Kind = r.Kind
				}
				for _, c := range r.Capabilities {
					if rng.IntN(3) == 0 {
						d.Capabilities = append(d.Capabilities, c)
					}
				}
			}
			if rng.IntN(6) == 0 {
				d.Count = 2
			}
			st.Demands = append(st.Demands, d)
		}
		for i := range j {
			if rng.IntN(4) == 0 {
				l := Link{From: fmt.Sprintf("s%d", i)}
				if rng.IntN(3) == 0 {
					l.MinLag = time.Duration(rng.IntN(8)) * step
				}
				if rng.IntN(8) == 0 {
					l.MaxLag = l.MinLag + time.Duration(1+rng.IntN(60))*step
				}
				st.Predecessors = append(st.Predecessors, l)
			}
		}
		p.Stages = append(p.Stages, st)
	}
	if rng.IntN(2) == 0 {
		p.Deadline = p.Release.Add(time.Duration(rng.IntN(200)) * time.Hour)
	}
	return p
}

// TestRandomPlansAreFeasible runs random instances with and without a
// calendar through the independent checker.
func TestRandomPlansAreFeasible(t *testing.T) {
	t.Parallel()
	for _, withCal := range []bool{false, true} {
		t.Run(fmt.Sprintf("calendar=%v", withCal), func(t *testing.T) {
			t.Parallel()
			feasible, unmet := 0, 0
			const runs = 1000
			for i := range runs {
				rng := rand.New(rand.NewPCG(uint64(i), 42))
				p := randomProblem(rng, withCal)
				plan, err := Solve(context.Background(), p, Options{Seed: uint64(i), Budget: Budget{Schedules: 30 + rng.IntN(100)}})
				if err != nil {
					t.Fatalf("instance %d: %v", i, err)
				}
				if !plan.Feasible {
					if len(plan.Unmet) == 0 {
						t.Fatalf("instance %d: infeasible without a reason", i)
					}
					if testing.Verbose() {
						t.Log(plan.Unmet)
					}
					unmet++
					continue
				}
				feasible++
				if err := checkPlan(&p, plan); err != nil {
					t.Fatalf("instance %d (seed %d): %v\nproblem: %+v\nplan: %+v", i, i, err, p, plan)
				}
			}
			t.Logf("%d feasible, %d with unmet demands", feasible, unmet)
			if feasible < runs/3 {
				t.Fatalf("only %d of %d random instances were feasible; the generator is too harsh to test much", feasible, runs)
			}
		})
	}
}

// TestArrayModelMatchesReference decodes random activity lists with the
// cumulative array model (the fast path) and with a naive tick-by-tick serial
// schedule generator written here, on pooled instances without a calendar.
func TestArrayModelMatchesReference(t *testing.T) {
	t.Parallel()
	checked := 0
	for i := range 300 {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		p := randomProblem(rng, false)
		// Pool the resources: identical within a kind, same busy time; no
		// maximum lags, which the reference does not repair.
		busyByKind := map[string]calendar.Set{}
		for r := range p.Resources {
			res := &p.Resources[r]
			res.Capabilities = nil
			if b, ok := busyByKind[res.Kind]; ok {
				res.Busy = b
			} else {
				busyByKind[res.Kind] = res.Busy
			}
		}
		for j := range p.Stages {
			for k := range p.Stages[j].Demands {
				p.Stages[j].Demands[k].Capabilities = nil
				if p.Stages[j].Demands[k].Kind == "" {
					p.Stages[j].Demands[k].Kind = p.Resources[0].Kind
				}
			}
			for k := range p.Stages[j].Predecessors {
				p.Stages[j].Predecessors[k].MaxLag = 0
			}
		}
		c, err := compile(&p, engineConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.unmet) > 0 {
			continue
		}
		if !c.array {
			t.Fatalf("instance %d: pooled instance not on the array model", i)
		}
		s := newSearcher(context.Background(), c, Options{Seed: uint64(i)})
		list := make([]int32, c.n)
		st, en := make([]int64, c.n), make([]int64, c.n)
		for range 5 {
			s.sample(s.prio[0], 1, 1, list)
			f, ok := c.fwd.decode(list, c.r0, st, en)
			want := referenceSSGS(c, list)
			if !ok || !slices.Equal(st, want) {
				t.Fatalf("instance %d list %v: array model %v %v, reference %v", i, list, ok, st, want)
			}
			for j := range en {
				if en[j] != st[j]+c.dur[j] || en[j] > f {
					t.Fatalf("instance %d: bad end", i)
				}
			}
			checked++
		}
	}
	if checked < 500 {
		t.Fatalf("only %d lists compared", checked)
	}
}

// referenceSSGS is the serial schedule generation scheme in its plainest
// form: each stage in list order is tried at every tick from its earliest
// precedence-feasible start until its pools have room for its whole length.
func referenceSSGS(c *compiled, list []int32) []int64 {
	usage := make([][]int64, len(c.pools))
	for p, members := range c.pools {
		usage[p] = make([]int64, c.htot)
		for _, b := range c.busyTicks(int(members[0])) {
			for t := b.s; t < b.e; t++ {
				usage[p][t] = int64(len(members))
			}
		}
	}
	st := make([]int64, c.n)
	for _, j := range list {
		t := c.r0
		for _, a := range c.preds[j] {
			t = max(t, st[a.to]+c.dur[a.to]+a.min)
		}
	search:
		for ; ; t++ {
			for _, pd := range c.pdem[j] {
				for u := t; u < t+c.dur[j]; u++ {
					if usage[pd.pool][u]+int64(pd.q) > int64(len(c.pools[pd.pool])) {
						continue search
					}
				}
			}
			break
		}
		st[j] = t
		for _, pd := range c.pdem[j] {
			for u := t; u < t+c.dur[j]; u++ {
				usage[pd.pool][u] += int64(pd.q)
			}
		}
	}
	return st
}

// TestModelsAgree compares the array model and the general interval model
// where both are exact: every resource is its own pool (its own kind), so
// the interval model has no choice of resource to get wrong. Forward and
// backward decodes of the same lists must give identical schedules.
func TestModelsAgree(t *testing.T) {
	t.Parallel()
	checked := 0
	for i := range 300 {
		rng := rand.New(rand.NewPCG(uint64(i), 8))
		p := randomProblem(rng, false)
		for r := range p.Resources {
			p.Resources[r].Kind = p.Resources[r].ID
			p.Resources[r].Capabilities = nil
		}
		for j := range p.Stages {
			for k := range p.Stages[j].Demands {
				d := &p.Stages[j].Demands[k]
				d.Capabilities, d.Count = nil, 1
				d.Kind = p.Resources[rng.IntN(len(p.Resources))].ID
			}
		}
		fast, err := compile(&p, engineConfig{})
		if err != nil {
			t.Fatal(err)
		}
		slow, err := compile(&p, engineConfig{forceIntervals: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(fast.unmet) > 0 {
			continue
		}
		if !fast.array || slow.array {
			t.Fatalf("instance %d: array=%v/%v, want true/false", i, fast.array, slow.array)
		}
		sf := newSearcher(context.Background(), fast, Options{Seed: 1})
		list := make([]int32, fast.n)
		for range 5 {
			sf.sample(sf.prio[0], 1, 1, list)
			st1, en1 := make([]int64, fast.n), make([]int64, fast.n)
			st2, en2 := make([]int64, fast.n), make([]int64, fast.n)
			f1, ok1 := fast.fwd.decode(list, fast.r0, st1, en1)
			f2, ok2 := slow.fwd.decode(list, slow.r0, st2, en2)
			if ok1 != ok2 || (ok1 && (f1 != f2 || !slices.Equal(st1, st2) || !slices.Equal(en1, en2))) {
				t.Fatalf("instance %d list %v: array %v %d %v, intervals %v %d %v", i, list, ok1, f1, st1, ok2, f2, st2)
			}
			if !ok1 {
				continue
			}
			b1, b2 := make([]int64, fast.n), make([]int64, fast.n)
			fast.orderBy(list, en1, true)
			_, ok1 = fast.bwd.decode(list, fast.htot-f1, st1, b1)
			_, ok2 = slow.bwd.decode(list, slow.htot-f2, st2, b2)
			if ok1 != ok2 || (ok1 && (!slices.Equal(st1, st2) || !slices.Equal(b1, b2))) {
				t.Fatalf("instance %d backward: array %v %v, intervals %v %v", i, ok1, st1, ok2, st2)
			}
			checked++
		}
		pf, _ := solve(context.Background(), &p, Options{Seed: 3, Budget: Budget{Schedules: 60}}, engineConfig{})
		ps, _ := solve(context.Background(), &p, Options{Seed: 3, Budget: Budget{Schedules: 60}}, engineConfig{forceIntervals: true})
		if !reflect.DeepEqual(pf, ps) {
			t.Fatalf("instance %d: plans differ:\n%+v\n%+v", i, pf, ps)
		}
		if pf.Feasible {
			if err := checkPlan(&p, pf); err != nil {
				t.Fatalf("instance %d: %v", i, err)
			}
		}
	}
	if checked < 500 {
		t.Fatalf("only %d lists compared", checked)
	}
}

// TestReproducible checks that a seed fully determines the plan.
func TestReproducible(t *testing.T) {
	t.Parallel()
	for i := range 20 {
		rng := rand.New(rand.NewPCG(uint64(i), 99))
		p := randomProblem(rng, i%2 == 0)
		opts := Options{Seed: 5, Budget: Budget{Schedules: 200}}
		a, err := Solve(context.Background(), p, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Solve(context.Background(), p, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("instance %d: plans differ:\n%+v\n%+v", i, a, b)
		}
	}
}

// dakar is the partner site's calendar: Monday to Friday 08:00–12:30 and
// 14:30–18:00 and Saturday morning in Africa/Dakar (UTC all year), so its
// working time and Casablanca's overlap only in part.
func dakar() *calendar.Calendar {
	day := []calendar.Span{
		{From: calendar.Clock{Hour: 8}, To: calendar.Clock{Hour: 12, Minute: 30}},
		{From: calendar.Clock{Hour: 14, Minute: 30}, To: calendar.Clock{Hour: 18}},
	}
	c := &calendar.Calendar{Location: calendar.MustLoadLocation("Africa/Dakar")}
	for wd := time.Monday; wd <= time.Friday; wd++ {
		c.Week[wd] = day
	}
	c.Week[time.Saturday] = []calendar.Span{{From: calendar.Clock{Hour: 9}, To: calendar.Clock{Hour: 13}}}
	return c
}

// randomTwoSiteProblem is randomProblem spread over two sites with their own
// calendars and a transfer time between them: every resource is at one site,
// and each stage at a site that has a resource for its first demand (so most
// instances are feasible), or sometimes at no site at all.
func randomTwoSiteProblem(rng *rand.Rand) Problem {
	p := randomProblem(rng, true)
	sites := []string{"cas", "dkr"}
	p.Sites = map[string]*calendar.Calendar{"cas": casablanca(), "dkr": dakar()}
	p.Transfers = map[SitePair]time.Duration{{"dkr", "cas"}: time.Duration(rng.IntN(4)) * 12 * time.Hour}
	if rng.IntN(5) == 0 {
		p.Calendar = nil // stages without a site then run in continuous time
	}
	for r := range p.Resources {
		p.Resources[r].Site = sites[rng.IntN(2)]
	}
	for j := range p.Stages {
		st := &p.Stages[j]
		if rng.IntN(8) == 0 {
			continue
		}
		st.Site = sites[rng.IntN(2)]
		if len(st.Demands) > 0 {
			var at []string
			for r := range p.Resources {
				if matches(&p.Resources[r], &st.Demands[0]) {
					at = append(at, p.Resources[r].Site)
				}
			}
			if len(at) > 0 {
				st.Site = at[rng.IntN(len(at))]
			}
		}
	}
	return p
}

// TestRandomTwoSitePlansAreFeasible runs random plans over two sites through
// the independent checker: precedence with lags and the transfer time between
// sites, each stage's working time on its own site's calendar, resources of
// the stage's site with the capabilities demanded, the release.
func TestRandomTwoSitePlansAreFeasible(t *testing.T) {
	t.Parallel()
	feasible, crossing := 0, 0
	const runs = 600
	for i := range runs {
		rng := rand.New(rand.NewPCG(uint64(i), 1919))
		p := randomTwoSiteProblem(rng)
		plan, err := Solve(context.Background(), p, Options{Seed: uint64(i), Budget: Budget{Schedules: 30 + rng.IntN(100)}})
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		if !plan.Feasible {
			if len(plan.Unmet) == 0 {
				t.Fatalf("instance %d: infeasible without a reason", i)
			}
			continue
		}
		feasible++
		if err := checkPlan(&p, plan); err != nil {
			t.Fatalf("instance %d: %v\nproblem: %+v\nplan: %+v", i, err, p, plan)
		}
		for _, st := range p.Stages {
			for _, l := range st.Predecessors {
				if from := p.Stages[slices.IndexFunc(p.Stages, func(s Stage) bool { return s.ID == l.From })]; from.Site != st.Site && p.transfer(from.Site, st.Site) > 0 {
					crossing++
				}
			}
		}
	}
	t.Logf("%d feasible; %d links across sites with a transfer", feasible, crossing)
	if feasible < runs/4 || crossing < runs/5 {
		t.Fatalf("only %d feasible plans and %d links with a transfer in %d instances: the generator tests too little", feasible, crossing, runs)
	}
}

// TestTransferBetweenSites pins the meaning of a transfer: an edit in Dakar
// ending Friday 18:00 and a 24-hour transfer let the grade in Casablanca start
// no sooner than Monday 09:00 (the material arrives on Saturday, when the
// grading suite's site is closed in this calendar); at one site it would start
// at the next working instant.
func TestTransferBetweenSites(t *testing.T) {
	t.Parallel()
	release := time.Date(2026, 11, 6, 8, 0, 0, 0, time.UTC) // Friday 08:00 in Dakar
	p := Problem{
		Release:   release,
		Sites:     map[string]*calendar.Calendar{"cas": casablanca(), "dkr": dakar()},
		Transfers: map[SitePair]time.Duration{{"cas", "dkr"}: 24 * time.Hour},
		Resources: []Resource{{ID: "edit", Kind: "edit", Site: "dkr"}, {ID: "grade", Kind: "grade", Site: "cas"}, {ID: "grade-dkr", Kind: "grade", Site: "dkr"}},
		Stages: []Stage{
			{ID: "edit", Site: "dkr", Duration: 8 * time.Hour, Demands: []Demand{{Kind: "edit"}}},
			{ID: "grade", Site: "cas", Duration: 2 * time.Hour, Demands: []Demand{{Kind: "grade"}}, Predecessors: []Link{{From: "edit"}}},
		},
	}
	plan, err := Solve(context.Background(), p, Options{Seed: 1})
	if err != nil || !plan.Feasible {
		t.Fatalf("%v %v", err, plan.Unmet)
	}
	if err := checkPlan(&p, plan); err != nil {
		t.Fatal(err)
	}
	edit, grade := plan.Assignments[0], plan.Assignments[1]
	if want := time.Date(2026, 11, 6, 18, 0, 0, 0, time.UTC); !edit.End.Equal(want) {
		t.Fatalf("edit ends %v, want %v", edit.End, want)
	}
	if grade.ResourceIDs[0] != "grade" {
		t.Fatalf("grade at %v, want the Casablanca suite", grade.ResourceIDs)
	}
	if want := time.Date(2026, 11, 9, 9, 0, 0, 0, calendar.MustLoadLocation("Africa/Casablanca")); !grade.Start.Equal(want) {
		t.Fatalf("grade starts %v, want %v (Monday 09:00 in Casablanca)", grade.Start, want)
	}
	// The same link at one site: the grade follows at once, in Dakar's Saturday hours.
	p.Stages[1].Site = "dkr"
	plan, err = Solve(context.Background(), p, Options{Seed: 1})
	if err != nil || !plan.Feasible {
		t.Fatalf("%v %v", err, plan.Unmet)
	}
	if want := time.Date(2026, 11, 7, 9, 0, 0, 0, time.UTC); !plan.Assignments[1].Start.Equal(want) {
		t.Fatalf("one-site grade starts %v, want %v", plan.Assignments[1].Start, want)
	}
}
