package postgres

import (
	"context"

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
