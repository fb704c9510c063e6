package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

var _ booking.Bookings = (*DB)(nil)

// EventSink receives the events of a booking change inside the change's transaction;
// the notifications enqueue their jobs there, so a job exists if and only if the change
// committed.
type EventSink func(ctx context.Context, tx pgx.Tx, events []booking.Event) error

// Every booking change locks the resources it touches first; see locks.go.

// groupRow is a booking group as the lifecycle code handles it.
type groupRow struct {
	ID, ProductionID, SiteID, OrganisationID uuid.UUID
	Status                                   booking.Status
	Start, End                               time.Time
	HoldSeq                                  *int64
	ApprovalRequested                        bool
	Overtime                                 bool
	Version                                  int
	ResourceIDs                              []uuid.UUID
}

// change collects what a transaction did, to raise and audit it at the end.
type change struct {
	events []booking.Event
	// actor is the user who made the change (uuid.Nil for posthub itself); emit
	// stamps it on the events that do not name one.
	actor uuid.UUID
	// offsets are the reminder offsets of the booking's site when the change read its
	// policy (offsetsKnown): finish then knows the follow-up state of the booking it
	// acted on, and the sink need not read it back.
	offsets      []booking.Duration
	offsetsKnown bool
	// state is that follow-up state, set by finish.
	state *booking.FollowUpState
}

func (c *change) add(g *groupRow, kind booking.EventKind, at time.Time, reason string) {
	c.events = append(c.events, booking.Event{Kind: kind, BookingID: g.ID, ProductionID: g.ProductionID,
		SiteID: g.SiteID, At: at, Reason: reason})
}

// loadGroup reads a group the actor may see and locks it with its resources. A
// producer gets ENOTFOUND for another organisation's booking.
func (db *DB) loadGroup(ctx context.Context, tx pgx.Tx, a booking.Actor, id uuid.UUID) (*groupRow, error) {
	var org uuid.UUID
	var resources []uuid.UUID
	err := tx.QueryRow(ctx, `SELECT p.organisation_id, array(SELECT resource_id FROM bookings WHERE group_id = g.id ORDER BY resource_id)
		FROM booking_groups g JOIN productions p ON p.id = g.production_id WHERE g.id = $1`, id).Scan(&org, &resources)
	if err == pgx.ErrNoRows || (err == nil && !a.SeesAllProductions() && org != a.OrganisationID) {
		return nil, booking.Errorf(booking.ENOTFOUND, "No such booking.")
	}
	if err != nil {
		return nil, err
	}
	if _, err := lockResources(ctx, tx, resources); err != nil {
		return nil, err
	}
	return lockedGroup(ctx, tx, id)
}

// lockedGroup reads and locks a group whose resources the caller has locked. NO KEY
// UPDATE, as an UPDATE takes: it does not wait for the key-share locks that inserting
// a row referring to the group (a notification, a challenge target) holds.
func lockedGroup(ctx context.Context, tx pgx.Tx, id uuid.UUID) (*groupRow, error) {
	g := &groupRow{ID: id}
	err := tx.QueryRow(ctx, `SELECT g.production_id, g.site_id, p.organisation_id, g.status, g.start_at, g.end_at,
			g.hold_seq, g.approval_requested_at IS NOT NULL, g.overtime, g.version,
			array(SELECT resource_id FROM bookings WHERE group_id = g.id ORDER BY resource_id)
		FROM booking_groups g JOIN productions p ON p.id = g.production_id WHERE g.id = $1 FOR NO KEY UPDATE OF g`, id).
		Scan(&g.ProductionID, &g.SiteID, &g.OrganisationID, &g.Status, &g.Start, &g.End, &g.HoldSeq,
			&g.ApprovalRequested, &g.Overtime, &g.Version, &g.ResourceIDs)
	if err != nil {
		return nil, notFound(err, "booking")
	}
	return g, nil
}

// mayActAt checks that a manager manages the booking's site; producers are confined
// to their organisation by loadGroup, admins may act anywhere.
func mayActAt(a booking.Actor, siteID uuid.UUID) error {
	if a.Role == booking.RoleManager && !a.ManagesSite(siteID) {
		return booking.Errorf(booking.EFORBIDDEN, "You do not manage this site.")
	}
	return nil
}

