package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// OnTx returns a DB whose changes all run inside tx, each as a savepoint of it, so
// that a series of domain changes (each validated, audited and its errors mapped as
// on its own) commits or rolls back with the caller's transaction: the declarative
// catalogue applies a whole file so, and the demo data is loaded so. Its clock is
// time.Now. It has no pool: only changes and the reads that take the transaction
// (CatalogueSnapshot, SitePolicy) may be used on it; the caller ends tx.
func OnTx(tx pgx.Tx) *DB { return &DB{Now: time.Now, tx: tx} }

// InOneTx runs fn with a DB like db (the same clock and sinks) whose changes all run
// in one transaction, a savepoint of db's own when db is itself bound to one
// (OnTx): the transaction commits when fn returns nil and rolls back otherwise, so
// either every change fn makes is kept or none is.
func (db *DB) InOneTx(ctx context.Context, fn func(db *DB) error) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		// The same clock and sinks; no pool, so that nothing reads beside the transaction.
		bound := *db
		bound.Pool, bound.tx = nil, tx
		return fn(&bound)
	})
}

// ReadSnapshot runs fn with a DB bound to one read-only transaction that sees the
// database as it was when the transaction began (REPEATABLE READ), so that several
// reads agree with one another; on a DB already bound to a transaction, in that one.
func (db *DB) ReadSnapshot(ctx context.Context, fn func(db *DB) error) error {
	if db.tx != nil {
		return fn(db)
	}
	tx, err := db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return formatError(err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	bound := *db
	bound.Pool, bound.tx = nil, tx
	return formatError(fn(&bound))
}

// reader is what reads that may run on a bound DB go through: its transaction, or
// else the pool.
func (db *DB) reader() querier {
	if db.tx != nil {
		return db.tx
	}
	return db.Pool
}
