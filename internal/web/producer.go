package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// homeData is the dashboard: what needs the person's attention, by role.
type homeData struct {
	Producer  bool
	Manager   bool
	Operator  bool
	Holds     int
	Confirmed int
	Pending   int
	Challenge int
	Upcoming  []bookingView
	Unread    []booking.Notification
	Sites     []opsSiteSummary
}

// opsSiteSummary is one site's utilisation this week, for the dashboard.
type opsSiteSummary struct {
	Site        booking.Site
	Utilisation float64
	HeldRatio   float64
	Working     float64
	Confirmed   float64
	Week        string
}

func (u *UI) home(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		u.errorPage(w, r, http.StatusNotFound, booking.Errorf(booking.ENOTFOUND, "No such page."))
		return
	}
	a := actor(r)
	lang := language(r)
	ctx := r.Context()
	l, err := u.lookups(ctx, a)
	if err != nil {
		u.pageError(w, r, "posthub", err)
		return
	}
	d := homeData{Producer: a.Role == booking.RoleProducer, Manager: a.Role == booking.RoleManager || a.Role == booking.RoleAdmin,
		Operator: a.Role == booking.RoleOperator || a.Role == booking.RoleAdmin}
	if a.Role != booking.RoleOperator {
		active, err := u.listAll(ctx, a, booking.BookingFilter{Status: []booking.Status{booking.StatusHold, booking.StatusConfirmed}}, 1000)
		if err != nil {
			u.pageError(w, r, "posthub", err)
			return
		}
		for _, b := range active {
			if a.Role == booking.RoleManager && !a.ManagesSite(b.SiteID) {
				continue
			}
			switch {
			case b.Status == booking.StatusConfirmed:
				d.Confirmed++
			default:
				d.Holds++
			}
			if b.ApprovalPending {
				d.Pending++
			}
			if b.Challenge != nil || len(b.ChallengedBy) > 0 {
				d.Challenge++
			}
			if d.Producer && len(d.Upcoming) < 5 && b.End.After(u.now()) {
				d.Upcoming = append(d.Upcoming, u.viewBooking(lang, a, l, b))
			}
		}
	}
	if n, _, err := u.Notifications.ListNotifications(ctx, a, true, "", 3); err == nil {
		d.Unread = n
	}
	if d.Operator && u.Utilisation != nil {
		for _, s := range l.sites {
			loc, err := calendar.LoadLocation(s.TimeZone)
			if err != nil {
				continue
			}
			mon := mondayOf(siteToday(u.now(), loc))
			from, to := dateWindow(mon, mon.AddDays(6), loc)
			rep, err := u.Utilisation.Utilisation(ctx, a, booking.UtilisationQuery{SiteID: s.ID, From: from, To: to})
			if err != nil {
				continue
			}
			d.Sites = append(d.Sites, opsSiteSummary{Site: s, Utilisation: rep.Total.Utilisation, HeldRatio: rep.Total.HeldRatio,
				Working: rep.Total.WorkingHours, Confirmed: rep.Total.ConfirmedHours, Week: formatShortDate(lang, mon)})
		}
	}
	u.render(w, r, "home.html", http.StatusOK, page{Title: translate(lang, "home.title"), Data: d})
}

// productionView is a production as the list shows it.
type productionView struct {
	booking.Production
	FormatLabel string
	Origins     string
	// DeliverablesText is the deliverables in a few words.
	DeliverablesText string
}

func (u *UI) productions(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	lang := language(r)
	prods, err := u.Catalogue.ListProductions(r.Context(), a)
	if err != nil {
		u.pageError(w, r, translate(lang, "productions.title"), err)
		return
	}
	sort.SliceStable(prods, func(i, j int) bool { return prods[i].Title < prods[j].Title })
	var out []productionView
	for _, p := range prods {
		var origins []string
		for _, o := range p.Origins {
			origins = append(origins, fmt.Sprintf("%s %s%%", o.Country, strconv.FormatFloat(o.SharePct, 'f', -1, 64)))
		}
		out = append(out, productionView{Production: p, FormatLabel: translate(lang, "format."+p.Format), Origins: strings.Join(origins, " · "),
			DeliverablesText: deliverablesSummary(lang, p.Deliverables)})
	}
	u.render(w, r, "productions.html", http.StatusOK, page{Title: translate(lang, "productions.title"),
		Data: map[string]any{"Productions": out, "CanBook": a.Role != booking.RoleOperator}})
}

