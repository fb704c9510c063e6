package booking

import (
	"math/rand"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/money"
)

// randomCalendar is a site calendar with split days, a period of other hours,
// holidays (some provisional, some half days) in Casablanca or Paris.
func randomCalendar(r *rand.Rand) *calendar.Calendar {
	zones := []string{"Africa/Casablanca", "Europe/Paris", "Africa/Dakar"}
	cal := &calendar.Calendar{Location: calendar.MustLoadLocation(zones[r.Intn(len(zones))])}
	span := func(from, to int) calendar.Span {
		return calendar.Span{From: calendar.Clock{Hour: from}, To: calendar.Clock{Hour: to}}
	}
	for d := range cal.Week {
		switch r.Intn(4) {
		case 0: // closed
		case 1:
			cal.Week[d] = []calendar.Span{span(9, 13)}
		default:
			cal.Week[d] = []calendar.Span{span(8+r.Intn(2), 12+r.Intn(2)), span(14, 17+r.Intn(3))}
		}
	}
	base := calendar.Date{Year: 2027, Month: time.March, Day: 1}
	from := base.AddDays(r.Intn(60))
	o := calendar.Override{From: from, To: from.AddDays(r.Intn(20)), Name: "period"}
	for d := time.Monday; d <= time.Friday; d++ {
		o.Week[d] = []calendar.Span{span(9, 15)}
	}
	cal.Overrides = []calendar.Override{o}
	for range r.Intn(6) {
		h := calendar.Holiday{Date: base.AddDays(r.Intn(90)), Name: "holiday", Provisional: r.Intn(3) == 0}
		if r.Intn(4) == 0 {
			s := span(9, 12)
			h.HalfDay = &s
		}
		cal.Holidays = append(cal.Holidays, h)
	}
	return cal
}

// TestQuoteIsRateTimesWorkingTime: over random calendars, leave and items, every line
// of a quote is its rate times the resource's working time in the item (or its working
// days, for a day rate), the overtime line the rate times the multiplier times the
// closed time, and the total their sum; working time never exceeds the interval.
func TestQuoteIsRateTimesWorkingTime(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewSource(15))
	overtimeLines, dayLines := 0, 0
	for round := range 60 {
		p, res := pricingFixture(t)
		p.Calendar = randomCalendar(r)
		p.Location = p.Calendar.Location
		names := []string{"gs1", "gs2", "col", "mix"}
		start0 := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
		p.Blocks = map[uuid.UUID]calendar.Set{}
		for _, n := range names {
			if r.Intn(2) == 0 {
				b := start0.Add(time.Duration(r.Intn(80*24)) * time.Hour)
				p.Blocks[res[n].ID] = calendar.Set{{Start: b, End: b.Add(time.Duration(1+r.Intn(72)) * time.Hour)}}
			}
		}
		var items []QuoteItem
		for range 1 + r.Intn(4) {
			s := start0.Add(time.Duration(r.Intn(80*24*60)) * time.Minute)
			items = append(items, QuoteItem{ResourceID: res[names[r.Intn(len(names))]].ID, Start: s,
				End: s.Add(time.Duration(1+r.Intn(10*24*60)) * time.Minute), Overtime: r.Intn(3) == 0})
		}
		q, err := p.Quote(items)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		var total int64
		li := 0
		for _, it := range items {
			u := p.Calendar.UseOf(calendar.Interval{Start: it.Start, End: it.End}, p.Blocks[it.ResourceID])
			if u.Working.Duration() > it.End.Sub(it.Start) {
				t.Fatalf("round %d: %v of working time in %v", round, u.Working.Duration(), it.End.Sub(it.Start))
			}
			line := q.Lines[li]
			li++
			want, _ := money.Prorate(line.RateMinor, int64(u.Working.Duration()/time.Second), 3600)
			if line.Unit == UnitDay {
				want = line.RateMinor * int64(p.Calendar.DaysWith(u.Working))
				dayLines++
			}
			if line.Overtime || line.AmountMinor != want {
				t.Fatalf("round %d: line %+v, want %d for %v of working time", round, line, want, u.Working.Duration())
			}
			total += line.AmountMinor
			if !it.Overtime || len(u.Closed) == 0 {
				continue
			}
			// Overtime: the closed hours, or the days with only closed time, at the
			// multiplier; a day-rated item whose closed time falls on its working days
			// sells no overtime day and has no overtime line.
			qty, den := int64(u.Closed.Duration()/time.Second), int64(3600*10000)
			if line.Unit == UnitDay {
				qty, den = int64(p.Calendar.DaysWith(u.Working.Union(u.Closed))-p.Calendar.DaysWith(u.Working)), 10000
				if qty == 0 {
					continue
				}
			}
			ot := q.Lines[li]
			li++
			want, _ = money.Prorate(ot.RateMinor, qty*int64(ot.MultiplierBP), den)
			if !ot.Overtime || ot.Unit != line.Unit || ot.MultiplierBP == 0 || ot.AmountMinor != want {
				t.Fatalf("round %d: overtime line %+v, want %d for %v closed", round, ot, want, u.Closed.Duration())
			}
			total += ot.AmountMinor
			overtimeLines++
		}
		if li != len(q.Lines) || total != q.TotalMinor {
			t.Fatalf("round %d: %d lines for the items, quote has %d; total %d, quote %d", round, li, len(q.Lines), total, q.TotalMinor)
		}
	}
	if overtimeLines == 0 || dayLines == 0 {
		t.Fatalf("the rounds priced %d overtime and %d day-rate lines: the property was not exercised", overtimeLines, dayLines)
	}
}