// conflict is what stands in a booking's way, as a caller may see it: a resource and an
// interval, never whose.
type conflict struct {
	ResourceID uuid.UUID `json:"resource_id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Kind       string    `json:"kind"` // booking, hold or block
}

// checkFree returns ECONFLICT naming what overlaps [start, end) on the resources:
// confirmed bookings, other bookings' holds too when withHolds, and blocks. With
// pauses, a block lying wholly inside the interval is not in the way: a booking may
// span a resource's leave or maintenance (it pauses, and calendar.UseOf leaves that
// time out of what it sells), as long as it neither starts nor ends in one — the
// rule the planner's Resource.Pauses follows. Those blocks are returned.
func checkFree(ctx context.Context, tx pgx.Tx, resources []uuid.UUID, start, end time.Time, self uuid.UUID, withHolds, pauses bool) ([]conflict, error) {
	b := &pgx.Batch{}
	read := queueCheckFree(b, resources, start, end, self, withHolds, pauses)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return read()
}

// queueCheckFree queues checkFree's statements on b (one round trip with whatever else
// b carries); the function it returns gives checkFree's answer once b has been sent.
func queueCheckFree(b *pgx.Batch, resources []uuid.UUID, start, end time.Time, self uuid.UUID, withHolds, pauses bool) func() ([]conflict, error) {
	// The bookings and one-off blocks in the way, and the recurring blocks that may
	// occur in the interval.
	var cs, blocks, rec []conflict
	b.Queue(`
		SELECT resource_id, lower(during), upper(during), CASE WHEN status = 'hold' THEN 'hold' ELSE 'booking' END
		FROM bookings
		WHERE resource_id = ANY($1) AND during && tstzrange($2, $3) AND group_id <> $4
		  AND (status IN ('confirmed', 'completed') OR ($5 AND status = 'hold'))
		ORDER BY 2, 1 LIMIT 20`, resources, start, end, self, withHolds).Query(func(rows pgx.Rows) error {
		var err error
		cs, err = pgx.CollectRows(rows, pgx.RowToStructByPos[conflict])
		return err
	})
	b.Queue(`SELECT resource_id, lower(during), upper(during), 'block'
		FROM resource_blocks WHERE resource_id = ANY($1) AND during && tstzrange($2, $3) AND rrule IS NULL
		ORDER BY 2, 1`, resources, start, end).Query(func(rows pgx.Rows) error {
		var err error
		blocks, err = pgx.CollectRows(rows, pgx.RowToStructByPos[conflict])
		return err
	})
	b.Queue(recurringBusySQL, resources, start, end).Query(func(rows pgx.Rows) error {
		var err error
		rec, err = scanRecurringBusy(rows, start, end)
		return err
	})
	return func() ([]conflict, error) {
		var inside []conflict
		for _, c := range append(blocks, rec...) {
			if pauses && c.Start.After(start) && c.End.Before(end) {
				inside = append(inside, c)
			} else if len(cs) < 20 {
				cs = append(cs, c)
			}
		}
		if len(cs) > 0 {
			return nil, &booking.Error{Code: booking.ECONFLICT, Message: "The slot is not free.", Details: map[string]any{"conflicts": cs}}
		}
		return inside, nil
	}
}

// checkPauses turns the blocks a booking spans into warnings, and refuses it when
// they leave one of its resources no working time in it (unless it is overtime).
func checkPauses(ctx context.Context, tx pgx.Tx, cal *calendar.Calendar, start, end time.Time, overtime bool, pauses []conflict) ([]string, error) {
	if len(pauses) == 0 {
		return nil, nil
	}
	by := map[uuid.UUID][]calendar.Interval{}
	var ids []uuid.UUID
	for _, p := range pauses {
		if by[p.ResourceID] == nil {
			ids = append(ids, p.ResourceID)
		}
		by[p.ResourceID] = append(by[p.ResourceID], calendar.Interval{Start: p.Start, End: p.End})
	}
	names := map[uuid.UUID]string{}
	rows, _ := tx.Query(ctx, `SELECT id, name FROM resources WHERE id = ANY($1)`, ids)
	var id uuid.UUID
	var name string
	if _, err := pgx.ForEachRow(rows, []any{&id, &name}, func() error { names[id] = name; return nil }); err != nil {
		return nil, err
	}
	iv := calendar.Interval{Start: start, End: end}
	var warnings []string
	for _, r := range ids {
		set := calendar.Normalize(by[r]...)
		u := cal.UseOf(iv, set)
		if len(u.Working) == 0 && !overtime {
			return nil, &booking.Error{Code: booking.EUNPROCESSABLE,
				Message: fmt.Sprintf("%s is out of service for all the working time of the booking.", names[r]),
				Details: map[string]any{"field": "resource_ids", "resource_id": r}}
		}
		for _, p := range set {
			const layout = "Mon 2006-01-02 15:04"
			warnings = append(warnings, fmt.Sprintf("%s is out of service %s – %s (%s, leave or maintenance): the booking pauses then, and %s of working time is not sold",
				names[r], p.Start.In(cal.Location).Format(layout), p.End.In(cal.Location).Format(layout), cal.Location,
				hoursText(cal.UseOf(p, nil).Working.Duration())))
		}
	}
	return warnings, nil
}

// siteRules is what a booking change needs of its site, read in one query.
type siteRules struct {
	Zone, Country string
	Loc           *time.Location
	Policy        booking.SitePolicy
}

func (db *DB) siteRules(ctx context.Context, q querier, siteID uuid.UUID) (siteRules, error) {
	b := &pgx.Batch{}
	read := queueSiteRules(b, siteID)
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return siteRules{}, err
	}
	return read()
}

// queueSiteRules queues siteRules' query on b; the function it returns gives the rules
// once b has been sent.
func queueSiteRules(b *pgx.Batch, siteID uuid.UUID) func() (siteRules, error) {
	r := siteRules{Policy: booking.SitePolicy{SiteID: siteID}}
	p := &r.Policy
	var hold, window, notice int
	var offsets []int
	var scanErr error
	b.Queue(`SELECT s.time_zone, s.country, p.confirm_needs_approval, p.hold_lifetime_seconds,
			p.challenge_window_seconds, p.min_notice_seconds, p.reminder_offsets_seconds, p.overtime
		FROM sites s JOIN site_policies p ON p.site_id = s.id WHERE s.id = $1`, siteID).QueryRow(func(row pgx.Row) error {
		scanErr = row.Scan(&r.Zone, &r.Country, &p.ConfirmNeedsApproval, &hold, &window, &notice, &offsets, &p.Overtime)
		if scanErr == pgx.ErrNoRows {
			return nil // not the batch's error: read answers ENOTFOUND
		}
		return scanErr
	})
	return func() (siteRules, error) {
		if scanErr != nil {
			return r, notFound(scanErr, "site")
		}
		var err error
		if r.Loc, err = calendar.LoadLocation(r.Zone); err != nil {
			return r, err
		}
		p.HoldLifetime = booking.Duration(time.Duration(hold) * time.Second)
		p.ChallengeWindow = booking.Duration(time.Duration(window) * time.Second)
		p.MinNotice = booking.Duration(time.Duration(notice) * time.Second)
		p.ReminderOffsets = reminderOffsets(offsets)
		return r, nil
	}
}

// reminderOffsets reads site_policies.reminder_offsets_seconds.
func reminderOffsets(secs []int) []booking.Duration {
	var out []booking.Duration
	for _, o := range secs {
		out = append(out, booking.Duration(time.Duration(o)*time.Second))
	}
	return out
}

func (db *DB) policy(ctx context.Context, q querier, siteID uuid.UUID) (booking.SitePolicy, error) {
	r, err := db.siteRules(ctx, q, siteID)
	return r.Policy, err
}

// SitePolicy returns a site's policy.
func (db *DB) SitePolicy(ctx context.Context, siteID uuid.UUID) (booking.SitePolicy, error) {
	return db.policy(ctx, db.reader(), siteID)
}

// UpdateSitePolicy replaces a site's policy; managers of the site and admins only.
func (db *DB) UpdateSitePolicy(ctx context.Context, a booking.Actor, p booking.SitePolicy) (booking.SitePolicy, error) {
	if _, err := db.SitePolicy(ctx, p.SiteID); err != nil {
		return p, err
	}
	if a.Role != booking.RoleAdmin && !a.ManagesSite(p.SiteID) {
		return p, booking.Errorf(booking.EFORBIDDEN, "You do not manage this site.")
	}
	secs := func(d booking.Duration) int { return int(time.Duration(d) / time.Second) }
	between := func(field string, d booking.Duration, lo, hi time.Duration) error {
		if time.Duration(d) < lo || time.Duration(d) > hi {
			return &booking.Error{Code: booking.EUNPROCESSABLE, Message: field + " must be between " + lo.String() + " and " + hi.String() + ".",
				Details: map[string]any{"field": field}}
		}
		return nil
	}
	day := 24 * time.Hour
	if err := errors.Join(between("hold_lifetime", p.HoldLifetime, time.Hour, 90*day),
		between("challenge_window", p.ChallengeWindow, time.Hour, 30*day),
		between("min_notice", p.MinNotice, 0, 30*day)); err != nil {
		return p, firstDomainError(err)
	}
	switch p.Overtime {
	case "":
		p.Overtime = booking.OvertimeApproval
	case booking.OvertimeApproval, booking.OvertimeAllowed, booking.OvertimeManagers:
	default:
		return p, &booking.Error{Code: booking.EUNPROCESSABLE, Message: "overtime must be approval, allowed or managers.",
			Details: map[string]any{"field": "overtime"}}
	}
	offsets := []int{}
	for _, o := range p.ReminderOffsets {
		if err := between("reminder_offsets", o, time.Minute, 30*day); err != nil {
			return p, err
		}
		// Kept to the second, once each: two equal offsets are one reminder.
		if !slices.Contains(offsets, secs(o)) {
			offsets = append(offsets, secs(o))
		}
		// Each offset is a job queued per confirmed booking: five reminders at most.
		if len(offsets) > 5 {
			return p, &booking.Error{Code: booking.EUNPROCESSABLE, Message: "reminder_offsets may name at most 5 different offsets.",
				Details: map[string]any{"field": "reminder_offsets", "max": 5}}
		}
	}
	now := db.now()
	var out booking.SitePolicy
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := db.policy(ctx, tx, p.SiteID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE site_policies SET confirm_needs_approval = $2, hold_lifetime_seconds = $3,
			challenge_window_seconds = $4, min_notice_seconds = $5, reminder_offsets_seconds = $6, updated_at = $7, overtime = $8
			WHERE site_id = $1`, p.SiteID, p.ConfirmNeedsApproval, secs(p.HoldLifetime), secs(p.ChallengeWindow),
			secs(p.MinNotice), offsets, now, p.Overtime); err != nil {
			return err
		}
		if out, err = db.policy(ctx, tx, p.SiteID); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "site_policy.updated", ObjectType: "site", ObjectID: p.SiteID.String(), Before: before, After: out})
	})
	return out, err
}

