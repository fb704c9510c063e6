package postgres_test

import (
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// utilFixture is the demo data with a handful of bookings in the first two weeks of
// March 2027 in Casablanca, where the offset is +00:00 all year and Ramadan hours
// (Monday to Friday 09:00-15:00, Saturday closed) run until 9 March, then the ordinary
// week (09:00-13:00 and 14:00-19:00, Saturday 09:00-13:00).
type utilFixture struct {
	*fixture
	site     uuid.UUID
	suite1   uuid.UUID // Grading Suite 1
	mixA     uuid.UUID // Mix Stage A
	baobab   uuid.UUID // SN 60 / MA 40
	xaritu   uuid.UUID // SN 100, emerging
	layali   uuid.UUID // MA 70 / FR 30
	pirogues uuid.UUID // SN 50 / MA 30 / FR 20, emerging
	grade    uuid.UUID // Baobab's confirmed grade on suite 1, 2 March 10:00-16:00
	mix      uuid.UUID // Layali's confirmed mix on mix A, 12 March 14:00 to 16 March 13:00
}

func (f *fixture) idOf(t testing.TB, query string, args ...any) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := f.db.Pool.QueryRow(f.ctx, query, args...).Scan(&id); err != nil {
		t.Fatalf("%s %v: %v", query, args, err)
	}
	return id
}

// site is the id of the demo hub's site with this slug.
func (f *fixture) site(t testing.TB, slug string) uuid.UUID {
	t.Helper()
	return f.idOf(t, `SELECT id FROM sites WHERE slug = $1`, slug)
}

