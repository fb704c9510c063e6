package planner

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/posthub/posthub/internal/calendar"
)

// arc is a precedence constraint compiled to ticks of working time. In preds
// lists it points at the predecessor, in succs lists at the successor.
type arc struct {
	to       int32
	min, max int64 // working ticks; max 0 means none
	gap      int64 // clock ticks of transfer between the two stages' sites
}

// dspec is one demand of a stage compiled to the indices of the resources
// that can serve it, in input order.
type dspec struct {
	match []int32
	count int
}

// poolDem is a stage's need of q units of pool pool, used by the cumulative
// (array) resource model.
type poolDem struct {
	pool int32
	q    int32
}

// engineConfig holds internal switches; tests use them to run the general
// interval model on instances the fast path would take.
type engineConfig struct {
	forceIntervals bool
}

// compiled is a Problem translated to the engine's integer world: stages and
// resources by index, time as ticks on an axis [0, htot), durations and lags
// as working ticks. Tick 0 is t0; the axis leaves room before the release for
// the backward pass of justification, which runs on the mirrored axis
// t' = htot - t.
type compiled struct {
	p    *Problem
	n    int
	unit time.Duration // length of one tick
	t0   time.Time     // instant of tick 0
	r0   int64         // the release, in ticks
	htot int64         // axis length

	dur    []int64
	preds  [][]arc
	succs  [][]arc
	hasMax bool
	hasGap bool    // some link waits a transfer between sites
	topo   []int32 // a fixed topological order
	rank   []int32 // position of each stage in topo

	dem      [][]dspec // per stage, per demand
	baseLoad []int64   // existing busy ticks per resource, for load spreading
	pause    [][]span  // per resource, the pauses in ticks (forward axis)
	hasPause bool      // some resource has a pause

	pooled bool
	pools  [][]int32   // pooled: the resources of each pool
	pdem   [][]poolDem // pooled: per stage, aggregated per pool
	array  bool        // the cumulative array model is in use

	// cals are the distinct calendars of the stages (nil: continuous time)
	// and stageCal the index of each stage's calendar in cals; more than one
	// when stages are at sites with different calendars.
	cals     []*calendar.Calendar
	stageCal []int32

	fwd, bwd *side
	unmet    []string
	packed   []uint64 // scratch for orderBy
}

// invalid wraps a description of malformed input in ErrInvalidProblem.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidProblem, fmt.Sprintf(format, args...))
}

