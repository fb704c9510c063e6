package postgres

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
)

// BookingSelect is the query every booking read starts from; posthub-drill's pgbench
// mirror of the booking transaction sends it as it is.
const BookingSelect = bookingSelect

// bookingSelect reads bookings with their resources and challenges.
const bookingSelect = `
	SELECT g.id, g.production_id, g.site_id, g.status, g.start_at, g.end_at,
	       coalesce((SELECT max(rank) FROM bookings WHERE group_id = g.id), 0),
	       g.hold_expires_at, g.approval_requested_at IS NOT NULL, coalesce(g.status_reason, ''), coalesce(g.note, ''),
	       g.version, g.created_at, g.updated_at,
	       coalesce(g.time_zone, ''), g.local_start, g.local_end, coalesce(g.tz_version, ''),
	       (SELECT json_agg(json_build_object('booking_id', b.id, 'resource_id', b.resource_id, 'rank', coalesce(b.rank, 0)) ORDER BY b.resource_id)
	          FROM bookings b WHERE b.group_id = g.id),
	       (SELECT json_build_object('id', c.id, 'deadline', c.deadline, 'status', c.status)
	          FROM challenges c WHERE c.challenger_id = g.id AND c.status = 'open'),
	       (SELECT json_agg(json_build_object('id', c.id, 'deadline', c.deadline, 'status', c.status) ORDER BY c.deadline)
	          FROM challenge_targets t JOIN challenges c ON c.id = t.challenge_id WHERE t.group_id = g.id AND c.status = 'open'),
	       g.trainees, g.overtime, coalesce(g.working_time_review, ''), g.working_time_review_at, g.requested_start, g.requested_end, g.requested_resource_ids
	FROM booking_groups g JOIN productions p ON p.id = g.production_id`

func scanBooking(row pgx.Row) (booking.Booking, error) {
	var b booking.Booking
	var ls, le *time.Time
	err := row.Scan(&b.ID, &b.ProductionID, &b.SiteID, &b.Status, &b.Start, &b.End, &b.Rank, &b.HoldExpiresAt,
		&b.ApprovalPending, &b.StatusReason, &b.Note, &b.Version, &b.CreatedAt, &b.UpdatedAt,
		&b.TimeZone, &ls, &le, &b.TZVersion,
		&b.Resources, &b.Challenge, &b.ChallengedBy, &b.Trainees, &b.Overtime, &b.WorkingTimeReview, &b.WorkingTimeReviewAt, &b.RequestedStart, &b.RequestedEnd, &b.RequestedResourceIDs)
	b.Start, b.End = b.Start.UTC(), b.End.UTC()
	b.StartLocal, b.EndLocal = formatStoredLocal(ls, b.Start), formatStoredLocal(le, b.End)
	return b, err
}

func (db *DB) loadBooking(ctx context.Context, tx pgx.Tx, id uuid.UUID) (booking.Booking, error) {
	b, err := scanBooking(tx.QueryRow(ctx, bookingSelect+` WHERE g.id = $1`, id))
	return b, notFound(err, "booking")
}

// finish ends a booking transaction: it reads the booking as it now is, audits the
// change with its before and after, and hands the events to the sink.
func (db *DB) finish(ctx context.Context, tx pgx.Tx, a booking.Actor, now time.Time, id uuid.UUID, action string, before *booking.Booking, ch *change) (booking.Booking, error) {
	after, err := db.loadBooking(ctx, tx, id)
	if err != nil {
		return after, err
	}
	return after, db.finishLoaded(ctx, tx, a, now, after, action, before, ch)
}

