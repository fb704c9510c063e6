package booking

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// BookingChange is one change of a booking as the audit log recorded it.
type BookingChange struct {
	At time.Time `json:"at"`
	// Action is the audit action: booking.created, booking.confirm, booking.rescheduled…
	Action string `json:"action"`
	// ActorRole is who acted: admin, manager, operator, producer, or system for posthub
	// itself.
	ActorRole string `json:"actor_role"`
	// ActorName names the person when the viewer may know it: for a producer, people
	// of their own organisation only; empty otherwise and for posthub itself.
	ActorName string `json:"actor_name,omitempty"`
	// Before and After are the booking as the change found and left it, when recorded.
	Before *Booking `json:"before,omitempty"`
	After  *Booking `json:"after,omitempty"`
}

// BookingHistory reads a booking's own history.
type BookingHistory interface {
	// BookingHistory returns the audit log's rows about a booking the actor may see,
	// oldest first (at most 200); ENOTFOUND for a booking the actor may not see.
	BookingHistory(ctx context.Context, a Actor, id uuid.UUID) ([]BookingChange, error)
}

// People names users.
type People interface {
	// UserName returns a user's name; ENOTFOUND for an unknown user.
	UserName(ctx context.Context, id uuid.UUID) (string, error)
}
