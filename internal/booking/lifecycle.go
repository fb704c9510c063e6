package booking

import (
	"context"
	"sort"
	"time"

	"github.com/google/uuid"
)

// Status is where a booking is in its lifecycle:
//
//	hold → confirmed → completed
//	hold → released (by its producer) | declined (by a manager) | expired (lifetime passed)
//	confirmed → cancelled
type Status string

// The statuses.
const (
	StatusHold      Status = "hold"
	StatusConfirmed Status = "confirmed"
	StatusCompleted Status = "completed"
	StatusReleased  Status = "released"
	StatusDeclined  Status = "declined"
	StatusCancelled Status = "cancelled"
	StatusExpired   Status = "expired"
)

// Statuses lists every status.
var Statuses = []Status{StatusHold, StatusConfirmed, StatusCompleted, StatusReleased, StatusDeclined, StatusCancelled, StatusExpired}

// Active reports whether a booking in this status still occupies (or queues for) time.
func (s Status) Active() bool { return s == StatusHold || s == StatusConfirmed }

// Action is something a person does to an existing booking.
type Action string

// The actions.
const (
	ActionConfirm    Action = "confirm"
	ActionRelease    Action = "release"
	ActionDecline    Action = "decline"
	ActionCancel     Action = "cancel"
	ActionReschedule Action = "reschedule"
)

// Actions lists every action.
var Actions = []Action{ActionConfirm, ActionRelease, ActionDecline, ActionCancel, ActionReschedule}

// lifecycle is the rule table: in which status which roles may take which action.
// Anything not listed is refused. Which bookings a role may act on at all (a producer
// its own organisation's, a manager its sites') is checked apart.
var lifecycle = map[Status]map[Action][]Role{
	StatusHold: {
		ActionConfirm:    {RoleAdmin, RoleManager, RoleProducer},
		ActionRelease:    {RoleAdmin, RoleManager, RoleProducer},
		ActionDecline:    {RoleAdmin, RoleManager},
		ActionReschedule: {RoleAdmin, RoleManager, RoleProducer},
	},
	StatusConfirmed: {
		// Confirm and decline settle a producer's requested move (Booking.RequestedStart).
		ActionConfirm:    {RoleAdmin, RoleManager},
		ActionDecline:    {RoleAdmin, RoleManager},
		ActionCancel:     {RoleAdmin, RoleManager, RoleProducer},
		ActionReschedule: {RoleAdmin, RoleManager, RoleProducer},
	},
}

// CheckTransition says whether role may take action on a booking in status: nil, or
// EFORBIDDEN when the action exists in that status but not for the role, or ECONFLICT
// when the status does not allow the action at all.
func CheckTransition(s Status, act Action, role Role) error {
	roles, ok := lifecycle[s][act]
	if !ok {
		return &Error{Code: ECONFLICT, Message: "A booking in status " + string(s) + " cannot be " + pastTense(act) + ".",
			Details: map[string]any{"status": s, "action": act}}
	}
	for _, r := range roles {
		if r == role {
			return nil
		}
	}
	return &Error{Code: EFORBIDDEN, Message: "Your role may not " + string(act) + " this booking.",
		Details: map[string]any{"status": s, "action": act}}
}

func pastTense(a Action) string {
	switch a {
	case ActionConfirm:
		return "confirmed"
	case ActionRelease:
		return "released"
	case ActionDecline:
		return "declined"
	case ActionCancel:
		return "cancelled"
	case ActionReschedule:
		return "rescheduled"
	}
	return string(a)
}

// SitePolicy is how bookings behave at a site.
type SitePolicy struct {
	SiteID uuid.UUID `json:"site_id"`
	// ConfirmNeedsApproval makes a producer's confirmation a request a manager approves.
	ConfirmNeedsApproval bool `json:"confirm_needs_approval"`
	// HoldLifetime is how long a hold lasts before it expires.
	HoldLifetime Duration `json:"hold_lifetime"`
	// ChallengeWindow is how long holders ahead have to answer a challenge.
	ChallengeWindow Duration `json:"challenge_window"`
	// MinNotice is how far ahead of its start a producer may book or change a booking.
	MinNotice Duration `json:"min_notice"`
	// ReminderOffsets are how long before a confirmed booking reminders go out.
	ReminderOffsets []Duration `json:"reminder_offsets"`
	// Overtime says who may book time outside working hours: OvertimeApproval (a
	// producer's overtime booking needs a manager's approval to confirm),
	// OvertimeAllowed (producers book it outright) or OvertimeManagers (only managers).
	Overtime string `json:"overtime"`
}

