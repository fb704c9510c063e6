package postgres_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// TestProgrammeMembershipIsGranted: a producer who names a ring-fenced programme and
// ticks "emerging" on a new production only asks; the fence treats the production as
// outside the programme until a manager grants it, a producer cannot grant it, and the
// grant is audited.
func TestProgrammeMembershipIsGranted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	site := f.site(t, "casablanca")
	if _, err := f.db.CreateRingFence(f.ctx, f.actors["manager"], booking.RingFenceInput{SiteID: site, Kind: "dcp_mastering",
		Programme: "emerging-filmmakers", SharePct: 50, Period: booking.PeriodMonth, ReleaseDays: 30}); err != nil {
		t.Fatal(err)
	}
	p, err := f.db.CreateProduction(f.ctx, f.actors["producer"], booking.ProductionInput{Title: "Self-declared", Format: "short",
		RuntimeMinutes: 12, Emerging: true, Programme: "emerging-filmmakers", Origins: []booking.Origin{{Country: "SN", SharePct: 100}}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Programme != "" || p.Emerging || p.RequestedProgramme != "emerging-filmmakers" || !p.RequestedEmerging {
		t.Fatalf("a producer's production: %+v", p)
	}
	dcp := []uuid.UUID{f.resourceNamed(t, "DCP Mastering")}
	june := func(d int) time.Time { return time.Date(2027, 6, d, 0, 0, 0, 0, time.UTC) }
	book := func() error {
		_, err := f.db.Book(f.ctx, f.actors["producer"], booking.BookingInput{ProductionID: p.ID, ResourceIDs: dcp,
			Start: june(7), End: june(30), Status: booking.StatusHold})
		return err
	}
	// Most of June, beyond the release horizon: the fence keeps it for the programme.
	if err := book(); booking.ErrorCode(err) != booking.ECONFLICT {
		t.Fatalf("an ungranted member booked the programme's share: %v", err)
	}
	if _, err := f.db.SetMembership(f.ctx, f.actors["producer"], p.ID, booking.Membership{Programme: "emerging-filmmakers", Emerging: true}); booking.ErrorCode(err) != booking.EFORBIDDEN {
		t.Fatalf("a producer granted itself: %v", err)
	}
	granted, err := f.db.SetMembership(f.ctx, f.actors["manager"], p.ID, booking.Membership{Programme: "emerging-filmmakers", Emerging: true})
	if err != nil || granted.Programme != "emerging-filmmakers" || !granted.Emerging || granted.RequestedProgramme != "" || granted.RequestedEmerging {
		t.Fatalf("granted: %+v %v", granted, err)
	}
	if err := book(); err != nil {
		t.Fatalf("a granted member: %v", err)
	}
	var n int
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT count(*) FROM audit_log WHERE action = 'production.membership_set' AND object_id = $1`, p.ID.String()).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d audit rows for the grant (%v)", n, err)
	}
	// A manager's production is granted as created.
	mp, err := f.db.CreateProduction(f.ctx, f.actors["manager"], booking.ProductionInput{OrganisationID: p.OrganisationID, Title: "Granted",
		Format: "short", RuntimeMinutes: 10, Emerging: true, Programme: "emerging-filmmakers", Origins: []booking.Origin{{Country: "SN", SharePct: 100}}})
	if err != nil || mp.Programme != "emerging-filmmakers" || !mp.Emerging || mp.RequestedEmerging {
		t.Fatalf("a manager's production: %+v %v", mp, err)
	}
}
