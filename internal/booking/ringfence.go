package booking

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/calendar"
)

// Ring-fence periods.
const (
	PeriodMonth   = "month"
	PeriodQuarter = "quarter"
	PeriodYear    = "year"
)

// RingFence reserves a share of a resource kind's working hours at a site, per period,
// for a programme's productions. Productions outside the programme may not use that
// share for dates beyond the release horizon; within it (ReleaseDays before the date)
// the share is open to all.
//
// The rule: in each period, the working time of the kind's resources used by
// productions outside the programme may not exceed (1 − share) × the kind's working
// hours in the period. A new booking outside the programme that starts ReleaseDays or
// more ahead is refused when it would push that usage over the limit; one that starts
// sooner is not checked (the share is released), though its hours count as usage.
type RingFence struct {
	ID        uuid.UUID `json:"id"`
	SiteID    uuid.UUID `json:"site_id"`
	Kind      string    `json:"kind"`
	Programme string    `json:"programme"`
	// Countries, when not empty, narrow eligibility to productions with at least one
	// origin country among them.
	Countries []string `json:"countries"`
	// SharePct is the reserved share in percent; ShareBP the same in basis points, which
	// the arithmetic uses.
	SharePct    float64   `json:"share_pct"`
	ShareBP     int64     `json:"-"`
	Period      string    `json:"period"`
	ReleaseDays int       `json:"release_days"`
	CreatedAt   time.Time `json:"created_at"`
	// Current is the fence's standing in the period asked about, when listed.
	Current *RingFenceCapacity `json:"current,omitempty"`
}

// Validate checks a fence's input.
func (in RingFenceInput) Validate() error {
	switch {
	case in.SiteID == uuid.Nil:
		return invalidField("site_id", "is required")
	case len(in.Kind) < 2 || len(in.Kind) > 63:
		return invalidField("kind", "must name a resource kind")
	case strings.TrimSpace(in.Programme) == "" || len(in.Programme) > 200:
		return invalidField("programme", "must be 1 to 200 characters")
	case !(in.SharePct > 0 && in.SharePct <= 100):
		return invalidField("share_pct", "must be above 0 and at most 100")
	case in.Period != PeriodMonth && in.Period != PeriodQuarter && in.Period != PeriodYear:
		return invalidField("period", "must be month, quarter or year")
	case in.ReleaseDays < 0 || in.ReleaseDays > 366:
		return invalidField("release_days", "must be 0 to 366")
	}
	for _, c := range in.Countries {
		if !isCountry(c) {
			return invalidField("countries", "must be ISO 3166 alpha-2 codes")
		}
	}
	return nil
}

// ShareBasisPoints turns a percentage into basis points (20 % is 2000).
func ShareBasisPoints(pct float64) int64 { return int64(math.Round(pct * 100)) }

// Eligible reports whether a production is in the fence's programme: its programme is
// the fence's and, when the fence names countries, one of its origins is among them.
func (f RingFence) Eligible(p Production) bool {
	if p.Programme == "" || p.Programme != f.Programme {
		return false
	}
	if len(f.Countries) == 0 {
		return true
	}
	for _, o := range p.Origins {
		for _, c := range f.Countries {
			if o.Country == c {
				return true
			}
		}
	}
	return false
}

// ReleaseHorizon is how long before a date the reserved share opens to all.
func (f RingFence) ReleaseHorizon() time.Duration {
	return time.Duration(f.ReleaseDays) * 24 * time.Hour
}

// Applies reports whether the fence restricts a booking starting at start made at now
// by a production outside the programme: only starts at or beyond the release horizon.
func (f RingFence) Applies(start, now time.Time) bool {
	return !start.Before(now.Add(f.ReleaseHorizon()))
}

// FencePeriod is one period of a fence, in the site's calendar.
type FencePeriod struct {
	Label string // 2027-Q1, 2027-03 or 2027
	calendar.Interval
}

// PeriodAt returns the period (site-local month, quarter or year) containing t.
func PeriodAt(period string, t time.Time, loc *time.Location) FencePeriod {
	d := calendar.DateOf(t.In(loc))
	var first, next calendar.Date
	var label string
	switch period {
	case PeriodMonth:
		first = calendar.Date{Year: d.Year, Month: d.Month, Day: 1}
		next = calendar.DateOf(time.Date(d.Year, d.Month+1, 1, 12, 0, 0, 0, time.UTC))
		label = fmt.Sprintf("%04d-%02d", d.Year, int(d.Month))
	case PeriodYear:
		first = calendar.Date{Year: d.Year, Month: time.January, Day: 1}
		next = calendar.Date{Year: d.Year + 1, Month: time.January, Day: 1}
		label = fmt.Sprintf("%04d", d.Year)
	default:
		q := (int(d.Month) - 1) / 3
		first = calendar.Date{Year: d.Year, Month: time.Month(q*3 + 1), Day: 1}
		next = calendar.DateOf(time.Date(d.Year, time.Month(q*3+4), 1, 12, 0, 0, 0, time.UTC))
		label = fmt.Sprintf("%04d-Q%d", d.Year, q+1)
	}
	return FencePeriod{Label: label, Interval: calendar.Interval{
		Start: first.At(calendar.Clock{}, loc).UTC(), End: next.At(calendar.Clock{}, loc).UTC()}}
}

