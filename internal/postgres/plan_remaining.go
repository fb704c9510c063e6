package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

var _ booking.RemainingPlans = (*DB)(nil)

// remainingMark is what a re-plan of an accepted plan's remaining stages stores with its
// request ("remaining"): the accepted plan it replaces and the stages it keeps as they
// are. Its request is otherwise the accepted plan's own (every stage, as asked), so the
// remaining stages can be planned again from it later.
type remainingMark struct {
	Replaces uuid.UUID `json:"replaces"`
	Kept     []string  `json:"kept"`
}

// remainingRequest is a planRequest with its mark.
type remainingRequest struct {
	planRequest
	Remaining remainingMark `json:"remaining"`
}

// anchorPrefix names the resource-free stages that stand for a kept stage's finish
// while the remaining ones are planned: "kept:<stage>". Stage ids do not hold colons.
const anchorPrefix = "kept:"

// keptStatus is whether a stage whose booking is in this status stays as it is.
func keptStatus(s string) bool {
	return s == string(booking.StatusConfirmed) || s == string(booking.StatusCompleted)
}

// ReplanRemaining proposes a new plan for an accepted plan's stages that are not yet
// confirmed or completed (booking.RemainingPlans).
func (db *DB) ReplanRemaining(ctx context.Context, a booking.Actor, planID uuid.UUID) (booking.Plan, error) {
	return db.replanRemaining(ctx, a, planID, nil)
}

// replanRemaining plans the remaining stages of the accepted plan planID and stores the
// proposal; stale, when given, is an earlier such proposal it supersedes.
func (db *DB) replanRemaining(ctx context.Context, a booking.Actor, planID uuid.UUID, stale *uuid.UUID) (booking.Plan, error) {
	old, req, err := db.loadPlan(ctx, db.Pool, a, planID)
	if err != nil {
		return booking.Plan{}, err
	}
	if old.Status != "accepted" {
		return booking.Plan{}, &booking.Error{Code: booking.ECONFLICT, Message: "This plan is " + old.Status + "; only an accepted plan's remaining stages can be planned again.",
			Details: map[string]any{"status": old.Status}}
	}
	kept := map[string]booking.PlannedStage{}
	var keptIDs []string
	var holds []uuid.UUID // the old plan's holds: the new plan may take their slots
	for _, s := range old.Stages {
		switch {
		case keptStatus(s.BookingStatus):
			kept[s.ID] = s
			keptIDs = append(keptIDs, s.ID)
		case s.BookingStatus == string(booking.StatusHold) && s.BookingID != nil:
			holds = append(holds, *s.BookingID)
		}
	}
	if len(kept) == len(old.Stages) {
		return booking.Plan{}, &booking.Error{Code: booking.ECONFLICT, Message: "Every stage of this plan is confirmed or completed: nothing remains to plan.",
			Details: map[string]any{"status": old.Status}}
	}
	// Each stage stays at the site it was planned at (a kept stage's anchor too), so
	// its working time is that site's and a link between sites waits the transfer.
	sites, err := db.remainingSites(ctx, old)
	if err != nil {
		return booking.Plan{}, err
	}
	pins := map[string]uuid.UUID{}
	for _, s := range old.Stages {
		pins[s.ID] = sites.of(s)
	}
	for id, site := range req.StageSites {
		pins[id] = site
	}
	opts := calendar.Options{AvoidProvisional: true}
	release := db.now()
	if req.EarliestStart.After(release) {
		release = req.EarliestStart
	}
	// The remaining stages, their links to kept stages replaced by links to anchors:
	// resource-free stages from the release that last the working time until the kept
	// stage ends, so a successor cannot start before it (the maximum lag too while the
	// kept stage ends ahead). A kept stage that ends before the release binds nothing
	// but its minimum lag.
	var stages []booking.StageSpec
	anchors := map[string]bool{}
	for _, s := range req.Stages {
		if _, ok := kept[s.ID]; ok {
			continue
		}
		spec := s
		spec.After = nil
		for _, l := range s.After {
			k, ok := kept[l.From]
			if !ok {
				spec.After = append(spec.After, l)
				continue
			}
			ahead := k.End.After(release)
			if !ahead && l.MinLagHours == 0 {
				continue
			}
			id := anchorPrefix + l.From
			if !anchors[id] {
				anchors[id] = true
				var h float64
				if ahead {
					h = sites.cal(pins[k.ID]).WorkingHoursBetween(release, k.End, opts).Hours()
				}
				pins[id] = pins[k.ID]
				stages = append(stages, booking.StageSpec{ID: id, Name: k.Name, Hours: h})
			}
			link := booking.StageLink{From: id, MinLagHours: l.MinLagHours}
			if ahead {
				link.MaxLagHours = l.MaxLagHours
			}
			spec.After = append(spec.After, link)
		}
		stages = append(stages, spec)
	}
	for id := range kept { // kept stages are not planned: their anchors are
		delete(pins, id)
	}
	planned, err := db.plan(withReplacedHolds(ctx, holds), planRequest{ProductionID: req.ProductionID, SiteID: req.SiteID,
		SiteIDs: req.SiteIDs, StageSites: pins, Currency: req.Currency,
		Template: req.Template, Stages: stages, EarliestStart: release, Deadline: req.Deadline, Seed: req.Seed})
	if err != nil {
		return booking.Plan{}, err
	}
	out := mergeRemaining(old, req, planned, kept)
	if err := db.totalPlan(ctx, &out, db.now()); err != nil {
		return booking.Plan{}, err
	}
	out.Unmet = planned.Unmet
	if out.Placed {
		for _, b := range remainingBreaches(out, req, kept, release, sites, opts) {
			out.Unmet = append(out.Unmet, b)
		}
		out.Placed = len(out.Unmet) == 0
	}
	out.Feasible = false
	out.SlackHours, out.SlackWorkingHours, out.SlackDays = nil, nil, nil
	out.MissesByHours, out.MissesByWorkingHours, out.MissesByDays = 0, 0, 0
	if out.Placed {
		// The finish reads in the zone of the site of the stage that ends last.
		last := sites.cal(old.SiteID)
		for _, st := range out.Stages {
			if st.End.Equal(out.Finish) {
				last = sites.cal(sites.of(st))
			}
		}
		out.FinishLocal = localString(last.Location, out.Finish)
		out.Feasible = true
		if !req.Deadline.IsZero() {
			out.Feasible = !out.Finish.After(req.Deadline)
			setSlack(&out, last, out.Finish, req.Deadline)
		}
	}
	markChanges(old, &out)
	mark := remainingMark{Replaces: planID, Kept: keptIDs}
	if mark.Kept == nil {
		mark.Kept = []string{}
	}
	return out, db.storeRemaining(ctx, a, remainingRequest{planRequest: req, Remaining: mark}, &out, planID, stale)
}

