package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/money"
)

var _ booking.TreatyReports = (*DB)(nil)

// TreatyReport reports a site's post-production over [q.From, q.To) for the
// co-production treaty: confirmed and completed bookings clipped to the period, their
// hours and value (priced at the rate cards in force on their dates, as a quote would)
// by origin country, split by each production's shares; the emerging filmmakers'
// part; and training hours. Values are also given in XOF and EUR at the rates in force
// at the end of the period (or now, if sooner).
func (db *DB) TreatyReport(ctx context.Context, a booking.Actor, q booking.TreatyQuery) (booking.TreatyReport, error) {
	var rep booking.TreatyReport
	if !a.SeesAllProductions() {
		return rep, booking.Errorf(booking.EFORBIDDEN, "The treaty report aggregates across productions; your role may not see it.")
	}
	if err := q.Validate(); err != nil {
		return rep, err
	}
	site, err := db.FindSite(ctx, q.SiteID)
	if err != nil {
		return rep, err
	}
	loc, err := calendar.LoadLocation(site.TimeZone)
	if err != nil {
		return rep, err
	}
	ratesAt := q.To
	if now := db.now(); now.Before(ratesAt) {
		ratesAt = now
	}
	rep = booking.TreatyReport{SiteID: site.ID, SiteName: site.Name, Currency: site.Currency, TimeZone: site.TimeZone,
		TZVersion: calendar.TZVersion(), From: q.From.UTC(), To: q.To.UTC(), FromLocal: localString(loc, q.From),
		ToLocal: localString(loc, q.To), RatesAt: ratesAt.UTC(), Countries: []booking.TreatyCountry{}, Rates: []booking.Conversion{}}

	type group struct {
		ID, ProductionID uuid.UUID
		Start, End       time.Time
		Trainees         int
		Resources        []uuid.UUID
		Overtime         bool
	}
	rows, _ := db.Pool.Query(ctx, `SELECT g.id, g.production_id, greatest(g.start_at, $2), least(g.end_at, $3), g.trainees,
			array(SELECT resource_id FROM bookings WHERE group_id = g.id ORDER BY resource_id), g.overtime
		FROM booking_groups g
		WHERE g.site_id = $1 AND g.status IN ('confirmed', 'completed') AND g.start_at < $3 AND g.end_at > $2
		ORDER BY g.start_at, g.id`, site.ID, q.From, q.To)
	groups, err := pgx.CollectRows(rows, pgx.RowToStructByPos[group])
	if err != nil {
		return rep, formatError(err)
	}
	prodIDs := []uuid.UUID{}
	var priced []booking.QuoteItem
	for _, g := range groups {
		prodIDs = append(prodIDs, g.ProductionID)
		for _, r := range g.Resources {
			priced = append(priced, booking.QuoteItem{ResourceID: r, Start: g.Start, End: g.End, Overtime: g.Overtime})
		}
	}
	rows, _ = db.Pool.Query(ctx, productionSelect+` AND p.id = ANY($2)`, nil, prodIDs)
	prods, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Production, error) { return scanProduction(r) })
	if err != nil {
		return rep, formatError(err)
	}
	byID := map[uuid.UUID]booking.Production{}
	for _, p := range prods {
		byID[p.ID] = p
	}
	pricing, err := db.loadPricing(ctx, db.Pool, site.ID, priced, ratesAt)
	if err != nil {
		return rep, formatError(err)
	}
	items := make([]booking.TreatyBooking, 0, len(groups))
	for _, g := range groups {
		tb := booking.TreatyBooking{BookingID: g.ID, Production: byID[g.ProductionID], Trainees: g.Trainees,
			Session: booking.SoldTime(pricing.Calendar.UseOf(calendar.Interval{Start: g.Start, End: g.End}, nil), g.Overtime)}
		for _, r := range g.Resources {
			it := booking.QuoteItem{ResourceID: r, Start: g.Start, End: g.End, Overtime: g.Overtime}
			tb.ResourceTime += booking.SoldTime(pricing.Use(it), g.Overtime)
			lines, err := pricing.PriceItem(it)
			if err != nil {
				return rep, err
			}
			for _, line := range lines {
				if tb.ValueMinor, err = money.Add(tb.ValueMinor, line.AmountMinor); err != nil {
					return rep, err
				}
			}
		}
		items = append(items, tb)
	}
	if rep.Totals, rep.Countries, err = booking.SumTreaty(items, site.Currency); err != nil {
		return rep, err
	}
	for _, cur := range booking.QuoteCurrencies {
		conv, ok, err := booking.ConvertAmount(pricing.Rates, rep.Totals.ValueMinor, site.Currency, cur, ratesAt)
		if err != nil {
			return rep, &booking.Error{Code: booking.EUNPROCESSABLE, Message: "The value is too large to convert.", Err: err}
		}
		if !ok {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("no exchange rate from %s to %s in force at %s: values are not converted to %s",
				site.Currency, cur, ratesAt.UTC().Format(time.RFC3339), cur))
			continue
		}
		// The total is converted once and split by country, so the countries add up
		// to it in every currency.
		if err := rep.AddConversion(conv); err != nil {
			return rep, err
		}
	}
	if rep.Totals.SessionHours > 0 {
		rep.EmergingHoursShare = rep.Totals.EmergingSessionHours / rep.Totals.SessionHours
	}
	if rep.Totals.ValueMinor > 0 {
		rep.EmergingValueShare = float64(rep.Totals.EmergingValueMinor) / float64(rep.Totals.ValueMinor)
	}
	return rep, nil
}
