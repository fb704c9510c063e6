// Package jobs holds posthub's River job arguments and workers, and builds the River
// client that `serve`, `dev` and `worker` run. Jobs are inserted with InsertTx inside the
// transaction of the state change that causes them, so a job exists if and only if that
// change committed.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/posthub/posthub/internal/booking"
)

// The queues. Notifications are kept apart from maintenance so a backlog of one never
// delays the other.
const (
	QueueNotifications = "notifications"
	QueueReminders     = "reminders"
	QueueMaintenance   = "maintenance"
)

// Queues are all the queues, for the metrics to export each from the start.
var Queues = []string{QueueNotifications, QueueReminders, QueueMaintenance}

// How long a job may run, and how long after it started a job still marked running
// is taken for a dead worker's and run again.
const (
	JobTimeout           = 30 * time.Second
	RescueStuckJobsAfter = time.Minute
)

// FetchCooldown is the least time between two fetches of jobs by one queue.
const FetchCooldown = 20 * time.Millisecond

// Options configure the River client.
type Options struct {
	Logger *slog.Logger
	// Deps are the notification workers' collaborators; nil registers only the
	// maintenance workers (for tools that only insert).
	Deps *Deps
	// Digests reads the managers' daily digests; nil sends none.
	Digests func(ctx context.Context, now time.Time) ([]booking.Digest, error)
	// Passwords issues the secrets of password links as their mails go (with Deps).
	Passwords PasswordLinks
	// MaxWorkers is the number of jobs worked at once per queue; zero means the client
	// only inserts (an API process that leaves the work to `posthub worker`).
	MaxWorkers int
}

// NewClient builds the River client with every posthub worker registered.
func NewClient(pool *pgxpool.Pool, opts Options) (*river.Client[pgx.Tx], error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &TokenCleanupWorker{Pool: pool})
	if opts.Deps != nil {
		river.AddWorker(workers, &NoticeWorker{Deps: opts.Deps})
		river.AddWorker(workers, &NoticeGroupWorker{Deps: opts.Deps})
		river.AddWorker(workers, &FollowUpWorker{Deps: opts.Deps})
		river.AddWorker(workers, &ReminderWorker{Deps: opts.Deps})
		river.AddWorker(workers, &HoldExpiringWorker{Deps: opts.Deps})
		river.AddWorker(workers, &DueWorker{Deps: opts.Deps})
		river.AddWorker(workers, &TZRecheckWorker{Deps: opts.Deps})
		if opts.Digests != nil {
			river.AddWorker(workers, &DigestWorker{Deps: opts.Deps, Digests: opts.Digests})
		}
		if opts.Passwords != nil {
			river.AddWorker(workers, &PasswordMailWorker{Deps: opts.Deps, Links: opts.Passwords})
		}
	}
	cfg := &river.Config{
		Logger:  opts.Logger,
		Workers: workers,
		// Without Deps the notification workers are not registered here, yet the
		// client must still insert their jobs (the booking Sink), for another process
		// to work.
		SkipUnknownJobCheck: opts.Deps == nil,
		// Every job is short: one message (SMTP and webhooks time out at 20 s), or a
		// batch that keeps its progress (due-work, tz re-check, digests, each change in
		// a transaction of its own, deliveries recorded once), so a timed-out batch
		// retries where it stopped.
		JobTimeout: JobTimeout,
		// A job still running this long has a worker that died (a killed process):
		// run it again soon, not after River's default hour. Running a job twice is
		// safe, since each delivery happens once (DeliverOnce) and reminders are
		// unique per booking and offset.
		RescueStuckJobsAfter: RescueStuckJobsAfter,
		// A busy queue fetches at most MaxWorkers jobs per cooldown: River's default
		// of 100 ms capped 50 workers at 500 notices a second, under the booking peak's
		// emails on two cores (docs/BENCHMARKS.md, the notification pipeline). An idle
		// queue still waits for an insert's notification or the poll interval.
		FetchCooldown: FetchCooldown,
	}
	if opts.MaxWorkers > 0 {
		cfg.Queues = map[string]river.QueueConfig{
			QueueNotifications: {MaxWorkers: opts.MaxWorkers},
			QueueReminders:     {MaxWorkers: opts.MaxWorkers},
			QueueMaintenance:   {MaxWorkers: 2},
		}
		cfg.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return TokenCleanupArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true, ID: "token_cleanup"}),
		}
		if opts.Deps != nil {
			// The safety net behind the jobs scheduled at each expiry and deadline.
			cfg.PeriodicJobs = append(cfg.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
				func() (river.JobArgs, *river.InsertOpts) {
					return DueArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
				},
				&river.PeriodicJobOpts{RunOnStart: true, ID: "booking_due"}),
				// At every start (a new binary may carry a new tz release) and daily.
				river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour),
					func() (river.JobArgs, *river.InsertOpts) { return TZRecheckArgs{}, nil },
					&river.PeriodicJobOpts{RunOnStart: true, ID: "tz_recheck"}))
			if opts.Digests != nil {
				// 06:00 UTC: before the working day in Casablanca and Dakar.
				cfg.PeriodicJobs = append(cfg.PeriodicJobs, river.NewPeriodicJob(dailyAt{hour: 6},
					func() (river.JobArgs, *river.InsertOpts) {
						return DigestArgs{Day: time.Now().UTC().Format("2006-01-02")}, nil
					}, &river.PeriodicJobOpts{ID: "manager_digest"}))
			}
		}
	}
	c, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return c, nil
}

// TokenCleanupArgs asks for API tokens and password links that expired or were revoked
// long ago to be deleted (recent ones are kept so the audit trail can still name
// them), and for the idempotent answers older than booking.IdempotencyRetention. (The
// kind keeps its first name so jobs already queued still find their worker.)
type TokenCleanupArgs struct{}

// Kind names the job in River's tables.
func (TokenCleanupArgs) Kind() string { return "token_cleanup" }

// InsertOpts puts the job on the maintenance queue, once per hour at most.
func (TokenCleanupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

// TokenRetention is how long a dead token is kept after it expired or was revoked.
const TokenRetention = 90 * 24 * time.Hour

// TokenCleanupWorker deletes dead tokens and password links past TokenRetention,
// expired idempotent answers and booking change log entries past their retention.
type TokenCleanupWorker struct {
	river.WorkerDefaults[TokenCleanupArgs]
	Pool *pgxpool.Pool
	// Now is the clock, the one the storage stamps rows with; nil is time.Now. Tests
	// replace it.
	Now func() time.Time
}

// Work deletes the tokens and the answers.
func (w *TokenCleanupWorker) Work(ctx context.Context, job *river.Job[TokenCleanupArgs]) error {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	if _, err := w.Pool.Exec(ctx, `DELETE FROM api_tokens WHERE coalesce(revoked_at, expires_at) < $1`,
		now.Add(-TokenRetention)); err != nil {
		return err
	}
	// A password link is dead once expired (used or revoked ones expire too).
	if _, err := w.Pool.Exec(ctx, `DELETE FROM password_links WHERE expires_at < $1`, now.Add(-TokenRetention)); err != nil {
		return err
	}
	// The booking change log serves streams resuming within booking.ChangeRetention.
	if _, err := w.Pool.Exec(ctx, `DELETE FROM booking_changes WHERE at < $1`, now.Add(-booking.ChangeRetention)); err != nil {
		return err
	}
	// An answer may hold what its request created; none is kept past its retention
	// (idempotency_keys_created_idx makes this a range scan).
	_, err := w.Pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at <= $1`,
		now.Add(-booking.IdempotencyRetention))
	return err
}
