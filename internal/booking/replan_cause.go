package booking

import (
	"time"

	"github.com/google/uuid"
)

// ReplanCause says a booking moved because a manager applied a what-if re-plan of
// the site's holds (Replans): which one, over what window, and the manager's reason
// when they gave one. The notices of the move tell it to the producers.
type ReplanCause struct {
	ID     uuid.UUID `json:"id"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Reason string    `json:"reason,omitempty"`
}

// MaxReplanReason bounds a re-plan's reason, in characters.
const MaxReplanReason = 500
