package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/planner"
)

var _ booking.Replans = (*DB)(nil)

// maxReplanWindow bounds a what-if's window.
const maxReplanWindow = 120 * 24 * time.Hour

// ProposeReplan repacks a site's pending holds in [from, to): each hold keeps its
// resources and its working time, and the planner places them as early as the
// confirmed bookings, blocks and the calendar allow, in one search. The accepted plans
// the holds belong to keep their order: a stage never starts before its plan's earliest
// start nor before its predecessors end (with their lags), and every proposal passes
// planOrder's independent check. Only holds that end earlier move. Nothing moves until
// a manager applies the proposal.
func (db *DB) ProposeReplan(ctx context.Context, a booking.Actor, siteID uuid.UUID, from, to time.Time, reason string) (booking.Replan, error) {
	out := booking.Replan{SiteID: siteID, Status: "proposed", From: from.UTC(), To: to.UTC(), Moves: []booking.HoldMove{}, Reason: strings.TrimSpace(reason)}
	if utf8.RuneCountInString(out.Reason) > booking.MaxReplanReason {
		return out, &booking.Error{Code: booking.EINVALID, Message: fmt.Sprintf("reason must be at most %d characters.", booking.MaxReplanReason),
			Details: map[string]any{"field": "reason"}}
	}
	if !to.After(from) || to.Sub(from) > maxReplanWindow {
		return out, &booking.Error{Code: booking.EUNPROCESSABLE, Message: "to must be after from, within 120 days.", Details: map[string]any{"field": "to"}}
	}
	_, cal, err := db.siteCalendar(ctx, db.Pool, siteID)
	if err != nil {
		return out, err
	}
	if err := mayManage(a, siteID); err != nil {
		return out, err
	}
	now := db.now()
	if from.Before(now) {
		from = now
	}
	rows, _ := db.Pool.Query(ctx, `SELECT g.id, g.production_id, p.title, g.start_at, g.end_at, g.version,
			array(SELECT resource_id FROM bookings WHERE group_id = g.id ORDER BY resource_id)
		FROM booking_groups g JOIN productions p ON p.id = g.production_id
		WHERE g.site_id = $1 AND g.status = 'hold' AND g.start_at >= $2 AND g.start_at < $3
		ORDER BY g.hold_seq`, siteID, from, to)
	holds, err := pgx.CollectRows(rows, pgx.RowToStructByPos[replanHold])
	if err != nil {
		return out, formatError(err)
	}
	out.Holds = len(holds)
	if len(holds) == 0 {
		return out, db.storeReplan(ctx, a, &out)
	}
	var prods []uuid.UUID
	resSet := map[uuid.UUID]bool{}
	for _, h := range holds {
		prods = append(prods, h.ProductionID)
		for _, r := range h.Resources {
			resSet[r] = true
		}
	}
	order, err := loadPlanOrder(ctx, db.Pool, prods)
	if err != nil {
		return out, err
	}
	ids := keys(resSet)
	horizon := to.Add(maxReplanWindow)
	// Bookings are in the way; leave and maintenance are pauses a hold may span, as
	// when it was placed.
	booked, err := db.bookedIntervals(ctx, ids, from, horizon, true, uuid.Nil)
	if err != nil {
		return out, err
	}
	blocks, err := resourceBlocks(ctx, db.Pool, ids, from, horizon)
	if err != nil {
		return out, formatError(err)
	}
	// Holds outside the window stay where they are and keep their time.
	inWindow := make([]uuid.UUID, len(holds))
	for i, h := range holds {
		inWindow[i] = h.ID
	}
	rows, _ = db.Pool.Query(ctx, `SELECT b.resource_id, lower(b.during), upper(b.during), 'hold' FROM bookings b
		WHERE b.resource_id = ANY($1) AND b.status = 'hold' AND b.during && tstzrange($2, $3) AND NOT (b.group_id = ANY($4))`,
		ids, from, horizon, inWindow)
	others, err := pgx.CollectRows(rows, pgx.RowToStructByPos[conflict])
	if err != nil {
		return out, formatError(err)
	}
	for _, o := range others {
		booked[o.ResourceID] = booked[o.ResourceID].Union(calendar.Set{{Start: o.Start, End: o.End}})
	}
	rp := replanner{cal: cal, opts: calendar.Options{AvoidProvisional: true}, from: from, holds: holds, order: order,
		booked: booked, blocks: blocks, fixed: map[uuid.UUID]bool{}}
	moves, err := rp.solve(ctx)
	if err != nil {
		return out, err
	}
	for _, h := range holds {
		iv, ok := moves[h.ID]
		if !ok {
			continue
		}
		out.HoursEarlier += cal.WorkingHoursBetween(iv.End, h.End, rp.opts).Hours()
		out.Moves = append(out.Moves, booking.HoldMove{BookingID: h.ID, ProductionID: h.ProductionID, Production: h.Title,
			FromStart: h.Start, FromEnd: h.End, ToStart: iv.Start.UTC(), ToEnd: iv.End.UTC(),
			ToStartLocal: localString(cal.Location, iv.Start), ToEndLocal: localString(cal.Location, iv.End), Version: h.Version})
	}
	return out, db.storeReplan(ctx, a, &out)
}

