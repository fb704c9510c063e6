package main

import (
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// verdict collects the invariants a drill checked and which of them broke.
type verdict struct {
	w      io.Writer
	broken []string
}

// check prints an invariant's outcome; details are printed under a broken one.
func (v *verdict) check(name string, ok bool, summary string, details ...string) {
	if ok {
		fmt.Fprintf(v.w, "  OK      %-34s %s\n", name, summary)
		return
	}
	v.broken = append(v.broken, name)
	fmt.Fprintf(v.w, "  BROKEN  %-34s %s\n", name, summary)
	for i, d := range details {
		if i == 20 {
			fmt.Fprintf(v.w, "            … and %d more\n", len(details)-20)
			break
		}
		fmt.Fprintf(v.w, "            %s\n", d)
	}
}

// note prints a reported (not checked) figure.
func (v *verdict) note(name, summary string, details ...string) {
	fmt.Fprintf(v.w, "  NOTE    %-34s %s\n", name, summary)
	for i, d := range details {
		if i == 10 {
			fmt.Fprintf(v.w, "            … and %d more\n", len(details)-10)
			break
		}
		fmt.Fprintf(v.w, "            %s\n", d)
	}
}

func (v *verdict) err() error {
	if len(v.broken) == 0 {
		return nil
	}
	return &invariantError{names: v.broken}
}

// overlappingConfirmed lists pairs of confirmed (or completed) bookings of one resource
// whose intervals overlap: what bookings_no_overlap must make impossible.
func overlappingConfirmed(ctx context.Context, pool *pgxpool.Pool) ([]string, int, error) {
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM bookings WHERE status IN ('confirmed', 'completed')`).Scan(&n); err != nil {
		return nil, 0, err
	}
	rows, _ := pool.Query(ctx, `SELECT a.resource_id, a.group_id, a.during::text, b.group_id, b.during::text
		FROM bookings a JOIN bookings b ON a.resource_id = b.resource_id AND a.id < b.id AND a.during && b.during
		WHERE a.status IN ('confirmed', 'completed') AND b.status IN ('confirmed', 'completed')
		ORDER BY 1 LIMIT 50`)
	var out []string
	var res, ga, gb uuid.UUID
	var da, db string
	_, err := pgx.ForEachRow(rows, []any{&res, &ga, &da, &gb, &db}, func() error {
		out = append(out, fmt.Sprintf("resource %s: booking %s %s overlaps booking %s %s", res, ga, da, gb, db))
		return nil
	})
	return out, n, err
}

// inconsistentRows lists bookings whose per-resource rows disagree with their group on
// status or interval.
func inconsistentRows(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	rows, _ := pool.Query(ctx, `SELECT g.id, g.status, b.status, tstzrange(g.start_at, g.end_at)::text, b.during::text
		FROM booking_groups g JOIN bookings b ON b.group_id = g.id
		WHERE g.status <> b.status OR tstzrange(g.start_at, g.end_at) <> b.during LIMIT 50`)
	var out []string
	var id uuid.UUID
	var gs, bs, gd, bd string
	_, err := pgx.ForEachRow(rows, []any{&id, &gs, &bs, &gd, &bd}, func() error {
		out = append(out, fmt.Sprintf("booking %s: group %s %s, row %s %s", id, gs, gd, bs, bd))
		return nil
	})
	return out, err
}

// lostAcknowledged lists bookings the API acknowledged as confirmed that are not
// confirmed (or completed) now. The drills never cancel or move a confirmed booking.
func lostAcknowledged(ctx context.Context, pool *pgxpool.Pool, ids []uuid.UUID) ([]string, error) {
	rows, _ := pool.Query(ctx, `SELECT a.id, coalesce(g.status, 'missing') FROM unnest($1::uuid[]) a(id)
		LEFT JOIN booking_groups g ON g.id = a.id WHERE g.status IS DISTINCT FROM 'confirmed' AND g.status IS DISTINCT FROM 'completed'`, ids)
	var out []string
	var id uuid.UUID
	var st string
	_, err := pgx.ForEachRow(rows, []any{&id, &st}, func() error {
		out = append(out, fmt.Sprintf("booking %s was acknowledged as confirmed and is %s", id, st))
		return nil
	})
	return out, err
}

// waitQuiet waits until posthub's queues hold no job that is due and unfinished
// (available, running, retrying, or scheduled for a time already past), three polls
// in a row, or until timeout. It returns when that was reached and what is left.
func waitQuiet(ctx context.Context, pool *pgxpool.Pool, timeout time.Duration, log *progress) (time.Time, []string, error) {
	deadline := time.Now().Add(timeout)
	clean, lastLog := 0, time.Now()
	for {
		rows, _ := pool.Query(ctx, `SELECT kind, state::text, count(*), min(attempt), max(attempt)
			FROM river_job WHERE queue IN ('notifications', 'reminders', 'maintenance')
			  AND (state IN ('available', 'running', 'retryable', 'pending') OR (state = 'scheduled' AND scheduled_at <= now()))
			GROUP BY 1, 2 ORDER BY 1, 2`)
		var left []string
		var kind, state string
		var n, amin, amax int
		_, err := pgx.ForEachRow(rows, []any{&kind, &state, &n, &amin, &amax}, func() error {
			left = append(left, fmt.Sprintf("%s %s ×%d (attempts %d-%d)", kind, state, n, amin, amax))
			return nil
		})
		if err != nil {
			// The database may be restarting; keep polling until the deadline.
			left = []string{"error: " + err.Error()}
		}
		if len(left) == 0 {
			clean++
			if clean >= 3 {
				return time.Now(), nil, nil
			}
		} else {
			clean = 0
		}
		if time.Now().After(deadline) {
			return time.Time{}, left, nil
		}
		if time.Since(lastLog) > 15*time.Second && len(left) > 0 {
			log.printf("waiting for the job queues to drain: %s", strings.Join(left, ", "))
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			return time.Time{}, left, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// managerKinds are the events posthub's NoticeWorker also tells the site's managers of
// (internal/jobs/notify.go); everyone else hears only of their own productions.
var managerKinds = []string{"approval_requested", "challenge_opened", "confirmed", "cancelled", "rescheduled", "local_time_changed", "working_time_changed"}

// emailKey is one expected email: an event told to a recipient.
type emailKey struct {
	event, user uuid.UUID
}

func (k emailKey) messageID() string { return fmt.Sprintf("<%s.%s@posthub>", k.event, k.user) }

// noticeReport compares, for every booking notice job, the emails its recipients must
// get (recomputed from the users with NoticeWorker's rule: the production's
// organisation's producers, and the site's managers for managerKinds) with the
// deliveries table and the SMTP sink.
type noticeReport struct {
	jobs     int
	byState  map[string]int
	expected int // emails of completed notice jobs
	ok       int // with a deliveries row and received at least once
	// problems, by kind of problem, each an event kind → descriptions
	noRow       map[string][]string // the job completed, no deliveries row
	notReceived map[string][]string // a deliveries row, but the sink never got it
	unfinished  map[string][]string // the job is not completed (after the queues were quiet)
	perKind     map[string]int      // expected emails per event kind
	keys        map[emailKey]string // every expected email of a completed job → event kind
}

// noticeItems lists every notice of the notice jobs, one row each: a booking_notice job
// is one notice, a booking_notice_group job (one action's notices about several
// bookings of a production) several, all mailed as one message per person under the
// job's event_id. actor is the person who acted (NULL when posthub did): they are not
// mailed.
const noticeItems = `SELECT j.id AS job_id, j.state::text AS state, j.attempt, (j.args->>'event_id')::uuid AS key_id,
		x->>'event' AS event, (x->>'booking_id')::uuid AS booking_id, (x->>'at')::timestamptz AS at,
		nullif(coalesce(j.args->>'actor', x->>'actor'), '00000000-0000-0000-0000-000000000000')::uuid AS actor
	FROM river_job j CROSS JOIN LATERAL jsonb_array_elements(
		CASE WHEN j.kind = 'booking_notice_group' THEN j.args->'notices' ELSE jsonb_build_array(j.args) END) x
	WHERE j.kind IN ('booking_notice', 'booking_notice_group')`

func checkNotices(ctx context.Context, pool *pgxpool.Pool, sink *mailSink) (*noticeReport, error) {
	r := &noticeReport{byState: map[string]int{}, noRow: map[string][]string{}, notReceived: map[string][]string{},
		unfinished: map[string][]string{}, perKind: map[string]int{}, keys: map[emailKey]string{}}
	// One email per job and recipient: the production's producers, and the site's
	// managers for the kinds they are told of, less the person who acted.
	rows, _ := pool.Query(ctx, `WITH n AS (`+noticeItems+`)
		SELECT n.job_id, n.state, n.attempt, n.key_id, min(n.event), min(n.booking_id::text)::uuid, u.id, coalesce(max(d.status), '')
		FROM n
		JOIN booking_groups g ON g.id = n.booking_id
		JOIN productions p ON p.id = g.production_id
		CROSS JOIN LATERAL (
			SELECT id FROM users WHERE organisation_id = p.organisation_id AND role = 'producer' AND disabled_at IS NULL
			UNION
			SELECT u.id FROM users u JOIN user_sites us ON us.user_id = u.id
			WHERE us.site_id = g.site_id AND u.role = 'manager' AND u.disabled_at IS NULL AND n.event = ANY($1)
		) u
		LEFT JOIN deliveries d ON d.event_id = n.key_id AND d.recipient_id = u.id AND d.channel = 'email'
		WHERE u.id IS DISTINCT FROM n.actor
		GROUP BY n.job_id, n.state, n.attempt, n.key_id, u.id
		ORDER BY n.job_id`, managerKinds)
	var jobID int64
	var state, kind, dstatus string
	var attempt int
	var event, bookingID, user uuid.UUID
	seenJob := map[int64]bool{}
	_, err := pgx.ForEachRow(rows, []any{&jobID, &state, &attempt, &event, &kind, &bookingID, &user, &dstatus}, func() error {
		if !seenJob[jobID] {
			seenJob[jobID] = true
			r.jobs++
			r.byState[state]++
		}
		k := emailKey{event, user}
		desc := fmt.Sprintf("%s of booking %s to user %s (job %d %s, attempt %d) Message-ID %s", kind, bookingID, user, jobID, state, attempt, k.messageID())
		if state != "completed" {
			r.unfinished[kind] = append(r.unfinished[kind], desc)
			return nil
		}
		r.expected++
		r.perKind[kind]++
		r.keys[k] = kind
		switch {
		case dstatus != "delivered":
			r.noRow[kind] = append(r.noRow[kind], desc)
		default:
			if _, ok := sink.get(k.messageID()); !ok {
				r.notReceived[kind] = append(r.notReceived[kind], desc)
			} else {
				r.ok++
			}
		}
		return nil
	})
	return r, err
}

// filter returns the problems of the given event kinds (all kinds when none given).
func filterKinds(m map[string][]string, kinds ...string) []string {
	var out []string
	for k, v := range m {
		if len(kinds) == 0 || contains(kinds, k) {
			out = append(out, v...)
		}
	}
	sort.Strings(out)
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// sinkVsDeliveries compares what the sink received with the deliveries table: the
// Message-IDs received more than once (redeliveries), and those received with no
// deliveries row (sent, but the delivery never committed).
func sinkVsDeliveries(ctx context.Context, pool *pgxpool.Pool, sink *mailSink) (dups []string, dupMsgs int, unrecorded []string, err error) {
	for id, n := range sink.duplicates() {
		dups = append(dups, fmt.Sprintf("%s received %d times", id, n))
		dupMsgs += n - 1
	}
	sort.Strings(dups)
	rows, _ := pool.Query(ctx, `SELECT event_id, recipient_id FROM deliveries WHERE channel = 'email'`)
	rec := map[string]bool{}
	var e, u uuid.UUID
	if _, err := pgx.ForEachRow(rows, []any{&e, &u}, func() error {
		rec[emailKey{e, u}.messageID()] = true
		return nil
	}); err != nil {
		return nil, 0, nil, err
	}
	for _, id := range sink.ids() {
		if !rec[id] {
			unrecorded = append(unrecorded, id)
		}
	}
	sort.Strings(unrecorded)
	return dups, dupMsgs, unrecorded, nil
}

// stableID is internal/jobs.stableID: the event ID of a reminder, derived from the
// booking, its start and the offset so every retry and every process agree on it.
func stableID(parts ...string) uuid.UUID {
	h := sha1.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return uuid.NewSHA1(uuid.NameSpaceOID, h.Sum(nil))
}

func reminderEventID(bookingID uuid.UUID, start time.Time, before time.Duration) uuid.UUID {
	return stableID("reminder", bookingID.String(), start.UTC().Format(time.RFC3339), before.String())
}

// expectedReminder is one reminder email a confirmed booking calls for.
type expectedReminder struct {
	key       emailKey
	booking   uuid.UUID
	due       time.Time
	confirmed time.Time
}

// reminderExpectations lists the reminder emails of the confirmed (and completed)
// bookings: one per site reminder offset and recipient (the production's producers and
// the site's managers). confirmed is when the booking's confirmed event happened.
func reminderExpectations(ctx context.Context, pool *pgxpool.Pool) ([]expectedReminder, error) {
	rows, _ := pool.Query(ctx, `WITH n AS (`+noticeItems+`), conf AS (
			SELECT booking_id, min(at) AS at FROM n WHERE event = 'confirmed' GROUP BY 1)
		SELECT g.id, g.start_at, sp.reminder_offsets_seconds, conf.at, u.id
		FROM booking_groups g
		JOIN conf ON conf.booking_id = g.id
		JOIN site_policies sp ON sp.site_id = g.site_id
		JOIN productions p ON p.id = g.production_id
		CROSS JOIN LATERAL (
			SELECT id FROM users WHERE organisation_id = p.organisation_id AND role = 'producer' AND disabled_at IS NULL
			UNION
			SELECT u.id FROM users u JOIN user_sites us ON us.user_id = u.id
			WHERE us.site_id = g.site_id AND u.role = 'manager' AND u.disabled_at IS NULL
		) u
		WHERE g.status IN ('confirmed', 'completed')`)
	var out []expectedReminder
	var id, user uuid.UUID
	var start, conf time.Time
	var offsets []int
	_, err := pgx.ForEachRow(rows, []any{&id, &start, &offsets, &conf, &user}, func() error {
		for _, o := range offsets {
			before := time.Duration(o) * time.Second
			out = append(out, expectedReminder{key: emailKey{reminderEventID(id, start, before), user}, booking: id,
				due: start.Add(-before), confirmed: conf})
		}
		return nil
	})
	return out, err
}

// deliveredKeys returns the (event, recipient) pairs with an email deliveries row.
func deliveredKeys(ctx context.Context, pool *pgxpool.Pool, kind string) (map[emailKey]bool, error) {
	rows, _ := pool.Query(ctx, `SELECT event_id, recipient_id FROM deliveries WHERE channel = 'email' AND status = 'delivered' AND kind = $1`, kind)
	out := map[emailKey]bool{}
	var e, u uuid.UUID
	_, err := pgx.ForEachRow(rows, []any{&e, &u}, func() error {
		out[emailKey{e, u}] = true
		return nil
	})
	return out, err
}

// jobStates summarises River's jobs by kind and state.
func jobStates(ctx context.Context, pool *pgxpool.Pool) (string, error) {
	rows, _ := pool.Query(ctx, `SELECT kind, state::text, count(*) FROM river_job GROUP BY 1, 2 ORDER BY 1, 2`)
	var parts []string
	var kind, state string
	var n int
	_, err := pgx.ForEachRow(rows, []any{&kind, &state, &n}, func() error {
		parts = append(parts, fmt.Sprintf("%s/%s %d", kind, state, n))
		return nil
	})
	return strings.Join(parts, ", "), err
}

// summariseStates formats a state → count map.
func summariseStates(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// deadlocks reads PostgreSQL's count of deadlocks detected in the database.
func deadlocks(ctx context.Context, pool *pgxpool.Pool) int64 {
	var n int64
	_ = pool.QueryRow(ctx, `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
	return n
}
