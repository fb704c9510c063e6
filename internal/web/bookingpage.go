package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/httpapi"
)

// A booking's own page (/bookings/{id}, where notices link), the lists of plans, the
// confirmation of a whole plan, and the pages a browser gets for errors.

// bookingPages are the templates of these pages, parsed like the co-production ones.
var bookingPages = []string{"booking.html", "plans.html", "error.html"}

// registerBookingPages mounts the pages and makes the server answer browsers' errors
// with a page.
func (u *UI) registerBookingPages(r *httpapi.Router) {
	base := u.tmpl["home.html"]
	for _, name := range bookingPages {
		u.tmpl[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name))
	}
	r.Handle("GET", "/bookings/{id}", u.bookingPage)
	r.Handle("GET", "/plans", u.plansPage)
	r.Handle("GET", "/productions/{id}/plans", u.productionPlansPage)
	r.Handle("POST", "/plans/{id}/confirm", u.confirmPlan)
	r.Handle("POST", "/plans/{id}/replan-remaining", u.replanRemaining) // plan_remaining.go
	if u.api != nil {
		u.api.ErrorPage = u.errorPage
	}
}

// errorPageData is what an error page says beyond its title.
type errorPageData struct {
	Status int
	Hint   string
	// SignIn is the login form coming back here, for someone not signed in.
	SignIn string
}

// errorPage answers a browser's failed request (httpapi.WantsPage) with a page in its
// language, with the status the one error table gives the error.
func (u *UI) errorPage(w http.ResponseWriter, r *http.Request, status int, err error) {
	lang := language(r)
	title, text := translate(lang, "errorpage.title_other"), translate(lang, "error."+booking.ErrorCode(err))
	if _, ok := catalog.Lookup(lang, "error."+booking.ErrorCode(err)); !ok {
		text = translate(lang, "errorpage.text_other") // a code the catalogs do not name yet
	}
	switch status {
	case http.StatusNotFound:
		title, text = translate(lang, "errorpage.title_404"), translate(lang, "errorpage.text_404")
	case http.StatusForbidden:
		title, text = translate(lang, "errorpage.title_403"), translate(lang, "errorpage.text_403")
	case http.StatusMethodNotAllowed:
		title, text = translate(lang, "errorpage.title_405"), translate(lang, "errorpage.text_405")
	case http.StatusTooManyRequests:
		title = translate(lang, "errorpage.title_429")
	case http.StatusInternalServerError, http.StatusServiceUnavailable:
		title = translate(lang, "errorpage.title_500")
	}
	u.renderError(w, r, status, title, text)
}

