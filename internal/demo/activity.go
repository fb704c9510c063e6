package demo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/postgres"
)

// The demo activity: about three months of work around the day `posthub dev` first
// starts, so that every page of a new hub tells a story. Behind today lie completed
// bookings; around it sessions in progress; ahead confirmed bookings thinning out over
// three months, producers' holds, a queue of three holds on one slot, an open
// challenge, confirmations waiting for a manager's approval at Dakar, an accepted plan,
// a colourist's leave, a maintenance day a mix spans, and a provisional Eid.
//
// Everything is made by the hub's own operations (Book, Act, Reschedule, AddBlock,
// AddHoliday, UpdateSitePolicy, ProposePlan, AcceptPlan, ProcessDue) acting as the demo
// users, with slots chosen by the availability search, so the hub's rules (working
// hours, blocks, ring-fences, notice) hold for the activity as for anyone's bookings.
// The past is made by running those operations on a clock set back to when the work
// would have been booked, and completing it as the due work does; it raises no
// notifications. What is made at today's date raises them through db.OnEvents, as any
// change does.

// activitySeed seeds the demo activity's choices: for a given today and the demo data,
// the activity is always the same.
const activitySeed = 17

// activityLock is the advisory lock key that keeps two processes from loading the
// activity into one database at once.
const activityLock = 0x706f737468756201

// Horizons of the activity, in days from today.
const (
	historyDays = 91
	futureDays  = 92
)

// Summary counts what Activity left in the hub.
type Summary struct {
	// Skipped is true when the hub already had activity (bookings, blocks or plans)
	// and nothing was added.
	Skipped bool
	// Bookings by status, at the end.
	Completed, Confirmed, Holds int
	// OpenChallenges and PendingApprovals are those the activity left open.
	OpenChallenges, PendingApprovals int
	// AcceptedPlans and (resource) Blocks; ProvisionalHolidays ahead of today.
	AcceptedPlans, Blocks, ProvisionalHolidays int
	// Refused counts sessions the hub refused or found no slot for; they are left out.
	Refused int
}