// mergeRemaining is the whole new plan: every stage in the order the plan asked for
// them, the kept ones as they are now, the others where the planner put them. Its
// quote_minor totals the stages' costs, the kept ones at their accepted cost; its
// quote prices the stages planned again.
func mergeRemaining(old booking.Plan, req planRequest, planned booking.Plan, kept map[string]booking.PlannedStage) booking.Plan {
	out := planned
	out.Template, out.EarliestStart, out.Stages, out.QuoteMinor = old.Template, old.EarliestStart, []booking.PlannedStage{}, 0
	out.Finish, out.FinishLocal = time.Time{}, ""
	out.Totals, out.Rates = []booking.PlanTotal{}, []booking.PlanRate{}
	out.Transfers = nil
	for _, t := range planned.Transfers {
		t.FromStage = strings.TrimPrefix(t.FromStage, anchorPrefix)
		out.Transfers = append(out.Transfers, t)
	}
	byID := map[string]booking.PlannedStage{}
	for _, s := range planned.Stages {
		byID[s.ID] = s
	}
	for _, spec := range req.Stages {
		s, ok := kept[spec.ID]
		if ok {
			s.Changed = nil
		} else if s, ok = byID[spec.ID]; !ok {
			continue // unplaced: named in unmet
		}
		s.After = spec.After
		if s.End.After(out.Finish) {
			out.Finish = s.End
		}
		out.Stages = append(out.Stages, s)
	}
	return out
}

