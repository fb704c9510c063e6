package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/money"
)

// Rate cards, exchange rates and ring-fences, kept by a site's managers and admins:
// a rate card prices a kind of resource (or one resource) per hour or per day from a
// date to a date, in the site's currency; exchange rates are entered, never fetched,
// and never changed (a correction is a new rate); a ring-fence reserves a share of a
// kind's working hours for a programme, shown with where it stands this period.

var (
	rateFields     = []string{"site", "kind", "resource", "unit", "amount", "effective_from", "effective_to", "overtime"}
	exchangeFields = []string{"base", "quote", "rate", "effective_at"}
	fenceFields    = []string{"site", "kind", "programme", "countries", "share", "period", "release_days"}
)

type rateCardRow struct {
	ID, Target, Unit, Amount, From, To, Overtime string
}

type ratesData struct {
	Sites     []booking.Site
	Site      booking.Site
	Cards     []rateCardRow
	New       *adminForm
	Kinds     []kindOption
	Resources []resourceOption
	Units     []kindOption
}

type exchangeRow struct {
	Pair, Rate, Effective, Entered string
}

type exchangeData struct {
	Rates      []exchangeRow
	New        *adminForm
	Currencies []string
}

type fenceRow struct {
	ID, Kind, Programme, Countries, Share, Period, Release string
	// The standing in the current period.
	Current                                   string
	Working, Reserved, Used, Limit, Remaining string
	Full                                      bool
}

type fencesData struct {
	Sites      []booking.Site
	Site       booking.Site
	Fences     []fenceRow
	New        *adminForm
	Kinds      []kindOption
	Periods    []kindOption
	Programmes []string
}

// siteKinds are the kinds of a site's resources in service, and those resources.
func (u *UI) siteKinds(r *http.Request, lang string, site uuid.UUID) ([]kindOption, []resourceOption) {
	res, err := u.Catalogue.ListResources(r.Context(), booking.ResourceFilter{SiteID: &site})
	if err != nil {
		return nil, nil
	}
	var kinds []kindOption
	var opts []resourceOption
	for _, x := range res {
		if !slices.ContainsFunc(kinds, func(k kindOption) bool { return k.Value == x.Kind }) {
			kinds = append(kinds, kindOption{Value: x.Kind, Label: kindLabel(lang, x.Kind)})
		}
		opts = append(opts, resourceOption{ID: x.ID.String(), Label: x.Name + " — " + kindLabel(lang, x.Kind)})
	}
	slices.SortFunc(kinds, func(x, y kindOption) int { return strings.Compare(x.Label, y.Label) })
	return kinds, opts
}

// keptSites are the sites in service the actor keeps, for the pickers.
func (u *UI) keptSites(r *http.Request) ([]booking.Site, error) {
	sites, err := u.sitesFor(r.Context(), actor(r))
	if err != nil {
		return nil, err
	}
	return activeSites(sites, uuid.Nil), nil
}

func (u *UI) adminRateCards(w http.ResponseWriter, r *http.Request) {
	u.renderRateCards(w, r, http.StatusOK, newAdminForm(url.Values{"unit": {booking.UnitHour}}, rateFields...))
}

func (u *UI) renderRateCards(w http.ResponseWriter, r *http.Request, status int, f *adminForm) {
	lang := language(r)
	title := translate(lang, "admin.rates_title")
	cp, err := u.copro()
	if err != nil {
		u.adminPageError(w, r, title, err)
		return
	}
	sites, err := u.keptSites(r)
	if err != nil {
		u.adminPageError(w, r, title, err)
		return
	}
	d := ratesData{Sites: sites, New: f, Units: unitOptions(lang)}
	site, _ := pickSite(r, sites)
	d.Site = site
	if site.ID != uuid.Nil {
		cards, err := cp.ListRateCards(r.Context(), &site.ID)
		if err != nil {
			u.adminPageError(w, r, title, err)
			return
		}
		d.Kinds, d.Resources = u.siteKinds(r, lang, site.ID)
		names := map[string]string{}
		for _, o := range d.Resources {
			names[o.ID] = o.Label
		}
		for _, c := range cards {
			row := rateCardRow{ID: c.ID.String(), Unit: translate(lang, adminKey("unit_", c.Unit)), Amount: rateText(lang, c.AmountMinor, c.Unit, c.Currency),
				From: c.EffectiveFrom, To: c.EffectiveTo,
				Overtime: "×" + decimalIn(lang, strconv.FormatFloat(float64(c.OvertimeMultiplierBP)/10000, 'f', -1, 64))}
			if c.ResourceID != nil {
				row.Target = names[c.ResourceID.String()]
				if row.Target == "" {
					row.Target = translate(lang, "bookings.unknown_resource")
				}
			} else {
				row.Target = kindLabel(lang, c.Kind)
			}
			d.Cards = append(d.Cards, row)
		}
	}
	f.alert(lang)
	u.render(w, r, "admin_rates.html", status, page{Title: title, Data: d})
}

