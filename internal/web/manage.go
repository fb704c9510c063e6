package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/teambition/rrule-go"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// queueData is the managers' approval queue.
type queueData struct {
	Approvals  []bookingView
	Challenges []bookingView
	// Reviews are bookings whose working time a calendar change altered.
	Reviews []bookingView
	// Memberships are productions whose producer asked for a programme or the
	// emerging filmmakers' status.
	Memberships []membershipView
}

// membershipView is a production's pending request for membership.
type membershipView struct {
	ID, Title, Programme string
	Emerging             bool
}

func (u *UI) queue(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	lang := language(r)
	ctx := r.Context()
	l, err := u.lookups(ctx, a)
	if err != nil {
		u.pageError(w, r, translate(lang, "queue.title"), err)
		return
	}
	// Holds awaiting approval or challenging, and confirmed bookings with a requested move.
	holds, err := u.listAll(ctx, a, booking.BookingFilter{Status: []booking.Status{booking.StatusHold, booking.StatusConfirmed}}, 2000)
	if err != nil {
		u.pageError(w, r, translate(lang, "queue.title"), err)
		return
	}
	var d queueData
	orgs := u.organisationNames(ctx, a)
	for _, b := range holds {
		if a.Role == booking.RoleManager && !a.ManagesSite(b.SiteID) {
			continue
		}
		switch {
		case b.ApprovalPending:
			// An approval is a decision about a company's money: name both.
			v := u.viewBooking(lang, a, l, b)
			if p, ok := l.prodByID[b.ProductionID]; ok {
				v.Organisation = orgs[p.OrganisationID]
			}
			// A requested move is priced where it would go.
			priced := b
			if b.RequestedStart != nil && b.RequestedEnd != nil {
				priced.Start, priced.End = *b.RequestedStart, *b.RequestedEnd
			}
			if len(b.RequestedResourceIDs) > 0 {
				priced.Resources = nil
				for _, id := range b.RequestedResourceIDs {
					priced.Resources = append(priced.Resources, booking.BookedResource{ResourceID: id})
				}
			}
			if q, err := u.bookingPrice(ctx, a, priced); err == nil {
				v.Price = quoteMoney(lang, q.TotalMinor, q.Currency)
			}
			d.Approvals = append(d.Approvals, v)
		case b.Challenge != nil:
			d.Challenges = append(d.Challenges, u.viewBooking(lang, a, l, b))
		}
	}
	reviews, err := u.listAll(ctx, a, booking.BookingFilter{Status: []booking.Status{booking.StatusHold, booking.StatusConfirmed}, NeedsReview: true}, 2000)
	if err != nil {
		u.pageError(w, r, translate(lang, "queue.title"), err)
		return
	}
	for _, b := range reviews {
		if a.Role == booking.RoleManager && !a.ManagesSite(b.SiteID) {
			continue
		}
		d.Reviews = append(d.Reviews, u.viewBooking(lang, a, l, b))
	}
	for _, p := range l.prods {
		if p.RequestedProgramme != "" || p.RequestedEmerging {
			d.Memberships = append(d.Memberships, membershipView{ID: p.ID.String(), Title: p.Title, Programme: p.RequestedProgramme, Emerging: p.RequestedEmerging})
		}
	}
	u.render(w, r, "queue.html", http.StatusOK, page{Title: translate(lang, "queue.title"), Data: d})
}

// setMembership grants or refuses a production's request for membership.
func (u *UI) setMembership(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	id, ok := u.formID(w, r, "/manage/queue", "production")
	if !ok {
		return
	}
	p, err := u.Catalogue.FindProduction(r.Context(), actor(r), id)
	if err != nil {
		u.failed(w, r, "/manage/queue", err)
		return
	}
	m, flash := booking.Membership{Programme: p.Programme, Emerging: p.Emerging}, "queue.membership_refused"
	if r.PostFormValue("decision") == "grant" {
		if p.RequestedProgramme != "" {
			m.Programme = p.RequestedProgramme
		}
		m.Emerging = m.Emerging || p.RequestedEmerging
		flash = "queue.membership_granted"
	}
	if _, err := u.Catalogue.SetMembership(r.Context(), actor(r), id, m); err != nil {
		u.failed(w, r, "/manage/queue", err)
		return
	}
	u.done(w, r, "/manage/queue", "ok", fmt.Sprintf(translate(lang, flash), p.Title))
}

