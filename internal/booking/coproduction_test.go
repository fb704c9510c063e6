package booking

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/calendar"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func pricingFixture(t *testing.T) (*Pricing, map[string]Resource) {
	t.Helper()
	site := Site{ID: uuid.New(), Name: "Casablanca", TimeZone: "Africa/Casablanca", Currency: "MAD"}
	res := map[string]Resource{
		"gs1":   {ID: uuid.New(), SiteID: site.ID, Name: "Grading Suite 1", Kind: "grading_suite", RateMinor: 150000, RateUnit: UnitHour},
		"gs2":   {ID: uuid.New(), SiteID: site.ID, Name: "Grading Suite 2", Kind: "grading_suite", RateMinor: 120000, RateUnit: UnitHour},
		"col":   {ID: uuid.New(), SiteID: site.ID, Name: "Yasmine", Kind: "colourist", RateMinor: 80000, RateUnit: UnitHour},
		"mix":   {ID: uuid.New(), SiteID: site.ID, Name: "Mix Stage A", Kind: "mix_stage", RateMinor: 180001, RateUnit: UnitHour},
		"other": {ID: uuid.New(), SiteID: uuid.New(), Name: "Elsewhere", Kind: "grading_suite"},
	}
	gs1 := res["gs1"].ID
	older := utc("2026-01-01T00:00:00Z")
	loc := calendar.MustLoadLocation(site.TimeZone)
	// Casablanca's week: Mon–Fri 09:00–13:00 and 14:00–19:00, Sat 09:00–13:00 (the
	// zone is +00 all year in 2027).
	day := []calendar.Span{{From: calendar.Clock{Hour: 9}, To: calendar.Clock{Hour: 13}}, {From: calendar.Clock{Hour: 14}, To: calendar.Clock{Hour: 19}}}
	cal := &calendar.Calendar{Location: loc}
	for d := time.Monday; d <= time.Friday; d++ {
		cal.Week[d] = day
	}
	cal.Week[time.Saturday] = day[:1]
	p := &Pricing{Site: site, Location: loc, Calendar: cal, Resources: map[uuid.UUID]Resource{},
		Cards: []RateCard{
			{ID: uuid.New(), SiteID: site.ID, Kind: "grading_suite", Unit: UnitHour, AmountMinor: 140000, CreatedAt: older},
			{ID: uuid.New(), SiteID: site.ID, ResourceID: &gs1, Unit: UnitHour, AmountMinor: 165000, CreatedAt: older},
			{ID: uuid.New(), SiteID: site.ID, ResourceID: &gs1, Unit: UnitHour, AmountMinor: 175000, EffectiveFrom: "2027-07-01", CreatedAt: older},
			{ID: uuid.New(), SiteID: site.ID, Kind: "colourist", Unit: UnitDay, AmountMinor: 500000, EffectiveTo: "2027-06-30", CreatedAt: older},
		},
		Rates: []ExchangeRate{
			{ID: uuid.New(), Base: "EUR", Quote: "XOF", Rate: "655.957", EffectiveAt: utc("2026-01-01T00:00:00Z")},
			{ID: uuid.New(), Base: "EUR", Quote: "MAD", Rate: "10.85", EffectiveAt: utc("2026-01-01T00:00:00Z")},
			// A later euro–dirham rate, entered the other way round.
			{ID: uuid.New(), Base: "MAD", Quote: "EUR", Rate: "0.1", EffectiveAt: utc("2027-06-01T00:00:00Z")},
		},
		At: utc("2027-03-01T09:00:00Z"),
	}
	for _, r := range res {
		p.Resources[r.ID] = r
	}
	return p, res
}

