package postgres_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/posthub/posthub/internal/booking"
)

// BenchmarkUtilisation measures a utilisation report over four weeks at the scale of
// a busy hub (200 resources, 100,000 confirmed bookings over two years, a tenth of them
// made as overtime), with blocks: every fifth resource has a weekly two-hour
// maintenance slot (recurring) and every seventh a week of leave each month. Each
// grouping the operators' dashboard asks for is a sub-benchmark; each reports the p50
// and p99 latency of the reports it made.
//
//	go test -run '^$' -bench BenchmarkUtilisation -benchtime 400x ./internal/postgres/
func BenchmarkUtilisation(b *testing.B) {
	ctx := context.Background()
	db, site := seedScale(b, 200, 100_000)
	for _, sql := range []string{
		`UPDATE booking_groups SET overtime = true WHERE site_id = $1 AND get_byte(uuid_send(id), 15) < 26`,
		`INSERT INTO resource_blocks (resource_id, during, kind, reason, rrule, created_at)
		 SELECT id, tstzrange('2027-01-04 09:00Z', '2027-01-04 11:00Z'), 'maintenance', 'calibration', 'FREQ=WEEKLY;BYDAY=MO', now()
		 FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM resources WHERE site_id = $1) r WHERE n % 5 = 0`,
		`INSERT INTO resource_blocks (resource_id, during, kind, reason, created_at)
		 SELECT id, tstzrange(m, m + interval '7 days'), 'leave', 'leave', now()
		 FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM resources WHERE site_id = $1) r,
		      generate_series(timestamptz '2027-01-10', '2028-12-10', interval '1 month') m
		 WHERE n % 7 = 0`,
		`ANALYZE`,
	} {
		args := []any{site}
		if sql == `ANALYZE` {
			args = nil
		}
		if _, err := db.Pool.Exec(ctx, sql, args...); err != nil {
			b.Fatal(err)
		}
	}
	base := time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)
	for _, group := range []struct {
		name string
		dims []booking.Dimension
	}{
		{"total", nil},
		{"resource×day", []booking.Dimension{booking.DimResource, booking.DimDay}},
		{"kind×week", []booking.Dimension{booking.DimKind, booking.DimWeek}},
		{"country", []booking.Dimension{booking.DimCountry}},
	} {
		b.Run(group.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(7, 7))
			var lat []time.Duration
			for b.Loop() {
				from := base.Add(time.Duration(rng.IntN(640)) * 24 * time.Hour)
				q := booking.UtilisationQuery{SiteID: site, From: from, To: from.Add(28 * 24 * time.Hour), GroupBy: group.dims}
				start := time.Now()
				rep, err := db.Utilisation(ctx, booking.System, q)
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if rep.Total.ConfirmedHours == 0 || rep.Total.Utilisation > 1 {
					b.Fatalf("four weeks from %s: %+v", from, rep.Total)
				}
			}
			b.StopTimer()
			reportLatency(b, lat)
		})
	}
}