// compile validates p and builds the engine's representation. Structural
// errors are returned; demands that no set of resources can meet are listed
// in unmet instead, because they are a property of the hub's data that the
// caller reports as an infeasible plan rather than a bad request.
func compile(p *Problem, cfg engineConfig) (*compiled, error) {
	if p.Release.IsZero() {
		return nil, invalid("Release is required")
	}
	if p.Calendar != nil {
		if err := p.Calendar.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidProblem, err)
		}
	}
	for site, cal := range p.Sites {
		if cal != nil {
			if err := cal.Validate(); err != nil {
				return nil, fmt.Errorf("%w: site %q: %w", ErrInvalidProblem, site, err)
			}
		}
	}
	for pair, d := range p.Transfers {
		if d < 0 {
			return nil, invalid("negative transfer time between %q and %q", pair.From, pair.To)
		}
	}
	n := len(p.Stages)
	c := &compiled{p: p, n: n}
	c.stageCal = make([]int32, n)
	for j := range p.Stages {
		cal := p.stageCalendar(&p.Stages[j])
		k := slices.Index(c.cals, cal)
		if k < 0 {
			k = len(c.cals)
			c.cals = append(c.cals, cal)
		}
		c.stageCal[j] = int32(k)
	}
	idx := make(map[string]int, n)
	for i, st := range p.Stages {
		if st.ID == "" {
			return nil, invalid("stage %d has no ID", i)
		}
		if _, dup := idx[st.ID]; dup {
			return nil, invalid("duplicate stage ID %q", st.ID)
		}
		idx[st.ID] = i
		if st.Duration < 0 {
			return nil, invalid("stage %q has negative duration %v", st.ID, st.Duration)
		}
	}
	for _, st := range p.Stages {
		for _, l := range st.Predecessors {
			if _, ok := idx[l.From]; !ok {
				return nil, invalid("stage %q follows unknown stage %q", st.ID, l.From)
			}
			if l.From == st.ID {
				return nil, invalid("stage %q follows itself", st.ID)
			}
			if l.MinLag < 0 || l.MaxLag < 0 {
				return nil, invalid("stage %q: negative lag after %q", st.ID, l.From)
			}
			if l.MaxLag > 0 && l.MaxLag < l.MinLag {
				return nil, invalid("stage %q: maximum lag %v after %q is below the minimum %v", st.ID, l.MaxLag, l.From, l.MinLag)
			}
		}
		for k, d := range st.Demands {
			if d.Count < 0 {
				return nil, invalid("stage %q demand %d has negative count", st.ID, k)
			}
		}
	}
	resIdx := make(map[string]int, len(p.Resources))
	for i, r := range p.Resources {
		if r.ID == "" {
			return nil, invalid("resource %d has no ID", i)
		}
		if _, dup := resIdx[r.ID]; dup {
			return nil, invalid("duplicate resource ID %q", r.ID)
		}
		resIdx[r.ID] = i
		if r.RateMinor < 0 {
			return nil, invalid("resource %q has a negative rate", r.ID)
		}
	}

	// Precedence graph and a topological order (Kahn), which also detects
	// cycles.
	c.preds = make([][]arc, n)
	c.succs = make([][]arc, n)
	indeg := make([]int, n)
	for j, st := range p.Stages {
		for _, l := range st.Predecessors {
			i := idx[l.From]
			indeg[j]++
			c.succs[i] = append(c.succs[i], arc{to: int32(j)})
			c.preds[j] = append(c.preds[j], arc{to: int32(i)})
		}
	}
	c.topo = make([]int32, 0, n)
	for j := range n {
		if indeg[j] == 0 {
			c.topo = append(c.topo, int32(j))
		}
	}
	for h := 0; h < len(c.topo); h++ {
		for _, a := range c.succs[c.topo[h]] {
			if indeg[a.to]--; indeg[a.to] == 0 {
				c.topo = append(c.topo, a.to)
			}
		}
	}
	if len(c.topo) < n {
		for j := range n {
			if indeg[j] > 0 {
				return nil, invalid("precedence links form a cycle through stage %q", p.Stages[j].ID)
			}
		}
	}
	c.rank = make([]int32, n)
	for k, j := range c.topo {
		c.rank[j] = int32(k)
	}

	c.compileDemands()

	var err error
	if p.Calendar == nil && len(p.Sites) == 0 {
		err = c.continuousAxis()
	} else {
		err = c.calendarAxis()
	}
	if err != nil {
		return nil, err
	}
	// Durations and lags in ticks; both axes are built so that they divide
	// exactly.
	c.dur = make([]int64, n)
	c.succs = make([][]arc, n)
	for j, st := range p.Stages {
		c.dur[j] = int64(st.Duration / c.unit)
		for k, l := range st.Predecessors {
			i := idx[l.From]
			mn, mx := int64(l.MinLag/c.unit), int64(l.MaxLag/c.unit)
			gap := int64(p.transfer(p.Stages[i].Site, st.Site) / c.unit)
			c.preds[j][k].min, c.preds[j][k].max, c.preds[j][k].gap = mn, mx, gap
			c.succs[i] = append(c.succs[i], arc{to: int32(j), min: mn, max: mx, gap: gap})
			c.hasGap = c.hasGap || gap > 0
			if mx > 0 {
				c.hasMax = true
			}
		}
	}
	if c.hasMax && len(c.unmet) == 0 {
		c.checkTemporal()
	}
	c.buildSides(cfg)
	c.packed = make([]uint64, n)
	return c, nil
}