func firstDomainError(err error) error {
	var de *booking.Error
	if errors.As(err, &de) {
		return de
	}
	return err
}

// Book places a hold, or a confirmed booking on a free slot (managers and admins).
func (db *DB) Book(ctx context.Context, a booking.Actor, in booking.BookingInput) (booking.Booking, error) {
	if err := in.Validate(); err != nil {
		return booking.Booking{}, err
	}
	if in.Status == booking.StatusConfirmed && a.Role != booking.RoleAdmin && a.Role != booking.RoleManager {
		return booking.Booking{}, booking.Errorf(booking.EFORBIDDEN, "Only managers may book a confirmed slot directly; place a hold and confirm it.")
	}
	var out booking.Booking
	err := db.inTxRetry(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, err = db.bookTx(ctx, tx, a, in)
		return err
	})
	return out, err
}

// bookTx places one booking inside tx (Book, and a plan's acceptance, which books
// every stage in one transaction).
func (db *DB) bookTx(ctx context.Context, tx pgx.Tx, a booking.Actor, in booking.BookingInput) (booking.Booking, error) {
	var out booking.Booking
	if err := in.Validate(); err != nil {
		return out, err
	}
	err := func() error {
		now := db.now()
		sites, err := lockResources(ctx, tx, in.ResourceIDs)
		if err != nil {
			return err
		}
		if len(sites) != len(in.ResourceIDs) {
			return booking.Errorf(booking.ENOTFOUND, "No such resource.")
		}
		var siteID uuid.UUID
		for _, s := range sites {
			if siteID != uuid.Nil && s != siteID {
				return &booking.Error{Code: booking.EUNPROCESSABLE, Message: "The resources of one booking must be at one site.",
					Details: map[string]any{"field": "resource_ids"}}
			}
			siteID = s
		}
		if err := mayActAt(a, siteID); err != nil {
			return err
		}
		// The reads the checks need, in one round trip when the interval is known (two
		// when it is given in the site's wall clock, whose zone the first one reads):
		// first the production's, which no one may book for but its company and the hub.
		b := &pgx.Batch{}
		var org uuid.UUID
		var orgErr error
		b.Queue(`SELECT organisation_id FROM productions WHERE id = $1`, in.ProductionID).QueryRow(func(row pgx.Row) error {
			orgErr = row.Scan(&org)
			return nil
		})
		readRules := queueSiteRules(b, siteID)
		var readCal func() (booking.SiteCalendar, *calendar.Calendar, error)
		var readFree func() ([]conflict, error)
		var readFences func() ([]booking.RingFence, map[string]int, error)
		queueChecks := func(b *pgx.Batch) {
			readCal = queueSiteCalendar(b, siteID)
			readFree = queueCheckFree(b, in.ResourceIDs, in.Start, in.End, uuid.Nil, in.Status == booking.StatusConfirmed, true)
			readFences = queueFencesBooked(b, siteID, in.ResourceIDs)
		}
		if in.StartLocal == "" {
			queueChecks(b)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if orgErr != nil && orgErr != pgx.ErrNoRows {
			return orgErr // the database, not the production, is the trouble
		}
		if orgErr == pgx.ErrNoRows || (!a.SeesAllProductions() && org != a.OrganisationID) {
			return booking.Errorf(booking.ENOTFOUND, "No such production.")
		}
		site, err := readRules()
		if err != nil {
			return err
		}
		if in.StartLocal != "" {
			if in.Start, err = ParseLocal(site.Zone, in.StartLocal); err != nil {
				return err
			}
			if in.End, err = ParseLocal(site.Zone, in.EndLocal); err != nil {
				return err
			}
			if err := booking.ValidInterval(in.Start, in.End); err != nil {
				return err
			}
		}
		pol := site.Policy
		if err := checkNotice(a, pol, now, in.Start); err != nil {
			return err
		}
		if in.Overtime && a.Role == booking.RoleProducer && pol.Overtime == booking.OvertimeManagers {
			return &booking.Error{Code: booking.EFORBIDDEN, Message: "Only the site's managers book overtime here.", Details: map[string]any{"field": "overtime"}}
		}
		if readCal == nil {
			b := &pgx.Batch{}
			queueChecks(b)
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
		}
		_, cal, err := readCal()
		if err != nil {
			return err
		}
		warnings, err := workingTimeWarnings(cal, in.Start, in.End, in.Overtime)
		if err != nil {
			return err
		}
		pauses, err := readFree()
		if err != nil {
			return err
		}
		pw, err := checkPauses(ctx, tx, cal, in.Start, in.End, in.Overtime, pauses)
		if err != nil {
			return err
		}
		warnings = append(warnings, pw...)
		if err := checkTrainees(ctx, tx, in.ResourceIDs, in.Trainees); err != nil {
			return err
		}
		fences, counts, err := readFences()
		if err != nil {
			return err
		}
		if err := db.checkFencesBooked(ctx, tx, now, in.ProductionID, siteID, in.Start, in.End, uuid.Nil, fences, counts, cal); err != nil {
			return err
		}
		g := &groupRow{ProductionID: in.ProductionID, SiteID: siteID, OrganisationID: org, Status: in.Status,
			Start: in.Start, End: in.End, ResourceIDs: in.ResourceIDs, Overtime: in.Overtime, Version: 1}
		var expires *time.Time
		if in.Status == booking.StatusHold {
			var seq int64
			if err := tx.QueryRow(ctx, `SELECT nextval('hold_seq')`).Scan(&seq); err != nil {
				return err
			}
			g.HoldSeq = &seq
			e := booking.HoldExpiry(now, pol.HoldLifetime, g.Start)
			expires = &e
		}
		var creator *uuid.UUID
		if a.UserID != uuid.Nil {
			creator = &a.UserID
		}
		// The group and its rows in one round trip (the id is made here), with the
		// booking read back when nothing else is to change it.
		g.ID = uuid.New()
		confirmed := g.Status == booking.StatusConfirmed
		b = &pgx.Batch{}
		b.Queue(`INSERT INTO booking_groups (id, production_id, site_id, status, start_at, end_at, hold_seq,
				hold_expires_at, note, created_by, created_at, updated_at, time_zone, local_start, local_end, tz_version, overtime, trainees)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, nullif($9, ''), $10, $11, $11, $12, $13, $14, $15, $16, $17)`,
			g.ID, g.ProductionID, siteID, g.Status, g.Start, g.End, g.HoldSeq, expires, in.Note, creator, now,
			site.Zone, wallClock(site.Loc, g.Start), wallClock(site.Loc, g.End), calendar.TZVersion(), g.Overtime, in.Trainees)
		b.Queue(`INSERT INTO bookings (group_id, resource_id, production_id, status, during, hold_seq)
			SELECT $1, r, $3, $4, tstzrange($5, $6), $7 FROM unnest($2::uuid[]) WITH ORDINALITY AS x(r, i) ORDER BY i`,
			g.ID, in.ResourceIDs, g.ProductionID, g.Status, g.Start, g.End, g.HoldSeq)
		var after booking.Booking
		var afterErr error
		if confirmed {
			b.Queue(bookingSelect+` WHERE g.id = $1`, g.ID).QueryRow(func(row pgx.Row) error {
				after, afterErr = scanBooking(row)
				return nil
			})
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		ch := change{offsets: pol.ReminderOffsets, offsetsKnown: true}
		if !confirmed {
			ranks, err := db.recomputeRanks(ctx, tx, g.ResourceIDs, now, &ch, g.ID)
			if err != nil {
				return err
			}
			ch.events = append(ch.events, booking.Event{Kind: booking.EventHoldPlaced, BookingID: g.ID, ProductionID: g.ProductionID,
				SiteID: siteID, At: now, NewRank: ranks[g.ID]})
			if out, err = db.finish(ctx, tx, a, now, g.ID, "booking.created", nil, &ch); err != nil {
				return err
			}
		} else {
			if afterErr != nil {
				return notFound(afterErr, "booking")
			}
			ch.add(g, booking.EventConfirmed, now, "")
			out = after
			if err := db.finishLoaded(ctx, tx, a, now, after, "booking.created", nil, &ch); err != nil {
				return err
			}
		}
		out.Warnings = warnings
		return nil
	}()
	return out, err
}

// checkNotice refuses a start in the past, and for producers one sooner than the
// site's minimum notice.
func checkNotice(a booking.Actor, pol booking.SitePolicy, now, start time.Time) error {
	if start.Before(now) {
		return &booking.Error{Code: booking.EUNPROCESSABLE, Message: "start must be in the future.", Details: map[string]any{"field": "start"}}
	}
	if a.Role == booking.RoleProducer && start.Before(now.Add(time.Duration(pol.MinNotice))) {
		return &booking.Error{Code: booking.EUNPROCESSABLE, Message: "The site needs " + time.Duration(pol.MinNotice).String() + " notice.",
			Details: map[string]any{"field": "start", "min_notice": pol.MinNotice}}
	}
	return nil
}

// needsApproval says whether a producer's confirmation, or move of a confirmed
// booking, waits for a manager: where the site says so, and always for an overtime
// booking at a site whose overtime needs approval.
func needsApproval(a booking.Actor, pol booking.SitePolicy, g *groupRow) bool {
	return a.Role == booking.RoleProducer && (pol.ConfirmNeedsApproval || (g.Overtime && pol.Overtime == booking.OvertimeApproval))
}

// settleMove is a manager's answer to a producer's requested move of a confirmed
// booking: confirm makes the move (refused like any move if the slot is no longer
// free; the request then stays), decline drops it and the booking keeps its slot.
// With no move awaiting approval, there is nothing to settle (ECONFLICT).
func (db *DB) settleMove(ctx context.Context, tx pgx.Tx, a booking.Actor, g *groupRow, act booking.Action, opts booking.ActOptions, now time.Time) (booking.Booking, error) {
	var start, end *time.Time
	var resources []uuid.UUID
	if err := tx.QueryRow(ctx, `SELECT requested_start, requested_end, requested_resource_ids FROM booking_groups WHERE id = $1`, g.ID).
		Scan(&start, &end, &resources); err != nil {
		return booking.Booking{}, err
	}
	if start == nil {
		return booking.Booking{}, &booking.Error{Code: booking.ECONFLICT, Message: "No move of this booking awaits approval.",
			Details: map[string]any{"status": g.Status, "action": act}}
	}
	if act == booking.ActionConfirm {
		return db.rescheduleTx(ctx, tx, a, g.ID, booking.Move{Start: *start, End: *end, ResourceIDs: resources}, booking.ActOptions{Reason: opts.Reason})
	}
	before, err := db.loadBooking(ctx, tx, g.ID)
	if err != nil {
		return before, err
	}
	if _, err := tx.Exec(ctx, `UPDATE booking_groups SET requested_start = NULL, requested_end = NULL, requested_resource_ids = NULL, approval_requested_at = NULL,
		version = version + 1, updated_at = $2 WHERE id = $1`, g.ID, now); err != nil {
		return before, err
	}
	var ch change
	ch.add(g, booking.EventMoveDeclined, now, reasonOr(opts.Reason, "move declined"))
	return db.finish(ctx, tx, a, now, g.ID, "booking.move_declined", &before, &ch)
}

// Act takes an action on a booking.
func (db *DB) Act(ctx context.Context, a booking.Actor, id uuid.UUID, act booking.Action, opts booking.ActOptions) (booking.Booking, error) {
	if act == booking.ActionReschedule {
		return booking.Booking{}, booking.Errorf(booking.EINVALID, "Reschedule with new times.")
	}
	var out booking.Booking
	err := db.inTxRetry(ctx, func(ctx context.Context, tx pgx.Tx) error {
		now := db.now()
		g, err := db.loadGroup(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := precheck(a, g, act, opts); err != nil {
			return err
		}
		if g.Status == booking.StatusConfirmed && (act == booking.ActionConfirm || act == booking.ActionDecline) {
			out, err = db.settleMove(ctx, tx, a, g, act, opts, now)
			return err
		}
		before, err := db.loadBooking(ctx, tx, g.ID)
		if err != nil {
			return err
		}
		var ch change
		switch act {
		case booking.ActionConfirm:
			err = db.confirm(ctx, tx, a, g, now, &ch)
		case booking.ActionRelease:
			err = db.endHold(ctx, tx, g, booking.StatusReleased, booking.EventReleased, reasonOr(opts.Reason, "released"), now, &ch)
		case booking.ActionDecline:
			err = db.endHold(ctx, tx, g, booking.StatusDeclined, booking.EventDeclined, reasonOr(opts.Reason, "declined"), now, &ch)
		case booking.ActionCancel:
			err = db.setStatus(ctx, tx, g, booking.StatusCancelled, reasonOr(opts.Reason, "cancelled"), now)
			ch.add(g, booking.EventCancelled, now, opts.Reason)
		default:
			err = booking.Errorf(booking.EINVALID, "Unknown action %q.", act)
		}
		if err != nil {
			return err
		}
		out, err = db.finish(ctx, tx, a, now, g.ID, "booking."+string(act), &before, &ch)
		return err
	})
	return out, err
}

// precheck applies the lifecycle table, the site's management and If-Match.
func precheck(a booking.Actor, g *groupRow, act booking.Action, opts booking.ActOptions) error {
	if err := booking.CheckTransition(g.Status, act, a.Role); err != nil {
		return err
	}
	if err := mayActAt(a, g.SiteID); err != nil {
		return err
	}
	if opts.IfMatch != nil && *opts.IfMatch != g.Version {
		return &booking.Error{Code: booking.EPRECONDITION, Message: "The booking has changed since you read it.",
			Details: map[string]any{"version": g.Version}}
	}
	return nil
}

func reasonOr(reason, def string) string {
	if reason != "" {
		return reason
	}
	return def
}

// Reschedule moves a booking, all its resources together, to [start, end).
func (db *DB) Reschedule(ctx context.Context, a booking.Actor, id uuid.UUID, start, end time.Time, opts booking.ActOptions) (booking.Booking, error) {
	return db.Move(ctx, a, id, booking.Move{Start: start, End: end}, opts)
}

// Move changes a booking's interval, its resources or both.
func (db *DB) Move(ctx context.Context, a booking.Actor, id uuid.UUID, m booking.Move, opts booking.ActOptions) (booking.Booking, error) {
	if err := m.Validate(); err != nil {
		return booking.Booking{}, err
	}
	var out booking.Booking
	err := db.inTxRetry(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, err = db.rescheduleTx(ctx, tx, a, id, m, opts)
		return err
	})
	return out, err
}

// rescheduleTx moves a booking inside tx (Move, and a what-if re-plan, which moves
// many holds in one transaction): to a new interval, onto new resources of its site,
// or both. The resources it leaves and the ones it takes are locked under the one lock
// discipline, and every check a new booking passes is made against the new slot.
func (db *DB) rescheduleTx(ctx context.Context, tx pgx.Tx, a booking.Actor, id uuid.UUID, m booking.Move, opts booking.ActOptions) (booking.Booking, error) {
	var out booking.Booking
	if err := m.Validate(); err != nil {
		return out, err
	}
	err := func() error {
		now := db.now()
		g, err := db.loadGroup(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := precheck(a, g, booking.ActionReschedule, opts); err != nil {
			return err
		}
		resources := g.ResourceIDs
		if m.ResourceIDs != nil {
			sites, err := lockResources(ctx, tx, m.ResourceIDs)
			if err != nil {
				return err
			}
			if len(sites) != len(m.ResourceIDs) {
				return booking.Errorf(booking.ENOTFOUND, "No such resource.")
			}
			for _, s := range sites {
				if s != g.SiteID {
					return &booking.Error{Code: booking.EUNPROCESSABLE, Message: "A booking moves between resources of its own site only.",
						Details: map[string]any{"field": "resource_ids"}}
				}
			}
			resources = slices.Clone(m.ResourceIDs)
			slices.SortFunc(resources, func(x, y uuid.UUID) int { return bytes.Compare(x[:], y[:]) })
		}
		site, err := db.siteRules(ctx, tx, g.SiteID)
		if err != nil {
			return err
		}
		start, end := m.Start, m.End
		switch {
		case m.StartLocal != "":
			if start, err = ParseLocal(site.Zone, m.StartLocal); err != nil {
				return err
			}
			if end, err = ParseLocal(site.Zone, m.EndLocal); err != nil {
				return err
			}
			if err := booking.ValidInterval(start, end); err != nil {
				return err
			}
		case start.IsZero():
			start, end = g.Start, g.End
		}
		pol := site.Policy
		// A producer may move neither a booking that is about to start nor one into the
		// notice period.
		if err := checkNotice(a, pol, now, g.Start); err != nil {
			return err
		}
		if err := checkNotice(a, pol, now, start); err != nil {
			return err
		}
		warnings, cal, err := db.checkWorkingTime(ctx, tx, g.SiteID, start, end, g.Overtime)
		if err != nil {
			return err
		}
		pauses, err := checkFree(ctx, tx, resources, start, end, g.ID, g.Status == booking.StatusConfirmed, true)
		if err != nil {
			return err
		}
		pw, err := checkPauses(ctx, tx, cal, start, end, g.Overtime, pauses)
		if err != nil {
			return err
		}
		warnings = append(warnings, pw...)
		if m.ResourceIDs != nil {
			var trainees int
			if err := tx.QueryRow(ctx, `SELECT trainees FROM booking_groups WHERE id = $1`, g.ID).Scan(&trainees); err != nil {
				return err
			}
			if err := checkTrainees(ctx, tx, resources, trainees); err != nil {
				return err
			}
		}
		if err := db.checkRingFences(ctx, tx, now, g.ProductionID, g.SiteID, resources, start, end, g.ID); err != nil {
			return err
		}
		before, err := db.loadBooking(ctx, tx, g.ID)
		if err != nil {
			return err
		}
		var ch change
		if g.Status == booking.StatusConfirmed && needsApproval(a, pol, g) {
			// A producer's move of a confirmed booking where confirmations need a
			// manager is a request: the booking keeps its slot until a manager decides.
			if _, err := tx.Exec(ctx, `UPDATE booking_groups SET requested_start = $2, requested_end = $3, approval_requested_at = $4,
				requested_resource_ids = $5, version = version + 1, updated_at = $4 WHERE id = $1`,
				g.ID, start, end, now, m.ResourceIDs); err != nil {
				return err
			}
			ch.add(g, booking.EventApprovalRequested, now, "move to "+localString(site.Loc, start)+" – "+localString(site.Loc, end))
			if out, err = db.finish(ctx, tx, a, now, g.ID, "booking.move_requested", &before, &ch); err != nil {
				return err
			}
			out.Warnings = warnings
			return nil
		}
		seq := g.HoldSeq
		if g.Status == booking.StatusHold {
			// A moved hold joins the back of its new queue, and its challenge lapses.
			var next int64
			if err := tx.QueryRow(ctx, `SELECT nextval('hold_seq')`).Scan(&next); err != nil {
				return err
			}
			seq = &next
			if err := db.closeChallenges(ctx, tx, g, "withdrawn", now, &ch); err != nil {
				return err
			}
		}
		// A moved booking's working time is derived afresh: a review of the old one lapses;
		// so does a requested move, which this one settles.
		if _, err := tx.Exec(ctx, `UPDATE booking_groups SET start_at = $2, end_at = $3, hold_seq = $4,
			version = version + 1, updated_at = $5, time_zone = $6, local_start = $7, local_end = $8, tz_version = $9,
			working_time_review = NULL, working_time_review_at = NULL,
			approval_requested_at = CASE WHEN requested_start IS NULL THEN approval_requested_at END,
			requested_start = NULL, requested_end = NULL, requested_resource_ids = NULL,
			hold_expires_at = CASE WHEN hold_expires_at > $2 THEN $2 ELSE hold_expires_at END
			WHERE id = $1`, g.ID, start, end, seq, now, site.Zone, wallClock(site.Loc, start), wallClock(site.Loc, end),
			calendar.TZVersion()); err != nil {
			return err
		}
		// The rows of the resources it leaves go, those of the ones it takes come.
		if _, err := tx.Exec(ctx, `DELETE FROM bookings WHERE group_id = $1 AND NOT (resource_id = ANY($2))`, g.ID, resources); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE bookings SET during = tstzrange($2, $3), hold_seq = $4 WHERE group_id = $1`,
			g.ID, start, end, seq); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO bookings (group_id, resource_id, production_id, status, during, hold_seq)
			SELECT $1, r, $2, $3, tstzrange($4, $5), $6 FROM unnest($7::uuid[]) r
			WHERE NOT EXISTS (SELECT 1 FROM bookings WHERE group_id = $1 AND resource_id = r)`,
			g.ID, g.ProductionID, g.Status, start, end, seq, resources); err != nil {
			return formatError(err)
		}
		touched := slices.Compact(slices.SortedFunc(slices.Values(append(slices.Clone(g.ResourceIDs), resources...)),
			func(x, y uuid.UUID) int { return bytes.Compare(x[:], y[:]) }))
		g.Start, g.End, g.HoldSeq, g.ResourceIDs = start, end, seq, resources
		ch.add(g, booking.EventRescheduled, now, opts.Reason)
		moved := &ch.events[len(ch.events)-1]
		moved.PreviousStart, moved.PreviousEnd, moved.Replan = before.Start, before.End, opts.Replan
		if g.Status == booking.StatusHold {
			if _, err := db.recomputeRanks(ctx, tx, touched, now, &ch, uuid.Nil); err != nil {
				return err
			}
			if err := db.settleChallenges(ctx, tx, touched, now, &ch); err != nil {
				return err
			}
		}
		if out, err = db.finish(ctx, tx, a, now, g.ID, "booking.rescheduled", &before, &ch); err != nil {
			return err
		}
		out.Warnings = warnings
		return err
	}()
	return out, err
}

// confirm is the confirm action: a challenge when holds are ahead, an approval request
// when the site wants one for a producer, else the confirmation itself.
func (db *DB) confirm(ctx context.Context, tx pgx.Tx, a booking.Actor, g *groupRow, now time.Time, ch *change) error {
	pol, err := db.policy(ctx, tx, g.SiteID)
	if err != nil {
		return err
	}
	needsApproval := needsApproval(a, pol, g)
	ahead, err := aheadOf(ctx, tx, g)
	if err != nil {
		return err
	}
	if len(ahead) > 0 {
		var open bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM challenges WHERE challenger_id = $1 AND status = 'open')`, g.ID).Scan(&open); err != nil || open {
			return err // already challenging: nothing more to do
		}
		// The window counts working time at the site and ends before g's slot starts;
		// a slot too close to answer in is refused (booking.ChallengeDeadline).
		deadline, err := db.challengeDeadline(ctx, tx, g, pol.ChallengeWindow, now)
		if err != nil {
			return err
		}
		var cid uuid.UUID
		if err := tx.QueryRow(ctx, `INSERT INTO challenges (challenger_id, status, deadline, needs_approval, created_at)
			VALUES ($1, 'open', $2, $3, $4) RETURNING id`, g.ID, deadline, needsApproval, now).Scan(&cid); err != nil {
			return err
		}
		ch.events = append(ch.events, booking.Event{Kind: booking.EventChallengeOpened, BookingID: g.ID, ProductionID: g.ProductionID,
			SiteID: g.SiteID, At: now, ChallengeID: cid})
		for _, t := range ahead {
			if _, err := tx.Exec(ctx, `INSERT INTO challenge_targets (challenge_id, group_id) VALUES ($1, $2)`, cid, t.ID); err != nil {
				return err
			}
			ch.events = append(ch.events, booking.Event{Kind: booking.EventChallengeReceived, BookingID: t.ID, ProductionID: t.ProductionID,
				SiteID: t.SiteID, At: now, ChallengeID: cid})
		}
		return bumpVersion(ctx, tx, g.ID, now)
	}
	if needsApproval {
		if g.ApprovalRequested {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE booking_groups SET approval_requested_at = $2, version = version + 1, updated_at = $2 WHERE id = $1`, g.ID, now); err != nil {
			return err
		}
		ch.add(g, booking.EventApprovalRequested, now, "")
		return nil
	}
	return db.confirmNow(ctx, tx, g, now, ch)
}

