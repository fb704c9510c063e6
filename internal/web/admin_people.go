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
)

// Organisations and users, an admin's: production companies and the hub's own
// company; people with their role, language, company and the sites a manager manages,
// invited by a mail whose single-use link sets their password (the domain sends it).

var (
	orgFields  = []string{"name", "slug", "country", "kind"}
	userFields = []string{"name", "email", "role", "organisation", "locale", "sites", "active"}
)

// emailShape is what the users table takes for an email.
var emailShape = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

type orgRow struct {
	Org   booking.Organisation
	Kind  string
	Users int
}

type orgsData struct {
	Orgs  []orgRow
	New   *adminForm
	Kinds []kindOption
}

type orgData struct {
	Org   booking.Organisation
	Kind  string
	Edit  *adminForm
	Users []userRow
}

// userRow is a user as the lists show them.
type userRow struct {
	User                     booking.User
	Role, Org, Sites, Locale string
}

type usersData struct {
	Users   []userRow
	New     *adminForm
	Roles   []kindOption
	Orgs    []booking.Organisation
	Sites   []booking.Site
	Locales []kindOption
}

type userData struct {
	User        booking.User
	Edit        *adminForm
	InviteError string
	Roles       []kindOption
	Orgs        []booking.Organisation
	Sites       []booking.Site
	Locales     []kindOption
}

func orgKinds(lang string) []kindOption {
	return []kindOption{{Value: booking.OrgProductionCompany, Label: translate(lang, "admin.org_production_company")},
		{Value: booking.OrgHub, Label: translate(lang, "admin.org_hub")}}
}

func orgKindLabel(lang, kind string) string {
	if kind == booking.OrgHub {
		return translate(lang, "admin.org_hub")
	}
	return translate(lang, "admin.org_production_company")
}

func roleOptions(lang string) []kindOption {
	var out []kindOption
	for _, r := range booking.Roles {
		out = append(out, kindOption{Value: string(r), Label: translate(lang, "role."+string(r))})
	}
	return out
}

// localeOptions are the languages a user's mail may be written in: every language
// there is a catalog for, each named in itself.
func localeOptions() []kindOption {
	var out []kindOption
	for _, l := range catalog.Languages() {
		out = append(out, kindOption{Value: l, Label: translate(l, "lang.name")})
	}
	return out
}

func (u *UI) adminOrganisations(w http.ResponseWriter, r *http.Request) {
	u.renderOrganisations(w, r, http.StatusOK, newAdminForm(url.Values{"kind": {booking.OrgProductionCompany}}, orgFields...))
}

func (u *UI) renderOrganisations(w http.ResponseWriter, r *http.Request, status int, f *adminForm) {
	lang := language(r)
	a := actor(r)
	title := translate(lang, "admin.orgs_title")
	orgs, err := u.Catalogue.ListOrganisations(r.Context(), a)
	if err != nil {
		u.adminPageError(w, r, title, err)
		return
	}
	users, err := u.Auth.ListUsers(r.Context(), a)
	if err != nil {
		u.adminPageError(w, r, title, err)
		return
	}
	d := orgsData{New: f, Kinds: orgKinds(lang)}
	for _, o := range orgs {
		row := orgRow{Org: o, Kind: orgKindLabel(lang, o.Kind)}
		for _, x := range users {
			if x.OrganisationID == o.ID {
				row.Users++
			}
		}
		d.Orgs = append(d.Orgs, row)
	}
	f.alert(lang)
	u.render(w, r, "admin_orgs.html", status, page{Title: title, Data: d})
}

