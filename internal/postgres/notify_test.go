package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/dbtest"
	"github.com/posthub/posthub/internal/postgres"
)

// DeliverOnce claims a delivery, sends with no transaction open, and records it: a
// second attempt skips it, one during the send is told to retry, a failed send frees
// the claim, and a claim left past its lease by a dead worker is taken over.
func TestDeliverOnce(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	key := booking.DeliveryKey{EventID: uuid.New(), RecipientID: uuid.New(), Channel: "email", Kind: "confirmed"}
	status := func() string {
		var s string
		if err := db.Pool.QueryRow(ctx, `SELECT coalesce((SELECT status FROM deliveries WHERE event_id = $1), 'none')`, key.EventID).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	// A failed send leaves nothing behind.
	boom := errors.New("smtp down")
	if done, err := db.DeliverOnce(ctx, key, func(context.Context) error { return boom }); !errors.Is(err, boom) || done {
		t.Fatalf("failed send: %v %v", done, err)
	}
	if s := status(); s != "none" {
		t.Fatalf("after a failed send the delivery is %s", s)
	}

	// While one attempt sends, a second is told to retry and sends nothing; no
	// transaction is open meanwhile.
	sending, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := db.DeliverOnce(ctx, key, func(context.Context) error {
			close(sending)
			<-release
			return nil
		})
		first <- err
	}()
	<-sending
	var open int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND state LIKE 'idle in transaction%'`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if open != 0 {
		t.Errorf("%d transactions open during the send", open)
	}
	if s := status(); s != "sending" {
		t.Errorf("during the send the delivery is %s", s)
	}
	sentTwice := false
	_, err := db.DeliverOnce(ctx, key, func(context.Context) error { sentTwice = true; return nil })
	var inFlight *booking.DeliveryInFlightError
	if !errors.As(err, &inFlight) || sentTwice {
		t.Errorf("concurrent attempt: %v, sent %t", err, sentTwice)
	} else if left := time.Until(inFlight.LeaseEnds); left <= 0 || left > postgres.DeliveryLease {
		t.Errorf("the claim's lease ends in %s", left)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if s := status(); s != "delivered" {
		t.Fatalf("after the send the delivery is %s", s)
	}
	if done, err := db.DeliverOnce(ctx, key, func(context.Context) error { sentTwice = true; return nil }); err != nil || done || sentTwice {
		t.Fatalf("second attempt: %v %v, sent %t", done, err, sentTwice)
	}

	// A claim committed while this attempt's statement waited on it (its snapshot
	// older than the claim) is another worker's, not a delivery made.
	race := booking.DeliveryKey{EventID: uuid.New(), RecipientID: key.RecipientID, Channel: "email", Kind: "confirmed"}
	other, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(ctx, `INSERT INTO deliveries (event_id, recipient_id, channel, kind, status, claimed_at)
		VALUES ($1, $2, 'email', 'confirmed', 'sending', now())`, race.EventID, race.RecipientID); err != nil {
		t.Fatal(err)
	}
	raced := make(chan error, 1)
	go func() {
		_, err := db.DeliverOnce(ctx, race, func(context.Context) error { sentTwice = true; return nil })
		raced <- err
	}()
	waitForLockWaiter(t, db) // the second claim waits for the first
	if err := other.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-raced; !errors.As(err, &inFlight) || sentTwice {
		t.Fatalf("a claim committed during the attempt: %v, sent %t; want in flight", err, sentTwice)
	}

	// A dead worker's claim lapses after the lease and is taken over.
	dead := booking.DeliveryKey{EventID: uuid.New(), RecipientID: key.RecipientID, Channel: "webhook", Kind: "confirmed"}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO deliveries (event_id, recipient_id, channel, kind, status, claimed_at)
		VALUES ($1, $2, 'webhook', 'confirmed', 'sending', $3)`, dead.EventID, dead.RecipientID, time.Now().Add(-10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeliverOnce(ctx, dead, func(context.Context) error { sentTwice = true; return nil }); !errors.As(err, &inFlight) || sentTwice {
		t.Fatalf("a fresh claim was taken over: %v, sent %t", err, sentTwice)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE deliveries SET claimed_at = claimed_at - make_interval(secs => $2) WHERE event_id = $1`,
		dead.EventID, postgres.DeliveryLease.Seconds()); err != nil {
		t.Fatal(err)
	}
	sent := false
	if done, err := db.DeliverOnce(ctx, dead, func(context.Context) error { sent = true; return nil }); err != nil || !done || !sent {
		t.Fatalf("a lapsed claim was not taken over: %v %v, sent %t", done, err, sent)
	}
}

// A token's last use is written at most once a minute, so authenticating is a read.
func TestTokenLastUseKeptToTheMinute(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	info, tok, err := f.db.CreateToken(f.ctx, booking.System, f.actors["producer"].UserID, "minute", 0)
	if err != nil {
		t.Fatal(err)
	}
	lastUse := func() time.Time {
		var at time.Time
		if err := f.db.Pool.QueryRow(f.ctx, `SELECT last_used_at FROM api_tokens WHERE id = $1`, info.ID).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	auth := func() {
		if _, err := f.db.AuthenticateToken(f.ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	auth()
	if got := lastUse(); !got.Equal(f.now) {
		t.Fatalf("first use %s, want %s", got, f.now)
	}
	first := f.now
	f.now = f.now.Add(59 * time.Second)
	auth()
	if got := lastUse(); !got.Equal(first) {
		t.Errorf("a use 59 s later wrote %s", got)
	}
	f.now = f.now.Add(2 * time.Second)
	auth()
	if got := lastUse(); !got.Equal(f.now) {
		t.Errorf("a use 61 s after the first: %s, want %s", got, f.now)
	}
}

// A booking on a provisional holiday of its site's country (Eid al-Fitr, 10 and 11
// March 2027 in Morocco) carries a warning per such day its site-local interval
// touches; one ending at local midnight does not touch the next day. (Closed time the
// bookings reserve is warned about too: TestWorkingTimeRefusalsAndWarnings.)
func TestProvisionalHolidayWarnings(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	local := func(s string) time.Time {
		at, err := postgres.ParseLocal("Africa/Casablanca", s)
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	cases := []struct {
		start, end string
		want       []string
	}{
		{"2027-03-09T14:00:00", "2027-03-10T00:00:00", nil},
		{"2027-03-09T14:00:00", "2027-03-10T00:01:00", []string{"2027-03-10"}},
		{"2027-03-10T10:00:00", "2027-03-11T10:00:00", []string{"2027-03-10", "2027-03-11"}},
		{"2027-03-12T10:00:00", "2027-03-12T18:00:00", nil},
	}
	for i, c := range cases {
		b := f.hold(t, "producer", f.resources[i:i+1], local(c.start), local(c.end))
		var provisional []string
		for _, w := range b.Warnings {
			if strings.Contains(w, "holiday") {
				provisional = append(provisional, w)
			}
		}
		if len(provisional) != len(c.want) {
			t.Errorf("%s – %s: holiday warnings %q, want days %v", c.start, c.end, provisional, c.want)
			continue
		}
		for j, day := range c.want {
			if !strings.HasPrefix(provisional[j], "provisional holiday "+day+" (Eid al-Fitr") {
				t.Errorf("%s – %s: warning %q, want one for %s", c.start, c.end, provisional[j], day)
			}
		}
	}
}

// A policy's reminder offsets are kept to the second, once each.
func TestReminderOffsetsKeptOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	site, err := f.db.SitePolicy(f.ctx, f.get(t, f.hold(t, "producer", f.resources[:1], f.at(10, 9), f.at(10, 17)).ID).SiteID)
	if err != nil {
		t.Fatal(err)
	}
	site.ReminderOffsets = []booking.Duration{booking.Duration(time.Hour), booking.Duration(time.Hour + 400*time.Millisecond), booking.Duration(24 * time.Hour)}
	got, err := f.db.UpdateSitePolicy(f.ctx, f.actors["admin"], site)
	if err != nil {
		t.Fatal(err)
	}
	if want := []booking.Duration{booking.Duration(time.Hour), booking.Duration(24 * time.Hour)}; !slices.Equal(got.ReminderOffsets, want) {
		t.Errorf("offsets %v, want %v", got.ReminderOffsets, want)
	}
}
