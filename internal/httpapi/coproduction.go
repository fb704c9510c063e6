package httpapi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/icalfeed"
)

// The co-production routes: rate cards, exchange rates, quotes, the treaty report,
// ring-fences and iCalendar feeds.

// copro guards the co-production routes of a server built without the service.
func (s *Server) copro(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Coproduction == nil {
			writeError(w, r, s.Logger, booking.Errorf(booking.EUNAVAILABLE, "Co-production services are not available in this process."))
			return
		}
		h(w, r)
	}
}

// optionalID reads an optional UUID query parameter.
func optionalID(r *http.Request, name string) (*uuid.UUID, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	id, err := parseID(name, v)
	if err != nil {
		return nil, err
	}
	return &id, nil
}

func (s *Server) listRateCards(w http.ResponseWriter, r *http.Request) {
	site, err := optionalID(r, "site_id")
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	cards, err := s.Coproduction.ListRateCards(r.Context(), site)
	respond(w, r, s, list[booking.RateCard]{Items: cards}, err)
}

type rateCardRequest struct {
	SiteID        uuid.UUID  `json:"site_id"`
	Kind          string     `json:"kind"`
	ResourceID    *uuid.UUID `json:"resource_id"`
	Unit          string     `json:"unit"`
	AmountMinor   *int64     `json:"amount_minor"`
	EffectiveFrom string     `json:"effective_from"`
	EffectiveTo   string     `json:"effective_to"`
	// OvertimeMultiplierBP: absent or null takes the default, 1.5×; given, it is
	// 10000 to 50000.
	OvertimeMultiplierBP *int `json:"overtime_multiplier_bp"`
}

func (s *Server) createRateCard(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req rateCardRequest
	if !s.body(w, r, &req) {
		return
	}
	if req.AmountMinor == nil {
		writeError(w, r, s.Logger, &booking.Error{Code: booking.EINVALID, Message: "amount_minor is required.", Details: map[string]any{"field": "amount_minor"}})
		return
	}
	if err := checkTimeTexts("effective_from", req.EffectiveFrom, "effective_to", req.EffectiveTo); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	multiplier := 0 // the default
	if req.OvertimeMultiplierBP != nil {
		if err := booking.CheckOvertimeMultiplier(*req.OvertimeMultiplierBP); err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		multiplier = *req.OvertimeMultiplierBP
	}
	c, err := s.Coproduction.CreateRateCard(r.Context(), a, booking.RateCardInput{SiteID: req.SiteID, Kind: req.Kind, ResourceID: req.ResourceID,
		Unit: req.Unit, AmountMinor: *req.AmountMinor, EffectiveFrom: req.EffectiveFrom, EffectiveTo: req.EffectiveTo,
		OvertimeMultiplierBP: multiplier})
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) deleteRateCard(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, err := pathID(r)
	if err == nil {
		err = s.Coproduction.DeleteRateCard(r.Context(), a, id)
	}
	noContent(w, r, s, err)
}

func (s *Server) listExchangeRates(w http.ResponseWriter, r *http.Request) {
	rates, err := s.Coproduction.ListExchangeRates(r.Context())
	respond(w, r, s, list[booking.ExchangeRate]{Items: rates}, err)
}

// decimalText reads a JSON number or string as the exact text of a decimal, so a rate
// never passes through a float.
type decimalText string

func (d *decimalText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*d = decimalText(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("a decimal number or string")
	}
	*d = decimalText(n.String())
	return nil
}

type exchangeRateRequest struct {
	Base        string      `json:"base"`
	Quote       string      `json:"quote"`
	Rate        decimalText `json:"rate"`
	EffectiveAt string      `json:"effective_at"`
}

func (s *Server) createExchangeRate(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req exchangeRateRequest
	if !s.body(w, r, &req) {
		return
	}
	// Currency codes are taken as written: "eur" is refused, not guessed at.
	in := booking.ExchangeRateInput{Base: req.Base, Quote: req.Quote, Rate: string(req.Rate)}
	at, err := bodyTime("effective_at", req.EffectiveAt)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if at != nil {
		utc := at.UTC()
		in.EffectiveAt = &utc
	}
	rate, err := s.Coproduction.CreateExchangeRate(r.Context(), a, in)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, rate)
}

type quoteRequest struct {
	BookingID uuid.UUID `json:"booking_id"`
}

