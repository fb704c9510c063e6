package calendar

import (
	"math/rand"
	"testing"
	"time"
)

// TestUseCasablancaWeek checks the figures the issue measured on the demo hub: a
// Mon 09:00 → Wed 19:00 hold holds 27 working hours on three working days, and a
// Sat 09:30 → Mon 10:00 screening two working days, Sunday not among them.
func TestUseCasablancaWeek(t *testing.T) {
	t.Parallel()
	c := casablancaCal(t)
	loc := c.Location
	cases := []struct {
		from, to      string
		working, shut time.Duration
		days          int
	}{
		{"2027-06-07 09:00", "2027-06-09 19:00", 27 * time.Hour, 31 * time.Hour, 3},
		{"2027-06-12 09:30", "2027-06-14 10:00", 4*time.Hour + 30*time.Minute, 44 * time.Hour, 2},
		{"2027-06-13 10:00", "2027-06-13 18:00", 0, 8 * time.Hour, 0},              // a Sunday
		{"2027-06-07 12:00", "2027-06-07 15:00", 2 * time.Hour, time.Hour, 1},      // across lunch
		{"2027-06-07 20:00", "2027-06-07 23:00", 0, 3 * time.Hour, 0},              // the evening
		{"2027-06-07 00:00", "2028-06-07 00:00", 0, 0, 0},                          // a year: checked below
		{"2027-06-11 18:00", "2027-06-14 10:00", 6 * time.Hour, 58 * time.Hour, 3}, // Fri evening to Mon
	}
	for _, tc := range cases {
		u := c.UseOf(Interval{Start: wall(t, loc, tc.from), End: wall(t, loc, tc.to)}, nil)
		if tc.working == 0 && tc.shut == 0 { // the (leap) year: 52 weeks of six working days, then a Monday and a Tuesday
			if got := u.Working.Duration() + u.Closed.Duration(); got != u.Interval.Duration() {
				t.Errorf("%s → %s: working %v + closed %v != interval %v", tc.from, tc.to, u.Working.Duration(), u.Closed.Duration(), u.Interval.Duration())
			}
			if d := c.DaysWith(u.Working); d != 52*6+2 {
				t.Errorf("a year from a Monday: %d working days, want %d", d, 52*6+2)
			}
			continue
		}
		if u.Working.Duration() != tc.working || u.Closed.Duration() != tc.shut || c.DaysWith(u.Working) != tc.days {
			t.Errorf("%s → %s: working %v closed %v days %d, want %v %v %d", tc.from, tc.to,
				u.Working.Duration(), u.Closed.Duration(), c.DaysWith(u.Working), tc.working, tc.shut, tc.days)
		}
	}
}

// TestUseHolidaysLeaveAndRamadan: a Throne Day closes its date, a provisional Eid is
// an ordinary working day that is named, the Ramadan override's shorter hours apply,
// and a resource's block (a day of leave) is neither working nor closed time.
func TestUseHolidaysLeaveAndRamadan(t *testing.T) {
	t.Parallel()
	c := casablancaCal(t)
	loc := c.Location
	c.Overrides = []Override{ramadan2027}
	c.Holidays = []Holiday{{Date: date("2027-07-30"), Name: "Throne Day"}, {Date: date("2027-03-10"), Name: "Eid al-Fitr", Provisional: true}}
	// Thu 29 → Sat 31 July 2027: Thursday 9 h, Throne Day 0, Saturday 4 h.
	u := c.UseOf(Interval{Start: wall(t, loc, "2027-07-29 00:00"), End: wall(t, loc, "2027-08-01 00:00")}, nil)
	if u.Working.Duration() != 13*time.Hour || len(u.Holidays) != 1 || u.Holidays[0].Name != "Throne Day" {
		t.Fatalf("Throne Day week: working %v, holidays %+v", u.Working.Duration(), u.Holidays)
	}
	// Wednesday 3 March 2027 is in Ramadan: 09:00–15:00. Wednesday 10 March is
	// provisionally Eid: an ordinary day's 9 h until confirmed, and named.
	u = c.UseOf(Interval{Start: wall(t, loc, "2027-03-03 00:00"), End: wall(t, loc, "2027-03-04 00:00")}, nil)
	if u.Working.Duration() != 6*time.Hour || len(u.Holidays) != 0 {
		t.Fatalf("a Ramadan Wednesday: working %v, holidays %+v", u.Working.Duration(), u.Holidays)
	}
	u = c.UseOf(Interval{Start: wall(t, loc, "2027-03-10 00:00"), End: wall(t, loc, "2027-03-11 00:00")}, nil)
	if u.Working.Duration() != 9*time.Hour || len(u.Holidays) != 1 || !u.Holidays[0].Provisional {
		t.Fatalf("a provisional Eid: working %v, holidays %+v", u.Working.Duration(), u.Holidays)
	}
	// Leave on Tuesday inside a Mon–Wed booking takes Tuesday's 9 h out of both.
	leave := Set{{Start: wall(t, loc, "2027-06-08 00:00"), End: wall(t, loc, "2027-06-09 00:00")}}
	u = c.UseOf(Interval{Start: wall(t, loc, "2027-06-07 09:00"), End: wall(t, loc, "2027-06-09 19:00")}, leave)
	if u.Working.Duration() != 18*time.Hour || u.Closed.Duration() != 16*time.Hour || c.DaysWith(u.Working) != 2 {
		t.Fatalf("leave on Tuesday: working %v closed %v days %d", u.Working.Duration(), u.Closed.Duration(), c.DaysWith(u.Working))
	}
}

