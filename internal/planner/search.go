package planner

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// searcher runs the metaheuristic on a compiled problem: priority-rule
// sampling to seed a population, forward-backward improvement (justification)
// of every schedule, and a genetic algorithm on activity lists. It counts
// every decode and keeps the best forward schedule seen.
type searcher struct {
	c     *compiled
	rng   *rand.Rand
	limit int
	count int
	stop  time.Time
	ctx   context.Context
	ended bool
	outSt []int64 // starts of the schedule whose list improve put in out
	outEn []int64 // and its ends

	st, en   []int64 // forward scratch
	bst, ben []int64 // backward scratch (mirrored ticks)
	key      []int64
	blist    []int32
	flist    []int32
	mark     []uint32
	markGen  uint32
	direct   [][]uint64 // direct precedence bitsets

	haveBest   bool
	bestFinish int64
	bestSt     []int64
	bestEn     []int64
	bestAssign [][]int32

	// priority values per rule, smaller is better
	prio [][]int64

	// right is set when a schedule may be moved in time as a whole (no
	// calendar, busy time, pauses or maximum lags): children are then
	// judged by their right-justified schedules (see improveRight).
	right bool
	// util is the share of its matching resources each stage holds; the
	// peak window of the crossover is where a schedule's sum of it over
	// time is largest.
	util []float64
	ev   []event   // peakWindow scratch
	cum  []float64 // peakWindow scratch
	rate []float64 // peakWindow scratch

	// parallel's scratch
	pos, left        []int32
	es               []int64
	pend, act, fresh []int32
}

// newSearcher prepares a search with the given budget.
func newSearcher(ctx context.Context, c *compiled, opts Options) *searcher {
	n := c.n
	s := &searcher{
		c:     c,
		rng:   rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		limit: opts.Budget.Schedules,
		ctx:   ctx,
		st:    make([]int64, n), en: make([]int64, n),
		bst: make([]int64, n), ben: make([]int64, n),
		key:   make([]int64, n),
		blist: make([]int32, n), flist: make([]int32, n),
		mark:  make([]uint32, n),
		outSt: make([]int64, n), outEn: make([]int64, n),
		bestSt: make([]int64, n), bestEn: make([]int64, n),
	}
	if opts.Budget.Schedules <= 0 && opts.Budget.WallTime <= 0 {
		s.limit = DefaultSchedules
	}
	if opts.Budget.WallTime > 0 {
		s.stop = time.Now().Add(opts.Budget.WallTime)
	}
	words := (n + 63) / 64
	s.direct = make([][]uint64, n)
	for i := range n {
		s.direct[i] = make([]uint64, words)
		for _, a := range c.succs[i] {
			s.direct[i][a.to/64] |= 1 << (a.to % 64)
		}
	}
	s.prio = priorityRules(c)
	s.util = make([]float64, n)
	for j, ds := range c.dem {
		for _, d := range ds {
			if len(d.match) > 0 {
				s.util[j] += float64(d.count) / float64(len(d.match))
			}
		}
	}
	s.right = c.shiftable()

	return s
}

// done reports whether the budget is used up; the clock and the context are
// consulted every 32 schedules to keep the check cheap.
func (s *searcher) done() bool {
	if s.ended {
		return true
	}
	if s.limit > 0 && s.count >= s.limit {
		s.ended = true
	} else if s.count&31 == 0 {
		if s.ctx.Err() != nil || (!s.stop.IsZero() && time.Now().After(s.stop)) {
			s.ended = true
		}
	}
	return s.ended
}

// forward decodes list on the forward side, records it as the best plan if it
// is, and returns its finish.
func (s *searcher) forward(list []int32) (int64, bool) {
	s.count++
	f, ok := s.c.fwd.decode(list, s.c.r0, s.st, s.en)
	if !ok {
		return 0, false
	}
	s.keepIfBest(f)
	return f, true
}

