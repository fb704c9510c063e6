package booking

import (
	"context"

	"github.com/google/uuid"
)

// RemainingPlans re-plans what is left of an accepted plan.
type RemainingPlans interface {
	// ReplanRemaining proposes a new plan for the stages of an accepted plan whose
	// bookings are not confirmed or completed (holds, and bookings released, declined,
	// expired or cancelled since): they are planned again from now (or the plan's
	// earliest start), after the ends of the stages that stay with their lags, and a
	// stage that stays bounds its unconfirmed predecessors, which must end before it
	// starts. The stages that stay keep their bookings, times and resources. The
	// proposal has replaces_id = the accepted plan and each stage that moved says so
	// (changed). Accepting it (AcceptPlan) places the new holds and releases the old
	// plan's holds in one transaction, and the old plan becomes superseded.
	// ENOTFOUND for a plan the actor may not see; ECONFLICT when the plan is not
	// accepted or every stage is confirmed or completed.
	ReplanRemaining(ctx context.Context, a Actor, planID uuid.UUID) (Plan, error)
}