// checkTemporal detects maximum lags that contradict the precedence chain
// itself, whatever the resources: in working time, start(j) >= end(i) + min
// and start(j) <= end(i) + max are difference constraints, and they are
// satisfiable exactly when the constraint graph has no positive cycle
// (Bellman-Ford on longest paths). Catching this up front gives the manager
// a precise message instead of a failed search.
func (c *compiled) checkTemporal() {
	n := c.n
	type edge struct {
		from, to int32
		w        int64
	}
	var edges []edge
	for j := range n {
		for _, a := range c.preds[j] {
			i := a.to
			edges = append(edges, edge{i, int32(j), c.dur[i] + a.min})
			if a.max > 0 {
				edges = append(edges, edge{int32(j), i, -(c.dur[i] + a.max)})
			}
		}
	}
	dist := make([]int64, n)
	for range n {
		changed := false
		for _, e := range edges {
			if v := dist[e.from] + e.w; v > dist[e.to] {
				dist[e.to] = v
				changed = true
			}
		}
		if !changed {
			return
		}
	}
	// Still relaxing after n rounds: some maximum lag is on a positive
	// cycle. Name the links whose maximum is violated by the relaxed starts.
	for j := range n {
		for _, a := range c.preds[j] {
			if a.max > 0 && dist[j]-dist[a.to]-c.dur[a.to] > a.max {
				c.unmet = append(c.unmet, fmt.Sprintf("stage %q cannot start within its maximum lag after %q: the stages and minimum lags between them take longer",
					c.p.Stages[j].ID, c.p.Stages[a.to].ID))
			}
		}
	}
	if len(c.unmet) == 0 {
		c.unmet = append(c.unmet, "the maximum lags contradict the precedence links and minimum lags")
	}
}

// matches reports whether resource r can serve demand d.
func matches(r *Resource, d *Demand) bool {
	if d.Kind != "" && r.Kind != d.Kind {
		return false
	}
	for _, want := range d.Capabilities {
		if !slices.Contains(r.Capabilities, want) {
			return false
		}
	}
	return true
}

