package httpapi

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

type replanRequest struct {
	SiteID uuid.UUID `json:"site_id"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
}

// proposeReplan serves a manager's what-if: the site's pending holds in a window
// repacked as early as capacity allows. Nothing moves until it is applied.
func (s *Server) proposeReplan(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req replanRequest
	if !s.body(w, r, &req) {
		return
	}
	from, err := requiredTime("from", req.From)
	if err == nil {
		var to = from
		if to, err = requiredTime("to", req.To); err == nil {
			var rp booking.Replan
			if rp, err = s.Replans.ProposeReplan(r.Context(), a, req.SiteID, from, to, req.Reason); err == nil {
				writeJSON(w, http.StatusCreated, rp)
				return
			}
		}
	}
	writeError(w, r, s.Logger, err)
}

func (s *Server) applyReplan(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, ok := s.idParam(w, r)
	if !ok {
		return
	}
	rp, err := s.Replans.ApplyReplan(r.Context(), a, id)
	respond(w, r, s, rp, err)
}