// renderError shows the error page: a title, what went wrong and the way home.
func (u *UI) renderError(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	lang := language(r)
	d := errorPageData{Status: status, Hint: fmt.Sprintf(translate(lang, "errorpage.status"), status)}
	if _, ok := httpapi.ActorFrom(r.Context()); !ok {
		d.SignIn = "/login?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	u.render(w, r, "error.html", status, page{Title: title, Error: text, Data: d})
}

// explain says why a form was refused, as errorText does, and for a clash also what is
// in the way: each interval the service names (details.conflicts), in its site's
// wall-clock with the zone, and on which resource.
func (u *UI) explain(r *http.Request, err error) string {
	lang := language(r)
	text := u.errorText(lang, err)
	if clash := u.clashText(r.Context(), lang, err); clash != "" {
		text += " " + clash
	}
	return text
}

// clashText names what stands in a refused booking's way; empty when the error names
// nothing.
func (u *UI) clashText(ctx context.Context, lang string, err error) string {
	var e *booking.Error
	if !errors.As(err, &e) || e.Code != booking.ECONFLICT || e.Details["conflicts"] == nil || u.Catalogue == nil {
		return ""
	}
	raw, jerr := json.Marshal(e.Details["conflicts"])
	if jerr != nil {
		return ""
	}
	var cs []struct {
		ResourceID uuid.UUID `json:"resource_id"`
		Start      time.Time `json:"start"`
		End        time.Time `json:"end"`
		Kind       string    `json:"kind"`
	}
	if json.Unmarshal(raw, &cs) != nil || len(cs) == 0 {
		return ""
	}
	var parts []string
	for i, c := range cs {
		if i == 5 {
			parts = append(parts, "…")
			break
		}
		name, zone := translate(lang, "bookings.unknown_resource"), "UTC"
		if res, err := u.Catalogue.FindResource(ctx, c.ResourceID); err == nil {
			name = res.Name
			if s, err := u.Catalogue.FindSite(ctx, res.SiteID); err == nil {
				zone = s.TimeZone
			}
		}
		what := translate(lang, "bookings.clash_booking")
		switch c.Kind {
		case "hold":
			what = translate(lang, "bookings.clash_hold")
		case "block":
			what = translate(lang, "bookings.clash_block")
		}
		parts = append(parts, fmt.Sprintf(translate(lang, "bookings.clash_item"), name, what, localInterval(lang, c.Start, c.End, zone)))
	}
	return fmt.Sprintf(translate(lang, "bookings.clash"), strings.Join(parts, "; "))
}

// localInterval is an interval in a zone's wall-clock with the zone and offset named.
func localInterval(lang string, start, end time.Time, zone string) string {
	loc, err := calendar.LoadLocation(zone)
	if err != nil || zone == "" {
		loc, zone = time.UTC, "UTC"
	}
	s, e := start.In(loc), end.In(loc)
	label := zone + ", " + offsetLabel(s)
	if offsetLabel(e) != offsetLabel(s) {
		label += " → " + offsetLabel(e)
	}
	return formatSpanTimes(lang, s, e) + " (" + label + ")"
}

// bookingPrice prices a booking as it stands, without keeping a quote.
func (u *UI) bookingPrice(ctx context.Context, a booking.Actor, b booking.Booking) (booking.Quote, error) {
	cp, err := u.copro()
	if err != nil {
		return booking.Quote{}, err
	}
	items := make([]booking.QuoteItem, 0, len(b.Resources))
	for _, r := range b.Resources {
		items = append(items, booking.QuoteItem{ResourceID: r.ResourceID, Start: b.Start, End: b.End, Overtime: b.Overtime})
	}
	pid := b.ProductionID
	return cp.QuoteItems(ctx, a, booking.QuoteRequest{SiteID: b.SiteID, ProductionID: &pid, Items: items})
}

// organisationNames names the organisations the actor may see.
func (u *UI) organisationNames(ctx context.Context, a booking.Actor) map[uuid.UUID]string {
	out := map[uuid.UUID]string{}
	if u.Catalogue == nil {
		return out
	}
	orgs, err := u.Catalogue.ListOrganisations(ctx, a)
	if err != nil {
		u.Logger.Warn("listing organisations", "err", err)
		return out
	}
	for _, o := range orgs {
		out[o.ID] = o.Name
	}
	return out
}

// bookingResource is one resource of a booking on its page.
type bookingResource struct {
	Name, Kind string
	Rank       int
}

// quoteLink is a quote kept for a booking.
type quoteLink struct {
	Href, Number, Made, Total string
}

// planLink is the plan stage a booking was placed for.
type planLink struct {
	Href, Stage, Status string
}

// historyEntry is one change of a booking as its page tells it.
type historyEntry struct {
	When, Who, What, Detail string
}

// bookingPageData is a booking's page.
type bookingPageData struct {
	B            bookingView
	ProductionID string
	Organisation string
	UTC          string
	Overtime     bool
	Resources    []bookingResource
	// Acts says the viewer may act on it: a manager acts at the sites they manage.
	Acts      bool
	CanQuote  bool
	CanReview bool
	Price     *quoteView
	PriceNote string
	Quotes    []quoteLink
	Plan      *planLink
	History   []historyEntry
	Back      string
}

func (u *UI) bookingPage(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	lang := language(r)
	ctx := r.Context()
	title := translate(lang, "booking.title")
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		u.pageError(w, r, title, booking.Errorf(booking.ENOTFOUND, "No such booking."))
		return
	}
	b, err := u.Bookings.FindBooking(ctx, a, id)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	l, err := u.lookups(ctx, a)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	v := u.viewBooking(lang, a, l, b)
	d := bookingPageData{B: v, ProductionID: b.ProductionID.String(), Overtime: b.Overtime, Back: "/bookings/" + b.ID.String(),
		Acts: a.Role != booking.RoleManager || a.ManagesSite(b.SiteID),
		UTC:  b.Start.UTC().Format("2006-01-02 15:04") + " – " + b.End.UTC().Format("2006-01-02 15:04") + " UTC"}
	if !d.Acts {
		d.B.CanConfirm, d.B.CanRelease, d.B.CanCancel, d.B.CanDecline, d.B.CanReschedule = false, false, false, false, false
	}
	d.CanReview = d.Acts && b.WorkingTimeReview != "" && a.Role != booking.RoleProducer
	if p, ok := l.prodByID[b.ProductionID]; ok {
		d.Organisation = u.organisationNames(ctx, a)[p.OrganisationID]
	}
	for _, br := range b.Resources {
		res := bookingResource{Name: translate(lang, "bookings.unknown_resource"), Rank: br.Rank}
		if rr, ok := l.resByID[br.ResourceID]; ok {
			res.Name, res.Kind = rr.Name, kindLabel(lang, rr.Kind)
		}
		if b.Status != booking.StatusHold {
			res.Rank = 0
		}
		d.Resources = append(d.Resources, res)
	}
	// The price as the booking stands, and the quotes kept for it.
	if b.Status.Active() || b.Status == booking.StatusCompleted {
		d.CanQuote = d.Acts && a.Role != booking.RoleOperator
		if q, err := u.bookingPrice(ctx, a, b); err == nil {
			pv := viewQuote(lang, q)
			d.Price = &pv
		} else if booking.ErrorCode(err) != booking.EUNAVAILABLE {
			d.PriceNote = u.errorText(lang, err)
		}
	}
	if cp, err := u.copro(); err == nil {
		if qs, err := cp.ListQuotes(ctx, a, &b.ID); err == nil {
			for _, q := range qs {
				d.Quotes = append(d.Quotes, quoteLink{Href: "/quotes/" + q.ID.String(), Number: strings.ToUpper(q.ID.String()[:8]),
					Made: formatInstant(lang, q.CreatedAt, q.TimeZone), Total: quoteMoney(lang, q.TotalMinor, q.Currency)})
			}
		}
	}
	// The plan stage it was placed for.
	if u.Plans != nil {
		if p, stage, err := u.Plans.PlanOfBooking(ctx, a, b.ID); err == nil {
			pl := &planLink{Href: "/plans/" + p.ID.String() + "#stage-" + stage, Stage: stage, Status: translate(lang, planStatusWords["accepted"][0])}
			for _, s := range p.Stages {
				if s.ID == stage {
					pl.Stage = stageLabel(lang, p.Template, s.ID, s.Name)
				}
			}
			d.Plan = pl
		}
	}
	if u.History != nil {
		changes, err := u.History.BookingHistory(ctx, a, b.ID)
		if err != nil {
			u.pageError(w, r, title, err)
			return
		}
		for _, c := range changes {
			d.History = append(d.History, historyText(lang, b.TimeZone, c))
		}
	}
	u.render(w, r, "booking.html", http.StatusOK, page{Title: v.Production + " — " + title, Data: d})
}

