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

// utilPeriod is a part of the range the figures are summed over: one site-local date
// when the query groups by day or week, else the whole range.
type utilPeriod struct {
	date   calendar.Date
	week   calendar.Date
	window calendar.Interval
}

// utilKey is a group of the figures; only the fields of the query's dimensions are
// set. resource is the resource's index in utilData.resources plus one, 0 when unset;
// emerging is 0 when unset, 1 for no, 2 for yes.
type utilKey struct {
	resource int
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
	// resources counts the resources whose capacity the group holds; last is the
	// index plus one of the last one counted (the capacity is summed resource by
	// resource).
	resources, last int
}

// addCapacity adds h hours of resource i's capacity.
func (s *utilSums) addCapacity(i int, h float64) {
	s.working += h
	if s.last != i+1 {
		s.resources, s.last = s.resources+1, i+1
	}
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

// utilBooking is one resource's booking, clipped to the range. Overtime is its
// group's flag (booking_groups.overtime): booked as overtime, its time outside working
// hours is counted, as overtime; otherwise only its working time is.
type utilBooking struct {
	ResourceID, ProductionID, GroupID uuid.UUID
	Status                            booking.Status
	Start, End                        time.Time
	Overtime                          bool
}

// utilData is what the figures are made of, as read from the database.
type utilData struct {
	resources []utilResource
	// blocks are each resource's blocks in the range (recurring ones expanded).
	blocks   map[uuid.UUID]calendar.Set
	bookings []utilBooking
	prods    map[uuid.UUID]*utilProduction
}

// Utilisation reports how much of a site's working time is booked in [q.From, q.To).
// Working time is calendar.UseOf's, the one definition posthub sells and counts: the
// site's working week, period overrides (Ramadan hours) and holidays (provisional ones
// are working days until a manager settles them), less each resource's own blocks
// (leave, maintenance, closures; recurring ones expanded in the site's zone). So a
// resource's capacity is UseOf(range, its blocks).Working, and a booking counts
// UseOf(booking ∩ range, its resource's blocks).Working; the rest of its interval
// (Closed) counts, as overtime, only for a confirmed booking made as overtime. The
// bookings are read clipped to the range by PostgreSQL (tstzrange intersection); the
// calendar is expanded once per request, in Go with the embedded tz database.
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
	d, err := db.utilisationData(ctx, q)
	if err != nil {
		return rep, formatError(err)
	}
	rep.Rows, rep.Total = d.figures(q, cal)
	return rep, nil
}

// utilisationData reads the site's resources, their blocks, the bookings that count
// (confirmed, completed and first holds) clipped to the range, and their productions.
func (db *DB) utilisationData(ctx context.Context, q booking.UtilisationQuery) (*utilData, error) {
	d := &utilData{prods: map[uuid.UUID]*utilProduction{}}
	// The groups booked as overtime are read by their own interval (a group's bookings
	// share it) rather than joined to every booking: they are few, a partial index
	// finds them, and a join to booking_groups would cost a scan of it.
	overtime, err := overtimeGroups(ctx, db.Pool, q.SiteID, q.From, q.To)
	if err != nil {
		return nil, err
	}
	rows, _ := db.Pool.Query(ctx, `SELECT id, name, kind, active FROM resources WHERE site_id = $1 ORDER BY kind, name, id`, q.SiteID)
	if d.resources, err = pgx.CollectRows(rows, pgx.RowToStructByPos[utilResource]); err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, len(d.resources))
	for i, r := range d.resources {
		ids[i] = r.ID
	}
	if d.blocks, err = resourceBlocks(ctx, db.Pool, ids, q.From, q.To); err != nil {
		return nil, err
	}
	rows, _ = db.Pool.Query(ctx, `
		SELECT b.resource_id, b.production_id, b.group_id, b.status, lower(b.during * w.range), upper(b.during * w.range)
		FROM bookings b JOIN resources r ON r.id = b.resource_id CROSS JOIN (SELECT tstzrange($2, $3) AS range) w
		WHERE r.site_id = $1 AND b.during && w.range
		  AND (b.status IN ('confirmed', 'completed') OR (b.status = 'hold' AND b.rank = 1))`,
		q.SiteID, q.From, q.To)
	var b utilBooking
	if _, err := pgx.ForEachRow(rows, []any{&b.ResourceID, &b.ProductionID, &b.GroupID, &b.Status, &b.Start, &b.End}, func() error {
		d.bookings = append(d.bookings, b)
		return nil
	}); err != nil {
		return nil, err
	}
	seen := map[uuid.UUID]bool{}
	var prodIDs []uuid.UUID
	for i := range d.bookings {
		b := &d.bookings[i]
		b.Overtime = overtime[b.GroupID]
		if !seen[b.ProductionID] {
			seen[b.ProductionID] = true
			prodIDs = append(prodIDs, b.ProductionID)
		}
	}
	if len(prodIDs) == 0 {
		return d, nil
	}
	rows, _ = db.Pool.Query(ctx, `SELECT p.id, p.emerging, coalesce(o.country, ''), coalesce(o.share_pct, 100)::float8
		FROM productions p LEFT JOIN production_origins o ON o.production_id = p.id
		WHERE p.id = ANY($1) ORDER BY p.id, o.country`, prodIDs)
	var pid uuid.UUID
	var emerging bool
	var country string
	var share float64
	if _, err := pgx.ForEachRow(rows, []any{&pid, &emerging, &country, &share}, func() error {
		p := d.prods[pid]
		if p == nil {
			p = &utilProduction{emerging: emerging}
			d.prods[pid] = p
		}
		p.origins = append(p.origins, utilOrigin{country: country, share: share / 100})
		return nil
	}); err != nil {
		return nil, err
	}
	return d, nil
}