func newUtilFixture(t *testing.T) *utilFixture {
	f := &utilFixture{fixture: newFixture(t)}
	f.site = f.idOf(t, `SELECT id FROM sites WHERE slug = 'casablanca'`)
	res := `SELECT id FROM resources WHERE name = $1`
	f.suite1 = f.idOf(t, res, "Grading Suite 1 — Zellige")
	f.mixA = f.idOf(t, res, "Mix Stage A")
	prod := `SELECT id FROM productions WHERE title = $1`
	f.baobab = f.idOf(t, prod, "Le Souffle du Baobab")
	f.xaritu = f.idOf(t, prod, "Xaritu Ndox")
	f.layali = f.idOf(t, prod, "Layali Derb Sultan")
	f.pirogues = f.idOf(t, prod, "Les Pirogues de Guet Ndar")

	f.grade = f.book(t, f.baobab, f.suite1, f.at(2, 10), f.at(2, 16), booking.StatusConfirmed).ID // 5h in Ramadan hours, 1h after
	f.book(t, f.xaritu, f.suite1, f.at(3, 9), f.at(3, 12), booking.StatusHold)                    // first hold: 3h
	f.book(t, f.pirogues, f.suite1, f.at(3, 10), f.at(3, 11), booking.StatusHold)                 // second hold: not counted
	f.mix = f.book(t, f.layali, f.mixA, f.at(12, 14), f.at(16, 13), booking.StatusConfirmed).ID   // runs past the range
	gone := f.book(t, f.pirogues, f.mixA, f.at(4, 9), f.at(4, 12), booking.StatusHold)            // released: not counted
	if _, err := f.db.Act(f.ctx, f.actors["admin"], gone.ID, booking.ActionRelease, booking.ActOptions{}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *utilFixture) book(t *testing.T, prod, res uuid.UUID, start, end time.Time, st booking.Status) booking.Booking {
	t.Helper()
	b, err := f.db.Book(f.ctx, f.actors["admin"], booking.BookingInput{ProductionID: prod, ResourceIDs: []uuid.UUID{res},
		Start: start, End: end, Status: st})
	if err != nil {
		t.Fatalf("booking %v-%v: %v", start, end, err)
	}
	return b
}

// markOvertime makes bookings as if booked as overtime (booking_groups.overtime): their
// time outside working hours then counts, as overtime.
func (f *fixture) markOvertime(t *testing.T, ids ...uuid.UUID) {
	t.Helper()
	if _, err := f.db.Pool.Exec(f.ctx, `UPDATE booking_groups SET overtime = true WHERE id = ANY($1)`, ids); err != nil {
		t.Fatal(err)
	}
}

func (f *utilFixture) report(t *testing.T, from, to time.Time, dims ...booking.Dimension) booking.UtilisationReport {
	t.Helper()
	rep, err := f.db.Utilisation(f.ctx, f.actors["operator"], booking.UtilisationQuery{SiteID: f.site, From: from, To: to, GroupBy: dims})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.006 }

type wantRow struct{ working, confirmed, held, overtime float64 }

func checkRow(t *testing.T, what string, got booking.UtilisationRow, want wantRow) {
	t.Helper()
	if !near(got.WorkingHours, want.working) || !near(got.ConfirmedHours, want.confirmed) ||
		!near(got.HeldHours, want.held) || !near(got.OvertimeHours, want.overtime) {
		t.Errorf("%s: working %v confirmed %v held %v overtime %v, want %+v", what,
			got.WorkingHours, got.ConfirmedHours, got.HeldHours, got.OvertimeHours, want)
	}
	if want.working > 0 && !near(got.Utilisation, want.confirmed/want.working) {
		t.Errorf("%s: utilisation %v, want %v", what, got.Utilisation, want.confirmed/want.working)
	}
}

// Casablanca has 24 active resources; each has 73 working hours from 1 to 14 March
// 2027: five Ramadan days of 6h, two more (8-9 March), three ordinary days of 9h and a
// Saturday morning.
const casablancaResources, hoursPerResource = 24, 73.0

// TestUtilisationTotalsAndGroups reads the fixture grouped every way, twice: as
// booked, when only working time counts and nothing is overtime (the mix running
// through a weekend uses its working hours, not its nights), and with the two confirmed
// bookings made as overtime, when their time outside working hours counts apart.
func TestUtilisationTotalsAndGroups(t *testing.T) {
	t.Parallel()
	for _, overtime := range []bool{false, true} {
		t.Run(map[bool]string{false: "as booked", true: "booked as overtime"}[overtime], func(t *testing.T) {
			t.Parallel()
			f := newUtilFixture(t)
			// ot is a figure of overtime: counted only for bookings made as overtime.
			ot := func(float64) float64 { return 0 }
			if overtime {
				f.markOvertime(t, f.grade, f.mix)
				ot = func(h float64) float64 { return h }
			}
			checkUtilisationGroups(t, f, ot)
		})
	}
}

func checkUtilisationGroups(t *testing.T, f *utilFixture, ot func(float64) float64) {
	t.Helper()
	from, to := f.at(1, 0), f.at(15, 0)

	total := f.report(t, from, to)
	if len(total.Rows) != 1 || total.TimeZone != "Africa/Casablanca" || total.FromLocal != "2027-03-01T00:00:00+00:00" {
		t.Fatalf("no grouping: %d rows, zone %q, from %q", len(total.Rows), total.TimeZone, total.FromLocal)
	}
	// Layali's mix runs 12 March 14:00 to 16 March 13:00: inside the range, 5h on the
	// 12th and 4h on Saturday the 13th are working time, the other 49h closed (overtime
	// when booked as such); Baobab's grade has 1h after Ramadan hours.
	want := wantRow{working: casablancaResources * hoursPerResource, confirmed: 5 + 9, held: 3, overtime: ot(1 + 49)}
	checkRow(t, "total", total.Total, want)
	checkRow(t, "single row", total.Rows[0], want)
	if total.Total.Resources != casablancaResources {
		t.Errorf("total counts %d resources", total.Total.Resources)
	}

	// Resource × day: every active resource every day, zeros included.
	heat := f.report(t, from, to, booking.DimResource, booking.DimDay)
	if len(heat.Rows) != casablancaResources*14 {
		t.Fatalf("resource×day: %d rows, want %d", len(heat.Rows), casablancaResources*14)
	}
	cell := func(res uuid.UUID, day string) booking.UtilisationRow {
		for _, r := range heat.Rows {
			if *r.ResourceID == res && r.Day == day {
				return r
			}
		}
		t.Fatalf("no cell %s %s", res, day)
		return booking.UtilisationRow{}
	}
	checkRow(t, "suite 1 on 2 March", cell(f.suite1, "2027-03-02"), wantRow{working: 6, confirmed: 5, overtime: ot(1)})
	checkRow(t, "suite 1 on 3 March", cell(f.suite1, "2027-03-03"), wantRow{working: 6, held: 3})
	checkRow(t, "suite 1 on Saturday 6 March (Ramadan: closed)", cell(f.suite1, "2027-03-06"), wantRow{})
	checkRow(t, "mix A on 12 March", cell(f.mixA, "2027-03-12"), wantRow{working: 9, confirmed: 5, overtime: ot(5)})
	checkRow(t, "mix A on 13 March", cell(f.mixA, "2027-03-13"), wantRow{working: 4, confirmed: 4, overtime: ot(20)})
	checkRow(t, "mix A on Sunday 14 March", cell(f.mixA, "2027-03-14"), wantRow{overtime: ot(24)})
	if c := cell(f.suite1, "2027-03-02"); c.ResourceName != "Grading Suite 1 — Zellige" || c.Kind != "grading_suite" || c.Resources != 1 {
		t.Errorf("cell names %q %q, %d resources", c.ResourceName, c.Kind, c.Resources)
	}
	if heat.Rows[0].Day != "2027-03-01" || heat.Rows[1].Day != "2027-03-02" || *heat.Rows[0].ResourceID != *heat.Rows[13].ResourceID {
		t.Errorf("rows not ordered by resource, then day: %+v %+v", heat.Rows[0], heat.Rows[1])
	}

	// Kind × week: weeks named by their Monday.
	kw := f.report(t, from, to, booking.DimKind, booking.DimWeek)
	find := func(kind, week string) booking.UtilisationRow {
		for _, r := range kw.Rows {
			if r.Kind == kind && r.Week == week {
				return r
			}
		}
		t.Fatalf("no row %s %s in %+v", kind, week, kw.Rows)
		return booking.UtilisationRow{}
	}
	checkRow(t, "grading suites, week of 1 March", find("grading_suite", "2027-03-01"), wantRow{working: 3 * 30, confirmed: 5, held: 3, overtime: ot(1)})
	checkRow(t, "mix stages, week of 8 March", find("mix_stage", "2027-03-08"), wantRow{working: 2 * 43, confirmed: 9, overtime: ot(49)})
	if r := find("grading_suite", "2027-03-08"); r.Resources != 3 {
		t.Errorf("grading suites: %d resources", r.Resources)
	}

	// Origin country: co-productions split by their shares; capacity is the site's.
	byCountry := f.report(t, from, to, booking.DimCountry)
	got := map[string]booking.UtilisationRow{}
	for _, r := range byCountry.Rows {
		got[r.Country] = r
	}
	if len(byCountry.Rows) != 3 || byCountry.Rows[0].Country != "FR" || byCountry.Rows[2].Country != "SN" {
		t.Fatalf("countries %+v", byCountry.Rows)
	}
	site := casablancaResources * hoursPerResource
	checkRow(t, "MA", got["MA"], wantRow{working: site, confirmed: 5*0.4 + 9*0.7, overtime: ot(1*0.4 + 49*0.7)})
	checkRow(t, "SN", got["SN"], wantRow{working: site, confirmed: 5 * 0.6, held: 3, overtime: ot(0.6)})
	checkRow(t, "FR", got["FR"], wantRow{working: site, confirmed: 9 * 0.3, overtime: ot(49 * 0.3)})

	// Emerging filmmakers: only Xaritu's first hold.
	em := f.report(t, from, to, booking.DimEmerging)
	if len(em.Rows) != 2 || *em.Rows[0].Emerging || !*em.Rows[1].Emerging {
		t.Fatalf("emerging rows %+v", em.Rows)
	}
	checkRow(t, "not emerging", em.Rows[0], wantRow{working: site, confirmed: 14, overtime: ot(50)})
	checkRow(t, "emerging", em.Rows[1], wantRow{working: site, held: 3})

	// Country within kind: the capacity is the kind's.
	kc := f.report(t, from, to, booking.DimKind, booking.DimCountry)
	for _, r := range kc.Rows {
		if r.Kind == "grading_suite" && r.Country == "SN" {
			checkRow(t, "grading suites, SN", r, wantRow{working: 3 * hoursPerResource, confirmed: 3, held: 3, overtime: ot(0.6)})
		}
	}
}

func TestUtilisationClipsToTheRange(t *testing.T) {
	t.Parallel()
	f := newUtilFixture(t)
	// From 2 March 12:00 to 12 March 16:00: the suite's booking counts from noon (3h
	// of work; its hour after Ramadan hours is closed time, overtime only when booked
	// as overtime), the mix until 16:00 (2h).
	rep := f.report(t, f.at(2, 12), f.at(12, 16), booking.DimResource)
	// 2 March from noon, 3-5 and 8-9 March in Ramadan hours, 10-11 March whole, 12 March
	// until 16:00.
	const clipped = 3 + 3*6 + 2*6 + 2*9 + (4 + 2)
	for _, r := range rep.Rows {
		switch *r.ResourceID {
		case f.suite1:
			checkRow(t, "suite 1", r, wantRow{working: clipped, confirmed: 3, held: 3})
		case f.mixA:
			checkRow(t, "mix A", r, wantRow{working: clipped, confirmed: 2})
		}
	}
	// Booked as overtime, the suite's hour after 15:00 counts, and the mix's evening
	// from 16:00 is outside the range.
	f.markOvertime(t, f.grade, f.mix)
	for _, r := range f.report(t, f.at(2, 12), f.at(12, 16), booking.DimResource).Rows {
		switch *r.ResourceID {
		case f.suite1:
			checkRow(t, "suite 1, overtime", r, wantRow{working: clipped, confirmed: 3, held: 3, overtime: 1})
		case f.mixA:
			checkRow(t, "mix A, overtime", r, wantRow{working: clipped, confirmed: 2})
		}
	}
	// The days of a range that starts and ends inside a day are still whole dates.
	days := f.report(t, f.at(2, 12), f.at(12, 16), booking.DimDay)
	if len(days.Rows) != 11 || days.Rows[0].Day != "2027-03-02" || days.Rows[10].Day != "2027-03-12" {
		t.Errorf("days %d: %+v", len(days.Rows), days.Rows)
	}
}

// TestUtilisationDaysAreSiteLocal puts a site in Tokyo (UTC+09:00), where a booking
// from 23:00 to 01:00 UTC is one local morning, and checks days and working hours are
// the site's.
func TestUtilisationDaysAreSiteLocal(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	site := f.idOf(t, `INSERT INTO sites (slug, name, country, time_zone, currency) VALUES ('tokyo', 'Test Tokyo', 'JP', 'Asia/Tokyo', 'JPY') RETURNING id`)
	for day := 1; day <= 5; day++ {
		if _, err := f.db.Pool.Exec(f.ctx, `INSERT INTO site_week_spans (site_id, weekday, from_min, to_min) VALUES ($1, $2, 540, 1080)`, site, day); err != nil {
			t.Fatal(err)
		}
	}
	room := f.idOf(t, `INSERT INTO resources (site_id, name, category, kind) VALUES ($1, 'Tokyo Suite', 'room', 'grading_suite') RETURNING id`, site)
	prod := f.idOf(t, `SELECT id FROM productions WHERE title = 'Sable et Sel'`)
	var ids []uuid.UUID
	for _, iv := range [][2]time.Time{
		{time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 2, 3, 0, 0, 0, time.UTC)},  // Tue 09:00-12:00 JST
		{time.Date(2027, 3, 2, 23, 0, 0, 0, time.UTC), time.Date(2027, 3, 3, 1, 0, 0, 0, time.UTC)}, // Wed 08:00-10:00 JST
	} {
		b, err := f.db.Book(f.ctx, f.actors["admin"], booking.BookingInput{ProductionID: prod, ResourceIDs: []uuid.UUID{room},
			Start: iv[0], End: iv[1], Status: booking.StatusConfirmed})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	from := time.Date(2027, 3, 1, 15, 0, 0, 0, time.UTC) // 2 March 00:00 JST
	report := func() booking.UtilisationReport {
		rep, err := f.db.Utilisation(f.ctx, f.actors["manager"], booking.UtilisationQuery{SiteID: site, From: from, To: from.Add(48 * time.Hour),
			GroupBy: []booking.Dimension{booking.DimDay}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.FromLocal != "2027-03-02T00:00:00+09:00" || len(rep.Rows) != 2 {
			t.Fatalf("from_local %q, rows %+v", rep.FromLocal, rep.Rows)
		}
		if rep.Rows[0].Day != "2027-03-02" || rep.Rows[1].Day != "2027-03-03" {
			t.Errorf("days %q %q", rep.Rows[0].Day, rep.Rows[1].Day)
		}
		return rep
	}
	// The Wednesday booking's hour before 09:00 JST is closed time: not counted ...
	rep := report()
	checkRow(t, "2 March JST", rep.Rows[0], wantRow{working: 9, confirmed: 3})
	checkRow(t, "3 March JST", rep.Rows[1], wantRow{working: 9, confirmed: 1})
	// ... unless the booking was made as overtime.
	f.markOvertime(t, ids...)
	rep = report()
	checkRow(t, "2 March JST, overtime", rep.Rows[0], wantRow{working: 9, confirmed: 3})
	checkRow(t, "3 March JST, overtime", rep.Rows[1], wantRow{working: 9, confirmed: 1, overtime: 1})
}

func TestUtilisationRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	site := f.idOf(t, `SELECT id FROM sites WHERE slug = 'dakar'`)
	from, to := f.at(1, 0), f.at(8, 0)
	q := func(who string, q booking.UtilisationQuery) error {
		_, err := f.db.Utilisation(f.ctx, f.actors[who], q)
		return err
	}
	wantCode(t, q("producer", booking.UtilisationQuery{SiteID: site, From: from, To: to}), booking.EFORBIDDEN)
	wantCode(t, q("operator", booking.UtilisationQuery{SiteID: uuid.New(), From: from, To: to}), booking.ENOTFOUND)
	wantCode(t, q("operator", booking.UtilisationQuery{SiteID: site, From: to, To: from}), booking.EUNPROCESSABLE)
	wantCode(t, q("operator", booking.UtilisationQuery{SiteID: site, From: from, To: from.AddDate(2, 0, 0)}), booking.EUNPROCESSABLE)
	wantCode(t, q("operator", booking.UtilisationQuery{SiteID: site, From: from, To: to, GroupBy: []booking.Dimension{"room"}}), booking.EINVALID)
	wantCode(t, q("operator", booking.UtilisationQuery{SiteID: site, From: from, To: to, GroupBy: []booking.Dimension{"day", "day"}}), booking.EINVALID)
	if err := q("admin", booking.UtilisationQuery{SiteID: site, From: from, To: to}); err != nil {
		t.Errorf("admin: %v", err)
	}
	_, err := f.db.JobCounts(f.ctx, f.actors["producer"])
	wantCode(t, err, booking.EFORBIDDEN)
}

func TestJobCounts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	counts, err := f.db.JobCounts(f.ctx, f.actors["operator"])
	if err != nil || len(counts) != 0 {
		t.Fatalf("empty queues: %v %v", counts, err)
	}
	for _, q := range []string{"notifications", "notifications", "maintenance"} {
		if _, err := f.db.Pool.Exec(f.ctx, `INSERT INTO river_job (kind, args, queue, max_attempts, scheduled_at) VALUES ('test', '{}', $1, 5, $2)`,
			q, f.now); err != nil {
			t.Fatal(err)
		}
	}
	counts, err = f.db.JobCounts(f.ctx, f.actors["operator"])
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 2 || counts[0].Queue != "maintenance" || counts[1].Queue != "notifications" || counts[1].Count != 2 ||
		counts[1].State != "available" || !counts[1].Oldest.Equal(f.now) {
		t.Errorf("counts %+v", counts)
	}
	// The reminders and warnings to come are due notices, counted with the earliest.
	for _, h := range []int{2, 1} {
		if _, err := f.db.Pool.Exec(f.ctx, `INSERT INTO booking_due_notices (booking_id, kind, ref_at, before_ns, due_at)
			VALUES (gen_random_uuid(), 'reminder', $1, 0, $1)`, f.now.Add(time.Duration(h)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if counts, err = f.db.JobCounts(f.ctx, f.actors["operator"]); err != nil {
		t.Fatal(err)
	}
	if len(counts) != 3 || counts[2].Queue != "reminders" || counts[2].State != "due_notice" || counts[2].Count != 2 ||
		!counts[2].Oldest.Equal(f.now.Add(time.Hour)) {
		t.Errorf("counts with due notices %+v", counts)
	}
}
