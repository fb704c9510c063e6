package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/money"
	"github.com/posthub/posthub/internal/planner"
)

var _ booking.Plans = (*DB)(nil)

// Planning limits: how many stages one request may hold, how much search one plan
// may spend, and how far ahead it looks for capacity.
const (
	maxPlanStages     = 40
	planSchedules     = 5000
	planWallTime      = 3 * time.Second
	planHorizon       = 400 * 24 * time.Hour
	planDeadlineSlack = 180 * 24 * time.Hour
)

// planRequest is a request as stored with its plan, so it can be planned again.
type planRequest struct {
	ProductionID  uuid.UUID            `json:"production_id"`
	SiteID        uuid.UUID            `json:"site_id"`
	SiteIDs       []uuid.UUID          `json:"site_ids,omitempty"`
	StageSites    map[string]uuid.UUID `json:"stage_sites,omitempty"`
	Currency      string               `json:"currency,omitempty"`
	Template      string               `json:"template,omitempty"`
	Stages        []booking.StageSpec  `json:"stages"`
	EarliestStart time.Time            `json:"earliest_start"`
	Deadline      time.Time            `json:"deadline"`
	Seed          uint64               `json:"seed"`
}

// sites are the sites a request may use, in order of preference: site_ids, or the
// one site of a request stored before plans had several.
func (r planRequest) sites() []uuid.UUID {
	if len(r.SiteIDs) > 0 {
		return r.SiteIDs
	}
	return []uuid.UUID{r.SiteID}
}

// maxPlanSites bounds the sites one plan may use.
const maxPlanSites = 8

// planSites checks a request's sites: site_ids (or site_id alone), each known and
// named once, and the stages pinned to one of them. Unknown sites and pins are
// EINVALID, so nothing is planned or stored.
func (db *DB) planSites(ctx context.Context, r booking.PlanRequest) ([]uuid.UUID, error) {
	ids := r.SiteIDs
	if len(ids) == 0 {
		ids = []uuid.UUID{r.SiteID}
	}
	if len(ids) > maxPlanSites {
		return nil, &booking.Error{Code: booking.EINVALID, Message: fmt.Sprintf("A plan may use at most %d sites.", maxPlanSites), Details: map[string]any{"field": "site_ids"}}
	}
	if r.SiteID != uuid.Nil && !slices.Contains(ids, r.SiteID) {
		return nil, &booking.Error{Code: booking.EINVALID, Message: "site_id must be one of site_ids.", Details: map[string]any{"field": "site_id"}}
	}
	var known []uuid.UUID
	if err := db.Pool.QueryRow(ctx, `SELECT coalesce(array_agg(id), '{}') FROM sites WHERE id = ANY($1)`, ids).Scan(&known); err != nil {
		return nil, formatError(err)
	}
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		if seen[id] {
			return nil, &booking.Error{Code: booking.EINVALID, Message: "site_ids names a site twice.", Details: map[string]any{"field": "site_ids", "site_id": id}}
		}
		seen[id] = true
		if !slices.Contains(known, id) {
			return nil, &booking.Error{Code: booking.EINVALID, Message: "No such site: " + id.String() + ".", Details: map[string]any{"field": "site_ids", "site_id": id}}
		}
	}
	for stage, site := range r.StageSites {
		if !seen[site] {
			return nil, &booking.Error{Code: booking.EINVALID, Message: "stage_sites must pin each stage to one of the plan's sites.",
				Details: map[string]any{"field": "stage_sites", "stage": stage, "site_id": site}}
		}
	}
	return ids, nil
}

// resolveStages turns a request into the stages to plan: the template expanded for the
// production's runtime, or derived from its deliverables when it has any
// (booking.PipelineStages), or the producer's own stages; with the preferences added
// to the matching demands.
func resolveStages(r booking.PlanRequest, runtime int, deliverables booking.Deliverables) ([]booking.StageSpec, error) {
	stages := r.Stages
	if len(stages) == 0 {
		if r.Template == "" {
			return nil, &booking.Error{Code: booking.EINVALID, Message: "Give a template or stages.", Details: map[string]any{"field": "template"}}
		}
		var err error
		if stages, err = booking.PipelineStages(r.Template, runtime, deliverables, r.Skip); err != nil {
			return nil, err
		}
	}
	if len(stages) > maxPlanStages {
		return nil, &booking.Error{Code: booking.EINVALID, Message: fmt.Sprintf("A plan may have at most %d stages.", maxPlanStages), Details: map[string]any{"field": "stages"}}
	}
	out := make([]booking.StageSpec, len(stages))
	for i, s := range stages {
		if s.ID == "" || s.Hours <= 0 || s.Hours > 2000 || len(s.Demands) == 0 {
			return nil, &booking.Error{Code: booking.EINVALID, Message: "Each stage needs an id, 0 to 2000 hours and at least one demand.",
				Details: map[string]any{"field": "stages", "stage": s.ID}}
		}
		s.Demands = append([]booking.Demand(nil), s.Demands...)
		for j, d := range s.Demands {
			caps := append([]string(nil), d.Capabilities...)
			for _, c := range r.Preferences[d.Kind] {
				if !slices.Contains(caps, c) {
					caps = append(caps, c)
				}
			}
			s.Demands[j].Capabilities = caps
		}
		out[i] = s
	}
	return out, nil
}

