package planner

import "sort"

// span is a half-open stretch of ticks [s, e).
type span struct{ s, e int64 }

// timeMap converts between ticks (instants on the engine's integer axis) and
// working time, so the schedule generator can add working durations and lags
// with integer arithmetic instead of calendar lookups. Continuous time (no
// calendar) is the identity map, special-cased so the PSPLIB path pays nothing
// for calendars.
type timeMap struct {
	cont bool
	// ivs are the working intervals, sorted and disjoint (calendar only).
	ivs []span
	// cum[i] is the working time before ivs[i].
	cum []int64
}

// newCalendarMap builds a map from sorted, disjoint working intervals.
func newCalendarMap(ivs []span) *timeMap {
	m := &timeMap{ivs: ivs, cum: make([]int64, len(ivs)+1)}
	for i, iv := range ivs {
		m.cum[i+1] = m.cum[i] + iv.e - iv.s
	}
	return m
}

// mirror returns the map of the reversed axis t' = h - t, used by the backward
// pass: working intervals are reflected, and the working time between two
// instants is preserved, so lags and durations mean the same thing mirrored.
func (m *timeMap) mirror(h int64) *timeMap {
	if m.cont {
		return m
	}
	out := make([]span, len(m.ivs))
	for i, iv := range m.ivs {
		out[len(m.ivs)-1-i] = span{h - iv.e, h - iv.s}
	}
	return newCalendarMap(out)
}

// W returns the working time in [0, t).
func (m *timeMap) W(t int64) int64 {
	if m.cont {
		return t
	}
	return m.wSlow(t)
}

func (m *timeMap) wSlow(t int64) int64 {
	// First interval ending after t.
	i := sort.Search(len(m.ivs), func(i int) bool { return m.ivs[i].e > t })
	if i == len(m.ivs) {
		return m.cum[len(m.ivs)]
	}
	if t <= m.ivs[i].s {
		return m.cum[i]
	}
	return m.cum[i] + t - m.ivs[i].s
}

// startAtW returns the earliest working instant t with W(t) >= w, where a
// stage may start once w of working time has elapsed. It returns maxTick when
// the map has no such instant.
func (m *timeMap) startAtW(w int64) int64 {
	if m.cont {
		return w
	}
	// First interval whose working time extends past w.
	i := sort.Search(len(m.ivs), func(i int) bool { return m.cum[i+1] > w })
	if i == len(m.ivs) {
		return maxTick
	}
	if w <= m.cum[i] {
		return m.ivs[i].s
	}
	return m.ivs[i].s + w - m.cum[i]
}

// endAtW returns the earliest instant t with W(t) >= w (w > 0): the end of a
// stage when its working time is used up, which is the end of a working
// interval rather than the start of the next when it runs out exactly there,
// matching calendar.AddWorkingHours.
func (m *timeMap) endAtW(w int64) int64 {
	if m.cont {
		return w
	}
	i := sort.Search(len(m.ivs), func(i int) bool { return m.cum[i+1] >= w })
	if i == len(m.ivs) {
		return maxTick
	}
	return m.ivs[i].s + w - m.cum[i]
}

// snap returns the earliest working instant at or after t, or maxTick.
func (m *timeMap) snap(t int64) int64 {
	if m.cont {
		return t
	}
	i := sort.Search(len(m.ivs), func(i int) bool { return m.ivs[i].e > t })
	if i == len(m.ivs) {
		return maxTick
	}
	if t < m.ivs[i].s {
		return m.ivs[i].s
	}
	return t
}

// endAt returns the end of a stage of working duration d started at the
// working instant s.
func (m *timeMap) endAt(s, d int64) int64 {
	if d == 0 {
		return s
	}
	if m.cont {
		return s + d
	}
	return m.endAtW(m.W(s) + d)
}

// maxTick marks "no such instant"; it is far beyond any horizon but still
// safe to compare and subtract from.
const maxTick = int64(1) << 62
