package postgres

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
)

var _ booking.Changes = (*DB)(nil)

// logChanges appends the bookings a change touched to the booking change log, in the
// change's transaction: one row per booking and kind, in one statement.
func logChanges(ctx context.Context, tx pgx.Tx, ch *change) error {
	b := &pgx.Batch{}
	queueLogChanges(b, ch)
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// queueLogChanges queues logChanges' statement on b (nothing for a change without
// events).
func queueLogChanges(b *pgx.Batch, ch *change) {
	if len(ch.events) == 0 {
		return
	}
	ids := make([]uuid.UUID, 0, len(ch.events))
	kinds := make([]string, 0, len(ch.events))
	seen := map[[2]string]bool{}
	for _, e := range ch.events {
		k := [2]string{e.BookingID.String(), string(e.Kind)}
		if seen[k] {
			continue
		}
		seen[k] = true
		ids = append(ids, e.BookingID)
		kinds = append(kinds, string(e.Kind))
	}
	b.Queue(`INSERT INTO booking_changes (at, booking_id, kind)
		SELECT $1, b, k FROM unnest($2::uuid[], $3::text[]) AS x(b, k)`, ch.events[0].At, ids, kinds)
}

// changeColumns read a change log entry with its booking as it stands.
const changeColumns = `c.id, c.at, c.kind, g.id, g.site_id, g.production_id, p.organisation_id, g.status, g.start_at, g.end_at,
	array(SELECT resource_id FROM bookings WHERE group_id = g.id ORDER BY resource_id), g.version
	FROM booking_changes c JOIN booking_groups g ON g.id = c.booking_id JOIN productions p ON p.id = g.production_id`

// ChangesAfter reads the change log after an id, and the entries named in also.
func (db *DB) ChangesAfter(ctx context.Context, after int64, also []int64, limit int) ([]booking.Change, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+changeColumns+`
		WHERE c.id > $1 OR c.id = ANY($2) ORDER BY c.id LIMIT $3`, after, also, limit)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Change, error) {
		var c booking.Change
		err := r.Scan(&c.ID, &c.At, &c.Kind, &c.BookingID, &c.SiteID, &c.ProductionID, &c.OrganisationID, &c.Status,
			&c.Start, &c.End, &c.ResourceIDs, &c.Version)
		return c, err
	})
	return out, formatError(err)
}

// ChangeBounds are the ids of the oldest and the newest entry kept.
func (db *DB) ChangeBounds(ctx context.Context) (oldest, newest int64, err error) {
	err = db.Pool.QueryRow(ctx, `SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM booking_changes`).Scan(&oldest, &newest)
	return oldest, newest, formatError(err)
}
