package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// Due notices (reminders, hold-expiry warnings) are rows the booking's transaction
// writes with their due time, not River jobs scheduled ahead: a confirmed booking
// inserts one River row (its confirmation notice) instead of three, and a booking
// moved or cancelled drops its rows instead of leaving jobs that wake to do nothing
// (docs/BENCHMARKS.md, issue 20). Every process that works jobs sweeps them: each
// DueSweepInterval it claims the due rows with FOR UPDATE SKIP LOCKED, inserts their
// jobs (ReminderArgs, HoldExpiringArgs: available at once) and deletes the rows in
// one transaction. So a notice is enqueued once whatever the number of sweepers, a
// crash before the commit leaves its rows for the next sweep, and the delivery's
// exactly-once effect is the workers' as before (DeliverOnce, the Message-ID).

// DueSweepInterval is the time between two sweeps of due notices by one process:
// a reminder is enqueued at most this late (the lateness target is 2 s at p99).
const DueSweepInterval = 500 * time.Millisecond

// DueSweepBatch is the most notices one sweep transaction enqueues; a full batch is
// followed by another sweep at once.
const DueSweepBatch = 500

// SweepDueOnce enqueues the notices due at now, a batch at a time, until none is left
// (or an error), and returns how many it enqueued.
func SweepDueOnce(ctx context.Context, store Store, client *river.Client[pgx.Tx], now time.Time) (int, error) {
	enqueue := EnqueueDue(client)
	total := 0
	for {
		n, err := store.SweepDue(ctx, now, DueSweepBatch, enqueue)
		total += n
		if err != nil || n < DueSweepBatch {
			return total, err
		}
	}
}

// RunDueSweeper sweeps due notices every interval until ctx ends. A failed sweep is
// logged and tried again at the next tick (its notices stay due).
func RunDueSweeper(ctx context.Context, deps *Deps, client *river.Client[pgx.Tx], interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := SweepDueOnce(ctx, deps.Store, client, deps.now()); err != nil && ctx.Err() == nil {
			logger := deps.Logger
			if logger == nil {
				logger = slog.Default()
			}
			logger.Warn("sweeping due notices", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
