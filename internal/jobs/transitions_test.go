package jobs_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/notify"
)

// ev is an expected notice: an event of a booking.
type ev struct {
	kind booking.EventKind
	id   uuid.UUID
}

// expectEnqueued asserts that exactly the notices want, in that order of events, were
// enqueued since the last clearJobs, on their queue, and no follow-up job (the change
// scheduled the follow-ups itself); it returns the notices' args. The notices of one
// action about one production's bookings are one job (NoticeGroupArgs): they count
// here each as the notice it carries.
func (f *fixture) expectEnqueued(t *testing.T, want ...ev) []jobs.NoticeArgs {
	t.Helper()
	if len(want) == 0 {
		rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.NoticeArgs{}, nil)
		rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.NoticeGroupArgs{}, nil)
		rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.FollowUpArgs{}, nil)
		return nil
	}
	rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.FollowUpArgs{}, nil)
	var notices []jobs.NoticeArgs
	var got []ev
	ids := map[uuid.UUID]bool{}
	for _, r := range f.noticeJobs(t) {
		if r.Queue != jobs.QueueNotifications || r.State != rivertype.JobStateAvailable || r.MaxAttempts != 25 {
			t.Errorf("notice job %d (%s) on %s, %s, %d attempts; want %s, available, 25", r.ID, r.Kind, r.Queue, r.State, r.MaxAttempts, jobs.QueueNotifications)
		}
		var ns []jobs.NoticeArgs
		if r.Kind == (jobs.NoticeGroupArgs{}).Kind() {
			g := decodeArgs[jobs.NoticeGroupArgs](t, r)
			if g.EventID == uuid.Nil || len(g.Notices) < 2 || g.ProductionID == uuid.Nil {
				t.Errorf("notice group without id, production or several notices: %+v", g)
			}
			if ids[g.EventID] {
				t.Errorf("event id %s used twice", g.EventID)
			}
			ids[g.EventID] = true
			ns = g.Notices
		} else {
			ns = []jobs.NoticeArgs{decodeArgs[jobs.NoticeArgs](t, r)}
		}
		for _, a := range ns {
			if a.EventID == uuid.Nil || a.At.IsZero() {
				t.Errorf("notice without event id or time: %+v", a)
			}
			if ids[a.EventID] {
				t.Errorf("event id %s used twice", a.EventID)
			}
			ids[a.EventID] = true
			notices = append(notices, a)
			got = append(got, ev{a.Event, a.BookingID})
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("notices enqueued %v, want %v", got, want)
	}
	f.clearJobs(t)
	return notices
}

