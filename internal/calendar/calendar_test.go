package calendar

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// sp parses "09:00", "13:00" into a Span; test data reads like a timetable.
func sp(from, to string) Span {
	return Span{From: clk(from), To: clk(to)}
}

// clk parses "15:04" (or "24:00") into a Clock.
func clk(s string) Clock {
	var c Clock
	if _, err := fmt.Sscanf(s, "%d:%d", &c.Hour, &c.Minute); err != nil {
		panic(fmt.Sprintf("bad clock %q: %v", s, err))
	}
	return c
}

// date parses "2006-01-02" into a Date, panicking on bad test data.
func date(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// rfc parses an RFC 3339 timestamp.
func rfc(t testing.TB, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad timestamp %q: %v", s, err)
	}
	return ts
}

// wall returns the instant the wall clock in loc shows "2006-01-02 15:04".
func wall(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	ts, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatalf("bad wall time %q: %v", s, err)
	}
	return ts
}

// loadZone uses the embedded database, never time.LoadLocation: the host's
// data may predate Morocco's 2026 change.
func loadZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

// weekOf gives each listed weekday the same spans.
func weekOf(spans []Span, days ...time.Weekday) Week {
	var w Week
	for _, d := range days {
		w[d] = spans
	}
	return w
}

var weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

// casablancaWeek is Mon–Fri 09:00–13:00 + 14:00–19:00 and Sat 09:00–13:00:
// 5×9 h + 4 h = 49 h a week.
func casablancaWeek() Week {
	w := weekOf([]Span{sp("09:00", "13:00"), sp("14:00", "19:00")}, weekdays...)
	w[time.Saturday] = []Span{sp("09:00", "13:00")}
	return w
}

func casablancaCal(t testing.TB) *Calendar {
	return &Calendar{Location: loadZone(t, "Africa/Casablanca"), Week: casablancaWeek()}
}

// ramadan2027 shortens weekdays to 09:00–15:00 and closes Saturdays.
var ramadan2027 = Override{
	From: Date{2027, time.February, 8},
	To:   Date{2027, time.March, 9},
	Week: weekOf([]Span{sp("09:00", "15:00")}, weekdays...),
	Name: "Ramadan 2027",
}

// dayWork returns the working time of c on the local date day.
func dayWork(t testing.TB, c *Calendar, day string, opts Options) Set {
	t.Helper()
	d := date(day)
	return c.WorkingTime(Interval{Start: d.At(Clock{}, c.Location), End: d.AddDays(1).At(Clock{}, c.Location)}, opts)
}

// utcSet builds the expected Set from RFC 3339 pairs.
func utcSet(t testing.TB, pairs ...string) Set {
	t.Helper()
	var s Set
	for i := 0; i+1 < len(pairs); i += 2 {
		s = append(s, Interval{Start: rfc(t, pairs[i]), End: rfc(t, pairs[i+1])})
	}
	return s
}

func TestCasablancaAddTenWorkingHours(t *testing.T) {
	t.Parallel()
	c := casablancaCal(t)
	// Africa/Casablanca is +00 all year from 2026-09-20 (tzdata 2026c), so in
	// 2027 local wall time equals UTC, Ramadan or not.
	//
	// From Friday 2027-03-05 17:00, 10 h of work:
	//   Fri 17:00–19:00   2 h  (8 h left)
	//   Sat 09:00–13:00   4 h  (4 h left)
	//   Sun               closed
	//   Mon 09:00–13:00   4 h  (0 h left) → ends Mon 2027-03-08 13:00 local,
	// at the end of the morning span, not at 14:00 when the afternoon starts.
	from := wall(t, c.Location, "2027-03-05 17:00")
	if from.Weekday() != time.Friday {
		t.Fatalf("2027-03-05 is a %s", from.Weekday())
	}
	tests := []struct {
		d    time.Duration
		want string
	}{
		{10 * time.Hour, "2027-03-08T13:00:00Z"},
		{10*time.Hour + 30*time.Minute, "2027-03-08T14:30:00Z"}, // lunch skipped
		{2 * time.Hour, "2027-03-05T19:00:00Z"},                 // Friday's end boundary
		{2*time.Hour + time.Minute, "2027-03-06T09:01:00Z"},
		{6 * time.Hour, "2027-03-06T13:00:00Z"},
		{6*time.Hour + time.Nanosecond, "2027-03-08T09:00:00.000000001Z"},
		{49 * time.Hour, "2027-03-12T17:00:00Z"}, // exactly one working week
	}
	for _, tc := range tests {
		got, err := c.AddWorkingHours(from, tc.d, Options{})
		if err != nil {
			t.Fatalf("AddWorkingHours(%v): %v", tc.d, err)
		}
		if want := rfc(t, tc.want); !got.Equal(want) {
			t.Errorf("AddWorkingHours(Fri 17:00, %v) = %s, want %s", tc.d, got.UTC().Format(time.RFC3339Nano), tc.want)
		}
		if got.Location() != c.Location {
			t.Errorf("result location %v, want from's %v", got.Location(), c.Location)
		}
		if back := c.WorkingHoursBetween(from, got, Options{}); back != tc.d {
			t.Errorf("WorkingHoursBetween(from, %s) = %v, want %v", got.Format(time.RFC3339), back, tc.d)
		}
	}
}

