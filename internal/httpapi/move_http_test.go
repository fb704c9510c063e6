package httpapi_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// TestMoveBookingToAnotherResource: PATCH moves a hold to another suite and another
// day at once (resource_ids with start_local/end_local), ranks follow on both suites;
// a move onto an occupied suite is 409 naming the blocking interval and changes
// nothing; a suite at another site is 422; a producer's move of a confirmed booking at
// an approval site is a request carrying the resources, made when a manager confirms.
func TestMoveBookingToAnotherResource(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, suite, _ := siteAndResources(t, b)
	ctx := context.Background()
	var other, dakar uuid.UUID
	if err := b.db.Pool.QueryRow(ctx, `SELECT id FROM resources WHERE site_id = $1 AND kind = 'grading_suite' AND id <> $2 ORDER BY name LIMIT 1`, site, suite).Scan(&other); err != nil {
		t.Fatal(err)
	}
	if err := b.db.Pool.QueryRow(ctx, `SELECT r.id FROM resources r JOIN sites s ON s.id = r.site_id WHERE s.slug = 'dakar' LIMIT 1`).Scan(&dakar); err != nil {
		t.Fatal(err)
	}
	prods := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	hold := func(res uuid.UUID, start, end string) booking.Booking {
		t.Helper()
		return decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], map[string]any{
			"production_id": prods[0].ID, "resource_id": res, "start": start, "end": end}), 201)
	}
	first := hold(suite, "2027-06-14T09:00:00Z", "2027-06-14T13:00:00Z")
	second := hold(suite, "2027-06-14T10:00:00Z", "2027-06-14T12:00:00Z")
	if second.Rank != 2 {
		t.Fatalf("second hold rank %d", second.Rank)
	}
	moved := decode[booking.Booking](t, b.do(t, "PATCH", "/api/v1/bookings/"+first.ID.String(), b.tokens["producer"], map[string]any{
		"resource_ids": []uuid.UUID{other}, "start_local": "2027-06-15T14:00", "end_local": "2027-06-15T18:00"}), 200)
	if !slices.Equal(resourcesOf(moved), []uuid.UUID{other}) || !moved.Start.Equal(time.Date(2027, 6, 15, 14, 0, 0, 0, time.UTC)) ||
		!moved.End.Equal(time.Date(2027, 6, 15, 18, 0, 0, 0, time.UTC)) || moved.Rank != 1 {
		t.Fatalf("moved hold %+v", moved)
	}
	if got := decode[booking.Booking](t, b.do(t, "GET", "/api/v1/bookings/"+second.ID.String(), b.tokens["producer"], nil), 200); got.Rank != 1 {
		t.Fatalf("the hold left behind is rank %d, want 1", got.Rank)
	}

	// Onto a suite confirmed at that time: 409 with the blocking interval, nothing moved.
	decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["manager"], map[string]any{"production_id": prods[0].ID,
		"resource_id": suite, "start": "2027-06-15T15:00:00Z", "end": "2027-06-15T16:00:00Z", "status": "confirmed"}), 201)
	p := problem(t, b.do(t, "PATCH", "/api/v1/bookings/"+first.ID.String(), b.tokens["producer"], map[string]any{
		"resource_ids": []uuid.UUID{suite}}), 409, booking.ECONFLICT)
	cs, _ := p.Details["conflicts"].([]any)
	if len(cs) != 1 || cs[0].(map[string]any)["start"] != "2027-06-15T15:00:00Z" || cs[0].(map[string]any)["resource_id"] != suite.String() {
		t.Fatalf("conflict details %v", p.Details)
	}
	if got := decode[booking.Booking](t, b.do(t, "GET", "/api/v1/bookings/"+first.ID.String(), b.tokens["producer"], nil), 200); !slices.Equal(resourcesOf(got), []uuid.UUID{other}) || got.Version != moved.Version {
		t.Fatalf("a refused move changed the booking: %+v", got)
	}
	if p := problem(t, b.do(t, "PATCH", "/api/v1/bookings/"+first.ID.String(), b.tokens["producer"], map[string]any{
		"resource_ids": []uuid.UUID{dakar}}), 422, booking.EUNPROCESSABLE); p.Details["field"] != "resource_ids" {
		t.Fatalf("another site: %v", p.Details)
	}
	problem(t, b.do(t, "PATCH", "/api/v1/bookings/"+first.ID.String(), b.tokens["producer"], map[string]any{"resource_ids": []uuid.UUID{}}), 400, booking.EINVALID)
	problem(t, b.do(t, "PATCH", "/api/v1/bookings/"+first.ID.String(), b.tokens["producer"], map[string]any{"start": "2027-06-15T14:00:00Z"}), 400, booking.EINVALID)

	// A producer's move of a confirmed booking at an approval site: a request, resources included.
	policy := decode[booking.SitePolicy](t, b.do(t, "GET", "/api/v1/sites/"+site.String()+"/policy", b.tokens["manager"], nil), 200)
	decode[booking.SitePolicy](t, b.do(t, "PUT", "/api/v1/sites/"+site.String()+"/policy", b.tokens["manager"], map[string]any{
		"confirm_needs_approval": true, "hold_lifetime": policy.HoldLifetime, "challenge_window": policy.ChallengeWindow,
		"min_notice": policy.MinNotice, "reminder_offsets": policy.ReminderOffsets, "overtime": policy.Overtime}), 200)
	conf := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["manager"], map[string]any{"production_id": prods[0].ID,
		"resource_id": suite, "start": "2027-06-21T09:00:00Z", "end": "2027-06-21T13:00:00Z", "status": "confirmed"}), 201)
	req := decode[booking.Booking](t, b.do(t, "PATCH", "/api/v1/bookings/"+conf.ID.String(), b.tokens["producer"], map[string]any{
		"resource_ids": []uuid.UUID{other}}), 202)
	if !slices.Equal(resourcesOf(req), []uuid.UUID{suite}) || !slices.Equal(req.RequestedResourceIDs, []uuid.UUID{other}) || !req.ApprovalPending {
		t.Fatalf("requested move %+v", req)
	}
	done := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings/"+conf.ID.String()+"/confirm", b.tokens["manager"], nil), 200)
	if !slices.Equal(resourcesOf(done), []uuid.UUID{other}) || !done.Start.Equal(conf.Start) || done.RequestedResourceIDs != nil || done.ApprovalPending {
		t.Fatalf("approved move %+v", done)
	}
}

// resourcesOf lists a booking's resources.
func resourcesOf(b booking.Booking) []uuid.UUID {
	var out []uuid.UUID
	for _, r := range b.Resources {
		out = append(out, r.ResourceID)
	}
	return out
}
