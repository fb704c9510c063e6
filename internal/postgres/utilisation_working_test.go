package postgres_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/dbtest"
)

// The week of Monday 15 March 2027 in Casablanca is an ordinary one: Monday to Friday
// 09:00-13:00 and 14:00-19:00, Saturday 09:00-13:00, 49 working hours. The fixture's
// mix on Mix Stage A runs into it until Tuesday 13:00: 9 working hours on Monday and 4
// on Tuesday.
const ordinaryWeek, fixtureMixIn15March = 49.0, 9 + 4

func (f *utilFixture) weekOf15March(t *testing.T, dims ...booking.Dimension) booking.UtilisationReport {
	t.Helper()
	return f.report(t, f.at(15, 0), f.at(22, 0), dims...)
}

// row finds the row of a resource (and day, when given) in a report grouped by them.
func row(t *testing.T, rep booking.UtilisationReport, res uuid.UUID, day string) booking.UtilisationRow {
	t.Helper()
	for _, r := range rep.Rows {
		if *r.ResourceID == res && r.Day == day {
			return r
		}
	}
	t.Fatalf("no row for %s %q", res, day)
	return booking.UtilisationRow{}
}

// TestUtilisationNightsAreNotOvertime: a mix booked Monday 09:00 to Friday 19:00
// reserves the stage through four nights, but uses only its 45 working hours; none
// of it is overtime, since it was not booked as overtime.
func TestUtilisationNightsAreNotOvertime(t *testing.T) {
	t.Parallel()
	f := newUtilFixture(t)
	mixB := f.idOf(t, `SELECT id FROM resources WHERE name = 'Mix Stage B'`)
	f.book(t, f.layali, mixB, f.at(15, 9), f.at(19, 19), booking.StatusConfirmed)
	rep := f.weekOf15March(t, booking.DimResource)
	mix := row(t, rep, mixB, "")
	checkRow(t, "mix B, week of 15 March", mix, wantRow{working: ordinaryWeek, confirmed: 45})
	if mix.Utilisation != 0.9184 {
		t.Errorf("mix B utilisation %v, want 45/49", mix.Utilisation)
	}
	checkRow(t, "total", rep.Total, wantRow{working: casablancaResources * ordinaryWeek, confirmed: 45 + fixtureMixIn15March})
	days := f.weekOf15March(t, booking.DimResource, booking.DimDay)
	for day := 15; day <= 19; day++ {
		checkRow(t, fmt.Sprintf("mix B on %d March", day), row(t, days, mixB, fmt.Sprintf("2027-03-%02d", day)), wantRow{working: 9, confirmed: 9})
	}
	checkRow(t, "mix B on Saturday 20 March", row(t, days, mixB, "2027-03-20"), wantRow{working: 4})
}

