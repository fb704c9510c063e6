package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/dbtest"
	"github.com/posthub/posthub/internal/demo"
	"github.com/posthub/posthub/internal/postgres"
)

// BenchmarkAvailability measures an availability query for two demands (an HDR grading
// suite and a French-speaking colourist, 16 working hours, a four-week window) at the
// scale of a busy hub: 200 resources and 100,000 confirmed bookings over two years.
// It reports the p50 and p99 latency of the queries it ran.
//
//	go test -run '^$' -bench 'BenchmarkAvailability$/read=leading' -benchtime 400x ./internal/postgres/
func BenchmarkAvailability(b *testing.B) {
	benchAvailability(b, 200, 100_000)
}

// BenchmarkAvailabilityNetwork is the same query at the scale of the network the hub
// serves: 1,000 resources and 1,000,000 confirmed bookings over two years (seeding
// takes a few minutes).
//
//	go test -run '^$' -bench 'BenchmarkAvailabilityNetwork/read=leading' -benchtime 400x -timeout 30m ./internal/postgres/
func BenchmarkAvailabilityNetwork(b *testing.B) {
	benchAvailability(b, 1000, 1_000_000)
}

// benchAvailability seeds the site, then runs the search as it is (read=leading: the
// busy intervals over a leading part of the window, widened as needed) and reading the
// whole window at once (read=whole, as before), on the same data and queries.
func benchAvailability(b *testing.B, resources, bookings int) {
	db, site := seedScale(b, resources, bookings)
	b.Run("read=leading", func(b *testing.B) { runAvailability(b, db, site) })
	b.Run("read=whole", func(b *testing.B) {
		defer postgres.SetAvailabilityStep(5 * 366 * 24 * time.Hour)()
		runAvailability(b, db, site)
	})
}

func runAvailability(b *testing.B, db *postgres.DB, site uuid.UUID) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	base := time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		from := base.Add(time.Duration(rng.IntN(640)) * 24 * time.Hour)
		q := booking.AvailabilityQuery{SiteID: site, Hours: 16 * time.Hour, From: from, To: from.Add(28 * 24 * time.Hour), Limit: 5,
			Demands: []booking.Demand{{Kind: "grading_suite", Capabilities: []string{"hdr"}}, {Kind: "colourist", Capabilities: []string{"lang:fr"}}}}
		start := time.Now()
		slots, err := db.Availability(ctx, booking.System, q)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if len(slots) == 0 {
			b.Fatalf("no slot in four weeks from %s", from)
		}
	}
	b.StopTimer()
	reportLatency(b, lat)
}

// TestAvailabilityWindowedSearch checks that the search, which reads the busy
// intervals over a leading part of the window and widens it as it needs, answers what
// reading the whole window answers: on a busy site (16 resources, 9,600 bookings), for
// long and short demands, with few slots and many.
func TestAvailabilityWindowedSearch(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: seeds 9,600 bookings; make test and CI run it")
	}
	ctx := context.Background()
	db, site := seedScale(t, 16, 9_600)
	rng := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)
	search := func(step time.Duration, q booking.AvailabilityQuery) []booking.Slot {
		t.Helper()
		defer postgres.SetAvailabilityStep(step)()
		slots, err := db.Availability(ctx, booking.System, q)
		if err != nil {
			t.Fatal(err)
		}
		return slots
	}
	widened := 0
	for i := range 40 {
		from := base.Add(time.Duration(rng.IntN(600*24)) * time.Hour)
		hours := []time.Duration{2 * time.Hour, 16 * time.Hour, 60 * time.Hour}[i%3]
		q := booking.AvailabilityQuery{SiteID: site, Hours: hours, From: from, To: from.Add(time.Duration(14+rng.IntN(60)) * 24 * time.Hour),
			Limit: []int{1, 5, 50}[i%3], Demands: []booking.Demand{{Kind: "grading_suite", Capabilities: []string{"hdr"}}, {Kind: "colourist", Capabilities: []string{"lang:fr"}}}}
		whole := search(5*366*24*time.Hour, q)
		for _, step := range []time.Duration{time.Hour, 26 * time.Hour, 4 * 24 * time.Hour} {
			got := search(step, q)
			// Compared as the API answers them: an instant may come from a busy
			// interval's end or from the calendar, equal but in another *time.Location.
			same := func(a, b any) bool {
				x, _ := json.Marshal(a)
				y, _ := json.Marshal(b)
				return bytes.Equal(x, y)
			}
			if !same(got, whole) {
				k := 0
				for k < len(got) && k < len(whole) && same(got[k], whole[k]) {
					k++
				}
				show := func(s []booking.Slot) any {
					if k < len(s) {
						return s[k]
					}
					return "none"
				}
				t.Fatalf("query %d (%s from %s, limit %d), first read %s: %d slots, reading the whole window %d; slot %d differs: %+v, reading the whole window %+v",
					i, hours, from, q.Limit, step, len(got), len(whole), k, show(got), show(whole))
			}
		}
		if len(whole) > 0 && whole[len(whole)-1].End.After(from.Add(4*24*time.Hour)) {
			widened++
		}
	}
	if widened == 0 {
		t.Fatal("no query needed more than the first part of its window: the test does not test the widening")
	}
}

