package planner

import (
	"cmp"
	"slices"
)

// resModel is the resource side of the serial schedule generation scheme:
// it finds the earliest start at which a stage's demands can be met and
// reserves them. Two implementations share the one SSGS driver: a cumulative
// profile of unit counts per pool on an integer time grid (the fast path for
// PSPLIB-like problems without a calendar), and per-resource occupancy
// intervals with matching (the general path).
type resModel interface {
	// reset clears every reservation, keeping the existing busy time.
	reset()
	// place finds the earliest start s >= es (es is a working instant) at
	// which stage j fits, reserves its resources and returns s and the
	// stage's end e; ok is false when it does not fit before the end of the
	// axis.
	place(j int, es int64) (s, e int64, ok bool)
}

// side is one direction of scheduling: the forward problem, or its mirror
// image (reversed precedence and time) on which the backward pass of
// justification runs the same forward code.
type side struct {
	preds [][]arc
	// tms is each stage's time map (its site's calendar); multi says they
	// are not all one map or some link waits a transfer, so a stage's
	// earliest start is read off its predecessors' end instants.
	tms    []*timeMap
	multi  bool
	res    resModel
	htot   int64
	dur    []int64
	hasMax bool
	lowW   []int64 // lower bounds on W(start) learnt from maximum lags
	wEnd   []int64 // W(end) of each scheduled stage
	pauses bool    // ends may be pushed by resources' pauses
	// For maximum-lag repair: successors in this direction, the working
	// copy of the list, and which stages were already moved forward.
	succs [][]arc
	work  []int32
	moved []bool
	inM   []bool
	buf   []int32
}

// moveAfter moves stage j, together with its ancestors that are listed
// between i and j, to just after i, keeping their relative order and that of
// the stages they jump over. The list stays precedence-feasible: a moved
// stage's predecessors are i, stages before i, or moved stages themselves.
func (sd *side) moveAfter(list []int32, i, j int32) {
	pi, pj := -1, -1
	for p, x := range list {
		if x == i {
			pi = p
		}
		if x == j {
			pj = p
			break
		}
	}
	if pi < 0 || pj < pi {
		return
	}
	clear(sd.inM)
	sd.inM[j] = true
	for p := pj - 1; p > pi; p-- {
		x := list[p]
		for _, a := range sd.succs[x] {
			if sd.inM[a.to] {
				sd.inM[x] = true
				break
			}
		}
	}
	buf := sd.buf[:0]
	for p := pi + 1; p <= pj; p++ {
		if sd.inM[list[p]] {
			buf = append(buf, list[p])
		}
	}
	for p := pi + 1; p <= pj; p++ {
		if !sd.inM[list[p]] {
			buf = append(buf, list[p])
		}
	}
	copy(list[pi+1:], buf)
	sd.buf = buf
}

