package httpapi

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// Catalogue administration: sites, resources, organisations, users and productions'
// own fields, and the password links that let a user set their password. A PATCH
// changes the fields it names; an absent or null field stays as it is. Every PATCH
// answers the object with its version as ETag and takes If-Match (ifMatch), as a
// booking's reschedule does.

// writeVersioned answers an object with its version as a strong ETag.
func writeVersioned(w http.ResponseWriter, status int, v any, version int) {
	w.Header().Set("ETag", etag(version))
	writeJSON(w, status, v)
}

// patchInput reads a PATCH: the path's {id}, the body into dst and If-Match, answering
// whichever is wrong.
func (s *Server) patchInput(w http.ResponseWriter, r *http.Request, dst any) (uuid.UUID, *int, bool) {
	id, ok := s.idAndBody(w, r, dst)
	if !ok {
		return id, nil, false
	}
	v, err := ifMatch(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return id, nil, false
	}
	return id, v, true
}

type createSiteRequest struct {
	Slug     string `json:"slug"`
	Name     string `json:"name"`
	Country  string `json:"country"`
	TimeZone string `json:"time_zone"`
	Currency string `json:"currency"`
}

func (s *Server) createSite(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req createSiteRequest
	if !s.body(w, r, &req) {
		return
	}
	site, err := s.Catalogue.CreateSite(r.Context(), a, booking.SiteInput(req))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Location", "/api/v1/sites/"+site.ID.String())
	writeVersioned(w, http.StatusCreated, site, site.Version)
}

type updateSiteRequest struct {
	Slug     *string `json:"slug"`
	Name     *string `json:"name"`
	Country  *string `json:"country"`
	TimeZone *string `json:"time_zone"`
	Currency *string `json:"currency"`
	Active   *bool   `json:"active"`
}

func (s *Server) updateSite(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req updateSiteRequest
	id, version, ok := s.patchInput(w, r, &req)
	if !ok {
		return
	}
	site, err := s.Catalogue.UpdateSite(r.Context(), a, id, booking.SitePatch(req), version)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeVersioned(w, http.StatusOK, site, site.Version)
}

type createResourceRequest struct {
	SiteID          uuid.UUID `json:"site_id"`
	Name            string    `json:"name"`
	Category        string    `json:"category"`
	Kind            string    `json:"kind"`
	Capabilities    []string  `json:"capabilities"`
	RateMinor       int64     `json:"rate_minor"`
	RateUnit        string    `json:"rate_unit"`
	TraineeCapacity int       `json:"trainee_capacity"`
	Active          *bool     `json:"active"`
}

func (s *Server) createResource(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req createResourceRequest
	if !s.body(w, r, &req) {
		return
	}
	res, err := s.Catalogue.CreateResource(r.Context(), a, booking.ResourceInput(req))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Location", "/api/v1/resources/"+res.ID.String())
	writeVersioned(w, http.StatusCreated, res, res.Version)
}

type updateResourceRequest struct {
	Name            *string   `json:"name"`
	Category        *string   `json:"category"`
	Kind            *string   `json:"kind"`
	Capabilities    *[]string `json:"capabilities"`
	RateMinor       *int64    `json:"rate_minor"`
	RateUnit        *string   `json:"rate_unit"`
	TraineeCapacity *int      `json:"trainee_capacity"`
	Active          *bool     `json:"active"`
}

func (s *Server) updateResource(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req updateResourceRequest
	id, version, ok := s.patchInput(w, r, &req)
	if !ok {
		return
	}
	res, err := s.Catalogue.UpdateResource(r.Context(), a, id, booking.ResourcePatch(req), version)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeVersioned(w, http.StatusOK, res, res.Version)
}

func (s *Server) listOrganisations(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	os, err := s.Catalogue.ListOrganisations(r.Context(), a)
	respond(w, r, s, list[booking.Organisation]{Items: os}, err)
}

type createOrganisationRequest struct {
	Slug    string `json:"slug"`
	Name    string `json:"name"`
	Country string `json:"country"`
	Kind    string `json:"kind"`
}