// remainingBreaches is the independent check of a re-plan of remaining stages against
// the plan's links, on the stages' intervals alone: every stage planned again starts
// at or after the release, and after each predecessor ends, within the link's lags in
// the site's working time; a kept stage's planned-again predecessors end before it
// starts. A maximum lag after a kept stage that ended before the release is not
// checked: no plan made now could keep it. It names the stages that break a rule.
func remainingBreaches(p booking.Plan, req planRequest, kept map[string]booking.PlannedStage, release time.Time,
	sites remainingSiteSet, opts calendar.Options) []string {
	at := map[string]booking.PlannedStage{}
	for _, s := range p.Stages {
		at[s.ID] = s
	}
	var out []string
	bad := map[string]bool{}
	flag := func(id string) {
		if !bad[id] {
			bad[id] = true
			out = append(out, id)
		}
	}
	for _, spec := range req.Stages {
		s, ok := at[spec.ID]
		if !ok {
			continue
		}
		_, sKept := kept[spec.ID]
		if !sKept && s.Start.Before(release) {
			flag(spec.ID)
		}
		for _, l := range spec.After {
			pr, ok := at[l.From]
			_, pKept := kept[l.From]
			if !ok || (sKept && pKept) {
				continue
			}
			// Between sites the lags count the successor's working time from the end
			// of the transfer.
			ready := pr.End.Add(sites.transfer(sites.of(pr), sites.of(s)))
			lag := sites.cal(sites.of(s)).WorkingHoursBetween(ready, s.Start, opts)
			maxLag := l.MaxLagHours > 0 && (!pKept || pr.End.After(release))
			if s.Start.Before(ready) || lag < hours(l.MinLagHours) || (maxLag && lag > hours(l.MaxLagHours)) {
				if sKept {
					flag(l.From) // the stage planned again cannot end in time for the kept one
				} else {
					flag(spec.ID)
				}
			}
		}
	}
	return out
}

// remainingSiteSet is what a re-plan of remaining stages knows of the sites of the
// plan it replaces: each site's slug (for transfer times) and calendar.
type remainingSiteSet struct {
	home  uuid.UUID
	slugs map[uuid.UUID]string
	cals  map[uuid.UUID]*calendar.Calendar
}

// remainingSites reads the sites of an accepted plan: its site_ids, and any a stage
// was placed at.
func (db *DB) remainingSites(ctx context.Context, p booking.Plan) (remainingSiteSet, error) {
	out := remainingSiteSet{home: p.SiteID, slugs: map[uuid.UUID]string{}, cals: map[uuid.UUID]*calendar.Calendar{}}
	ids := append([]uuid.UUID{p.SiteID}, p.SiteIDs...)
	for _, s := range p.Stages {
		ids = append(ids, s.SiteID)
	}
	for _, id := range ids {
		if _, ok := out.cals[id]; ok || id == uuid.Nil {
			continue
		}
		site, cal, err := db.siteCalendar(ctx, db.Pool, id)
		if err != nil {
			return out, err
		}
		var slug string
		if err := db.Pool.QueryRow(ctx, `SELECT slug FROM sites WHERE id = $1`, site.SiteID).Scan(&slug); err != nil {
			return out, notFound(err, "site")
		}
		out.slugs[id], out.cals[id] = slug, cal
	}
	return out, nil
}

// of is the site a stage runs at; a stage stored before plans had several sites runs
// at the plan's.
func (s remainingSiteSet) of(st booking.PlannedStage) uuid.UUID {
	if st.SiteID == uuid.Nil {
		return s.home
	}
	return st.SiteID
}

func (s remainingSiteSet) cal(id uuid.UUID) *calendar.Calendar { return s.cals[id] }

// transfer is the clock time material takes between two of the plan's sites.
func (s remainingSiteSet) transfer(from, to uuid.UUID) time.Duration {
	if from == to {
		return 0
	}
	return booking.TransferBetween(s.slugs[from], s.slugs[to]).Duration()
}

// replacedHoldsKey carries, while a plan is made, the holds it would replace.
type replacedHoldsKey struct{}

func withReplacedHolds(ctx context.Context, ids []uuid.UUID) context.Context {
	return context.WithValue(ctx, replacedHoldsKey{}, ids)
}