// reportLatency reports the p50 and p99 of a benchmark's latencies, in milliseconds.
func reportLatency(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// seedScale builds a site with n resources and m confirmed bookings spread over two
// years from 2027-01-01, written with COPY (the lifecycle is not what is measured).
func seedScale(b testing.TB, n, m int) (*postgres.DB, uuid.UUID) {
	b.Helper()
	ctx := context.Background()
	db := newFixtureDB(b)
	var site, prod uuid.UUID
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM sites WHERE slug = 'casablanca'`).Scan(&site); err != nil {
		b.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM productions ORDER BY title LIMIT 1`).Scan(&prod); err != nil {
		b.Fatal(err)
	}
	kinds := []struct {
		kind string
		caps []string
	}{{"grading_suite", []string{"hdr"}}, {"grading_suite", nil}, {"colourist", []string{"lang:fr"}}, {"colourist", []string{"lang:ar"}},
		{"edit_suite", nil}, {"editor", []string{"lang:fr"}}, {"mix_stage", nil}, {"sound_editor", nil}}
	var resources []uuid.UUID
	for i := 0; i < n; i++ {
		k := kinds[i%len(kinds)]
		caps := k.caps
		if caps == nil {
			caps = []string{}
		}
		var id uuid.UUID
		if err := db.Pool.QueryRow(ctx, `INSERT INTO resources (site_id, name, category, kind, capabilities) VALUES ($1, $2, 'room', $3, $4) RETURNING id`,
			site, fmt.Sprintf("Bench %03d", i), k.kind, caps).Scan(&id); err != nil {
			b.Fatal(err)
		}
		resources = append(resources, id)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC)
	per := m / n
	span := 2 * 365 * 24 * time.Hour
	step := span / time.Duration(per)
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	// Streamed through a temporary table (a million rows need not sit in memory), then
	// written as groups and their booking rows.
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE bench_rows (group_id uuid, resource_id uuid, start_at timestamptz, end_at timestamptz)`); err != nil {
		b.Fatal(err)
	}
	ri, j := 0, 0
	t := start
	row := make([]any, 4)
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"bench_rows"}, []string{"group_id", "resource_id", "start_at", "end_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if j == per {
				ri, j, t = ri+1, 0, start
			}
			if ri == len(resources) {
				return nil, nil
			}
			s := t.Add(time.Duration(rng.IntN(int(step/time.Hour)/2)) * time.Hour)
			e := s.Add(time.Duration(2+rng.IntN(7)) * time.Hour)
			row[0], row[1], row[2], row[3] = uuid.New(), resources[ri], s, e
			t = t.Add(step)
			j++
			return row, nil
		})); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO booking_groups (id, production_id, site_id, status, start_at, end_at, created_at, updated_at, version)
		SELECT group_id, $1, $2, 'confirmed', start_at, end_at, $3, $3, 1 FROM bench_rows`, prod, site, start); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO bookings (group_id, resource_id, production_id, status, during)
		SELECT group_id, resource_id, $1, 'confirmed', tstzrange(start_at, end_at) FROM bench_rows`, prod); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return db, site
}

// newFixtureDB is a migrated database with the demo data.
func newFixtureDB(tb testing.TB) *postgres.DB {
	tb.Helper()
	db := dbtest.New(tb)
	ctx := context.Background()
	if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		_, err := demo.Seed(ctx, tx)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	return db
}