// compileDemands resolves every demand to its matching resources, checks that
// each stage's demands can be met at all by distinct resources, and decides
// whether the resources form pools: groups of identical resources (same kind,
// capabilities and busy time) such that every demand matches exactly one
// whole group. Pools let the engine count units instead of tracking each
// resource, which is what makes the PSPLIB path fast.
func (c *compiled) compileDemands() {
	p := c.p
	c.dem = make([][]dspec, c.n)
	for j := range p.Stages {
		st := &p.Stages[j]
		short := false
		for k := range st.Demands {
			d := &st.Demands[k]
			ds := dspec{count: max(d.Count, 1)}
			for r := range p.Resources {
				if (st.Site == "" || p.Resources[r].Site == st.Site) && matches(&p.Resources[r], d) {
					ds.match = append(ds.match, int32(r))
				}
			}
			c.dem[j] = append(c.dem[j], ds)
			if len(ds.match) < ds.count {
				short = true
				c.unmet = append(c.unmet, fmt.Sprintf("stage %q: demand %d needs %d × %s but only %d resources match",
					st.ID, k+1, ds.count, describeDemand(d), len(ds.match)))
			}
		}
		if !short && !canMatch(c.dem[j], nil) {
			c.unmet = append(c.unmet, fmt.Sprintf("stage %q: its demands together need more distinct resources than exist", st.ID))
		}
	}

	// Pools: group resources by kind, capabilities and busy time.
	key := make([]string, len(p.Resources))
	group := map[string]int32{}
	var members [][]int32
	for r := range p.Resources {
		res := &p.Resources[r]
		caps := slices.Clone(res.Capabilities)
		slices.Sort(caps)
		caps = slices.Compact(caps)
		var b strings.Builder
		b.WriteString(res.Site)
		b.WriteByte(0)
		b.WriteString(res.Kind)
		b.WriteByte(0)
		b.WriteString(strings.Join(caps, "\x01"))
		b.WriteByte(0)
		for _, iv := range calendar.Normalize(res.Busy...) {
			iv = clipFrom(iv, p.Release)
			if iv.IsEmpty() {
				continue
			}
			fmt.Fprintf(&b, "%d:%d;", iv.Start.UnixNano(), iv.End.UnixNano())
		}
		key[r] = b.String()
		g, ok := group[key[r]]
		if !ok {
			g = int32(len(members))
			group[key[r]] = g
			members = append(members, nil)
		}
		members[g] = append(members[g], int32(r))
	}
	pooled := true
	poolOf := map[int32]int32{} // group -> pool index
	c.pdem = make([][]poolDem, c.n)
	for j := range c.dem {
		for _, ds := range c.dem[j] {
			if len(ds.match) == 0 {
				pooled = false
				break
			}
			g := group[key[ds.match[0]]]
			if len(members[g]) != len(ds.match) {
				pooled = false
				break
			}
			for _, r := range ds.match {
				if group[key[r]] != g {
					pooled = false
					break
				}
			}
			if !pooled {
				break
			}
			pi, ok := poolOf[g]
			if !ok {
				pi = int32(len(c.pools))
				poolOf[g] = pi
				c.pools = append(c.pools, members[g])
			}
			found := false
			for x := range c.pdem[j] {
				if c.pdem[j][x].pool == pi {
					c.pdem[j][x].q += int32(ds.count)
					found = true
				}
			}
			if !found {
				c.pdem[j] = append(c.pdem[j], poolDem{pool: pi, q: int32(ds.count)})
			}
		}
		if !pooled {
			break
		}
	}
	// Pauses make a stage's end depend on which resources it gets, which only
	// the interval model handles.
	for r := range p.Resources {
		if len(p.Resources[r].Pauses) > 0 {
			pooled = false
		}
	}
	c.pooled = pooled
	if !pooled {
		c.pools, c.pdem = nil, nil
	}
}

// clipFrom cuts off the part of iv before from, because busy time before the
// release cannot affect a plan that starts at the release.
func clipFrom(iv calendar.Interval, from time.Time) calendar.Interval {
	if iv.Start.Before(from) {
		iv.Start = from
	}
	return iv
}

// describeDemand renders a demand for messages.
func describeDemand(d *Demand) string {
	s := d.Kind
	if s == "" {
		s = "any kind"
	}
	if len(d.Capabilities) > 0 {
		s += " with " + strings.Join(d.Capabilities, ", ")
	}
	return s
}

// canMatch reports whether the demands can be served by distinct resources
// among those for which free returns true (all of them when free is nil).
// It is bipartite matching by augmenting paths, small because a stage has few
// demands.
func canMatch(ds []dspec, free func(int32) bool) bool {
	_, ok := matchDemands(ds, free, nil)
	return ok
}

// matchDemands assigns to every demand count distinct resources from its
// match list for which free is true, trying candidates in the order given by
// pref (lower first; input order when nil). It returns the chosen resources
// grouped by demand.
func matchDemands(ds []dspec, free func(int32) bool, pref func(a, b int32) int) ([]int32, bool) {
	type slot struct{ d int }
	var slots []slot
	for k, d := range ds {
		for range d.count {
			slots = append(slots, slot{k})
		}
	}
	owner := map[int32]int{} // resource -> slot
	cand := make([][]int32, len(ds))
	for k, d := range ds {
		for _, r := range d.match {
			if free == nil || free(r) {
				cand[k] = append(cand[k], r)
			}
		}
		if pref != nil {
			slices.SortStableFunc(cand[k], pref)
		}
		if len(cand[k]) < d.count {
			return nil, false
		}
	}
	assigned := make([]int32, len(slots))
	var try func(s int, seen map[int32]bool) bool
	try = func(s int, seen map[int32]bool) bool {
		for _, r := range cand[slots[s].d] {
			if seen[r] {
				continue
			}
			seen[r] = true
			o, taken := owner[r]
			if !taken || try(o, seen) {
				owner[r] = s
				assigned[s] = r
				return true
			}
		}
		return false
	}
	for s := range slots {
		if !try(s, map[int32]bool{}) {
			return nil, false
		}
	}
	return assigned, true
}

