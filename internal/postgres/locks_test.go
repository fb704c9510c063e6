package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/postgres"
)

// retryCounter records DB.OnRetry by reason.
type retryCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func countRetries(db *postgres.DB) *retryCounter {
	c := &retryCounter{n: map[string]int{}}
	db.OnRetry = func(reason string) {
		c.mu.Lock()
		c.n[reason]++
		c.mu.Unlock()
	}
	return c
}

func (c *retryCounter) get(reason string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[reason]
}

// sortedPair returns two resources, the lower id first.
func sortedPair(a, b uuid.UUID) (lo, hi uuid.UUID) {
	if bytes.Compare(a[:], b[:]) > 0 {
		a, b = b, a
	}
	return a, b
}

// waitForLockWaiter waits until some session of the test's database waits for a lock.
func waitForLockWaiter(t *testing.T, db *postgres.DB) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no session came to wait for a lock")
}

// A confirmation that supersedes a hold on a lower resource must not lock that resource
// while it holds a higher one: that is the order another change takes them in. Here a
// session holds the lower resource and then asks for the higher: before the lock
// discipline the two deadlocked (PostgreSQL aborted one after deadlock_timeout); now the
// confirmation restarts, waits for the lower first, and both go through.
func TestOutOfOrderLockRestartsInsteadOfDeadlocking(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.db.OnEvents = nil
	retries := countRetries(f.db)
	lo, hi := sortedPair(f.resources[0], f.resources[1])
	g1 := f.hold(t, "producer", []uuid.UUID{hi}, f.at(10, 9), f.at(10, 17))
	h2 := f.hold(t, "producer_other", []uuid.UUID{lo, hi}, f.at(10, 13), f.at(10, 18))

	other, err := f.db.Pool.Begin(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Rollback(f.ctx) }()
	if _, err := other.Exec(f.ctx, `SET LOCAL lock_timeout = '20s'`); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(f.ctx, `SELECT 1 FROM resources WHERE id = $1 FOR UPDATE`, lo); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := f.db.Act(f.ctx, f.actors["producer"], g1.ID, booking.ActionConfirm, booking.ActOptions{})
		done <- err
	}()
	waitForLockWaiter(t, f.db)
	// The confirmation now waits for lo holding nothing, so hi is free.
	if _, err := other.Exec(f.ctx, `SELECT 1 FROM resources WHERE id = $1 FOR UPDATE`, hi); err != nil {
		t.Fatalf("the other session could not take the higher resource: %v", err)
	}
	if err := other.Commit(f.ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if got := f.get(t, g1.ID); got.Status != booking.StatusConfirmed {
		t.Fatalf("g1: %+v", got)
	}
	if got := f.get(t, h2.ID); got.Status != booking.StatusReleased || got.StatusReason != "superseded" {
		t.Fatalf("h2 should be superseded: %+v", got)
	}
	if retries.get(postgres.RetryLockOrder) == 0 {
		t.Error("the confirmation was not restarted for lock order")
	}
	if n := retries.get(postgres.RetryDeadlock); n != 0 {
		t.Errorf("%d deadlocks", n)
	}
}

// Many clients hold, confirm, release and move bookings of one to three resources on
// a few resources over a short window, so confirmations supersede holds on other
// resources and releases let challengers elsewhere win, all the time: no transaction
// deadlocks, none is given up for contention, and every error is a domain answer.
func TestConcurrentMultiResourceChangesDoNotDeadlock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var events atomic.Int64
	f.db.OnEvents = func(context.Context, pgx.Tx, []booking.Event) error { events.Add(1); return nil }
	retries := countRetries(f.db)
	res := f.resources[:4]
	actors := []string{"producer", "producer_other", "producer_casablanca", "manager"}
	const clients, rounds = 8, 60
	var wg sync.WaitGroup
	errs := make(chan error, clients*rounds)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			var mine []uuid.UUID
			who := actors[c%len(actors)]
			prod := f.prod[who]
			if prod == uuid.Nil {
				prod = f.prod["producer_casablanca"]
			}
			for range rounds {
				var err error
				switch op := rng.IntN(10); {
				case op < 4 || len(mine) == 0:
					n := 1 + rng.IntN(3)
					perm := rng.Perm(len(res))
					var rs []uuid.UUID
					for _, i := range perm[:n] {
						rs = append(rs, res[i])
					}
					start := f.at(10+rng.IntN(5), 8+rng.IntN(8))
					var b booking.Booking
					b, err = f.db.Book(f.ctx, f.actors[who], booking.BookingInput{ProductionID: prod, ResourceIDs: rs,
						Start: start, End: start.Add(time.Duration(1+rng.IntN(4)) * time.Hour), Status: booking.StatusHold})
					if err == nil {
						mine = append(mine, b.ID)
					}
				case op < 7:
					_, err = f.db.Act(f.ctx, f.actors[who], mine[rng.IntN(len(mine))], booking.ActionConfirm, booking.ActOptions{})
				case op < 9:
					_, err = f.db.Act(f.ctx, f.actors[who], mine[rng.IntN(len(mine))], booking.ActionRelease, booking.ActOptions{})
				default:
					start := f.at(10+rng.IntN(5), 8+rng.IntN(8))
					_, err = f.db.Reschedule(f.ctx, f.actors[who], mine[rng.IntN(len(mine))], start, start.Add(2*time.Hour), booking.ActOptions{})
				}
				switch booking.ErrorCode(err) {
				case booking.EINTERNAL:
					if err != nil {
						errs <- fmt.Errorf("%s: %w", who, err)
					}
				case booking.EUNAVAILABLE:
					errs <- fmt.Errorf("%s: %w", who, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := retries.get(postgres.RetryDeadlock); n != 0 {
		t.Errorf("%d deadlocks", n)
	}
	if n := retries.get(postgres.RetryExhausted); n != 0 {
		t.Errorf("%d transactions given up", n)
	}
	if events.Load() == 0 {
		t.Fatal("no changes happened")
	}
	t.Logf("changes %d, lock-order restarts %d", events.Load(), retries.get(postgres.RetryLockOrder))
}