func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

// ProposePlan plans a production's post-production against current capacity.
func (db *DB) ProposePlan(ctx context.Context, a booking.Actor, r booking.PlanRequest) (booking.Plan, error) {
	prod, err := db.planProduction(ctx, a, r.ProductionID)
	if err != nil {
		return booking.Plan{}, err
	}
	stages, err := resolveStages(r, prod.RuntimeMinutes, prod.Deliverables)
	if err != nil {
		return booking.Plan{}, err
	}
	sites, err := db.planSites(ctx, r)
	if err != nil {
		return booking.Plan{}, err
	}
	for stage := range r.StageSites {
		if !slices.ContainsFunc(stages, func(s booking.StageSpec) bool { return s.ID == stage }) {
			return booking.Plan{}, &booking.Error{Code: booking.EINVALID, Message: "stage_sites names a stage the plan does not have.",
				Details: map[string]any{"field": "stage_sites", "stage": stage}}
		}
	}
	if r.Currency != "" && !money.ValidCurrency(r.Currency) {
		return booking.Plan{}, &booking.Error{Code: booking.EINVALID, Message: "currency must be an ISO 4217 code the hub knows.", Details: map[string]any{"field": "currency"}}
	}
	now := db.now()
	if r.EarliestStart.IsZero() || r.EarliestStart.Before(now) {
		r.EarliestStart = now
	}
	if !r.Deadline.IsZero() && !r.Deadline.After(r.EarliestStart) {
		return booking.Plan{}, &booking.Error{Code: booking.EUNPROCESSABLE, Message: "deadline must be after the earliest start.", Details: map[string]any{"field": "deadline"}}
	}
	req := planRequest{ProductionID: r.ProductionID, SiteID: sites[0], Template: r.Template, Stages: stages,
		EarliestStart: r.EarliestStart.UTC(), Deadline: r.Deadline.UTC(), Seed: r.Seed, StageSites: r.StageSites, Currency: r.Currency}
	if len(r.SiteIDs) > 0 {
		req.SiteIDs = sites
	}
	p, err := db.plan(ctx, req)
	if err != nil {
		return p, err
	}
	return p, db.storePlan(ctx, a, req, &p, nil)
}

// planSite is a site a plan may use, with its calendar.
type planSite struct {
	booking.Site
	cal *calendar.Calendar
}

// planResource is a resource a plan may use.
type planResource struct {
	ID       uuid.UUID
	SiteID   uuid.UUID
	Name     string
	Kind     string
	Caps     []string
	Rate     int64
	RateUnit string
}

// chooseSites says where each stage runs: the site it is pinned to, else, among the
// request's sites whose resources can serve its demands, the site of a predecessor
// (the material is there), else the first in the request's order. A stage no site
// can serve goes to the first site, where the engine reports what is missing.
func chooseSites(stages []booking.StageSpec, sites []planSite, resources []planResource, pins map[string]uuid.UUID) []int {
	can := func(s int, spec booking.StageSpec) bool {
		for _, d := range spec.Demands {
			n := 0
			for _, r := range resources {
				if r.SiteID == sites[s].ID && r.Kind == d.Kind && !slices.ContainsFunc(d.Capabilities, func(c string) bool { return !slices.Contains(r.Caps, c) }) {
					n++
				}
			}
			if n == 0 {
				return false
			}
		}
		return true
	}
	at := map[string]int{}
	out := make([]int, len(stages))
	for i, spec := range stages {
		out[i] = -1
		if pin, ok := pins[spec.ID]; ok {
			out[i] = slices.IndexFunc(sites, func(s planSite) bool { return s.ID == pin })
		}
		for _, l := range spec.After {
			if k, ok := at[l.From]; out[i] < 0 && ok && can(k, spec) {
				out[i] = k
			}
		}
		for k := range sites {
			if out[i] < 0 && can(k, spec) {
				out[i] = k
			}
		}
		out[i] = max(out[i], 0)
		at[spec.ID] = out[i]
	}
	return out
}