// bookingsData is the "my bookings" list.
type bookingsData struct {
	Show     string
	Bookings []bookingView
	Next     string
}

func (u *UI) bookings(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	lang := language(r)
	ctx := r.Context()
	l, err := u.lookups(ctx, a)
	if err != nil {
		u.pageError(w, r, translate(lang, "bookings.title"), err)
		return
	}
	q := r.URL.Query()
	d := bookingsData{Show: q.Get("show")}
	f := booking.BookingFilter{Cursor: q.Get("cursor"), Limit: 100}
	switch d.Show {
	case "past":
		f.Status = []booking.Status{booking.StatusCompleted, booking.StatusReleased, booking.StatusDeclined, booking.StatusCancelled, booking.StatusExpired}
	default:
		d.Show = "active"
		f.Status = []booking.Status{booking.StatusHold, booking.StatusConfirmed}
	}
	items, _, next, err := u.Bookings.ListBookings(ctx, a, f)
	if err != nil {
		u.pageError(w, r, translate(lang, "bookings.title"), err)
		return
	}
	for _, b := range items {
		d.Bookings = append(d.Bookings, u.viewBooking(lang, a, l, b))
	}
	if next != "" {
		d.Next = "/bookings?" + url.Values{"show": {d.Show}, "cursor": {next}}.Encode()
	}
	u.render(w, r, "bookings.html", http.StatusOK, page{Title: translate(lang, "bookings.title"), Data: d})
}

// newBookingData is the hold form and the availability search beside it.
type newBookingData struct {
	Productions []booking.Production
	Sites       []siteResources
	Form        holdForm
	Search      availabilitySearch
	Kinds       []kindOption
	Slots       []slotView
	Searched    bool
	SearchError string
	FormError   string
}

type siteResources struct {
	Site      booking.Site
	Resources []booking.Resource
}

type kindOption struct{ Value, Label string }

type holdForm struct {
	Production, Resource, Resource2, Start, End, Note string
}

type availabilitySearch struct {
	Site, Kind1, Caps1, Kind2, Caps2, Hours, From, To string
}

type slotView struct {
	When      string
	Resources []string
	Use       string
}

func (u *UI) newBooking(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	form := holdForm{Production: q.Get("production"), Resource: q.Get("resource"), Resource2: q.Get("resource2"),
		Start: q.Get("start"), End: q.Get("end")}
	u.renderNewBooking(w, r, http.StatusOK, form, "")
}

func (u *UI) renderNewBooking(w http.ResponseWriter, r *http.Request, status int, form holdForm, formErr string) {
	a := actor(r)
	lang := language(r)
	ctx := r.Context()
	l, err := u.lookups(ctx, a)
	if err != nil {
		u.pageError(w, r, translate(lang, "new.title"), err)
		return
	}
	d := newBookingData{Productions: l.prods, Form: form, FormError: formErr}
	kinds := map[string]bool{}
	for _, s := range activeSites(l.sites, uuid.Nil) {
		sr := siteResources{Site: s}
		for _, res := range l.resources {
			if res.SiteID == s.ID {
				sr.Resources = append(sr.Resources, res)
				kinds[res.Kind] = true
			}
		}
		d.Sites = append(d.Sites, sr)
	}
	for k := range kinds {
		d.Kinds = append(d.Kinds, kindOption{Value: k, Label: kindLabel(lang, k)})
	}
	sort.Slice(d.Kinds, func(i, j int) bool { return d.Kinds[i].Label < d.Kinds[j].Label })

	q := r.URL.Query()
	s := availabilitySearch{Site: q.Get("a_site"), Kind1: q.Get("a_kind1"), Caps1: q.Get("a_caps1"), Kind2: q.Get("a_kind2"),
		Caps2: q.Get("a_caps2"), Hours: q.Get("a_hours"), From: q.Get("a_from"), To: q.Get("a_to")}
	if s.Hours == "" {
		s.Hours = "4"
	}
	if r.Method == http.MethodGet && q.Get("search") != "" {
		d.Searched = true
		slots, err := u.searchAvailability(r, a, l, s, form)
		if err != nil {
			d.SearchError = u.errorText(lang, err)
		}
		d.Slots = slots
	}
	if s.From == "" && len(l.sites) > 0 {
		if loc, err := calendar.LoadLocation(l.sites[0].TimeZone); err == nil {
			today := siteToday(u.now(), loc)
			s.From, s.To = today.AddDays(1).String(), today.AddDays(28).String()
		}
	}
	d.Search = s
	u.render(w, r, "booking_new.html", status, page{Title: translate(lang, "new.title"), Data: d})
}