func bumpVersion(ctx context.Context, tx pgx.Tx, id uuid.UUID, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE booking_groups SET version = version + 1, updated_at = $2 WHERE id = $1`, id, now)
	return err
}

// aheadOf returns the other active holds that overlap g on its resources and were
// placed before it: the holds a confirmation must get past.
func aheadOf(ctx context.Context, tx pgx.Tx, g *groupRow) ([]groupRow, error) {
	if g.HoldSeq == nil {
		return nil, nil
	}
	rows, _ := tx.Query(ctx, `SELECT DISTINCT g.id, g.production_id, g.site_id FROM bookings b JOIN booking_groups g ON g.id = b.group_id
		WHERE b.resource_id = ANY($1) AND b.status = 'hold' AND b.during && tstzrange($2, $3) AND b.hold_seq < $4 AND b.group_id <> $5
		ORDER BY g.id`, g.ResourceIDs, g.Start, g.End, *g.HoldSeq, g.ID)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (groupRow, error) {
		var x groupRow
		err := r.Scan(&x.ID, &x.ProductionID, &x.SiteID)
		return x, err
	})
}

// confirmNow confirms g on a slot free of confirmed bookings and blocks. The holds
// behind it that overlap it lose the slot: they are released as superseded.
func (db *DB) confirmNow(ctx context.Context, tx pgx.Tx, g *groupRow, now time.Time, ch *change) error {
	if _, err := checkFree(ctx, tx, g.ResourceIDs, g.Start, g.End, g.ID, false, true); err != nil {
		return err
	}
	if err := db.setStatus(ctx, tx, g, booking.StatusConfirmed, "", now); err != nil {
		return err
	}
	ch.add(g, booking.EventConfirmed, now, "")
	if err := db.closeChallenges(ctx, tx, g, "won", now, ch); err != nil {
		return err
	}
	rows, _ := tx.Query(ctx, `SELECT DISTINCT group_id FROM bookings
		WHERE resource_id = ANY($1) AND status = 'hold' AND during && tstzrange($2, $3) AND group_id <> $4 ORDER BY group_id`,
		g.ResourceIDs, g.Start, g.End, g.ID)
	behind, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return err
	}
	touched := append([]uuid.UUID(nil), g.ResourceIDs...)
	for _, id := range behind {
		var others []uuid.UUID
		if err := tx.QueryRow(ctx, `SELECT array(SELECT resource_id FROM bookings WHERE group_id = $1 ORDER BY resource_id)`, id).Scan(&others); err != nil {
			return err
		}
		if _, err := lockResources(ctx, tx, others); err != nil {
			return err
		}
		b, err := lockedGroup(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := db.closeChallenges(ctx, tx, b, "lost", now, ch); err != nil {
			return err
		}
		if err := db.setStatus(ctx, tx, b, booking.StatusReleased, "superseded", now); err != nil {
			return err
		}
		ch.add(b, booking.EventReleased, now, "superseded")
		touched = append(touched, others...)
	}
	if _, err := db.recomputeRanks(ctx, tx, touched, now, ch, uuid.Nil); err != nil {
		return err
	}
	// The superseded holds may have stood in the way of other challengers.
	if len(behind) == 0 {
		return nil
	}
	return db.settleChallenges(ctx, tx, touched, now, ch)
}

// endHold ends a hold (released, declined, expired): its challenge lapses, the holds
// behind move up, and challenges it stood in the way of may now be won.
func (db *DB) endHold(ctx context.Context, tx pgx.Tx, g *groupRow, status booking.Status, kind booking.EventKind, reason string, now time.Time, ch *change) error {
	if err := db.closeChallenges(ctx, tx, g, "withdrawn", now, ch); err != nil {
		return err
	}
	if err := db.setStatus(ctx, tx, g, status, reason, now); err != nil {
		return err
	}
	ch.add(g, kind, now, reason)
	if _, err := db.recomputeRanks(ctx, tx, g.ResourceIDs, now, ch, uuid.Nil); err != nil {
		return err
	}
	return db.settleChallenges(ctx, tx, g.ResourceIDs, now, ch)
}

// closeChallenges ends g's open challenge as won, lost or withdrawn.
func (db *DB) closeChallenges(ctx context.Context, tx pgx.Tx, g *groupRow, outcome string, now time.Time, ch *change) error {
	var cid uuid.UUID
	err := tx.QueryRow(ctx, `UPDATE challenges SET status = $2, resolved_at = $3 WHERE challenger_id = $1 AND status = 'open' RETURNING id`,
		g.ID, outcome, now).Scan(&cid)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err != nil {
		return err
	}
	switch outcome {
	case "won":
		ch.events = append(ch.events, booking.Event{Kind: booking.EventChallengeWon, BookingID: g.ID, ProductionID: g.ProductionID, SiteID: g.SiteID, At: now, ChallengeID: cid})
	case "lost":
		ch.events = append(ch.events, booking.Event{Kind: booking.EventChallengeLost, BookingID: g.ID, ProductionID: g.ProductionID, SiteID: g.SiteID, At: now, ChallengeID: cid})
	}
	return nil
}

// settleChallenges wins the open challenges of holds on the resources that no longer
// have any hold ahead of them: everyone ahead released, declined, expired or moved.
func (db *DB) settleChallenges(ctx context.Context, tx pgx.Tx, resources []uuid.UUID, now time.Time, ch *change) error {
	rows, _ := tx.Query(ctx, `SELECT DISTINCT c.challenger_id, c.needs_approval FROM challenges c JOIN bookings b ON b.group_id = c.challenger_id
		WHERE c.status = 'open' AND b.resource_id = ANY($1) ORDER BY c.challenger_id`, resources)
	type open struct {
		ID            uuid.UUID
		NeedsApproval bool
	}
	opens, err := pgx.CollectRows(rows, pgx.RowToStructByPos[open])
	if err != nil {
		return err
	}
	for _, o := range opens {
		var others []uuid.UUID
		if err := tx.QueryRow(ctx, `SELECT array(SELECT resource_id FROM bookings WHERE group_id = $1 ORDER BY resource_id)`, o.ID).Scan(&others); err != nil {
			return err
		}
		if _, err := lockResources(ctx, tx, others); err != nil {
			return err
		}
		g, err := lockedGroup(ctx, tx, o.ID)
		if err != nil {
			return err
		}
		// An earlier win in this loop may have superseded this challenger (closing its
		// challenge as lost) or settled it already.
		var open bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM challenges WHERE challenger_id = $1 AND status = 'open')`, g.ID).Scan(&open); err != nil {
			return err
		}
		if !open || g.Status != booking.StatusHold {
			continue
		}
		ahead, err := aheadOf(ctx, tx, g)
		if err != nil {
			return err
		}
		if len(ahead) > 0 {
			continue // still waiting; the others may be clear
		}
		if err := db.winChallenge(ctx, tx, g, o.NeedsApproval, now, ch); err != nil {
			return err
		}
	}
	return nil
}

