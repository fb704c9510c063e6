package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/money"
)

var _ booking.Quotes = (*DB)(nil)

const rateCardColumns = `id, site_id, coalesce(kind, ''), resource_id, unit, amount_minor, currency,
	coalesce(to_char(effective_from, 'YYYY-MM-DD'), ''), coalesce(to_char(effective_to, 'YYYY-MM-DD'), ''), overtime_multiplier_bp, created_at`

func scanRateCard(row pgx.Row) (booking.RateCard, error) {
	var c booking.RateCard
	err := row.Scan(&c.ID, &c.SiteID, &c.Kind, &c.ResourceID, &c.Unit, &c.AmountMinor, &c.Currency, &c.EffectiveFrom, &c.EffectiveTo, &c.OvertimeMultiplierBP, &c.CreatedAt)
	c.Amount = money.Format(c.AmountMinor, c.Currency)
	return c, err
}

func rateCards(ctx context.Context, q querier, siteID *uuid.UUID) ([]booking.RateCard, error) {
	rows, _ := q.Query(ctx, `SELECT `+rateCardColumns+` FROM rate_cards WHERE ($1::uuid IS NULL OR site_id = $1)
		ORDER BY site_id, kind NULLS LAST, resource_id, effective_from NULLS FIRST, created_at`, siteID)
	cards, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.RateCard, error) { return scanRateCard(r) })
	if cards == nil {
		cards = []booking.RateCard{}
	}
	return cards, err
}

// ListRateCards lists a site's rate cards, or every site's.
func (db *DB) ListRateCards(ctx context.Context, siteID *uuid.UUID) ([]booking.RateCard, error) {
	cards, err := rateCards(ctx, db.Pool, siteID)
	return cards, formatError(err)
}

// CreateRateCard adds a rate card in the site's currency; managers of the site and admins.
func (db *DB) CreateRateCard(ctx context.Context, a booking.Actor, in booking.RateCardInput) (booking.RateCard, error) {
	var out booking.RateCard
	if err := in.Validate(); err != nil {
		return out, err
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		site, err := scanSite(tx.QueryRow(ctx, `SELECT `+siteColumns+` FROM sites WHERE id = $1`, in.SiteID))
		if err != nil {
			return notFound(err, "site")
		}
		if err := mayManage(a, site.ID); err != nil {
			return err
		}
		if in.ResourceID != nil {
			var rs uuid.UUID
			if err := tx.QueryRow(ctx, `SELECT site_id FROM resources WHERE id = $1`, *in.ResourceID).Scan(&rs); err != nil || rs != site.ID {
				return &booking.Error{Code: booking.EINVALID, Message: "resource_id must name a resource of the site.", Details: map[string]any{"field": "resource_id"}}
			}
		}
		var kind *string
		if in.Kind != "" {
			kind = &in.Kind
		}
		var from, to *string
		if in.EffectiveFrom != "" {
			from = &in.EffectiveFrom
		}
		if in.EffectiveTo != "" {
			to = &in.EffectiveTo
		}
		multiplier := in.OvertimeMultiplierBP
		if multiplier == 0 {
			multiplier = booking.DefaultOvertimeMultiplierBP
		}
		var id uuid.UUID
		if err := tx.QueryRow(ctx, `INSERT INTO rate_cards (site_id, kind, resource_id, unit, amount_minor, currency, effective_from, effective_to,
				overtime_multiplier_bp, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7::date, $8::date, $9, $10, $11) RETURNING id`,
			site.ID, kind, in.ResourceID, in.Unit, in.AmountMinor, site.Currency, from, to, multiplier, actorID(a), db.now()).Scan(&id); err != nil {
			return err
		}
		if out, err = scanRateCard(tx.QueryRow(ctx, `SELECT `+rateCardColumns+` FROM rate_cards WHERE id = $1`, id)); err != nil {
			return err
		}
		return audit(ctx, tx, a, db.now(), auditEvent{Action: "rate_card.created", ObjectType: "rate_card", ObjectID: id.String(), After: out})
	})
	return out, err
}

