package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/httpapi"
	"github.com/posthub/posthub/internal/money"
)

// The administration of a real hub (admin*.go, templates/admin_*.html): sites and
// their resources, organisations, users and their invitations, rate cards, exchange
// rates and ring-fences, for admins and, where the domain lets them, the managers of a
// site; everyone's API tokens; organisations' webhooks; and the public pages that set
// a password from an invitation or a reset link. Every form calls the domain; a
// refusal (400, 403, 404, 409, 412, 422) comes back as the form, as it was typed, with
// the reason beside its field in the page's language, never as a JSON page.

// adminPages are the templates of these pages, each parsed with admin_partials.html.
var adminPages = []string{"admin_index.html", "admin_sites.html", "admin_site.html", "admin_resource.html",
	"admin_orgs.html", "admin_org.html", "admin_users.html", "admin_user.html", "admin_rates.html",
	"admin_exchange.html", "admin_fences.html", "admin_webhooks.html", "admin_tokens.html", "admin_password.html"}

// registerAdmin mounts the administration pages and parses their templates (before
// any page has been rendered, as template cloning needs).
func (u *UI) registerAdmin(r *httpapi.Router) {
	base := u.tmpl["home.html"]
	for _, name := range adminPages {
		u.tmpl[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS,
			"templates/admin_partials.html", "templates/"+name))
	}
	r.Handle("GET", "/admin", u.adminIndex)

	// Sites and their resources (admin_sites.go).
	r.Handle("GET", "/admin/sites", u.adminSites)
	r.Handle("POST", "/admin/sites", u.createSite)
	r.Handle("GET", "/admin/sites/{id}", u.adminSite)
	r.Handle("POST", "/admin/sites/{id}", u.updateSite)
	r.Handle("POST", "/admin/sites/{id}/active", u.setSiteActive)
	r.Handle("POST", "/admin/sites/{id}/resources", u.createResource)
	r.Handle("GET", "/admin/resources/{id}", u.adminResource)
	r.Handle("POST", "/admin/resources/{id}", u.updateResource)
	r.Handle("POST", "/admin/resources/{id}/active", u.setResourceActive)

	// Organisations and users (admin_people.go).
	r.Handle("GET", "/admin/organisations", u.adminOrganisations)
	r.Handle("POST", "/admin/organisations", u.createOrganisation)
	r.Handle("GET", "/admin/organisations/{id}", u.adminOrganisation)
	r.Handle("POST", "/admin/organisations/{id}", u.updateOrganisation)
	r.Handle("GET", "/admin/users", u.adminUsers)
	r.Handle("POST", "/admin/users", u.createUser)
	r.Handle("GET", "/admin/users/{id}", u.adminUser)
	r.Handle("POST", "/admin/users/{id}", u.updateUser)
	r.Handle("POST", "/admin/users/{id}/invite", u.inviteUser)

	// Rate cards, exchange rates and ring-fences (admin_money.go).
	r.Handle("GET", "/admin/rate-cards", u.adminRateCards)
	r.Handle("POST", "/admin/rate-cards", u.createRateCard)
	r.Handle("POST", "/admin/rate-cards/{id}/delete", u.deleteRateCard)
	r.Handle("GET", "/admin/exchange-rates", u.adminExchangeRates)
	r.Handle("POST", "/admin/exchange-rates", u.createExchangeRate)
	r.Handle("GET", "/admin/ring-fences", u.adminRingFences)
	r.Handle("POST", "/admin/ring-fences", u.createRingFence)
	r.Handle("POST", "/admin/ring-fences/{id}/delete", u.deleteRingFence)

	// Everyone's tokens, organisations' webhooks, password links (admin_account.go).
	r.Handle("GET", "/account/tokens", u.tokensPage)
	r.Handle("POST", "/account/tokens", u.createToken)
	r.Handle("POST", "/account/tokens/{id}/revoke", u.revokeToken)
	r.Handle("GET", "/webhooks", u.webhooksPage)
	r.Handle("POST", "/webhooks", u.createWebhook)
	r.Handle("POST", "/webhooks/{id}/delete", u.deleteWebhook)
	r.Handle("GET", "/password/{token}", u.passwordPage)
	r.Handle("POST", "/password/{token}", u.setPassword)
	r.Handle("POST", "/login/reset", u.requestReset)
}

