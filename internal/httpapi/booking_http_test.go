package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/httpapi"
)

// The helpers of this file are prefixed bh (booking HTTP) so they cannot collide with
// helpers other test files of the package define.

// bhResult is one HTTP answer read in full. bhSend produces it without touching a
// *testing.T, so goroutines may send requests and the test goroutine judges them.
type bhResult struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         []byte
	Err          error // the transport's, or the exchange's disagreement with openapi.json
}

func (r bhResult) String() string {
	return fmt.Sprintf("%s %s → %d %s", r.Method, r.Path, r.Status, bytes.TrimSpace(r.Body))
}

// bhZone is the offset request times are written in, so every request exercises an
// offset other than Z; the API answers in UTC.
var bhZone = time.FixedZone("UTC+01", 3600)

// bhTS writes t as RFC 3339 with a +01:00 offset.
func bhTS(t time.Time) string { return t.In(bhZone).Format(time.RFC3339) }

// bhAt is an instant in UTC, always in the future of the real server clock.
func bhAt(year int, month time.Month, day, hour int) time.Time {
	return time.Date(year, month, day, hour, 0, 0, 0, time.UTC)
}

// bhWeekday is the n-th (from 0) Monday-to-Friday of the month at hour, UTC, which is
// Casablanca's wall-clock in 2027: a working day there, in the months used here that
// have no weekday holiday in their first weeks (October, early November).
func bhWeekday(year int, month time.Month, n, hour int) time.Time {
	d := bhAt(year, month, 1, hour)
	for ; ; d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		if n == 0 {
			return d
		}
		n--
	}
}

// workingSlots returns the starts of n slots of length d at the Casablanca site from
// from on, one after another, each wholly inside one stretch of its working time
// (provisional holidays avoided), so that bookings there are sold as they reserve.
func (f *bhFixture) workingSlots(t *testing.T, from time.Time, d time.Duration, n int) []time.Time {
	t.Helper()
	var site uuid.UUID
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT site_id FROM resources WHERE id = $1`, f.res[bhSuite1]).Scan(&site); err != nil {
		t.Fatal(err)
	}
	_, cal := siteCalendarFor(t, f.testBundle, site)
	var out []time.Time
	for cur := from; len(out) < n; cur = cur.Add(31 * 24 * time.Hour) {
		for _, iv := range cal.WorkingTime(calendar.Interval{Start: cur, End: cur.Add(31 * 24 * time.Hour)}, calendar.Options{AvoidProvisional: true}) {
			for s := iv.Start; !s.Add(d).After(iv.End) && len(out) < n; s = s.Add(d) {
				out = append(out, s)
			}
		}
	}
	return out
}

func bhSend(client *http.Client, base, method, path, token string, body any, hdr map[string]string) bhResult {
	out := bhResult{Method: method, Path: path}
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	case []byte:
		rd = bytes.NewReader(v)
	default:
		j, err := json.Marshal(v)
		if err != nil {
			out.Err = err
			return out
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		out.Err = err
		return out
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := sendChecked(client, req)
	if res == nil {
		out.Err = err
		return out
	}
	defer res.Body.Close()
	out.Status, out.Header = res.StatusCode, res.Header
	out.Body, _ = io.ReadAll(res.Body)
	out.Err = err // the exchange's disagreement with openapi.json, if any
	return out
}

// bhCheckProblem reports whether r is a problem+json answer with status and code.
func bhCheckProblem(r bhResult, status int, code string) (httpapi.Problem, error) {
	var p httpapi.Problem
	if r.Err != nil {
		return p, r.Err
	}
	if r.Status != status {
		return p, fmt.Errorf("%v: want status %d", r, status)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		return p, fmt.Errorf("%v: Content-Type %q, want application/problem+json", r, ct)
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		return p, fmt.Errorf("%v: %w", r, err)
	}
	if p.Code != code || p.Status != status {
		return p, fmt.Errorf("%v: want code %q", r, code)
	}
	return p, nil
}

func bhProblem(t *testing.T, r bhResult, status int, code string) httpapi.Problem {
	t.Helper()
	p, err := bhCheckProblem(r, status, code)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func bhJSON[T any](t *testing.T, r bhResult, status int) T {
	t.Helper()
	var v T
	if r.Status != status {
		t.Fatalf("%v: want status %d", r, status)
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("%v: decoding: %v", r, err)
	}
	return v
}

// bhFixture is a test bundle with the demo data's productions, organisations and
// resources looked up.
type bhFixture struct {
	*testBundle
	ctx context.Context
	// prod is a production of each producer's organisation, by the producer's key;
	// "casablanca" is one of Dar Nour's, for bookings no test producer owns.
	prod map[string]uuid.UUID
	org  map[string]uuid.UUID // organisation id by producer key
	res  map[string]uuid.UUID // resources by name
}

const (
	bhSuite1    = "Grading Suite 1 — Zellige"
	bhSuite2    = "Grading Suite 2 — Anfa"
	bhSuite3    = "Grading Suite 3 — Oasis"
	bhColourist = "Yasmine El Alami"
	bhMixA      = "Mix Stage A"
	bhDakar     = "Salle de montage 1"
)

func bhSetup(t *testing.T, opts *setupOpts) *bhFixture {
	t.Helper()
	f := &bhFixture{testBundle: setup(t, opts), ctx: context.Background(),
		prod: map[string]uuid.UUID{}, org: map[string]uuid.UUID{}, res: map[string]uuid.UUID{}}
	keys := map[string]string{"teranga-lumiere": "producer", "quai-bleu": "producer_other", "dar-nour": "casablanca"}
	rows, _ := f.db.Pool.Query(f.ctx, `SELECT DISTINCT ON (o.slug) o.slug, o.id, p.id
		FROM organisations o JOIN productions p ON p.organisation_id = o.id ORDER BY o.slug, p.title`)
	var slug string
	var org, prod uuid.UUID
	if _, err := pgx.ForEachRow(rows, []any{&slug, &org, &prod}, func() error {
		if k, ok := keys[slug]; ok {
			f.prod[k], f.org[k] = prod, org
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rows, _ = f.db.Pool.Query(f.ctx, `SELECT name, id FROM resources`)
	var name string
	var id uuid.UUID
	if _, err := pgx.ForEachRow(rows, []any{&name, &id}, func() error { f.res[name] = id; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{bhSuite1, bhSuite2, bhSuite3, bhColourist, bhMixA, bhDakar} {
		if f.res[n] == uuid.Nil {
			t.Fatalf("demo resource %q missing", n)
		}
	}
	if len(f.prod) != 3 {
		t.Fatalf("demo productions: %v", f.prod)
	}
	return f
}

func (f *bhFixture) bhDo(t *testing.T, method, path, token string, body any, hdr map[string]string) bhResult {
	t.Helper()
	r := bhSend(noRedirect, f.srv.URL, method, path, token, body, hdr)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	return r
}

// book creates a booking through the API and expects 201.
func (f *bhFixture) book(t *testing.T, token string, prod uuid.UUID, res []uuid.UUID, start, end time.Time, status booking.Status) booking.Booking {
	t.Helper()
	body := map[string]any{"production_id": prod, "resource_ids": res, "start": bhTS(start), "end": bhTS(end)}
	if status != "" {
		body["status"] = status
	}
	b := bhJSON[booking.Booking](t, f.bhDo(t, "POST", "/api/v1/bookings", token, body, nil), http.StatusCreated)
	if want := status; want != "" && b.Status != want {
		t.Fatalf("booked %s, got status %s", want, b.Status)
	}
	return b
}

// act takes an action through the API: PATCH for reschedule (to [start, end)), POST
// …/{action} for the others.
func (f *bhFixture) act(t *testing.T, token string, id uuid.UUID, act booking.Action, start, end time.Time) bhResult {
	t.Helper()
	if act == booking.ActionReschedule {
		return f.bhDo(t, "PATCH", "/api/v1/bookings/"+id.String(), token, map[string]any{"start": bhTS(start), "end": bhTS(end)}, nil)
	}
	return f.bhDo(t, "POST", "/api/v1/bookings/"+id.String()+"/"+string(act), token, nil, nil)
}

// bhState is a booking group as the database has it.
type bhState struct {
	Status     string
	Version    int
	Start, End time.Time
	Rows       []string // the status of each of its bookings rows
}

func (f *bhFixture) state(t *testing.T, id uuid.UUID) bhState {
	t.Helper()
	var s bhState
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT g.status, g.version, g.start_at, g.end_at,
			array(SELECT b.status FROM bookings b WHERE b.group_id = g.id ORDER BY b.resource_id)
		FROM booking_groups g WHERE g.id = $1`, id).Scan(&s.Status, &s.Version, &s.Start, &s.End, &s.Rows); err != nil {
		t.Fatalf("state of %s: %v", id, err)
	}
	for _, r := range s.Rows {
		if r != s.Status {
			t.Fatalf("booking %s: group is %s but a resource row is %s", id, s.Status, r)
		}
	}
	return s
}

