package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
)

// TestOneActionIsHeardOnce: the sink hears each action's events once, at the end of
// its transaction, every event naming who acted: a plan accepted (a hold per stage) is
// one call with a hold_placed per stage; confirming the whole plan one call with a
// confirmation per stage; posthub's own due work names no one.
func TestOneActionIsHeardOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var calls [][]booking.Event
	f.db.OnEvents = func(_ context.Context, tx pgx.Tx, evs []booking.Event) error {
		// The events' bookings are there, in the transaction, with their state.
		for _, e := range evs {
			if e.Kind.ActsOnBooking() && (e.State == nil || e.State.BookingID != e.BookingID) {
				t.Errorf("%s of %s without its state", e.Kind, e.BookingID)
			}
		}
		calls = append(calls, append([]booking.Event(nil), evs...))
		return nil
	}
	site := f.site(t, "casablanca")
	producer := f.actors["producer"]
	p, err := f.db.ProposePlan(f.ctx, producer, booking.PlanRequest{ProductionID: f.prod["producer"], SiteID: site,
		EarliestStart: casa("2027-06-08", 9, 0), Seed: 1,
		Stages: []booking.StageSpec{
			{ID: "conform", Name: "Conform", Hours: 4, Demands: []booking.Demand{{Kind: "dcp_mastering"}}},
			{ID: "grade", Name: "Grade", Hours: 6, Demands: []booking.Demand{{Kind: "grading_suite"}}, After: []booking.StageLink{{From: "conform"}}},
			{ID: "screen", Name: "Screening", Hours: 2, Demands: []booking.Demand{{Kind: "screening_room"}}, After: []booking.StageLink{{From: "grade"}}},
		}})
	if err != nil || !p.Placed {
		t.Fatalf("plan: %v %+v", err, p)
	}
	check := func(what string, kind booking.EventKind, n int, actor uuid.UUID) {
		t.Helper()
		if len(calls) != 1 {
			t.Fatalf("%s: the sink was called %d times, want once", what, len(calls))
		}
		evs := calls[0]
		got := 0
		for _, e := range evs {
			if e.Kind == kind {
				got++
			}
			if e.Actor != actor {
				t.Errorf("%s: %s names actor %s, want %s", what, e.Kind, e.Actor, actor)
			}
		}
		if got != n {
			t.Errorf("%s: %d %s events in %v, want %d", what, got, kind, evs, n)
		}
		calls = nil
	}
	if _, _, err := f.db.AcceptPlan(f.ctx, producer, p.ID); err != nil {
		t.Fatal(err)
	}
	check("accepting the plan", booking.EventHoldPlaced, 3, producer.UserID)
	if _, err := f.db.ConfirmPlan(f.ctx, producer, p.ID); err != nil {
		t.Fatal(err)
	}
	check("confirming the plan", booking.EventConfirmed, 3, producer.UserID)

	// A hold that expires: posthub acted.
	h := f.hold(t, "producer_other", f.resources[:1], f.at(12, 9), f.at(12, 12))
	calls = nil
	f.now = *h.HoldExpiresAt
	if res, err := f.db.ProcessDue(f.ctx, f.now); err != nil || res.Expired != 1 {
		t.Fatalf("due work: %+v %v", res, err)
	}
	check("expiry", booking.EventExpired, 1, uuid.Nil)
}

// TestSetLocale: a person's language is any language there is a catalog for, stored
// once (a second choice of the same is no change); another is refused.
func TestSetLocale(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.actors["producer"] // reads French
	version := func() (string, int) {
		var l string
		var v int
		if err := f.db.Pool.QueryRow(f.ctx, `SELECT locale, version FROM users WHERE id = $1`, a.UserID).Scan(&l, &v); err != nil {
			t.Fatal(err)
		}
		return l, v
	}
	_, v0 := version()
	if err := f.db.SetLocale(f.ctx, a, "en"); err != nil {
		t.Fatal(err)
	}
	if l, v := version(); l != "en" || v != v0+1 {
		t.Errorf("after choosing English: %s, version %d (was %d)", l, v, v0)
	}
	if err := f.db.SetLocale(f.ctx, a, "en"); err != nil {
		t.Fatal(err)
	}
	if _, v := version(); v != v0+1 {
		t.Errorf("choosing the same language again changed the user (version %d)", v)
	}
	for _, bad := range []string{"", "de", "EN", "fr-FR", "'; DROP TABLE users; --"} {
		if err := f.db.SetLocale(f.ctx, a, bad); booking.ErrorCode(err) != booking.EINVALID {
			t.Errorf("SetLocale(%q): %v, want EINVALID", bad, err)
		}
	}
	if l, _ := version(); l != "en" {
		t.Errorf("locale %s after refused choices", l)
	}
	// The database takes any language tag a catalog could be named by.
	if _, err := f.db.Pool.Exec(f.ctx, `UPDATE users SET locale = 'pt-BR' WHERE id = $1`, a.UserID); err != nil {
		t.Errorf("a catalog-only language's tag: %v", err)
	}
	if _, err := f.db.Pool.Exec(f.ctx, `UPDATE users SET locale = 'not a tag' WHERE id = $1`, a.UserID); err == nil {
		t.Error("the database took a locale that is no language tag")
	}
}
