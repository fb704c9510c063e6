package httpapi

import (
	"net/http"

	"github.com/posthub/posthub/internal/booking"
)

// replanRemaining serves POST /api/v1/plans/{id}/replan-remaining: a new proposal for
// the stages of an accepted plan that are not yet confirmed or completed, replacing it
// once accepted (POST /api/v1/plans/{id}/accept on the proposal).
func (s *Server) replanRemaining(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, ok := s.idParam(w, r)
	if !ok {
		return
	}
	rp, ok := s.Plans.(booking.RemainingPlans)
	if !ok {
		writeError(w, r, s.Logger, booking.Errorf(booking.EUNAVAILABLE, "The planner cannot re-plan remaining stages."))
		return
	}
	p, err := rp.ReplanRemaining(r.Context(), a, id)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Location", "/api/v1/plans/"+p.ID.String())
	writeJSON(w, http.StatusCreated, p)
}