// The site policies on overtime.
const (
	OvertimeApproval = "approval"
	OvertimeAllowed  = "allowed"
	OvertimeManagers = "managers"
)

// Booking is what people book: a production's interval on one or more resources held
// together (a grade needs a suite and a colourist at once), with one status. In the
// database it is a booking group of one row per resource.
type Booking struct {
	ID           uuid.UUID        `json:"id"`
	ProductionID uuid.UUID        `json:"production_id"`
	SiteID       uuid.UUID        `json:"site_id"`
	Status       Status           `json:"status"`
	Start        time.Time        `json:"start"`
	End          time.Time        `json:"end"`
	Resources    []BookedResource `json:"resources"`
	// Rank is the hold's place in the queue: 1 is first hold. Zero unless on hold.
	Rank            int        `json:"rank,omitempty"`
	HoldExpiresAt   *time.Time `json:"hold_expires_at,omitempty"`
	ApprovalPending bool       `json:"approval_pending"`
	// Challenge is the open challenge this hold made, if any.
	Challenge *Challenge `json:"challenge,omitempty"`
	// ChallengedBy lists open challenges against this hold, soonest deadline first.
	ChallengedBy []Challenge `json:"challenged_by,omitempty"`
	StatusReason string      `json:"status_reason,omitempty"`
	Note         string      `json:"note,omitempty"`
	// Trainees is how many trainees sit in on the booking; their hours count as
	// training hours in the treaty report. At most the rooms' trainee capacity.
	Trainees int `json:"trainees"`
	// Overtime marks a booking that also sells its time outside the site's working
	// hours (billed at the overtime rate); otherwise only working time is sold.
	Overtime bool `json:"overtime"`
	// WorkingTimeReview says how a calendar change altered the working time the
	// booking holds, until a manager marks it reviewed or the booking changes.
	WorkingTimeReview   string     `json:"working_time_review,omitempty"`
	WorkingTimeReviewAt *time.Time `json:"working_time_review_at,omitempty"`
	// RequestedStart and RequestedEnd are a producer's move of this confirmed booking
	// awaiting a manager's approval (ApprovalPending): the booking keeps its slot until
	// a manager confirms (the move is made) or declines (it is dropped).
	RequestedStart *time.Time `json:"requested_start,omitempty"`
	RequestedEnd   *time.Time `json:"requested_end,omitempty"`
	// RequestedResourceIDs are the resources the requested move would put the
	// booking on, when it changes them.
	RequestedResourceIDs []uuid.UUID `json:"requested_resource_ids,omitempty"`
	// TimeZone is the site's zone; StartLocal and EndLocal the site-local wall-clock
	// with its offset, derived with the tz database release TZVersion.
	TimeZone   string `json:"time_zone"`
	StartLocal string `json:"start_local"`
	EndLocal   string `json:"end_local"`
	TZVersion  string `json:"tz_version"`
	// Warnings say what is allowed but worth a second look (a provisional holiday).
	Warnings  []string  `json:"warnings,omitempty"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// BookedResource is one resource of a booking with its own place in that resource's
// hold queue.
type BookedResource struct {
	BookingID  uuid.UUID `json:"booking_id"`
	ResourceID uuid.UUID `json:"resource_id"`
	Rank       int       `json:"rank,omitempty"`
}

// Challenge is a hold's claim on holds ahead of it: they must confirm or release by
// the deadline, after which they are released and the challenger confirmed.
type Challenge struct {
	ID       uuid.UUID `json:"id"`
	Deadline time.Time `json:"deadline"`
	Status   string    `json:"status"` // open, won, lost, withdrawn
}

// Busy is how another production's booking on a shared resource appears to a producer:
// an interval, nothing else.
type Busy struct {
	ResourceID uuid.UUID `json:"resource_id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Busy       bool      `json:"busy"`
}