// keepIfBest records the schedule in s.st and s.en (and the interval model's
// assignment) as the best plan if its finish f is the earliest yet.
func (s *searcher) keepIfBest(f int64) {
	if !s.haveBest || f < s.bestFinish {
		s.haveBest = true
		s.bestFinish = f
		copy(s.bestSt, s.st)
		copy(s.bestEn, s.en)
		if im, ok := s.c.fwd.res.(*intervalModel); ok {
			if s.bestAssign == nil {
				s.bestAssign = make([][]int32, s.c.n)
			}
			for j := range im.assign {
				s.bestAssign[j] = append(s.bestAssign[j][:0], im.assign[j]...)
			}
		}
	}
}

// improve decodes list and justifies the schedule by forward-backward
// improvement: the stages are right-shifted as late as possible before the
// finish in order of decreasing end (a backward SSGS on the mirrored
// problem), then left-shifted again in order of the new starts. Each pass is
// one schedule and never makes the finish later on problems without maximum
// lags. Up to passes backward-forward rounds are made while they improve.
// out receives the activity list of the best schedule (stages by start), so
// the genetic algorithm inherits the improvement.
func (s *searcher) improve(list, out []int32, passes int) (int64, bool) {
	best, ok := s.forward(list)
	if !ok {
		copy(out, list)
		return math.MaxInt64, false
	}
	s.c.orderBy(out, s.st, false)
	copy(s.outSt, s.st)
	copy(s.outEn, s.en)
	c := s.c
	for range passes {
		if s.done() {
			break
		}
		c.orderBy(s.blist, s.en, true)
		s.count++
		if _, ok := c.bwd.decode(s.blist, c.htot-best, s.bst, s.ben); !ok {
			break
		}
		if s.done() {
			break
		}
		// Original start = htot - mirrored end.
		for j, e := range s.ben {
			s.key[j] = c.htot - e
		}
		c.orderBy(s.flist, s.key, false)
		f, ok := s.forward(s.flist)
		if !ok || f > best {
			break
		}
		improved := f < best
		best = f
		c.orderBy(out, s.st, false)
		copy(s.outSt, s.st)
		copy(s.outEn, s.en)
		if !improved {
			break
		}
	}
	return best, true
}

// improveRight decodes list and right-justifies the schedule (a backward
// SSGS in order of decreasing end, ending by the finish): two schedules.
// With par both decodes use the parallel scheme instead (see parallel).
// On a problem whose schedules may be moved in time as a whole, the
// right-justified schedule moved back to the release is a schedule at
// least as short, and it is what out, outSt and outEn receive and what the
// result measures: the third decode of forward-backward improvement, which
// left-justifies it again, is left to the next time its list is decoded,
// as a child. Only when it beats the best plan is it decoded forward at
// once (a third schedule), so that the plan is a forward schedule.
func (s *searcher) improveRight(list, out []int32, par bool) (int64, bool) {
	c := s.c
	var best int64
	var ok bool
	if par {
		best, ok = s.parallel(list)
	} else {
		best, ok = s.forward(list)
	}
	if !ok {
		copy(out, list)
		return math.MaxInt64, false
	}
	c.orderBy(out, s.st, false)
	copy(s.outSt, s.st)
	copy(s.outEn, s.en)
	if s.done() {
		return best, true
	}
	c.orderBy(s.blist, s.en, true)
	s.count++
	var fm int64
	if par {
		fm, ok = s.parallelOn(c.bwd, s.blist, c.htot-best, s.bst, s.ben)
	} else {
		fm, ok = c.bwd.decode(s.blist, c.htot-best, s.bst, s.ben)
	}
	if !ok {
		return best, true
	}
	// The mirrored schedule starts at htot-fm in original ticks; moved
	// back by shift it starts at the release.
	shift := c.htot - fm - c.r0
	if shift < 0 {
		// The parallel scheme may right-justify into a longer schedule:
		// the forward one stays.
		return best, true
	}
	for j := range s.ben {
		s.outSt[j] = c.htot - s.ben[j] - shift
		s.outEn[j] = c.htot - s.bst[j] - shift
	}
	c.orderBy(out, s.outSt, false)
	fit := best - shift
	if fit < s.bestFinish && !s.done() {
		if f, ok := s.forward(out); ok {
			c.orderBy(out, s.st, false)
			copy(s.outSt, s.st)
			copy(s.outEn, s.en)
			return f, true
		}
	}
	return fit, true
}