// searchAvailability runs the availability helper: the earliest slots where the
// demands can all be met at once, within the site-local dates given.
func (u *UI) searchAvailability(r *http.Request, a booking.Actor, l *lookups, s availabilitySearch, form holdForm) ([]slotView, error) {
	lang := language(r)
	site, ok := l.siteByID[uuidOrNil(s.Site)]
	if !ok {
		return nil, &booking.Error{Code: booking.EINVALID, Message: "Choose a site."}
	}
	loc, err := calendar.LoadLocation(site.TimeZone)
	if err != nil {
		return nil, err
	}
	from, err1 := calendar.ParseDate(s.From)
	to, err2 := calendar.ParseDate(s.To)
	if err1 != nil || err2 != nil || to.Before(from) {
		return nil, &booking.Error{Code: booking.EINVALID, Message: "Give the first and last dates to search, the last on or after the first."}
	}
	hours, err := strconv.ParseFloat(strings.ReplaceAll(s.Hours, ",", "."), 64)
	if err != nil || hours <= 0 || hours > 2000 {
		return nil, &booking.Error{Code: booking.EINVALID, Message: "hours must be a number above 0 and at most 2000."}
	}
	q := booking.AvailabilityQuery{SiteID: site.ID, Hours: time.Duration(hours * float64(time.Hour)), Limit: 8}
	// Naming the production lets the search leave out capacity ring-fenced for a
	// programme it is not in.
	q.ProductionID = uuidOrNil(form.Production)
	q.From, q.To = dateWindow(from, to, loc)
	if now := u.now(); q.From.Before(now) {
		q.From = now.Truncate(time.Hour).Add(time.Hour)
	}
	for _, dm := range [][2]string{{s.Kind1, s.Caps1}, {s.Kind2, s.Caps2}} {
		if dm[0] == "" {
			continue
		}
		d := booking.Demand{Kind: dm[0], Capabilities: []string{}}
		for _, c := range strings.Split(dm[1], ",") {
			if c = strings.TrimSpace(c); c != "" {
				d.Capabilities = append(d.Capabilities, c)
			}
		}
		q.Demands = append(q.Demands, d)
	}
	if len(q.Demands) == 0 {
		return nil, &booking.Error{Code: booking.EINVALID, Message: "Choose at least one kind of resource."}
	}
	slots, err := u.Calendars.Availability(r.Context(), a, q)
	if err != nil {
		return nil, err
	}
	var out []slotView
	for _, sl := range slots {
		v := slotView{When: formatSpan(lang, sl.StartLocal, sl.EndLocal, sl.TimeZone)}
		use := url.Values{"production": {form.Production}, "start": {inputValue(sl.StartLocal)}, "end": {inputValue(sl.EndLocal)}}
		for i, res := range sl.Resources {
			v.Resources = append(v.Resources, kindLabel(lang, res.Kind)+": "+res.Name)
			switch i {
			case 0:
				use.Set("resource", res.ResourceID.String())
			case 1:
				use.Set("resource2", res.ResourceID.String())
			}
		}
		// Keep the search, so going back to it shows the same slots.
		for k, vs := range r.URL.Query() {
			if strings.HasPrefix(k, "a_") {
				use[k] = vs
			}
		}
		v.Use = "/bookings/new?" + use.Encode() + "#hold"
		out = append(out, v)
	}
	return out, nil
}

