package planner

import (
	"slices"
)

// Decomposition (after Debels & Vanhoucke's decomposition-based GA, 2007):
// a window of consecutive stages of the best schedule is solved as a
// sub-project of its own, with the rest of the schedule fixed, and the
// improved window is put back. Only problems whose schedules may be moved in
// time as a whole (shiftable: no calendar, busy time, pauses or maximum
// lags, on the cumulative array model) use it.
//
// The sub-project of a window W (stages p..p+k-1 of the best forward
// schedule F in order of start, finish T):
//
//   - the stages before W keep their times in F, and the room they leave is
//     the sub-project's resource profile; each stage of W is released by its
//     predecessors among them;
//   - the stages after W are right-justified against T with the others held
//     at their times in F (a backward decode of the suffix: one schedule);
//     their order by those starts is how they follow the window.
//
// The sub-project's own small genetic algorithm (two-point crossover and
// swap mutation on the window's lists, seeded by the window's order in F and
// small perturbations of it) decodes each list forward into that room and
// the suffix after it in its fixed order: one schedule, whose finish ranks
// the list, then the sum of the ends. When the best list beats T, the whole
// list (the stages before W, then the rest in order of their new starts) is
// evaluated like any other list (two or three schedules) and offered to the
// main population. Every decode counts against the budget.
type decomp struct {
	loc    []int32   // stage -> index in the window, or -1
	pos    []int32   // stage -> position in F's order by start
	win    []int32   // window index -> stage
	preds  [][]larc  // window predecessors, in window indices
	rel    []int64   // per window stage: release by the stages before W
	fst    []int64   // per stage: F before the window, right-justified after
	fen    []int64   // and the ends
	inS    []bool    // stage is after the window
	sorder []int32   // the stages after the window, by right-justified start
	rows   [][]int32 // per pool, usage per tick from r0
	capm   []int32
	pMax   int64 // the last end of the stages before the window
	order  []int32
	keys   []float64
	st, en []int64 // window scratch
	sst    []int64 // per stage: the suffix's starts (scratch)
	mark   []uint32
	gen    uint32
	pop    []subInd
}

type larc struct {
	to  int32
	min int64
}

// subInd is an individual of the sub-project's population.
type subInd struct {
	list []int32 // window indices
	fin  int64   // the finish of the whole schedule
	ends int64   // the sum of the ends of the window and the suffix
	st   []int64 // the window's starts
	sst  []int64 // the suffix's starts, in the order of sorder
}

func (a *subInd) better(b *subInd) bool {
	return a.fin < b.fin || (a.fin == b.fin && a.ends < b.ends)
}

// Tuning of the decomposition.
const (
	// decompEvery is how many children of the main genetic algorithm pass
	// between two sub-projects.
	decompEvery = 200
	// decompShare is the window's length as a share of the stages, at
	// least decompMin.
	decompShare = 0.25
	decompMin   = 6
	// decompBudget is the schedules given to one sub-project's search,
	// decompPop its population and decompNoise the amplitude, as a share
	// of the best makespan, of the perturbations that seed it.
	decompBudget = 60
	decompPop    = 8
	decompNoise  = 0.05
)

func (s *searcher) newDecomp() *decomp {
	c := s.c
	d := &decomp{
		loc: make([]int32, c.n), pos: make([]int32, c.n),
		fst: make([]int64, c.n), fen: make([]int64, c.n),
		inS: make([]bool, c.n), sst: make([]int64, c.n),
		order: make([]int32, c.n), mark: make([]uint32, c.n),
		rows: make([][]int32, len(c.pools)),
	}
	for _, members := range c.pools {
		d.capm = append(d.capm, int32(len(members)))
	}
	return d
}

// usage adds sign times stage j's demands over [st, en) to the rows.
func (d *decomp) usage(c *compiled, j int32, st, en int64, sign int32) {
	for _, x := range c.pdem[j] {
		row := d.rows[x.pool][st-c.r0 : en-c.r0]
		q := sign * x.q
		for t := range row {
			row[t] += q
		}
	}
}

