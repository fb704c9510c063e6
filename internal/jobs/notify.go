package jobs

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/i18n"
	"github.com/posthub/posthub/internal/metrics"
	"github.com/posthub/posthub/internal/notify"
)

// Store is what the workers need of storage.
type Store interface {
	NoticeContext(ctx context.Context, bookingID uuid.UUID) (booking.NoticeContext, error)
	DeliverOnce(ctx context.Context, key booking.DeliveryKey, send func(ctx context.Context) error) (bool, error)
	AddInApp(ctx context.Context, entries []booking.InApp) (int, error)
	WebhookOutcome(ctx context.Context, id uuid.UUID, deliveryErr error) (bool, error)
	OrganisationUsers(ctx context.Context, orgID uuid.UUID) ([]booking.Recipient, error)
	ProcessDue(ctx context.Context, now time.Time) (booking.DueResult, error)
	ScheduleDue(ctx context.Context, st booking.FollowUpState, now time.Time) error
	SweepDue(ctx context.Context, now time.Time, limit int, enqueue func(ctx context.Context, tx pgx.Tx, ns []booking.DueNotice) error) (int, error)
	FindBooking(ctx context.Context, a booking.Actor, id uuid.UUID) (booking.Booking, error)
	SitePolicy(ctx context.Context, siteID uuid.UUID) (booking.SitePolicy, error)
	RederiveLocalTimes(ctx context.Context) ([]booking.Booking, error)
}

// Deps are the workers' collaborators.
type Deps struct {
	Store    Store
	Mailer   notify.Mailer
	Webhooks notify.WebhookSender
	Logger   *slog.Logger
	// BaseURL is where people reach the hub, for links in messages.
	BaseURL string
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Metrics counts deliveries; nil counts nothing.
	Metrics *metrics.Metrics
}

func (d *Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// NoticeArgs tells the people concerned about one booking event.
type NoticeArgs struct {
	EventID     uuid.UUID         `json:"event_id"`
	Event       booking.EventKind `json:"event"`
	BookingID   uuid.UUID         `json:"booking_id"`
	At          time.Time         `json:"at"`
	OldRank     int               `json:"old_rank,omitempty"`
	NewRank     int               `json:"new_rank,omitempty"`
	ChallengeID uuid.UUID         `json:"challenge_id,omitempty"`
	Reason      string            `json:"reason,omitempty"`
	// Actor is the user whose action raised the event: everyone concerned is told of
	// it but them (they see it where they acted). Nil when posthub itself acted.
	Actor uuid.UUID `json:"actor,omitempty"`
	// PreviousStart and PreviousEnd are where a rescheduled booking was; Replan, the
	// manager's re-plan that moved it (the notice says what moved and why).
	PreviousStart *time.Time           `json:"previous_start,omitempty"`
	PreviousEnd   *time.Time           `json:"previous_end,omitempty"`
	Replan        *booking.ReplanCause `json:"replan,omitempty"`
}

// Kind names the job.
func (NoticeArgs) Kind() string { return "booking_notice" }

// InsertOpts puts notices on the notifications queue.
func (NoticeArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueNotifications} }

// NoticeGroupArgs tells the people concerned of the events one action raised about
// several bookings of one production (a plan accepted or confirmed, a re-plan applied,
// a calendar change, a release that lets a challenger win): one message to each person,
// listing the events that concern them. EventID names the group: each person's
// deliveries (email, in-app) are keyed by it, and their mail's Message-ID is made of
// it, so a retried job finds them made. Each notice keeps its own EventID for the
// webhooks, which hear every event as before.
type NoticeGroupArgs struct {
	EventID      uuid.UUID    `json:"event_id"`
	ProductionID uuid.UUID    `json:"production_id"`
	Actor        uuid.UUID    `json:"actor,omitempty"`
	At           time.Time    `json:"at"`
	Notices      []NoticeArgs `json:"notices"`
}

// Kind names the job: a kind of its own, so a worker of an earlier release, which
// does not know it, leaves it for one that does instead of telling only its first event.
func (NoticeGroupArgs) Kind() string { return "booking_notice_group" }

// InsertOpts puts grouped notices on the notifications queue.
func (NoticeGroupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueNotifications}
}

