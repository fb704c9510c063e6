package catalogue

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// The defaults of a field left out.
const (
	defaultKind     = booking.OrgProductionCompany
	defaultRateUnit = booking.UnitHour
	defaultLocale   = "en"
)

// days are the week's days in the file's order, with their weekday numbers.
var days = []struct {
	name    string
	weekday time.Weekday
	spans   func(*Week) *[]string
}{
	{"monday", time.Monday, func(w *Week) *[]string { return &w.Monday }},
	{"tuesday", time.Tuesday, func(w *Week) *[]string { return &w.Tuesday }},
	{"wednesday", time.Wednesday, func(w *Week) *[]string { return &w.Wednesday }},
	{"thursday", time.Thursday, func(w *Week) *[]string { return &w.Thursday }},
	{"friday", time.Friday, func(w *Week) *[]string { return &w.Friday }},
	{"saturday", time.Saturday, func(w *Week) *[]string { return &w.Saturday }},
	{"sunday", time.Sunday, func(w *Week) *[]string { return &w.Sunday }},
}

// problems collects what is wrong with a file.
type problems []Problem

func (ps *problems) add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// domain adds a domain validation error at path: the field it names, in the file's
// words (rename maps the API's field names to the file's where they differ).
func (ps *problems) domain(path string, err error, rename map[string]string) {
	if err == nil {
		return
	}
	*ps = append(*ps, problemOf(path, err, rename))
}

// problemOf places a domain error at path, under the field it names.
func problemOf(path string, err error, rename map[string]string) Problem {
	var de *booking.Error
	if !errors.As(err, &de) {
		return Problem{Path: path, Message: err.Error()}
	}
	msg := strings.TrimSuffix(de.Message, ".")
	field, _ := de.Details["field"].(string)
	if reason, _ := de.Details["reason"].(string); field == "" && activeReasons[reason] {
		field = "active"
	}
	if field != "" {
		key := field
		if r, ok := rename[field]; ok {
			key = r
		}
		if key != "" {
			path = join(path, key)
		}
		// "time_zone must be …" reads "sites[1].time_zone: must be …".
		msg = strings.TrimPrefix(msg, field+" ")
	}
	return Problem{Path: path, Message: msg}
}

// activeReasons are the conflicts of taking something out of service or putting it
// back: they are the active field's.
var activeReasons = map[string]bool{
	booking.ReasonResourceHasBookings:    true,
	booking.ReasonSiteInactive:           true,
	booking.ReasonSiteHasActiveResources: true,
}

// Field names the domain uses where the file has its own.
var (
	rateCardFields = map[string]string{"resource_id": "resource", "site_id": ""}
	resourceFields = map[string]string{"site_id": ""}
	userFields     = map[string]string{"organisation_id": "organisation", "site_ids": "sites"}
	holidayFields  = map[string]string{"country": "", "site_id": ""}
)

// isTrue reads an optional flag whose default is true.
func isTrue(b *bool) bool { return b == nil || *b }

// normalise trims what the domain trims and fills in defaults, so a file compares
// with the database as the domain would store it.
func normalise(f *File) {
	for i := range f.Organisations {
		o := &f.Organisations[i]
		if o.Kind == "" {
			o.Kind = defaultKind
		}
	}
	for i := range f.Sites {
		s := &f.Sites[i]
		if c := s.Calendar; c != nil {
			for j := range c.Periods {
				c.Periods[j].Name = strings.TrimSpace(c.Periods[j].Name)
			}
			trimHolidays(c.Holidays)
		}
		for j := range s.Resources {
			r := &s.Resources[j]
			if r.RateUnit == "" {
				r.RateUnit = defaultRateUnit
			}
			if r.Capabilities == nil {
				r.Capabilities = []string{}
			}
		}
		for j := range s.RateCards {
			if s.RateCards[j].OvertimeMultiplierBP == 0 {
				s.RateCards[j].OvertimeMultiplierBP = booking.DefaultOvertimeMultiplierBP
			}
		}
	}
	for _, hs := range f.NationalHolidays {
		trimHolidays(hs)
	}
	for i := range f.Users {
		if f.Users[i].Locale == "" {
			f.Users[i].Locale = defaultLocale
		}
	}
}

func trimHolidays(hs []Holiday) {
	for i := range hs {
		hs[i].Name = strings.TrimSpace(hs[i].Name)
	}
}