func TestPriceItemRatesAndRounding(t *testing.T) {
	t.Parallel()
	p, res := pricingFixture(t)
	cases := []struct {
		name       string
		item       QuoteItem
		unit       string
		source     string
		rate, want int64
		quantity   string
	}{
		// The suite's own card beats its kind's: 09:00–16:20 holds 6 h 20 min of working
		// time (the lunch hour is not sold) at 1 650.00 MAD.
		{"resource card", QuoteItem{ResourceID: res["gs1"].ID, Start: utc("2027-03-10T09:00:00Z"), End: utc("2027-03-10T16:20:00Z")},
			UnitHour, "resource_card", 165000, 1045000, "6.33"},
		// An hour and a second: 165 045.83 centimes round to 165 046.
		{"prorated to the second", QuoteItem{ResourceID: res["gs1"].ID, Start: utc("2027-03-10T09:00:00Z"), End: utc("2027-03-10T10:00:01Z")},
			UnitHour, "resource_card", 165000, 165046, "1.00"},
		// From July the suite's newer card is in force.
		{"effective from", QuoteItem{ResourceID: res["gs1"].ID, Start: utc("2027-07-05T09:00:00Z"), End: utc("2027-07-05T11:00:00Z")},
			UnitHour, "resource_card", 175000, 350000, "2.00"},
		// The other suite takes its kind's card.
		{"kind card", QuoteItem{ResourceID: res["gs2"].ID, Start: utc("2027-03-10T09:00:00Z"), End: utc("2027-03-10T09:30:00Z")},
			UnitHour, "kind_card", 140000, 70000, "0.50"},
		// No card: the catalogue's rate, and 90 000.5 centimes round half away from zero.
		{"catalogue rate, half up", QuoteItem{ResourceID: res["mix"].ID, Start: utc("2027-03-10T09:00:00Z"), End: utc("2027-03-10T09:30:00Z")},
			UnitHour, "resource", 180001, 90001, "0.50"},
		// A day rate bills the site-local days with working time: Wed 09:00 to Fri 13:00 is 3.
		{"day rate", QuoteItem{ResourceID: res["col"].ID, Start: utc("2027-03-10T09:00:00Z"), End: utc("2027-03-12T13:00:00Z")},
			UnitDay, "kind_card", 500000, 1500000, "3"},
		// A Sat 09:30 → Mon 10:00 screening is two working days: Sunday is closed.
		{"day rate over a Sunday", QuoteItem{ResourceID: res["col"].ID, Start: utc("2027-03-13T09:30:00Z"), End: utc("2027-03-15T10:00:00Z")},
			UnitDay, "kind_card", 500000, 1000000, "2"},
		// An evening session is no working day at all.
		{"day rate in the evening", QuoteItem{ResourceID: res["col"].ID, Start: utc("2027-03-10T20:00:00Z"), End: utc("2027-03-11T00:00:00Z")},
			UnitDay, "kind_card", 500000, 0, "0"},
		// After the colourist's card ends, the catalogue's hourly rate applies.
		{"effective to", QuoteItem{ResourceID: res["col"].ID, Start: utc("2027-07-01T09:00:00Z"), End: utc("2027-07-01T10:00:00Z")},
			UnitHour, "resource", 80000, 80000, "1.00"},
		// Mon 09:00 → Wed 19:00 holds 27 working hours, not 58 clock hours.
		{"working hours", QuoteItem{ResourceID: res["gs2"].ID, Start: utc("2027-03-08T09:00:00Z"), End: utc("2027-03-10T19:00:00Z")},
			UnitHour, "kind_card", 140000, 3780000, "27.00"},
	}
	for _, c := range cases {
		lines, err := p.PriceItem(c.item)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(lines) != 1 {
			t.Fatalf("%s: %d lines, want 1", c.name, len(lines))
		}
		line := lines[0]
		if line.Unit != c.unit || line.RateSource != c.source || line.RateMinor != c.rate || line.AmountMinor != c.want || line.Quantity != c.quantity {
			t.Errorf("%s: %s %s %d × %s = %d; want %s %s %d × %s = %d", c.name, line.Unit, line.RateSource, line.RateMinor, line.Quantity,
				line.AmountMinor, c.unit, c.source, c.rate, c.quantity, c.want)
		}
	}
	if _, err := p.PriceItem(QuoteItem{ResourceID: res["other"].ID, Start: utc("2027-03-10T09:00:00Z"), End: utc("2027-03-10T10:00:00Z")}); ErrorCode(err) != EINVALID {
		t.Errorf("a resource of another site: %v", err)
	}
}