func TestCasablancaOffsetChange(t *testing.T) {
	t.Parallel()
	c := casablancaCal(t)
	loc := c.Location

	// The embedded tzdata switches Morocco from +01 to +00 at 2026-09-20
	// 01:00Z (02:00 local becomes 01:00 again); the host's data may not.
	for _, tc := range []struct {
		instant string
		offset  int
	}{{"2026-09-20T00:59:59Z", 3600}, {"2026-09-20T01:00:00Z", 0}} {
		if _, off := rfc(t, tc.instant).In(loc).Zone(); off != tc.offset {
			t.Fatalf("Casablanca offset at %s = %d, want %d (stale tzdata?)", tc.instant, off, tc.offset)
		}
	}

	// Friday before the switch: 09:00 local is 08:00Z.
	if got, want := dayWork(t, c, "2026-09-18", Options{}), utcSet(t,
		"2026-09-18T08:00:00Z", "2026-09-18T12:00:00Z",
		"2026-09-18T13:00:00Z", "2026-09-18T18:00:00Z"); !got.Equal(want) {
		t.Errorf("2026-09-18 = %v, want %v", got, want)
	}
	// Monday after: 09:00 local is 09:00Z.
	if got, want := dayWork(t, c, "2026-09-21", Options{}), utcSet(t,
		"2026-09-21T09:00:00Z", "2026-09-21T13:00:00Z",
		"2026-09-21T14:00:00Z", "2026-09-21T19:00:00Z"); !got.Equal(want) {
		t.Errorf("2026-09-21 = %v, want %v", got, want)
	}

	// 10 h from Friday 2026-09-18 17:00 local (16:00Z):
	//   Fri 17:00–19:00 +01 = 16:00Z–18:00Z  2 h (8 h left)
	//   Sat 09:00–13:00 +01 = 08:00Z–12:00Z  4 h (4 h left)
	//   Sun 2026-09-20  closed (the switch happens at 01:00Z)
	//   Mon 09:00–13:00 +00 = 09:00Z–13:00Z  4 h → 13:00 local = 13:00Z.
	// Stale rules (+01 kept) would give 12:00Z.
	from := wall(t, loc, "2026-09-18 17:00")
	if !from.Equal(rfc(t, "2026-09-18T16:00:00Z")) {
		t.Fatalf("2026-09-18 17:00 Casablanca = %s, want 16:00Z", from.UTC())
	}
	end, err := c.AddWorkingHours(from, 10*time.Hour, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := rfc(t, "2026-09-21T13:00:00Z"); !end.Equal(want) {
		t.Errorf("AddWorkingHours across the switch = %s, want %s", end.UTC(), want)
	}
	if got := c.WorkingHoursBetween(from, end, Options{}); got != 10*time.Hour {
		t.Errorf("WorkingHoursBetween across the switch = %v, want 10h", got)
	}

	// A site that works the whole switch day gets 25 h: 00:00 +01 to 24:00 +00.
	allDay := &Calendar{Location: loc, Week: weekOf([]Span{sp("00:00", "24:00")}, time.Sunday)}
	if got, want := dayWork(t, allDay, "2026-09-20", Options{}), utcSet(t,
		"2026-09-19T23:00:00Z", "2026-09-21T00:00:00Z"); !got.Equal(want) || got.Duration() != 25*time.Hour {
		t.Errorf("all of 2026-09-20 = %v (%v), want %v (25h)", got, got.Duration(), want)
	}
	// Hours clear of the repeated 01:00–02:00 keep their length.
	day := &Calendar{Location: loc, Week: weekOf([]Span{sp("09:00", "18:00")}, time.Sunday)}
	if got, want := dayWork(t, day, "2026-09-20", Options{}), utcSet(t,
		"2026-09-20T09:00:00Z", "2026-09-20T18:00:00Z"); !got.Equal(want) {
		t.Errorf("2026-09-20 09:00–18:00 = %v, want %v", got, want)
	}
	// An ambiguous wall time is read as time.Date reads it: the second (+00)
	// occurrence, as documented on Calendar.
	amb := &Calendar{Location: loc, Week: weekOf([]Span{sp("01:30", "03:00")}, time.Sunday)}
	if got, want := dayWork(t, amb, "2026-09-20", Options{}), utcSet(t,
		"2026-09-20T01:30:00Z", "2026-09-20T03:00:00Z"); !got.Equal(want) {
		t.Errorf("2026-09-20 01:30–03:00 = %v, want %v", got, want)
	}
}

func TestParisDSTDays(t *testing.T) {
	t.Parallel()
	paris := loadZone(t, "Europe/Paris")
	office := &Calendar{Location: paris, Week: weekOf([]Span{sp("09:00", "18:00")}, time.Sunday)}
	allDay := &Calendar{Location: paris, Week: weekOf([]Span{sp("00:00", "24:00")}, time.Sunday)}
	tests := []struct {
		name string
		cal  *Calendar
		day  string
		want Set
	}{
		{"Sunday before spring DST, CET", office, "2027-03-21",
			utcSet(t, "2027-03-21T08:00:00Z", "2027-03-21T17:00:00Z")},
		{"spring DST day 09:00–18:00 is 9h in CEST", office, "2027-03-28",
			utcSet(t, "2027-03-28T07:00:00Z", "2027-03-28T16:00:00Z")},
		{"autumn DST day 09:00–18:00 is 9h in CET", office, "2027-10-31",
			utcSet(t, "2027-10-31T08:00:00Z", "2027-10-31T17:00:00Z")},
		{"spring DST day whole day is 23h", allDay, "2027-03-28",
			utcSet(t, "2027-03-27T23:00:00Z", "2027-03-28T22:00:00Z")},
		{"autumn DST day whole day is 25h", allDay, "2027-10-31",
			utcSet(t, "2027-10-30T22:00:00Z", "2027-10-31T23:00:00Z")},
		// 01:00 CET to 04:00 CEST: two real hours.
		{"span across the gap", &Calendar{Location: paris, Week: weekOf([]Span{sp("01:00", "04:00")}, time.Sunday)}, "2027-03-28",
			utcSet(t, "2027-03-28T00:00:00Z", "2027-03-28T02:00:00Z")},
		// 02:30 does not exist; time.Date reads it with the CET offset,
		// giving 03:30 CEST = 01:30Z, as documented on Calendar.
		{"span starting in the gap", &Calendar{Location: paris, Week: weekOf([]Span{sp("02:30", "04:00")}, time.Sunday)}, "2027-03-28",
			utcSet(t, "2027-03-28T01:30:00Z", "2027-03-28T02:00:00Z")},
		// 02:30 exists twice; time.Date picks the CET one.
		{"span ending in the overlap", &Calendar{Location: paris, Week: weekOf([]Span{sp("01:30", "02:30")}, time.Sunday)}, "2027-10-31",
			utcSet(t, "2027-10-30T23:30:00Z", "2027-10-31T01:30:00Z")},
		// 02:30→03:00 maps to 01:30Z→01:00Z: inverted, so nothing, and no panic.
		{"span wholly in the gap vanishes", &Calendar{Location: paris, Week: weekOf([]Span{sp("02:30", "03:00")}, time.Sunday)}, "2027-03-28",
			nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := dayWork(t, tc.cal, tc.day, Options{})
			if !got.Equal(tc.want) || !got.IsNormalized() {
				t.Fatalf("%s = %v (%v), want %v (%v)", tc.day, got, got.Duration(), tc.want, tc.want.Duration())
			}
		})
	}
	if d := dayWork(t, office, "2027-03-28", Options{}).Duration(); d != 9*time.Hour {
		t.Errorf("2027-03-28 09:00–18:00 = %v, want 9h", d)
	}
}

