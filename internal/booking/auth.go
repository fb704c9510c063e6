package booking

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/i18n"
)

// RequestMeta describes the request a service call serves, for the audit log.
type RequestMeta struct {
	RequestID  string
	RemoteAddr string
}

type requestMetaKey struct{}

// WithRequestMeta attaches request metadata to a context.
func WithRequestMeta(ctx context.Context, m RequestMeta) context.Context {
	return context.WithValue(ctx, requestMetaKey{}, m)
}

// RequestMetaFrom returns the request metadata of ctx, or the zero value.
func RequestMetaFrom(ctx context.Context) RequestMeta {
	m, _ := ctx.Value(requestMetaKey{}).(RequestMeta)
	return m
}

// User is a person who uses posthub.
type User struct {
	ID             uuid.UUID   `json:"id"`
	OrganisationID uuid.UUID   `json:"organisation_id"`
	Email          string      `json:"email"`
	Name           string      `json:"name"`
	Role           Role        `json:"role"`
	Locale         string      `json:"locale"`
	SiteIDs        []uuid.UUID `json:"site_ids"`
	HasPassword    bool        `json:"has_password"`
	// Active is false for a deactivated user: they can neither sign in nor use their
	// API tokens, until an admin reactivates them.
	Active    bool      `json:"active"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
}

// UserInput is what an admin gives to create a user.
type UserInput struct {
	OrganisationID uuid.UUID
	Email          string
	Name           string
	Role           Role
	Locale         string
	SiteIDs        []uuid.UUID
	Password       string // optional; empty means API tokens only
}

// UserPatch is an admin's change of a user: nil fields stay as they are. SiteIDs, when
// given, replaces the sites the user manages (managers only: a user given another role
// must be given site_ids [] too).
type UserPatch struct {
	Name           *string
	Role           *Role
	Locale         *string
	OrganisationID *uuid.UUID
	Active         *bool
	SiteIDs        *[]uuid.UUID
}

// ValidLocale is whether a user's language (users.locale, what their mail and notices
// are written in) is one posthub has a message catalog for: adding a catalog adds a
// language, with no change here.
func ValidLocale(l string) bool { return i18n.Supported(l) }

// LocaleRule says which languages ValidLocale takes.
func LocaleRule() string { return "must be one of " + strings.Join(i18n.Languages(), ", ") }

// Validate checks the fields given.
func (p UserPatch) Validate() error {
	if p.Name != nil {
		if err := CheckName("name", *p.Name, 200); err != nil {
			return err
		}
	}
	switch {
	case p.Role != nil && !p.Role.Valid():
		return invalidField("role", "must be admin, manager, operator or producer")
	case p.Locale != nil && !ValidLocale(*p.Locale):
		return invalidField("locale", LocaleRule())
	case p.OrganisationID != nil && *p.OrganisationID == uuid.Nil:
		return invalidField("organisation_id", "must name an organisation")
	}
	if p.SiteIDs != nil {
		seen := map[uuid.UUID]bool{}
		for _, id := range *p.SiteIDs {
			if id == uuid.Nil || seen[id] {
				return invalidField("site_ids", "must be distinct site ids")
			}
			seen[id] = true
		}
	}
	return nil
}

// Password links: a single-use link, mailed, by which a user sets their password.
const (
	// LinkInvite is an admin's invitation to a new (or password-less) user.
	LinkInvite = "invite"
	// LinkReset is a reset a user asked for by their email.
	LinkReset = "reset"
)

// How long a password link may be used after it was made.
const (
	InviteLinkTTL = 72 * time.Hour
	ResetLinkTTL  = 2 * time.Hour
)

// PasswordLink is a single-use link to set a user's password. Only the SHA-256 of its
// secret is kept; the secret is made when the mail goes out and is in the mail alone.
type PasswordLink struct {
	ID        uuid.UUID `json:"id"`
	UserID    uuid.UUID `json:"user_id"`
	Purpose   string    `json:"purpose"` // invite or reset
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Who it is for, for the page that opens the link and for the mail.
	Email  string `json:"-"`
	Name   string `json:"-"`
	Locale string `json:"-"`
}

// PasswordMail is the mail of a password link: the link, to whom, and its secret,
// made for this mail.
type PasswordMail struct {
	Link PasswordLink
	// Secret is the link's secret: <base URL>/password/<Secret>. It is in the mail
	// alone; only its SHA-256 is kept.
	Secret string
	// InvitedBy is the name of the admin who sent an invitation ("" for a reset).
	InvitedBy string
}

// The details.reason of a password link that is gone (EGONE).
const (
	ReasonLinkUsed    = "password_link_used"
	ReasonLinkExpired = "password_link_expired"
	// ReasonLinkRevoked: a newer link for the user replaced it, their password was set
	// by another, or the user was deactivated.
	ReasonLinkRevoked = "password_link_revoked"
	// ReasonUserInactive: a deactivated user is not invited (ECONFLICT).
	ReasonUserInactive = "user_inactive"
)

// TokenInfo describes an API token; the token itself is never kept.
type TokenInfo struct {
	ID         uuid.UUID  `json:"id"`
	UserID     uuid.UUID  `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// Session is a signed-in browser: who, and the CSRF token its forms must carry.
type Session struct {
	Actor     Actor
	CSRFToken string
	ExpiresAt time.Time
}

// AuditEntry is one row of the append-only audit log.
type AuditEntry struct {
	ID             int64           `json:"id"`
	At             time.Time       `json:"at"`
	ActorID        *uuid.UUID      `json:"actor_id"`
	ActorRole      string          `json:"actor_role"`
	OrganisationID *uuid.UUID      `json:"organisation_id"`
	Action         string          `json:"action"`
	ObjectType     string          `json:"object_type"`
	ObjectID       string          `json:"object_id"`
	Before         json.RawMessage `json:"before,omitempty"`
	After          json.RawMessage `json:"after,omitempty"`
	RequestID      string          `json:"request_id,omitempty"`
}

// AuditFilter narrows the audit listing; zero fields do not filter. Cursor continues a
// listing from where the last page ended.
type AuditFilter struct {
	ActorID    *uuid.UUID
	Action     string
	ObjectType string
	ObjectID   string
	From, To   *time.Time
	Cursor     string
	Limit      int
}

// Auth is credentials and the people they belong to.
type Auth interface {
	// AuthenticateToken returns EUNAUTHORIZED for a malformed, unknown, expired or
	// revoked token or a disabled user; the cases are not told apart.
	AuthenticateToken(ctx context.Context, token string) (Actor, error)
	// AuthenticateSession returns EUNAUTHORIZED for an unknown or expired session.
	AuthenticateSession(ctx context.Context, sessionID string) (Session, error)
	// Login checks an email and password and opens a session, returning its secret id.
	// Returns EUNAUTHORIZED for any wrong credential. Both outcomes are audited.
	Login(ctx context.Context, email, password string, ttl time.Duration) (string, Session, error)
	// Logout ends the session.
	Logout(ctx context.Context, a Actor, sessionID string) error

	// CreateUser adds a user (admins only). Returns EINVALID or ECONFLICT (email taken).
	CreateUser(ctx context.Context, a Actor, in UserInput) (User, error)
	// ListUsers lists users (admins only).
	ListUsers(ctx context.Context, a Actor) ([]User, error)
	// FindUserByEmail returns ENOTFOUND for an unknown email (admins only).
	FindUserByEmail(ctx context.Context, a Actor, email string) (User, error)
	// UpdateUser changes a user's name, role, locale, organisation, sites managed and
	// whether they are active (admins only), audited. ifMatch is the version last read
	// (EPRECONDITION when it moved on). The last active admin keeps that role
	// (ECONFLICT, details.reason ReasonLastAdmin).
	UpdateUser(ctx context.Context, a Actor, id uuid.UUID, p UserPatch, ifMatch *int) (User, error)

	// InviteUser makes an invitation link for a user to set their password, valid for
	// InviteLinkTTL, and queues its mail in the same transaction (admins only). Earlier
	// links of the user stop working. ECONFLICT (ReasonUserInactive) for a deactivated
	// user.
	InviteUser(ctx context.Context, a Actor, id uuid.UUID) (PasswordLink, error)
	// RequestPasswordReset makes a reset link, valid for ResetLinkTTL, for the active
	// user with this email and queues its mail; for any other email it does nothing,
	// and the caller cannot tell the two apart. At most one mail a minute per user.
	RequestPasswordReset(ctx context.Context, email string) error
	// CheckPasswordLink says what a link's secret is for, without using it: ENOTFOUND
	// for no such link, EGONE (details.reason) for one used, revoked or expired.
	CheckPasswordLink(ctx context.Context, secret string) (PasswordLink, error)
	// SetPasswordWithLink sets the user's password from a link's secret, once:
	// EINVALID (field password) for a password too short, ENOTFOUND and EGONE as
	// CheckPasswordLink. The user's other links stop working and their sessions end.
	SetPasswordWithLink(ctx context.Context, secret, password string) error

	// CreateToken issues a token for userID and returns it in plain text, the only time
	// it is seen. Users create their own; admins anyone's. A zero ttl means no expiry.
	// Returns ECONFLICT (details.reason ReasonTokenLimit) when the user already has the
	// storage's maximum of active tokens, unless the actor is System (the CLI).
	CreateToken(ctx context.Context, a Actor, userID uuid.UUID, name string, ttl time.Duration) (TokenInfo, string, error)
	// ListTokens lists the actor's own tokens.
	ListTokens(ctx context.Context, a Actor) ([]TokenInfo, error)
	// RevokeToken revokes a token. Returns ENOTFOUND unless it is the actor's own or
	// the actor is an admin.
	RevokeToken(ctx context.Context, a Actor, id uuid.UUID) error
}

// Auditor reads the audit log.
type Auditor interface {
	// ListAudit returns entries newest first and the cursor of the next page ("" at
	// the end). Admins and managers only.
	ListAudit(ctx context.Context, a Actor, f AuditFilter) ([]AuditEntry, string, error)
}

// StoredResponse is the first answer to an idempotent request, replayed for retries.
type StoredResponse struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

// Idempotency remembers the answers to POST requests sent with an Idempotency-Key.
type Idempotency interface {
	// BeginIdempotent claims key for a request with the given hash: nil to go ahead,
	// a stored answer to replay, EUNPROCESSABLE for a key reused with another request,
	// ECONFLICT while the first request is in flight.
	BeginIdempotent(ctx context.Context, userID uuid.UUID, key string, hash []byte) (*StoredResponse, error)
	// CompleteIdempotent stores the answer (or frees the key after a 5xx).
	CompleteIdempotent(ctx context.Context, userID uuid.UUID, key string, resp StoredResponse) error
}

// IdempotencyRetention is how long an idempotent answer is kept: a retry with the key
// after that runs as a new request, and the cleanup job deletes the older answers.
const IdempotencyRetention = 24 * time.Hour

// The details.reason of conflicts about credentials, stable for clients to match.
const (
	// ReasonTokenLimit: the user already has the maximum of active API tokens; revoke
	// one first.
	ReasonTokenLimit = "token_limit"
	// ReasonSecretNotReplayed: a retry, by its Idempotency-Key, of a creation whose
	// answer carried a secret. The secret was shown once and is never stored to be
	// replayed; details.id names the object the first request created.
	ReasonSecretNotReplayed = "secret_not_replayed"
)
