package httpapi

import "github.com/posthub/posthub/internal/booking"

// Policy says who may call a route. Which objects a permitted caller may see (a
// producer's own organisation's only) is the storage layer's business; the policy says
// only which roles may call at all.
type Policy struct {
	Public bool
	Roles  []booking.Role
	// Page marks a web page: without a session it redirects to the login form rather
	// than answering 401.
	Page bool
	// OriginCheckOnly marks routes whose unsafe requests from a session carry no CSRF
	// token (River's own UI); the cross-origin check still applies to them.
	OriginCheckOnly bool
	// SecretAnswer marks a creation whose answer carries a secret shown once (an API
	// token, a feed's URL, a webhook's signing secret). Its Idempotency-Key store keeps
	// only the new object's id, and a retry with the key answers 409 naming that object
	// (details.reason secret_not_replayed), never the secret: a stored secret could be
	// read from the database and replayed after the object was revoked. This table is
	// the one place that says which routes these are.
	SecretAnswer bool
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

func roles(rs ...booking.Role) Policy { return Policy{Roles: rs} }

func page(rs ...booking.Role) Policy { return Policy{Roles: rs, Page: true} }

// secretAnswer marks p's route as answering a secret shown once (Policy.SecretAnswer).
func secretAnswer(p Policy) Policy {
	p.SecretAnswer = true
	return p
}

const (
	admin    = booking.RoleAdmin
	manager  = booking.RoleManager
	operator = booking.RoleOperator
	producer = booking.RoleProducer
)

var (
	public   = Policy{Public: true}
	everyone = roles(booking.Roles...)
	opsJobs  = Policy{Roles: []booking.Role{admin, operator}, Page: true, OriginCheckOnly: true}
)

// Policies is the one policy table: every registered route, API and page alike, keyed
// "METHOD pattern". Registering a route that is missing here panics, and a test walks
// every route for every role against it.
var Policies = map[string]Policy{
	"GET /healthz": public,
	"GET /readyz":  public,

	"GET /openapi.json": public,
	// Prometheus scrapes without credentials: it shows counts and ratios, never a
	// production's details. Keep the port off the public internet.
	"GET /metrics": public,

	"GET /api/v1/me":                          everyone,
	"GET /api/v1/sites":                       everyone,
	"GET /api/v1/sites/{id}":                  everyone,
	"GET /api/v1/resources":                   everyone,
	"GET /api/v1/resources/{id}":              everyone,
	"GET /api/v1/productions":                 everyone,
	"POST /api/v1/productions":                roles(admin, manager, producer),
	"GET /api/v1/productions/{id}":            everyone,
	"PUT /api/v1/productions/{id}/membership": roles(admin, manager),
	"GET /api/v1/tokens":                      everyone,
	"POST /api/v1/tokens":                     secretAnswer(everyone),
	"DELETE /api/v1/tokens/{id}":              everyone,
	"GET /api/v1/users":                       roles(admin),
	"POST /api/v1/users":                      roles(admin),
	"GET /api/v1/audit":                       roles(admin, manager),

	// Catalogue administration. Which site a manager may change (their own) and which
	// production a producer may (their organisation's) is the storage's business.
	// Anyone may ask for a password reset or use a link: the link's secret is the
	// credential, and a reset's answer never tells whether the email is known.
	"POST /api/v1/sites":               roles(admin),
	"PATCH /api/v1/sites/{id}":         roles(admin, manager),
	"POST /api/v1/resources":           roles(admin, manager),
	"PATCH /api/v1/resources/{id}":     roles(admin, manager),
	"GET /api/v1/organisations":        everyone,
	"POST /api/v1/organisations":       roles(admin),
	"PATCH /api/v1/organisations/{id}": roles(admin),
	"PATCH /api/v1/productions/{id}":   roles(admin, manager, producer),
	"PATCH /api/v1/users/{id}":         roles(admin),
	"POST /api/v1/users/{id}/invite":   roles(admin),
	"POST /api/v1/password-resets":     public,
	"POST /api/v1/password/{token}":    public,

	"GET /api/v1/sites/{id}/policy":                    everyone,
	"PUT /api/v1/sites/{id}/policy":                    roles(admin, manager),
	"GET /api/v1/bookings":                             everyone,
	"POST /api/v1/bookings":                            roles(admin, manager, producer),
	"GET /api/v1/bookings/{id}":                        everyone,
	"PATCH /api/v1/bookings/{id}":                      roles(admin, manager, producer),
	"DELETE /api/v1/bookings/{id}/working-time-review": roles(admin, manager),
	"POST /api/v1/bookings/{id}/confirm":               roles(admin, manager, producer),
	"POST /api/v1/bookings/{id}/release":               roles(admin, manager, producer),
	"POST /api/v1/bookings/{id}/decline":               roles(admin, manager),
	"POST /api/v1/bookings/{id}/cancel":                roles(admin, manager, producer),
	"GET /api/v1/sites/{id}/calendar":                  everyone,
	"PUT /api/v1/sites/{id}/calendar/week":             roles(admin, manager),
	"POST /api/v1/sites/{id}/calendar/overrides":       roles(admin, manager),
	"DELETE /api/v1/calendar/overrides/{id}":           roles(admin, manager),
	"POST /api/v1/holidays":                            roles(admin, manager),
	"POST /api/v1/holidays/{id}/confirm":               roles(admin, manager),
	"DELETE /api/v1/holidays/{id}":                     roles(admin, manager),
	"GET /api/v1/plan-templates":                       everyone,
	"POST /api/v1/plans":                               roles(admin, manager, producer),
	"GET /api/v1/plans/{id}":                           roles(admin, manager, producer),
	"POST /api/v1/plans/{id}/accept":                   roles(admin, manager, producer),
	"GET /api/v1/plans":                                roles(admin, manager, producer),
	"POST /api/v1/plans/{id}/confirm":                  roles(admin, manager, producer),
	"POST /api/v1/plans/{id}/replan-remaining":         roles(admin, manager, producer),
	"POST /api/v1/replans":                             roles(admin, manager),
	"POST /api/v1/replans/{id}/apply":                  roles(admin, manager),
	"GET /api/v1/availability":                         everyone,
	"GET /api/v1/working-time":                         everyone,
	"GET /api/v1/utilisation":                          roles(admin, manager, operator),
	"GET /api/v1/notifications":                        everyone,
	"GET /api/v1/events":                               roles(admin, manager, producer),
	"POST /api/v1/notifications/read":                  everyone,
	"GET /api/v1/webhooks":                             roles(admin, producer),
	"POST /api/v1/webhooks":                            secretAnswer(roles(admin, producer)),
	"DELETE /api/v1/webhooks/{id}":                     roles(admin, producer),

	// River's own UI.
	"GET /ops/jobs":      page(admin, operator),
	"GET /ops/jobs/*":    opsJobs,
	"POST /ops/jobs/*":   opsJobs,
	"PUT /ops/jobs/*":    opsJobs,
	"PATCH /ops/jobs/*":  opsJobs,
	"DELETE /ops/jobs/*": opsJobs,

	"GET /api/v1/blocks":         everyone,
	"POST /api/v1/blocks":        roles(admin, manager),
	"DELETE /api/v1/blocks/{id}": roles(admin, manager),

	// Co-production. A feed's URL is public: its secret token is the credential.
	"GET /api/v1/rate-cards":          everyone,
	"POST /api/v1/rate-cards":         roles(admin, manager),
	"DELETE /api/v1/rate-cards/{id}":  roles(admin, manager),
	"GET /api/v1/exchange-rates":      everyone,
	"POST /api/v1/exchange-rates":     roles(admin, manager),
	"GET /api/v1/quotes":              everyone,
	"POST /api/v1/quotes":             roles(admin, manager, producer),
	"GET /api/v1/quotes/{id}":         everyone,
	"GET /api/v1/reports/treaty":      roles(admin, manager, operator),
	"GET /api/v1/ring-fences":         everyone,
	"POST /api/v1/ring-fences":        roles(admin, manager),
	"DELETE /api/v1/ring-fences/{id}": roles(admin, manager),
	"GET /api/v1/ical-feeds":          everyone,
	"POST /api/v1/ical-feeds":         secretAnswer(everyone),
	"DELETE /api/v1/ical-feeds/{id}":  everyone,
	"GET /ical/{token}.ics":           public,
	"GET /quotes/{id}":                page(booking.Roles...),
	"POST /bookings/{id}/quote":       page(admin, manager, producer),
	"GET /reports/treaty":             page(admin, manager, operator),
	"GET /reports/treaty.csv":         page(admin, manager, operator),

	// Web pages (internal/web).
	"GET /static/*": public,
	"GET /login":    public,
	"POST /login":   public,
	"POST /logout":  page(booking.Roles...),
	"GET /":         page(booking.Roles...),

	"GET /productions":                         page(booking.Roles...),
	"GET /productions/new":                     page(admin, manager, producer),
	"POST /productions":                        page(admin, manager, producer),
	"GET /productions/{id}/edit":               page(admin, manager, producer),
	"POST /productions/{id}/edit":              page(admin, manager, producer),
	"GET /bookings":                            page(admin, manager, producer),
	"GET /bookings/new":                        page(admin, manager, producer),
	"POST /bookings":                           page(admin, manager, producer),
	"POST /bookings/{id}/confirm":              page(admin, manager, producer),
	"POST /bookings/{id}/release":              page(admin, manager, producer),
	"POST /bookings/{id}/cancel":               page(admin, manager, producer),
	"POST /bookings/{id}/decline":              page(admin, manager),
	"POST /bookings/{id}/reschedule":           page(admin, manager, producer),
	"GET /plans/new":                           page(admin, manager, producer),
	"POST /plans":                              page(admin, manager, producer),
	"GET /plans/{id}":                          page(admin, manager, producer),
	"POST /plans/{id}/accept":                  page(admin, manager, producer),
	"POST /plans/{id}/confirm":                 page(admin, manager, producer),
	"POST /plans/{id}/replan-remaining":        page(admin, manager, producer),
	"GET /plans":                               page(admin, manager, producer),
	"GET /productions/{id}/plans":              page(admin, manager, producer),
	"GET /bookings/{id}":                       page(admin, manager, producer),
	"GET /notifications":                       page(booking.Roles...),
	"POST /notifications/read":                 page(booking.Roles...),
	"GET /manage/queue":                        page(admin, manager),
	"POST /manage/bookings/{id}/reviewed":      page(admin, manager),
	"POST /manage/productions/{id}/membership": page(admin, manager),
	"GET /manage/timeline":                     page(admin, manager),
	"GET /manage/board":                        page(admin, manager),
	"GET /manage/calendar":                     page(admin, manager),
	"POST /manage/sites/{id}/policy":           page(admin, manager),
	"POST /manage/holidays/{id}/confirm":       page(admin, manager),
	"POST /manage/holidays/{id}/delete":        page(admin, manager),
	"POST /manage/sites/{id}/week":             page(admin, manager),
	"POST /manage/sites/{id}/periods":          page(admin, manager),
	"POST /manage/periods/{id}/delete":         page(admin, manager),
	"POST /manage/sites/{id}/holidays":         page(admin, manager),
	"POST /manage/sites/{id}/blocks":           page(admin, manager),
	"POST /manage/blocks/{id}/delete":          page(admin, manager),
	"GET /ops":                                 page(admin, operator),
	"GET /ops/utilisation.csv":                 page(admin, operator),

	// The administration pages (internal/web/admin*.go). Which site a manager keeps
	// (their own) is checked by the pages and the domain; a site's service, its zone
	// and currency, organisations and users are an admin's. Tokens are everyone's own,
	// webhooks an organisation's. A password link's page is public, its secret the
	// credential; the reset request answers the same for any email.
	"GET /admin":                          page(admin, manager),
	"GET /admin/sites":                    page(admin, manager),
	"POST /admin/sites":                   page(admin),
	"GET /admin/sites/{id}":               page(admin, manager),
	"POST /admin/sites/{id}":              page(admin, manager),
	"POST /admin/sites/{id}/active":       page(admin),
	"POST /admin/sites/{id}/resources":    page(admin, manager),
	"GET /admin/resources/{id}":           page(admin, manager),
	"POST /admin/resources/{id}":          page(admin, manager),
	"POST /admin/resources/{id}/active":   page(admin, manager),
	"GET /admin/organisations":            page(admin),
	"POST /admin/organisations":           page(admin),
	"GET /admin/organisations/{id}":       page(admin),
	"POST /admin/organisations/{id}":      page(admin),
	"GET /admin/users":                    page(admin),
	"POST /admin/users":                   page(admin),
	"GET /admin/users/{id}":               page(admin),
	"POST /admin/users/{id}":              page(admin),
	"POST /admin/users/{id}/invite":       page(admin),
	"GET /admin/rate-cards":               page(admin, manager),
	"POST /admin/rate-cards":              page(admin, manager),
	"POST /admin/rate-cards/{id}/delete":  page(admin, manager),
	"GET /admin/exchange-rates":           page(admin, manager),
	"POST /admin/exchange-rates":          page(admin, manager),
	"GET /admin/ring-fences":              page(admin, manager),
	"POST /admin/ring-fences":             page(admin, manager),
	"POST /admin/ring-fences/{id}/delete": page(admin, manager),
	"GET /account/tokens":                 page(booking.Roles...),
	"POST /account/tokens":                page(booking.Roles...),
	"POST /account/tokens/{id}/revoke":    page(booking.Roles...),
	"GET /webhooks":                       page(admin, producer),
	"POST /webhooks":                      page(admin, producer),
	"POST /webhooks/{id}/delete":          page(admin, producer),
	"GET /password/{token}":               {Public: true, Page: true},
	"POST /password/{token}":              {Public: true, Page: true},
	"POST /login/reset":                   {Public: true, Page: true},
}
