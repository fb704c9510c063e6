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
	ID       uuid.UUID `json:"id"`
	Slug     string    `json:"slug"`
	Name     string    `json:"name"`
	Country  string    `json:"country"`
	TimeZone string    `json:"time_zone"`
	Currency string    `json:"currency"`
	// Active is false for a site out of service: none of its resources is active, so
	// nothing there can be booked or planned. Its bookings and history stay.
	Active bool `json:"active"`
	// Version counts the site's changes; it is the ETag that If-Match compares.
	Version   int       `json:"version"`
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
	// Active is false for a resource out of service: it cannot be booked or planned.
	Active  bool `json:"active"`
	Version int  `json:"version"`
}

// Organisation is a production company, or the hub's own operating company.
type Organisation struct {
	ID        uuid.UUID `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Country   string    `json:"country"`
	Kind      string    `json:"kind"` // hub or production_company
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
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
	// Emerging and Programme are what a manager or admin granted: only they count for
	// ring-fences, the treaty report and utilisation. A producer's ask waits in
	// RequestedEmerging and RequestedProgramme until a manager grants or refuses it.
	Emerging           bool     `json:"emerging"`
	Programme          string   `json:"programme,omitempty"`
	RequestedEmerging  bool     `json:"requested_emerging,omitempty"`
	RequestedProgramme string   `json:"requested_programme,omitempty"`
	Origins            []Origin `json:"origins"`
	// Deliverables drive its plan (DerivedStages).
	Deliverables Deliverables `json:"deliverables"`
	Version      int          `json:"version"`
	CreatedAt    time.Time    `json:"created_at"`
}

// Membership is a production's programme and emerging-filmmaker status as a manager
// sets them (granting, refusing or revoking what was asked).
type Membership struct {
	Programme string `json:"programme"`
	Emerging  bool   `json:"emerging"`
}

// Actor is the authenticated caller of a service method: who, in what role, for which
// organisation, managing which sites, and by which credential.
type Actor struct {
	UserID         uuid.UUID
	OrganisationID uuid.UUID
	Role           Role
	Email          string
	Locale         string
	SiteIDs        []uuid.UUID // managed sites (managers)
	// Credential identifies the token or session used, for rate limits and the audit.
	Credential string
	// System marks posthub itself acting (command-line bootstrapping, jobs): it may do
	// what an admin may, and the audit records it as "system".
	System bool
}

// System is posthub acting on its own behalf.
var System = Actor{Role: RoleAdmin, System: true, Email: "system", Locale: "en"}

// SeesAllProductions reports whether the actor may see every organisation's productions.
func (a Actor) SeesAllProductions() bool { return a.Role != RoleProducer }

// ManagesSite reports whether the actor may manage the site: admins every site,
// managers theirs.
func (a Actor) ManagesSite(id uuid.UUID) bool {
	if a.Role == RoleAdmin {
		return true
	}
	if a.Role != RoleManager {
		return false
	}
	for _, s := range a.SiteIDs {
		if s == id {
			return true
		}
	}
	return false
}

// ResourceFilter narrows a resource listing; zero fields do not filter.
type ResourceFilter struct {
	SiteID     *uuid.UUID
	Kind       string
	Capability []string // all of them
	// IncludeInactive lists resources out of service too.
	IncludeInactive bool
}

// Catalogue reads the hub's sites, resources and productions, and (CatalogueAdmin)
// changes them.
type Catalogue interface {
	// ListSites returns every site, active or not, ordered by name.
	ListSites(ctx context.Context) ([]Site, error)
	// FindSite returns ENOTFOUND if the site does not exist.
	FindSite(ctx context.Context, id uuid.UUID) (Site, error)
	// ListResources returns active resources matching f (inactive ones too with
	// f.IncludeInactive), ordered by site and name.
	ListResources(ctx context.Context, f ResourceFilter) ([]Resource, error)
	// FindResource returns ENOTFOUND if the resource does not exist.
	FindResource(ctx context.Context, id uuid.UUID) (Resource, error)
	// ListProductions returns the productions the actor may see: a producer's own
	// organisation's only.
	ListProductions(ctx context.Context, a Actor) ([]Production, error)
	// FindProduction returns ENOTFOUND if the production does not exist or belongs to
	// an organisation the actor may not see, so its existence is never revealed.
	FindProduction(ctx context.Context, a Actor, id uuid.UUID) (Production, error)
	// CreateProduction adds a production. Producers create for their own organisation
	// (OrganisationID is ignored); admins and managers name one. Returns EINVALID for
	// bad input, ENOTFOUND for an unknown organisation.
	CreateProduction(ctx context.Context, a Actor, in ProductionInput) (Production, error)
	// SetMembership sets a production's programme and emerging status (managers and
	// admins: EFORBIDDEN otherwise), settling any request its producer made.
	SetMembership(ctx context.Context, a Actor, id uuid.UUID, m Membership) (Production, error)

	CatalogueAdmin
}

// ProductionInput is what a caller gives to create a production.
type ProductionInput struct {
	OrganisationID uuid.UUID
	Title          string
	Format         string
	RuntimeMinutes int
	Emerging       bool
	Programme      string
	Origins        []Origin
	Deliverables   Deliverables
}

// Validate checks the input's rules and returns EINVALID naming the first broken one
// (EUNPROCESSABLE for the deliverables, which Normalize checks).
func (in ProductionInput) Validate() error {
	switch {
	case len(in.Title) == 0 || len([]rune(in.Title)) > 300:
		return invalidField("title", "must be 1 to 300 characters")
	case !validFormat(in.Format):
		return invalidField("format", "must be feature, short, documentary or series_episode")
	case in.RuntimeMinutes < 1 || in.RuntimeMinutes > 1000:
		return invalidField("runtime_minutes", "must be 1 to 1000")
	}
	if err := checkOrigins(in.Origins); err != nil {
		return err
	}
	_, err := in.Deliverables.Normalize()
	return err
}

// checkOrigins checks a production's origins: at least one, distinct countries, shares
// above 0 adding up to 100.
func checkOrigins(origins []Origin) error {
	if len(origins) == 0 {
		return invalidField("origins", "must name at least one country")
	}
	total := 0.0
	seen := map[string]bool{}
	for _, o := range origins {
		if !isCountry(o.Country) || seen[o.Country] {
			return invalidField("origins", "countries must be distinct ISO 3166 alpha-2 codes")
		}
		if o.SharePct <= 0 || o.SharePct > 100 {
			return invalidField("origins", "each share must be above 0 and at most 100")
		}
		seen[o.Country] = true
		total += o.SharePct
	}
	if total < 99.995 || total > 100.005 {
		return invalidField("origins", "shares must add up to 100")
	}
	return nil
}

func validFormat(f string) bool {
	switch f {
	case "feature", "short", "documentary", "series_episode":
		return true
	}
	return false
}

func isCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

// invalidField is the EINVALID error for one field, naming it in the details.
func invalidField(field, rule string) *Error {
	return &Error{Code: EINVALID, Message: field + " " + rule + ".", Details: map[string]any{"field": field}}
}
