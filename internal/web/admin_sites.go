package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/money"
)

// Sites and their resources: admins add a site (its zone from the embedded tz
// database, its currency from the ISO 4217 table the domain uses), change it and take
// it out of service; a site's managers rename it and keep its resources (name,
// category, kind, capabilities, rate, trainees; out of service and back).

// The fields of the site and resource forms.
var (
	siteFields     = []string{"name", "slug", "country", "time_zone", "currency"}
	resourceFields = []string{"name", "category", "kind", "capabilities", "rate", "rate_unit", "trainee_capacity"}
)

// siteRow is a site in the list.
type siteRow struct {
	Site              booking.Site
	Resources, Active int
}

// sitesData is the list of sites, with the form adding one (admins).
type sitesData struct {
	Admin      bool
	Sites      []siteRow
	New        *adminForm
	Zones      []string
	Currencies []string
}

// siteData is a site's page: its form, its service, its resources and the form adding
// one.
type siteData struct {
	Site booking.Site
	// Admin may change everything; a manager of the site its name.
	Admin        bool
	Edit         *adminForm
	ServiceError string
	Resources    []resourceRow
	New          *adminForm
	Zones        []string
	Currencies   []string
	Kinds        []kindOption
	Categories   []kindOption
	Units        []kindOption
}

// resourceRow is a resource as the site's page lists it.
type resourceRow struct {
	Resource                                     booking.Resource
	Kind, Category, Rate, Capabilities, Trainees string
}

// resourceData is a resource's page.
type resourceData struct {
	Site         booking.Site
	Resource     booking.Resource
	Edit         *adminForm
	ServiceError string
	// Busy links to the bookings in the way of taking it out of service.
	Busy       string
	Kinds      []kindOption
	Categories []kindOption
	Units      []kindOption
}

// zoneChoices are the zones a site may be given, as the picker offers them: the
// geographic ones of the embedded tz database (Africa/Lagos), and UTC.
func zoneChoices() []string {
	out := []string{"UTC"}
	for _, z := range calendar.ZoneNames() {
		area, _, ok := strings.Cut(z, "/")
		if !ok {
			continue
		}
		switch area {
		case "Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific":
			out = append(out, z)
		}
	}
	return out
}

func categoryOptions(lang string) []kindOption {
	var out []kindOption
	for _, c := range []string{"room", "person", "equipment"} {
		out = append(out, kindOption{Value: c, Label: translate(lang, adminKey("category_", c))})
	}
	return out
}

func unitOptions(lang string) []kindOption {
	return []kindOption{{Value: booking.UnitHour, Label: translate(lang, "admin.unit_hour")}, {Value: booking.UnitDay, Label: translate(lang, "admin.unit_day")}}
}

// rateText is a resource's rate: 45 000.00 NGN / hour.
func rateText(lang string, minor int64, unit, currency string) string {
	return quoteMoney(lang, minor, currency) + " / " + translate(lang, adminKey("per_", unit))
}

func (u *UI) adminSites(w http.ResponseWriter, r *http.Request) {
	u.renderSites(w, r, http.StatusOK, newAdminForm(url.Values{"currency": {""}}, siteFields...))
}

func (u *UI) renderSites(w http.ResponseWriter, r *http.Request, status int, f *adminForm) {
	lang := language(r)
	a := actor(r)
	title := translate(lang, "admin.sites_title")
	sites, err := u.sitesFor(r.Context(), a)
	if err != nil {
		u.adminPageError(w, r, title, err)
		return
	}
	res, err := u.Catalogue.ListResources(r.Context(), booking.ResourceFilter{IncludeInactive: true})
	if err != nil {
		u.adminPageError(w, r, title, err)
		return
	}
	d := sitesData{Admin: a.Role == booking.RoleAdmin, New: f, Zones: zoneChoices(), Currencies: money.Currencies()}
	for _, s := range sites {
		row := siteRow{Site: s}
		for _, x := range res {
			if x.SiteID == s.ID {
				row.Resources++
				if x.Active {
					row.Active++
				}
			}
		}
		d.Sites = append(d.Sites, row)
	}
	f.alert(lang)
	u.render(w, r, "admin_sites.html", status, page{Title: title, Data: d})
}