// decode runs the serial schedule generation scheme: it takes the stages in
// the order of list, which must be precedence-feasible, and gives each the
// earliest start that respects its predecessors' ends plus minimum lags, the
// release rel, and resource availability. Starts and ends go to st and en;
// the result is the latest end.
//
// Maximum lags cannot be guaranteed by a serial scheme, so they are repaired:
// when a stage ends up too far after a predecessor, that predecessor gets a
// later earliest start and the decode restarts, a bounded number of times.
func (sd *side) decode(list []int32, rel int64, st, en []int64) (int64, bool) {
	relW := int64(0)
	if len(sd.tms) > 0 {
		relW = sd.tms[0].W(sd.tms[0].snap(rel))
	}
	if sd.hasMax {
		clear(sd.lowW)
		clear(sd.moved)
		list = append(sd.work[:0], list...)
	}
	restarts := 4*len(list) + 16
	for range restarts {
		sd.res.reset()
		finish := rel
		violated := false
		for _, j := range list {
			tm := sd.tms[j]
			w := relW
			if sd.multi {
				w = tm.W(tm.snap(rel))
			}
			if sd.hasMax {
				w = max(w, sd.lowW[j])
			}
			if sd.multi {
				for _, a := range sd.preds[j] {
					if v := sd.readyW(j, a, en) + a.min; v > w {
						w = v
					}
				}
			} else {
				for _, a := range sd.preds[j] {
					if v := sd.wEnd[a.to] + a.min; v > w {
						w = v
					}
				}
			}
			es := tm.startAtW(w)
			if es >= sd.htot {
				return 0, false
			}
			s, e, ok := sd.res.place(int(j), es)
			if !ok {
				return 0, false
			}
			ws := tm.W(s)
			st[j], en[j] = s, e
			sd.wEnd[j] = ws + sd.dur[j]
			if sd.pauses {
				sd.wEnd[j] = tm.W(e)
			}
			if e > finish {
				finish = e
			}
			if sd.hasMax {
				for _, a := range sd.preds[j] {
					if a.max > 0 && ws-sd.readyW(j, a, en) > a.max {
						need := ws - a.max - sd.dur[a.to]
						if sd.multi {
							// In the predecessor's working time, after the transfer.
							tp := sd.tms[a.to]
							need = tp.W(max(s-a.gap, 0)) - a.max - sd.dur[a.to]
						}
						violated = true
						if !sd.moved[j] {
							// First try to give j priority: move it
							// (with its ancestors listed after the
							// predecessor) right behind the predecessor.
							sd.moved[j] = true
							sd.moveAfter(list, a.to, j)
							break
						}
						if need > sd.lowW[a.to] {
							sd.lowW[a.to] = need
						}
					}
				}
				if violated {
					break
				}
			}
		}
		if !violated {
			return finish, true
		}
	}
	return 0, false
}

// readyW is when stage j may start after its predecessor a.to, before the
// link's minimum lag: in j's working time, the predecessor's end or, across
// sites, the end of the transfer after it. On one map without transfers
// that is the predecessor's working end.
func (sd *side) readyW(j int32, a arc, en []int64) int64 {
	tm := sd.tms[j]
	if !sd.multi || (a.gap == 0 && sd.tms[a.to] == tm) {
		return sd.wEnd[a.to]
	}
	return tm.W(min(en[a.to]+a.gap, sd.htot))
}

// arrayModel is the cumulative resource model: pools of identical unit
// resources tracked as a usage count per pool per tick. It is exact for pools
// (any schedule whose usage stays within capacity can be given distinct units
// by assigning them in start order), and a feasibility check costs a few array
// reads per tick of the stage.
type arrayModel struct {
	h      int64
	rows   [][]int32 // current usage per pool and tick
	base   [][]int32 // usage by existing busy time
	capm   []int32
	pdem   [][]poolDem
	dur    []int64
	lo, hi int64 // ticks touched since the last reset
}

// newArrayModel builds the model for the pools of c, with busy given per
// resource (identical within a pool).
func newArrayModel(c *compiled, busy [][]span) *arrayModel {
	m := &arrayModel{h: c.htot, pdem: c.pdem, dur: c.dur, lo: c.htot}
	for _, members := range c.pools {
		capacity := int32(len(members))
		m.capm = append(m.capm, capacity)
		base := make([]int32, c.htot)
		for _, s := range busy[members[0]] {
			for t := s.s; t < s.e; t++ {
				base[t] = capacity
			}
		}
		m.base = append(m.base, base)
		m.rows = append(m.rows, slices.Clone(base))
	}
	return m
}

func (m *arrayModel) reset() {
	if m.lo < m.hi {
		for p := range m.rows {
			copy(m.rows[p][m.lo:m.hi], m.base[p][m.lo:m.hi])
		}
	}
	m.lo, m.hi = m.h, 0
}

