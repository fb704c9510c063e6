package postgres

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/auth"
	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/i18n"
)

var _ booking.Notifications = (*DB)(nil)

// WebhookFailureLimit is how many failures in a row disable a webhook.
const WebhookFailureLimit = 5

// NoticeContext gathers what a notice about a booking needs, in one round trip: the
// booking, its production, site and resource names, and the people to tell.
func (db *DB) NoticeContext(ctx context.Context, bookingID uuid.UUID) (booking.NoticeContext, error) {
	var nc booking.NoticeContext
	var bookingErr, metaErr error
	recipients := func(dst *[]booking.Recipient) func(pgx.Rows) error {
		return func(rows pgx.Rows) error {
			var err error
			*dst, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Recipient, error) {
				var x booking.Recipient
				err := r.Scan(&x.UserID, &x.Email, &x.Name, &x.Locale, &x.Role)
				return x, err
			})
			return err
		}
	}
	b := &pgx.Batch{}
	b.Queue(bookingSelect+` WHERE g.id = $1`, bookingID).QueryRow(func(row pgx.Row) error {
		nc.Booking, bookingErr = scanBooking(row)
		return nil
	})
	b.Queue(`SELECT p.title, s.name, p.organisation_id,
			array(SELECT r.name FROM bookings bk JOIN resources r ON r.id = bk.resource_id WHERE bk.group_id = $1 ORDER BY r.name),
			coalesce((SELECT st->>'name' FROM plans pl CROSS JOIN LATERAL jsonb_array_elements(pl.plan->'stages') st
				WHERE pl.production_id = g.production_id AND pl.status = 'accepted' AND st->>'booking_id' = $1::text
				ORDER BY pl.accepted_at DESC LIMIT 1), '')
		FROM booking_groups g JOIN productions p ON p.id = g.production_id JOIN sites s ON s.id = g.site_id WHERE g.id = $1`, bookingID).
		QueryRow(func(row pgx.Row) error {
			metaErr = row.Scan(&nc.ProductionTitle, &nc.SiteName, &nc.OrganisationID, &nc.ResourceNames, &nc.Stage)
			return nil
		})
	b.Queue(`SELECT id, email, name, locale, role FROM users
		WHERE organisation_id = (SELECT p.organisation_id FROM booking_groups g JOIN productions p ON p.id = g.production_id WHERE g.id = $1)
		  AND role = 'producer' AND disabled_at IS NULL ORDER BY email`, bookingID).Query(recipients(&nc.Producers))
	b.Queue(`SELECT u.id, u.email, u.name, u.locale, u.role FROM users u JOIN user_sites us ON us.user_id = u.id
		WHERE us.site_id = (SELECT site_id FROM booking_groups WHERE id = $1) AND u.role = 'manager' AND u.disabled_at IS NULL
		ORDER BY u.email`, bookingID).Query(recipients(&nc.Managers))
	b.Queue(`SELECT `+webhookColumns+` FROM webhooks
		WHERE organisation_id = (SELECT p.organisation_id FROM booking_groups g JOIN productions p ON p.id = g.production_id WHERE g.id = $1)
		  AND enabled ORDER BY created_at`, bookingID).Query(func(rows pgx.Rows) error {
		var err error
		nc.Webhooks, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Webhook, error) { return scanWebhook(r) })
		return err
	})
	if err := db.Pool.SendBatch(ctx, b).Close(); err != nil {
		return nc, formatError(err)
	}
	if bookingErr != nil {
		return nc, notFound(bookingErr, "booking")
	}
	if metaErr != nil {
		return nc, notFound(metaErr, "booking")
	}
	return nc, nil
}

var _ booking.Languages = (*DB)(nil)