// evaluate decodes and justifies list, with improveRight when schedules may
// be moved in time and improve otherwise, and returns the finish that ranks
// the list put in out. par asks for the parallel scheme, which only
// improveRight offers.
func (s *searcher) evaluate(list, out []int32, par bool) int64 {
	if s.right {
		f, _ := s.improveRight(list, out, par)
		return f
	}
	f, _ := s.improve(list, out, 1)
	return f
}

// priorityRules computes classic priority values (smaller is better): latest
// finish time (LFT), latest start time (LST), most total successors (MTS) and
// greatest rank positional weight (GRPW), from precedence and working
// durations alone. They steer the sampling that seeds the search.
func priorityRules(c *compiled) [][]int64 {
	n := c.n
	tail := make([]int64, n) // longest path from a stage's end to the project end
	head := make([]int64, n) // earliest start
	for _, j := range c.topo {
		for _, a := range c.preds[j] {
			head[j] = max(head[j], head[a.to]+c.dur[a.to]+a.min)
		}
	}
	var horizon int64
	for j := range n {
		horizon = max(horizon, head[j]+c.dur[j])
	}
	for k := n - 1; k >= 0; k-- {
		j := c.topo[k]
		for _, a := range c.succs[j] {
			tail[j] = max(tail[j], a.min+c.dur[a.to]+tail[a.to])
		}
	}
	lft := make([]int64, n)
	lst := make([]int64, n)
	mts := make([]int64, n)
	grpw := make([]int64, n)
	words := (n + 63) / 64
	desc := make([][]uint64, n)
	for k := n - 1; k >= 0; k-- {
		j := c.topo[k]
		desc[j] = make([]uint64, words)
		for _, a := range c.succs[j] {
			desc[j][a.to/64] |= 1 << (a.to % 64)
			for w := range desc[j] {
				desc[j][w] |= desc[a.to][w]
			}
		}
	}
	for j := range n {
		lft[j] = horizon - tail[j]
		lst[j] = lft[j] - c.dur[j]
		cnt := 0
		for _, w := range desc[j] {
			cnt += popcount(w)
		}
		mts[j] = -int64(cnt)
		g := c.dur[j]
		for _, a := range c.succs[j] {
			g += c.dur[a.to]
		}
		grpw[j] = -g
	}
	return [][]int64{lft, lst, mts, grpw}
}

func popcount(x uint64) int {
	n := 0
	for x != 0 {
		x &= x - 1
		n++
	}
	return n
}

// sample builds a precedence-feasible activity list by picking, among the
// stages whose predecessors are all listed, by priority prio: the best one
// when alpha is 0, or at random with regret-based biased weights
// (max priority − own priority + 1)^alpha, which favours good stages while
// keeping variety (Kolisch & Drexl's regret-based biased random sampling).
func (s *searcher) sample(prio []int64, alpha float64, scale int64, out []int32) {
	c := s.c
	n := c.n
	indeg := make([]int, n)
	for j := range n {
		indeg[j] = len(c.preds[j])
	}
	elig := make([]int32, 0, n)
	for j := range n {
		if indeg[j] == 0 {
			elig = append(elig, int32(j))
		}
	}
	weights := make([]float64, 0, n)
	for k := range n {
		pick := 0
		if alpha == 0 {
			for x := 1; x < len(elig); x++ {
				a, b := elig[x], elig[pick]
				if prio[a] < prio[b] || (prio[a] == prio[b] && c.rank[a] < c.rank[b]) {
					pick = x
				}
			}
		} else {
			worst := prio[elig[0]]
			for _, j := range elig {
				worst = max(worst, prio[j])
			}
			weights = weights[:0]
			total := 0.0
			for _, j := range elig {
				w := math.Pow(float64(worst-prio[j])/float64(scale)+1, alpha)
				weights = append(weights, w)
				total += w
			}
			r := s.rng.Float64() * total
			pick = len(elig) - 1
			for x, w := range weights {
				if r < w {
					pick = x
					break
				}
				r -= w
			}
		}
		j := elig[pick]
		out[k] = j
		elig[pick] = elig[len(elig)-1]
		elig = elig[:len(elig)-1]
		for _, a := range c.succs[j] {
			if indeg[a.to]--; indeg[a.to] == 0 {
				elig = append(elig, a.to)
			}
		}
	}
}