func TestSplitDayGivesTwoIntervals(t *testing.T) {
	t.Parallel()
	c := casablancaCal(t)
	got := dayWork(t, c, "2027-06-02", Options{}) // Wednesday
	want := utcSet(t,
		"2027-06-02T09:00:00Z", "2027-06-02T13:00:00Z",
		"2027-06-02T14:00:00Z", "2027-06-02T19:00:00Z")
	if !got.Equal(want) || len(got) != 2 {
		t.Fatalf("split day = %v, want two intervals %v", got, want)
	}
	// Touching spans in the data merge into one interval.
	touching := &Calendar{Location: time.UTC, Week: weekOf([]Span{sp("09:00", "13:00"), sp("13:00", "17:00")}, time.Wednesday)}
	if got := dayWork(t, touching, "2027-06-02", Options{}); len(got) != 1 || got.Duration() != 8*time.Hour {
		t.Fatalf("touching spans = %v, want one 8h interval", got)
	}
	// Unsorted spans are fine.
	unsorted := &Calendar{Location: time.UTC, Week: weekOf([]Span{sp("14:00", "19:00"), sp("09:00", "13:00")}, time.Wednesday)}
	if got := dayWork(t, unsorted, "2027-06-02", Options{}); !got.Equal(want) {
		t.Fatalf("unsorted spans = %v, want %v", got, want)
	}
}

func TestWorkingTimeWindow(t *testing.T) {
	t.Parallel()
	c := casablancaCal(t)
	paris := loadZone(t, "Europe/Paris")
	tests := []struct {
		name string
		w    Interval
		want Set
	}{
		{"clipped at both ends", Interval{Start: rfc(t, "2027-06-02T10:30:00Z"), End: rfc(t, "2027-06-02T15:00:00Z")},
			utcSet(t, "2027-06-02T10:30:00Z", "2027-06-02T13:00:00Z", "2027-06-02T14:00:00Z", "2027-06-02T15:00:00Z")},
		{"inside lunch", Interval{Start: rfc(t, "2027-06-02T13:10:00Z"), End: rfc(t, "2027-06-02T13:50:00Z")}, nil},
		{"empty window", Interval{Start: rfc(t, "2027-06-02T10:00:00Z"), End: rfc(t, "2027-06-02T10:00:00Z")}, nil},
		{"inverted window", Interval{Start: rfc(t, "2027-06-02T12:00:00Z"), End: rfc(t, "2027-06-02T10:00:00Z")}, nil},
		{"weekend", Interval{Start: rfc(t, "2027-06-05T00:00:00Z"), End: rfc(t, "2027-06-07T00:00:00Z")},
			utcSet(t, "2027-06-05T09:00:00Z", "2027-06-05T13:00:00Z")},
		{"window given in another zone", Interval{Start: wall(t, paris, "2027-06-02 12:00"), End: wall(t, paris, "2027-06-02 17:00")},
			utcSet(t, "2027-06-02T10:00:00Z", "2027-06-02T13:00:00Z", "2027-06-02T14:00:00Z", "2027-06-02T15:00:00Z")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := c.WorkingTime(tc.w, Options{})
			if !got.Equal(tc.want) {
				t.Fatalf("WorkingTime(%v) = %v, want %v", tc.w, got, tc.want)
			}
			for _, iv := range got {
				if iv.Start.Location() != time.UTC || iv.End.Location() != time.UTC {
					t.Fatalf("WorkingTime returned non-UTC interval %v", iv)
				}
			}
		})
	}
	// Midnight-spanning work on consecutive days merges into one interval.
	nights := &Calendar{Location: time.UTC, Week: weekOf([]Span{sp("00:00", "06:00"), sp("22:00", "24:00")}, time.Monday, time.Tuesday)}
	got := nights.WorkingTime(Interval{Start: rfc(t, "2027-06-07T00:00:00Z"), End: rfc(t, "2027-06-09T00:00:00Z")}, Options{})
	if want := utcSet(t, "2027-06-07T00:00:00Z", "2027-06-07T06:00:00Z", "2027-06-07T22:00:00Z", "2027-06-08T06:00:00Z",
		"2027-06-08T22:00:00Z", "2027-06-09T00:00:00Z"); !got.Equal(want) {
		t.Fatalf("night shifts = %v, want %v", got, want)
	}
}