// finishLoaded is finish with the booking already read as it now is: the audit row
// and the change log rows go in one round trip.
func (db *DB) finishLoaded(ctx context.Context, tx pgx.Tx, a booking.Actor, now time.Time, after booking.Booking, action string, before *booking.Booking, ch *change) error {
	var bf any
	if before != nil {
		bf = before
	}
	if ch.actor == uuid.Nil {
		ch.actor = a.UserID
	}
	if ch.offsetsKnown {
		st := &booking.FollowUpState{BookingID: after.ID, Status: after.Status, Start: after.Start, End: after.End,
			HoldExpiresAt: copyTime(after.HoldExpiresAt), ReminderOffsets: ch.offsets}
		if after.Challenge != nil && after.Challenge.Status == "open" {
			d := after.Challenge.Deadline
			st.ChallengeDeadline = &d
		}
		ch.state = st
	}
	b := &pgx.Batch{}
	queueAudit(ctx, b, a, now, auditEvent{Action: action, ObjectType: "booking", ObjectID: after.ID.String(), Before: bf, After: after})
	queueLogChanges(b, ch)
	if ch.state != nil && db.OnEvents != nil {
		// The due notices of the state the sink is handed as known (it reads back,
		// and writes the notices of, the others): in this round trip, dropping those
		// of the booking's earlier state — a new booking has none.
		if before != nil {
			b.Queue(deleteDueSQL, []uuid.UUID{after.ID})
		}
		queueDueNotices(b, booking.DueNotices(*ch.state, now))
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	return db.raise(ctx, tx, ch)
}

// eventBatch holds the events of one action's transaction until it ends: an action
// that changes several bookings (a plan accepted or confirmed, a re-plan applied) makes
// a change per booking, and the sink hears them together, once, so the notices can tell
// each person of the action once. inTxRetry opens one for every transaction it runs.
type eventBatch struct {
	tx     pgx.Tx
	events []booking.Event
	// changes counts the changes raised; state is the follow-up state the only one
	// knew, which the sink then need not read back (with several changes, a later one
	// may have changed a booking an earlier one knew, so the sink reads them all).
	changes int
	state   *booking.FollowUpState
}

type eventBatchKey struct{}

// withEventBatch gives tx's changes under ctx a batch, which flushEvents hands on.
func withEventBatch(ctx context.Context, tx pgx.Tx) (context.Context, *eventBatch) {
	b := &eventBatch{tx: tx}
	return context.WithValue(ctx, eventBatchKey{}, b), b
}

// flushEvents hands the batch's events to the sink, at the end of its transaction.
func (db *DB) flushEvents(ctx context.Context, b *eventBatch) error {
	if len(b.events) == 0 {
		return nil
	}
	events := b.events
	var known *booking.FollowUpState
	if b.changes == 1 {
		known = b.state
	}
	b.events, b.changes, b.state = nil, 0, nil
	return db.sink(ctx, b.tx, events, known)
}

// emit logs the bookings the change touched (the change log live views follow) and
// hands the change's events, stamped with its actor, to the sink: at the end of the
// transaction when it runs under inTxRetry (one action, heard at once), else now.
func (db *DB) emit(ctx context.Context, tx pgx.Tx, ch *change) error {
	if err := logChanges(ctx, tx, ch); err != nil {
		return err
	}
	return db.raise(ctx, tx, ch)
}

// raise is emit once the change log has the change.
func (db *DB) raise(ctx context.Context, tx pgx.Tx, ch *change) error {
	for i := range ch.events {
		if ch.events[i].Actor == uuid.Nil {
			ch.events[i].Actor = ch.actor
		}
	}
	b, batched := ctx.Value(eventBatchKey{}).(*eventBatch)
	batched = batched && b.tx == tx
	if batched {
		b.changes++ // with or without events: it may have changed a booking
		b.state = ch.state
	}
	if db.OnEvents == nil || len(ch.events) == 0 {
		return nil
	}
	if batched {
		b.events = append(b.events, ch.events...)
		return nil
	}
	return db.sink(ctx, tx, ch.events, ch.state)
}

// sink hands events to OnEvents, those that act on their booking with its state as
// the transaction left it, so the sink can schedule the follow-ups in the same
// transaction. known is a booking's state the transaction knows already (nil: none),
// which is not read again.
func (db *DB) sink(ctx context.Context, tx pgx.Tx, events []booking.Event, known *booking.FollowUpState) error {
	states := map[uuid.UUID]*booking.FollowUpState{}
	if known != nil {
		states[known.BookingID] = known
	}
	var ids []uuid.UUID
	for _, e := range events {
		if e.Kind.ActsOnBooking() && states[e.BookingID] == nil && !slices.Contains(ids, e.BookingID) {
			ids = append(ids, e.BookingID)
		}
	}
	if len(ids) > 0 {
		// The bookings' state as the transaction leaves it, dropping the due notices
		// their earlier state called for; those of this state are written below.
		rows, _ := tx.Query(ctx, `WITH dropped AS (`+deleteDueSQL+`)
			SELECT g.id, g.status, g.start_at, g.end_at, g.hold_expires_at,
				(SELECT c.deadline FROM challenges c WHERE c.challenger_id = g.id AND c.status = 'open'),
				p.reminder_offsets_seconds
			FROM booking_groups g JOIN site_policies p ON p.site_id = g.site_id WHERE g.id = ANY($1)`, ids)
		var st booking.FollowUpState
		var expires, deadline *time.Time
		var offsets []int
		if _, err := pgx.ForEachRow(rows, []any{&st.BookingID, &st.Status, &st.Start, &st.End, &expires, &deadline, &offsets}, func() error {
			s := st
			s.HoldExpiresAt, s.ChallengeDeadline = copyTime(expires), copyTime(deadline)
			s.ReminderOffsets = reminderOffsets(offsets)
			states[s.BookingID] = &s
			return nil
		}); err != nil {
			return err
		}
		var due []booking.DueNotice
		now := db.now()
		for _, id := range ids {
			if s := states[id]; s != nil {
				due = append(due, booking.DueNotices(*s, now)...)
			}
		}
		if len(due) > 0 {
			b := &pgx.Batch{}
			queueDueNotices(b, due)
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
		}
	}
	for i := range events {
		events[i].State = states[events[i].BookingID]
	}
	return db.OnEvents(ctx, tx, events)
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := *t
	return &v
}

// FindBooking returns ENOTFOUND for a booking the actor may not see.
func (db *DB) FindBooking(ctx context.Context, a booking.Actor, id uuid.UUID) (booking.Booking, error) {
	b, err := scanBooking(db.Pool.QueryRow(ctx, bookingSelect+` WHERE g.id = $1 AND ($2::uuid IS NULL OR p.organisation_id = $2)`, id, confinedTo(a)))
	return b, notFound(err, "booking")
}

// ListBookings lists the bookings the actor may see, by start; a producer listing a
// resource also gets other productions' active bookings on it as busy intervals.
func (db *DB) ListBookings(ctx context.Context, a booking.Actor, f booking.BookingFilter) ([]booking.Booking, []booking.Busy, string, error) {
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var afterStart *time.Time
	var afterID *uuid.UUID
	if f.Cursor != "" {
		t, id, err := decodeBookingCursor(f.Cursor)
		if err != nil {
			return nil, nil, "", err
		}
		afterStart, afterID = &t, &id
	}
	statuses := make([]string, len(f.Status))
	for i, s := range f.Status {
		statuses[i] = string(s)
	}
	rows, _ := db.Pool.Query(ctx, bookingSelect+`
		WHERE ($1::uuid IS NULL OR p.organisation_id = $1)
		  AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM bookings b WHERE b.group_id = g.id AND b.resource_id = $2))
		  AND ($3::uuid IS NULL OR g.production_id = $3)
		  AND ($4::uuid IS NULL OR g.site_id = $4)
		  AND (cardinality($5::text[]) = 0 OR g.status = ANY($5))
		  AND ($6::timestamptz IS NULL OR g.end_at > $6)
		  AND ($7::timestamptz IS NULL OR g.start_at < $7)
		  AND ($8::timestamptz IS NULL OR (g.start_at, g.id) > ($8, $9))
		  AND (NOT $11 OR g.working_time_review_at IS NOT NULL)
		ORDER BY g.start_at, g.id
		LIMIT $10`,
		confinedTo(a), f.ResourceID, f.ProductionID, f.SiteID, statuses, f.From, f.To, afterStart, afterID, limit+1, f.NeedsReview)
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Booking, error) { return scanBooking(r) })
	if err != nil {
		return nil, nil, "", formatError(err)
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		next = encodeBookingCursor(last.Start, last.ID)
	}
	var busy []booking.Busy
	if f.ResourceID != nil && !a.SeesAllProductions() {
		rows, _ := db.Pool.Query(ctx, `SELECT b.resource_id, lower(b.during), upper(b.during), true
			FROM bookings b JOIN productions p ON p.id = b.production_id
			WHERE b.resource_id = $1 AND b.status IN ('hold', 'confirmed') AND p.organisation_id <> $2
			  AND ($3::timestamptz IS NULL OR upper(b.during) > $3) AND ($4::timestamptz IS NULL OR lower(b.during) < $4)
			ORDER BY lower(b.during) LIMIT 1000`, *f.ResourceID, a.OrganisationID, f.From, f.To)
		if busy, err = pgx.CollectRows(rows, pgx.RowToStructByPos[booking.Busy]); err != nil {
			return nil, nil, "", formatError(err)
		}
	}
	return items, busy, next, nil
}