// overtimeGroups reads which of a site's booking groups overlapping [from, to) were
// booked as overtime.
func overtimeGroups(ctx context.Context, q querier, site uuid.UUID, from, to time.Time) (map[uuid.UUID]bool, error) {
	rows, _ := q.Query(ctx, `SELECT id FROM booking_groups WHERE site_id = $1 AND overtime AND start_at < $3 AND end_at > $2`, site, from, to)
	out := map[uuid.UUID]bool{}
	var id uuid.UUID
	_, err := pgx.ForEachRow(rows, []any{&id}, func() error {
		out[id] = true
		return nil
	})
	return out, err
}

// utilUse is calendar.UseOf(part, blocks) for a part of the range, made from avail,
// the resource's working time in the whole range (the calendar's working time less
// the blocks, worked out once): Working is avail inside part, the same set UseOf
// derives from the calendar, without expanding the calendar again. Closed, the rest of
// part less the blocks, is worked out only when asked.
func utilUse(avail, blocks calendar.Set, part calendar.Interval, withClosed bool) (working, closed time.Duration) {
	w := avail.Clip(part)
	working = w.Duration()
	if withClosed {
		closed = calendar.Set{part}.Subtract(blocks).Subtract(w).Duration()
	}
	return working, closed
}

// figures sums the data into the query's rows and total. The calendar is expanded
// once for the range, each resource's blocks are taken out of it once, and each
// booking then takes its part of its resource's set.
func (d *utilData) figures(q booking.UtilisationQuery, cal *calendar.Calendar) ([]booking.UtilisationRow, booking.UtilisationRow) {
	loc := cal.Location
	rangeIv := calendar.Interval{Start: q.From, End: q.To}
	working := cal.WorkingTime(rangeIv, calendar.Options{})
	resources := d.resources
	resourceAt := make(map[uuid.UUID]int, len(resources))
	avail := make([]calendar.Set, len(resources))
	for i, r := range resources {
		resourceAt[r.ID] = i
		avail[i] = working
		if bs := d.blocks[r.ID]; len(bs) > 0 {
			avail[i] = working.Subtract(bs)
		}
	}

	// The site-local days of the range when grouped by them, else the range at once.
	periods := []utilPeriod{{window: rangeIv}}
	if q.Has(booking.DimDay) || q.Has(booking.DimWeek) {
		periods = periods[:0]
		last := calendar.DateOf(q.To.Add(-time.Nanosecond).In(loc))
		for day := calendar.DateOf(q.From.In(loc)); !day.After(last); day = day.AddDays(1) {
			win := calendar.Interval{Start: day.At(calendar.Clock{}, loc).UTC(), End: day.AddDays(1).At(calendar.Clock{}, loc).UTC()}
			win.Start, win.End = utilLater(win.Start, q.From), utilEarlier(win.End, q.To)
			if win.IsEmpty() {
				continue
			}
			wd := (int(day.Weekday()) + 6) % 7 // days since Monday
			periods = append(periods, utilPeriod{date: day, week: day.AddDays(-wd), window: win})
		}
	}

	key := func(i int, p utilPeriod, country string, emerging int8) utilKey {
		var k utilKey
		for _, dim := range q.GroupBy {
			switch dim {
			case booking.DimResource:
				k.resource = i + 1
			case booking.DimKind:
				k.kind = resources[i].Kind
			case booking.DimCountry:
				k.country = country
			case booking.DimEmerging:
				k.emerging = emerging
			case booking.DimDay:
				k.day = p.date
			case booking.DimWeek:
				k.week = p.week
			}
		}
		return k
	}
	// Dates are named once each, and the groups sized for the dimensions that divide
	// the capacity most.
	dates := make(map[calendar.Date]string, len(periods))
	for _, p := range periods {
		dates[p.date], dates[p.week] = p.date.String(), p.week.String()
	}
	hint := 1
	if q.Has(booking.DimResource) {
		hint *= len(resources)
	}
	if q.Has(booking.DimDay) {
		hint *= len(periods)
	}
	sums := make(map[utilKey]*utilSums, hint)
	sum := func(k utilKey) *utilSums {
		s := sums[k]
		if s == nil {
			s = &utilSums{}
			sums[k] = s
		}
		return s
	}
	total := &utilSums{}

	// Capacity: every active resource's working time, every period; the site's, for
	// the resources without blocks, is clipped once per period.
	siteHours := make([]float64, len(periods))
	for j, p := range periods {
		siteHours[j] = working.Clip(p.window).Duration().Hours()
	}
	for i, r := range resources {
		if !r.Active {
			continue
		}
		blocked := len(d.blocks[r.ID]) > 0
		for j, p := range periods {
			h := siteHours[j]
			if blocked {
				h = avail[i].Clip(p.window).Duration().Hours()
			}
			sum(key(i, p, "", 0)).addCapacity(i, h)
			total.addCapacity(i, h)
		}
	}

	// Bookings, period by period, split by origin country when asked.
	byCountry, byEmerging := q.Has(booking.DimCountry), q.Has(booking.DimEmerging)
	for _, b := range d.bookings {
		i, ok := resourceAt[b.ResourceID]
		if !ok {
			continue
		}
		p := d.prods[b.ProductionID]
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
		confirmed := b.Status == booking.StatusConfirmed || b.Status == booking.StatusCompleted
		overtime := confirmed && b.Overtime
		first := sort.Search(len(periods), func(i int) bool { return periods[i].window.End.After(b.Start) })
		for j := first; j < len(periods) && periods[j].window.Start.Before(b.End); j++ {
			per := periods[j]
			part := calendar.Interval{Start: utilLater(b.Start, per.window.Start), End: utilEarlier(b.End, per.window.End)}
			w, c := utilUse(avail[i], d.blocks[b.ResourceID], part, overtime)
			in, out := w.Hours(), c.Hours()
			if confirmed {
				total.confirmed += in
				total.overtime += out
			} else {
				total.held += in
			}
			for _, o := range splits {
				s := sum(key(i, per, o.country, em))
				if confirmed {
					s.confirmed += in * o.share
					s.overtime += out * o.share
				} else {
					s.held += in * o.share
				}
			}
		}
	}

	keys := make([]utilKey, 0, len(sums))
	onlyBooked := byCountry || byEmerging
	for k, s := range sums {
		if onlyBooked && s.confirmed == 0 && s.held == 0 && s.overtime == 0 {
			continue
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y utilKey) int {
		for _, dim := range q.GroupBy {
			var c int
			switch dim {
			case booking.DimResource:
				c = cmp.Compare(x.resource, y.resource)
			case booking.DimKind:
				c = cmp.Compare(x.kind, y.kind)
			case booking.DimCountry:
				c = cmp.Compare(x.country, y.country)
			case booking.DimEmerging:
				c = cmp.Compare(x.emerging, y.emerging)
			case booking.DimDay:
				c = x.day.Compare(y.day)
			case booking.DimWeek:
				c = x.week.Compare(y.week)
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	out := make([]booking.UtilisationRow, 0, len(keys))
	for _, k := range keys {
		s := sums[k]
		capacity := s
		if onlyBooked {
			if c := sums[k.capacityKey()]; c != nil && k != k.capacityKey() {
				capacity = c
			}
		}
		row := utilRow(capacity.working, capacity.resources, s)
		for _, dim := range q.GroupBy {
			switch dim {
			case booking.DimResource:
				r := resources[k.resource-1]
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
				row.Day = dates[k.day]
			case booking.DimWeek:
				row.Week = dates[k.week]
			}
		}
		out = append(out, row)
	}
	return out, utilRow(total.working, total.resources, total)
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
// each was scheduled, and the due notices not yet enqueued (queue reminders, state
// due_notice, with the earliest due time): the reminders and expiry warnings to come,
// which an earlier release kept as scheduled jobs. Operators and admins (and
// managers) only.
func (db *DB) JobCounts(ctx context.Context, a booking.Actor) ([]booking.JobCount, error) {
	if !a.SeesAllProductions() {
		return nil, booking.Errorf(booking.EFORBIDDEN, "Your role may not see the job queues.")
	}
	rows, _ := db.Pool.Query(ctx, `SELECT queue, state::text, count(*)::int, min(scheduled_at)
		FROM river_job GROUP BY queue, state
		UNION ALL
		SELECT 'reminders', 'due_notice', count(*)::int, min(due_at) FROM booking_due_notices HAVING count(*) > 0
		ORDER BY 1, 2`)
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
