package postgres

import (
	"context"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/teambition/rrule-go"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// recurringBusy expands the recurring blocks (RRULE) of the resources into the
// occurrences that overlap [from, to), in the zone of each resource's site so that
// "every Monday 08:00" stays 08:00 local across zone changes.
func recurringBusy(ctx context.Context, q querier, resources []uuid.UUID, from, to time.Time) ([]conflict, error) {
	rows, _ := q.Query(ctx, recurringBusySQL, resources, from, to)
	return scanRecurringBusy(rows, from, to)
}

// recurringBusySQL reads the recurring blocks of resources ($1) that may occur in
// [$2, $3); scanRecurringBusy expands them.
const recurringBusySQL = `SELECT b.resource_id, lower(b.during), upper(b.during), b.rrule, b.until, s.time_zone
		FROM resource_blocks b JOIN resources r ON r.id = b.resource_id JOIN sites s ON s.id = r.site_id
		WHERE b.resource_id = ANY($1) AND b.rrule IS NOT NULL AND lower(b.during) < $3 AND (b.until IS NULL OR b.until > $2)`

func scanRecurringBusy(rows pgx.Rows, from, to time.Time) ([]conflict, error) {
	var out []conflict
	var rid uuid.UUID
	var first, firstEnd time.Time
	var rule string
	var until *time.Time
	var zone string
	_, err := pgx.ForEachRow(rows, []any{&rid, &first, &firstEnd, &rule, &until, &zone}, func() error {
		occ, err := expandRRule(rule, first, firstEnd.Sub(first), zone, until, from, to)
		if err != nil {
			return err
		}
		for _, iv := range occ {
			out = append(out, conflict{ResourceID: rid, Start: iv.Start, End: iv.End, Kind: "block"})
		}
		return nil
	})
	return out, err
}

// expandRRule returns the occurrences of a recurring block that overlap [from, to).
func expandRRule(rule string, first time.Time, length time.Duration, zone string, until *time.Time, from, to time.Time) ([]calendar.Interval, error) {
	loc, err := calendar.LoadLocation(zone)
	if err != nil {
		return nil, err
	}
	opt, err := rrule.StrToROption(rule)
	if err != nil {
		return nil, err
	}
	opt.Dtstart = first.In(loc)
	if until != nil && (opt.Until.IsZero() || until.Before(opt.Until)) {
		opt.Until = *until
	}
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, err
	}
	var out []calendar.Interval
	for _, s := range r.Between(from.Add(-length), to, true) {
		iv := calendar.Interval{Start: s.UTC(), End: s.Add(length).UTC()}
		if iv.End.After(from) && iv.Start.Before(to) {
			out = append(out, iv)
		}
	}
	return out, nil
}

// ValidRRule checks a recurrence rule before it is stored.
func ValidRRule(rule string) error {
	if _, err := rrule.StrToROption(rule); err != nil {
		return &booking.Error{Code: booking.EINVALID, Message: "rrule is not a valid RFC 5545 recurrence rule.", Details: map[string]any{"field": "rrule"}}
	}
	return nil
}

// MaxAvailabilityWindow bounds how far one availability search looks.
const MaxAvailabilityWindow = 2 * 366 * 24 * time.Hour