// replanHold is a pending hold a re-plan may move.
type replanHold struct {
	ID, ProductionID uuid.UUID
	Title            string
	Start, End       time.Time
	Version          int
	Resources        []uuid.UUID
}

// replanner finds the moves of a re-plan: the holds not yet fixed are planned again
// around everything else; a hold that would not end earlier, or whose move breaks its
// plan's order or lands on a hold that stays, is fixed where it is and the rest planned
// again, a few times; a last pass only fixes, so what remains passes planOrder's check.
type replanner struct {
	cal    *calendar.Calendar
	opts   calendar.Options
	from   time.Time
	holds  []replanHold
	order  planOrder
	booked map[uuid.UUID]calendar.Set // bookings and holds that stay, per resource
	blocks map[uuid.UUID]calendar.Set
	fixed  map[uuid.UUID]bool // holds that keep their slot
}

// replanRounds bounds how often the holds are planned again after fixing some.
const replanRounds = 4

func (rp *replanner) solve(ctx context.Context) (map[uuid.UUID]calendar.Interval, error) {
	moves := map[uuid.UUID]calendar.Interval{}
	for round := 0; round < replanRounds; round++ {
		var err error
		if moves, err = rp.plan(ctx); err != nil {
			return nil, err
		}
		if !rp.settle(moves, false) {
			return moves, nil
		}
	}
	for rp.settle(moves, true) {
	}
	return moves, nil
}

// plan places the holds that are not fixed, returning the proposed slot of each that
// ends earlier than it does now.
func (rp *replanner) plan(ctx context.Context) (map[uuid.UUID]calendar.Interval, error) {
	prob := planner.Problem{Calendar: rp.cal, Release: rp.from, Options: rp.opts}
	busy := map[uuid.UUID]calendar.Set{}
	for r, s := range rp.booked {
		busy[r] = s
	}
	moving := map[uuid.UUID]bool{}
	resSet := map[uuid.UUID]bool{}
	for _, h := range rp.holds {
		iv := calendar.Interval{Start: h.Start, End: h.End}
		if rp.fixed[h.ID] {
			for _, r := range h.Resources {
				busy[r] = busy[r].Union(calendar.Set{iv})
			}
			continue
		}
		var pauses []calendar.Interval
		for _, r := range h.Resources {
			pauses = append(pauses, rp.blocks[r]...)
		}
		d := rp.cal.WorkingTime(iv, rp.opts).Subtract(calendar.Normalize(pauses...)).Duration()
		if d <= 0 {
			rp.fixed[h.ID] = true // a hold outside working time is left where it is
			for _, r := range h.Resources {
				busy[r] = busy[r].Union(calendar.Set{iv})
			}
			continue
		}
		moving[h.ID] = true
		st := planner.Stage{ID: h.ID.String(), Name: h.Title, Duration: d}
		for _, r := range h.Resources {
			st.Demands = append(st.Demands, planner.Demand{Kind: "resource:" + r.String()})
			resSet[r] = true
		}
		prob.Stages = append(prob.Stages, st)
	}
	if len(prob.Stages) == 0 {
		return map[uuid.UUID]calendar.Interval{}, nil
	}
	// The plans' order: links between moving holds, and for a moving hold the
	// earliest start of its plan and the ends of its predecessors that stay, as
	// resource-free anchor stages from the release that it must follow. Maximum lags
	// are left to the check in settle.
	var anchors []planner.Stage
	anchor := func(st *planner.Stage, t time.Time, lag time.Duration) {
		if !t.After(rp.from) && lag == 0 {
			return
		}
		id := fmt.Sprintf("anchor-%d", len(anchors))
		var d time.Duration
		if t.After(rp.from) {
			d = rp.cal.WorkingHoursBetween(rp.from, t, rp.opts)
		}
		anchors = append(anchors, planner.Stage{ID: id, Duration: d})
		st.Predecessors = append(st.Predecessors, planner.Link{From: id, MinLag: lag})
	}
	for i := range prob.Stages {
		st := &prob.Stages[i]
		id := uuid.MustParse(st.ID)
		if e, ok := rp.order.earliest[id]; ok {
			anchor(st, e, 0)
		}
		for _, l := range rp.order.links {
			if l.To != id {
				continue
			}
			if moving[l.From] {
				st.Predecessors = append(st.Predecessors, planner.Link{From: l.From.String(), MinLag: l.MinLag})
			} else if p, ok := rp.position(l.From); ok {
				anchor(st, p.End, l.MinLag)
			}
		}
	}
	prob.Stages = append(prob.Stages, anchors...)
	for r := range resSet {
		prob.Resources = append(prob.Resources, planner.Resource{ID: r.String(), Kind: "resource:" + r.String(), Busy: busy[r], Pauses: rp.blocks[r]})
	}
	slices.SortFunc(prob.Resources, func(a, b planner.Resource) int { return strings.Compare(a.ID, b.ID) })
	solved, err := planner.Solve(ctx, prob, planner.Options{Seed: 1, Budget: planner.Budget{Schedules: planSchedules, WallTime: planWallTime}})
	if err != nil {
		return nil, err
	}
	if !solved.Feasible {
		return nil, &booking.Error{Code: booking.EUNPROCESSABLE, Message: "The holds cannot all be placed again.", Details: map[string]any{"unmet": solved.Unmet}}
	}
	moves := map[uuid.UUID]calendar.Interval{}
	for _, as := range solved.Assignments {
		id, err := uuid.Parse(as.StageID)
		if err != nil {
			continue // an anchor
		}
		moves[id] = calendar.Interval{Start: as.Start.UTC(), End: as.End.UTC()}
	}
	return moves, nil
}

