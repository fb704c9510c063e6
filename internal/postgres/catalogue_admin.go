package postgres

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
)

// Catalogue administration: sites, resources, organisations and productions' own
// fields. Each change runs in one transaction that locks the row, compares the
// caller's If-Match with its version, writes only what changed (an unchanged object is
// answered as it is, nothing written) and audits the object before and after.

// checkVersion refuses a change whose If-Match names another version than the
// object's current one.
func checkVersion(what string, ifMatch *int, current int) error {
	if ifMatch != nil && *ifMatch != current {
		return &booking.Error{Code: booking.EPRECONDITION, Message: "The " + what + " has changed since you read it.",
			Details: map[string]any{"version": current}}
	}
	return nil
}

// CreateSite adds a site (admins), with the default site policy (a trigger adds it).
// Its working week is set afterwards (PUT /api/v1/sites/{id}/calendar/week): until
// then it has no working time.
func (db *DB) CreateSite(ctx context.Context, a booking.Actor, in booking.SiteInput) (booking.Site, error) {
	var s booking.Site
	if err := requireAdmin(a); err != nil {
		return s, err
	}
	if err := in.Validate(); err != nil {
		return s, err
	}
	now := db.now()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		s, err = scanSite(tx.QueryRow(ctx, `INSERT INTO sites (slug, name, country, time_zone, currency, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+siteColumns, in.Slug, in.Name, in.Country, in.TimeZone, in.Currency, now))
		if err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "site.created", ObjectType: "site", ObjectID: s.ID.String(), After: s})
	})
	return s, err
}

// managerMayEditSite lists what a manager of a site may change of it: its name.
// Its slug, country, zone, currency and service are an admin's.
func managerMayEditSite(p booking.SitePatch) error {
	for _, f := range []struct {
		field string
		given bool
	}{{"slug", p.Slug != nil}, {"country", p.Country != nil}, {"time_zone", p.TimeZone != nil}, {"currency", p.Currency != nil}, {"active", p.Active != nil}} {
		if f.given {
			return &booking.Error{Code: booking.EFORBIDDEN, Message: "A site's managers may change its name; " + f.field + " is an admin's to change.",
				Details: map[string]any{"field": f.field}}
		}
	}
	return nil
}

// UpdateSite changes a site: admins anything, the site's managers its name.
func (db *DB) UpdateSite(ctx context.Context, a booking.Actor, id uuid.UUID, p booking.SitePatch, ifMatch *int) (booking.Site, error) {
	var out booking.Site
	if a.Role != booking.RoleAdmin && a.Role != booking.RoleManager {
		return out, booking.Errorf(booking.EFORBIDDEN, "Only admins and the site's managers may change a site.")
	}
	if err := p.Validate(); err != nil {
		return out, err
	}
	now := db.now()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanSite(tx.QueryRow(ctx, `SELECT `+siteColumns+` FROM sites WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, "site")
		}
		if a.Role == booking.RoleManager {
			if !a.ManagesSite(id) {
				return booking.Errorf(booking.EFORBIDDEN, "You do not manage this site.")
			}
			if err := managerMayEditSite(p); err != nil {
				return err
			}
		}
		if err := checkVersion("site", ifMatch, before.Version); err != nil {
			return err
		}
		after := p.Apply(before)
		if after == before {
			out = before
			return nil
		}
		if after.TimeZone != before.TimeZone || after.Currency != before.Currency {
			var used bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM booking_groups WHERE site_id = $1)
				OR EXISTS (SELECT 1 FROM rate_cards WHERE site_id = $1) OR EXISTS (SELECT 1 FROM quotes WHERE site_id = $1)`, id).Scan(&used); err != nil {
				return err
			}
			if used {
				return booking.Conflict(booking.ReasonSiteInUse,
					"The site's zone and currency change only while it has no bookings, rate cards or quotes: they were made in them.")
			}
		}
		if before.Active && !after.Active {
			// Resources lock their site FOR SHARE before they are put in service, so none
			// becomes active behind this count.
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM resources WHERE site_id = $1 AND active`, id).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return booking.Conflict(booking.ReasonSiteHasActiveResources,
					"The site has %d resources in service; take them out of service (PATCH /api/v1/resources/{id} with active false) first.", n)
			}
		}
		if out, err = scanSite(tx.QueryRow(ctx, `UPDATE sites SET slug = $2, name = $3, country = $4, time_zone = $5, currency = $6,
				active = $7, version = version + 1 WHERE id = $1 RETURNING `+siteColumns,
			id, after.Slug, after.Name, after.Country, after.TimeZone, after.Currency, after.Active)); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "site.updated", ObjectType: "site", ObjectID: id.String(), Before: before, After: out})
	})
	return out, err
}