// Activity loads the demo activity relative to now into a hub that holds the demo data
// (Seed) and no activity yet. It is idempotent: when the hub already has bookings,
// resource blocks or plans (the activity's, or anyone's), it adds nothing and returns
// a Summary with Skipped set. The bookings made at now raise their events through
// db.OnEvents when it is set; the past raises none.
func Activity(ctx context.Context, db *postgres.DB, now time.Time) (Summary, error) {
	now = now.UTC().Truncate(time.Minute)
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("demo activity: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(activityLock)); err != nil {
		return Summary{}, fmt.Errorf("demo activity: locking: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(activityLock))
	}()

	var busy bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM booking_groups) OR EXISTS (SELECT 1 FROM resource_blocks)
		OR EXISTS (SELECT 1 FROM plans)`).Scan(&busy); err != nil {
		return Summary{}, fmt.Errorf("demo activity: checking for activity: %w", err)
	}
	if busy {
		return Summary{Skipped: true}, nil
	}
	h, err := newHub(ctx, db, now)
	if err != nil {
		return Summary{}, err
	}
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"the hub's set-up", h.setUp},
		{"the provisional holiday", h.provisionalHoliday},
		{"leave and maintenance", h.blocks},
		{"the productions' pipelines", h.pipelines},
		{"the other sessions", h.sessions},
		{"completing the past", h.completePast},
		{"the hold queue", h.holdQueue},
		{"the challenge", h.challenge},
		{"the approvals", h.approvals},
		{"the plan", h.plan},
		{"the plan across two sites", h.twoSitePlan},
		{"the hold on the holiday", h.holidayHold},
		{"a move", h.move},
	}
	for _, s := range steps {
		if err := s.run(ctx); err != nil {
			return Summary{}, fmt.Errorf("demo activity: %s: %w", s.name, err)
		}
	}
	return h.summary(ctx)
}

// hub is the demo hub as the activity acts on it.
type hub struct {
	now time.Time
	rng *rand.Rand
	// live acts at liveAt (usually now) and raises events through the caller's sink;
	// past acts at pastAt, quietly.
	live, past     *postgres.DB
	liveAt, pastAt time.Time
	sites          map[string]*siteRef
	actors         map[string]booking.Actor
	prods          map[string]*prodRef
	resources      map[string]uuid.UUID // by name
	holiday        calendar.Date        // the provisional holiday ahead
	premix         uuid.UUID            // the booking that spans the maintenance day
	refused        int
}

type siteRef struct {
	slug     string
	id       uuid.UUID
	cal      *calendar.Calendar
	dayHours float64 // hours of a full working day (Monday's)
}

type prodRef struct {
	id       uuid.UUID
	title    string
	format   string
	runtime  int
	producer string // the actor key of its company's producer
	emerging bool
	origins  []string
}

// producerOf names the demo producer of each company.
var producerOf = map[string]string{
	"teranga-lumiere": "producer",
	"quai-bleu":       "producer_other",
	"ndar-horizon":    "producer_saint_louis",
	"dar-nour":        "producer_casablanca",
}

func newHub(ctx context.Context, db *postgres.DB, now time.Time) (*hub, error) {
	h := &hub{now: now, liveAt: now, pastAt: now, rng: rand.New(rand.NewPCG(activitySeed, uint64(activitySeed)<<32|1)),
		sites: map[string]*siteRef{}, actors: map[string]booking.Actor{}, prods: map[string]*prodRef{}, resources: map[string]uuid.UUID{}}
	h.live = &postgres.DB{Pool: db.Pool, Now: func() time.Time { return h.liveAt }, OnEvents: db.OnEvents, OnRetry: db.OnRetry}
	h.past = &postgres.DB{Pool: db.Pool, Now: func() time.Time { return h.pastAt }}

	for _, s := range sites {
		ref := &siteRef{slug: s.slug}
		if err := db.Pool.QueryRow(ctx, `SELECT id FROM sites WHERE slug = $1`, s.slug).Scan(&ref.id); err != nil {
			return nil, fmt.Errorf("demo activity: site %s (load the demo data first): %w", s.slug, err)
		}
		if err := h.loadCalendar(ctx, ref); err != nil {
			return nil, err
		}
		for _, w := range weeks {
			if w.site == s.slug && slices.Contains(w.days, 1) {
				for _, sp := range w.spans {
					ref.dayHours += float64(sp[1]-sp[0]) / 60
				}
			}
		}
		h.sites[s.slug] = ref
	}
	for _, u := range users {
		a, err := scanActor(db.Pool.QueryRow(ctx, `SELECT u.id, u.organisation_id, u.role, u.email, u.locale,
			coalesce((SELECT array_agg(site_id ORDER BY site_id) FROM user_sites WHERE user_id = u.id), '{}')
			FROM users u WHERE lower(u.email) = lower($1) AND u.disabled_at IS NULL`, u.email))
		if err != nil {
			return nil, fmt.Errorf("demo activity: user %s: %w", u.email, err)
		}
		h.actors[u.key] = a
	}
	rows, _ := db.Pool.Query(ctx, `SELECT r.id, r.name FROM resources r WHERE r.active ORDER BY r.name`)
	var id uuid.UUID
	var name string
	if _, err := pgx.ForEachRow(rows, []any{&id, &name}, func() error { h.resources[name] = id; return nil }); err != nil {
		return nil, fmt.Errorf("demo activity: resources: %w", err)
	}
	rows, _ = db.Pool.Query(ctx, `SELECT p.id, p.title, p.format, p.runtime_minutes, o.slug, p.emerging,
			array(SELECT country FROM production_origins WHERE production_id = p.id ORDER BY share_pct DESC, country)
		FROM productions p JOIN organisations o ON o.id = p.organisation_id ORDER BY p.title`)
	var p prodRef
	var org string
	if _, err := pgx.ForEachRow(rows, []any{&p.id, &p.title, &p.format, &p.runtime, &org, &p.emerging, &p.origins}, func() error {
		if key, ok := producerOf[org]; ok {
			q := p
			q.producer = key
			h.prods[p.title] = &q
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("demo activity: productions: %w", err)
	}
	titles := []string{"Le Chant de la Médina"}
	for _, s := range stories {
		titles = append(titles, s.title)
	}
	for _, t := range titles {
		if h.prods[t] == nil {
			return nil, fmt.Errorf("demo activity: production %q is not in the demo data", t)
		}
	}
	return h, nil
}

func scanActor(row pgx.Row) (booking.Actor, error) {
	var a booking.Actor
	err := row.Scan(&a.UserID, &a.OrganisationID, &a.Role, &a.Email, &a.Locale, &a.SiteIDs)
	return a, err
}

// loadCalendar (re)reads a site's calendar, as bookings are checked against it.
func (h *hub) loadCalendar(ctx context.Context, s *siteRef) error {
	sc, err := h.live.SiteCalendar(ctx, s.id)
	if err != nil {
		return fmt.Errorf("demo activity: calendar of %s: %w", s.slug, err)
	}
	s.cal, err = sc.Calendar()
	return err
}

// refusal reports whether err is the hub refusing a change (a slot taken, a closed
// time, a ring-fence, a notice period): the activity then leaves that change out.
func refusal(err error) bool {
	switch booking.ErrorCode(err) {
	case booking.ECONFLICT, booking.EUNPROCESSABLE:
		return true
	}
	return false
}

// skip turns a refusal into a counted omission and passes other errors on.
func (h *hub) skip(err error) error {
	if err != nil && refusal(err) {
		h.refused++
		return nil
	}
	return err
}

func days(n float64) time.Duration { return time.Duration(n * 24 * float64(time.Hour)) }

func hoursOf(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

// today is now's local date at the site.
func (h *hub) today(s *siteRef) calendar.Date {
	return calendar.DateOf(h.now.In(s.cal.Location))
}

// dayStart is where a search for a slot on date d at the site starts: its midnight,
// or in the afternoon its lunch break (13:30, when both sites are closed), so that the
// slots found begin when a working span does.
func (h *hub) dayStart(s *siteRef, d calendar.Date, afternoon bool) time.Time {
	if afternoon {
		return d.At(calendar.Clock{Hour: 13, Minute: 30}, s.cal.Location).UTC()
	}
	return midnight(s, d)
}

// midnight is the start of date d at the site.
func midnight(s *siteRef, d calendar.Date) time.Time {
	return d.At(calendar.Clock{}, s.cal.Location).UTC()
}

// dayWork is the working time of date d at the site, by the site's calendar;
// provisional holidays count as closed unless withProvisional.
func dayWork(s *siteRef, d calendar.Date, withProvisional bool) calendar.Set {
	iv := calendar.Interval{Start: midnight(s, d), End: midnight(s, d.AddDays(1))}
	return s.cal.WorkingTime(iv, calendar.Options{AvoidProvisional: !withProvisional})
}

// workingDay is the first date from d on (step 1) or back (step -1), within limit days,
// that has working time at the site.
func workingDay(s *siteRef, d calendar.Date, step, limit int) (calendar.Date, bool) {
	for i := 0; i < limit; i++ {
		if len(dayWork(s, d, false)) > 0 {
			return d, true
		}
		d = d.AddDays(step)
	}
	return d, false
}

func need(kinds ...string) []booking.Demand {
	out := make([]booking.Demand, len(kinds))
	for i, k := range kinds {
		out[i] = booking.Demand{Kind: k}
	}
	return out
}

// setUp is the hub's own decisions, made when the period the activity covers began:
// at Dakar, the partner site, producers' confirmations wait for a manager; and Grading
// Suite 3 was out for a software upgrade.
func (h *hub) setUp(ctx context.Context) error {
	manager := h.actors["manager"]
	// Before the first of the past's bookings was made (up to three weeks before it).
	h.pastAt = h.now.Add(-days(historyDays + 35))
	dakar := h.sites["dakar"]
	pol, err := h.past.SitePolicy(ctx, dakar.id)
	if err != nil {
		return err
	}
	pol.ConfirmNeedsApproval = true
	if _, err := h.past.UpdateSitePolicy(ctx, manager, pol); err != nil {
		return err
	}
	casa := h.sites["casablanca"]
	d, ok := workingDay(casa, h.today(casa).AddDays(-47), 1, 14)
	if !ok {
		return nil
	}
	h.pastAt = midnight(casa, d).Add(-days(12))
	_, err = h.past.AddBlock(ctx, manager, booking.Block{ResourceID: h.resources["Grading Suite 3 — Oasis"],
		Start: midnight(casa, d), End: midnight(casa, d.AddDays(2)), Kind: "maintenance", Reason: "Baselight software upgrade"})
	return h.skip(err)
}

// blocks takes Yasmine El Alami on a week's leave three weeks ahead, and Mix Stage A
// out for a day of recalibration next week or the one after, which an Atmos premix
// booked around it spans (the booking pauses that day).
func (h *hub) blocks(ctx context.Context) error {
	manager := h.actors["manager"]
	casa := h.sites["casablanca"]
	today := h.today(casa)
	h.liveAt = h.now.Add(-days(6))
	defer func() { h.liveAt = h.now }()

	monday := today.AddDays(18)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDays(1)
	}
	if _, err := h.live.AddBlock(ctx, manager, booking.Block{ResourceID: h.resources["Yasmine El Alami"],
		Start: midnight(casa, monday), End: midnight(casa, monday.AddDays(5)), Kind: "leave", Reason: "Annual leave"}); h.skip(err) != nil {
		return err
	}

	// A working day with working days close on either side.
	for d := today.AddDays(9); d.Before(today.AddDays(30)); d = d.AddDays(1) {
		if len(dayWork(casa, d, false)) == 0 {
			continue
		}
		prev, ok1 := workingDay(casa, d.AddDays(-1), -1, 4)
		next, ok2 := workingDay(casa, d.AddDays(1), 1, 4)
		if !ok1 || !ok2 || !today.Before(prev) {
			continue
		}
		stage := h.resources["Mix Stage A"]
		if _, err := h.live.AddBlock(ctx, manager, booking.Block{ResourceID: stage, Start: midnight(casa, d), End: midnight(casa, d.AddDays(1)),
			Kind: "maintenance", Reason: "Dolby Atmos recalibration"}); err != nil {
			return h.skip(err)
		}
		first, last := dayWork(casa, prev, false), dayWork(casa, next, false)
		b, err := h.live.Book(ctx, manager, booking.BookingInput{ProductionID: h.prods["Layali Derb Sultan"].id,
			ResourceIDs: []uuid.UUID{stage, h.resources["Rachid Amrani"]}, Start: first[0].Start, End: last[len(last)-1].End,
			Status: booking.StatusConfirmed, Note: "Atmos premix — the stage pauses for its recalibration"})
		h.premix = b.ID
		return h.skip(err)
	}
	return nil
}

// lunar are the holidays of the Islamic calendar in Morocco and Senegal: their dates
// are announced a day or two before, so they stay provisional until then.
var lunar = []struct {
	month, day int
	ma, sn     string
	twoDays    bool // Morocco closes two days
}{
	{1, 1, "Islamic New Year", "", false},
	{1, 10, "", "Tamkharit (Ashura)", false},
	{2, 18, "", "Grand Magal of Touba", false},
	{3, 12, "Mawlid", "Maouloud (Mawlid)", true},
	{10, 1, "Eid al-Fitr", "Korité (Eid al-Fitr)", true},
	{12, 10, "Eid al-Adha", "Tabaski (Eid al-Adha)", true},
}

// hijriDate is the Gregorian date of day d of month m of year y of the tabular Islamic
// calendar (civil epoch): the expected date of a lunar holiday, give or take the day
// the moon is sighted.
func hijriDate(y, m, d int) calendar.Date {
	n := d + (59*(m-1)+1)/2 + (y-1)*354 + (3+11*y)/30 - 492149 // days since 1970-01-01
	return calendar.DateOf(time.Unix(0, 0).UTC().AddDate(0, 0, n))
}

// provisionalHoliday makes sure a provisional holiday lies ahead in Morocco: the
// first one already in the calendar between two weeks and four months ahead, or else
// the next Moroccan lunar holiday (and Senegal's of the same day), added as the
// manager would add it unless the calendar has it already.
func (h *hub) provisionalHoliday(ctx context.Context) error {
	casa := h.sites["casablanca"]
	today := h.today(casa)
	earliest, latest := today.AddDays(14), today.AddDays(120)
	var known []calendar.Holiday // Morocco's and Senegal's, as the two sites see them
	for _, s := range sites {
		for _, hol := range h.sites[s.slug].cal.Holidays {
			if !hol.Date.Before(today) {
				known = append(known, hol)
			}
		}
	}
	for _, hol := range casa.cal.Holidays {
		if hol.Provisional && !hol.Date.Before(earliest) && !hol.Date.After(latest) {
			h.holiday = hol.Date
			return nil
		}
	}
	// near finds a holiday named name within three days of d (the sighting's margin).
	near := func(name string, d calendar.Date) (calendar.Holiday, bool) {
		for _, hol := range known {
			if hol.Name == name && !hol.Date.Before(d.AddDays(-3)) && !hol.Date.After(d.AddDays(3)) {
				return hol, true
			}
		}
		return calendar.Holiday{}, false
	}
	// The Islamic year of today, roughly; it and the next cover any today.
	year := int(float64(time.Date(today.Year, today.Month, today.Day, 0, 0, 0, 0, time.UTC).Unix()/86400+492148)/354.367) + 1
	for y := year - 1; y <= year+1; y++ {
		for _, l := range lunar {
			d := hijriDate(y, l.month, l.day)
			if l.ma == "" || d.Before(earliest) {
				continue
			}
			if hol, ok := near(l.ma, d); ok {
				if !hol.Provisional {
					continue // announced already: not what this is for
				}
				h.holiday = hol.Date
				return nil
			}
			h.liveAt = h.now.Add(-days(3))
			defer func() { h.liveAt = h.now }()
			add := func(country string, date calendar.Date, name string) error {
				if _, ok := near(name, date); ok {
					return nil
				}
				_, err := h.live.AddHoliday(ctx, h.actors["manager"], booking.Holiday{Country: country, Date: date.String(), Name: name, Provisional: true})
				return h.skip(err)
			}
			if err := add("MA", d, l.ma); err != nil {
				return err
			}
			if l.twoDays {
				if err := add("MA", d.AddDays(1), l.ma+" (second day)"); err != nil {
					return err
				}
			}
			if l.sn != "" {
				if err := add("SN", d, l.sn); err != nil {
					return err
				}
			}
			h.holiday = d
			for _, s := range sites {
				if err := h.loadCalendar(ctx, h.sites[s.slug]); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return nil
}

// session is some work a production books: demands at a site for hours of working
// time.
type session struct {
	prod     *prodRef
	site     *siteRef
	demands  []booking.Demand
	hours    float64
	note     string
	hold     bool // ahead of today, the producer's hold rather than a confirmed booking
	trainees int
}

// place books s at the earliest slot the availability search finds from from: in the
// past as it would have been booked then, ahead of today as the hub books now. It
// returns nil when the hub has no slot or refuses it.
func (h *hub) place(ctx context.Context, s session, from time.Time) (*booking.Booking, error) {
	manager := h.actors["manager"]
	db := h.live
	if from.Before(h.now) {
		// Booked some days to three weeks before.
		h.pastAt = from.Add(-days(2 + h.rng.Float64()*18)).Truncate(time.Minute)
		db = h.past
	}
	slots, err := db.Availability(ctx, manager, booking.AvailabilityQuery{SiteID: s.site.id, Demands: s.demands,
		Hours: hoursOf(s.hours), From: from, To: from.Add(days(35)), Limit: 1, ProductionID: s.prod.id})
	if err != nil || len(slots) == 0 {
		if err == nil {
			h.refused++
		}
		return nil, h.skip(err)
	}
	slot := slots[0]
	in := booking.BookingInput{ProductionID: s.prod.id, Start: slot.Start, End: slot.End, Note: s.note, Trainees: s.trainees}
	for _, r := range slot.Resources {
		in.ResourceIDs = append(in.ResourceIDs, r.ResourceID)
	}
	var b booking.Booking
	if slot.Start.Before(h.now) {
		b, err = h.bookPast(ctx, s, in)
	} else {
		b, err = h.bookAhead(ctx, s, in)
	}
	if err != nil || b.ID == uuid.Nil {
		return nil, h.skip(err)
	}
	return &b, nil
}

// bookPast books work that has begun by now, on the past clock (pastAt, before its
// start): at Dakar the producer holds and confirms and the manager approves; at
// Casablanca the manager books it, or the producer holds and confirms it.
func (h *hub) bookPast(ctx context.Context, s session, in booking.BookingInput) (booking.Booking, error) {
	manager, producer := h.actors["manager"], h.actors[s.prod.producer]
	if s.site.slug == "casablanca" && h.rng.IntN(100) < 65 {
		in.Status = booking.StatusConfirmed
		return h.past.Book(ctx, manager, in)
	}
	in.Status = booking.StatusHold
	b, err := h.past.Book(ctx, producer, in)
	if err != nil {
		return b, err
	}
	h.pastAt = h.pastAt.Add(hoursOf(1 + h.rng.Float64()*20)).Truncate(time.Minute)
	if b, err = h.past.Act(ctx, producer, b.ID, booking.ActionConfirm, booking.ActOptions{}); err != nil || !b.ApprovalPending {
		return b, err
	}
	h.pastAt = h.pastAt.Add(hoursOf(2 + h.rng.Float64()*20)).Truncate(time.Minute)
	return h.past.Act(ctx, manager, b.ID, booking.ActionConfirm, booking.ActOptions{Reason: "approved"})
}

// bookAhead books work ahead of today, made in the last few days: the manager
// confirms it, or it is its producer's hold.
func (h *hub) bookAhead(ctx context.Context, s session, in booking.BookingInput) (booking.Booking, error) {
	h.liveAt = h.now.Add(-hoursOf(h.rng.Float64() * 96)).Truncate(time.Minute)
	defer func() { h.liveAt = h.now }()
	if s.hold {
		in.Status = booking.StatusHold
		return h.live.Book(ctx, h.actors[s.prod.producer], in)
	}
	in.Status = booking.StatusConfirmed
	return h.live.Book(ctx, h.actors["manager"], in)
}

// story is a production's post-production through the hub: its pipeline template's
// stages from startDays (relative to today), the edit stages at editSite, with the
// capabilities it asks of each kind.
type story struct {
	title     string
	startDays int
	editSite  string
	prefs     map[string][]string
}

var stories = []story{
	{"Aïcha, l'été", -97, "casablanca", map[string][]string{"editor": {"lang:en"}, "colourist": {"lang:en"}}},
	{"Le Souffle du Baobab", -86, "dakar", map[string][]string{"grading_suite": {"hdr"}, "colourist": {"lang:wo"}, "mix_stage": {"dolby_atmos"}}},
	{"Fleuve — épisode 3 : La Crue", -66, "dakar", map[string][]string{"colourist": {"lang:wo"}}},
	{"Layali Derb Sultan", -58, "casablanca", map[string][]string{"editor": {"lang:ar"}, "colourist": {"lang:ar"}, "mix_stage": {"dolby_atmos"}}},
	{"Les Pirogues de Guet Ndar", -44, "dakar", map[string][]string{"colourist": {"lang:wo"}, "sound_editor": {"lang:wo"}}},
	{"Xaritu Ndox", -26, "dakar", map[string][]string{"editor": {"premiere"}}},
	{"Sable et Sel", -16, "casablanca", map[string][]string{"grading_suite": {"baselight"}, "editor": {"lang:en"}}},
}

// editStages are the stages done in an edit suite, at a story's editSite.
var editStages = map[string]bool{"offline_edit": true, "conform": true}

// pipelines books each story's stages in order, a stage after those it follows, long
// ones in weeks of work.
func (h *hub) pipelines(ctx context.Context) error {
	horizon := h.now.Add(days(futureDays))
	for _, st := range stories {
		p := h.prods[st.title]
		stages, err := booking.TemplateStages(p.format, p.runtime, nil)
		if err != nil {
			return err
		}
		start := h.dayStart(h.sites["casablanca"], h.today(h.sites["casablanca"]).AddDays(st.startDays), false)
		ends := map[string]time.Time{}
		for _, stage := range stages {
			from := start
			for _, l := range stage.After {
				if e, ok := ends[l.From]; ok && e.After(from) {
					from = e.Add(hoursOf(l.MinLagHours))
				}
			}
			from = from.Add(days(float64(h.rng.IntN(3))))
			ends[stage.ID] = from
			if from.After(horizon) {
				continue
			}
			site := h.sites["casablanca"]
			if editStages[stage.ID] {
				site = h.sites[st.editSite]
			}
			demands := make([]booking.Demand, len(stage.Demands))
			for i, d := range stage.Demands {
				demands[i] = booking.Demand{Kind: d.Kind, Capabilities: append(append([]string(nil), d.Capabilities...), st.prefs[d.Kind]...)}
			}
			// A stage longer than a working week is booked a part a week or so.
			parts := int(math.Ceil(stage.Hours / (5 * site.dayHours)))
			part := math.Ceil(stage.Hours/float64(parts)*2) / 2
			left := stage.Hours
			for i := 1; left > 0; i++ {
				chunk := min(left, part)
				note := stage.Name
				if parts > 1 {
					note = fmt.Sprintf("%s (%d/%d)", stage.Name, i, parts)
				}
				s := session{prod: p, site: site, demands: demands, hours: chunk, note: note, hold: from.After(h.now.Add(days(40)))}
				if p.emerging && h.rng.IntN(2) == 0 {
					s.trainees = 1
				}
				b, err := h.place(ctx, s, from)
				if err != nil {
					return err
				}
				if b == nil {
					break
				}
				from, left = b.End, left-chunk
				ends[stage.ID] = from
			}
		}
	}
	return nil
}

// work is a kind of session besides the pipelines, by site.
type work struct {
	site     string
	demands  []booking.Demand
	min, max float64 // hours
	notes    []string
	weight   int
}

var works = []work{
	{"casablanca", need("grading_suite", "colourist"), 4, 18, []string{"Trailer grade", "Festival version grade", "Teaser grade", "Look development"}, 3},
	{"casablanca", need("sound_edit_suite", "sound_editor"), 9, 27, []string{"ADR and foley", "Dialogue edit", "Sound effects pass"}, 3},
	{"casablanca", need("mix_stage", "mixer"), 4, 18, []string{"Trailer mix", "M&E and stems", "TV mix"}, 3},
	{"casablanca", need("edit_suite", "editor"), 9, 36, []string{"Trailer cut", "Festival recut", "Subtitle versioning"}, 4},
	{"casablanca", need("edit_suite"), 4, 18, []string{"Assistant editing", "Media management"}, 2},
	{"casablanca", need("dcp_mastering"), 4, 9, []string{"Festival DCP", "IMF package", "DCP versions (FR/AR subtitles)"}, 2},
	{"casablanca", need("screening_room"), 2, 4, []string{"Cast and crew screening", "Press screening", "Distributor screening"}, 2},
	{"dakar", need("edit_suite", "editor"), 8, 24, []string{"Rough cut", "Subtitle versioning (Wolof/French)", "Trailer cut"}, 2},
	{"dakar", need("edit_suite"), 4, 16, []string{"Dailies sync", "Archive digitisation"}, 1},
}

// perWeek is how many other sessions each week holds, from 13 weeks back (index 0) to
// 12 weeks ahead: the past full, the coming weeks booked, the far ones thinning out.
var perWeek = []int{16, 17, 17, 18, 18, 18, 19, 19, 19, 20, 20, 20, 20, 20, 18, 16, 13, 10, 8, 6, 5, 4, 3, 3, 2, 2}

// sessions books the other work of the weeks around today: trailers, festival
// versions, screenings, for productions drawn at random (those with Senegalese shares
// at Dakar).
func (h *hub) sessions(ctx context.Context) error {
	casa := h.sites["casablanca"]
	monday := h.today(casa)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDays(-1)
	}
	var titles, senegalese []string
	for _, st := range stories {
		titles = append(titles, st.title)
		if slices.Contains(h.prods[st.title].origins, "SN") {
			senegalese = append(senegalese, st.title)
		}
	}
	total := 0
	for _, w := range works {
		total += w.weight
	}
	horizon := h.now.Add(days(futureDays))
	for i, n := range perWeek {
		for range n {
			pick := h.rng.IntN(total)
			var w work
			for _, w = range works {
				if pick < w.weight {
					break
				}
				pick -= w.weight
			}
			pool := titles
			if w.site == "dakar" {
				pool = senegalese
			}
			p := h.prods[pool[h.rng.IntN(len(pool))]]
			// From the morning or the afternoon of a day of the week: the search then
			// starts where the site's working time does.
			site := h.sites[w.site]
			from := h.dayStart(site, monday.AddDays(7*(i-13)+h.rng.IntN(6)), h.rng.IntN(3) == 0)
			if from.Before(h.now.Add(-days(historyDays))) || from.After(horizon) {
				continue
			}
			hours := w.min + float64(h.rng.IntN(int(2*(w.max-w.min))+1))/2
			s := session{prod: p, site: site, demands: w.demands, hours: hours,
				note: w.notes[h.rng.IntN(len(w.notes))], hold: h.rng.IntN(100) < 30}
			if _, err := h.place(ctx, s, from); err != nil {
				return err
			}
		}
	}
	return nil
}

// completePast runs the due work over the past day by day, as the hub's worker would
// have: bookings that ended are completed in the evening of their last day.
func (h *hub) completePast(ctx context.Context) error {
	for t := h.now.Add(-days(historyDays + 7)).Truncate(24 * time.Hour).Add(21 * time.Hour); t.Before(h.now); t = t.Add(24 * time.Hour) {
		h.pastAt = t
		if _, err := h.past.ProcessDue(ctx, t); err != nil {
			return err
		}
	}
	h.pastAt = h.now
	_, err := h.past.ProcessDue(ctx, h.now)
	return err
}

// free finds a slot ahead of today for demands at a site, free of bookings and first
// holds, for the production.
func (h *hub) free(ctx context.Context, site *siteRef, prod *prodRef, demands []booking.Demand, hours float64, fromDays int) (booking.Slot, bool, error) {
	from := h.dayStart(site, h.today(site).AddDays(fromDays), false)
	slots, err := h.live.Availability(ctx, h.actors["manager"], booking.AvailabilityQuery{SiteID: site.id, Demands: demands,
		Hours: hoursOf(hours), From: from, To: from.Add(days(60)), Limit: 1, ProductionID: prod.id})
	if err != nil || len(slots) == 0 {
		if err == nil {
			h.refused++
		}
		return booking.Slot{}, false, h.skip(err)
	}
	return slots[0], true, nil
}

func slotResources(s booking.Slot) []uuid.UUID {
	var ids []uuid.UUID
	for _, r := range s.Resources {
		ids = append(ids, r.ResourceID)
	}
	return ids
}

// holdQueue queues four productions' holds on one slot of the HDR suite and its
// colourist, over the past days; the first releases it, and the others move up to
// ranks 1 to 3.
func (h *hub) holdQueue(ctx context.Context) error {
	casa := h.sites["casablanca"]
	queue := []struct{ title, note string }{
		{"Sable et Sel", "HDR grade — festival version"},
		{"Le Souffle du Baobab", "HDR festival grade"},
		{"Layali Derb Sultan", "Dolby Vision trim pass"},
		{"Le Chant de la Médina", "HDR grade"},
	}
	slot, ok, err := h.free(ctx, casa, h.prods[queue[0].title], []booking.Demand{{Kind: "grading_suite", Capabilities: []string{"hdr"}},
		{Kind: "colourist", Capabilities: []string{"hdr"}}}, 2*casa.dayHours, 10)
	if err != nil || !ok {
		return err
	}
	defer func() { h.liveAt = h.now }()
	var first uuid.UUID
	for i, q := range queue {
		p := h.prods[q.title]
		h.liveAt = h.now.Add(-hoursOf(float64(80 - 18*i)))
		b, err := h.live.Book(ctx, h.actors[p.producer], booking.BookingInput{ProductionID: p.id, ResourceIDs: slotResources(slot),
			Start: slot.Start, End: slot.End, Status: booking.StatusHold, Note: q.note})
		if err := h.skip(err); err != nil {
			return err
		}
		if i == 0 {
			first = b.ID
		}
	}
	h.liveAt = h.now.Add(-hoursOf(5))
	if first != uuid.Nil {
		p := h.prods[queue[0].title]
		_, err := h.live.Act(ctx, h.actors[p.producer], first, booking.ActionRelease, booking.ActOptions{Reason: "The festival moved its deadline"})
		return h.skip(err)
	}
	return nil
}

// challenge: Dar Nour holds Mix Stage A for Layali's final mix; Quai Bleu holds the
// same days behind it, and confirms today: a challenge, which Dar Nour must answer by
// its deadline.
func (h *hub) challenge(ctx context.Context) error {
	casa := h.sites["casablanca"]
	first, second := h.prods["Layali Derb Sultan"], h.prods["Sable et Sel"]
	slot, ok, err := h.free(ctx, casa, first, []booking.Demand{{Kind: "mix_stage", Capabilities: []string{"dolby_atmos"}}, {Kind: "mixer"}},
		3*casa.dayHours, 16)
	if err != nil || !ok {
		return err
	}
	defer func() { h.liveAt = h.now }()
	h.liveAt = h.now.Add(-days(3))
	if _, err := h.live.Book(ctx, h.actors[first.producer], booking.BookingInput{ProductionID: first.id, ResourceIDs: slotResources(slot),
		Start: slot.Start, End: slot.End, Status: booking.StatusHold, Note: "Final mix (Atmos)"}); err != nil {
		return h.skip(err)
	}
	h.liveAt = h.now.Add(-days(1))
	b, err := h.live.Book(ctx, h.actors[second.producer], booking.BookingInput{ProductionID: second.id, ResourceIDs: slotResources(slot),
		Start: slot.Start, End: slot.End, Status: booking.StatusHold, Note: "Final mix (Atmos), before the Marrakech festival"})
	if err != nil {
		return h.skip(err)
	}
	h.liveAt = h.now
	_, err = h.live.Act(ctx, h.actors[second.producer], b.ID, booking.ActionConfirm, booking.ActOptions{})
	return h.skip(err)
}

// approvals: two Senegalese producers confirm their holds at Dakar, where a manager
// approves confirmations; both wait in the manager's queue.
func (h *hub) approvals(ctx context.Context) error {
	dakar := h.sites["dakar"]
	defer func() { h.liveAt = h.now }()
	for i, a := range []struct{ title, note string }{
		{"Xaritu Ndox", "Conform for the Clermont-Ferrand submission"},
		{"Fleuve — épisode 3 : La Crue", "Recut for the broadcaster's notes"},
	} {
		p := h.prods[a.title]
		slot, ok, err := h.free(ctx, dakar, p, need("edit_suite", "editor"), float64(1+i)*dakar.dayHours, 5+4*i)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		producer := h.actors[p.producer]
		h.liveAt = h.now.Add(-hoursOf(float64(30 - 10*i)))
		b, err := h.live.Book(ctx, producer, booking.BookingInput{ProductionID: p.id, ResourceIDs: slotResources(slot),
			Start: slot.Start, End: slot.End, Status: booking.StatusHold, Note: a.note})
		if err != nil {
			if err := h.skip(err); err != nil {
				return err
			}
			continue
		}
		h.liveAt = h.now.Add(-hoursOf(float64(20 - 10*i)))
		if _, err := h.live.Act(ctx, producer, b.ID, booking.ActionConfirm, booking.ActOptions{}); h.skip(err) != nil {
			return err
		}
	}
	return nil
}

// plan: Dar Nour's producer plans Le Chant de la Médina, an emerging filmmaker's
// short, with the planner, and accepts the plan: a hold for every stage.
func (h *hub) plan(ctx context.Context) error {
	p := h.prods["Le Chant de la Médina"]
	producer := h.actors[p.producer]
	defer func() { h.liveAt = h.now }()
	h.liveAt = h.now.Add(-hoursOf(26))
	plan, err := h.live.ProposePlan(ctx, producer, booking.PlanRequest{ProductionID: p.id, SiteID: h.sites["casablanca"].id,
		Template: p.format, EarliestStart: h.now.Add(days(7)), Deadline: h.now.Add(days(70)),
		Preferences: map[string][]string{"colourist": {"lang:ar"}}, Seed: activitySeed})
	if err != nil || !plan.Placed {
		return h.skip(err)
	}
	h.liveAt = h.now.Add(-hoursOf(25))
	return h.skip(h.accept(ctx, producer, plan))
}

// accept accepts a plan; when capacity moved since the proposal, the new plan made in
// its place.
func (h *hub) accept(ctx context.Context, a booking.Actor, plan booking.Plan) error {
	var err error
	for try := 0; try < 2; try++ {
		_, _, err = h.live.AcceptPlan(ctx, a, plan.ID)
		var de *booking.Error
		if booking.ErrorCode(err) != booking.ECONFLICT || !errors.As(err, &de) {
			break
		}
		again, ok := de.Details["replanned"].(booking.Plan)
		if !ok || again.ID == uuid.Nil {
			break
		}
		plan = again
	}
	return err
}

// twoSitePlan: Téranga Lumière's producer plans Xaritu Ndox, a Senegalese short in
// Wolof with French subtitles and an HDR master, across Dakar and Casablanca: the edit
// in Dakar, the HDR grade in Casablanca (the HDR suite is there) after the cut has
// travelled, each stage quoted in its site's currency and the plan totalled in CFA
// francs at locked rates; and accepts it.
func (h *hub) twoSitePlan(ctx context.Context) error {
	p := h.prods["Xaritu Ndox"]
	producer := h.actors[p.producer]
	defer func() { h.liveAt = h.now }()
	h.liveAt = h.now.Add(-hoursOf(50))
	hdr, subs := []string{"sdr", "hdr"}, []string{"fr"}
	wo := "wo"
	if _, err := h.live.UpdateProduction(ctx, producer, p.id, booking.ProductionPatch{Deliverables: &booking.DeliverablesPatch{
		Picture: &hdr, OriginalLanguage: &wo, SubtitleLanguages: &subs}}, nil); err != nil {
		return err
	}
	h.liveAt = h.now.Add(-hoursOf(49))
	plan, err := h.live.ProposePlan(ctx, producer, booking.PlanRequest{ProductionID: p.id,
		SiteIDs: []uuid.UUID{h.sites["dakar"].id, h.sites["casablanca"].id}, Currency: "XOF",
		Template: p.format, EarliestStart: h.now.Add(days(10)), Deadline: h.now.Add(days(90)), Seed: activitySeed})
	if err != nil || !plan.Placed {
		return h.skip(err)
	}
	h.liveAt = h.now.Add(-hoursOf(48))
	return h.skip(h.accept(ctx, producer, plan))
}

// holidayHold: Quai Bleu's producer holds the screening room on the provisional
// holiday, and is warned that the date may yet be a holiday.
func (h *hub) holidayHold(ctx context.Context) error {
	if h.holiday == (calendar.Date{}) {
		return nil
	}
	casa := h.sites["casablanca"]
	p := h.prods["Sable et Sel"]
	defer func() { h.liveAt = h.now }()
	h.liveAt = h.now.Add(-hoursOf(3))
	for d := h.holiday; d.Before(h.holiday.AddDays(4)); d = d.AddDays(1) {
		work := dayWork(casa, d, true)
		if len(work) == 0 {
			continue
		}
		for _, name := range []string{"Screening Room — Salle Atlas", "DCP Mastering", "Edit Suite 3", "Edit Suite 4"} {
			_, err := h.live.Book(ctx, h.actors[p.producer], booking.BookingInput{ProductionID: p.id, ResourceIDs: []uuid.UUID{h.resources[name]},
				Start: work[0].Start, End: work[0].End, Status: booking.StatusHold, Note: "Distributor screening"})
			if err == nil || !refusal(err) {
				return err
			}
		}
	}
	h.refused++
	return nil
}

// move: the manager moves one of next week's confirmed sessions a day later, as its
// producer asked.
func (h *hub) move(ctx context.Context) error {
	casa := h.sites["casablanca"]
	from, to := h.now.Add(days(3)), h.now.Add(days(14))
	list, _, _, err := h.live.ListBookings(ctx, h.actors["manager"], booking.BookingFilter{SiteID: &casa.id,
		Status: []booking.Status{booking.StatusConfirmed}, From: &from, To: &to, Limit: 50})
	if err != nil {
		return err
	}
	h.liveAt = h.now.Add(-hoursOf(2))
	defer func() { h.liveAt = h.now }()
	for _, b := range list {
		if b.ID == h.premix || b.Start.Before(from) || b.End.Sub(b.Start) > days(2) {
			continue
		}
		for shift := 1; shift <= 3; shift++ {
			start, end := b.Start.Add(days(float64(shift))), b.End.Add(days(float64(shift)))
			w := casa.cal.WorkingTime(calendar.Interval{Start: start, End: end}, calendar.Options{AvoidProvisional: true})
			if len(w) == 0 || !w[0].Start.Equal(start) || !w[len(w)-1].End.Equal(end) {
				continue // the move would start or end outside working hours
			}
			_, err := h.live.Reschedule(ctx, h.actors["manager"], b.ID, start, end, booking.ActOptions{Reason: "Moved a day at the producer's request"})
			if err == nil || !refusal(err) {
				return err
			}
		}
	}
	return nil
}

// summary counts what the activity left.
func (h *hub) summary(ctx context.Context) (Summary, error) {
	s := Summary{Refused: h.refused}
	err := h.live.Pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM booking_groups WHERE status = 'completed'),
			(SELECT count(*) FROM booking_groups WHERE status = 'confirmed'),
			(SELECT count(*) FROM booking_groups WHERE status = 'hold'),
			(SELECT count(*) FROM challenges WHERE status = 'open'),
			(SELECT count(*) FROM booking_groups WHERE status = 'hold' AND approval_requested_at IS NOT NULL),
			(SELECT count(*) FROM plans WHERE status = 'accepted'),
			(SELECT count(*) FROM resource_blocks),
			(SELECT count(*) FROM holidays WHERE provisional AND date > $1::date)`, h.now).
		Scan(&s.Completed, &s.Confirmed, &s.Holds, &s.OpenChallenges, &s.PendingApprovals, &s.AcceptedPlans, &s.Blocks, &s.ProvisionalHolidays)
	if err != nil {
		return s, fmt.Errorf("demo activity: summary: %w", err)
	}
	return s, nil
}