// planBusy is what occupies each resource for a plan made over [from, to): confirmed
// and completed bookings and first holds (bookedIntervals). A plan that replaces holds
// (a re-plan of remaining stages) is not in their way: they are left out, and the
// holds queued behind one of them count as first, as they will be once it is released.
func (db *DB) planBusy(ctx context.Context, resources []uuid.UUID, from, to time.Time) (map[uuid.UUID]calendar.Set, error) {
	replaced, _ := ctx.Value(replacedHoldsKey{}).([]uuid.UUID)
	if len(replaced) == 0 {
		return db.bookedIntervals(ctx, resources, from, to, false, uuid.Nil)
	}
	rows, _ := db.Pool.Query(ctx, `
		SELECT b.resource_id, lower(b.during), upper(b.during), 'booking' FROM bookings b
		WHERE b.resource_id = ANY($1) AND b.during && tstzrange($2, $3) AND NOT (b.group_id = ANY($4))
		  AND (b.status IN ('confirmed', 'completed') OR (b.status = 'hold' AND (b.rank = 1 OR EXISTS (
			SELECT 1 FROM bookings o WHERE o.group_id = ANY($4) AND o.resource_id = b.resource_id AND o.during && b.during))))`,
		resources, from, to, replaced)
	cs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[conflict])
	if err != nil {
		return nil, formatError(err)
	}
	raw := map[uuid.UUID][]calendar.Interval{}
	for _, c := range cs {
		raw[c.ResourceID] = append(raw[c.ResourceID], calendar.Interval{Start: c.Start, End: c.End})
	}
	out := map[uuid.UUID]calendar.Set{}
	for id, ivs := range raw {
		out[id] = calendar.Normalize(ivs...)
	}
	return out, nil
}

// storeRemaining saves a re-plan of remaining stages as a proposal replacing the
// accepted plan (which stays accepted until the proposal is), superseding stale.
func (db *DB) storeRemaining(ctx context.Context, a booking.Actor, req remainingRequest, p *booking.Plan, replaces uuid.UUID, stale *uuid.UUID) error {
	now := db.now()
	p.ID, p.Status, p.CreatedAt, p.ReplacesID, p.AcceptedAt, p.Remaining = uuid.New(), "proposed", now, &replaces, nil, true
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var creator *uuid.UUID
		if a.UserID != uuid.Nil {
			creator = &a.UserID
		}
		if _, err := tx.Exec(ctx, `INSERT INTO plans (id, production_id, site_id, status, request, plan, replaces_id, created_by, created_at)
			VALUES ($1, $2, $3, 'proposed', $4, $5, $6, $7, $8)`, p.ID, p.ProductionID, p.SiteID, req, p, replaces, creator, now); err != nil {
			return err
		}
		if stale != nil {
			if _, err := tx.Exec(ctx, `UPDATE plans SET status = 'superseded' WHERE id = $1 AND status = 'proposed'`, *stale); err != nil {
				return err
			}
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "plan.proposed", ObjectType: "plan", ObjectID: p.ID.String(),
			After: map[string]any{"production_id": p.ProductionID, "placed": p.Placed, "feasible": p.Feasible, "finish": p.Finish,
				"quote_minor": p.QuoteMinor, "replaces_id": replaces, "kept": req.Remaining.Kept}})
	})
}

// remainingOf reads the mark of a re-plan of remaining stages; nil for another plan.
func remainingOf(ctx context.Context, q querier, id uuid.UUID) (*remainingMark, error) {
	var m *remainingMark
	if err := q.QueryRow(ctx, `SELECT request->'remaining' FROM plans WHERE id = $1`, id).Scan(&m); err != nil {
		return nil, formatError(err)
	}
	return m, nil
}