func TestHolidays(t *testing.T) {
	t.Parallel()
	loc := loadZone(t, "Africa/Casablanca")
	morning := sp("09:00", "13:00")
	short := sp("10:00", "12:00")
	c := &Calendar{
		Location:  loc,
		Week:      casablancaWeek(),
		Overrides: []Override{ramadan2027},
		Holidays: []Holiday{
			{Date: date("2026-11-18"), Name: "Independence Day"},
			{Date: date("2026-12-31"), Name: "New Year's Eve", HalfDay: &morning},
			{Date: date("2027-03-10"), Name: "Eid al-Fitr", Provisional: true},
			{Date: date("2027-05-17"), Name: "Eid al-Adha (half day)", Provisional: true, HalfDay: &morning},
			{Date: date("2027-02-10"), Name: "Holiday during Ramadan"},
			{Date: date("2027-06-09"), Name: "Half day", HalfDay: &morning},
			{Date: date("2027-06-09"), Name: "Shorter half day", HalfDay: &short},
			{Date: date("2027-06-10"), Name: "Half day", HalfDay: &morning},
			{Date: date("2027-06-10"), Name: "Full closure"},
			{Date: date("2027-06-11"), Name: "Disjoint half day A", HalfDay: &morning},
			{Date: date("2027-06-11"), Name: "Disjoint half day B", HalfDay: &Span{From: clk("14:00"), To: clk("16:00")}},
			{Date: date("2027-06-05"), Name: "Saturday half day made longer", HalfDay: &Span{From: clk("08:00"), To: clk("17:00")}},
		},
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	avoid := Options{AvoidProvisional: true}
	tests := []struct {
		name string
		day  string
		opts Options
		want time.Duration
	}{
		{"ordinary Wednesday", "2026-11-11", Options{}, 9 * time.Hour},
		{"holiday closes the day", "2026-11-18", Options{}, 0},
		{"holiday closes the day when avoiding provisional too", "2026-11-18", avoid, 0},
		{"half-day holiday keeps its span", "2026-12-31", Options{}, 4 * time.Hour},
		{"provisional holiday is an ordinary day by default", "2027-03-10", Options{}, 9 * time.Hour},
		{"provisional holiday is closed with AvoidProvisional", "2027-03-10", avoid, 0},
		{"provisional half day ignored by default", "2027-05-17", Options{}, 9 * time.Hour},
		{"provisional half day applies with AvoidProvisional", "2027-05-17", avoid, 4 * time.Hour},
		{"holiday beats override", "2027-02-10", Options{}, 0},
		{"two half days keep the common part", "2027-06-09", Options{}, 2 * time.Hour},
		{"full closure beats half day", "2027-06-10", Options{}, 0},
		{"disjoint half days close the day", "2027-06-11", Options{}, 0},
		{"half day replaces the week's hours", "2027-06-05", Options{}, 9 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := dayWork(t, c, tc.day, tc.opts).Duration(); got != tc.want {
				t.Fatalf("%s (%+v) = %v, want %v", tc.day, tc.opts, got, tc.want)
			}
		})
	}
	if got, want := dayWork(t, c, "2026-12-31", Options{}), utcSet(t, "2026-12-31T09:00:00Z", "2026-12-31T13:00:00Z"); !got.Equal(want) {
		t.Errorf("half day = %v, want %v", got, want)
	}

	// The planner skips the provisional Eid; a manual booking does not.
	from := wall(t, loc, "2027-03-09 14:00") // Tuesday, last day of Ramadan hours (09–15)
	planned, err := c.AddWorkingHours(from, 2*time.Hour, avoid)
	if err != nil {
		t.Fatal(err)
	}
	if want := wall(t, loc, "2027-03-11 10:00"); !planned.Equal(want) {
		t.Errorf("planner: %s, want %s (skipping provisional Eid on 03-10)", planned, want)
	}
	manual, err := c.AddWorkingHours(from, 2*time.Hour, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := wall(t, loc, "2027-03-10 10:00"); !manual.Equal(want) {
		t.Errorf("manual: %s, want %s", manual, want)
	}
}

func TestProvisionalDaysIn(t *testing.T) {
	t.Parallel()
	paris := loadZone(t, "Europe/Paris")
	c := &Calendar{
		Location: paris,
		Week:     weekOf([]Span{sp("09:00", "18:00")}, weekdays...),
		Holidays: []Holiday{
			{Date: date("2027-05-17"), Name: "B", Provisional: true},
			{Date: date("2027-05-06"), Name: "A", Provisional: true},
			{Date: date("2027-05-08"), Name: "Confirmed"},
			{Date: date("2027-05-06"), Name: "A2", Provisional: true},
		},
	}
	names := func(hs []Holiday) string {
		var s []string
		for _, h := range hs {
			s = append(s, h.Date.String()+" "+h.Name)
		}
		return strings.Join(s, ", ")
	}
	tests := []struct {
		name string
		w    Interval
		want string
	}{
		{"whole month, date order, confirmed omitted", Interval{Start: rfc(t, "2027-05-01T00:00:00Z"), End: rfc(t, "2027-06-01T00:00:00Z")},
			"2027-05-06 A, 2027-05-06 A2, 2027-05-17 B"},
		// Local midnight of 05-06 in Paris (CEST) is 05-05T22:00Z.
		{"window ending at local midnight before", Interval{Start: rfc(t, "2027-05-05T10:00:00Z"), End: rfc(t, "2027-05-05T22:00:00Z")}, ""},
		{"window touching local day start", Interval{Start: rfc(t, "2027-05-05T10:00:00Z"), End: rfc(t, "2027-05-05T22:01:00Z")},
			"2027-05-06 A, 2027-05-06 A2"},
		{"window starting at local day end", Interval{Start: rfc(t, "2027-05-06T22:00:00Z"), End: rfc(t, "2027-05-10T00:00:00Z")}, ""},
		{"empty window", Interval{Start: rfc(t, "2027-05-06T10:00:00Z"), End: rfc(t, "2027-05-06T10:00:00Z")}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := names(c.ProvisionalDaysIn(tc.w)); got != tc.want {
				t.Fatalf("ProvisionalDaysIn(%v) = %q, want %q", tc.w, got, tc.want)
			}
		})
	}
}

func TestRamadanOverride(t *testing.T) {
	t.Parallel()
	c := casablancaCal(t)
	c.Overrides = []Override{ramadan2027}
	tests := []struct {
		day  string
		want Set
	}{
		{"2027-02-05", utcSet(t, "2027-02-05T09:00:00Z", "2027-02-05T13:00:00Z", "2027-02-05T14:00:00Z", "2027-02-05T19:00:00Z")}, // Fri before
		{"2027-02-06", utcSet(t, "2027-02-06T09:00:00Z", "2027-02-06T13:00:00Z")},                                                 // Sat before
		{"2027-02-08", utcSet(t, "2027-02-08T09:00:00Z", "2027-02-08T15:00:00Z")},                                                 // first day
		{"2027-02-13", nil}, // Saturday inside: override's week has no Saturday
		{"2027-03-09", utcSet(t, "2027-03-09T09:00:00Z", "2027-03-09T15:00:00Z")},                                                 // last day, inclusive
		{"2027-03-10", utcSet(t, "2027-03-10T09:00:00Z", "2027-03-10T13:00:00Z", "2027-03-10T14:00:00Z", "2027-03-10T19:00:00Z")}, // day after
	}
	for _, tc := range tests {
		if got := dayWork(t, c, tc.day, Options{}); !got.Equal(tc.want) {
			t.Errorf("%s = %v, want %v", tc.day, got, tc.want)
		}
	}

	// Overlapping overrides: the later one in the slice wins on shared dates.
	week2 := Override{From: date("2027-02-15"), To: date("2027-02-19"), Name: "audit week",
		Week: weekOf([]Span{sp("10:00", "12:00")}, weekdays...)}
	later := &Calendar{Location: c.Location, Week: c.Week, Overrides: []Override{ramadan2027, week2}}
	earlier := &Calendar{Location: c.Location, Week: c.Week, Overrides: []Override{week2, ramadan2027}}
	if got := dayWork(t, later, "2027-02-16", Options{}).Duration(); got != 2*time.Hour {
		t.Errorf("later override: %v, want 2h", got)
	}
	if got := dayWork(t, later, "2027-02-22", Options{}).Duration(); got != 6*time.Hour {
		t.Errorf("outside the later override: %v, want Ramadan's 6h", got)
	}
	if got := dayWork(t, earlier, "2027-02-16", Options{}).Duration(); got != 6*time.Hour {
		t.Errorf("earlier-listed override must lose: %v, want 6h", got)
	}
}

