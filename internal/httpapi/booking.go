package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

type createBookingRequest struct {
	ProductionID uuid.UUID   `json:"production_id"`
	ResourceID   *uuid.UUID  `json:"resource_id"`
	ResourceIDs  []uuid.UUID `json:"resource_ids"`
	Start        string      `json:"start"`
	End          string      `json:"end"`
	StartLocal   string      `json:"start_local"`
	EndLocal     string      `json:"end_local"`
	Status       string      `json:"status"`
	Note         string      `json:"note"`
	Trainees     int         `json:"trainees"`
	Overtime     bool        `json:"overtime"`
}

// requiredTime reads a required RFC 3339 time with an offset from a JSON field.
func requiredTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, &booking.Error{Code: booking.EINVALID, Message: field + " is required.", Details: map[string]any{"field": field}}
	}
	t, err := parseTime(field, v)
	if err != nil {
		if de, ok := err.(*booking.Error); ok {
			de.Details = map[string]any{"field": field}
		}
		return time.Time{}, err
	}
	return t.UTC(), nil
}

func (s *Server) createBooking(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req createBookingRequest
	if !s.body(w, r, &req) {
		return
	}
	in := booking.BookingInput{ProductionID: req.ProductionID, ResourceIDs: req.ResourceIDs, Status: booking.Status(req.Status), Note: req.Note,
		Trainees: req.Trainees, Overtime: req.Overtime}
	if req.ResourceID != nil {
		in.ResourceIDs = append([]uuid.UUID{*req.ResourceID}, in.ResourceIDs...)
	}
	if in.Status == "" {
		in.Status = booking.StatusHold
	}
	var err error
	if req.StartLocal != "" || req.EndLocal != "" {
		in.StartLocal, in.EndLocal = req.StartLocal, req.EndLocal
		err = checkTimeTexts("start_local", req.StartLocal, "end_local", req.EndLocal)
		if err == nil && (req.Start != "" || req.End != "") {
			err = &booking.Error{Code: booking.EINVALID, Message: "Give start and end, or start_local and end_local, not both.", Details: map[string]any{"field": "start_local"}}
		}
	} else if in.Start, err = requiredTime("start", req.Start); err == nil {
		in.End, err = requiredTime("end", req.End)
	}
	if err == nil && req.ProductionID == uuid.Nil {
		err = &booking.Error{Code: booking.EINVALID, Message: "production_id is required.", Details: map[string]any{"field": "production_id"}}
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	b, err := s.Bookings.Book(r.Context(), a, in)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Location", "/api/v1/bookings/"+b.ID.String())
	writeBooking(w, http.StatusCreated, b)
}

// writeBooking answers a booking with its version as ETag.
func writeBooking(w http.ResponseWriter, status int, b booking.Booking) {
	w.Header().Set("ETag", etag(b.Version))
	writeJSON(w, status, b)
}

func etag(version int) string { return `"` + strconv.Itoa(version) + `"` }

// ifMatch reads If-Match as a booking version; "*" and absence impose nothing. If-Match
// compares strongly (RFC 9110 §13.1.1): only the ETag as the API gave it, "3", matches
// version 3. A weak one (W/"3") never matches, nor does anything else, so either
// answers 412 as a stale ETag does, and the change is not made.
func ifMatch(r *http.Request) (*int, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return nil, nil
	}
	if strings.HasPrefix(h, "W/") {
		return nil, booking.Errorf(booking.EPRECONDITION, `If-Match compares strongly: a weak ETag (W/…) never matches; send the ETag as given, such as "3".`)
	}
	v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(h, `"`), `"`))
	if err != nil || etag(v) != h {
		return nil, booking.Errorf(booking.EPRECONDITION, "If-Match must be an ETag this API gave.")
	}
	return &v, nil
}

// markReviewed clears a booking's working-time review flag.
func (s *Server) markReviewed(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, ok := s.idParam(w, r)
	if !ok {
		return
	}
	b, err := s.Bookings.MarkWorkingTimeReviewed(r.Context(), a, id)
	respond(w, r, s, b, err)
}

