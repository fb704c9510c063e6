package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

var _ booking.RingFences = (*DB)(nil)

// Trainees sit in the rooms of a booking: a booking of a grading suite (3 seats) and a
// colourist (a person, no seats) may take 3; one of two rooms the sum of their seats.

// checkTrainees refuses more trainees than the booking's rooms seat, with EUNPROCESSABLE.
func checkTrainees(ctx context.Context, q querier, resources []uuid.UUID, trainees int) error {
	if trainees == 0 {
		return nil
	}
	var seats int
	if err := q.QueryRow(ctx, `SELECT coalesce(sum(trainee_capacity) FILTER (WHERE category = 'room'), 0)::int
		FROM resources WHERE id = ANY($1)`, resources).Scan(&seats); err != nil {
		return err
	}
	if trainees > seats {
		return &booking.Error{Code: booking.EUNPROCESSABLE,
			Message: fmt.Sprintf("The booking's rooms seat %d trainees; %d asked.", seats, trainees),
			Details: map[string]any{"field": "trainees", "trainee_capacity": seats}}
	}
	return nil
}

const ringFenceColumns = `id, site_id, kind, programme, countries, share_pct::float8, (share_pct * 100)::bigint, period, release_days, created_at`

// scanRingFence reads ringFenceColumns, then any extra columns into extra.
func scanRingFence(row pgx.Row, extra ...any) (booking.RingFence, error) {
	var f booking.RingFence
	err := row.Scan(append([]any{&f.ID, &f.SiteID, &f.Kind, &f.Programme, &f.Countries, &f.SharePct, &f.ShareBP, &f.Period, &f.ReleaseDays, &f.CreatedAt}, extra...)...)
	if f.Countries == nil {
		f.Countries = []string{}
	}
	return f, err
}

// fencesOn reads a site's fences on the kinds.
func fencesOn(ctx context.Context, q querier, siteID uuid.UUID, kinds []string) ([]booking.RingFence, error) {
	rows, _ := q.Query(ctx, `SELECT `+ringFenceColumns+` FROM ring_fences WHERE site_id = $1 AND kind = ANY($2) ORDER BY id`, siteID, kinds)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.RingFence, error) { return scanRingFence(r) })
}

// anyProduction reads a production whoever asks (the fences judge eligibility).
func anyProduction(ctx context.Context, q querier, id uuid.UUID) (booking.Production, error) {
	p, err := scanProduction(q.QueryRow(ctx, productionSelect+` AND p.id = $2`, nil, id))
	return p, notFound(err, "production")
}

