package planner

import "math"

// parallel decodes list by the parallel schedule generation scheme on the
// cumulative model (shiftable problems only): time advances from the
// release over the instants at which a stage ends or becomes ready, and at
// each instant the stages whose predecessors allow it are started in the
// order of list as long as they fit. The schedule is non-delay (no stage
// could start earlier without delaying another), a smaller set than the
// serial scheme's active schedules that may miss the optimum but differs
// from them; a share of the children decoded this way (both passes of
// their justification) improved J60 and J120. It counts as one schedule and
// records the best plan like forward.
func (s *searcher) parallel(list []int32) (int64, bool) {
	s.count++
	finish, ok := s.parallelOn(s.c.fwd, list, s.c.r0, s.st, s.en)
	if !ok {
		return 0, false
	}
	s.keepIfBest(finish)
	return finish, true
}

// parallelOn is the parallel scheme on side sd (the forward side or its
// mirror, which must use the cumulative model) from the release rel, with
// starts and ends into st and en; it does not count the schedule. Because
// every stage placed so far starts at or before the current instant t, the
// usage from t on only falls at the ends of running stages, so a stage that
// does not fit at t cannot fit before the next such end.
func (s *searcher) parallelOn(sd *side, list []int32, rel int64, st, en []int64) (int64, bool) {
	c := s.c
	m := sd.res.(*arrayModel)
	m.reset()
	n := c.n
	if s.pos == nil {
		s.pos = make([]int32, n)
		s.left = make([]int32, n)
		s.es = make([]int64, n)
	}
	for i, j := range list {
		s.pos[j] = int32(i)
	}
	pend := s.pend[:0]
	for _, j := range list {
		s.left[j] = int32(len(sd.preds[j]))
		s.es[j] = rel
		if s.left[j] == 0 {
			pend = append(pend, j)
		}
	}
	act := s.act[:0]
	fresh := s.fresh[:0]
	t, finish, done := rel, rel, 0
	for done < n {
		for again := true; again; {
			again = false
			k := 0
			for _, j := range pend {
				if s.es[j] <= t && m.fitsAt(int(j), t) {
					m.reserve(int(j), t)
					e := t + c.dur[j]
					st[j], en[j] = t, e
					finish = max(finish, e)
					done++
					if e > t {
						act = append(act, j)
					}
					for _, a := range sd.succs[j] {
						s.es[a.to] = max(s.es[a.to], e+a.min)
						if s.left[a.to]--; s.left[a.to] == 0 {
							fresh = append(fresh, a.to)
						}
					}
					continue
				}
				pend[k] = j
				k++
			}
			pend = pend[:k]
			if len(fresh) > 0 {
				for _, j := range fresh {
					if s.es[j] <= t {
						again = true
					}
					// Insert j by its place in list.
					pend = append(pend, j)
					for x := len(pend) - 1; x > 0 && s.pos[pend[x-1]] > s.pos[j]; x-- {
						pend[x], pend[x-1] = pend[x-1], pend[x]
					}
				}
				fresh = fresh[:0]
			}
		}
		if done == n {
			break
		}
		next := int64(math.MaxInt64)
		k := 0
		for _, j := range act {
			if en[j] > t {
				next = min(next, en[j])
				act[k] = j
				k++
			}
		}
		act = act[:k]
		for _, j := range pend {
			if s.es[j] > t {
				next = min(next, s.es[j])
			}
		}
		if next == math.MaxInt64 || next >= c.htot {
			s.pend, s.act, s.fresh = pend, act, fresh
			return 0, false
		}
		t = next
	}
	s.pend, s.act, s.fresh = pend, act, fresh
	return finish, true
}
