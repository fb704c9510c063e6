package booking

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/money"
)

// Co-production features: rate cards and quotes with locked exchange rates, the
// treaty report, ring-fenced capacity for a programme, and iCalendar feeds.

// Rate units.
const (
	UnitHour = "hour"
	UnitDay  = "day"
)

// QuoteCurrencies are the currencies every quote and treaty report is also given in,
// beside the site's own: the CFA franc of the Senegalese partner and the euro.
var QuoteCurrencies = []string{"XOF", "EUR"}

// RateCard prices a resource kind at a site, or one resource (which then overrides its
// kind's card), per hour or per day, in minor units of the site's currency. Effective
// dates are optional site-local dates, both inclusive.
type RateCard struct {
	ID            uuid.UUID  `json:"id"`
	SiteID        uuid.UUID  `json:"site_id"`
	Kind          string     `json:"kind,omitempty"`
	ResourceID    *uuid.UUID `json:"resource_id,omitempty"`
	Unit          string     `json:"unit"`
	AmountMinor   int64      `json:"amount_minor"`
	Amount        string     `json:"amount"`
	Currency      string     `json:"currency"`
	EffectiveFrom string     `json:"effective_from,omitempty"`
	EffectiveTo   string     `json:"effective_to,omitempty"`
	// OvertimeMultiplierBP is what time sold as overtime costs, in basis points of
	// the rate (15000: 1.5×).
	OvertimeMultiplierBP int       `json:"overtime_multiplier_bp"`
	CreatedAt            time.Time `json:"created_at"`
}

// DefaultOvertimeMultiplierBP is the overtime multiplier of a card that names none
// and of a resource priced at its catalogue rate: 1.5×.
const DefaultOvertimeMultiplierBP = 15000

// RateCardInput is what a manager gives to add a rate card.
type RateCardInput struct {
	SiteID        uuid.UUID
	Kind          string
	ResourceID    *uuid.UUID
	Unit          string
	AmountMinor   int64
	EffectiveFrom string
	EffectiveTo   string
	// OvertimeMultiplierBP, 10000 (1×) to 50000 (5×); zero takes the default.
	OvertimeMultiplierBP int
}

// CheckOvertimeMultiplier is the rule of a rate card's overtime multiplier given:
// 10000 (1×) to 50000 (5×) basis points.
func CheckOvertimeMultiplier(bp int) error {
	if bp < 10000 || bp > 50000 {
		return &Error{Code: EUNPROCESSABLE, Message: "overtime_multiplier_bp must be 10000 (1×) to 50000 (5×).",
			Details: map[string]any{"field": "overtime_multiplier_bp"}}
	}
	return nil
}

// Validate checks the input's own rules (EINVALID naming the field).
func (in RateCardInput) Validate() error {
	switch {
	case in.SiteID == uuid.Nil:
		return invalidField("site_id", "is required")
	case (in.Kind == "") == (in.ResourceID == nil):
		return invalidField("kind", "or resource_id must be given, not both")
	case in.Unit != UnitHour && in.Unit != UnitDay:
		return invalidField("unit", "must be hour or day")
	case in.AmountMinor < 0 || in.AmountMinor > 1_000_000_000_000:
		return invalidField("amount_minor", "must be 0 to 10^12 minor units")
	case in.OvertimeMultiplierBP != 0:
		if err := CheckOvertimeMultiplier(in.OvertimeMultiplierBP); err != nil {
			return err
		}
	}
	var from, to time.Time
	var err error
	if in.EffectiveFrom != "" {
		if from, err = time.Parse(time.DateOnly, in.EffectiveFrom); err != nil {
			return invalidField("effective_from", "must be a date like 2027-01-01")
		}
	}
	if in.EffectiveTo != "" {
		if to, err = time.Parse(time.DateOnly, in.EffectiveTo); err != nil {
			return invalidField("effective_to", "must be a date like 2027-12-31")
		}
		if in.EffectiveFrom != "" && to.Before(from) {
			return invalidField("effective_to", "must be on or after effective_from")
		}
	}
	return nil
}

