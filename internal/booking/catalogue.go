package booking

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/money"
)

// CatalogueAdmin changes the hub's catalogue: its sites and their resources, the
// organisations, and a production's own fields. Every change is audited with the
// object before and after. An update takes the version the caller last read (If-Match;
// nil imposes nothing) and answers EPRECONDITION (details.version, the current one)
// when the object has changed since; an update that changes nothing writes nothing.
// Nothing is ever deleted: sites and resources are taken out of service (Active).
type CatalogueAdmin interface {
	// CreateSite adds a site (admins; EFORBIDDEN otherwise). EINVALID for a bad slug,
	// name or country, a zone not in the embedded tz database or a currency not in the
	// ISO 4217 table; ECONFLICT for a slug taken.
	CreateSite(ctx context.Context, a Actor, in SiteInput) (Site, error)
	// UpdateSite changes a site. Admins change anything; a manager of the site only its
	// name (EFORBIDDEN otherwise, naming the field). The zone and currency change only
	// while the site has no bookings, rate cards or quotes, and a site is taken out of
	// service only once none of its resources is active (ECONFLICT, details.reason).
	UpdateSite(ctx context.Context, a Actor, id uuid.UUID, p SitePatch, ifMatch *int) (Site, error)
	// CreateResource adds a resource at an active site (admins, or managers of the
	// site). ENOTFOUND for an unknown site, ECONFLICT for a name the site already has
	// or a site out of service.
	CreateResource(ctx context.Context, a Actor, in ResourceInput) (Resource, error)
	// UpdateResource changes a resource (admins, or managers of its site). A resource
	// with holds or confirmed bookings still to end is not taken out of service
	// (ECONFLICT, details.reason resource_has_bookings), nor one put back in service at
	// a site out of service (site_inactive).
	UpdateResource(ctx context.Context, a Actor, id uuid.UUID, p ResourcePatch, ifMatch *int) (Resource, error)
	// ListOrganisations lists the organisations the actor may see, by name: a
	// producer's own, every one for the other roles.
	ListOrganisations(ctx context.Context, a Actor) ([]Organisation, error)
	// CreateOrganisation adds an organisation (admins). ECONFLICT for a slug taken.
	CreateOrganisation(ctx context.Context, a Actor, in OrganisationInput) (Organisation, error)
	// UpdateOrganisation changes an organisation's slug, name or country (admins).
	UpdateOrganisation(ctx context.Context, a Actor, id uuid.UUID, p OrganisationPatch, ifMatch *int) (Organisation, error)
	// UpdateProduction changes a production's title, format, runtime or origins
	// (admins, managers, and producers of its organisation). ENOTFOUND for a
	// production the actor may not see, exactly as for one that does not exist.
	UpdateProduction(ctx context.Context, a Actor, id uuid.UUID, p ProductionPatch, ifMatch *int) (Production, error)
}

// Organisation kinds.
const (
	OrgHub               = "hub"
	OrgProductionCompany = "production_company"
)

// SiteInput is what an admin gives to create a site.
type SiteInput struct {
	Slug     string
	Name     string
	Country  string
	TimeZone string
	Currency string
}

// Validate checks every field (EINVALID naming it).
func (in SiteInput) Validate() error {
	return firstError(CheckSlug(in.Slug), CheckName("name", in.Name, 200), CheckCountry("country", in.Country),
		CheckTimeZone(in.TimeZone), CheckCurrency(in.Currency))
}

// SitePatch is a change of a site: nil fields stay as they are.
type SitePatch struct {
	Slug     *string
	Name     *string
	Country  *string
	TimeZone *string
	Currency *string
	Active   *bool
}

// Validate checks the fields given.
func (p SitePatch) Validate() error {
	var errs []error
	if p.Slug != nil {
		errs = append(errs, CheckSlug(*p.Slug))
	}
	if p.Name != nil {
		errs = append(errs, CheckName("name", *p.Name, 200))
	}
	if p.Country != nil {
		errs = append(errs, CheckCountry("country", *p.Country))
	}
	if p.TimeZone != nil {
		errs = append(errs, CheckTimeZone(*p.TimeZone))
	}
	if p.Currency != nil {
		errs = append(errs, CheckCurrency(*p.Currency))
	}
	return firstError(errs...)
}

