package postgres

import (
	"context"
	"time"

	"github.com/posthub/posthub/internal/booking"
)

// challengeDeadline is when the holds ahead of g must answer a challenge g makes at
// now: booking.ChallengeDeadline under g's site's calendar. It is an ECONFLICT when g's
// slot starts too soon for them to answer.
func (db *DB) challengeDeadline(ctx context.Context, q querier, g *groupRow, window booking.Duration, now time.Time) (time.Time, error) {
	_, cal, err := db.siteCalendar(ctx, q, g.SiteID)
	if err != nil {
		return time.Time{}, err
	}
	return booking.ChallengeDeadline(cal, time.Duration(window), now, g.Start)
}