// TestPriceItemOvertimeAndLeave: an overtime booking bills its closed time on a line of
// its own at the card's multiplier (1.5× by default); a day rate bills a closed day
// worked as overtime at the multiplier; a resource's leave is not billed.
func TestPriceItemOvertimeAndLeave(t *testing.T) {
	t.Parallel()
	p, res := pricingFixture(t)
	type want struct {
		overtime bool
		unit     string
		bp       int
		quantity string
		amount   int64
	}
	cases := []struct {
		name string
		item QuoteItem
		want []want
	}{
		// Wed 17:00–22:00 as overtime: 2 working hours and 3 overtime hours at 1.5×.
		{"evening overtime", QuoteItem{ResourceID: res["gs2"].ID, Start: utc("2027-03-10T17:00:00Z"), End: utc("2027-03-10T22:00:00Z"), Overtime: true},
			[]want{{false, UnitHour, 0, "2.00", 280000}, {true, UnitHour, 15000, "3.00", 630000}}},
		// The same evening not as overtime sells the working hours only.
		{"evening, not overtime", QuoteItem{ResourceID: res["gs2"].ID, Start: utc("2027-03-10T17:00:00Z"), End: utc("2027-03-10T22:00:00Z")},
			[]want{{false, UnitHour, 0, "2.00", 280000}}},
		// A Sunday worked as overtime by a day-rated colourist: one day at 1.5×.
		{"Sunday overtime, day rate", QuoteItem{ResourceID: res["col"].ID, Start: utc("2027-03-14T10:00:00Z"), End: utc("2027-03-14T18:00:00Z"), Overtime: true},
			[]want{{false, UnitDay, 0, "0", 0}, {true, UnitDay, 15000, "1", 750000}}},
		// The suite's own card says 2×: the lunch hour as overtime costs two hours.
		{"card multiplier", QuoteItem{ResourceID: res["gs1"].ID, Start: utc("2027-07-05T12:00:00Z"), End: utc("2027-07-05T15:00:00Z"), Overtime: true},
			[]want{{false, UnitHour, 0, "2.00", 350000}, {true, UnitHour, 20000, "1.00", 350000}}},
	}
	for i := range p.Cards {
		if p.Cards[i].EffectiveFrom == "2027-07-01" {
			p.Cards[i].OvertimeMultiplierBP = 20000
		}
	}
	for _, c := range cases {
		lines, err := p.PriceItem(c.item)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(lines) != len(c.want) {
			t.Fatalf("%s: %d lines, want %d: %+v", c.name, len(lines), len(c.want), lines)
		}
		for i, w := range c.want {
			l := lines[i]
			if l.Overtime != w.overtime || l.Unit != w.unit || l.MultiplierBP != w.bp || l.Quantity != w.quantity || l.AmountMinor != w.amount {
				t.Errorf("%s line %d: overtime %v %s ×%d %s = %d; want %v %s ×%d %s = %d", c.name, i,
					l.Overtime, l.Unit, l.MultiplierBP, l.Quantity, l.AmountMinor, w.overtime, w.unit, w.bp, w.quantity, w.amount)
			}
		}
	}
	// A day of leave on Tuesday inside Mon 09:00 → Wed 19:00: 18 h billed, not 27.
	gs2 := res["gs2"].ID
	p.Blocks = map[uuid.UUID]calendar.Set{gs2: {{Start: utc("2027-03-09T00:00:00Z"), End: utc("2027-03-10T00:00:00Z")}}}
	lines, err := p.PriceItem(QuoteItem{ResourceID: gs2, Start: utc("2027-03-08T09:00:00Z"), End: utc("2027-03-10T19:00:00Z")})
	if err != nil || len(lines) != 1 || lines[0].Quantity != "18.00" || lines[0].AmountMinor != 18*140000 {
		t.Fatalf("leave on Tuesday: %+v %v", lines, err)
	}
}