// takeOverReplaced runs in the transaction that accepts plan id, before its holds are
// placed: when id re-plans an accepted plan's remaining stages, the old plan must still
// be accepted, its kept stages still confirmed or completed where the proposal found
// them (the stages planned again were placed around them) and no other stage become
// so; its holds are released (each as its release action, audited and notified) and
// it becomes superseded. Any of it failing fails the acceptance whole (ECONFLICT).
func (db *DB) takeOverReplaced(ctx context.Context, tx pgx.Tx, a booking.Actor, id uuid.UUID) error {
	m, err := remainingOf(ctx, tx, id)
	if err != nil || m == nil {
		return err
	}
	var proposal booking.Plan
	if err := tx.QueryRow(ctx, `SELECT plan FROM plans WHERE id = $1`, id).Scan(&proposal); err != nil {
		return formatError(err)
	}
	planned := map[string]booking.PlannedStage{}
	for _, s := range proposal.Stages {
		planned[s.ID] = s
	}
	var status string
	var old booking.Plan
	if err := tx.QueryRow(ctx, `SELECT status, plan FROM plans WHERE id = $1 FOR UPDATE`, m.Replaces).Scan(&status, &old); err != nil {
		return formatError(err)
	}
	if status != "accepted" {
		return &booking.Error{Code: booking.ECONFLICT, Message: "The plan this one replaces is " + status + " now; plan its remaining stages again.",
			Details: map[string]any{"status": status, "plan_id": m.Replaces}}
	}
	keep := map[string]bool{}
	for _, k := range m.Kept {
		keep[k] = true
	}
	now := db.now()
	released := 0
	for _, s := range old.Stages {
		if s.BookingID == nil {
			continue
		}
		var st booking.Status
		var start, end time.Time
		if err := tx.QueryRow(ctx, `SELECT status, start_at, end_at FROM booking_groups WHERE id = $1`, *s.BookingID).Scan(&st, &start, &end); err != nil {
			return formatError(err)
		}
		// A kept stage must still be where the proposal planned around it.
		moved := keep[s.ID] && (!start.Equal(planned[s.ID].Start) || !end.Equal(planned[s.ID].End))
		if keep[s.ID] != keptStatus(string(st)) || moved {
			return &booking.Error{Code: booking.ECONFLICT, Message: "A stage of the plan this one replaces has changed since; plan its remaining stages again.",
				Details: map[string]any{"stage": s.ID, "status": st}}
		}
		if st != booking.StatusHold {
			continue
		}
		g, err := db.loadGroup(ctx, tx, a, *s.BookingID)
		if err != nil {
			return err
		}
		if err := precheck(a, g, booking.ActionRelease, booking.ActOptions{}); err != nil {
			return stageError(err, s.ID)
		}
		before, err := db.loadBooking(ctx, tx, g.ID)
		if err != nil {
			return err
		}
		var ch change
		reason := fmt.Sprintf("re-planned: plan %s replaces plan %s", id.String()[:8], m.Replaces.String()[:8])
		if err := db.endHold(ctx, tx, g, booking.StatusReleased, booking.EventReleased, reason, now, &ch); err != nil {
			return err
		}
		if _, err := db.finish(ctx, tx, a, now, g.ID, "booking.release", &before, &ch); err != nil {
			return err
		}
		released++
	}
	if _, err := tx.Exec(ctx, `UPDATE plans SET status = 'superseded' WHERE id = $1`, m.Replaces); err != nil {
		return err
	}
	return audit(ctx, tx, a, now, auditEvent{Action: "plan.superseded", ObjectType: "plan", ObjectID: m.Replaces.String(),
		After: map[string]any{"replaced_by": id, "released": released, "kept": m.Kept}})
}

// remainingConflict answers a refused acceptance of a re-plan of remaining stages:
// while the plan it replaces is still accepted, the remaining stages are planned again
// from the state now and the refusal carries the new proposal (details.replanned), as
// any refused acceptance does; else the refusal stands. false for another plan.
func (db *DB) remainingConflict(ctx context.Context, a booking.Actor, id uuid.UUID, refusal error) (bool, error) {
	m, err := remainingOf(ctx, db.Pool, id)
	if err != nil {
		return true, err
	}
	if m == nil {
		return false, nil
	}
	var status string
	if err := db.Pool.QueryRow(ctx, `SELECT status FROM plans WHERE id = $1`, m.Replaces).Scan(&status); err != nil {
		return true, formatError(err)
	}
	if status != "accepted" {
		return true, refusal
	}
	again, err := db.replanRemaining(ctx, a, m.Replaces, &id)
	if err != nil {
		return true, err
	}
	return true, &booking.Error{Code: booking.ECONFLICT, Message: "Capacity changed since this plan was made; here is a new plan.",
		Details: map[string]any{"replanned": again}}
}
