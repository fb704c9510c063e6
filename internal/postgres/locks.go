package postgres

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/posthub/posthub/internal/booking"
)

// Lock discipline of booking changes
//
// Every booking change locks the rows of the resources it touches before it reads
// their bookings, so the changes to one resource are serial and hold ranks are computed
// on a settled queue. The exclusion constraint bookings_no_overlap stays the backstop
// for confirmed bookings whatever happens.
//
// A change does not always know up front which resources it will touch: confirming a
// hold supersedes the holds behind it, which may lie on further resources, and ending a
// hold may let challengers on yet other resources win. Locking those later, out of
// order, lets two changes take the same rows in opposite orders and deadlock — which
// PostgreSQL detects only after deadlock_timeout, with every booking of those resources
// queued behind. So a transaction waits for a resource lock only when the resource's id
// is above every id it already holds. A resource below that is taken with NOWAIT; if it
// is busy, the transaction is rolled back and run again, locking everything the
// previous attempt needed in one ordered statement at its first lock. Waits then always
// go up the id order, so the resource locks cannot form a cycle, and the set each
// attempt needs only grows, so the restarts end.

// lockSet is what one run of a booking transaction holds and has learned.
type lockSet struct {
	held map[uuid.UUID]bool
	max  uuid.UUID   // the highest id held
	hint []uuid.UUID // to lock at the first lock: what an earlier attempt needed
}

type lockSetKey struct{}

// lockOrderError restarts a transaction that needs a busy resource below its highest.
type lockOrderError struct {
	want []uuid.UUID
	err  error
}

func (e *lockOrderError) Error() string { return "resource lock out of order: " + e.err.Error() }
func (e *lockOrderError) Unwrap() error { return e.err }

// Attempts of one booking transaction: restarts for lock order, which only grow the
// lock set, and retries after a deadlock or serialization failure the discipline does
// not cover (rows other than resources), with a short back-off.
const (
	maxLockRestarts = 16
	maxTxRetries    = 4
)

// Reasons a booking transaction is run again, or given up, as DB.OnRetry hears them.
const (
	RetryLockOrder     = "lock_order"
	RetryDeadlock      = "deadlock"
	RetrySerialization = "serialization"
	RetryExhausted     = "exhausted"
)

// RetryReasons are all the reasons, for the metrics to export each from the start.
var RetryReasons = []string{RetryLockOrder, RetryDeadlock, RetrySerialization, RetryExhausted}

func (db *DB) retried(reason string) {
	if db.OnRetry != nil {
		db.OnRetry(reason)
	}
}

// inTxRetry runs a booking transaction under the lock discipline above. The function
// gets the context that carries the lock set; it may be run several times, so it must
// not keep state across runs. A transaction still failing for contention when the
// attempts are spent is answered EUNAVAILABLE: nothing was written and a retry is
// likely to succeed, so it is no conflict with the state. The transaction is one
// action: the events of all its changes reach the sink together at its end.
func (db *DB) inTxRetry(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	ls := &lockSet{}
	ctx = context.WithValue(ctx, lockSetKey{}, ls)
	var err error
	restarts, retries := 0, 0
	for {
		ls.held, ls.max = map[uuid.UUID]bool{}, uuid.Nil
		err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
			ctx, batch := withEventBatch(ctx, tx)
			if err := fn(ctx, tx); err != nil {
				return err
			}
			return db.flushEvents(ctx, batch)
		})
		var order *lockOrderError
		if errors.As(err, &order) {
			ls.hint = order.want
			if restarts++; restarts <= maxLockRestarts {
				db.retried(RetryLockOrder)
				continue
			}
			break
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "40P01" && pgErr.Code != "40001") {
			return formatError(err)
		}
		if pgErr.Code == "40P01" {
			db.retried(RetryDeadlock)
		} else {
			db.retried(RetrySerialization)
		}
		if retries++; retries >= maxTxRetries {
			break
		}
		select {
		case <-ctx.Done():
			return formatError(ctx.Err())
		case <-time.After(time.Duration(retries) * 5 * time.Millisecond):
		}
	}
	db.retried(RetryExhausted)
	return &booking.Error{Code: booking.EUNAVAILABLE, Message: "The resources are busy with other changes; retry shortly.", Err: err}
}

// lockResources locks the resources' rows under the discipline above and returns
// their sites. An inactive resource is refused; a missing one is absent from the map.
func lockResources(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) (map[uuid.UUID]uuid.UUID, error) {
	ls, _ := ctx.Value(lockSetKey{}).(*lockSet)
	if ls == nil {
		// Every booking transaction runs under inTxRetry, which carries the set; a
		// caller without it gets a set of its own (it cannot restart, so a busy lower
		// resource is its error).
		ls = &lockSet{held: map[uuid.UUID]bool{}}
	}
	if len(ls.held) == 0 && len(ls.hint) > 0 {
		all := append(slices.Clone(ls.hint), ids...)
		sites, err := lockRows(ctx, tx, all, "", ids)
		if err == nil {
			ls.take(all)
		}
		return sites, err
	}
	var below, above []uuid.UUID
	for _, id := range ids {
		if ls.held[id] || bytes.Compare(id[:], ls.max[:]) > 0 {
			above = append(above, id) // held already, or above: waiting is in order
		} else {
			below = append(below, id)
		}
	}
	sites := map[uuid.UUID]uuid.UUID{}
	if len(below) > 0 {
		s, err := lockRows(ctx, tx, below, " NOWAIT", ids)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "55P03" {
			want := append(ls.heldIDs(), ids...)
			return nil, &lockOrderError{want: want, err: err}
		}
		if err != nil {
			return nil, err
		}
		ls.take(below)
		for k, v := range s {
			sites[k] = v
		}
	}
	if len(above) > 0 {
		s, err := lockRows(ctx, tx, above, "", ids)
		if err != nil {
			return nil, err
		}
		ls.take(above)
		for k, v := range s {
			sites[k] = v
		}
	}
	return sites, nil
}

// lockRows locks the rows of ids in id order and returns the sites of those among
// asked, refusing any of them that is out of service.
func lockRows(ctx context.Context, tx pgx.Tx, ids []uuid.UUID, wait string, asked []uuid.UUID) (map[uuid.UUID]uuid.UUID, error) {
	rows, _ := tx.Query(ctx, `SELECT id, site_id, active FROM resources WHERE id = ANY($1) ORDER BY id FOR UPDATE`+wait, ids)
	sites := map[uuid.UUID]uuid.UUID{}
	var id, site uuid.UUID
	var active bool
	_, err := pgx.ForEachRow(rows, []any{&id, &site, &active}, func() error {
		if !slices.Contains(asked, id) {
			return nil
		}
		if !active {
			return &booking.Error{Code: booking.EUNPROCESSABLE, Message: "A resource is not in service.",
				Details: map[string]any{"resource_id": id}}
		}
		sites[id] = site
		return nil
	})
	return sites, err
}

func (ls *lockSet) take(ids []uuid.UUID) {
	for _, id := range ids {
		ls.held[id] = true
		if bytes.Compare(id[:], ls.max[:]) > 0 {
			ls.max = id
		}
	}
}

func (ls *lockSet) heldIDs() []uuid.UUID {
	out := make([]uuid.UUID, 0, len(ls.held))
	for id := range ls.held {
		out = append(out, id)
	}
	return out
}