func (s *Server) createQuote(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req quoteRequest
	if !s.body(w, r, &req) {
		return
	}
	if req.BookingID == uuid.Nil {
		writeError(w, r, s.Logger, &booking.Error{Code: booking.EINVALID, Message: "booking_id is required.", Details: map[string]any{"field": "booking_id"}})
		return
	}
	q, err := s.Coproduction.QuoteBooking(r.Context(), a, req.BookingID)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Location", "/api/v1/quotes/"+q.ID.String())
	writeJSON(w, http.StatusCreated, q)
}

func (s *Server) listQuotes(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	bid, err := optionalID(r, "booking_id")
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	qs, err := s.Coproduction.ListQuotes(r.Context(), a, bid)
	respond(w, r, s, list[booking.Quote]{Items: qs}, err)
}

func (s *Server) getQuote(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, ok := s.idParam(w, r)
	if !ok {
		return
	}
	q, err := s.Coproduction.FindQuote(r.Context(), a, id)
	respond(w, r, s, q, err)
}

// TreatyQuery reads the treaty report's site_id, from and to (dates at the site's
// midnight, or instants), for the API and the report page alike.
func TreatyQuery(r *http.Request, sites booking.Catalogue) (booking.TreatyQuery, booking.Site, error) {
	var q booking.TreatyQuery
	qs := r.URL.Query()
	var err error
	if q.SiteID, err = parseID("site_id", qs.Get("site_id")); err != nil {
		return q, booking.Site{}, err
	}
	site, err := sites.FindSite(r.Context(), q.SiteID)
	if err != nil {
		return q, site, err
	}
	loc, err := calendar.LoadLocation(site.TimeZone)
	if err != nil {
		return q, site, err
	}
	if q.From, err = instantOrSiteDate("from", qs.Get("from"), loc); err == nil {
		q.To, err = instantOrSiteDate("to", qs.Get("to"), loc)
	}
	if err == nil {
		err = q.Validate()
	}
	return q, site, err
}

