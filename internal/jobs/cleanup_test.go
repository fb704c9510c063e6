package jobs_test

import (
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/jobs"
)

// The cleanup job deletes the idempotent answers older than their retention (they may
// hold what their request created) and the tokens dead for longer than TokenRetention,
// by the clock the storage stamps them with.
func TestCleanupPurgesExpiredAnswersAndDeadTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	user := f.users["producer"]
	answer := func(key string, at time.Time) {
		t.Helper()
		f.setNow(at)
		if got, err := f.db.BeginIdempotent(f.ctx, user, key, []byte(key)); err != nil || got != nil {
			t.Fatalf("claiming %s: %+v %v", key, got, err)
		}
		if err := f.db.CompleteIdempotent(f.ctx, user, key, booking.StoredResponse{Status: 201, Body: []byte(`{"id":"x"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	answer("old", frozenNow.Add(-booking.IdempotencyRetention-time.Minute))
	answer("recent", frozenNow.Add(-booking.IdempotencyRetention+time.Minute))
	f.setNow(frozenNow)
	dead := func(name string, revoked time.Time) {
		t.Helper()
		info, _, err := f.db.CreateToken(f.ctx, booking.System, user, name, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.Pool.Exec(f.ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE id = $1`, info.ID, revoked); err != nil {
			t.Fatal(err)
		}
	}
	dead("long dead", frozenNow.Add(-jobs.TokenRetention-time.Hour))
	dead("lately revoked", frozenNow.Add(-jobs.TokenRetention+time.Hour))

	for _, c := range []struct {
		kind string
		at   time.Time
	}{{"old", frozenNow.Add(-booking.ChangeRetention - time.Minute)}, {"recent", frozenNow.Add(-booking.ChangeRetention + time.Minute)}} {
		if _, err := f.db.Pool.Exec(f.ctx, `INSERT INTO booking_changes (at, booking_id, kind) VALUES ($1, gen_random_uuid(), $2)`, c.at, c.kind); err != nil {
			t.Fatal(err)
		}
	}

	w := &jobs.TokenCleanupWorker{Pool: f.db.Pool, Now: f.clock}
	if err := w.Work(f.ctx, &river.Job[jobs.TokenCleanupArgs]{}); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, `SELECT count(*) FROM idempotency_keys WHERE key = 'old'`); n != 0 {
		t.Error("an answer older than the retention was kept")
	}
	if n := f.count(t, `SELECT count(*) FROM idempotency_keys WHERE key = 'recent'`); n != 1 {
		t.Error("an answer within the retention was deleted")
	}
	if n := f.count(t, `SELECT count(*) FROM booking_changes WHERE kind = 'old'`); n != 0 {
		t.Error("a change log entry older than its retention was kept")
	}
	if n := f.count(t, `SELECT count(*) FROM booking_changes WHERE kind = 'recent'`); n != 1 {
		t.Error("a change log entry within its retention was deleted")
	}
	if n := f.count(t, `SELECT count(*) FROM api_tokens WHERE name = 'long dead'`); n != 0 {
		t.Error("a token dead for longer than TokenRetention was kept")
	}
	if n := f.count(t, `SELECT count(*) FROM api_tokens WHERE name = 'lately revoked'`); n != 1 {
		t.Error("a token revoked within TokenRetention was deleted")
	}
}

// Password links are deleted once expired for longer than TokenRetention.
func TestCleanupPurgesDeadPasswordLinks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.db.OnPasswordLink = jobs.PasswordLinkSink(f.client)
	invite := func(at time.Time) {
		t.Helper()
		f.setNow(at)
		if _, err := f.db.InviteUser(f.ctx, f.actors["admin"], f.users["producer"]); err != nil {
			t.Fatal(err)
		}
	}
	invite(frozenNow.Add(-jobs.TokenRetention - booking.InviteLinkTTL - time.Hour)) // expired long ago
	invite(frozenNow.Add(-jobs.TokenRetention - booking.InviteLinkTTL + time.Hour)) // expired lately
	f.setNow(frozenNow)
	w := &jobs.TokenCleanupWorker{Pool: f.db.Pool, Now: f.clock}
	if err := w.Work(f.ctx, &river.Job[jobs.TokenCleanupArgs]{}); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, `SELECT count(*) FROM password_links`); n != 1 {
		t.Fatalf("%d password links left, want the one expired within TokenRetention", n)
	}
}
