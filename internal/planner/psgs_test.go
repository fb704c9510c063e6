package planner

import (
	"testing"
)

// TestParallel checks the parallel scheme's schedules on a PSPLIB instance:
// durations, precedence, release and pool capacities per tick, and the
// finish reported.
func TestParallel(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"/j30/j301_1.sm", "/j120/j1201_1.sm"} {
		s := psplibSearcher(t, name, 3)
		c := s.c
		list := make([]int32, c.n)
		for k := range 200 {
			s.sample(s.prio[k%2], 1, 1, list)
			f, ok := s.parallel(list)
			if !ok {
				t.Fatalf("%s sample %d: parallel decode failed", name, k)
			}
			checkSchedule(t, c, k, s.st, s.en, f)
		}
	}
}
