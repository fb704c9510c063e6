package web

import (
	"net/http"

	"github.com/posthub/posthub/internal/booking"
)

// replanRemaining serves POST /plans/{id}/replan-remaining, the accepted plan's
// "Re-plan the remaining stages": the proposal's page follows, where it can be
// accepted (which replaces the plan's holds) or left.
func (u *UI) replanRemaining(w http.ResponseWriter, r *http.Request) {
	lang, title, id, back, ok := u.planAction(w, r)
	if !ok {
		return
	}
	rp, ok := u.Plans.(booking.RemainingPlans)
	if !ok {
		u.pageError(w, r, title, booking.Errorf(booking.EUNAVAILABLE, "The planner is not running."))
		return
	}
	p, err := rp.ReplanRemaining(r.Context(), actor(r), id)
	if booking.ErrorCode(err) == booking.ENOTFOUND {
		u.pageError(w, r, title, err)
		return
	}
	if err != nil {
		u.setFlash(w, r, "error", u.errorText(lang, err))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	u.setFlash(w, r, "ok", translate(lang, "plan.flash_remaining"))
	http.Redirect(w, r, "/plans/"+p.ID.String(), http.StatusSeeOther)
}
