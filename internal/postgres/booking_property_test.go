package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/dbtest"
)

// The property test drives the booking service with long random sequences of
// operations on a few resources over a short window, so holds queue, challenge,
// supersede, expire and complete all the time, and after every operation checks the
// invariants of the data directly in the database.
//
// The seeds are fixed and logged so a failure reproduces: POSTHUB_PROPERTY_SEED=<n>
// replays one seed alone and POSTHUB_PROPERTY_OPS=<n> changes the number of operations.
// A seed fixes the test's choices; booking ids come from gen_random_uuid() and the
// service orders some of its work by id, so where that order matters a replay can take
// another turn. A failure prints the whole operation log to rebuild it by hand.

var propertySeeds = []uint64{1, 2, 3, 4, 5, 6}

const propertyOps = 250

// propertyActors are the demo users the operations act as.
var propertyActors = []string{"producer", "producer_other", "producer_casablanca", "manager", "admin"}

// The invariants. P0 and P7–P8 go beyond the booking rules proper: no fault of ours
// surfaces, ProcessDue leaves nothing due, and an entitled action on a booking in the
// right status does not fail.
const (
	propDomainErrors    = "P0 errors are domain errors"
	propConfirmedApart  = "P1 confirmed bookings never overlap"
	propRanks           = "P2 hold ranks form a queue"
	propGroups          = "P3 a group's bookings share its status, interval and hold_seq"
	propHoldsOffBooked  = "P4 no active hold overlaps a confirmed booking"
	propChallenges      = "P5 an open challenge's challenger is a hold with a hold ahead"
	propAudit           = "P6 every change is audited"
	propNothingDue      = "P7 ProcessDue leaves nothing due"
	propEntitledActions = "P8 an entitled action on a booking in the right status succeeds"
	propDeadlines       = "P9 an open challenge's deadline falls after it opened and an hour before its challenger's slot"
	propSellsWorkTime   = "P10 every active booking holds working time at its site, or is booked as overtime"
	propMoveApproval    = "P11 a producer's move of a confirmed booking where confirmations need approval leaves it in its slot, requested"
)

func TestBookingPropertiesRandomOperations(t *testing.T) {
	t.Parallel()
	seeds, ops := propertySeeds, propertyOps
	if s := os.Getenv("POSTHUB_PROPERTY_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("POSTHUB_PROPERTY_SEED=%q: %v", s, err)
		}
		seeds = []uint64{seed}
	}
	if s := os.Getenv("POSTHUB_PROPERTY_OPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("POSTHUB_PROPERTY_OPS=%q: want a positive number", s)
		}
		ops = n
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			t.Logf("seed %d, %d operations (replay: POSTHUB_PROPERTY_SEED=%d)", seed, ops, seed)
			newPropRunner(t, seed).run(ops)
		})
	}
}

// propGroup is a booking group as the database holds it.
type propGroup struct {
	ID, ProductionID  uuid.UUID
	Status            booking.Status
	Start, End        time.Time
	HoldSeq           *int64
	ApprovalRequested bool
	Version           int
	Rank              int  // worst rank over its resources; 0 unless on hold
	Challenged        bool // an open challenge targets it
	Overtime          bool
	MoveRequested     bool // a producer's move awaits a manager
}

// propRow is one resource's booking row.
type propRow struct {
	ID, GroupID, ResourceID uuid.UUID
	Status                  string
	Start, End              time.Time
	HoldSeq                 *int64
	Rank                    *int32
}

type propRunner struct {
	t       *testing.T
	f       *fixture
	seed    uint64
	rng     *rand.Rand
	base    time.Time
	site    uuid.UUID
	cal     *calendar.Calendar // the site's
	res     []uuid.UUID
	resName map[uuid.UUID]string
	owner   map[uuid.UUID]string // production → the producer whose organisation owns it
	prods   []uuid.UUID
	name    map[uuid.UUID]string // group → g1, g2, … in creation order
	groups  []propGroup          // as of the last check, in creation order
	trace   []string
	failed  map[string]int // property → first operation that broke it
	// moveViolation is a producer's move of a confirmed booking that went through
	// without a manager's approval, reported by the next check.
	moveViolation string
}

