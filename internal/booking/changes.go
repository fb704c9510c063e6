package booking

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Change is one entry of the booking change log: a booking a change touched, and
// the booking as it stands when the entry is read. ID orders the log.
type Change struct {
	ID             int64       `json:"change_id"`
	At             time.Time   `json:"at"`
	Kind           EventKind   `json:"kind"`
	BookingID      uuid.UUID   `json:"booking_id"`
	SiteID         uuid.UUID   `json:"site_id"`
	ProductionID   uuid.UUID   `json:"production_id"`
	OrganisationID uuid.UUID   `json:"-"`
	Status         Status      `json:"status"`
	Start          time.Time   `json:"start"`
	End            time.Time   `json:"end"`
	ResourceIDs    []uuid.UUID `json:"resource_ids"`
	Version        int         `json:"version"`
}

// Visible reports whether the actor may see the change: admins and operators every
// booking, managers those at their sites, producers their organisation's.
func (c Change) Visible(a Actor) bool {
	switch {
	case a.Role == RoleManager:
		return a.ManagesSite(c.SiteID)
	case a.SeesAllProductions():
		return true
	default:
		return c.OrganisationID == a.OrganisationID
	}
}

// ChangeRetention is how long the change log keeps its entries: a stream that was
// away longer starts afresh.
const ChangeRetention = 7 * 24 * time.Hour

// Changes reads the booking change log.
type Changes interface {
	// ChangesAfter returns up to limit entries with an id above after, and those
	// named in also (entries whose ids were skipped over before their transactions
	// committed), in id order.
	ChangesAfter(ctx context.Context, after int64, also []int64, limit int) ([]Change, error)
	// ChangeBounds are the ids of the oldest and the newest entry kept (0, 0 when
	// the log is empty).
	ChangeBounds(ctx context.Context) (oldest, newest int64, err error)
}