// gcd returns the greatest common divisor of two non-negative numbers.
func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// workPad returns the working time that any serial schedule of the stages
// needs at most beyond the release and the last busy time: every stage and its
// largest minimum lag one after another.
func (c *compiled) workPad() time.Duration {
	// A transfer between sites is clock time: counting the longest as
	// working time after every stage only widens the pad.
	var transfer time.Duration
	for _, d := range c.p.Transfers {
		transfer = max(transfer, d)
	}
	var pad time.Duration
	for _, st := range c.p.Stages {
		var lag time.Duration
		for _, l := range st.Predecessors {
			lag = max(lag, l.MinLag)
		}
		if len(st.Predecessors) > 0 {
			lag += transfer
		}
		pad += st.Duration + lag
	}
	return pad
}

// lastBusyEnd returns the end of the latest busy interval after the release,
// or the release.
func (c *compiled) lastBusyEnd() time.Time {
	last := c.p.Release
	for _, r := range c.p.Resources {
		for _, iv := range slices.Concat(r.Busy, r.Pauses) { // tolerate unnormalised input
			if iv.End.After(last) {
				last = iv.End
			}
		}
	}
	return last
}

// continuousAxis sets up ticks for continuous time: the tick is the greatest
// common divisor of every duration, lag and busy boundary (relative to the
// release), so that a PSPLIB instance in minutes gets one-minute ticks and
// small arrays, while any input stays exact.
func (c *compiled) continuousAxis() error {
	p := c.p
	var g int64
	add := func(d time.Duration) {
		if d < 0 {
			d = -d
		}
		g = gcd(int64(d), g)
	}
	for _, st := range p.Stages {
		add(st.Duration)
		for _, l := range st.Predecessors {
			add(l.MinLag)
			add(l.MaxLag)
		}
	}
	for _, d := range p.Transfers {
		add(d)
	}
	for _, r := range p.Resources {
		for _, iv := range slices.Concat(r.Busy, r.Pauses) {
			if iv.End.After(p.Release) {
				add(later(iv.Start, p.Release).Sub(p.Release))
				add(iv.End.Sub(p.Release))
			}
		}
	}
	if g == 0 {
		g = int64(time.Minute)
	}
	c.unit = time.Duration(g)
	pad := int64(c.workPad()/c.unit) + 1
	busy := int64(c.lastBusyEnd().Sub(p.Release) / c.unit)
	c.r0 = pad
	c.htot = c.r0 + busy + 2*pad + 1
	if c.htot > maxTick/4 {
		return invalid("time span too long to plan")
	}
	c.t0 = p.Release.Add(-time.Duration(c.r0) * c.unit)
	return nil
}

