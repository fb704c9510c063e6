package postgres_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/postgres"
)

// An idempotent answer is replayed for booking.IdempotencyRetention; after that the key
// is claimed anew, even for another request, without waiting for the cleanup job.
func TestIdempotentAnswersExpire(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	user := f.actors["producer"].UserID
	first, other := []byte("first request"), []byte("another request")
	if got, err := f.db.BeginIdempotent(f.ctx, user, "k", first); err != nil || got != nil {
		t.Fatalf("first claim: %+v %v", got, err)
	}
	if err := f.db.CompleteIdempotent(f.ctx, user, "k", booking.StoredResponse{Status: 201, Body: []byte(`{"id":"1"}`)}); err != nil {
		t.Fatal(err)
	}
	start := f.now
	f.now = start.Add(booking.IdempotencyRetention - time.Second)
	if got, err := f.db.BeginIdempotent(f.ctx, user, "k", first); err != nil || got == nil || string(got.Body) != `{"id":"1"}` {
		t.Fatalf("a retry within the retention: %+v %v", got, err)
	}
	if _, err := f.db.BeginIdempotent(f.ctx, user, "k", other); booking.ErrorCode(err) != booking.EUNPROCESSABLE {
		t.Fatalf("another request within the retention: %v", err)
	}
	f.now = start.Add(booking.IdempotencyRetention)
	if got, err := f.db.BeginIdempotent(f.ctx, user, "k", other); err != nil || got != nil {
		t.Fatalf("the key after the retention should be claimed anew: %+v %v", got, err)
	}
	if err := f.db.CompleteIdempotent(f.ctx, user, "k", booking.StoredResponse{Status: 201, Body: []byte(`{"id":"2"}`)}); err != nil {
		t.Fatal(err)
	}
	if got, err := f.db.BeginIdempotent(f.ctx, user, "k", other); err != nil || got == nil || string(got.Body) != `{"id":"2"}` {
		t.Fatalf("the new answer: %+v %v", got, err)
	}
}

// Creations racing for a user's last free token slots take exactly as many as there
// are: the user's row lock counts them one after another.
func TestTokenCapHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.actors["producer_other"] // holds one active token already
	const tries = 3 * postgres.MaxActiveTokens
	var wg sync.WaitGroup
	var mu sync.Mutex
	made, refused := 0, 0
	for range tries {
		wg.Go(func() {
			_, _, err := f.db.CreateToken(f.ctx, a, a.UserID, "race", 0)
			mu.Lock()
			defer mu.Unlock()
			var be *booking.Error
			switch {
			case err == nil:
				made++
			case booking.ErrorCode(err) == booking.ECONFLICT && errors.As(err, &be) && be.Details["reason"] == booking.ReasonTokenLimit:
				refused++
			default:
				t.Errorf("creating a token: %v", err)
			}
		})
	}
	wg.Wait()
	if made != postgres.MaxActiveTokens-1 || refused != tries-made {
		t.Fatalf("%d made and %d refused of %d, want %d made", made, refused, tries, postgres.MaxActiveTokens-1)
	}
	// The CLI (the System actor) is exempt.
	if _, _, err := f.db.CreateToken(f.ctx, booking.System, a.UserID, "ops", 0); err != nil {
		t.Fatalf("the CLI at the cap: %v", err)
	}
}
