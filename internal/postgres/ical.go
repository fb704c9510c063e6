package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/auth"
	"github.com/posthub/posthub/internal/booking"
)

var _ booking.Feeds = (*DB)(nil)

// FeedTokenPrefix starts every feed token. A token is 160 random bits; only its
// SHA-256 is stored.
const FeedTokenPrefix = "phcal_"

var feedEnc = base32.StdEncoding.WithPadding(base32.NoPadding)

func newFeedToken() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return FeedTokenPrefix + strings.ToLower(feedEnc.EncodeToString(b))
}

// LooksLikeFeedToken reports whether s has the shape of a feed token.
func LooksLikeFeedToken(s string) bool {
	if !strings.HasPrefix(s, FeedTokenPrefix) || len(s) != len(FeedTokenPrefix)+32 {
		return false
	}
	for _, c := range s[len(FeedTokenPrefix):] {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// feedColumns reads a feed from ical_feeds f, with the name of what it follows.
const feedColumns = `f.id, f.user_id, f.kind, f.object_id, f.prefix, f.created_at, f.revoked_at, f.last_used_at,
	coalesce(CASE f.kind WHEN 'resource' THEN (SELECT name FROM resources WHERE id = f.object_id)
		WHEN 'production' THEN (SELECT title FROM productions WHERE id = f.object_id)
		ELSE (SELECT name FROM users WHERE id = f.object_id) END, '')`

func scanFeed(row pgx.Row) (booking.ICalFeed, error) {
	var f booking.ICalFeed
	err := row.Scan(&f.ID, &f.UserID, &f.Kind, &f.ObjectID, &f.Prefix, &f.CreatedAt, &f.RevokedAt, &f.LastUsedAt, &f.Name)
	return f, err
}

// CreateFeed makes a feed owned by the actor and returns its token, shown once.
func (db *DB) CreateFeed(ctx context.Context, a booking.Actor, kind booking.FeedKind, objectID uuid.UUID) (booking.ICalFeed, string, error) {
	var out booking.ICalFeed
	if a.UserID == uuid.Nil {
		return out, "", booking.Errorf(booking.EFORBIDDEN, "A feed belongs to a user.")
	}
	switch kind {
	case booking.FeedResource:
		if a.Role != booking.RoleAdmin && a.Role != booking.RoleManager {
			return out, "", booking.Errorf(booking.EFORBIDDEN, "Only managers and admins make resource feeds.")
		}
		r, err := db.FindResource(ctx, objectID)
		if err != nil {
			return out, "", err
		}
		if err := mayManage(a, r.SiteID); err != nil {
			return out, "", err
		}
	case booking.FeedProduction:
		if _, err := db.FindProduction(ctx, a, objectID); err != nil {
			return out, "", err
		}
	case booking.FeedUser:
		if objectID != a.UserID && a.Role != booking.RoleAdmin {
			return out, "", booking.Errorf(booking.EFORBIDDEN, "You may make a feed of your own bookings only.")
		}
		var exists bool
		if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, objectID).Scan(&exists); err != nil {
			return out, "", formatError(err)
		}
		if !exists {
			return out, "", booking.Errorf(booking.ENOTFOUND, "No such user.")
		}
	default:
		return out, "", &booking.Error{Code: booking.EINVALID, Message: "kind must be resource, production or user.", Details: map[string]any{"field": "kind"}}
	}
	token := newFeedToken()
	now := db.now()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var id uuid.UUID
		if err := tx.QueryRow(ctx, `INSERT INTO ical_feeds (user_id, kind, object_id, prefix, hash, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			a.UserID, kind, objectID, token[:len(FeedTokenPrefix)+6], auth.HashToken(token), now).Scan(&id); err != nil {
			return err
		}
		var err error
		if out, err = scanFeed(tx.QueryRow(ctx, `SELECT `+feedColumns+` FROM ical_feeds f WHERE f.id = $1`, id)); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "ical_feed.created", ObjectType: "ical_feed", ObjectID: id.String(), After: out})
	})
	if err != nil {
		return out, "", err
	}
	return out, token, nil
}

// ListFeeds lists the actor's own feeds, newest first, revoked ones included.
func (db *DB) ListFeeds(ctx context.Context, a booking.Actor) ([]booking.ICalFeed, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+feedColumns+` FROM ical_feeds f WHERE f.user_id = $1 ORDER BY f.created_at DESC, f.id`, a.UserID)
	feeds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.ICalFeed, error) { return scanFeed(r) })
	if feeds == nil {
		feeds = []booking.ICalFeed{}
	}
	return feeds, formatError(err)
}

// RevokeFeed revokes a feed: its URL answers 404 from then on.
func (db *DB) RevokeFeed(ctx context.Context, a booking.Actor, id uuid.UUID) error {
	now := db.now()
	return db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanFeed(tx.QueryRow(ctx, `SELECT `+feedColumns+` FROM ical_feeds f WHERE f.id = $1 FOR UPDATE`, id))
		if err != nil || (before.UserID != a.UserID && a.Role != booking.RoleAdmin) {
			return booking.Errorf(booking.ENOTFOUND, "No such feed.")
		}
		if _, err := tx.Exec(ctx, `UPDATE ical_feeds SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`, id, now); err != nil {
			return err
		}
		after, err := scanFeed(tx.QueryRow(ctx, `SELECT `+feedColumns+` FROM ical_feeds f WHERE f.id = $1`, id))
		if err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "ical_feed.revoked", ObjectType: "ical_feed", ObjectID: id.String(), Before: before, After: after})
	})
}

// FeedPast and FeedAhead bound the bookings a feed carries around now.
const (
	FeedPast  = 90 * 24 * time.Hour
	FeedAhead = 3 * 366 * 24 * time.Hour
)

var errNoFeed = booking.Errorf(booking.ENOTFOUND, "No such feed.")

// FeedCalendar reads a feed by its token. The feed shows what its owner may see now:
// a production feed needs the owner to see the production still, a resource feed to
// manage its site, and a user feed shows the user's own view (a producer's
// organisation's bookings, a manager's sites', everything for admins and operators).
// Where the viewer may not see a booking's production (another organisation's booking on
// a resource), the booking is only "busy": an interval with nothing about whose it is.
func (db *DB) FeedCalendar(ctx context.Context, token string) (booking.FeedCalendar, error) {
	var out booking.FeedCalendar
	if !LooksLikeFeedToken(token) {
		return out, errNoFeed
	}
	now := db.now()
	var kind booking.FeedKind
	var objectID uuid.UUID
	owner, err := scanActor(db.Pool.QueryRow(ctx, `
		UPDATE ical_feeds f SET last_used_at = $2
		FROM users u
		WHERE f.hash = $1 AND f.revoked_at IS NULL AND u.id = f.user_id AND u.disabled_at IS NULL
		RETURNING `+actorColumns+`, f.kind, f.object_id`, auth.HashToken(token), now), &kind, &objectID)
	if err == pgx.ErrNoRows {
		return out, errNoFeed
	}
	if err != nil {
		return out, formatError(err)
	}
	viewer := owner
	var resource, production, org *uuid.UUID
	var sites []uuid.UUID
	onlyResource := ""
	switch kind {
	case booking.FeedResource:
		r, err := db.FindResource(ctx, objectID)
		if err != nil || mayManage(owner, r.SiteID) != nil {
			return out, errNoFeed
		}
		resource, onlyResource = &r.ID, r.Name
		out.Name = "posthub — " + r.Name
	case booking.FeedProduction:
		p, err := db.FindProduction(ctx, owner, objectID)
		if err != nil {
			return out, errNoFeed
		}
		production = &p.ID
		out.Name = "posthub — " + p.Title
	case booking.FeedUser:
		u, err := scanActor(db.Pool.QueryRow(ctx, `SELECT `+actorColumns+` FROM users u WHERE u.id = $1 AND u.disabled_at IS NULL`, objectID))
		if err != nil {
			return out, errNoFeed
		}
		viewer = u
		switch u.Role {
		case booking.RoleProducer:
			org = &u.OrganisationID
		case booking.RoleManager:
			sites = u.SiteIDs
			if sites == nil {
				sites = []uuid.UUID{}
			}
		}
		var name string
		_ = db.Pool.QueryRow(ctx, `SELECT name FROM users WHERE id = $1`, objectID).Scan(&name)
		out.Name = "posthub — " + name
	default:
		return out, errNoFeed
	}
	out.From, out.To, out.Stamp = now.Add(-FeedPast), now.Add(FeedAhead), now
	rows, _ := db.Pool.Query(ctx, `
		SELECT g.id, g.status, g.start_at, g.end_at, coalesce((SELECT max(rank) FROM bookings WHERE group_id = g.id), 0),
		       g.approval_requested_at IS NOT NULL, p.title, o.name, p.organisation_id, s.name, s.time_zone,
		       coalesce(g.note, ''), g.trainees, g.version, g.updated_at,
		       array(SELECT r.name FROM bookings b JOIN resources r ON r.id = b.resource_id WHERE b.group_id = g.id ORDER BY r.name)
		FROM booking_groups g JOIN productions p ON p.id = g.production_id
		     JOIN organisations o ON o.id = p.organisation_id JOIN sites s ON s.id = g.site_id
		WHERE g.status IN ('hold', 'confirmed', 'completed') AND g.end_at > $1 AND g.start_at < $2
		  AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM bookings b WHERE b.group_id = g.id AND b.resource_id = $3))
		  AND ($4::uuid IS NULL OR g.production_id = $4)
		  AND ($5::uuid IS NULL OR p.organisation_id = $5)
		  AND ($6::uuid[] IS NULL OR g.site_id = ANY($6))
		ORDER BY g.start_at, g.id LIMIT 2000`, out.From, out.To, resource, production, org, sites)
	var e booking.FeedEvent
	var id, orgID uuid.UUID
	var status string
	_, err = pgx.ForEachRow(rows, []any{&id, &status, &e.Start, &e.End, &e.Rank, &e.ApprovalPending, &e.Title, &e.Company, &orgID,
		&e.Site, &e.TimeZone, &e.Note, &e.Trainees, &e.Sequence, &e.Updated, &e.Resources}, func() error {
		ev := e
		ev.UID, ev.Status = id.String()+"@posthub", booking.Status(status)
		if ev.Status != booking.StatusHold {
			ev.Rank = 0
		}
		if !viewer.SeesAllProductions() && orgID != viewer.OrganisationID {
			// Another organisation's booking: when and where, never whose or what.
			ev = booking.FeedEvent{UID: ev.UID, Start: ev.Start, End: ev.End, TimeZone: ev.TimeZone, Busy: true,
				Site: ev.Site, Resources: []string{onlyResource}, Sequence: ev.Sequence, Updated: ev.Updated}
		}
		out.Events = append(out.Events, ev)
		return nil
	})
	if err != nil {
		return out, formatError(err)
	}
	return out, nil
}
