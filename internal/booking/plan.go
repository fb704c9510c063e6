package booking

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/google/uuid"
)

// StageSpec is one stage of a post-production pipeline as a producer asks for it:
// working hours, the resources it needs at once, and what it must follow.
type StageSpec struct {
	ID      string      `json:"id"`
	Name    string      `json:"name"`
	Hours   float64     `json:"hours"`
	Demands []Demand    `json:"demands"`
	After   []StageLink `json:"after,omitempty"`
}

// StageLink is a finish-to-start link with optional minimum and maximum lags in
// working hours.
type StageLink struct {
	From        string  `json:"from"`
	MinLagHours float64 `json:"min_lag_hours,omitempty"`
	MaxLagHours float64 `json:"max_lag_hours,omitempty"`
}

// pipelineTemplate is a template as stored: durations scale with the runtime.
type pipelineTemplate struct {
	Name   string `json:"name"`
	Stages []struct {
		ID                    string      `json:"id"`
		Name                  string      `json:"name"`
		BaseHours             float64     `json:"base_hours"`
		HoursPerRuntimeMinute float64     `json:"hours_per_runtime_minute"`
		Demands               []Demand    `json:"demands"`
		After                 []StageLink `json:"after"`
	} `json:"stages"`
}

//go:embed pipelines.json
var pipelinesJSON []byte

var pipelines = func() map[string]pipelineTemplate {
	var m map[string]pipelineTemplate
	if err := json.Unmarshal(pipelinesJSON, &m); err != nil {
		panic("booking: pipelines.json: " + err.Error())
	}
	return m
}()

// TemplateNames lists the pipeline templates.
func TemplateNames() []string {
	var out []string
	for k := range pipelines {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TemplateStages expands a pipeline template for a runtime: each stage lasts its base
// hours plus its hours per minute of runtime, rounded up to the half hour. Stages
// named in skip (e.g. an offline edit already done) are left out, and links to them
// dropped.
func TemplateStages(name string, runtimeMinutes int, skip []string) ([]StageSpec, error) {
	t, ok := pipelines[name]
	if !ok {
		return nil, &Error{Code: EINVALID, Message: fmt.Sprintf("template must be one of %v.", TemplateNames()), Details: map[string]any{"field": "template"}}
	}
	skipped := map[string]bool{}
	for _, s := range skip {
		skipped[s] = true
	}
	var out []StageSpec
	for _, s := range t.Stages {
		if skipped[s.ID] {
			continue
		}
		h := math.Ceil((s.BaseHours+s.HoursPerRuntimeMinute*float64(runtimeMinutes))*2) / 2
		spec := StageSpec{ID: s.ID, Name: s.Name, Hours: h, Demands: append([]Demand(nil), s.Demands...)}
		for _, l := range s.After {
			if !skipped[l.From] {
				spec.After = append(spec.After, l)
			}
		}
		out = append(out, spec)
	}
	return out, nil
}

// PlanRequest asks for a whole post-production plan for a production at a site, or
// over several sites.
type PlanRequest struct {
	ProductionID uuid.UUID
	// SiteID is the site of a one-site plan. SiteIDs, when given, are the sites a plan
	// may place stages at, in order of preference (the hub and its partners); SiteID
	// is then the first of them.
	SiteID  uuid.UUID
	SiteIDs []uuid.UUID
	// StageSites pins stages (by id) to one of the sites.
	StageSites map[string]uuid.UUID
	// Currency is what a plan over several sites is totalled in; empty: the currency
	// of its first site.
	Currency      string
	Template      string
	Skip          []string
	Stages        []StageSpec // instead of a template, or edited from one
	EarliestStart time.Time
	Deadline      time.Time // zero: none
	// Preferences add capabilities to every demand of a kind, e.g. grading_suite: hdr.
	Preferences map[string][]string
	Seed        uint64
}

// PlannedStage is one stage of a proposed plan: when, where, on what.
type PlannedStage struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Hours float64 `json:"hours"`
	// SiteID is where the stage runs; its times follow that site's calendar, shown in
	// its zone (TimeZone), and its cost is in that site's currency.
	SiteID     uuid.UUID      `json:"site_id"`
	TimeZone   string         `json:"time_zone"`
	Currency   string         `json:"currency"`
	Start      time.Time      `json:"start"`
	End        time.Time      `json:"end"`
	StartLocal string         `json:"start_local"`
	EndLocal   string         `json:"end_local"`
	Resources  []PlanResource `json:"resources"`
	CostMinor  int64          `json:"cost_minor"`
	BookingID  *uuid.UUID     `json:"booking_id,omitempty"`
	// BookingStatus is the current status of the stage's booking once the plan is
	// accepted; Start and End are then where that booking is now, and Changed says
	// where the plan had put it when it has moved since.
	BookingStatus string           `json:"booking_status,omitempty"`
	Demands       []Demand         `json:"demands"`
	After         []StageLink      `json:"after,omitempty"`
	Changed       *PlanStageChange `json:"changed,omitempty"`
}

// PlanTotal is the sum of a plan's stages quoted in one currency, and that sum in the
// plan's currency at the locked rate.
type PlanTotal struct {
	Currency       string `json:"currency"`
	Stages         int    `json:"stages"`
	TotalMinor     int64  `json:"total_minor"`
	Total          string `json:"total"`
	ConvertedMinor int64  `json:"converted_minor"`
	Converted      string `json:"converted"`
}

// PlanRate is an exchange rate locked into a plan: Rate units of To per unit of From
// (exact decimal), from the rates entered (Legs: the pair's own, or two through EUR),
// in force at RatesAt; EffectiveAt is the latest of its legs'.
type PlanRate struct {
	From        string         `json:"from"`
	To          string         `json:"to"`
	Rate        string         `json:"rate"`
	EffectiveAt time.Time      `json:"effective_at"`
	RatesAt     time.Time      `json:"rates_at"`
	Legs        []ExchangeRate `json:"legs"`
}

// PlanTransfer is a link between stages at two sites and the transfer time between
// them (SiteTransfer).
type PlanTransfer struct {
	FromStage string    `json:"from_stage"`
	ToStage   string    `json:"to_stage"`
	FromSite  uuid.UUID `json:"from_site"`
	ToSite    uuid.UUID `json:"to_site"`
	Hours     float64   `json:"hours"`
	Kind      string    `json:"kind"`
	Basis     string    `json:"basis"`
}

// PlanStageChange says how a stage moved: when a plan was made again, or, on an
// accepted plan, since it was accepted.
type PlanStageChange struct {
	PreviousStart time.Time `json:"previous_start"`
	PreviousEnd   time.Time `json:"previous_end"`
	Resources     bool      `json:"resources_changed"`
}

// PlanResource is a resource a stage is planned on.
type PlanResource struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
	Kind string    `json:"kind"`
}