// mayManageResources refuses an actor who is neither an admin nor a manager of the site.
func mayManageResources(a booking.Actor, siteID uuid.UUID) error {
	if a.ManagesSite(siteID) {
		return nil
	}
	if a.Role == booking.RoleManager {
		return booking.Errorf(booking.EFORBIDDEN, "You do not manage this resource's site.")
	}
	return booking.Errorf(booking.EFORBIDDEN, "Only admins and the site's managers may change its resources.")
}

// siteInService locks the site against being taken out of service (UpdateSite counts
// the active resources under its own lock) and reports whether it is in service.
func siteInService(ctx context.Context, tx pgx.Tx, siteID uuid.UUID) (bool, error) {
	var active bool
	err := tx.QueryRow(ctx, `SELECT active FROM sites WHERE id = $1 FOR SHARE`, siteID).Scan(&active)
	return active, notFound(err, "site")
}

// CreateResource adds a resource at a site (admins, or managers of the site).
func (db *DB) CreateResource(ctx context.Context, a booking.Actor, in booking.ResourceInput) (booking.Resource, error) {
	var r booking.Resource
	if in.RateUnit == "" {
		in.RateUnit = "hour"
	}
	if in.Capabilities == nil {
		in.Capabilities = []string{}
	}
	active := in.Active == nil || *in.Active
	if err := in.Validate(); err != nil {
		return r, err
	}
	if err := mayManageResources(a, in.SiteID); err != nil {
		return r, err
	}
	now := db.now()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		inService, err := siteInService(ctx, tx, in.SiteID)
		if err != nil {
			return err
		}
		if active && !inService {
			return booking.Conflict(booking.ReasonSiteInactive, "The site is out of service: its resources cannot be in service.")
		}
		if r, err = scanResource(tx.QueryRow(ctx, `INSERT INTO resources
				(site_id, name, category, kind, capabilities, rate_minor, rate_unit, trainee_capacity, active, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+resourceColumns,
			in.SiteID, in.Name, in.Category, in.Kind, in.Capabilities, in.RateMinor, in.RateUnit, in.TraineeCapacity, active, now)); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "resource.created", ObjectType: "resource", ObjectID: r.ID.String(), After: r})
	})
	return r, err
}

// UpdateResource changes a resource (admins, or managers of its site).
func (db *DB) UpdateResource(ctx context.Context, a booking.Actor, id uuid.UUID, p booking.ResourcePatch, ifMatch *int) (booking.Resource, error) {
	var out booking.Resource
	if a.Role != booking.RoleAdmin && a.Role != booking.RoleManager {
		return out, booking.Errorf(booking.EFORBIDDEN, "Only admins and the site's managers may change its resources.")
	}
	if err := p.Validate(); err != nil {
		return out, err
	}
	now := db.now()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// The resource's row lock orders this change with bookings, which lock the rows
		// of their resources and refuse one out of service.
		before, err := scanResource(tx.QueryRow(ctx, `SELECT `+resourceColumns+` FROM resources WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, "resource")
		}
		if err := mayManageResources(a, before.SiteID); err != nil {
			return err
		}
		if err := checkVersion("resource", ifMatch, before.Version); err != nil {
			return err
		}
		after := p.Apply(before)
		if resourcesEqual(before, after) {
			out = before
			return nil
		}
		switch {
		case before.Active && !after.Active:
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM bookings
				WHERE resource_id = $1 AND status IN ('hold', 'confirmed') AND upper(during) > $2`, id, now).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return booking.Conflict(booking.ReasonResourceHasBookings,
					"The resource has %d holds or confirmed bookings still to end; move, release or cancel them before taking it out of service.", n)
			}
		case !before.Active && after.Active:
			inService, err := siteInService(ctx, tx, before.SiteID)
			if err != nil {
				return err
			}
			if !inService {
				return booking.Conflict(booking.ReasonSiteInactive, "The site is out of service: put it back in service first.")
			}
		}
		if out, err = scanResource(tx.QueryRow(ctx, `UPDATE resources SET name = $2, category = $3, kind = $4, capabilities = $5,
				rate_minor = $6, rate_unit = $7, trainee_capacity = $8, active = $9, version = version + 1
			WHERE id = $1 RETURNING `+resourceColumns,
			id, after.Name, after.Category, after.Kind, after.Capabilities, after.RateMinor, after.RateUnit, after.TraineeCapacity, after.Active)); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "resource.updated", ObjectType: "resource", ObjectID: id.String(), Before: before, After: out})
	})
	return out, err
}

func resourcesEqual(x, y booking.Resource) bool {
	return x.Name == y.Name && x.Category == y.Category && x.Kind == y.Kind && slices.Equal(x.Capabilities, y.Capabilities) &&
		x.RateMinor == y.RateMinor && x.RateUnit == y.RateUnit && x.TraineeCapacity == y.TraineeCapacity && x.Active == y.Active
}

const organisationColumns = `id, slug, name, country, kind, version, created_at`

func scanOrganisation(row pgx.Row) (booking.Organisation, error) {
	var o booking.Organisation
	err := row.Scan(&o.ID, &o.Slug, &o.Name, &o.Country, &o.Kind, &o.Version, &o.CreatedAt)
	return o, err
}

// ListOrganisations lists the organisations the actor may see, by name: a producer's
// own, every one for the other roles.
func (db *DB) ListOrganisations(ctx context.Context, a booking.Actor) ([]booking.Organisation, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+organisationColumns+` FROM organisations
		WHERE ($1::uuid IS NULL OR id = $1) ORDER BY name, id`, confinedTo(a))
	os, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Organisation, error) { return scanOrganisation(r) })
	return os, formatError(err)
}

// CreateOrganisation adds an organisation (admins): a production company unless said
// otherwise.
func (db *DB) CreateOrganisation(ctx context.Context, a booking.Actor, in booking.OrganisationInput) (booking.Organisation, error) {
	var o booking.Organisation
	if err := requireAdmin(a); err != nil {
		return o, err
	}
	if in.Kind == "" {
		in.Kind = booking.OrgProductionCompany
	}
	if err := in.Validate(); err != nil {
		return o, err
	}
	now := db.now()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if o, err = scanOrganisation(tx.QueryRow(ctx, `INSERT INTO organisations (slug, name, country, kind, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+organisationColumns, in.Slug, in.Name, in.Country, in.Kind, now)); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "organisation.created", ObjectType: "organisation", ObjectID: o.ID.String(), After: o})
	})
	return o, err
}

