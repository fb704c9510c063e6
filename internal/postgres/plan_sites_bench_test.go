package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/dbtest"
	"github.com/posthub/posthub/internal/demo"
)

// BenchmarkProposePlanSites measures proposing a feature's plan (HDR, Atmos, French
// and Wolof subtitles, a DCP: 17 derived stages) on the demo hub, at Casablanca alone
// and across Dakar and Casablanca (per-site calendars, transfers, two quotes and the
// locked conversion). Each proposal is stored, as the API's are. It reports the p50
// and p99 latency.
//
//	go test -run '^$' -bench BenchmarkProposePlanSites -benchtime 40x -count 3 ./internal/postgres/
func BenchmarkProposePlanSites(b *testing.B) {
	ctx := context.Background()
	db := dbtest.New(b)
	if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error { _, err := demo.Seed(ctx, tx); return err }); err != nil {
		b.Fatal(err)
	}
	var prod, cas, dkr uuid.UUID
	for q, dst := range map[string]*uuid.UUID{
		`SELECT id FROM productions WHERE title = 'Le Souffle du Baobab'`: &prod,
		`SELECT id FROM sites WHERE slug = 'casablanca'`:                  &cas,
		`SELECT id FROM sites WHERE slug = 'dakar'`:                       &dkr,
	} {
		if err := db.Pool.QueryRow(ctx, q).Scan(dst); err != nil {
			b.Fatal(err)
		}
	}
	hdr, sound, dcp, langs := []string{"hdr"}, []string{"5.1", "atmos"}, []string{"dcp"}, []string{"fr", "wo"}
	if _, err := db.UpdateProduction(ctx, booking.System, prod, booking.ProductionPatch{Deliverables: &booking.DeliverablesPatch{
		Picture: &hdr, Sound: &sound, Delivery: &dcp, SubtitleLanguages: &langs}}, nil); err != nil {
		b.Fatal(err)
	}
	start := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		sites []uuid.UUID
	}{{"one_site", []uuid.UUID{cas}}, {"two_sites", []uuid.UUID{dkr, cas}}} {
		b.Run(c.name, func(b *testing.B) {
			var lat []time.Duration
			seed := uint64(0)
			for b.Loop() {
				seed++
				t0 := time.Now()
				p, err := db.ProposePlan(ctx, booking.System, booking.PlanRequest{ProductionID: prod, SiteIDs: c.sites, Template: "feature",
					EarliestStart: start, Seed: seed})
				lat = append(lat, time.Since(t0))
				if err != nil || !p.Placed {
					b.Fatal(err, p.Unmet)
				}
			}
			reportLatency(b, lat)
		})
	}
}
