package postgres

import (
	"context"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
)

var _ booking.Catalogue = (*DB)(nil)

const siteColumns = `id, slug, name, country, time_zone, currency, active, version, created_at`

func scanSite(row pgx.Row) (booking.Site, error) {
	var s booking.Site
	err := row.Scan(&s.ID, &s.Slug, &s.Name, &s.Country, &s.TimeZone, &s.Currency, &s.Active, &s.Version, &s.CreatedAt)
	return s, err
}

// ListSites returns every site, in service or not, ordered by name.
func (db *DB) ListSites(ctx context.Context) ([]booking.Site, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+siteColumns+` FROM sites ORDER BY name`)
	sites, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Site, error) { return scanSite(r) })
	return sites, formatError(err)
}

// FindSite returns ENOTFOUND if the site does not exist.
func (db *DB) FindSite(ctx context.Context, id uuid.UUID) (booking.Site, error) {
	s, err := scanSite(db.Pool.QueryRow(ctx, `SELECT `+siteColumns+` FROM sites WHERE id = $1`, id))
	return s, notFound(err, "site")
}

const resourceColumns = `id, site_id, name, category, kind, capabilities, rate_minor, rate_unit, trainee_capacity, active, version`

func scanResource(row pgx.Row) (booking.Resource, error) {
	var r booking.Resource
	err := row.Scan(&r.ID, &r.SiteID, &r.Name, &r.Category, &r.Kind, &r.Capabilities, &r.RateMinor, &r.RateUnit, &r.TraineeCapacity, &r.Active, &r.Version)
	return r, err
}

// ListResources returns active resources matching f (and inactive ones with
// f.IncludeInactive), ordered by site and name.
func (db *DB) ListResources(ctx context.Context, f booking.ResourceFilter) ([]booking.Resource, error) {
	caps := f.Capability
	if caps == nil {
		caps = []string{}
	}
	rows, _ := db.Pool.Query(ctx, `
		SELECT `+resourceColumns+` FROM resources
		WHERE (active OR $4)
		  AND ($1::uuid IS NULL OR site_id = $1)
		  AND ($2 = '' OR kind = $2)
		  AND capabilities @> $3::text[]
		ORDER BY site_id, name`, f.SiteID, f.Kind, caps, f.IncludeInactive)
	res, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Resource, error) { return scanResource(r) })
	return res, formatError(err)
}

// FindResource returns ENOTFOUND if the resource does not exist.
func (db *DB) FindResource(ctx context.Context, id uuid.UUID) (booking.Resource, error) {
	r, err := scanResource(db.Pool.QueryRow(ctx, `SELECT `+resourceColumns+` FROM resources WHERE id = $1`, id))
	return r, notFound(err, "resource")
}

// productionSelect reads productions with their origins; $1 is the organisation a
// producer is confined to, or NULL for roles that see every production.
const productionSelect = `
	SELECT p.id, p.organisation_id, p.title, p.format, p.runtime_minutes, p.emerging,
	       coalesce(p.programme, ''), p.requested_emerging, coalesce(p.requested_programme, ''), p.version, p.created_at,
	       coalesce((SELECT array_agg(o.country ORDER BY o.share_pct DESC, o.country) FROM production_origins o WHERE o.production_id = p.id), '{}'),
	       coalesce((SELECT array_agg(o.share_pct::float8 ORDER BY o.share_pct DESC, o.country) FROM production_origins o WHERE o.production_id = p.id), '{}'),
	       ` + deliverablesColumns + `
	FROM productions p
	WHERE ($1::uuid IS NULL OR p.organisation_id = $1)`

func scanProduction(row pgx.Row) (booking.Production, error) {
	var p booking.Production
	var countries []string
	var shares []float64
	err := row.Scan(append([]any{&p.ID, &p.OrganisationID, &p.Title, &p.Format, &p.RuntimeMinutes, &p.Emerging,
		&p.Programme, &p.RequestedEmerging, &p.RequestedProgramme, &p.Version, &p.CreatedAt, &countries, &shares},
		deliverablesDest(&p.Deliverables)...)...)
	normalizeScanned(&p.Deliverables)
	p.Origins = make([]booking.Origin, len(countries))
	for i := range countries {
		p.Origins[i] = booking.Origin{Country: countries[i], SharePct: shares[i]}
	}
	return p, err
}

// confinedTo is the organisation an actor's view of productions is limited to, or nil.
func confinedTo(a booking.Actor) *uuid.UUID {
	if a.SeesAllProductions() {
		return nil
	}
	return &a.OrganisationID
}

// ListProductions returns the productions the actor may see, ordered by title.
func (db *DB) ListProductions(ctx context.Context, a booking.Actor) ([]booking.Production, error) {
	rows, _ := db.Pool.Query(ctx, productionSelect+` ORDER BY p.title, p.id`, confinedTo(a))
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Production, error) { return scanProduction(r) })
	return ps, formatError(err)
}

// FindProduction returns ENOTFOUND if the production does not exist or the actor may
// not see it: the two cases are indistinguishable on purpose.
func (db *DB) FindProduction(ctx context.Context, a booking.Actor, id uuid.UUID) (booking.Production, error) {
	p, err := scanProduction(db.Pool.QueryRow(ctx, productionSelect+` AND p.id = $2`, confinedTo(a), id))
	return p, notFound(err, "production")
}