// UpdateOrganisation changes an organisation's slug, name or country (admins).
func (db *DB) UpdateOrganisation(ctx context.Context, a booking.Actor, id uuid.UUID, p booking.OrganisationPatch, ifMatch *int) (booking.Organisation, error) {
	var out booking.Organisation
	if err := requireAdmin(a); err != nil {
		return out, err
	}
	if err := p.Validate(); err != nil {
		return out, err
	}
	now := db.now()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanOrganisation(tx.QueryRow(ctx, `SELECT `+organisationColumns+` FROM organisations WHERE id = $1 FOR NO KEY UPDATE`, id))
		if err != nil {
			return notFound(err, "organisation")
		}
		if err := checkVersion("organisation", ifMatch, before.Version); err != nil {
			return err
		}
		after := p.Apply(before)
		if after == before {
			out = before
			return nil
		}
		if out, err = scanOrganisation(tx.QueryRow(ctx, `UPDATE organisations SET slug = $2, name = $3, country = $4, version = version + 1
			WHERE id = $1 RETURNING `+organisationColumns, id, after.Slug, after.Name, after.Country)); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "organisation.updated", ObjectType: "organisation", ObjectID: id.String(), Before: before, After: out})
	})
	return out, err
}

// UpdateProduction changes a production's title, format, runtime, origins or
// deliverables (field by field; EUNPROCESSABLE names the first that breaks a rule):
// admins and managers any production, producers their own organisation's (another's
// answers ENOTFOUND, as one that does not exist).
func (db *DB) UpdateProduction(ctx context.Context, a booking.Actor, id uuid.UUID, p booking.ProductionPatch, ifMatch *int) (booking.Production, error) {
	var out booking.Production
	switch a.Role {
	case booking.RoleAdmin, booking.RoleManager, booking.RoleProducer:
	default:
		return out, booking.Errorf(booking.EFORBIDDEN, "Your role may not change productions.")
	}
	if err := p.Validate(); err != nil {
		return out, err
	}
	now := db.now()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanProduction(tx.QueryRow(ctx, productionSelect+` AND p.id = $2 FOR NO KEY UPDATE OF p`, confinedTo(a), id))
		if err != nil {
			return notFound(err, "production")
		}
		if err := checkVersion("production", ifMatch, before.Version); err != nil {
			return err
		}
		after := p.Apply(before)
		if after.Deliverables, err = after.Deliverables.Normalize(); err != nil {
			return err
		}
		originsChanged := !sameOrigins(before.Origins, after.Origins)
		deliverablesChanged := !after.Deliverables.Equal(before.Deliverables)
		if !originsChanged && !deliverablesChanged && after.Title == before.Title && after.Format == before.Format && after.RuntimeMinutes == before.RuntimeMinutes {
			out = before
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE productions SET title = $2, format = $3, runtime_minutes = $4, version = version + 1 WHERE id = $1`,
			id, after.Title, after.Format, after.RuntimeMinutes); err != nil {
			return err
		}
		if originsChanged {
			if _, err := tx.Exec(ctx, `DELETE FROM production_origins WHERE production_id = $1`, id); err != nil {
				return err
			}
			for _, o := range after.Origins {
				if _, err := tx.Exec(ctx, `INSERT INTO production_origins (production_id, country, share_pct) VALUES ($1, $2, $3)`,
					id, o.Country, o.SharePct); err != nil {
					return err
				}
			}
		}
		if deliverablesChanged {
			if err := setDeliverables(ctx, tx, id, after.Deliverables); err != nil {
				return err
			}
		}
		if out, err = scanProduction(tx.QueryRow(ctx, productionSelect+` AND p.id = $2`, nil, id)); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "production.updated", ObjectType: "production", ObjectID: id.String(), Before: before, After: out})
	})
	return out, err
}

// sameOrigins compares two sets of origins, in any order.
func sameOrigins(x, y []booking.Origin) bool {
	if len(x) != len(y) {
		return false
	}
	key := func(o booking.Origin) string { return o.Country }
	xs, ys := slices.Clone(x), slices.Clone(y)
	slices.SortFunc(xs, func(a, b booking.Origin) int { return strings.Compare(key(a), key(b)) })
	slices.SortFunc(ys, func(a, b booking.Origin) int { return strings.Compare(key(a), key(b)) })
	for i := range xs {
		// Shares are stored to the hundredth.
		if xs[i].Country != ys[i].Country || int64(xs[i].SharePct*100+0.5) != int64(ys[i].SharePct*100+0.5) {
			return false
		}
	}
	return true
}
