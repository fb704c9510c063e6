package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
)

// CatalogueSnapshot is the hub's set-up, as `posthub catalogue export` writes it and
// `posthub catalogue apply` compares a file with: every site, in service or not, with
// its policy, calendar, resources and rate cards; the national holidays; the
// organisations; the users. Users carry no secret: no password hash, token or link.
type CatalogueSnapshot struct {
	Sites []SiteSnapshot // by slug
	// Holidays are the national holidays, by country, date and name.
	Holidays      []booking.Holiday
	Organisations []booking.Organisation // by slug
	Users         []booking.User         // by email
}

// SiteSnapshot is one site's set-up.
type SiteSnapshot struct {
	Site   booking.Site
	Policy booking.SitePolicy
	// Calendar is the site's week and periods with other hours; its Holidays are the
	// site's own closures only (the national ones are CatalogueSnapshot.Holidays).
	Calendar  booking.SiteCalendar
	Resources []booking.Resource // every one, in service or not, by name
	RateCards []booking.RateCard
}

// CatalogueSnapshot reads the hub's set-up (admins). On a DB bound to a transaction
// (OnTx, InOneTx) it reads in that transaction, changes made in it included.
func (db *DB) CatalogueSnapshot(ctx context.Context, a booking.Actor) (CatalogueSnapshot, error) {
	var out CatalogueSnapshot
	if err := requireAdmin(a); err != nil {
		return out, err
	}
	q := db.reader()
	rows, _ := q.Query(ctx, `SELECT `+siteColumns+` FROM sites ORDER BY slug`)
	sites, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Site, error) { return scanSite(r) })
	if err != nil {
		return out, formatError(err)
	}
	rows, _ = q.Query(ctx, `SELECT `+resourceColumns+` FROM resources ORDER BY site_id, name`)
	resources, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Resource, error) { return scanResource(r) })
	if err != nil {
		return out, formatError(err)
	}
	for _, s := range sites {
		ss := SiteSnapshot{Site: s, Resources: []booking.Resource{}}
		if ss.Policy, err = db.policy(ctx, q, s.ID); err != nil {
			return out, formatError(err)
		}
		if ss.Calendar, _, err = db.siteCalendar(ctx, q, s.ID); err != nil {
			return out, formatError(err)
		}
		own := []booking.Holiday{}
		for _, h := range ss.Calendar.Holidays {
			if h.SiteID != nil {
				own = append(own, h)
			}
		}
		ss.Calendar.Holidays = own
		for _, r := range resources {
			if r.SiteID == s.ID {
				ss.Resources = append(ss.Resources, r)
			}
		}
		if ss.RateCards, err = rateCards(ctx, q, &s.ID); err != nil {
			return out, formatError(err)
		}
		out.Sites = append(out.Sites, ss)
	}
	rows, _ = q.Query(ctx, `SELECT `+holidayColumns+` FROM holidays WHERE country IS NOT NULL ORDER BY country, date, name`)
	if out.Holidays, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Holiday, error) { return scanHoliday(r) }); err != nil {
		return out, formatError(err)
	}
	rows, _ = q.Query(ctx, `SELECT `+organisationColumns+` FROM organisations ORDER BY slug`)
	if out.Organisations, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Organisation, error) { return scanOrganisation(r) }); err != nil {
		return out, formatError(err)
	}
	rows, _ = q.Query(ctx, `SELECT `+userColumns+` FROM users u ORDER BY lower(u.email), u.email`)
	if out.Users, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.User, error) { return scanUser(r) }); err != nil {
		return out, formatError(err)
	}
	return out, nil
}
