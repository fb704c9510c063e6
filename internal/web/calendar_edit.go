package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/teambition/rrule-go"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/httpapi"
)

// Calendar editing, for the managers of a site and admins, on the calendar page: the
// working week, periods with other hours (Ramadan), holidays (national or the site's
// own, provisional ones) and resources' blocks (maintenance, closure, leave) with their
// recurrence. The forms call the domain's calendar methods, which re-derive the working
// time of the bookings a change touches and flag them for review; a refused form shows
// the page again with what was typed and the reason beside its field, in the page's
// language. Times and dates are the site's wall-clock.

// registerCalendarEdit mounts the calendar's forms and parses the calendar page with
// its editing templates (before any page is rendered, as template cloning needs).
func (u *UI) registerCalendarEdit(r *httpapi.Router) {
	base := u.tmpl["home.html"]
	u.tmpl["calendar.html"] = template.Must(template.Must(base.Clone()).ParseFS(templateFS,
		"templates/calendar.html", "templates/calendar_edit.html"))
	r.Handle("POST", "/manage/sites/{id}/week", u.saveWeek)
	r.Handle("POST", "/manage/sites/{id}/periods", u.addPeriod)
	r.Handle("POST", "/manage/periods/{id}/delete", u.deletePeriod)
	r.Handle("POST", "/manage/sites/{id}/holidays", u.addHoliday)
	r.Handle("POST", "/manage/sites/{id}/blocks", u.addBlock)
	r.Handle("POST", "/manage/blocks/{id}/delete", u.deleteBlock)
}

// Dates typed in the calendar's forms are held to the years the API takes.
var (
	minFormDate = calendar.Date{Year: httpapi.MinInstant.Year(), Month: time.January, Day: 1}
	maxFormDate = calendar.Date{Year: httpapi.MaxInstant.Year() - 1, Month: time.December, Day: 31}
)

// formDate reads a date field ("2027-03-10") within [minFormDate, maxFormDate].
func formDate(v string) (calendar.Date, bool) {
	d, err := calendar.ParseDate(strings.TrimSpace(v))
	if err != nil || d.Before(minFormDate) || d.After(maxFormDate) {
		return calendar.Date{}, false
	}
	return d, true
}

// calendarFailure is a refused calendar form, shown again as typed with its errors.
type calendarFailure struct {
	Form    string // week, period, holiday or block
	Message string // the reason, when it is not about one field
	Errors  map[string]string
	Values  url.Values
}

func newFailure(form string, values url.Values) *calendarFailure {
	return &calendarFailure{Form: form, Errors: map[string]string{}, Values: values}
}

func (f *calendarFailure) failed() bool { return f.Message != "" || len(f.Errors) > 0 }

// calendarEdit is what the calendar page's forms show.
type calendarEdit struct {
	SiteID    string
	Country   string
	Week      []dayField
	Period    periodForm
	Holiday   holidayForm
	Block     blockForm
	Resources []resourceOption
	Kinds     []kindOption
	Blocks    []blockView
	MinDate   string
	MaxDate   string
	// Failed names the refused form, Message says why (or that a field says why), and
	// Errors hold each field's reason.
	Failed  string
	Message string
	Errors  map[string]string
}

// Err is the reason a field of a form was refused, if it was.
func (e *calendarEdit) Err(form, field string) string {
	if e == nil || e.Failed != form {
		return ""
	}
	return e.Errors[field]
}

// Alert is why a form was refused, at its top.
func (e *calendarEdit) Alert(form string) string {
	if e == nil || e.Failed != form {
		return ""
	}
	return e.Message
}

// dayField is one weekday's working spans as a text field: "09:00–13:00, 14:00–19:00".
type dayField struct {
	Key, Label, Value, Error string
}

type periodForm struct {
	Name, From, To string
	Days           []dayField
}

type holidayForm struct {
	Name, Date, Scope string
	Provisional       bool
}