// SetLocale stores the language the actor chose as theirs, which their mails and
// notices are written in; any language posthub has a catalog for.
func (db *DB) SetLocale(ctx context.Context, a booking.Actor, locale string) error {
	if !i18n.Supported(locale) {
		return &booking.Error{Code: booking.EINVALID, Message: "locale must be one of " + strings.Join(i18n.Languages(), ", ") + ".",
			Details: map[string]any{"field": "locale"}}
	}
	if a.UserID == uuid.Nil {
		return nil // posthub itself reads no mail
	}
	_, err := db.Pool.Exec(ctx, `UPDATE users SET locale = $2, version = version + 1 WHERE id = $1 AND locale <> $2`, a.UserID, locale)
	return formatError(err)
}

// DeliveryLease is how long a claimed delivery belongs to the worker that claimed it:
// longer than a send may take (SMTP and webhooks time out at 20 s, jobs at 30 s). A
// claim older than that is a dead worker's, and the delivery may be taken over.
const DeliveryLease = time.Minute

// DeliverOnce performs send at most once per key to effect, without holding a
// transaction while it runs: it claims the delivery (a 'sending' row) in one statement,
// sends, then marks it delivered. A delivery already made is skipped (false, nil); one
// another worker is sending answers a *booking.DeliveryInFlightError, so the job
// comes back when that claim would lapse and then finds it done. A worker that dies between its claim and the mark leaves a claim that lapses
// after DeliveryLease, and the retry sends again; the stable Message-ID and
// Idempotency-Key let the receiver recognise it.
func (db *DB) DeliverOnce(ctx context.Context, key booking.DeliveryKey, send func(ctx context.Context) error) (bool, error) {
	claimed := db.now()
	var mine bool
	var status *string
	var other *time.Time
	err := db.Pool.QueryRow(ctx, `WITH claim AS (
			INSERT INTO deliveries (event_id, recipient_id, channel, kind, status, claimed_at)
			VALUES ($1, $2, $3, $4, 'sending', $5)
			ON CONFLICT (event_id, recipient_id, channel) DO UPDATE SET claimed_at = excluded.claimed_at
				WHERE deliveries.status = 'sending' AND deliveries.claimed_at < $6
			RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM claim), d.status, d.claimed_at
		FROM (SELECT 1) one LEFT JOIN deliveries d ON d.event_id = $1 AND d.recipient_id = $2 AND d.channel = $3`,
		key.EventID, key.RecipientID, key.Channel, key.Kind, claimed, claimed.Add(-DeliveryLease)).Scan(&mine, &status, &other)
	if err != nil {
		return false, formatError(err)
	}
	if !mine {
		switch {
		case status == nil:
			// The row was claimed by a statement that committed after this one's
			// snapshot: another worker has just taken it.
			return false, &booking.DeliveryInFlightError{Key: key, LeaseEnds: claimed.Add(DeliveryLease)}
		case *status == "sending" && other != nil:
			return false, &booking.DeliveryInFlightError{Key: key, LeaseEnds: other.Add(DeliveryLease)}
		}
		return false, nil
	}
	// The claim is settled even when the job's context has ended (a timeout while
	// sending): a message that went out must not stay claimed.
	settle, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := send(ctx); err != nil {
		// Give the claim back so the retry need not wait for the lease.
		_, _ = db.Pool.Exec(settle, `DELETE FROM deliveries WHERE event_id = $1 AND recipient_id = $2 AND channel = $3
			AND status = 'sending' AND claimed_at = $4`, key.EventID, key.RecipientID, key.Channel, claimed)
		return false, err
	}
	if _, err := db.Pool.Exec(settle, `UPDATE deliveries SET status = 'delivered', delivered_at = $5
		WHERE event_id = $1 AND recipient_id = $2 AND channel = $3 AND status = 'sending' AND claimed_at = $4`,
		key.EventID, key.RecipientID, key.Channel, claimed, db.now()); err != nil {
		return true, formatError(err)
	}
	return true, nil
}