// markReviewed clears a booking's working-time review from the queue.
func (u *UI) markReviewed(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	id, ok := u.formID(w, r, "/manage/queue", "booking")
	if !ok {
		return
	}
	if _, err := u.Bookings.MarkWorkingTimeReviewed(r.Context(), actor(r), id); err != nil {
		u.failed(w, r, "/manage/queue", err)
		return
	}
	u.done(w, r, "/manage/queue", "ok", translate(lang, "queue.reviewed"))
}

// displayHours is the stretch of each day the timeline shows: from the earliest start
// to the latest end of the site's working spans, whole hours, 08-20 at least.
func displayHours(sc booking.SiteCalendar) (int, int) {
	h0, h1 := 8, 20
	consider := func(w booking.Week) {
		for _, spans := range w {
			for _, s := range spans {
				if c, ok := booking.ParseClock(s.From); ok && c.Hour < h0 {
					h0 = c.Hour
				}
				if c, ok := booking.ParseClock(s.To); ok {
					end := c.Hour
					if c.Minute > 0 {
						end++
					}
					if end > h1 {
						h1 = end
					}
				}
			}
		}
	}
	consider(sc.Week)
	for _, o := range sc.Overrides {
		consider(o.Week)
	}
	return h0, h1
}

// timelineData is the resource timeline of a site.
type timelineData struct {
	Sites     []booking.Site
	Site      booking.Site
	From      string
	Days      int
	Zone      string
	SVG       template.HTML
	Bookings  []bookingView
	Prev      string
	Next      string
	Today     string
	Resources int
	Hours     string
}