// historyText says in words what a change did to a booking, when and who did it.
func historyText(lang, zone string, c booking.BookingChange) historyEntry {
	e := historyEntry{When: formatInstant(lang, c.At, zone)}
	switch c.ActorRole {
	case "system", "":
		e.Who = translate(lang, "history.posthub")
	default:
		e.Who = translate(lang, "role."+c.ActorRole)
		if c.ActorName != "" {
			e.Who = c.ActorName + " (" + e.Who + ")"
		}
	}
	after, before := c.After, c.Before
	when := func(b *booking.Booking) string {
		if b == nil {
			return ""
		}
		return bookingWhen(lang, *b)
	}
	switch c.Action {
	case "booking.created":
		e.What = translate(lang, "history.created")
		if after != nil && after.Status == booking.StatusConfirmed {
			e.What = translate(lang, "history.created_confirmed")
		} else if after != nil && after.Rank > 0 {
			e.What = fmt.Sprintf(translate(lang, "history.created_hold"), after.Rank)
		}
		e.Detail = when(after)
	case "booking.confirm":
		switch {
		case after == nil:
			e.What = translate(lang, "history.confirm")
		case after.Status == booking.StatusConfirmed:
			e.What = translate(lang, "history.confirmed")
		case after.Challenge != nil:
			e.What = fmt.Sprintf(translate(lang, "history.challenge"), formatInstant(lang, after.Challenge.Deadline, zone))
		case after.ApprovalPending:
			e.What = translate(lang, "history.approval_requested")
		default:
			e.What = translate(lang, "history.confirm")
		}
	case "booking.release":
		e.What = translate(lang, "history.released")
	case "booking.released":
		e.What = translate(lang, "history.released_challenge")
	case "booking.decline":
		e.What = translate(lang, "history.declined")
	case "booking.cancel":
		e.What = translate(lang, "history.cancelled")
	case "booking.expired":
		e.What = translate(lang, "history.expired")
	case "booking.completed":
		e.What = translate(lang, "history.completed")
	case "booking.challenge_settled":
		e.What = translate(lang, "history.challenge_settled")
	case "booking.rescheduled":
		e.What = translate(lang, "history.rescheduled")
		if before != nil && after != nil {
			e.Detail = fmt.Sprintf(translate(lang, "history.from_to"), when(before), when(after))
		}
	case "booking.move_requested":
		e.What = translate(lang, "history.move_requested")
		if after != nil && after.RequestedStart != nil && after.RequestedEnd != nil {
			e.Detail = localInterval(lang, *after.RequestedStart, *after.RequestedEnd, zone)
		}
	case "booking.move_declined":
		e.What = translate(lang, "history.move_declined")
	case "booking.local_time_changed":
		e.What = translate(lang, "history.local_time_changed")
		e.Detail = when(after)
	case "booking.working_time_changed":
		e.What = translate(lang, "history.working_time_changed")
		if after != nil {
			e.Detail = after.WorkingTimeReview
		}
	case "booking.working_time_reviewed":
		e.What = translate(lang, "history.working_time_reviewed")
	default:
		e.What = c.Action
	}
	if after != nil && after.StatusReason != "" && (before == nil || before.StatusReason != after.StatusReason) && e.Detail == "" {
		e.Detail = fmt.Sprintf(translate(lang, "history.reason"), after.StatusReason)
	}
	return e
}