// FollowUpArgs schedules what a booking's new state calls for: reminders before a
// confirmed booking, a warning before a hold expires, and the due-work at expiry and
// challenge deadlines. The Sink schedules these itself when the change's events carry
// the booking's state; this job is the path for events without it (and for jobs of
// earlier releases still queued).
type FollowUpArgs struct {
	BookingID uuid.UUID `json:"booking_id"`
}

// Kind names the job.
func (FollowUpArgs) Kind() string { return "booking_follow_up" }

// InsertOpts puts follow-ups on the reminders queue.
func (FollowUpArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueReminders} }

// ReminderArgs reminds the people concerned that a confirmed booking starts soon. It
// carries the start it was scheduled for: if the booking has moved or gone since, it
// does nothing (the change scheduled the new ones).
type ReminderArgs struct {
	BookingID uuid.UUID     `json:"booking_id"`
	Start     time.Time     `json:"start"`
	Before    time.Duration `json:"before"`
}

// Kind names the job.
func (ReminderArgs) Kind() string { return "booking_reminder" }

// InsertOpts makes reminders unique per booking, start and offset.
func (ReminderArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueReminders, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// HoldExpiringArgs warns a hold's producers that it is about to expire.
type HoldExpiringArgs struct {
	BookingID uuid.UUID `json:"booking_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Kind names the job.
func (HoldExpiringArgs) Kind() string { return "hold_expiring" }

// InsertOpts makes the warning unique per hold and expiry.
func (HoldExpiringArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueReminders, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// DueArgs runs the booking lifecycle's due work (hold expiry, challenge deadlines,
// completion). It runs every minute, and is also scheduled at the exact instant a
// hold expires or a challenge's deadline passes.
type DueArgs struct {
	At *time.Time `json:"at,omitempty"`
}

// Kind names the job.
func (DueArgs) Kind() string { return "booking_due" }

// InsertOpts puts it on the maintenance queue; scheduled ones are unique per instant.
func (DueArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// managerKinds are the events a site's managers are told of.
var managerKinds = map[booking.EventKind]bool{
	booking.EventApprovalRequested: true, booking.EventChallengeOpened: true, booking.EventConfirmed: true,
	booking.EventCancelled: true, booking.EventRescheduled: true, booking.EventLocalTimeChanged: true,
	booking.EventWorkingTimeChanged: true,
}

// Sink returns the event sink the storage calls inside each booking change's
// transaction (once per action: the storage hands an action's events over together):
// it inserts the notices, and the follow-up jobs of each booking concerned (the due
// work at a hold's expiry and challenge deadline, from the state the change left it
// in; a follow-up job when that state is not given) with one InsertManyTx, so they
// exist if and only if the change commits. (The reminders and expiry warnings the
// state calls for are the storage's due notices, written in the same transaction and
// enqueued by RunDueSweeper when due.) The events of one production by one actor are
// one notice job (NoticeGroupArgs when there are several), so each person hears of
// an action once.
func Sink(client *river.Client[pgx.Tx]) func(ctx context.Context, tx pgx.Tx, events []booking.Event) error {
	return func(ctx context.Context, tx pgx.Tx, events []booking.Event) error {
		params := make([]river.InsertManyParams, 0, 2*len(events))
		params = append(params, notices(events)...)
		var follow []river.InsertManyParams
		seen := map[uuid.UUID]bool{}
		for _, e := range events {
			// Follow-ups for the bookings the change acted on.
			if seen[e.BookingID] || !e.Kind.ActsOnBooking() {
				continue
			}
			seen[e.BookingID] = true
			if e.State == nil {
				follow = append(follow, river.InsertManyParams{Args: FollowUpArgs{BookingID: e.BookingID}})
				continue
			}
			follow = append(follow, followUps(*e.State, e.At)...)
		}
		params = append(params, uniqueSorted(follow)...)
		if len(params) == 0 {
			return nil
		}
		_, err := client.InsertManyTx(ctx, tx, params)
		return err
	}
}

// notices are the notice jobs of one action's events: those of one production by one
// actor together, in the order of their first event; an event of no known production
// alone.
func notices(events []booking.Event) []river.InsertManyParams {
	type key struct{ production, actor uuid.UUID }
	var order []key
	groups := map[key][]NoticeArgs{}
	for _, e := range events {
		n := NoticeArgs{EventID: uuid.New(), Event: e.Kind, BookingID: e.BookingID, At: e.At, OldRank: e.OldRank,
			NewRank: e.NewRank, ChallengeID: e.ChallengeID, Reason: e.Reason, Actor: e.Actor}
		if !e.PreviousStart.IsZero() {
			ps, pe := e.PreviousStart, e.PreviousEnd
			n.PreviousStart, n.PreviousEnd = &ps, &pe
		}
		n.Replan = e.Replan
		k := key{e.ProductionID, e.Actor}
		if e.ProductionID == uuid.Nil {
			k = key{production: n.EventID} // a group of its own
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], n)
	}
	params := make([]river.InsertManyParams, 0, len(order))
	for _, k := range order {
		ns := groups[k]
		if len(ns) == 1 {
			params = append(params, river.InsertManyParams{Args: ns[0]})
			continue
		}
		params = append(params, river.InsertManyParams{Args: NoticeGroupArgs{EventID: uuid.New(), ProductionID: k.production,
			Actor: k.actor, At: ns[0].At, Notices: ns}})
	}
	return params
}

// uniqueSorted drops repeated jobs (River refuses two rows with one unique key in a
// batch) and orders the rest by kind and arguments, so two transactions inserting jobs
// with the same unique keys meet them in the same order.
func uniqueSorted(ps []river.InsertManyParams) []river.InsertManyParams {
	type keyed struct {
		key string
		p   river.InsertManyParams
	}
	var ks []keyed
	seen := map[string]bool{}
	for _, p := range ps {
		b, _ := json.Marshal(p.Args)
		k := p.Args.Kind() + "\x00" + string(b)
		if seen[k] {
			continue
		}
		seen[k] = true
		ks = append(ks, keyed{k, p})
	}
	slices.SortFunc(ks, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	out := make([]river.InsertManyParams, len(ks))
	for i, k := range ks {
		out[i] = k.p
	}
	return out
}

// NoticeWorker delivers a notice by email and in-app to the people concerned, and to
// the organisation's webhooks, each once.
type NoticeWorker struct {
	river.WorkerDefaults[NoticeArgs]
	Deps *Deps
}

// Work delivers the notice.
func (w *NoticeWorker) Work(ctx context.Context, job *river.Job[NoticeArgs]) error {
	return w.Deps.notices(ctx, job.Args.EventID, job.Args.Actor, []NoticeArgs{job.Args})
}

// NoticeGroupWorker delivers one action's notices about a production's bookings: one
// message to each person concerned, by email and in-app, and every notice to the
// organisation's webhooks, each once.
type NoticeGroupWorker struct {
	river.WorkerDefaults[NoticeGroupArgs]
	Deps *Deps
}

// Work delivers the notices.
func (w *NoticeGroupWorker) Work(ctx context.Context, job *river.Job[NoticeGroupArgs]) error {
	return w.Deps.notices(ctx, job.Args.EventID, job.Args.Actor, job.Args.Notices)
}

// told is a notice with what it needs to be told: its booking, production and people.
type told struct {
	args NoticeArgs
	nc   booking.NoticeContext
}

// notices tells everyone concerned by ns, but the actor, one message each under the
// id, listing the notices that concern them (a booking's producers hear of each, the
// site's managers of those in managerKinds); then posts each notice to the
// organisation's webhooks. A booking gone since is left out.
func (d *Deps) notices(ctx context.Context, id, actor uuid.UUID, ns []NoticeArgs) error {
	items := make([]told, 0, len(ns))
	contexts := map[uuid.UUID]booking.NoticeContext{}
	for _, a := range ns {
		nc, ok := contexts[a.BookingID]
		if !ok {
			var err error
			if nc, err = d.Store.NoticeContext(ctx, a.BookingID); booking.ErrorCode(err) == booking.ENOTFOUND {
				continue
			} else if err != nil {
				return err
			}
			contexts[a.BookingID] = nc
		}
		items = append(items, told{a, nc})
	}
	var ls []letter
	index := map[uuid.UUID]int{}
	for _, it := range items {
		people := it.nc.Producers
		if managerKinds[it.args.Event] {
			people = append(slices.Clip(people), it.nc.Managers...)
		}
		n := d.eventNotice(it.nc, it.args)
		seen := map[uuid.UUID]bool{}
		for _, p := range people {
			if seen[p.UserID] {
				continue
			}
			seen[p.UserID] = true
			i, ok := index[p.UserID]
			if !ok {
				i = len(ls)
				index[p.UserID] = i
				bid := it.args.BookingID
				ls = append(ls, letter{to: p, kind: string(it.args.Event), bookingID: &bid})
			}
			pn := n
			pn.Role = p.Role
			ls[i].notices = append(ls[i].notices, pn)
		}
	}
	// A snooze (a delivery in flight elsewhere) still lets the webhooks go first.
	tellErr := d.tell(ctx, id, actor, ls)
	var snooze *rivertype.JobSnoozeError
	if tellErr != nil && !errors.As(tellErr, &snooze) {
		return tellErr
	}
	if err := d.webhooks(ctx, items); err != nil {
		return err
	}
	return tellErr
}

// eventNotice is the notice of an event about the booking nc tells of.
func (d *Deps) eventNotice(nc booking.NoticeContext, a NoticeArgs) notify.Notice {
	n := d.notice(nc, string(a.Event))
	n.Rank, n.OldRank, n.Reason = a.NewRank, a.OldRank, a.Reason
	if a.PreviousStart != nil && a.PreviousEnd != nil {
		n.PreviousStart, n.PreviousEnd = *a.PreviousStart, *a.PreviousEnd
	}
	n.Replan = a.Replan
	switch {
	case a.Event == booking.EventChallengeReceived && len(nc.Booking.ChallengedBy) > 0:
		c := nc.Booking.ChallengedBy[0] // the soonest deadline, unless the event names its challenge
		for _, x := range nc.Booking.ChallengedBy {
			if x.ID == a.ChallengeID {
				c = x
			}
		}
		n.Deadline = &c.Deadline
	case a.Event == booking.EventChallengeOpened && nc.Booking.Challenge != nil:
		n.Deadline = &nc.Booking.Challenge.Deadline
	}
	return n
}

// notice builds the notice of a booking for rendering.
func (d *Deps) notice(nc booking.NoticeContext, kind string) notify.Notice {
	loc, err := calendar.LoadLocation(nc.Booking.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	zone := nc.Booking.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	return notify.Notice{Kind: kind, Production: nc.ProductionTitle, Site: nc.SiteName, Resources: nc.ResourceNames, Stage: nc.Stage,
		Start: nc.Booking.Start, End: nc.Booking.End, Location: loc, Zone: zone,
		Link: d.BaseURL + "/bookings/" + nc.Booking.ID.String()}
}

// inFlight collects the deliveries another worker is making while this job runs
// (that worker was taken for dead, and the job given again): the job comes back when
// the last of those claims would lapse, after the other recipients are served.
type inFlight struct{ until time.Time }

// check absorbs an in-flight error and returns any other.
func (f *inFlight) check(err error) error {
	var e *booking.DeliveryInFlightError
	if !errors.As(err, &e) {
		return err
	}
	if e.LeaseEnds.After(f.until) {
		f.until = e.LeaseEnds
	}
	return nil
}

// result is nil when nothing was in flight, else River's snooze until the claims lapse.
func (f *inFlight) result(now time.Time) error {
	if f.until.IsZero() {
		return nil
	}
	return river.JobSnooze(max(f.until.Sub(now), 0) + time.Second)
}

// letter is what one person is told under one id: one notice, or several of one
// action (rendered as one message).
type letter struct {
	to        booking.Recipient
	kind      string     // the kind the feed and the deliveries record: the first notice's
	bookingID *uuid.UUID // the booking the feed entry links to: the first notice's
	notices   []notify.Notice
}

// letters are n told to each person once, as one letter each.
func letters(people []booking.Recipient, kind string, bookingID *uuid.UUID, n notify.Notice) []letter {
	var out []letter
	seen := map[uuid.UUID]bool{}
	for _, p := range people {
		if seen[p.UserID] {
			continue
		}
		seen[p.UserID] = true
		pn := n
		pn.Role = p.Role
		out = append(out, letter{to: p, kind: kind, bookingID: bookingID, notices: []notify.Notice{pn}})
	}
	return out
}

// tell delivers each letter once, in its reader's language (their stored locale), in
// the feed and by email, keyed by id and the person: a retried job finds what was
// made, and a mail sent again after a crash has the same Message-ID. The actor (who
// made the change) is mailed nothing: the feed keeps the entry, as the UI they acted
// in shows the change.
func (d *Deps) tell(ctx context.Context, id, actor uuid.UUID, ls []letter) error {
	type mail struct {
		l letter
		r notify.Rendered
	}
	var feed []booking.InApp
	var mails []mail
	done := map[uuid.UUID]bool{}
	for _, l := range ls {
		p := l.to
		if done[p.UserID] {
			continue
		}
		done[p.UserID] = true
		mailed := actor == uuid.Nil || p.UserID != actor
		var r notify.Rendered
		if mailed {
			r = notify.RenderGroup(l.notices, p.Locale)
			mails = append(mails, mail{l, r})
		} else {
			r = notify.RenderGroupText(l.notices, p.Locale)
		}
		feed = append(feed, booking.InApp{EventID: id, UserID: p.UserID,
			Notification: booking.Notification{Kind: l.kind, BookingID: l.bookingID, Title: r.Subject, Body: r.Text}})
	}
	// Every feed entry in one statement, before any mail.
	if _, err := d.Store.AddInApp(ctx, feed); err != nil {
		return err
	}
	var waiting inFlight
	for _, m := range mails {
		p := m.l.to
		msg := notify.Message{To: p.Email, ToName: p.Name, Subject: m.r.Subject, Text: m.r.Text, HTML: m.r.HTML,
			MessageID: fmt.Sprintf("<%s.%s@posthub>", id, p.UserID)}
		if _, err := d.Store.DeliverOnce(ctx, booking.DeliveryKey{EventID: id, RecipientID: p.UserID, Channel: "email", Kind: m.l.kind},
			func(ctx context.Context) error {
				err := d.Mailer.Send(ctx, msg)
				d.Metrics.Delivery(metrics.ChannelEmail, err)
				return err
			}); waiting.check(err) != nil {
			return fmt.Errorf("mailing %s: %w", p.Email, err)
		}
	}
	return waiting.result(d.now())
}

// webhookBody is what an organisation's webhook receives.
type webhookBody struct {
	Event     string          `json:"event"`
	EventID   uuid.UUID       `json:"event_id"`
	At        time.Time       `json:"at"`
	Booking   booking.Booking `json:"booking"`
	OldRank   int             `json:"old_rank,omitempty"`
	NewRank   int             `json:"new_rank,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Challenge *uuid.UUID      `json:"challenge_id,omitempty"`
}

// webhooks posts each notice to its production's organisation's webhooks, each once
// per event (a group's events each as their own). A failure is returned so River
// retries with backoff; a webhook that fails is sent nothing more in this attempt, so
// one attempt counts one failure however many events wait for it; after
// WebhookFailureLimit failures in a row a webhook is disabled and the organisation told.
func (d *Deps) webhooks(ctx context.Context, items []told) error {
	var orgs []uuid.UUID
	byOrg := map[uuid.UUID][]told{}
	for _, it := range items {
		o := it.nc.OrganisationID
		if _, ok := byOrg[o]; !ok {
			orgs = append(orgs, o)
		}
		byOrg[o] = append(byOrg[o], it)
	}
	var failed error
	var waiting inFlight
	for _, o := range orgs {
		for _, h := range byOrg[o][0].nc.Webhooks { // read with the notice's context
			var hookErr error
			delivered := false
			for _, it := range byOrg[o] {
				a := it.args
				wb := webhookBody{Event: string(a.Event), EventID: a.EventID, At: a.At, Booking: it.nc.Booking,
					OldRank: a.OldRank, NewRank: a.NewRank, Reason: a.Reason}
				if a.ChallengeID != uuid.Nil {
					wb.Challenge = &a.ChallengeID
				}
				body, _ := json.Marshal(wb)
				key := booking.DeliveryKey{EventID: a.EventID, RecipientID: h.ID, Channel: "webhook", Kind: string(a.Event)}
				ok, err := d.Store.DeliverOnce(ctx, key, func(ctx context.Context) error {
					err := d.Webhooks.Send(ctx, h.URL, h.Secret, string(a.Event), a.EventID.String()+"."+h.ID.String(), body)
					d.Metrics.Delivery(metrics.ChannelWebhook, err)
					return err
				})
				if err != nil && waiting.check(err) == nil {
					continue // another worker is on it: no news of the webhook's health
				}
				if err != nil {
					hookErr = err
					break
				}
				delivered = delivered || ok
			}
			if hookErr == nil && !delivered {
				continue // earlier attempts delivered them all: no news of the webhook's health
			}
			disabled, oerr := d.Store.WebhookOutcome(ctx, h.ID, hookErr)
			if oerr != nil {
				return oerr
			}
			if disabled {
				d.webhookDisabled(ctx, h)
			}
			if hookErr != nil && !disabled {
				failed = hookErr
			}
		}
	}
	if failed != nil {
		return failed
	}
	return waiting.result(d.now())
}

// webhookDisabled tells an organisation's users that their webhook was disabled.
func (d *Deps) webhookDisabled(ctx context.Context, h booking.Webhook) {
	users, err := d.Store.OrganisationUsers(ctx, h.OrganisationID)
	if err != nil {
		d.Logger.Error("listing users to tell of a disabled webhook", "err", err)
		return
	}
	eventID := stableID("webhook-disabled", h.ID.String(), h.CreatedAt.String())
	feed := make([]booking.InApp, 0, len(users))
	for _, u := range users {
		title := i18n.T(u.Locale, "notice.webhook_disabled", h.URL)
		feed = append(feed, booking.InApp{EventID: eventID, UserID: u.UserID,
			Notification: booking.Notification{Kind: "webhook_disabled", Title: title, Body: title + "\n" + h.LastError}})
	}
	if _, err := d.Store.AddInApp(ctx, feed); err != nil {
		d.Logger.Error("telling of a disabled webhook", "err", err)
	}
}

// stableID derives a UUID from parts, for events that must dedupe across retries.
func stableID(parts ...string) uuid.UUID {
	h := sha1.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return uuid.NewSHA1(uuid.NameSpaceOID, h.Sum(nil))
}

// FollowUpWorker schedules the due notices (reminders, expiry warning) and due work
// for a booking as it now is.
type FollowUpWorker struct {
	river.WorkerDefaults[FollowUpArgs]
	Deps *Deps
}

// HoldExpiryWarning is how long before a hold expires its producers are warned.
const HoldExpiryWarning = booking.HoldExpiryWarning

// Work schedules the follow-ups of a booking as it is now: its due notices (replacing
// any it had) and the due work at its expiry and deadline. The booking's change
// schedules them in its own transaction; this worker serves the follow-up jobs of
// processes that did not know the booking's state (and of earlier releases).
func (w *FollowUpWorker) Work(ctx context.Context, job *river.Job[FollowUpArgs]) error {
	b, err := w.Deps.Store.FindBooking(ctx, booking.System, job.Args.BookingID)
	if err != nil {
		if booking.ErrorCode(err) == booking.ENOTFOUND {
			return nil
		}
		return err
	}
	st := booking.FollowUpState{BookingID: b.ID, Status: b.Status, Start: b.Start, End: b.End, HoldExpiresAt: b.HoldExpiresAt}
	if b.Challenge != nil {
		d := b.Challenge.Deadline
		st.ChallengeDeadline = &d
	}
	if b.Status == booking.StatusConfirmed {
		pol, err := w.Deps.Store.SitePolicy(ctx, b.SiteID)
		if err != nil {
			return err
		}
		st.ReminderOffsets = pol.ReminderOffsets
	}
	now := w.Deps.now()
	if err := w.Deps.Store.ScheduleDue(ctx, st, now); err != nil {
		return err
	}
	params := uniqueSorted(followUps(st, now))
	if len(params) == 0 {
		return nil
	}
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	_, err = client.InsertMany(ctx, params)
	return err
}

// followUps are the jobs a booking's state calls for, as of now: the due work at a
// hold's expiry and at its open challenge's deadline. (Its reminders and expiry
// warning are due notices, which the storage keeps with the booking: booking.DueNotices.)
func followUps(b booking.FollowUpState, now time.Time) []river.InsertManyParams {
	var params []river.InsertManyParams
	at := func(t time.Time) *river.InsertOpts {
		opts := river.InsertOpts{}
		if t.After(now) {
			opts.ScheduledAt = t
		}
		return &opts
	}
	// No due work at the end of a confirmed booking: completing a booking can wait for
	// the periodic due work (every minute), and a job unique by instant would make the
	// transactions of bookings ending at the same hour wait for each other on its
	// unique key.
	if b.Status == booking.StatusHold {
		if b.HoldExpiresAt != nil {
			exp := *b.HoldExpiresAt
			params = append(params, river.InsertManyParams{Args: DueArgs{At: &exp}, InsertOpts: at(exp)})
		}
		if b.ChallengeDeadline != nil {
			d := *b.ChallengeDeadline
			params = append(params, river.InsertManyParams{Args: DueArgs{At: &d}, InsertOpts: at(d)})
		}
	}
	return params
}

// dueJob is the job that delivers a due notice.
func dueJob(n booking.DueNotice) river.InsertManyParams {
	if n.Kind == booking.DueHoldExpiring {
		return river.InsertManyParams{Args: HoldExpiringArgs{BookingID: n.BookingID, ExpiresAt: n.Ref}}
	}
	return river.InsertManyParams{Args: ReminderArgs{BookingID: n.BookingID, Start: n.Ref, Before: n.Before}}
}

// EnqueueDue inserts the jobs of due notices in tx, the sweep's transaction.
func EnqueueDue(client *river.Client[pgx.Tx]) func(ctx context.Context, tx pgx.Tx, ns []booking.DueNotice) error {
	return func(ctx context.Context, tx pgx.Tx, ns []booking.DueNotice) error {
		params := make([]river.InsertManyParams, 0, len(ns))
		for _, n := range ns {
			params = append(params, dueJob(n))
		}
		_, err := client.InsertManyTx(ctx, tx, uniqueSorted(params))
		return err
	}
}

// ReminderWorker sends a reminder unless the booking has moved or gone.
type ReminderWorker struct {
	river.WorkerDefaults[ReminderArgs]
	Deps *Deps
}

// Work sends the reminder, or does nothing for a stale one.
func (w *ReminderWorker) Work(ctx context.Context, job *river.Job[ReminderArgs]) error {
	nc, err := w.Deps.Store.NoticeContext(ctx, job.Args.BookingID)
	if err != nil {
		if booking.ErrorCode(err) == booking.ENOTFOUND {
			return nil
		}
		return err
	}
	if nc.Booking.Status != booking.StatusConfirmed || !nc.Booking.Start.Equal(job.Args.Start) {
		return nil
	}
	eventID := stableID("reminder", job.Args.BookingID.String(), job.Args.Start.UTC().Format(time.RFC3339), job.Args.Before.String())
	people := append(append([]booking.Recipient(nil), nc.Producers...), nc.Managers...)
	return w.Deps.tell(ctx, eventID, uuid.Nil, letters(people, "reminder", &nc.Booking.ID, w.Deps.notice(nc, "reminder")))
}

// HoldExpiringWorker warns a hold's producers, unless the hold has moved on.
type HoldExpiringWorker struct {
	river.WorkerDefaults[HoldExpiringArgs]
	Deps *Deps
}

// Work sends the warning, or does nothing when the hold is no longer expiring then.
func (w *HoldExpiringWorker) Work(ctx context.Context, job *river.Job[HoldExpiringArgs]) error {
	nc, err := w.Deps.Store.NoticeContext(ctx, job.Args.BookingID)
	if err != nil {
		if booking.ErrorCode(err) == booking.ENOTFOUND {
			return nil
		}
		return err
	}
	b := nc.Booking
	if b.Status != booking.StatusHold || b.HoldExpiresAt == nil || !b.HoldExpiresAt.Equal(job.Args.ExpiresAt) {
		return nil
	}
	n := w.Deps.notice(nc, "hold_expiring")
	n.Deadline = b.HoldExpiresAt
	n.Rank = b.Rank
	return w.Deps.tell(ctx, stableID("hold_expiring", b.ID.String(), job.Args.ExpiresAt.UTC().Format(time.RFC3339)), uuid.Nil,
		letters(nc.Producers, "hold_expiring", &b.ID, n))
}

// DueWorker runs the lifecycle's due work.
type DueWorker struct {
	river.WorkerDefaults[DueArgs]
	Deps *Deps
}

// Work processes what is due now.
func (w *DueWorker) Work(ctx context.Context, job *river.Job[DueArgs]) error {
	res, err := w.Deps.Store.ProcessDue(ctx, w.Deps.now())
	if err == nil && (res.Expired+res.ChallengesSettled+res.Completed) > 0 {
		w.Deps.Logger.Info("booking due work", "expired", res.Expired, "challenges_settled", res.ChallengesSettled, "completed", res.Completed)
	}
	return err
}

// TZRecheckArgs re-derives future bookings' local wall-clock when the embedded tz
// database is a newer release than the one they were derived with; the bookings whose
// wall-clock moved raise local_time_changed, which tells their producers and managers.
type TZRecheckArgs struct{}

// Kind names the job.
func (TZRecheckArgs) Kind() string { return "tz_recheck" }

// InsertOpts puts it on the maintenance queue.
func (TZRecheckArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

// TZRecheckWorker runs the re-derivation.
type TZRecheckWorker struct {
	river.WorkerDefaults[TZRecheckArgs]
	Deps *Deps
}

// Work re-derives and logs what moved.
func (w *TZRecheckWorker) Work(ctx context.Context, job *river.Job[TZRecheckArgs]) error {
	moved, err := w.Deps.Store.RederiveLocalTimes(ctx)
	for _, b := range moved {
		w.Deps.Logger.Warn("booking wall-clock moved with the tz database", "booking_id", b.ID, "start_local", b.StartLocal, "tz_version", b.TZVersion)
	}
	return err
}

// DigestArgs sends each manager the day's digest for their sites.
type DigestArgs struct {
	Day string `json:"day"` // 2006-01-02, UTC
}

// Kind names the job.
func (DigestArgs) Kind() string { return "manager_digest" }

// InsertOpts makes the digest unique per day.
func (DigestArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueNotifications, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// DigestWorker mails each manager with something to look at, once per day.
type DigestWorker struct {
	river.WorkerDefaults[DigestArgs]
	Deps *Deps
	// Digests reads the day's digests; the storage's ManagerDigests.
	Digests func(ctx context.Context, now time.Time) ([]booking.Digest, error)
}

// Work sends the digests; a manager with nothing to look at gets no mail.
func (w *DigestWorker) Work(ctx context.Context, job *river.Job[DigestArgs]) error {
	digests, err := w.Digests(ctx, w.Deps.now())
	if err != nil {
		return err
	}
	var waiting inFlight
	for _, d := range digests {
		if d.Empty() {
			continue
		}
		r := notify.RenderDigest(d, d.Manager.Locale)
		eventID := stableID("digest", job.Args.Day, d.Manager.UserID.String())
		msg := notify.Message{To: d.Manager.Email, ToName: d.Manager.Name, Subject: r.Subject, Text: r.Text, HTML: r.HTML,
			MessageID: fmt.Sprintf("<%s.%s@posthub>", eventID, d.Manager.UserID)}
		if _, err := w.Deps.Store.DeliverOnce(ctx, booking.DeliveryKey{EventID: eventID, RecipientID: d.Manager.UserID, Channel: "email", Kind: "digest"},
			func(ctx context.Context) error {
				err := w.Deps.Mailer.Send(ctx, msg)
				w.Deps.Metrics.Delivery(metrics.ChannelEmail, err)
				return err
			}); waiting.check(err) != nil {
			return err
		}
	}
	return waiting.result(w.Deps.now())
}

// dailyAt is a periodic schedule firing every day at a fixed UTC time.
type dailyAt struct{ hour, minute int }

// Next returns the next firing after t.
func (d dailyAt) Next(t time.Time) time.Time {
	t = t.UTC()
	next := time.Date(t.Year(), t.Month(), t.Day(), d.hour, d.minute, 0, 0, time.UTC)
	if !next.After(t) {
		next = next.AddDate(0, 0, 1)
	}
	return next
}