type blockForm struct {
	Resource, Kind, Start, End, Reason, Repeat, Until, RRule string
	Days                                                     []dayChoice
}

// dayChoice is a weekday's box in the weekly repeat.
type dayChoice struct {
	Code, Label string
	Checked     bool
}

type resourceOption struct {
	ID, Label string
}

// blockView is an upcoming block as the list shows it.
type blockView struct {
	ID, Resource, Kind, KindLabel, When, Next, Repeat, Reason string
	sortKey                                                   time.Time
}

// dayKey is a weekday as booking.Week names it: "monday".
func dayKey(wd time.Weekday) string { return strings.ToLower(wd.String()) }

// rruleDay is a weekday as RFC 5545 names it, by time.Weekday.
var rruleDay = [7]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

// spansText shows a day's spans as people type them.
func spansText(spans []booking.WorkingSpan) string {
	var parts []string
	for _, s := range spans {
		parts = append(parts, s.From+"–"+s.To)
	}
	return strings.Join(parts, ", ")
}

// weekFields are the week's days as fields, from values when given (a refused form
// shown again), else from the week.
func weekFields(lang string, w booking.Week, values url.Values) []dayField {
	var out []dayField
	for _, wd := range weekdayOrder {
		f := dayField{Key: dayKey(wd), Label: translate(lang, fmt.Sprintf("dayname.%d", wd))}
		if values != nil {
			f.Value = values.Get(f.Key)
		} else {
			f.Value = spansText(w[f.Key])
		}
		out = append(out, f)
	}
	return out
}

var (
	spanDash  = regexp.MustCompile(`\s*[-–—−]\s*`)
	spanToken = regexp.MustCompile(`^(\d{1,2})(?:[:h.](\d{2})?)?-(\d{1,2})(?:[:h.](\d{2})?)?$`)
	spanSplit = regexp.MustCompile(`[,;/\s]+`)
)

