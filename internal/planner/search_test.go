package planner

import (
	"context"
	"math"
	"testing"
)

// TestImproveRight checks the right-justified schedules improveRight hands
// to the genetic algorithm on a PSPLIB instance: each is a schedule (ends,
// precedence, release, pool capacities per tick), its list is ordered by
// its starts, its finish is the one reported, and decoding that list
// forward gives a schedule no longer, as the next generation relies on;
// with the serial scheme and with the parallel one.
func TestImproveRight(t *testing.T) {
	t.Parallel()
	s := psplibSearcher(t, "/j30/j301_1.sm", 3)
	c := s.c
	if !c.shiftable() {
		t.Fatal("a PSPLIB instance should be shiftable")
	}
	list := make([]int32, c.n)
	out := make([]int32, c.n)
	st := make([]int64, c.n)
	en := make([]int64, c.n)
	for k := range 600 {
		// Every other sample goes through the parallel scheme.
		par := k%2 == 1
		s.sample(s.prio[k/2%2], 1, 1, list)
		decode := c.fwd.decode
		if par {
			decode = func(list []int32, rel int64, st, en []int64) (int64, bool) {
				return s.parallelOn(c.fwd, list, rel, st, en)
			}
		}
		fwd, ok := decode(list, c.r0, st, en)
		if !ok {
			t.Fatal("forward decode failed")
		}
		f, ok := s.improveRight(list, out, par)
		if !ok || f > fwd {
			t.Fatalf("sample %d: finish %d (ok %v), forward %d", k, f, ok, fwd)
		}
		checkSchedule(t, c, k, s.outSt, s.outEn, f)
		for i := 1; i < c.n; i++ {
			if s.outSt[out[i]] < s.outSt[out[i-1]] {
				t.Fatalf("sample %d: list not ordered by start", k)
			}
		}
		if again, ok := c.fwd.decode(out, c.r0, st, en); !ok || again > f {
			t.Fatalf("sample %d: the list decodes to %d (ok %v), longer than %d", k, again, ok, f)
		}
	}
}

// TestShiftable checks that only problems whose schedules can move in time
// are judged by right-justified schedules: not with a calendar, busy time or
// maximum lags.
func TestShiftable(t *testing.T) {
	t.Parallel()
	hub := hubProblem(1)
	c, err := compile(&hub, engineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if c.shiftable() {
		t.Fatal("a problem with a calendar and bookings is not shiftable")
	}
	inst, err := ReadSMFile(psplibDir + "/j30/j301_1.sm")
	if err != nil {
		t.Fatal(err)
	}
	p := inst.Problem()
	p.Stages[5].Predecessors = append(p.Stages[5].Predecessors, Link{From: p.Stages[0].ID, MaxLag: 100 * PSPLIBPeriod})
	if c, err := compile(&p, engineConfig{}); err != nil || c.shiftable() {
		t.Fatalf("maximum lags: shiftable (err %v)", err)
	}
}

// TestPeakWindow checks that the per-tick and the event versions of the
// peak window find windows holding the same amount of resources.
func TestPeakWindow(t *testing.T) {
	t.Parallel()
	s := psplibSearcher(t, "/j120/j1201_1.sm", 5)
	c := s.c
	list := make([]int32, c.n)
	ind := individual{st: make([]int64, c.n), en: make([]int64, c.n)}
	load := func(a, l int64) float64 {
		var v float64
		for j := range c.n {
			lo, hi := max(ind.st[j], a), min(ind.en[j], a+l)
			if hi > lo {
				v += s.util[j] * float64(hi-lo)
			}
		}
		return v
	}
	for k := range 100 {
		s.sample(s.prio[k%2], 1, 1, list)
		f, ok := c.fwd.decode(list, c.r0, ind.st, ind.en)
		if !ok {
			t.Fatal("decode failed")
		}
		span := f - c.r0
		l := span/10 + int64(k)%(span/2)
		grid := s.peakWindowGrid(&ind, c.r0, span, l)
		events := s.peakWindowEvents(&ind, c.r0, span, l)
		if g, e := load(grid, l), load(events, l); math.Abs(g-e) > 1e-9 {
			t.Fatalf("sample %d: grid window at %d holds %g, event window at %d holds %g", k, grid, g, events, e)
		}
		for a := c.r0; a+l <= f; a++ {
			if load(a, l) > load(grid, l)+1e-9 {
				t.Fatalf("sample %d: window at %d holds more than the peak at %d", k, a, grid)
			}
		}
	}
}

// checkSchedule checks a decoded schedule of sample k: each stage's duration and
// release, its predecessors' ends and lags, that finish is the latest end, and
// each pool's capacity at every tick.
func checkSchedule(t *testing.T, c *compiled, k int, st, en []int64, finish int64) {
	t.Helper()
	var last int64
	for j := range c.n {
		if en[j]-st[j] != c.dur[j] || st[j] < c.r0 {
			t.Fatalf("sample %d: stage %d at [%d, %d)", k, j, st[j], en[j])
		}
		for _, a := range c.preds[j] {
			if st[j] < en[a.to]+a.min {
				t.Fatalf("sample %d: stage %d starts before its predecessor %d ends", k, j, a.to)
			}
		}
		last = max(last, en[j])
	}
	if last != finish {
		t.Fatalf("sample %d: latest end %d, finish %d", k, last, finish)
	}
	for pool, members := range c.pools {
		for tick := c.r0; tick < finish; tick++ {
			use := 0
			for j := range c.n {
				if st[j] <= tick && tick < en[j] {
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

// psplibSearcher compiles a PSPLIB instance of the repository's testdata and
// returns a searcher on it with an unbounded schedule budget.
func psplibSearcher(t *testing.T, file string, seed uint64) *searcher {
	t.Helper()
	inst, err := ReadSMFile(psplibDir + file)
	if err != nil {
		t.Fatal(err)
	}
	p := inst.Problem()
	c, err := compile(&p, engineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return newSearcher(context.Background(), c, Options{Seed: seed, Budget: Budget{Schedules: math.MaxInt32}})
}
