package postgres

import (
	"cmp"
	"context"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

var _ booking.Utilisation = (*DB)(nil)

// utilResource is a resource as the utilisation figures see it.
type utilResource struct {
	ID     uuid.UUID
	Name   string
	Kind   string
	Active bool
}

// utilDay is one site-local date of the range: its part of the range and the site's
// working time in it.
type utilDay struct {
	date    calendar.Date
	week    calendar.Date
	window  calendar.Interval
	working calendar.Set
}

// utilKey is a group of the figures; only the fields of the query's dimensions are
// set. emerging is 0 when unset, 1 for no, 2 for yes.
type utilKey struct {
	resource uuid.UUID
	kind     string
	country  string
	emerging int8
	day      calendar.Date
	week     calendar.Date
}

// capacityKey drops the dimensions that divide bookings but not capacity.
func (k utilKey) capacityKey() utilKey {
	k.country, k.emerging = "", 0
	return k
}

type utilSums struct {
	working, confirmed, held, overtime float64 // hours
	resources                          map[uuid.UUID]bool
}

// origin is a production's share of one country, as a fraction.
type utilOrigin struct {
	country string
	share   float64
}

type utilProduction struct {
	emerging bool
	origins  []utilOrigin
}

// Utilisation reports how much of a site's capacity is booked in [q.From, q.To). The
// bookings are read clipped to the range by PostgreSQL (tstzrange intersection); the
// site-local days, weeks and working hours are worked out here with the embedded tz
// database and the site's calendar. Provisional holidays count as working days until a
// manager settles them, as they do for manual bookings.
func (db *DB) Utilisation(ctx context.Context, a booking.Actor, q booking.UtilisationQuery) (booking.UtilisationReport, error) {
	var rep booking.UtilisationReport
	if !a.SeesAllProductions() {
		return rep, booking.Errorf(booking.EFORBIDDEN, "Utilisation aggregates across productions; your role may not see it.")
	}
	if err := q.Validate(); err != nil {
		return rep, err
	}
	q.From, q.To = q.From.UTC(), q.To.UTC()
	sc, cal, err := db.siteCalendar(ctx, db.Pool, q.SiteID)
	if err != nil {
		return rep, err
	}
	loc := cal.Location
	rep = booking.UtilisationReport{SiteID: q.SiteID, TimeZone: sc.TimeZone, TZVersion: sc.TZVersion, From: q.From, To: q.To,
		FromLocal: localString(loc, q.From), ToLocal: localString(loc, q.To), GroupBy: q.GroupBy, Rows: []booking.UtilisationRow{}}
	if rep.GroupBy == nil {
		rep.GroupBy = []booking.Dimension{}
	}

	rows, _ := db.Pool.Query(ctx, `SELECT id, name, kind, active FROM resources WHERE site_id = $1 ORDER BY kind, name, id`, q.SiteID)
	resources, err := pgx.CollectRows(rows, pgx.RowToStructByPos[utilResource])
	if err != nil {
		return rep, formatError(err)
	}
	resourceAt := map[uuid.UUID]int{}
	for i, r := range resources {
		resourceAt[r.ID] = i
	}

	type bookedRow struct {
		ResourceID, ProductionID uuid.UUID
		Status                   booking.Status
		Start, End               time.Time
	}
	rows, _ = db.Pool.Query(ctx, `
		SELECT b.resource_id, b.production_id, b.status, lower(b.during * w.range), upper(b.during * w.range)
		FROM bookings b JOIN resources r ON r.id = b.resource_id CROSS JOIN (SELECT tstzrange($2, $3) AS range) w
		WHERE r.site_id = $1 AND b.during && w.range
		  AND (b.status IN ('confirmed', 'completed') OR (b.status = 'hold' AND b.rank = 1))`,
		q.SiteID, q.From, q.To)
	booked, err := pgx.CollectRows(rows, pgx.RowToStructByPos[bookedRow])
	if err != nil {
		return rep, formatError(err)
	}
	var prodIDs []uuid.UUID
	for _, b := range booked {
		prodIDs = append(prodIDs, b.ProductionID)
	}
	prods := map[uuid.UUID]*utilProduction{}
	rows, _ = db.Pool.Query(ctx, `SELECT p.id, p.emerging, coalesce(o.country, ''), coalesce(o.share_pct, 100)::float8
		FROM productions p LEFT JOIN production_origins o ON o.production_id = p.id
		WHERE p.id = ANY($1) ORDER BY p.id, o.country`, prodIDs)
	var pid uuid.UUID
	var emerging bool
	var country string
	var share float64
	if _, err := pgx.ForEachRow(rows, []any{&pid, &emerging, &country, &share}, func() error {
		p := prods[pid]
		if p == nil {
			p = &utilProduction{emerging: emerging}
			prods[pid] = p
		}
		p.origins = append(p.origins, utilOrigin{country: country, share: share / 100})
		return nil
	}); err != nil {
		return rep, formatError(err)
	}

	// The site-local days of the range and their working time.
	working := cal.WorkingTime(calendar.Interval{Start: q.From, End: q.To}, calendar.Options{})
	var days []utilDay
	last := calendar.DateOf(q.To.Add(-time.Nanosecond).In(loc))
	for d := calendar.DateOf(q.From.In(loc)); !d.After(last); d = d.AddDays(1) {
		win := calendar.Interval{Start: d.At(calendar.Clock{}, loc).UTC(), End: d.AddDays(1).At(calendar.Clock{}, loc).UTC()}
		if win.Start.Before(q.From) {
			win.Start = q.From
		}
		if win.End.After(q.To) {
			win.End = q.To
		}
		if win.IsEmpty() {
			continue
		}
		wd := (int(d.Weekday()) + 6) % 7 // days since Monday
		days = append(days, utilDay{date: d, week: d.AddDays(-wd), window: win, working: working.Clip(win)})
	}

	key := func(r utilResource, d utilDay, country string, emerging int8) utilKey {
		var k utilKey
		for _, dim := range q.GroupBy {
			switch dim {
			case booking.DimResource:
				k.resource = r.ID
			case booking.DimKind:
				k.kind = r.Kind
			case booking.DimCountry:
				k.country = country
			case booking.DimEmerging:
				k.emerging = emerging
			case booking.DimDay:
				k.day = d.date
			case booking.DimWeek:
				k.week = d.week
			}
		}
		return k
	}
	sums := map[utilKey]*utilSums{}
	sum := func(k utilKey) *utilSums {
		s := sums[k]
		if s == nil {
			s = &utilSums{resources: map[uuid.UUID]bool{}}
			sums[k] = s
		}
		return s
	}
	total := &utilSums{resources: map[uuid.UUID]bool{}}

	// Capacity: every active resource, every day.
	for _, r := range resources {
		if !r.Active {
			continue
		}
		total.resources[r.ID] = true
		for _, d := range days {
			h := d.working.Duration().Hours()
			s := sum(key(r, d, "", 0))
			s.working += h
			s.resources[r.ID] = true
			total.working += h
		}
	}

	// Bookings, day by day, split by origin country when asked.
	byCountry, byEmerging := q.Has(booking.DimCountry), q.Has(booking.DimEmerging)
	for _, b := range booked {
		i, ok := resourceAt[b.ResourceID]
		if !ok {
			continue
		}
		r := resources[i]
		p := prods[b.ProductionID]
		if p == nil {
			p = &utilProduction{origins: []utilOrigin{{share: 1}}}
		}
		var em int8
		if byEmerging {
			em = 1
			if p.emerging {
				em = 2
			}
		}
		splits := []utilOrigin{{share: 1}}
		if byCountry {
			splits = p.origins
		}
		first := sort.Search(len(days), func(i int) bool { return days[i].window.End.After(b.Start) })
		for j := first; j < len(days) && days[j].window.Start.Before(b.End); j++ {
			d := days[j]
			part := calendar.Interval{Start: utilLater(b.Start, d.window.Start), End: utilEarlier(b.End, d.window.End)}
			in := d.working.Clip(part).Duration().Hours()
			out := part.Duration().Hours() - in
			confirmed := b.Status == booking.StatusConfirmed || b.Status == booking.StatusCompleted
			if confirmed {
				total.confirmed += in
				total.overtime += out
			} else {
				total.held += in
			}
			for _, o := range splits {
				s := sum(key(r, d, o.country, em))
				if confirmed {
					s.confirmed += in * o.share
					s.overtime += out * o.share
				} else {
					s.held += in * o.share
				}
			}
		}
	}

	onlyBooked := byCountry || byEmerging
	for k, s := range sums {
		capacity := s
		if onlyBooked {
			if s.confirmed == 0 && s.held == 0 && s.overtime == 0 {
				continue
			}
			if c := sums[k.capacityKey()]; c != nil && k != k.capacityKey() {
				capacity = c
			}
		}
		row := utilRow(capacity.working, len(capacity.resources), s)
		for _, dim := range q.GroupBy {
			switch dim {
			case booking.DimResource:
				r := resources[resourceAt[k.resource]]
				id := r.ID
				row.ResourceID, row.ResourceName, row.Kind = &id, r.Name, r.Kind
			case booking.DimKind:
				row.Kind = k.kind
			case booking.DimCountry:
				row.Country = k.country
			case booking.DimEmerging:
				e := k.emerging == 2
				row.Emerging = &e
			case booking.DimDay:
				row.Day = k.day.String()
			case booking.DimWeek:
				row.Week = k.week.String()
			}
		}
		rep.Rows = append(rep.Rows, row)
	}
	slices.SortFunc(rep.Rows, func(x, y booking.UtilisationRow) int {
		for _, dim := range q.GroupBy {
			var c int
			switch dim {
			case booking.DimResource:
				c = cmp.Compare(resourceAt[*x.ResourceID], resourceAt[*y.ResourceID])
			case booking.DimKind:
				c = cmp.Compare(x.Kind, y.Kind)
			case booking.DimCountry:
				c = cmp.Compare(x.Country, y.Country)
			case booking.DimEmerging:
				c = cmp.Compare(utilBoolInt(*x.Emerging), utilBoolInt(*y.Emerging))
			case booking.DimDay:
				c = cmp.Compare(x.Day, y.Day)
			case booking.DimWeek:
				c = cmp.Compare(x.Week, y.Week)
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	rep.Total = utilRow(total.working, len(total.resources), total)
	return rep, nil
}

// utilRow makes a row's figures from its capacity and its booked hours, rounded for
// people: hours to the hundredth, ratios to four places.
func utilRow(working float64, resources int, s *utilSums) booking.UtilisationRow {
	row := booking.UtilisationRow{Resources: resources, WorkingHours: utilRound(working, 2),
		ConfirmedHours: utilRound(s.confirmed, 2), HeldHours: utilRound(s.held, 2), OvertimeHours: utilRound(s.overtime, 2)}
	if working > 0 {
		row.Utilisation = utilRound(s.confirmed/working, 4)
		row.HeldRatio = utilRound(s.held/working, 4)
	}
	return row
}

func utilRound(v float64, places int) float64 {
	p := math.Pow10(places)
	return math.Round(v*p) / p
}

func utilBoolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func utilLater(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func utilEarlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// JobCounts counts River's jobs by queue and state, with when the longest-waiting of
// each was scheduled. Operators and admins (and managers) only.
func (db *DB) JobCounts(ctx context.Context, a booking.Actor) ([]booking.JobCount, error) {
	if !a.SeesAllProductions() {
		return nil, booking.Errorf(booking.EFORBIDDEN, "Your role may not see the job queues.")
	}
	rows, _ := db.Pool.Query(ctx, `SELECT queue, state::text, count(*)::int, min(scheduled_at)
		FROM river_job GROUP BY queue, state ORDER BY queue, state`)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[booking.JobCount])
	if err != nil {
		return nil, formatError(err)
	}
	for i := range out {
		out[i].Oldest = out[i].Oldest.UTC()
	}
	if out == nil {
		out = []booking.JobCount{}
	}
	return out, nil
}
