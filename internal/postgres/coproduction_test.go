package postgres_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/postgres"
)

// resourceNamed finds a demo resource by name.
func (f *fixture) resourceNamed(t *testing.T, name string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT id FROM resources WHERE name = $1`, name).Scan(&id); err != nil {
		t.Fatalf("resource %q: %v", name, err)
	}
	return id
}

// productionTitled finds a demo production by title.
func (f *fixture) productionTitled(t *testing.T, title string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT id FROM productions WHERE title = $1`, title).Scan(&id); err != nil {
		t.Fatalf("production %q: %v", title, err)
	}
	return id
}

func (f *fixture) book(t *testing.T, who string, prod uuid.UUID, resources []uuid.UUID, start, end time.Time, status booking.Status, trainees int) booking.Booking {
	t.Helper()
	b, err := f.db.Book(f.ctx, f.actors[who], booking.BookingInput{ProductionID: prod, ResourceIDs: resources, Start: start, End: end,
		Status: status, Trainees: trainees})
	if err != nil {
		t.Fatalf("booking for %s: %v", who, err)
	}
	return b
}

// fenceStanding is a fence's standing in the period containing at, as listed.
func (f *fixture) fenceStanding(t *testing.T, site, fence uuid.UUID, at time.Time) booking.RingFenceCapacity {
	t.Helper()
	fs, err := f.db.ListRingFences(f.ctx, &site, at)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range fs {
		if x.ID == fence {
			return *x.Current
		}
	}
	t.Fatal("fence not listed")
	return booking.RingFenceCapacity{}
}

func conversions(q booking.Quote) map[string]int64 {
	out := map[string]int64{}
	for _, c := range q.Conversions {
		out[c.Currency] = c.TotalMinor
	}
	return out
}