func (m *arrayModel) place(j int, es int64) (int64, int64, bool) {
	d := m.dur[j]
	pd := m.pdem[j]
	if d == 0 || len(pd) == 0 {
		return es, es + d, es+d <= m.h
	}
	s := es
	for {
		e := s + d
		if e > m.h {
			return 0, 0, false
		}
		next := int64(-1)
		for _, x := range pd {
			row := m.rows[x.pool][s:e]
			lim := m.capm[x.pool] - x.q
			// Scan from the end so that a conflict moves the start as far
			// as possible.
			for t := len(row) - 1; t >= 0; t-- {
				if row[t] > lim {
					if v := s + int64(t) + 1; v > next {
						next = v
					}
					break
				}
			}
		}
		if next < 0 {
			break
		}
		s = next
	}
	e := s + d
	for _, x := range pd {
		row := m.rows[x.pool][s:e]
		q := x.q
		for t := range row {
			row[t] += q
		}
	}
	m.lo, m.hi = min(m.lo, s), max(m.hi, e)
	return s, e, true
}

// intervalModel is the general resource model: every resource has its own
// sorted occupancy intervals (busy time plus stages placed so far), and a
// stage's demands are met by matching free resources to demands. It handles
// capabilities that make resources only partly interchangeable, individual
// busy time, and calendars where a stage's wall-clock length depends on its
// start.
type intervalModel struct {
	tms      []*timeMap // per stage
	htot     int64
	dur      []int64
	dem      [][]dspec
	disjoint []bool // the demands of the stage match disjoint resource sets
	base     [][]span
	occ      [][]span
	pause    [][]span // per resource, time a stage may span but not start in
	hasPause bool
	baseLoad []int64
	load     []int64
	assign   [][]int32 // resources chosen per stage, grouped by demand
	// scratch
	freeMark []uint32
	freeGen  uint32
	gap      []int64
	chosen   []int32
	merge    []span
}

// newIntervalModel builds the general model with the given busy and pause
// spans.
func newIntervalModel(c *compiled, busy, pause [][]span, tms []*timeMap) *intervalModel {
	nr := len(c.p.Resources)
	m := &intervalModel{
		tms: tms, htot: c.htot, dur: c.dur, dem: c.dem,
		base: busy, baseLoad: c.baseLoad, pause: pause, hasPause: c.hasPause,
		occ:      make([][]span, nr),
		load:     make([]int64, nr),
		assign:   make([][]int32, c.n),
		freeMark: make([]uint32, nr),
		gap:      make([]int64, nr),
		disjoint: make([]bool, c.n),
	}
	for j, ds := range c.dem {
		seen := map[int32]bool{}
		m.disjoint[j] = true
		for _, d := range ds {
			for _, r := range d.match {
				if seen[r] {
					m.disjoint[j] = false
				}
				seen[r] = true
			}
		}
	}
	return m
}

func (m *intervalModel) reset() {
	for r := range m.occ {
		m.occ[r] = append(m.occ[r][:0], m.base[r]...)
	}
	copy(m.load, m.baseLoad)
}