// BookingInput is a request for a new booking.
type BookingInput struct {
	ProductionID uuid.UUID
	ResourceIDs  []uuid.UUID
	Start, End   time.Time
	// StartLocal and EndLocal, when given instead of Start and End, are wall-clock
	// times at the site ("2027-03-10T10:00:00"), resolved with the embedded tz data.
	StartLocal, EndLocal string
	Status               Status // hold or confirmed (managers only)
	Note                 string
	// Trainees sit in on the booking: at most the sum of the trainee capacities of its
	// rooms (category room; people and equipment seat none).
	Trainees int
	// Overtime books the interval's time outside working hours too (see SitePolicy.Overtime).
	Overtime bool
}

// MaxTrainees bounds the trainees of one booking whatever the rooms seat.
const MaxTrainees = 100

// MaxBookingDuration bounds one booking.
const MaxBookingDuration = 366 * 24 * time.Hour

// Validate checks the input's own rules: EUNPROCESSABLE for a well-formed request that
// makes no sense (end before start, a zero or over-a-year duration).
func (in BookingInput) Validate() error {
	if err := validResourceIDs(in.ResourceIDs); err != nil {
		return err
	}
	switch {
	case in.Status != StatusHold && in.Status != StatusConfirmed:
		return invalidField("status", "must be hold or confirmed")
	case len(in.Note) > 2000:
		return invalidField("note", "must be at most 2000 characters")
	case in.Trainees < 0 || in.Trainees > MaxTrainees:
		return invalidField("trainees", "must be 0 to 100")
	}
	if in.StartLocal != "" || in.EndLocal != "" {
		if in.StartLocal == "" || in.EndLocal == "" || !in.Start.IsZero() || !in.End.IsZero() {
			return invalidField("start_local", "and end_local go together, instead of start and end")
		}
		return nil // checked once resolved at the site
	}
	return ValidInterval(in.Start, in.End)
}

// validResourceIDs checks a booking's resources: one to ten, none twice.
func validResourceIDs(ids []uuid.UUID) error {
	switch {
	case len(ids) == 0:
		return invalidField("resource_ids", "must name at least one resource")
	case len(ids) > 10:
		return invalidField("resource_ids", "may name at most 10 resources")
	}
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		if seen[id] {
			return invalidField("resource_ids", "must not repeat a resource")
		}
		seen[id] = true
	}
	return nil
}

// Move is a change of a booking's slot. Start and End (or StartLocal and EndLocal, the
// site's wall-clock) give a new interval, zero keeps the booking's; ResourceIDs give
// new resources at the same site, nil keeps them.
type Move struct {
	Start, End           time.Time
	StartLocal, EndLocal string
	ResourceIDs          []uuid.UUID
}

// Validate checks what a move can be checked for without the database.
func (m Move) Validate() error {
	if m.ResourceIDs != nil {
		if err := validResourceIDs(m.ResourceIDs); err != nil {
			return err
		}
	}
	switch {
	case m.StartLocal != "" || m.EndLocal != "":
		if m.StartLocal == "" || m.EndLocal == "" || !m.Start.IsZero() || !m.End.IsZero() {
			return invalidField("start_local", "and end_local go together, instead of start and end")
		}
	case !m.Start.IsZero() || !m.End.IsZero():
		if m.Start.IsZero() || m.End.IsZero() {
			return invalidField("start", "and end go together")
		}
		return ValidInterval(m.Start, m.End)
	case m.ResourceIDs == nil:
		return invalidField("start", "a move needs new times, new resources or both")
	}
	return nil
}

// ValidInterval checks a booking interval: EUNPROCESSABLE unless start < end and the
// duration is at most MaxBookingDuration.
func ValidInterval(start, end time.Time) error {
	if !end.After(start) {
		return &Error{Code: EUNPROCESSABLE, Message: "end must be after start.", Details: map[string]any{"field": "end"}}
	}
	if end.Sub(start) > MaxBookingDuration {
		return &Error{Code: EUNPROCESSABLE, Message: "A booking may last at most a year.", Details: map[string]any{"field": "end"}}
	}
	return nil
}

// BookingFilter narrows a booking listing; zero fields do not filter.
type BookingFilter struct {
	ResourceID   *uuid.UUID
	ProductionID *uuid.UUID
	SiteID       *uuid.UUID
	Status       []Status
	From, To     *time.Time
	// NeedsReview keeps the bookings whose working time a calendar change altered.
	NeedsReview bool
	Cursor      string
	Limit       int
}

// ActOptions qualify an action: the version the caller last saw (If-Match) and a
// reason recorded with the change.
type ActOptions struct {
	IfMatch *int
	Reason  string
	// Replan, when a manager's applied re-plan moves the booking, says so; its events
	// carry it (Event.Replan).
	Replan *ReplanCause
}

