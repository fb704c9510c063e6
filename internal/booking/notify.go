package booking

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Recipient is a person a notice goes to, with the language they read.
type Recipient struct {
	UserID uuid.UUID
	Email  string
	Name   string
	Locale string
	Role   Role
}

// NoticeContext is everything a notice about a booking needs: the booking, the words
// to name it, and who is concerned (the production's producers, the site's managers).
type NoticeContext struct {
	Booking         Booking
	ProductionTitle string
	SiteName        string
	OrganisationID  uuid.UUID
	ResourceNames   []string
	// Stage is the name of the plan stage the booking was placed for ("Grade"), when an
	// accepted plan placed it.
	Stage     string
	Producers []Recipient
	Managers  []Recipient
	// Webhooks are the production's organisation's enabled webhooks, secrets
	// included, for delivery.
	Webhooks []Webhook
}

// Languages keeps the language each person reads posthub in.
type Languages interface {
	// SetLocale stores the language the actor chose in the UI (one posthub has a
	// catalog for) as theirs: their mails and notices are written in it from then on.
	// EINVALID for a language without a catalog.
	SetLocale(ctx context.Context, a Actor, locale string) error
}

// DeliveryKey names one effect of one event: a recipient (a user or a webhook) on a
// channel. It happens once.
type DeliveryKey struct {
	EventID     uuid.UUID
	RecipientID uuid.UUID
	Channel     string // email, webhook, in_app
	Kind        string
}

// DeliveryInFlightError says another worker has claimed a delivery and may be making
// it now; its claim lapses at LeaseEnds.
type DeliveryInFlightError struct {
	Key       DeliveryKey
	LeaseEnds time.Time
}

func (e *DeliveryInFlightError) Error() string {
	return "the " + e.Key.Channel + " delivery of event " + e.Key.EventID.String() + " is in flight in another worker"
}

// Notification is an entry of a user's in-app feed.
type Notification struct {
	ID        uuid.UUID  `json:"id"`
	Kind      string     `json:"kind"`
	BookingID *uuid.UUID `json:"booking_id,omitempty"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

// InApp is a notification for one user's feed about one event; a user hears of an
// event in the feed once.
type InApp struct {
	EventID, UserID uuid.UUID
	Notification    Notification
}

// Webhook is an organisation's endpoint for booking events.
type Webhook struct {
	ID                  uuid.UUID  `json:"id"`
	OrganisationID      uuid.UUID  `json:"organisation_id"`
	URL                 string     `json:"url"`
	Enabled             bool       `json:"enabled"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	LastError           string     `json:"last_error,omitempty"`
	DisabledAt          *time.Time `json:"disabled_at,omitempty"`
	CreatedAt           time.Time  `json:"created_at"`
	Secret              string     `json:"-"`
}

// Notifications is the in-app feed and the organisations' webhooks.
type Notifications interface {
	// ListNotifications returns the actor's own feed, newest first.
	ListNotifications(ctx context.Context, a Actor, unreadOnly bool, cursor string, limit int) ([]Notification, string, error)
	// UnreadCount counts the actor's unread notifications.
	UnreadCount(ctx context.Context, a Actor) (int, error)
	// MarkRead marks the actor's notifications read (all of them when ids is empty)
	// and returns how many changed.
	MarkRead(ctx context.Context, a Actor, ids []uuid.UUID) (int, error)
	// CreateWebhook registers an endpoint for the actor's organisation and returns
	// its signing secret, shown once.
	CreateWebhook(ctx context.Context, a Actor, url string) (Webhook, string, error)
	// ListWebhooks lists the actor's organisation's webhooks (admins: all).
	ListWebhooks(ctx context.Context, a Actor) ([]Webhook, error)
	// DeleteWebhook returns ENOTFOUND for another organisation's webhook.
	DeleteWebhook(ctx context.Context, a Actor, id uuid.UUID) error
}

// DigestItem is one line of a manager's daily digest.
type DigestItem struct {
	BookingID  uuid.UUID `json:"booking_id"`
	Production string    `json:"production"`
	Site       string    `json:"site"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	StartLocal string    `json:"start_local"`
	TimeZone   string    `json:"time_zone"`
	// Due is the deadline that matters for the item (challenge deadline, hold expiry).
	Due *time.Time `json:"due,omitempty"`
}

// Digest is what a manager should look at today across the sites they manage.
type Digest struct {
	Manager      Recipient
	Approvals    []DigestItem // holds whose confirmation awaits approval
	Challenges   []DigestItem // holds challenged, with their deadlines
	StartingSoon []DigestItem // confirmed bookings starting in the next 24 hours
	ExpiringSoon []DigestItem // holds expiring in the next 24 hours
}

// Empty reports whether there is nothing to tell.
func (d Digest) Empty() bool {
	return len(d.Approvals)+len(d.Challenges)+len(d.StartingSoon)+len(d.ExpiringSoon) == 0
}