// adminForm is a form as it was typed, and why it was refused: Error at its top,
// Errors beside their fields.
type adminForm struct {
	Values url.Values
	Error  string
	Errors map[string]string
	// fields are the fields the form shows: a refusal about another goes at its top.
	fields []string
}

func newAdminForm(values url.Values, fields ...string) *adminForm {
	if values == nil {
		values = url.Values{}
	}
	return &adminForm{Values: values, Errors: map[string]string{}, fields: fields}
}

// V is a field's value as typed.
func (f *adminForm) V(name string) string {
	if f == nil {
		return ""
	}
	return f.Values.Get(name)
}

// Err is why a field was refused, if it was.
func (f *adminForm) Err(name string) string {
	if f == nil {
		return ""
	}
	return f.Errors[name]
}

// Has reports whether a choice among several (checkboxes) was ticked.
func (f *adminForm) Has(name, value string) bool {
	return f != nil && slices.Contains(f.Values[name], value)
}

func (f *adminForm) failed() bool { return f.Error != "" || len(f.Errors) > 0 }

// fail notes a refusal beside field, or at the form's top for "" or a field it does
// not show.
func (f *adminForm) fail(field, text string) {
	if field != "" && slices.Contains(f.fields, field) {
		if f.Errors[field] == "" {
			f.Errors[field] = text
		}
		return
	}
	if f.Error == "" {
		f.Error = text
	} else if !strings.Contains(f.Error, text) {
		f.Error += " " + text
	}
}

// alert completes a refused form's top: the fields say why, the top says so.
func (f *adminForm) alert(lang string) {
	if f.Error == "" && len(f.Errors) > 0 {
		f.Error = translate(lang, "admin.err_fix")
	}
}

// adminFields are the domain's field names the forms call otherwise.
var adminFields = map[string]string{
	"organisation_id": "organisation", "site_ids": "sites", "rate_minor": "rate", "amount_minor": "amount",
	"resource_id": "resource", "overtime_multiplier_bp": "overtime", "share_pct": "share", "site_id": "site",
}

// reasonFields puts a conflict with a stable reason beside the control it is about.
var reasonFields = map[string]string{
	booking.ReasonResourceHasBookings:    "active",
	booking.ReasonSiteHasActiveResources: "active",
}

// errDetail is a string of a domain error's details.
func errDetail(err error, key string) string {
	var e *booking.Error
	if !errors.As(err, &e) || e.Details == nil {
		return ""
	}
	s, _ := e.Details[key].(string)
	return s
}

// refuseForm puts a refusal of the domain in the form's words: beside the field it names
// (admin.err_<field>; admin.taken_<field> for a value taken), a conflict by its stable
// reason (admin.reason_<reason>), else the code in words and the domain's own
// explanation at the form's top.
func (u *UI) refuseForm(lang string, f *adminForm, err error) {
	defer f.alert(lang)
	code := booking.ErrorCode(err)
	field := errDetail(err, "field")
	formField := field
	if m, ok := adminFields[field]; ok {
		formField = m
	}
	switch code {
	case booking.EINTERNAL, booking.EUNAVAILABLE:
		f.fail("", u.errorText(lang, err))
		return
	case booking.EPRECONDITION:
		f.fail("", translate(lang, "admin.err_changed"))
		return
	case booking.EFORBIDDEN:
		if field != "" {
			f.fail(formField, translate(lang, "admin.err_forbidden_field"))
			return
		}
		f.fail("", translate(lang, "error.forbidden"))
		return
	case booking.ENOTFOUND:
		if field != "" {
			f.fail(formField, translate(lang, "admin.err_no_such"))
			return
		}
		f.fail("", translate(lang, "error.not_found"))
		return
	case booking.ECONFLICT:
		if reason := errDetail(err, "reason"); reason != "" && hasMessage(adminKey("reason_", reason)) {
			f.fail(reasonFields[reason], translate(lang, adminKey("reason_", reason)))
			return
		}
		if field != "" && hasMessage(adminKey("taken_", field)) {
			f.fail(formField, translate(lang, adminKey("taken_", field)))
			return
		}
	case booking.EINVALID, booking.EUNPROCESSABLE:
		if field != "" {
			if key := adminKey("err_", field); hasMessage(key) {
				text := translate(lang, key)
				if field == "time_zone" {
					text = fmt.Sprintf(text, calendar.TZVersion())
				}
				f.fail(formField, text)
				return
			}
			f.fail(formField, translate(lang, "error."+code)+" "+booking.ErrorMessage(err))
			return
		}
	}
	f.fail("", translate(lang, "error."+code)+" "+booking.ErrorMessage(err))
}