// parseSpans reads a day's working spans as people write them: "09:00–13:00,
// 14:00–19:00", "9h-13h 14h30-19h", "9-13"; empty (or "closed" in the page's language)
// is a day off. A refusal says why, in the page's language.
func parseSpans(lang, text string) ([]booking.WorkingSpan, string) {
	s := strings.ToLower(strings.TrimSpace(text))
	if s == "" || s == "-" || s == "closed" || s == strings.ToLower(translate(lang, "calendar.closed")) {
		return nil, ""
	}
	for _, word := range []string{" to ", " à ", " a "} {
		s = strings.ReplaceAll(s, word, "-")
	}
	s = spanDash.ReplaceAllString(s, "-")
	type minutes struct{ from, to int }
	var spans []minutes
	for _, tok := range spanSplit.Split(s, -1) {
		switch tok {
		case "", "et", "and", "&":
			continue
		}
		m := spanToken.FindStringSubmatch(tok)
		if m == nil {
			return nil, translate(lang, "calendar.err_spans")
		}
		from, ok1 := clockMinutes(m[1], m[2])
		to, ok2 := clockMinutes(m[3], m[4])
		if !ok1 || !ok2 {
			return nil, translate(lang, "calendar.err_spans")
		}
		if from >= to {
			return nil, translate(lang, "calendar.err_span_order")
		}
		spans = append(spans, minutes{from, to})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
	var out []booking.WorkingSpan
	for i, sp := range spans {
		if i > 0 && sp.from < spans[i-1].to {
			return nil, translate(lang, "calendar.err_span_order")
		}
		out = append(out, booking.WorkingSpan{From: fmt.Sprintf("%02d:%02d", sp.from/60, sp.from%60), To: fmt.Sprintf("%02d:%02d", sp.to/60, sp.to%60)})
	}
	return out, ""
}

// clockMinutes reads an hour and optional minutes (00:00 to 24:00) as minutes since
// midnight.
func clockMinutes(h, m string) (int, bool) {
	hour, err := strconv.Atoi(h)
	if err != nil {
		return 0, false
	}
	minute := 0
	if m != "" {
		if minute, err = strconv.Atoi(m); err != nil {
			return 0, false
		}
	}
	if hour < 0 || hour > 24 || minute < 0 || minute > 59 || (hour == 24 && minute != 0) {
		return 0, false
	}
	return hour*60 + minute, true
}

// readWeek reads the seven days of a week form; each must be in the form (an empty one
// is a day off). A day that does not read is named in f.
func readWeek(lang string, values url.Values, f *calendarFailure) booking.Week {
	w := booking.Week{}
	for _, wd := range weekdayOrder {
		key := dayKey(wd)
		if _, ok := values[key]; !ok {
			f.Message = translate(lang, "login.bad_form")
			continue
		}
		spans, why := parseSpans(lang, values.Get(key))
		if why != "" {
			f.Errors[key] = why
			continue
		}
		if len(spans) > 0 {
			w[key] = spans
		}
	}
	return w
}

// calendarEditData builds the calendar page's forms for a site the actor manages.
func (u *UI) calendarEditData(ctx context.Context, lang string, l *lookups, site booking.Site, sc booking.SiteCalendar,
	loc *time.Location, now time.Time, failed *calendarFailure) (*calendarEdit, error) {
	e := &calendarEdit{SiteID: site.ID.String(), Country: site.Country, MinDate: minFormDate.String(), MaxDate: maxFormDate.String()}
	values := func(form string) url.Values {
		if failed != nil && failed.Form == form {
			return failed.Values
		}
		return nil
	}
	if failed != nil {
		e.Failed, e.Message, e.Errors = failed.Form, failed.Message, failed.Errors
		if e.Message == "" {
			e.Message = translate(lang, "calendar.err_fix")
		}
	}
	e.Week = weekFields(lang, sc.Week, values("week"))
	for i := range e.Week {
		e.Week[i].Error = e.Err("week", e.Week[i].Key)
	}

	e.Period.Days = weekFields(lang, sc.Week, values("period"))
	for i := range e.Period.Days {
		e.Period.Days[i].Error = e.Err("period", e.Period.Days[i].Key)
	}
	if v := values("period"); v != nil {
		e.Period.Name, e.Period.From, e.Period.To = v.Get("name"), v.Get("from"), v.Get("to")
	}

	e.Holiday.Scope = "country"
	if v := values("holiday"); v != nil {
		e.Holiday = holidayForm{Name: v.Get("name"), Date: v.Get("date"), Scope: v.Get("scope"), Provisional: v.Get("provisional") != ""}
	}

	for _, k := range []string{"leave", "maintenance", "closure"} {
		e.Kinds = append(e.Kinds, kindOption{Value: k, Label: translate(lang, "block."+k)})
	}
	e.Block = blockForm{Kind: "leave", Repeat: "none"}
	checked := map[string]bool{}
	if v := values("block"); v != nil {
		e.Block = blockForm{Resource: v.Get("resource"), Kind: v.Get("kind"), Start: v.Get("start_local"), End: v.Get("end_local"),
			Reason: v.Get("reason"), Repeat: v.Get("repeat"), Until: v.Get("until"), RRule: v.Get("rrule")}
		for _, c := range v["byday"] {
			checked[c] = true
		}
	}
	for _, wd := range weekdayOrder {
		e.Block.Days = append(e.Block.Days, dayChoice{Code: rruleDay[wd], Label: translate(lang, fmt.Sprintf("dayname.%d", wd)), Checked: checked[rruleDay[wd]]})
	}

	var resources []booking.Resource
	for _, res := range l.resources {
		if res.SiteID == site.ID {
			resources = append(resources, res)
		}
	}
	sort.SliceStable(resources, func(i, j int) bool { return resources[i].Name < resources[j].Name })
	horizon := now.Add(2 * 366 * 24 * time.Hour)
	for _, res := range resources {
		e.Resources = append(e.Resources, resourceOption{ID: res.ID.String(), Label: res.Name + " — " + kindLabel(lang, res.Kind)})
		blocks, err := u.Blocks.ListBlocks(ctx, res.ID, &now, nil)
		if err != nil {
			return nil, err
		}
		for _, b := range blocks {
			v := blockView{ID: b.ID.String(), Resource: res.Name, Kind: b.Kind, KindLabel: translate(lang, "block."+b.Kind),
				When: localSpan(lang, b.Start, b.End, loc, site.TimeZone), Reason: b.Reason, sortKey: b.Start}
			if b.RRule != "" {
				v.Repeat = repeatText(lang, b, loc)
				v.Next = translate(lang, "calendar.block_no_next")
				for _, iv := range blockOccurrences(b, loc, now, horizon) {
					if iv.End.After(now) {
						v.Next, v.sortKey = localSpan(lang, iv.Start, iv.End, loc, site.TimeZone), iv.Start
						break
					}
				}
			}
			e.Blocks = append(e.Blocks, v)
		}
	}
	sort.SliceStable(e.Blocks, func(i, j int) bool { return e.Blocks[i].sortKey.Before(e.Blocks[j].sortKey) })
	return e, nil
}

// dateText is a date as people read it: Wed 10 Mar 2027.
func dateText(lang string, d calendar.Date) string {
	return formatDate(lang, time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC))
}

