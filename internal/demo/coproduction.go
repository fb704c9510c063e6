package demo

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The co-production demo data: exchange rates and a ring-fence. The rate cards and
// trainee capacities are hub.yaml's.

type exchangeRate struct{ base, quote, rate, from string }

// exchangeRates are the demo's rates: the CFA franc's peg to the euro and an indicative
// euro–dirham rate.
var exchangeRates = []exchangeRate{
	{"EUR", "XOF", "655.957", "2026-01-01T00:00:00Z"},
	{"EUR", "MAD", "10.85", "2026-01-01T00:00:00Z"},
}

// seedCoproduction inserts the exchange rates and the emerging filmmakers'
// ring-fence: 20 % of Casablanca's grading suite hours each quarter for Senegalese and
// Moroccan productions of the programme, open to all 30 days ahead.
func seedCoproduction(ctx context.Context, tx pgx.Tx, siteIDs map[string]uuid.UUID) error {
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