// adminKey is the key of a message of the administration named by its parts, such as
// adminKey("reason_", reason): the keys built from the domain's values (categories,
// units, periods, fields, reasons), which TestAdminKeysFromTheDomainExist checks.
func adminKey(parts ...string) string { return "admin." + strings.Join(parts, "") }

// adminPageError shows a page that could not be built: a refusal (403, 404) as the
// error page a browser gets for any route, anything else with the page's title.
func (u *UI) adminPageError(w http.ResponseWriter, r *http.Request, title string, err error) {
	switch booking.ErrorCode(err) {
	case booking.EFORBIDDEN, booking.ENOTFOUND:
		u.errorPage(w, r, httpapi.StatusOf(err), err)
		return
	}
	u.pageError(w, r, title, err)
}

// formVersion is the version a form was read at (its hidden field), nil without one.
func formVersion(v url.Values) *int {
	n, err := strconv.Atoi(v.Get("version"))
	if err != nil {
		return nil
	}
	return &n
}

// pathID is the page's {id}; a malformed one is no such object.
func pathID(r *http.Request, what string) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return uuid.Nil, booking.Errorf(booking.ENOTFOUND, "No such %s.", what)
	}
	return id, nil
}

// adminLink is a tile of the administration's index.
type adminLink struct {
	Href, Title, Help, ID string
}

// adminIndex is the administration's index: what the actor's role may keep.
func (u *UI) adminIndex(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	a := actor(r)
	link := func(id, href, key string) adminLink {
		return adminLink{ID: id, Href: href, Title: translate(lang, "admin."+key+"_title"), Help: translate(lang, "admin."+key+"_help")}
	}
	var links []adminLink
	links = append(links, link("admin-sites", "/admin/sites", "sites"))
	if a.Role == booking.RoleAdmin {
		links = append(links, link("admin-orgs", "/admin/organisations", "orgs"), link("admin-users", "/admin/users", "users"))
	}
	links = append(links, link("admin-rates", "/admin/rate-cards", "rates"), link("admin-exchange", "/admin/exchange-rates", "exchange"),
		link("admin-fences", "/admin/ring-fences", "fences"))
	if a.Role == booking.RoleAdmin {
		links = append(links, link("admin-webhooks", "/webhooks", "webhooks"))
	}
	links = append(links, link("admin-tokens", "/account/tokens", "tokens"))
	u.render(w, r, "admin_index.html", http.StatusOK, page{Title: translate(lang, "admin.title"), Data: links})
}

// sitesFor are the sites an actor keeps: every one for an admin (active first), the
// ones a manager manages.
func (u *UI) sitesFor(ctx context.Context, a booking.Actor) ([]booking.Site, error) {
	sites, err := u.Catalogue.ListSites(ctx)
	if err != nil {
		return nil, err
	}
	var out []booking.Site
	for _, s := range sites {
		if a.Role == booking.RoleAdmin || a.ManagesSite(s.ID) {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(x, y booking.Site) int {
		switch {
		case x.Active == y.Active:
			return 0
		case x.Active:
			return -1
		}
		return 1
	})
	return out, nil
}

// pickSite is the site a page of several is about: ?site= (id or slug) among sites,
// else the first active one.
func pickSite(r *http.Request, sites []booking.Site) (booking.Site, bool) {
	v := r.URL.Query().Get("site")
	if r.Method == http.MethodPost {
		v = r.PostFormValue("site")
	}
	for _, s := range sites {
		if v != "" && (s.ID.String() == v || s.Slug == v) {
			return s, true
		}
	}
	for _, s := range sites {
		if s.Active {
			return s, v == ""
		}
	}
	return booking.Site{}, false
}

// slugOf makes a slug of a name: "Lagos Post" is lagos-post, "Dakar — Plateau"
// dakar-plateau (accents dropped).
func slugOf(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		plain := string(c)
		if f, ok := latinFold[c]; ok {
			plain = f
		}
		switch {
		case c < unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c)), plain != string(c):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteString(plain)
			dash = false
		default:
			dash = true
		}
	}
	s := b.String()
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	return s
}

