package postgres

import (
	"context"
	"slices"
	"time"

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
// resources and its working hours, and the planner places them all as early as the
// confirmed bookings, blocks and the calendar allow, in one search. Nothing moves until
// a manager applies the proposal.
func (db *DB) ProposeReplan(ctx context.Context, a booking.Actor, siteID uuid.UUID, from, to time.Time) (booking.Replan, error) {
	out := booking.Replan{SiteID: siteID, Status: "proposed", From: from.UTC(), To: to.UTC(), Moves: []booking.HoldMove{}}
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
	type hold struct {
		ID, ProductionID uuid.UUID
		Title            string
		Start, End       time.Time
		Version          int
		Resources        []uuid.UUID
	}
	rows, _ := db.Pool.Query(ctx, `SELECT g.id, g.production_id, p.title, g.start_at, g.end_at, g.version,
			array(SELECT resource_id FROM bookings WHERE group_id = g.id ORDER BY resource_id)
		FROM booking_groups g JOIN productions p ON p.id = g.production_id
		WHERE g.site_id = $1 AND g.status = 'hold' AND g.start_at >= $2 AND g.start_at < $3
		ORDER BY g.hold_seq`, siteID, from, to)
	holds, err := pgx.CollectRows(rows, pgx.RowToStructByPos[hold])
	if err != nil {
		return out, formatError(err)
	}
	out.Holds = len(holds)
	if len(holds) == 0 {
		return out, db.storeReplan(ctx, a, &out)
	}
	opts := calendar.Options{AvoidProvisional: true}
	moving := map[uuid.UUID]bool{}
	resSet := map[uuid.UUID]bool{}
	prob := planner.Problem{Calendar: cal, Release: from, Options: opts}
	var placed []hold
	for _, h := range holds {
		d := cal.WorkingHoursBetween(h.Start, h.End, opts)
		if d <= 0 {
			continue // a hold outside working time is left where it is
		}
		moving[h.ID] = true
		st := planner.Stage{ID: h.ID.String(), Name: h.Title, Duration: d}
		for _, r := range h.Resources {
			st.Demands = append(st.Demands, planner.Demand{Kind: "resource:" + r.String()})
			resSet[r] = true
		}
		prob.Stages = append(prob.Stages, st)
		placed = append(placed, h)
	}
	var ids []uuid.UUID
	for r := range resSet {
		ids = append(ids, r)
	}
	horizon := to.Add(maxReplanWindow)
	busy, err := db.busyIntervals(ctx, ids, from, horizon, true, uuid.Nil)
	if err != nil {
		return out, err
	}
	// Holds outside the window stay where they are and keep their time.
	rows, _ = db.Pool.Query(ctx, `SELECT b.resource_id, lower(b.during), upper(b.during), 'hold' FROM bookings b
		WHERE b.resource_id = ANY($1) AND b.status = 'hold' AND b.during && tstzrange($2, $3) AND NOT (b.group_id = ANY($4))`,
		ids, from, horizon, keys(moving))
	others, err := pgx.CollectRows(rows, pgx.RowToStructByPos[conflict])
	if err != nil {
		return out, formatError(err)
	}
	for _, o := range others {
		busy[o.ResourceID] = busy[o.ResourceID].Union(calendar.Normalize(calendar.Interval{Start: o.Start, End: o.End}))
	}
	for _, r := range ids {
		prob.Resources = append(prob.Resources, planner.Resource{ID: r.String(), Kind: "resource:" + r.String(), Busy: busy[r]})
	}
	solved, err := planner.Solve(ctx, prob, planner.Options{Seed: 1, Budget: planner.Budget{Schedules: planSchedules, WallTime: planWallTime}})
	if err != nil {
		return out, err
	}
	if !solved.Feasible {
		return out, &booking.Error{Code: booking.EUNPROCESSABLE, Message: "The holds cannot all be placed again.", Details: map[string]any{"unmet": solved.Unmet}}
	}
	for i, as := range solved.Assignments {
		h := placed[i]
		if as.Start.Equal(h.Start) && as.End.Equal(h.End) {
			continue
		}
		if !as.End.Before(h.End) {
			continue // only moves that bring a hold earlier are worth proposing
		}
		out.HoursEarlier += h.End.Sub(as.End).Hours()
		out.Moves = append(out.Moves, booking.HoldMove{BookingID: h.ID, ProductionID: h.ProductionID, Production: h.Title,
			FromStart: h.Start, FromEnd: h.End, ToStart: as.Start.UTC(), ToEnd: as.End.UTC(),
			ToStartLocal: localString(cal.Location, as.Start), ToEndLocal: localString(cal.Location, as.End), Version: h.Version})
	}
	return out, db.storeReplan(ctx, a, &out)
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
			if _, err := db.rescheduleTx(ctx, tx, a, m.BookingID, m.ToStart, m.ToEnd, booking.ActOptions{IfMatch: &v, Reason: "what-if re-plan " + id.String()[:8]}); err != nil {
				return err
			}
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