func uuidOrNil(s string) uuid.UUID {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil
	}
	return id
}

func (u *UI) createBooking(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	if err := parseForm(w, r); err != nil {
		u.renderNewBooking(w, r, http.StatusBadRequest, holdForm{}, translate(lang, "login.bad_form"))
		return
	}
	f := holdForm{Production: r.PostFormValue("production"), Resource: r.PostFormValue("resource"), Resource2: r.PostFormValue("resource2"),
		Start: r.PostFormValue("start_local"), End: r.PostFormValue("end_local"), Note: r.PostFormValue("note")}
	in := booking.BookingInput{ProductionID: uuidOrNil(f.Production), Status: booking.StatusHold, Note: strings.TrimSpace(f.Note),
		StartLocal: f.Start, EndLocal: f.End}
	for _, v := range []string{f.Resource, f.Resource2} {
		if id := uuidOrNil(v); id != uuid.Nil {
			in.ResourceIDs = append(in.ResourceIDs, id)
		}
	}
	var err error
	switch {
	case in.ProductionID == uuid.Nil:
		err = &booking.Error{Code: booking.EINVALID, Message: translate(lang, "new.need_production")}
	case len(in.ResourceIDs) == 0:
		err = &booking.Error{Code: booking.EINVALID, Message: translate(lang, "new.need_resource")}
	case f.Start == "" || f.End == "":
		err = &booking.Error{Code: booking.EINVALID, Message: translate(lang, "new.need_times")}
	}
	var b booking.Booking
	if err == nil {
		b, err = u.Bookings.Book(r.Context(), actor(r), in)
	}
	if err != nil {
		u.renderNewBooking(w, r, http.StatusUnprocessableEntity, f, u.explain(r, err))
		return
	}
	msg := fmt.Sprintf(translate(lang, "flash.hold_placed"), b.Rank, bookingWhen(lang, b))
	u.setFlash(w, r, "ok", warningsText(lang, msg, b.Warnings))
	http.Redirect(w, r, "/bookings#b-"+b.ID.String(), http.StatusSeeOther)
}

// actOnBooking confirms, releases, cancels or declines a booking from a form.
func (u *UI) actOnBooking(act booking.Action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := language(r)
		if err := parseForm(w, r); err != nil {
			u.done(w, r, "/bookings", "error", translate(lang, "login.bad_form"))
			return
		}
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			u.failed(w, r, "/bookings", booking.Errorf(booking.ENOTFOUND, "No such booking."))
			return
		}
		reason := strings.TrimSpace(r.PostFormValue("reason"))
		if act == booking.ActionDecline && reason == "" {
			u.done(w, r, "/bookings", "error", translate(lang, "queue.need_reason"))
			return
		}
		a := actor(r)
		b, err := u.Bookings.Act(r.Context(), a, id, act, booking.ActOptions{Reason: reason})
		if err != nil {
			u.failed(w, r, "/bookings", err)
			return
		}
		msg := outcome(lang, act, b)
		if a.Role != booking.RoleProducer && act == booking.ActionConfirm && b.Status != booking.StatusConfirmed && b.Challenge != nil {
			// A manager confirms for the production: the holds ahead are not theirs to race.
			msg = fmt.Sprintf(translate(lang, "flash.challenge_other"), formatInstant(lang, b.Challenge.Deadline, b.TimeZone))
		}
		u.done(w, r, "/bookings", "ok", msg)
	}
}