// fenceStanding works out a fence's standing in one period from the bookings: the
// kind's active resources and each one's working time in the period by the one
// definition (calendar.UseOf: the site's working time, provisional holidays counting as
// working days until confirmed, less the resource's leave and maintenance), and the
// holds and bookings of productions outside the programme, except the booking exclude
// (being moved). It also returns the site's working time in the period.
func fenceStanding(ctx context.Context, q querier, cal *calendar.Calendar, f booking.RingFence, p booking.FencePeriod, exclude uuid.UUID) (booking.RingFenceCapacity, calendar.Set, error) {
	rows, _ := q.Query(ctx, `SELECT id FROM resources WHERE site_id = $1 AND kind = $2 AND active ORDER BY id`, f.SiteID, f.Kind)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return booking.RingFenceCapacity{}, nil, err
	}
	// The resources' blocks and what takes them, in one round trip: the booking that
	// asks holds the whole kind's locks meanwhile.
	b := &pgx.Batch{}
	readBlocks := queueResourceBlocks(b, ids, p.Start, p.End)
	// The time each resource of the kind is taken by productions outside the programme
	// (booking.RingFence.Eligible, in SQL), merged per resource by range_agg: a few
	// rows, not one per booking, however busy the period.
	used := map[uuid.UUID][]calendar.Interval{}
	b.Queue(`SELECT b.resource_id, range_agg(b.during)
		FROM bookings b JOIN resources r ON r.id = b.resource_id JOIN productions p ON p.id = b.production_id
		WHERE r.site_id = $1 AND r.kind = $2 AND b.status IN ('hold', 'confirmed', 'completed')
		  AND b.during && tstzrange($3, $4) AND b.group_id <> $5
		  AND NOT (coalesce(p.programme, '') <> '' AND p.programme = $6
		       AND (coalesce(cardinality($7::text[]), 0) = 0
		            OR EXISTS (SELECT 1 FROM production_origins o WHERE o.production_id = p.id AND o.country = ANY($7))))
		GROUP BY b.resource_id`, f.SiteID, f.Kind, p.Start, p.End, exclude, f.Programme, f.Countries).Query(func(rows pgx.Rows) error {
		var rid uuid.UUID
		var taken pgtype.Multirange[pgtype.Range[time.Time]]
		_, err := pgx.ForEachRow(rows, []any{&rid, &taken}, func() error {
			for _, r := range taken {
				if r.Lower.IsZero() || r.Upper.IsZero() {
					return fmt.Errorf("resource %s: an unbounded booking interval", rid)
				}
				used[rid] = append(used[rid], calendar.Interval{Start: r.Lower, End: r.Upper})
			}
			return nil
		})
		return err
	})
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return booking.RingFenceCapacity{}, nil, err
	}
	blocks, err := readBlocks()
	if err != nil {
		return booking.RingFenceCapacity{}, nil, err
	}
	// The calendar is expanded once; each resource's share is it less its blocks,
	// which is what calendar.UseOf(period, blocks).Working is.
	working := cal.UseOf(p.Interval, nil).Working
	available := make(map[uuid.UUID]calendar.Set, len(ids))
	for _, id := range ids {
		available[id] = working.Subtract(blocks[id])
	}
	return booking.NonProgrammeCapacity(f, p, available, used), working, nil
}

// fencesBooked reads the site's fences on the kinds of the booked resources, each with
// how many of those resources are of its kind.
func fencesBooked(ctx context.Context, q querier, siteID uuid.UUID, resources []uuid.UUID) ([]booking.RingFence, map[string]int, error) {
	b := &pgx.Batch{}
	read := queueFencesBooked(b, siteID, resources)
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, err
	}
	return read()
}

// queueFencesBooked queues fencesBooked's query on b; the function it returns gives
// its answer once b has been sent.
func queueFencesBooked(b *pgx.Batch, siteID uuid.UUID, resources []uuid.UUID) func() ([]booking.RingFence, map[string]int, error) {
	counts := map[string]int{}
	var fences []booking.RingFence
	b.Queue(`WITH k AS (SELECT kind, count(*)::int AS n FROM resources WHERE id = ANY($2) GROUP BY kind)
		SELECT `+ringFenceColumns+`, k.n FROM ring_fences JOIN k USING (kind) WHERE site_id = $1 ORDER BY id`, siteID, resources).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var n int
				f, err := scanRingFence(rows, &n)
				if err != nil {
					return err
				}
				fences = append(fences, f)
				counts[f.Kind] = n
			}
			return rows.Err()
		})
	return func() ([]booking.RingFence, map[string]int, error) { return fences, counts, nil }
}

// checkRingFences refuses (ECONFLICT, details.ring_fence) a booking of a production
// outside a fence's programme that starts beyond the release horizon and would push
// the usage of the fenced kind by productions outside the programme over its limit in
// some period. The fenced kinds' resources are locked first, so two such bookings on
// different resources of the kind cannot both take the last hours.
func (db *DB) checkRingFences(ctx context.Context, tx pgx.Tx, now time.Time, productionID, siteID uuid.UUID, resources []uuid.UUID, start, end time.Time, exclude uuid.UUID) error {
	fences, counts, err := fencesBooked(ctx, tx, siteID, resources)
	if err != nil {
		return err
	}
	return db.checkFencesBooked(ctx, tx, now, productionID, siteID, start, end, exclude, fences, counts, nil)
}

