package postgres

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/posthub/posthub/internal/calendar"
)

// TestUtilUseIsUseOf: the working and closed time utilisation takes from a resource's
// working time in the whole range (expanded once) are calendar.UseOf's for the same
// part and blocks, on a calendar with a split day, a Ramadan-style override, a holiday
// and the two DST changes of Paris in the range.
func TestUtilUseIsUseOf(t *testing.T) {
	t.Parallel()
	loc, err := calendar.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	day := []calendar.Span{{From: calendar.Clock{Hour: 9}, To: calendar.Clock{Hour: 13}}, {From: calendar.Clock{Hour: 14}, To: calendar.Clock{Hour: 19}}}
	short := []calendar.Span{{From: calendar.Clock{Hour: 9}, To: calendar.Clock{Hour: 15}}}
	cal := &calendar.Calendar{Location: loc,
		Week:      calendar.Week{time.Monday: day, time.Tuesday: day, time.Wednesday: day, time.Thursday: day, time.Friday: day, time.Saturday: short},
		Overrides: []calendar.Override{{From: calendar.Date{Year: 2027, Month: 3, Day: 1}, To: calendar.Date{Year: 2027, Month: 3, Day: 9}, Week: calendar.Week{time.Monday: short, time.Tuesday: short}}},
		Holidays:  []calendar.Holiday{{Date: calendar.Date{Year: 2027, Month: 5, Day: 1}, Name: "Fête du travail"}, {Date: calendar.Date{Year: 2027, Month: 3, Day: 10}, Name: "Eid", Provisional: true}},
	}
	rng := rand.New(rand.NewPCG(15, 15))
	from := time.Date(2027, 2, 20, 0, 0, 0, 0, time.UTC)
	rangeIv := calendar.Interval{Start: from, End: from.Add(260 * 24 * time.Hour)} // past both DST changes
	working := cal.WorkingTime(rangeIv, calendar.Options{})
	minutes := func(n int) time.Duration { return time.Duration(rng.IntN(n)) * time.Minute }
	for range 500 {
		var ivs []calendar.Interval
		for range rng.IntN(4) {
			s := from.Add(minutes(260 * 24 * 60))
			ivs = append(ivs, calendar.Interval{Start: s, End: s.Add(1 + minutes(5*24*60))})
		}
		blocks := calendar.Normalize(ivs...)
		s := from.Add(minutes(255 * 24 * 60))
		part := calendar.Interval{Start: s, End: s.Add(1 + minutes(4*24*60))}
		w, c := utilUse(working.Subtract(blocks), blocks, part, true)
		u := cal.UseOf(part, blocks)
		if w != u.Working.Duration() || c != u.Closed.Duration() {
			t.Fatalf("%v with blocks %v: working %v closed %v, UseOf says %v and %v", part, blocks, w, c, u.Working.Duration(), u.Closed.Duration())
		}
	}
}