// Apply returns s with the patch's fields.
func (p SitePatch) Apply(s Site) Site {
	set(&s.Slug, p.Slug)
	set(&s.Name, p.Name)
	set(&s.Country, p.Country)
	set(&s.TimeZone, p.TimeZone)
	set(&s.Currency, p.Currency)
	set(&s.Active, p.Active)
	return s
}

// ResourceInput is what an admin or a site's manager gives to create a resource.
type ResourceInput struct {
	SiteID          uuid.UUID
	Name            string
	Category        string // room, person, equipment
	Kind            string
	Capabilities    []string
	RateMinor       int64
	RateUnit        string // hour (default) or day
	TraineeCapacity int
	// Active is nil for true: a new resource is in service unless said otherwise.
	Active *bool
}

// Validate checks every field.
func (in ResourceInput) Validate() error {
	if in.SiteID == uuid.Nil {
		return invalidField("site_id", "is required")
	}
	return firstError(CheckName("name", in.Name, 200), CheckCategory(in.Category), CheckKind(in.Kind),
		CheckCapabilities(in.Capabilities), CheckRate(in.RateMinor), CheckRateUnit(in.RateUnit),
		CheckTraineeCapacity(in.TraineeCapacity))
}

// ResourcePatch is a change of a resource: nil fields stay as they are. A resource
// stays at its site.
type ResourcePatch struct {
	Name            *string
	Category        *string
	Kind            *string
	Capabilities    *[]string
	RateMinor       *int64
	RateUnit        *string
	TraineeCapacity *int
	Active          *bool
}

// Validate checks the fields given.
func (p ResourcePatch) Validate() error {
	var errs []error
	if p.Name != nil {
		errs = append(errs, CheckName("name", *p.Name, 200))
	}
	if p.Category != nil {
		errs = append(errs, CheckCategory(*p.Category))
	}
	if p.Kind != nil {
		errs = append(errs, CheckKind(*p.Kind))
	}
	if p.Capabilities != nil {
		errs = append(errs, CheckCapabilities(*p.Capabilities))
	}
	if p.RateMinor != nil {
		errs = append(errs, CheckRate(*p.RateMinor))
	}
	if p.RateUnit != nil {
		errs = append(errs, CheckRateUnit(*p.RateUnit))
	}
	if p.TraineeCapacity != nil {
		errs = append(errs, CheckTraineeCapacity(*p.TraineeCapacity))
	}
	return firstError(errs...)
}

// Apply returns r with the patch's fields.
func (p ResourcePatch) Apply(r Resource) Resource {
	set(&r.Name, p.Name)
	set(&r.Category, p.Category)
	set(&r.Kind, p.Kind)
	if p.Capabilities != nil {
		r.Capabilities = normalCapabilities(*p.Capabilities)
	}
	set(&r.RateMinor, p.RateMinor)
	set(&r.RateUnit, p.RateUnit)
	set(&r.TraineeCapacity, p.TraineeCapacity)
	set(&r.Active, p.Active)
	return r
}

// OrganisationInput is what an admin gives to create an organisation.
type OrganisationInput struct {
	Slug    string
	Name    string
	Country string
	// Kind is production_company (the default) or hub.
	Kind string
}

// Validate checks every field.
func (in OrganisationInput) Validate() error {
	err := firstError(CheckSlug(in.Slug), CheckName("name", in.Name, 200), CheckCountry("country", in.Country))
	if err == nil && in.Kind != OrgHub && in.Kind != OrgProductionCompany {
		err = invalidField("kind", "must be production_company or hub")
	}
	return err
}

// OrganisationPatch is a change of an organisation. Its kind does not change: a
// production company's productions stay a production company's.
type OrganisationPatch struct {
	Slug    *string
	Name    *string
	Country *string
}

