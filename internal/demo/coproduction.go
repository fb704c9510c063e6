package demo

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The co-production demo data: rate cards, exchange rates and a ring-fence. Trainee
// capacities are the rooms' (resources above).

type rateCard struct {
	site, kind, resource, unit string
	amount                     int64 // minor units of the site currency
	from, to                   string
}

var rateCards = []rateCard{
	// Casablanca, centimes of MAD.
	{"casablanca", "grading_suite", "", "hour", 140000, "", ""},
	{"casablanca", "", "Grading Suite 1 — Zellige", "hour", 165000, "", ""}, // the HDR suite
	{"casablanca", "", "Grading Suite 1 — Zellige", "hour", 175000, "2027-07-01", ""},
	{"casablanca", "mix_stage", "", "hour", 150000, "", ""},
	{"casablanca", "colourist", "", "hour", 70000, "", ""},
	{"casablanca", "dcp_mastering", "", "day", 600000, "", ""},
	{"casablanca", "screening_room", "", "day", 450000, "", ""},
	// Dakar, whole francs.
	{"dakar", "edit_suite", "", "hour", 22500, "", ""},
	{"dakar", "editor", "", "day", 95000, "", ""},
}

type exchangeRate struct{ base, quote, rate, from string }

// exchangeRates are the demo's rates: the CFA franc's peg to the euro and an indicative
// euro–dirham rate.
var exchangeRates = []exchangeRate{
	{"EUR", "XOF", "655.957", "2026-01-01T00:00:00Z"},
	{"EUR", "MAD", "10.85", "2026-01-01T00:00:00Z"},
}

// seedCoproduction inserts the rate cards, exchange rates and the emerging filmmakers'
// ring-fence: 20 % of Casablanca's grading suite hours each quarter for Senegalese and
// Moroccan productions of the programme, open to all 30 days ahead.
func seedCoproduction(ctx context.Context, tx pgx.Tx, siteIDs map[string]uuid.UUID) error {
	for _, c := range rateCards {
		var kind *string
		var res *uuid.UUID
		if c.kind != "" {
			kind = &c.kind
		} else {
			var id uuid.UUID
			if err := tx.QueryRow(ctx, `SELECT id FROM resources WHERE site_id = $1 AND name = $2`, siteIDs[c.site], c.resource).Scan(&id); err != nil {
				return fmt.Errorf("demo: rate card of %q: %w", c.resource, err)
			}
			res = &id
		}
		if _, err := tx.Exec(ctx, `INSERT INTO rate_cards (site_id, kind, resource_id, unit, amount_minor, currency, effective_from, effective_to, created_at)
			SELECT $1, $2, $3, $4, $5, currency, nullif($6, '')::date, nullif($7, '')::date, now() FROM sites WHERE id = $1`,
			siteIDs[c.site], kind, res, c.unit, c.amount, c.from, c.to); err != nil {
			return fmt.Errorf("demo: rate card: %w", err)
		}
	}
	for _, r := range exchangeRates {
		if _, err := tx.Exec(ctx, `INSERT INTO exchange_rates (base, quote, rate, effective_at, created_at) VALUES ($1, $2, $3::numeric, $4::timestamptz, now())`,
			r.base, r.quote, r.rate, r.from); err != nil {
			return fmt.Errorf("demo: exchange rate %s/%s: %w", r.base, r.quote, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO ring_fences (site_id, kind, programme, countries, share_pct, period, release_days, created_at)
		VALUES ($1, 'grading_suite', $2, '{SN,MA}', 20, 'quarter', 30, now())`, siteIDs["casablanca"], emergingProgramme); err != nil {
		return fmt.Errorf("demo: ring-fence: %w", err)
	}
	return nil
}
