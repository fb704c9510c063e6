package postgres

import (
	"context"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
)

var _ booking.Catalogue = (*DB)(nil)

const siteColumns = `id, slug, name, country, time_zone, currency, created_at`

func scanSite(row pgx.Row) (booking.Site, error) {
	var s booking.Site
	err := row.Scan(&s.ID, &s.Slug, &s.Name, &s.Country, &s.TimeZone, &s.Currency, &s.CreatedAt)
	return s, err
}

// ListSites returns every site, ordered by name.
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

const resourceColumns = `id, site_id, name, category, kind, capabilities, rate_minor, rate_unit, trainee_capacity, active`

func scanResource(row pgx.Row) (booking.Resource, error) {
	var r booking.Resource
	err := row.Scan(&r.ID, &r.SiteID, &r.Name, &r.Category, &r.Kind, &r.Capabilities, &r.RateMinor, &r.RateUnit, &r.TraineeCapacity, &r.Active)
	return r, err
}

// ListResources returns active resources matching f, ordered by site and name.
func (db *DB) ListResources(ctx context.Context, f booking.ResourceFilter) ([]booking.Resource, error) {
	caps := f.Capability
	if caps == nil {
		caps = []string{}
	}
	rows, _ := db.Pool.Query(ctx, `
		SELECT `+resourceColumns+` FROM resources
		WHERE active
		  AND ($1::uuid IS NULL OR site_id = $1)
		  AND ($2 = '' OR kind = $2)
		  AND capabilities @> $3::text[]
		ORDER BY site_id, name`, f.SiteID, f.Kind, caps)
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
	       coalesce(p.programme, ''), p.created_at,
	       coalesce((SELECT array_agg(o.country ORDER BY o.share_pct DESC, o.country) FROM production_origins o WHERE o.production_id = p.id), '{}'),
	       coalesce((SELECT array_agg(o.share_pct::float8 ORDER BY o.share_pct DESC, o.country) FROM production_origins o WHERE o.production_id = p.id), '{}')
	FROM productions p
	WHERE ($1::uuid IS NULL OR p.organisation_id = $1)`

func scanProduction(row pgx.Row) (booking.Production, error) {
	var p booking.Production
	var countries []string
	var shares []float64
	err := row.Scan(&p.ID, &p.OrganisationID, &p.Title, &p.Format, &p.RuntimeMinutes, &p.Emerging,
		&p.Programme, &p.CreatedAt, &countries, &shares)
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
		if err := tx.QueryRow(ctx, `INSERT INTO productions (organisation_id, title, format, runtime_minutes, emerging, programme, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			in.OrganisationID, in.Title, in.Format, in.RuntimeMinutes, in.Emerging, programme, now).Scan(&id); err != nil {
			return err
		}
		for _, o := range in.Origins {
			if _, err := tx.Exec(ctx, `INSERT INTO production_origins (production_id, country, share_pct) VALUES ($1, $2, $3)`,
				id, o.Country, o.SharePct); err != nil {
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