// individual is a member of the genetic algorithm's population: a justified
// activity list and the finish of its schedule.
type individual struct {
	list   []int32
	st, en []int64
	finish int64
	hash   uint64
}

func hashList(l []int32) uint64 {
	h := uint64(1469598103934665603)
	for _, x := range l {
		h ^= uint64(x)
		h *= 1099511628211
	}
	return h
}

// crossover is Hartmann's two-point crossover on activity lists: the child
// takes mother's first q1 stages, then the next stages up to position q2 in
// father's relative order, then the rest in mother's order. Both parents are
// precedence-feasible, and so is the child.
func (s *searcher) crossover(mother, father, child []int32, q1, q2 int) {
	s.markGen++
	if s.markGen == 0 {
		clear(s.mark)
		s.markGen = 1
	}
	n := len(mother)
	pos := 0
	for ; pos < q1; pos++ {
		child[pos] = mother[pos]
		s.mark[mother[pos]] = s.markGen
	}
	for _, a := range father {
		if pos >= q2 {
			break
		}
		if s.mark[a] != s.markGen {
			child[pos] = a
			s.mark[a] = s.markGen
			pos++
		}
	}
	for _, a := range mother {
		if pos >= n {
			break
		}
		if s.mark[a] != s.markGen {
			child[pos] = a
			s.mark[a] = s.markGen
			pos++
		}
	}
}

// mutate swaps neighbouring stages with probability pm each, when the first
// is not a direct predecessor of the second (which keeps the list
// precedence-feasible).
func (s *searcher) mutate(l []int32, pm float64) {
	for i := 0; i+1 < len(l); i++ {
		if s.rng.Float64() < pm {
			a, b := l[i], l[i+1]
			if s.direct[a][b/64]&(1<<(b%64)) == 0 {
				l[i], l[i+1] = b, a
			}
		}
	}
}

// Tuning of the genetic algorithm, measured on PSPLIB J30 and J120 at 5,000
// schedules (see the package documentation for the figures).
const (
	// popPerSchedule and popExponent size the population: proportional
	// to the budget and inversely to a small power of the number of
	// stages, because small projects gain from diversity and large ones
	// from more generations (about 110 for J30 and 75 for J120 at 5,000
	// schedules).
	popPerSchedule = 0.057
	popExponent    = 0.28
	minPop, maxPop = 8, 200
	// mutationRate is the probability of swapping each stage with its
	// neighbour in a child's list.
	mutationRate = 0.1
	// stallChildren is how many children may pass without a new best
	// schedule before the population is rebuilt around the best one.
	stallChildren = 400
	// restartKeep is the most individuals kept on a rebuild.
	restartKeep = 20
	// windowCrossRate is the share of crossovers done by windowCross
	// rather than the two-point crossover; windowMin and windowMax bound
	// the window's length as shares of the father's makespan (its place
	// is the father's peak).
	windowCrossRate      = 0.7
	windowMin, windowMax = 0.1, 0.5
	// parallelStart is the share of children decoded and justified by
	// the parallel scheme rather than the serial one at the start of the
	// search, on problems whose schedules may be moved in time; it falls
	// linearly to none when parallelEnd of the schedule budget is used
	// (see parallelRate).
	parallelStart = 1.0
	parallelEnd   = 0.5
	// restartNoise is the amplitude, as a share of the best makespan, of
	// the random shift of each start time when perturbing the best
	// schedule into a new individual.
	restartNoise = 0.25
)