func TestQuoteTotalsAndConversions(t *testing.T) {
	t.Parallel()
	p, res := pricingFixture(t)
	// Two half hours of a 1 085.00 MAD/h card: 1 085.00 MAD.
	p.Cards = append(p.Cards, RateCard{ID: uuid.New(), SiteID: p.Site.ID, Kind: "mix_stage", Unit: UnitHour, AmountMinor: 108500, CreatedAt: utc("2026-01-01T00:00:00Z")})
	q, err := p.Quote([]QuoteItem{
		{ResourceID: res["mix"].ID, Start: utc("2027-03-10T09:00:00Z"), End: utc("2027-03-10T09:30:00Z")},
		{ResourceID: res["mix"].ID, Start: utc("2027-03-11T09:00:00Z"), End: utc("2027-03-11T09:30:00Z")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if q.TotalMinor != 108500 || q.Total != "1085.00" || q.Currency != "MAD" {
		t.Fatalf("total %d %s %s", q.TotalMinor, q.Total, q.Currency)
	}
	// 1 085.00 MAD is 100 EUR at 10.85 (the inverse of EUR→MAD), and 65 595.7 XOF
	// through the euro: whole francs, half away from zero, 65 596.
	want := map[string]struct {
		minor int64
		total string
		legs  int
	}{"XOF": {65596, "65596", 2}, "EUR": {10000, "100.00", 1}}
	if len(q.Conversions) != 2 {
		t.Fatalf("conversions %+v", q.Conversions)
	}
	for _, c := range q.Conversions {
		w := want[c.Currency]
		if c.TotalMinor != w.minor || c.Total != w.total || len(c.Legs) != w.legs {
			t.Errorf("%s: %d %s (%d legs), want %d %s (%d legs)", c.Currency, c.TotalMinor, c.Total, len(c.Legs), w.minor, w.total, w.legs)
		}
	}
	// Later, the newer MAD→EUR rate (0.1) is in force: 108.50 EUR, and 108.50 × 655.957 =
	// 71 171.33 XOF → 71 171.
	p.At = utc("2027-07-01T00:00:00Z")
	q2, err := p.Quote([]QuoteItem{{ResourceID: res["mix"].ID, Start: utc("2027-03-10T09:00:00Z"), End: utc("2027-03-10T10:00:00Z")}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, c := range q2.Conversions {
		got[c.Currency] = c.TotalMinor
	}
	if got["EUR"] != 10850 || got["XOF"] != 71171 {
		t.Fatalf("conversions at the later rate: %v", got)
	}
	// No rate at all: the conversion is left out, with a warning.
	p.Rates = nil
	q3, err := p.Quote([]QuoteItem{{ResourceID: res["mix"].ID, Start: utc("2027-03-10T09:00:00Z"), End: utc("2027-03-10T10:00:00Z")}})
	if err != nil || len(q3.Conversions) != 0 || len(q3.Warnings) != 2 {
		t.Fatalf("without rates: %v %+v", err, q3)
	}
}

func TestQuoteInXOF(t *testing.T) {
	t.Parallel()
	site := Site{ID: uuid.New(), Name: "Dakar", TimeZone: "Africa/Dakar", Currency: "XOF"}
	suite := Resource{ID: uuid.New(), SiteID: site.ID, Name: "Salle 1", Kind: "edit_suite", RateMinor: 22501, RateUnit: UnitHour}
	// Dakar works weekdays 09:00–18:00; both sessions are inside.
	cal := &calendar.Calendar{Location: calendar.MustLoadLocation(site.TimeZone)}
	for d := time.Monday; d <= time.Friday; d++ {
		cal.Week[d] = []calendar.Span{{From: calendar.Clock{Hour: 9}, To: calendar.Clock{Hour: 18}}}
	}
	p := &Pricing{Site: site, Location: cal.Location, Calendar: cal, Resources: map[uuid.UUID]Resource{suite.ID: suite},
		Rates: []ExchangeRate{{Base: "EUR", Quote: "XOF", Rate: "655.957", EffectiveAt: utc("2026-01-01T00:00:00Z")}},
		At:    utc("2027-03-01T00:00:00Z")}
	// 30 min at 22 501 F/h is 11 250.5 F: no minor unit, so 11 251; 20 min is 7 500.33, so 7 500.
	q, err := p.Quote([]QuoteItem{
		{ResourceID: suite.ID, Start: utc("2027-03-10T09:00:00Z"), End: utc("2027-03-10T09:30:00Z")},
		{ResourceID: suite.ID, Start: utc("2027-03-11T09:00:00Z"), End: utc("2027-03-11T09:20:00Z")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if q.Lines[0].AmountMinor != 11251 || q.Lines[1].AmountMinor != 7500 || q.TotalMinor != 18751 || q.Total != "18751" {
		t.Fatalf("lines %d %d total %d %q", q.Lines[0].AmountMinor, q.Lines[1].AmountMinor, q.TotalMinor, q.Total)
	}
	// XOF to XOF is the total itself; to EUR at 1/655.957: 28.585… EUR, so 28.59.
	got := map[string]Conversion{}
	for _, c := range q.Conversions {
		got[c.Currency] = c
	}
	if got["XOF"].TotalMinor != 18751 || got["XOF"].Rate != "1" || got["EUR"].TotalMinor != 2859 || got["EUR"].Total != "28.59" {
		t.Fatalf("conversions %+v", q.Conversions)
	}
}

func TestRingFenceRule(t *testing.T) {
	t.Parallel()
	f := RingFence{ID: uuid.New(), Kind: "grading_suite", Programme: "emerging-filmmakers", Countries: []string{"SN", "MA"},
		SharePct: 20, ShareBP: 2000, Period: PeriodMonth, ReleaseDays: 30}
	in := Production{Programme: "emerging-filmmakers", Origins: []Origin{{Country: "FR", SharePct: 50}, {Country: "SN", SharePct: 50}}}
	out := Production{Programme: "emerging-filmmakers", Origins: []Origin{{Country: "FR", SharePct: 100}}}
	none := Production{Origins: []Origin{{Country: "SN", SharePct: 100}}}
	if !f.Eligible(in) || f.Eligible(out) || f.Eligible(none) {
		t.Fatal("eligibility: programme and one of the countries")
	}
	now := utc("2027-03-01T09:00:00Z")
	if f.Applies(now.Add(29*24*time.Hour), now) || !f.Applies(now.Add(30*24*time.Hour), now) {
		t.Fatal("the fence applies from the release horizon on")
	}

	loc := time.UTC
	period := PeriodAt(PeriodMonth, utc("2027-03-15T12:00:00Z"), loc)
	if period.Label != "2027-03" || !period.Start.Equal(utc("2027-03-01T00:00:00Z")) || !period.End.Equal(utc("2027-04-01T00:00:00Z")) {
		t.Fatalf("period %+v", period)
	}
	// Ten working days of 8 h in the month, two resources: 160 h, 32 h reserved.
	var days []calendar.Interval
	for d := 1; d <= 10; d++ {
		start := time.Date(2027, 3, d, 9, 0, 0, 0, time.UTC)
		days = append(days, calendar.Interval{Start: start, End: start.Add(8 * time.Hour)})
	}
	working := calendar.Normalize(days...)
	a, b := uuid.New(), uuid.New()
	used := map[uuid.UUID][]calendar.Interval{
		// 5 days on a, and the same time held twice: counted once.
		a: append(append([]calendar.Interval{}, days[:5]...), days[0]),
		// All 10 days on b, booked round the clock: only working time counts.
		b: {{Start: utc("2027-03-01T00:00:00Z"), End: utc("2027-03-11T00:00:00Z")}},
	}
	c := NonProgrammeCapacity(f, period, map[uuid.UUID]calendar.Set{a: working, b: working}, used)
	if c.Working != 160*time.Hour || c.Reserved != 32*time.Hour || c.Limit != 128*time.Hour || c.Used != 120*time.Hour || c.Remaining != 8*time.Hour {
		t.Fatalf("capacity %+v", c)
	}
	// A resource on leave for two of the days offers 16 h less, and its bookings count
	// only in its available time.
	leave := calendar.Set{{Start: utc("2027-03-09T00:00:00Z"), End: utc("2027-03-11T00:00:00Z")}}
	onLeave := NonProgrammeCapacity(f, period, map[uuid.UUID]calendar.Set{a: working, b: working.Subtract(leave)}, used)
	if onLeave.Working != 144*time.Hour || onLeave.Reserved != 28*time.Hour+48*time.Minute || onLeave.Used != 104*time.Hour || onLeave.Resources != 2 {
		t.Fatalf("capacity with leave %+v", onLeave)
	}
	if c.WorkingHours != 160 || c.RemainingHours != 8 {
		t.Fatalf("hours %+v", c)
	}
	if !c.Allows(8*time.Hour) || c.Allows(8*time.Hour+time.Second) {
		t.Fatal("the limit is (1 - share) × working hours")
	}
	// A request from 08:00 to 12:00 on a working day takes 3 working hours.
	if got := RequestedTime(period, working, utc("2027-03-02T08:00:00Z"), utc("2027-03-02T12:00:00Z"), 2); got != 6*time.Hour {
		t.Fatalf("requested %v, want 6h for two resources", got)
	}
	// Quarters in Paris start at local midnight, in summer time.
	paris := calendar.MustLoadLocation("Europe/Paris")
	q := PeriodAt(PeriodQuarter, utc("2027-05-15T12:00:00Z"), paris)
	if q.Label != "2027-Q2" || !q.Start.Equal(utc("2027-03-31T22:00:00Z")) || !q.End.Equal(utc("2027-06-30T22:00:00Z")) {
		t.Fatalf("quarter %+v", q)
	}
	ps := PeriodsOverlapping(PeriodQuarter, utc("2027-06-30T12:00:00Z"), utc("2027-07-02T12:00:00Z"), paris)
	if len(ps) != 2 || ps[1].Label != "2027-Q3" {
		t.Fatalf("periods %+v", ps)
	}
	err := RingFenceRefusal(f, c, 9*time.Hour, now, loc)
	if err.Code != ECONFLICT || err.Details["ring_fence"] == nil {
		t.Fatalf("refusal %+v", err)
	}
}

func TestSumTreatySplitsByShares(t *testing.T) {
	t.Parallel()
	coprod := Production{ID: uuid.New(), Emerging: true, Origins: []Origin{{Country: "SN", SharePct: 60}, {Country: "MA", SharePct: 40}}}
	moroccan := Production{ID: uuid.New(), Origins: []Origin{{Country: "MA", SharePct: 100}}}
	totals, countries, err := SumTreaty([]TreatyBooking{
		{BookingID: uuid.New(), Production: coprod, Session: 10 * time.Hour, ResourceTime: 20 * time.Hour, ValueMinor: 100001, Trainees: 2},
		{BookingID: uuid.New(), Production: moroccan, Session: 4 * time.Hour, ResourceTime: 4 * time.Hour, ValueMinor: 50000},
	}, "MAD")
	if err != nil {
		t.Fatal(err)
	}
	if totals.SessionHours != 14 || totals.ResourceHours != 24 || totals.ValueMinor != 150001 || totals.Value != "1500.01" ||
		totals.EmergingSessionHours != 10 || totals.EmergingValueMinor != 100001 || totals.TrainingSessionHours != 10 || totals.TraineeHours != 20 ||
		totals.Productions != 2 || totals.Bookings != 2 {
		t.Fatalf("totals %+v", totals)
	}
	if len(countries) != 2 || countries[0].Country != "MA" || countries[1].Country != "SN" {
		t.Fatalf("countries %+v", countries)
	}
	ma, sn := countries[0], countries[1]
	// 100 001 centimes split 60/40 by the largest remainder: 60 001 and 40 000.
	if sn.SessionHours != 6 || sn.ResourceHours != 12 || sn.ValueMinor != 60001 || sn.EmergingSessionHours != 6 || sn.TraineeHours != 12 || sn.TrainingSessionHours != 6 || sn.Productions != 1 {
		t.Fatalf("SN %+v", sn)
	}
	if ma.SessionHours != 8 || ma.ResourceHours != 12 || ma.ValueMinor != 90000 || ma.EmergingSessionHours != 4 || ma.EmergingValueMinor != 40000 || ma.TraineeHours != 8 || ma.Productions != 2 {
		t.Fatalf("MA %+v", ma)
	}
	if sn.ValueMinor+ma.ValueMinor != totals.ValueMinor {
		t.Fatal("countries do not add up to the total")
	}
}