func TestAddWorkingHoursEdgeCases(t *testing.T) {
	t.Parallel()
	c := casablancaCal(t)
	loc := c.Location

	// d == 0 returns from unchanged, even outside working hours and with a
	// monotonic reading.
	for _, from := range []time.Time{wall(t, loc, "2027-06-06 03:00"), time.Now()} {
		got, err := c.AddWorkingHours(from, 0, Options{})
		if err != nil || got != from {
			t.Errorf("AddWorkingHours(%v, 0) = %v, %v; want from unchanged", from, got, err)
		}
	}

	tests := []struct {
		name string
		from string
		d    time.Duration
		want string
	}{
		{"from Sunday starts Monday 09:00", "2027-06-06 10:00", time.Hour, "2027-06-07 10:00"},
		{"from lunch starts at 14:00", "2027-06-07 13:30", 30 * time.Minute, "2027-06-07 14:30"},
		{"from the end boundary", "2027-06-07 13:00", time.Hour, "2027-06-07 15:00"},
		{"fits exactly to closing", "2027-06-07 18:00", time.Hour, "2027-06-07 19:00"},
		{"from closing time", "2027-06-07 19:00", time.Minute, "2027-06-08 09:01"},
		{"before opening", "2027-06-07 07:00", 4 * time.Hour, "2027-06-07 13:00"},
		{"several weeks", "2027-06-07 09:00", 3 * 49 * time.Hour, "2027-06-26 13:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.AddWorkingHours(wall(t, loc, tc.from), tc.d, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if want := wall(t, loc, tc.want); !got.Equal(want) {
				t.Fatalf("AddWorkingHours(%s, %v) = %s, want %s", tc.from, tc.d, got.Format("2006-01-02 15:04"), tc.want)
			}
		})
	}

	t.Run("negative duration", func(t *testing.T) {
		t.Parallel()
		if _, err := c.AddWorkingHours(wall(t, loc, "2027-06-07 10:00"), -time.Hour, Options{}); err == nil {
			t.Fatal("no error for a negative duration")
		}
	})

	t.Run("no working days errors instead of looping", func(t *testing.T) {
		t.Parallel()
		closed := &Calendar{Location: loc}
		start := time.Now()
		_, err := closed.AddWorkingHours(wall(t, loc, "2027-06-07 10:00"), time.Hour, Options{})
		if !errors.Is(err, ErrNoWorkingTime) {
			t.Fatalf("err = %v, want ErrNoWorkingTime", err)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Fatalf("giving up took %v", el)
		}
	})

	t.Run("override closing longer than the horizon errors", func(t *testing.T) {
		t.Parallel()
		cc := casablancaCal(t)
		cc.Overrides = []Override{{From: date("2027-01-01"), To: date("2031-12-31"), Name: "closed for works"}}
		_, err := cc.AddWorkingHours(wall(t, loc, "2027-06-07 10:00"), time.Hour, Options{})
		if !errors.Is(err, ErrNoWorkingTime) {
			t.Fatalf("err = %v, want ErrNoWorkingTime", err)
		}
	})

	t.Run("closure shorter than the horizon is crossed", func(t *testing.T) {
		t.Parallel()
		cc := casablancaCal(t)
		cc.Overrides = []Override{{From: date("2027-01-01"), To: date("2028-12-31"), Name: "closed for works"}}
		got, err := cc.AddWorkingHours(wall(t, loc, "2027-06-07 10:00"), time.Hour, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if want := wall(t, loc, "2029-01-01 10:00"); !got.Equal(want) { // 2029-01-01 is a Monday
			t.Fatalf("got %s, want %s", got, want)
		}
	})

	t.Run("huge duration stops at the search limit", func(t *testing.T) {
		t.Parallel()
		// Monday–Sunday 00:00–24:00 would need 200 years: more than the
		// 100-year search limit.
		always := &Calendar{Location: time.UTC, Week: weekOf([]Span{sp("00:00", "24:00")},
			time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday)}
		_, err := always.AddWorkingHours(rfc(t, "2027-01-01T00:00:00Z"), 200*366*24*time.Hour, Options{})
		if !errors.Is(err, ErrNoWorkingTime) {
			t.Fatalf("err = %v, want ErrNoWorkingTime", err)
		}
	})
}