// TestUseProperties: over random calendars, intervals and blocks, working and closed
// time are disjoint, lie in the interval, avoid the blocks, and with the blocks cover
// the interval exactly; working time never exceeds the interval; working days are
// the distinct local dates of working minutes.
func TestUseProperties(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewSource(15))
	lo := rfc(t, "2026-06-01T00:00:00Z")
	for ci, c := range propertyCalendars(t) {
		for range 40 {
			start := lo.Add(time.Duration(r.Intn(500*24*60)) * time.Minute)
			iv := Interval{Start: start, End: start.Add(time.Duration(1+r.Intn(10*24*60)) * time.Minute)}
			var blocks []Interval
			for range r.Intn(3) {
				b := start.Add(time.Duration(r.Intn(12*24*60)-24*60) * time.Minute)
				blocks = append(blocks, Interval{Start: b, End: b.Add(time.Duration(1+r.Intn(2*24*60)) * time.Minute)})
			}
			bs := Normalize(blocks...)
			u := c.UseOf(iv, bs)
			whole := Set{iv}
			switch {
			case !u.Working.IsNormalized() || !u.Closed.IsNormalized():
				t.Fatalf("calendar %d %v: not normalised", ci, iv)
			case len(u.Working.Intersect(u.Closed)) != 0:
				t.Fatalf("calendar %d %v: working and closed overlap", ci, iv)
			case len(u.Working.Union(u.Closed).Intersect(bs)) != 0:
				t.Fatalf("calendar %d %v: a block is counted", ci, iv)
			case !u.Working.Union(u.Closed).Union(bs.Intersect(whole)).Equal(whole):
				t.Fatalf("calendar %d %v: working, closed and blocks do not cover the interval", ci, iv)
			case u.Working.Duration() > iv.Duration():
				t.Fatalf("calendar %d %v: more working time than the interval", ci, iv)
			case !u.Working.Equal(c.WorkingTime(iv, Options{}).Subtract(bs)):
				t.Fatalf("calendar %d %v: working time is not the calendar's less the blocks", ci, iv)
			}
			days := map[Date]bool{}
			for _, w := range u.Working {
				for m := w.Start; m.Before(w.End); m = m.Add(time.Minute) {
					days[DateOf(m.In(c.Location))] = true
				}
			}
			if got := c.DaysWith(u.Working); got != len(days) {
				t.Fatalf("calendar %d %v: DaysWith %d, distinct working dates %d", ci, iv, got, len(days))
			}
		}
	}
}

// BenchmarkUseOfYear is the working time of a year-long booking (target < 1 ms).
func BenchmarkUseOfYear(b *testing.B) {
	c := propertyCalendars(b)[0]
	start := rfc(b, "2027-01-04T08:00:00Z")
	iv := Interval{Start: start, End: start.AddDate(1, 0, 0)}
	for b.Loop() {
		u := c.UseOf(iv, nil)
		_ = c.DaysWith(u.Working)
	}
}