// latest returns the latest start of stage j ending by dl that fits the
// rows, not before lo; ok is false when there is none.
func (d *decomp) latest(c *compiled, j int32, dl, lo int64) (int64, bool) {
	dur := c.dur[j]
	e := dl
	for {
		st := e - dur
		if st < lo {
			return 0, false
		}
		next := int64(-1)
		for _, x := range c.pdem[j] {
			row := d.rows[x.pool][st-c.r0 : e-c.r0]
			lim := d.capm[x.pool] - x.q
			for t := range row {
				if row[t] > lim {
					if v := st + int64(t); next < 0 || v < next {
						next = v
					}
					break
				}
			}
		}
		if next < 0 {
			return st, true
		}
		e = next
	}
}

// earliest returns the earliest start of stage j at or after es that fits
// the rows; ok is false when it would end past the rows.
func (d *decomp) earliest(c *compiled, j int32, es int64) (int64, bool) {
	dur := c.dur[j]
	h := c.r0 + int64(len(d.rows[0]))
	st := es
	for {
		e := st + dur
		if e > h {
			return 0, false
		}
		next := int64(-1)
		for _, x := range c.pdem[j] {
			row := d.rows[x.pool][st-c.r0 : e-c.r0]
			lim := d.capm[x.pool] - x.q
			for t := len(row) - 1; t >= 0; t-- {
				if row[t] > lim {
					if v := st + int64(t) + 1; v > next {
						next = v
					}
					break
				}
			}
		}
		if next < 0 {
			return st, true
		}
		st = next
	}
}