func newPropRunner(t *testing.T, seed uint64) *propRunner {
	f := newFixture(t)
	// Events are raised as usual, but nothing here reads them.
	f.db.OnEvents = func(context.Context, pgx.Tx, []booking.Event) error { return nil }
	r := &propRunner{t: t, f: f, seed: seed, rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), base: f.now,
		res: f.resources[:4], resName: map[uuid.UUID]string{}, owner: map[uuid.UUID]string{},
		name: map[uuid.UUID]string{}, failed: map[string]int{}}
	for i, id := range r.res {
		r.resName[id] = fmt.Sprintf("r%d", i)
	}
	for _, who := range propertyActors {
		if p, ok := f.prod[who]; ok {
			r.owner[p] = who
			r.prods = append(r.prods, p)
		}
	}
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT site_id FROM resources WHERE id = $1`, r.res[0]).Scan(&r.site); err != nil {
		t.Fatal(err)
	}
	r.cal = dbtest.SiteCalendar(t, f.db, r.site)
	// Short lifetimes and windows, so the clock reaches them within a run.
	pol, err := f.db.SitePolicy(f.ctx, r.site)
	if err != nil {
		t.Fatal(err)
	}
	pol.HoldLifetime = booking.Duration(time.Duration(8+r.rng.IntN(33)) * time.Hour)
	pol.ChallengeWindow = booking.Duration(time.Duration(2+r.rng.IntN(11)) * time.Hour)
	pol.ConfirmNeedsApproval = r.rng.IntN(3) == 0
	if _, err := f.db.UpdateSitePolicy(f.ctx, f.actors["manager"], pol); err != nil {
		t.Fatal(err)
	}
	r.logf("policy: hold lifetime %s, challenge window %s, confirm needs approval %v; resources %v",
		time.Duration(pol.HoldLifetime), time.Duration(pol.ChallengeWindow), pol.ConfirmNeedsApproval, r.resList(r.res))
	return r
}

func (r *propRunner) logf(format string, args ...any) {
	r.trace = append(r.trace, fmt.Sprintf(format, args...))
}

func (r *propRunner) run(ops int) {
	r.load()
	for i := 1; i <= ops; i++ {
		r.step(i)
	}
	if len(r.failed) > 0 {
		r.t.Logf("seed %d: the operations (clock T+0 = %s):\n%s", r.seed, r.base.Format(time.RFC3339), strings.Join(r.trace, "\n"))
	}
	var groups, challenges int
	if err := r.f.db.Pool.QueryRow(r.f.ctx, `SELECT (SELECT count(*) FROM booking_groups), (SELECT count(*) FROM challenges)`).Scan(&groups, &challenges); err != nil {
		r.t.Fatal(err)
	}
	r.t.Logf("seed %d: %d bookings made, %d challenges opened", r.seed, groups, challenges)
}

// violate reports the first violation of each property in a run.
func (r *propRunner) violate(op int, prop, format string, args ...any) {
	if _, seen := r.failed[prop]; seen {
		return
	}
	r.failed[prop] = op
	r.t.Errorf("seed %d, operation %d: %s: %s", r.seed, op, prop, fmt.Sprintf(format, args...))
}

// propOutcome is what an operation did and what it promises.
type propOutcome struct {
	desc string
	err  error
	// minAudit is how many audit rows success must add.
	minAudit int
	// mustSucceed, when set, says why the operation may not fail.
	mustSucceed string
	// due marks ProcessDue, which commits booking by booking: a failure may follow
	// changes it made (and audited) before.
	due bool
}

func (r *propRunner) step(op int) {
	auditBefore := r.auditCount()
	var o propOutcome
	switch n := r.rng.IntN(100); {
	case n < 35 || len(r.groups) == 0:
		o = r.opBook(booking.StatusHold)
	case n < 38:
		o = r.opBook(booking.StatusConfirmed)
	case n < 58:
		o = r.opAct(booking.ActionConfirm)
	case n < 65:
		o = r.opAct(booking.ActionRelease)
	case n < 69:
		o = r.opAct(booking.ActionDecline)
	case n < 74:
		o = r.opAct(booking.ActionCancel)
	case n < 86:
		o = r.opReschedule()
	case n < 98:
		o = r.opProcessDue()
	default:
		o = r.opTogglePolicy()
	}
	result := "ok"
	if o.err != nil {
		result = booking.ErrorCode(o.err)
	}
	r.logf("%3d  T+%-4s %s  => %s", op, r.rel(r.f.now), o.desc, result)

	if o.err != nil && booking.ErrorCode(o.err) == booking.EINTERNAL {
		r.violate(op, propDomainErrors, "%s: %v", o.desc, o.err)
	}
	if o.err != nil && o.mustSucceed != "" {
		r.violate(op, propEntitledActions, "%s failed (%s): %v", o.desc, o.mustSucceed, o.err)
	}
	auditAfter := r.auditCount()
	switch {
	case o.err == nil && auditAfter-auditBefore < int64(o.minAudit):
		r.violate(op, propAudit, "%s succeeded and should have added at least %d audit rows, added %d", o.desc, o.minAudit, auditAfter-auditBefore)
	case o.err != nil && !o.due && auditAfter != auditBefore:
		r.violate(op, propAudit, "%s failed but added %d audit rows", o.desc, auditAfter-auditBefore)
	}
	r.load()
	r.check(op)
	if o.due && o.err == nil {
		r.checkNothingDue(op)
	}
}

// Choices.

func (r *propRunner) pickActor() string { return propertyActors[r.rng.IntN(len(propertyActors))] }

// pickActorFor mostly picks someone with a say over the booking: its producer, the
// manager or the admin; sometimes anyone.
func (r *propRunner) pickActorFor(g propGroup) string {
	switch n := r.rng.IntN(10); {
	case n < 5:
		return r.owner[g.ProductionID]
	case n < 7:
		return "manager"
	case n < 8:
		return "admin"
	}
	return r.pickActor()
}

func (r *propRunner) pickResources() []uuid.UUID {
	k := 1
	switch n := r.rng.IntN(10); {
	case n >= 9:
		k = 3
	case n >= 6:
		k = 2
	}
	perm := r.rng.Perm(len(r.res))
	out := make([]uuid.UUID, k)
	for i := range out {
		out[i] = r.res[perm[i]]
	}
	return out
}

// pickInterval is whole hours within the next half day, so most bookings overlap; now
// and then it starts in the past. Four in five are moved to a working hour of one of
// the site's next three working stretches from there, so that most bookings sell
// working time; the rest may fall in closed time and be refused.
func (r *propRunner) pickInterval() (time.Time, time.Time) {
	startH := 1 + r.rng.IntN(12)
	if r.rng.IntN(10) == 0 {
		startH = -r.rng.IntN(3)
	}
	start := r.f.now.Add(time.Duration(startH) * time.Hour)
	if r.rng.IntN(5) != 0 {
		if ws := r.cal.WorkingTime(calendar.Interval{Start: start, End: start.Add(7 * 24 * time.Hour)}, calendar.Options{}); len(ws) > 0 {
			iv := ws[r.rng.IntN(min(3, len(ws)))]
			start = iv.Start.Add(time.Duration(r.rng.IntN(max(1, int(iv.Duration().Hours())))) * time.Hour)
		}
	}
	return start, start.Add(time.Duration(1+r.rng.IntN(5)) * time.Hour)
}

// pickGroup mostly picks a booking in one of the statuses the action suits, sometimes
// any booking.
func (r *propRunner) pickGroup(suits ...booking.Status) propGroup {
	var fit []propGroup
	for _, g := range r.groups {
		for _, s := range suits {
			if g.Status == s {
				fit = append(fit, g)
			}
		}
	}
	if len(fit) > 0 && r.rng.IntN(6) > 0 {
		return fit[r.rng.IntN(len(fit))]
	}
	return r.groups[r.rng.IntN(len(r.groups))]
}

// pickWhere picks a booking that fits, or else g: a hold with holds ahead to challenge
// them, or a challenged hold to answer.
func (r *propRunner) pickWhere(g propGroup, fits func(propGroup) bool) propGroup {
	var fit []propGroup
	for _, q := range r.groups {
		if fits(q) {
			fit = append(fit, q)
		}
	}
	if len(fit) == 0 {
		return g
	}
	return fit[r.rng.IntN(len(fit))]
}

// pickIfMatch mostly sends no version, sometimes the current one, now and then a stale one.
func (r *propRunner) pickIfMatch(g propGroup) (booking.ActOptions, bool) {
	switch n := r.rng.IntN(10); {
	case n < 7:
		return booking.ActOptions{}, true
	case n < 9:
		v := g.Version
		return booking.ActOptions{IfMatch: &v}, true
	}
	v := g.Version - 1
	return booking.ActOptions{IfMatch: &v}, false
}

// Operations.

func (r *propRunner) opBook(status booking.Status) propOutcome {
	who := r.pickActor()
	prod, ok := r.f.prod[who]
	if !ok || r.rng.IntN(10) == 0 {
		prod = r.prods[r.rng.IntN(len(r.prods))]
	}
	resources := r.pickResources()
	start, end := r.pickInterval()
	b, err := r.f.db.Book(r.f.ctx, r.f.actors[who], booking.BookingInput{ProductionID: prod, ResourceIDs: resources,
		Start: start, End: end, Status: status})
	desc := fmt.Sprintf("%s books %s for %s's production on %s %s", who, status, r.owner[prod], r.resList(resources), r.span(start, end))
	if err == nil {
		r.name[b.ID] = fmt.Sprintf("g%d", len(r.name)+1)
		desc += fmt.Sprintf(" as %s (%s rank %d)", r.name[b.ID], b.Status, b.Rank)
	}
	return propOutcome{desc: desc, err: err, minAudit: 1}
}

func (r *propRunner) opAct(act booking.Action) propOutcome {
	suits := booking.StatusHold
	if act == booking.ActionCancel {
		suits = booking.StatusConfirmed
	}
	g := r.pickGroup(suits)
	switch n := r.rng.IntN(10); {
	case act == booking.ActionConfirm && n < 6:
		g = r.pickWhere(g, func(q propGroup) bool { return q.Status == booking.StatusHold && q.Rank > 1 })
	case act != booking.ActionCancel && n < 8:
		g = r.pickWhere(g, func(q propGroup) bool { return q.Status == booking.StatusHold && q.Challenged })
	}
	who := r.pickActorFor(g)
	a := r.f.actors[who]
	opts, fresh := r.pickIfMatch(g)
	b, err := r.f.db.Act(r.f.ctx, a, g.ID, act, opts)
	desc := fmt.Sprintf("%s %ss %s (%s)%s", who, act, r.name[g.ID], g.Status, propIfMatchDesc(opts))
	if err == nil {
		desc += fmt.Sprintf(" -> %s", r.bookingDesc(b))
	}
	o := propOutcome{desc: desc, err: err, minAudit: 1}
	sees := a.SeesAllProductions() || r.owner[g.ProductionID] == who
	// On a confirmed booking, confirm and decline settle a requested move: entitled
	// only when one awaits, and an approved move may find its slot taken meanwhile.
	settles := g.Status != booking.StatusConfirmed || (g.MoveRequested && !(act == booking.ActionConfirm && booking.ErrorCode(err) == booking.ECONFLICT))
	if fresh && sees && settles && booking.CheckTransition(g.Status, act, a.Role) == nil {
		o.mustSucceed = fmt.Sprintf("%s may %s a %s booking", who, act, g.Status)
	}
	// The one refusal the rules allow: a challenge of the holds ahead when the slot
	// starts too soon for them to answer.
	var de *booking.Error
	if act == booking.ActionConfirm && g.Rank > 1 && errors.As(err, &de) && de.Code == booking.ECONFLICT &&
		de.Details["reason"] == booking.ReasonChallengeTooLate {
		o.mustSucceed = ""
	}
	return o
}

func (r *propRunner) opReschedule() propOutcome {
	g := r.pickGroup(booking.StatusHold, booking.StatusConfirmed)
	who := r.pickActorFor(g)
	start, end := r.pickInterval()
	if r.rng.IntN(2) == 0 { // a nudge: the same length, a few hours either way
		shift := time.Duration(r.rng.IntN(7)-3) * time.Hour
		start, end = g.Start.Add(shift), g.End.Add(shift)
	}
	opts, _ := r.pickIfMatch(g)
	pol, perr := r.f.db.SitePolicy(r.f.ctx, r.site)
	if perr != nil {
		r.t.Fatal(perr)
	}
	b, err := r.f.db.Reschedule(r.f.ctx, r.f.actors[who], g.ID, start, end, opts)
	desc := fmt.Sprintf("%s reschedules %s (%s %s) to %s%s", who, r.name[g.ID], g.Status, r.span(g.Start, g.End), r.span(start, end), propIfMatchDesc(opts))
	if err == nil {
		desc += fmt.Sprintf(" -> %s", r.bookingDesc(b))
		if r.f.actors[who].Role == booking.RoleProducer && g.Status == booking.StatusConfirmed && pol.ConfirmNeedsApproval &&
			(!b.Start.Equal(g.Start) || !b.End.Equal(g.End) || b.RequestedStart == nil || !b.RequestedStart.Equal(start) || !b.ApprovalPending) {
			r.moveViolation = desc
		}
	}
	return propOutcome{desc: desc, err: err, minAudit: 1}
}

func (r *propRunner) opProcessDue() propOutcome {
	step := r.rng.IntN(3)
	if r.rng.IntN(5) == 0 {
		step = 3 + r.rng.IntN(6)
	}
	r.f.now = r.f.now.Add(time.Duration(step) * time.Hour)
	res, err := r.f.db.ProcessDue(r.f.ctx, r.f.now)
	return propOutcome{desc: fmt.Sprintf("ProcessDue at T+%s: %+v", r.rel(r.f.now), res), err: err,
		minAudit: res.Expired + res.ChallengesSettled + res.Completed, mustSucceed: "ProcessDue is posthub's own job", due: true}
}

func (r *propRunner) opTogglePolicy() propOutcome {
	who := []string{"manager", "admin", "producer"}[r.rng.IntN(3)]
	pol, err := r.f.db.SitePolicy(r.f.ctx, r.site)
	if err != nil {
		return propOutcome{desc: "read the site policy", err: err}
	}
	pol.ConfirmNeedsApproval = !pol.ConfirmNeedsApproval
	_, err = r.f.db.UpdateSitePolicy(r.f.ctx, r.f.actors[who], pol)
	return propOutcome{desc: fmt.Sprintf("%s sets confirm_needs_approval=%v", who, pol.ConfirmNeedsApproval), err: err, minAudit: 1}
}

// Descriptions.

func (r *propRunner) rel(t time.Time) string {
	return fmt.Sprintf("%dh", int(t.Sub(r.base)/time.Hour))
}

func (r *propRunner) span(start, end time.Time) string {
	return fmt.Sprintf("[T+%s, T+%s)", r.rel(start), r.rel(end))
}

func (r *propRunner) resList(ids []uuid.UUID) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = r.resName[id]
	}
	sort.Strings(names)
	return "{" + strings.Join(names, ",") + "}"
}

func (r *propRunner) bookingDesc(b booking.Booking) string {
	s := string(b.Status)
	if b.Status == booking.StatusHold {
		s += fmt.Sprintf(" rank %d", b.Rank)
	}
	if b.Challenge != nil {
		s += " challenging"
	}
	if b.ApprovalPending {
		s += " awaiting approval"
	}
	return s
}

func propIfMatchDesc(o booking.ActOptions) string {
	if o.IfMatch == nil {
		return ""
	}
	return fmt.Sprintf(" If-Match %d", *o.IfMatch)
}

func (r *propRunner) label(id uuid.UUID) string {
	if n, ok := r.name[id]; ok {
		return n
	}
	return id.String()
}

// The database as it is.

func (r *propRunner) auditCount() int64 {
	var n int64
	if err := r.f.db.Pool.QueryRow(r.f.ctx, `SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