// AddInApp puts notifications in users' feeds, each once per event and user: one
// statement for all of them, whose unique key (event, user) is what makes a retried
// job add nothing twice (a feed entry is never deleted but with its user). It returns
// how many were new.
func (db *DB) AddInApp(ctx context.Context, entries []booking.InApp) (int, error) {
	if len(entries) == 0 {
		return 0, nil
	}
	now := db.now()
	events, users, bookings := make([]uuid.UUID, len(entries)), make([]uuid.UUID, len(entries)), make([]*uuid.UUID, len(entries))
	kinds, titles, bodies := make([]string, len(entries)), make([]string, len(entries)), make([]string, len(entries))
	for i, e := range entries {
		events[i], users[i], bookings[i] = e.EventID, e.UserID, e.Notification.BookingID
		kinds[i], titles[i], bodies[i] = e.Notification.Kind, e.Notification.Title, e.Notification.Body
	}
	tag, err := db.Pool.Exec(ctx, `INSERT INTO notifications (user_id, event_id, kind, booking_id, title, body, created_at)
		SELECT u, e, k, b, t, x, $7 FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::text[]) AS n(u, e, k, b, t, x)
		ON CONFLICT (event_id, user_id) DO NOTHING`, users, events, kinds, bookings, titles, bodies, now)
	return int(tag.RowsAffected()), formatError(err)
}

// ListNotifications returns the actor's own feed, newest first.
func (db *DB) ListNotifications(ctx context.Context, a booking.Actor, unreadOnly bool, cursor string, limit int) ([]booking.Notification, string, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var afterT *time.Time
	var afterID *uuid.UUID
	if cursor != "" {
		t, id, err := decodeBookingCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		afterT, afterID = &t, &id
	}
	rows, _ := db.Pool.Query(ctx, `SELECT id, kind, booking_id, title, body, created_at, read_at FROM notifications
		WHERE user_id = $1 AND (NOT $2 OR read_at IS NULL) AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
		ORDER BY created_at DESC, id DESC LIMIT $5`, a.UserID, unreadOnly, afterT, afterID, limit+1)
	ns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Notification, error) {
		var n booking.Notification
		err := r.Scan(&n.ID, &n.Kind, &n.BookingID, &n.Title, &n.Body, &n.CreatedAt, &n.ReadAt)
		return n, err
	})
	if err != nil {
		return nil, "", formatError(err)
	}
	next := ""
	if len(ns) > limit {
		ns = ns[:limit]
		next = encodeBookingCursor(ns[limit-1].CreatedAt, ns[limit-1].ID)
	}
	return ns, next, nil
}

// UnreadCount counts the actor's unread notifications.
func (db *DB) UnreadCount(ctx context.Context, a booking.Actor) (int, error) {
	var n int
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, a.UserID).Scan(&n)
	return n, formatError(err)
}

// MarkRead marks the actor's notifications read.
func (db *DB) MarkRead(ctx context.Context, a booking.Actor, ids []uuid.UUID) (int, error) {
	if ids == nil {
		ids = []uuid.UUID{} // nil would be NULL, and match nothing
	}
	tag, err := db.Pool.Exec(ctx, `UPDATE notifications SET read_at = $3
		WHERE user_id = $1 AND read_at IS NULL AND (cardinality($2::uuid[]) = 0 OR id = ANY($2))`, a.UserID, ids, db.now())
	if err != nil {
		return 0, formatError(err)
	}
	return int(tag.RowsAffected()), nil
}

const webhookColumns = `id, organisation_id, url, enabled, consecutive_failures, coalesce(last_error, ''), disabled_at, created_at, secret`

func scanWebhook(r pgx.Row) (booking.Webhook, error) {
	var w booking.Webhook
	err := r.Scan(&w.ID, &w.OrganisationID, &w.URL, &w.Enabled, &w.ConsecutiveFailures, &w.LastError, &w.DisabledAt, &w.CreatedAt, &w.Secret)
	return w, err
}

