package planner

import (
	"context"
	"math"
	"testing"
)

// TestParallel checks the parallel scheme's schedules on a PSPLIB instance:
// durations, precedence, release and pool capacities per tick, and the
// finish reported.
func TestParallel(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"/j30/j301_1.sm", "/j120/j1201_1.sm"} {
		inst, err := ReadSMFile(psplibDir + name)
		if err != nil {
			t.Fatal(err)
		}
		p := inst.Problem()
		c, err := compile(&p, engineConfig{})
		if err != nil {
			t.Fatal(err)
		}
		s := newSearcher(context.Background(), c, Options{Seed: 3, Budget: Budget{Schedules: math.MaxInt32}})
		list := make([]int32, c.n)
		for k := range 200 {
			s.sample(s.prio[k%2], 1, 1, list)
			f, ok := s.parallel(list)
			if !ok {
				t.Fatalf("%s sample %d: parallel decode failed", name, k)
			}
			var last int64
			for j := range c.n {
				if s.en[j]-s.st[j] != c.dur[j] || s.st[j] < c.r0 {
					t.Fatalf("sample %d: stage %d at [%d, %d)", k, j, s.st[j], s.en[j])
				}
				for _, a := range c.preds[j] {
					if s.st[j] < s.en[a.to]+a.min {
						t.Fatalf("sample %d: stage %d starts before its predecessor %d ends", k, j, a.to)
					}
				}
				last = max(last, s.en[j])
			}
			if last != f {
				t.Fatalf("sample %d: latest end %d, finish %d", k, last, f)
			}
			for pool, members := range c.pools {
				for tick := c.r0; tick < f; tick++ {
					use := 0
					for j := range c.n {
						if s.st[j] <= tick && tick < s.en[j] {
							for _, d := range c.pdem[j] {
								if int(d.pool) == pool {
									use += int(d.q)
								}
							}
						}
					}
					if use > len(members) {
						t.Fatalf("sample %d: pool %d holds %d of %d units at tick %d", k, pool, use, len(members), tick)
					}
				}
			}
		}
	}
}