// PeriodsOverlapping returns the periods that [start, end) touches, in order.
func PeriodsOverlapping(period string, start, end time.Time, loc *time.Location) []FencePeriod {
	var out []FencePeriod
	for t := start; t.Before(end); {
		p := PeriodAt(period, t, loc)
		out = append(out, p)
		if !p.End.After(t) {
			break // cannot happen with a sane zone; never loop forever
		}
		t = p.End
	}
	return out
}

// RingFenceCapacity is a fence's standing in one period: the kind's working hours, the
// share reserved, and how much of the rest productions outside the programme use.
// The durations are exact; the hours are for reading.
type RingFenceCapacity struct {
	Period                 string    `json:"period"`
	Start                  time.Time `json:"start"`
	End                    time.Time `json:"end"`
	Resources              int       `json:"resources"`
	WorkingHours           float64   `json:"working_hours"`
	ReservedHours          float64   `json:"reserved_hours"`
	NonProgrammeLimitHours float64   `json:"non_programme_limit_hours"`
	NonProgrammeUsedHours  float64   `json:"non_programme_used_hours"`
	RemainingHours         float64   `json:"remaining_hours"`

	Working, Reserved, Limit, Used, Remaining time.Duration `json:"-"`
}

// Allows reports whether productions outside the programme may take requested more
// working time in the period.
func (c RingFenceCapacity) Allows(requested time.Duration) bool {
	return c.Used+requested <= c.Limit
}

// NonProgrammeCapacity computes a fence's standing in one period, purely: available is
// each resource of the kind's working time in the period (the site's working time less
// the resource's leave and maintenance: calendar.UseOf's Working), and nonProgramme the
// intervals that productions outside the programme occupy on each resource (holds and
// confirmed bookings; overlaps on one resource count once; only available time
// counts). The capacity is the sum of the resources' available time, so a colourist on
// leave adds nothing to it. The planner uses the same rule: Remaining is what
// productions outside the programme may still book in the period.
func NonProgrammeCapacity(f RingFence, period FencePeriod, available map[uuid.UUID]calendar.Set, nonProgramme map[uuid.UUID][]calendar.Interval) RingFenceCapacity {
	c := RingFenceCapacity{Period: period.Label, Start: period.Start, End: period.End, Resources: len(available)}
	var secs int64
	for _, a := range available {
		secs += int64(a.Clip(period.Interval).Duration() / time.Second)
	}
	bp := f.ShareBP
	if bp == 0 {
		bp = ShareBasisPoints(f.SharePct)
	}
	reserved := (secs*bp + 9999) / 10000 // the programme's share, rounded up to the second
	c.Working = time.Duration(secs) * time.Second
	c.Reserved = time.Duration(reserved) * time.Second
	c.Limit = c.Working - c.Reserved
	for id, ivs := range nonProgramme {
		c.Used += calendar.Normalize(ivs...).Intersect(available[id].Clip(period.Interval)).Duration()
	}
	if c.Used < c.Limit {
		c.Remaining = c.Limit - c.Used
	}
	h := func(d time.Duration) float64 { return math.Round(d.Hours()*100) / 100 }
	c.WorkingHours, c.ReservedHours, c.NonProgrammeLimitHours = h(c.Working), h(c.Reserved), h(c.Limit)
	c.NonProgrammeUsedHours, c.RemainingHours = h(c.Used), h(c.Remaining)
	return c
}

// RequestedTime is the working time a booking of n resources of the kind over
// [start, end) takes within the period.
func RequestedTime(period FencePeriod, working calendar.Set, start, end time.Time, n int) time.Duration {
	iv := calendar.Interval{Start: start, End: end}
	return calendar.Normalize(iv).Intersect(working.Clip(period.Interval)).Duration() * time.Duration(n)
}

// RingFenceRefusal is the ECONFLICT for a booking a fence refuses, with the fence and
// its standing in details.ring_fence.
func RingFenceRefusal(f RingFence, c RingFenceCapacity, requested time.Duration, releasesAt time.Time, loc *time.Location) *Error {
	who := "the " + f.Programme + " programme"
	if len(f.Countries) > 0 {
		who += " (" + strings.Join(f.Countries, ", ") + ")"
	}
	msg := fmt.Sprintf("%.0f%% of %s hours in %s are reserved for %s; productions outside it have %.2f of %.2f hours left and this needs %.2f. The reserved share opens to all %d days before the date (from %s for this start).",
		f.SharePct, f.Kind, c.Period, who, c.Remaining.Hours(), c.Limit.Hours(), requested.Hours(), f.ReleaseDays,
		releasesAt.In(loc).Format("2006-01-02 15:04 -07:00"))
	return &Error{Code: ECONFLICT, Message: msg, Details: map[string]any{"ring_fence": map[string]any{
		"id": f.ID, "kind": f.Kind, "programme": f.Programme, "countries": f.Countries, "share_pct": f.SharePct,
		"period": c.Period, "period_start": c.Start, "period_end": c.End, "release_days": f.ReleaseDays,
		"released_at": releasesAt.UTC(), "working_hours": c.WorkingHours, "reserved_hours": c.ReservedHours,
		"non_programme_limit_hours": c.NonProgrammeLimitHours, "non_programme_used_hours": c.NonProgrammeUsedHours,
		"remaining_hours": c.RemainingHours, "requested_hours": math.Round(requested.Hours()*100) / 100,
	}}}
}
