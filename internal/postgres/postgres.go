// Package postgres implements the booking interfaces on PostgreSQL with pgx. Exported
// methods open one transaction and compose unexported helpers inside it; driver errors
// become domain codes in one place, formatError.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/migrations"
)

// DB is posthub's storage: a pgx pool and a clock.
type DB struct {
	Pool *pgxpool.Pool
	// Now is the clock; tests replace it to freeze time.
	Now func() time.Time
	// OnEvents, when set, receives every booking change's events inside its
	// transaction (the notifications enqueue their jobs there).
	OnEvents EventSink
	// OnPasswordLink queues the mail of a new password link inside the transaction that
	// made it (jobs.PasswordLinkSink). Without it no link is made: EUNAVAILABLE.
	OnPasswordLink func(ctx context.Context, tx pgx.Tx, link booking.PasswordLink) error
	// OnRetry, when set, hears each booking transaction run again (lock_order,
	// deadlock, serialization) or given up for contention (exhausted).
	OnRetry func(reason string)
	// tx, when set (OnTx, InOneTx), is the transaction every change of this DB runs
	// in, each as a savepoint of it; whoever began tx commits or rolls it back.
	tx pgx.Tx
}

// Open connects to the database at url and checks that it answers.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, booking.Errorf(booking.EINVALID, "malformed database URL")
	}
	if cfg.MaxConns < 16 {
		cfg.MaxConns = 16
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	cfg.ConnConfig.RuntimeParams["application_name"] = "posthub"
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		registerUUID(c.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL at %s: %w", cfg.ConnConfig.Host, err)
	}
	return &DB{Pool: pool, Now: time.Now}, nil
}

// Close releases the pool.
func (db *DB) Close() { db.Pool.Close() }

func (db *DB) now() time.Time { return db.Now().UTC() }

// MigrationStatus says how far the schema is from the binary's migrations.
type MigrationStatus struct {
	AppCurrent, AppLatest     int64
	RiverCurrent, RiverLatest int
}

// Current reports whether every migration the binary carries has been applied.
func (s MigrationStatus) Current() bool {
	return s.AppCurrent >= s.AppLatest && s.RiverCurrent >= s.RiverLatest
}

func (db *DB) gooseProvider() (*goose.Provider, *sql.DB, error) {
	sqlDB := stdlib.OpenDBFromPool(db.Pool)
	sub, err := fs.Sub(migrations.FS, ".")
	if err != nil {
		return nil, nil, err
	}
	// The session locker keeps replicas that start together from racing.
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, sub, goose.WithSessionLocker(locker))
	if err != nil {
		sqlDB.Close()
		return nil, nil, err
	}
	return p, sqlDB, nil
}

func (db *DB) riverMigrator() (*rivermigrate.Migrator[pgx.Tx], error) {
	return rivermigrate.New(riverpgxv5.New(db.Pool), nil)
}

// Migrate applies River's migrations and then the application's.
func (db *DB) Migrate(ctx context.Context) error {
	rm, err := db.riverMigrator()
	if err != nil {
		return err
	}
	if _, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	p, sqlDB, err := db.gooseProvider()
	if err != nil {
		return err
	}
	defer sqlDB.Close()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("app migrations: %w", err)
	}
	return nil
}

// MigrationStatus reads the applied versions of both migration sets.
func (db *DB) MigrationStatus(ctx context.Context) (MigrationStatus, error) {
	var st MigrationStatus
	p, sqlDB, err := db.gooseProvider()
	if err != nil {
		return st, err
	}
	defer sqlDB.Close()
	srcs := p.ListSources()
	if len(srcs) > 0 {
		st.AppLatest = srcs[len(srcs)-1].Version
	}
	if st.AppCurrent, err = p.GetDBVersion(ctx); err != nil {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42P01" { // no goose table yet
			return st, err
		}
	}
	rm, err := db.riverMigrator()
	if err != nil {
		return st, err
	}
	all := rm.AllVersions()
	if len(all) > 0 {
		st.RiverLatest = all[len(all)-1].Version
	}
	existing, err := rm.ExistingVersions(ctx)
	if err != nil {
		return st, err
	}
	if len(existing) > 0 {
		st.RiverCurrent = existing[len(existing)-1].Version
	}
	return st, nil
}

// Ready reports whether the database answers and its schema is current, for /readyz.
func (db *DB) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := db.Pool.Ping(ctx); err != nil {
		return booking.Errorf(booking.EUNAVAILABLE, "database unreachable")
	}
	st, err := db.MigrationStatus(ctx)
	if err != nil {
		return booking.Errorf(booking.EUNAVAILABLE, "migration status unknown")
	}
	if !st.Current() {
		return booking.Errorf(booking.EUNAVAILABLE, "migrations pending")
	}
	return nil
}

// inTx runs fn in a transaction (a savepoint of db.tx when db has one), committing
// when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if db.tx != nil {
		return formatError(pgx.BeginFunc(ctx, db.tx, fn))
	}
	err := pgx.BeginFunc(ctx, db.Pool, fn)
	return formatError(err)
}

// formatError is the one place that turns driver errors into domain codes. Errors that
// are already domain errors pass through.
func formatError(err error) error {
	if err == nil {
		return nil
	}
	var de *booking.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &booking.Error{Code: booking.ENOTFOUND, Message: "Not found.", Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			if field, ok := uniqueFields[pgErr.ConstraintName]; ok {
				return &booking.Error{Code: booking.ECONFLICT, Message: field + " is already taken.", Details: map[string]any{"field": field}, Err: err}
			}
			return &booking.Error{Code: booking.ECONFLICT, Message: "The change conflicts with the current state.", Err: err}
		case "23P01":
			return &booking.Error{Code: booking.ECONFLICT, Message: "The change conflicts with the current state.", Err: err}
		case "40P01", "40001", "55P03":
			// Contention, not the state: nothing was written and a retry may succeed.
			return &booking.Error{Code: booking.EUNAVAILABLE, Message: "The data is busy with other changes; retry shortly.", Err: err}
		case "23503":
			return &booking.Error{Code: booking.ENOTFOUND, Message: "A referenced object does not exist.", Err: err}
		case "23514", "22P02", "22007", "22008", "22023", "23502", "22001":
			return &booking.Error{Code: booking.EINVALID, Message: "The input breaks a rule of the data.", Err: err}
		}
		// Class 57 (operator intervention: a restart, a shutdown) and class 08
		// (connection exceptions) mean the database is going away: retry later.
		if strings.HasPrefix(pgErr.Code, "57") || strings.HasPrefix(pgErr.Code, "08") {
			return &booking.Error{Code: booking.EUNAVAILABLE, Message: "The database is unavailable; retry later.", Err: err}
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &booking.Error{Code: booking.EUNAVAILABLE, Message: "The request took too long.", Err: err}
	}
	if pgconn.SafeToRetry(err) || isConnError(err) {
		return &booking.Error{Code: booking.EUNAVAILABLE, Message: "The database is unavailable; retry later.", Err: err}
	}
	return err
}

// uniqueFields names the field each unique constraint a caller can run into guards, so
// its conflict says which value is taken.
var uniqueFields = map[string]string{
	"sites_slug_key":             "slug",
	"organisations_slug_key":     "slug",
	"resources_site_id_name_key": "name",
	"users_email_idx":            "email",
}

// isConnError reports a connection that could not be made, or that broke under a
// statement or a commit (the server died or failed over: unexpected EOF, a reset, a
// closed conn). pgx closes such a connection and the pool replaces it; the caller is
// told to retry (503), never 500 — a commit whose answer was lost may have been made.
func isConnError(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed)
}