// calendarAxis sets up nanosecond ticks and the working intervals of the
// calendar around the release: enough working time before it for the backward
// pass and after the last busy time for the forward pass.
func (c *compiled) calendarAxis() error {
	p := c.p
	c.unit = time.Nanosecond
	need := c.workPad() + time.Nanosecond
	const limit = 50 * 366 * 24 * time.Hour
	// Every stage's calendar gets the room: the axis runs from the earliest
	// start any needs to the latest end.
	t0, tend := p.Release, p.Release
	from := c.lastBusyEnd()
	for _, cal := range c.cals {
		if cal == nil {
			t0, tend = earlierOf(t0, p.Release.Add(-need)), laterOf(tend, from.Add(2*need))
			continue
		}
		ext := max(4*need, 7*24*time.Hour)
		for cal.WorkingTime(calendar.Interval{Start: p.Release.Add(-ext), End: p.Release}, p.Options).Duration() < need {
			if ext *= 2; ext > limit {
				return invalid("calendar has no working time before the release to plan with")
			}
		}
		t0 = earlierOf(t0, p.Release.Add(-ext))
		ext = max(8*need, 7*24*time.Hour)
		for cal.WorkingTime(calendar.Interval{Start: from, End: from.Add(ext)}, p.Options).Duration() < 2*need {
			if ext *= 2; ext > limit {
				return invalid("calendar has too little working time after the release to plan the stages")
			}
		}
		tend = laterOf(tend, from.Add(ext))
	}
	c.t0 = t0
	c.r0 = int64(p.Release.Sub(t0))
	c.htot = int64(tend.Sub(t0))
	return nil
}