// plan runs the engine on a request against its sites' calendars and occupancy,
// prices each stage at its site and totals the plan at locked exchange rates.
func (db *DB) plan(ctx context.Context, req planRequest) (booking.Plan, error) {
	var sites []planSite
	for _, id := range req.sites() {
		site, err := scanSite(db.Pool.QueryRow(ctx, `SELECT `+siteColumns+` FROM sites WHERE id = $1`, id))
		if err != nil {
			return booking.Plan{}, notFound(err, "site")
		}
		_, cal, err := db.siteCalendar(ctx, db.Pool, id)
		if err != nil {
			return booking.Plan{}, err
		}
		sites = append(sites, planSite{Site: site, cal: cal})
	}
	siteIDs := make([]uuid.UUID, len(sites))
	for i, s := range sites {
		siteIDs[i] = s.ID
	}
	kinds := map[string]bool{}
	for _, s := range req.Stages {
		for _, d := range s.Demands {
			kinds[d.Kind] = true
		}
	}
	kindList := make([]string, 0, len(kinds))
	for k := range kinds {
		kindList = append(kindList, k)
	}
	rows, _ := db.Pool.Query(ctx, `SELECT r.id, r.site_id, r.name, r.kind, r.capabilities, r.rate_minor, r.rate_unit FROM resources r
		WHERE r.site_id = ANY($1) AND r.active AND r.kind = ANY($2) ORDER BY array_position($1, r.site_id), r.kind, r.name, r.id`, siteIDs, kindList)
	resources, err := pgx.CollectRows(rows, pgx.RowToStructByPos[planResource])
	if err != nil {
		return booking.Plan{}, formatError(err)
	}
	horizon := req.EarliestStart.Add(planHorizon)
	if !req.Deadline.IsZero() && req.Deadline.Add(planDeadlineSlack).After(horizon) {
		horizon = req.Deadline.Add(planDeadlineSlack)
	}
	ids := make([]uuid.UUID, len(resources))
	for i, r := range resources {
		ids[i] = r.ID
	}
	// Bookings are in a stage's way; leave and maintenance are pauses it may
	// span (the hold then sells its resources' working time less them), as long
	// as it neither starts nor ends in one, which is what checkFree allows.
	busy, err := db.planBusy(ctx, ids, req.EarliestStart, horizon)
	if err != nil {
		return booking.Plan{}, err
	}
	blocks, err := resourceBlocks(ctx, db.Pool, ids, req.EarliestStart, horizon)
	if err != nil {
		return booking.Plan{}, formatError(err)
	}
	// Each stage at its site: that site's resources and calendar, and the transfer
	// time (site_transfers.json) on every link between two sites.
	stageSite := chooseSites(req.Stages, sites, resources, req.StageSites)
	prob := planner.Problem{Calendar: sites[0].cal, Release: req.EarliestStart, Deadline: req.Deadline,
		Options: calendar.Options{AvoidProvisional: true}, Sites: map[string]*calendar.Calendar{}, Transfers: map[planner.SitePair]time.Duration{}}
	for _, a := range sites {
		prob.Sites[a.ID.String()] = a.cal
		for _, b := range sites {
			if a.ID != b.ID {
				prob.Transfers[planner.SitePair{From: a.ID.String(), To: b.ID.String()}] = booking.TransferBetween(a.Slug, b.Slug).Duration()
			}
		}
	}
	byID := map[string]planResource{}
	for _, r := range resources {
		rate := r.Rate
		if r.RateUnit == "day" {
			rate = r.Rate / 8 // a day rate covers an eight-hour working day
		}
		prob.Resources = append(prob.Resources, planner.Resource{ID: r.ID.String(), Kind: r.Kind, Capabilities: r.Caps,
			RateMinor: rate, Busy: busy[r.ID], Pauses: blocks[r.ID], Site: r.SiteID.String()})
		byID[r.ID.String()] = r
	}
	for i, s := range req.Stages {
		st := planner.Stage{ID: s.ID, Name: s.Name, Duration: hours(s.Hours), Site: sites[stageSite[i]].ID.String()}
		for _, d := range s.Demands {
			st.Demands = append(st.Demands, planner.Demand{Kind: d.Kind, Capabilities: d.Capabilities})
		}
		for _, l := range s.After {
			st.Predecessors = append(st.Predecessors, planner.Link{From: l.From, MinLag: hours(l.MinLagHours), MaxLag: hours(l.MaxLagHours)})
		}
		prob.Stages = append(prob.Stages, st)
	}
	solved, err := planner.Solve(ctx, prob, planner.Options{Seed: req.Seed, Budget: planner.Budget{Schedules: planSchedules, WallTime: planWallTime}})
	if err != nil {
		if errors.Is(err, planner.ErrInvalidProblem) {
			return booking.Plan{}, &booking.Error{Code: booking.EUNPROCESSABLE, Message: err.Error(), Details: map[string]any{"field": "stages"}}
		}
		return booking.Plan{}, err
	}
	currency := req.Currency
	if currency == "" {
		currency = sites[0].Currency
	}
	home := sites[0]
	out := booking.Plan{ProductionID: req.ProductionID, SiteID: home.ID, SiteIDs: siteIDs, Status: "proposed", Template: req.Template,
		TimeZone: home.TimeZone, EarliestStart: req.EarliestStart, Placed: solved.Feasible, Unmet: solved.Unmet,
		Currency: currency, Schedules: solved.Schedules, Stages: []booking.PlannedStage{}, Totals: []booking.PlanTotal{}, Rates: []booking.PlanRate{}}
	if !req.Deadline.IsZero() {
		d := req.Deadline
		out.Deadline = &d
	}
	for i, s := range req.Stages {
		for _, l := range s.After {
			from := slices.IndexFunc(req.Stages, func(x booking.StageSpec) bool { return x.ID == l.From })
			if from < 0 || stageSite[from] == stageSite[i] {
				continue
			}
			a, b := sites[stageSite[from]], sites[stageSite[i]]
			t := booking.TransferBetween(a.Slug, b.Slug)
			out.Transfers = append(out.Transfers, booking.PlanTransfer{FromStage: l.From, ToStage: s.ID, FromSite: a.ID, ToSite: b.ID,
				Hours: t.Hours, Kind: t.Kind, Basis: t.Basis})
		}
	}
	// The quote prices each stage's resources over the interval its hold will have, by
	// the one pricing every booking's quote uses, at the stage's site: a plan costs what
	// its holds will.
	type siteItems struct {
		items []booking.QuoteItem
		stage []int
	}
	bySite := make([]siteItems, len(sites))
	for i, as := range solved.Assignments {
		spec, site := req.Stages[i], sites[stageSite[i]]
		loc := site.cal.Location
		ps := booking.PlannedStage{ID: spec.ID, Name: spec.Name, Hours: spec.Hours, SiteID: site.ID, TimeZone: site.TimeZone, Currency: site.Currency,
			Start: as.Start.UTC(), End: as.End.UTC(), StartLocal: localString(loc, as.Start), EndLocal: localString(loc, as.End),
			Demands: spec.Demands, After: spec.After}
		for _, rid := range as.ResourceIDs {
			r := byID[rid]
			ps.Resources = append(ps.Resources, booking.PlanResource{ID: r.ID, Name: r.Name, Kind: r.Kind})
			si := &bySite[stageSite[i]]
			si.items = append(si.items, booking.QuoteItem{ResourceID: r.ID, Start: as.Start, End: as.End})
			si.stage = append(si.stage, i)
		}
		out.Stages = append(out.Stages, ps)
	}
	now := db.now()
	for k, si := range bySite {
		if len(si.items) == 0 {
			continue
		}
		q, err := db.PriceItems(ctx, sites[k].ID, si.items, now)
		if err != nil {
			return booking.Plan{}, err
		}
		if len(q.Lines) != len(si.items) { // no item is overtime: one line each
			return booking.Plan{}, fmt.Errorf("plan quote: %d lines for %d items", len(q.Lines), len(si.items))
		}
		for j, line := range q.Lines {
			out.Stages[si.stage[j]].CostMinor += line.AmountMinor
		}
		if len(sites) == 1 {
			out.Quote = &q
		}
	}
	if err := db.totalPlan(ctx, &out, now); err != nil {
		return booking.Plan{}, err
	}
	if solved.Feasible {
		// The plan's finish reads in the zone of the site of the stage that ends last.
		last := home
		for i, as := range solved.Assignments {
			if as.End.Equal(solved.Finish) {
				last = sites[stageSite[i]]
			}
		}
		out.Finish = solved.Finish.UTC()
		out.FinishLocal = localString(last.cal.Location, solved.Finish)
		out.Feasible = true
		if !req.Deadline.IsZero() {
			out.Feasible = !solved.Finish.After(req.Deadline)
			setSlack(&out, last.cal, solved.Finish, req.Deadline)
		}
	}
	return out, nil
}