func (u *UI) timeline(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	lang := language(r)
	ctx := r.Context()
	title := translate(lang, "timeline.title")
	l, err := u.lookups(ctx, a)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	site, ok := l.site(r, a)
	if !ok {
		u.pageError(w, r, title, booking.Errorf(booking.ENOTFOUND, "No site."))
		return
	}
	loc, err := calendar.LoadLocation(site.TimeZone)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	now := u.now()
	q := r.URL.Query()
	from, err := calendar.ParseDate(q.Get("from"))
	if err != nil {
		from = siteToday(now, loc)
	}
	days, _ := strconv.Atoi(q.Get("days"))
	if days != 7 && days != 28 {
		days = 14
	}
	start, end := dateWindow(from, from.AddDays(days-1), loc)
	sc, err := u.Calendars.SiteCalendar(ctx, site.ID)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	cal, err := sc.Calendar()
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	h0, h1 := displayHours(sc)

	var cols []timelineDay
	holidays := map[calendar.Date]booking.Holiday{}
	for _, h := range sc.Holidays {
		if d, err := calendar.ParseDate(h.Date); err == nil {
			if prev, ok := holidays[d]; !ok || prev.Provisional {
				holidays[d] = h
			}
		}
	}
	for i := 0; i < days; i++ {
		d := from.AddDays(i)
		ds, de := dateWindow(d, d, loc)
		col := timelineDay{Date: d, Label: translate(lang, fmt.Sprintf("day.%d", d.Weekday())) + " " + strconv.Itoa(d.Day),
			Closed: cal.WorkingTime(calendar.Interval{Start: ds, End: de}, calendar.Options{}).Duration() == 0}
		if i == 0 || d.Day == 1 {
			col.Month = translate(lang, fmt.Sprintf("month.%d", d.Month))
		}
		if h, ok := holidays[d]; ok {
			col.Holiday, col.Provisional = h.Name, h.Provisional
			if h.Provisional {
				col.Holiday += " (" + translate(lang, "calendar.provisional") + ")"
			}
		}
		cols = append(cols, col)
	}

	var rows []timelineRow
	rowOf := map[uuid.UUID]int{}
	var resources []booking.Resource
	for _, res := range l.resources {
		if res.SiteID == site.ID {
			resources = append(resources, res)
		}
	}
	sort.SliceStable(resources, func(i, j int) bool {
		if resources[i].Kind != resources[j].Kind {
			return kindLabel(lang, resources[i].Kind) < kindLabel(lang, resources[j].Kind)
		}
		return resources[i].Name < resources[j].Name
	})
	for i, res := range resources {
		rowOf[res.ID] = i
		rows = append(rows, timelineRow{Label: res.Name, Sub: kindLabel(lang, res.Kind)})
	}

	bookings, err := u.listAll(ctx, a, booking.BookingFilter{SiteID: &site.ID, From: &start, To: &end,
		Status: []booking.Status{booking.StatusHold, booking.StatusConfirmed, booking.StatusCompleted}}, 2000)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	var items []timelineItem
	d := timelineData{Sites: activeSites(l.sites, site.ID), Site: site, From: from.String(), Days: days, Resources: len(rows),
		Zone: zoneLabel(site.TimeZone, start.In(loc)), Today: siteToday(now, loc).String(),
		Hours: fmt.Sprintf("%02d:00–%02d:00", h0, h1)}
	for _, b := range bookings {
		v := u.viewBooking(lang, a, l, b)
		d.Bookings = append(d.Bookings, v)
		closed := cal.UseOf(calendar.Interval{Start: b.Start, End: b.End}, nil).Closed
		for _, br := range b.Resources {
			row, ok := rowOf[br.ResourceID]
			if !ok {
				continue
			}
			label := v.Production
			tip := v.Production + " — " + v.StatusLabel
			if b.Status == booking.StatusHold {
				tip += fmt.Sprintf(" #%d", br.Rank)
			}
			if b.ApprovalPending {
				tip += " — " + translate(lang, "bookings.approval_pending")
			}
			tip += " — " + v.When
			items = append(items, timelineItem{Row: row, Start: b.Start, End: b.End, Kind: string(b.Status), Rank: br.Rank,
				Pending: b.ApprovalPending, Label: label, Title: tip, Href: "#b-" + v.ID, Closed: closed, Overtime: b.Overtime})
		}
	}
	for _, res := range resources {
		blocks, err := u.Blocks.ListBlocks(ctx, res.ID, &start, &end)
		if err != nil {
			u.pageError(w, r, title, err)
			return
		}
		for _, bl := range blocks {
			tip := translate(lang, "block."+bl.Kind)
			if bl.Reason != "" {
				tip += ": " + bl.Reason
			}
			for _, iv := range blockOccurrences(bl, loc, start, end) {
				items = append(items, timelineItem{Row: rowOf[res.ID], Start: iv.Start, End: iv.End, Kind: "block",
					Title: tip + " — " + formatInstant(lang, iv.Start, site.TimeZone)})
			}
		}
	}
	desc := fmt.Sprintf(translateN(lang, "timeline.desc", len(rows)), len(rows), days, formatDate(lang, start.In(loc)), d.Zone)
	d.SVG = timelineSVG("timeline", title+" — "+site.Name, desc, cols, rows, items, loc, h0, h1, now)
	nav := func(delta int) string {
		v := url.Values{"site": {site.ID.String()}, "from": {from.AddDays(delta).String()}, "days": {strconv.Itoa(days)}}
		return "/manage/timeline?" + v.Encode()
	}
	d.Prev, d.Next = nav(-days), nav(days)
	u.render(w, r, "timeline.html", http.StatusOK, page{Title: title, Data: d})
}

// blockOccurrences expands a block (recurring ones by their rule, in the site's
// wall-clock) into its intervals inside [from, to).
func blockOccurrences(b booking.Block, loc *time.Location, from, to time.Time) []calendar.Interval {
	if b.RRule == "" {
		return []calendar.Interval{{Start: b.Start, End: b.End}}
	}
	opt, err := rrule.StrToROption(b.RRule)
	if err != nil {
		return nil
	}
	opt.Dtstart = b.Start.In(loc)
	if b.Until != nil && (opt.Until.IsZero() || b.Until.Before(opt.Until)) {
		opt.Until = *b.Until
	}
	rule, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil
	}
	length := b.End.Sub(b.Start)
	var out []calendar.Interval
	for _, s := range rule.Between(from.Add(-length), to, true) {
		out = append(out, calendar.Interval{Start: s.UTC(), End: s.Add(length).UTC()})
	}
	return out
}