// force moves a booking from one status to another in SQL, as the clock would (a hold
// expiring, a confirmed booking ending). Test setup only.
func (f *bhFixture) force(t *testing.T, id uuid.UUID, from, to booking.Status, reason string) {
	t.Helper()
	err := pgx.BeginFunc(f.ctx, f.db.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(f.ctx, `UPDATE booking_groups SET status = $2, status_reason = nullif($3, ''), hold_seq = NULL,
			hold_expires_at = NULL, approval_requested_at = NULL, version = version + 1, updated_at = now()
			WHERE id = $1 AND status = $4`, id, string(to), reason, string(from))
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("booking %s is not %s", id, from)
		}
		_, err = tx.Exec(f.ctx, `UPDATE bookings SET status = $2, hold_seq = NULL, rank = NULL WHERE group_id = $1`, id, string(to))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// build makes a booking of owner's production in status st over [start, end): holds
// are placed by the owner, confirmed bookings by the manager, released, declined and
// cancelled ones reach their status through the API's actions, and expired and
// completed ones through SQL (only time brings those).
func (f *bhFixture) build(t *testing.T, st booking.Status, owner string, res []uuid.UUID, start, end time.Time) uuid.UUID {
	t.Helper()
	hold := func() uuid.UUID {
		return f.book(t, f.tokens[owner], f.prod[owner], res, start, end, booking.StatusHold).ID
	}
	confirmed := func() uuid.UUID {
		return f.book(t, f.tokens["manager"], f.prod[owner], res, start, end, booking.StatusConfirmed).ID
	}
	then := func(id uuid.UUID, token string, act booking.Action, want booking.Status) uuid.UUID {
		t.Helper()
		if got := bhJSON[booking.Booking](t, f.act(t, token, id, act, time.Time{}, time.Time{}), http.StatusOK); got.Status != want {
			t.Fatalf("%s gave %s, want %s", act, got.Status, want)
		}
		return id
	}
	var id uuid.UUID
	switch st {
	case booking.StatusHold:
		id = hold()
	case booking.StatusConfirmed:
		id = confirmed()
	case booking.StatusCompleted:
		id = confirmed()
		f.force(t, id, booking.StatusConfirmed, booking.StatusCompleted, "")
	case booking.StatusReleased:
		id = then(hold(), f.tokens[owner], booking.ActionRelease, booking.StatusReleased)
	case booking.StatusDeclined:
		id = then(hold(), f.tokens["manager"], booking.ActionDecline, booking.StatusDeclined)
	case booking.StatusCancelled:
		id = then(confirmed(), f.tokens["manager"], booking.ActionCancel, booking.StatusCancelled)
	case booking.StatusExpired:
		id = hold()
		f.force(t, id, booking.StatusHold, booking.StatusExpired, "hold lifetime passed")
	default:
		t.Fatalf("cannot build status %s", st)
	}
	if got := f.state(t, id); got.Status != string(st) {
		t.Fatalf("built %s, database has %s", st, got.Status)
	}
	return id
}

// bhLifecycleRow is the expected answer to one (status, action) for each role, and
// the status a 200 leaves the booking in.
type bhLifecycleRow struct {
	status booking.Status
	action booking.Action
	want   [4]int // admin, manager, operator, producer (on its own production)
	after  booking.Status
}

var bhRoles = [4]string{"admin", "manager", "operator", "producer"}

// TestBookingLifecycleTable takes every action in every status as every role, through
// HTTP, against a table written from the rules: the policy table refuses operators
// every action and producers decline (403 whatever the booking); the lifecycle allows
// hold → confirm/release/decline/reschedule and confirmed → cancel/reschedule; any
// other (status, action) is a 409 for a role the policy lets through.
func TestBookingLifecycleTable(t *testing.T) {
	t.Parallel()
	// ~400 requests: lift the per-credential rate limit, which is not under test here.
	f := bhSetup(t, &setupOpts{limits: httpapi.Limits{PerCredential: 1 << 20}})
	const (
		ok        = http.StatusOK
		forbidden = http.StatusForbidden
		conflict  = http.StatusConflict
	)
	var (
		hold, confirmed, completed = booking.StatusHold, booking.StatusConfirmed, booking.StatusCompleted
		released, declined         = booking.StatusReleased, booking.StatusDeclined
		cancelled, expired         = booking.StatusCancelled, booking.StatusExpired
		confirm, release, decline  = booking.ActionConfirm, booking.ActionRelease, booking.ActionDecline
		cancel, reschedule         = booking.ActionCancel, booking.ActionReschedule
	)
	expected := []bhLifecycleRow{
		//                       admin     manager   operator   producer
		{hold, confirm, [4]int{ok, ok, forbidden, ok}, confirmed},
		{hold, release, [4]int{ok, ok, forbidden, ok}, released},
		{hold, decline, [4]int{ok, ok, forbidden, forbidden}, declined},
		{hold, cancel, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{hold, reschedule, [4]int{ok, ok, forbidden, ok}, hold},

		// Managers confirm or decline a producer's requested move: with none requested
		// there is nothing to settle; producers may not settle their own.
		{confirmed, confirm, [4]int{conflict, conflict, forbidden, forbidden}, ""},
		{confirmed, release, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{confirmed, decline, [4]int{conflict, conflict, forbidden, forbidden}, ""},
		{confirmed, cancel, [4]int{ok, ok, forbidden, ok}, cancelled},
		{confirmed, reschedule, [4]int{ok, ok, forbidden, ok}, confirmed},

		{completed, confirm, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{completed, release, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{completed, decline, [4]int{conflict, conflict, forbidden, forbidden}, ""},
		{completed, cancel, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{completed, reschedule, [4]int{conflict, conflict, forbidden, conflict}, ""},

		{released, confirm, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{released, release, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{released, decline, [4]int{conflict, conflict, forbidden, forbidden}, ""},
		{released, cancel, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{released, reschedule, [4]int{conflict, conflict, forbidden, conflict}, ""},

		{declined, confirm, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{declined, release, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{declined, decline, [4]int{conflict, conflict, forbidden, forbidden}, ""},
		{declined, cancel, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{declined, reschedule, [4]int{conflict, conflict, forbidden, conflict}, ""},

		{cancelled, confirm, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{cancelled, release, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{cancelled, decline, [4]int{conflict, conflict, forbidden, forbidden}, ""},
		{cancelled, cancel, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{cancelled, reschedule, [4]int{conflict, conflict, forbidden, conflict}, ""},

		{expired, confirm, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{expired, release, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{expired, decline, [4]int{conflict, conflict, forbidden, forbidden}, ""},
		{expired, cancel, [4]int{conflict, conflict, forbidden, conflict}, ""},
		{expired, reschedule, [4]int{conflict, conflict, forbidden, conflict}, ""},
	}
	// The table must cover every (status, action) exactly once.
	covered := map[string]int{}
	for _, row := range expected {
		covered[string(row.status)+"/"+string(row.action)]++
	}
	for _, st := range booking.Statuses {
		for _, act := range booking.Actions {
			if n := covered[string(st)+"/"+string(act)]; n != 1 {
				t.Fatalf("expected table has %d rows for %s/%s", n, st, act)
			}
		}
	}
	if len(covered) != len(booking.Statuses)*len(booking.Actions) {
		t.Fatalf("expected table names statuses or actions the domain does not have")
	}

	// Every triple gets its own 2-hour slot of working time on a suite and a colourist
	// booked together, so each action is seen to change both resource rows of the
	// group; the booking takes its first hour and a move its second.
	resources := []uuid.UUID{f.res[bhSuite1], f.res[bhColourist]}
	slots := f.workingSlots(t, bhAt(2027, 5, 3, 0), 2*time.Hour, 400) // more than the table takes
	slot := 0
	nextSlot := func() (start, end, movedStart, movedEnd time.Time) {
		s := slots[slot]
		slot++
		return s, s.Add(time.Hour), s.Add(time.Hour), s.Add(2 * time.Hour)
	}
	codeOf := map[int]string{forbidden: booking.EFORBIDDEN, conflict: booking.ECONFLICT, http.StatusNotFound: booking.ENOTFOUND}

	for _, row := range expected {
		for ri, role := range bhRoles {
			want := row.want[ri]
			start, end, movedStart, movedEnd := nextSlot()
			t.Run(fmt.Sprintf("%s/%s/%s", row.status, row.action, role), func(t *testing.T) {
				t.Parallel()
				id := f.build(t, row.status, "producer", resources, start, end)
				before := f.state(t, id)
				res := f.act(t, f.tokens[role], id, row.action, movedStart, movedEnd)
				if res.Status != want {
					t.Fatalf("%v: want %d", res, want)
				}
				after := f.state(t, id)
				if want != ok {
					p := bhProblem(t, res, want, codeOf[want])
					if want == conflict && (p.Details["status"] != string(row.status) || p.Details["action"] != string(row.action)) {
						t.Errorf("409 details %v, want status %s and action %s", p.Details, row.status, row.action)
					}
					if !slices.Equal(before.Rows, after.Rows) || before.Status != after.Status || before.Version != after.Version ||
						!before.Start.Equal(after.Start) || !before.End.Equal(after.End) {
						t.Fatalf("a refused %s changed the booking: %+v → %+v", row.action, before, after)
					}
					return
				}
				got := bhJSON[booking.Booking](t, res, ok)
				if got.ID != id || got.Status != row.after {
					t.Fatalf("answer %s status %s, want %s status %s", got.ID, got.Status, id, row.after)
				}
				if after.Status != string(row.after) {
					t.Fatalf("database has status %s, want %s", after.Status, row.after)
				}
				if after.Version != before.Version+1 || got.Version != after.Version {
					t.Errorf("version %d → %d (answer %d), want one step", before.Version, after.Version, got.Version)
				}
				if et := res.Header.Get("ETag"); et != fmt.Sprintf(`"%d"`, got.Version) {
					t.Errorf("ETag %q for version %d", et, got.Version)
				}
				wantStart, wantEnd := start, end
				if row.action == booking.ActionReschedule {
					wantStart, wantEnd = movedStart, movedEnd
				}
				if !got.Start.Equal(wantStart) || !got.End.Equal(wantEnd) || !after.Start.Equal(wantStart) || !after.End.Equal(wantEnd) {
					t.Errorf("interval %s–%s (database %s–%s), want %s–%s", got.Start, got.End, after.Start, after.End, wantStart, wantEnd)
				}
				if got.Status != booking.StatusHold && got.Rank != 0 {
					t.Errorf("a %s booking has rank %d", got.Status, got.Rank)
				}
			})
		}
	}

	// A producer acting on another organisation's booking, in any status, is told it
	// does not exist, exactly as for an id that names nothing. Decline is the policy
	// table's to refuse (403 for a producer on any id, existing or not), so it reveals
	// nothing either.
	notFound := map[booking.Action]httpapi.Problem{}
	for _, act := range booking.Actions {
		_, _, ms, me := nextSlot()
		res := f.act(t, f.tokens["producer"], uuid.New(), act, ms, me)
		if act == booking.ActionDecline {
			notFound[act] = bhProblem(t, res, forbidden, booking.EFORBIDDEN)
		} else {
			notFound[act] = bhProblem(t, res, http.StatusNotFound, booking.ENOTFOUND)
		}
	}
	for _, st := range booking.Statuses {
		start, end, _, _ := nextSlot()
		var moves [][2]time.Time
		for range booking.Actions {
			_, _, ms, me := nextSlot()
			moves = append(moves, [2]time.Time{ms, me})
		}
		t.Run("another organisation/"+string(st), func(t *testing.T) {
			t.Parallel()
			id := f.build(t, st, "producer_other", resources, start, end)
			before := f.state(t, id)
			for i, act := range booking.Actions {
				res := f.act(t, f.tokens["producer"], id, act, moves[i][0], moves[i][1])
				want, code := http.StatusNotFound, booking.ENOTFOUND
				if act == booking.ActionDecline {
					want, code = forbidden, booking.EFORBIDDEN
				}
				p := bhProblem(t, res, want, code)
				if none := notFound[act]; p.Title != none.Title || p.Detail != none.Detail || len(p.Details) != len(none.Details) {
					t.Errorf("%s on another organisation's %s booking is distinguishable from a missing one: %+v vs %+v", act, st, p, none)
				}
			}
			if after := f.state(t, id); after.Status != before.Status || after.Version != before.Version || !after.Start.Equal(before.Start) {
				t.Fatalf("another organisation's producer changed the booking: %+v → %+v", before, after)
			}
		})
	}
}

// TestConcurrentConfirmationsExactlyOneWins races 64 clients for one slot, round after
// round: direct bookings by managers (exactly one wins), then producers' holds and
// confirmations against managers' direct bookings (never two confirmed, never a 5xx).
func TestConcurrentConfirmationsExactlyOneWins(t *testing.T) {
	t.Parallel()
	// Thousands of requests on a handful of tokens: lift the rate limit.
	f := bhSetup(t, &setupOpts{limits: httpapi.Limits{PerCredential: 1 << 20}})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	t.Cleanup(client.CloseIdleConnections)
	resource := f.res[bhSuite2]
	const clients = 64
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	// interval is a random interval holding [common, common+1h): every two of them overlap.
	interval := func(common time.Time) (time.Time, time.Time) {
		return common.Add(-time.Duration(rng.IntN(181)) * time.Minute), common.Add(time.Hour + time.Duration(rng.IntN(181))*time.Minute)
	}
	// window counts the bookings rows and the confirmed ones on the resource around common.
	window := func(t *testing.T, common time.Time) (all, confirmed, groups int) {
		t.Helper()
		if err := f.db.Pool.QueryRow(f.ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'confirmed'), count(DISTINCT group_id)
			FROM bookings WHERE resource_id = $1 AND during && tstzrange($2, $3)`,
			resource, common.Add(-4*time.Hour), common.Add(5*time.Hour)).Scan(&all, &confirmed, &groups); err != nil {
			t.Fatal(err)
		}
		return
	}
	checkConflict := func(r bhResult) error {
		p, err := bhCheckProblem(r, http.StatusConflict, booking.ECONFLICT)
		if err != nil {
			return err
		}
		if p.Details == nil {
			return nil // e.g. a transition the status no longer allows
		}
		if cs, ok := p.Details["conflicts"]; ok {
			list, _ := cs.([]any)
			if len(list) == 0 {
				return fmt.Errorf("%v: empty conflicts", r)
			}
			for _, c := range list {
				m, _ := c.(map[string]any)
				if m["resource_id"] != resource.String() {
					return fmt.Errorf("%v: conflict on another resource", r)
				}
			}
		}
		return nil
	}

	t.Run("direct bookings", func(t *testing.T) {
		const rounds = 10
		for round := range rounds {
			common := bhWeekday(2027, time.October, round, 12)
			type attempt struct {
				start, end time.Time
				res        bhResult
			}
			attempts := make([]attempt, clients)
			for i := range attempts {
				attempts[i].start, attempts[i].end = interval(common)
			}
			gate := make(chan struct{})
			var wg sync.WaitGroup
			for i := range attempts {
				a := &attempts[i]
				wg.Go(func() {
					body := map[string]any{"production_id": f.prod["casablanca"], "resource_id": resource,
						"start": bhTS(a.start), "end": bhTS(a.end), "status": "confirmed"}
					<-gate
					a.res = bhSend(client, f.srv.URL, "POST", "/api/v1/bookings", f.tokens["manager"], body, nil)
				})
			}
			close(gate)
			wg.Wait()
			wins := 0
			for _, a := range attempts {
				switch {
				case a.res.Err != nil:
					t.Fatalf("round %d: %v", round, a.res.Err)
				case a.res.Status == http.StatusCreated:
					wins++
					b := bhJSON[booking.Booking](t, a.res, http.StatusCreated)
					if b.Status != booking.StatusConfirmed || !b.Start.Equal(a.start) || !b.End.Equal(a.end) {
						t.Errorf("round %d: winner %+v, asked for %s–%s", round, b, a.start, a.end)
					}
				default:
					if err := checkConflict(a.res); err != nil {
						t.Errorf("round %d: %v", round, err)
					} else if p, _ := bhCheckProblem(a.res, http.StatusConflict, booking.ECONFLICT); p.Details["conflicts"] == nil {
						t.Errorf("round %d: a lost direct booking's 409 names no conflict: %v", round, a.res)
					}
				}
			}
			if wins != 1 {
				t.Fatalf("round %d: %d clients got 201, want exactly 1", round, wins)
			}
			if all, confirmed, groups := window(t, common); all != 1 || confirmed != 1 || groups != 1 {
				t.Fatalf("round %d: database has %d bookings rows (%d confirmed, %d groups) in the window, want 1", round, all, confirmed, groups)
			}
		}
	})

	t.Run("holds and confirmations against direct bookings", func(t *testing.T) {
		const rounds = 5
		for round := range rounds {
			common := bhWeekday(2027, time.November, round, 12)
			// A watcher samples the confirmed bookings in the window all along the round.
			done := make(chan struct{})
			var maxSeen atomic.Int64
			var watchErr error
			var watch sync.WaitGroup
			watch.Go(func() {
				for {
					var n int64
					if err := f.db.Pool.QueryRow(f.ctx, `SELECT count(*) FROM bookings WHERE resource_id = $1
						AND status IN ('confirmed', 'completed') AND during && tstzrange($2, $3)`,
						resource, common.Add(-4*time.Hour), common.Add(5*time.Hour)).Scan(&n); err != nil {
						watchErr = err
						return
					}
					if n > maxSeen.Load() {
						maxSeen.Store(n)
					}
					select {
					case <-done:
						return
					default:
					}
				}
			})
			type attempt struct {
				who        string
				start, end time.Time
				place      bhResult // the hold, or the manager's direct booking
				confirm    bhResult // the producer's confirmation of its hold
			}
			attempts := make([]attempt, clients)
			for i := range attempts {
				switch {
				case i%2 == 1:
					attempts[i].who = "manager"
				case i%4 == 0:
					attempts[i].who = "producer"
				default:
					attempts[i].who = "producer_other"
				}
				attempts[i].start, attempts[i].end = interval(common)
			}
			// In even rounds everyone starts at once; in odd rounds the managers start only
			// once a producer's hold has been answered, so their direct bookings race the
			// producers' confirmations and challenges rather than the holds.
			gate, holdAnswered := make(chan struct{}), make(chan struct{})
			var once sync.Once
			if round%2 == 0 {
				close(holdAnswered)
			}
			var wg sync.WaitGroup
			for i := range attempts {
				a := &attempts[i]
				wg.Go(func() {
					prod, status := f.prod[a.who], "hold"
					if a.who == "manager" {
						prod, status = f.prod["casablanca"], "confirmed"
					}
					body := map[string]any{"production_id": prod, "resource_id": resource,
						"start": bhTS(a.start), "end": bhTS(a.end), "status": status}
					<-gate
					if a.who == "manager" {
						<-holdAnswered
					}
					a.place = bhSend(client, f.srv.URL, "POST", "/api/v1/bookings", f.tokens[a.who], body, nil)
					if a.who != "manager" && round%2 == 1 {
						once.Do(func() { close(holdAnswered) })
					}
					if a.who == "manager" || a.place.Status != http.StatusCreated {
						return
					}
					var b booking.Booking
					if err := json.Unmarshal(a.place.Body, &b); err != nil {
						a.confirm.Err = err
						return
					}
					a.confirm = bhSend(client, f.srv.URL, "POST", "/api/v1/bookings/"+b.ID.String()+"/confirm", f.tokens[a.who], nil, nil)
				})
			}
			close(gate)
			wg.Wait()
			close(done)
			watch.Wait()
			if watchErr != nil {
				t.Fatal(watchErr)
			}
			won, challenged, holds, directWins := 0, 0, 0, 0
			for _, a := range attempts {
				if a.place.Err != nil {
					t.Fatalf("round %d: %v", round, a.place.Err)
				}
				switch a.place.Status {
				case http.StatusCreated:
					b := bhJSON[booking.Booking](t, a.place, http.StatusCreated)
					if a.who == "manager" {
						if b.Status != booking.StatusConfirmed {
							t.Errorf("round %d: direct booking answered %s", round, b.Status)
						}
						won++
						directWins++
						continue
					}
					if b.Status != booking.StatusHold {
						t.Errorf("round %d: hold answered %s", round, b.Status)
					}
					holds++
				case http.StatusConflict:
					if err := checkConflict(a.place); err != nil {
						t.Errorf("round %d: %v", round, err)
					}
					continue
				default:
					t.Errorf("round %d: %s placing: %v (want 201 or 409)", round, a.who, a.place)
					continue
				}
				if a.confirm.Err != nil {
					t.Fatalf("round %d: %v", round, a.confirm.Err)
				}
				switch a.confirm.Status {
				case http.StatusOK:
					b := bhJSON[booking.Booking](t, a.confirm, http.StatusOK)
					if b.Status != booking.StatusConfirmed {
						t.Errorf("round %d: confirmation answered 200 with %s", round, b.Status)
					}
					won++
				case http.StatusAccepted:
					b := bhJSON[booking.Booking](t, a.confirm, http.StatusAccepted)
					if b.Status != booking.StatusHold || b.Challenge == nil {
						t.Errorf("round %d: 202 without an open challenge: %+v", round, b)
					}
					challenged++
				case http.StatusConflict:
					if err := checkConflict(a.confirm); err != nil {
						t.Errorf("round %d: %v", round, err)
					}
				default:
					t.Errorf("round %d: %s confirming: %v (want 200, 202 or 409)", round, a.who, a.confirm)
				}
			}
			_, confirmed, _ := window(t, common)
			if maxSeen.Load() > 1 || confirmed > 1 {
				t.Fatalf("round %d: %d confirmed bookings in the window (at most %d seen during the round)", round, confirmed, maxSeen.Load())
			}
			if won != confirmed {
				t.Errorf("round %d: %d successes answered but %d confirmed bookings stored", round, won, confirmed)
			}
			// Liveness: either a manager booked before any hold existed, or the first
			// hold's own confirmation has nobody ahead of it and must win.
			if confirmed != 1 {
				t.Errorf("round %d: no booking was confirmed (%d challenges opened)", round, challenged)
			}
			t.Logf("round %d: %d holds placed, %d challenges opened, %d confirmed (%d by direct booking)", round, holds, challenged, confirmed, directWins)
		}
	})
}

// TestBookingBadInput sends malformed and senseless bookings and reschedules: each is
// refused with a stable code and nothing is written.
func TestBookingBadInput(t *testing.T) {
	t.Parallel()
	f := bhSetup(t, nil)
	suite, prod := f.res[bhSuite3], f.prod["producer"]
	start := bhAt(2027, 3, 10, 10)
	end := start.Add(4 * time.Hour)
	body := func(mod func(m map[string]any)) map[string]any {
		m := map[string]any{"production_id": prod, "resource_id": suite, "start": bhTS(start), "end": bhTS(end)}
		if mod != nil {
			mod(m)
		}
		return m
	}
	// One valid booking to reschedule badly, made before counting.
	existing := f.book(t, f.tokens["manager"], prod, []uuid.UUID{suite}, start, end, booking.StatusHold)

	count := func() (groups, rows int) {
		t.Helper()
		if err := f.db.Pool.QueryRow(f.ctx, `SELECT (SELECT count(*) FROM booking_groups), (SELECT count(*) FROM bookings)`).Scan(&groups, &rows); err != nil {
			t.Fatal(err)
		}
		return
	}
	g0, r0 := count()

	const (
		invalid       = http.StatusBadRequest
		unprocessable = http.StatusUnprocessableEntity
		notFound      = http.StatusNotFound
		forbidden     = http.StatusForbidden
	)
	codes := map[int]string{invalid: booking.EINVALID, unprocessable: booking.EUNPROCESSABLE, notFound: booking.ENOTFOUND, forbidden: booking.EFORBIDDEN}
	manager, producer := f.tokens["manager"], f.tokens["producer"]
	validJSON, _ := json.Marshal(body(nil))
	cases := []struct {
		name   string
		token  string
		body   any
		status int
		field  string // details.field, when the refusal names one
	}{
		{"end before start", manager, body(func(m map[string]any) { m["end"] = bhTS(start.Add(-time.Hour)) }), unprocessable, "end"},
		{"zero duration", manager, body(func(m map[string]any) { m["end"] = bhTS(start) }), unprocessable, "end"},
		{"zero duration in another offset", manager, body(func(m map[string]any) { m["end"] = start.Format(time.RFC3339) }), unprocessable, "end"},
		{"over a year", manager, body(func(m map[string]any) { m["end"] = bhTS(start.Add(367 * 24 * time.Hour)) }), unprocessable, "end"},
		{"start without offset", manager, body(func(m map[string]any) { m["start"] = "2027-03-10T10:00:00" }), invalid, "start"},
		{"end without offset", manager, body(func(m map[string]any) { m["end"] = "2027-03-10T14:00:00" }), invalid, "end"},
		{"start as a date", manager, body(func(m map[string]any) { m["start"] = "2027-03-10" }), invalid, "start"},
		{"missing start", manager, body(func(m map[string]any) { delete(m, "start") }), invalid, "start"},
		{"missing end", manager, body(func(m map[string]any) { delete(m, "end") }), invalid, "end"},
		{"start as number", manager, body(func(m map[string]any) { m["start"] = 1804240800 }), invalid, "start"},
		{"production_id as number", manager, body(func(m map[string]any) { m["production_id"] = 7 }), invalid, "production_id"},
		{"malformed production_id", manager, body(func(m map[string]any) { m["production_id"] = "not-a-uuid" }), invalid, ""},
		{"unknown field", manager, body(func(m map[string]any) { m["colour"] = "teal" }), invalid, ""},
		{"missing production_id", manager, body(func(m map[string]any) { delete(m, "production_id") }), invalid, "production_id"},
		{"nil production_id", manager, body(func(m map[string]any) { m["production_id"] = uuid.Nil }), invalid, "production_id"},
		{"no resource", manager, body(func(m map[string]any) { delete(m, "resource_id") }), invalid, "resource_ids"},
		{"status maybe", manager, body(func(m map[string]any) { m["status"] = "maybe" }), invalid, "status"},
		{"status cancelled", manager, body(func(m map[string]any) { m["status"] = "cancelled" }), invalid, "status"},
		{"duplicate resource ids", manager, body(func(m map[string]any) { delete(m, "resource_id"); m["resource_ids"] = []uuid.UUID{suite, suite} }), invalid, "resource_ids"},
		{"resource_id repeated in resource_ids", manager, body(func(m map[string]any) { m["resource_ids"] = []uuid.UUID{suite} }), invalid, "resource_ids"},
		{"start in the past", manager, body(func(m map[string]any) {
			m["start"], m["end"] = bhTS(time.Now().Add(-48*time.Hour).Truncate(time.Hour)), bhTS(time.Now().Add(-46*time.Hour).Truncate(time.Hour))
		}), unprocessable, "start"},
		{"resources at two sites", manager, body(func(m map[string]any) { m["resource_ids"] = []uuid.UUID{f.res[bhDakar]} }), unprocessable, "resource_ids"},
		{"invalid UTF-8", manager, []byte("{\"production_id\":\"" + prod.String() + "\",\"resource_id\":\"" + suite.String() + "\",\"start\":\"" + bhTS(start) +
			"\",\"end\":\"" + bhTS(end) + "\",\"note\":\"\xff\xfe\"}"), invalid, ""},
		{"truncated JSON", manager, string(validJSON[:len(validJSON)-3]), invalid, ""},
		{"two JSON values", manager, string(validJSON) + string(validJSON), invalid, ""},
		{"empty body", manager, "", invalid, ""},
		{"JSON array", manager, "[" + string(validJSON) + "]", invalid, ""},
		{"note too long", manager, body(func(m map[string]any) { m["note"] = strings.Repeat("n", 2001) }), invalid, "note"},
		// The Bookings contract answers a production or resource the caller may not see
		// with not_found (404), so another company's production looks like a missing one.
		{"unknown production", manager, body(func(m map[string]any) { m["production_id"] = uuid.New() }), notFound, ""},
		{"unknown resource", manager, body(func(m map[string]any) { m["resource_id"] = uuid.New() }), notFound, ""},
		{"another organisation's production", producer, body(func(m map[string]any) { m["production_id"] = f.prod["producer_other"] }), notFound, ""},
		{"producer books confirmed", producer, body(func(m map[string]any) { m["status"] = "confirmed" }), forbidden, ""},
	}
	for _, c := range cases {
		res := f.bhDo(t, "POST", "/api/v1/bookings", c.token, c.body, nil)
		p, err := bhCheckProblem(res, c.status, codes[c.status])
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if c.field != "" && p.Details["field"] != c.field {
			t.Errorf("%s: details %v, want field %q", c.name, p.Details, c.field)
		}
		if p.Detail == "" || p.RequestID == "" {
			t.Errorf("%s: problem without detail or request id: %+v", c.name, p)
		}
	}
	// An unknown production and another company's production answer alike.
	unknown := bhProblem(t, f.bhDo(t, "POST", "/api/v1/bookings", producer, body(func(m map[string]any) { m["production_id"] = uuid.New() }), nil), notFound, booking.ENOTFOUND)
	theirs := bhProblem(t, f.bhDo(t, "POST", "/api/v1/bookings", producer, body(func(m map[string]any) { m["production_id"] = f.prod["producer_other"] }), nil), notFound, booking.ENOTFOUND)
	if unknown.Detail != theirs.Detail || len(unknown.Details) != len(theirs.Details) {
		t.Errorf("another company's production is distinguishable from a missing one: %+v vs %+v", theirs, unknown)
	}
	if g, r := count(); g != g0 || r != r0 {
		t.Fatalf("refused bookings wrote rows: booking_groups %d → %d, bookings %d → %d", g0, g, r0, r)
	}

	// Rescheduling with bad times.
	path := "/api/v1/bookings/" + existing.ID.String()
	times := func(s, e any) map[string]any { return map[string]any{"start": s, "end": e} }
	patches := []struct {
		name   string
		body   any
		hdr    map[string]string
		status int
		code   string
	}{
		{"end before start", times(bhTS(start.Add(2*time.Hour)), bhTS(start.Add(time.Hour))), nil, unprocessable, booking.EUNPROCESSABLE},
		{"zero duration", times(bhTS(start), bhTS(start)), nil, unprocessable, booking.EUNPROCESSABLE},
		{"over a year", times(bhTS(start), bhTS(start.Add(400*24*time.Hour))), nil, unprocessable, booking.EUNPROCESSABLE},
		{"start without offset", times("2027-03-10T10:00:00", bhTS(end)), nil, invalid, booking.EINVALID},
		{"end without offset", times(bhTS(start), "2027-03-10T14:00:00"), nil, invalid, booking.EINVALID},
		{"start as number", times(1804240800, bhTS(end)), nil, invalid, booking.EINVALID},
		{"missing end", map[string]any{"start": bhTS(start)}, nil, invalid, booking.EINVALID},
		{"empty body", "", nil, invalid, booking.EINVALID},
		{"unknown field", map[string]any{"start": bhTS(start), "end": bhTS(end), "resource_id": suite}, nil, invalid, booking.EINVALID},
		{"invalid UTF-8", []byte("{\"start\":\"" + bhTS(start) + "\",\"end\":\"" + bhTS(end) + "\",\"reason\":\"\xc3\x28\"}"), nil, invalid, booking.EINVALID},
		{"start in the past", times(bhTS(time.Now().Add(-3*time.Hour).Truncate(time.Hour)), bhTS(time.Now().Add(-time.Hour).Truncate(time.Hour))), nil, unprocessable, booking.EUNPROCESSABLE},
		{"malformed If-Match", times(bhTS(start.Add(time.Hour)), bhTS(end.Add(time.Hour))), map[string]string{"If-Match": "yesterday"}, http.StatusPreconditionFailed, booking.EPRECONDITION},
	}
	for _, c := range patches {
		res := f.bhDo(t, "PATCH", path, manager, c.body, c.hdr)
		if _, err := bhCheckProblem(res, c.status, c.code); err != nil {
			t.Errorf("PATCH %s: %v", c.name, err)
		}
	}
	res := f.bhDo(t, "PATCH", "/api/v1/bookings/"+uuid.NewString(), manager, times(bhTS(start), bhTS(end)), nil)
	bhProblem(t, res, notFound, booking.ENOTFOUND)
	after := bhJSON[booking.Booking](t, f.bhDo(t, "GET", path, manager, nil, nil), http.StatusOK)
	if after.Version != existing.Version || !after.Start.Equal(existing.Start) || !after.End.Equal(existing.End) || after.Status != existing.Status {
		t.Fatalf("refused reschedules changed the booking: %+v → %+v", existing, after)
	}
	if g, r := count(); g != g0 || r != r0 {
		t.Fatalf("refused reschedules wrote rows: booking_groups %d → %d, bookings %d → %d", g0, g, r0, r)
	}
}

// TestIdempotencyAndETags replays a booking by its Idempotency-Key and walks a
// booking's versions with If-Match and If-None-Match.
func TestIdempotencyAndETags(t *testing.T) {
	t.Parallel()
	f := bhSetup(t, nil)
	suite, prod := f.res[bhMixA], f.prod["producer"]
	start := bhAt(2027, 4, 12, 9)
	end := start.Add(3 * time.Hour)
	body := fmt.Sprintf(`{"production_id":%q,"resource_id":%q,"start":%q,"end":%q,"note":"premix"}`, prod, suite, bhTS(start), bhTS(end))
	rows := func() (groups, bookings int) {
		t.Helper()
		if err := f.db.Pool.QueryRow(f.ctx, `SELECT (SELECT count(*) FROM booking_groups WHERE production_id = $1),
			(SELECT count(*) FROM bookings WHERE production_id = $1)`, prod).Scan(&groups, &bookings); err != nil {
			t.Fatal(err)
		}
		return
	}
	key := map[string]string{"Idempotency-Key": "booking-" + uuid.NewString()}
	manager := f.tokens["manager"]

	first := f.bhDo(t, "POST", "/api/v1/bookings", manager, body, key)
	created := bhJSON[booking.Booking](t, first, http.StatusCreated)
	if first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatal("the first answer says it was replayed")
	}
	second := f.bhDo(t, "POST", "/api/v1/bookings", manager, body, key)
	replayed := bhJSON[booking.Booking](t, second, http.StatusCreated)
	if replayed.ID != created.ID || second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: id %s (first %s), Idempotent-Replayed %q", replayed.ID, created.ID, second.Header.Get("Idempotent-Replayed"))
	}
	if !bytes.Equal(first.Body, second.Body) {
		t.Errorf("replayed body differs:\n%s\n%s", first.Body, second.Body)
	}
	for _, h := range []string{"Location", "ETag", "Content-Type"} {
		if first.Header.Get(h) != second.Header.Get(h) || first.Header.Get(h) == "" {
			t.Errorf("header %s: first %q, replay %q", h, first.Header.Get(h), second.Header.Get(h))
		}
	}
	if g, b := rows(); g != 1 || b != 1 {
		t.Fatalf("a retried POST stored %d groups and %d bookings rows, want 1 and 1", g, b)
	}
	// The same key with another body is refused, and writes nothing.
	other := strings.Replace(body, `"note":"premix"`, `"note":"final mix"`, 1)
	bhProblem(t, f.bhDo(t, "POST", "/api/v1/bookings", manager, other, key), http.StatusUnprocessableEntity, booking.EUNPROCESSABLE)
	if g, b := rows(); g != 1 || b != 1 {
		t.Fatalf("a reused key stored a booking: %d groups, %d rows", g, b)
	}
	// Keys belong to their user: the producer's identical request with the same key is
	// its own, new booking (a second hold in the queue).
	mine := f.bhDo(t, "POST", "/api/v1/bookings", f.tokens["producer"], body, key)
	if b := bhJSON[booking.Booking](t, mine, http.StatusCreated); b.ID == created.ID || mine.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("another user's key replayed the manager's answer: %s", mine.Body)
	}
	if g, _ := rows(); g != 2 {
		t.Fatalf("%d groups after the producer's booking, want 2", g)
	}

	// ETags: versions, If-Match and If-None-Match.
	path := "/api/v1/bookings/" + created.ID.String()
	got := f.bhDo(t, "GET", path, manager, nil, nil)
	v1 := got.Header.Get("ETag")
	if b := bhJSON[booking.Booking](t, got, http.StatusOK); v1 != fmt.Sprintf(`"%d"`, b.Version) || b.Version != 1 {
		t.Fatalf("ETag %q for version %d", v1, b.Version)
	}
	moved := f.bhDo(t, "PATCH", path, manager, map[string]any{"start": bhTS(start.Add(24 * time.Hour)), "end": bhTS(end.Add(24 * time.Hour))},
		map[string]string{"If-Match": v1})
	v2 := moved.Header.Get("ETag")
	if b := bhJSON[booking.Booking](t, moved, http.StatusOK); v2 != `"2"` || b.Version != 2 {
		t.Fatalf("after rescheduling: ETag %q, version %d", v2, b.Version)
	}
	stale := map[string]string{"If-Match": v1}
	p := bhProblem(t, f.bhDo(t, "POST", path+"/confirm", manager, nil, stale), http.StatusPreconditionFailed, booking.EPRECONDITION)
	if p.Details["version"] != float64(2) {
		t.Errorf("412 details %v, want the current version 2", p.Details)
	}
	bhProblem(t, f.bhDo(t, "PATCH", path, manager, map[string]any{"start": bhTS(start), "end": bhTS(end)}, stale), http.StatusPreconditionFailed, booking.EPRECONDITION)
	bhProblem(t, f.bhDo(t, "POST", path+"/release", manager, nil, map[string]string{"If-Match": `W/"1"`}), http.StatusPreconditionFailed, booking.EPRECONDITION)
	now := bhJSON[booking.Booking](t, f.bhDo(t, "GET", path, manager, nil, nil), http.StatusOK)
	if now.Version != 2 || now.Status != booking.StatusHold || !now.Start.Equal(start.Add(24*time.Hour)) {
		t.Fatalf("stale If-Match changed the booking: %+v", now)
	}
	current := f.bhDo(t, "GET", path, manager, nil, nil).Header.Get("ETag")
	confirmed := f.bhDo(t, "POST", path+"/confirm", manager, nil, map[string]string{"If-Match": current})
	c := bhJSON[booking.Booking](t, confirmed, http.StatusOK)
	if c.Status != booking.StatusConfirmed || confirmed.Header.Get("ETag") != fmt.Sprintf(`"%d"`, c.Version) || c.Version != 3 {
		t.Fatalf("confirm with the current ETag: %+v, ETag %q", c, confirmed.Header.Get("ETag"))
	}
	v3 := confirmed.Header.Get("ETag")
	for _, inm := range []string{v3, "W/" + v3} {
		res := f.bhDo(t, "GET", path, manager, nil, map[string]string{"If-None-Match": inm})
		if res.Status != http.StatusNotModified || len(res.Body) != 0 || res.Header.Get("ETag") != v3 {
			t.Errorf("If-None-Match %s: %v, ETag %q", inm, res, res.Header.Get("ETag"))
		}
	}
	if res := f.bhDo(t, "GET", path, manager, nil, map[string]string{"If-None-Match": v2}); res.Status != http.StatusOK {
		t.Errorf("If-None-Match of an old version: %v", res)
	}
}

// TestProducerSeesOthersOnlyAsBusy checks that another company's bookings reach a
// producer only as busy intervals: in listings, by id and in conflicts.
func TestProducerSeesOthersOnlyAsBusy(t *testing.T) {
	t.Parallel()
	f := bhSetup(t, nil)
	resource := f.res[bhSuite1]
	s1, s2, s3 := bhAt(2027, 7, 5, 10), bhAt(2027, 7, 6, 10), bhAt(2027, 7, 8, 10)
	theirHold := f.book(t, f.tokens["producer_other"], f.prod["producer_other"], []uuid.UUID{resource}, s1, s1.Add(4*time.Hour), booking.StatusHold)
	theirs := f.book(t, f.tokens["manager"], f.prod["producer_other"], []uuid.UUID{resource}, s2, s2.Add(4*time.Hour), booking.StatusConfirmed)
	mine := f.book(t, f.tokens["producer"], f.prod["producer"], []uuid.UUID{resource}, s3, s3.Add(4*time.Hour), booking.StatusHold)

	// Whatever could name the other company must not reach the producer.
	secrets := []string{f.prod["producer_other"].String(), f.org["producer_other"].String(), theirHold.ID.String(), theirs.ID.String()}
	rows, _ := f.db.Pool.Query(f.ctx, `SELECT p.title FROM productions p WHERE p.organisation_id = $1
		UNION ALL SELECT o.name FROM organisations o WHERE o.id = $1 UNION ALL SELECT o.slug FROM organisations o WHERE o.id = $1`, f.org["producer_other"])
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(names) < 3 {
		t.Fatalf("names of the other company: %v %v", names, err)
	}
	secrets = append(secrets, names...)
	leaks := func(what string, body []byte) {
		t.Helper()
		for _, s := range secrets {
			if bytes.Contains(body, []byte(s)) {
				t.Errorf("%s shows the producer %q of another company: %s", what, s, body)
			}
		}
	}

	listing := f.bhDo(t, "GET", "/api/v1/bookings?resource_id="+resource.String(), f.tokens["producer"], nil, nil)
	var list struct {
		Items []map[string]any `json:"items"`
		Busy  []map[string]any `json:"busy"`
	}
	if listing.Status != http.StatusOK || json.Unmarshal(listing.Body, &list) != nil {
		t.Fatalf("listing: %v", listing)
	}
	leaks("the listing", listing.Body)
	if len(list.Items) != 1 || list.Items[0]["id"] != mine.ID.String() {
		t.Fatalf("items %v, want only the producer's own booking %s", list.Items, mine.ID)
	}
	if len(list.Busy) != 2 {
		t.Fatalf("busy %v, want the other company's hold and confirmed booking", list.Busy)
	}
	for i, want := range []booking.Booking{theirHold, theirs} {
		got := list.Busy[i]
		keys := make([]string, 0, len(got))
		for k := range got {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if strings.Join(keys, ",") != "busy,end,resource_id,start" {
			t.Errorf("busy entry has fields %v, want only resource_id, start, end, busy", keys)
		}
		gs, _ := time.Parse(time.RFC3339, fmt.Sprint(got["start"]))
		ge, _ := time.Parse(time.RFC3339, fmt.Sprint(got["end"]))
		if got["busy"] != true || got["resource_id"] != resource.String() || !gs.Equal(want.Start) || !ge.Equal(want.End) {
			t.Errorf("busy entry %v, want %s–%s on %s", got, want.Start, want.End, resource)
		}
	}
	// Managers see every booking as a booking, and no busy list.
	all := f.bhDo(t, "GET", "/api/v1/bookings?resource_id="+resource.String(), f.tokens["manager"], nil, nil)
	var mgr struct {
		Items []booking.Booking `json:"items"`
		Busy  json.RawMessage   `json:"busy"`
	}
	if all.Status != http.StatusOK || json.Unmarshal(all.Body, &mgr) != nil || len(mgr.Items) != 3 || mgr.Busy != nil {
		t.Fatalf("manager's listing: %v", all)
	}

	// By id, the other company's booking does not exist.
	none := bhProblem(t, f.bhDo(t, "GET", "/api/v1/bookings/"+uuid.NewString(), f.tokens["producer"], nil, nil), http.StatusNotFound, booking.ENOTFOUND)
	for _, id := range []uuid.UUID{theirHold.ID, theirs.ID} {
		res := f.bhDo(t, "GET", "/api/v1/bookings/"+id.String(), f.tokens["producer"], nil, nil)
		p := bhProblem(t, res, http.StatusNotFound, booking.ENOTFOUND)
		if p.Detail != none.Detail || p.Title != none.Title || len(p.Details) != len(none.Details) {
			t.Errorf("another company's booking is distinguishable from a missing one: %+v vs %+v", p, none)
		}
		// The problem's instance echoes the path the producer asked for; beyond that
		// nothing may name the booking or its company.
		leaks("GET by id", bytes.ReplaceAll(res.Body, []byte(`"instance":"/api/v1/bookings/`+id.String()+`"`), nil))
	}

	// The slot the manager confirmed for the other company: the producer's hold and the
	// producer's reschedule into it are refused with the interval only.
	checkConflict := func(what string, res bhResult) {
		t.Helper()
		p := bhProblem(t, res, http.StatusConflict, booking.ECONFLICT)
		leaks(what, res.Body)
		if len(p.Details) != 1 {
			t.Errorf("%s: details %v, want only conflicts", what, p.Details)
		}
		cs, _ := p.Details["conflicts"].([]any)
		if len(cs) != 1 {
			t.Fatalf("%s: conflicts %v, want the confirmed booking", what, p.Details["conflicts"])
		}
		c, _ := cs[0].(map[string]any)
		keys := make([]string, 0, len(c))
		for k := range c {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if strings.Join(keys, ",") != "end,kind,resource_id,start" {
			t.Errorf("%s: conflict has fields %v, want only resource_id, start, end, kind", what, keys)
		}
		cstart, _ := time.Parse(time.RFC3339, fmt.Sprint(c["start"]))
		cend, _ := time.Parse(time.RFC3339, fmt.Sprint(c["end"]))
		if c["kind"] != "booking" || c["resource_id"] != resource.String() || !cstart.Equal(theirs.Start) || !cend.Equal(theirs.End) {
			t.Errorf("%s: conflict %v, want the booking %s–%s", what, c, theirs.Start, theirs.End)
		}
	}
	take := map[string]any{"production_id": f.prod["producer"], "resource_id": resource, "start": bhTS(s2.Add(time.Hour)), "end": bhTS(s2.Add(6 * time.Hour))}
	checkConflict("a hold on the confirmed slot", f.bhDo(t, "POST", "/api/v1/bookings", f.tokens["producer"], take, nil))
	checkConflict("a reschedule into the confirmed slot", f.bhDo(t, "PATCH", "/api/v1/bookings/"+mine.ID.String(), f.tokens["producer"],
		map[string]any{"start": bhTS(s2.Add(-time.Hour)), "end": bhTS(s2.Add(time.Hour))}, nil))
	if st := f.state(t, mine.ID); !st.Start.Equal(mine.Start) || st.Version != mine.Version {
		t.Errorf("the refused reschedule moved the producer's hold: %+v", st)
	}
}

// TestCursorPagination pages through bookings three at a time.
func TestCursorPagination(t *testing.T) {
	t.Parallel()
	f := bhSetup(t, nil)
	manager := f.tokens["manager"]
	suite, other := f.res[bhSuite2], f.res[bhSuite3]
	// Seven bookings created out of order; two share a start (on different resources),
	// and fall either side of the first page's end, so the cursor must break the tie.
	type spec struct {
		day      int
		resource uuid.UUID
	}
	// Working days of August 2027, sorted: 12, 13, 16 | 16, 18, 19 | 23.
	specs := []spec{{19, suite}, {16, suite}, {23, suite}, {12, suite}, {16, other}, {18, suite}, {13, suite}}
	created := map[uuid.UUID]booking.Booking{}
	for _, s := range specs {
		start := bhAt(2027, 8, s.day, 9)
		b := f.book(t, manager, f.prod["producer"], []uuid.UUID{s.resource}, start, start.Add(2*time.Hour), booking.StatusHold)
		created[b.ID] = b
	}
	var seen []booking.Booking
	var sizes []int
	cursor := ""
	for page := 0; ; page++ {
		if page > len(specs) {
			t.Fatalf("the cursor never ran out: %d pages", page)
		}
		path := "/api/v1/bookings?limit=3"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		l := bhJSON[listOf[booking.Booking]](t, f.bhDo(t, "GET", path, manager, nil, nil), http.StatusOK)
		seen = append(seen, l.Items...)
		sizes = append(sizes, len(l.Items))
		if l.NextCursor == "" {
			break
		}
		cursor = l.NextCursor
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Errorf("page sizes %v, want [3 3 1]", sizes)
	}
	ids := map[uuid.UUID]int{}
	for _, b := range seen {
		ids[b.ID]++
		if _, ok := created[b.ID]; !ok {
			t.Errorf("listed a booking never created: %s", b.ID)
		}
	}
	for id := range created {
		if ids[id] != 1 {
			t.Errorf("booking %s listed %d times", id, ids[id])
		}
	}
	for i := 1; i < len(seen); i++ {
		a, b := seen[i-1], seen[i]
		if a.Start.After(b.Start) || (a.Start.Equal(b.Start) && bytes.Compare(a.ID[:], b.ID[:]) >= 0) {
			t.Errorf("out of order at %d: %s %s then %s %s", i, a.Start, a.ID, b.Start, b.ID)
		}
	}
	bhProblem(t, f.bhDo(t, "GET", "/api/v1/bookings?cursor=not*a*cursor", manager, nil, nil), http.StatusBadRequest, booking.EINVALID)
	bhProblem(t, f.bhDo(t, "GET", "/api/v1/bookings?limit=0", manager, nil, nil), http.StatusBadRequest, booking.EINVALID)
}
