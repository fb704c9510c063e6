package booking

import (
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/money"
)

// Pricing is everything a quote needs, loaded beforehand, so that pricing is pure: the
// site (its currency and zone), its working calendar, the resources priced and their
// blocks, the site's rate cards, the exchange rates entered, and the instant whose
// rates apply. Calendar is required: it is what working time is counted in.
type Pricing struct {
	Site      Site
	Location  *time.Location
	Calendar  *calendar.Calendar
	Resources map[uuid.UUID]Resource
	// Blocks are each resource's blocks (leave, maintenance) near the items priced.
	Blocks map[uuid.UUID]calendar.Set
	Cards  []RateCard
	Rates  []ExchangeRate
	At     time.Time
}

// Use divides an item's interval for its resource by the one definition of working
// time (calendar.UseOf). Every figure of time that is billed, used or reported comes
// from here or from calendar.UseOf directly.
func (p *Pricing) Use(it QuoteItem) calendar.Use {
	return p.Calendar.UseOf(calendar.Interval{Start: it.Start, End: it.End}, p.Blocks[it.ResourceID])
}

// SoldTime is what a booking sells of a resource's use: its working time, and its
// closed time too when it is booked as overtime.
func SoldTime(u calendar.Use, overtime bool) time.Duration {
	if overtime {
		return u.Working.Duration() + u.Closed.Duration()
	}
	return u.Working.Duration()
}

// cardApplies reports whether a card is in force on the site-local date d.
func cardApplies(c RateCard, d string) bool {
	return (c.EffectiveFrom == "" || c.EffectiveFrom <= d) && (c.EffectiveTo == "" || d <= c.EffectiveTo)
}

// SelectRate picks the rate for a resource on a site-local date: the resource's own card
// in force that day if any, else its kind's, else the catalogue's rate of the resource.
// Among several cards in force, the one with the latest effective_from wins (a card
// without one is the oldest), then the one made last.
func SelectRate(cards []RateCard, r Resource, d calendar.Date) (card *RateCard, source string) {
	day := d.String()
	pick := func(match func(RateCard) bool) *RateCard {
		var best *RateCard
		for i := range cards {
			c := cards[i]
			if c.SiteID != r.SiteID || !match(c) || !cardApplies(c, day) {
				continue
			}
			if best == nil || c.EffectiveFrom > best.EffectiveFrom ||
				(c.EffectiveFrom == best.EffectiveFrom && c.CreatedAt.After(best.CreatedAt)) {
				best = &cards[i]
			}
		}
		return best
	}
	if c := pick(func(c RateCard) bool { return c.ResourceID != nil && *c.ResourceID == r.ID }); c != nil {
		return c, "resource_card"
	}
	if c := pick(func(c RateCard) bool { return c.ResourceID == nil && c.Kind == r.Kind }); c != nil {
		return c, "kind_card"
	}
	return nil, "resource"
}

// PriceItem prices one item: the working time of its resource in its interval at the
// rate in force on its first local day (hours × an hourly rate, or working days × a
// daily one), and for an overtime item a second line for the closed time at the
// overtime multiplier (closed hours, or days with only closed time). Amounts are
// rounded half away from zero to the currency's minor unit.
func (p *Pricing) PriceItem(it QuoteItem) ([]QuoteLine, error) {
	r, ok := p.Resources[it.ResourceID]
	if !ok || r.SiteID != p.Site.ID {
		return nil, &Error{Code: EINVALID, Message: "Every resource of a quote must be at its site.", Details: map[string]any{"resource_id": it.ResourceID}}
	}
	if !it.End.After(it.Start) {
		return nil, &Error{Code: EUNPROCESSABLE, Message: "A quoted interval must end after it starts.", Details: map[string]any{"resource_id": it.ResourceID}}
	}
	loc := p.Location
	line := QuoteLine{ResourceID: r.ID, ResourceName: r.Name, Kind: r.Kind, Start: it.Start.UTC(), End: it.End.UTC(),
		StartLocal: it.Start.In(loc).Format(localLayout), EndLocal: it.End.In(loc).Format(localLayout)}
	card, source := SelectRate(p.Cards, r, calendar.DateOf(it.Start.In(loc)))
	line.RateSource = source
	multiplier := DefaultOvertimeMultiplierBP
	if card != nil {
		id := card.ID
		line.RateCardID, line.Unit, line.RateMinor = &id, card.Unit, card.AmountMinor
		if card.OvertimeMultiplierBP != 0 {
			multiplier = card.OvertimeMultiplierBP
		}
	} else {
		line.Unit, line.RateMinor = r.RateUnit, r.RateMinor
	}
	if line.Unit == "" {
		line.Unit = UnitHour
	}
	line.Rate = money.Format(line.RateMinor, p.Site.Currency)
	use := p.Use(it)
	cal := p.Calendar
	workingDays := cal.DaysWith(use.Working)
	if err := p.amount(&line, use.Working.Duration(), workingDays, 10000); err != nil {
		return nil, err
	}
	lines := []QuoteLine{line}
	if it.Overtime && len(use.Closed) > 0 {
		ot := line
		ot.Overtime, ot.MultiplierBP = true, multiplier
		if err := p.amount(&ot, use.Closed.Duration(), cal.DaysWith(use.Working.Union(use.Closed))-workingDays, multiplier); err != nil {
			return nil, err
		}
		if ot.Unit == UnitHour || ot.Days > 0 {
			lines = append(lines, ot)
		}
	}
	return lines, nil
}