// noticeJobs are the notice jobs enqueued since the last clearJobs, single and
// grouped, in the order they were inserted.
func (f *fixture) noticeJobs(t *testing.T) []*rivertype.JobRow {
	t.Helper()
	rows, _ := f.db.Pool.Query(f.ctx, `SELECT id, kind, queue, state, max_attempts, args FROM river_job
		WHERE kind = ANY($1) ORDER BY id`, []string{(jobs.NoticeArgs{}).Kind(), (jobs.NoticeGroupArgs{}).Kind()})
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*rivertype.JobRow, error) {
		var j rivertype.JobRow
		var state string
		err := r.Scan(&j.ID, &j.Kind, &j.Queue, &state, &j.MaxAttempts, &j.EncodedArgs)
		j.State = rivertype.JobState(state)
		return &j, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTransitionsEnqueue(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	suite := f.suites[:1]
	var a, b, c, d, e booking.Booking
	step := func(name string, fn func(t *testing.T)) {
		if !t.Run(name, fn) {
			t.FailNow() // the steps build on each other
		}
	}

	step("hold placed", func(t *testing.T) {
		a = f.book(t, "producer", "producer", booking.StatusHold, suite, at(10, 9), at(10, 17))
		n := f.expectEnqueued(t, ev{booking.EventHoldPlaced, a.ID})
		if n[0].NewRank != 1 {
			t.Errorf("first hold's rank %d, want 1", n[0].NewRank)
		}
	})
	step("second hold ranks behind", func(t *testing.T) {
		b = f.book(t, "producer_other", "producer_other", booking.StatusHold, suite, at(10, 9), at(10, 17))
		// The hold ahead keeps its rank, so it is not told anything.
		n := f.expectEnqueued(t, ev{booking.EventHoldPlaced, b.ID})
		if n[0].NewRank != 2 || b.Rank != 2 {
			t.Errorf("second hold's rank %d (booking %d), want 2", n[0].NewRank, b.Rank)
		}
	})
	step("confirm with a hold ahead challenges it", func(t *testing.T) {
		f.act(t, "producer_other", b.ID, booking.ActionConfirm)
		n := f.expectEnqueued(t, ev{booking.EventChallengeOpened, b.ID}, ev{booking.EventChallengeReceived, a.ID})
		if n[0].ChallengeID == uuid.Nil || n[0].ChallengeID != n[1].ChallengeID {
			t.Errorf("challenge ids %s and %s", n[0].ChallengeID, n[1].ChallengeID)
		}
	})
	step("release lets the challenger win", func(t *testing.T) {
		f.act(t, "producer", a.ID, booking.ActionRelease)
		// One action: the releasing production hears of its release, the challenger's
		// of its three events about b in one notice.
		var kinds []string
		for _, r := range f.noticeJobs(t) {
			kinds = append(kinds, r.Kind)
		}
		if want := []string{(jobs.NoticeArgs{}).Kind(), (jobs.NoticeGroupArgs{}).Kind()}; !slices.Equal(kinds, want) {
			t.Errorf("notice jobs %v, want %v", kinds, want)
		}
		n := f.expectEnqueued(t, ev{booking.EventReleased, a.ID}, ev{booking.EventRankChanged, b.ID},
			ev{booking.EventConfirmed, b.ID}, ev{booking.EventChallengeWon, b.ID})
		if n[1].OldRank != 2 || n[1].NewRank != 1 {
			t.Errorf("rank_changed %d → %d, want 2 → 1", n[1].OldRank, n[1].NewRank)
		}
		if n[0].Reason != "released" {
			t.Errorf("released reason %q", n[0].Reason)
		}
	})
	step("decline", func(t *testing.T) {
		c = f.book(t, "producer_casablanca", "producer_casablanca", booking.StatusHold, f.suites[1:2], at(10, 9), at(10, 17))
		f.clearJobs(t)
		f.act(t, "manager", c.ID, booking.ActionDecline)
		f.expectEnqueued(t, ev{booking.EventDeclined, c.ID})
	})
	step("reschedule", func(t *testing.T) {
		if _, err := f.db.Reschedule(f.ctx, f.actors["producer_other"], b.ID, at(11, 9), at(11, 17), booking.ActOptions{Reason: "grader ill"}); err != nil {
			t.Fatal(err)
		}
		n := f.expectEnqueued(t, ev{booking.EventRescheduled, b.ID})
		if n[0].Reason != "grader ill" {
			t.Errorf("reason %q", n[0].Reason)
		}
	})
	step("cancel", func(t *testing.T) {
		f.act(t, "producer_other", b.ID, booking.ActionCancel)
		f.expectEnqueued(t, ev{booking.EventCancelled, b.ID})
	})
	step("expiry", func(t *testing.T) {
		d = f.book(t, "producer", "producer", booking.StatusHold, f.suites[2:3], at(12, 9), at(12, 17))
		f.clearJobs(t)
		res, err := f.db.ProcessDue(f.ctx, frozenNow.Add(7*24*time.Hour-time.Second))
		if err != nil || res != (booking.DueResult{}) {
			t.Fatalf("before expiry: %+v %v", res, err)
		}
		f.expectEnqueued(t)
		res, err = f.db.ProcessDue(f.ctx, frozenNow.Add(7*24*time.Hour))
		if err != nil || res.Expired != 1 {
			t.Fatalf("at expiry: %+v %v", res, err)
		}
		f.expectEnqueued(t, ev{booking.EventExpired, d.ID})
	})
	step("manager confirms directly", func(t *testing.T) {
		e = f.book(t, "manager", "producer", booking.StatusConfirmed, suite, at(13, 9), at(13, 17))
		f.expectEnqueued(t, ev{booking.EventConfirmed, e.ID})
	})
	step("failed transitions enqueue nothing", func(t *testing.T) {
		_, err := f.db.Book(f.ctx, f.actors["producer_other"], booking.BookingInput{ProductionID: f.prod["producer_other"].ID,
			ResourceIDs: suite, Start: at(13, 10), End: at(13, 12), Status: booking.StatusConfirmed})
		if booking.ErrorCode(err) != booking.EFORBIDDEN {
			t.Fatalf("producer booking confirmed directly: %v", err)
		}
		// A manager's confirmed booking over another: 409.
		_, err = f.db.Book(f.ctx, f.actors["manager"], booking.BookingInput{ProductionID: f.prod["producer_other"].ID,
			ResourceIDs: suite, Start: at(13, 10), End: at(13, 12), Status: booking.StatusConfirmed})
		if booking.ErrorCode(err) != booking.ECONFLICT {
			t.Fatalf("overlapping confirmed booking: %v", err)
		}
		if _, err := f.db.Act(f.ctx, f.actors["producer"], a.ID, booking.ActionCancel, booking.ActOptions{}); booking.ErrorCode(err) != booking.ECONFLICT {
			t.Fatalf("cancelling a released hold: %v", err)
		}
		stale := e.Version - 1
		if _, err := f.db.Act(f.ctx, f.actors["manager"], e.ID, booking.ActionCancel, booking.ActOptions{IfMatch: &stale}); booking.ErrorCode(err) != booking.EPRECONDITION {
			t.Fatalf("cancelling with a stale version: %v", err)
		}
		// To a Monday's working hours, so that only the hold's state refuses it.
		if _, err := f.db.Reschedule(f.ctx, f.actors["producer"], d.ID, at(15, 9), at(15, 17), booking.ActOptions{}); booking.ErrorCode(err) != booking.ECONFLICT {
			t.Fatalf("rescheduling an expired hold: %v", err)
		}
		if _, err := f.db.Act(f.ctx, f.actors["producer_other"], e.ID, booking.ActionCancel, booking.ActOptions{}); booking.ErrorCode(err) != booking.ENOTFOUND {
			t.Fatalf("cancelling another organisation's booking: %v", err)
		}
		f.expectEnqueued(t)
	})
}

// TestSinkEnqueuesInTheCallersTransaction drives the Sink inside a transaction the
// test controls: the jobs are visible in it, and gone when it rolls back.
func TestSinkEnqueuesInTheCallersTransaction(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	sink := jobs.Sink(f.client)
	x, y := uuid.New(), uuid.New()
	events := []booking.Event{{Kind: booking.EventReleased, BookingID: x, At: frozenNow, Reason: "released"},
		{Kind: booking.EventRankChanged, BookingID: y, At: frozenNow, OldRank: 2, NewRank: 1},
		{Kind: booking.EventConfirmed, BookingID: y, At: frozenNow}}
	tx, err := f.db.Pool.Begin(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(f.ctx) //nolint:errcheck
	if err := sink(f.ctx, tx, events); err != nil {
		t.Fatal(err)
	}
	// A notice per event, then a follow-up per booking acted on (the rank change alone
	// would not call for one; y's confirmation does).
	rows := rivertest.RequireManyInsertedTx[*riverpgxv5.Driver](f.ctx, t, tx, []rivertest.ExpectedJob{
		{Args: jobs.NoticeArgs{}}, {Args: jobs.NoticeArgs{}}, {Args: jobs.NoticeArgs{}}, {Args: jobs.FollowUpArgs{}}, {Args: jobs.FollowUpArgs{}}})
	if n := decodeArgs[jobs.NoticeArgs](t, rows[1]); n.Event != booking.EventRankChanged || n.BookingID != y || n.OldRank != 2 || n.NewRank != 1 {
		t.Errorf("rank notice %+v", n)
	}
	followed := []uuid.UUID{decodeArgs[jobs.FollowUpArgs](t, rows[3]).BookingID, decodeArgs[jobs.FollowUpArgs](t, rows[4]).BookingID}
	if !slices.Contains(followed, x) || !slices.Contains(followed, y) {
		t.Errorf("follow-ups for %v, want x and y", followed)
	}
	// Outside the transaction nothing is visible yet; after rollback nothing exists.
	rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.NoticeArgs{}, nil)
	if err := tx.Rollback(f.ctx); err != nil {
		t.Fatal(err)
	}
	rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.NoticeArgs{}, nil)
	rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.FollowUpArgs{}, nil)
	// No events, no jobs, no error.
	if err := pgx.BeginFunc(f.ctx, f.db.Pool, func(tx pgx.Tx) error { return sink(f.ctx, tx, nil) }); err != nil {
		t.Fatal(err)
	}
}

