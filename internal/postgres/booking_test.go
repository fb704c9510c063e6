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
	"github.com/posthub/posthub/internal/postgres"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// fixture is a migrated database with the demo data, actors for the demo users, and a
// frozen clock.
type fixture struct {
	db        *postgres.DB
	ctx       context.Context
	now       time.Time
	actors    map[string]booking.Actor
	prod      map[string]uuid.UUID // a production of each producer's organisation
	resources []uuid.UUID          // Casablanca grading suites
	events    []booking.Event
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{db: dbtest.New(t), ctx: context.Background(), now: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC),
		actors: map[string]booking.Actor{}, prod: map[string]uuid.UUID{}}
	f.db.Now = func() time.Time { return f.now }
	f.db.OnEvents = func(_ context.Context, _ pgx.Tx, evs []booking.Event) error {
		f.events = append(f.events, evs...)
		return nil
	}
	var users demo.Users
	if err := pgx.BeginFunc(f.ctx, f.db.Pool, func(tx pgx.Tx) error {
		var err error
		users, err = demo.Seed(f.ctx, tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for k, id := range users {
		_, tok, err := f.db.CreateToken(f.ctx, booking.System, id, "t", 0)
		if err != nil {
			t.Fatal(err)
		}
		a, err := f.db.AuthenticateToken(f.ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		f.actors[k] = a
		if a.Role == booking.RoleProducer {
			ps, err := f.db.ListProductions(f.ctx, a)
			if err != nil || len(ps) == 0 {
				t.Fatalf("productions of %s: %v", k, err)
			}
			f.prod[k] = ps[0].ID
		}
	}
	rows, _ := f.db.Pool.Query(f.ctx, `SELECT r.id FROM resources r JOIN sites s ON s.id = r.site_id
		WHERE s.slug = 'casablanca' AND r.kind IN ('grading_suite', 'colourist') ORDER BY r.kind, r.name`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil || len(ids) < 4 {
		t.Fatalf("resources: %v %d", err, len(ids))
	}
	f.resources = ids
	return f
}

func (f *fixture) at(day, hour int) time.Time {
	return time.Date(2027, 3, day, hour, 0, 0, 0, time.UTC)
}

func (f *fixture) hold(t *testing.T, who string, resources []uuid.UUID, start, end time.Time) booking.Booking {
	t.Helper()
	b, err := f.db.Book(f.ctx, f.actors[who], booking.BookingInput{ProductionID: f.prod[who], ResourceIDs: resources,
		Start: start, End: end, Status: booking.StatusHold})
	if err != nil {
		t.Fatalf("hold for %s: %v", who, err)
	}
	return b
}

func (f *fixture) act(t *testing.T, who string, id uuid.UUID, act booking.Action) booking.Booking {
	t.Helper()
	b, err := f.db.Act(f.ctx, f.actors[who], id, act, booking.ActOptions{})
	if err != nil {
		t.Fatalf("%s %s: %v", who, act, err)
	}
	return b
}

func (f *fixture) get(t *testing.T, id uuid.UUID) booking.Booking {
	t.Helper()
	b, err := f.db.FindBooking(f.ctx, booking.System, id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantCode(t *testing.T, err error, code string) *booking.Error {
	t.Helper()
	if booking.ErrorCode(err) != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
	de, _ := err.(*booking.Error)
	return de
}

func TestHoldQueueAndChallenge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	suite := f.resources[:1]
	a := f.hold(t, "producer", suite, f.at(10, 9), f.at(10, 17))
	b := f.hold(t, "producer_other", suite, f.at(10, 13), f.at(11, 12))
	c := f.hold(t, "producer_casablanca", suite, f.at(11, 9), f.at(11, 17))
	if a.Rank != 1 || b.Rank != 2 || c.Rank != 3 {
		t.Fatalf("ranks %d %d %d, want 1 2 3 (c overlaps b which overlaps a)", a.Rank, b.Rank, c.Rank)
	}
	// b confirms with a ahead: a challenge, not a confirmation. The 48 working hours
	// of the window do not fit before b's slot, so the deadline is an hour before it.
	b = f.act(t, "producer_other", b.ID, booking.ActionConfirm)
	if b.Status != booking.StatusHold || b.Challenge == nil || !b.Challenge.Deadline.Equal(f.at(10, 12)) {
		t.Fatalf("challenge: %+v", b)
	}
	if got := f.get(t, a.ID); len(got.ChallengedBy) != 1 {
		t.Fatalf("a should see the challenge: %+v", got)
	}
	// a releases: b wins at once and is confirmed; c, which overlaps b, is superseded.
	f.act(t, "producer", a.ID, booking.ActionRelease)
	if got := f.get(t, b.ID); got.Status != booking.StatusConfirmed {
		t.Fatalf("b after a released: %+v", got)
	}
	if got := f.get(t, c.ID); got.Status != booking.StatusReleased || got.StatusReason != "superseded" {
		t.Fatalf("c after b confirmed: %+v", got)
	}
	kinds := map[booking.EventKind]int{}
	for _, e := range f.events {
		kinds[e.Kind]++
	}
	for _, k := range []booking.EventKind{booking.EventHoldPlaced, booking.EventChallengeOpened, booking.EventChallengeReceived,
		booking.EventReleased, booking.EventChallengeWon, booking.EventConfirmed} {
		if kinds[k] == 0 {
			t.Errorf("no %s event: %v", k, kinds)
		}
	}
}

func TestChallengeDeadlineReleasesHoldersAhead(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	suite := f.resources[:1]
	a := f.hold(t, "producer", suite, f.at(10, 9), f.at(10, 17))
	b := f.hold(t, "producer_other", suite, f.at(10, 9), f.at(10, 17))
	f.setChallengeWindow(t, 8*time.Hour)
	f.act(t, "producer_other", b.ID, booking.ActionConfirm)
	// Eight working hours: Monday 09:00–15:00 (Ramadan hours), Tuesday 09:00–11:00.
	f.settlesAt(t, f.at(2, 11), a, b)
}

func TestHolderAheadConfirmsFirstChallengerLoses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	suite := f.resources[:1]
	a := f.hold(t, "producer", suite, f.at(10, 9), f.at(10, 17))
	b := f.hold(t, "producer_other", suite, f.at(10, 9), f.at(10, 17))
	f.act(t, "producer_other", b.ID, booking.ActionConfirm)
	f.events = nil
	if got := f.act(t, "producer", a.ID, booking.ActionConfirm); got.Status != booking.StatusConfirmed {
		t.Fatalf("a confirming: %+v", got)
	}
	if got := f.get(t, b.ID); got.Status != booking.StatusReleased || got.Challenge != nil {
		t.Fatalf("b after a confirmed: %+v", got)
	}
	lost := false
	for _, e := range f.events {
		lost = lost || (e.Kind == booking.EventChallengeLost && e.BookingID == b.ID)
	}
	if !lost {
		t.Fatalf("b was not told it lost: %+v", f.events)
	}
}

func TestConfirmedBookingsNeverOverlapAndConflictsHideOwners(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	suite := f.resources[:1]
	_, err := f.db.Book(f.ctx, f.actors["manager"], booking.BookingInput{ProductionID: f.prod["producer"], ResourceIDs: suite,
		Start: f.at(10, 9), End: f.at(10, 17), Status: booking.StatusConfirmed})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.db.Book(f.ctx, f.actors["producer_other"], booking.BookingInput{ProductionID: f.prod["producer_other"], ResourceIDs: suite,
		Start: f.at(10, 16), End: f.at(10, 18), Status: booking.StatusHold})
	de := wantCode(t, err, booking.ECONFLICT)
	cs, _ := de.Details["conflicts"]
	if cs == nil {
		t.Fatalf("conflict without the blocking interval: %+v", de)
	}
	// The database refuses an overlap even when the application's checks are bypassed.
	_, err = f.db.Pool.Exec(f.ctx, `INSERT INTO booking_groups (id, production_id, site_id, status, start_at, end_at, created_at, updated_at)
		SELECT gen_random_uuid(), production_id, site_id, 'confirmed', start_at, end_at, now(), now() FROM booking_groups LIMIT 1`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.db.Pool.Exec(f.ctx, `INSERT INTO bookings (group_id, resource_id, production_id, status, during)
		SELECT g.id, b.resource_id, b.production_id, 'confirmed', b.during FROM bookings b, booking_groups g
		WHERE g.id NOT IN (SELECT group_id FROM bookings) LIMIT 1`)
	if err == nil {
		t.Fatal("the exclusion constraint let two confirmed bookings overlap")
	}
}

func TestExpiryAndCompletion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	suite := f.resources[:1]
	a := f.hold(t, "producer", suite, f.at(20, 9), f.at(20, 17))
	b := f.hold(t, "producer_other", suite, f.at(20, 9), f.at(20, 17))
	res, err := f.db.ProcessDue(f.ctx, f.now.Add(7*24*time.Hour))
	if err != nil || res.Expired != 2 {
		t.Fatalf("expiry: %+v %v", res, err)
	}
	if f.get(t, a.ID).Status != booking.StatusExpired || f.get(t, b.ID).Status != booking.StatusExpired {
		t.Fatal("holds did not expire")
	}
	c, err := f.db.Book(f.ctx, f.actors["manager"], booking.BookingInput{ProductionID: f.prod["producer"], ResourceIDs: suite,
		Start: f.at(2, 9), End: f.at(2, 17), Status: booking.StatusConfirmed})
	if err != nil {
		t.Fatal(err)
	}
	res, err = f.db.ProcessDue(f.ctx, f.at(2, 17))
	if err != nil || res.Completed != 1 || f.get(t, c.ID).Status != booking.StatusCompleted {
		t.Fatalf("completion: %+v %v", res, err)
	}
}

func TestGroupsMoveTogether(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pair := []uuid.UUID{f.resources[0], f.resources[len(f.resources)-1]}
	g := f.hold(t, "producer", pair, f.at(10, 9), f.at(10, 17))
	if len(g.Resources) != 2 {
		t.Fatalf("group: %+v", g)
	}
	// Something in the way on one resource keeps the whole group where it is.
	if _, err := f.db.Book(f.ctx, f.actors["manager"], booking.BookingInput{ProductionID: f.prod["producer_other"],
		ResourceIDs: pair[1:], Start: f.at(12, 9), End: f.at(12, 17), Status: booking.StatusConfirmed}); err != nil {
		t.Fatal(err)
	}
	_, err := f.db.Reschedule(f.ctx, f.actors["producer"], g.ID, f.at(12, 10), f.at(12, 12), booking.ActOptions{})
	wantCode(t, err, booking.ECONFLICT)
	moved, err := f.db.Reschedule(f.ctx, f.actors["producer"], g.ID, f.at(13, 10), f.at(13, 12), booking.ActOptions{IfMatch: &g.Version})
	if err != nil || !moved.Start.Equal(f.at(13, 10)) {
		t.Fatalf("reschedule: %+v %v", moved, err)
	}
	var n int
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT count(*) FROM bookings WHERE group_id = $1 AND during = tstzrange($2, $3)`,
		g.ID, f.at(13, 10), f.at(13, 12)).Scan(&n); err != nil || n != 2 {
		t.Fatalf("bookings moved: %d %v", n, err)
	}
	// A stale version is refused.
	_, err = f.db.Act(f.ctx, f.actors["producer"], g.ID, booking.ActionConfirm, booking.ActOptions{IfMatch: &g.Version})
	wantCode(t, err, booking.EPRECONDITION)
	conf := f.act(t, "producer", g.ID, booking.ActionConfirm)
	if conf.Status != booking.StatusConfirmed {
		t.Fatal(conf.Status)
	}
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT count(*) FROM bookings WHERE group_id = $1 AND status = 'confirmed'`, g.ID).Scan(&n); err != nil || n != 2 {
		t.Fatalf("group members share a status: %d %v", n, err)
	}
}

func TestApprovalPolicy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var casablanca uuid.UUID
	_ = f.db.Pool.QueryRow(f.ctx, `SELECT id FROM sites WHERE slug = 'casablanca'`).Scan(&casablanca)
	pol, err := f.db.SitePolicy(f.ctx, casablanca)
	if err != nil {
		t.Fatal(err)
	}
	pol.ConfirmNeedsApproval = true
	if _, err := f.db.UpdateSitePolicy(f.ctx, f.actors["producer"], pol); booking.ErrorCode(err) != booking.EFORBIDDEN {
		t.Fatalf("producer updated the policy: %v", err)
	}
	if _, err := f.db.UpdateSitePolicy(f.ctx, f.actors["manager"], pol); err != nil {
		t.Fatal(err)
	}
	h := f.hold(t, "producer", f.resources[:1], f.at(10, 9), f.at(10, 17))
	got := f.act(t, "producer", h.ID, booking.ActionConfirm)
	if got.Status != booking.StatusHold || !got.ApprovalPending {
		t.Fatalf("producer's confirmation should await approval: %+v", got)
	}
	got = f.act(t, "manager", h.ID, booking.ActionConfirm)
	if got.Status != booking.StatusConfirmed || got.ApprovalPending {
		t.Fatalf("manager's approval: %+v", got)
	}
}

// TestRederiveLocalTimesAfterATZChange simulates bookings whose wall-clock was derived
// with tz data from before Morocco's 2026 change (+01:00 after 2026-09-20): the
// re-derivation corrects them, reports the ones whose wall-clock moved, and raises
// local_time_changed for them alone.
func TestRederiveLocalTimesAfterATZChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	moved := f.hold(t, "producer", f.resources[:1], f.at(10, 9), f.at(10, 12))
	same := f.hold(t, "producer_other", f.resources[1:2], f.at(11, 9), f.at(11, 12))
	if moved.StartLocal != "2027-03-10T09:00:00+00:00" {
		t.Fatalf("derived local start: %s", moved.StartLocal)
	}
	// Old data: one booking shown an hour late (+01:00), both stamped with an old release.
	if _, err := f.db.Pool.Exec(f.ctx, `UPDATE booking_groups SET local_start = local_start + interval '1 hour',
		local_end = local_end + interval '1 hour' WHERE id = $1`, moved.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Pool.Exec(f.ctx, `UPDATE booking_groups SET tz_version = '2025b'`); err != nil {
		t.Fatal(err)
	}
	if got := f.get(t, moved.ID); got.StartLocal != "2027-03-10T10:00:00+01:00" {
		t.Fatalf("stale local start: %s", got.StartLocal)
	}
	f.events = nil
	changed, err := f.db.RederiveLocalTimes(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || changed[0].ID != moved.ID || changed[0].StartLocal != "2027-03-10T09:00:00+00:00" {
		t.Fatalf("changed: %+v", changed)
	}
	if len(f.events) != 1 || f.events[0].Kind != booking.EventLocalTimeChanged || f.events[0].BookingID != moved.ID {
		t.Fatalf("events: %+v", f.events)
	}
	if got := f.get(t, same.ID); got.TZVersion != "2026f" {
		t.Fatalf("unchanged booking not re-stamped: %s", got.TZVersion)
	}
	// Nothing left to do the second time.
	if again, err := f.db.RederiveLocalTimes(f.ctx); err != nil || len(again) != 0 {
		t.Fatalf("second run: %v %v", again, err)
	}
}
