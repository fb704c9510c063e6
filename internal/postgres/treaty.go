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
	}
	rows, _ := db.Pool.Query(ctx, `SELECT g.id, g.production_id, greatest(g.start_at, $2), least(g.end_at, $3), g.trainees,
			array(SELECT resource_id FROM bookings WHERE group_id = g.id ORDER BY resource_id)
		FROM booking_groups g
		WHERE g.site_id = $1 AND g.status IN ('confirmed', 'completed') AND g.start_at < $3 AND g.end_at > $2
		ORDER BY g.start_at, g.id`, site.ID, q.From, q.To)
	groups, err := pgx.CollectRows(rows, pgx.RowToStructByPos[group])
	if err != nil {
		return rep, formatError(err)
	}
	prodIDs := []uuid.UUID{}
	resIDs := []uuid.UUID{}
	for _, g := range groups {
		prodIDs = append(prodIDs, g.ProductionID)
		resIDs = append(resIDs, g.Resources...)
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
	pricing, err := loadPricing(ctx, db.Pool, site.ID, resIDs, ratesAt)
	if err != nil {
		return rep, formatError(err)
	}
	items := make([]booking.TreatyBooking, 0, len(groups))
	for _, g := range groups {
		tb := booking.TreatyBooking{BookingID: g.ID, Production: byID[g.ProductionID], Start: g.Start, End: g.End,
			Resources: len(g.Resources), Trainees: g.Trainees}
		for _, r := range g.Resources {
			line, err := pricing.PriceItem(booking.QuoteItem{ResourceID: r, Start: g.Start, End: g.End})
			if err != nil {
				return rep, err
			}
			if tb.ValueMinor, err = money.Add(tb.ValueMinor, line.AmountMinor); err != nil {
				return rep, err
			}
		}
		items = append(items, tb)
	}
	rep.Totals, rep.Countries = booking.SumTreaty(items, site.Currency)
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
		rep.Rates = append(rep.Rates, conv)
		rep.Totals.Converted = append(rep.Totals.Converted, booking.NewAmount(cur, conv.TotalMinor))
		for i := range rep.Countries {
			c, _, err := booking.ConvertAmount(pricing.Rates, rep.Countries[i].ValueMinor, site.Currency, cur, ratesAt)
			if err != nil {
				return rep, err
			}
			rep.Countries[i].Converted = append(rep.Countries[i].Converted, booking.NewAmount(cur, c.TotalMinor))
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
