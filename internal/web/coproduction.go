package web

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/httpapi"
	"github.com/posthub/posthub/internal/money"
)

// The co-production pages: a printable quote and the treaty report (with its CSV).

// coproductionPages are the templates of these pages, parsed like the others.
var coproductionPages = []string{"quote.html", "treaty.html"}

// registerCoproduction mounts the co-production pages and parses their templates on
// the layout (before any page has been rendered, as template cloning needs).
func (u *UI) registerCoproduction(r *httpapi.Router) {
	base := u.tmpl["home.html"]
	for _, name := range coproductionPages {
		u.tmpl[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name))
	}
	r.Handle("GET", "/quotes/{id}", u.quotePage)
	r.Handle("POST", "/bookings/{id}/quote", u.makeQuote)
	r.Handle("GET", "/reports/treaty", u.treatyPage)
	r.Handle("GET", "/reports/treaty.csv", u.treatyCSV)
}

// copro is the co-production service of the server the pages are mounted on.
func (u *UI) copro() (booking.Coproduction, error) {
	if u.api == nil || u.api.Coproduction == nil {
		return nil, booking.Errorf(booking.EUNAVAILABLE, "Quotes and reports are not available in this process.")
	}
	return u.api.Coproduction, nil
}

// quoteMoney writes an amount for people: 12 345.50 MAD, or 12 345,50 MAD in French;
// XOF has no decimals.
func quoteMoney(lang string, minor int64, currency string) string {
	plain := money.Format(minor, currency)
	neg := strings.HasPrefix(plain, "-")
	plain = strings.TrimPrefix(plain, "-")
	whole, frac, _ := strings.Cut(plain, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString("\u202f") // narrow no-break space between thousands
		}
		b.WriteRune(c)
	}
	out := b.String()
	if frac != "" {
		out += translate(lang, "num.decimal") + frac
	}
	if neg {
		out = "−" + out
	}
	return out + "\u00a0" + currency
}

// displayRate shows an exchange rate to six decimals at most, as people of the language
// write decimals (the quote itself keeps it exact).
func displayRate(lang, rate string) string {
	r, err := money.ParseRate(rate)
	if err != nil {
		return rate
	}
	s := r.FloatString(6)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return decimalIn(lang, s)
}

// reportHours shows hours to two decimals at most: 7.4 h, 2.25 h.
func reportHours(lang string, h float64) string {
	s := strconv.FormatFloat(math.Round(h*100)/100, 'f', -1, 64)
	return decimalIn(lang, s) + " h"
}

type quoteLineView struct {
	Resource, Kind, When, Quantity, Rate, Amount string
}

type conversionView struct {
	Label, Total string
}

type quoteView struct {
	Quote       booking.Quote
	Number      string
	Made        string
	Booking     string
	Lines       []quoteLineView
	Total       string
	Conversions []conversionView
	RatesNote   string
}

func (u *UI) quotePage(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	title := translate(lang, "quote.title")
	cp, err := u.copro()
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		u.pageError(w, r, title, booking.Errorf(booking.ENOTFOUND, "No such quote."))
		return
	}
	q, err := cp.FindQuote(r.Context(), actor(r), id)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	v := viewQuote(lang, q)
	u.render(w, r, "quote.html", http.StatusOK, page{Title: title + " " + v.Number, Data: v})
}