// Validate checks what can be checked of a file without the database: each field by
// the domain's own rules (the same functions the API's changes call), dates, working
// spans, durations, and that nothing is named twice. Apply checks the rest (that
// what a file names exists, and the domain's rules on changes) as it applies. It
// fills in f's defaults (kind, rate_unit, locale, capabilities, the overtime
// multiplier) and trims the names the domain trims.
func Validate(f *File) []Problem {
	normalise(f)
	var ps problems
	orgs := map[string]bool{}
	for i, o := range f.Organisations {
		p := fmt.Sprintf("organisations[%d]", i)
		ps.domain(p, booking.OrganisationInput{Slug: o.Slug, Name: o.Name, Country: o.Country, Kind: o.Kind}.Validate(), nil)
		if o.RenamedFrom != "" {
			ps.domain(join(p, "renamed_from"), booking.CheckSlug(o.RenamedFrom), map[string]string{"slug": ""})
		}
		if orgs[o.Slug] {
			ps.add(join(p, "slug"), "%s is named twice", o.Slug)
		}
		orgs[o.Slug] = true
	}
	sites := map[string]bool{}
	for i := range f.Sites {
		s := &f.Sites[i]
		p := fmt.Sprintf("sites[%d]", i)
		ps.domain(p, booking.SiteInput{Slug: s.Slug, Name: s.Name, Country: s.Country, TimeZone: s.TimeZone, Currency: s.Currency}.Validate(), nil)
		if s.RenamedFrom != "" {
			ps.domain(join(p, "renamed_from"), booking.CheckSlug(s.RenamedFrom), map[string]string{"slug": ""})
		}
		if sites[s.Slug] {
			ps.add(join(p, "slug"), "%s is named twice", s.Slug)
		}
		sites[s.Slug] = true
		if s.Policy != nil {
			validatePolicy(&ps, join(p, "policy"), s.Policy)
		}
		if c := s.Calendar; c != nil {
			validateWeek(&ps, join(p, "calendar.week"), c.Week)
			seen := map[string]bool{}
			for j, per := range c.Periods {
				pp := fmt.Sprintf("%s.calendar.periods[%d]", p, j)
				if per.Name == "" {
					ps.add(join(pp, "name"), "is required")
				}
				from, okFrom := checkDate(&ps, join(pp, "from"), per.From)
				to, okTo := checkDate(&ps, join(pp, "to"), per.To)
				if okFrom && okTo && to.Before(from) {
					ps.add(join(pp, "to"), "must be on or after from")
				}
				validateWeek(&ps, join(pp, "week"), per.Week)
				key := per.Name + "\x00" + per.From + "\x00" + per.To
				if seen[key] {
					ps.add(pp, "the period %q from %s to %s is named twice", per.Name, per.From, per.To)
				}
				seen[key] = true
			}
			validateHolidays(&ps, p+".calendar.holidays", c.Holidays)
		}
		names := map[string]bool{}
		for j, r := range s.Resources {
			rp := fmt.Sprintf("%s.resources[%d]", p, j)
			ps.domain(rp, booking.ResourceInput{SiteID: uuid.Max, Name: r.Name, Category: r.Category, Kind: r.Kind, Capabilities: r.Capabilities,
				RateMinor: r.RateMinor, RateUnit: r.RateUnit, TraineeCapacity: r.TraineeCapacity}.Validate(), resourceFields)
			if names[r.Name] {
				ps.add(join(rp, "name"), "%q is named twice at the site", r.Name)
			}
			names[r.Name] = true
		}
		for j, c := range s.RateCards {
			cp := fmt.Sprintf("%s.rate_cards[%d]", p, j)
			in := booking.RateCardInput{SiteID: uuid.Max, Kind: c.Kind, Unit: c.Unit, AmountMinor: c.AmountMinor,
				EffectiveFrom: c.EffectiveFrom, EffectiveTo: c.EffectiveTo, OvertimeMultiplierBP: c.OvertimeMultiplierBP}
			if c.Resource != "" {
				in.ResourceID = &uuid.Max
			}
			if c.Kind != "" && c.Resource != "" || c.Kind == "" && c.Resource == "" {
				ps.add(cp, "give kind or resource, not both")
				continue
			}
			if c.Kind != "" {
				ps.domain(join(cp, "kind"), booking.CheckKind(c.Kind), map[string]string{"kind": ""})
			}
			ps.domain(cp, in.Validate(), rateCardFields)
		}
	}
	countries := make([]string, 0, len(f.NationalHolidays))
	for c := range f.NationalHolidays {
		countries = append(countries, c)
	}
	slices.Sort(countries)
	for _, c := range countries {
		p := "national_holidays." + c
		if err := booking.CheckCountry("country", c); err != nil {
			ps.add(p, "%s is not an ISO 3166-1 alpha-2 code in capitals, such as MA", c)
		}
		validateHolidays(&ps, p, f.NationalHolidays[c])
	}
	emails := map[string]bool{}
	for i, u := range f.Users {
		p := fmt.Sprintf("users[%d]", i)
		switch {
		case !strings.Contains(u.Email, "@") || len(u.Email) > 254 || strings.ContainsAny(u.Email, " \t\r\n"):
			ps.add(join(p, "email"), "must be an email address")
		case emails[strings.ToLower(u.Email)]:
			ps.add(join(p, "email"), "%s is named twice", u.Email)
		}
		emails[strings.ToLower(u.Email)] = true
		active := isTrue(u.Active)
		patch := booking.UserPatch{Name: &u.Name, Active: &active}
		role := booking.Role(u.Role)
		patch.Role, patch.Locale = &role, &u.Locale
		ps.domain(p, patch.Validate(), userFields)
		if u.Organisation == "" {
			ps.add(join(p, "organisation"), "is required")
		}
		if len(u.Sites) > 0 && role != booking.RoleManager {
			ps.add(join(p, "sites"), "only managers manage sites")
		}
		for j, s := range u.Sites {
			if slices.Contains(u.Sites[:j], s) {
				ps.add(fmt.Sprintf("%s.sites[%d]", p, j), "%s is named twice", s)
			}
		}
	}
	return ps
}