// run performs the search until the budget is used up: a steady-state
// genetic algorithm whose individuals are justified activity lists.
//
// The population is seeded by the priority rules (deterministically, then by
// regret-based biased random sampling on LFT and LST). Each step picks two
// parents by binary tournament, crosses them into two children (by the
// time-window crossover or Hartmann's two-point crossover), mutates them,
// decodes and justifies each (evaluate: two or three schedules), and lets a
// child replace the worst individual unless it is worse or a duplicate. The
// time-window crossover takes the father's densest stretch (peakWindow).
// When no new best schedule appears for a while, the population is rebuilt
// from its best members and random perturbations of the best schedule,
// which is what lifts the search out of the plateaus that a converged
// population cannot leave.
func (s *searcher) run() {
	c := s.c
	n := c.n
	if n == 0 {
		s.count++
		s.haveBest = true
		s.bestFinish = c.r0
		return
	}
	// Priority scale for regret weights: the durations' common unit, so
	// that sampling behaves the same whatever the tick length.
	var scale int64
	for _, d := range c.dur {
		scale = gcd(d, scale)
	}
	scale = max(scale, 1)

	nominal := s.limit
	if nominal <= 0 {
		nominal = DefaultSchedules
	}
	popSize := int(float64(nominal) * popPerSchedule / math.Pow(float64(n), popExponent))
	popSize = min(max(popSize, minPop), maxPop, max(nominal/6, 2))

	pop := make([]individual, 0, popSize)
	seen := map[uint64]bool{}
	add := func(list []int32, f int64) {
		h := hashList(list)
		if seen[h] {
			return
		}
		if len(pop) < popSize {
			pop = append(pop, individual{list: slices.Clone(list), st: slices.Clone(s.outSt), en: slices.Clone(s.outEn), finish: f, hash: h})
			seen[h] = true
			return
		}
		worst := 0
		for i := range pop {
			if pop[i].finish > pop[worst].finish {
				worst = i
			}
		}
		if f > pop[worst].finish {
			return
		}
		delete(seen, pop[worst].hash)
		copy(pop[worst].list, list)
		copy(pop[worst].st, s.outSt)
		copy(pop[worst].en, s.outEn)
		pop[worst].finish, pop[worst].hash = f, h
		seen[h] = true
	}
	tmp := make([]int32, n)
	out := make([]int32, n)
	// Deterministic priority-rule lists first, then biased random samples.
	// The first list is always decoded, so that even an exhausted budget or
	// a cancelled context yields a plan.
	for r := 0; r < len(s.prio) && (r == 0 || !s.done()); r++ {
		s.sample(s.prio[r], 0, scale, tmp)
		f := s.evaluate(tmp, out, false)
		add(out, f)
	}
	for k := 0; len(pop) < popSize && k < 4*popSize && !s.done(); k++ {
		s.sample(s.prio[k%2], 1, scale, tmp)
		f := s.evaluate(tmp, out, false)
		add(out, f)
	}
	if len(pop) == 0 {
		return
	}
	pick := func() *individual {
		a := &pop[s.rng.IntN(len(pop))]
		b := &pop[s.rng.IntN(len(pop))]
		if b.finish < a.finish {
			return b
		}
		return a
	}
	child1 := make([]int32, n)
	child2 := make([]int32, n)
	keys := make([]float64, n)
	stall := 0
	bestSeen := s.bestFinish
	for !s.done() {
		if s.bestFinish < bestSeen {
			bestSeen, stall = s.bestFinish, 0
		}
		if stall >= stallChildren {
			stall = 0
			slices.SortStableFunc(pop, func(a, b individual) int { return cmp.Compare(a.finish, b.finish) })
			pop = pop[:min(restartKeep, popSize/4+1, len(pop))]
			clear(seen)
			for _, ind := range pop {
				seen[ind.hash] = true
			}
			span := float64(s.bestFinish - c.r0)
			for k := 0; len(pop) < popSize && k < 4*popSize && !s.done(); k++ {
				for j := range n {
					keys[j] = float64(s.bestSt[j]) + (2*s.rng.Float64()-1)*restartNoise*span
				}
				s.keyList(keys, tmp)
				f := s.evaluate(tmp, out, false)
				add(out, f)
			}
			continue
		}
		m, f := pick(), pick()
		q1, q2 := s.rng.IntN(n+1), s.rng.IntN(n+1)
		if q1 > q2 {
			q1, q2 = q2, q1
		}
		if s.rng.Float64() < windowCrossRate && f.finish < math.MaxInt64 && m.finish < math.MaxInt64 {
			s.windowCross(m, f, child1, keys)
			s.windowCross(f, m, child2, keys)
		} else {
			s.crossover(m.list, f.list, child1, q1, q2)
			s.crossover(f.list, m.list, child2, q1, q2)
		}
		for _, ch := range [][]int32{child1, child2} {
			if s.done() {
				break
			}
			s.mutate(ch, mutationRate)
			par := s.right && s.rng.Float64() < s.parallelRate()
			fin := s.evaluate(ch, out, par)
			add(out, fin)
			stall++
		}
	}
}

