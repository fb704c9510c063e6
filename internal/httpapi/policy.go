package httpapi

import "github.com/posthub/posthub/internal/booking"

// Policy says who may call a route. Which objects a permitted caller may see (a
// producer's own organisation's only) is the storage layer's business; the policy says
// only which roles may call at all.
type Policy struct {
	Public bool
	Roles  []booking.Role
}

// Allows reports whether a role may call the route.
func (p Policy) Allows(r booking.Role) bool {
	if p.Public {
		return true
	}
	for _, x := range p.Roles {
		if x == r {
			return true
		}
	}
	return false
}

var (
	public   = Policy{Public: true}
	everyone = Policy{Roles: booking.Roles}
)

// Policies is the one policy table: every registered route, keyed "METHOD pattern".
// Registering a route that is missing here panics.
var Policies = map[string]Policy{
	"GET /healthz":                 public,
	"GET /readyz":                  public,
	"GET /api/v1/me":               everyone,
	"GET /api/v1/sites":            everyone,
	"GET /api/v1/sites/{id}":       everyone,
	"GET /api/v1/resources":        everyone,
	"GET /api/v1/resources/{id}":   everyone,
	"GET /api/v1/productions":      everyone,
	"GET /api/v1/productions/{id}": everyone,
}
