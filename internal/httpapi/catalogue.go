package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{
		"status":     "ok",
		"version":    s.Version,
		"tz_version": s.TZVersion,
	})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.Ready(r.Context()); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

type meResponse struct {
	UserID         uuid.UUID    `json:"user_id"`
	OrganisationID uuid.UUID    `json:"organisation_id"`
	Email          string       `json:"email"`
	Role           booking.Role `json:"role"`
	Locale         string       `json:"locale"`
	SiteIDs        []uuid.UUID  `json:"site_ids"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	sites := a.SiteIDs
	if sites == nil {
		sites = []uuid.UUID{}
	}
	writeJSON(w, http.StatusOK, meResponse{a.UserID, a.OrganisationID, a.Email, a.Role, a.Locale, sites})
}

func (s *Server) listSites(w http.ResponseWriter, r *http.Request) {
	sites, err := s.Catalogue.ListSites(r.Context())
	respond(w, r, s, list[booking.Site]{Items: sites}, err)
}

func (s *Server) getSite(w http.ResponseWriter, r *http.Request) {
	id, ok := s.idParam(w, r)
	if !ok {
		return
	}
	site, err := s.Catalogue.FindSite(r.Context(), id)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeVersioned(w, http.StatusOK, site, site.Version)
}

func (s *Server) listResources(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r)
	f := booking.ResourceFilter{SiteID: q.id("site_id"), Kind: q.v.Get("kind"), Capability: q.v["capability"],
		IncludeInactive: q.flag("include_inactive")}
	if q.err != nil {
		writeError(w, r, s.Logger, q.err)
		return
	}
	res, err := s.Catalogue.ListResources(r.Context(), f)
	respond(w, r, s, list[booking.Resource]{Items: res}, err)
}

func (s *Server) getResource(w http.ResponseWriter, r *http.Request) {
	id, ok := s.idParam(w, r)
	if !ok {
		return
	}
	res, err := s.Catalogue.FindResource(r.Context(), id)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeVersioned(w, http.StatusOK, res, res.Version)
}

func (s *Server) listProductions(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	ps, err := s.Catalogue.ListProductions(r.Context(), a)
	respond(w, r, s, list[booking.Production]{Items: ps}, err)
}

func (s *Server) getProduction(w http.ResponseWriter, r *http.Request) {
	id, ok := s.idParam(w, r)
	if !ok {
		return
	}
	a, _ := ActorFrom(r.Context())
	p, err := s.Catalogue.FindProduction(r.Context(), a, id)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeVersioned(w, http.StatusOK, p, p.Version)
}

// respond writes v as 200 JSON, or err as a problem.
func respond(w http.ResponseWriter, r *http.Request, s *Server, v any, err error) {
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// idParam reads the path's {id}; a malformed one is answered (404) here, and the
// handler returns when ok is false.
func (s *Server) idParam(w http.ResponseWriter, r *http.Request) (uuid.UUID, bool) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return uuid.Nil, false
	}
	return id, true
}

// body decodes the JSON body into dst (decodeJSON); a bad one is answered here, and
// the handler returns when it reports false.
func (s *Server) body(w http.ResponseWriter, r *http.Request, dst any) bool {
	if err := decodeJSON(r, dst); err != nil {
		writeError(w, r, s.Logger, err)
		return false
	}
	return true
}

// idAndBody reads the path's {id}, then the JSON body, answering either's error.
func (s *Server) idAndBody(w http.ResponseWriter, r *http.Request, dst any) (uuid.UUID, bool) {
	id, ok := s.idParam(w, r)
	return id, ok && s.body(w, r, dst)
}

func pathID(r *http.Request) (uuid.UUID, error) {
	return parseID("id", chi.URLParam(r, "id"))
}

// parseID reads a UUID parameter. A malformed id in a path is answered as not found,
// like any id that names nothing the caller may see.
func parseID(name, v string) (uuid.UUID, error) {
	id, err := uuid.Parse(v)
	if err != nil {
		if name == "id" {
			return uuid.Nil, booking.Errorf(booking.ENOTFOUND, "Not found.")
		}
		return uuid.Nil, &booking.Error{Code: booking.EINVALID, Message: name + " must be a UUID.",
			Details: map[string]any{"parameter": name}}
	}
	return id, nil
}

type createProductionRequest struct {
	OrganisationID uuid.UUID        `json:"organisation_id"`
	Title          string           `json:"title"`
	Format         string           `json:"format"`
	RuntimeMinutes int              `json:"runtime_minutes"`
	Emerging       bool             `json:"emerging"`
	Programme      string           `json:"programme"`
	Origins        []booking.Origin `json:"origins"`
	// Deliverables drive the production's plan.
	Deliverables booking.Deliverables `json:"deliverables"`
}

func (s *Server) createProduction(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req createProductionRequest
	if !s.body(w, r, &req) {
		return
	}
	p, err := s.Catalogue.CreateProduction(r.Context(), a, booking.ProductionInput(req))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Location", "/api/v1/productions/"+p.ID.String())
	writeJSON(w, http.StatusCreated, p)
}

// putMembership sets a production's programme and emerging status, granting or
// refusing what its producer asked for (managers and admins).
func (s *Server) putMembership(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var m booking.Membership
	id, ok := s.idAndBody(w, r, &m)
	if !ok {
		return
	}
	p, err := s.Catalogue.SetMembership(r.Context(), a, id, m)
	respond(w, r, s, p, err)
}