// latinFold spells the accented letters of the hub's languages without accents.
var latinFold = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'æ': "ae", 'ç': "c", 'è': "e", 'é': "e", 'ê': "e",
	'ë': "e", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ñ': "n", 'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o",
	'œ': "oe", 'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ý': "y", 'ÿ': "y", 'ß': "ss",
}

var amountShape = regexp.MustCompile(`^\d+(\.\d+)?$`)

// parseAmount reads an amount typed in a currency's units ("1 500,50", "1,500.50",
// "350") as minor units of the currency, within [0, booking.MaxRateMinor]. A comma is
// the decimal mark unless a dot follows it, or it is followed by exactly three digits
// in a currency with fewer decimals (a thousands separator).
func parseAmount(s, currency string) (int64, bool) {
	s = strings.Map(func(c rune) rune {
		if unicode.IsSpace(c) || c == '\u202f' || c == '\u00a0' || c == '\'' || c == '’' {
			return -1
		}
		return c
	}, s)
	dec := money.Decimals(currency)
	if i := strings.LastIndexByte(s, ','); i >= 0 {
		if strings.Contains(s[i:], ".") || (len(s)-i-1 == 3 && dec < 3) {
			s = strings.ReplaceAll(s, ",", "")
		} else {
			s = strings.ReplaceAll(s[:i], ",", "") + "." + s[i+1:]
		}
	}
	if strings.Count(s, ".") > 1 {
		// Dots as thousands separators: 1.500.000
		if i := strings.LastIndexByte(s, '.'); len(s)-i-1 == 3 {
			s = strings.ReplaceAll(s, ".", "")
		}
	}
	if !amountShape.MatchString(s) {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	frac = strings.TrimRight(frac, "0")
	if len(frac) > dec {
		return 0, false
	}
	frac += strings.Repeat("0", dec-len(frac))
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > booking.MaxRateMinor {
		return 0, false
	}
	n := w * money.MinorPerUnit(currency)
	if frac != "" {
		f, _ := strconv.ParseInt(frac, 10, 64)
		n += f
	}
	if n > booking.MaxRateMinor {
		return 0, false
	}
	return n, true
}

// amountInput is minor units as a form shows them to correct: 350.00.
func amountInput(minor int64, currency string) string { return money.Format(minor, currency) }

// parseDecimal reads a number typed with a dot or a comma (12,5).
func parseDecimal(s string) (float64, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", ".")
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

// knownKinds are the resource kinds a form suggests: those of the catalog's words and
// those the hub's resources have.
func (u *UI) knownKinds(ctx context.Context, lang string) []kindOption {
	seen := map[string]bool{}
	for _, k := range []string{"grading_suite", "mix_stage", "sound_edit_suite", "edit_suite", "dcp_mastering", "screening_room",
		"colourist", "editor", "sound_editor", "mixer"} {
		seen[k] = true
	}
	if res, err := u.Catalogue.ListResources(ctx, booking.ResourceFilter{IncludeInactive: true}); err == nil {
		for _, r := range res {
			seen[r.Kind] = true
		}
	}
	var out []kindOption
	for k := range seen {
		out = append(out, kindOption{Value: k, Label: kindLabel(lang, k)})
	}
	slices.SortFunc(out, func(x, y kindOption) int { return strings.Compare(x.Label, y.Label) })
	return out
}