func (s *Server) createOrganisation(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req createOrganisationRequest
	if !s.body(w, r, &req) {
		return
	}
	o, err := s.Catalogue.CreateOrganisation(r.Context(), a, booking.OrganisationInput(req))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeVersioned(w, http.StatusCreated, o, o.Version)
}

type updateOrganisationRequest struct {
	Slug    *string `json:"slug"`
	Name    *string `json:"name"`
	Country *string `json:"country"`
}

func (s *Server) updateOrganisation(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req updateOrganisationRequest
	id, version, ok := s.patchInput(w, r, &req)
	if !ok {
		return
	}
	o, err := s.Catalogue.UpdateOrganisation(r.Context(), a, id, booking.OrganisationPatch(req), version)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeVersioned(w, http.StatusOK, o, o.Version)
}

type updateProductionRequest struct {
	Title          *string           `json:"title"`
	Format         *string           `json:"format"`
	RuntimeMinutes *int              `json:"runtime_minutes"`
	Origins        *[]booking.Origin `json:"origins"`
	// Deliverables change field by field (a merge patch).
	Deliverables *booking.DeliverablesPatch `json:"deliverables"`
}

func (s *Server) updateProduction(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req updateProductionRequest
	id, version, ok := s.patchInput(w, r, &req)
	if !ok {
		return
	}
	p, err := s.Catalogue.UpdateProduction(r.Context(), a, id, booking.ProductionPatch(req), version)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeVersioned(w, http.StatusOK, p, p.Version)
}

type updateUserRequest struct {
	Name           *string       `json:"name"`
	Role           *booking.Role `json:"role"`
	Locale         *string       `json:"locale"`
	OrganisationID *uuid.UUID    `json:"organisation_id"`
	Active         *bool         `json:"active"`
	SiteIDs        *[]uuid.UUID  `json:"site_ids"`
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req updateUserRequest
	id, version, ok := s.patchInput(w, r, &req)
	if !ok {
		return
	}
	u, err := s.Auth.UpdateUser(r.Context(), a, id, booking.UserPatch(req), version)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeVersioned(w, http.StatusOK, u, u.Version)
}

// inviteUser makes an invitation link for a user and queues its mail: 202, the mail
// goes from the job queue.
func (s *Server) inviteUser(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, ok := s.idParam(w, r)
	if !ok {
		return
	}
	l, err := s.Auth.InviteUser(r.Context(), a, id)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusAccepted, l)
}

// emailShape is the users table's own rule for an email.
var emailShape = regexp.MustCompile(`^[^@[:space:]]+@[^@[:space:]]+$`)

type passwordResetRequest struct {
	Email string `json:"email"`
}

// requestPasswordReset queues a reset link's mail for the active user with the email,
// if there is one: 202 either way, so the answer never tells. It counts against the
// login limits (per address and per email).
func (s *Server) requestPasswordReset(w http.ResponseWriter, r *http.Request) {
	var req passwordResetRequest
	if !s.body(w, r, &req) {
		return
	}
	req.Email = strings.TrimSpace(req.Email)
	if !emailShape.MatchString(req.Email) {
		writeError(w, r, s.Logger, &booking.Error{Code: booking.EINVALID, Message: "email is not valid.", Details: map[string]any{"field": "email"}})
		return
	}
	if s.LoginLimited(w, r, req.Email) {
		writeError(w, r, s.Logger, booking.Errorf(booking.ERATELIMITED, "Too many attempts; retry later."))
		return
	}
	if err := s.Auth.RequestPasswordReset(r.Context(), req.Email); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusAccepted)
}

type setPasswordRequest struct {
	Password string `json:"password"`
}

// setPassword sets a password from a link's secret, once: 204.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) {
	var req setPasswordRequest
	if !s.body(w, r, &req) {
		return
	}
	noContent(w, r, s, s.Auth.SetPasswordWithLink(r.Context(), chi.URLParam(r, "token"), req.Password))
}