// ExchangeRate is a rate a manager entered: one unit of Base is worth Rate units of
// Quote from EffectiveAt on (until a later rate for the pair). Rate is an exact
// decimal; no rate is ever fetched from the network.
type ExchangeRate struct {
	ID          uuid.UUID `json:"id"`
	Base        string    `json:"base"`
	Quote       string    `json:"quote"`
	Rate        string    `json:"rate"`
	EffectiveAt time.Time `json:"effective_at"`
	CreatedAt   time.Time `json:"created_at"`
}

// ExchangeRateInput is what a manager gives to enter a rate. Rates are never changed:
// a correction is a new rate for the pair, in force from its own EffectiveAt.
type ExchangeRateInput struct {
	Base, Quote string
	Rate        string
	// EffectiveAt is when the rate comes into force; nil (absent) means now.
	EffectiveAt *time.Time
}

// A rate comes into force from EarliestRateAt to LatestRateAt, inclusive: the bounds
// of every instant the API takes. A zero time (0001-01-01) or a typo's year 20270 is
// refused, never taken for now.
var (
	EarliestRateAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	LatestRateAt   = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Validate checks the input's own rules: base and quote are distinct ISO 4217 codes in
// capitals (EINVALID), the rate a decimal of at most 12 places (EINVALID) between
// money.MinRate and money.MaxRate (EUNPROCESSABLE), and EffectiveAt, if given, from
// EarliestRateAt to LatestRateAt (EUNPROCESSABLE); each error names its field.
func (in ExchangeRateInput) Validate() error {
	switch {
	case !money.ValidCurrency(in.Base):
		return invalidField("base", "must be an ISO 4217 currency code in capitals, such as EUR")
	case !money.ValidCurrency(in.Quote):
		return invalidField("quote", "must be an ISO 4217 currency code in capitals, such as XOF")
	case in.Base == in.Quote:
		return invalidField("quote", "must differ from base")
	}
	r, err := money.ParseRate(in.Rate)
	if err != nil {
		return invalidField("rate", "must be a positive decimal such as 655.957 (at most 12 decimals), written as a string or a number")
	}
	if !money.RateInBounds(r) {
		return &Error{Code: EUNPROCESSABLE, Message: "rate must be between " + money.MinRate + " and " + money.MaxRate + "; enter a rarer pair through EUR.",
			Details: map[string]any{"field": "rate", "min": money.MinRate, "max": money.MaxRate}}
	}
	if at := in.EffectiveAt; at != nil && (at.Before(EarliestRateAt) || at.After(LatestRateAt)) {
		return &Error{Code: EUNPROCESSABLE, Message: "effective_at must be from " + EarliestRateAt.Format(time.RFC3339) + " to " + LatestRateAt.Format(time.RFC3339) + ".",
			Details: map[string]any{"field": "effective_at"}}
	}
	return nil
}

// QuoteItem is one resource over one interval to price. What it bills is the
// resource's working time in the interval (calendar.UseOf): an hourly rate bills the
// working hours, a daily rate the site-local days with working time. Overtime items
// also bill the interval's closed time at the overtime multiplier, on a line of its own.
type QuoteItem struct {
	ResourceID uuid.UUID
	Start, End time.Time
	Overtime   bool
}

// QuoteLine is one priced item of a quote.
type QuoteLine struct {
	ResourceID   uuid.UUID `json:"resource_id"`
	ResourceName string    `json:"resource_name"`
	Kind         string    `json:"kind"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
	StartLocal   string    `json:"start_local"`
	EndLocal     string    `json:"end_local"`
	Unit         string    `json:"unit"`
	// Overtime marks the line billing the interval's time outside working hours, at
	// the rate times MultiplierBP/10000.
	Overtime     bool `json:"overtime,omitempty"`
	MultiplierBP int  `json:"multiplier_bp,omitempty"`
	// Quantity is the hours (to two decimals, for reading; the amount uses Seconds
	// exactly) or the days billed.
	Quantity    string     `json:"quantity"`
	Seconds     int64      `json:"seconds,omitempty"`
	Days        int        `json:"days,omitempty"`
	RateMinor   int64      `json:"rate_minor"`
	Rate        string     `json:"rate"`
	RateSource  string     `json:"rate_source"` // resource_card, kind_card or resource (the catalogue's own rate)
	RateCardID  *uuid.UUID `json:"rate_card_id,omitempty"`
	AmountMinor int64      `json:"amount_minor"`
	Amount      string     `json:"amount"`
}

// Conversion is a quote's total in another currency at the exchange rate locked when
// the quote was made: Rate units of Currency per unit of the quote's currency (shown
// to 12 decimals at most; the total uses the exact product of Legs), derived from the
// rates entered in Legs (none for the quote's own currency).
type Conversion struct {
	Currency   string         `json:"currency"`
	Rate       string         `json:"rate"`
	TotalMinor int64          `json:"total_minor"`
	Total      string         `json:"total"`
	Legs       []ExchangeRate `json:"legs"`
}

// Quote prices bookings or a plan's stages at a site's rate cards, in the site's
// currency, with the totals in XOF and EUR at the exchange rates in force at RatesAt.
// A stored quote never changes: rates entered later do not touch it.
type Quote struct {
	// ID and CreatedAt are those of a stored quote; a preview (a plan's quote) has
	// neither.
	ID              uuid.UUID    `json:"id,omitzero"`
	BookingID       *uuid.UUID   `json:"booking_id,omitempty"`
	ProductionID    *uuid.UUID   `json:"production_id,omitempty"`
	ProductionTitle string       `json:"production_title,omitempty"`
	SiteID          uuid.UUID    `json:"site_id"`
	SiteName        string       `json:"site_name"`
	TimeZone        string       `json:"time_zone"`
	Currency        string       `json:"currency"`
	Lines           []QuoteLine  `json:"lines"`
	TotalMinor      int64        `json:"total_minor"`
	Total           string       `json:"total"`
	Conversions     []Conversion `json:"conversions"`
	RatesAt         time.Time    `json:"rates_at"`
	Warnings        []string     `json:"warnings,omitempty"`
	CreatedAt       time.Time    `json:"created_at,omitzero"`
	CreatedBy       *uuid.UUID   `json:"created_by,omitempty"`
}

// QuoteRequest asks for a quote of items at one site (the plans API's quote).
type QuoteRequest struct {
	SiteID       uuid.UUID
	ProductionID *uuid.UUID
	Items        []QuoteItem
	// Store keeps the quote with its rates locked; otherwise it is a preview (zero ID).
	Store bool
}

// Quotes prices bookings and plans.
type Quotes interface {
	// ListRateCards lists the rate cards of a site (nil: every site).
	ListRateCards(ctx context.Context, siteID *uuid.UUID) ([]RateCard, error)
	// CreateRateCard adds a card (managers of the site, admins). EINVALID for bad input
	// or a resource of another site.
	CreateRateCard(ctx context.Context, a Actor, in RateCardInput) (RateCard, error)
	// DeleteRateCard removes a card; quotes already made keep their prices.
	DeleteRateCard(ctx context.Context, a Actor, id uuid.UUID) error
	// ListExchangeRates lists the entered rates, newest first.
	ListExchangeRates(ctx context.Context) ([]ExchangeRate, error)
	// CreateExchangeRate enters a rate, never changing one: admins any pair, a manager
	// a pair naming the currency of a site they manage whose other currency is theirs
	// too or billed by no site (EFORBIDDEN otherwise). EINVALID or EUNPROCESSABLE for
	// input Validate refuses.
	CreateExchangeRate(ctx context.Context, a Actor, in ExchangeRateInput) (ExchangeRate, error)
	// QuoteBooking prices a booking as it stands and stores the quote, rates locked.
	// ENOTFOUND for a booking the actor may not see, ECONFLICT for one no longer active.
	QuoteBooking(ctx context.Context, a Actor, bookingID uuid.UUID) (Quote, error)
	// QuoteItems prices resources over intervals at one site (stored when asked).
	QuoteItems(ctx context.Context, a Actor, r QuoteRequest) (Quote, error)
	// FindQuote returns ENOTFOUND for a quote the actor may not see.
	FindQuote(ctx context.Context, a Actor, id uuid.UUID) (Quote, error)
	// ListQuotes lists the quotes the actor may see, newest first, of one booking if given.
	ListQuotes(ctx context.Context, a Actor, bookingID *uuid.UUID) ([]Quote, error)
}

// TreatyQuery asks for the treaty report of a site over [From, To).
type TreatyQuery struct {
	SiteID   uuid.UUID
	From, To time.Time
}

// Validate checks the query's own rules, as a utilisation query's.
func (q TreatyQuery) Validate() error {
	return UtilisationQuery{SiteID: q.SiteID, From: q.From, To: q.To}.Validate()
}

// Amount is a sum of money in minor units of a currency, and as a decimal.
type Amount struct {
	Currency string `json:"currency"`
	Minor    int64  `json:"minor"`
	Value    string `json:"value"`
}

// NewAmount makes an Amount.
func NewAmount(currency string, minor int64) Amount {
	return Amount{Currency: currency, Minor: minor, Value: money.Format(minor, currency)}
}

// TreatyFigures are the post-production figures of a group (a country, or all).
// Hours are booked time of confirmed and completed bookings clipped to the period:
// session hours once per booking, resource hours once per booked resource. Value is the
// bookings priced at the rate cards in force on their dates, in the site's currency,
// with Converted giving it in XOF and EUR at the report's rates. A co-production's
// figures are split between its countries by their shares (whole seconds and minor
// units, largest remainder, so the countries add up to the total exactly); a
// country's Converted is its part of the converted total, split by the countries'
// values, so they add up to it in every currency too.
type TreatyFigures struct {
	Productions   int      `json:"productions"`
	Bookings      int      `json:"bookings"`
	SessionHours  float64  `json:"session_hours"`
	ResourceHours float64  `json:"resource_hours"`
	ValueMinor    int64    `json:"value_minor"`
	Value         string   `json:"value"`
	Converted     []Amount `json:"converted"`
	// Emerging filmmakers' productions: their part of the hours and the value.
	EmergingSessionHours  float64 `json:"emerging_session_hours"`
	EmergingResourceHours float64 `json:"emerging_resource_hours"`
	EmergingValueMinor    int64   `json:"emerging_value_minor"`
	EmergingValue         string  `json:"emerging_value"`
	// Training: the session hours of bookings with trainees, and the trainees' own
	// hours (trainees × session hours).
	TrainingSessionHours float64 `json:"training_session_hours"`
	TraineeHours         float64 `json:"trainee_hours"`
}

// TreatyCountry is one origin country's figures.
type TreatyCountry struct {
	Country string `json:"country"`
	TreatyFigures
}

// TreatyReport is the co-production treaty's report of a site over a period.
type TreatyReport struct {
	SiteID    uuid.UUID       `json:"site_id"`
	SiteName  string          `json:"site_name"`
	Currency  string          `json:"currency"`
	TimeZone  string          `json:"time_zone"`
	TZVersion string          `json:"tz_version"`
	From      time.Time       `json:"from"`
	To        time.Time       `json:"to"`
	FromLocal string          `json:"from_local"`
	ToLocal   string          `json:"to_local"`
	Totals    TreatyFigures   `json:"totals"`
	Countries []TreatyCountry `json:"countries"`
	// EmergingHoursShare and EmergingValueShare are the emerging filmmakers' share of
	// the session hours and of the value (0 when there is none).
	EmergingHoursShare float64 `json:"emerging_hours_share"`
	EmergingValueShare float64 `json:"emerging_value_share"`
	// Rates are the conversions used (TotalMinor is the total value converted), at
	// RatesAt: the end of the period, or now if that is later.
	Rates    []Conversion `json:"rates"`
	RatesAt  time.Time    `json:"rates_at"`
	Warnings []string     `json:"warnings,omitempty"`
}

// TreatyReports reports post-production for the co-production treaty. It aggregates
// across productions, so producers may not ask (EFORBIDDEN).
type TreatyReports interface {
	TreatyReport(ctx context.Context, a Actor, q TreatyQuery) (TreatyReport, error)
}

// RingFenceInput is what a manager gives to reserve capacity for a programme.
type RingFenceInput struct {
	SiteID      uuid.UUID
	Kind        string
	Programme   string
	Countries   []string
	SharePct    float64
	Period      string
	ReleaseDays int
}

// RingFences keeps capacity reserved for programmes.
type RingFences interface {
	// ListRingFences lists a site's fences (nil: all) with their standing in the period
	// containing at.
	ListRingFences(ctx context.Context, siteID *uuid.UUID, at time.Time) ([]RingFence, error)
	// CreateRingFence adds a fence (managers of the site, admins).
	CreateRingFence(ctx context.Context, a Actor, in RingFenceInput) (RingFence, error)
	// DeleteRingFence removes one.
	DeleteRingFence(ctx context.Context, a Actor, id uuid.UUID) error
}

// FeedKind is what an iCalendar feed follows.
type FeedKind string

// The feed kinds.
const (
	FeedResource   FeedKind = "resource"
	FeedProduction FeedKind = "production"
	FeedUser       FeedKind = "user"
)

// ICalFeed is a calendar subscription at a secret URL. Only the token's hash is kept:
// the URL is shown once, when the feed is made; revoking it makes the URL answer 404.
// The feed shows what its owner may see.
type ICalFeed struct {
	ID         uuid.UUID  `json:"id"`
	UserID     uuid.UUID  `json:"user_id"`
	Kind       FeedKind   `json:"kind"`
	ObjectID   uuid.UUID  `json:"object_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// FeedEvent is one booking as a feed shows it. A Busy event is another organisation's
// booking on a resource: an interval with nothing about whose it is.
type FeedEvent struct {
	UID             string
	Start, End      time.Time
	TimeZone        string
	Status          Status
	Rank            int
	ApprovalPending bool
	Busy            bool
	Title           string
	Company         string
	Resources       []string
	Site            string
	Note            string
	Trainees        int
	Sequence        int
	Updated         time.Time
}

// FeedCalendar is a feed's content, to render as iCalendar.
type FeedCalendar struct {
	Name   string
	Events []FeedEvent
	// From and To are the span of bookings the feed covers.
	From, To time.Time
	Stamp    time.Time
}

// Feeds keeps iCalendar feeds.
type Feeds interface {
	// CreateFeed makes a feed and returns its token, shown this once. Resource feeds:
	// managers of the resource's site and admins. Production feeds: anyone who may see
	// the production. User feeds: one's own (admins: anyone's).
	CreateFeed(ctx context.Context, a Actor, kind FeedKind, objectID uuid.UUID) (ICalFeed, string, error)
	// ListFeeds lists the actor's own feeds.
	ListFeeds(ctx context.Context, a Actor) ([]ICalFeed, error)
	// RevokeFeed revokes a feed: ENOTFOUND unless it is the actor's own or the actor is
	// an admin.
	RevokeFeed(ctx context.Context, a Actor, id uuid.UUID) error
	// FeedCalendar reads the feed of a token: ENOTFOUND for a malformed, unknown or
	// revoked token, or one whose owner is disabled.
	FeedCalendar(ctx context.Context, token string) (FeedCalendar, error)
}

// Coproduction is every co-production service together.
type Coproduction interface {
	Quotes
	TreatyReports
	RingFences
	Feeds
}