// Validate checks the fields given.
func (p OrganisationPatch) Validate() error {
	var errs []error
	if p.Slug != nil {
		errs = append(errs, CheckSlug(*p.Slug))
	}
	if p.Name != nil {
		errs = append(errs, CheckName("name", *p.Name, 200))
	}
	if p.Country != nil {
		errs = append(errs, CheckCountry("country", *p.Country))
	}
	return firstError(errs...)
}

// Apply returns o with the patch's fields.
func (p OrganisationPatch) Apply(o Organisation) Organisation {
	set(&o.Slug, p.Slug)
	set(&o.Name, p.Name)
	set(&o.Country, p.Country)
	return o
}

// ProductionPatch is a change of a production's own fields. Its organisation does not
// change, and its programme and emerging status are a manager's to set
// (SetMembership).
type ProductionPatch struct {
	Title          *string
	Format         *string
	RuntimeMinutes *int
	Origins        *[]Origin
	// Deliverables change field by field; UpdateProduction normalizes the result.
	Deliverables *DeliverablesPatch
}

// Validate checks the fields given, by ProductionInput's rules.
func (p ProductionPatch) Validate() error {
	switch {
	case p.Title != nil && (strings.TrimSpace(*p.Title) == "" || utf8.RuneCountInString(*p.Title) > 300):
		return invalidField("title", "must be 1 to 300 characters")
	case p.Format != nil && !validFormat(*p.Format):
		return invalidField("format", "must be feature, short, documentary or series_episode")
	case p.RuntimeMinutes != nil && (*p.RuntimeMinutes < 1 || *p.RuntimeMinutes > 1000):
		return invalidField("runtime_minutes", "must be 1 to 1000")
	case p.Origins != nil:
		return checkOrigins(*p.Origins)
	}
	return nil
}

// Apply returns pr with the patch's fields.
func (p ProductionPatch) Apply(pr Production) Production {
	set(&pr.Title, p.Title)
	set(&pr.Format, p.Format)
	set(&pr.RuntimeMinutes, p.RuntimeMinutes)
	if p.Origins != nil {
		pr.Origins = *p.Origins
	}
	if p.Deliverables != nil {
		pr.Deliverables = p.Deliverables.Apply(pr.Deliverables)
	}
	return pr
}

// The details.reason of the catalogue's conflicts, stable for clients to match.
const (
	// ReasonSiteHasActiveResources: a site is taken out of service only once none of
	// its resources is active.
	ReasonSiteHasActiveResources = "site_has_active_resources"
	// ReasonSiteInUse: a site's zone or currency changes only while it has no
	// bookings, rate cards or quotes, which were made in them.
	ReasonSiteInUse = "site_in_use"
	// ReasonSiteInactive: a resource is added or put back in service only at a site in
	// service.
	ReasonSiteInactive = "site_inactive"
	// ReasonResourceHasBookings: a resource is taken out of service only once it has
	// no hold or confirmed booking still to end; move or cancel them first.
	ReasonResourceHasBookings = "resource_has_bookings"
	// ReasonLastAdmin: the last active admin is neither deactivated nor given another
	// role.
	ReasonLastAdmin = "last_admin"
)

// Conflict is an ECONFLICT with a stable details.reason.
func Conflict(reason, format string, args ...any) *Error {
	return &Error{Code: ECONFLICT, Message: fmt.Sprintf(format, args...), Details: map[string]any{"reason": reason}}
}

// set replaces *dst with *v when v is given.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// firstError is the first of errs that is not nil.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