// earlierOf returns the earlier of two instants.
func earlierOf(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// laterOf returns the later of two instants.
func laterOf(a, b time.Time) time.Time { return later(a, b) }

// later returns the later of two instants.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// tick converts an instant to ticks, clamped to the axis.
func (c *compiled) tick(t time.Time) int64 {
	if !t.After(c.t0) {
		return 0
	}
	d := int64(t.Sub(c.t0) / c.unit)
	return min(d, c.htot)
}

// instant converts ticks back to an instant in the release's location.
func (c *compiled) instant(t int64) time.Time {
	return c.t0.Add(time.Duration(t) * c.unit).In(c.p.Release.Location())
}

// busyTicks returns resource r's busy time from the release on, in ticks.
func (c *compiled) busyTicks(r int) []span {
	return c.ticks(c.p.Resources[r].Busy)
}

// ticks returns the set from the release on, normalised, in ticks.
func (c *compiled) ticks(set calendar.Set) []span {
	var out []span
	for _, iv := range calendar.Normalize(set...) {
		iv = clipFrom(iv, c.p.Release)
		if iv.IsEmpty() {
			continue
		}
		s, e := c.tick(iv.Start), c.tick(iv.End)
		if e > s {
			out = append(out, span{s, e})
		}
	}
	return out
}

// mirrorSpans reflects sorted spans on the axis.
func mirrorSpans(in []span, h int64) []span {
	out := make([]span, len(in))
	for i, s := range in {
		out[len(in)-1-i] = span{h - s.e, h - s.s}
	}
	return out
}

// shiftable reports whether any schedule may be moved in time as a whole
// and stay one: the cumulative model on continuous time, with no busy time,
// pauses or maximum lags. The search then judges children by their
// right-justified schedules.
func (c *compiled) shiftable() bool {
	if !c.array || c.hasMax || c.hasPause {
		return false
	}
	for _, l := range c.baseLoad {
		if l > 0 {
			return false
		}
	}
	return true
}

// arrayCells bounds the memory of the cumulative array model.
const arrayCells = 1 << 20

// buildSides creates the forward side and its mirror for the backward pass.
func (c *compiled) buildSides(cfg engineConfig) {
	// One time map per distinct calendar, shared by its stages.
	maps := make([]*timeMap, len(c.cals))
	for k, cal := range c.cals {
		if cal == nil {
			maps[k] = &timeMap{cont: true}
			continue
		}
		var ivs []span
		win := calendar.Interval{Start: c.t0, End: c.t0.Add(time.Duration(c.htot))}
		for _, iv := range cal.WorkingTime(win, c.p.Options) {
			ivs = append(ivs, span{c.tick(iv.Start), c.tick(iv.End)})
		}
		maps[k] = newCalendarMap(ivs)
	}
	stageMaps := func(maps []*timeMap) []*timeMap {
		out := make([]*timeMap, c.n)
		for j := range out {
			out[j] = maps[c.stageCal[j]]
		}
		return out
	}
	busy := make([][]span, len(c.p.Resources))
	c.pause = make([][]span, len(c.p.Resources))
	c.baseLoad = make([]int64, len(c.p.Resources))
	for r := range busy {
		busy[r] = c.busyTicks(r)
		for _, s := range busy[r] {
			c.baseLoad[r] += s.e - s.s
		}
		c.pause[r] = c.ticks(c.p.Resources[r].Pauses)
		c.hasPause = c.hasPause || len(c.pause[r]) > 0
	}
	c.array = c.pooled && c.p.Calendar == nil && len(c.p.Sites) == 0 && !c.hasGap && !cfg.forceIntervals &&
		c.htot*int64(max(len(c.pools), 1)) <= arrayCells
	mk := func(mirror bool) *side {
		sd := &side{
			tms:   stageMaps(maps),
			multi: len(maps) > 1 || c.hasGap,
			htot:  c.htot,
			dur:   c.dur,
			lowW:  make([]int64, c.n),
			wEnd:  make([]int64, c.n),
			// With pauses a stage's working end is read off its end.
			pauses: c.hasPause,
		}
		sd.preds, sd.succs, sd.hasMax = c.preds, c.succs, c.hasMax
		if c.hasMax {
			sd.work = make([]int32, 0, c.n)
			sd.moved = make([]bool, c.n)
			sd.inM = make([]bool, c.n)
		}
		b, pz := busy, c.pause
		if mirror {
			sd.preds, sd.succs = c.succs, c.preds
			mirrored := make([]*timeMap, len(maps))
			for k, m := range maps {
				mirrored[k] = m.mirror(c.htot)
			}
			sd.tms = stageMaps(mirrored)
			b = make([][]span, len(busy))
			pz = make([][]span, len(busy))
			for r := range busy {
				b[r] = mirrorSpans(busy[r], c.htot)
				pz[r] = mirrorSpans(c.pause[r], c.htot)
			}
		}
		if c.array {
			sd.res = newArrayModel(c, b)
		} else {
			sd.res = newIntervalModel(c, b, pz, sd.tms)
		}
		return sd
	}
	c.fwd = mk(false)
	c.bwd = mk(true)
}

// orderBy fills dst with the stage indices ordered by key (descending when
// desc), ties broken by topological rank (descending too when desc). This
// keeps the order precedence-feasible when the keys are start times (or, for
// desc, end times) of a feasible schedule, even with zero-length stages. It
// runs after every decode, so small keys are packed with the rank into one
// integer and sorted without a comparison function.
func (c *compiled) orderBy(dst []int32, key []int64, desc bool) {
	rank := c.rank
	const rankBits = 24
	if c.htot < 1<<(63-rankBits) && c.n < 1<<rankBits {
		packed := c.packed[:len(dst)]
		for j := range packed {
			k, r := key[j], int64(rank[j])
			if desc {
				k, r = c.htot-k, int64(c.n)-r
			}
			packed[j] = uint64(k)<<rankBits | uint64(r)
		}
		slices.Sort(packed)
		for i, x := range packed {
			r := int64(x & (1<<rankBits - 1))
			if desc {
				r = int64(c.n) - r
			}
			dst[i] = c.topo[r]
		}
		return
	}
	for j := range dst {
		dst[j] = int32(j)
	}
	if desc {
		slices.SortFunc(dst, func(a, b int32) int {
			if r := cmp.Compare(key[b], key[a]); r != 0 {
				return r
			}
			return cmp.Compare(rank[b], rank[a])
		})
		return
	}
	slices.SortFunc(dst, func(a, b int32) int {
		if r := cmp.Compare(key[a], key[b]); r != 0 {
			return r
		}
		return cmp.Compare(rank[a], rank[b])
	})
}