// totalPlan sums the stages' costs per currency, in the order the stages first use
// them, and converts each sum into the plan's currency at the exchange rates in force
// at (locked: stored with the plan). QuoteMinor is the sum of the converted sums, so
// the figures add up exactly. A currency with no rate to the plan's is EUNPROCESSABLE.
func (db *DB) totalPlan(ctx context.Context, p *booking.Plan, at time.Time) error {
	idx := map[string]int{}
	for _, s := range p.Stages {
		k, ok := idx[s.Currency]
		if !ok {
			k = len(p.Totals)
			idx[s.Currency] = k
			p.Totals = append(p.Totals, booking.PlanTotal{Currency: s.Currency})
		}
		t := &p.Totals[k]
		t.Stages++
		var err error
		if t.TotalMinor, err = money.Add(t.TotalMinor, s.CostMinor); err != nil {
			return &booking.Error{Code: booking.EUNPROCESSABLE, Message: "The amount is too large to quote.", Err: err}
		}
	}
	var rates []booking.ExchangeRate
	if len(p.Totals) > 1 || (len(p.Totals) == 1 && p.Totals[0].Currency != p.Currency) {
		var err error
		if rates, err = exchangeRates(ctx, db.Pool); err != nil {
			return formatError(err)
		}
	}
	p.QuoteMinor = 0
	for i := range p.Totals {
		t := &p.Totals[i]
		t.Total = money.Format(t.TotalMinor, t.Currency)
		t.ConvertedMinor = t.TotalMinor
		if t.Currency != p.Currency {
			c, ok, err := booking.ConvertAmount(rates, t.TotalMinor, t.Currency, p.Currency, at)
			if err != nil {
				return &booking.Error{Code: booking.EUNPROCESSABLE, Message: "The amount is too large to convert.", Err: err}
			}
			if !ok {
				return &booking.Error{Code: booking.EUNPROCESSABLE, Message: fmt.Sprintf("No exchange rate from %s to %s is in force: an administrator enters one before this plan can be totalled.", t.Currency, p.Currency),
					Details: map[string]any{"field": "currency", "from": t.Currency, "to": p.Currency}}
			}
			t.ConvertedMinor = c.TotalMinor
			r := booking.PlanRate{From: t.Currency, To: p.Currency, Rate: c.Rate, RatesAt: at.UTC(), Legs: c.Legs}
			for _, l := range c.Legs {
				if l.EffectiveAt.After(r.EffectiveAt) {
					r.EffectiveAt = l.EffectiveAt
				}
			}
			p.Rates = append(p.Rates, r)
		}
		t.Converted = money.Format(t.ConvertedMinor, p.Currency)
		var err error
		if p.QuoteMinor, err = money.Add(p.QuoteMinor, t.ConvertedMinor); err != nil {
			return &booking.Error{Code: booking.EUNPROCESSABLE, Message: "The amount is too large to quote.", Err: err}
		}
	}
	return nil
}