// validPort is whether a URL's port, if it names one, is 1 to 65535.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// CreateWebhook registers an endpoint for the actor's organisation.
func (db *DB) CreateWebhook(ctx context.Context, a booking.Actor, raw string) (booking.Webhook, string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || len(raw) > 2000 || !validPort(u.Port()) {
		return booking.Webhook{}, "", &booking.Error{Code: booking.EINVALID, Message: "url must be an http(s) URL.", Details: map[string]any{"field": "url"}}
	}
	secret := "whsec_" + auth.NewSecret(24)
	var w booking.Webhook
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if w, err = scanWebhook(tx.QueryRow(ctx, `INSERT INTO webhooks (organisation_id, url, secret, created_at) VALUES ($1, $2, $3, $4)
			RETURNING `+webhookColumns, a.OrganisationID, raw, secret, db.now())); err != nil {
			return err
		}
		return audit(ctx, tx, a, db.now(), auditEvent{Action: "webhook.created", ObjectType: "webhook", ObjectID: w.ID.String(), After: w})
	})
	return w, secret, err
}

// ListWebhooks lists the actor's organisation's webhooks; admins see all.
func (db *DB) ListWebhooks(ctx context.Context, a booking.Actor) ([]booking.Webhook, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE ($1 OR organisation_id = $2) ORDER BY created_at`,
		a.Role == booking.RoleAdmin, a.OrganisationID)
	ws, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Webhook, error) { return scanWebhook(r) })
	return ws, formatError(err)
}

// DeleteWebhook removes one of the actor's organisation's webhooks.
func (db *DB) DeleteWebhook(ctx context.Context, a booking.Actor, id uuid.UUID) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		w, err := scanWebhook(tx.QueryRow(ctx, `DELETE FROM webhooks WHERE id = $1 AND ($2 OR organisation_id = $3) RETURNING `+webhookColumns,
			id, a.Role == booking.RoleAdmin, a.OrganisationID))
		if err != nil {
			return notFound(err, "webhook")
		}
		return audit(ctx, tx, a, db.now(), auditEvent{Action: "webhook.deleted", ObjectType: "webhook", ObjectID: id.String(), Before: w})
	})
}

// WebhookOutcome records a delivery attempt's outcome and reports whether this
// failure disabled the webhook (the caller then tells the organisation).
func (db *DB) WebhookOutcome(ctx context.Context, id uuid.UUID, deliveryErr error) (bool, error) {
	if deliveryErr == nil {
		_, err := db.Pool.Exec(ctx, `UPDATE webhooks SET consecutive_failures = 0, last_error = NULL WHERE id = $1`, id)
		return false, formatError(err)
	}
	var disabled bool
	err := db.Pool.QueryRow(ctx, `UPDATE webhooks SET consecutive_failures = consecutive_failures + 1, last_error = left($2, 500),
			enabled = consecutive_failures + 1 < $3,
			disabled_at = CASE WHEN consecutive_failures + 1 >= $3 AND enabled THEN $4 ELSE disabled_at END
		WHERE id = $1 RETURNING enabled = false AND disabled_at = $4`, id, deliveryErr.Error(), WebhookFailureLimit, db.now()).Scan(&disabled)
	if err == pgx.ErrNoRows {
		return false, nil
	}
	return disabled, formatError(err)
}

// OrganisationUsers lists an organisation's active users, to tell them of their
// webhook being disabled.
func (db *DB) OrganisationUsers(ctx context.Context, orgID uuid.UUID) ([]booking.Recipient, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT id, email, name, locale, role FROM users WHERE organisation_id = $1 AND disabled_at IS NULL ORDER BY email`, orgID)
	rs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Recipient, error) {
		var x booking.Recipient
		err := r.Scan(&x.UserID, &x.Email, &x.Name, &x.Locale, &x.Role)
		return x, err
	})
	return rs, formatError(err)
}