// Plan is the planner's proposal: stages on concrete resources and intervals, the
// quote at the resources' rates and the slack to the deadline.
type Plan struct {
	ID            uuid.UUID      `json:"id"`
	ProductionID  uuid.UUID      `json:"production_id"`
	SiteID        uuid.UUID      `json:"site_id"`
	Status        string         `json:"status"` // proposed, accepted, superseded
	Template      string         `json:"template,omitempty"`
	TimeZone      string         `json:"time_zone"`
	EarliestStart time.Time      `json:"earliest_start"`
	Deadline      *time.Time     `json:"deadline,omitempty"`
	Stages        []PlannedStage `json:"stages"`
	Finish        time.Time      `json:"finish"`
	FinishLocal   string         `json:"finish_local"`
	// The margin to the deadline, when there is one: SlackHours in clock hours,
	// SlackWorkingHours in the site's working hours (the work that could still fit),
	// SlackDays in calendar days; negative when the plan misses the deadline, and the
	// MissesBy figures then say by how much in each unit.
	SlackHours           *float64 `json:"slack_hours,omitempty"`
	SlackWorkingHours    *float64 `json:"slack_working_hours,omitempty"`
	SlackDays            *float64 `json:"slack_days,omitempty"`
	MissesByHours        float64  `json:"misses_by_hours,omitempty"`
	MissesByWorkingHours float64  `json:"misses_by_working_hours,omitempty"`
	MissesByDays         float64  `json:"misses_by_days,omitempty"`
	// Placed says every stage found its resources and time; only a placed plan can be
	// accepted. Feasible says more: placed, and finished by the deadline (if any).
	Placed     bool     `json:"placed"`
	Feasible   bool     `json:"feasible"`
	Unmet      []string `json:"unmet,omitempty"`
	Currency   string   `json:"currency"`
	QuoteMinor int64    `json:"quote_minor"`
	// Quote prices the plan at the site's rate cards, with its totals in XOF and EUR;
	// a one-site plan only.
	Quote *Quote `json:"quote,omitempty"`
	// SiteIDs are the sites the plan could use, in order of preference.
	SiteIDs []uuid.UUID `json:"site_ids"`
	// Totals are the stages' costs summed per currency (each stage in its site's) and
	// each sum converted into Currency at the locked rate; QuoteMinor is the sum of
	// the converted figures. Rates are the exchange rates locked when the plan was
	// proposed: an accepted plan keeps them.
	Totals []PlanTotal `json:"totals"`
	Rates  []PlanRate  `json:"rates"`
	// Transfers are the links between stages at different sites, with the transfer
	// time the later stage waited.
	Transfers  []PlanTransfer `json:"transfers,omitempty"`
	Schedules  int            `json:"schedules"`
	ReplacesID *uuid.UUID     `json:"replaces_id,omitempty"`
	// Remaining says the plan re-plans the stages of the accepted plan ReplacesID that
	// were not confirmed or completed (RemainingPlans): accepting it releases that
	// plan's holds.
	Remaining  bool       `json:"remaining,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
}

// Plans proposes and accepts post-production plans.
type Plans interface {
	// ProposePlan plans the request against current capacity and stores the proposal.
	// Returns ENOTFOUND for a production the actor may not see, EINVALID for a bad
	// request.
	ProposePlan(ctx context.Context, a Actor, r PlanRequest) (Plan, error)
	// FindPlan returns ENOTFOUND for a plan the actor may not see.
	FindPlan(ctx context.Context, a Actor, id uuid.UUID) (Plan, error)
	// AcceptPlan places a hold for every stage in one transaction. If capacity moved
	// since the proposal, it plans again and returns ECONFLICT whose details carry the
	// new proposal and what changed; nothing is booked then.
	AcceptPlan(ctx context.Context, a Actor, id uuid.UUID) (Plan, []Booking, error)
	// ListPlans lists the plans the actor may see (a producer's organisation's only),
	// newest first; accepted plans read live, as FindPlan gives them.
	ListPlans(ctx context.Context, a Actor, f PlanFilter) ([]Plan, error)
	// PlanOfBooking returns the accepted plan one of whose stages placed the booking,
	// and that stage's id; ENOTFOUND when there is none the actor may see.
	PlanOfBooking(ctx context.Context, a Actor, bookingID uuid.UUID) (Plan, string, error)
	// ConfirmPlan confirms every stage's hold of an accepted plan in one transaction,
	// each by the booking's own confirm action: a hold with holds ahead opens a
	// challenge, one the site wants approved becomes an approval request, others are
	// confirmed. Stages whose booking is already confirmed or has ended are left as
	// they are. If one stage cannot be confirmed, nothing is, and the error names the
	// stage (details.stage). ECONFLICT for a plan that is not accepted.
	ConfirmPlan(ctx context.Context, a Actor, id uuid.UUID) (PlanConfirmation, error)
}

// PlanFilter narrows a listing of plans; zero fields do not filter.
type PlanFilter struct {
	ProductionID *uuid.UUID
	// Limit is at most 200; 0 means 100.
	Limit int
}

// What confirming a plan did to a stage (StageConfirmation.Outcome).
const (
	// StageConfirmed: the hold is now a confirmed booking.
	StageConfirmed = "confirmed"
	// StageApprovalRequested: the site wants a manager to approve; the hold waits.
	StageApprovalRequested = "approval_requested"
	// StageChallenge: holds are ahead of this one; they have until the deadline.
	StageChallenge = "challenge"
	// StageAlreadyConfirmed: the booking was confirmed before.
	StageAlreadyConfirmed = "already_confirmed"
	// StageSkipped: the stage has no active hold (released, declined, expired,
	// cancelled or completed), so there is nothing to confirm.
	StageSkipped = "skipped"
)

// StageConfirmation is what confirming a plan did to one stage.
type StageConfirmation struct {
	StageID   string     `json:"stage_id"`
	Name      string     `json:"name"`
	BookingID *uuid.UUID `json:"booking_id,omitempty"`
	Outcome   string     `json:"outcome"`
	// Status is the booking's status afterwards.
	Status            Status     `json:"status,omitempty"`
	ChallengeDeadline *time.Time `json:"challenge_deadline,omitempty"`
}

// PlanConfirmation is the plan after ConfirmPlan, and what happened to each stage.
type PlanConfirmation struct {
	Plan   Plan                `json:"plan"`
	Stages []StageConfirmation `json:"stages"`
}

// HoldMove is one hold a what-if re-plan would move.
type HoldMove struct {
	BookingID    uuid.UUID `json:"booking_id"`
	ProductionID uuid.UUID `json:"production_id"`
	Production   string    `json:"production"`
	FromStart    time.Time `json:"from_start"`
	FromEnd      time.Time `json:"from_end"`
	ToStart      time.Time `json:"to_start"`
	ToEnd        time.Time `json:"to_end"`
	ToStartLocal string    `json:"to_start_local"`
	ToEndLocal   string    `json:"to_end_local"`
	Version      int       `json:"version"`
}

// Replan is a manager's what-if: the site's pending holds in a window repacked on
// their own resources as early as capacity allows, applied only on approval.
type Replan struct {
	ID     uuid.UUID  `json:"id"`
	SiteID uuid.UUID  `json:"site_id"`
	Status string     `json:"status"` // proposed, applied, discarded
	From   time.Time  `json:"from"`
	To     time.Time  `json:"to"`
	Holds  int        `json:"holds"`
	Moves  []HoldMove `json:"moves"`
	// HoursEarlier is the sum over the moved holds of how much earlier they end.
	HoursEarlier float64 `json:"hours_earlier"`
	// Reason is the manager's, when given: the producers whose holds move are told it.
	Reason    string     `json:"reason,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	AppliedAt *time.Time `json:"applied_at,omitempty"`
}

// Replans are managers' what-if re-plans of pending holds.
type Replans interface {
	// ProposeReplan repacks the site's holds in [from, to) and stores the proposal
	// with the manager's reason (optional, told to the producers whose holds move);
	// managers of the site and admins only.
	ProposeReplan(ctx context.Context, a Actor, siteID uuid.UUID, from, to time.Time, reason string) (Replan, error)
	// ApplyReplan moves every hold of a proposal in one transaction; ECONFLICT (and
	// nothing moved) when a hold changed since.
	ApplyReplan(ctx context.Context, a Actor, id uuid.UUID) (Replan, error)
}