// localSpan shows an interval in the site's wall-clock with the zone named.
func localSpan(lang string, start, end time.Time, loc *time.Location, zone string) string {
	return formatSpan(lang, start.In(loc).Format(storedLocalLayout), end.In(loc).Format(storedLocalLayout), zone)
}

// repeatText says in words how a block recurs: "Every week on Mon, Fri until Wed 30 Jun
// 2027"; a rule the words do not cover is shown as written.
func repeatText(lang string, b booking.Block, loc *time.Location) string {
	opt, err := rrule.StrToROption(b.RRule)
	if err != nil {
		return b.RRule
	}
	plain := opt.Interval <= 1 && opt.Count == 0 && len(opt.Bysetpos)+len(opt.Bymonth)+len(opt.Bymonthday)+len(opt.Byyearday)+
		len(opt.Byweekno)+len(opt.Byhour)+len(opt.Byminute)+len(opt.Bysecond)+len(opt.Byeaster) == 0
	var text string
	switch {
	case plain && opt.Freq == rrule.WEEKLY:
		var days []string
		for _, d := range opt.Byweekday {
			if d.N() == 0 {
				days = append(days, translate(lang, fmt.Sprintf("day.%d", (d.Day()+1)%7)))
			}
		}
		if len(days) != len(opt.Byweekday) {
			return fmt.Sprintf(translate(lang, "calendar.block_rule"), b.RRule)
		}
		if len(days) == 0 {
			days = append(days, translate(lang, fmt.Sprintf("day.%d", b.Start.In(loc).Weekday())))
		}
		text = fmt.Sprintf(translate(lang, "calendar.block_weekly"), strings.Join(days, ", "))
	case plain && opt.Freq == rrule.MONTHLY && len(opt.Byweekday) == 0:
		text = translate(lang, "calendar.block_monthly")
	default:
		return fmt.Sprintf(translate(lang, "calendar.block_rule"), b.RRule)
	}
	until := opt.Until
	if b.Until != nil && (until.IsZero() || b.Until.Before(until)) {
		until = *b.Until
	}
	if !until.IsZero() {
		text += " " + fmt.Sprintf(translate(lang, "calendar.block_until"), formatDate(lang, until.In(loc)))
	}
	return text
}

// calendarRequest is r as the calendar page of a site: the page a refused form is shown
// on again, keeping the page's own parameters (from the form's back field).
func calendarRequest(r *http.Request, site uuid.UUID) *http.Request {
	q := url.Values{}
	if back, err := url.Parse(safeNext(r.PostFormValue("back"))); err == nil && back.Path == "/manage/calendar" {
		q = back.Query()
	}
	if site != uuid.Nil {
		q.Set("site", site.String())
	}
	r2 := r.Clone(r.Context())
	r2.URL = &url.URL{Path: "/manage/calendar", RawQuery: q.Encode()}
	r2.RequestURI = r2.URL.RequestURI()
	return r2
}

