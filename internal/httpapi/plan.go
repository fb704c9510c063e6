package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

type planRequest struct {
	ProductionID  uuid.UUID            `json:"production_id"`
	SiteID        uuid.UUID            `json:"site_id"`
	SiteIDs       []uuid.UUID          `json:"site_ids"`
	StageSites    map[string]uuid.UUID `json:"stage_sites"`
	Currency      string               `json:"currency"`
	Template      string               `json:"template"`
	Skip          []string             `json:"skip"`
	Stages        []booking.StageSpec  `json:"stages"`
	EarliestStart string               `json:"earliest_start"`
	Deadline      string               `json:"deadline"`
	Preferences   map[string][]string  `json:"preferences"`
	Seed          uint64               `json:"seed"`
}

func (s *Server) proposePlan(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req planRequest
	if !s.body(w, r, &req) {
		return
	}
	in := booking.PlanRequest{ProductionID: req.ProductionID, SiteID: req.SiteID, SiteIDs: req.SiteIDs, StageSites: req.StageSites, Currency: req.Currency,
		Template: req.Template, Skip: req.Skip,
		Stages: req.Stages, Preferences: req.Preferences, Seed: req.Seed}
	var err error
	var t *time.Time
	if t, err = bodyTime("earliest_start", req.EarliestStart); err == nil && t != nil {
		in.EarliestStart = t.UTC()
	}
	if err == nil {
		if t, err = bodyTime("deadline", req.Deadline); err == nil && t != nil {
			in.Deadline = t.UTC()
		}
	}
	if err == nil && (req.ProductionID == uuid.Nil || (req.SiteID == uuid.Nil && len(req.SiteIDs) == 0)) {
		err = &booking.Error{Code: booking.EINVALID, Message: "production_id and site_id (or site_ids) are required.", Details: map[string]any{"field": "production_id"}}
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	p, err := s.Plans.ProposePlan(r.Context(), a, in)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Location", "/api/v1/plans/"+p.ID.String())
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) getPlan(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, ok := s.idParam(w, r)
	if !ok {
		return
	}
	p, err := s.Plans.FindPlan(r.Context(), a, id)
	respond(w, r, s, p, err)
}

type acceptedPlan struct {
	Plan     booking.Plan      `json:"plan"`
	Bookings []booking.Booking `json:"bookings"`
}

func (s *Server) acceptPlan(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, ok := s.idParam(w, r)
	if !ok {
		return
	}
	p, holds, err := s.Plans.AcceptPlan(r.Context(), a, id)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, acceptedPlan{Plan: p, Bookings: holds})
}

// listPlans serves GET /api/v1/plans: the plans the caller may see, newest first, of
// one production or all.
func (s *Server) listPlans(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	q := newQuery(r)
	f := booking.PlanFilter{ProductionID: q.id("production_id"), Limit: q.limit(200)}
	if q.err != nil {
		writeError(w, r, s.Logger, q.err)
		return
	}
	ps, err := s.Plans.ListPlans(r.Context(), a, f)
	if ps == nil {
		ps = []booking.Plan{}
	}
	respond(w, r, s, list[booking.Plan]{Items: ps}, err)
}

// confirmPlan serves POST /api/v1/plans/{id}/confirm: every stage's hold of an
// accepted plan confirmed in one action, all or nothing.
func (s *Server) confirmPlan(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, ok := s.idParam(w, r)
	if !ok {
		return
	}
	c, err := s.Plans.ConfirmPlan(r.Context(), a, id)
	respond(w, r, s, c, err)
}

type templateInfo struct {
	Name   string              `json:"name"`
	Stages []booking.StageSpec `json:"stages"`
	// Derived says the stages are derived from the production's deliverables; Basis
	// then says, per stage, where its figures come from.
	Derived bool              `json:"derived,omitempty"`
	Basis   map[string]string `json:"basis,omitempty"`
}

// templateList is the answer of GET /api/v1/plan-templates: with a production, the
// public norms its derived stages cite.
type templateList struct {
	Items        []templateInfo    `json:"items"`
	ProductionID *uuid.UUID        `json:"production_id,omitempty"`
	Sources      map[string]string `json:"sources,omitempty"`
}

// planTemplates lists the pipeline templates, expanded for a runtime (default 90
// minutes), so a producer can start from one and edit its stages. With production_id,
// they are expanded for that production: its runtime (unless runtime_minutes is
// given) and, when it has deliverables, the stages and demands derived from them, as
// POST /api/v1/plans would plan them.
func (s *Server) planTemplates(w http.ResponseWriter, r *http.Request) {
	runtime := 90
	if v := r.URL.Query().Get("runtime_minutes"); v != "" {
		if n, err := parsePositiveInt(v, 1000); err == nil {
			runtime = n
		} else {
			writeError(w, r, s.Logger, &booking.Error{Code: booking.EINVALID, Message: "runtime_minutes must be 1 to 1000.", Details: map[string]any{"parameter": "runtime_minutes"}})
			return
		}
	}
	q := newQuery(r)
	prodID := q.id("production_id")
	if q.err != nil {
		writeError(w, r, s.Logger, q.err)
		return
	}
	var d booking.Deliverables
	if prodID != nil {
		a, _ := ActorFrom(r.Context())
		p, err := s.Catalogue.FindProduction(r.Context(), a, *prodID)
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		if r.URL.Query().Get("runtime_minutes") == "" {
			runtime = p.RuntimeMinutes
		}
		d = p.Deliverables
	}
	out := templateList{Items: []templateInfo{}, ProductionID: prodID}
	for _, n := range booking.TemplateNames() {
		st, err := booking.PipelineStages(n, runtime, d, nil)
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		info := templateInfo{Name: n, Stages: st}
		if d.Any() {
			info.Derived, info.Basis = true, map[string]string{}
			for _, stage := range st {
				info.Basis[stage.ID] = booking.StageBasis(stage.ID)
			}
		}
		out.Items = append(out.Items, info)
	}
	if d.Any() {
		out.Sources = booking.PipelineSources()
	}
	writeJSON(w, http.StatusOK, out)
}

func parsePositiveInt(v string, max int) (int, error) {
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, booking.Errorf(booking.EINVALID, "not a number")
		}
		n = n*10 + int(c-'0')
		if n > max {
			return 0, booking.Errorf(booking.EINVALID, "too large")
		}
	}
	if n < 1 {
		return 0, booking.Errorf(booking.EINVALID, "too small")
	}
	return n, nil
}
