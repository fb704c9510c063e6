package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
)

var _ booking.Auditor = (*DB)(nil)

// auditEvent is one audit row to write, inside the transaction of the change it records.
type auditEvent struct {
	Action     string // noun.verb, e.g. token.revoked
	ObjectType string
	ObjectID   string
	Before     any
	After      any
}

// audit appends ev to the audit log in tx. An actor with a zero UserID (posthub itself,
// or an anonymous failed login) is recorded without an actor id.
func audit(ctx context.Context, tx pgx.Tx, a booking.Actor, now time.Time, ev auditEvent) error {
	b := &pgx.Batch{}
	queueAudit(ctx, b, a, now, ev)
	return tx.SendBatch(ctx, b).Close()
}

// queueAudit queues audit's statement on b.
func queueAudit(ctx context.Context, b *pgx.Batch, a booking.Actor, now time.Time, ev auditEvent) {
	var actorID, orgID *uuid.UUID
	if a.UserID != uuid.Nil {
		actorID = &a.UserID
	}
	if a.OrganisationID != uuid.Nil {
		orgID = &a.OrganisationID
	}
	role := string(a.Role)
	if a.System {
		role = "system"
	}
	meta := booking.RequestMetaFrom(ctx)
	b.Queue(`INSERT INTO audit_log
		(at, actor_id, actor_role, organisation_id, action, object_type, object_id, before, after, request_id, remote_addr)
		VALUES ($1, $2, nullif($3, ''), $4, $5, $6, nullif($7, ''), $8, $9, nullif($10, ''), nullif($11, ''))`,
		now, actorID, role, orgID, ev.Action, ev.ObjectType, ev.ObjectID,
		jsonOrNil(ev.Before), jsonOrNil(ev.After), meta.RequestID, meta.RemoteAddr)
}

func jsonOrNil(v any) []byte {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// ListAudit returns entries newest first, a page at a time; admins and managers only.
func (db *DB) ListAudit(ctx context.Context, a booking.Actor, f booking.AuditFilter) ([]booking.AuditEntry, string, error) {
	if a.Role != booking.RoleAdmin && a.Role != booking.RoleManager {
		return nil, "", booking.Errorf(booking.EFORBIDDEN, "Only admins and managers may read the audit log.")
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var after *int64
	if f.Cursor != "" {
		id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		after = &id
	}
	rows, _ := db.Pool.Query(ctx, `
		SELECT id, at, actor_id, coalesce(actor_role, ''), organisation_id, action, object_type,
		       coalesce(object_id, ''), before, after, coalesce(request_id, '')
		FROM audit_log
		WHERE ($1::bigint IS NULL OR id < $1)
		  AND ($2::uuid IS NULL OR actor_id = $2)
		  AND ($3 = '' OR action = $3)
		  AND ($4 = '' OR object_type = $4)
		  AND ($5 = '' OR object_id = $5)
		  AND ($6::timestamptz IS NULL OR at >= $6)
		  AND ($7::timestamptz IS NULL OR at < $7)
		ORDER BY id DESC
		LIMIT $8`, after, f.ActorID, f.Action, f.ObjectType, f.ObjectID, f.From, f.To, limit+1)
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.AuditEntry, error) {
		var e booking.AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.ActorID, &e.ActorRole, &e.OrganisationID, &e.Action, &e.ObjectType,
			&e.ObjectID, &e.Before, &e.After, &e.RequestID)
		return e, err
	})
	if err != nil {
		return nil, "", formatError(err)
	}
	next := ""
	if len(entries) > limit {
		entries = entries[:limit]
		next = encodeCursor(entries[limit-1].ID)
	}
	return entries, next, nil
}

// Cursors are opaque to clients: the last id seen, base64-encoded.
func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if id, err := strconv.ParseInt(string(b), 10, 64); err == nil && id > 0 {
			return id, nil
		}
	}
	return 0, &booking.Error{Code: booking.EINVALID, Message: "cursor is not valid.", Details: map[string]any{"parameter": "cursor"}}
}
