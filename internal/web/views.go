package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// lookups names the things bookings refer to by id.
type lookups struct {
	sites     []booking.Site
	siteByID  map[uuid.UUID]booking.Site
	resources []booking.Resource
	resByID   map[uuid.UUID]booking.Resource
	prods     []booking.Production
	prodByID  map[uuid.UUID]booking.Production
	// calendars are the sites' working calendars, for the working time of bookings.
	calendars map[uuid.UUID]*calendar.Calendar
}

func (u *UI) lookups(ctx context.Context, a booking.Actor) (*lookups, error) {
	l := &lookups{siteByID: map[uuid.UUID]booking.Site{}, resByID: map[uuid.UUID]booking.Resource{}, prodByID: map[uuid.UUID]booking.Production{},
		calendars: map[uuid.UUID]*calendar.Calendar{}}
	var err error
	if l.sites, err = u.Catalogue.ListSites(ctx); err != nil {
		return nil, err
	}
	for _, s := range l.sites {
		l.siteByID[s.ID] = s
		sc, err := u.Calendars.SiteCalendar(ctx, s.ID)
		if err != nil {
			return nil, err
		}
		if l.calendars[s.ID], err = sc.Calendar(); err != nil {
			return nil, err
		}
	}
	if l.resources, err = u.Catalogue.ListResources(ctx, booking.ResourceFilter{}); err != nil {
		return nil, err
	}
	for _, r := range l.resources {
		l.resByID[r.ID] = r
	}
	if l.prods, err = u.Catalogue.ListProductions(ctx, a); err != nil {
		return nil, err
	}
	sort.SliceStable(l.prods, func(i, j int) bool { return l.prods[i].Title < l.prods[j].Title })
	for _, p := range l.prods {
		l.prodByID[p.ID] = p
	}
	return l, nil
}

// site picks the site a page is about: ?site= by id or slug, else the first the
// actor manages, else the first.
func (l *lookups) site(r *http.Request, a booking.Actor) (booking.Site, bool) {
	v := r.URL.Query().Get("site")
	for _, s := range l.sites {
		if v != "" && (s.ID.String() == v || s.Slug == v) {
			return s, true
		}
	}
	for _, s := range l.sites {
		if a.Role == booking.RoleManager && a.ManagesSite(s.ID) && s.Active {
			return s, true
		}
	}
	if len(l.sites) == 0 {
		return booking.Site{}, false
	}
	// The first site in service; sites out of service are shown only when asked for.
	for _, s := range l.sites {
		if s.Active {
			return s, true
		}
	}
	return l.sites[0], true
}

// bookingView is a booking as the pages show it.
type bookingView struct {
	ID              string
	Production      string
	Site            string
	Resources       []string
	When            string
	Status          string
	StatusLabel     string
	Rank            int
	HoldExpires     string
	ApprovalPending bool
	Challenge       string
	ChallengedBy    []string
	Reason          string
	Note            string
	Warnings        []string
	Review          string // how a calendar change altered its working time
	Time            string // its working time, and its time outside working hours
	Requested       string // a requested move awaiting approval
	Placed          string
	StartInput      string
	EndInput        string
	TimeZone        string
	CanConfirm      bool
	CanRelease      bool
	CanCancel       bool
	CanDecline      bool
	CanReschedule   bool
	// Organisation is the production's company and Price the booking's price as it
	// stands, where a page shows them (the approval queue, the booking's page).
	Organisation string
	Price        string
}

