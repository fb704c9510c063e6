package planner

import (
	"context"
	"math"
	"testing"
)

// TestDecomposeBest cuts windows of a PSPLIB J120 instance's best schedule
// and solves them as sub-projects: every decode is counted (the suffix's
// backward pass and each of the sub-project's schedules, within the budget),
// and each window put back gives a feasible whole schedule shorter than the
// best, which decoding the returned list forward does not lengthen.
func TestDecomposeBest(t *testing.T) {
	t.Parallel()
	inst, err := ReadSMFile(psplibDir + "/j120/j1201_1.sm")
	if err != nil {
		t.Fatal(err)
	}
	p := inst.Problem()
	c, err := compile(&p, engineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	s := newSearcher(context.Background(), c, Options{Seed: 5, Budget: Budget{Schedules: math.MaxInt32}})
	d := s.newDecomp()
	list := make([]int32, c.n)
	out := make([]int32, c.n)
	st := make([]int64, c.n)
	en := make([]int64, c.n)
	const budget = 80
	k := int(decompShare * float64(c.n))
	improved := 0
	for try := range 40 {
		// A fresh, mediocre best schedule: one biased random sample.
		s.haveBest = false
		s.sample(s.prio[try%2], 1, 1, list)
		if _, ok := s.forward(list); !ok {
			t.Fatal("forward decode failed")
		}
		T := s.bestFinish
		before := s.count
		pos := s.rng.IntN(c.n - k + 1)
		ok := s.decomposeBest(d, pos, k, budget, out)
		if used := s.count - before; used < 2 || used > budget+1 {
			t.Fatalf("try %d: %d schedules counted for a sub-project of budget %d plus the suffix", try, used, budget)
		}
		if s.bestFinish != T {
			t.Fatalf("try %d: the sub-project changed the best schedule", try)
		}
		if !ok {
			continue
		}
		improved++
		// The schedule put back: d.fst holds every stage's start.
		var fin int64
		for j := range c.n {
			fin = max(fin, d.fst[j]+c.dur[j])
			if d.fst[j] < c.r0 {
				t.Fatalf("try %d: stage %d starts at %d before the release", try, j, d.fst[j])
			}
			for _, a := range c.preds[j] {
				if d.fst[j] < d.fst[a.to]+c.dur[a.to]+a.min {
					t.Fatalf("try %d: stage %d starts before its predecessor %d ends", try, j, a.to)
				}
			}
		}
		if fin >= T {
			t.Fatalf("try %d: the schedule put back finishes at %d, the best at %d", try, fin, T)
		}
		for pool, members := range c.pools {
			for tick := c.r0; tick < fin; tick++ {
				use := 0
				for j := range c.n {
					if d.fst[j] <= tick && tick < d.fst[j]+c.dur[j] {
						for _, x := range c.pdem[j] {
							if int(x.pool) == pool {
								use += int(x.q)
							}
						}
					}
				}
				if use > len(members) {
					t.Fatalf("try %d: pool %d holds %d of %d units at tick %d", try, pool, use, len(members), tick)
				}
			}
		}
		// The list is a precedence-feasible permutation and decodes to a
		// schedule no longer than the one put back.
		at := make([]int, c.n)
		seen := make([]bool, c.n)
		for x, j := range out {
			if seen[j] {
				t.Fatalf("try %d: stage %d listed twice", try, j)
			}
			seen[j], at[j] = true, x
		}
		for j := range c.n {
			for _, a := range c.preds[j] {
				if at[a.to] > at[j] {
					t.Fatalf("try %d: stage %d listed before its predecessor %d", try, j, a.to)
				}
			}
		}
		f, ok := c.fwd.decode(out, c.r0, st, en)
		if !ok || f > fin {
			t.Fatalf("try %d: the list decodes to %d (ok %v), the schedule put back %d", try, f, ok, fin)
		}
	}
	if improved == 0 {
		t.Fatal("no sub-project improved on a single sampled schedule")
	}
	t.Logf("%d of 40 sub-projects improved the schedule", improved)
}