func validatePolicy(ps *problems, path string, p *Policy) {
	for _, d := range []struct{ field, v string }{{"hold_lifetime", p.HoldLifetime}, {"challenge_window", p.ChallengeWindow}, {"min_notice", p.MinNotice}} {
		if d.v == "" {
			continue
		}
		if _, err := time.ParseDuration(d.v); err != nil {
			ps.add(join(path, d.field), "must be a duration such as 48h or 90m")
		}
	}
	for i, o := range p.ReminderOffsets {
		if _, err := time.ParseDuration(o); err != nil {
			ps.add(fmt.Sprintf("%s.reminder_offsets[%d]", path, i), "must be a duration such as 24h")
		}
	}
	switch p.Overtime {
	case "", booking.OvertimeApproval, booking.OvertimeAllowed, booking.OvertimeManagers:
	default:
		ps.add(join(path, "overtime"), "must be approval, allowed or managers")
	}
}

// checkDate parses a date like 2027-02-08, adding a problem when it is not one.
func checkDate(ps *problems, path, v string) (time.Time, bool) {
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		ps.add(path, "must be a date like 2027-02-08")
		return d, false
	}
	return d, true
}

func validateHolidays(ps *problems, path string, hs []Holiday) {
	seen := map[string]bool{}
	for i, h := range hs {
		p := fmt.Sprintf("%s[%d]", path, i)
		checkDate(ps, join(p, "date"), h.Date)
		if h.Name == "" {
			ps.add(join(p, "name"), "is required")
		}
		if seen[h.Date+"\x00"+h.Name] {
			ps.add(p, "%s %s is named twice", h.Date, h.Name)
		}
		seen[h.Date+"\x00"+h.Name] = true
	}
}

// validateWeek checks each span ("09:00-13:00") and that a day's spans do not
// overlap.
func validateWeek(ps *problems, path string, w Week) {
	if _, err := weekOf(w); err != nil {
		var pe *spanError
		if errors.As(err, &pe) {
			ps.add(join(path, pe.path), "%s", pe.msg)
			return
		}
		ps.add(path, "%v", err)
	}
}

type spanError struct{ path, msg string }

func (e *spanError) Error() string { return e.path + ": " + e.msg }

// weekOf turns a file's week into the domain's, checking it as the domain does.
func weekOf(w Week) (booking.Week, error) {
	out := booking.Week{}
	var cw calendar.Week
	for _, d := range days {
		for i, s := range *d.spans(&w) {
			from, to, ok := strings.Cut(s, "-")
			f, okF := booking.ParseClock(strings.TrimSpace(from))
			t, okT := booking.ParseClock(strings.TrimSpace(to))
			if !ok || !okF || !okT || f.Hour*60+f.Minute >= t.Hour*60+t.Minute {
				return nil, &spanError{fmt.Sprintf("%s[%d]", d.name, i), fmt.Sprintf("%q must be a span such as 09:00-13:00, from before to", s)}
			}
			out[d.name] = append(out[d.name], booking.WorkingSpan{From: strings.TrimSpace(from), To: strings.TrimSpace(to)})
			cw[d.weekday] = append(cw[d.weekday], calendar.Span{From: f, To: t})
		}
	}
	if err := (&calendar.Calendar{Location: time.UTC, Week: cw}).Validate(); err != nil {
		return nil, fmt.Errorf("the spans overlap: %v", err)
	}
	return out, nil
}

// weekFromDomain is the file's week of a domain week, each day's spans in order.
func weekFromDomain(bw booking.Week) Week {
	var w Week
	for _, d := range days {
		spans := slices.Clone(bw[d.name])
		slices.SortFunc(spans, func(a, b booking.WorkingSpan) int { return strings.Compare(a.From, b.From) })
		var out []string
		for _, s := range spans {
			out = append(out, s.From+"-"+s.To)
		}
		*d.spans(&w) = out
	}
	return w
}

// canonicalWeek is w with each day's spans written alike and in order, for
// comparing.
func canonicalWeek(w Week) Week {
	bw, err := weekOf(w)
	if err != nil {
		return w
	}
	return weekFromDomain(bw)
}