func (u *UI) createOrganisation(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	if err := parseForm(w, r); err != nil {
		f := newAdminForm(nil, orgFields...)
		f.fail("", translate(lang, "login.bad_form"))
		u.renderOrganisations(w, r, http.StatusBadRequest, f)
		return
	}
	f := newAdminForm(r.PostForm, orgFields...)
	in := booking.OrganisationInput{Slug: strings.ToLower(strings.TrimSpace(r.PostFormValue("slug"))), Name: strings.TrimSpace(r.PostFormValue("name")),
		Country: strings.ToUpper(strings.TrimSpace(r.PostFormValue("country"))), Kind: r.PostFormValue("kind")}
	if in.Slug == "" {
		in.Slug = slugOf(in.Name)
	}
	if in.Name == "" {
		f.fail("name", translate(lang, "admin.err_name"))
		u.renderOrganisations(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	o, err := u.Catalogue.CreateOrganisation(r.Context(), actor(r), in)
	if err != nil {
		u.refuseForm(lang, f, err)
		u.renderOrganisations(w, r, refusedStatus(err), f)
		return
	}
	u.setFlash(w, r, "ok", fmt.Sprintf(translate(lang, "admin.org_created"), o.Name))
	http.Redirect(w, r, "/admin/organisations#o-"+o.ID.String(), http.StatusSeeOther)
}

// orgFor finds the page's organisation.
func (u *UI) orgFor(r *http.Request) (booking.Organisation, error) {
	id, err := pathID(r, "organisation")
	if err != nil {
		return booking.Organisation{}, err
	}
	orgs, err := u.Catalogue.ListOrganisations(r.Context(), actor(r))
	if err != nil {
		return booking.Organisation{}, err
	}
	for _, o := range orgs {
		if o.ID == id {
			return o, nil
		}
	}
	return booking.Organisation{}, booking.Errorf(booking.ENOTFOUND, "No such organisation.")
}

func orgForm(o booking.Organisation) *adminForm {
	return newAdminForm(url.Values{"name": {o.Name}, "slug": {o.Slug}, "country": {o.Country}, "kind": {o.Kind},
		"version": {strconv.Itoa(o.Version)}}, orgFields...)
}

func (u *UI) adminOrganisation(w http.ResponseWriter, r *http.Request) {
	o, err := u.orgFor(r)
	if err != nil {
		u.adminPageError(w, r, translate(language(r), "admin.orgs_title"), err)
		return
	}
	u.renderOrganisation(w, r, http.StatusOK, o, orgForm(o))
}

func (u *UI) renderOrganisation(w http.ResponseWriter, r *http.Request, status int, o booking.Organisation, f *adminForm) {
	lang := language(r)
	d := orgData{Org: o, Kind: orgKindLabel(lang, o.Kind), Edit: f}
	if rows, err := u.userRows(r, lang); err == nil {
		for _, x := range rows {
			if x.User.OrganisationID == o.ID {
				d.Users = append(d.Users, x)
			}
		}
	}
	f.alert(lang)
	u.render(w, r, "admin_org.html", status, page{Title: o.Name, Data: d})
}

func (u *UI) updateOrganisation(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	o, err := u.orgFor(r)
	if err != nil {
		u.adminPageError(w, r, translate(lang, "admin.orgs_title"), err)
		return
	}
	if err := parseForm(w, r); err != nil {
		f := orgForm(o)
		f.fail("", translate(lang, "login.bad_form"))
		u.renderOrganisation(w, r, http.StatusBadRequest, o, f)
		return
	}
	f := newAdminForm(r.PostForm, orgFields...)
	f.Values.Set("kind", o.Kind)
	name := strings.TrimSpace(r.PostFormValue("name"))
	slug := strings.ToLower(strings.TrimSpace(r.PostFormValue("slug")))
	if slug == "" {
		slug = o.Slug
	}
	country := strings.ToUpper(strings.TrimSpace(r.PostFormValue("country")))
	if name == "" {
		f.fail("name", translate(lang, "admin.err_name"))
		u.renderOrganisation(w, r, http.StatusUnprocessableEntity, o, f)
		return
	}
	out, err := u.Catalogue.UpdateOrganisation(r.Context(), actor(r), o.ID, booking.OrganisationPatch{Slug: &slug, Name: &name, Country: &country},
		formVersion(r.PostForm))
	if err != nil {
		if booking.ErrorCode(err) == booking.EPRECONDITION {
			if now, ferr := u.orgFor(r); ferr == nil {
				o, f = now, orgForm(now)
			}
		}
		u.refuseForm(lang, f, err)
		u.renderOrganisation(w, r, refusedStatus(err), o, f)
		return
	}
	u.setFlash(w, r, "ok", fmt.Sprintf(translate(lang, "admin.org_saved"), out.Name))
	http.Redirect(w, r, "/admin/organisations#o-"+out.ID.String(), http.StatusSeeOther)
}

// userRows are every user as the lists show them, by name.
func (u *UI) userRows(r *http.Request, lang string) ([]userRow, error) {
	ctx := r.Context()
	a := actor(r)
	users, err := u.Auth.ListUsers(ctx, a)
	if err != nil {
		return nil, err
	}
	orgs, err := u.Catalogue.ListOrganisations(ctx, a)
	if err != nil {
		return nil, err
	}
	sites, err := u.Catalogue.ListSites(ctx)
	if err != nil {
		return nil, err
	}
	orgName := map[uuid.UUID]string{}
	for _, o := range orgs {
		orgName[o.ID] = o.Name
	}
	siteName := map[uuid.UUID]string{}
	for _, s := range sites {
		siteName[s.ID] = s.Name
	}
	var out []userRow
	for _, x := range users {
		row := userRow{User: x, Role: translate(lang, "role."+string(x.Role)), Org: orgName[x.OrganisationID], Locale: translate(x.Locale, "lang.name")}
		var names []string
		for _, id := range x.SiteIDs {
			names = append(names, siteName[id])
		}
		slices.Sort(names)
		row.Sites = strings.Join(names, ", ")
		out = append(out, row)
	}
	slices.SortStableFunc(out, func(x, y userRow) int {
		return strings.Compare(strings.ToLower(x.User.Name), strings.ToLower(y.User.Name))
	})
	return out, nil
}

// userChoices fills the choices of a user form.
func (u *UI) userChoices(r *http.Request, lang string) ([]kindOption, []booking.Organisation, []booking.Site, []kindOption, error) {
	orgs, err := u.Catalogue.ListOrganisations(r.Context(), actor(r))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	sites, err := u.Catalogue.ListSites(r.Context())
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return roleOptions(lang), orgs, sites, localeOptions(), nil
}

func (u *UI) adminUsers(w http.ResponseWriter, r *http.Request) {
	v := url.Values{"role": {string(booking.RoleProducer)}, "locale": {"fr"}, "invite": {"on"}, "active": {"on"}}
	if lang := language(r); lang == "en" {
		v.Set("locale", "en")
	}
	if o := r.URL.Query().Get("organisation"); o != "" {
		v.Set("organisation", o)
	}
	u.renderUsers(w, r, http.StatusOK, newAdminForm(v, userFields...))
}

func (u *UI) renderUsers(w http.ResponseWriter, r *http.Request, status int, f *adminForm) {
	lang := language(r)
	title := translate(lang, "admin.users_title")
	rows, err := u.userRows(r, lang)
	if err != nil {
		u.adminPageError(w, r, title, err)
		return
	}
	roles, orgs, sites, locales, err := u.userChoices(r, lang)
	if err != nil {
		u.adminPageError(w, r, title, err)
		return
	}
	d := usersData{Users: rows, New: f, Roles: roles, Orgs: orgs, Sites: activeSites(sites, uuid.Nil), Locales: locales}
	f.alert(lang)
	u.render(w, r, "admin_users.html", status, page{Title: title, Data: d})
}

// userSites are the sites ticked on a user form, for a manager; other roles manage
// none.
func userSites(v url.Values) []uuid.UUID {
	out := []uuid.UUID{}
	if booking.Role(v.Get("role")) != booking.RoleManager {
		return out
	}
	for _, s := range v["sites"] {
		if id := uuidOrNil(s); id != uuid.Nil && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func (u *UI) createUser(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	a := actor(r)
	if err := parseForm(w, r); err != nil {
		f := newAdminForm(nil, userFields...)
		f.fail("", translate(lang, "login.bad_form"))
		u.renderUsers(w, r, http.StatusBadRequest, f)
		return
	}
	f := newAdminForm(r.PostForm, userFields...)
	in := booking.UserInput{OrganisationID: uuidOrNil(r.PostFormValue("organisation")), Email: strings.TrimSpace(r.PostFormValue("email")),
		Name: strings.TrimSpace(r.PostFormValue("name")), Role: booking.Role(r.PostFormValue("role")), Locale: r.PostFormValue("locale"),
		SiteIDs: userSites(r.PostForm)}
	if in.Name == "" || len([]rune(in.Name)) > 200 {
		f.fail("name", translate(lang, "admin.err_name"))
	}
	if !emailShape.MatchString(in.Email) || len(in.Email) > 254 {
		f.fail("email", translate(lang, "admin.err_email"))
	}
	if !in.Role.Valid() {
		f.fail("role", translate(lang, "admin.err_role"))
	}
	if !catalog.Supported(in.Locale) {
		f.fail("locale", translate(lang, "admin.err_locale"))
	}
	if in.OrganisationID == uuid.Nil {
		f.fail("organisation", translate(lang, "admin.err_organisation_id"))
	}
	if f.failed() {
		u.renderUsers(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	user, err := u.Auth.CreateUser(r.Context(), a, in)
	if err != nil {
		if booking.ErrorCode(err) == booking.ENOTFOUND && errDetail(err, "field") == "" {
			// A foreign key: the organisation or a site went meanwhile.
			f.fail("", translate(lang, "admin.err_no_such"))
			u.renderUsers(w, r, http.StatusNotFound, f)
			return
		}
		u.refuseForm(lang, f, err)
		u.renderUsers(w, r, refusedStatus(err), f)
		return
	}
	msg := fmt.Sprintf(translate(lang, "admin.user_created"), user.Name)
	kind := "ok"
	if r.PostFormValue("invite") != "" {
		if _, err := u.Auth.InviteUser(r.Context(), a, user.ID); err != nil {
			kind = "error"
			msg += " " + translate(lang, "admin.invite_failed") + " " + u.errorText(lang, err)
		} else {
			msg += " " + fmt.Sprintf(translate(lang, "admin.invite_sent"), user.Email)
		}
	}
	u.setFlash(w, r, kind, msg)
	http.Redirect(w, r, "/admin/users#u-"+user.ID.String(), http.StatusSeeOther)
}

// userFor finds the page's user.
func (u *UI) userFor(r *http.Request) (booking.User, error) {
	id, err := pathID(r, "user")
	if err != nil {
		return booking.User{}, err
	}
	users, err := u.Auth.ListUsers(r.Context(), actor(r))
	if err != nil {
		return booking.User{}, err
	}
	for _, x := range users {
		if x.ID == id {
			return x, nil
		}
	}
	return booking.User{}, booking.Errorf(booking.ENOTFOUND, "No such user.")
}

func userForm(x booking.User) *adminForm {
	v := url.Values{"name": {x.Name}, "email": {x.Email}, "role": {string(x.Role)}, "organisation": {x.OrganisationID.String()},
		"locale": {x.Locale}, "version": {strconv.Itoa(x.Version)}}
	if x.Active {
		v.Set("active", "on")
	}
	for _, s := range x.SiteIDs {
		v.Add("sites", s.String())
	}
	return newAdminForm(v, userFields...)
}

func (u *UI) adminUser(w http.ResponseWriter, r *http.Request) {
	x, err := u.userFor(r)
	if err != nil {
		u.adminPageError(w, r, translate(language(r), "admin.users_title"), err)
		return
	}
	u.renderUser(w, r, http.StatusOK, x, userForm(x), "")
}

func (u *UI) renderUser(w http.ResponseWriter, r *http.Request, status int, x booking.User, f *adminForm, inviteErr string) {
	lang := language(r)
	roles, orgs, sites, locales, err := u.userChoices(r, lang)
	if err != nil {
		u.adminPageError(w, r, x.Name, err)
		return
	}
	var shown []booking.Site
	for _, s := range sites {
		if s.Active || slices.Contains(x.SiteIDs, s.ID) {
			shown = append(shown, s)
		}
	}
	d := userData{User: x, Edit: f, InviteError: inviteErr, Roles: roles, Orgs: orgs, Sites: shown, Locales: locales}
	f.alert(lang)
	u.render(w, r, "admin_user.html", status, page{Title: x.Name, Data: d})
}

func (u *UI) updateUser(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	x, err := u.userFor(r)
	if err != nil {
		u.adminPageError(w, r, translate(lang, "admin.users_title"), err)
		return
	}
	if err := parseForm(w, r); err != nil {
		f := userForm(x)
		f.fail("", translate(lang, "login.bad_form"))
		u.renderUser(w, r, http.StatusBadRequest, x, f, "")
		return
	}
	f := newAdminForm(r.PostForm, userFields...)
	f.Values.Set("email", x.Email)
	name := strings.TrimSpace(r.PostFormValue("name"))
	role := booking.Role(r.PostFormValue("role"))
	locale := r.PostFormValue("locale")
	org := uuidOrNil(r.PostFormValue("organisation"))
	active := r.PostFormValue("active") != ""
	sites := userSites(r.PostForm)
	if name == "" {
		f.fail("name", translate(lang, "admin.err_name"))
	}
	if org == uuid.Nil {
		f.fail("organisation", translate(lang, "admin.err_organisation_id"))
	}
	if f.failed() {
		u.renderUser(w, r, http.StatusUnprocessableEntity, x, f, "")
		return
	}
	out, err := u.Auth.UpdateUser(r.Context(), actor(r), x.ID, booking.UserPatch{Name: &name, Role: &role, Locale: &locale,
		OrganisationID: &org, Active: &active, SiteIDs: &sites}, formVersion(r.PostForm))
	if err != nil {
		if booking.ErrorCode(err) == booking.EPRECONDITION {
			if now, ferr := u.userFor(r); ferr == nil {
				x, f = now, userForm(now)
			}
		}
		u.refuseForm(lang, f, err)
		u.renderUser(w, r, refusedStatus(err), x, f, "")
		return
	}
	u.setFlash(w, r, "ok", fmt.Sprintf(translate(lang, "admin.user_saved"), out.Name))
	http.Redirect(w, r, "/admin/users#u-"+out.ID.String(), http.StatusSeeOther)
}

// inviteUser mails a user a new link to set their password (the domain queues the
// mail with the link; earlier links stop working).
func (u *UI) inviteUser(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	x, err := u.userFor(r)
	if err != nil {
		u.adminPageError(w, r, translate(lang, "admin.users_title"), err)
		return
	}
	if err := parseForm(w, r); err != nil {
		u.renderUser(w, r, http.StatusBadRequest, x, userForm(x), translate(lang, "login.bad_form"))
		return
	}
	if _, err := u.Auth.InviteUser(r.Context(), actor(r), x.ID); err != nil {
		f := newAdminForm(nil)
		u.refuseForm(lang, f, err)
		u.renderUser(w, r, refusedStatus(err), x, userForm(x), f.Error)
		return
	}
	u.setFlash(w, r, "ok", fmt.Sprintf(translate(lang, "admin.invite_sent"), x.Email))
	http.Redirect(w, r, "/admin/users/"+x.ID.String(), http.StatusSeeOther)
}