// Bookings is the booking lifecycle.
type Bookings interface {
	// Book places a hold, or (managers and admins) a confirmed booking on a free slot.
	// Returns ENOTFOUND for a production or resource the actor may not see, EFORBIDDEN
	// for a site the manager does not manage, EUNPROCESSABLE for a bad interval, and
	// ECONFLICT with the blocking interval when the slot is taken or blocked.
	Book(ctx context.Context, a Actor, in BookingInput) (Booking, error)
	// FindBooking returns ENOTFOUND for a booking the actor may not see.
	FindBooking(ctx context.Context, a Actor, id uuid.UUID) (Booking, error)
	// MarkWorkingTimeReviewed clears the review a calendar change flagged the booking
	// for (managers of its site, admins).
	MarkWorkingTimeReviewed(ctx context.Context, a Actor, id uuid.UUID) (Booking, error)
	// ListBookings returns bookings the actor may see and, for a producer listing a
	// resource, other productions' bookings on it as Busy intervals.
	ListBookings(ctx context.Context, a Actor, f BookingFilter) ([]Booking, []Busy, string, error)
	// Act takes an action. Confirming a hold with holds ahead opens a challenge;
	// a producer's confirmation where the site wants approval becomes a request.
	// Returns EPRECONDITION when IfMatch is stale, ECONFLICT for a transition the
	// status does not allow or a slot that is taken.
	Act(ctx context.Context, a Actor, id uuid.UUID, act Action, opts ActOptions) (Booking, error)
	// Reschedule moves a booking (all its resources) to a new interval.
	Reschedule(ctx context.Context, a Actor, id uuid.UUID, start, end time.Time, opts ActOptions) (Booking, error)
	// Move changes a booking's interval, its resources or both, all or nothing, under
	// the rules of any change (free slot, working time, ranks, approval).
	Move(ctx context.Context, a Actor, id uuid.UUID, m Move, opts ActOptions) (Booking, error)
	// ProcessDue expires holds past their lifetime, settles challenges past their
	// deadline and completes bookings that have ended, as of now.
	ProcessDue(ctx context.Context, now time.Time) (DueResult, error)
	// SitePolicy returns a site's policy.
	SitePolicy(ctx context.Context, siteID uuid.UUID) (SitePolicy, error)
	// UpdateSitePolicy replaces a site's policy (managers of the site, admins).
	UpdateSitePolicy(ctx context.Context, a Actor, p SitePolicy) (SitePolicy, error)
}

// DueResult counts what ProcessDue did.
type DueResult struct {
	Expired, ChallengesSettled, Completed int
}

// EventKind names a booking event; the notifications subscribe to these.
type EventKind string

// The booking events.
const (
	EventHoldPlaced        EventKind = "hold_placed"
	EventRankChanged       EventKind = "rank_changed"
	EventChallengeOpened   EventKind = "challenge_opened"
	EventChallengeReceived EventKind = "challenge_received"
	EventChallengeWon      EventKind = "challenge_won"
	EventChallengeLost     EventKind = "challenge_lost"
	EventApprovalRequested EventKind = "approval_requested"
	EventConfirmed         EventKind = "confirmed"
	EventReleased          EventKind = "released"
	EventDeclined          EventKind = "declined"
	EventCancelled         EventKind = "cancelled"
	EventExpired           EventKind = "expired"
	EventRescheduled       EventKind = "rescheduled"
	EventCompleted         EventKind = "completed"
	EventLocalTimeChanged  EventKind = "local_time_changed"
	// EventWorkingTimeChanged: a calendar change (a holiday confirmed or moved, a
	// period of other hours, a new week) changed the working time a future booking
	// holds. Its stored quotes stand; a new quote shows the new figure.
	EventWorkingTimeChanged EventKind = "working_time_changed"
	// EventMoveDeclined: a manager declined a producer's requested move; the booking
	// keeps its slot.
	EventMoveDeclined EventKind = "move_declined"
)