// checkFencesBooked is checkRingFences on the fences fencesBooked read; cal is the
// site's calendar when the caller has read it already (nil: read here, when needed).
func (db *DB) checkFencesBooked(ctx context.Context, tx pgx.Tx, now time.Time, productionID, siteID uuid.UUID, start, end time.Time, exclude uuid.UUID,
	fences []booking.RingFence, counts map[string]int, cal *calendar.Calendar) error {
	if len(fences) == 0 {
		return nil
	}
	prod, err := anyProduction(ctx, tx, productionID)
	if err != nil {
		return err
	}
	var subject []booking.RingFence
	var ids []uuid.UUID
	for _, f := range fences {
		if !f.Eligible(prod) && f.Applies(start, now) {
			subject = append(subject, f)
			ids = append(ids, f.ID)
		}
	}
	if len(subject) == 0 {
		return nil
	}
	// Bookings that count against a fence serialise on every resource of its kinds at
	// the site, under the same lock discipline as the rest of the change (locks.go): a
	// lock on the fence row itself, taken after resource locks and held while more
	// are taken, could close a cycle with another change. The fence rows are only
	// shared-locked, so an edit of a fence waits for the checks in flight.
	var kinds []string
	for _, f := range subject {
		kinds = append(kinds, f.Kind)
	}
	rows, _ := tx.Query(ctx, `SELECT id FROM resources WHERE site_id = $1 AND kind = ANY($2) AND active ORDER BY id`, siteID, kinds)
	fenced, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return err
	}
	if _, err := lockResources(ctx, tx, fenced); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT id FROM ring_fences WHERE id = ANY($1) ORDER BY id FOR SHARE`, ids); err != nil {
		return err
	}
	if cal == nil {
		if _, cal, err = db.siteCalendar(ctx, tx, siteID); err != nil {
			return err
		}
	}
	for _, f := range subject {
		for _, p := range booking.PeriodsOverlapping(f.Period, start, end, cal.Location) {
			c, working, err := fenceStanding(ctx, tx, cal, f, p, exclude)
			if err != nil {
				return err
			}
			req := booking.RequestedTime(p, working, start, end, counts[f.Kind])
			if req > 0 && !c.Allows(req) {
				return booking.RingFenceRefusal(f, c, req, start.Add(-f.ReleaseHorizon()), cal.Location)
			}
		}
	}
	return nil
}

// slotFences is what the availability search needs to leave out the slots a fence
// would refuse for the production asking: the fences it is outside of, and their
// standings per period, worked out once.
type slotFences struct {
	cal     *calendar.Calendar
	now     time.Time
	exclude uuid.UUID
	fences  []booking.RingFence
	cache   map[string]slotStanding
}

type slotStanding struct {
	c       booking.RingFenceCapacity
	working calendar.Set
}

// availabilityFences prepares the fences for a search; nil when no production is named
// or none applies to it.
func (db *DB) availabilityFences(ctx context.Context, a booking.Actor, q booking.AvailabilityQuery, cal *calendar.Calendar) (*slotFences, error) {
	if q.ProductionID == uuid.Nil {
		return nil, nil
	}
	prod, err := db.FindProduction(ctx, a, q.ProductionID)
	if err != nil {
		return nil, err
	}
	var kinds []string
	for _, d := range q.Demands {
		kinds = append(kinds, d.Kind)
	}
	fences, err := fencesOn(ctx, db.Pool, q.SiteID, kinds)
	if err != nil {
		return nil, formatError(err)
	}
	s := &slotFences{cal: cal, now: db.now(), exclude: q.ExcludeGroup, cache: map[string]slotStanding{}}
	for _, f := range fences {
		if !f.Eligible(prod) {
			s.fences = append(s.fences, f)
		}
	}
	if len(s.fences) == 0 {
		return nil, nil
	}
	return s, nil
}

// allow reports whether a slot over [start, end) for the demands is open to the
// production under every fence.
func (s *slotFences) allow(ctx context.Context, q querier, start, end time.Time, demands []booking.Demand) (bool, error) {
	if s == nil {
		return true, nil
	}
	counts := map[string]int{}
	for _, d := range demands {
		counts[d.Kind]++
	}
	for _, f := range s.fences {
		if counts[f.Kind] == 0 || !f.Applies(start, s.now) {
			continue
		}
		for _, p := range booking.PeriodsOverlapping(f.Period, start, end, s.cal.Location) {
			key := f.ID.String() + "/" + p.Label
			st, ok := s.cache[key]
			if !ok {
				c, working, err := fenceStanding(ctx, q, s.cal, f, p, s.exclude)
				if err != nil {
					return false, formatError(err)
				}
				st = slotStanding{c: c, working: working}
				s.cache[key] = st
			}
			if req := booking.RequestedTime(p, st.working, start, end, counts[f.Kind]); req > 0 && !st.c.Allows(req) {
				return false, nil
			}
		}
	}
	return true, nil
}

// ListRingFences lists fences with their standing in the period containing at.
func (db *DB) ListRingFences(ctx context.Context, siteID *uuid.UUID, at time.Time) ([]booking.RingFence, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+ringFenceColumns+` FROM ring_fences WHERE ($1::uuid IS NULL OR site_id = $1)
		ORDER BY site_id, kind, programme, id`, siteID)
	fences, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.RingFence, error) { return scanRingFence(r) })
	if err != nil {
		return nil, formatError(err)
	}
	cals := map[uuid.UUID]*calendar.Calendar{}
	for i := range fences {
		f := &fences[i]
		cal, ok := cals[f.SiteID]
		if !ok {
			if _, cal, err = db.siteCalendar(ctx, db.Pool, f.SiteID); err != nil {
				return nil, formatError(err)
			}
			cals[f.SiteID] = cal
		}
		c, _, err := fenceStanding(ctx, db.Pool, cal, *f, booking.PeriodAt(f.Period, at, cal.Location), uuid.Nil)
		if err != nil {
			return nil, formatError(err)
		}
		f.Current = &c
	}
	if fences == nil {
		fences = []booking.RingFence{}
	}
	return fences, nil
}

// CreateRingFence adds a fence; managers of the site and admins only.
func (db *DB) CreateRingFence(ctx context.Context, a booking.Actor, in booking.RingFenceInput) (booking.RingFence, error) {
	var out booking.RingFence
	in.Programme = strings.TrimSpace(in.Programme)
	if err := in.Validate(); err != nil {
		return out, err
	}
	if in.Countries == nil {
		in.Countries = []string{}
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := db.FindSite(ctx, in.SiteID); err != nil {
			return err
		}
		if err := mayManage(a, in.SiteID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM resources WHERE site_id = $1 AND kind = $2 AND active`, in.SiteID, in.Kind).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return &booking.Error{Code: booking.EINVALID, Message: "The site has no resource of kind " + in.Kind + ".", Details: map[string]any{"field": "kind"}}
		}
		var id uuid.UUID
		if err := tx.QueryRow(ctx, `INSERT INTO ring_fences (site_id, kind, programme, countries, share_pct, period, release_days, created_by, created_at)
			VALUES ($1, $2, $3, $4, round($5::numeric, 2), $6, $7, $8, $9) RETURNING id`,
			in.SiteID, in.Kind, in.Programme, in.Countries, in.SharePct, in.Period, in.ReleaseDays, actorID(a), db.now()).Scan(&id); err != nil {
			return err
		}
		var err error
		if out, err = scanRingFence(tx.QueryRow(ctx, `SELECT `+ringFenceColumns+` FROM ring_fences WHERE id = $1`, id)); err != nil {
			return err
		}
		return audit(ctx, tx, a, db.now(), auditEvent{Action: "ring_fence.created", ObjectType: "ring_fence", ObjectID: id.String(), After: out})
	})
	return out, err
}

// DeleteRingFence removes a fence; managers of its site and admins only.
func (db *DB) DeleteRingFence(ctx context.Context, a booking.Actor, id uuid.UUID) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanRingFence(tx.QueryRow(ctx, `SELECT `+ringFenceColumns+` FROM ring_fences WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, "ring-fence")
		}
		if err := mayManage(a, before.SiteID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM ring_fences WHERE id = $1`, id); err != nil {
			return err
		}
		return audit(ctx, tx, a, db.now(), auditEvent{Action: "ring_fence.deleted", ObjectType: "ring_fence", ObjectID: id.String(), Before: before})
	})
}

// actorID is the actor's user id, or nil for posthub itself.
func actorID(a booking.Actor) *uuid.UUID {
	if a.UserID == uuid.Nil {
		return nil
	}
	id := a.UserID
	return &id
}
