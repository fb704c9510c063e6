package httpapi

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

func (s *Server) getCalendar(w http.ResponseWriter, r *http.Request) {
	id, ok := s.idParam(w, r)
	if !ok {
		return
	}
	c, err := s.Calendars.SiteCalendar(r.Context(), id)
	respond(w, r, s, c, err)
}

type weekRequest struct {
	Week booking.Week `json:"week"`
}

func (s *Server) putWeek(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req weekRequest
	id, ok := s.idAndBody(w, r, &req)
	if !ok {
		return
	}
	if req.Week == nil {
		writeError(w, r, s.Logger, &booking.Error{Code: booking.EINVALID, Message: "week is required (an empty object closes every day).", Details: map[string]any{"field": "week"}})
		return
	}
	c, err := s.Calendars.SetWeek(r.Context(), a, id, req.Week)
	respond(w, r, s, c, err)
}

type overrideRequest struct {
	Name string       `json:"name"`
	From string       `json:"from"`
	To   string       `json:"to"`
	Week booking.Week `json:"week"`
}

func (s *Server) addOverride(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req overrideRequest
	id, ok := s.idAndBody(w, r, &req)
	if !ok {
		return
	}
	var o booking.CalendarOverride
	err := checkTimeTexts("from", req.From, "to", req.To)
	if err == nil {
		o, err = s.Calendars.AddOverride(r.Context(), a, id, booking.CalendarOverride{Name: req.Name, From: req.From, To: req.To, Week: req.Week})
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, o)
}

func (s *Server) deleteOverride(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, err := pathID(r)
	if err == nil {
		err = s.Calendars.DeleteOverride(r.Context(), a, id)
	}
	noContent(w, r, s, err)
}

type holidayRequest struct {
	Country     string     `json:"country"`
	SiteID      *uuid.UUID `json:"site_id"`
	Date        string     `json:"date"`
	Name        string     `json:"name"`
	Provisional bool       `json:"provisional"`
}

func (s *Server) addHoliday(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req holidayRequest
	if !s.body(w, r, &req) {
		return
	}
	var h booking.Holiday
	err := checkTimeText("date", req.Date)
	if err == nil {
		h, err = s.Calendars.AddHoliday(r.Context(), a, booking.Holiday{Country: req.Country, SiteID: req.SiteID, Date: req.Date, Name: req.Name, Provisional: req.Provisional})
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, h)
}

type confirmHolidayRequest struct {
	Date string `json:"date"`
}

func (s *Server) confirmHoliday(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, ok := s.idParam(w, r)
	if !ok {
		return
	}
	var req confirmHolidayRequest
	if r.ContentLength != 0 {
		if !s.body(w, r, &req) {
			return
		}
	}
	if err := checkTimeText("date", req.Date); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	h, err := s.Calendars.ConfirmHoliday(r.Context(), a, id, req.Date)
	respond(w, r, s, h, err)
}

func (s *Server) deleteHoliday(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, err := pathID(r)
	if err == nil {
		err = s.Calendars.DeleteHoliday(r.Context(), a, id)
	}
	noContent(w, r, s, err)
}