func (u *UI) createRateCard(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	cp, err := u.copro()
	if err != nil {
		u.adminPageError(w, r, translate(lang, "admin.rates_title"), err)
		return
	}
	if err := parseForm(w, r); err != nil {
		f := newAdminForm(nil, rateFields...)
		f.fail("", translate(lang, "login.bad_form"))
		u.renderRateCards(w, r, http.StatusBadRequest, f)
		return
	}
	f := newAdminForm(r.PostForm, rateFields...)
	sites, err := u.keptSites(r)
	if err != nil {
		u.adminPageError(w, r, translate(lang, "admin.rates_title"), err)
		return
	}
	site, ok := pickSite(r, sites)
	if !ok || r.PostFormValue("site") == "" {
		f.fail("site", translate(lang, "admin.err_site_id"))
		u.renderRateCards(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	in := booking.RateCardInput{SiteID: site.ID, Kind: strings.TrimSpace(r.PostFormValue("kind")), Unit: r.PostFormValue("unit"),
		EffectiveFrom: strings.TrimSpace(r.PostFormValue("effective_from")), EffectiveTo: strings.TrimSpace(r.PostFormValue("effective_to"))}
	if res := r.PostFormValue("resource"); res != "" {
		id := uuidOrNil(res)
		in.ResourceID = &id
	}
	if (in.Kind == "") == (in.ResourceID == nil) {
		f.fail("kind", translate(lang, "admin.err_rate_target"))
	}
	if in.AmountMinor, ok = parseAmount(r.PostFormValue("amount"), site.Currency); !ok {
		f.fail("amount", fmt.Sprintf(translate(lang, "admin.err_rate_minor"), site.Currency))
	}
	if v := strings.TrimSpace(r.PostFormValue("overtime")); v != "" {
		x, ok := parseDecimal(v)
		if !ok || x < 1 || x > 5 {
			f.fail("overtime", translate(lang, "admin.err_overtime_multiplier_bp"))
		}
		in.OvertimeMultiplierBP = int(math.Round(x * 10000))
	}
	if f.failed() {
		u.renderRateCards(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	c, err := cp.CreateRateCard(r.Context(), actor(r), in)
	if err != nil {
		u.refuseForm(lang, f, err)
		u.renderRateCards(w, r, refusedStatus(err), f)
		return
	}
	u.setFlash(w, r, "ok", fmt.Sprintf(translate(lang, "admin.rate_created"), rateText(lang, c.AmountMinor, c.Unit, c.Currency)))
	http.Redirect(w, r, "/admin/rate-cards?site="+site.ID.String(), http.StatusSeeOther)
}

func (u *UI) deleteRateCard(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	id, ok := u.formID(w, r, "/admin/rate-cards", "rate card")
	if !ok {
		return
	}
	cp, err := u.copro()
	if err == nil {
		err = cp.DeleteRateCard(r.Context(), actor(r), id)
	}
	if err != nil {
		f := newAdminForm(nil)
		u.refuseForm(lang, f, err)
		u.done(w, r, "/admin/rate-cards", "error", f.Error)
		return
	}
	u.done(w, r, "/admin/rate-cards", "ok", translate(lang, "admin.rate_deleted"))
}

func (u *UI) adminExchangeRates(w http.ResponseWriter, r *http.Request) {
	v := url.Values{"base": {"EUR"}}
	if sites, err := u.keptSites(r); err == nil && len(sites) > 0 && sites[0].Currency != "EUR" {
		v.Set("quote", sites[0].Currency)
	}
	u.renderExchangeRates(w, r, http.StatusOK, newAdminForm(v, exchangeFields...))
}

func (u *UI) renderExchangeRates(w http.ResponseWriter, r *http.Request, status int, f *adminForm) {
	lang := language(r)
	title := translate(lang, "admin.exchange_title")
	cp, err := u.copro()
	if err != nil {
		u.adminPageError(w, r, title, err)
		return
	}
	rates, err := cp.ListExchangeRates(r.Context())
	if err != nil {
		u.adminPageError(w, r, title, err)
		return
	}
	d := exchangeData{New: f, Currencies: money.Currencies()}
	for _, x := range rates {
		d.Rates = append(d.Rates, exchangeRow{Pair: "1 " + x.Base + " = " + displayRate(lang, x.Rate) + " " + x.Quote,
			Rate: x.Rate, Effective: formatInstant(lang, x.EffectiveAt, "UTC"), Entered: formatInstant(lang, x.CreatedAt, "UTC")})
	}
	f.alert(lang)
	u.render(w, r, "admin_exchange.html", status, page{Title: title, Data: d})
}

func (u *UI) createExchangeRate(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	cp, err := u.copro()
	if err != nil {
		u.adminPageError(w, r, translate(lang, "admin.exchange_title"), err)
		return
	}
	if err := parseForm(w, r); err != nil {
		f := newAdminForm(nil, exchangeFields...)
		f.fail("", translate(lang, "login.bad_form"))
		u.renderExchangeRates(w, r, http.StatusBadRequest, f)
		return
	}
	f := newAdminForm(r.PostForm, exchangeFields...)
	in := booking.ExchangeRateInput{Base: strings.ToUpper(strings.TrimSpace(r.PostFormValue("base"))),
		Quote: strings.ToUpper(strings.TrimSpace(r.PostFormValue("quote"))),
		Rate:  strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(r.PostFormValue("rate")), ",", "."), " ", "")}
	if v := strings.TrimSpace(r.PostFormValue("effective_at")); v != "" {
		t, ok := parseInputLocal(v, time.UTC)
		if !ok {
			f.fail("effective_at", translate(lang, "admin.err_effective_at"))
		}
		in.EffectiveAt = &t
	}
	if f.failed() {
		u.renderExchangeRates(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	x, err := cp.CreateExchangeRate(r.Context(), actor(r), in)
	if err != nil {
		u.refuseForm(lang, f, err)
		u.renderExchangeRates(w, r, refusedStatus(err), f)
		return
	}
	u.setFlash(w, r, "ok", fmt.Sprintf(translate(lang, "admin.exchange_created"), "1 "+x.Base+" = "+displayRate(lang, x.Rate)+" "+x.Quote))
	http.Redirect(w, r, "/admin/exchange-rates", http.StatusSeeOther)
}

func periodOptions(lang string) []kindOption {
	var out []kindOption
	for _, p := range []string{booking.PeriodMonth, booking.PeriodQuarter, booking.PeriodYear} {
		out = append(out, kindOption{Value: p, Label: translate(lang, adminKey("period_", p))})
	}
	return out
}

func (u *UI) adminRingFences(w http.ResponseWriter, r *http.Request) {
	u.renderRingFences(w, r, http.StatusOK, newAdminForm(url.Values{"period": {booking.PeriodQuarter}, "release_days": {"14"}}, fenceFields...))
}

func (u *UI) renderRingFences(w http.ResponseWriter, r *http.Request, status int, f *adminForm) {
	lang := language(r)
	title := translate(lang, "admin.fences_title")
	cp, err := u.copro()
	if err != nil {
		u.adminPageError(w, r, title, err)
		return
	}
	sites, err := u.keptSites(r)
	if err != nil {
		u.adminPageError(w, r, title, err)
		return
	}
	d := fencesData{Sites: sites, New: f, Periods: periodOptions(lang)}
	site, _ := pickSite(r, sites)
	d.Site = site
	if site.ID != uuid.Nil {
		fences, err := cp.ListRingFences(r.Context(), &site.ID, u.now())
		if err != nil {
			u.adminPageError(w, r, title, err)
			return
		}
		d.Kinds, _ = u.siteKinds(r, lang, site.ID)
		for _, x := range fences {
			row := fenceRow{ID: x.ID.String(), Kind: kindLabel(lang, x.Kind), Programme: x.Programme, Countries: strings.Join(x.Countries, ", "),
				Share: decimalIn(lang, strconv.FormatFloat(x.SharePct, 'f', -1, 64)) + " %", Period: translate(lang, adminKey("period_", x.Period)),
				Release: fmt.Sprintf(translateN(lang, "admin.fence_days", x.ReleaseDays), x.ReleaseDays)}
			if c := x.Current; c != nil {
				row.Current, row.Working, row.Reserved = c.Period, reportHours(lang, c.WorkingHours), reportHours(lang, c.ReservedHours)
				row.Used, row.Limit, row.Remaining = reportHours(lang, c.NonProgrammeUsedHours), reportHours(lang, c.NonProgrammeLimitHours), reportHours(lang, c.RemainingHours)
				row.Full = c.RemainingHours <= 0 && c.WorkingHours > 0
			}
			d.Fences = append(d.Fences, row)
		}
	}
	if prods, err := u.Catalogue.ListProductions(r.Context(), actor(r)); err == nil {
		for _, p := range prods {
			for _, name := range []string{p.Programme, p.RequestedProgramme} {
				if name != "" && !slices.Contains(d.Programmes, name) {
					d.Programmes = append(d.Programmes, name)
				}
			}
		}
		slices.Sort(d.Programmes)
	}
	f.alert(lang)
	u.render(w, r, "admin_fences.html", status, page{Title: title, Data: d})
}

func (u *UI) createRingFence(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	cp, err := u.copro()
	if err != nil {
		u.adminPageError(w, r, translate(lang, "admin.fences_title"), err)
		return
	}
	if err := parseForm(w, r); err != nil {
		f := newAdminForm(nil, fenceFields...)
		f.fail("", translate(lang, "login.bad_form"))
		u.renderRingFences(w, r, http.StatusBadRequest, f)
		return
	}
	f := newAdminForm(r.PostForm, fenceFields...)
	sites, err := u.keptSites(r)
	if err != nil {
		u.adminPageError(w, r, translate(lang, "admin.fences_title"), err)
		return
	}
	site, ok := pickSite(r, sites)
	if !ok || r.PostFormValue("site") == "" {
		f.fail("site", translate(lang, "admin.err_site_id"))
		u.renderRingFences(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	in := booking.RingFenceInput{SiteID: site.ID, Kind: r.PostFormValue("kind"), Programme: strings.TrimSpace(r.PostFormValue("programme")),
		Period: r.PostFormValue("period")}
	for _, c := range capabilitySplit.Split(strings.ToUpper(r.PostFormValue("countries")), -1) {
		if c != "" && !slices.Contains(in.Countries, c) {
			in.Countries = append(in.Countries, c)
		}
	}
	if in.Kind == "" {
		f.fail("kind", translate(lang, "admin.err_fence_kind"))
	}
	if in.SharePct, ok = parseDecimal(strings.TrimSuffix(strings.TrimSpace(r.PostFormValue("share")), "%")); !ok {
		f.fail("share", translate(lang, "admin.err_share_pct"))
	}
	if in.ReleaseDays, err = strconv.Atoi(strings.TrimSpace(r.PostFormValue("release_days"))); err != nil {
		f.fail("release_days", translate(lang, "admin.err_release_days"))
	}
	if f.failed() {
		u.renderRingFences(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	x, err := cp.CreateRingFence(r.Context(), actor(r), in)
	if err != nil {
		if booking.ErrorCode(err) == booking.EINVALID && errDetail(err, "field") == "kind" {
			f.fail("kind", translate(lang, "admin.err_fence_kind"))
		}
		u.refuseForm(lang, f, err)
		u.renderRingFences(w, r, refusedStatus(err), f)
		return
	}
	u.setFlash(w, r, "ok", fmt.Sprintf(translate(lang, "admin.fence_created"), x.Programme, kindLabel(lang, x.Kind)))
	http.Redirect(w, r, "/admin/ring-fences?site="+site.ID.String(), http.StatusSeeOther)
}

func (u *UI) deleteRingFence(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	id, ok := u.formID(w, r, "/admin/ring-fences", "ring-fence")
	if !ok {
		return
	}
	cp, err := u.copro()
	if err == nil {
		err = cp.DeleteRingFence(r.Context(), actor(r), id)
	}
	if err != nil {
		f := newAdminForm(nil)
		u.refuseForm(lang, f, err)
		u.done(w, r, "/admin/ring-fences", "error", f.Error)
		return
	}
	u.done(w, r, "/admin/ring-fences", "ok", translate(lang, "admin.fence_deleted"))
}