var (
	slugPattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)
	kindPattern       = regexp.MustCompile(`^[a-z][a-z0-9_]{1,62}$`)
	capabilityPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.:+-]{0,62}$`)
)

// The bounds of a resource's fields.
const (
	MaxRateMinor       = 1_000_000_000_000 // as a rate card's amount
	MaxTraineeCapacity = 100               // as a booking's trainees
	MaxCapabilities    = 50
)

// CheckSlug checks a site's or organisation's slug: 2 to 63 lower-case letters,
// digits and hyphens, starting with a letter or digit.
func CheckSlug(v string) error {
	if !slugPattern.MatchString(v) {
		return invalidField("slug", "must be 2 to 63 lower-case letters, digits and hyphens, starting with a letter or digit")
	}
	return nil
}

// CheckName checks a required name: 1 to max characters, not only white space.
func CheckName(field, v string, max int) error {
	if strings.TrimSpace(v) == "" || utf8.RuneCountInString(v) > max {
		return invalidField(field, fmt.Sprintf("must be 1 to %d characters, not only white space", max))
	}
	return nil
}

// CheckCountry checks an ISO 3166-1 alpha-2 code in capitals, as origins' are.
func CheckCountry(field, v string) error {
	if !isCountry(v) {
		return invalidField(field, "must be an ISO 3166-1 alpha-2 code in capitals, such as MA")
	}
	return nil
}

// CheckTimeZone checks a zone against the embedded tz database, never the machine's:
// EINVALID when missing or when the database has no such zone (details.tz_version
// names its release).
func CheckTimeZone(v string) error {
	if v == "" {
		return invalidField("time_zone", "is required")
	}
	if _, err := calendar.LoadLocation(v); err != nil {
		return &Error{Code: EINVALID,
			Message: fmt.Sprintf("time_zone must be an IANA zone of the tz database (release %s), such as Africa/Casablanca.", calendar.TZVersion()),
			Details: map[string]any{"field": "time_zone", "tz_version": calendar.TZVersion()}, Err: err}
	}
	return nil
}

// CheckCurrency checks a currency against posthub's one ISO 4217 table
// (money.ValidCurrency), as exchange rates' are: EINVALID for any other code.
func CheckCurrency(v string) error {
	if !money.ValidCurrency(v) {
		return invalidField("currency", "must be an ISO 4217 currency in circulation, in capitals, such as MAD or XOF")
	}
	return nil
}

// CheckCategory checks a resource's category.
func CheckCategory(v string) error {
	switch v {
	case "room", "person", "equipment":
		return nil
	}
	return invalidField("category", "must be room, person or equipment")
}

// CheckKind checks a resource kind: data, such as grading_suite.
func CheckKind(v string) error {
	if !kindPattern.MatchString(v) {
		return invalidField("kind", "must be 2 to 63 lower-case letters, digits and underscores, starting with a letter, such as grading_suite")
	}
	return nil
}

// CheckCapabilities checks capability tags: distinct, at most MaxCapabilities, each
// lower-case letters, digits and _ . : + - (hdr, lang:fr, 7.1.4), as a demand names
// them.
func CheckCapabilities(cs []string) error {
	if len(cs) > MaxCapabilities {
		return invalidField("capabilities", fmt.Sprintf("may hold at most %d tags", MaxCapabilities))
	}
	seen := map[string]bool{}
	for _, c := range cs {
		if !capabilityPattern.MatchString(c) || seen[c] {
			return invalidField("capabilities", "must be distinct tags of lower-case letters, digits and _ . : + -, such as hdr or lang:fr")
		}
		seen[c] = true
	}
	return nil
}

// normalCapabilities is never nil, so an empty set is stored and answered as [].
func normalCapabilities(cs []string) []string {
	if cs == nil {
		return []string{}
	}
	return cs
}

// CheckRate checks a rate in minor units.
func CheckRate(v int64) error {
	if v < 0 || v > MaxRateMinor {
		return invalidField("rate_minor", "must be 0 to 10^12 minor units")
	}
	return nil
}

// CheckRateUnit checks a rate's unit.
func CheckRateUnit(v string) error {
	if v != "hour" && v != "day" {
		return invalidField("rate_unit", "must be hour or day")
	}
	return nil
}

// CheckTraineeCapacity checks how many trainees a resource seats.
func CheckTraineeCapacity(v int) error {
	if v < 0 || v > MaxTraineeCapacity {
		return invalidField("trainee_capacity", fmt.Sprintf("must be 0 to %d", MaxTraineeCapacity))
	}
	return nil
}