// reschedule moves a booking to new site-local times.
func (u *UI) reschedule(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	if err := parseForm(w, r); err != nil {
		u.done(w, r, "/bookings", "error", translate(lang, "login.bad_form"))
		return
	}
	a := actor(r)
	id, err := uuid.Parse(r.PathValue("id"))
	var b booking.Booking
	if err == nil {
		b, err = u.Bookings.FindBooking(r.Context(), a, id)
	} else {
		err = booking.Errorf(booking.ENOTFOUND, "No such booking.")
	}
	if err != nil {
		u.failed(w, r, "/bookings", err)
		return
	}
	loc, err := calendar.LoadLocation(b.TimeZone)
	if err != nil {
		u.failed(w, r, "/bookings", err)
		return
	}
	start, ok1 := parseInputLocal(r.PostFormValue("start_local"), loc)
	end, ok2 := parseInputLocal(r.PostFormValue("end_local"), loc)
	if !ok1 || !ok2 {
		u.done(w, r, "/bookings", "error", translate(lang, "new.need_times"))
		return
	}
	nb, err := u.Bookings.Reschedule(r.Context(), a, id, start.UTC(), end.UTC(), booking.ActOptions{Reason: strings.TrimSpace(r.PostFormValue("reason"))})
	if err != nil {
		u.failed(w, r, "/bookings", err)
		return
	}
	u.done(w, r, "/bookings", "ok", warningsText(lang, outcome(lang, booking.ActionReschedule, nb), nb.Warnings))
}

// notificationView is an entry of the feed.
type notificationView struct {
	booking.Notification
	When string
	Link string
}

func (u *UI) notifications(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	lang := language(r)
	ctx := r.Context()
	q := r.URL.Query()
	items, next, err := u.Notifications.ListNotifications(ctx, a, q.Get("unread") == "1", q.Get("cursor"), 50)
	if err != nil {
		u.pageError(w, r, translate(lang, "notifications.title"), err)
		return
	}
	zones := map[uuid.UUID]string{}
	var out []notificationView
	unread := 0
	for _, n := range items {
		v := notificationView{Notification: n}
		zone := "UTC"
		if n.BookingID != nil {
			z, ok := zones[*n.BookingID]
			if !ok {
				if b, err := u.Bookings.FindBooking(ctx, a, *n.BookingID); err == nil {
					z = b.TimeZone
					v.Link = "/bookings/" + b.ID.String()
				}
				zones[*n.BookingID] = z
			} else if z != "" {
				v.Link = "/bookings/" + n.BookingID.String()
			}
			if z != "" {
				zone = z
			}
		}
		if a.Role == booking.RoleOperator {
			v.Link = ""
		}
		v.When = formatInstant(lang, n.CreatedAt, zone)
		if n.ReadAt == nil {
			unread++
		}
		out = append(out, v)
	}
	d := map[string]any{"Items": out, "Unread": unread, "OnlyUnread": q.Get("unread") == "1"}
	if next != "" {
		d["Next"] = "/notifications?" + url.Values{"cursor": {next}, "unread": {q.Get("unread")}}.Encode()
	}
	u.render(w, r, "notifications.html", http.StatusOK, page{Title: translate(lang, "notifications.title"), Data: d})
}

func (u *UI) markRead(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	if err := parseForm(w, r); err != nil {
		u.done(w, r, "/notifications", "error", translate(lang, "login.bad_form"))
		return
	}
	// Empty, not nil: storage reads an empty list as "all of them" (a nil one, sent as
	// NULL, marks none).
	ids := []uuid.UUID{}
	for _, v := range r.PostForm["id"] {
		if id, err := uuid.Parse(v); err == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 && r.PostFormValue("all") != "1" {
		u.done(w, r, "/notifications", "error", translate(lang, "notifications.none_chosen"))
		return
	}
	n, err := u.Notifications.MarkRead(r.Context(), actor(r), ids)
	if err != nil {
		u.failed(w, r, "/notifications", err)
		return
	}
	u.done(w, r, "/notifications", "ok", fmt.Sprintf(translateN(lang, "notifications.marked", n), n))
}