// refusedStatus is the status of a page showing a refused form again.
func refusedStatus(err error) int {
	switch booking.ErrorCode(err) {
	case booking.ECONFLICT:
		return http.StatusConflict
	case booking.EFORBIDDEN:
		return http.StatusForbidden
	case booking.ENOTFOUND:
		return http.StatusNotFound
	case booking.EPRECONDITION:
		return http.StatusPreconditionFailed
	case booking.EINTERNAL:
		return http.StatusInternalServerError
	case booking.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusUnprocessableEntity
}

// showRefused shows the calendar page again with the refused form f.
func (u *UI) showRefused(w http.ResponseWriter, r *http.Request, site uuid.UUID, status int, f *calendarFailure) {
	u.renderCalendar(w, calendarRequest(r, site), status, f)
}

// refuse shows the calendar page again with the form the service refused, the reason
// beside its field.
func (u *UI) refuse(w http.ResponseWriter, r *http.Request, site uuid.UUID, f *calendarFailure, err error) {
	field, text := u.refusal(language(r), f.Form, err)
	if field != "" {
		f.Errors[field] = text
	} else {
		f.Message = text
	}
	u.showRefused(w, r, site, refusedStatus(err), f)
}

// formFields maps the service's field names to the forms' where they differ.
var formFields = map[string]string{"resource_id": "resource", "start": "start_local", "end": "end_local"}

// refusal puts a refused calendar change in words for its form: the field it is about
// (empty when none of the form's), and the reason in the page's language.
func (u *UI) refusal(lang, form string, err error) (string, string) {
	var e *booking.Error
	errors.As(err, &e)
	code := booking.ErrorCode(err)
	switch code {
	case booking.EINTERNAL, booking.EUNAVAILABLE:
		return "", u.errorText(lang, err)
	case booking.EFORBIDDEN:
		return "", translate(lang, "calendar.not_yours")
	case booking.ENOTFOUND, booking.EPRECONDITION:
		return "", translate(lang, "error."+code)
	}
	if e != nil {
		if f, _ := e.Details["field"].(string); f != "" {
			key := "calendar.err_" + form + "_" + f
			if hasMessage(key) {
				if mapped, ok := formFields[f]; ok {
					f = mapped
				}
				if form == "week" || f == "week" {
					f = "" // the week as a whole: said at the form's top
				}
				return f, translate(lang, key)
			}
		}
	}
	return "", translate(lang, "error."+code) + " " + booking.ErrorMessage(err)
}

// reviewNotes are the bookings waiting for a review of their working time, with the
// note that says why: compared before and after a calendar change, they tell which
// bookings it touched.
func (u *UI) reviewNotes(ctx context.Context, a booking.Actor) map[uuid.UUID]string {
	bs, err := u.listAll(ctx, a, booking.BookingFilter{Status: []booking.Status{booking.StatusHold, booking.StatusConfirmed}, NeedsReview: true}, 2000)
	if err != nil {
		return nil
	}
	out := make(map[uuid.UUID]string, len(bs))
	for _, b := range bs {
		out[b.ID] = b.WorkingTimeReview
	}
	return out
}

// calendarDone ends a calendar change: a message, with how many bookings' working time
// it changed (they wait in the queue), and back to the calendar.
func (u *UI) calendarDone(w http.ResponseWriter, r *http.Request, site uuid.UUID, msg string, before map[uuid.UUID]string) {
	lang := language(r)
	if before != nil {
		n := 0
		for id, note := range u.reviewNotes(r.Context(), actor(r)) {
			if before[id] != note {
				n++
			}
		}
		if n > 0 {
			msg += " " + fmt.Sprintf(translateN(lang, "calendar.reviews_flagged", n), n)
		}
	}
	fallback := "/manage/calendar"
	if site != uuid.Nil {
		fallback += "?site=" + site.String()
	}
	u.done(w, r, fallback, "ok", msg)
}

// calendarActionFailed ends a row's action (a removal) the service refused.
func (u *UI) calendarActionFailed(w http.ResponseWriter, r *http.Request, form string, err error) {
	_, text := u.refusal(language(r), form, err)
	u.done(w, r, "/manage/calendar", "error", text)
}

// saveWeek replaces a site's working week.
func (u *UI) saveWeek(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	id, ok := u.formID(w, r, "/manage/calendar", "site")
	if !ok {
		return
	}
	f := newFailure("week", r.PostForm)
	week := readWeek(lang, r.PostForm, f)
	if f.failed() {
		u.showRefused(w, r, id, http.StatusUnprocessableEntity, f)
		return
	}
	before := u.reviewNotes(r.Context(), actor(r))
	if _, err := u.Calendars.SetWeek(r.Context(), actor(r), id, week); err != nil {
		u.refuse(w, r, id, f, err)
		return
	}
	u.calendarDone(w, r, id, translate(lang, "calendar.week_saved"), before)
}

// addPeriod adds a period with its own hours.
func (u *UI) addPeriod(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	id, ok := u.formID(w, r, "/manage/calendar", "site")
	if !ok {
		return
	}
	f := newFailure("period", r.PostForm)
	o := booking.CalendarOverride{Name: strings.TrimSpace(r.PostFormValue("name"))}
	if o.Name == "" {
		f.Errors["name"] = translate(lang, "calendar.err_period_name")
	}
	if d, ok := formDate(r.PostFormValue("from")); ok {
		o.From = d.String()
	} else {
		f.Errors["from"] = translate(lang, "calendar.err_date")
	}
	if d, ok := formDate(r.PostFormValue("to")); ok {
		o.To = d.String()
	} else {
		f.Errors["to"] = translate(lang, "calendar.err_date")
	}
	o.Week = readWeek(lang, r.PostForm, f)
	if f.failed() {
		u.showRefused(w, r, id, http.StatusUnprocessableEntity, f)
		return
	}
	before := u.reviewNotes(r.Context(), actor(r))
	if _, err := u.Calendars.AddOverride(r.Context(), actor(r), id, o); err != nil {
		u.refuse(w, r, id, f, err)
		return
	}
	u.calendarDone(w, r, id, fmt.Sprintf(translate(lang, "calendar.period_added"), o.Name), before)
}

// deletePeriod removes a period with its own hours.
func (u *UI) deletePeriod(w http.ResponseWriter, r *http.Request) {
	id, ok := u.formID(w, r, "/manage/calendar", "period")
	if !ok {
		return
	}
	before := u.reviewNotes(r.Context(), actor(r))
	if err := u.Calendars.DeleteOverride(r.Context(), actor(r), id); err != nil {
		u.calendarActionFailed(w, r, "period", err)
		return
	}
	u.calendarDone(w, r, uuid.Nil, translate(language(r), "calendar.period_removed"), before)
}

// addHoliday adds a holiday: national (the site's country) or the site's own,
// provisional or not.
func (u *UI) addHoliday(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	id, ok := u.formID(w, r, "/manage/calendar", "site")
	if !ok {
		return
	}
	f := newFailure("holiday", r.PostForm)
	h := booking.Holiday{Name: strings.TrimSpace(r.PostFormValue("name")), Provisional: r.PostFormValue("provisional") != ""}
	if h.Name == "" {
		f.Errors["name"] = translate(lang, "calendar.err_holiday_name")
	}
	d, ok := formDate(r.PostFormValue("date"))
	if ok {
		h.Date = d.String()
	} else {
		f.Errors["date"] = translate(lang, "calendar.err_date")
	}
	switch r.PostFormValue("scope") {
	case "site":
		h.SiteID = &id
	case "country":
		site, err := u.Catalogue.FindSite(r.Context(), id)
		if err != nil {
			u.refuse(w, r, id, f, err)
			return
		}
		h.Country = site.Country
	default:
		f.Errors["scope"] = translate(lang, "calendar.err_holiday_scope")
	}
	if f.failed() {
		u.showRefused(w, r, id, http.StatusUnprocessableEntity, f)
		return
	}
	before := u.reviewNotes(r.Context(), actor(r))
	out, err := u.Calendars.AddHoliday(r.Context(), actor(r), h)
	if err != nil {
		u.refuse(w, r, id, f, err)
		return
	}
	key := "calendar.holiday_added"
	if out.Provisional {
		key = "calendar.holiday_added_provisional"
	}
	u.calendarDone(w, r, id, fmt.Sprintf(translate(lang, key), out.Name, dateText(lang, d)), before)
}

// addBlock takes a resource of the site out of service: maintenance, a closure or a
// person's leave, once or recurring.
func (u *UI) addBlock(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	ctx := r.Context()
	id, ok := u.formID(w, r, "/manage/calendar", "site")
	if !ok {
		return
	}
	f := newFailure("block", r.PostForm)
	site, err := u.Catalogue.FindSite(ctx, id)
	if err != nil {
		u.refuse(w, r, id, f, err)
		return
	}
	loc, err := calendar.LoadLocation(site.TimeZone)
	if err != nil {
		u.refuse(w, r, id, f, err)
		return
	}
	b := booking.Block{Kind: r.PostFormValue("kind"), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	var resName string
	if res, err := u.Catalogue.FindResource(ctx, uuidOrNil(r.PostFormValue("resource"))); err == nil && res.SiteID == site.ID {
		b.ResourceID, resName = res.ID, res.Name
	} else {
		f.Errors["resource"] = translate(lang, "calendar.err_block_resource")
	}
	switch b.Kind {
	case "leave", "maintenance", "closure":
	default:
		f.Errors["kind"] = translate(lang, "calendar.err_block_kind")
	}
	var okStart, okEnd bool
	if b.Start, okStart = parseInputLocal(r.PostFormValue("start_local"), loc); !okStart {
		f.Errors["start_local"] = translate(lang, "calendar.err_time")
	}
	if b.End, okEnd = parseInputLocal(r.PostFormValue("end_local"), loc); !okEnd {
		f.Errors["end_local"] = translate(lang, "calendar.err_time")
	}
	if okStart && okEnd && !b.End.After(b.Start) {
		f.Errors["end_local"] = translate(lang, "calendar.err_block_end")
	}
	b.RRule = blockRule(lang, r.PostForm, b.Start.In(loc).Weekday(), f)
	if v := strings.TrimSpace(r.PostFormValue("until")); v != "" {
		d, ok := formDate(v)
		switch {
		case !ok:
			f.Errors["until"] = translate(lang, "calendar.err_date")
		case okStart && d.Before(calendar.DateOf(b.Start.In(loc))):
			f.Errors["until"] = translate(lang, "calendar.err_block_until")
		case b.RRule != "":
			// The last day counts whole: occurrences starting on it are kept.
			until := d.AddDays(1).At(calendar.Clock{}, loc).Add(-time.Second).UTC()
			b.Until = &until
		}
	}
	if f.failed() {
		u.showRefused(w, r, id, http.StatusUnprocessableEntity, f)
		return
	}
	out, err := u.Blocks.AddBlock(ctx, actor(r), b)
	if err != nil {
		if booking.ErrorCode(err) == booking.ECONFLICT {
			if busy := busyText(lang, err, resName, loc, site.TimeZone); busy != "" {
				f.Message = busy
				u.showRefused(w, r, id, http.StatusConflict, f)
				return
			}
		}
		u.refuse(w, r, id, f, err)
		return
	}
	msg := fmt.Sprintf(translate(lang, "calendar.block_added"), translate(lang, "block."+out.Kind), resName, localSpan(lang, out.Start, out.End, loc, site.TimeZone))
	if out.RRule != "" {
		msg += " " + repeatText(lang, out, loc) + "."
	}
	u.calendarDone(w, r, id, msg, nil)
}

// blockRule is the recurrence rule a block form asks for: none, every week on the days
// ticked (the start's day when none is), every month on the start's day, or a rule
// written out (RFC 5545), which wins when given.
func blockRule(lang string, v url.Values, startDay time.Weekday, f *calendarFailure) string {
	raw := strings.ToUpper(strings.TrimSpace(v.Get("rrule")))
	raw = strings.TrimPrefix(raw, "RRULE:")
	repeat := v.Get("repeat")
	if raw != "" {
		repeat = "rrule"
	}
	switch repeat {
	case "", "none":
		return ""
	case "weekly":
		var days []string
		ticked := map[string]bool{}
		for _, c := range v["byday"] {
			ticked[c] = true
		}
		for _, wd := range weekdayOrder {
			if ticked[rruleDay[wd]] {
				days = append(days, rruleDay[wd])
			}
		}
		if len(days) == 0 {
			days = []string{rruleDay[startDay]}
		}
		return "FREQ=WEEKLY;BYDAY=" + strings.Join(days, ",")
	case "monthly":
		return "FREQ=MONTHLY"
	case "rrule":
		if raw == "" {
			f.Errors["rrule"] = translate(lang, "calendar.err_block_rrule")
			return ""
		}
		opt, err := rrule.StrToROption(raw)
		if err != nil {
			f.Errors["rrule"] = translate(lang, "calendar.err_block_rrule")
			return ""
		}
		// Blocks recur by the day at the finest: a rule by the hour or the second
		// would expand into more occurrences than anyone means.
		switch opt.Freq {
		case rrule.DAILY, rrule.WEEKLY, rrule.MONTHLY, rrule.YEARLY:
		default:
			f.Errors["rrule"] = translate(lang, "calendar.err_block_freq")
			return ""
		}
		return raw
	}
	f.Errors["repeat"] = translate(lang, "calendar.err_block_repeat")
	return ""
}

// busyText names what is in the way of a block (the service's 409): each interval in
// the site's wall-clock, and what it is.
func busyText(lang string, err error, resource string, loc *time.Location, zone string) string {
	var e *booking.Error
	if !errors.As(err, &e) || e.Details["conflicts"] == nil {
		return ""
	}
	raw, jerr := json.Marshal(e.Details["conflicts"])
	if jerr != nil {
		return ""
	}
	var cs []struct {
		Start time.Time `json:"start"`
		End   time.Time `json:"end"`
		Kind  string    `json:"kind"`
	}
	if json.Unmarshal(raw, &cs) != nil || len(cs) == 0 {
		return ""
	}
	var parts []string
	for _, c := range cs {
		what := translate(lang, "calendar.busy_booking")
		switch c.Kind {
		case "hold":
			what = translate(lang, "calendar.busy_hold")
		case "block":
			what = translate(lang, "calendar.busy_block")
		}
		parts = append(parts, what+" "+localSpan(lang, c.Start, c.End, loc, zone))
	}
	return fmt.Sprintf(translate(lang, "calendar.err_busy"), resource, strings.Join(parts, "; "))
}

// deleteBlock puts a resource back in service.
func (u *UI) deleteBlock(w http.ResponseWriter, r *http.Request) {
	id, ok := u.formID(w, r, "/manage/calendar", "block")
	if !ok {
		return
	}
	if err := u.Blocks.DeleteBlock(r.Context(), actor(r), id); err != nil {
		u.calendarActionFailed(w, r, "block", err)
		return
	}
	u.calendarDone(w, r, uuid.Nil, translate(language(r), "calendar.block_removed"), nil)
}