// setSlack gives a placed plan's margin to its deadline in clock hours, the site's
// working hours (counted as the planner counts them, provisional holidays closed) and
// calendar days, and when it misses the deadline, by how much in each.
func setSlack(p *booking.Plan, cal *calendar.Calendar, finish, deadline time.Time) {
	opts := calendar.Options{AvoidProvisional: true}
	clock := deadline.Sub(finish)
	working := cal.WorkingHoursBetween(finish, deadline, opts)
	if clock < 0 {
		working = -cal.WorkingHoursBetween(deadline, finish, opts)
	}
	round := func(v float64) float64 { return math.Round(v*100) / 100 }
	slack, slackWorking, slackDays := clock.Hours(), working.Hours(), round(clock.Hours()/24)
	p.SlackHours, p.SlackWorkingHours, p.SlackDays = &slack, &slackWorking, &slackDays
	if clock < 0 {
		p.MissesByHours, p.MissesByWorkingHours, p.MissesByDays = -slack, -slackWorking, -slackDays
	}
}

// storePlan saves a proposal (superseding replaces, when given) and audits it.
func (db *DB) storePlan(ctx context.Context, a booking.Actor, req planRequest, p *booking.Plan, replaces *uuid.UUID) error {
	now := db.now()
	p.CreatedAt = now
	p.ReplacesID = replaces
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var creator *uuid.UUID
		if a.UserID != uuid.Nil {
			creator = &a.UserID
		}
		p.ID = uuid.New()
		if _, err := tx.Exec(ctx, `INSERT INTO plans (id, production_id, site_id, status, request, plan, replaces_id, created_by, created_at)
			VALUES ($1, $2, $3, 'proposed', $4, $5, $6, $7, $8)`, p.ID, p.ProductionID, p.SiteID, req, p, replaces, creator, now); err != nil {
			return err
		}
		if replaces != nil {
			if _, err := tx.Exec(ctx, `UPDATE plans SET status = 'superseded' WHERE id = $1 AND status = 'proposed'`, *replaces); err != nil {
				return err
			}
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "plan.proposed", ObjectType: "plan", ObjectID: p.ID.String(),
			After: map[string]any{"production_id": p.ProductionID, "placed": p.Placed, "feasible": p.Feasible, "finish": p.Finish, "quote_minor": p.QuoteMinor}})
	})
}

// loadPlan reads a stored plan the actor may see.
func (db *DB) loadPlan(ctx context.Context, q querier, a booking.Actor, id uuid.UUID) (booking.Plan, planRequest, error) {
	var p booking.Plan
	var req planRequest
	var org uuid.UUID
	var status string
	var accepted *time.Time
	err := q.QueryRow(ctx, `SELECT pl.plan, pl.request, pl.status, pl.accepted_at, pr.organisation_id
		FROM plans pl JOIN productions pr ON pr.id = pl.production_id WHERE pl.id = $1`, id).Scan(&p, &req, &status, &accepted, &org)
	if err == pgx.ErrNoRows || (err == nil && !a.SeesAllProductions() && org != a.OrganisationID) {
		return p, req, booking.Errorf(booking.ENOTFOUND, "No such plan.")
	}
	if err != nil {
		return p, req, formatError(err)
	}
	p.ID, p.Status, p.AcceptedAt = id, status, accepted
	normalizePlan(&p)
	if status == "accepted" {
		if err := livePlan(ctx, q, &p); err != nil {
			return p, req, err
		}
	}
	return p, req, nil
}

