package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

var _ booking.Blocks = (*DB)(nil)

const blockColumns = `id, resource_id, lower(during), upper(during), kind, reason, coalesce(rrule, ''), until`

func scanBlock(r pgx.Row) (booking.Block, error) {
	var b booking.Block
	err := r.Scan(&b.ID, &b.ResourceID, &b.Start, &b.End, &b.Kind, &b.Reason, &b.RRule, &b.Until)
	return b, err
}

// blockHorizon is how far ahead a new recurring block is checked against bookings.
const blockHorizon = 2 * 366 * 24 * time.Hour

// AddBlock takes a resource out of service for [start, end). Returns ECONFLICT naming
// the active bookings in the way (they must be moved or ended first).
func (db *DB) AddBlock(ctx context.Context, a booking.Actor, in booking.Block) (booking.Block, error) {
	if in.Kind != "maintenance" && in.Kind != "closure" && in.Kind != "leave" {
		return in, &booking.Error{Code: booking.EINVALID, Message: "kind must be maintenance, closure or leave.", Details: map[string]any{"field": "kind"}}
	}
	if in.RRule != "" {
		if err := ValidRRule(in.RRule); err != nil {
			return in, err
		}
	}
	if err := booking.ValidInterval(in.Start, in.End); err != nil {
		return in, err
	}
	var out booking.Block
	err := db.inTxRetry(ctx, func(ctx context.Context, tx pgx.Tx) error {
		now := db.now()
		sites, err := lockResources(ctx, tx, []uuid.UUID{in.ResourceID})
		if err != nil {
			return err
		}
		site, ok := sites[in.ResourceID]
		if !ok {
			return booking.Errorf(booking.ENOTFOUND, "No such resource.")
		}
		if a.Role != booking.RoleAdmin && !a.ManagesSite(site) {
			return booking.Errorf(booking.EFORBIDDEN, "You do not manage this site.")
		}
		occurrences := []calendar.Interval{{Start: in.Start, End: in.End}}
		if in.RRule != "" {
			var zone string
			if err := tx.QueryRow(ctx, `SELECT time_zone FROM sites WHERE id = $1`, site).Scan(&zone); err != nil {
				return err
			}
			if occurrences, err = expandRRule(in.RRule, in.Start, in.End.Sub(in.Start), zone, in.Until, in.Start, in.Start.Add(blockHorizon)); err != nil {
				return &booking.Error{Code: booking.EINVALID, Message: "rrule cannot be expanded from this start.", Details: map[string]any{"field": "rrule"}, Err: err}
			}
		}
		for _, o := range occurrences {
			if _, err := checkFree(ctx, tx, []uuid.UUID{in.ResourceID}, o.Start, o.End, uuid.Nil, true, false); err != nil {
				return err
			}
		}
		if out, err = scanBlock(tx.QueryRow(ctx, `INSERT INTO resource_blocks (resource_id, during, kind, reason, rrule, until, created_at)
			VALUES ($1, tstzrange($2, $3), $4, $5, nullif($6, ''), $7, $8) RETURNING `+blockColumns,
			in.ResourceID, in.Start, in.End, in.Kind, in.Reason, in.RRule, in.Until, now)); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "block.created", ObjectType: "block", ObjectID: out.ID.String(), After: out})
	})
	return out, err
}

// ListBlocks lists a resource's blocks overlapping [from, to).
func (db *DB) ListBlocks(ctx context.Context, resourceID uuid.UUID, from, to *time.Time) ([]booking.Block, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+blockColumns+` FROM resource_blocks WHERE resource_id = $1
		AND ($2::timestamptz IS NULL OR upper(during) > $2 OR (rrule IS NOT NULL AND (until IS NULL OR until > $2)))
		AND ($3::timestamptz IS NULL OR lower(during) < $3)
		ORDER BY lower(during)`, resourceID, from, to)
	bs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Block, error) { return scanBlock(r) })
	return bs, formatError(err)
}

// DeleteBlock puts the resource back in service.
func (db *DB) DeleteBlock(ctx context.Context, a booking.Actor, id uuid.UUID) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		var site uuid.UUID
		if err := tx.QueryRow(ctx, `SELECT r.site_id FROM resource_blocks b JOIN resources r ON r.id = b.resource_id WHERE b.id = $1`, id).Scan(&site); err != nil {
			return notFound(err, "block")
		}
		if a.Role != booking.RoleAdmin && !a.ManagesSite(site) {
			return booking.Errorf(booking.EFORBIDDEN, "You do not manage this site.")
		}
		before, err := scanBlock(tx.QueryRow(ctx, `DELETE FROM resource_blocks WHERE id = $1 RETURNING `+blockColumns, id))
		if err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "block.deleted", ObjectType: "block", ObjectID: id.String(), Before: before})
	})
}

// resourceBlocks reads each resource's blocks (leave, maintenance, closures; recurring
// ones expanded in their site's zone) over [from, to): the time calendar.UseOf takes
// out of a resource's working time.
func resourceBlocks(ctx context.Context, q querier, resources []uuid.UUID, from, to time.Time) (map[uuid.UUID]calendar.Set, error) {
	b := &pgx.Batch{}
	read := queueResourceBlocks(b, resources, from, to)
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return read()
}

// queueResourceBlocks queues resourceBlocks' two statements on b (one round trip with
// whatever else b carries); the function it returns gives the answer once b is sent.
func queueResourceBlocks(b *pgx.Batch, resources []uuid.UUID, from, to time.Time) func() (map[uuid.UUID]calendar.Set, error) {
	var cs, rec []conflict
	var err error
	b.Queue(`SELECT resource_id, lower(during), upper(during), 'block' FROM resource_blocks
		WHERE resource_id = ANY($1) AND during && tstzrange($2, $3) AND rrule IS NULL`, resources, from, to).Query(func(rows pgx.Rows) error {
		cs, err = pgx.CollectRows(rows, pgx.RowToStructByPos[conflict])
		return err
	})
	b.Queue(recurringBusySQL, resources, from, to).Query(func(rows pgx.Rows) error {
		rec, err = scanRecurringBusy(rows, from, to)
		return err
	})
	return func() (map[uuid.UUID]calendar.Set, error) {
		if err != nil {
			return nil, err
		}
		return conflictSets(append(cs, rec...)), nil
	}
}