// calendarData is a site's calendar and policy for its managers.
type calendarData struct {
	Sites     []booking.Site
	Site      booking.Site
	Zone      string
	TZVersion string
	Week      []weekdayView
	Overrides []overrideView
	Holidays  []holidayView
	Policy    policyForm
	CanManage bool
	// Edit holds the calendar's forms, for those who manage the site (calendar_edit.go).
	Edit *calendarEdit
}

type weekdayView struct {
	Day   string
	Spans string
}

type overrideView struct {
	ID, Name, From, To string
	Week               []weekdayView
}

type holidayView struct {
	ID          string
	Date        string
	DateValue   string
	Name        string
	Scope       string
	Provisional bool
}

type policyForm struct {
	ConfirmNeedsApproval bool
	HoldLifetime         string
	ChallengeWindow      string
	MinNotice            string
	Reminders            string
}

func hoursString(d booking.Duration) string {
	return strconv.FormatFloat(time.Duration(d).Hours(), 'f', -1, 64)
}

func weekView(lang string, w booking.Week) []weekdayView {
	var out []weekdayView
	for _, wd := range weekdayOrder {
		var spans []string
		for _, s := range w[strings.ToLower(wd.String())] {
			spans = append(spans, s.From+"–"+s.To)
		}
		v := weekdayView{Day: translate(lang, fmt.Sprintf("dayname.%d", wd)), Spans: strings.Join(spans, ", ")}
		if v.Spans == "" {
			v.Spans = translate(lang, "calendar.closed")
		}
		out = append(out, v)
	}
	return out
}

func (u *UI) calendarPage(w http.ResponseWriter, r *http.Request) {
	u.renderCalendar(w, r, http.StatusOK, nil)
}

// renderCalendar shows a site's calendar and policy; failed is a refused calendar form
// to show again as typed, with its errors (calendar_edit.go).
func (u *UI) renderCalendar(w http.ResponseWriter, r *http.Request, status int, failed *calendarFailure) {
	a := actor(r)
	lang := language(r)
	ctx := r.Context()
	title := translate(lang, "calendar.title")
	l, err := u.lookups(ctx, a)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	site, ok := l.site(r, a)
	if !ok {
		u.pageError(w, r, title, booking.Errorf(booking.ENOTFOUND, "No site."))
		return
	}
	sc, err := u.Calendars.SiteCalendar(ctx, site.ID)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	pol, err := u.Bookings.SitePolicy(ctx, site.ID)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	loc, err := calendar.LoadLocation(site.TimeZone)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	now := u.now()
	d := calendarData{Sites: activeSites(l.sites, site.ID), Site: site, Zone: zoneLabel(site.TimeZone, now.In(loc)), TZVersion: sc.TZVersion,
		Week: weekView(lang, sc.Week), CanManage: a.ManagesSite(site.ID)}
	for _, o := range sc.Overrides {
		d.Overrides = append(d.Overrides, overrideView{ID: o.ID.String(), Name: o.Name, From: o.From, To: o.To, Week: weekView(lang, o.Week)})
	}
	// Holidays from a month ago on; the provisional ones are what needs a decision.
	since := siteToday(now, loc).AddDays(-31)
	for _, h := range sc.Holidays {
		date, err := calendar.ParseDate(h.Date)
		if err != nil || date.Before(since) {
			continue
		}
		scope := translate(lang, "calendar.national") + " (" + h.Country + ")"
		if h.SiteID != nil {
			scope = translate(lang, "calendar.site_only")
		}
		d.Holidays = append(d.Holidays, holidayView{ID: h.ID.String(), Date: formatDate(lang, time.Date(date.Year, date.Month, date.Day, 12, 0, 0, 0, time.UTC)),
			DateValue: h.Date, Name: h.Name, Scope: scope, Provisional: h.Provisional})
	}
	var reminders []string
	for _, o := range pol.ReminderOffsets {
		reminders = append(reminders, hoursString(o))
	}
	d.Policy = policyForm{ConfirmNeedsApproval: pol.ConfirmNeedsApproval, HoldLifetime: hoursString(pol.HoldLifetime),
		ChallengeWindow: hoursString(pol.ChallengeWindow), MinNotice: hoursString(pol.MinNotice), Reminders: strings.Join(reminders, ", ")}
	if d.CanManage {
		if d.Edit, err = u.calendarEditData(ctx, lang, l, site, sc, loc, now, failed); err != nil {
			u.pageError(w, r, title, err)
			return
		}
	}
	u.render(w, r, "calendar.html", status, page{Title: title, Data: d})
}

