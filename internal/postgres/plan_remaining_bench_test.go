package postgres_test

import (
	"testing"
	"time"

	"github.com/posthub/posthub/internal/booking"
)

// BenchmarkReplanRemaining compares re-planning the remaining stages of an accepted
// feature plan (its first two stages confirmed) with proposing the whole plan afresh,
// on the demo hub: the re-plan adds reading the plan live, the anchors and the
// independent check to the same planner run over fewer stages. Each call stores its
// proposal, as the API does. It reports p50 and p99 in milliseconds.
//
//	go test -run '^$' -bench BenchmarkReplanRemaining -benchtime 30x ./internal/postgres/
func BenchmarkReplanRemaining(b *testing.B) {
	f := newFixture(b)
	ctx, db := f.ctx, f.db
	producer, manager := f.actors["producer"], f.actors["manager"]
	req := booking.PlanRequest{ProductionID: f.prod["producer"], SiteID: f.site(b, "casablanca"), Template: "feature",
		EarliestStart: time.Date(2027, 5, 3, 9, 0, 0, 0, time.UTC), Seed: 1}
	p, err := db.ProposePlan(ctx, producer, req)
	if err != nil || !p.Placed {
		b.Fatalf("plan: %v %+v", err, p.Unmet)
	}
	accepted, _, err := db.AcceptPlan(ctx, producer, p.ID)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range accepted.Stages[:2] {
		if _, err := db.Act(ctx, manager, *s.BookingID, booking.ActionConfirm, booking.ActOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d stages, 2 confirmed", len(accepted.Stages))
	b.Run("propose", func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			start := time.Now()
			if _, err := db.ProposePlan(ctx, producer, req); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		reportLatency(b, lat)
	})
	b.Run("replan-remaining", func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			start := time.Now()
			r, err := db.ReplanRemaining(ctx, producer, p.ID)
			if err != nil || !r.Placed {
				b.Fatalf("re-plan: %v %+v", err, r.Unmet)
			}
			lat = append(lat, time.Since(start))
		}
		reportLatency(b, lat)
	})
}