func encodeBookingCursor(t time.Time, id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t.UTC().Format(time.RFC3339Nano) + "|" + id.String()))
}

func decodeBookingCursor(c string) (time.Time, uuid.UUID, error) {
	bad := &booking.Error{Code: booking.EINVALID, Message: "cursor is not valid.", Details: map[string]any{"parameter": "cursor"}}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, uuid.Nil, bad
	}
	ts, ids, ok := strings.Cut(string(raw), "|")
	t, err1 := time.Parse(time.RFC3339Nano, ts)
	id, err2 := uuid.Parse(ids)
	if !ok || err1 != nil || err2 != nil {
		return time.Time{}, uuid.Nil, bad
	}
	return t, id, nil
}

// ProcessDue expires holds past their lifetime, settles challenges past their
// deadline and completes confirmed bookings that have ended. Each booking is handled
// in a transaction of its own, so one failure does not hold the others back.
func (db *DB) ProcessDue(ctx context.Context, now time.Time) (booking.DueResult, error) {
	var res booking.DueResult
	// Holds that are challenging or awaiting approval wait for that to end.
	// A hold whose slot has begun can no longer be confirmed, so it expires whatever
	// it was waiting for.
	rows, _ := db.Pool.Query(ctx, `SELECT id FROM booking_groups g WHERE status = 'hold' AND (start_at <= $1 OR (hold_expires_at <= $1
		AND approval_requested_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM challenges c WHERE c.challenger_id = g.id AND c.status = 'open')))
		ORDER BY hold_expires_at LIMIT 1000`, now)
	expiring, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return res, formatError(err)
	}
	for _, id := range expiring {
		// Counted after the commit: a retried transaction must not count twice.
		expired := false
		err := db.inTxRetry(ctx, func(ctx context.Context, tx pgx.Tx) error {
			expired = false
			g, err := db.loadGroup(ctx, tx, booking.System, id)
			if err != nil || g.Status != booking.StatusHold {
				return err
			}
			before, err := db.loadBooking(ctx, tx, id)
			if err != nil {
				return err
			}
			var ch change
			if err := db.endHold(ctx, tx, g, booking.StatusExpired, booking.EventExpired, "hold lifetime passed", now, &ch); err != nil {
				return err
			}
			expired = true
			_, err = db.finish(ctx, tx, booking.System, now, id, "booking.expired", &before, &ch)
			return err
		})
		if err != nil {
			return res, err
		}
		if expired {
			res.Expired++
		}
	}

	rows, _ = db.Pool.Query(ctx, `SELECT id FROM challenges WHERE status = 'open' AND deadline <= $1 ORDER BY deadline LIMIT 1000`, now)
	due, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return res, formatError(err)
	}
	for _, cid := range due {
		settled := false
		if err := db.inTxRetry(ctx, func(ctx context.Context, tx pgx.Tx) error {
			settled = false
			return db.settleDeadline(ctx, tx, cid, now, &settled)
		}); err != nil {
			return res, err
		}
		if settled {
			res.ChallengesSettled++
		}
	}

	// Completion in batches, a transaction each, so a backlog (after downtime) is
	// worked off within the job's timeout instead of rolling back as one.
	for {
		n, err := db.completeBatch(ctx, now, completionBatch)
		res.Completed += n
		if err != nil || n < completionBatch {
			return res, err
		}
	}
}

