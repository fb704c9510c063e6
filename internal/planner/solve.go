package planner

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"time"
)

// Solve plans the stages of p on its resources. It returns an error wrapping
// ErrInvalidProblem when p is malformed; a well-formed problem that cannot be
// planned (a demand no resource can meet, maximum lags that could not be
// honoured within the budget) gives a Plan with Feasible false and the
// reasons in Unmet, because that is an answer about the hub, not a failure.
//
// The search is deterministic for a given p, opts.Seed and schedule budget,
// and stops early, returning the best plan so far, when the wall-time budget
// runs out or ctx is cancelled.
func Solve(ctx context.Context, p Problem, opts Options) (Plan, error) {
	return solve(ctx, &p, opts, engineConfig{})
}

// solve is Solve with internal switches.
func solve(ctx context.Context, p *Problem, opts Options, cfg engineConfig) (Plan, error) {
	c, err := compile(p, cfg)
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{Finish: p.Release}
	if len(c.unmet) > 0 {
		plan.Unmet = c.unmet
		return plan, nil
	}
	s := newSearcher(ctx, c, opts)
	s.run()
	plan.Schedules = s.count
	if !s.haveBest {
		plan.Unmet = []string{fmt.Sprintf("no schedule found in %d attempts: the maximum lags could not be honoured alongside the resources' availability within the planning horizon", s.count)}
		return plan, nil
	}
	plan.Feasible = true
	assign := s.bestAssign
	if c.array {
		assign = c.assignPools(s.bestSt, s.bestEn)
	} else {
		assign = c.rebind(s.bestSt, s.bestEn, assign)
	}
	plan.Finish = c.instant(s.bestFinish)
	if c.n == 0 {
		plan.Finish = p.Release
	}
	plan.Makespan = plan.Finish.Sub(p.Release)
	if !p.Deadline.IsZero() && plan.Finish.After(p.Deadline) {
		plan.Lateness = plan.Finish.Sub(p.Deadline)
	}
	plan.Assignments = make([]Assignment, c.n)
	var cost big.Int // minor units × nanoseconds per hour
	var buf []span
	for j := range c.n {
		st := &p.Stages[j]
		a := Assignment{StageID: st.ID, Start: c.instant(s.bestSt[j]), End: c.instant(s.bestEn[j])}
		for _, r := range assign[j] {
			res := &p.Resources[r]
			a.ResourceIDs = append(a.ResourceIDs, res.ID)
			// Each resource is costed for its own working time in the stage:
			// the stage's duration, plus what its other resources' pauses
			// added to the span while this one was there.
			work := st.Duration
			if c.hasPause {
				s, e, tm := s.bestSt[j], s.bestEn[j], c.fwd.tms[j]
				work = time.Duration(tm.W(e)-tm.W(s)-pausedWork(tm, c.pause, s, e, []int32{r}, &buf)) * c.unit
			}
			cost.Add(&cost, new(big.Int).Mul(big.NewInt(res.RateMinor), big.NewInt(int64(work))))
		}
		plan.Assignments[j] = a
	}
	plan.Cost = roundHours(&cost)
	return plan, nil
}

// roundHours divides a sum of rate × nanoseconds by an hour, rounding half
// up, and saturates at the int64 range; summing exactly before rounding once
// keeps the cost independent of how the work is split into stages.
func roundHours(x *big.Int) int64 {
	h := big.NewInt(int64(time.Hour))
	q := new(big.Int).Mul(x, big.NewInt(2))
	q.Add(q, h)
	q.Div(q, new(big.Int).Mul(h, big.NewInt(2)))
	if !q.IsInt64() {
		return math.MaxInt64
	}
	return q.Int64()
}