// notFound names the missing object in the ENOTFOUND message.
func notFound(err error, what string) error {
	if err == pgx.ErrNoRows {
		return booking.Errorf(booking.ENOTFOUND, "No such %s.", what)
	}
	return formatError(err)
}

// CreateProduction adds a production with its origins, audited. Producers create for
// their own organisation; admins and managers name one.
func (db *DB) CreateProduction(ctx context.Context, a booking.Actor, in booking.ProductionInput) (booking.Production, error) {
	var p booking.Production
	switch a.Role {
	case booking.RoleProducer:
		in.OrganisationID = a.OrganisationID
	case booking.RoleAdmin, booking.RoleManager:
		if in.OrganisationID == uuid.Nil {
			return p, booking.Errorf(booking.EINVALID, "organisation_id is required.")
		}
	default:
		return p, booking.Errorf(booking.EFORBIDDEN, "Your role may not create productions.")
	}
	if err := in.Validate(); err != nil {
		return p, err
	}
	deliverables, _ := in.Deliverables.Normalize() // checked by Validate
	now := db.now()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var kind string
		if err := tx.QueryRow(ctx, `SELECT kind FROM organisations WHERE id = $1`, in.OrganisationID).Scan(&kind); err != nil {
			return notFound(err, "organisation")
		}
		if kind != "production_company" {
			return booking.Errorf(booking.EINVALID, "organisation_id must name a production company.")
		}
		var id uuid.UUID
		var programme *string
		if in.Programme != "" {
			programme = &in.Programme
		}
		// A producer asks for a programme and the emerging status; a manager or an
		// admin grants them, here or later (SetMembership).
		granted, grantedProgramme := in.Emerging, programme
		var askedProgramme *string
		asked := false
		if a.Role == booking.RoleProducer {
			granted, grantedProgramme, asked, askedProgramme = false, nil, in.Emerging, programme
		}
		if err := tx.QueryRow(ctx, `INSERT INTO productions (organisation_id, title, format, runtime_minutes, emerging, programme,
				requested_emerging, requested_programme, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			in.OrganisationID, in.Title, in.Format, in.RuntimeMinutes, granted, grantedProgramme, asked, askedProgramme, now).Scan(&id); err != nil {
			return err
		}
		for _, o := range in.Origins {
			if _, err := tx.Exec(ctx, `INSERT INTO production_origins (production_id, country, share_pct) VALUES ($1, $2, $3)`,
				id, o.Country, o.SharePct); err != nil {
				return err
			}
		}
		if deliverables.Any() || deliverables.OriginalLanguage != "" {
			if err := setDeliverables(ctx, tx, id, deliverables); err != nil {
				return err
			}
		}
		var err error
		if p, err = scanProduction(tx.QueryRow(ctx, productionSelect+` AND p.id = $2`, nil, id)); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "production.created", ObjectType: "production", ObjectID: id.String(), After: p})
	})
	return p, err
}

// SetMembership sets a production's programme and emerging-filmmaker status (managers
// and admins), granting what its producer asked for, refusing it, or revoking what was
// granted; any pending request is settled. Audited with the before and after.
func (db *DB) SetMembership(ctx context.Context, a booking.Actor, id uuid.UUID, m booking.Membership) (booking.Production, error) {
	var out booking.Production
	if a.Role != booking.RoleAdmin && a.Role != booking.RoleManager {
		return out, booking.Errorf(booking.EFORBIDDEN, "Only managers and admins grant programme membership and the emerging filmmakers' status.")
	}
	if m.Programme = strings.TrimSpace(m.Programme); len([]rune(m.Programme)) > 200 {
		return out, &booking.Error{Code: booking.EINVALID, Message: "programme must be at most 200 characters.", Details: map[string]any{"field": "programme"}}
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanProduction(tx.QueryRow(ctx, productionSelect+` AND p.id = $2 FOR NO KEY UPDATE OF p`, nil, id))
		if err != nil {
			return notFound(err, "production")
		}
		if _, err := tx.Exec(ctx, `UPDATE productions SET programme = nullif($2, ''), emerging = $3,
			requested_programme = NULL, requested_emerging = false, version = version + 1 WHERE id = $1`, id, m.Programme, m.Emerging); err != nil {
			return err
		}
		if out, err = scanProduction(tx.QueryRow(ctx, productionSelect+` AND p.id = $2`, nil, id)); err != nil {
			return err
		}
		return audit(ctx, tx, a, db.now(), auditEvent{Action: "production.membership_set", ObjectType: "production", ObjectID: id.String(),
			Before: before, After: out})
	})
	return out, err
}

// IDBySlug returns the id of the site or organisation with the slug, for command-line
// tools that name them by slug. table is "sites" or "organisations".
func (db *DB) IDBySlug(ctx context.Context, table, slug string) (uuid.UUID, error) {
	if table != "sites" && table != "organisations" {
		return uuid.Nil, booking.Errorf(booking.EINVALID, "unknown table %q", table)
	}
	var id uuid.UUID
	err := db.Pool.QueryRow(ctx, `SELECT id FROM `+table+` WHERE slug = $1`, slug).Scan(&id)
	return id, notFound(err, strings.TrimSuffix(table, "s"))
}