// conflict reports whether resource r is occupied somewhere in [s, e); if so
// it also returns the end of the last occupation overlapping that window,
// before which r cannot host a stage starting after s either. When r is free
// it records the size of the free gap around [s, e) for best-fit choice.
func (m *intervalModel) conflict(r int32, s, e int64) (bool, int64) {
	occ := m.occ[r]
	lo, hi := 0, len(occ)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if occ[mid].e > s {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo == len(occ) || occ[lo].s >= e {
		if m.hasPause {
			// A stage may pause over r's pause but not start in one.
			if p, in := within(m.pause[r], s); in {
				return true, p.e
			}
		}
		prev, next := int64(0), m.htot
		if lo > 0 {
			prev = occ[lo-1].e
		}
		if lo < len(occ) {
			next = occ[lo].s
		}
		m.gap[r] = next - prev
		return false, 0
	}
	for lo+1 < len(occ) && occ[lo+1].s < e {
		lo++
	}
	return true, occ[lo].e
}

// prefer orders free resources for a stage: best fit first (the smallest
// free gap around the stage, which keeps long gaps for long stages and so
// helps later stages fit), then the least loaded, then input order.
func (m *intervalModel) prefer(a, b int32) int {
	if c := cmp.Compare(m.gap[a], m.gap[b]); c != 0 {
		return c
	}
	if c := cmp.Compare(m.load[a], m.load[b]); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

func (m *intervalModel) place(j int, es int64) (int64, int64, bool) {
	d := m.dur[j]
	ds := m.dem[j]
	tm := m.tms[j]
	s := es
	var e int64
	for {
		if s >= m.htot {
			return 0, 0, false
		}
		e = tm.endAt(s, d)
		if e > m.htot {
			return 0, 0, false
		}
		ok, next := m.try(j, ds, s, e)
		// The pauses of the resources chosen push the end later: widen the
		// window until resources free over it end inside it.
		for ok && m.hasPause && e > s {
			e2 := pausedEnd(tm, m.pause, s, d, m.chosen, &m.merge)
			if e2 <= e {
				e = e2
				break
			}
			if e2 > m.htot {
				return 0, 0, false
			}
			e = e2
			ok, next = m.try(j, ds, s, e)
		}
		if ok {
			break
		}
		if next >= maxTick {
			return 0, 0, false
		}
		s = tm.snap(next)
	}
	m.assign[j] = append(m.assign[j][:0], m.chosen...)
	if e > s {
		for _, r := range m.chosen {
			occ := m.occ[r]
			i, _ := slices.BinarySearchFunc(occ, s, func(x span, t int64) int { return cmp.Compare(x.s, t) })
			m.occ[r] = slices.Insert(occ, i, span{s, e})
			m.load[r] += e - s
		}
	}
	return s, e, true
}

// try checks whether stage j's demands can be met over [s, e), leaving the
// chosen resources in m.chosen. When they cannot, it returns the earliest
// instant at which the set of usable resources can grow: no start before it
// can succeed, because resources occupied now stay occupied until then.
func (m *intervalModel) try(j int, ds []dspec, s, e int64) (bool, int64) {
	m.chosen = m.chosen[:0]
	if m.disjoint[j] {
		for _, dm := range ds {
			// Pick the count most preferred free resources.
			start := len(m.chosen)
			next := maxTick
			for _, r := range dm.match {
				if e > s {
					if busy, end := m.conflict(r, s, e); busy {
						next = min(next, end)
						continue
					}
				} else {
					m.gap[r] = 0
				}
				m.chosen = append(m.chosen, r)
			}
			cand := m.chosen[start:]
			if len(cand) < dm.count {
				return false, next
			}
			if len(cand) > dm.count {
				slices.SortFunc(cand, m.prefer)
				m.chosen = m.chosen[:start+dm.count]
			}
		}
		return true, 0
	}
	m.freeGen++
	if m.freeGen == 0 {
		clear(m.freeMark)
		m.freeGen = 1
	}
	next := maxTick
	for _, dm := range ds {
		for _, r := range dm.match {
			if m.freeMark[r] == m.freeGen || m.freeMark[r] == ^m.freeGen {
				continue
			}
			if e > s {
				if busy, end := m.conflict(r, s, e); busy {
					m.freeMark[r] = ^m.freeGen
					next = min(next, end)
					continue
				}
			} else {
				m.gap[r] = 0
			}
			m.freeMark[r] = m.freeGen
		}
	}
	got, ok := matchDemands(ds, func(r int32) bool { return m.freeMark[r] == m.freeGen }, m.prefer)
	if !ok {
		return false, next
	}
	m.chosen = append(m.chosen, got...)
	return true, 0
}

// assignPools gives distinct units to the stages of a schedule built by the
// array model. Stages are taken in start order and each demand gets the
// least-loaded units that are free at its start; the cumulative profile
// guarantees there are enough, because the units still held at that instant
// belong to stages running then.
func (c *compiled) assignPools(st, en []int64) [][]int32 {
	order := make([]int32, c.n)
	c.orderBy(order, st, false)
	nr := len(c.p.Resources)
	freeAt := make([]int64, nr)
	load := slices.Clone(c.baseLoad)
	taken := make([]bool, nr)
	out := make([][]int32, c.n)
	for _, j := range order {
		s, e := st[j], en[j]
		var got []int32
		for _, dm := range c.dem[j] {
			cand := make([]int32, 0, len(dm.match))
			for _, r := range dm.match {
				if !taken[r] && (freeAt[r] <= s || e == s) {
					cand = append(cand, r)
				}
			}
			slices.SortFunc(cand, func(a, b int32) int {
				if c := cmp.Compare(load[a], load[b]); c != 0 {
					return c
				}
				return cmp.Compare(a, b)
			})
			cand = cand[:min(dm.count, len(cand))]
			for _, r := range cand {
				taken[r] = true
			}
			got = append(got, cand...)
		}
		for _, r := range got {
			taken[r] = false
			if e > s {
				freeAt[r] = e
				load[r] += e - s
			}
		}
		out[j] = got
	}
	return out
}

// rebind gives the stages of a finished schedule new resources to spread the
// load, the last objective: with the times fixed, stages are taken in start
// order and each demand gets the least-loaded free matching resources. It
// returns assign unchanged if the greedy pass gets stuck, which capability
// constraints can cause.
func (c *compiled) rebind(st, en []int64, assign [][]int32) [][]int32 {
	order := make([]int32, c.n)
	c.orderBy(order, st, false)
	nr := len(c.p.Resources)
	occ := make([][]span, nr)
	load := slices.Clone(c.baseLoad)
	for r := range nr {
		occ[r] = c.busyTicks(r)
	}
	var buf []span
	paused := func(r int32, s, e int64) bool { // r has a pause in [s, e)
		return pausedWork(clockTime, c.pause, s, e, []int32{r}, &buf) > 0
	}
	free := func(r int32, s, e int64) bool {
		if e <= s {
			return true
		}
		if c.hasPause && paused(r, s, e) {
			return false
		}
		for _, o := range occ[r] {
			if o.s < e && s < o.e {
				return false
			}
		}
		return true
	}
	// A stage that pauses over one of its resources' pauses keeps its
	// resources: others would give it another end. The rest may only move to
	// resources without a pause in their span.
	pinned := make([]bool, c.n)
	out := make([][]int32, c.n)
	for j := range c.n {
		for _, r := range assign[j] {
			if c.hasPause && paused(r, st[j], en[j]) {
				pinned[j] = true
			}
		}
		if pinned[j] {
			out[j] = assign[j]
			for _, r := range assign[j] {
				occ[r] = append(occ[r], span{st[j], en[j]})
				load[r] += en[j] - st[j]
			}
		}
	}
	for _, j := range order {
		s, e := st[j], en[j]
		if pinned[j] {
			continue
		}
		got, ok := matchDemands(c.dem[j], func(r int32) bool { return free(r, s, e) }, func(a, b int32) int {
			if x := cmp.Compare(load[a], load[b]); x != 0 {
				return x
			}
			return cmp.Compare(a, b)
		})
		if !ok {
			return assign
		}
		for _, r := range got {
			if e > s {
				occ[r] = append(occ[r], span{s, e})
				load[r] += e - s
			}
		}
		out[j] = got
	}
	return out
}

// fitsAt reports whether stage j fits from s on in the current usage.
func (m *arrayModel) fitsAt(j int, s int64) bool {
	d := m.dur[j]
	if s+d > m.h {
		return false
	}
	for _, x := range m.pdem[j] {
		lim := m.capm[x.pool] - x.q
		for _, u := range m.rows[x.pool][s : s+d] {
			if u > lim {
				return false
			}
		}
	}
	return true
}

// reserve books stage j's demands from s on; fitsAt must have said yes.
func (m *arrayModel) reserve(j int, s int64) {
	d := m.dur[j]
	if d == 0 {
		return
	}
	for _, x := range m.pdem[j] {
		row := m.rows[x.pool][s : s+d]
		for t := range row {
			row[t] += x.q
		}
	}
	m.lo, m.hi = min(m.lo, s), max(m.hi, s+d)
}
