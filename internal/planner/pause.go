package planner

import (
	"cmp"
	"slices"
	"sort"
)

// A stage may pause over its resources' pauses (Resource.Pauses): it holds them
// throughout, but the working time inside any of their pauses does not count
// towards its duration, so it ends later by that much. It never starts in a
// pause, and its end, being the first instant its working time is done, is
// never inside one. This file holds that arithmetic; the interval model and the
// final costing share it.

// clockTime is the map in which every instant counts, for asking whether spans
// overlap at all.
var clockTime = &timeMap{cont: true}

// within reports the span of sorted, disjoint spans that contains t.
func within(sp []span, t int64) (span, bool) {
	i := sort.Search(len(sp), func(i int) bool { return sp[i].e > t })
	if i < len(sp) && sp[i].s <= t {
		return sp[i], true
	}
	return span{}, false
}

// pausedWork returns the working time inside [s, e) that falls in a pause of
// any of the resources rs (their union, so that two resources' overlapping
// pauses count once). buf is scratch space.
func pausedWork(tm *timeMap, pause [][]span, s, e int64, rs []int32, buf *[]span) int64 {
	m := (*buf)[:0]
	for _, r := range rs {
		sp := pause[r]
		i := sort.Search(len(sp), func(i int) bool { return sp[i].e > s })
		for ; i < len(sp) && sp[i].s < e; i++ {
			m = append(m, span{max(sp[i].s, s), min(sp[i].e, e)})
		}
	}
	*buf = m
	if len(m) == 0 {
		return 0
	}
	if len(rs) > 1 {
		slices.SortFunc(m, func(a, b span) int { return cmp.Compare(a.s, b.s) })
	}
	var lost int64
	cur := m[0]
	for _, x := range m[1:] {
		if x.s <= cur.e {
			cur.e = max(cur.e, x.e)
			continue
		}
		lost += tm.W(cur.e) - tm.W(cur.s)
		cur = x
	}
	return lost + tm.W(cur.e) - tm.W(cur.s)
}

// pausedEnd returns the end of a stage of working duration d started at the
// working instant s on the resources rs: the first instant by which d of
// working time outside their pauses has elapsed. It iterates from the end
// without pauses; the ends only grow and stay below the true end, so the
// fixed point is it.
func pausedEnd(tm *timeMap, pause [][]span, s, d int64, rs []int32, buf *[]span) int64 {
	e := tm.endAt(s, d)
	if d == 0 {
		return e
	}
	ws := tm.W(s)
	for e < maxTick {
		e2 := tm.endAtW(ws + d + pausedWork(tm, pause, s, e, rs, buf))
		if e2 == e {
			break
		}
		e = e2
	}
	return e
}