// noContent answers 204, or err as a problem.
func noContent(w http.ResponseWriter, r *http.Request, s *Server, err error) {
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// parseDemand reads "kind" or "kind:cap1,cap2" ("colourist:lang:fr" is the kind
// colourist with the capability lang:fr).
func parseDemand(v string) (booking.Demand, error) {
	kind, caps, _ := strings.Cut(v, ":")
	d := booking.Demand{Kind: kind, Capabilities: []string{}}
	if kind == "" {
		return d, &booking.Error{Code: booking.EINVALID, Message: "demand must be kind or kind:capability,capability.", Details: map[string]any{"parameter": "demand"}}
	}
	for _, c := range strings.Split(caps, ",") {
		if c = strings.TrimSpace(c); c != "" {
			d.Capabilities = append(d.Capabilities, c)
		}
	}
	return d, nil
}

// decimalNumber is a number as JSON writes it (the API documents a query's numbers
// so): digits, a fraction, an exponent — not the hexadecimal or digit separators that
// strconv would take too.
var decimalNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// parseHours reads a number of working hours: finite, at least a minute's worth
// (1/60) and at most 2000; NaN, infinities and vanishing fractions are refused.
func parseHours(v string) (time.Duration, error) {
	h, err := strconv.ParseFloat(v, 64)
	if !decimalNumber.MatchString(v) || err != nil || !(h >= 1.0/60 && h <= 2000) {
		return 0, &booking.Error{Code: booking.EINVALID, Message: "hours must be a number from 1/60 (a minute) to 2000.", Details: map[string]any{"parameter": "hours"}}
	}
	return time.Duration(h * float64(time.Hour)), nil
}

type availabilityResponse struct {
	Items []booking.Slot `json:"items"`
}

func (s *Server) availability(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	qs := r.URL.Query()
	var q booking.AvailabilityQuery
	var err error
	q.SiteID, err = parseID("site_id", qs.Get("site_id"))
	for _, v := range qs["demand"] {
		if err == nil {
			var d booking.Demand
			d, err = parseDemand(v)
			q.Demands = append(q.Demands, d)
		}
	}
	if err == nil {
		q.Hours, err = parseHours(qs.Get("hours"))
	}
	var from, to *time.Time
	if err == nil {
		from, err = parseTime("from", qs.Get("from"))
	}
	if err == nil {
		to, err = parseTime("to", qs.Get("to"))
	}
	if err == nil && (from == nil || to == nil) {
		err = &booking.Error{Code: booking.EINVALID, Message: "from and to are required.", Details: map[string]any{"parameter": "from"}}
	}
	if v := qs.Get("limit"); v != "" && err == nil {
		if q.Limit, err = strconv.Atoi(v); err != nil || q.Limit < 1 || q.Limit > 50 {
			err = &booking.Error{Code: booking.EINVALID, Message: "limit must be 1 to 50.", Details: map[string]any{"parameter": "limit"}}
		}
	}
	switch qs.Get("holds") {
	case "", "include":
	case "ignore":
		q.IgnoreHolds = true
	default:
		if err == nil {
			err = &booking.Error{Code: booking.EINVALID, Message: "holds must be include or ignore.", Details: map[string]any{"parameter": "holds"}}
		}
	}
	if v := qs.Get("production_id"); v != "" && err == nil {
		q.ProductionID, err = parseID("production_id", v)
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	q.From, q.To = from.UTC(), to.UTC()
	slots, err := s.Calendars.Availability(r.Context(), a, q)
	respond(w, r, s, availabilityResponse{Items: slots}, err)
}

type workingTimeResponse struct {
	From      time.Time `json:"from"`
	FromLocal string    `json:"from_local"`
	Hours     float64   `json:"hours"`
	End       time.Time `json:"end"`
	EndLocal  string    `json:"end_local"`
	TimeZone  string    `json:"time_zone"`
}

func (s *Server) workingTime(w http.ResponseWriter, r *http.Request) {
	qs := r.URL.Query()
	site, err := parseID("site_id", qs.Get("site_id"))
	var from *time.Time
	var hours time.Duration
	if err == nil {
		from, err = parseTime("from", qs.Get("from"))
	}
	if err == nil && from == nil {
		err = &booking.Error{Code: booking.EINVALID, Message: "from is required.", Details: map[string]any{"parameter": "from"}}
	}
	if err == nil {
		hours, err = parseHours(qs.Get("hours"))
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	wt, err := s.Calendars.AddWorkingHours(r.Context(), site, from.UTC(), hours)
	respond(w, r, s, workingTimeResponse{From: wt.From, FromLocal: wt.FromLocal, Hours: hours.Hours(), End: wt.End, EndLocal: wt.EndLocal, TimeZone: wt.TimeZone}, err)
}
