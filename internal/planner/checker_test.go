package planner

// This file is the independent feasibility checker used by every test. It is
// deliberately written from the model's definition only, without the
// engine's ticks, time maps or matching code: it works on time.Time and the
// calendar package's own functions, so a shared misunderstanding between the
// engine and its checks is unlikely.

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"time"

	"github.com/posthub/posthub/internal/calendar"
)

// checkPlan returns every way in which plan violates problem p, or nil.
func checkPlan(p *Problem, plan Plan) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !plan.Feasible {
		return errors.New("plan is not feasible")
	}
	if len(plan.Assignments) != len(p.Stages) {
		return fmt.Errorf("%d assignments for %d stages", len(plan.Assignments), len(p.Stages))
	}
	byID := map[string]*Assignment{}
	for i := range plan.Assignments {
		a := &plan.Assignments[i]
		if a.StageID != p.Stages[i].ID {
			bad("assignment %d is for %q, want %q", i, a.StageID, p.Stages[i].ID)
		}
		byID[a.StageID] = a
	}
	resByID := map[string]*Resource{}
	for i := range p.Resources {
		resByID[p.Resources[i].ID] = &p.Resources[i]
	}
	stageIdx := map[string]int{}
	for i := range p.Stages {
		stageIdx[p.Stages[i].ID] = i
	}
	// Each stage's working time is its site's calendar's (Problem.Sites),
	// or the problem's calendar.
	calOf := func(st *Stage) *calendar.Calendar {
		if c := p.Sites[st.Site]; st.Site != "" && c != nil {
			return c
		}
		return p.Calendar
	}
	// The transfer between two sites, read in both directions.
	transfer := func(a, b string) time.Duration {
		if a == "" || b == "" || a == b {
			return 0
		}
		if d, ok := p.Transfers[SitePair{a, b}]; ok {
			return d
		}
		return p.Transfers[SitePair{b, a}]
	}
	var cal *calendar.Calendar // of the stage being checked
	isWorking := func(t time.Time) bool {
		if cal == nil {
			return true
		}
		w := cal.WorkingTime(calendar.Interval{Start: t, End: t.Add(time.Nanosecond)}, p.Options)
		return len(w) == 1
	}
	workBetween := func(a, b time.Time) time.Duration {
		if cal == nil {
			return b.Sub(a)
		}
		return cal.WorkingHoursBetween(a, b, p.Options)
	}
	finish := p.Release
	type use struct {
		iv    calendar.Interval
		stage string
	}
	uses := map[string][]use{}
	var cost big.Rat
	for i := range p.Stages {
		st := &p.Stages[i]
		cal = calOf(st)
		a := byID[st.ID]
		if a == nil {
			bad("stage %q not placed", st.ID)
			continue
		}
		if a.Start.Before(p.Release) {
			bad("stage %q starts %v before the release %v", st.ID, a.Start, p.Release)
		}
		if !isWorking(a.Start) {
			bad("stage %q starts outside working time at %v", st.ID, a.Start)
		}
		// The pauses of the stage's resources: it may span them, never
		// start or end in one, and their working time does not count.
		var pauses []calendar.Interval
		for _, id := range a.ResourceIDs {
			if r := resByID[id]; r != nil {
				pauses = append(pauses, r.Pauses...)
			}
		}
		pauses = calendar.Normalize(pauses...)
		for _, pz := range pauses {
			// A stage of no duration holds nothing, in a pause or not.
			if !a.Start.Before(pz.Start) && a.Start.Before(pz.End) && a.End.After(a.Start) {
				bad("stage %q starts %v inside a pause %v of its resources", st.ID, a.Start, pz)
			}
			if a.End.After(pz.Start) && !a.End.After(pz.End) && a.End.After(a.Start) {
				bad("stage %q ends %v inside a pause %v of its resources", st.ID, a.End, pz)
			}
		}
		netWork := func(from, to time.Time, pz []calendar.Interval) time.Duration {
			w := workBetween(from, to)
			for _, x := range pz {
				if x.Start.Before(to) && x.End.After(from) {
					w -= workBetween(later(x.Start, from), earlier(x.End, to))
				}
			}
			return w
		}
		if len(pauses) == 0 {
			var wantEnd time.Time
			if cal == nil {
				wantEnd = a.Start.Add(st.Duration)
			} else {
				var err error
				wantEnd, err = cal.AddWorkingHours(a.Start, st.Duration, p.Options)
				if err != nil {
					bad("stage %q: %v", st.ID, err)
				}
			}
			if !a.End.Equal(wantEnd) {
				bad("stage %q ends %v, want %v (start %v + %v working)", st.ID, a.End, wantEnd, a.Start, st.Duration)
			}
		} else {
			// The end is the first instant by which the duration's working
			// time outside the pauses is done.
			if got := netWork(a.Start, a.End, pauses); got != st.Duration {
				bad("stage %q does %v of working time outside its resources' pauses in %v–%v, want %v", st.ID, got, a.Start, a.End, st.Duration)
			}
			if st.Duration > 0 && netWork(a.Start, a.End.Add(-time.Nanosecond), pauses) >= st.Duration {
				bad("stage %q could end before %v", st.ID, a.End)
			}
		}
		if a.End.After(finish) {
			finish = a.End
		}
		for _, l := range st.Predecessors {
			pa := byID[l.From]
			if pa == nil {
				continue
			}
			if a.Start.Before(pa.End) {
				bad("stage %q starts %v before predecessor %q ends %v", st.ID, a.Start, l.From, pa.End)
				continue
			}
			// Across sites the material travels first, in clock time; the
			// lags count the successor's working time after it arrives.
			ready := pa.End.Add(transfer(p.Stages[stageIdx[l.From]].Site, st.Site))
			if a.Start.Before(ready) {
				bad("stage %q at %q starts %v before the transfer from %q at %q arrives %v", st.ID, st.Site, a.Start, l.From, p.Stages[stageIdx[l.From]].Site, ready)
				continue
			}
			lag := workBetween(ready, a.Start)
			if lag < l.MinLag {
				bad("stage %q: lag after %q is %v, below minimum %v", st.ID, l.From, lag, l.MinLag)
			}
			if l.MaxLag > 0 && lag > l.MaxLag {
				bad("stage %q: lag after %q is %v, above maximum %v", st.ID, l.From, lag, l.MaxLag)
			}
		}
		// Demands: the resources must be distinct, known, and coverable.
		want := 0
		for _, d := range st.Demands {
			want += max(d.Count, 1)
		}
		if len(a.ResourceIDs) != want {
			bad("stage %q holds %d resources, its demands need %d", st.ID, len(a.ResourceIDs), want)
		}
		seen := map[string]bool{}
		var held []*Resource
		for _, id := range a.ResourceIDs {
			if seen[id] {
				bad("stage %q holds %q twice", st.ID, id)
			}
			seen[id] = true
			r := resByID[id]
			if r == nil {
				bad("stage %q holds unknown resource %q", st.ID, id)
				continue
			}
			if st.Site != "" && r.Site != st.Site {
				bad("stage %q at site %q holds %q of site %q", st.ID, st.Site, id, r.Site)
			}
			held = append(held, r)
			uses[id] = append(uses[id], use{calendar.Interval{Start: a.Start, End: a.End}, st.ID})
			// Each resource is costed for its working time in the stage
			// less its own pauses.
			hours := new(big.Rat).SetFrac64(int64(netWork(a.Start, a.End, calendar.Normalize(r.Pauses...))), int64(time.Hour))
			cost.Add(&cost, hours.Mul(hours, new(big.Rat).SetInt64(r.RateMinor)))
		}
		if !coverDemands(st.Demands, held) {
			bad("stage %q: resources %v do not satisfy its demands", st.ID, a.ResourceIDs)
		}
	}
	// Occupancy: no two stages and no busy time overlap on one resource.
	for id, us := range uses {
		sort.Slice(us, func(i, j int) bool { return us[i].iv.Start.Before(us[j].iv.Start) })
		for i := range us {
			for j := i + 1; j < len(us); j++ {
				if us[i].iv.Overlaps(us[j].iv) {
					bad("resource %q: stages %q %v and %q %v overlap", id, us[i].stage, us[i].iv, us[j].stage, us[j].iv)
				}
			}
			for _, b := range resByID[id].Busy {
				if us[i].iv.Overlaps(b) {
					bad("resource %q: stage %q %v overlaps busy %v", id, us[i].stage, us[i].iv, b)
				}
			}
		}
	}
	if !plan.Finish.Equal(finish) {
		bad("finish %v, want %v", plan.Finish, finish)
	}
	if plan.Makespan != finish.Sub(p.Release) {
		bad("makespan %v, want %v", plan.Makespan, finish.Sub(p.Release))
	}
	var late time.Duration
	if !p.Deadline.IsZero() && finish.After(p.Deadline) {
		late = finish.Sub(p.Deadline)
	}
	if plan.Lateness != late {
		bad("lateness %v, want %v", plan.Lateness, late)
	}
	// Cost rounded half up.
	num, den := cost.Num(), cost.Denom()
	rounded := new(big.Int).Mul(num, big.NewInt(2))
	rounded.Add(rounded, den)
	rounded.Quo(rounded, new(big.Int).Mul(den, big.NewInt(2)))
	if rounded.Int64() != plan.Cost {
		bad("cost %d, want %s", plan.Cost, rounded)
	}
	return errors.Join(errs...)
}