// normalizePlan reads a plan stored before its fields existed as it would be made
// now: placed when it was feasible; one site's, with each stage there and one total.
func normalizePlan(p *booking.Plan) {
	if p.Feasible {
		p.Placed = true // stored before placed was told apart: feasible meant placed
	}
	if len(p.SiteIDs) == 0 {
		p.SiteIDs = []uuid.UUID{p.SiteID}
	}
	for i := range p.Stages {
		s := &p.Stages[i]
		if s.SiteID == uuid.Nil {
			s.SiteID, s.TimeZone, s.Currency = p.SiteID, p.TimeZone, p.Currency
		}
	}
	if p.Totals == nil {
		p.Totals = []booking.PlanTotal{}
		if len(p.Stages) > 0 {
			p.Totals = append(p.Totals, booking.PlanTotal{Currency: p.Currency, Stages: len(p.Stages), TotalMinor: p.QuoteMinor,
				Total: money.Format(p.QuoteMinor, p.Currency), ConvertedMinor: p.QuoteMinor, Converted: money.Format(p.QuoteMinor, p.Currency)})
		}
	}
	if p.Rates == nil {
		p.Rates = []booking.PlanRate{}
	}
}

// livePlan shows an accepted plan as it stands: each stage where its booking is now,
// with the booking's status, and where the plan had put it if it has moved since.
func livePlan(ctx context.Context, q querier, p *booking.Plan) error {
	var ids []uuid.UUID
	for _, s := range p.Stages {
		if s.BookingID != nil {
			ids = append(ids, *s.BookingID)
		}
	}
	type live struct {
		Status     string
		Start, End time.Time
	}
	now := map[uuid.UUID]live{}
	rows, _ := q.Query(ctx, `SELECT id, status, start_at, end_at FROM booking_groups WHERE id = ANY($1)`, ids)
	var id uuid.UUID
	var l live
	if _, err := pgx.ForEachRow(rows, []any{&id, &l.Status, &l.Start, &l.End}, func() error { now[id] = l; return nil }); err != nil {
		return formatError(err)
	}
	loc, err := calendar.LoadLocation(p.TimeZone)
	if err != nil {
		return err
	}
	for i := range p.Stages {
		s := &p.Stages[i]
		if s.BookingID == nil {
			continue
		}
		loc := loc
		if s.TimeZone != "" && s.TimeZone != p.TimeZone {
			if loc, err = calendar.LoadLocation(s.TimeZone); err != nil {
				return err
			}
		}
		l, ok := now[*s.BookingID]
		if !ok {
			continue
		}
		s.BookingStatus = l.Status
		if !l.Start.Equal(s.Start) || !l.End.Equal(s.End) {
			s.Changed = &booking.PlanStageChange{PreviousStart: s.Start, PreviousEnd: s.End}
			s.Start, s.End = l.Start.UTC(), l.End.UTC()
			s.StartLocal, s.EndLocal = localString(loc, l.Start), localString(loc, l.End)
		}
	}
	return nil
}

// FindPlan returns ENOTFOUND for a plan the actor may not see.
func (db *DB) FindPlan(ctx context.Context, a booking.Actor, id uuid.UUID) (booking.Plan, error) {
	p, _, err := db.loadPlan(ctx, db.Pool, a, id)
	return p, err
}

