package catalogue

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/postgres"
)

// Export reads the hub's set-up from db, in one consistent snapshot, as a file. Its
// order is fixed (organisations and sites by slug; a site's resources by category,
// kind and name; holidays by date; users by email), so two exports of the same hub
// are byte for byte the same.
func Export(ctx context.Context, db *postgres.DB) (*File, error) {
	var snap postgres.CatalogueSnapshot
	err := db.ReadSnapshot(ctx, func(tx *postgres.DB) error {
		var err error
		snap, err = tx.CatalogueSnapshot(ctx, booking.System)
		return err
	})
	if err != nil {
		return nil, err
	}
	return fromSnapshot(snap), nil
}

// categoryOrder puts rooms first, then equipment, then people.
func categoryOrder(c string) int {
	switch c {
	case "room":
		return 0
	case "equipment":
		return 1
	case "person":
		return 2
	}
	return 3
}

func fromSnapshot(snap postgres.CatalogueSnapshot) *File {
	f := &File{Version: Version, Organisations: []Organisation{}, Sites: []Site{}, NationalHolidays: map[string][]Holiday{}, Users: []User{}}
	orgSlug := map[uuid.UUID]string{}
	for _, o := range snap.Organisations {
		orgSlug[o.ID] = o.Slug
		f.Organisations = append(f.Organisations, Organisation{Slug: o.Slug, Name: o.Name, Country: o.Country, Kind: o.Kind})
	}
	slices.SortFunc(f.Organisations, func(a, b Organisation) int { return strings.Compare(a.Slug, b.Slug) })
	siteSlug := map[uuid.UUID]string{}
	for _, ss := range snap.Sites {
		siteSlug[ss.Site.ID] = ss.Site.Slug
		f.Sites = append(f.Sites, siteFromSnapshot(ss))
	}
	slices.SortFunc(f.Sites, func(a, b Site) int { return strings.Compare(a.Slug, b.Slug) })
	for _, h := range snap.Holidays {
		f.NationalHolidays[h.Country] = append(f.NationalHolidays[h.Country], Holiday{Date: h.Date, Name: h.Name, Provisional: h.Provisional})
	}
	for _, hs := range f.NationalHolidays {
		sortHolidays(hs)
	}
	for _, u := range snap.Users {
		out := User{Email: u.Email, Name: u.Name, Role: string(u.Role), Locale: u.Locale, Organisation: orgSlug[u.OrganisationID], Active: ptr(u.Active)}
		for _, id := range u.SiteIDs {
			out.Sites = append(out.Sites, siteSlug[id])
		}
		slices.Sort(out.Sites)
		f.Users = append(f.Users, out)
	}
	slices.SortFunc(f.Users, func(a, b User) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Email), strings.ToLower(b.Email)), strings.Compare(a.Email, b.Email))
	})
	return f
}

func siteFromSnapshot(ss postgres.SiteSnapshot) Site {
	s := ss.Site
	out := Site{Slug: s.Slug, Name: s.Name, Country: s.Country, TimeZone: s.TimeZone, Currency: s.Currency, Active: ptr(s.Active),
		Policy: policyOf(ss.Policy), Calendar: &Calendar{Week: weekFromDomain(ss.Calendar.Week), Periods: []Period{}, Holidays: []Holiday{}},
		Resources: []Resource{}, RateCards: []RateCard{}}
	for _, o := range ss.Calendar.Overrides {
		out.Calendar.Periods = append(out.Calendar.Periods, Period{Name: o.Name, From: o.From, To: o.To, Week: weekFromDomain(o.Week)})
	}
	sortPeriods(out.Calendar.Periods)
	for _, h := range ss.Calendar.Holidays {
		out.Calendar.Holidays = append(out.Calendar.Holidays, Holiday{Date: h.Date, Name: h.Name, Provisional: h.Provisional})
	}
	sortHolidays(out.Calendar.Holidays)
	names := map[uuid.UUID]string{}
	for _, r := range ss.Resources {
		names[r.ID] = r.Name
		out.Resources = append(out.Resources, resourceOf(r))
	}
	slices.SortFunc(out.Resources, compareResources)
	for _, c := range ss.RateCards {
		rc := RateCard{Kind: c.Kind, Unit: c.Unit, AmountMinor: c.AmountMinor, EffectiveFrom: c.EffectiveFrom, EffectiveTo: c.EffectiveTo}
		if c.ResourceID != nil {
			rc.Resource = names[*c.ResourceID]
		}
		if c.OvertimeMultiplierBP != booking.DefaultOvertimeMultiplierBP {
			rc.OvertimeMultiplierBP = c.OvertimeMultiplierBP
		}
		out.RateCards = append(out.RateCards, rc)
	}
	slices.SortFunc(out.RateCards, compareRateCards)
	return out
}

func resourceOf(r booking.Resource) Resource {
	caps := slices.Clone(r.Capabilities)
	if caps == nil {
		caps = []string{}
	}
	return Resource{Name: r.Name, Category: r.Category, Kind: r.Kind, Capabilities: caps, RateMinor: r.RateMinor,
		RateUnit: r.RateUnit, TraineeCapacity: r.TraineeCapacity, Active: ptr(r.Active)}
}

func compareResources(a, b Resource) int {
	return cmp.Or(cmp.Compare(categoryOrder(a.Category), categoryOrder(b.Category)), strings.Compare(a.Category, b.Category),
		strings.Compare(a.Kind, b.Kind), strings.Compare(a.Name, b.Name))
}

// compareRateCards orders kinds' cards before resources' cards, then by what they
// price, unit and dates.
func compareRateCards(a, b RateCard) int {
	return cmp.Or(strings.Compare(a.Resource, b.Resource), strings.Compare(a.Kind, b.Kind), strings.Compare(a.Unit, b.Unit),
		strings.Compare(a.EffectiveFrom, b.EffectiveFrom), strings.Compare(a.EffectiveTo, b.EffectiveTo),
		cmp.Compare(a.AmountMinor, b.AmountMinor), cmp.Compare(a.OvertimeMultiplierBP, b.OvertimeMultiplierBP))
}

func sortHolidays(hs []Holiday) {
	slices.SortFunc(hs, func(a, b Holiday) int {
		return cmp.Or(strings.Compare(a.Date, b.Date), strings.Compare(a.Name, b.Name))
	})
}

func sortPeriods(ps []Period) {
	slices.SortFunc(ps, func(a, b Period) int {
		return cmp.Or(strings.Compare(a.From, b.From), strings.Compare(a.To, b.To), strings.Compare(a.Name, b.Name))
	})
}

func policyOf(p booking.SitePolicy) *Policy {
	out := &Policy{ConfirmNeedsApproval: p.ConfirmNeedsApproval, HoldLifetime: formatDuration(time.Duration(p.HoldLifetime)),
		ChallengeWindow: formatDuration(time.Duration(p.ChallengeWindow)), MinNotice: formatDuration(time.Duration(p.MinNotice)),
		ReminderOffsets: []string{}, Overtime: p.Overtime}
	for _, o := range p.ReminderOffsets {
		out.ReminderOffsets = append(out.ReminderOffsets, formatDuration(time.Duration(o)))
	}
	return out
}

// formatDuration writes a duration without its zero minutes and seconds: 168h, 1h30m.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func ptr[T any](v T) *T { return &v }