// DeleteRateCard removes a rate card; quotes already made keep their prices.
func (db *DB) DeleteRateCard(ctx context.Context, a booking.Actor, id uuid.UUID) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanRateCard(tx.QueryRow(ctx, `SELECT `+rateCardColumns+` FROM rate_cards WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, "rate card")
		}
		if err := mayManage(a, before.SiteID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM rate_cards WHERE id = $1`, id); err != nil {
			return err
		}
		return audit(ctx, tx, a, db.now(), auditEvent{Action: "rate_card.deleted", ObjectType: "rate_card", ObjectID: id.String(), Before: before})
	})
}

const exchangeRateColumns = `id, base, quote, rate::text, effective_at, created_at`

func scanExchangeRate(row pgx.Row) (booking.ExchangeRate, error) {
	var r booking.ExchangeRate
	err := row.Scan(&r.ID, &r.Base, &r.Quote, &r.Rate, &r.EffectiveAt, &r.CreatedAt)
	if err == nil {
		if v, perr := money.ParseRate(r.Rate); perr == nil {
			r.Rate = money.FormatRate(v) // 655.957000000000 reads 655.957
		}
	}
	return r, err
}

func exchangeRates(ctx context.Context, q querier) ([]booking.ExchangeRate, error) {
	rows, _ := q.Query(ctx, `SELECT `+exchangeRateColumns+` FROM exchange_rates ORDER BY effective_at DESC, created_at DESC, id`)
	rates, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.ExchangeRate, error) { return scanExchangeRate(r) })
	if rates == nil {
		rates = []booking.ExchangeRate{}
	}
	return rates, err
}

// ListExchangeRates lists the rates entered, newest first.
func (db *DB) ListExchangeRates(ctx context.Context) ([]booking.ExchangeRate, error) {
	rates, err := exchangeRates(ctx, db.Pool)
	return rates, formatError(err)
}

// CreateExchangeRate enters a rate: admins any pair, a manager a pair in the currency of
// a site they manage (mayEnterRate). Rates are only ever added, audited: a correction
// is a new rate for the pair, in force from its effective_at on.
func (db *DB) CreateExchangeRate(ctx context.Context, a booking.Actor, in booking.ExchangeRateInput) (booking.ExchangeRate, error) {
	var out booking.ExchangeRate
	if a.Role != booking.RoleAdmin && a.Role != booking.RoleManager {
		return out, booking.Errorf(booking.EFORBIDDEN, "Only managers and admins enter exchange rates.")
	}
	if err := in.Validate(); err != nil {
		return out, err
	}
	rate, _ := money.ParseRate(in.Rate)
	now := db.now()
	effective := now
	if in.EffectiveAt != nil {
		effective = *in.EffectiveAt
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := mayEnterRate(ctx, tx, a, in.Base, in.Quote); err != nil {
			return err
		}
		var id uuid.UUID
		if err := tx.QueryRow(ctx, `INSERT INTO exchange_rates (base, quote, rate, effective_at, created_by, created_at)
			VALUES ($1, $2, $3::numeric, $4, $5, $6) RETURNING id`,
			in.Base, in.Quote, money.FormatRate(rate), effective.UTC(), actorID(a), now).Scan(&id); err != nil {
			return err
		}
		var err error
		if out, err = scanExchangeRate(tx.QueryRow(ctx, `SELECT `+exchangeRateColumns+` FROM exchange_rates WHERE id = $1`, id)); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "exchange_rate.created", ObjectType: "exchange_rate", ObjectID: id.String(), After: out})
	})
	return out, err
}