// siteInput reads the site form.
func siteInput(v url.Values) booking.SiteInput {
	in := booking.SiteInput{Slug: strings.ToLower(strings.TrimSpace(v.Get("slug"))), Name: strings.TrimSpace(v.Get("name")),
		Country: strings.ToUpper(strings.TrimSpace(v.Get("country"))), TimeZone: strings.TrimSpace(v.Get("time_zone")),
		Currency: strings.ToUpper(strings.TrimSpace(v.Get("currency")))}
	if in.Slug == "" {
		in.Slug = slugOf(in.Name)
	}
	return in
}

func (u *UI) createSite(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	if err := parseForm(w, r); err != nil {
		f := newAdminForm(nil, siteFields...)
		f.fail("", translate(lang, "login.bad_form"))
		u.renderSites(w, r, http.StatusBadRequest, f)
		return
	}
	f := newAdminForm(r.PostForm, siteFields...)
	in := siteInput(r.PostForm)
	if in.Name == "" {
		f.fail("name", translate(lang, "admin.err_name"))
	}
	if in.TimeZone == "" {
		f.fail("time_zone", fmt.Sprintf(translate(lang, "admin.err_time_zone"), calendar.TZVersion()))
	}
	if f.failed() {
		u.renderSites(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	s, err := u.Catalogue.CreateSite(r.Context(), actor(r), in)
	if err != nil {
		u.refuseForm(lang, f, err)
		u.renderSites(w, r, refusedStatus(err), f)
		return
	}
	u.setFlash(w, r, "ok", fmt.Sprintf(translate(lang, "admin.site_created"), s.Name))
	http.Redirect(w, r, "/admin/sites/"+s.ID.String(), http.StatusSeeOther)
}

// siteFor finds the page's site and checks the actor keeps it: an admin, or a manager
// of it.
func (u *UI) siteFor(r *http.Request) (booking.Site, error) {
	id, err := pathID(r, "site")
	if err != nil {
		return booking.Site{}, err
	}
	s, err := u.Catalogue.FindSite(r.Context(), id)
	if err != nil {
		return s, err
	}
	if a := actor(r); a.Role != booking.RoleAdmin && !a.ManagesSite(s.ID) {
		return s, booking.Errorf(booking.EFORBIDDEN, "You do not manage this site.")
	}
	return s, nil
}

// siteForm is a site's form as the site is.
func siteForm(s booking.Site) *adminForm {
	return newAdminForm(url.Values{"name": {s.Name}, "slug": {s.Slug}, "country": {s.Country}, "time_zone": {s.TimeZone},
		"currency": {s.Currency}, "version": {strconv.Itoa(s.Version)}}, siteFields...)
}

// resourceForm is a resource's form as the resource is.
func resourceForm(res booking.Resource, currency string) *adminForm {
	return newAdminForm(url.Values{"name": {res.Name}, "category": {res.Category}, "kind": {res.Kind},
		"capabilities": {strings.Join(res.Capabilities, ", ")}, "rate": {amountInput(res.RateMinor, currency)},
		"rate_unit": {res.RateUnit}, "trainee_capacity": {strconv.Itoa(res.TraineeCapacity)},
		"version": {strconv.Itoa(res.Version)}}, resourceFields...)
}

func (u *UI) adminSite(w http.ResponseWriter, r *http.Request) {
	s, err := u.siteFor(r)
	if err != nil {
		u.adminPageError(w, r, translate(language(r), "admin.sites_title"), err)
		return
	}
	u.renderSite(w, r, http.StatusOK, s, siteForm(s), nil, "")
}

// renderSite shows a site's page; edit and add are its forms (nil: as the site is,
// and empty).
func (u *UI) renderSite(w http.ResponseWriter, r *http.Request, status int, s booking.Site, edit, add *adminForm, serviceErr string) {
	lang := language(r)
	res, err := u.Catalogue.ListResources(r.Context(), booking.ResourceFilter{SiteID: &s.ID, IncludeInactive: true})
	if err != nil {
		u.adminPageError(w, r, s.Name, err)
		return
	}
	if add == nil {
		add = newAdminForm(url.Values{"category": {"room"}, "rate_unit": {booking.UnitHour}, "trainee_capacity": {"0"}}, resourceFields...)
	}
	d := siteData{Site: s, Admin: actor(r).Role == booking.RoleAdmin, Edit: edit, New: add, ServiceError: serviceErr,
		Zones: zoneChoices(), Currencies: money.Currencies(), Kinds: u.knownKinds(r.Context(), lang),
		Categories: categoryOptions(lang), Units: unitOptions(lang)}
	for _, x := range res {
		d.Resources = append(d.Resources, viewResource(lang, x, s.Currency))
	}
	edit.alert(lang)
	add.alert(lang)
	u.render(w, r, "admin_site.html", status, page{Title: s.Name, Data: d})
}

func viewResource(lang string, x booking.Resource, currency string) resourceRow {
	row := resourceRow{Resource: x, Kind: kindLabel(lang, x.Kind), Category: translate(lang, adminKey("category_", x.Category)),
		Rate: rateText(lang, x.RateMinor, x.RateUnit, currency), Capabilities: strings.Join(x.Capabilities, ", ")}
	if x.TraineeCapacity > 0 {
		row.Trainees = strconv.Itoa(x.TraineeCapacity)
	}
	return row
}

func (u *UI) updateSite(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	a := actor(r)
	s, err := u.siteFor(r)
	if err != nil {
		u.adminPageError(w, r, translate(lang, "admin.sites_title"), err)
		return
	}
	if err := parseForm(w, r); err != nil {
		f := siteForm(s)
		f.fail("", translate(lang, "login.bad_form"))
		u.renderSite(w, r, http.StatusBadRequest, s, f, nil, "")
		return
	}
	f := newAdminForm(r.PostForm, siteFields...)
	in := siteInput(r.PostForm)
	if in.Name == "" {
		f.fail("name", translate(lang, "admin.err_name"))
	}
	p := booking.SitePatch{Name: &in.Name}
	if a.Role == booking.RoleAdmin {
		p.Slug, p.Country, p.TimeZone, p.Currency = &in.Slug, &in.Country, &in.TimeZone, &in.Currency
		if strings.TrimSpace(r.PostFormValue("slug")) == "" {
			p.Slug = &s.Slug // a slug left empty stays as it is
		}
	} else {
		// The other fields are an admin's: shown, not sent.
		for k, v := range siteForm(s).Values {
			if k != "name" && k != "version" {
				f.Values[k] = v
			}
		}
	}
	if f.failed() {
		u.renderSite(w, r, http.StatusUnprocessableEntity, s, f, nil, "")
		return
	}
	out, err := u.Catalogue.UpdateSite(r.Context(), a, s.ID, p, formVersion(r.PostForm))
	if err != nil {
		if booking.ErrorCode(err) == booking.EPRECONDITION {
			// Changed meanwhile: show it as it is now, to make the change again on it.
			if now, ferr := u.Catalogue.FindSite(r.Context(), s.ID); ferr == nil {
				s, f = now, siteForm(now)
			}
		}
		u.refuseForm(lang, f, err)
		u.renderSite(w, r, refusedStatus(err), s, f, nil, "")
		return
	}
	u.setFlash(w, r, "ok", fmt.Sprintf(translate(lang, "admin.site_saved"), out.Name))
	http.Redirect(w, r, "/admin/sites/"+out.ID.String(), http.StatusSeeOther)
}

// setSiteActive takes a site out of service, or puts it back (admins).
func (u *UI) setSiteActive(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	s, err := u.siteFor(r)
	if err != nil {
		u.adminPageError(w, r, translate(lang, "admin.sites_title"), err)
		return
	}
	if err := parseForm(w, r); err != nil {
		u.renderSite(w, r, http.StatusBadRequest, s, siteForm(s), nil, translate(lang, "login.bad_form"))
		return
	}
	active := r.PostFormValue("active") == "true"
	out, err := u.Catalogue.UpdateSite(r.Context(), actor(r), s.ID, booking.SitePatch{Active: &active}, formVersion(r.PostForm))
	if err != nil {
		f := newAdminForm(nil, "active")
		u.refuseForm(lang, f, err)
		text := f.Errors["active"]
		if text == "" {
			text = f.Error
		}
		if now, ferr := u.Catalogue.FindSite(r.Context(), s.ID); ferr == nil {
			s = now
		}
		u.renderSite(w, r, refusedStatus(err), s, siteForm(s), nil, text)
		return
	}
	key := "admin.site_inactive"
	if out.Active {
		key = "admin.site_active"
	}
	u.setFlash(w, r, "ok", fmt.Sprintf(translate(lang, key), out.Name))
	http.Redirect(w, r, "/admin/sites/"+out.ID.String(), http.StatusSeeOther)
}

var capabilitySplit = regexp.MustCompile(`[,;\s]+`)

// resourceValues reads the resource form, noting in f the fields that do not read.
func resourceValues(lang string, v url.Values, currency string, f *adminForm) (name, category, kind string, caps []string, rate int64, unit string, trainees int) {
	name = strings.TrimSpace(v.Get("name"))
	if name == "" {
		f.fail("name", translate(lang, "admin.err_name"))
	}
	category, unit = v.Get("category"), v.Get("rate_unit")
	kind = strings.ToLower(strings.TrimSpace(v.Get("kind")))
	caps = []string{}
	for _, c := range capabilitySplit.Split(strings.ToLower(v.Get("capabilities")), -1) {
		if c != "" && !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	var ok bool
	if rate, ok = parseAmount(v.Get("rate"), currency); !ok {
		f.fail("rate", fmt.Sprintf(translate(lang, "admin.err_rate_minor"), currency))
	}
	if t := strings.TrimSpace(v.Get("trainee_capacity")); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > booking.MaxTraineeCapacity {
			f.fail("trainee_capacity", translate(lang, "admin.err_trainee_capacity"))
		}
		trainees = n
	}
	return
}

func (u *UI) createResource(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	s, err := u.siteFor(r)
	if err != nil {
		u.adminPageError(w, r, translate(lang, "admin.sites_title"), err)
		return
	}
	if err := parseForm(w, r); err != nil {
		f := newAdminForm(nil, resourceFields...)
		f.fail("", translate(lang, "login.bad_form"))
		u.renderSite(w, r, http.StatusBadRequest, s, siteForm(s), f, "")
		return
	}
	f := newAdminForm(r.PostForm, resourceFields...)
	in := booking.ResourceInput{SiteID: s.ID}
	in.Name, in.Category, in.Kind, in.Capabilities, in.RateMinor, in.RateUnit, in.TraineeCapacity = resourceValues(lang, r.PostForm, s.Currency, f)
	if f.failed() {
		u.renderSite(w, r, http.StatusUnprocessableEntity, s, siteForm(s), f, "")
		return
	}
	res, err := u.Catalogue.CreateResource(r.Context(), actor(r), in)
	if err != nil {
		u.refuseForm(lang, f, err)
		u.renderSite(w, r, refusedStatus(err), s, siteForm(s), f, "")
		return
	}
	u.setFlash(w, r, "ok", fmt.Sprintf(translate(lang, "admin.resource_created"), res.Name))
	http.Redirect(w, r, "/admin/sites/"+s.ID.String()+"#resources", http.StatusSeeOther)
}

// resourceFor finds the page's resource and its site, and checks the actor keeps it.
func (u *UI) resourceFor(r *http.Request) (booking.Resource, booking.Site, error) {
	id, err := pathID(r, "resource")
	if err != nil {
		return booking.Resource{}, booking.Site{}, err
	}
	res, err := u.Catalogue.FindResource(r.Context(), id)
	if err != nil {
		return res, booking.Site{}, err
	}
	s, err := u.Catalogue.FindSite(r.Context(), res.SiteID)
	if err != nil {
		return res, s, err
	}
	if a := actor(r); a.Role != booking.RoleAdmin && !a.ManagesSite(s.ID) {
		return res, s, booking.Errorf(booking.EFORBIDDEN, "You do not manage this resource's site.")
	}
	return res, s, nil
}

func (u *UI) adminResource(w http.ResponseWriter, r *http.Request) {
	res, s, err := u.resourceFor(r)
	if err != nil {
		u.adminPageError(w, r, translate(language(r), "admin.resource_title"), err)
		return
	}
	u.renderResource(w, r, http.StatusOK, s, res, resourceForm(res, s.Currency), "")
}

func (u *UI) renderResource(w http.ResponseWriter, r *http.Request, status int, s booking.Site, res booking.Resource, f *adminForm, serviceErr string) {
	lang := language(r)
	d := resourceData{Site: s, Resource: res, Edit: f, ServiceError: serviceErr, Kinds: u.knownKinds(r.Context(), lang),
		Categories: categoryOptions(lang), Units: unitOptions(lang)}
	if serviceErr != "" && res.Active {
		d.Busy = "/manage/timeline?site=" + s.ID.String()
	}
	f.alert(lang)
	u.render(w, r, "admin_resource.html", status, page{Title: res.Name, Data: d})
}

func (u *UI) updateResource(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	res, s, err := u.resourceFor(r)
	if err != nil {
		u.adminPageError(w, r, translate(lang, "admin.resource_title"), err)
		return
	}
	if err := parseForm(w, r); err != nil {
		f := resourceForm(res, s.Currency)
		f.fail("", translate(lang, "login.bad_form"))
		u.renderResource(w, r, http.StatusBadRequest, s, res, f, "")
		return
	}
	f := newAdminForm(r.PostForm, resourceFields...)
	var p booking.ResourcePatch
	var name, category, kind, unit string
	var caps []string
	var rate int64
	var trainees int
	name, category, kind, caps, rate, unit, trainees = resourceValues(lang, r.PostForm, s.Currency, f)
	p.Name, p.Category, p.Kind, p.Capabilities, p.RateMinor, p.RateUnit, p.TraineeCapacity = &name, &category, &kind, &caps, &rate, &unit, &trainees
	if f.failed() {
		u.renderResource(w, r, http.StatusUnprocessableEntity, s, res, f, "")
		return
	}
	out, err := u.Catalogue.UpdateResource(r.Context(), actor(r), res.ID, p, formVersion(r.PostForm))
	if err != nil {
		if booking.ErrorCode(err) == booking.EPRECONDITION {
			if now, ferr := u.Catalogue.FindResource(r.Context(), res.ID); ferr == nil {
				res, f = now, resourceForm(now, s.Currency)
			}
		}
		u.refuseForm(lang, f, err)
		u.renderResource(w, r, refusedStatus(err), s, res, f, "")
		return
	}
	u.setFlash(w, r, "ok", fmt.Sprintf(translate(lang, "admin.resource_saved"), out.Name))
	http.Redirect(w, r, "/admin/sites/"+s.ID.String()+"#resources", http.StatusSeeOther)
}

// setResourceActive takes a resource out of service, or puts it back. A resource with
// holds or bookings still to end stays in service: the domain's 409 is shown beside
// the button, with the way to the timeline.
func (u *UI) setResourceActive(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	res, s, err := u.resourceFor(r)
	if err != nil {
		u.adminPageError(w, r, translate(lang, "admin.resource_title"), err)
		return
	}
	if err := parseForm(w, r); err != nil {
		u.renderResource(w, r, http.StatusBadRequest, s, res, resourceForm(res, s.Currency), translate(lang, "login.bad_form"))
		return
	}
	active := r.PostFormValue("active") == "true"
	out, err := u.Catalogue.UpdateResource(r.Context(), actor(r), res.ID, booking.ResourcePatch{Active: &active}, formVersion(r.PostForm))
	if err != nil {
		f := newAdminForm(nil, "active")
		u.refuseForm(lang, f, err)
		text := f.Errors["active"]
		if text == "" {
			text = f.Error
		}
		if now, ferr := u.Catalogue.FindResource(r.Context(), res.ID); ferr == nil {
			res = now
		}
		u.renderResource(w, r, refusedStatus(err), s, res, resourceForm(res, s.Currency), text)
		return
	}
	key := "admin.resource_inactive"
	if out.Active {
		key = "admin.resource_active"
	}
	u.done(w, r, "/admin/sites/"+s.ID.String()+"#resources", "ok", fmt.Sprintf(translate(lang, key), out.Name))
}

// activeSites are the sites in service, for the pickers of the other pages; current
// stays among them when it is out of service, so a page about it still shows it
// chosen.
func activeSites(sites []booking.Site, current uuid.UUID) []booking.Site {
	var out []booking.Site
	for _, s := range sites {
		if s.Active || s.ID == current {
			out = append(out, s)
		}
	}
	return out
}