func (s *Server) getBooking(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, ok := s.idParam(w, r)
	if !ok {
		return
	}
	b, err := s.Bookings.FindBooking(r.Context(), a, id)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.TrimPrefix(inm, "W/") == etag(b.Version) {
		w.Header().Set("ETag", etag(b.Version))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeBooking(w, http.StatusOK, b)
}

type bookingList struct {
	Items      []booking.Booking `json:"items"`
	Busy       []booking.Busy    `json:"busy,omitempty"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

func (s *Server) listBookings(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	q := newQuery(r)
	f := booking.BookingFilter{Cursor: q.v.Get("cursor"), ResourceID: q.id("resource_id"), ProductionID: q.id("production_id"),
		SiteID: q.id("site_id"), From: q.time("from"), To: q.time("to"), Limit: q.limit(500), NeedsReview: q.flag("working_time_review")}
	for _, st := range q.v["status"] {
		for _, v := range strings.Split(st, ",") {
			if !validStatus(booking.Status(v)) && q.err == nil {
				q.err = &booking.Error{Code: booking.EINVALID, Message: "status " + v + " is not a booking status.", Details: map[string]any{"parameter": "status"}}
			}
			f.Status = append(f.Status, booking.Status(v))
		}
	}
	if q.err != nil {
		writeError(w, r, s.Logger, q.err)
		return
	}
	items, busy, next, err := s.Bookings.ListBookings(r.Context(), a, f)
	if items == nil {
		items = []booking.Booking{}
	}
	respond(w, r, s, bookingList{Items: items, Busy: busy, NextCursor: next}, err)
}

func validStatus(st booking.Status) bool {
	for _, x := range booking.Statuses {
		if st == x {
			return true
		}
	}
	return false
}

type rescheduleRequest struct {
	Start       string      `json:"start"`
	End         string      `json:"end"`
	StartLocal  string      `json:"start_local"`
	EndLocal    string      `json:"end_local"`
	ResourceIDs []uuid.UUID `json:"resource_ids"`
	Reason      string      `json:"reason"`
}

// rescheduleBooking serves PATCH /api/v1/bookings/{id}: new times (start and end, or
// the site's wall-clock start_local and end_local), new resource_ids, or both.
func (s *Server) rescheduleBooking(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req rescheduleRequest
	id, ok := s.idAndBody(w, r, &req)
	if !ok {
		return
	}
	var err error
	opts := booking.ActOptions{Reason: req.Reason}
	m := booking.Move{ResourceIDs: req.ResourceIDs}
	switch {
	case req.StartLocal != "" || req.EndLocal != "":
		m.StartLocal, m.EndLocal = req.StartLocal, req.EndLocal
		err = checkTimeTexts("start_local", req.StartLocal, "end_local", req.EndLocal)
		if err == nil && (req.Start != "" || req.End != "") {
			err = &booking.Error{Code: booking.EINVALID, Message: "Give start and end, or start_local and end_local, not both.", Details: map[string]any{"field": "start_local"}}
		}
	case req.Start != "" || req.End != "" || req.ResourceIDs == nil:
		if m.Start, err = requiredTime("start", req.Start); err == nil {
			m.End, err = requiredTime("end", req.End)
		}
	}
	if err == nil {
		opts.IfMatch, err = ifMatch(r)
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	b, err := s.Bookings.Move(r.Context(), a, id, m, opts)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	// A producer's move of a confirmed booking that needs approval is accepted, not
	// made: the booking keeps its slot, requested_start/end say the one asked for.
	status := http.StatusOK
	if b.RequestedStart != nil {
		status = http.StatusAccepted
	}
	writeBooking(w, status, b)
}

type actRequest struct {
	Reason string `json:"reason"`
}

// actOnBooking serves POST /api/v1/bookings/{id}/{action}. A confirmation that opened
// a challenge or asked for approval answers 202: accepted, not yet confirmed.
func (s *Server) actOnBooking(act booking.Action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, _ := ActorFrom(r.Context())
		id, ok := s.idParam(w, r)
		if !ok {
			return
		}
		var req actRequest
		if r.ContentLength != 0 {
			if !s.body(w, r, &req) {
				return
			}
		}
		opts := booking.ActOptions{Reason: req.Reason}
		var err error
		if opts.IfMatch, err = ifMatch(r); err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		b, err := s.Bookings.Act(r.Context(), a, id, act, opts)
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		status := http.StatusOK
		if act == booking.ActionConfirm && b.Status == booking.StatusHold {
			status = http.StatusAccepted
		}
		writeBooking(w, status, b)
	}
}

func (s *Server) getSitePolicy(w http.ResponseWriter, r *http.Request) {
	id, ok := s.idParam(w, r)
	if !ok {
		return
	}
	p, err := s.Bookings.SitePolicy(r.Context(), id)
	respond(w, r, s, p, err)
}

type sitePolicyRequest struct {
	ConfirmNeedsApproval bool               `json:"confirm_needs_approval"`
	HoldLifetime         booking.Duration   `json:"hold_lifetime"`
	ChallengeWindow      booking.Duration   `json:"challenge_window"`
	MinNotice            booking.Duration   `json:"min_notice"`
	ReminderOffsets      []booking.Duration `json:"reminder_offsets"`
	Overtime             string             `json:"overtime"`
}

func (s *Server) putSitePolicy(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req sitePolicyRequest
	id, ok := s.idAndBody(w, r, &req)
	if !ok {
		return
	}
	p, err := s.Bookings.UpdateSitePolicy(r.Context(), a, booking.SitePolicy{SiteID: id, ConfirmNeedsApproval: req.ConfirmNeedsApproval,
		HoldLifetime: req.HoldLifetime, ChallengeWindow: req.ChallengeWindow, MinNotice: req.MinNotice, ReminderOffsets: req.ReminderOffsets,
		Overtime: req.Overtime})
	respond(w, r, s, p, err)
}

type blockRequest struct {
	ResourceID uuid.UUID `json:"resource_id"`
	Start      string    `json:"start"`
	End        string    `json:"end"`
	Kind       string    `json:"kind"`
	Reason     string    `json:"reason"`
	RRule      string    `json:"rrule"`
	Until      string    `json:"until"`
}

func (s *Server) createBlock(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req blockRequest
	if !s.body(w, r, &req) {
		return
	}
	b := booking.Block{ResourceID: req.ResourceID, Kind: req.Kind, Reason: req.Reason, RRule: req.RRule}
	var err error
	if b.Start, err = requiredTime("start", req.Start); err == nil {
		b.End, err = requiredTime("end", req.End)
	}
	if err == nil {
		b.Until, err = bodyTime("until", req.Until)
	}
	if err == nil {
		b, err = s.Blocks.AddBlock(r.Context(), a, b)
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, b)
}

func (s *Server) listBlocks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rid, err := parseID("resource_id", q.Get("resource_id"))
	var from, to *time.Time
	if err == nil {
		from, err = parseTime("from", q.Get("from"))
	}
	if err == nil {
		to, err = parseTime("to", q.Get("to"))
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	bs, err := s.Blocks.ListBlocks(r.Context(), rid, from, to)
	respond(w, r, s, list[booking.Block]{Items: bs}, err)
}

func (s *Server) deleteBlock(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, err := pathID(r)
	if err == nil {
		err = s.Blocks.DeleteBlock(r.Context(), a, id)
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
