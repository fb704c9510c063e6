package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
)

// The scheduling board (internal/web/board.go) draws a site's bookings and blocks over
// up to a month at once: these read each in one query, where ListBookings pages by 500
// and ListBlocks asks resource by resource.

// BoardBookings lists the bookings the actor may see at a site that overlap [from, to)
// and have one of the statuses (all when none), by start, in one query: at most limit
// (10,000 when limit is not positive). It reads what a board draws and acts on, not
// the whole booking: id, production, site, status, interval, resources with their
// ranks, hold expiry, approval, open challenges (made and faced), overtime, requested
// move and version. Notes, reasons, local times and the working-time review are left
// empty; FindBooking has them.
func (db *DB) BoardBookings(ctx context.Context, a booking.Actor, siteID uuid.UUID, from, to time.Time, statuses []booking.Status, limit int) ([]booking.Booking, error) {
	if limit <= 0 {
		limit = 10000
	}
	sts := make([]string, len(statuses))
	for i, s := range statuses {
		sts[i] = string(s)
	}
	// The groups first, then their resources, challenges and challengers in one pass
	// each, rather than three subqueries a row.
	rows, _ := db.Pool.Query(ctx, `
		WITH g AS (
			SELECT g.id, g.production_id, g.site_id, g.status, g.start_at, g.end_at, g.hold_expires_at,
			       g.approval_requested_at IS NOT NULL AS approval, g.overtime, g.requested_start, g.requested_end,
			       g.requested_resource_ids, g.version
			FROM booking_groups g JOIN productions p ON p.id = g.production_id
			WHERE g.site_id = $1 AND g.end_at > $2 AND g.start_at < $3
			  AND ($4::uuid IS NULL OR p.organisation_id = $4)
			  AND (cardinality($5::text[]) = 0 OR g.status = ANY($5))
			ORDER BY g.start_at, g.id
			LIMIT $6),
		r AS (
			SELECT b.group_id, array_agg(b.id ORDER BY b.resource_id) AS rows, array_agg(b.resource_id ORDER BY b.resource_id) AS ids,
			       array_agg(coalesce(b.rank, 0) ORDER BY b.resource_id) AS ranks
			FROM bookings b WHERE b.group_id IN (SELECT id FROM g) GROUP BY b.group_id),
		made AS (
			SELECT c.challenger_id, c.id, c.deadline FROM challenges c
			WHERE c.status = 'open' AND c.challenger_id IN (SELECT id FROM g)),
		faced AS (
			SELECT t.group_id, array_agg(c.id ORDER BY c.deadline) AS ids, array_agg(c.deadline ORDER BY c.deadline) AS deadlines
			FROM challenge_targets t JOIN challenges c ON c.id = t.challenge_id
			WHERE c.status = 'open' AND t.group_id IN (SELECT id FROM g) GROUP BY t.group_id)
		SELECT g.id, g.production_id, g.site_id, g.status, g.start_at, g.end_at, g.hold_expires_at, g.approval, g.overtime,
		       g.requested_start, g.requested_end, g.requested_resource_ids, g.version,
		       coalesce(r.rows, '{}'), coalesce(r.ids, '{}'), coalesce(r.ranks, '{}'), made.id, made.deadline, faced.ids, faced.deadlines
		FROM g LEFT JOIN r ON r.group_id = g.id LEFT JOIN made ON made.challenger_id = g.id LEFT JOIN faced ON faced.group_id = g.id
		ORDER BY g.start_at, g.id`, siteID, from, to, confinedTo(a), sts, limit)
	var out []booking.Booking
	var b booking.Booking
	var rowIDs, ids []uuid.UUID
	var ranks []int32
	var madeID *uuid.UUID
	var madeDeadline *time.Time
	var facedIDs []uuid.UUID
	var facedDeadlines []time.Time
	_, err := pgx.ForEachRow(rows, []any{&b.ID, &b.ProductionID, &b.SiteID, &b.Status, &b.Start, &b.End, &b.HoldExpiresAt,
		&b.ApprovalPending, &b.Overtime, &b.RequestedStart, &b.RequestedEnd, &b.RequestedResourceIDs, &b.Version,
		&rowIDs, &ids, &ranks, &madeID, &madeDeadline, &facedIDs, &facedDeadlines}, func() error {
		x := b
		x.Start, x.End = x.Start.UTC(), x.End.UTC()
		x.HoldExpiresAt, x.RequestedStart, x.RequestedEnd = copyTime(b.HoldExpiresAt), copyTime(b.RequestedStart), copyTime(b.RequestedEnd)
		x.RequestedResourceIDs = append([]uuid.UUID(nil), b.RequestedResourceIDs...)
		x.Resources = make([]booking.BookedResource, len(ids))
		for i, id := range ids {
			x.Resources[i] = booking.BookedResource{ResourceID: id}
			if i < len(rowIDs) {
				x.Resources[i].BookingID = rowIDs[i]
			}
			if i < len(ranks) {
				x.Resources[i].Rank = int(ranks[i])
				x.Rank = max(x.Rank, int(ranks[i]))
			}
		}
		if madeID != nil && madeDeadline != nil {
			x.Challenge = &booking.Challenge{ID: *madeID, Deadline: madeDeadline.UTC(), Status: "open"}
		}
		for i, id := range facedIDs {
			if i < len(facedDeadlines) {
				x.ChallengedBy = append(x.ChallengedBy, booking.Challenge{ID: id, Deadline: facedDeadlines[i].UTC(), Status: "open"})
			}
		}
		out = append(out, x)
		return nil
	})
	return out, formatError(err)
}

// SiteBlocks lists the blocks of a site's resources (leave, maintenance, closures)
// that overlap [from, to), recurring ones that may have an occurrence in it, in one
// query. Recurring blocks come as stored (their first occurrence and rule).
func (db *DB) SiteBlocks(ctx context.Context, siteID uuid.UUID, from, to time.Time) ([]booking.Block, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+blockColumnsOf("k")+` FROM resource_blocks k JOIN resources r ON r.id = k.resource_id
		WHERE r.site_id = $1
		  AND (upper(k.during) > $2 OR (k.rrule IS NOT NULL AND (k.until IS NULL OR k.until > $2)))
		  AND lower(k.during) < $3
		ORDER BY lower(k.during), k.id`, siteID, from, to)
	bs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Block, error) { return scanBlock(r) })
	return bs, formatError(err)
}

// blockColumnsOf is blockColumns qualified by a table alias.
func blockColumnsOf(alias string) string {
	p := alias + "."
	return p + "id, " + p + "resource_id, lower(" + p + "during), upper(" + p + "during), " + p + "kind, " + p + "reason, coalesce(" + p + "rrule, ''), " + p + "until"
}