// decomposeBest cuts the window of k stages starting at position p of the
// best schedule's order by start, solves it as a sub-project with up to
// budget schedules and, when that finds a schedule shorter than the best,
// puts the window back into a whole list in out and reports true.
func (s *searcher) decomposeBest(d *decomp, p, k, budget int, out []int32) bool {
	c := s.c
	n := c.n
	T := s.bestFinish
	if !s.haveBest || len(d.rows) == 0 || k <= 1 || p < 0 || p+k > n || T <= c.r0 || s.done() {
		return false
	}
	c.orderBy(d.order, s.bestSt, false)
	h := T - c.r0 + 1
	for _, j := range d.order[p:] {
		h += c.dur[j]
	}
	for pool := range d.rows {
		if int64(cap(d.rows[pool])) < h {
			d.rows[pool] = make([]int32, h)
		}
		d.rows[pool] = d.rows[pool][:h]
		clear(d.rows[pool])
	}
	for j := range d.loc {
		d.loc[j] = -1
	}
	d.win = append(d.win[:0], d.order[p:p+k]...)
	for i, j := range d.win {
		d.loc[j] = int32(i)
	}
	for x, j := range d.order {
		d.pos[j] = int32(x)
		d.inS[j] = x >= p+k
		d.fst[j], d.fen[j] = s.bestSt[j], s.bestEn[j]
	}
	for _, j := range d.order[:p+k] {
		d.usage(c, j, d.fst[j], d.fen[j], 1)
	}
	// The suffix right-justified against T, in order of decreasing end:
	// each stage gets a start no earlier than in F, whose times fit.
	s.count++
	c.orderBy(s.blist, s.bestEn, true)
	for _, j := range s.blist {
		if !d.inS[j] {
			continue
		}
		dl := T
		for _, a := range c.succs[j] {
			dl = min(dl, d.fst[a.to]-a.min)
		}
		st, ok := d.latest(c, j, dl, s.bestSt[j])
		if !ok {
			return false
		}
		d.fst[j], d.fen[j] = st, st+c.dur[j]
		d.usage(c, j, d.fst[j], d.fen[j], 1)
	}
	// The room is what the stages before the window leave.
	d.pMax = c.r0
	for _, j := range d.order {
		if d.pos[j] < int32(p) {
			d.pMax = max(d.pMax, d.fen[j])
		} else {
			d.usage(c, j, d.fst[j], d.fen[j], -1)
		}
	}
	c.orderBy(s.flist, d.fst, false)
	d.sorder = d.sorder[:0]
	for _, j := range s.flist {
		if d.inS[j] {
			d.sorder = append(d.sorder, j)
		}
	}
	d.rel = slices.Grow(d.rel[:0], k)[:k]
	d.st = slices.Grow(d.st[:0], k)[:k]
	d.en = slices.Grow(d.en[:0], k)[:k]
	for len(d.preds) < k {
		d.preds = append(d.preds, nil)
	}
	for i, j := range d.win {
		d.rel[i] = c.r0
		d.preds[i] = d.preds[i][:0]
		for _, a := range c.preds[j] {
			if l := d.loc[a.to]; l >= 0 {
				d.preds[i] = append(d.preds[i], larc{l, a.min})
			} else {
				d.rel[i] = max(d.rel[i], d.fen[a.to]+a.min)
			}
		}
	}
	// The sub-project's search, seeded by the window's own order.
	first := make([]int32, k)
	for i := range first {
		first[i] = int32(i)
	}
	d.pop = d.pop[:0]
	used := 1
	if ind, ok := d.evalSub(s, first); ok {
		d.pop = append(d.pop, ind)
	}
	d.keys = slices.Grow(d.keys[:0], k)[:k]
	span := float64(T - c.r0)
	for len(d.pop) < decompPop && used < budget && !s.done() {
		for i, j := range d.win {
			d.keys[i] = float64(s.bestSt[j]) + (2*s.rng.Float64()-1)*decompNoise*span
		}
		l := make([]int32, k)
		d.keyList(d.keys, l)
		used++
		if ind, ok := d.evalSub(s, l); ok && !d.has(&ind) {
			d.pop = append(d.pop, ind)
		}
	}
	child := make([]int32, k)
	for used < budget && !s.done() && len(d.pop) > 1 {
		m, f := d.pick(s), d.pick(s)
		q1, q2 := s.rng.IntN(k+1), s.rng.IntN(k+1)
		if q1 > q2 {
			q1, q2 = q2, q1
		}
		d.cross(m.list, f.list, child, q1, q2)
		for i := 0; i+1 < k; i++ {
			if s.rng.Float64() < mutationRate {
				a, b := d.win[child[i]], d.win[child[i+1]]
				if s.direct[a][b/64]&(1<<(b%64)) == 0 {
					child[i], child[i+1] = child[i+1], child[i]
				}
			}
		}
		used++
		ind, ok := d.evalSub(s, child)
		if !ok {
			continue
		}
		worst := 0
		for i := range d.pop {
			if d.pop[worst].better(&d.pop[i]) {
				worst = i
			}
		}
		if ind.better(&d.pop[worst]) && !d.has(&ind) {
			d.pop[worst] = ind
		}
	}
	if len(d.pop) == 0 {
		return false
	}
	best := &d.pop[0]
	for i := range d.pop {
		if d.pop[i].better(best) {
			best = &d.pop[i]
		}
	}
	if best.fin >= T {
		return false
	}
	// Put the window back: the stages before it in F's order, then the
	// window and the suffix by their new starts.
	for i, j := range d.win {
		d.fst[j] = best.st[i]
	}
	for x, j := range d.sorder {
		d.fst[j] = best.sst[x]
	}
	copy(out, d.order[:p])
	c.orderBy(d.order, d.fst, false)
	at := p
	for _, j := range d.order {
		if d.pos[j] >= int32(p) {
			out[at] = j
			at++
		}
	}
	return true
}