func (r *propRunner) load() {
	rows, _ := r.f.db.Pool.Query(r.f.ctx, `SELECT id, production_id, status, start_at, end_at, hold_seq,
		approval_requested_at IS NOT NULL, version, coalesce((SELECT max(rank) FROM bookings WHERE group_id = g.id), 0),
		EXISTS (SELECT 1 FROM challenge_targets t JOIN challenges c ON c.id = t.challenge_id WHERE t.group_id = g.id AND c.status = 'open'),
		g.overtime, g.requested_start IS NOT NULL
		FROM booking_groups g`)
	gs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[propGroup])
	if err != nil {
		r.t.Fatal(err)
	}
	// Creation order as the test named them; created_at is the frozen clock.
	sort.SliceStable(gs, func(i, j int) bool { return r.order(gs[i].ID) < r.order(gs[j].ID) })
	r.groups = gs
}

func (r *propRunner) order(id uuid.UUID) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(r.name[id], "g"))
	return n
}

func (r *propRunner) check(op int) {
	ctx, db := r.f.ctx, r.f.db.Pool

	// P1: the exclusion constraint's promise, checked by a self-join.
	var a, b, res uuid.UUID
	err := db.QueryRow(ctx, `SELECT x.group_id, y.group_id, x.resource_id FROM bookings x JOIN bookings y
			ON y.resource_id = x.resource_id AND x.id < y.id AND x.during && y.during
		WHERE x.status IN ('confirmed', 'completed') AND y.status IN ('confirmed', 'completed') LIMIT 1`).Scan(&a, &b, &res)
	r.noRowsOr(op, propConfirmedApart, err, "%s and %s overlap on %s", r.label(a), r.label(b), r.resName[res])

	// P2: ranks, against a reference computed here.
	rows, _ := db.Query(ctx, `SELECT id, group_id, resource_id, status, lower(during), upper(during), hold_seq, rank FROM bookings`)
	all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[propRow])
	if err != nil {
		r.t.Fatal(err)
	}
	if msg := propCheckRanks(all, r.label, r.resName); msg != "" {
		r.violate(op, propRanks, "%s", msg)
	}

	// P3: one status, interval and place in the queue per group.
	var st, gst string
	err = db.QueryRow(ctx, `SELECT b.group_id, b.resource_id, b.status, g.status FROM bookings b JOIN booking_groups g ON g.id = b.group_id
		WHERE b.status <> g.status OR b.during <> tstzrange(g.start_at, g.end_at) OR b.hold_seq IS DISTINCT FROM g.hold_seq
		   OR b.production_id <> g.production_id LIMIT 1`).Scan(&a, &res, &st, &gst)
	r.noRowsOr(op, propGroups, err, "%s's booking on %s (status %s) differs from its group (status %s)", r.label(a), r.resName[res], st, gst)
	err = db.QueryRow(ctx, `SELECT id FROM booking_groups g WHERE NOT EXISTS (SELECT 1 FROM bookings WHERE group_id = g.id) LIMIT 1`).Scan(&a)
	r.noRowsOr(op, propGroups, err, "%s has no bookings", r.label(a))

	// P4: a hold never sits on a confirmed booking.
	err = db.QueryRow(ctx, `SELECT h.group_id, c.group_id, h.resource_id FROM bookings h JOIN bookings c
			ON c.resource_id = h.resource_id AND c.during && h.during
		WHERE h.status = 'hold' AND c.status IN ('confirmed', 'completed') LIMIT 1`).Scan(&a, &b, &res)
	r.noRowsOr(op, propHoldsOffBooked, err, "hold %s overlaps confirmed %s on %s", r.label(a), r.label(b), r.resName[res])

	// P5: an open challenge is a hold's with a hold still ahead of it; once none is, the
	// challenge must have been won (or turned into an approval request) at once.
	var cstatus string
	var since time.Time
	err = db.QueryRow(ctx, `SELECT g.id, g.status, c.created_at FROM challenges c JOIN booking_groups g ON g.id = c.challenger_id
		WHERE c.status = 'open' AND (g.status <> 'hold' OR NOT EXISTS (SELECT 1 FROM bookings x JOIN bookings o
				ON o.resource_id = x.resource_id AND o.during && x.during AND o.group_id <> x.group_id
			WHERE x.group_id = g.id AND o.status = 'hold' AND o.hold_seq < x.hold_seq))
		ORDER BY c.created_at LIMIT 1`).Scan(&a, &cstatus, &since)
	r.noRowsOr(op, propChallenges, err, "%s (%s) still has the challenge it opened at T+%s open, but no hold is ahead of it any more",
		r.label(a), cstatus, r.rel(since))

	// P9: the holds ahead have some time to answer, and the challenge is settled before
	// the challenger's slot begins.
	var deadline, start time.Time
	err = db.QueryRow(ctx, `SELECT g.id, c.created_at, c.deadline, g.start_at FROM challenges c JOIN booking_groups g ON g.id = c.challenger_id
		WHERE c.status = 'open' AND (c.deadline <= c.created_at OR c.deadline > g.start_at - make_interval(secs => $1))
		ORDER BY c.created_at LIMIT 1`, booking.ChallengeSettleLead.Seconds()).Scan(&a, &since, &deadline, &start)
	r.noRowsOr(op, propDeadlines, err, "%s's challenge opened at T+%s has its deadline at T+%s, its slot starts at T+%s",
		r.label(a), r.rel(since), r.rel(deadline), r.rel(start))

	// P11: approval cannot be bypassed by moving a confirmed booking.
	if r.moveViolation != "" {
		r.violate(op, propMoveApproval, "%s", r.moveViolation)
		r.moveViolation = ""
	}

	// P10: creations and reschedules sell working time, or overtime.
	for _, g := range r.groups {
		if (g.Status == booking.StatusHold || g.Status == booking.StatusConfirmed) && !g.Overtime &&
			len(r.cal.UseOf(calendar.Interval{Start: g.Start, End: g.End}, nil).Working) == 0 {
			r.violate(op, propSellsWorkTime, "%s (%s) %s holds no working time", r.label(g.ID), g.Status, r.span(g.Start, g.End))
			break
		}
	}
}