// EventKinds lists every event kind (TestEventKindsListsEveryKind keeps it whole), for
// those that must know them all: the metrics export each from the start, the
// notices have a subject for each.
var EventKinds = []EventKind{EventHoldPlaced, EventRankChanged, EventChallengeOpened, EventChallengeReceived,
	EventChallengeWon, EventChallengeLost, EventApprovalRequested, EventConfirmed, EventReleased, EventDeclined,
	EventCancelled, EventExpired, EventRescheduled, EventCompleted, EventLocalTimeChanged, EventWorkingTimeChanged, EventMoveDeclined}

// Event is something that happened to a booking, raised inside the transaction that
// made it happen, so whatever it causes (a notification job) commits with it.
type Event struct {
	Kind         EventKind
	BookingID    uuid.UUID
	ProductionID uuid.UUID
	SiteID       uuid.UUID
	At           time.Time
	OldRank      int
	NewRank      int
	ChallengeID  uuid.UUID
	Reason       string
	// Actor is the person whose action raised the event (uuid.Nil when posthub itself
	// acted: expiry, deadlines, completion, a tz database update). They are not told of
	// it by mail: they made it, and see it where they made it.
	Actor uuid.UUID
	// PreviousStart and PreviousEnd are where a rescheduled booking was before the
	// move (zero for other events); Replan, the manager's re-plan that moved it.
	PreviousStart, PreviousEnd time.Time
	Replan                     *ReplanCause
	// State is the booking as the change left it, for scheduling its follow-ups; the
	// events of one booking in one change share it. Nil when not known.
	State *FollowUpState
}

// ActsOnBooking reports whether an event of this kind comes from a change made to the
// booking itself, which may move its follow-ups. A rank change or a challenge received
// is news of another booking's change: it leaves this one's times, expiry and deadline
// as they were (and its group is not the changing transaction's to lock).
func (k EventKind) ActsOnBooking() bool {
	return k != EventRankChanged && k != EventChallengeReceived && k != EventWorkingTimeChanged
}

// FollowUpState is what a booking's follow-ups are scheduled from: reminders before a
// confirmed booking and the due work at its end; for a hold, the warning before it
// expires and the due work at its expiry and at its open challenge's deadline.
type FollowUpState struct {
	BookingID         uuid.UUID
	Status            Status
	Start, End        time.Time
	HoldExpiresAt     *time.Time
	ChallengeDeadline *time.Time
	ReminderOffsets   []Duration
}

// HoldRef is a hold on one resource, as the rank computation sees it.
type HoldRef struct {
	ID         uuid.UUID
	Seq        int64
	Start, End time.Time
}

// Ranks computes every hold's place in its resource's queue. A hold's rank is one more
// than the highest rank among the earlier holds (smaller Seq) that overlap it, so two
// overlapping holds never share a rank and the earlier one always ranks first; a hold
// with no earlier overlapping hold is a first hold.
func Ranks(holds []HoldRef) map[uuid.UUID]int {
	sorted := append([]HoldRef(nil), holds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Seq < sorted[j].Seq })
	ranks := make(map[uuid.UUID]int, len(sorted))
	for i, h := range sorted {
		r := 1
		for _, p := range sorted[:i] {
			if p.Start.Before(h.End) && h.Start.Before(p.End) && ranks[p.ID]+1 > r {
				r = ranks[p.ID] + 1
			}
		}
		ranks[h.ID] = r
	}
	return ranks
}

// Block takes a resource out of service (maintenance, closure) for an interval.
type Block struct {
	ID         uuid.UUID `json:"id"`
	ResourceID uuid.UUID `json:"resource_id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Kind       string    `json:"kind"` // maintenance, closure or leave
	Reason     string    `json:"reason"`
	// RRule makes the block recur (RFC 5545, e.g. "FREQ=WEEKLY;BYDAY=MO"): Start and
	// End are then its first occurrence, repeated in the site's wall-clock, until Until.
	RRule string     `json:"rrule,omitempty"`
	Until *time.Time `json:"until,omitempty"`
}

// Blocks manages resources' blocks.
type Blocks interface {
	// AddBlock returns ECONFLICT when active bookings are in the way, EFORBIDDEN for a
	// site the actor does not manage.
	AddBlock(ctx context.Context, a Actor, b Block) (Block, error)
	// ListBlocks lists a resource's blocks overlapping [from, to).
	ListBlocks(ctx context.Context, resourceID uuid.UUID, from, to *time.Time) ([]Block, error)
	// DeleteBlock returns ENOTFOUND for an unknown block.
	DeleteBlock(ctx context.Context, a Actor, id uuid.UUID) error
}
