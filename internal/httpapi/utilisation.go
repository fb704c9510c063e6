package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// utilisation answers GET /api/v1/utilisation: how much of a site's capacity is booked
// in [from, to), grouped by group_by. from and to are RFC 3339 instants, or dates
// (2027-03-01) meaning the start of that day at the site.
func (s *Server) utilisation(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	qs := r.URL.Query()
	var q booking.UtilisationQuery
	var err error
	q.SiteID, err = parseID("site_id", qs.Get("site_id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	for _, v := range qs["group_by"] {
		for _, d := range strings.Split(v, ",") {
			if d = strings.TrimSpace(d); d != "" {
				q.GroupBy = append(q.GroupBy, booking.Dimension(d))
			}
		}
	}
	site, err := s.Catalogue.FindSite(r.Context(), q.SiteID)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	loc, err := calendar.LoadLocation(site.TimeZone)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if q.From, err = instantOrSiteDate("from", qs.Get("from"), loc); err == nil {
		q.To, err = instantOrSiteDate("to", qs.Get("to"), loc)
	}
	if err == nil {
		err = q.Validate()
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	rep, err := s.Utilisation.Utilisation(r.Context(), a, q)
	respond(w, r, s, rep, err)
}

// instantOrSiteDate reads a required parameter that is an RFC 3339 instant or a date,
// the latter taken as the start of that day in loc.
func instantOrSiteDate(name, v string, loc *time.Location) (time.Time, error) {
	if v == "" {
		return time.Time{}, &booking.Error{Code: booking.EINVALID, Message: name + " is required.", Details: map[string]any{"parameter": name}}
	}
	if d, err := calendar.ParseDate(v); err == nil {
		t := d.At(calendar.Clock{}, loc).UTC()
		return t, CheckInstant(name, t)
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, &booking.Error{Code: booking.EINVALID,
			Message: name + " must be a date (2027-03-01, the site's midnight) or an RFC 3339 time with an offset.",
			Details: map[string]any{"parameter": name}}
	}
	return t.UTC(), CheckInstant(name, t)
}