// checkNothingDue checks, after ProcessDue(now), that nothing it should have done is left.
func (r *propRunner) checkNothingDue(op int) {
	var holds, challenges, confirmed int
	if err := r.f.db.Pool.QueryRow(r.f.ctx, `SELECT
			(SELECT count(*) FROM booking_groups g WHERE status = 'hold' AND hold_expires_at <= $1 AND approval_requested_at IS NULL
				AND NOT EXISTS (SELECT 1 FROM challenges c WHERE c.challenger_id = g.id AND c.status = 'open')),
			(SELECT count(*) FROM challenges WHERE status = 'open' AND deadline <= $1),
			(SELECT count(*) FROM booking_groups WHERE status = 'confirmed' AND end_at <= $1)`, r.f.now).
		Scan(&holds, &challenges, &confirmed); err != nil {
		r.t.Fatal(err)
	}
	if holds+challenges+confirmed > 0 {
		r.violate(op, propNothingDue, "left %d expired holds, %d challenges past their deadline, %d ended confirmed bookings",
			holds, challenges, confirmed)
	}
}

// noRowsOr reports prop violated unless err is pgx.ErrNoRows.
func (r *propRunner) noRowsOr(op int, prop string, err error, format string, args ...any) {
	switch {
	case err == pgx.ErrNoRows:
	case err != nil:
		r.t.Fatalf("checking %s: %v", prop, err)
	default:
		r.violate(op, prop, format, args...)
	}
}