// parseHoursField reads a duration given in hours.
func parseHoursField(lang, field, v string) (booking.Duration, error) {
	h, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(v), ",", "."), 64)
	if err != nil || h < 0 || h > 24*366 {
		return 0, &booking.Error{Code: booking.EINVALID, Message: fmt.Sprintf(translate(lang, "calendar.bad_hours"), translate(lang, "policy."+field))}
	}
	return booking.Duration(time.Duration(h * float64(time.Hour))), nil
}

func (u *UI) updatePolicy(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	id, ok := u.formID(w, r, "/manage/calendar", "site")
	if !ok {
		return
	}
	p := booking.SitePolicy{SiteID: id, ConfirmNeedsApproval: r.PostFormValue("confirm_needs_approval") == "on"}
	var err error
	for _, f := range []struct {
		name string
		dst  *booking.Duration
	}{{"hold_lifetime", &p.HoldLifetime}, {"challenge_window", &p.ChallengeWindow}, {"min_notice", &p.MinNotice}} {
		if err == nil {
			*f.dst, err = parseHoursField(lang, f.name, r.PostFormValue(f.name))
		}
	}
	p.ReminderOffsets = []booking.Duration{}
	for _, v := range strings.Split(r.PostFormValue("reminder_offsets"), ",") {
		if strings.TrimSpace(v) == "" || err != nil {
			continue
		}
		var d booking.Duration
		if d, err = parseHoursField(lang, "reminder_offsets", v); err == nil {
			p.ReminderOffsets = append(p.ReminderOffsets, d)
		}
	}
	if err == nil {
		_, err = u.Bookings.UpdateSitePolicy(r.Context(), actor(r), p)
	}
	if err != nil {
		u.failed(w, r, "/manage/calendar", err)
		return
	}
	u.done(w, r, "/manage/calendar", "ok", translate(lang, "flash.policy_saved"))
}

func (u *UI) confirmHoliday(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	id, ok := u.formID(w, r, "/manage/calendar", "holiday")
	if !ok {
		return
	}
	date := strings.TrimSpace(r.PostFormValue("date"))
	if _, ok := formDate(date); date != "" && !ok {
		u.done(w, r, "/manage/calendar", "error", translate(lang, "calendar.err_date"))
		return
	}
	before := u.reviewNotes(r.Context(), actor(r))
	h, err := u.Calendars.ConfirmHoliday(r.Context(), actor(r), id, date)
	if err != nil {
		u.calendarActionFailed(w, r, "holiday", err)
		return
	}
	u.calendarDone(w, r, uuid.Nil, fmt.Sprintf(translate(lang, "flash.holiday_confirmed"), h.Name, h.Date), before)
}

func (u *UI) deleteHoliday(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	if err := parseForm(w, r); err != nil {
		u.done(w, r, "/manage/calendar", "error", translate(lang, "login.bad_form"))
		return
	}
	id, err := uuid.Parse(r.PathValue("id"))
	before := u.reviewNotes(r.Context(), actor(r))
	if err == nil {
		err = u.Calendars.DeleteHoliday(r.Context(), actor(r), id)
	} else {
		err = booking.Errorf(booking.ENOTFOUND, "No such holiday.")
	}
	if err != nil {
		u.calendarActionFailed(w, r, "holiday", err)
		return
	}
	u.calendarDone(w, r, uuid.Nil, translate(lang, "flash.holiday_removed"), before)
}

// formID reads a form post and the {id} in its path, for the handlers that act on one
// object; when either is bad it has answered (back to back, naming what) and is false.
func (u *UI) formID(w http.ResponseWriter, r *http.Request, back, what string) (uuid.UUID, bool) {
	if err := parseForm(w, r); err != nil {
		u.done(w, r, back, "error", translate(language(r), "login.bad_form"))
		return uuid.Nil, false
	}
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		u.failed(w, r, back, booking.Errorf(booking.ENOTFOUND, "No such %s.", what))
		return uuid.Nil, false
	}
	return id, true
}