// parallelRate is the share of children the parallel scheme decodes now:
// parallelStart at first, falling linearly with the schedules used to none
// at parallelEnd of the budget (a quarter of parallelStart throughout when
// only the wall time limits the search). The non-delay schedules diversify
// the population early; late in the search the serial scheme, whose active
// schedules include an optimum, does better. Measured on PSPLIB at 5,000
// schedules (seeds 1-3) against a fixed share of 0.2: J120 32.44 -> 32.17 %,
// J60 10.97 -> 10.90 %, J30 0.043 -> 0.037 %.
func (s *searcher) parallelRate() float64 {
	if s.limit <= 0 {
		return parallelStart / 4
	}
	return parallelStart * max(1-float64(s.count)/float64(s.limit)/parallelEnd, 0)
}

// keyList builds the precedence-feasible list that repeatedly takes, among
// the stages whose predecessors are listed, the one with the smallest key;
// with perturbed start times as keys it yields a neighbour of a schedule.
func (s *searcher) keyList(keys []float64, out []int32) {
	c := s.c
	n := c.n
	indeg := make([]int, n)
	for j := range n {
		indeg[j] = len(c.preds[j])
	}
	elig := make([]int32, 0, n)
	for j := range n {
		if indeg[j] == 0 {
			elig = append(elig, int32(j))
		}
	}
	for k := range n {
		pick := 0
		for x := 1; x < len(elig); x++ {
			if keys[elig[x]] < keys[elig[pick]] {
				pick = x
			}
		}
		j := elig[pick]
		out[k] = j
		elig[pick] = elig[len(elig)-1]
		elig = elig[:len(elig)-1]
		for _, a := range c.succs[j] {
			if indeg[a.to]--; indeg[a.to] == 0 {
				elig = append(elig, a.to)
			}
		}
	}
}

// windowCross builds a child that keeps the father's timing inside a random
// window of his schedule and the mother's timing elsewhere: the stages the
// father starts in the window are keyed by his start times, the others by
// the mother's, and the list is built by smallest key among the stages whose
// predecessors are listed. Unlike the two-point crossover, which keeps only
// relative order, this transplants a well-packed stretch of one schedule
// into another; it improved J30 and J120 results measurably.
func (s *searcher) windowCross(m, f *individual, child []int32, keys []float64) {
	r0 := s.c.r0
	span := f.finish - r0
	if span <= 0 {
		copy(child, m.list)
		return
	}
	l := int64((windowMin + (windowMax-windowMin)*s.rng.Float64()) * float64(span))
	a := s.peakWindow(f, r0, span, l)
	b := a + l
	for j := range keys {
		if f.st[j] >= a && f.st[j] < b {
			keys[j] = float64(f.st[j])
		} else {
			keys[j] = float64(m.st[j])
		}
	}
	s.keyList(keys, child)
}