func TestWorkingHoursBetween(t *testing.T) {
	t.Parallel()
	c := casablancaCal(t)
	c.Overrides = []Override{ramadan2027}
	loc := c.Location
	tests := []struct {
		name string
		a, b string
		want time.Duration
	}{
		{"one ordinary week", "2027-06-07 00:00", "2027-06-14 00:00", 49 * time.Hour},
		{"reversed is zero", "2027-06-14 00:00", "2027-06-07 00:00", 0},
		{"empty is zero", "2027-06-07 10:00", "2027-06-07 10:00", 0},
		{"inside lunch", "2027-06-07 13:15", "2027-06-07 13:45", 0},
		{"partial spans", "2027-06-07 12:00", "2027-06-07 15:30", 2*time.Hour + 30*time.Minute},
		{"a Ramadan week", "2027-02-15 00:00", "2027-02-22 00:00", 30 * time.Hour},
	}
	for _, tc := range tests {
		if got := c.WorkingHoursBetween(wall(t, loc, tc.a), wall(t, loc, tc.b), Options{}); got != tc.want {
			t.Errorf("%s: WorkingHoursBetween(%s, %s) = %v, want %v", tc.name, tc.a, tc.b, got, tc.want)
		}
	}
	// Long ranges are chunked internally; the total must match one big
	// WorkingTime call.
	a, b := wall(t, loc, "2026-01-01 00:00"), wall(t, loc, "2028-01-01 00:00")
	if got, want := c.WorkingHoursBetween(a, b, Options{}), c.WorkingTime(Interval{Start: a, End: b}, Options{}).Duration(); got != want {
		t.Errorf("two years: chunked %v, direct %v", got, want)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	loc := loadZone(t, "Africa/Casablanca")
	good := func() *Calendar {
		half := sp("09:00", "13:00")
		return &Calendar{
			Location:  loc,
			Week:      casablancaWeek(),
			Overrides: []Override{ramadan2027},
			Holidays:  []Holiday{{Date: date("2027-03-10"), Name: "Eid", Provisional: true, HalfDay: &half}},
		}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("good calendar: %v", err)
	}
	tests := []struct {
		name    string
		mutate  func(c *Calendar)
		wantMsg string
	}{
		{"nil location", func(c *Calendar) { c.Location = nil }, "no location"},
		{"host location", func(c *Calendar) { c.Location = time.Local }, "time.Local"},
		{"inverted span", func(c *Calendar) { c.Week[time.Sunday] = []Span{sp("13:00", "09:00")} }, "invalid span 13:00-09:00"},
		{"empty span", func(c *Calendar) { c.Week[time.Sunday] = []Span{sp("09:00", "09:00")} }, "invalid span"},
		{"after 24:00", func(c *Calendar) { c.Week[time.Sunday] = []Span{sp("20:00", "24:30")} }, "invalid span"},
		{"25 o'clock", func(c *Calendar) { c.Week[time.Sunday] = []Span{sp("09:00", "25:00")} }, "invalid span"},
		{"negative", func(c *Calendar) { c.Week[time.Sunday] = []Span{{From: Clock{-1, 0}, To: clk("09:00")}} }, "invalid span"},
		{"minute 60", func(c *Calendar) { c.Week[time.Sunday] = []Span{{From: Clock{9, 60}, To: clk("11:00")}} }, "invalid span"},
		{"overlapping spans", func(c *Calendar) {
			c.Week[time.Monday] = []Span{sp("14:00", "19:00"), sp("09:00", "14:30")}
		}, "overlap"},
		{"override reversed", func(c *Calendar) { c.Overrides[0].From, c.Overrides[0].To = c.Overrides[0].To, c.Overrides[0].From }, "before from date"},
		{"override bad date", func(c *Calendar) { c.Overrides[0].To = Date{2027, time.February, 30} }, "invalid to date"},
		{"override bad span", func(c *Calendar) { c.Overrides[0].Week[time.Monday] = []Span{sp("15:00", "09:00")} }, "override 0"},
		{"holiday bad date", func(c *Calendar) { c.Holidays[0].Date = Date{2027, 13, 1} }, "invalid date"},
		{"holiday bad half day", func(c *Calendar) { c.Holidays[0].HalfDay = &Span{From: clk("13:00"), To: clk("09:00")} }, "half-day"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := good()
			c.Overrides = []Override{{From: ramadan2027.From, To: ramadan2027.To, Name: ramadan2027.Name, Week: weekOf([]Span{sp("09:00", "15:00")}, weekdays...)}}
			tc.mutate(c)
			err := c.Validate()
			if !errors.Is(err, ErrInvalidCalendar) {
				t.Fatalf("Validate() = %v, want ErrInvalidCalendar", err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("Validate() = %q, want it to mention %q", err, tc.wantMsg)
			}
		})
	}
	// Touching spans and a 24:00 end are fine; all problems are reported at once.
	c := good()
	c.Week[time.Sunday] = []Span{sp("00:00", "12:00"), sp("12:00", "24:00")}
	if err := c.Validate(); err != nil {
		t.Fatalf("touching spans: %v", err)
	}
	c.Location = nil
	c.Holidays[0].Date = Date{}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "no location") || !strings.Contains(err.Error(), "invalid date") {
		t.Fatalf("Validate() = %v, want both problems", err)
	}
}

func TestInvalidDataDoesNotPanic(t *testing.T) {
	t.Parallel()
	bad := Span{From: clk("25:00"), To: clk("26:00")}
	c := &Calendar{ // nil Location: treated as UTC
		Week:     weekOf([]Span{sp("13:00", "09:00"), bad, sp("09:00", "10:00")}, weekdays...),
		Holidays: []Holiday{{Date: date("2027-06-08"), HalfDay: &bad}},
	}
	if got := dayWork(t, &Calendar{Location: time.UTC, Week: c.Week}, "2027-06-07", Options{}); got.Duration() != time.Hour {
		t.Fatalf("invalid spans must be skipped: %v", got)
	}
	w := Interval{Start: rfc(t, "2027-06-07T00:00:00Z"), End: rfc(t, "2027-06-09T00:00:00Z")}
	if got := c.WorkingTime(w, Options{}); got.Duration() != time.Hour {
		t.Fatalf("nil location / bad half day: %v, want 1h on Monday only", got)
	}
}

func TestDate(t *testing.T) {
	t.Parallel()
	d := Date{2027, time.December, 31}
	if got := d.AddDays(1); got != (Date{2028, time.January, 1}) {
		t.Errorf("AddDays(1) = %v", got)
	}
	if got := (Date{2028, time.March, 1}).AddDays(-1); got != (Date{2028, time.February, 29}) {
		t.Errorf("leap AddDays(-1) = %v", got)
	}
	if got := (Date{2027, time.March, 27}).AddDays(1); got != (Date{2027, time.March, 28}) {
		t.Errorf("AddDays across DST = %v", got)
	}
	if d.String() != "2027-12-31" || d.Weekday() != time.Friday {
		t.Errorf("%v is a %v", d, d.Weekday())
	}
	if !(Date{2027, 1, 31}).Before(Date{2027, 2, 1}) || !(Date{2028, 1, 1}).After(Date{2027, 12, 31}) || d.Compare(d) != 0 {
		t.Error("date ordering wrong")
	}
	for _, bad := range []Date{{2027, 2, 29}, {2027, 0, 1}, {2027, 13, 1}, {2027, 4, 31}, {2027, 1, 0}, {}} {
		if bad.IsValid() {
			t.Errorf("%v reported valid", bad)
		}
	}
	if !(Date{2028, 2, 29}).IsValid() {
		t.Error("2028-02-29 reported invalid")
	}
	if _, err := ParseDate("2027-02-30"); err == nil {
		t.Error("ParseDate accepted 2027-02-30")
	}
	// DateOf uses the time's own location.
	paris := loadZone(t, "Europe/Paris")
	instant := rfc(t, "2027-05-05T22:30:00Z")
	if DateOf(instant) != (Date{2027, 5, 5}) || DateOf(instant.In(paris)) != (Date{2027, 5, 6}) {
		t.Errorf("DateOf: %v / %v", DateOf(instant), DateOf(instant.In(paris)))
	}
	if got := (Date{2027, 3, 28}).At(clk("24:00"), paris); !got.Equal(rfc(t, "2027-03-28T22:00:00Z")) {
		t.Errorf("24:00 on the DST day = %v", got.UTC())
	}
}