// viewQuote is a quote as people read it: its lines, total and conversions in the
// language's way of writing money (the quote page, and a booking's price on its page).
func viewQuote(lang string, q booking.Quote) quoteView {
	v := quoteView{Quote: q, Made: formatInstant(lang, q.CreatedAt, q.TimeZone),
		Total: quoteMoney(lang, q.TotalMinor, q.Currency)}
	if q.ID != uuid.Nil {
		v.Number = strings.ToUpper(q.ID.String()[:8])
	}
	if q.BookingID != nil {
		v.Booking = q.BookingID.String()
	}
	for _, l := range q.Lines {
		lv := quoteLineView{Resource: l.ResourceName, Kind: kindLabel(lang, l.Kind), When: formatSpan(lang, l.StartLocal, l.EndLocal, q.TimeZone),
			Amount: quoteMoney(lang, l.AmountMinor, q.Currency)}
		// Working time and overtime are separate lines, each saying which it bills.
		hours, days := "quote.hours", "quote.days"
		if l.Overtime {
			hours, days = "quote.ot_hours", "quote.ot_days"
		}
		switch l.Unit {
		case booking.UnitDay:
			lv.Quantity = fmt.Sprintf(translateN(lang, days, l.Days), l.Days)
			lv.Rate = quoteMoney(lang, l.RateMinor, q.Currency) + " / " + translate(lang, "quote.per_day")
		default:
			lv.Quantity = fmt.Sprintf(translate(lang, hours), decimalIn(lang, l.Quantity))
			lv.Rate = quoteMoney(lang, l.RateMinor, q.Currency) + " / " + translate(lang, "quote.per_hour")
		}
		if l.Overtime {
			lv.Rate += " " + fmt.Sprintf(translate(lang, "quote.times"), decimalIn(lang, strconv.FormatFloat(float64(l.MultiplierBP)/10000, 'f', -1, 64)))
		}
		v.Lines = append(v.Lines, lv)
	}
	for _, c := range q.Conversions {
		if c.Currency == q.Currency {
			continue
		}
		v.Conversions = append(v.Conversions, conversionView{
			Label: fmt.Sprintf(translate(lang, "quote.converted"), c.Currency, displayRate(lang, c.Rate), c.Currency, q.Currency),
			Total: quoteMoney(lang, c.TotalMinor, c.Currency)})
	}
	v.RatesNote = fmt.Sprintf(translate(lang, "quote.rates_note"), formatInstant(lang, q.RatesAt, q.TimeZone))
	return v
}

// makeQuote quotes a booking from its card and shows the printable quote.
func (u *UI) makeQuote(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		u.failed(w, r, "/bookings", booking.Errorf(booking.EINVALID, "The form could not be read."))
		return
	}
	cp, err := u.copro()
	if err != nil {
		u.failed(w, r, "/bookings", err)
		return
	}
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		u.failed(w, r, "/bookings", booking.Errorf(booking.ENOTFOUND, "No such booking."))
		return
	}
	q, err := cp.QuoteBooking(r.Context(), actor(r), id)
	if err != nil {
		u.failed(w, r, "/bookings", err)
		return
	}
	http.Redirect(w, r, "/quotes/"+q.ID.String(), http.StatusSeeOther)
}

type treatyRow struct {
	Label                                             string
	Productions, Bookings                             int
	Session, Resource, Value, Emerging, EmergingValue string
	Converted                                         []string
	Training, Trainees                                string
	Total                                             bool
}

type treatyView struct {
	Sites       []booking.Site
	Site        booking.Site
	From, To    string
	Zone        string
	RangeLabel  string
	Report      booking.TreatyReport
	Currencies  []string
	Rows        []treatyRow
	HoursShare  string
	ValueShare  string
	Total       treatyRow
	Rates       []string
	CSV         string
	Error       string
	HasBookings bool
}

