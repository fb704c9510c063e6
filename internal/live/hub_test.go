package live_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/dbtest"
	"github.com/posthub/posthub/internal/demo"
	"github.com/posthub/posthub/internal/live"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestHubDeliversLateCommits: a change whose log row took its id before another's but
// committed after it is still delivered (the hub asks again for ids it skipped over),
// the floor it hands out for resuming stays below it until then, and a subscriber
// sees only what it may: a producer of another company gets nothing.
func TestHubDeliversLateCommits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.New(t)
	var users demo.Users
	if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var err error
		users, err = demo.Seed(ctx, tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	actor := func(key string) booking.Actor {
		_, tok, err := db.CreateToken(ctx, booking.System, users[key], "t", 0)
		if err != nil {
			t.Fatal(err)
		}
		a, err := db.AuthenticateToken(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	producer, other := actor("producer"), actor("producer_other")
	ps, err := db.ListProductions(ctx, producer)
	if err != nil {
		t.Fatal(err)
	}
	var suite uuid.UUID
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM resources WHERE kind = 'grading_suite' ORDER BY name LIMIT 1`).Scan(&suite); err != nil {
		t.Fatal(err)
	}
	b, err := db.Book(ctx, producer, booking.BookingInput{ProductionID: ps[0].ID, ResourceIDs: []uuid.UUID{suite},
		Start: time.Date(2027, 6, 14, 9, 0, 0, 0, time.UTC), End: time.Date(2027, 6, 14, 13, 0, 0, 0, time.UTC), Status: booking.StatusHold})
	if err != nil {
		t.Fatal(err)
	}

	hub := &live.Hub{Changes: db, Interval: 20 * time.Millisecond, GapWait: time.Minute}
	defer hub.Close()
	sub, _, err := hub.Subscribe(ctx, producer)
	if err != nil {
		t.Fatal(err)
	}
	blind, _, err := hub.Subscribe(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	logRow := func(q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}, kind string) int64 {
		var id int64
		if err := q.QueryRow(ctx, `INSERT INTO booking_changes (at, booking_id, kind) VALUES (now(), $1, $2) RETURNING id`, b.ID, kind).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	late, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Rollback(ctx)
	lateID := logRow(late, "late")
	earlyID := logRow(db.Pool, "early")
	recv := func() live.Event {
		t.Helper()
		select {
		case ev := <-sub.C:
			return ev
		case <-time.After(5 * time.Second):
			t.Fatal("nothing delivered within 5 s")
			return live.Event{}
		}
	}
	if ev := recv(); ev.Change.ID != earlyID || ev.Resume >= lateID {
		t.Fatalf("first delivery %+v (resume %d), want %d with a resume id below the uncommitted %d", ev.Change, ev.Resume, earlyID, lateID)
	}
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := recv(); ev.Change.ID != lateID || ev.Resume < earlyID {
		t.Fatalf("late delivery %+v (resume %d), want %d and a resume id past both", ev.Change, ev.Resume, lateID)
	}
	if f := hub.Floor(); f < earlyID {
		t.Fatalf("floor %d after both were delivered", f)
	}
	select {
	case ev := <-blind.C:
		t.Fatalf("another company's producer got %+v", ev)
	default:
	}
}