// earlier returns the earlier of two instants.
func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// coverDemands reports whether the held resources can be split among the
// demands so that each gets Count distinct resources of its kind with its
// capabilities, by exhaustive backtracking (stages hold few resources).
func coverDemands(ds []Demand, held []*Resource) bool {
	var slots []*Demand
	for i := range ds {
		for range max(ds[i].Count, 1) {
			slots = append(slots, &ds[i])
		}
	}
	used := make([]bool, len(held))
	var rec func(k int) bool
	rec = func(k int) bool {
		if k == len(slots) {
			return true
		}
		d := slots[k]
		for i, r := range held {
			if used[i] || (d.Kind != "" && r.Kind != d.Kind) {
				continue
			}
			ok := true
			for _, c := range d.Capabilities {
				if !slices.Contains(r.Capabilities, c) {
					ok = false
				}
			}
			if !ok {
				continue
			}
			used[i] = true
			if rec(k + 1) {
				return true
			}
			used[i] = false
		}
		return false
	}
	return rec(0)
}

// checkRCPSP checks a plan of a converted PSPLIB instance against the
// instance itself: precedence between jobs and, per period, the usage of each
// resource type within its capacity.
func checkRCPSP(inst *RCPSP, plan Plan) error {
	if !plan.Feasible {
		return errors.New("not feasible")
	}
	start := make([]int, inst.Jobs)
	for _, a := range plan.Assignments {
		var j int
		if _, err := fmt.Sscanf(a.StageID, "J%d", &j); err != nil {
			return err
		}
		off := a.Start.Sub(PSPLIBRelease)
		if off%PSPLIBPeriod != 0 || off < 0 {
			return fmt.Errorf("%s starts off the period grid: %v", a.StageID, off)
		}
		start[j-1] = int(off / PSPLIBPeriod)
		if got := a.End.Sub(a.Start); got != time.Duration(inst.Durations[j-1])*PSPLIBPeriod {
			return fmt.Errorf("%s lasts %v", a.StageID, got)
		}
	}
	end := 0
	for j := 1; j < inst.Jobs-1; j++ {
		end = max(end, start[j]+inst.Durations[j])
	}
	start[inst.Jobs-1] = end
	if got := int(plan.Makespan / PSPLIBPeriod); got != end {
		return fmt.Errorf("makespan %d, jobs end at %d", got, end)
	}
	for j := range inst.Jobs {
		for _, s := range inst.Successors[j] {
			if start[j]+inst.Durations[j] > start[s] {
				return fmt.Errorf("job %d ends at %d after successor %d starts at %d", j+1, start[j]+inst.Durations[j], s+1, start[s])
			}
		}
	}
	for k, capacity := range inst.Capacities {
		usage := make([]int, end+1)
		for j := range inst.Jobs {
			for t := start[j]; t < start[j]+inst.Durations[j]; t++ {
				usage[t] += inst.Requests[j][k]
			}
		}
		for t, u := range usage {
			if u > capacity {
				return fmt.Errorf("resource %d used %d > %d in period %d", k+1, u, capacity, t)
			}
		}
	}
	return nil
}
