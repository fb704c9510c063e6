package booking

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Dimension is a way to group utilisation figures.
type Dimension string

// The dimensions. Resource, kind, day and week divide the site's capacity (each
// resource's working hours); country and emerging divide only the booked hours, so a
// row grouped by them compares its bookings with the capacity of the rest of its key.
const (
	// DimResource is one resource.
	DimResource Dimension = "resource"
	// DimKind is a resource kind (grading_suite, colourist, …).
	DimKind Dimension = "kind"
	// DimCountry is a production's origin country; a co-production's hours are split
	// by the countries' shares.
	DimCountry Dimension = "country"
	// DimEmerging tells emerging filmmakers' productions from the others.
	DimEmerging Dimension = "emerging"
	// DimDay is a site-local date.
	DimDay Dimension = "day"
	// DimWeek is a site-local ISO week, named by its Monday's date.
	DimWeek Dimension = "week"
)

// Dimensions lists every dimension.
var Dimensions = []Dimension{DimResource, DimKind, DimCountry, DimEmerging, DimDay, DimWeek}

// Valid reports whether d is one of the dimensions.
func (d Dimension) Valid() bool {
	for _, x := range Dimensions {
		if d == x {
			return true
		}
	}
	return false
}

// MaxUtilisationRange bounds the interval of one utilisation query.
const MaxUtilisationRange = 370 * 24 * time.Hour

// UtilisationQuery asks how much of a site's capacity was booked in [From, To), grouped
// by the dimensions in GroupBy (none: one total).
type UtilisationQuery struct {
	SiteID   uuid.UUID
	From, To time.Time
	GroupBy  []Dimension
}

// Validate checks the query's own rules: EINVALID for an unknown or repeated
// dimension, EUNPROCESSABLE for an empty or over-long interval.
func (q UtilisationQuery) Validate() error {
	seen := map[Dimension]bool{}
	for _, d := range q.GroupBy {
		if !d.Valid() || seen[d] {
			return &Error{Code: EINVALID, Message: "group_by takes distinct dimensions among resource, kind, country, emerging, day and week.",
				Details: map[string]any{"parameter": "group_by"}}
		}
		seen[d] = true
	}
	if q.SiteID == uuid.Nil {
		return &Error{Code: EINVALID, Message: "site_id is required.", Details: map[string]any{"parameter": "site_id"}}
	}
	if !q.To.After(q.From) || q.To.Sub(q.From) > MaxUtilisationRange {
		return &Error{Code: EUNPROCESSABLE, Message: "to must be after from, within 370 days.", Details: map[string]any{"parameter": "to"}}
	}
	return nil
}

// Has reports whether the query groups by d.
func (q UtilisationQuery) Has(d Dimension) bool {
	for _, x := range q.GroupBy {
		if x == d {
			return true
		}
	}
	return false
}

// UtilisationRow is the figures of one group. Only the fields of the query's
// dimensions are set. Hours are working time as calendar.UseOf defines it: the site's
// working week, period overrides and holidays (provisional ones count as working
// days), less each resource's own blocks (leave, maintenance, closures). A booking
// reserves its whole interval but uses only that working time; the rest of it counts,
// apart, as overtime only when the booking was made as overtime. So Utilisation is
// never above 1.
type UtilisationRow struct {
	ResourceID   *uuid.UUID `json:"resource_id,omitempty"`
	ResourceName string     `json:"resource_name,omitempty"`
	Kind         string     `json:"kind,omitempty"`
	// Country is an ISO 3166 alpha-2 code.
	Country  string `json:"country,omitempty"`
	Emerging *bool  `json:"emerging,omitempty"`
	// Day is a site-local date, 2006-01-02; Week the site-local date of its Monday.
	Day  string `json:"day,omitempty"`
	Week string `json:"week,omitempty"`
	// Resources is how many resources the capacity counts.
	Resources int `json:"resources"`
	// WorkingHours is the capacity: each resource's working time in the row's days
	// (the site's less the resource's blocks: a resource on leave has none).
	WorkingHours float64 `json:"working_hours"`
	// ConfirmedHours is confirmed and completed bookings' working time.
	ConfirmedHours float64 `json:"confirmed_hours"`
	// HeldHours is first holds' working time (later holds queue behind them for the
	// same time and are not counted).
	HeldHours float64 `json:"held_hours"`
	// OvertimeHours is the time outside working hours (less the resource's blocks) of
	// confirmed and completed bookings made as overtime; other bookings' nights and
	// weekends are reserved, not used, and not counted.
	OvertimeHours float64 `json:"overtime_hours"`
	// Utilisation is ConfirmedHours / WorkingHours (0 without working hours);
	// HeldRatio is HeldHours / WorkingHours.
	Utilisation float64 `json:"utilisation"`
	HeldRatio   float64 `json:"held_ratio"`
}

// UtilisationReport answers a UtilisationQuery: its rows ordered by the dimensions in
// GroupBy's order, and the total of the whole site.
type UtilisationReport struct {
	SiteID    uuid.UUID        `json:"site_id"`
	TimeZone  string           `json:"time_zone"`
	TZVersion string           `json:"tz_version"`
	From      time.Time        `json:"from"`
	To        time.Time        `json:"to"`
	FromLocal string           `json:"from_local"`
	ToLocal   string           `json:"to_local"`
	GroupBy   []Dimension      `json:"group_by"`
	Rows      []UtilisationRow `json:"items"`
	Total     UtilisationRow   `json:"total"`
}

// JobCount is how many River jobs a queue holds in one state.
type JobCount struct {
	Queue string `json:"queue"`
	State string `json:"state"`
	Count int    `json:"count"`
	// Oldest is when the longest-waiting of them was scheduled to run.
	Oldest time.Time `json:"oldest"`
}

// Utilisation answers operators' questions about the hub: how much of its capacity is
// booked, and how the job queues are doing. It aggregates across productions, so
// producers may not ask (EFORBIDDEN).
type Utilisation interface {
	// Utilisation returns ENOTFOUND for an unknown site and EINVALID or
	// EUNPROCESSABLE for a bad query.
	Utilisation(ctx context.Context, a Actor, q UtilisationQuery) (UtilisationReport, error)
	// JobCounts counts River's jobs by queue and state.
	JobCounts(ctx context.Context, a Actor) ([]JobCount, error)
}
