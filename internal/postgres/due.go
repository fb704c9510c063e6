package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
)

// Due notices (booking_due_notices): the reminders and hold-expiry warnings a
// booking's state calls for, kept by due time. The change that leaves a booking in a
// state writes its rows in its own transaction — dropping the rows its earlier state
// called for — and SweepDue hands the due ones to the job queue, deleting them in the
// same transaction. So a notice is enqueued if and only if it fell due while its
// booking was in the state that called for it, once.

// deleteDueSQL drops the due notices of the bookings $1.
const deleteDueSQL = `DELETE FROM booking_due_notices WHERE booking_id = ANY($1)`

// queueDueNotices queues the insert of ns on b (nothing when there are none).
func queueDueNotices(b *pgx.Batch, ns []booking.DueNotice) {
	if len(ns) == 0 {
		return
	}
	ids := make([]uuid.UUID, len(ns))
	kinds := make([]string, len(ns))
	refs := make([]time.Time, len(ns))
	befores := make([]int64, len(ns))
	dues := make([]time.Time, len(ns))
	for i, n := range ns {
		ids[i], kinds[i], refs[i], befores[i], dues[i] = n.BookingID, n.Kind, n.Ref, int64(n.Before), n.Due
	}
	b.Queue(`INSERT INTO booking_due_notices (booking_id, kind, ref_at, before_ns, due_at)
		SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::bigint[], $5::timestamptz[])`,
		ids, kinds, refs, befores, dues)
}

// ScheduleDue replaces a booking's due notices by those its state st calls for as of
// now, in a transaction of its own (the follow-up job of a change whose transaction
// did not know the state).
func (db *DB) ScheduleDue(ctx context.Context, st booking.FollowUpState, now time.Time) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(deleteDueSQL, []uuid.UUID{st.BookingID})
		queueDueNotices(b, booking.DueNotices(st, now))
		return tx.SendBatch(ctx, b).Close()
	})
}

// SweepDue claims up to limit notices due at now, the earliest first, skipping those
// another sweep holds; hands them to enqueue in the same transaction and deletes them
// when it commits. An error (or a crash) before the commit leaves them for the next
// sweep; a notice is enqueued by one sweep only. It returns how many were enqueued.
func (db *DB) SweepDue(ctx context.Context, now time.Time, limit int, enqueue func(ctx context.Context, tx pgx.Tx, ns []booking.DueNotice) error) (int, error) {
	var n int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `DELETE FROM booking_due_notices WHERE ctid = ANY(ARRAY(
				SELECT ctid FROM booking_due_notices WHERE due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED))
			RETURNING booking_id, kind, ref_at, before_ns, due_at`, now, limit)
		var d booking.DueNotice
		var before int64
		var ns []booking.DueNotice
		if _, err := pgx.ForEachRow(rows, []any{&d.BookingID, &d.Kind, &d.Ref, &before, &d.Due}, func() error {
			d.Before = time.Duration(before)
			d.Ref, d.Due = d.Ref.UTC(), d.Due.UTC()
			ns = append(ns, d)
			return nil
		}); err != nil {
			return err
		}
		if len(ns) == 0 {
			return nil
		}
		if err := enqueue(ctx, tx, ns); err != nil {
			return err
		}
		n = len(ns)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// PendingDue counts the due notices not yet enqueued, and the earliest due time.
func (db *DB) PendingDue(ctx context.Context) (int, *time.Time, error) {
	var n int
	var first *time.Time
	err := db.Pool.QueryRow(ctx, `SELECT count(*), min(due_at) FROM booking_due_notices`).Scan(&n, &first)
	return n, first, err
}