// completionBatch is how many ended bookings one transaction completes.
const completionBatch = 200

// completeBatch completes up to limit confirmed bookings that have ended.
func (db *DB) completeBatch(ctx context.Context, now time.Time, limit int) (int, error) {
	completed := 0
	err := db.inTxRetry(ctx, func(ctx context.Context, tx pgx.Tx) error {
		completed = 0
		rows, _ := tx.Query(ctx, `UPDATE booking_groups SET status = 'completed', version = version + 1, updated_at = $1
			WHERE id IN (SELECT id FROM booking_groups WHERE status = 'confirmed' AND end_at <= $1 ORDER BY end_at, id
				LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED)
			RETURNING id, production_id, site_id`, now, limit)
		var ch change
		done, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (groupRow, error) {
			var g groupRow
			err := r.Scan(&g.ID, &g.ProductionID, &g.SiteID)
			return g, err
		})
		if err != nil {
			return err
		}
		for i := range done {
			if _, err := tx.Exec(ctx, `UPDATE bookings SET status = 'completed' WHERE group_id = $1`, done[i].ID); err != nil {
				return err
			}
			after, err := db.loadBooking(ctx, tx, done[i].ID)
			if err != nil {
				return err
			}
			if err := audit(ctx, tx, booking.System, now, auditEvent{Action: "booking.completed", ObjectType: "booking",
				ObjectID: done[i].ID.String(), After: after}); err != nil {
				return err
			}
			ch.add(&done[i], booking.EventCompleted, now, "")
		}
		completed = len(done)
		return db.emit(ctx, tx, &ch)
	})
	return completed, err
}