func (s *Server) treatyReport(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "csv" {
		writeError(w, r, s.Logger, &booking.Error{Code: booking.EINVALID, Message: "format must be json or csv.", Details: map[string]any{"parameter": "format"}})
		return
	}
	q, site, err := TreatyQuery(r, s.Catalogue)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	rep, err := s.Coproduction.TreatyReport(r.Context(), a, q)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if format == "csv" {
		WriteTreatyCSVHeaders(w, site, rep)
		_ = WriteTreatyCSV(w, rep)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// WriteTreatyCSVHeaders sets the headers of a treaty report's CSV download.
func WriteTreatyCSVHeaders(w http.ResponseWriter, site booking.Site, rep booking.TreatyReport) {
	loc, err := calendar.LoadLocation(rep.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="posthub-treaty-%s-%s-%s.csv"`, site.Slug,
		rep.From.In(loc).Format("20060102"), rep.To.In(loc).Format("20060102")))
}

// WriteTreatyCSV writes the report as CSV: a row per origin country, then the
// emerging filmmakers' and the total rows. Money is in the currency's units (with the
// minor units alongside), converted values in XOF and EUR where a rate is known.
func WriteTreatyCSV(w io.Writer, rep booking.TreatyReport) error {
	cw := csv.NewWriter(w)
	header := []string{"site", "currency", "from", "to", "country", "productions", "bookings", "session_hours", "resource_hours",
		"value", "value_minor"}
	for _, c := range booking.QuoteCurrencies {
		header = append(header, "value_"+strings.ToLower(c))
	}
	header = append(header, "emerging_session_hours", "emerging_resource_hours", "emerging_value", "training_session_hours", "trainee_hours")
	if err := cw.Write(header); err != nil {
		return err
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	row := func(label string, f booking.TreatyFigures) []string {
		rec := []string{rep.SiteName, rep.Currency, rep.FromLocal, rep.ToLocal, label, strconv.Itoa(f.Productions), strconv.Itoa(f.Bookings),
			num(f.SessionHours), num(f.ResourceHours), f.Value, strconv.FormatInt(f.ValueMinor, 10)}
		for _, c := range booking.QuoteCurrencies {
			v := ""
			for _, a := range f.Converted {
				if a.Currency == c {
					v = a.Value
				}
			}
			rec = append(rec, v)
		}
		return append(rec, num(f.EmergingSessionHours), num(f.EmergingResourceHours), f.EmergingValue,
			num(f.TrainingSessionHours), num(f.TraineeHours))
	}
	for _, c := range rep.Countries {
		if err := cw.Write(row(c.Country, c.TreatyFigures)); err != nil {
			return err
		}
	}
	if err := cw.Write(row("TOTAL", rep.Totals)); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func (s *Server) listRingFences(w http.ResponseWriter, r *http.Request) {
	site, err := optionalID(r, "site_id")
	var at *time.Time
	if err == nil {
		at, err = parseTime("at", r.URL.Query().Get("at"))
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	when := time.Now()
	if at != nil {
		when = *at
	}
	fences, err := s.Coproduction.ListRingFences(r.Context(), site, when)
	respond(w, r, s, list[booking.RingFence]{Items: fences}, err)
}

type ringFenceRequest struct {
	SiteID      uuid.UUID `json:"site_id"`
	Kind        string    `json:"kind"`
	Programme   string    `json:"programme"`
	Countries   []string  `json:"countries"`
	SharePct    float64   `json:"share_pct"`
	Period      string    `json:"period"`
	ReleaseDays *int      `json:"release_days"`
}

func (s *Server) createRingFence(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req ringFenceRequest
	if !s.body(w, r, &req) {
		return
	}
	in := booking.RingFenceInput{SiteID: req.SiteID, Kind: req.Kind, Programme: req.Programme, Countries: req.Countries,
		SharePct: req.SharePct, Period: req.Period, ReleaseDays: 30}
	if req.ReleaseDays != nil {
		in.ReleaseDays = *req.ReleaseDays
	}
	if in.Period == "" {
		in.Period = booking.PeriodQuarter
	}
	f, err := s.Coproduction.CreateRingFence(r.Context(), a, in)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

func (s *Server) deleteRingFence(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, err := pathID(r)
	if err == nil {
		err = s.Coproduction.DeleteRingFence(r.Context(), a, id)
	}
	noContent(w, r, s, err)
}

type feedRequest struct {
	Kind booking.FeedKind `json:"kind"`
	ID   uuid.UUID        `json:"id"`
}

// createdFeed is a new feed with its secret URL, shown this once.
type createdFeed struct {
	booking.ICalFeed
	URL   string `json:"url"`
	Token string `json:"token"`
}

// baseURL is where people reach the hub: PublicURL, or the request's own host.
func (s *Server) baseURL(r *http.Request) string {
	if s.PublicURL != "" {
		return strings.TrimRight(s.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) createFeed(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req feedRequest
	if !s.body(w, r, &req) {
		return
	}
	if req.Kind != booking.FeedResource && req.Kind != booking.FeedProduction && req.Kind != booking.FeedUser {
		writeError(w, r, s.Logger, &booking.Error{Code: booking.EINVALID, Message: "kind must be resource, production or user.", Details: map[string]any{"field": "kind"}})
		return
	}
	if req.ID == uuid.Nil {
		writeError(w, r, s.Logger, &booking.Error{Code: booking.EINVALID, Message: "id is required.", Details: map[string]any{"field": "id"}})
		return
	}
	f, token, err := s.Coproduction.CreateFeed(r.Context(), a, req.Kind, req.ID)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, createdFeed{ICalFeed: f, URL: s.baseURL(r) + "/ical/" + token + ".ics", Token: token})
}

func (s *Server) listFeeds(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	feeds, err := s.Coproduction.ListFeeds(r.Context(), a)
	respond(w, r, s, list[booking.ICalFeed]{Items: feeds}, err)
}

func (s *Server) revokeFeed(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, err := pathID(r)
	if err == nil {
		err = s.Coproduction.RevokeFeed(r.Context(), a, id)
	}
	noContent(w, r, s, err)
}

// icalFeed serves GET /ical/{token}.ics. The token is the credential: an unknown or
// revoked one answers 404 like any missing page.
func (s *Server) icalFeed(w http.ResponseWriter, r *http.Request) {
	c, err := s.Coproduction.FeedCalendar(r.Context(), chi.URLParam(r, "token"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	body, err := icalfeed.Render(c)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="`+icalfeed.Filename(c.Name)+`"`)
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(body)
}

// redactPath keeps secrets in paths out of the request log and problem documents: a
// feed's token is its credential, and so is a password link's secret.
func redactPath(p string) string {
	switch {
	case strings.HasPrefix(p, "/ical/"):
		return "/ical/[redacted].ics"
	case strings.HasPrefix(p, "/api/v1/password/"):
		return "/api/v1/password/[redacted]"
	case strings.HasPrefix(p, "/password/"):
		return "/password/[redacted]"
	}
	return p
}