// A site policy naming one reminder offset twice (as stored before offsets were kept
// once each) still schedules one reminder, and the booking's transaction does not fail
// on the due notices' key.
func TestRepeatedOffsetScheduledOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	if _, err := f.db.Pool.Exec(f.ctx, `UPDATE site_policies SET reminder_offsets_seconds = '{3600,3600}'
		WHERE site_id = (SELECT site_id FROM resources WHERE id = $1)`, f.suites[0]); err != nil {
		t.Fatal(err)
	}
	start := at(10, 10)
	b := f.book(t, "manager", "producer", booking.StatusConfirmed, f.suites[:1], start, start.Add(time.Hour))
	if due := f.dueNotices(t, b.ID); len(due) != 1 || due[0].Before != time.Hour || !due[0].Due.Equal(start.Add(-time.Hour)) {
		t.Fatalf("due notices %+v, want one reminder an hour before", due)
	}
	// The same through a follow-up job.
	f.followUp(t, f.deps(&memMailer{}, notify.WebhookSender{}), b.ID)
	if due := f.dueNotices(t, b.ID); len(due) != 1 || due[0].Before != time.Hour {
		t.Fatalf("due notices after a follow-up %+v, want one reminder an hour before", due)
	}
}

// News of another booking's change (a rank moved, a challenge received) schedules no
// follow-up for the booking it tells of.
func TestSinkNoFollowUpForNewsOfOtherChanges(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	sink := jobs.Sink(f.client)
	id := uuid.New()
	if err := pgx.BeginFunc(f.ctx, f.db.Pool, func(tx pgx.Tx) error {
		return sink(f.ctx, tx, []booking.Event{{Kind: booking.EventRankChanged, BookingID: id, At: frozenNow, OldRank: 2, NewRank: 1},
			{Kind: booking.EventChallengeReceived, BookingID: id, At: frozenNow, ChallengeID: uuid.New()}})
	}); err != nil {
		t.Fatal(err)
	}
	rivertest.RequireManyInserted(f.ctx, t, f.driver, []rivertest.ExpectedJob{{Args: jobs.NoticeArgs{}}, {Args: jobs.NoticeArgs{}}})
	rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.FollowUpArgs{}, nil)
}