// settleDeadline ends a challenge at its deadline: the holds ahead that did not answer
// are released, and the challenger is confirmed (or its approval requested).
func (db *DB) settleDeadline(ctx context.Context, tx pgx.Tx, cid uuid.UUID, now time.Time, settled *bool) error {
	var challenger uuid.UUID
	var needsApproval bool
	var status string
	if err := tx.QueryRow(ctx, `SELECT challenger_id, needs_approval, status FROM challenges WHERE id = $1`, cid).
		Scan(&challenger, &needsApproval, &status); err != nil || status != "open" {
		return err
	}
	rows, _ := tx.Query(ctx, `SELECT DISTINCT b.resource_id FROM bookings b
		WHERE b.group_id = $1 OR b.group_id IN (SELECT group_id FROM challenge_targets WHERE challenge_id = $2)`, challenger, cid)
	resources, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return err
	}
	if _, err := lockResources(ctx, tx, resources); err != nil {
		return err
	}
	g, err := lockedGroup(ctx, tx, challenger)
	if err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, `SELECT status FROM challenges WHERE id = $1`, cid).Scan(&status); err != nil || status != "open" {
		return err
	}
	before, err := db.loadBooking(ctx, tx, challenger)
	if err != nil {
		return err
	}
	var ch change
	ahead, err := aheadOf(ctx, tx, g)
	if err != nil {
		return err
	}
	for _, t := range ahead {
		tg, err := lockedGroup(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		tb, err := db.loadBooking(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		if err := db.closeChallenges(ctx, tx, tg, "withdrawn", now, &ch); err != nil {
			return err
		}
		if err := db.setStatus(ctx, tx, tg, booking.StatusReleased, "challenge deadline passed", now); err != nil {
			return err
		}
		ch.add(tg, booking.EventReleased, now, "challenge deadline passed")
		ta, err := db.loadBooking(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, booking.System, now, auditEvent{Action: "booking.released", ObjectType: "booking", ObjectID: t.ID.String(), Before: tb, After: ta}); err != nil {
			return err
		}
	}
	if _, err := db.recomputeRanks(ctx, tx, resources, now, &ch, uuid.Nil); err != nil {
		return err
	}
	if err := db.winChallenge(ctx, tx, g, needsApproval, now, &ch); err != nil {
		return err
	}
	// The holds released here may have stood in the way of other challengers too.
	if err := db.settleChallenges(ctx, tx, resources, now, &ch); err != nil {
		return err
	}
	*settled = true
	_, err = db.finish(ctx, tx, booking.System, now, challenger, "booking.challenge_settled", &before, &ch)
	return err
}
