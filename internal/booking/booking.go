// Package booking is posthub's domain: the hub's sites and resources, the productions
// that come to finish their films, the people who act on them, the error codes every
// layer shares, and the service interfaces that storage implements. It imports no
// storage or HTTP package; those depend on it.
package booking

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Role says what a user may do; the policy table in httpapi is keyed by it.
type Role string

// The roles. Producers see only their own organisation's productions.
const (
	RoleAdmin    Role = "admin"
	RoleManager  Role = "manager"
	RoleOperator Role = "operator"
	RoleProducer Role = "producer"
)

// Roles lists every role, for walking the policy table.
var Roles = []Role{RoleAdmin, RoleManager, RoleOperator, RoleProducer}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// Site is a facility location with its own zone, currency, calendar and policies.
type Site struct {
	ID        uuid.UUID `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Country   string    `json:"country"`
	TimeZone  string    `json:"time_zone"`
	Currency  string    `json:"currency"`
	CreatedAt time.Time `json:"created_at"`
}

// Resource is one bookable unit at a site: a room, a person or a piece of equipment.
type Resource struct {
	ID              uuid.UUID `json:"id"`
	SiteID          uuid.UUID `json:"site_id"`
	Name            string    `json:"name"`
	Category        string    `json:"category"` // room, person, equipment
	Kind            string    `json:"kind"`     // data, e.g. grading_suite, colourist
	Capabilities    []string  `json:"capabilities"`
	RateMinor       int64     `json:"rate_minor"` // in minor units of the site currency
	RateUnit        string    `json:"rate_unit"`  // hour or day
	TraineeCapacity int       `json:"trainee_capacity"`
	Active          bool      `json:"active"`
}

// Organisation is a production company, or the hub's own operating company.
type Organisation struct {
	ID      uuid.UUID `json:"id"`
	Slug    string    `json:"slug"`
	Name    string    `json:"name"`
	Country string    `json:"country"`
	Kind    string    `json:"kind"` // hub or production_company
}

// Origin is one country of a co-production with its share in percent.
type Origin struct {
	Country  string  `json:"country"`
	SharePct float64 `json:"share_pct"`
}

// Production is a film or series episode that comes to the hub to be finished.
type Production struct {
	ID             uuid.UUID `json:"id"`
	OrganisationID uuid.UUID `json:"organisation_id"`
	Title          string    `json:"title"`
	Format         string    `json:"format"` // feature, short, documentary, series_episode
	RuntimeMinutes int       `json:"runtime_minutes"`
	Emerging       bool      `json:"emerging"`
	Programme      string    `json:"programme,omitempty"`
	Origins        []Origin  `json:"origins"`
	CreatedAt      time.Time `json:"created_at"`
}

// Actor is the authenticated caller of a service method: who, in what role, for which
// organisation, managing which sites.
type Actor struct {
	UserID         uuid.UUID
	OrganisationID uuid.UUID
	Role           Role
	Email          string
	Locale         string
	SiteIDs        []uuid.UUID // managed sites (managers)
}

// SeesAllProductions reports whether the actor may see every organisation's productions.
func (a Actor) SeesAllProductions() bool { return a.Role != RoleProducer }

// ResourceFilter narrows a resource listing; zero fields do not filter.
type ResourceFilter struct {
	SiteID     *uuid.UUID
	Kind       string
	Capability []string // all of them
}

// Catalogue reads the hub's sites, resources and productions.
type Catalogue interface {
	// ListSites returns every site, ordered by name.
	ListSites(ctx context.Context) ([]Site, error)
	// FindSite returns ENOTFOUND if the site does not exist.
	FindSite(ctx context.Context, id uuid.UUID) (Site, error)
	// ListResources returns active resources matching f, ordered by site and name.
	ListResources(ctx context.Context, f ResourceFilter) ([]Resource, error)
	// FindResource returns ENOTFOUND if the resource does not exist.
	FindResource(ctx context.Context, id uuid.UUID) (Resource, error)
	// ListProductions returns the productions the actor may see: a producer's own
	// organisation's only.
	ListProductions(ctx context.Context, a Actor) ([]Production, error)
	// FindProduction returns ENOTFOUND if the production does not exist or belongs to
	// an organisation the actor may not see, so its existence is never revealed.
	FindProduction(ctx context.Context, a Actor, id uuid.UUID) (Production, error)
}

// Authenticator turns credentials into an Actor.
type Authenticator interface {
	// AuthenticateToken returns EUNAUTHORIZED for an unknown, expired or revoked token
	// or a disabled user.
	AuthenticateToken(ctx context.Context, token string) (Actor, error)
}
