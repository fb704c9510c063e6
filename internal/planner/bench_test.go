package planner

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/posthub/posthub/internal/calendar"
)

// BenchmarkSolveJ120 measures one PSPLIB J120 instance at 5,000 schedules,
// the budget the targets are stated for.
func BenchmarkSolveJ120(b *testing.B) {
	inst, err := ReadSMFile(psplibDir + "/j120/j1201_1.sm")
	if err != nil {
		b.Fatal(err)
	}
	p := inst.Problem()
	for b.Loop() {
		if _, err := Solve(context.Background(), p, Options{Seed: 1, Budget: Budget{Schedules: 5000}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSolveJ30 measures one PSPLIB J30 instance at 5,000 schedules.
func BenchmarkSolveJ30(b *testing.B) {
	inst, err := ReadSMFile(psplibDir + "/j30/j301_1.sm")
	if err != nil {
		b.Fatal(err)
	}
	p := inst.Problem()
	for b.Loop() {
		if _, err := Solve(context.Background(), p, Options{Seed: 1, Budget: Budget{Schedules: 5000}}); err != nil {
			b.Fatal(err)
		}
	}
}

// hubProblem is a realistic hub workload: films of conform, grade, mix,
// mastering and QC stages on suites and people with capabilities and existing
// bookings, under the Casablanca calendar.
func hubProblem(films int) Problem {
	cal := casablanca()
	r := time.Date(2026, 10, 5, 9, 0, 0, 0, cal.Location)
	p := Problem{Calendar: cal, Release: r, Options: calendar.Options{AvoidProvisional: true}}
	kinds := []struct {
		kind string
		caps []string
		n    int
	}{
		{"edit", nil, 4}, {"grade", []string{"hdr"}, 2}, {"grade", nil, 2},
		{"colourist", nil, 3}, {"mix", []string{"atmos"}, 1}, {"mix", nil, 2},
		{"master", []string{"4k", "hdr"}, 1}, {"qc", nil, 2},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range kinds {
		for i := range k.n {
			res := Resource{ID: fmt.Sprintf("%s-%v-%d", k.kind, k.caps, i), Kind: k.kind, Capabilities: k.caps, RateMinor: 5000}
			var busy []calendar.Interval
			for range 6 {
				s := r.Add(time.Duration(rng.IntN(30*24)) * time.Hour)
				busy = append(busy, calendar.Interval{Start: s, End: s.Add(time.Duration(2+rng.IntN(20)) * time.Hour)})
			}
			res.Busy = calendar.Normalize(busy...)
			p.Resources = append(p.Resources, res)
		}
	}
	for f := range films {
		id := func(s string) string { return fmt.Sprintf("f%d-%s", f, s) }
		p.Stages = append(p.Stages,
			Stage{ID: id("conform"), Duration: 12 * time.Hour, Demands: []Demand{{Kind: "edit"}}},
		)
		for reel := range 5 {
			rid := func(s string) string { return id(fmt.Sprintf("%s%d", s, reel)) }
			p.Stages = append(p.Stages,
				Stage{ID: rid("grade"), Duration: time.Duration(8+rng.IntN(10)) * time.Hour,
					Demands:      []Demand{{Kind: "grade", Capabilities: []string{"hdr"}}, {Kind: "colourist"}},
					Predecessors: []Link{{From: id("conform")}}},
				Stage{ID: rid("mix"), Duration: time.Duration(6+rng.IntN(8)) * time.Hour,
					Demands:      []Demand{{Kind: "mix"}},
					Predecessors: []Link{{From: id("conform"), MinLag: 4 * time.Hour}}},
			)
		}
		var preds []Link
		for reel := range 5 {
			preds = append(preds, Link{From: id(fmt.Sprintf("grade%d", reel))}, Link{From: id(fmt.Sprintf("mix%d", reel))})
		}
		p.Stages = append(p.Stages,
			Stage{ID: id("master"), Duration: 10 * time.Hour, Demands: []Demand{{Kind: "master", Capabilities: []string{"hdr"}}}, Predecessors: preds},
			Stage{ID: id("qc"), Duration: 6 * time.Hour, Demands: []Demand{{Kind: "qc"}, {Kind: "colourist"}},
				Predecessors: []Link{{From: id("master"), MaxLag: 16 * time.Hour}}},
		)
	}
	return p
}

// BenchmarkSolveHub measures a 4-film hub workload (52 stages, 17 resources,
// calendar and bookings) at 1,000 schedules, the general path's typical use.
func BenchmarkSolveHub(b *testing.B) {
	p := hubProblem(4)
	for b.Loop() {
		plan, err := Solve(context.Background(), p, Options{Seed: 1, Budget: Budget{Schedules: 1000}})
		if err != nil || !plan.Feasible {
			b.Fatal(err, plan.Unmet)
		}
	}
}

// BenchmarkSolveHubTwoSites is BenchmarkSolveHub with the conforms at a partner site
// (its edit suites, its own calendar) and a 24-hour transfer to the hub before the
// grades and mixes: the cost of per-stage calendars and transfers.
func BenchmarkSolveHubTwoSites(b *testing.B) {
	p := hubProblem(4)
	p.Sites = map[string]*calendar.Calendar{"cas": p.Calendar, "dkr": dakar()}
	p.Transfers = map[SitePair]time.Duration{{"dkr", "cas"}: 24 * time.Hour}
	for r := range p.Resources {
		p.Resources[r].Site = "cas"
		if p.Resources[r].Kind == "edit" {
			p.Resources[r].Site = "dkr"
		}
	}
	for j := range p.Stages {
		p.Stages[j].Site = "cas"
		if p.Stages[j].Demands[0].Kind == "edit" {
			p.Stages[j].Site = "dkr"
		}
	}
	for b.Loop() {
		plan, err := Solve(context.Background(), p, Options{Seed: 1, Budget: Budget{Schedules: 1000}})
		if err != nil || !plan.Feasible {
			b.Fatal(err, plan.Unmet)
		}
	}
}