// TestUtilisationBlocksTakeCapacity: a colourist on leave all week has no working hours
// that week; a weekly maintenance slot takes its two hours from every Monday; and a
// booking's hours are its working time less its resource's blocks.
func TestUtilisationBlocksTakeCapacity(t *testing.T) {
	t.Parallel()
	f := newUtilFixture(t)
	colourist := f.idOf(t, `SELECT id FROM resources WHERE name = 'Yasmine El Alami'`)
	admin := f.actors["admin"]
	if _, err := f.db.AddBlock(f.ctx, admin, booking.Block{ResourceID: colourist, Kind: "leave", Reason: "holiday",
		Start: f.at(15, 0), End: f.at(22, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.AddBlock(f.ctx, admin, booking.Block{ResourceID: f.suite1, Kind: "maintenance", Reason: "calibration",
		Start: f.at(15, 9), End: f.at(15, 11), RRule: "FREQ=WEEKLY;BYDAY=MO"}); err != nil {
		t.Fatal(err)
	}
	// A grade on Tuesday 16 March, and an afternoon of maintenance recorded inside it
	// afterwards (straight into the table: AddBlock refuses a block over a booking).
	f.book(t, f.baobab, f.suite1, f.at(16, 9), f.at(16, 19), booking.StatusConfirmed)
	if _, err := f.db.Pool.Exec(f.ctx, `INSERT INTO resource_blocks (resource_id, during, kind, reason, created_at)
		VALUES ($1, tstzrange($2, $3), 'maintenance', 'lamp', $4)`, f.suite1, f.at(16, 14), f.at(16, 16), f.now); err != nil {
		t.Fatal(err)
	}

	rep := f.weekOf15March(t, booking.DimResource)
	checkRow(t, "colourist on leave", row(t, rep, colourist, ""), wantRow{})
	checkRow(t, "suite 1", row(t, rep, f.suite1, ""), wantRow{working: ordinaryWeek - 2 - 2, confirmed: 9 - 2})
	checkRow(t, "total", rep.Total, wantRow{working: (casablancaResources-1)*ordinaryWeek - 4, confirmed: 7 + fixtureMixIn15March})
	if r := row(t, rep, colourist, ""); r.Resources != 1 || r.Utilisation != 0 {
		t.Errorf("colourist on leave: %+v", r)
	}
	days := f.weekOf15March(t, booking.DimResource, booking.DimDay)
	checkRow(t, "suite 1 on Monday", row(t, days, f.suite1, "2027-03-15"), wantRow{working: 7})
	checkRow(t, "suite 1 on Tuesday", row(t, days, f.suite1, "2027-03-16"), wantRow{working: 7, confirmed: 7})
	// The recurring slot recurs: two Mondays in two weeks.
	two := f.report(t, f.at(15, 0), f.at(29, 0), booking.DimResource)
	checkRow(t, "suite 1, two weeks", row(t, two, f.suite1, ""), wantRow{working: 2*ordinaryWeek - 2*2 - 2, confirmed: 7})
	checkRow(t, "colourist, two weeks", row(t, two, colourist, ""), wantRow{working: ordinaryWeek})
}

// TestUtilisationOverrideShortensCapacity: Ramadan-style hours over an ordinary week
// (Monday to Friday 09:00-15:00, Saturday closed) bring a resource's 49 working hours
// to 30, and a Tuesday 09:00-19:00 booking's 9 hours to 6, with nothing as overtime.
func TestUtilisationOverrideShortensCapacity(t *testing.T) {
	t.Parallel()
	f := newUtilFixture(t)
	f.book(t, f.baobab, f.suite1, f.at(16, 9), f.at(16, 19), booking.StatusConfirmed)
	checkRow(t, "suite 1, ordinary hours", row(t, f.weekOf15March(t, booking.DimResource), f.suite1, ""),
		wantRow{working: ordinaryWeek, confirmed: 9})
	short := []booking.WorkingSpan{{From: "09:00", To: "15:00"}}
	if _, err := f.db.AddOverride(f.ctx, f.actors["admin"], f.site, booking.CalendarOverride{Name: "Short hours", From: "2027-03-15", To: "2027-03-21",
		Week: booking.Week{"monday": short, "tuesday": short, "wednesday": short, "thursday": short, "friday": short}}); err != nil {
		t.Fatal(err)
	}
	rep := f.weekOf15March(t, booking.DimResource)
	checkRow(t, "suite 1, short hours", row(t, rep, f.suite1, ""), wantRow{working: 30, confirmed: 6})
	checkRow(t, "total, short hours", rep.Total, wantRow{working: casablancaResources * 30, confirmed: 6 + 6 + 4}) // and the fixture's mix
}

// TestUtilisationProperty books at random (confirmed bookings and holds, some across
// nights and weekends, some made as overtime) with random blocks, some inside
// bookings, and checks every resource's every day against calendar.UseOf: capacity is
// UseOf(day, blocks).Working, booked hours the sum of UseOf(booking ∩ day,
// blocks).Working, overtime the Closed time of confirmed overtime bookings; so no
// utilisation is above 100 % and booked hours never exceed the capacity.
func TestUtilisationProperty(t *testing.T) {
	t.Parallel()
	f := newUtilFixture(t)
	rng := rand.New(rand.NewPCG(15, 2027))
	cal := dbtest.SiteCalendar(t, f.db, f.site)
	res := []uuid.UUID{f.suite1, f.mixA}
	for _, name := range []string{"Yasmine El Alami", "Ousmane Fall", "Mix Stage B", "Hélène Vasseur"} {
		res = append(res, f.idOf(t, `SELECT id FROM resources WHERE name = $1`, name))
	}
	prods := []uuid.UUID{f.baobab, f.xaritu, f.layali, f.pirogues}
	halfHour := func(lo, n int) time.Time { return f.at(1, 0).Add(time.Duration(lo+rng.IntN(n)) * 30 * time.Minute) }
	var groups []uuid.UUID
	for range 120 {
		start := halfHour(2*10, 2*24*16)                                     // from 1 March 10:00, over 16 days
		end := start.Add(time.Duration(1+rng.IntN(2*40)) * 30 * time.Minute) // up to 40 h
		st := booking.StatusConfirmed
		if rng.IntN(3) == 0 {
			st = booking.StatusHold
		}
		b, err := f.db.Book(f.ctx, f.actors["admin"], booking.BookingInput{ProductionID: prods[rng.IntN(len(prods))],
			ResourceIDs: []uuid.UUID{res[rng.IntN(len(res))]}, Start: start, End: end, Status: st})
		// Refused: the slot is taken, or (unless booked as overtime) wholly closed.
		var be *booking.Error
		if errors.As(err, &be) && (be.Code == booking.ECONFLICT || be.Code == booking.EUNPROCESSABLE) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, b.ID)
	}
	t.Logf("%d of 120 bookings placed", len(groups))
	if len(groups) < 40 {
		t.Fatalf("only %d bookings placed", len(groups))
	}
	// Blocks, straight into the table so that some fall inside bookings, and a daily
	// half hour at noon on the first resource.
	blocks := map[uuid.UUID][]calendar.Interval{}
	for range 12 {
		r := res[rng.IntN(len(res))]
		start := halfHour(0, 2*24*16)
		iv := calendar.Interval{Start: start, End: start.Add(time.Duration(1+rng.IntN(2*36)) * 30 * time.Minute)}
		if _, err := f.db.Pool.Exec(f.ctx, `INSERT INTO resource_blocks (resource_id, during, kind, reason, created_at)
			VALUES ($1, tstzrange($2, $3), 'leave', 'random', $4)`, r, iv.Start, iv.End, f.now); err != nil {
			t.Fatal(err)
		}
		blocks[r] = append(blocks[r], iv)
	}
	if _, err := f.db.Pool.Exec(f.ctx, `INSERT INTO resource_blocks (resource_id, during, kind, reason, rrule, created_at)
		VALUES ($1, tstzrange($2, $3), 'maintenance', 'noon', 'FREQ=DAILY;COUNT=20', $4)`, res[0], f.at(1, 12), f.at(1, 12).Add(30*time.Minute), f.now); err != nil {
		t.Fatal(err)
	}
	for d := range 20 { // Casablanca is on +00:00 all of 2027
		blocks[res[0]] = append(blocks[res[0]], calendar.Interval{Start: f.at(1+d, 12), End: f.at(1+d, 12).Add(30 * time.Minute)})
	}

	type counted struct {
		resource  uuid.UUID
		confirmed bool
		overtime  bool
		iv        calendar.Interval
	}
	read := func() []counted {
		var out []counted
		rows, _ := f.db.Pool.Query(f.ctx, `SELECT b.resource_id, b.status IN ('confirmed', 'completed'), g.overtime, lower(b.during), upper(b.during)
			FROM bookings b JOIN booking_groups g ON g.id = b.group_id
			WHERE b.status IN ('confirmed', 'completed') OR (b.status = 'hold' AND b.rank = 1)`)
		defer rows.Close()
		for rows.Next() {
			var c counted
			if err := rows.Scan(&c.resource, &c.confirmed, &c.overtime, &c.iv.Start, &c.iv.End); err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	clip := func(iv, w calendar.Interval) calendar.Interval {
		if iv.Start.Before(w.Start) {
			iv.Start = w.Start
		}
		if iv.End.After(w.End) {
			iv.End = w.End
		}
		return iv
	}
	check := func(what string, from, to time.Time, withOvertime bool) {
		rep := f.report(t, from, to, booking.DimResource, booking.DimDay)
		var sum wantRow
		for _, r := range rep.Rows {
			if r.Utilisation > 1 || r.ConfirmedHours+r.HeldHours > r.WorkingHours+0.005 {
				t.Errorf("%s: %s on %s books more than its working time: %+v", what, r.ResourceName, r.Day, r)
			}
			if !withOvertime && r.OvertimeHours != 0 {
				t.Errorf("%s: %s on %s has overtime without an overtime booking: %+v", what, r.ResourceName, r.Day, r)
			}
			sum.working += r.WorkingHours
			sum.confirmed += r.ConfirmedHours
			sum.held += r.HeldHours
			sum.overtime += r.OvertimeHours
		}
		checkRow(t, what+": total against the rows", rep.Total, sum)
		all := read()
		for _, rid := range res {
			bs := calendar.Normalize(blocks[rid]...)
			for day := calendar.DateOf(from); day.Before(calendar.DateOf(to.Add(-time.Nanosecond)).AddDays(1)); day = day.AddDays(1) {
				win := clip(calendar.Interval{Start: day.At(calendar.Clock{}, time.UTC), End: day.AddDays(1).At(calendar.Clock{}, time.UTC)},
					calendar.Interval{Start: from, End: to})
				want := wantRow{working: cal.UseOf(win, bs).Working.Duration().Hours()}
				for _, c := range all {
					if c.resource != rid || !c.iv.Overlaps(win) {
						continue
					}
					u := cal.UseOf(clip(c.iv, win), bs)
					switch {
					case c.confirmed:
						want.confirmed += u.Working.Duration().Hours()
						if c.overtime {
							want.overtime += u.Closed.Duration().Hours()
						}
					default:
						want.held += u.Working.Duration().Hours()
					}
				}
				checkRow(t, fmt.Sprintf("%s: %s on %s", what, rid, day), row(t, rep, rid, day.String()), want)
			}
		}
	}
	// Whole days, then a range that starts and ends inside days.
	check("as booked", f.at(1, 0), f.at(15, 0), false)
	check("as booked, partial days", f.at(4, 0).Add(12*time.Hour+30*time.Minute), f.at(11, 7), false)
	// Half of the bookings made as overtime.
	var ot []uuid.UUID
	for i, g := range groups {
		if i%2 == 0 {
			ot = append(ot, g)
		}
	}
	f.markOvertime(t, ot...)
	check("overtime", f.at(1, 0), f.at(15, 0), true)
	check("overtime, partial days", f.at(4, 0).Add(12*time.Hour+30*time.Minute), f.at(11, 7), true)
}