// propCheckRanks checks the stored ranks of every resource's holds against a reference:
// rank = 1 + the highest rank among the earlier (smaller hold_seq) holds that overlap,
// so an earlier overlapping hold always ranks strictly ahead and a hold with no earlier
// overlapping hold is first. Rows not on hold have no rank.
func propCheckRanks(all []propRow, label func(uuid.UUID) string, resName map[uuid.UUID]string) string {
	byResource := map[uuid.UUID][]propRow{}
	for _, b := range all {
		if b.Status != string(booking.StatusHold) {
			if b.Rank != nil {
				return fmt.Sprintf("%s on %s is %s but has rank %d", label(b.GroupID), resName[b.ResourceID], b.Status, *b.Rank)
			}
			continue
		}
		if b.HoldSeq == nil {
			return fmt.Sprintf("hold %s on %s has no hold_seq", label(b.GroupID), resName[b.ResourceID])
		}
		if b.Rank == nil || *b.Rank < 1 {
			return fmt.Sprintf("hold %s on %s has rank %v, want >= 1", label(b.GroupID), resName[b.ResourceID], b.Rank)
		}
		byResource[b.ResourceID] = append(byResource[b.ResourceID], b)
	}
	for res, hs := range byResource {
		sort.Slice(hs, func(i, j int) bool { return *hs[i].HoldSeq < *hs[j].HoldSeq })
		want := map[uuid.UUID]int32{}
		for i, h := range hs {
			rank := int32(1)
			for _, p := range hs[:i] {
				overlap := p.Start.Before(h.End) && h.Start.Before(p.End)
				if !overlap {
					continue
				}
				if *p.HoldSeq == *h.HoldSeq {
					return fmt.Sprintf("holds %s and %s share hold_seq %d on %s", label(p.GroupID), label(h.GroupID), *h.HoldSeq, resName[res])
				}
				if *p.Rank >= *h.Rank {
					return fmt.Sprintf("on %s, earlier hold %s (seq %d) ranks %d, not ahead of overlapping %s (seq %d) at rank %d",
						resName[res], label(p.GroupID), *p.HoldSeq, *p.Rank, label(h.GroupID), *h.HoldSeq, *h.Rank)
				}
				if want[p.ID]+1 > rank {
					rank = want[p.ID] + 1
				}
			}
			want[h.ID] = rank
			if *h.Rank != rank {
				return fmt.Sprintf("hold %s on %s has rank %d, want %d", label(h.GroupID), resName[res], *h.Rank, rank)
			}
		}
	}
	return ""
}