// treatyRange reads the page's site and site-local dates (both included), by default
// the current quarter.
func (u *UI) treatyRange(r *http.Request, l *lookups, a booking.Actor) (booking.Site, *time.Location, calendar.Date, calendar.Date, error) {
	site, ok := l.site(r, a)
	if !ok {
		return site, nil, calendar.Date{}, calendar.Date{}, booking.Errorf(booking.ENOTFOUND, "No site.")
	}
	loc, err := calendar.LoadLocation(site.TimeZone)
	if err != nil {
		return site, nil, calendar.Date{}, calendar.Date{}, err
	}
	p := booking.PeriodAt(booking.PeriodQuarter, u.now(), loc)
	from := calendar.DateOf(p.Start.In(loc))
	to := calendar.DateOf(p.End.In(loc)).AddDays(-1)
	q := r.URL.Query()
	bad := &booking.Error{Code: booking.EINVALID, Message: translate(language(r), "ops.bad_dates")}
	if v := q.Get("from"); v != "" {
		if from, err = calendar.ParseDate(v); err != nil {
			return site, loc, from, to, bad
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = calendar.ParseDate(v); err != nil {
			return site, loc, from, to, bad
		}
	}
	if to.Before(from) || to.After(from.AddDays(369)) {
		return site, loc, from, to, &booking.Error{Code: booking.EUNPROCESSABLE, Message: fmt.Sprintf(translateN(language(r), "ops.range_too_long", 370), 370)}
	}
	return site, loc, from, to, nil
}

func (u *UI) treatyReport(r *http.Request) (treatyView, int, error) {
	a := actor(r)
	lang := language(r)
	var v treatyView
	cp, err := u.copro()
	if err != nil {
		return v, http.StatusServiceUnavailable, err
	}
	l, err := u.lookups(r.Context(), a)
	if err != nil {
		return v, http.StatusInternalServerError, err
	}
	site, loc, from, to, err := u.treatyRange(r, l, a)
	v.Sites = activeSites(l.sites, site.ID)
	v.Site, v.From, v.To, v.Currencies = site, from.String(), to.String(), booking.QuoteCurrencies
	if err != nil {
		return v, http.StatusBadRequest, err
	}
	start, end := dateWindow(from, to, loc)
	v.Zone = zoneLabel(site.TimeZone, start.In(loc))
	v.RangeLabel = formatDate(lang, start.In(loc)) + " – " + formatDate(lang, end.Add(-time.Second).In(loc))
	rep, err := cp.TreatyReport(r.Context(), a, booking.TreatyQuery{SiteID: site.ID, From: start, To: end})
	if err != nil {
		return v, http.StatusInternalServerError, err
	}
	v.Report = rep
	hours := func(h float64) string { return reportHours(lang, h) }
	row := func(label string, f booking.TreatyFigures) treatyRow {
		tr := treatyRow{Label: label, Productions: f.Productions, Bookings: f.Bookings, Session: hours(f.SessionHours),
			Resource: hours(f.ResourceHours), Value: quoteMoney(lang, f.ValueMinor, rep.Currency),
			Emerging: hours(f.EmergingSessionHours), EmergingValue: quoteMoney(lang, f.EmergingValueMinor, rep.Currency),
			Training: hours(f.TrainingSessionHours), Trainees: hours(f.TraineeHours)}
		for _, c := range booking.QuoteCurrencies {
			s := "—"
			for _, am := range f.Converted {
				if am.Currency == c {
					s = quoteMoney(lang, am.Minor, c)
				}
			}
			tr.Converted = append(tr.Converted, s)
		}
		return tr
	}
	for _, c := range rep.Countries {
		v.Rows = append(v.Rows, row(c.Country, c.TreatyFigures))
	}
	v.Total = row(translate(lang, "treaty.total"), rep.Totals)
	v.Total.Total = true
	v.HasBookings = rep.Totals.Bookings > 0
	v.HoursShare = fmt.Sprintf("%.0f%%", rep.EmergingHoursShare*100)
	v.ValueShare = fmt.Sprintf("%.0f%%", rep.EmergingValueShare*100)
	for _, c := range rep.Rates {
		v.Rates = append(v.Rates, fmt.Sprintf(translate(lang, "quote.converted"), c.Currency, displayRate(lang, c.Rate), c.Currency, rep.Currency))
	}
	q := url.Values{"site": {site.ID.String()}, "from": {v.From}, "to": {v.To}}
	v.CSV = "/reports/treaty.csv?" + q.Encode()
	return v, http.StatusOK, nil
}

func (u *UI) treatyPage(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	title := translate(lang, "treaty.title")
	v, status, err := u.treatyReport(r)
	if err != nil {
		if status != http.StatusBadRequest {
			u.pageError(w, r, title, err)
			return
		}
		v.Error = u.errorText(lang, err)
	}
	u.render(w, r, "treaty.html", status, page{Title: title, Data: v})
}

func (u *UI) treatyCSV(w http.ResponseWriter, r *http.Request) {
	v, _, err := u.treatyReport(r)
	if err != nil {
		u.pageError(w, r, translate(language(r), "treaty.title"), err)
		return
	}
	httpapi.WriteTreatyCSVHeaders(w, v.Site, v.Report)
	_, _ = io.WriteString(w, utf8BOM)
	if err := httpapi.WriteTreatyCSV(w, v.Report); err != nil {
		u.Logger.Error("writing the treaty CSV", "err", err)
	}
}

// decimalIn writes a decimal number with the language's separator (num.decimal: 2.5 in
// English, 2,5 in French).
func decimalIn(lang, s string) string {
	return strings.Replace(s, ".", translate(lang, "num.decimal"), 1)
}
