package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

type createTokenRequest struct {
	Name string `json:"name"`
	// ExpiresInDays bounds the token's life; omitted or 0 means no expiry.
	ExpiresInDays int `json:"expires_in_days"`
	// UserID lets an admin issue a token for someone else.
	UserID *uuid.UUID `json:"user_id"`
}

type createTokenResponse struct {
	booking.TokenInfo
	// Token is shown this once and never again.
	Token string `json:"token"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req createTokenRequest
	if !s.body(w, r, &req) {
		return
	}
	if req.ExpiresInDays < 0 || req.ExpiresInDays > 730 {
		writeError(w, r, s.Logger, booking.Errorf(booking.EINVALID, "expires_in_days must be 0 to 730."))
		return
	}
	userID := a.UserID
	if req.UserID != nil {
		userID = *req.UserID
	}
	info, plain, err := s.Auth.CreateToken(r.Context(), a, userID, req.Name, time.Duration(req.ExpiresInDays)*24*time.Hour)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, createTokenResponse{TokenInfo: info, Token: plain})
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	ts, err := s.Auth.ListTokens(r.Context(), a)
	respond(w, r, s, list[booking.TokenInfo]{Items: ts}, err)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, err := pathID(r)
	if err == nil {
		err = s.Auth.RevokeToken(r.Context(), a, id)
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type createUserRequest struct {
	OrganisationID uuid.UUID    `json:"organisation_id"`
	Email          string       `json:"email"`
	Name           string       `json:"name"`
	Role           booking.Role `json:"role"`
	Locale         string       `json:"locale"`
	SiteIDs        []uuid.UUID  `json:"site_ids"`
	Password       string       `json:"password"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req createUserRequest
	if !s.body(w, r, &req) {
		return
	}
	u, err := s.Auth.CreateUser(r.Context(), a, booking.UserInput(req))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	us, err := s.Auth.ListUsers(r.Context(), a)
	respond(w, r, s, list[booking.User]{Items: us}, err)
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	q := newQuery(r)
	f := booking.AuditFilter{
		Action:     q.v.Get("action"),
		ObjectType: q.v.Get("object_type"),
		ObjectID:   q.v.Get("object_id"),
		Cursor:     q.v.Get("cursor"),
		ActorID:    q.id("actor_id"),
		From:       q.time("from"),
		To:         q.time("to"),
		Limit:      q.limit(500),
	}
	if q.err != nil {
		writeError(w, r, s.Logger, q.err)
		return
	}
	entries, next, err := s.Audit.ListAudit(r.Context(), a, f)
	respond(w, r, s, list[booking.AuditEntry]{Items: entries, NextCursor: next}, err)
}

// parseTime reads an optional RFC 3339 instant; an offset is required, so a time is
// never read in a zone the client did not name, and it must be within [MinInstant,
// MaxInstant] (CheckInstant). Every instant the API takes is read here.
func parseTime(name, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, &booking.Error{Code: booking.EINVALID, Message: name + " must be an RFC 3339 time with an offset.",
			Details: map[string]any{"parameter": name}}
	}
	if err := CheckInstant(name, t); err != nil {
		return nil, err
	}
	return &t, nil
}