// planRow is a plan in a list.
type planRow struct {
	ID, Href, Production, Site, Status, StatusLabel, Created, Finish, Quote, Live string
	Stages                                                                        int
	Placed                                                                        bool
}

// plansData is a list of plans: the viewer's, or one production's.
type plansData struct {
	Production   string
	ProductionID string
	Plans        []planRow
}

func (u *UI) plansPage(w http.ResponseWriter, r *http.Request) {
	u.listPlans(w, r, nil)
}

func (u *UI) productionPlansPage(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		u.pageError(w, r, translate(lang, "plans.title"), booking.Errorf(booking.ENOTFOUND, "No such production."))
		return
	}
	prod, err := u.Catalogue.FindProduction(r.Context(), actor(r), id)
	if err != nil {
		u.pageError(w, r, translate(lang, "plans.title"), err)
		return
	}
	u.listPlans(w, r, &prod)
}

func (u *UI) listPlans(w http.ResponseWriter, r *http.Request, prod *booking.Production) {
	a := actor(r)
	lang := language(r)
	ctx := r.Context()
	title := translate(lang, "plans.title")
	if u.Plans == nil {
		u.pageError(w, r, title, booking.Errorf(booking.EUNAVAILABLE, "The planner is not running."))
		return
	}
	f := booking.PlanFilter{}
	d := plansData{}
	if prod != nil {
		f.ProductionID = &prod.ID
		d.Production, d.ProductionID = prod.Title, prod.ID.String()
		title = fmt.Sprintf(translate(lang, "plans.title_production"), prod.Title)
	}
	plans, err := u.Plans.ListPlans(ctx, a, f)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	l, err := u.lookups(ctx, a)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	for _, p := range plans {
		words, ok := planStatusWords[p.Status]
		if !ok {
			words = planStatusWords["proposed"]
		}
		row := planRow{ID: p.ID.String(), Href: "/plans/" + p.ID.String(), Status: p.Status, StatusLabel: translate(lang, words[0]),
			Created: formatInstant(lang, p.CreatedAt, p.TimeZone), Stages: len(p.Stages), Placed: p.Placed,
			Production: translate(lang, "bookings.unknown_production")}
		if pr, ok := l.prodByID[p.ProductionID]; ok {
			row.Production = pr.Title
		}
		if s, ok := l.siteByID[p.SiteID]; ok {
			row.Site = s.Name
		}
		if p.Placed {
			row.Finish = formatInstant(lang, p.Finish, p.TimeZone)
			row.Quote = planMoney(lang, p.QuoteMinor, p.Currency)
		}
		if p.Status == "accepted" {
			row.Live = liveSummary(lang, p)
		}
		d.Plans = append(d.Plans, row)
	}
	u.render(w, r, "plans.html", http.StatusOK, page{Title: title, Data: d})
}

