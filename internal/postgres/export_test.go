package postgres

import "time"

// SetAvailabilityStep sets how much of its window the availability search reads
// first, and returns the function that restores it.
func SetAvailabilityStep(d time.Duration) (restore func()) {
	old := availabilityStep
	availabilityStep = d
	return func() { availabilityStep = old }
}