// evalSub decodes a window list forward into the room left by the stages
// before it, then the suffix after it in its fixed order: one schedule.
func (d *decomp) evalSub(s *searcher, list []int32) (subInd, bool) {
	c := s.c
	s.count++
	fin, ends := d.pMax, int64(0)
	placed, splaced := 0, 0
	ok := true
	for _, i := range list {
		j := d.win[i]
		es := d.rel[i]
		for _, a := range d.preds[i] {
			es = max(es, d.en[a.to]+a.min)
		}
		st, fits := d.earliest(c, j, es)
		if !fits {
			ok = false
			break
		}
		d.st[i], d.en[i] = st, st+c.dur[j]
		d.usage(c, j, d.st[i], d.en[i], 1)
		placed++
		fin = max(fin, d.en[i])
		ends += d.en[i]
	}
	for x := 0; ok && x < len(d.sorder); x++ {
		j := d.sorder[x]
		es := c.r0
		for _, a := range c.preds[j] {
			e := d.fen[a.to] // before the window
			if l := d.loc[a.to]; l >= 0 {
				e = d.en[l]
			} else if d.inS[a.to] {
				e = d.sst[a.to] + c.dur[a.to]
			}
			es = max(es, e+a.min)
		}
		st, fits := d.earliest(c, j, es)
		if !fits {
			ok = false
			break
		}
		d.sst[j] = st
		d.usage(c, j, st, st+c.dur[j], 1)
		splaced++
		fin = max(fin, st+c.dur[j])
		ends += st + c.dur[j]
	}
	for _, i := range list[:placed] {
		d.usage(c, d.win[i], d.st[i], d.en[i], -1)
	}
	for _, j := range d.sorder[:splaced] {
		d.usage(c, j, d.sst[j], d.sst[j]+c.dur[j], -1)
	}
	if !ok {
		return subInd{}, false
	}
	ind := subInd{list: slices.Clone(list), fin: fin, ends: ends, st: slices.Clone(d.st), sst: make([]int64, len(d.sorder))}
	for x, j := range d.sorder {
		ind.sst[x] = d.sst[j]
	}
	return ind, true
}

func (d *decomp) has(x *subInd) bool {
	for i := range d.pop {
		if d.pop[i].fin == x.fin && d.pop[i].ends == x.ends && slices.Equal(d.pop[i].st, x.st) {
			return true
		}
	}
	return false
}

func (d *decomp) pick(s *searcher) *subInd {
	a := &d.pop[s.rng.IntN(len(d.pop))]
	b := &d.pop[s.rng.IntN(len(d.pop))]
	if b.better(a) {
		return b
	}
	return a
}

// cross is the two-point crossover on window lists.
func (d *decomp) cross(mother, father, child []int32, q1, q2 int) {
	d.gen++
	if d.gen == 0 {
		clear(d.mark)
		d.gen = 1
	}
	k := len(mother)
	pos := 0
	for ; pos < q1; pos++ {
		child[pos] = mother[pos]
		d.mark[mother[pos]] = d.gen
	}
	for _, a := range father {
		if pos >= q2 {
			break
		}
		if d.mark[a] != d.gen {
			child[pos] = a
			d.mark[a] = d.gen
			pos++
		}
	}
	for _, a := range mother {
		if pos >= k {
			break
		}
		if d.mark[a] != d.gen {
			child[pos] = a
			d.mark[a] = d.gen
			pos++
		}
	}
}

// keyList orders the window by smallest key among the stages whose window
// predecessors are listed.
func (d *decomp) keyList(keys []float64, out []int32) {
	k := len(d.win)
	indeg := make([]int, k)
	succ := make([][]int32, k)
	for i := range k {
		indeg[i] = len(d.preds[i])
		for _, a := range d.preds[i] {
			succ[a.to] = append(succ[a.to], int32(i))
		}
	}
	elig := make([]int32, 0, k)
	for i := range k {
		if indeg[i] == 0 {
			elig = append(elig, int32(i))
		}
	}
	for x := range k {
		pick := 0
		for y := 1; y < len(elig); y++ {
			if keys[elig[y]] < keys[elig[pick]] {
				pick = y
			}
		}
		i := elig[pick]
		out[x] = i
		elig[pick] = elig[len(elig)-1]
		elig = elig[:len(elig)-1]
		for _, v := range succ[i] {
			if indeg[v]--; indeg[v] == 0 {
				elig = append(elig, v)
			}
		}
	}
}