// AcceptPlan places a hold for every stage of a proposed plan, all or nothing. When
// capacity has moved since the proposal, it plans again, stores the new proposal and
// answers ECONFLICT with it and the stages that changed.
func (db *DB) AcceptPlan(ctx context.Context, a booking.Actor, id uuid.UUID) (booking.Plan, []booking.Booking, error) {
	p, req, err := db.loadPlan(ctx, db.Pool, a, id)
	if err != nil {
		return p, nil, err
	}
	if p.Status != "proposed" {
		return p, nil, &booking.Error{Code: booking.ECONFLICT, Message: "This plan is " + p.Status + "; only a proposed plan can be accepted.",
			Details: map[string]any{"status": p.Status}}
	}
	if !p.Placed {
		return p, nil, &booking.Error{Code: booking.EUNPROCESSABLE, Message: "This plan could not place every stage.", Details: map[string]any{"unmet": p.Unmet}}
	}
	var holds []booking.Booking
	err = db.inTxRetry(ctx, func(ctx context.Context, tx pgx.Tx) error {
		holds = holds[:0]
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM plans WHERE id = $1 FOR UPDATE`, id).Scan(&status); err != nil {
			return err
		}
		if status != "proposed" {
			return &booking.Error{Code: booking.ECONFLICT, Message: "This plan is " + status + "; only a proposed plan can be accepted.", Details: map[string]any{"status": status}}
		}
		// A re-plan of an accepted plan's remaining stages releases that plan's holds
		// first, in this transaction (plan_remaining.go).
		if err := db.takeOverReplaced(ctx, tx, a, id); err != nil {
			return err
		}
		for i, s := range p.Stages {
			if s.BookingID != nil {
				continue // a stage kept from the plan this one replaces
			}
			ids := make([]uuid.UUID, len(s.Resources))
			for j, r := range s.Resources {
				ids[j] = r.ID
			}
			b, err := db.bookTx(ctx, tx, a, booking.BookingInput{ProductionID: p.ProductionID, ResourceIDs: ids, Start: s.Start, End: s.End,
				Status: booking.StatusHold, Note: "Plan " + id.String()[:8] + ": " + s.Name})
			if err != nil {
				return err
			}
			bid := b.ID
			p.Stages[i].BookingID = &bid
			holds = append(holds, b)
		}
		now := db.now()
		p.Status, p.AcceptedAt = "accepted", &now
		if _, err := tx.Exec(ctx, `UPDATE plans SET status = 'accepted', accepted_at = $2, plan = $3 WHERE id = $1`, id, now, p); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "plan.accepted", ObjectType: "plan", ObjectID: id.String(),
			After: map[string]any{"bookings": len(holds)}})
	})
	if booking.ErrorCode(err) == booking.ECONFLICT {
		// Capacity moved: plan again from the same request and say what changed.
		var st string
		if qerr := db.Pool.QueryRow(ctx, `SELECT status FROM plans WHERE id = $1`, id).Scan(&st); qerr == nil && st != "proposed" {
			return p, nil, err
		}
		if handled, rerr := db.remainingConflict(ctx, a, id, err); handled {
			return p, nil, rerr
		}
		again, perr := db.plan(ctx, req)
		if perr != nil {
			return p, nil, perr
		}
		markChanges(p, &again)
		if serr := db.storePlan(ctx, a, req, &again, &id); serr != nil {
			return p, nil, serr
		}
		return p, nil, &booking.Error{Code: booking.ECONFLICT, Message: "Capacity changed since this plan was made; here is a new plan.",
			Details: map[string]any{"replanned": again}}
	}
	if err != nil {
		return p, nil, err
	}
	return p, holds, nil
}

// markChanges notes on each stage of the new plan how it differs from the old one.
func markChanges(old booking.Plan, again *booking.Plan) {
	prev := map[string]booking.PlannedStage{}
	for _, s := range old.Stages {
		prev[s.ID] = s
	}
	for i, s := range again.Stages {
		o, ok := prev[s.ID]
		if !ok {
			continue
		}
		sameRes := len(o.Resources) == len(s.Resources)
		for j := range s.Resources {
			if sameRes && o.Resources[j].ID != s.Resources[j].ID {
				sameRes = false
			}
		}
		if !o.Start.Equal(s.Start) || !o.End.Equal(s.End) || !sameRes {
			again.Stages[i].Changed = &booking.PlanStageChange{PreviousStart: o.Start, PreviousEnd: o.End, Resources: !sameRes}
		}
	}
}

// ListPlans lists the plans the actor may see, newest first: a producer's
// organisation's only. Accepted plans read live, as FindPlan gives them.
func (db *DB) ListPlans(ctx context.Context, a booking.Actor, f booking.PlanFilter) ([]booking.Plan, error) {
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 100
	}
	rows, _ := db.Pool.Query(ctx, `SELECT pl.id, pl.plan, pl.status, pl.accepted_at
		FROM plans pl JOIN productions pr ON pr.id = pl.production_id
		WHERE ($1::uuid IS NULL OR pr.organisation_id = $1) AND ($2::uuid IS NULL OR pl.production_id = $2)
		ORDER BY pl.created_at DESC, pl.id LIMIT $3`, confinedTo(a), f.ProductionID, limit)
	plans, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Plan, error) {
		var p booking.Plan
		var id uuid.UUID
		var status string
		var accepted *time.Time
		if err := r.Scan(&id, &p, &status, &accepted); err != nil {
			return p, err
		}
		p.ID, p.Status, p.AcceptedAt = id, status, accepted
		normalizePlan(&p)
		return p, nil
	})
	if err != nil {
		return nil, formatError(err)
	}
	for i := range plans {
		if plans[i].Status == "accepted" {
			if err := livePlan(ctx, db.Pool, &plans[i]); err != nil {
				return nil, err
			}
		}
	}
	if plans == nil {
		plans = []booking.Plan{}
	}
	return plans, nil
}

// PlanOfBooking finds the accepted plan that placed a booking, and the stage.
func (db *DB) PlanOfBooking(ctx context.Context, a booking.Actor, bookingID uuid.UUID) (booking.Plan, string, error) {
	var id uuid.UUID
	err := db.Pool.QueryRow(ctx, `SELECT id FROM plans WHERE status = 'accepted'
		AND plan->'stages' @> jsonb_build_array(jsonb_build_object('booking_id', $1::text))
		ORDER BY accepted_at DESC LIMIT 1`, bookingID.String()).Scan(&id)
	if err != nil {
		return booking.Plan{}, "", notFound(err, "plan")
	}
	p, err := db.FindPlan(ctx, a, id)
	if err != nil {
		return p, "", err
	}
	for _, s := range p.Stages {
		if s.BookingID != nil && *s.BookingID == bookingID {
			return p, s.ID, nil
		}
	}
	return booking.Plan{}, "", booking.Errorf(booking.ENOTFOUND, "No such plan.")
}

// ConfirmPlan confirms every stage's hold of an accepted plan in one transaction, by
// the confirm action each hold would take alone (db.confirm: a challenge when holds are
// ahead, an approval request where the site wants one, else the confirmation), each
// audited and notified as such. All or nothing: the first stage that cannot be
// confirmed undoes the others, and its error names the stage.
func (db *DB) ConfirmPlan(ctx context.Context, a booking.Actor, id uuid.UUID) (booking.PlanConfirmation, error) {
	var out booking.PlanConfirmation
	err := db.inTxRetry(ctx, func(ctx context.Context, tx pgx.Tx) error {
		p, _, err := db.loadPlan(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if p.Status != "accepted" {
			return &booking.Error{Code: booking.ECONFLICT, Message: "This plan is " + p.Status + "; only an accepted plan's holds can be confirmed.",
				Details: map[string]any{"status": p.Status}}
		}
		out = booking.PlanConfirmation{Stages: make([]booking.StageConfirmation, 0, len(p.Stages))}
		confirmed := 0
		for _, s := range p.Stages {
			sc := booking.StageConfirmation{StageID: s.ID, Name: s.Name, BookingID: s.BookingID, Outcome: booking.StageSkipped}
			if s.BookingID == nil {
				out.Stages = append(out.Stages, sc)
				continue
			}
			b, acted, err := db.confirmStage(ctx, tx, a, *s.BookingID)
			if err != nil {
				return stageError(err, s.ID)
			}
			sc.Status = b.Status
			switch {
			case !acted && b.Status == booking.StatusConfirmed:
				sc.Outcome = booking.StageAlreadyConfirmed
			case !acted:
				sc.Outcome = booking.StageSkipped
			case b.Status == booking.StatusConfirmed:
				sc.Outcome = booking.StageConfirmed
				confirmed++
			case b.Challenge != nil:
				sc.Outcome = booking.StageChallenge
				d := b.Challenge.Deadline
				sc.ChallengeDeadline = &d
			case b.ApprovalPending:
				sc.Outcome = booking.StageApprovalRequested
			}
			out.Stages = append(out.Stages, sc)
		}
		outcomes := map[string]string{}
		for _, sc := range out.Stages {
			outcomes[sc.StageID] = sc.Outcome
		}
		return audit(ctx, tx, a, db.now(), auditEvent{Action: "plan.confirmed", ObjectType: "plan", ObjectID: id.String(),
			After: map[string]any{"confirmed": confirmed, "stages": outcomes}})
	})
	if err != nil {
		return booking.PlanConfirmation{}, err
	}
	out.Plan, err = db.FindPlan(ctx, a, id)
	return out, err
}

// confirmStage takes the confirm action on a plan's hold inside tx, as Act does, and
// reports it acted; a booking that is no longer a hold is left as it is and returned.
func (db *DB) confirmStage(ctx context.Context, tx pgx.Tx, a booking.Actor, id uuid.UUID) (booking.Booking, bool, error) {
	g, err := db.loadGroup(ctx, tx, a, id)
	if err != nil {
		return booking.Booking{}, false, err
	}
	before, err := db.loadBooking(ctx, tx, g.ID)
	if err != nil || g.Status != booking.StatusHold {
		return before, false, err
	}
	if err := precheck(a, g, booking.ActionConfirm, booking.ActOptions{}); err != nil {
		return before, false, err
	}
	now := db.now()
	var ch change
	if err := db.confirm(ctx, tx, a, g, now, &ch); err != nil {
		return before, false, err
	}
	after, err := db.finish(ctx, tx, a, now, g.ID, "booking."+string(booking.ActionConfirm), &before, &ch)
	return after, true, err
}

// stageError names the plan stage a refusal is about (details.stage); contention and
// internal errors pass as they are.
func stageError(err error, stage string) error {
	var be *booking.Error
	if !errors.As(err, &be) || be.Code == booking.EINTERNAL || be.Code == booking.EUNAVAILABLE {
		return err
	}
	details := map[string]any{"stage": stage}
	for k, v := range be.Details {
		details[k] = v
	}
	return &booking.Error{Code: be.Code, Message: be.Message, Details: details, Err: be.Err}
}