// mayEnterRate says whether a may enter a rate between two currencies. Rates are global:
// a pair's rate converts every site's quotes and treaty report. So a site's currency
// belongs to the managers of the sites that bill in it: a manager's pair must name the
// currency of a site they manage, and any other currency in it must be one no site
// bills in (EUR, USD for a hub of MAD and XOF sites). A Dakar-only manager enters
// EUR→XOF, not EUR→MAD nor MAD→XOF, which are Casablanca's; a rate between two sites'
// currencies takes a manager of both, or an admin.
func mayEnterRate(ctx context.Context, q querier, a booking.Actor, base, quote string) error {
	if a.Role == booking.RoleAdmin {
		return nil
	}
	rows, _ := q.Query(ctx, `SELECT currency, coalesce(bool_or(id = ANY($3)), false) FROM sites
		WHERE currency IN ($1, $2) GROUP BY currency`, base, quote, a.SiteIDs)
	managed := map[string]bool{} // a site bills in the currency: whether a manages one
	var cur string
	var mine bool
	if _, err := pgx.ForEachRow(rows, []any{&cur, &mine}, func() error { managed[cur] = mine; return nil }); err != nil {
		return err
	}
	for _, c := range []string{base, quote} {
		if m, billed := managed[c]; billed && !m {
			return &booking.Error{Code: booking.EFORBIDDEN, Message: c + " is the currency of a site you do not manage; its managers or an admin enter its rates.",
				Details: map[string]any{"currency": c}}
		}
	}
	if !managed[base] && !managed[quote] {
		return &booking.Error{Code: booking.EFORBIDDEN, Message: "A manager enters rates for the currencies of the sites they manage; neither " + base + " nor " + quote + " is one.",
			Details: map[string]any{"currency": base}}
	}
	return nil
}

// loadPricing reads what pricing items at a site needs: the site and its calendar, the
// resources and their blocks around the items, its rate cards and the exchange rates.
func (db *DB) loadPricing(ctx context.Context, q querier, siteID uuid.UUID, items []booking.QuoteItem, at time.Time) (*booking.Pricing, error) {
	site, err := scanSite(q.QueryRow(ctx, `SELECT `+siteColumns+` FROM sites WHERE id = $1`, siteID))
	if err != nil {
		return nil, notFound(err, "site")
	}
	_, cal, err := db.siteCalendar(ctx, q, siteID)
	if err != nil {
		return nil, err
	}
	p := &booking.Pricing{Site: site, Location: cal.Location, Calendar: cal, Resources: map[uuid.UUID]booking.Resource{}, At: at}
	ids := make([]uuid.UUID, len(items))
	var from, to time.Time
	for i, it := range items {
		ids[i] = it.ResourceID
		if i == 0 || it.Start.Before(from) {
			from = it.Start
		}
		if i == 0 || it.End.After(to) {
			to = it.End
		}
	}
	rows, _ := q.Query(ctx, `SELECT `+resourceColumns+` FROM resources WHERE id = ANY($1)`, ids)
	res, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Resource, error) { return scanResource(r) })
	if err != nil {
		return nil, err
	}
	for _, r := range res {
		p.Resources[r.ID] = r
	}
	if to.After(from) {
		if p.Blocks, err = resourceBlocks(ctx, q, ids, from, to); err != nil {
			return nil, err
		}
	}
	if p.Cards, err = rateCards(ctx, q, &siteID); err != nil {
		return nil, err
	}
	if p.Rates, err = exchangeRates(ctx, q); err != nil {
		return nil, err
	}
	return p, nil
}

// PriceItems prices items at a site, at the exchange rates in force at, without storing
// anything: the plans API's quote of a proposal (a stage's resources and interval) calls
// it, so a plan is priced exactly as the holds its acceptance places.
func (db *DB) PriceItems(ctx context.Context, siteID uuid.UUID, items []booking.QuoteItem, at time.Time) (booking.Quote, error) {
	p, err := db.loadPricing(ctx, db.Pool, siteID, items, at)
	if err != nil {
		return booking.Quote{}, formatError(err)
	}
	return p.Quote(items)
}

