package catalogue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/postgres"
)

// Options change how Apply applies a file.
type Options struct {
	// DryRun applies the file in a transaction and rolls it back: the diff is the
	// one a real apply would make, checked by the same rules, and nothing is written.
	DryRun bool
	// Prune takes out of service the sites, resources and users in service that the
	// file leaves out (of a section it gives); without it they are left as they are
	// and the diff says so.
	Prune bool
	// Name is the file's name, for messages; left out, the one Parse read it under.
	Name string
}

// actor is who applies a file: posthub itself, as the command line's other
// bootstrapping commands (audited as "system").
var actor = booking.System

// The defaults of a site policy's fields left out, as a new site has them.
var defaultPolicy = booking.SitePolicy{
	HoldLifetime:    booking.Duration(168 * time.Hour),
	ChallengeWindow: booking.Duration(48 * time.Hour),
	ReminderOffsets: []booking.Duration{booking.Duration(72 * time.Hour), booking.Duration(24 * time.Hour)},
	Overtime:        booking.OvertimeApproval,
}

var errDryRun = errors.New("catalogue: dry run")

// Apply makes the database behind db match f and returns what it changed. Every
// change goes through the domain's own methods, as the API's do, all in one
// transaction (a savepoint of db's own when db is bound to one, as demo.Seed's is):
// either the whole file is applied or, on any problem, nothing is. A file that
// breaks a rule fails with *Invalid, each problem at its path in the file.
// Applying the same file again changes nothing (an empty Diff).
func Apply(ctx context.Context, db *postgres.DB, f *File, opt Options) (*Diff, error) {
	if opt.Name == "" {
		opt.Name = f.name
	}
	if ps := Validate(f); len(ps) > 0 {
		return nil, &Invalid{Name: opt.Name, Problems: ps}
	}
	var diff *Diff
	err := db.InOneTx(ctx, func(tx *postgres.DB) error {
		a := &applier{db: tx, f: f, opt: opt, diff: &Diff{}}
		if err := a.run(ctx); err != nil {
			return err
		}
		diff = a.diff
		if opt.DryRun {
			return errDryRun
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return nil, err
	}
	return diff, nil
}

// applier applies one file in one transaction.
type applier struct {
	db   *postgres.DB
	f    *File
	opt  Options
	diff *Diff
	snap postgres.CatalogueSnapshot

	// What each entry of the file is in the database, nil for what is new.
	orgMatch  []*booking.Organisation
	siteMatch []*postgres.SiteSnapshot
	resMatch  [][]*booking.Resource // by site, then resource
	userMatch []*booking.User

	// The ids of what the file and the database name, by slug (as they are after
	// the changes made so far).
	orgIDs  map[string]uuid.UUID
	siteIDs map[string]uuid.UUID
	orgSlug map[uuid.UUID]string
	// siteSlug names the sites by id, for users' managed sites.
	siteSlug map[uuid.UUID]string
}

func (a *applier) run(ctx context.Context) error {
	var err error
	if a.snap, err = a.db.CatalogueSnapshot(ctx, actor); err != nil {
		return err
	}
	if err := a.resolve(); err != nil {
		return err
	}
	if err := a.organisations(ctx); err != nil {
		return err
	}
	if err := a.sites(ctx); err != nil {
		return err
	}
	if err := a.nationalHolidays(ctx); err != nil {
		return err
	}
	return a.users(ctx)
}

// fail places a domain error at path: a refusal as a problem of the file, anything
// else (the database unavailable) as it is.
func (a *applier) fail(path string, err error, rename map[string]string) error {
	switch booking.ErrorCode(err) {
	case booking.EUNAVAILABLE, booking.EINTERNAL:
		return fmt.Errorf("%s: %w", path, err)
	case booking.EPRECONDITION:
		// Each update names the version the apply read: someone changed the object since.
		return fmt.Errorf("%s: changed by someone else while the file was being applied; nothing was written, apply it again: %w", path, err)
	}
	return &Invalid{Name: a.opt.Name, Problems: []Problem{problemOf(path, err, rename)}}
}

func (a *applier) change(c Change) { a.diff.Changes = append(a.diff.Changes, c) }

func (a *applier) keep(format string, args ...any) {
	a.diff.Kept = append(a.diff.Kept, fmt.Sprintf(format, args...))
}

// resolve finds what each entry of the file is in the database, and checks that
// what the file names (an organisation, a site, a resource) is in the file or in
// the database.
func (a *applier) resolve() error {
	var ps problems
	f := a.f
	a.orgIDs, a.siteIDs = map[string]uuid.UUID{}, map[string]uuid.UUID{}
	a.orgSlug, a.siteSlug = map[uuid.UUID]string{}, map[uuid.UUID]string{}

	orgBySlug := map[string]*booking.Organisation{}
	for i := range a.snap.Organisations {
		o := &a.snap.Organisations[i]
		orgBySlug[o.Slug] = o
		a.orgIDs[o.Slug], a.orgSlug[o.ID] = o.ID, o.Slug
	}
	claimed := map[uuid.UUID]string{}
	claim := func(id uuid.UUID, path string) bool {
		if prev, ok := claimed[id]; ok {
			ps.add(path, "names the same object as %s", prev)
			return false
		}
		claimed[id] = path
		return true
	}
	a.orgMatch = make([]*booking.Organisation, len(f.Organisations))
	orgNames := map[string]bool{}
	for i, o := range f.Organisations {
		p := fmt.Sprintf("organisations[%d]", i)
		orgNames[o.Slug] = true
		cur := orgBySlug[o.Slug]
		if cur == nil && o.RenamedFrom != "" {
			cur = orgBySlug[o.RenamedFrom]
		}
		if cur == nil || !claim(cur.ID, p) {
			continue
		}
		if cur.Kind != o.Kind {
			ps.add(join(p, "kind"), "is %s and does not change: a production company's productions stay a production company's", cur.Kind)
		}
		a.orgMatch[i] = cur
	}
	for _, o := range a.snap.Organisations {
		if _, renamed := claimed[o.ID]; !renamed {
			orgNames[o.Slug] = true
		}
	}

	siteBySlug := map[string]*postgres.SiteSnapshot{}
	for i := range a.snap.Sites {
		s := &a.snap.Sites[i]
		siteBySlug[s.Site.Slug] = s
		a.siteIDs[s.Site.Slug], a.siteSlug[s.Site.ID] = s.Site.ID, s.Site.Slug
	}
	a.siteMatch = make([]*postgres.SiteSnapshot, len(f.Sites))
	a.resMatch = make([][]*booking.Resource, len(f.Sites))
	siteNames := map[string]bool{}
	for i, s := range f.Sites {
		p := fmt.Sprintf("sites[%d]", i)
		siteNames[s.Slug] = true
		a.resMatch[i] = make([]*booking.Resource, len(s.Resources))
		cur := siteBySlug[s.Slug]
		if cur == nil && s.RenamedFrom != "" {
			cur = siteBySlug[s.RenamedFrom]
		}
		if cur != nil && claim(cur.Site.ID, p) {
			a.siteMatch[i] = cur
		}
		// The resources the site will have, for its rate cards to name.
		names := map[string]bool{}
		if cur := a.siteMatch[i]; cur != nil {
			byName := map[string]*booking.Resource{}
			for j := range cur.Resources {
				byName[cur.Resources[j].Name] = &cur.Resources[j]
			}
			for j, r := range s.Resources {
				rp := fmt.Sprintf("%s.resources[%d]", p, j)
				m := byName[r.Name]
				if m == nil && r.RenamedFrom != "" {
					m = byName[r.RenamedFrom]
				}
				if m != nil && claim(m.ID, rp) {
					a.resMatch[i][j] = m
				}
			}
			for _, r := range cur.Resources {
				if _, renamed := claimed[r.ID]; !renamed {
					names[r.Name] = true
				}
			}
		}
		for _, r := range s.Resources {
			names[r.Name] = true
		}
		for j, c := range s.RateCards {
			if c.Resource != "" && !names[c.Resource] {
				ps.add(fmt.Sprintf("%s.rate_cards[%d].resource", p, j), "no resource %q at %s, in the file or the database", c.Resource, s.Slug)
			}
		}
	}
	for _, s := range a.snap.Sites {
		if _, renamed := claimed[s.Site.ID]; !renamed {
			siteNames[s.Site.Slug] = true
		}
	}

	userByEmail := map[string]*booking.User{}
	for i := range a.snap.Users {
		userByEmail[strings.ToLower(a.snap.Users[i].Email)] = &a.snap.Users[i]
	}
	a.userMatch = make([]*booking.User, len(f.Users))
	for i, u := range f.Users {
		p := fmt.Sprintf("users[%d]", i)
		a.userMatch[i] = userByEmail[strings.ToLower(u.Email)]
		if u.Organisation != "" && !orgNames[u.Organisation] {
			ps.add(join(p, "organisation"), "no organisation %q, in the file or the database", u.Organisation)
		}
		for j, s := range u.Sites {
			if !siteNames[s] {
				ps.add(fmt.Sprintf("%s.sites[%d]", p, j), "no site %q, in the file or the database", s)
			}
		}
	}
	if len(ps) > 0 {
		return &Invalid{Name: a.opt.Name, Problems: ps}
	}
	return nil
}

// field records a changed field and sets the patch's pointer to the new value.
func field[T comparable](fs *[]Field, name string, before, after T, dst **T) {
	if before == after {
		return
	}
	v := after
	*dst = &v
	*fs = append(*fs, Field{Name: name, Before: show(before), After: show(after)})
}

// show writes a value in a diff.
func show(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	case booking.Role:
		return string(x)
	}
	return fmt.Sprint(v)
}

func (a *applier) organisations(ctx context.Context) error {
	for i, o := range a.f.Organisations {
		p := fmt.Sprintf("organisations[%d]", i)
		cur := a.orgMatch[i]
		if cur == nil {
			created, err := a.db.CreateOrganisation(ctx, actor, booking.OrganisationInput{Slug: o.Slug, Name: o.Name, Country: o.Country, Kind: o.Kind})
			if err != nil {
				return a.fail(p, err, nil)
			}
			a.orgIDs[o.Slug], a.orgSlug[created.ID] = created.ID, o.Slug
			a.change(Change{Op: Create, What: "organisation", Name: o.Slug, Detail: fmt.Sprintf("%s, %s, %s", o.Name, o.Kind, o.Country)})
			continue
		}
		var patch booking.OrganisationPatch
		var fs []Field
		field(&fs, "slug", cur.Slug, o.Slug, &patch.Slug)
		field(&fs, "name", cur.Name, o.Name, &patch.Name)
		field(&fs, "country", cur.Country, o.Country, &patch.Country)
		if len(fs) > 0 {
			if _, err := a.db.UpdateOrganisation(ctx, actor, cur.ID, patch, &cur.Version); err != nil {
				return a.fail(p, err, nil)
			}
			delete(a.orgIDs, cur.Slug)
			a.orgIDs[o.Slug], a.orgSlug[cur.ID] = cur.ID, o.Slug
			a.change(Change{Op: Update, What: "organisation", Name: o.Slug, Fields: fs})
		}
	}
	if a.f.Organisations != nil {
		for _, o := range a.snap.Organisations {
			if !a.matchedOrg(o.ID) {
				a.keep("organisation %s: not in the file; kept (organisations are never taken out of service)", o.Slug)
			}
		}
	}
	return nil
}

func (a *applier) matchedOrg(id uuid.UUID) bool {
	return slices.ContainsFunc(a.orgMatch, func(m *booking.Organisation) bool { return m != nil && m.ID == id })
}

func (a *applier) sites(ctx context.Context) error {
	for i := range a.f.Sites {
		if err := a.site(ctx, i); err != nil {
			return err
		}
	}
	if a.f.Sites == nil {
		return nil
	}
	for _, ss := range a.snap.Sites {
		if slices.ContainsFunc(a.siteMatch, func(m *postgres.SiteSnapshot) bool { return m != nil && m.Site.ID == ss.Site.ID }) || !ss.Site.Active {
			continue
		}
		if !a.opt.Prune {
			a.keep("site %s: not in the file; left in service (--prune takes it and its resources out of service)", ss.Site.Slug)
			continue
		}
		for _, r := range ss.Resources {
			if r.Active {
				if err := a.deactivateResource(ctx, ss.Site.Slug, r, "its site is not in the file"); err != nil {
					return err
				}
			}
		}
		off := false
		if _, err := a.db.UpdateSite(ctx, actor, ss.Site.ID, booking.SitePatch{Active: &off}, nil); err != nil {
			return fmt.Errorf("taking site %s out of service: %w", ss.Site.Slug, err)
		}
		a.change(Change{Op: Deactivate, What: "site", Name: ss.Site.Slug, Detail: "not in the file"})
	}
	return nil
}

func (a *applier) site(ctx context.Context, i int) error {
	s := &a.f.Sites[i]
	p := fmt.Sprintf("sites[%d]", i)
	cur := a.siteMatch[i]
	var id uuid.UUID
	active := true
	if cur == nil {
		created, err := a.db.CreateSite(ctx, actor, booking.SiteInput{Slug: s.Slug, Name: s.Name, Country: s.Country, TimeZone: s.TimeZone, Currency: s.Currency})
		if err != nil {
			return a.fail(p, err, nil)
		}
		id = created.ID
		a.change(Change{Op: Create, What: "site", Name: s.Slug, Detail: fmt.Sprintf("%s, %s, %s, %s", s.Name, s.Country, s.TimeZone, s.Currency)})
	} else {
		id, active = cur.Site.ID, cur.Site.Active
		var patch booking.SitePatch
		var fs []Field
		field(&fs, "slug", cur.Site.Slug, s.Slug, &patch.Slug)
		field(&fs, "name", cur.Site.Name, s.Name, &patch.Name)
		field(&fs, "country", cur.Site.Country, s.Country, &patch.Country)
		field(&fs, "time_zone", cur.Site.TimeZone, s.TimeZone, &patch.TimeZone)
		field(&fs, "currency", cur.Site.Currency, s.Currency, &patch.Currency)
		if !active && isTrue(s.Active) {
			field(&fs, "active", false, true, &patch.Active) // back in service before its resources are
			active = true
		}
		if len(fs) > 0 {
			if _, err := a.db.UpdateSite(ctx, actor, id, patch, &cur.Site.Version); err != nil {
				return a.fail(p, err, nil)
			}
			a.change(Change{Op: Update, What: "site", Name: s.Slug, Fields: fs})
		}
		delete(a.siteIDs, cur.Site.Slug)
	}
	a.siteIDs[s.Slug], a.siteSlug[id] = id, s.Slug

	if s.Policy != nil {
		if err := a.policy(ctx, p+".policy", s.Slug, id, s.Policy); err != nil {
			return err
		}
	}
	if c := s.Calendar; c != nil {
		var was booking.SiteCalendar
		if cur != nil {
			was = cur.Calendar
		}
		if err := a.calendar(ctx, p+".calendar", s.Slug, id, was, c); err != nil {
			return err
		}
	}
	resources, err := a.resources(ctx, i, id)
	if err != nil {
		return err
	}
	if s.RateCards != nil {
		var was []booking.RateCard
		if cur != nil {
			was = cur.RateCards
		}
		if err := a.rateCards(ctx, p, s.Slug, id, resources, was, s.RateCards); err != nil {
			return err
		}
	}
	if active && !isTrue(s.Active) {
		// Out of service last, once its resources are.
		off := false
		if _, err := a.db.UpdateSite(ctx, actor, id, booking.SitePatch{Active: &off}, nil); err != nil {
			return a.fail(join(p, "active"), err, map[string]string{"active": ""})
		}
		a.change(Change{Op: Deactivate, What: "site", Name: s.Slug, Detail: "out of service"})
	}
	return nil
}

func (a *applier) policy(ctx context.Context, path, slug string, siteID uuid.UUID, want *Policy) error {
	cur, err := a.db.SitePolicy(ctx, siteID)
	if err != nil {
		return a.fail(path, err, nil)
	}
	next := defaultPolicy
	next.SiteID = siteID
	next.ReminderOffsets = slices.Clone(defaultPolicy.ReminderOffsets)
	next.ConfirmNeedsApproval = want.ConfirmNeedsApproval
	dur := func(s string, d *booking.Duration) {
		if s != "" {
			v, _ := time.ParseDuration(s) // checked by Validate
			*d = booking.Duration(v)
		}
	}
	dur(want.HoldLifetime, &next.HoldLifetime)
	dur(want.ChallengeWindow, &next.ChallengeWindow)
	dur(want.MinNotice, &next.MinNotice)
	if want.ReminderOffsets != nil {
		next.ReminderOffsets = []booking.Duration{}
		for _, o := range want.ReminderOffsets {
			var d booking.Duration
			dur(o, &d)
			if !slices.Contains(next.ReminderOffsets, d) {
				next.ReminderOffsets = append(next.ReminderOffsets, d)
			}
		}
	}
	if want.Overtime != "" {
		next.Overtime = want.Overtime
	}
	was, will := policyOf(cur), policyOf(next)
	var fs []Field
	var ignore *string
	var ignoreBool *bool
	field(&fs, "confirm_needs_approval", was.ConfirmNeedsApproval, will.ConfirmNeedsApproval, &ignoreBool)
	field(&fs, "hold_lifetime", was.HoldLifetime, will.HoldLifetime, &ignore)
	field(&fs, "challenge_window", was.ChallengeWindow, will.ChallengeWindow, &ignore)
	field(&fs, "min_notice", was.MinNotice, will.MinNotice, &ignore)
	if !slices.Equal(was.ReminderOffsets, will.ReminderOffsets) {
		fs = append(fs, Field{Name: "reminder_offsets", Before: show(was.ReminderOffsets), After: show(will.ReminderOffsets)})
	}
	field(&fs, "overtime", was.Overtime, will.Overtime, &ignore)
	if len(fs) == 0 {
		return nil
	}
	if _, err := a.db.UpdateSitePolicy(ctx, actor, next); err != nil {
		return a.fail(path, err, nil)
	}
	a.change(Change{Op: Update, What: "policy", Name: slug, Fields: fs})
	return nil
}

// weekFields are the days whose spans differ.
func weekFields(was, will Week) []Field {
	var fs []Field
	for _, d := range days {
		x, y := *d.spans(&was), *d.spans(&will)
		if !slices.Equal(x, y) {
			fs = append(fs, Field{Name: d.name, Before: show(orEmpty(x)), After: show(orEmpty(y))})
		}
	}
	return fs
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func weekKey(w Week) string {
	var b strings.Builder
	for _, d := range days {
		fmt.Fprintf(&b, "%s=%s;", d.name, strings.Join(*d.spans(&w), ","))
	}
	return b.String()
}

func (a *applier) calendar(ctx context.Context, path, slug string, siteID uuid.UUID, was booking.SiteCalendar, want *Calendar) error {
	curWeek, wantWeek := weekFromDomain(was.Week), canonicalWeek(want.Week)
	if fs := weekFields(curWeek, wantWeek); len(fs) > 0 {
		bw, _ := weekOf(want.Week) // checked by Validate
		if _, err := a.db.SetWeek(ctx, actor, siteID, bw); err != nil {
			return a.fail(path+".week", err, map[string]string{"week": ""})
		}
		if was.Week == nil {
			// A new site's first week.
			var days []string
			for _, f := range fs {
				days = append(days, f.Name+" "+f.After)
			}
			a.change(Change{Op: Create, What: "week", Name: slug, Detail: strings.Join(days, ", ")})
		} else {
			a.change(Change{Op: Update, What: "week", Name: slug, Fields: fs})
		}
	}

	// Periods are named by all they hold: one that differs is removed and added anew.
	type period struct {
		p  Period
		id uuid.UUID
		i  int // index in the file
	}
	key := func(p Period) string { return p.Name + "\x00" + p.From + "\x00" + p.To + "\x00" + weekKey(p.Week) }
	var removed, added []period
	left := map[string][]period{}
	for _, o := range was.Overrides {
		p := Period{Name: o.Name, From: o.From, To: o.To, Week: weekFromDomain(o.Week)}
		left[key(p)] = append(left[key(p)], period{p: p, id: o.ID})
	}
	for i, p := range want.Periods {
		p.Week = canonicalWeek(p.Week)
		if l := left[key(p)]; len(l) > 0 {
			left[key(p)] = l[1:]
			continue
		}
		added = append(added, period{p: p, i: i})
	}
	for _, o := range was.Overrides {
		p := Period{Name: o.Name, From: o.From, To: o.To, Week: weekFromDomain(o.Week)}
		if l := left[key(p)]; len(l) > 0 && l[0].id == o.ID {
			left[key(p)] = l[1:]
			removed = append(removed, period{p: p, id: o.ID})
		}
	}
	label := func(p Period) string { return fmt.Sprintf("%s/%s", slug, p.Name) }
	changed := map[string]bool{} // names shown as an update
	for _, r := range removed {
		if err := a.db.DeleteOverride(ctx, actor, r.id); err != nil {
			return a.fail(path+".periods", err, nil)
		}
		if n, m := countName(removed, r.p.Name, func(x period) string { return x.p.Name }), countName(added, r.p.Name, func(x period) string { return x.p.Name }); n == 1 && m == 1 {
			changed[r.p.Name] = true
			continue
		}
		a.change(Change{Op: Remove, What: "period", Name: label(r.p), Detail: fmt.Sprintf("%s to %s", r.p.From, r.p.To)})
	}
	for _, ad := range added {
		bw, _ := weekOf(ad.p.Week)
		pp := fmt.Sprintf("%s.periods[%d]", path, ad.i)
		if _, err := a.db.AddOverride(ctx, actor, siteID, booking.CalendarOverride{Name: ad.p.Name, From: ad.p.From, To: ad.p.To, Week: bw}); err != nil {
			return a.fail(pp, err, nil)
		}
		if changed[ad.p.Name] {
			var before Period
			for _, r := range removed {
				if r.p.Name == ad.p.Name {
					before = r.p
				}
			}
			var fs []Field
			var ignore *string
			field(&fs, "from", before.From, ad.p.From, &ignore)
			field(&fs, "to", before.To, ad.p.To, &ignore)
			for _, f := range weekFields(before.Week, ad.p.Week) {
				f.Name = "week." + f.Name
				fs = append(fs, f)
			}
			a.change(Change{Op: Update, What: "period", Name: label(ad.p), Fields: fs})
			continue
		}
		a.change(Change{Op: Create, What: "period", Name: label(ad.p), Detail: fmt.Sprintf("%s to %s", ad.p.From, ad.p.To)})
	}
	var closures []booking.Holiday
	for _, h := range was.Holidays {
		if h.SiteID != nil {
			closures = append(closures, h)
		}
	}
	return a.holidays(ctx, path+".holidays", slug, booking.Holiday{SiteID: &siteID}, closures, want.Holidays)
}

func countName[T any](xs []T, name string, of func(T) string) int {
	n := 0
	for _, x := range xs {
		if of(x) == name {
			n++
		}
	}
	return n
}

// holidays makes a country's holidays, or a site's closures (scope says which), as
// the file has them. A holiday is named by its date and name; one whose name alone
// matches is moved (a provisional one confirmed on the date the file gives).
func (a *applier) holidays(ctx context.Context, path, label string, scope booking.Holiday, was []booking.Holiday, want []Holiday) error {
	type hol struct {
		h Holiday
		i int
	}
	byKey := map[string]booking.Holiday{}
	for _, h := range was {
		byKey[h.Date+"\x00"+h.Name] = h
	}
	var added []hol
	kept := map[uuid.UUID]bool{}
	name := func(h Holiday) string { return fmt.Sprintf("%s %s %s", label, h.Date, h.Name) }
	for i, h := range want {
		p := fmt.Sprintf("%s[%d]", path, i)
		cur, ok := byKey[h.Date+"\x00"+h.Name]
		if !ok {
			added = append(added, hol{h, i})
			continue
		}
		kept[cur.ID] = true
		switch {
		case cur.Provisional == h.Provisional:
		case cur.Provisional:
			if _, err := a.db.ConfirmHoliday(ctx, actor, cur.ID, ""); err != nil {
				return a.fail(p, err, holidayFields)
			}
			a.change(Change{Op: Update, What: "holiday", Name: name(h), Fields: []Field{{"provisional", "true", "false"}}})
		default:
			if err := a.replaceHoliday(ctx, p, scope, cur.ID, h); err != nil {
				return err
			}
			a.change(Change{Op: Update, What: "holiday", Name: name(h), Fields: []Field{{"provisional", "false", "true"}}})
		}
	}
	var removed []booking.Holiday
	for _, h := range was {
		if !kept[h.ID] {
			removed = append(removed, h)
		}
	}
	// A holiday whose name alone is found once on each side has moved.
	moved := map[uuid.UUID]bool{}
	for _, ad := range added {
		n := countName(added, ad.h.Name, func(x hol) string { return x.h.Name })
		m := countName(removed, ad.h.Name, func(x booking.Holiday) string { return x.Name })
		if n != 1 || m != 1 {
			continue
		}
		i := slices.IndexFunc(removed, func(x booking.Holiday) bool { return x.Name == ad.h.Name })
		cur := removed[i]
		p := fmt.Sprintf("%s[%d]", path, ad.i)
		fs := []Field{{"date", cur.Date, ad.h.Date}}
		if cur.Provisional != ad.h.Provisional {
			fs = append(fs, Field{"provisional", strconv.FormatBool(cur.Provisional), strconv.FormatBool(ad.h.Provisional)})
		}
		if cur.Provisional && !ad.h.Provisional {
			if _, err := a.db.ConfirmHoliday(ctx, actor, cur.ID, ad.h.Date); err != nil {
				return a.fail(p, err, holidayFields)
			}
		} else if err := a.replaceHoliday(ctx, p, scope, cur.ID, ad.h); err != nil {
			return err
		}
		moved[cur.ID] = true
		a.change(Change{Op: Update, What: "holiday", Name: fmt.Sprintf("%s %s", label, ad.h.Name), Fields: fs})
	}
	for _, h := range removed {
		if moved[h.ID] {
			continue
		}
		if err := a.db.DeleteHoliday(ctx, actor, h.ID); err != nil {
			return a.fail(path, err, holidayFields)
		}
		a.change(Change{Op: Remove, What: "holiday", Name: name(Holiday{Date: h.Date, Name: h.Name})})
	}
	for _, ad := range added {
		if slices.ContainsFunc(removed, func(x booking.Holiday) bool { return moved[x.ID] && x.Name == ad.h.Name }) {
			continue
		}
		p := fmt.Sprintf("%s[%d]", path, ad.i)
		h := scope
		h.Date, h.Name, h.Provisional = ad.h.Date, ad.h.Name, ad.h.Provisional
		if _, err := a.db.AddHoliday(ctx, actor, h); err != nil {
			return a.fail(p, err, holidayFields)
		}
		detail := ""
		if ad.h.Provisional {
			detail = "provisional"
		}
		a.change(Change{Op: Create, What: "holiday", Name: name(ad.h), Detail: detail})
	}
	return nil
}

// replaceHoliday removes a holiday and adds h in its place: a confirmed holiday made
// provisional again, or one moved that was not provisional.
func (a *applier) replaceHoliday(ctx context.Context, path string, scope booking.Holiday, id uuid.UUID, h Holiday) error {
	if err := a.db.DeleteHoliday(ctx, actor, id); err != nil {
		return a.fail(path, err, holidayFields)
	}
	n := scope
	n.Date, n.Name, n.Provisional = h.Date, h.Name, h.Provisional
	if _, err := a.db.AddHoliday(ctx, actor, n); err != nil {
		return a.fail(path, err, holidayFields)
	}
	return nil
}

// resources makes the site's resources as the file has them and returns every
// resource of the site by name, for its rate cards.
func (a *applier) resources(ctx context.Context, i int, siteID uuid.UUID) (map[string]uuid.UUID, error) {
	s := &a.f.Sites[i]
	p := fmt.Sprintf("sites[%d]", i)
	out := map[string]uuid.UUID{}
	var existing []booking.Resource
	if cur := a.siteMatch[i]; cur != nil {
		existing = cur.Resources
	}
	matched := map[uuid.UUID]bool{}
	for j, r := range s.Resources {
		rp := fmt.Sprintf("%s.resources[%d]", p, j)
		cur := a.resMatch[i][j]
		label := s.Slug + "/" + r.Name
		if cur == nil {
			created, err := a.db.CreateResource(ctx, actor, booking.ResourceInput{SiteID: siteID, Name: r.Name, Category: r.Category, Kind: r.Kind,
				Capabilities: r.Capabilities, RateMinor: r.RateMinor, RateUnit: r.RateUnit, TraineeCapacity: r.TraineeCapacity, Active: ptr(isTrue(r.Active))})
			if err != nil {
				return nil, a.fail(rp, err, resourceFields)
			}
			out[r.Name] = created.ID
			detail := fmt.Sprintf("%s %s, rate_minor %d per %s", r.Category, r.Kind, r.RateMinor, r.RateUnit)
			if !isTrue(r.Active) {
				detail += ", out of service"
			}
			a.change(Change{Op: Create, What: "resource", Name: label, Detail: detail})
			continue
		}
		matched[cur.ID] = true
		out[r.Name] = cur.ID
		var patch booking.ResourcePatch
		var fs []Field
		field(&fs, "name", cur.Name, r.Name, &patch.Name)
		field(&fs, "category", cur.Category, r.Category, &patch.Category)
		field(&fs, "kind", cur.Kind, r.Kind, &patch.Kind)
		if !slices.Equal(cur.Capabilities, r.Capabilities) {
			caps := slices.Clone(r.Capabilities)
			patch.Capabilities = &caps
			fs = append(fs, Field{Name: "capabilities", Before: show(orEmpty(cur.Capabilities)), After: show(r.Capabilities)})
		}
		field(&fs, "rate_minor", cur.RateMinor, r.RateMinor, &patch.RateMinor)
		field(&fs, "rate_unit", cur.RateUnit, r.RateUnit, &patch.RateUnit)
		field(&fs, "trainee_capacity", cur.TraineeCapacity, r.TraineeCapacity, &patch.TraineeCapacity)
		field(&fs, "active", cur.Active, isTrue(r.Active), &patch.Active)
		if len(fs) == 0 {
			continue
		}
		if _, err := a.db.UpdateResource(ctx, actor, cur.ID, patch, &cur.Version); err != nil {
			return nil, a.fail(rp, err, resourceFields)
		}
		if len(fs) == 1 && fs[0].Name == "active" && !isTrue(r.Active) {
			a.change(Change{Op: Deactivate, What: "resource", Name: label, Detail: "out of service"})
			continue
		}
		a.change(Change{Op: Update, What: "resource", Name: label, Fields: fs})
	}
	for _, r := range existing {
		if matched[r.ID] {
			continue
		}
		out[r.Name] = r.ID
		if s.Resources == nil || !r.Active {
			continue
		}
		if !a.opt.Prune {
			a.keep("resource %s/%s: not in the file; left in service (--prune takes it out of service)", s.Slug, r.Name)
			continue
		}
		if err := a.deactivateResource(ctx, s.Slug, r, "not in the file"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (a *applier) deactivateResource(ctx context.Context, slug string, r booking.Resource, why string) error {
	off := false
	if _, err := a.db.UpdateResource(ctx, actor, r.ID, booking.ResourcePatch{Active: &off}, nil); err != nil {
		return fmt.Errorf("taking resource %s/%s out of service (--prune): %w", slug, r.Name, err)
	}
	a.change(Change{Op: Deactivate, What: "resource", Name: slug + "/" + r.Name, Detail: why})
	return nil
}

// rateCards makes the site's rate cards as the file has them. A card is named by
// all it holds: one that differs is removed and added anew (quotes already made keep
// their prices), shown as an update when what it prices, its unit and dates match.
func (a *applier) rateCards(ctx context.Context, path, slug string, siteID uuid.UUID, resources map[string]uuid.UUID, was []booking.RateCard, want []RateCard) error {
	nameOf := map[uuid.UUID]string{}
	for n, id := range resources {
		nameOf[id] = n
	}
	type card struct {
		c  RateCard
		id uuid.UUID
		i  int
	}
	key := func(c RateCard) string {
		return fmt.Sprintf("%s\x00%s\x00%s\x00%d\x00%s\x00%s\x00%d", c.Kind, c.Resource, c.Unit, c.AmountMinor, c.EffectiveFrom, c.EffectiveTo, c.OvertimeMultiplierBP)
	}
	what := func(c RateCard) string {
		return fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%s", c.Kind, c.Resource, c.Unit, c.EffectiveFrom, c.EffectiveTo)
	}
	label := func(c RateCard) string {
		s := slug + " "
		if c.Kind != "" {
			s += "kind " + c.Kind
		} else {
			s += "resource " + strconv.Quote(c.Resource)
		}
		s += " per " + c.Unit
		if c.EffectiveFrom != "" {
			s += " from " + c.EffectiveFrom
		}
		if c.EffectiveTo != "" {
			s += " to " + c.EffectiveTo
		}
		return s
	}
	left := map[string][]card{}
	var cur []card
	for _, c := range was {
		rc := RateCard{Kind: c.Kind, Unit: c.Unit, AmountMinor: c.AmountMinor, EffectiveFrom: c.EffectiveFrom, EffectiveTo: c.EffectiveTo, OvertimeMultiplierBP: c.OvertimeMultiplierBP}
		if c.ResourceID != nil {
			rc.Resource = nameOf[*c.ResourceID]
		}
		cur = append(cur, card{c: rc, id: c.ID})
		left[key(rc)] = append(left[key(rc)], card{c: rc, id: c.ID})
	}
	var added, removed []card
	for i, c := range want {
		if l := left[key(c)]; len(l) > 0 {
			left[key(c)] = l[1:]
			continue
		}
		added = append(added, card{c: c, i: i})
	}
	for _, c := range cur {
		if l := left[key(c.c)]; len(l) > 0 && l[0].id == c.id {
			left[key(c.c)] = l[1:]
			removed = append(removed, c)
		}
	}
	updated := map[string]card{} // by what they price: the card removed
	for _, r := range removed {
		if err := a.db.DeleteRateCard(ctx, actor, r.id); err != nil {
			return a.fail(path+".rate_cards", err, rateCardFields)
		}
		if countName(removed, what(r.c), func(x card) string { return what(x.c) }) == 1 && countName(added, what(r.c), func(x card) string { return what(x.c) }) == 1 {
			updated[what(r.c)] = r
			continue
		}
		a.change(Change{Op: Remove, What: "rate card", Name: label(r.c), Detail: fmt.Sprintf("amount_minor %d", r.c.AmountMinor)})
	}
	for _, ad := range added {
		c := ad.c
		in := booking.RateCardInput{SiteID: siteID, Kind: c.Kind, Unit: c.Unit, AmountMinor: c.AmountMinor, EffectiveFrom: c.EffectiveFrom,
			EffectiveTo: c.EffectiveTo, OvertimeMultiplierBP: c.OvertimeMultiplierBP}
		if c.Resource != "" {
			id := resources[c.Resource]
			in.ResourceID = &id
		}
		if _, err := a.db.CreateRateCard(ctx, actor, in); err != nil {
			return a.fail(fmt.Sprintf("%s.rate_cards[%d]", path, ad.i), err, rateCardFields)
		}
		if before, ok := updated[what(c)]; ok {
			var fs []Field
			var ignore *int64
			var ignoreInt *int
			field(&fs, "amount_minor", before.c.AmountMinor, c.AmountMinor, &ignore)
			field(&fs, "overtime_multiplier_bp", before.c.OvertimeMultiplierBP, c.OvertimeMultiplierBP, &ignoreInt)
			a.change(Change{Op: Update, What: "rate card", Name: label(c), Fields: fs})
			continue
		}
		a.change(Change{Op: Create, What: "rate card", Name: label(c), Detail: fmt.Sprintf("amount_minor %d", c.AmountMinor)})
	}
	return nil
}

func (a *applier) nationalHolidays(ctx context.Context) error {
	if a.f.NationalHolidays == nil {
		return nil
	}
	byCountry := map[string][]booking.Holiday{}
	for _, h := range a.snap.Holidays {
		byCountry[h.Country] = append(byCountry[h.Country], h)
	}
	countries := make([]string, 0, len(a.f.NationalHolidays))
	for c := range a.f.NationalHolidays {
		countries = append(countries, c)
	}
	slices.Sort(countries)
	for _, c := range countries {
		if err := a.holidays(ctx, "national_holidays."+c, c, booking.Holiday{Country: c}, byCountry[c], a.f.NationalHolidays[c]); err != nil {
			return err
		}
	}
	var others []string
	for c := range byCountry {
		if _, ok := a.f.NationalHolidays[c]; !ok {
			others = append(others, c)
		}
	}
	slices.Sort(others)
	for _, c := range others {
		a.keep("national holidays of %s: not in the file; kept (list %s: [] to remove them)", c, c)
	}
	return nil
}

// losesAdmin reports whether a user's change takes away an active admin: such
// changes come last, after the file's new admins are made.
func losesAdmin(cur *booking.User, u User) bool {
	return cur != nil && cur.Role == booking.RoleAdmin && cur.Active && (u.Role != string(booking.RoleAdmin) || !isTrue(u.Active))
}

func (a *applier) users(ctx context.Context) error {
	var order []int
	for i, u := range a.f.Users {
		if !losesAdmin(a.userMatch[i], u) {
			order = append(order, i)
		}
	}
	for i, u := range a.f.Users {
		if losesAdmin(a.userMatch[i], u) {
			order = append(order, i)
		}
	}
	for _, i := range order {
		if err := a.user(ctx, i); err != nil {
			return err
		}
	}
	if a.f.Users == nil {
		return nil
	}
	for _, u := range a.snap.Users {
		if !u.Active || slices.ContainsFunc(a.userMatch, func(m *booking.User) bool { return m != nil && m.ID == u.ID }) {
			continue
		}
		if !a.opt.Prune {
			a.keep("user %s: not in the file; left active (--prune deactivates them)", u.Email)
			continue
		}
		off := false
		if _, err := a.db.UpdateUser(ctx, actor, u.ID, booking.UserPatch{Active: &off}, nil); err != nil {
			return fmt.Errorf("deactivating user %s (--prune): %w", u.Email, err)
		}
		a.change(Change{Op: Deactivate, What: "user", Name: u.Email, Detail: "not in the file"})
	}
	return nil
}

func (a *applier) user(ctx context.Context, i int) error {
	u := a.f.Users[i]
	p := fmt.Sprintf("users[%d]", i)
	cur := a.userMatch[i]
	orgID := a.orgIDs[u.Organisation]
	siteIDs := []uuid.UUID{}
	for _, s := range u.Sites {
		siteIDs = append(siteIDs, a.siteIDs[s])
	}
	if cur == nil {
		created, err := a.db.CreateUser(ctx, actor, booking.UserInput{OrganisationID: orgID, Email: u.Email, Name: u.Name,
			Role: booking.Role(u.Role), Locale: u.Locale, SiteIDs: siteIDs})
		if err != nil {
			return a.fail(p, err, userFields)
		}
		detail := fmt.Sprintf("%s, %s, %s", u.Name, u.Role, u.Organisation)
		if !isTrue(u.Active) {
			off := false
			if _, err := a.db.UpdateUser(ctx, actor, created.ID, booking.UserPatch{Active: &off}, nil); err != nil {
				return a.fail(p, err, userFields)
			}
			detail += ", deactivated"
		} else {
			a.diff.NewUsers = append(a.diff.NewUsers, u.Email)
		}
		a.change(Change{Op: Create, What: "user", Name: u.Email, Detail: detail})
		return nil
	}
	var patch booking.UserPatch
	var fs []Field
	field(&fs, "name", cur.Name, u.Name, &patch.Name)
	field(&fs, "role", cur.Role, booking.Role(u.Role), &patch.Role)
	field(&fs, "locale", cur.Locale, u.Locale, &patch.Locale)
	if cur.OrganisationID != orgID {
		patch.OrganisationID = &orgID
		fs = append(fs, Field{Name: "organisation", Before: a.orgSlug[cur.OrganisationID], After: u.Organisation})
	}
	var was []string
	for _, id := range cur.SiteIDs {
		was = append(was, a.siteSlug[id])
	}
	slices.Sort(was)
	will := slices.Sorted(slices.Values(u.Sites))
	if !slices.Equal(was, will) {
		patch.SiteIDs = &siteIDs
		fs = append(fs, Field{Name: "sites", Before: show(orEmpty(was)), After: show(orEmpty(will))})
	}
	field(&fs, "active", cur.Active, isTrue(u.Active), &patch.Active)
	if len(fs) == 0 {
		return nil
	}
	if _, err := a.db.UpdateUser(ctx, actor, cur.ID, patch, &cur.Version); err != nil {
		return a.fail(p, err, userFields)
	}
	if len(fs) == 1 && fs[0].Name == "active" && !isTrue(u.Active) {
		a.change(Change{Op: Deactivate, What: "user", Name: u.Email, Detail: "deactivated"})
		return nil
	}
	a.change(Change{Op: Update, What: "user", Name: u.Email, Fields: fs})
	return nil
}