// position is where a booking of a plan is: its proposed slot when it moves, else
// where it is now; false when it is no longer active.
func (rp *replanner) position(id uuid.UUID) (calendar.Interval, bool) {
	for _, h := range rp.holds {
		if h.ID == id {
			return calendar.Interval{Start: h.Start, End: h.End}, true
		}
	}
	iv, ok := rp.order.at[id]
	return iv, ok
}

// settle drops the moves that are not worth making or not allowed — a hold that would
// not end earlier, one whose slot overlaps a hold that stays on one of its resources,
// one that breaks its plan's order — fixing those holds where they are. It reports
// whether it dropped any. With onlyOne it fixes one hold per call, the last in hold
// order, so the final pass keeps as many moves as it can.
func (rp *replanner) settle(moves map[uuid.UUID]calendar.Interval, onlyOne bool) bool {
	var drop []uuid.UUID
	pos := map[uuid.UUID]calendar.Interval{}
	for id, iv := range rp.order.at {
		pos[id] = iv
	}
	for _, h := range rp.holds {
		pos[h.ID] = calendar.Interval{Start: h.Start, End: h.End}
		if iv, ok := moves[h.ID]; ok {
			if !iv.End.Before(h.End) {
				drop = append(drop, h.ID)
				continue
			}
			pos[h.ID] = iv
		}
	}
	for _, id := range drop {
		delete(moves, id)
		pos[id] = rp.position0(id)
	}
	for _, h := range rp.holds {
		iv, ok := moves[h.ID]
		if !ok {
			continue
		}
		for _, o := range rp.holds {
			if o.ID == h.ID {
				continue
			}
			if _, moved := moves[o.ID]; moved || !pos[o.ID].Overlaps(iv) || !sharesResource(h, o) {
				continue
			}
			drop = append(drop, h.ID)
		}
	}
	for _, v := range rp.order.check(pos, rp.cal, rp.opts) {
		for _, id := range []uuid.UUID{v.From, v.To} {
			if _, ok := moves[id]; ok {
				drop = append(drop, id)
			}
		}
	}
	if len(drop) == 0 {
		return false
	}
	if onlyOne {
		last := -1
		for i, h := range rp.holds {
			if slices.Contains(drop, h.ID) {
				last = i
			}
		}
		drop = []uuid.UUID{rp.holds[last].ID}
	}
	for _, id := range drop {
		delete(moves, id)
		rp.fixed[id] = true
	}
	return true
}

// position0 is a hold's current slot.
func (rp *replanner) position0(id uuid.UUID) calendar.Interval {
	for _, h := range rp.holds {
		if h.ID == id {
			return calendar.Interval{Start: h.Start, End: h.End}
		}
	}
	return calendar.Interval{}
}