type event struct {
	t int64
	d float64
}

// peakWindow returns the start of the window of length l inside
// [lo, lo+span] in which f's schedule holds the most resources (the
// integral over the window of the stages' shares of their resources),
// trying the windows that start at a stage's start or end at a stage's end.
// Transplanting the father's densest stretch is the idea of the peak
// crossover (Valls, Ballestín & Quintanilla 2008; Debels & Vanhoucke 2007).
func (s *searcher) peakWindow(f *individual, lo, span, l int64) int64 {
	if span <= peakGrid*int64(len(f.st)) {
		return s.peakWindowGrid(f, lo, span, l)
	}
	return s.peakWindowEvents(f, lo, span, l)
}

// peakWindowEvents is peakWindow on the sorted starts and ends of the
// stages, for schedules too long for a per-tick profile.
func (s *searcher) peakWindowEvents(f *individual, lo, span, l int64) int64 {
	ev := s.ev[:0]
	for j := range f.st {
		if f.en[j] > f.st[j] && s.util[j] > 0 {
			ev = append(ev, event{f.st[j], s.util[j]}, event{f.en[j], -s.util[j]})
		}
	}
	s.ev = ev
	if len(ev) == 0 {
		return lo
	}
	slices.SortFunc(ev, func(a, b event) int { return cmp.Compare(a.t, b.t) })
	// The integral up to each event, and the rate after it.
	cum, rate := s.cum[:0], s.rate[:0]
	r, acc := 0.0, 0.0
	for i, e := range ev {
		if i > 0 {
			acc += r * float64(e.t-ev[i-1].t)
		}
		r += e.d
		cum, rate = append(cum, acc), append(rate, r)
	}
	s.cum, s.rate = cum, rate
	integ := func(t int64) float64 {
		i, _ := slices.BinarySearchFunc(ev, t+1, func(e event, t int64) int { return cmp.Compare(e.t, t) })
		i-- // the last event at or before t
		if i < 0 {
			return 0
		}
		return cum[i] + rate[i]*float64(t-ev[i].t)
	}
	bestA, bestV := lo, -1.0
	try := func(a int64) {
		a = min(max(a, lo), lo+span-l)
		if v := integ(a+l) - integ(a); v > bestV || (v == bestV && a < bestA) {
			bestA, bestV = a, v
		}
	}
	for j := range f.st {
		try(f.st[j])
		try(f.en[j] - l)
	}
	return bestA
}

// peakGrid bounds, per stage, the length in ticks of the schedules whose
// peak window is found on a per-tick profile (peakWindowGrid) rather than
// by sorting the stages' starts and ends.
const peakGrid = 32

// peakWindowGrid is peakWindow on a per-tick profile: the integral up to
// each tick is a prefix sum, so each candidate window costs two reads.
func (s *searcher) peakWindowGrid(f *individual, lo, span, l int64) int64 {
	rate := s.rate[:0]
	for range span + 1 {
		rate = append(rate, 0)
	}
	for j := range f.st {
		if f.en[j] > f.st[j] && s.util[j] > 0 {
			rate[min(max(f.st[j]-lo, 0), span)] += s.util[j]
			rate[min(max(f.en[j]-lo, 0), span)] -= s.util[j]
		}
	}
	// cum[t] is the integral over [lo, lo+t).
	cum := s.cum[:0]
	r, acc := 0.0, 0.0
	for t := range span + 1 {
		cum = append(cum, acc)
		r += rate[t]
		acc += r
	}
	s.cum, s.rate = cum, rate
	bestA, bestV := lo, -1.0
	try := func(a int64) {
		a = min(max(a, lo), lo+span-l)
		if v := cum[a+l-lo] - cum[a-lo]; v > bestV || (v == bestV && a < bestA) {
			bestA, bestV = a, v
		}
	}
	for j := range f.st {
		try(f.st[j])
		try(f.en[j] - l)
	}
	return bestA
}