// planLive counts an accepted plan's stages by where their bookings stand.
type planLive struct {
	Held, Pending, Confirmed, Ended, Total int
}

func livePlanCounts(p booking.Plan) planLive {
	var c planLive
	for _, s := range p.Stages {
		c.Total++
		switch booking.Status(s.BookingStatus) {
		case booking.StatusHold:
			c.Held++
		case booking.StatusConfirmed, booking.StatusCompleted:
			c.Confirmed++
		case "":
			// A stage without its booking (never the case for an accepted plan).
			c.Ended++
		default:
			c.Ended++
		}
	}
	return c
}

// liveSummary says where an accepted plan's stages stand: 3 confirmed · 2 holds · 1
// ended.
func liveSummary(lang string, p booking.Plan) string {
	c := livePlanCounts(p)
	var parts []string
	if c.Confirmed > 0 {
		parts = append(parts, fmt.Sprintf(translateN(lang, "plans.live_confirmed", c.Confirmed), c.Confirmed))
	}
	if c.Held > 0 {
		parts = append(parts, fmt.Sprintf(translateN(lang, "plans.live_held", c.Held), c.Held))
	}
	if c.Ended > 0 {
		parts = append(parts, fmt.Sprintf(translateN(lang, "plans.live_ended", c.Ended), c.Ended))
	}
	return strings.Join(parts, " · ")
}

// confirmPlan confirms every stage's hold of an accepted plan at once and says what
// happened to each.
func (u *UI) confirmPlan(w http.ResponseWriter, r *http.Request) {
	lang, title, id, back, ok := u.planAction(w, r)
	if !ok {
		return
	}
	if u.Plans == nil {
		u.pageError(w, r, title, booking.Errorf(booking.EUNAVAILABLE, "The planner is not running."))
		return
	}
	a := actor(r)
	res, err := u.Plans.ConfirmPlan(r.Context(), a, id)
	if err != nil {
		if booking.ErrorCode(err) == booking.ENOTFOUND {
			var be *booking.Error
			if !errors.As(err, &be) || be.Details["stage"] == nil {
				u.pageError(w, r, title, err)
				return
			}
		}
		msg := u.explain(r, err)
		var be *booking.Error
		if errors.As(err, &be) {
			if stage, ok := be.Details["stage"].(string); ok {
				name := stage
				if p, err := u.Plans.FindPlan(r.Context(), a, id); err == nil {
					for _, s := range p.Stages {
						if s.ID == stage {
							name = stageLabel(lang, p.Template, s.ID, s.Name)
						}
					}
				}
				msg = fmt.Sprintf(translate(lang, "plan.confirm_failed"), name, msg)
			}
		}
		u.setFlash(w, r, "error", msg)
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	u.setFlash(w, r, "ok", confirmationText(lang, res))
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// confirmationText sums up what confirming a plan did, stage by stage.
func confirmationText(lang string, res booking.PlanConfirmation) string {
	counts := map[string]int{}
	for _, s := range res.Stages {
		counts[s.Outcome]++
	}
	var parts []string
	add := func(n int, key string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf(translateN(lang, key, n), n))
		}
	}
	add(counts[booking.StageConfirmed], "plan.confirm_confirmed")
	add(counts[booking.StageApprovalRequested], "plan.confirm_approval")
	add(counts[booking.StageChallenge], "plan.confirm_challenge")
	add(counts[booking.StageAlreadyConfirmed], "plan.confirm_already")
	add(counts[booking.StageSkipped], "plan.confirm_skipped")
	if counts[booking.StageConfirmed]+counts[booking.StageApprovalRequested]+counts[booking.StageChallenge] == 0 {
		return translate(lang, "plan.confirm_nothing") + " " + strings.Join(parts, "; ") + "."
	}
	return strings.Join(parts, "; ") + "."
}