// Availability returns the earliest slots at which every demand can be met at once by
// distinct resources for q.Hours of the site's working time. A slot is a contiguous
// interval that starts in working time and spans q.Hours of it; the resources must be
// free of confirmed bookings, blocks, leave and (unless q.IgnoreHolds) first holds for
// the whole interval. Provisional holidays count as closed.
func (db *DB) Availability(ctx context.Context, a booking.Actor, q booking.AvailabilityQuery) ([]booking.Slot, error) {
	switch {
	case len(q.Demands) == 0 || len(q.Demands) > 6:
		return nil, &booking.Error{Code: booking.EINVALID, Message: "Give 1 to 6 demands.", Details: map[string]any{"parameter": "demand"}}
	case q.Hours <= 0 || q.Hours > 2000*time.Hour:
		return nil, &booking.Error{Code: booking.EINVALID, Message: "hours must be above 0 and at most 2000.", Details: map[string]any{"parameter": "hours"}}
	case !q.To.After(q.From) || q.To.Sub(q.From) > MaxAvailabilityWindow:
		return nil, &booking.Error{Code: booking.EUNPROCESSABLE, Message: "to must be after from, within two years.", Details: map[string]any{"parameter": "to"}}
	}
	if q.Limit <= 0 || q.Limit > 50 {
		q.Limit = 5
	}
	sc, cal, err := db.siteCalendar(ctx, db.Pool, q.SiteID)
	if err != nil {
		return nil, err
	}
	candidates := make([][]availabilityCand, len(q.Demands))
	var all []uuid.UUID
	for i, d := range q.Demands {
		caps := d.Capabilities
		if caps == nil {
			caps = []string{}
		}
		rows, _ := db.Pool.Query(ctx, `SELECT id, name, kind FROM resources WHERE site_id = $1 AND active AND kind = $2
			AND capabilities @> $3::text[] ORDER BY name, id`, q.SiteID, d.Kind, caps)
		cs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[availabilityCand])
		if err != nil {
			return nil, formatError(err)
		}
		if len(cs) == 0 {
			return []booking.Slot{}, nil
		}
		candidates[i] = cs
		for _, c := range cs {
			all = append(all, c.ID)
		}
	}
	// Ring-fences: for a production outside a fence's programme, slots that would take
	// the reserved share (beyond the release horizon) are left out.
	fences, err := db.availabilityFences(ctx, a, q, cal)
	if err != nil {
		return nil, err
	}
	opts := calendar.Options{AvoidProvisional: true}
	working := cal.WorkingTime(calendar.Interval{Start: q.From, End: q.To}, opts)

	// The earliest slots lie near the start of the window, and what occupies the
	// candidates is most of the cost (at network scale, thousands of intervals over
	// four weeks): the search reads them over a leading part of the window first, and
	// over twice as much while it finds a slot it cannot settle there. Every slot it
	// answers ends inside the part read, where the busy intervals are those of the
	// whole window, so the answer is the same.
	step := availabilityStep
	if 3*q.Hours > step {
		step = 3 * q.Hours
	}
	for upTo := q.From.Add(step); ; upTo = q.From.Add(2 * upTo.Sub(q.From)) {
		if !upTo.Before(q.To) {
			upTo = q.To
		}
		busy, err := db.busyIntervals(ctx, all, q.From, upTo, q.IgnoreHolds, q.ExcludeGroup)
		if err != nil {
			return nil, err
		}
		slots, settled, err := findSlots(ctx, db, q, sc, cal, working, candidates, busy, fences, upTo)
		if err != nil || settled || !upTo.Before(q.To) {
			return slots, err
		}
	}
}

// availabilityStep is how much of the window the availability search reads first.
var availabilityStep = 4 * 24 * time.Hour

// availabilityCand is a resource that meets a demand.
type availabilityCand struct {
	ID   uuid.UUID
	Name string
	Kind string
}

// findSlots is the slot search of Availability over the busy intervals read up to
// upTo. It answers unsettled (false) when it reaches a slot ending after upTo before
// it has q.Limit slots: the intervals beyond upTo are needed to go on.
func findSlots(ctx context.Context, db *DB, q booking.AvailabilityQuery, sc booking.SiteCalendar, cal *calendar.Calendar, working calendar.Set,
	candidates [][]availabilityCand, busy map[uuid.UUID]calendar.Set, fences *slotFences, upTo time.Time) ([]booking.Slot, bool, error) {
	// Candidate starts: where working time begins, and where some candidate's busy
	// interval ends inside working time.
	var starts []time.Time
	for _, iv := range working {
		starts = append(starts, iv.Start)
	}
	for _, set := range busy {
		for _, iv := range set {
			if working.Contains(iv.End) {
				starts = append(starts, iv.End)
			}
		}
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })

	slots := []booking.Slot{}
	var last time.Time
	for _, t := range starts {
		if len(slots) >= q.Limit {
			break
		}
		if !t.After(last) && len(slots) > 0 {
			continue
		}
		end, ok := addWithin(working, t, q.Hours)
		if !ok {
			break // not enough working time left in the window
		}
		if end.After(upTo) {
			return slots, false, nil
		}
		chosen := make([]int, len(q.Demands))
		used := map[uuid.UUID]bool{}
		var assign func(d int) bool
		assign = func(d int) bool {
			if d == len(q.Demands) {
				return true
			}
			for ci, c := range candidates[d] {
				if used[c.ID] || overlapsAny(busy[c.ID], t, end) {
					continue
				}
				used[c.ID], chosen[d] = true, ci
				if assign(d + 1) {
					return true
				}
				used[c.ID] = false
			}
			return false
		}
		if !assign(0) {
			continue
		}
		if ok, err := fences.allow(ctx, db.Pool, t, end, q.Demands); err != nil {
			return nil, false, err
		} else if !ok {
			continue
		}
		last = t
		slot := booking.Slot{Start: t, End: end, TimeZone: sc.TimeZone,
			StartLocal: localString(cal.Location, t), EndLocal: localString(cal.Location, end)}
		for d, ci := range chosen {
			c := candidates[d][ci]
			slot.Resources = append(slot.Resources, booking.SlotResource{Demand: d, ResourceID: c.ID, Name: c.Name, Kind: c.Kind})
		}
		slots = append(slots, slot)
	}
	return slots, true, nil
}