// propertyCalendars are the calendars the round-trip properties and the
// wall-clock reference run on. All span ends avoid the hours that DST
// changes skip or repeat, so the independent wall-clock reference applies.
func propertyCalendars(t testing.TB) []*Calendar {
	casa := loadZone(t, "Africa/Casablanca")
	paris := loadZone(t, "Europe/Paris")
	morning := sp("09:00", "13:00")
	moroccan := &Calendar{
		Location:  casa,
		Week:      casablancaWeek(),
		Overrides: []Override{ramadan2027},
		Holidays: []Holiday{
			{Date: date("2026-11-18"), Name: "Independence Day"},
			{Date: date("2026-12-31"), Name: "New Year's Eve", HalfDay: &morning},
			{Date: date("2027-01-01"), Name: "New Year"},
			{Date: date("2027-03-10"), Name: "Eid al-Fitr", Provisional: true},
			{Date: date("2027-03-11"), Name: "Eid al-Fitr 2", Provisional: true, HalfDay: &morning},
			{Date: date("2027-05-17"), Name: "Eid al-Adha", Provisional: true},
		},
	}
	// Works every day, around the clock apart from 01:00–05:00, so DST and
	// offset-change days (and midnight merges) are exercised.
	nightly := []Span{sp("00:00", "01:00"), sp("05:00", "12:30"), sp("13:30", "24:00")}
	var all Week
	for d := range all {
		all[d] = nightly
	}
	parisian := &Calendar{
		Location: paris,
		Week:     all,
		Overrides: []Override{{From: date("2026-12-21"), To: date("2027-01-03"), Name: "Christmas",
			Week: weekOf([]Span{sp("10:00", "16:00")}, weekdays...)}},
		Holidays: []Holiday{
			{Date: date("2027-05-01"), Name: "Fête du Travail"},
			{Date: date("2027-07-14"), Name: "Fête nationale", Provisional: true},
		},
	}
	casaAllDay := &Calendar{Location: casa, Week: weekOf([]Span{sp("00:00", "24:00")}, time.Saturday, time.Sunday)}
	utcWeek := &Calendar{Location: time.UTC, Week: weekOf([]Span{sp("08:00", "12:00"), sp("12:00", "16:00")}, weekdays...)}
	return []*Calendar{moroccan, parisian, casaAllDay, utcWeek}
}

// refWorking is an independent model of the calendar: t is working iff its
// local time of day falls in a span of its local date, with precedence
// holiday > last matching override > week implemented by linear scans.
func refWorking(c *Calendar, opts Options, t time.Time) bool {
	lt := t.In(c.Location)
	d := Date{lt.Year(), lt.Month(), lt.Day()}
	m := lt.Hour()*60 + lt.Minute()
	in := func(s Span) bool { return m >= s.From.Hour*60+s.From.Minute && m < s.To.Hour*60+s.To.Minute }
	var hol []Holiday
	for _, h := range c.Holidays {
		if h.Date == d && (!h.Provisional || opts.AvoidProvisional) {
			hol = append(hol, h)
		}
	}
	if len(hol) > 0 {
		for _, h := range hol {
			if h.HalfDay == nil || !in(*h.HalfDay) {
				return false
			}
		}
		return true
	}
	week := c.Week
	for _, o := range c.Overrides {
		if !d.Before(o.From) && !d.After(o.To) {
			week = o.Week
		}
	}
	for _, s := range week[lt.Weekday()] {
		if in(s) {
			return true
		}
	}
	return false
}

func TestWorkingTimeMatchesWallClockReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewSource(7))
	lo := rfc(t, "2026-06-01T00:00:00Z")
	const spanMinutes = 580 * 24 * 60 // through 2027-12
	// Fixed windows over every zone change in range, plus random ones.
	var starts []time.Time
	for _, s := range []string{"2026-09-19T12:00:00Z", "2026-10-24T12:00:00Z", "2027-03-27T12:00:00Z", "2027-10-30T12:00:00Z",
		"2026-12-30T12:00:00Z", "2027-03-08T12:00:00Z", "2027-02-06T00:00:00Z"} {
		starts = append(starts, rfc(t, s))
	}
	for range 12 {
		starts = append(starts, lo.Add(time.Duration(r.Intn(spanMinutes))*time.Minute))
	}
	for ci, c := range propertyCalendars(t) {
		for _, opts := range []Options{{}, {AvoidProvisional: true}} {
			for _, start := range starts {
				w := Interval{Start: start, End: start.Add(time.Duration(24*60+r.Intn(24*60)) * time.Minute)}
				ws := c.WorkingTime(w, opts)
				if !ws.IsNormalized() {
					t.Fatalf("calendar %d: WorkingTime(%v) not normalised: %v", ci, w, ws)
				}
				for m := w.Start; m.Before(w.End); m = m.Add(time.Minute) {
					if got, want := ws.Contains(m), refWorking(c, opts, m); got != want {
						t.Fatalf("calendar %d %+v at %s (%s local): WorkingTime says %v, wall-clock reference %v",
							ci, opts, m.Format(time.RFC3339), m.In(c.Location).Format("2006-01-02 15:04 -07:00"), got, want)
					}
				}
			}
		}
	}
}