// winChallenge confirms a challenger whose way is clear, or, where the site wants
// approval of a producer's confirmation, turns it into an approval request.
func (db *DB) winChallenge(ctx context.Context, tx pgx.Tx, g *groupRow, needsApproval bool, now time.Time, ch *change) error {
	if !needsApproval {
		return db.confirmNow(ctx, tx, g, now, ch)
	}
	if err := db.closeChallenges(ctx, tx, g, "won", now, ch); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE booking_groups SET approval_requested_at = $2, version = version + 1, updated_at = $2 WHERE id = $1`, g.ID, now); err != nil {
		return err
	}
	ch.add(g, booking.EventApprovalRequested, now, "")
	return nil
}

// setStatus moves a group and its bookings to status together.
func (db *DB) setStatus(ctx context.Context, tx pgx.Tx, g *groupRow, status booking.Status, reason string, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE booking_groups SET status = $2, status_reason = nullif($3, ''), hold_seq = NULL,
		hold_expires_at = NULL, approval_requested_at = NULL, version = version + 1, updated_at = $4 WHERE id = $1`,
		g.ID, status, reason, now); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE bookings SET status = $2, hold_seq = NULL, rank = NULL WHERE group_id = $1`, g.ID, status); err != nil {
		return err
	}
	g.Status, g.HoldSeq = status, nil
	return nil
}

// recomputeRanks recomputes the hold queues of the resources, stores the ranks that
// moved and raises rank_changed for each booking whose rank (its worst resource's)
// moved; quiet is a booking that should not be told (it was just placed). It returns
// the new booking ranks.
func (db *DB) recomputeRanks(ctx context.Context, tx pgx.Tx, resources []uuid.UUID, now time.Time, ch *change, quiet uuid.UUID) (map[uuid.UUID]int, error) {
	type row struct {
		ID, GroupID, ResourceID uuid.UUID
		Seq                     int64
		Start, End              time.Time
		Rank                    int
	}
	rows, _ := tx.Query(ctx, `SELECT b.id, b.group_id, b.resource_id, b.hold_seq, lower(b.during), upper(b.during), coalesce(b.rank, 0)
		FROM bookings b WHERE b.resource_id = ANY($1) AND b.status = 'hold'`, resources)
	holds, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		return nil, err
	}
	byResource := map[uuid.UUID][]booking.HoldRef{}
	for _, h := range holds {
		byResource[h.ResourceID] = append(byResource[h.ResourceID], booking.HoldRef{ID: h.ID, Seq: h.Seq, Start: h.Start, End: h.End})
	}
	ranks := map[uuid.UUID]int{}
	for _, hs := range byResource {
		for id, r := range booking.Ranks(hs) {
			ranks[id] = r
		}
	}
	var changed, groups []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, h := range holds {
		if ranks[h.ID] != h.Rank {
			changed = append(changed, h.ID)
			if !seen[h.GroupID] {
				seen[h.GroupID] = true
				groups = append(groups, h.GroupID)
			}
		}
	}
	before, err := groupRanks(ctx, tx, groups)
	if err != nil {
		return nil, err
	}
	for _, id := range changed {
		if _, err := tx.Exec(ctx, `UPDATE bookings SET rank = $2 WHERE id = $1`, id, ranks[id]); err != nil {
			return nil, err
		}
	}
	after, err := groupRanks(ctx, tx, groups)
	if err != nil {
		return nil, err
	}
	out := map[uuid.UUID]int{}
	for _, gid := range groups {
		r := after[gid]
		out[gid] = r.Rank
		if gid != quiet && r.Rank != before[gid].Rank {
			ch.events = append(ch.events, booking.Event{Kind: booking.EventRankChanged, BookingID: gid, ProductionID: r.ProductionID,
				SiteID: r.SiteID, At: now, OldRank: before[gid].Rank, NewRank: r.Rank})
		}
	}
	return out, nil
}

type groupRank struct {
	GroupID, ProductionID, SiteID uuid.UUID
	Rank                          int
}

// groupRanks reads the rank of each group: its worst place in any of its resources'
// queues.
func groupRanks(ctx context.Context, tx pgx.Tx, groups []uuid.UUID) (map[uuid.UUID]groupRank, error) {
	rows, _ := tx.Query(ctx, `SELECT g.id, g.production_id, g.site_id, coalesce(max(b.rank), 0)
		FROM booking_groups g JOIN bookings b ON b.group_id = g.id WHERE g.id = ANY($1) GROUP BY g.id`, groups)
	rs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[groupRank])
	out := map[uuid.UUID]groupRank{}
	for _, r := range rs {
		out[r.GroupID] = r
	}
	return out, err
}