// storeQuote keeps a quote as made and audits it.
func (db *DB) storeQuote(ctx context.Context, tx pgx.Tx, a booking.Actor, q *booking.Quote) error {
	q.CreatedAt = db.now()
	q.CreatedBy = actorID(a)
	doc, err := json.Marshal(q)
	if err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, `INSERT INTO quotes (booking_id, production_id, site_id, currency, total_minor, rates_at, document, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		q.BookingID, q.ProductionID, q.SiteID, q.Currency, q.TotalMinor, q.RatesAt, doc, q.CreatedBy, q.CreatedAt).Scan(&q.ID); err != nil {
		return err
	}
	return audit(ctx, tx, a, q.CreatedAt, auditEvent{Action: "quote.created", ObjectType: "quote", ObjectID: q.ID.String(),
		After: map[string]any{"booking_id": q.BookingID, "production_id": q.ProductionID, "currency": q.Currency, "total_minor": q.TotalMinor,
			"conversions": q.Conversions, "rates_at": q.RatesAt}})
}

// QuoteBooking prices a booking as it stands, each resource over its whole interval,
// and stores the quote with its exchange rates locked.
func (db *DB) QuoteBooking(ctx context.Context, a booking.Actor, bookingID uuid.UUID) (booking.Quote, error) {
	var out booking.Quote
	b, err := db.FindBooking(ctx, a, bookingID)
	if err != nil {
		return out, err
	}
	if !b.Status.Active() && b.Status != booking.StatusCompleted {
		return out, &booking.Error{Code: booking.ECONFLICT, Message: "A booking in status " + string(b.Status) + " is not quoted.",
			Details: map[string]any{"status": b.Status}}
	}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var items []booking.QuoteItem
		for _, r := range b.Resources {
			items = append(items, booking.QuoteItem{ResourceID: r.ResourceID, Start: b.Start, End: b.End, Overtime: b.Overtime})
		}
		p, err := db.loadPricing(ctx, tx, b.SiteID, items, db.now())
		if err != nil {
			return err
		}
		if out, err = p.Quote(items); err != nil {
			return err
		}
		bid, pid := b.ID, b.ProductionID
		out.BookingID, out.ProductionID = &bid, &pid
		if err := tx.QueryRow(ctx, `SELECT title FROM productions WHERE id = $1`, pid).Scan(&out.ProductionTitle); err != nil {
			return err
		}
		return db.storeQuote(ctx, tx, a, &out)
	})
	return out, err
}

// QuoteItems prices items at a site and, when asked, stores the quote.
func (db *DB) QuoteItems(ctx context.Context, a booking.Actor, r booking.QuoteRequest) (booking.Quote, error) {
	var out booking.Quote
	var title string
	if r.ProductionID != nil {
		p, err := db.FindProduction(ctx, a, *r.ProductionID)
		if err != nil {
			return out, err
		}
		title = p.Title
	} else if r.Store && !a.SeesAllProductions() {
		return out, &booking.Error{Code: booking.EINVALID, Message: "production_id is required.", Details: map[string]any{"field": "production_id"}}
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		p, err := db.loadPricing(ctx, tx, r.SiteID, r.Items, db.now())
		if err != nil {
			return err
		}
		if out, err = p.Quote(r.Items); err != nil {
			return err
		}
		out.ProductionID, out.ProductionTitle = r.ProductionID, title
		if !r.Store {
			return nil
		}
		return db.storeQuote(ctx, tx, a, &out)
	})
	return out, err
}

func scanQuote(row pgx.Row) (booking.Quote, error) {
	var q booking.Quote
	var id uuid.UUID
	var doc []byte
	if err := row.Scan(&id, &doc); err != nil {
		return q, err
	}
	if err := json.Unmarshal(doc, &q); err != nil {
		return q, err
	}
	q.ID = id
	return q, nil
}

// FindQuote returns ENOTFOUND for a quote the actor may not see: a producer sees the
// quotes of their organisation's productions only.
func (db *DB) FindQuote(ctx context.Context, a booking.Actor, id uuid.UUID) (booking.Quote, error) {
	q, err := scanQuote(db.Pool.QueryRow(ctx, `SELECT q.id, q.document FROM quotes q LEFT JOIN productions p ON p.id = q.production_id
		WHERE q.id = $1 AND ($2::uuid IS NULL OR p.organisation_id = $2)`, id, confinedTo(a)))
	return q, notFound(err, "quote")
}

// ListQuotes lists the quotes the actor may see, newest first (at most 200).
func (db *DB) ListQuotes(ctx context.Context, a booking.Actor, bookingID *uuid.UUID) ([]booking.Quote, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT q.id, q.document FROM quotes q LEFT JOIN productions p ON p.id = q.production_id
		WHERE ($1::uuid IS NULL OR p.organisation_id = $1) AND ($2::uuid IS NULL OR q.booking_id = $2)
		ORDER BY q.seq DESC LIMIT 200`, confinedTo(a), bookingID)
	qs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Quote, error) { return scanQuote(r) })
	if qs == nil {
		qs = []booking.Quote{}
	}
	return qs, formatError(err)
}