func sharesResource(a, b replanHold) bool {
	for _, r := range a.Resources {
		if slices.Contains(b.Resources, r) {
			return true
		}
	}
	return false
}

// planOrder is what must hold of the accepted plans of some productions: the earliest
// start of each plan, by booking, the finish-to-start links between their stages'
// bookings, and where those bookings are now (active ones only).
type planOrder struct {
	earliest map[uuid.UUID]time.Time
	links    []bookingLink
	at       map[uuid.UUID]calendar.Interval
	planOf   map[uuid.UUID]uuid.UUID
}

// bookingLink is a plan's finish-to-start link between two stages' bookings, lags
// in working time.
type bookingLink struct {
	From, To       uuid.UUID
	MinLag, MaxLag time.Duration
}

// orderBreach is a link or earliest start a set of positions breaks.
type orderBreach struct {
	Plan, From, To uuid.UUID // From is uuid.Nil for the plan's earliest start
	Reason         string
}

// loadPlanOrder reads the accepted plans of the productions and where their stages'
// bookings are.
func loadPlanOrder(ctx context.Context, q querier, productions []uuid.UUID) (planOrder, error) {
	o := planOrder{earliest: map[uuid.UUID]time.Time{}, at: map[uuid.UUID]calendar.Interval{}, planOf: map[uuid.UUID]uuid.UUID{}}
	rows, _ := q.Query(ctx, `SELECT id, plan FROM plans WHERE status = 'accepted' AND production_id = ANY($1)`, productions)
	var planID uuid.UUID
	var p booking.Plan
	var bookings []uuid.UUID
	_, err := pgx.ForEachRow(rows, []any{&planID, &p}, func() error {
		byStage := map[string]uuid.UUID{}
		for _, s := range p.Stages {
			if s.BookingID != nil {
				byStage[s.ID] = *s.BookingID
				o.earliest[*s.BookingID] = p.EarliestStart
				o.planOf[*s.BookingID] = planID
				bookings = append(bookings, *s.BookingID)
			}
		}
		for _, s := range p.Stages {
			for _, l := range s.After {
				from, okf := byStage[l.From]
				to, okt := byStage[s.ID]
				if okf && okt {
					o.links = append(o.links, bookingLink{From: from, To: to, MinLag: hours(l.MinLagHours), MaxLag: hours(l.MaxLagHours)})
				}
			}
		}
		p = booking.Plan{}
		return nil
	})
	if err != nil {
		return o, formatError(err)
	}
	rows, _ = q.Query(ctx, `SELECT id, start_at, end_at FROM booking_groups
		WHERE id = ANY($1) AND status IN ('hold', 'confirmed', 'completed')`, bookings)
	var id uuid.UUID
	var iv calendar.Interval
	if _, err := pgx.ForEachRow(rows, []any{&id, &iv.Start, &iv.End}, func() error { o.at[id] = iv; return nil }); err != nil {
		return o, formatError(err)
	}
	return o, nil
}

// check is the independent checker of a plan's order: given where bookings are (pos,
// overriding where they are now), it lists every active stage that starts before its
// plan's earliest start, and every link whose successor starts before its predecessor
// ends or outside its lags in the site's working time.
func (o planOrder) check(pos map[uuid.UUID]calendar.Interval, cal *calendar.Calendar, opts calendar.Options) []orderBreach {
	where := func(id uuid.UUID) (calendar.Interval, bool) {
		if iv, ok := pos[id]; ok {
			return iv, true
		}
		iv, ok := o.at[id]
		return iv, ok
	}
	var out []orderBreach
	for id, e := range o.earliest {
		if iv, ok := where(id); ok && iv.Start.Before(e) {
			if _, active := o.at[id]; active {
				out = append(out, orderBreach{Plan: o.planOf[id], To: id, Reason: "starts before the plan's earliest start"})
			}
		}
	}
	for _, l := range o.links {
		_, fa := o.at[l.From]
		_, ta := o.at[l.To]
		if !fa || !ta {
			continue
		}
		p, _ := where(l.From)
		s, _ := where(l.To)
		switch lag := cal.WorkingHoursBetween(p.End, s.Start, opts); {
		case s.Start.Before(p.End):
			out = append(out, orderBreach{Plan: o.planOf[l.To], From: l.From, To: l.To, Reason: "starts before its predecessor ends"})
		case lag < l.MinLag:
			out = append(out, orderBreach{Plan: o.planOf[l.To], From: l.From, To: l.To, Reason: "follows its predecessor sooner than the minimum lag"})
		case l.MaxLag > 0 && lag > l.MaxLag:
			out = append(out, orderBreach{Plan: o.planOf[l.To], From: l.From, To: l.To, Reason: "follows its predecessor later than the maximum lag"})
		}
	}
	slices.SortFunc(out, func(a, b orderBreach) int {
		return strings.Compare(a.To.String()+a.From.String(), b.To.String()+b.From.String())
	})
	return out
}