func TestQuoteBookingLocksRates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	gs1 := f.resourceNamed(t, "Grading Suite 1 — Zellige")
	yasmine := f.resourceNamed(t, "Yasmine El Alami")
	souffle := f.productionTitled(t, "Le Souffle du Baobab")
	// 09:00–16:30 on a Wednesday in Casablanca (UTC+00 in 2027) holds 6 h 30 of working
	// time (the lunch hour is not sold): the suite's own card, 1 650.00 MAD/h, and the
	// colourists' card, 700.00 MAD/h.
	b := f.book(t, "producer", souffle, []uuid.UUID{gs1, yasmine}, f.at(10, 9), f.at(10, 9).Add(7*time.Hour+30*time.Minute), booking.StatusHold, 0)
	q, err := f.db.QuoteBooking(f.ctx, f.actors["producer"], b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if q.ID == uuid.Nil || q.BookingID == nil || *q.BookingID != b.ID || q.ProductionTitle != "Le Souffle du Baobab" || q.Currency != "MAD" {
		t.Fatalf("quote %+v", q)
	}
	amounts := map[uuid.UUID]int64{}
	for _, l := range q.Lines {
		amounts[l.ResourceID] = l.AmountMinor
	}
	if amounts[gs1] != 1072500 || amounts[yasmine] != 455000 || q.TotalMinor != 1527500 || q.Total != "15275.00" {
		t.Fatalf("lines %v total %d", amounts, q.TotalMinor)
	}
	// At the demo rates (1 EUR = 10.85 MAD = 655.957 XOF): 1 407.8341 EUR → 1 407.83;
	// 923 478.63 XOF → 923 479 (whole francs).
	if c := conversions(q); c["EUR"] != 140783 || c["XOF"] != 923479 {
		t.Fatalf("conversions %v", c)
	}

	// The dirham moves; the quote made before does not.
	if _, err := f.db.CreateExchangeRate(f.ctx, f.actors["producer"], booking.ExchangeRateInput{Base: "EUR", Quote: "MAD", Rate: "11"}); booking.ErrorCode(err) != booking.EFORBIDDEN {
		t.Fatalf("a producer entered a rate: %v", err)
	}
	if _, err := f.db.CreateExchangeRate(f.ctx, f.actors["manager"], booking.ExchangeRateInput{Base: "EUR", Quote: "MAD", Rate: "11"}); err != nil {
		t.Fatal(err)
	}
	again, err := f.db.FindQuote(f.ctx, f.actors["producer"], q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c := conversions(again); c["EUR"] != 140783 || c["XOF"] != 923479 || again.TotalMinor != 1527500 || !again.RatesAt.Equal(q.RatesAt) {
		t.Fatalf("a stored quote changed with the rates: %v", c)
	}
	newer, err := f.db.QuoteBooking(f.ctx, f.actors["manager"], b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c := conversions(newer); c["EUR"] != 138864 || c["XOF"] != 910886 {
		t.Fatalf("a new quote at the new rate: %v", c)
	}
	// The stored quote is locked even against the application's own role.
	if _, err := f.db.Pool.Exec(f.ctx, `UPDATE quotes SET total_minor = 1 WHERE id = $1`, q.ID); err == nil {
		t.Fatal("a quote was updated")
	}
	// Another company sees neither the quote nor the booking to quote.
	if _, err := f.db.FindQuote(f.ctx, f.actors["producer_other"], q.ID); booking.ErrorCode(err) != booking.ENOTFOUND {
		t.Fatalf("another producer reads the quote: %v", err)
	}
	if _, err := f.db.QuoteBooking(f.ctx, f.actors["producer_other"], b.ID); booking.ErrorCode(err) != booking.ENOTFOUND {
		t.Fatalf("another producer quotes the booking: %v", err)
	}
	mine, err := f.db.ListQuotes(f.ctx, f.actors["producer"], &b.ID)
	if err != nil || len(mine) != 2 || mine[0].ID != newer.ID {
		t.Fatalf("quotes of the booking: %v %d", err, len(mine))
	}
	theirs, err := f.db.ListQuotes(f.ctx, f.actors["producer_other"], nil)
	if err != nil || len(theirs) != 0 {
		t.Fatalf("another producer lists %d quotes (%v)", len(theirs), err)
	}
	// A released booking is no longer quoted.
	f.act(t, "producer", b.ID, booking.ActionRelease)
	if _, err := f.db.QuoteBooking(f.ctx, f.actors["producer"], b.ID); booking.ErrorCode(err) != booking.ECONFLICT {
		t.Fatalf("quoting a released booking: %v", err)
	}
}

func TestQuoteInXOFAtDakar(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	salle := f.resourceNamed(t, "Salle de montage 1")
	mariama := f.resourceNamed(t, "Mariama Sène")
	souffle := f.productionTitled(t, "Le Souffle du Baobab")
	// An hour and two seconds at 22 500 F/h is 22 512.5 F: no minor unit, half away from
	// zero, 22 513 F; the editor's day card adds 95 000 F.
	start := f.at(10, 9)
	b := f.book(t, "producer", souffle, []uuid.UUID{salle, mariama}, start, start.Add(time.Hour+2*time.Second), booking.StatusHold, 0)
	q, err := f.db.QuoteBooking(f.ctx, f.actors["producer"], b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if q.Currency != "XOF" || q.TotalMinor != 117513 || q.Total != "117513" {
		t.Fatalf("quote %s %d %q", q.Currency, q.TotalMinor, q.Total)
	}
	for _, l := range q.Lines {
		switch l.ResourceID {
		case salle:
			if l.AmountMinor != 22513 || l.Unit != booking.UnitHour || l.RateSource != "kind_card" {
				t.Errorf("suite line %+v", l)
			}
		case mariama:
			if l.AmountMinor != 95000 || l.Unit != booking.UnitDay || l.Days != 1 {
				t.Errorf("editor line %+v", l)
			}
		}
	}
	// 117 513 F at 1 EUR = 655.957 F is 179.148… EUR: 179.15.
	if c := conversions(q); c["XOF"] != 117513 || c["EUR"] != 17915 {
		t.Fatalf("conversions %v", c)
	}
}

func TestTraineesUpToTheRoomsSeats(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	gs1 := f.resourceNamed(t, "Grading Suite 1 — Zellige") // 3 seats
	mixA := f.resourceNamed(t, "Mix Stage A")              // 4 seats
	yasmine := f.resourceNamed(t, "Yasmine El Alami")      // a person: none
	souffle := f.productionTitled(t, "Le Souffle du Baobab")
	_, err := f.db.Book(f.ctx, f.actors["producer"], booking.BookingInput{ProductionID: souffle, ResourceIDs: []uuid.UUID{gs1, yasmine},
		Start: f.at(10, 9), End: f.at(10, 13), Status: booking.StatusHold, Trainees: 4})
	if de := wantCode(t, err, booking.EUNPROCESSABLE); de.Details["field"] != "trainees" || de.Details["trainee_capacity"] != 3 {
		t.Fatalf("details %v", de.Details)
	}
	b := f.book(t, "producer", souffle, []uuid.UUID{gs1, yasmine}, f.at(10, 9), f.at(10, 13), booking.StatusHold, 3)
	if b.Trainees != 3 || f.get(t, b.ID).Trainees != 3 {
		t.Fatalf("trainees %d", b.Trainees)
	}
	// Two rooms seat the sum of their seats.
	two := f.book(t, "producer", souffle, []uuid.UUID{gs1, mixA}, f.at(11, 9), f.at(11, 13), booking.StatusHold, 7)
	if two.Trainees != 7 {
		t.Fatalf("trainees %d", two.Trainees)
	}
	if _, err := f.db.Book(f.ctx, f.actors["producer"], booking.BookingInput{ProductionID: souffle, ResourceIDs: []uuid.UUID{yasmine},
		Start: f.at(12, 9), End: f.at(12, 13), Status: booking.StatusHold, Trainees: 1}); booking.ErrorCode(err) != booking.EUNPROCESSABLE {
		t.Fatalf("a person alone seats no trainee: %v", err)
	}
}

func TestTreatyReport(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	res := func(n string) []uuid.UUID { return []uuid.UUID{f.resourceNamed(t, n)} }
	souffle := f.productionTitled(t, "Le Souffle du Baobab")       // SN 60, MA 40
	pirogues := f.productionTitled(t, "Les Pirogues de Guet Ndar") // SN 50, MA 30, FR 20; emerging
	layali := f.productionTitled(t, "Layali Derb Sultan")          // MA 70, FR 30
	xaritu := f.productionTitled(t, "Xaritu Ndox")
	day := func(d, h int) time.Time { return time.Date(2027, 4, d, h, 0, 0, 0, time.UTC) }
	// Hours are sold working time. 4 h on a suite (1 400.00/h) and a colourist
	// (700.00/h), two trainees.
	f.book(t, "manager", souffle, append(res("Grading Suite 2 — Anfa"), res("Yasmine El Alami")...), day(5, 9), day(5, 13), booking.StatusConfirmed, 2)
	// 09:00–19:00 on a suite is 9 working hours (not the lunch hour), an emerging
	// filmmakers' co-production.
	f.book(t, "manager", pirogues, res("Grading Suite 3 — Oasis"), day(6, 9), day(6, 19), booking.StatusConfirmed, 0)
	// 2 h on a mix stage (1 500.00/h), four trainees.
	f.book(t, "manager", layali, res("Mix Stage A"), day(7, 10), day(7, 12), booking.StatusConfirmed, 4)
	// 6 h of overtime across the end of the quarter: the 4 h inside it count, at 1.5×.
	if _, err := f.db.Book(f.ctx, f.actors["manager"], booking.BookingInput{ProductionID: layali, ResourceIDs: res("Mix Stage B"),
		Start: time.Date(2027, 6, 30, 20, 0, 0, 0, time.UTC), End: time.Date(2027, 7, 1, 2, 0, 0, 0, time.UTC), Status: booking.StatusConfirmed, Overtime: true}); err != nil {
		t.Fatal(err)
	}
	// Neither a hold nor a booking after the period counts.
	f.book(t, "producer", xaritu, res("Grading Suite 1 — Zellige"), day(8, 9), day(8, 17), booking.StatusHold, 0)
	f.book(t, "manager", souffle, res("Grading Suite 1 — Zellige"), time.Date(2027, 7, 2, 9, 0, 0, 0, time.UTC), time.Date(2027, 7, 2, 17, 0, 0, 0, time.UTC), booking.StatusConfirmed, 0)

	site := f.site(t, "casablanca")
	q := booking.TreatyQuery{SiteID: site, From: day(1, 0), To: time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := f.db.TreatyReport(f.ctx, f.actors["producer"], q); booking.ErrorCode(err) != booking.EFORBIDDEN {
		t.Fatalf("a producer read the treaty report: %v", err)
	}
	rep, err := f.db.TreatyReport(f.ctx, f.actors["operator"], q)
	if err != nil {
		t.Fatal(err)
	}
	tot := rep.Totals
	if tot.Bookings != 4 || tot.Productions != 3 || tot.SessionHours != 19 || tot.ResourceHours != 23 || tot.ValueMinor != 3300000 ||
		tot.EmergingSessionHours != 9 || tot.EmergingValueMinor != 1260000 || tot.TrainingSessionHours != 6 || tot.TraineeHours != 16 {
		t.Fatalf("totals %+v", tot)
	}
	if rep.EmergingHoursShare != 9.0/19 {
		t.Fatalf("emerging share %v", rep.EmergingHoursShare)
	}
	want := map[string]struct {
		prods                                 int
		session, resource, emerging, training float64
		trainee                               float64
		value, emValue, eur, xof              int64
	}{
		"SN": {2, 6.9, 9.3, 4.5, 2.4, 4.8, 1134000, 630000, 104516, 685581},
		"MA": {3, 8.5, 10.1, 2.7, 3, 8.8, 1554000, 378000, 143226, 939500},
		"FR": {2, 3.6, 3.6, 1.8, 0.6, 2.4, 612000, 252000, 56405, 369996},
	}
	if len(rep.Countries) != 3 {
		t.Fatalf("countries %+v", rep.Countries)
	}
	var sum int64
	for _, c := range rep.Countries {
		w, ok := want[c.Country]
		conv := map[string]int64{}
		for _, a := range c.Converted {
			conv[a.Currency] = a.Minor
		}
		if !ok || c.Productions != w.prods || c.SessionHours != w.session || c.ResourceHours != w.resource || c.EmergingSessionHours != w.emerging ||
			c.TrainingSessionHours != w.training || c.TraineeHours != w.trainee || c.ValueMinor != w.value || c.EmergingValueMinor != w.emValue ||
			conv["EUR"] != w.eur || conv["XOF"] != w.xof {
			t.Errorf("%s: %+v %v, want %+v", c.Country, c.TreatyFigures, conv, w)
		}
		sum += c.ValueMinor
	}
	if sum != tot.ValueMinor {
		t.Errorf("countries add up to %d, total %d", sum, tot.ValueMinor)
	}
	conv := map[string]int64{}
	for _, a := range tot.Converted {
		conv[a.Currency] = a.Minor
	}
	if conv["EUR"] != 304147 || conv["XOF"] != 1995077 || len(rep.Rates) != 2 || !rep.RatesAt.Equal(f.now) {
		t.Fatalf("converted %v, rates %+v at %s", conv, rep.Rates, rep.RatesAt)
	}
}

// TestTreatyReportSharesAddUpInEveryCurrency: a co-production's value split by its
// countries' shares adds up to the total in the site's currency and in every currency
// it is converted to. One hour at 1 000.04 MAD of a 50/30/20 co-production is 500.02,
// 300.01 and 200.01 MAD; converted on its own, each rounds apart: 30 230 + 18 138 +
// 12 092 = 60 460 XOF against 60 459 for the whole, and 46.08 + 27.65 + 18.43 = 92.16
// EUR against 92.17. The report converts the total once and splits it by the
// countries' values by the largest remainder instead.
func TestTreatyReportSharesAddUpInEveryCurrency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	site := f.site(t, "casablanca")
	suite := f.resourceNamed(t, "Grading Suite 3 — Oasis")
	pirogues := f.productionTitled(t, "Les Pirogues de Guet Ndar") // SN 50, MA 30, FR 20
	if _, err := f.db.CreateRateCard(f.ctx, f.actors["manager"], booking.RateCardInput{SiteID: site, ResourceID: &suite,
		Unit: booking.UnitHour, AmountMinor: 100004}); err != nil {
		t.Fatal(err)
	}
	// Tuesday 4 May 2027, 10:00 to 11:00 in Casablanca (UTC+00), within working hours.
	start := time.Date(2027, 5, 4, 10, 0, 0, 0, time.UTC)
	f.book(t, "manager", pirogues, []uuid.UUID{suite}, start, start.Add(time.Hour), booking.StatusConfirmed, 0)
	rep, err := f.db.TreatyReport(f.ctx, f.actors["operator"], booking.TreatyQuery{SiteID: site,
		From: time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Totals.ValueMinor != 100004 || len(rep.Countries) != 3 || len(rep.Totals.Converted) != 2 {
		t.Fatalf("totals %+v, countries %+v", rep.Totals, rep.Countries)
	}

	// The off-by-one this guards against: each country's value converted on its own
	// does not add up to the converted total.
	rates, err := f.db.ListExchangeRates(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tot := range rep.Totals.Converted {
		var apart int64
		for _, c := range rep.Countries {
			conv, ok, err := booking.ConvertAmount(rates, c.ValueMinor, rep.Currency, tot.Currency, rep.RatesAt)
			if err != nil || !ok {
				t.Fatalf("converting %s's %d %s to %s: %v %v", c.Country, c.ValueMinor, rep.Currency, tot.Currency, ok, err)
			}
			apart += conv.TotalMinor
		}
		if apart == tot.Minor {
			t.Fatalf("%s: the countries converted apart add up to the total (%d): the case no longer shows the rounding", tot.Currency, apart)
		}
	}

	// Every currency reported: the site's own, and each converted one.
	figure := func(f booking.TreatyFigures, currency string) (int64, bool) {
		if currency == rep.Currency {
			return f.ValueMinor, true
		}
		for _, a := range f.Converted {
			if a.Currency == currency {
				return a.Minor, true
			}
		}
		return 0, false
	}
	currencies := []string{rep.Currency}
	for _, a := range rep.Totals.Converted {
		currencies = append(currencies, a.Currency)
	}
	want := map[string]map[string]int64{
		"MAD": {"FR": 20001, "MA": 30001, "SN": 50002, "": 100004},
		"XOF": {"FR": 12092, "MA": 18138, "SN": 30229, "": 60459},
		"EUR": {"FR": 1843, "MA": 2765, "SN": 4609, "": 9217},
	}
	for _, cur := range currencies {
		total, _ := figure(rep.Totals, cur)
		if total != want[cur][""] {
			t.Errorf("total in %s: %d, want %d", cur, total, want[cur][""])
		}
		var sum int64
		for _, c := range rep.Countries {
			v, ok := figure(c.TreatyFigures, cur)
			if !ok {
				t.Errorf("%s has no figure in %s", c.Country, cur)
			}
			if w, ok := want[cur][c.Country]; !ok || v != w {
				t.Errorf("%s in %s: %d, want %d", c.Country, cur, v, w)
			}
			sum += v
		}
		if sum != total {
			t.Errorf("in %s the countries add up to %d, the total is %d", cur, sum, total)
		}
	}
	// The emerging filmmakers' value too (the whole co-production is theirs).
	var emerging int64
	for _, c := range rep.Countries {
		emerging += c.EmergingValueMinor
	}
	if emerging != rep.Totals.EmergingValueMinor || emerging != 100004 {
		t.Errorf("emerging value: countries %d, total %d", emerging, rep.Totals.EmergingValueMinor)
	}
}

// TestRingFence: a fence keeps half of the DCP mastering room's working hours each
// month for the emerging filmmakers' programme from Senegal, open to all 30 days ahead.
func TestRingFence(t *testing.T) {
	t.Parallel()
	f := newFixture(t) // now: 2027-03-01 09:00 UTC
	dcp := []uuid.UUID{f.resourceNamed(t, "DCP Mastering")}
	layali := f.productionTitled(t, "Layali Derb Sultan")   // dar-nour, MA: outside the programme
	chant := f.productionTitled(t, "Le Chant de la Médina") // dar-nour, MA, in the programme but not from SN
	xaritu := f.productionTitled(t, "Xaritu Ndox")          // teranga, SN, emerging-filmmakers
	site := f.site(t, "casablanca")
	if _, err := f.db.CreateRingFence(f.ctx, f.actors["producer"], booking.RingFenceInput{SiteID: site, Kind: "dcp_mastering",
		Programme: "emerging-filmmakers", SharePct: 50, Period: booking.PeriodMonth, ReleaseDays: 30}); booking.ErrorCode(err) != booking.EFORBIDDEN {
		t.Fatalf("a producer made a fence: %v", err)
	}
	fence, err := f.db.CreateRingFence(f.ctx, f.actors["manager"], booking.RingFenceInput{SiteID: site, Kind: "dcp_mastering",
		Programme: "emerging-filmmakers", Countries: []string{"SN"}, SharePct: 50, Period: booking.PeriodMonth, ReleaseDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	may := func(d, h int) time.Time { return time.Date(2027, 5, d, h, 0, 0, 0, time.UTC) }
	standing := func(at time.Time) booking.RingFenceCapacity { return f.fenceStanding(t, site, fence.ID, at) }
	st := standing(may(15, 12))
	if st.Period != "2027-05" || st.Resources != 1 || st.Used != 0 || st.Working <= 0 || st.Limit*2 != st.Working {
		t.Fatalf("May: %+v", st)
	}

	// Beyond the horizon, outside the programme: the whole of May from the 3rd is more
	// than half its working hours, and is refused with the fence in the details.
	_, err = f.db.Book(f.ctx, f.actors["producer_casablanca"], booking.BookingInput{ProductionID: layali, ResourceIDs: dcp,
		Start: may(3, 0), End: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC), Status: booking.StatusHold})
	de := wantCode(t, err, booking.ECONFLICT)
	rf, ok := de.Details["ring_fence"].(map[string]any)
	if !ok || rf["period"] != "2027-05" || rf["programme"] != "emerging-filmmakers" || rf["id"] != fence.ID {
		t.Fatalf("details %v", de.Details)
	}
	// In the programme but from the wrong country is outside it too.
	_, err = f.db.Book(f.ctx, f.actors["producer_casablanca"], booking.BookingInput{ProductionID: chant, ResourceIDs: dcp,
		Start: may(3, 0), End: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC), Status: booking.StatusHold})
	wantCode(t, err, booking.ECONFLICT)

	// A week is within the half left to all.
	week := f.book(t, "producer_casablanca", layali, dcp, may(3, 0), may(9, 0), booking.StatusHold, 0)
	after := standing(may(15, 12))
	if after.Used <= 0 || after.Used >= after.Limit {
		t.Fatalf("after a week: %+v", after)
	}
	// The rest of the month is not (confirmed by a manager or held by a producer alike).
	_, err = f.db.Book(f.ctx, f.actors["manager"], booking.BookingInput{ProductionID: layali, ResourceIDs: dcp,
		Start: may(10, 0), End: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC), Status: booking.StatusConfirmed})
	wantCode(t, err, booking.ECONFLICT)

	// The availability search knows: for Layali, no slot in May longer than what is
	// left; for the programme's production and for a search naming no production, there
	// is one.
	search := func(prod uuid.UUID, hours time.Duration) int {
		t.Helper()
		slots, err := f.db.Availability(f.ctx, f.actors["manager"], booking.AvailabilityQuery{SiteID: site,
			Demands: []booking.Demand{{Kind: "dcp_mastering"}}, Hours: hours, From: may(10, 0), To: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC),
			ProductionID: prod, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		return len(slots)
	}
	left := after.Remaining.Truncate(time.Hour)
	if n := search(layali, left+2*time.Hour); n != 0 {
		t.Fatalf("Layali finds %d slots over the fence", n)
	}
	if n := search(layali, 4*time.Hour); n == 0 {
		t.Fatal("Layali finds no slot within what is left")
	}
	if n := search(xaritu, left+2*time.Hour); n == 0 {
		t.Fatal("the programme's production finds no slot")
	}
	if n := search(uuid.Nil, left+2*time.Hour); n == 0 {
		t.Fatal("a search naming no production applies the fence")
	}
	// A producer may not name another company's production to probe the fence.
	if _, err := f.db.Availability(f.ctx, f.actors["producer"], booking.AvailabilityQuery{SiteID: site,
		Demands: []booking.Demand{{Kind: "dcp_mastering"}}, Hours: time.Hour, From: may(10, 0), To: may(20, 0), ProductionID: layali}); booking.ErrorCode(err) != booking.ENOTFOUND {
		t.Fatalf("another company's production: %v", err)
	}

	// The programme's production may take the reserved share.
	f.book(t, "producer", xaritu, dcp, may(10, 0), time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC), booking.StatusHold, 0)

	// Within the horizon the share is open to all: the rest of March (more than half
	// of March's hours) starts 10 days ahead and is allowed; the same in April, 41 days
	// ahead, is not.
	f.book(t, "producer_casablanca", layali, dcp, time.Date(2027, 3, 11, 0, 0, 0, 0, time.UTC), time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), booking.StatusHold, 0)
	_, err = f.db.Book(f.ctx, f.actors["producer_casablanca"], booking.BookingInput{ProductionID: layali, ResourceIDs: dcp,
		Start: time.Date(2027, 4, 11, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC), Status: booking.StatusHold})
	wantCode(t, err, booking.ECONFLICT)
	// As the date comes within the horizon, the same booking goes through.
	f.now = time.Date(2027, 3, 13, 0, 0, 0, 0, time.UTC)
	f.book(t, "producer_casablanca", layali, dcp, time.Date(2027, 4, 11, 0, 0, 0, 0, time.UTC), time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC), booking.StatusHold, 0)

	// Moving a hold is checked like a new booking: the week's hold, stretched over the
	// rest of May (holds may queue behind the programme's), would take the reserved share.
	_, err = f.db.Reschedule(f.ctx, f.actors["producer_casablanca"], week.ID, may(10, 0), time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC), booking.ActOptions{})
	if de := wantCode(t, err, booking.ECONFLICT); de.Details["ring_fence"] == nil {
		t.Fatalf("reschedule refused without the fence: %v", de.Details)
	}
	// Moved to another week of May, it fits.
	if _, err := f.db.Reschedule(f.ctx, f.actors["producer_casablanca"], week.ID, may(24, 0), may(30, 0), booking.ActOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.DeleteRingFence(f.ctx, f.actors["manager"], fence.ID); err != nil {
		t.Fatal(err)
	}
}

// Bookings outside a fence's programme on different resources of the fenced kind,
// made at once, serialise on the fence: together they never take more than its limit,
// however they interleave.
func TestRingFenceHoldsUnderConcurrentBookings(t *testing.T) {
	t.Parallel()
	f := newFixture(t)                                    // now: 2027-03-01 09:00 UTC
	layali := f.productionTitled(t, "Layali Derb Sultan") // outside the programme
	site := f.site(t, "casablanca")
	rows, _ := f.db.Pool.Query(f.ctx, `SELECT id FROM resources WHERE site_id = $1 AND kind = 'grading_suite' AND active ORDER BY id`, site)
	suites, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil || len(suites) < 2 {
		t.Fatalf("suites: %v %d", err, len(suites))
	}
	fence, err := f.db.CreateRingFence(f.ctx, f.actors["manager"], booking.RingFenceInput{SiteID: site, Kind: "grading_suite",
		Programme: "emerging-filmmakers", Countries: []string{"SN"}, SharePct: 99.9, Period: booking.PeriodMonth, ReleaseDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	local := func(day int) time.Time {
		at, err := postgres.ParseLocal("Africa/Casablanca", fmt.Sprintf("2027-05-%02dT10:00:00", day))
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	standing := func() booking.RingFenceCapacity { return f.fenceStanding(t, site, fence.ID, local(12)) }
	before := standing()
	const length = 20 * time.Minute // working time on a Tuesday to Thursday morning
	fit := int(before.Remaining / length)
	if fit < 1 || fit >= len(suites) {
		t.Fatalf("the fence leaves %s (%d bookings of %s) for %d suites; the test wants room for at least one and fewer than all",
			before.Remaining, fit, length, len(suites))
	}
	days := []int{4, 5, 6, 11, 12, 13, 19, 20}
	var wg sync.WaitGroup
	var ok, refused atomic.Int32
	errs := make(chan error, len(suites))
	for i, suite := range suites {
		start := local(days[i%len(days)])
		wg.Go(func() {
			_, err := f.db.Book(f.ctx, f.actors["manager"], booking.BookingInput{ProductionID: layali, ResourceIDs: []uuid.UUID{suite},
				Start: start, End: start.Add(length), Status: booking.StatusConfirmed})
			switch {
			case err == nil:
				ok.Add(1)
			case booking.ErrorCode(err) == booking.ECONFLICT:
				refused.Add(1)
			default:
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	after := standing()
	if int(ok.Load()) != fit || int(refused.Load()) != len(suites)-fit || after.Used > after.Limit {
		t.Errorf("%d booked and %d refused of %d, want %d booked; used %s of %s", ok.Load(), refused.Load(), len(suites), fit, after.Used, after.Limit)
	}
}