func (u *UI) viewBooking(lang string, a booking.Actor, l *lookups, b booking.Booking) bookingView {
	v := bookingView{ID: b.ID.String(), Status: string(b.Status), StatusLabel: translate(lang, "status."+string(b.Status)),
		Rank: b.Rank, ApprovalPending: b.ApprovalPending, Reason: b.StatusReason, Note: b.Note, Warnings: b.Warnings, Review: b.WorkingTimeReview,
		When: bookingWhen(lang, b), StartInput: inputValue(b.StartLocal), EndInput: inputValue(b.EndLocal), TimeZone: b.TimeZone}
	if p, ok := l.prodByID[b.ProductionID]; ok {
		v.Production = p.Title
	} else {
		v.Production = translate(lang, "bookings.unknown_production")
	}
	if s, ok := l.siteByID[b.SiteID]; ok {
		v.Site = s.Name
	}
	if cal := l.calendars[b.SiteID]; cal != nil {
		v.Time = timeUseText(lang, cal.UseOf(calendar.Interval{Start: b.Start, End: b.End}, nil), b.Overtime)
	}
	for _, br := range b.Resources {
		name := translate(lang, "bookings.unknown_resource")
		if res, ok := l.resByID[br.ResourceID]; ok {
			name = res.Name
		}
		if len(b.Resources) > 1 && br.Rank > 0 {
			name += fmt.Sprintf(" (#%d)", br.Rank)
		}
		v.Resources = append(v.Resources, name)
	}
	if b.HoldExpiresAt != nil && b.Status == booking.StatusHold {
		v.HoldExpires = formatInstant(lang, *b.HoldExpiresAt, b.TimeZone)
	}
	if b.Challenge != nil {
		v.Challenge = formatInstant(lang, b.Challenge.Deadline, b.TimeZone)
	}
	for _, c := range b.ChallengedBy {
		v.ChallengedBy = append(v.ChallengedBy, formatInstant(lang, c.Deadline, b.TimeZone))
	}
	v.Placed = formatInstant(lang, b.CreatedAt, b.TimeZone)
	can := func(act booking.Action) bool { return booking.CheckTransition(b.Status, act, a.Role) == nil }
	// On a confirmed booking, confirm and decline settle a requested move.
	settles := b.Status != booking.StatusConfirmed || b.RequestedStart != nil
	v.CanConfirm = can(booking.ActionConfirm) && settles && b.Challenge == nil && !(b.ApprovalPending && a.Role == booking.RoleProducer)
	v.CanRelease = can(booking.ActionRelease)
	v.CanCancel = can(booking.ActionCancel)
	v.CanDecline = can(booking.ActionDecline) && settles
	if b.RequestedStart != nil && b.RequestedEnd != nil {
		if loc, err := calendar.LoadLocation(b.TimeZone); err == nil {
			const layout = "2006-01-02T15:04:05-07:00" // as bookings give their local times
			v.Requested = formatSpan(lang, b.RequestedStart.In(loc).Format(layout), b.RequestedEnd.In(loc).Format(layout), b.TimeZone)
		}
	}
	v.CanReschedule = can(booking.ActionReschedule)
	return v
}

// listAll pages through a booking listing up to max bookings.
func (u *UI) listAll(ctx context.Context, a booking.Actor, f booking.BookingFilter, max int) ([]booking.Booking, error) {
	var out []booking.Booking
	f.Limit = 500
	for {
		items, _, next, err := u.Bookings.ListBookings(ctx, a, f)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" || len(out) >= max {
			return out, nil
		}
		f.Cursor = next
	}
}

// outcome says in words what an action did to a booking.
func outcome(lang string, act booking.Action, b booking.Booking) string {
	switch {
	case act == booking.ActionConfirm && b.Status == booking.StatusConfirmed:
		return translate(lang, "flash.confirmed")
	case act == booking.ActionConfirm && b.Challenge != nil:
		return fmt.Sprintf(translate(lang, "flash.challenge"), formatInstant(lang, b.Challenge.Deadline, b.TimeZone))
	case act == booking.ActionConfirm && b.ApprovalPending:
		return translate(lang, "flash.approval_requested")
	case act == booking.ActionReschedule:
		return fmt.Sprintf(translate(lang, "flash.rescheduled"), bookingWhen(lang, b))
	}
	return translate(lang, "flash."+string(act))
}

// warningsText adds a booking's warnings to a message.
func warningsText(lang string, msg string, warnings []string) string {
	if len(warnings) == 0 {
		return msg
	}
	return msg + " " + translate(lang, "bookings.warning") + " " + strings.Join(warnings, " ")
}

// kindLabel names a resource kind; kinds are data, so an unknown one is shown as is.
func kindLabel(lang, kind string) string {
	if v := translate(lang, "kind."+kind); v != "kind."+kind {
		return v
	}
	return strings.ReplaceAll(kind, "_", " ")
}

// weekdayOrder lists the week from Monday, as people in Morocco and Senegal read it.
var weekdayOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// timeUseText says what a booking's interval holds: its working time, and the time
// outside working hours it reserves without selling, or sells as overtime.
func timeUseText(lang string, u calendar.Use, overtime bool) string {
	h := func(d time.Duration) string { return decimalIn(lang, formatHours(d.Hours())) }
	text := fmt.Sprintf(translate(lang, "bookings.working_time"), h(u.Working.Duration()))
	switch closed := u.Closed.Duration(); {
	case closed == 0:
	case overtime:
		text += " · " + fmt.Sprintf(translate(lang, "bookings.overtime_time"), h(closed))
	default:
		text += " · " + fmt.Sprintf(translate(lang, "bookings.locked_time"), h(closed))
	}
	return text
}
