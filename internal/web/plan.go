package web

import (
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// The producers' "request post-production" flow: a form asks the planner for every
// stage of a film's post-production at a site, the proposal is drawn and priced, and
// one button places a hold for every stage at once. Managers and admins may use it
// for any production.

// planStartClock is when work may start on the picture-lock date, site-local.
var planStartClock = calendar.Clock{Hour: 9}

// planTemplateOrder lists the pipelines as the form offers them; any other template
// the planner knows follows.
var planTemplateOrder = []string{"feature", "short", "documentary", "series_episode"}

// planSkippable are the stages a producer may say are already done.
var planSkippable = []string{"offline_edit", "picture_lock"}

// planLanguages are the colourist languages the plan form offers.
var planLanguages = []string{"fr", "ar", "wo", "en"}

// planStatusWords name a plan's status and say what it means.
var planStatusWords = map[string][2]string{
	"proposed":   {"plan.status_proposed", "plan.status_help_proposed"},
	"accepted":   {"plan.status_accepted", "plan.status_help_accepted"},
	"superseded": {"plan.status_superseded", "plan.status_help_superseded"},
}

// transferKinds name the kinds of transfer between sites (booking.SiteTransfer).
var transferKinds = map[string]string{"data": "plan.transfer_data", "shipping": "plan.transfer_shipping"}

// planTimelineMaxDays bounds the plan's timeline: a plan's horizon (400 days) and the
// slack after a late deadline. planWideDays is the length above which days narrow.
const (
	planTimelineMaxDays = 600
	planWideDays        = 120
)

// planForm is the request form as typed.
type planForm struct {
	Production, Site, Template, Earliest, Deadline, ColouristLang string
	Skip                                                          map[string]bool
	HDR                                                           bool
	// Partners are the other sites ticked to place stages at too, by id.
	Partners map[string]bool
}

// productionOption is a production in the form's list: its format picks the pipeline
// and its runtime scales the stages.
type productionOption struct {
	ID, Label, Format string
}

type planFormData struct {
	Productions []productionOption
	Sites       []booking.Site
	Templates   []kindOption
	Skippable   []kindOption
	Languages   []kindOption
	Form        planForm
	FormError   string
}

func (u *UI) newPlan(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	u.renderPlanForm(w, r, http.StatusOK, planForm{Production: q.Get("production"), Site: q.Get("site"), Template: q.Get("template")}, "")
}

func (u *UI) renderPlanForm(w http.ResponseWriter, r *http.Request, status int, f planForm, formErr string) {
	a := actor(r)
	lang := language(r)
	title := translate(lang, "plan.new_title")
	if u.Plans == nil {
		u.pageError(w, r, title, booking.Errorf(booking.EUNAVAILABLE, "The planner is not running."))
		return
	}
	l, err := u.lookups(r.Context(), a)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	d := planFormData{Sites: activeSites(l.sites, uuid.Nil), FormError: formErr}
	for _, p := range l.prods {
		d.Productions = append(d.Productions, productionOption{ID: p.ID.String(), Format: p.Format,
			Label: fmt.Sprintf(translate(lang, "plan.production_option"), p.Title, translate(lang, "format."+p.Format), p.RuntimeMinutes)})
		if f.Template == "" && f.Production == p.ID.String() {
			f.Template = p.Format
		}
	}
	if f.Template == "" && len(l.prods) > 0 {
		f.Template = l.prods[0].Format
	}
	for _, t := range planTemplates() {
		d.Templates = append(d.Templates, kindOption{Value: t, Label: formatLabel(lang, t)})
	}
	for _, s := range planSkippable {
		d.Skippable = append(d.Skippable, kindOption{Value: s, Label: stageLabel(lang, "", s, "")})
	}
	for _, c := range planLanguages {
		d.Languages = append(d.Languages, kindOption{Value: c, Label: languageName(lang, c)})
	}
	if f.Site == "" && len(d.Sites) > 0 {
		f.Site = d.Sites[0].ID.String()
	}
	if f.Earliest == "" {
		if s, ok := l.siteByID[uuidOrNil(f.Site)]; ok {
			if loc, err := calendar.LoadLocation(s.TimeZone); err == nil {
				f.Earliest = siteToday(u.now(), loc).AddDays(1).String()
			}
		}
	}
	if f.Skip == nil {
		f.Skip = map[string]bool{}
	}
	if f.Partners == nil {
		f.Partners = map[string]bool{}
	}
	d.Form = f
	u.render(w, r, "plan_new.html", status, page{Title: title, Data: d})
}

// planTemplates lists the pipelines the planner knows, in the form's order.
func planTemplates() []string {
	known := booking.TemplateNames()
	var out []string
	for _, t := range planTemplateOrder {
		if slices.Contains(known, t) {
			out = append(out, t)
		}
	}
	for _, t := range known {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// formatLabel names a production format (and the pipeline of that name).
func formatLabel(lang, format string) string {
	if v := translate(lang, "format."+format); v != "format."+format {
		return v
	}
	return strings.ReplaceAll(format, "_", " ")
}

// stageLabel names a stage: in English the pipeline's own name, in another language
// its translation (per template first: a documentary's conform includes archive
// clearance), else the pipeline's name. Without a name, the usual one.
func stageLabel(lang, template, id, name string) string {
	if lang != "en" || name == "" {
		for _, key := range []string{"stage." + template + "." + id, "stage." + id} {
			if v, ok := catalog.Lookup(lang, key); ok {
				return v
			}
		}
	}
	// A derived pipeline's stage per language (subtitles_wo, dub_ar, dub_mix_ar) is
	// named by its kind with the language's code.
	if lang != "en" || name == "" {
		if i := strings.LastIndexByte(id, '_'); i > 0 && booking.IsLanguage(id[i+1:]) && slices.Contains([]string{"subtitles", "dub", "dub_mix"}, id[:i]) {
			if v, ok := catalog.Lookup(lang, "stage."+id[:i]); ok {
				return fmt.Sprintf(v, id[i+1:])
			}
		}
	}
	if name == "" {
		return translate(lang, "stage."+id)
	}
	return name
}

// planRequest turns the form into a request: dates are the site's local dates, work
// may start at 09:00 on the picture-lock date and the deadline is the end of its day,
// both in the site's zone from the embedded tz database, never the machine's.
func planRequest(lang string, f planForm, sites []booking.Site) (booking.PlanRequest, error) {
	invalid := func(key string) error {
		return &booking.Error{Code: booking.EINVALID, Message: translate(lang, key)}
	}
	in := booking.PlanRequest{ProductionID: uuidOrNil(f.Production), Template: f.Template, Preferences: map[string][]string{}}
	if in.ProductionID == uuid.Nil {
		return in, invalid("new.need_production")
	}
	var site booking.Site
	for _, s := range sites {
		if s.ID.String() == f.Site {
			site = s
		}
	}
	if site.ID == uuid.Nil {
		return in, invalid("plan.need_site")
	}
	in.SiteID = site.ID
	// Partner sites ticked: the plan may place stages there too, the chosen site
	// first, the others in the list's order.
	for _, s := range sites {
		if f.Partners[s.ID.String()] && s.ID != site.ID && s.Active {
			if len(in.SiteIDs) == 0 {
				in.SiteIDs = []uuid.UUID{site.ID}
			}
			in.SiteIDs = append(in.SiteIDs, s.ID)
		}
	}
	if !slices.Contains(booking.TemplateNames(), f.Template) {
		return in, invalid("plan.need_template")
	}
	for _, s := range planSkippable {
		if f.Skip[s] {
			in.Skip = append(in.Skip, s)
		}
	}
	loc, err := calendar.LoadLocation(site.TimeZone)
	if err != nil {
		return in, err
	}
	start, err := calendar.ParseDate(strings.TrimSpace(f.Earliest))
	if err != nil {
		return in, invalid("plan.need_start")
	}
	in.EarliestStart = start.At(planStartClock, loc).UTC()
	if v := strings.TrimSpace(f.Deadline); v != "" {
		end, err := calendar.ParseDate(v)
		if err != nil {
			return in, invalid("ops.bad_dates")
		}
		if end.Before(start) {
			return in, invalid("plan.deadline_before")
		}
		in.Deadline = end.AddDays(1).At(calendar.Clock{}, loc).UTC()
	}
	if f.HDR {
		in.Preferences["grading_suite"] = []string{"hdr"}
	}
	for _, c := range planLanguages {
		if c == f.ColouristLang {
			in.Preferences["colourist"] = []string{"lang:" + c}
		}
	}
	return in, nil
}

func (u *UI) createPlan(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	if err := parseForm(w, r); err != nil {
		u.renderPlanForm(w, r, http.StatusBadRequest, planForm{}, translate(lang, "login.bad_form"))
		return
	}
	f := planForm{Production: r.PostFormValue("production"), Site: r.PostFormValue("site"), Template: r.PostFormValue("template"),
		Earliest: r.PostFormValue("earliest"), Deadline: r.PostFormValue("deadline"), ColouristLang: r.PostFormValue("colourist_lang"),
		HDR: r.PostFormValue("hdr") != "", Skip: map[string]bool{}, Partners: map[string]bool{}}
	for _, s := range r.PostForm["skip"] {
		f.Skip[s] = true
	}
	for _, s := range r.PostForm["partner"] {
		f.Partners[s] = true
	}
	if u.Plans == nil {
		u.renderPlanForm(w, r, http.StatusServiceUnavailable, f, translate(lang, "error."+booking.EUNAVAILABLE))
		return
	}
	sites, err := u.Catalogue.ListSites(r.Context())
	var p booking.Plan
	if err == nil {
		var in booking.PlanRequest
		if in, err = planRequest(lang, f, sites); err == nil {
			p, err = u.Plans.ProposePlan(r.Context(), actor(r), in)
		}
	}
	if err != nil {
		u.renderPlanForm(w, r, http.StatusUnprocessableEntity, f, u.errorText(lang, err))
		return
	}
	http.Redirect(w, r, "/plans/"+p.ID.String(), http.StatusSeeOther)
}

// planTotalView is one currency's sum on the plan page: in its own currency and, at
// the locked rate, in the plan's.
type planTotalView struct {
	Currency, Total, Converted, Rate string
	Stages                           int
}

// planStageView is a stage as the plan page shows it.
type planStageView struct {
	ID, Name     string
	Hours        float64
	Start, End   string
	Resources    []string
	Cost         string
	Site         string // the stage's site and currency, on a plan over several sites
	Currency     string
	Changed      bool
	ChangedText  string
	BookingID    string
	ResourceList string
	// BookingStatus is where the stage's booking stands on an accepted plan;
	// BookingActive says it is still a hold or a confirmed booking.
	BookingStatus      string
	BookingStatusLabel string
	BookingActive      bool
}

// planView is the plan page.
type planView struct {
	ID           string
	Production   string
	ProductionID string
	Site         string
	Zone         string
	// MultiSite: the plan places stages at several sites (Sites); each stage then
	// shows its site and currency, Totals the sums per currency with the locked
	// rates, and Transfers the waits between sites.
	MultiSite   bool
	Sites       []string
	Totals      []planTotalView
	Transfers   []string
	Status      string
	StatusLabel string
	StatusHelp  string
	Template    string
	Earliest    string
	Deadline    string
	Finish      string
	Quote       string
	Placed      bool // every stage placed: the plan can be accepted
	HasDeadline bool
	Slack       string
	Late        bool
	Unmet       []string
	Stages      []planStageView
	Changed     int
	Replaces    bool
	SVG         template.HTML
	CanAccept   bool
	AcceptedAt  string
	// Live counts an accepted plan's stages by where their bookings stand;
	// CanConfirmAll offers to confirm every hold at once.
	Live          planLive
	CanConfirmAll bool
	// Remaining marks a re-plan of an accepted plan's remaining stages (plan_remaining.go);
	// ReplacesID is the plan it replaces.
	Remaining  bool
	ReplacesID string
}

func (u *UI) showPlan(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	lang := language(r)
	ctx := r.Context()
	title := translate(lang, "plan.title")
	if u.Plans == nil {
		u.pageError(w, r, title, booking.Errorf(booking.EUNAVAILABLE, "The planner is not running."))
		return
	}
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		u.pageError(w, r, title, booking.Errorf(booking.ENOTFOUND, "No such plan."))
		return
	}
	p, err := u.Plans.FindPlan(ctx, a, id)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	l, err := u.lookups(ctx, a)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	v, err := u.viewPlan(r, lang, a, l, p)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	u.render(w, r, "plan.html", http.StatusOK, page{Title: fmt.Sprintf(translate(lang, "plan.heading"), v.Production), Data: v})
}

func (u *UI) viewPlan(r *http.Request, lang string, a booking.Actor, l *lookups, p booking.Plan) (planView, error) {
	loc, err := calendar.LoadLocation(p.TimeZone)
	if err != nil {
		return planView{}, err
	}
	ref := p.EarliestStart
	if len(p.Stages) > 0 {
		ref = p.Stages[0].Start
	}
	zoneOffset := offsetLabel(ref.In(loc))
	words, ok := planStatusWords[p.Status]
	if !ok {
		words = planStatusWords["proposed"]
	}
	v := planView{ID: p.ID.String(), ProductionID: p.ProductionID.String(), Zone: zoneLabel(p.TimeZone, ref.In(loc)), Status: p.Status,
		StatusLabel: translate(lang, words[0]), StatusHelp: translate(lang, words[1]),
		Template: formatLabel(lang, p.Template), Earliest: formatInstant(lang, p.EarliestStart, p.TimeZone),
		Quote: planMoney(lang, p.QuoteMinor, p.Currency), Placed: p.Placed, Unmet: p.Unmet, Replaces: p.ReplacesID != nil,
		Remaining: p.Remaining,
		CanAccept: p.Status == "proposed" && p.Placed}
	if pr, ok := l.prodByID[p.ProductionID]; ok {
		v.Production = pr.Title
	} else {
		v.Production = translate(lang, "bookings.unknown_production")
	}
	if s, ok := l.siteByID[p.SiteID]; ok {
		v.Site = s.Name
	}
	v.MultiSite = len(p.SiteIDs) > 1
	siteName := func(id uuid.UUID) string {
		if s, ok := l.siteByID[id]; ok {
			return s.Name
		}
		return id.String()
	}
	if v.MultiSite {
		for _, id := range p.SiteIDs {
			v.Sites = append(v.Sites, siteName(id))
		}
		for _, t := range p.Totals {
			tv := planTotalView{Currency: t.Currency, Stages: t.Stages, Total: planMoney(lang, t.TotalMinor, t.Currency),
				Converted: planMoney(lang, t.ConvertedMinor, p.Currency)}
			for _, r := range p.Rates {
				if r.From == t.Currency && r.To == p.Currency {
					tv.Rate = fmt.Sprintf(translate(lang, "plan.rate_text"), r.From, r.Rate, r.To,
						formatDate(lang, r.EffectiveAt.UTC()), formatInstant(lang, r.RatesAt, p.TimeZone))
				}
			}
			v.Totals = append(v.Totals, tv)
		}
		stageName := func(id string) string {
			for _, s := range p.Stages {
				if s.ID == id {
					return stageLabel(lang, p.Template, s.ID, s.Name)
				}
			}
			return id
		}
		for _, tr := range p.Transfers {
			v.Transfers = append(v.Transfers, fmt.Sprintf(translate(lang, "plan.transfer_text"),
				stageName(tr.FromStage), siteName(tr.FromSite), stageName(tr.ToStage), siteName(tr.ToSite),
				formatHours(tr.Hours), translate(lang, transferKinds[tr.Kind])))
		}
	}
	if p.AcceptedAt != nil {
		v.AcceptedAt = formatInstant(lang, *p.AcceptedAt, p.TimeZone)
	}
	if p.ReplacesID != nil {
		v.ReplacesID = p.ReplacesID.String()
	}
	// A time in the table is the site's wall-clock; the caption names the zone, and a
	// time under another offset (a change of clocks inside the plan) names its own.
	local := func(t time.Time) string {
		lt := t.In(loc)
		s := formatDateTime(lang, lt)
		if off := offsetLabel(lt); off != zoneOffset {
			s += " (" + off + ")"
		}
		return s
	}
	if p.Deadline != nil {
		v.HasDeadline = true
		v.Deadline = deadlineText(lang, *p.Deadline, loc, p.TimeZone)
	}
	if p.Placed {
		v.Finish = formatInstant(lang, p.Finish, p.TimeZone)
		v.Slack, v.Late = slackText(lang, p)
	} else {
		v.StatusHelp = translate(lang, "plan.status_help_infeasible")
	}
	var bars []planBar
	for _, s := range p.Stages {
		sv := planStageView{ID: s.ID, Name: stageLabel(lang, p.Template, s.ID, s.Name), Hours: s.Hours, Start: local(s.Start), End: local(s.End),
			Cost: planMoney(lang, s.CostMinor, p.Currency)}
		if v.MultiSite {
			// Each stage at its site: its times in its zone, its cost in its currency.
			sv.Site, sv.Currency = siteName(s.SiteID)+" ("+s.TimeZone+")", s.Currency
			sv.Cost = planMoney(lang, s.CostMinor, s.Currency)
			if sloc, err := calendar.LoadLocation(s.TimeZone); err == nil {
				sv.Start = formatDateTime(lang, s.Start.In(sloc)) + " (" + offsetLabel(s.Start.In(sloc)) + ")"
				sv.End = formatDateTime(lang, s.End.In(sloc)) + " (" + offsetLabel(s.End.In(sloc)) + ")"
			}
		}
		var names []string
		for _, res := range s.Resources {
			sv.Resources = append(sv.Resources, fmt.Sprintf(translate(lang, "plan.resource"), kindLabel(lang, res.Kind), res.Name))
			names = append(names, res.Name)
		}
		sv.ResourceList = strings.Join(names, " · ")
		if s.BookingID != nil {
			sv.BookingID = s.BookingID.String()
		}
		bar := planBar{ID: s.ID, Label: sv.Name, Sub: sv.ResourceList, Hours: formatHours(s.Hours), Start: s.Start, End: s.End,
			Title: sv.Name + ": " + sv.Start + " – " + sv.End + " (" + p.TimeZone + ") — " + sv.ResourceList}
		if s.BookingStatus != "" {
			sv.BookingStatus, sv.BookingStatusLabel = s.BookingStatus, translate(lang, "status."+s.BookingStatus)
			sv.BookingActive = s.BookingStatus == string(booking.StatusHold) || s.BookingStatus == string(booking.StatusConfirmed)
			bar.Title += " — " + sv.BookingStatusLabel
			bar.Booking = s.BookingStatus
		}
		if c := s.Changed; c != nil {
			v.Changed++
			sv.Changed = true
			was := formatSpanTimes(lang, c.PreviousStart.In(loc), c.PreviousEnd.In(loc))
			if c.Resources {
				was += ", " + translate(lang, "plan.other_resources")
			}
			sv.ChangedText = fmt.Sprintf(translate(lang, "plan.was"), was)
			bar.Changed, bar.PrevStart, bar.PrevEnd = true, c.PreviousStart, c.PreviousEnd
			bar.Title += " — " + translate(lang, "plan.changed") + " (" + sv.ChangedText + ")"
		}
		v.Stages = append(v.Stages, sv)
		bars = append(bars, bar)
	}
	if len(bars) > 0 {
		v.SVG = u.planTimeline(r, lang, p, loc, bars)
	}
	if p.Status == "accepted" {
		// What the plan's bookings are now, not what acceptance made them.
		c := livePlanCounts(p)
		v.Live = c
		var help []string
		if c.Ended > 0 {
			help = append(help, fmt.Sprintf(translateN(lang, "plan.help_ended", c.Ended), c.Ended))
		}
		switch {
		case c.Confirmed == c.Total:
			help = append(help, translate(lang, "plan.help_confirmed"))
		case c.Held == c.Total:
			help = append(help, translate(lang, "plan.help_held"))
		default:
			if c.Confirmed > 0 {
				help = append(help, fmt.Sprintf(translateN(lang, "plan.help_partly", c.Confirmed), c.Confirmed, c.Total))
			}
			if c.Held > 0 {
				help = append(help, fmt.Sprintf(translateN(lang, "plan.help_left", c.Held), c.Held))
			}
		}
		v.StatusHelp = strings.Join(help, " ")
		v.CanConfirmAll = c.Held > 0 && (a.Role != booking.RoleManager || a.ManagesSite(p.SiteID))
	}
	return v, nil
}

// planTimeline draws the plan over the site's local days, closed days greyed.
func (u *UI) planTimeline(r *http.Request, lang string, p booking.Plan, loc *time.Location, bars []planBar) template.HTML {
	first, last := p.EarliestStart, p.Finish
	for _, b := range bars {
		if b.Start.Before(first) {
			first = b.Start
		}
		if b.End.After(last) {
			last = b.End
		}
		if b.Changed && b.PrevStart.Before(first) {
			first = b.PrevStart
		}
		if b.Changed && b.PrevEnd.After(last) {
			last = b.PrevEnd
		}
	}
	var marks []planMark
	if p.Deadline != nil {
		if p.Deadline.After(last) {
			last = *p.Deadline
		}
		marks = append(marks, planMark{At: *p.Deadline, Label: translate(lang, "plan.key_deadline"), Kind: "deadline"})
	}
	marks = append(marks, planMark{At: p.EarliestStart, Label: translate(lang, "plan.key_start"), Kind: "start"})
	from := calendar.DateOf(first.In(loc))
	to := calendar.DateOf(last.Add(-time.Nanosecond).In(loc))
	if to.Before(from) {
		to = from
	}
	if n := daysBetween(from, to) + 1; n > planTimelineMaxDays {
		to = from.AddDays(planTimelineMaxDays - 1)
	}
	var cal *calendar.Calendar
	holidays := map[calendar.Date]booking.Holiday{}
	if u.Calendars != nil {
		if sc, err := u.Calendars.SiteCalendar(r.Context(), p.SiteID); err == nil {
			cal, _ = sc.Calendar()
			for _, h := range sc.Holidays {
				if d, err := calendar.ParseDate(h.Date); err == nil {
					if prev, ok := holidays[d]; !ok || prev.Provisional {
						holidays[d] = h
					}
				}
			}
		}
	}
	var days []timelineDay
	for d := from; !d.After(to); d = d.AddDays(1) {
		col := timelineDay{Date: d, Label: fmt.Sprintf("%s %d", translate(lang, fmt.Sprintf("day.%d", d.Weekday())), d.Day)}
		if d == from || d.Day == 1 {
			col.Month = translate(lang, fmt.Sprintf("month.%d", d.Month)) + fmt.Sprintf(" %d", d.Year)
		}
		if cal != nil {
			ds, de := dateWindow(d, d, loc)
			col.Closed = cal.WorkingTime(calendar.Interval{Start: ds, End: de}, calendar.Options{}).Duration() == 0
		}
		if h, ok := holidays[d]; ok {
			col.Holiday, col.Provisional = h.Name, h.Provisional
			if h.Provisional {
				col.Holiday += " (" + translate(lang, "calendar.provisional") + ")"
			}
		}
		days = append(days, col)
	}
	zone := zoneLabel(p.TimeZone, first.In(loc))
	desc := fmt.Sprintf(translateN(lang, "plan.svg_desc", len(bars)), len(bars), formatDate(lang, from.At(calendar.Clock{Hour: 12}, loc)),
		formatDate(lang, to.At(calendar.Clock{Hour: 12}, loc)), zone)
	return planSVG("plan-timeline", translate(lang, "plan.timeline"), desc, days, bars, marks, loc, p.Status, translate(lang, "plan.changed"))
}

// slackText says how a placed plan stands against its deadline: the margin, or by how
// much it misses, in calendar time and in the site's working hours; late reports a
// miss. Empty without a deadline.
func slackText(lang string, p booking.Plan) (text string, late bool) {
	// withWorking adds the margin in working hours to a sentence: "… (9 h of working time)."
	withWorking := func(sentence string) string {
		if p.SlackWorkingHours == nil {
			return sentence
		}
		h := *p.SlackWorkingHours
		if h < 0 {
			h = -h
		}
		return strings.TrimSuffix(sentence, ".") + " (" + fmt.Sprintf(translate(lang, "plan.working_hours"), decimalIn(lang, formatHours(h))) + ")."
	}
	switch {
	case !p.Placed || p.Deadline == nil || p.SlackHours == nil:
		return "", false
	case *p.SlackHours < 0:
		return withWorking(fmt.Sprintf(translate(lang, "plan.misses"), durationWords(lang, -*p.SlackHours))), true
	case *p.SlackHours*60 < 1:
		return translate(lang, "plan.just_in_time"), false
	}
	return withWorking(fmt.Sprintf(translate(lang, "plan.slack"), durationWords(lang, *p.SlackHours))), false
}

// daysBetween counts the days from a to b.
func daysBetween(a, b calendar.Date) int {
	ta := time.Date(a.Year, a.Month, a.Day, 12, 0, 0, 0, time.UTC)
	tb := time.Date(b.Year, b.Month, b.Day, 12, 0, 0, 0, time.UTC)
	return int(math.Round(tb.Sub(ta).Hours() / 24))
}

// deadlineText says when the deadline is: the end of a local day when it falls at
// midnight, else the instant, with the zone named.
func deadlineText(lang string, t time.Time, loc *time.Location, zone string) string {
	lt := t.In(loc)
	if lt.Hour() == 0 && lt.Minute() == 0 && lt.Second() == 0 {
		day := lt.Add(-time.Hour)
		return fmt.Sprintf(translate(lang, "plan.end_of_day"), formatDate(lang, day), zoneLabel(zone, lt))
	}
	return formatInstant(lang, t, zone)
}

// formatSpanTimes is an interval in local times: Mon 1 Mar 2027, 09:00 – Wed 3 Mar
// 2027, 12:30.
func formatSpanTimes(lang string, s, e time.Time) string {
	if calendar.DateOf(s) == calendar.DateOf(e) {
		return formatDateTime(lang, s) + "–" + e.Format("15:04")
	}
	return formatDateTime(lang, s) + " – " + formatDateTime(lang, e)
}

// replanned is the new plan a refused acceptance carries, if any.
func replanned(err error) (booking.Plan, bool) {
	var be *booking.Error
	if !errors.As(err, &be) || be.Code != booking.ECONFLICT || be.Details == nil {
		return booking.Plan{}, false
	}
	switch p := be.Details["replanned"].(type) {
	case booking.Plan:
		return p, p.ID != uuid.Nil
	case *booking.Plan:
		if p != nil {
			return *p, p.ID != uuid.Nil
		}
	}
	return booking.Plan{}, false
}

// planAction starts a form action on a plan's page (POST /plans/{id}/...): the
// reader's language, the plan page's title, the plan's id and the page to go back to;
// false when it has already answered (no such plan, a form it cannot read).
func (u *UI) planAction(w http.ResponseWriter, r *http.Request) (lang, title string, id uuid.UUID, back string, ok bool) {
	lang = language(r)
	title = translate(lang, "plan.title")
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		u.pageError(w, r, title, booking.Errorf(booking.ENOTFOUND, "No such plan."))
		return lang, title, id, "", false
	}
	back = "/plans/" + id.String()
	if err := parseForm(w, r); err != nil {
		u.setFlash(w, r, "error", translate(lang, "login.bad_form"))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return lang, title, id, back, false
	}
	return lang, title, id, back, true
}

func (u *UI) acceptPlan(w http.ResponseWriter, r *http.Request) {
	lang, title, id, back, ok := u.planAction(w, r)
	if !ok {
		return
	}
	if u.Plans == nil {
		u.pageError(w, r, title, booking.Errorf(booking.EUNAVAILABLE, "The planner is not running."))
		return
	}
	a := actor(r)
	p, holds, err := u.Plans.AcceptPlan(r.Context(), a, id)
	if err != nil {
		if again, ok := replanned(err); ok {
			u.setFlash(w, r, "error", translate(lang, "plan.flash_replanned"))
			http.Redirect(w, r, "/plans/"+again.ID.String(), http.StatusSeeOther)
			return
		}
		if booking.ErrorCode(err) == booking.ENOTFOUND {
			u.pageError(w, r, title, err)
			return
		}
		u.setFlash(w, r, "error", u.errorText(lang, err))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	if p.Remaining { // the plan it replaced is superseded: its page is this one's
		u.setFlash(w, r, "ok", translate(lang, "plan.flash_remaining_accepted"))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	prod := translate(lang, "bookings.unknown_production")
	if pr, err := u.Catalogue.FindProduction(r.Context(), a, p.ProductionID); err == nil {
		prod = pr.Title
	}
	msg := fmt.Sprintf(translateN(lang, "plan.flash_accepted", len(holds)), len(holds), prod)
	if len(holds) == 1 {
		msg = fmt.Sprintf(translate(lang, "plan.flash_accepted_one"), prod)
	}
	u.setFlash(w, r, "ok", msg)
	http.Redirect(w, r, "/bookings", http.StatusSeeOther)
}

// planMoney writes an amount in minor units in its currency as the co-production
// quotes do (quoteMoney: the currency's own minor unit from the ISO 4217 table,
// thousands grouped by narrow no-break spaces): 12 345.67 MAD, in French
// 12 345,67 MAD; 250 000 XOF; no code when there is no currency.
func planMoney(lang string, minor int64, currency string) string {
	return strings.TrimSuffix(quoteMoney(lang, minor, currency), "\u00a0")
}

// durationWords says a length of calendar time in days and hours (minutes below an
// hour): 38 days 2 hours / 38 jours 2 heures.
func durationWords(lang string, h float64) string {
	m := int64(math.Round(math.Abs(h) * 60))
	if m < 60 {
		return fmt.Sprintf(translate(lang, "plan.dur_minutes"), m)
	}
	hrs := (m + 30) / 60
	days, rest := hrs/24, hrs%24
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf(translateN(lang, "plan.dur_days", int(days)), days))
	}
	if rest > 0 {
		parts = append(parts, fmt.Sprintf(translateN(lang, "plan.dur_hours", int(rest)), rest))
	}
	return strings.Join(parts, " ")
}
