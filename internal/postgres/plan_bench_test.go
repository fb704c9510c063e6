package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/posthub/posthub/internal/booking"
)

// BenchmarkProposeFeaturePlan measures how fast a producer gets an answer (issue 19,
// "fast answers"): a feature with deliverables (HDR and SDR picture, Atmos and 5.1
// sound, a DCP, French and Wolof subtitles) planned with ProposePlan on the demo hub
// after 2,000 confirmed bookings have been spread over its resources in the six months
// the plans fall in, at Casablanca alone and across Dakar and Casablanca (two calendars,
// the transfer, two quotes and the locked conversion). Each iteration plans from
// another earliest start; it reports the p50 and p95 latency of the whole call
// (reading capacity, solving, quoting, storing).
//
//	go test -run '^$' -bench BenchmarkProposeFeaturePlan -benchtime 40x ./internal/postgres/
func BenchmarkProposeFeaturePlan(b *testing.B) {
	ctx := context.Background()
	db := newFixtureDB(b)
	var cas, dkr uuid.UUID
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM sites WHERE slug = 'casablanca'`).Scan(&cas); err != nil {
		b.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM sites WHERE slug = 'dakar'`).Scan(&dkr); err != nil {
		b.Fatal(err)
	}
	base := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	if n := seedHubBookings(b, db.Pool, base, 2000); n != 2000 {
		b.Fatalf("seeded %d bookings", n)
	}
	p, err := db.CreateProduction(ctx, booking.System, booking.ProductionInput{Title: "Ndox Mi", Format: "feature", RuntimeMinutes: 98,
		OrganisationID: firstOrganisation(b, db.Pool), Origins: []booking.Origin{{Country: "SN", SharePct: 100}},
		Deliverables: booking.Deliverables{Picture: []string{"sdr", "hdr"}, Sound: []string{"5.1", "atmos"}, Delivery: []string{"dcp"},
			OriginalLanguage: "wo", SubtitleLanguages: []string{"fr", "wo"}}})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		sites    []uuid.UUID
		currency string
	}{{"one_site", []uuid.UUID{cas}, ""}, {"two_sites", []uuid.UUID{dkr, cas}, "XOF"}} {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(19, 19))
			var lat []time.Duration
			stages, sites := 0, map[uuid.UUID]bool{}
			for b.Loop() {
				from := base.Add(time.Duration(rng.IntN(60)) * 24 * time.Hour)
				start := time.Now()
				plan, err := db.ProposePlan(ctx, booking.System, booking.PlanRequest{ProductionID: p.ID, SiteIDs: c.sites, Currency: c.currency,
					Template: "feature", EarliestStart: from, Seed: 1})
				lat = append(lat, time.Since(start))
				if err != nil || !plan.Placed {
					b.Fatalf("plan from %s: %v unmet=%v", from, err, plan.Unmet)
				}
				stages = len(plan.Stages)
				for _, s := range plan.Stages {
					sites[s.SiteID] = true
				}
			}
			b.StopTimer()
			if len(sites) != len(c.sites) {
				b.Fatalf("stages at %d sites, asked for %d", len(sites), len(c.sites))
			}
			reportPercentiles(b, lat, 50, 95)
			b.ReportMetric(float64(stages), "stages")
		})
	}
}

// reportPercentiles reports the given percentiles of a benchmark's latencies, in
// milliseconds.
func reportPercentiles(b *testing.B, lat []time.Duration, ps ...int) {
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	for _, p := range ps {
		i := min(len(sorted)*p/100, len(sorted)-1)
		b.ReportMetric(float64(sorted[i].Microseconds())/1000, fmt.Sprintf("p%d-ms", p))
	}
}

// firstOrganisation is the organisation of the demo hub's first production.
func firstOrganisation(b *testing.B, pool *pgxpool.Pool) uuid.UUID {
	var org uuid.UUID
	if err := pool.QueryRow(context.Background(), `SELECT organisation_id FROM productions ORDER BY title LIMIT 1`).Scan(&org); err != nil {
		b.Fatal(err)
	}
	return org
}

// seedHubBookings spreads n confirmed bookings of 4 to 16 hours over the demo hub's
// active resources in the six months from base, one after another on each resource,
// and returns how many it wrote.
func seedHubBookings(b *testing.B, pool *pgxpool.Pool, base time.Time, n int) int {
	b.Helper()
	ctx := context.Background()
	var count int
	// Each resource gets its share of the bookings, one per step of at least 24 hours,
	// starting within the step's first (step - 16) hours: they never overlap.
	err := pool.QueryRow(ctx, `
		WITH r AS (
			SELECT id, site_id, row_number() OVER (ORDER BY name) - 1 AS i, count(*) OVER () AS nr
			FROM resources WHERE active),
		per AS (SELECT r.*, ceil($2::float / r.nr)::int AS m, greatest(24, (180 * 24) / ceil($2::float / r.nr)::int) AS step FROM r),
		slots AS MATERIALIZED (
			SELECT gen_random_uuid() AS gid, per.id AS resource_id, per.site_id,
				$1::timestamptz + (k * per.step + (per.i * 7 + k * 13) % (per.step - 16)) * interval '1 hour' AS s,
				(4 + (per.i + k) % 13) * interval '1 hour' AS d
			FROM per, generate_series(0, per.m - 1) k
			WHERE per.i + k * per.nr < $2),
		prod AS (SELECT id FROM productions ORDER BY title LIMIT 1),
		g AS (
			INSERT INTO booking_groups (id, production_id, site_id, status, start_at, end_at, created_at, updated_at, version)
			SELECT slots.gid, prod.id, slots.site_id, 'confirmed', slots.s, slots.s + slots.d, now(), now(), 1
			FROM slots, prod),
		ins AS (
			INSERT INTO bookings (group_id, resource_id, production_id, status, during)
			SELECT slots.gid, slots.resource_id, prod.id, 'confirmed', tstzrange(slots.s, slots.s + slots.d)
			FROM slots, prod
			RETURNING 1)
		SELECT count(*) FROM ins`, base, n).Scan(&count)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return count
}