// checkRoundTrip checks the AddWorkingHours/WorkingHoursBetween laws for one
// (calendar, from, d, opts) case.
func checkRoundTrip(t *testing.T, c *Calendar, from time.Time, d time.Duration, opts Options) {
	t.Helper()
	end, err := c.AddWorkingHours(from, d, opts)
	if err != nil {
		t.Fatalf("AddWorkingHours(%s, %v, %+v): %v", from.Format(time.RFC3339Nano), d, opts, err)
	}
	if end.Before(from) {
		t.Fatalf("AddWorkingHours(%s, %v) = %s, before from", from, d, end)
	}
	if got := c.WorkingHoursBetween(from, end, opts); got != d {
		t.Fatalf("WorkingHoursBetween(%s, AddWorkingHours(.., %v) = %s) = %v", from.Format(time.RFC3339Nano), d, end.Format(time.RFC3339Nano), got)
	}
	if d == 0 {
		if end != from {
			t.Fatalf("AddWorkingHours(from, 0) = %v, want from", end)
		}
		return
	}
	// end is the first instant with d of work behind it: the nanosecond
	// before end is working time, and end is either working or the end of a
	// working interval.
	if got := c.WorkingHoursBetween(from, end.Add(-time.Nanosecond), opts); got != d-time.Nanosecond {
		t.Fatalf("end %s not minimal: %v of work before end−1ns, want %v", end.Format(time.RFC3339Nano), got, d-time.Nanosecond)
	}
	near := c.WorkingTime(Interval{Start: end.Add(-48 * time.Hour), End: end.Add(48 * time.Hour)}, opts)
	atEnd := false
	for _, iv := range near {
		if iv.End.Equal(end) {
			atEnd = true
		}
	}
	if !near.Contains(end) && !atEnd {
		t.Fatalf("end %s is neither working time nor the end of a working interval: %v", end.Format(time.RFC3339Nano), near)
	}
	// Monotonic in d.
	for _, delta := range []time.Duration{time.Nanosecond, time.Minute, 3 * time.Hour} {
		more, err := c.AddWorkingHours(from, d+delta, opts)
		if err != nil || more.Before(end) {
			t.Fatalf("AddWorkingHours(d+%v) = %s, %v; before AddWorkingHours(d) = %s", delta, more, err, end)
		}
		if d > delta {
			less, err := c.AddWorkingHours(from, d-delta, opts)
			if err != nil || less.After(end) {
				t.Fatalf("AddWorkingHours(d-%v) = %s, %v; after AddWorkingHours(d) = %s", delta, less, err, end)
			}
		}
	}
	// Additive: adding d1 then d2 equals adding d1+d2.
	d1 := d / 3
	mid, err1 := c.AddWorkingHours(from, d1, opts)
	two, err2 := c.AddWorkingHours(mid, d-d1, opts)
	if err1 != nil || err2 != nil || !two.Equal(end) {
		t.Fatalf("AddWorkingHours in two steps (%v then %v) = %s (%v, %v), in one = %s", d1, d-d1, two, err1, err2, end)
	}
}

func TestAddWorkingHoursProperties(t *testing.T) {
	t.Parallel()
	cals := propertyCalendars(t)
	lo := rfc(t, "2026-06-01T00:00:00Z")
	const spanSeconds = 560 * 24 * 3600
	for _, seed := range []int64{1, 42, 20260920} {
		r := rand.New(rand.NewSource(seed))
		for range 40 {
			c := cals[r.Intn(len(cals))]
			from := lo.Add(time.Duration(r.Int63n(spanSeconds)) * time.Second)
			if r.Intn(3) == 0 { // sometimes on a round hour, often a span edge
				from = from.Truncate(time.Hour)
			}
			var d time.Duration
			switch r.Intn(3) {
			case 0:
				d = time.Duration(r.Intn(121)) * time.Hour
			case 1:
				d = time.Duration(r.Int63n(int64(120 * time.Hour)))
			default:
				d = time.Duration(r.Intn(600)) * time.Minute
			}
			checkRoundTrip(t, c, from, d, Options{AvoidProvisional: r.Intn(2) == 0})
			if t.Failed() {
				t.Fatalf("seed %d", seed)
			}
		}
	}
}

// FuzzAddWorkingHours checks the round-trip laws for arbitrary starts
// (mapped into 2026-06 … 2027-12, so zone changes are covered), durations up
// to 200 h and calendars; its seeds run in every plain go test.
func FuzzAddWorkingHours(f *testing.F) {
	lo := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	off := func(s string) int64 {
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return int64(ts.Sub(lo))
	}
	f.Add(off("2027-03-05T17:00:00Z"), int64(10*time.Hour), uint8(0), false)    // pinned Friday
	f.Add(off("2026-09-18T16:00:00Z"), int64(10*time.Hour), uint8(0), false)    // across Casablanca's switch
	f.Add(off("2026-09-19T22:30:00Z"), int64(26*time.Hour), uint8(2), false)    // through the 25 h day
	f.Add(off("2027-03-27T20:00:00Z"), int64(30*time.Hour), uint8(1), false)    // Paris spring DST
	f.Add(off("2027-10-30T20:00:00Z"), int64(30*time.Hour), uint8(1), true)     // Paris autumn DST
	f.Add(off("2027-03-09T13:00:00Z"), int64(3*time.Hour), uint8(0), true)      // provisional Eid avoided
	f.Add(off("2027-03-09T13:00:00Z"), int64(3*time.Hour), uint8(0), false)     // provisional Eid worked
	f.Add(off("2027-06-04T19:00:00Z"), int64(time.Nanosecond), uint8(3), false) // closing time, weekend next
	f.Add(off("2027-06-07T12:00:00Z"), int64(4*time.Hour), uint8(3), false)     // touching spans
	f.Add(int64(-1), int64(-1), uint8(255), true)                               // junk mapped into range
	f.Add(int64(0), int64(0), uint8(0), false)                                  // d == 0
	f.Fuzz(func(t *testing.T, fromOff, dRaw int64, calIdx uint8, avoid bool) {
		cals := propertyCalendars(t)
		const fromRange = uint64(580 * 24 * time.Hour)
		from := lo.Add(time.Duration(uint64(fromOff) % fromRange))
		d := time.Duration(uint64(dRaw) % uint64(200*time.Hour+1))
		checkRoundTrip(t, cals[int(calIdx)%len(cals)], from, d, Options{AvoidProvisional: avoid})
	})
}