func keys(m map[uuid.UUID]bool) []uuid.UUID {
	out := make([]uuid.UUID, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (db *DB) storeReplan(ctx context.Context, a booking.Actor, r *booking.Replan) error {
	r.ID, r.CreatedAt = uuid.New(), db.now()
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var creator *uuid.UUID
		if a.UserID != uuid.Nil {
			creator = &a.UserID
		}
		if _, err := tx.Exec(ctx, `INSERT INTO replans (id, site_id, status, proposal, created_by, created_at) VALUES ($1, $2, 'proposed', $3, $4, $5)`,
			r.ID, r.SiteID, r, creator, r.CreatedAt); err != nil {
			return err
		}
		return audit(ctx, tx, a, r.CreatedAt, auditEvent{Action: "replan.proposed", ObjectType: "replan", ObjectID: r.ID.String(),
			After: map[string]any{"site_id": r.SiteID, "moves": len(r.Moves), "hours_earlier": r.HoursEarlier}})
	})
}

// ApplyReplan moves every hold of a proposal in one transaction, as the manager who
// approves it; a hold that changed since (its version moved) refuses the whole.
func (db *DB) ApplyReplan(ctx context.Context, a booking.Actor, id uuid.UUID) (booking.Replan, error) {
	var r booking.Replan
	err := db.inTxRetry(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT proposal, status FROM replans WHERE id = $1 FOR UPDATE`, id).Scan(&r, &status); err != nil {
			return notFound(err, "re-plan")
		}
		r.ID, r.Status = id, status
		if err := mayManage(a, r.SiteID); err != nil {
			return err
		}
		if status != "proposed" {
			return &booking.Error{Code: booking.ECONFLICT, Message: "This re-plan is " + status + ".", Details: map[string]any{"status": status}}
		}
		// Move in the order of the new starts, so each hold's new slot is already
		// vacated by the holds it replaces; each move is checked as any reschedule.
		moves := append([]booking.HoldMove(nil), r.Moves...)
		slices.SortStableFunc(moves, func(x, y booking.HoldMove) int { return x.ToStart.Compare(y.ToStart) })
		for _, m := range moves {
			v := m.Version
			if _, err := db.rescheduleTx(ctx, tx, a, m.BookingID, booking.Move{Start: m.ToStart, End: m.ToEnd}, booking.ActOptions{IfMatch: &v, Reason: "what-if re-plan " + id.String()[:8],
				Replan: &booking.ReplanCause{ID: id, From: r.From, To: r.To, Reason: r.Reason}}); err != nil {
				return err
			}
		}
		// Whatever changed since the proposal, the plans keep their order.
		if err := db.checkPlanOrder(ctx, tx, r); err != nil {
			return err
		}
		now := db.now()
		r.Status, r.AppliedAt = "applied", &now
		if _, err := tx.Exec(ctx, `UPDATE replans SET status = 'applied', applied_at = $2, proposal = $3 WHERE id = $1`, id, now, r); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "replan.applied", ObjectType: "replan", ObjectID: id.String(),
			After: map[string]any{"moves": len(r.Moves)}})
	})
	return r, err
}

// checkPlanOrder refuses (ECONFLICT) an applied re-plan that leaves one of the
// accepted plans of its holds out of order.
func (db *DB) checkPlanOrder(ctx context.Context, tx pgx.Tx, r booking.Replan) error {
	var prods []uuid.UUID
	for _, m := range r.Moves {
		prods = append(prods, m.ProductionID)
	}
	if len(prods) == 0 {
		return nil
	}
	o, err := loadPlanOrder(ctx, tx, prods)
	if err != nil {
		return err
	}
	_, cal, err := db.siteCalendar(ctx, tx, r.SiteID)
	if err != nil {
		return err
	}
	for _, b := range o.check(nil, cal, calendar.Options{AvoidProvisional: true}) {
		for _, m := range r.Moves {
			if m.BookingID == b.To || m.BookingID == b.From {
				return &booking.Error{Code: booking.ECONFLICT, Message: "Applying this re-plan would put a plan's stages out of order; propose it again.",
					Details: map[string]any{"plan_id": b.Plan, "booking_id": b.To, "reason": b.Reason}}
			}
		}
	}
	return nil
}