// amount fills a line's quantity and amount: d at an hourly rate, or days at a daily
// one, times bp/10000.
func (p *Pricing) amount(line *QuoteLine, d time.Duration, days, bp int) error {
	var err error
	switch line.Unit {
	case UnitDay:
		line.Days, line.Seconds = days, 0
		line.Quantity = strconv.Itoa(days)
		line.AmountMinor, err = money.Prorate(line.RateMinor, int64(days)*int64(bp), 10000)
	default:
		line.Days, line.Seconds = 0, int64(d/time.Second)
		line.Quantity = new(big.Rat).SetFrac64(line.Seconds, 3600).FloatString(2)
		line.AmountMinor, err = money.Prorate(line.RateMinor, line.Seconds*int64(bp), 3600*10000)
	}
	if err != nil {
		return &Error{Code: EUNPROCESSABLE, Message: "The amount is too large to quote.", Err: err}
	}
	line.Amount = money.Format(line.AmountMinor, p.Site.Currency)
	return nil
}

// localLayout is the site-local wall-clock with its numeric offset, as bookings show it.
const localLayout = "2006-01-02T15:04:05-07:00"

// Quote prices the items and converts the total into QuoteCurrencies at the rates in
// force at p.At. Lines are in the order of the items. A currency with no rate (direct,
// inverse, or through EUR) is left out with a warning.
func (p *Pricing) Quote(items []QuoteItem) (Quote, error) {
	q := Quote{SiteID: p.Site.ID, SiteName: p.Site.Name, TimeZone: p.Site.TimeZone, Currency: p.Site.Currency,
		RatesAt: p.At.UTC(), Lines: []QuoteLine{}, Conversions: []Conversion{}}
	if len(items) == 0 {
		return q, &Error{Code: EINVALID, Message: "A quote needs at least one item.", Details: map[string]any{"field": "items"}}
	}
	for _, it := range items {
		lines, err := p.PriceItem(it)
		if err != nil {
			return q, err
		}
		for _, line := range lines {
			if q.TotalMinor, err = money.Add(q.TotalMinor, line.AmountMinor); err != nil {
				return q, &Error{Code: EUNPROCESSABLE, Message: "The amount is too large to quote.", Err: err}
			}
			q.Lines = append(q.Lines, line)
		}
	}
	q.Total = money.Format(q.TotalMinor, q.Currency)
	for _, cur := range QuoteCurrencies {
		c, ok, err := ConvertAmount(p.Rates, q.TotalMinor, q.Currency, cur, p.At)
		if err != nil {
			return q, &Error{Code: EUNPROCESSABLE, Message: "The amount is too large to convert.", Err: err}
		}
		if !ok {
			q.Warnings = append(q.Warnings, fmt.Sprintf("no exchange rate from %s to %s in force at %s: enter one", q.Currency, cur, p.At.UTC().Format(time.RFC3339)))
			continue
		}
		q.Conversions = append(q.Conversions, c)
	}
	return q, nil
}

// latestRate returns the rate entered for base→quote that is in force at at: the one
// with the latest EffectiveAt not after at (the one entered last on a tie).
func latestRate(rates []ExchangeRate, base, quote string, at time.Time) (ExchangeRate, bool) {
	var best ExchangeRate
	found := false
	for _, r := range rates {
		if r.Base != base || r.Quote != quote || r.EffectiveAt.After(at) {
			continue
		}
		if !found || r.EffectiveAt.After(best.EffectiveAt) || (r.EffectiveAt.Equal(best.EffectiveAt) && r.CreatedAt.After(best.CreatedAt)) {
			best, found = r, true
		}
	}
	return best, found
}

// pairRate is the rate from → to from one entered rate, direct or inverted.
func pairRate(rates []ExchangeRate, from, to string, at time.Time) (*big.Rat, *ExchangeRate, bool) {
	direct, okD := latestRate(rates, from, to, at)
	inverse, okI := latestRate(rates, to, from, at)
	// Both directions entered: the more recent one is in force.
	if okD && (!okI || !inverse.EffectiveAt.After(direct.EffectiveAt)) {
		r, err := money.ParseRate(direct.Rate)
		return r, &direct, err == nil
	}
	if okI {
		r, err := money.ParseRate(inverse.Rate)
		if err != nil {
			return nil, nil, false
		}
		return new(big.Rat).Inv(r), &inverse, true
	}
	return nil, nil, false
}

// FindExchangeRate finds how many units of to one unit of from is worth at at, exactly,
// from the entered rates: the pair's own rate (entered either way round), else a cross
// rate through EUR. It returns the rates used.
func FindExchangeRate(rates []ExchangeRate, from, to string, at time.Time) (*big.Rat, []ExchangeRate, bool) {
	if from == to {
		return big.NewRat(1, 1), []ExchangeRate{}, true
	}
	if r, used, ok := pairRate(rates, from, to, at); ok {
		return r, []ExchangeRate{*used}, true
	}
	const pivot = "EUR"
	if from != pivot && to != pivot {
		r1, u1, ok1 := pairRate(rates, from, pivot, at)
		r2, u2, ok2 := pairRate(rates, pivot, to, at)
		if ok1 && ok2 {
			return new(big.Rat).Mul(r1, r2), []ExchangeRate{*u1, *u2}, true
		}
	}
	return nil, nil, false
}

// ConvertAmount converts an amount at the rate in force at at, rounding half away from
// zero to the target's minor unit; false when no rate is known.
func ConvertAmount(rates []ExchangeRate, amountMinor int64, from, to string, at time.Time) (Conversion, bool, error) {
	rate, legs, ok := FindExchangeRate(rates, from, to, at)
	if !ok {
		return Conversion{}, false, nil
	}
	total, err := money.Convert(amountMinor, from, to, rate)
	if err != nil {
		return Conversion{}, true, err
	}
	return Conversion{Currency: to, Rate: money.FormatRate(rate), TotalMinor: total, Total: money.Format(total, to), Legs: legs}, true, nil
}