// busyIntervals reads what occupies each resource over [from, to): confirmed and
// completed bookings, first holds unless ignored, and blocks (recurring ones expanded);
// the three statements in one round trip.
func (db *DB) busyIntervals(ctx context.Context, resources []uuid.UUID, from, to time.Time, ignoreHolds bool, exclude uuid.UUID) (map[uuid.UUID]calendar.Set, error) {
	batch := &pgx.Batch{}
	var cs []conflict
	batch.Queue(bookedIntervalsSQL, resources, from, to, ignoreHolds, exclude).Query(func(rows pgx.Rows) error {
		var err error
		cs, err = pgx.CollectRows(rows, pgx.RowToStructByPos[conflict])
		return err
	})
	blocks := queueResourceBlocks(batch, resources, from, to)
	if err := db.Pool.SendBatch(ctx, batch).Close(); err != nil {
		return nil, formatError(err)
	}
	busy := conflictSets(cs)
	b, err := blocks()
	if err != nil {
		return nil, formatError(err)
	}
	for id, set := range b {
		busy[id] = busy[id].Union(set)
	}
	return busy, nil
}

// bookedIntervals reads the bookings that occupy each resource over [from, to):
// confirmed and completed ones, and first holds unless ignored.
func (db *DB) bookedIntervals(ctx context.Context, resources []uuid.UUID, from, to time.Time, ignoreHolds bool, exclude uuid.UUID) (map[uuid.UUID]calendar.Set, error) {
	rows, _ := db.Pool.Query(ctx, bookedIntervalsSQL, resources, from, to, ignoreHolds, exclude)
	cs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[conflict])
	if err != nil {
		return nil, formatError(err)
	}
	return conflictSets(cs), nil
}

// bookedIntervalsSQL reads the bookings of resources ($1) over [$2, $3) that occupy
// them: confirmed and completed ones, and first holds unless $4; not those of group $5.
const bookedIntervalsSQL = `
		SELECT resource_id, lower(during), upper(during), 'booking' FROM bookings
		WHERE resource_id = ANY($1) AND during && tstzrange($2, $3) AND group_id <> $5
		  AND (status IN ('confirmed', 'completed') OR (NOT $4 AND status = 'hold' AND rank = 1))`

// conflictSets gathers intervals by resource, each resource's normalised.
func conflictSets(cs []conflict) map[uuid.UUID]calendar.Set {
	raw := map[uuid.UUID][]calendar.Interval{}
	for _, c := range cs {
		raw[c.ResourceID] = append(raw[c.ResourceID], calendar.Interval{Start: c.Start, End: c.End})
	}
	out := make(map[uuid.UUID]calendar.Set, len(raw))
	for id, ivs := range raw {
		out[id] = calendar.Normalize(ivs...)
	}
	return out
}

// overlapsAny reports whether the normalised set has time inside [start, end).
func overlapsAny(s calendar.Set, start, end time.Time) bool {
	i := sort.Search(len(s), func(i int) bool { return s[i].End.After(start) })
	return i < len(s) && s[i].Start.Before(end)
}

// addWithin walks d of time inside the normalised set from t (which must be in it),
// returning where it ends; false when the set runs out first.
func addWithin(s calendar.Set, t time.Time, d time.Duration) (time.Time, bool) {
	i := sort.Search(len(s), func(i int) bool { return s[i].End.After(t) })
	if i == len(s) || s[i].Start.After(t) {
		return time.Time{}, false
	}
	cur := t
	for ; i < len(s); i++ {
		if s[i].Start.After(cur) {
			cur = s[i].Start
		}
		left := s[i].End.Sub(cur)
		if d <= left {
			return cur.Add(d), true
		}
		d -= left
	}
	return time.Time{}, false
}
