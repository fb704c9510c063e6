package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/httpapi"
)

// The productions' forms: a producer adds a production of their company (title,
// format, runtime, origin countries with their co-production shares; a programme and
// the emerging filmmakers' status are only asked of a manager, who grants them from
// the queue) and corrects it later; managers and admins do the same for any production
// company, granting the programme and status outright. A correction carries the
// version the form was read at, so a change made meanwhile is not overwritten.

// registerProductionForms mounts the forms and parses their template.
func (u *UI) registerProductionForms(r *httpapi.Router) {
	base := u.tmpl["home.html"]
	u.tmpl["production_form.html"] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/production_form.html"))
	r.Handle("GET", "/productions/new", u.newProduction)
	r.Handle("POST", "/productions", u.createProduction)
	r.Handle("GET", "/productions/{id}/edit", u.editProduction)
	r.Handle("POST", "/productions/{id}/edit", u.updateProduction)
}

// originRows is how many origin countries the form offers.
const originRows = 4

// productionFormData is the production form, new or to correct.
type productionFormData struct {
	Edit         bool
	ID           string
	Version      int
	Title        string
	Format       string
	Runtime      string
	Programme    string
	Emerging     bool
	Organisation string
	Origins      []originRow
	Formats      []kindOption
	// Organisations are the production companies a manager or an admin chooses from.
	Organisations []booking.Organisation
	// Producer asks for the programme and the status; others grant them.
	Producer bool
	// Membership is what the production has been granted (shown when correcting it).
	Membership string
	// Deliverables are what the film delivers, which its plan's stages follow from.
	Deliverables deliverablesForm
	Error        string
	Errors       map[string]string
}

// Err is the reason a field was refused, if it was.
func (d *productionFormData) Err(field string) string { return d.Errors[field] }

type originRow struct {
	N              int
	Country, Share string
}

var productionFormats = []string{"feature", "documentary", "short", "series_episode"}

// fill completes the form's choices for the actor.
func (u *UI) fillProductionForm(r *http.Request, d *productionFormData) error {
	a := actor(r)
	lang := language(r)
	d.Producer = a.Role == booking.RoleProducer
	for _, f := range productionFormats {
		d.Formats = append(d.Formats, kindOption{Value: f, Label: translate(lang, "format."+f)})
	}
	for len(d.Origins) < originRows {
		d.Origins = append(d.Origins, originRow{})
	}
	for i := range d.Origins {
		d.Origins[i].N = i + 1
	}
	if d.Errors == nil {
		d.Errors = map[string]string{}
	}
	d.Deliverables.fill(lang, d.Errors)
	if !d.Edit && !d.Producer {
		orgs, err := u.Catalogue.ListOrganisations(r.Context(), a)
		if err != nil {
			return err
		}
		for _, o := range orgs {
			if o.Kind == booking.OrgProductionCompany {
				d.Organisations = append(d.Organisations, o)
			}
		}
	}
	return nil
}

func (u *UI) renderProductionForm(w http.ResponseWriter, r *http.Request, status int, d *productionFormData) {
	lang := language(r)
	title := translate(lang, "productions.new")
	if d.Edit {
		title = translate(lang, "productions.edit")
	}
	if err := u.fillProductionForm(r, d); err != nil {
		u.pageError(w, r, title, err)
		return
	}
	if d.Error == "" && len(d.Errors) > 0 {
		d.Error = translate(lang, "productions.err_fix")
	}
	u.render(w, r, "production_form.html", status, page{Title: title, Data: d})
}

func (u *UI) newProduction(w http.ResponseWriter, r *http.Request) {
	d := &productionFormData{Format: "feature"}
	// A producer's film is most often of their company's country: the first origin
	// starts there, at 100 %.
	if a := actor(r); a.Role == booking.RoleProducer {
		if orgs, err := u.Catalogue.ListOrganisations(r.Context(), a); err == nil && len(orgs) == 1 && orgs[0].Country != "" {
			d.Origins = []originRow{{Country: orgs[0].Country, Share: "100"}}
		}
	}
	u.renderProductionForm(w, r, http.StatusOK, d)
}

// productionForm reads the posted form into d, noting each field that does not read.
func readProductionForm(lang string, v url.Values, d *productionFormData) (booking.ProductionInput, []booking.Origin) {
	in := booking.ProductionInput{Title: strings.TrimSpace(v.Get("title")), Format: v.Get("format"),
		Programme: strings.TrimSpace(v.Get("programme")), Emerging: v.Get("emerging") != ""}
	d.Title, d.Format, d.Runtime, d.Programme, d.Emerging = v.Get("title"), in.Format, v.Get("runtime_minutes"), v.Get("programme"), in.Emerging
	d.Organisation = v.Get("organisation")
	if in.Title == "" {
		d.Errors["title"] = translate(lang, "productions.err_title")
	}
	known := false
	for _, f := range productionFormats {
		known = known || f == in.Format
	}
	if !known {
		d.Errors["format"] = translate(lang, "productions.err_format")
	}
	n, err := strconv.Atoi(strings.TrimSpace(d.Runtime))
	if err != nil || n < 1 || n > 1000 {
		d.Errors["runtime_minutes"] = translate(lang, "productions.err_runtime_minutes")
	}
	in.RuntimeMinutes = n

	countries, shares := v["origin_country"], v["origin_share"]
	d.Origins = nil
	var origins []booking.Origin
	filled := 0
	for i := 0; i < len(countries) && i < originRows; i++ {
		share := ""
		if i < len(shares) {
			share = strings.TrimSpace(shares[i])
		}
		country := strings.ToUpper(strings.TrimSpace(countries[i]))
		d.Origins = append(d.Origins, originRow{Country: countries[i], Share: share})
		if country != "" || share != "" {
			filled++
		}
	}
	for _, o := range d.Origins {
		country := strings.ToUpper(strings.TrimSpace(o.Country))
		if country == "" && o.Share == "" {
			continue
		}
		pct := 100.0
		if o.Share != "" || filled > 1 {
			p, err := strconv.ParseFloat(strings.ReplaceAll(o.Share, ",", "."), 64)
			if err != nil {
				d.Errors["origins"] = translate(lang, "productions.err_origins")
				continue
			}
			pct = p
		}
		origins = append(origins, booking.Origin{Country: country, SharePct: pct})
	}
	if len(origins) == 0 && d.Errors["origins"] == "" {
		d.Errors["origins"] = translate(lang, "productions.err_origins")
	}
	in.Origins = origins
	in.Deliverables, d.Deliverables.VFXShots = readDeliverables(lang, v, d.Errors)
	d.Deliverables.Value = in.Deliverables
	return in, origins
}

// productionRefusal puts a refused production in the form's words: the field it is
// about (empty when none), and why.
func (u *UI) productionRefusal(lang string, err error) (string, string) {
	var e *booking.Error
	errors.As(err, &e)
	code := booking.ErrorCode(err)
	switch code {
	case booking.EINTERNAL, booking.EUNAVAILABLE:
		return "", u.errorText(lang, err)
	case booking.EFORBIDDEN, booking.ENOTFOUND:
		return "", translate(lang, "error."+code)
	case booking.EPRECONDITION:
		return "", translate(lang, "productions.err_changed")
	}
	if e != nil {
		if f, _ := e.Details["field"].(string); f != "" {
			if key := "productions.err_" + f; hasMessage(key) {
				return f, translate(lang, key)
			}
		}
	}
	return "", translate(lang, "error."+code) + " " + booking.ErrorMessage(err)
}

// hasMessage reports whether the catalogs have key (English is the reference).
func hasMessage(key string) bool {
	_, ok := catalog.Lookup("en", key)
	return ok
}

func (u *UI) createProduction(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	a := actor(r)
	d := &productionFormData{Errors: map[string]string{}}
	if err := parseForm(w, r); err != nil {
		d.Error = translate(lang, "login.bad_form")
		u.renderProductionForm(w, r, http.StatusBadRequest, d)
		return
	}
	in, _ := readProductionForm(lang, r.PostForm, d)
	if a.Role != booking.RoleProducer {
		if in.OrganisationID = uuidOrNil(d.Organisation); in.OrganisationID == uuid.Nil {
			d.Errors["organisation"] = translate(lang, "productions.err_organisation")
		}
	}
	if len(d.Errors) > 0 {
		u.renderProductionForm(w, r, http.StatusUnprocessableEntity, d)
		return
	}
	p, err := u.Catalogue.CreateProduction(r.Context(), a, in)
	if err != nil {
		field, text := u.productionRefusal(lang, err)
		if field != "" {
			d.Errors[field] = text
		} else {
			d.Error = text
		}
		u.renderProductionForm(w, r, refusedStatus(err), d)
		return
	}
	msg := fmt.Sprintf(translate(lang, "productions.created"), p.Title)
	if p.RequestedProgramme != "" || p.RequestedEmerging {
		msg += " " + translate(lang, "productions.asked")
	}
	u.setFlash(w, r, "ok", msg)
	http.Redirect(w, r, "/productions#p-"+p.ID.String(), http.StatusSeeOther)
}

// editFormOf is the form showing a production as it is.
func editFormOf(lang string, p booking.Production) *productionFormData {
	d := &productionFormData{Edit: true, ID: p.ID.String(), Version: p.Version, Title: p.Title, Format: p.Format,
		Runtime: strconv.Itoa(p.RuntimeMinutes), Deliverables: deliverablesForm{Value: p.Deliverables}, Errors: map[string]string{}}
	for _, o := range p.Origins {
		d.Origins = append(d.Origins, originRow{Country: o.Country, Share: strconv.FormatFloat(o.SharePct, 'f', -1, 64)})
	}
	var granted []string
	if p.Programme != "" {
		granted = append(granted, p.Programme)
	}
	if p.Emerging {
		granted = append(granted, translate(lang, "productions.emerging"))
	}
	d.Membership = strings.Join(granted, " · ")
	return d
}

func (u *UI) editProduction(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	title := translate(lang, "productions.edit")
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		u.pageError(w, r, title, booking.Errorf(booking.ENOTFOUND, "No such production."))
		return
	}
	p, err := u.Catalogue.FindProduction(r.Context(), actor(r), id)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	u.renderProductionForm(w, r, http.StatusOK, editFormOf(lang, p))
}

func (u *UI) updateProduction(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	a := actor(r)
	title := translate(lang, "productions.edit")
	if err := parseForm(w, r); err != nil {
		u.pageError(w, r, title, booking.Errorf(booking.EINVALID, "The form is malformed."))
		return
	}
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		u.pageError(w, r, title, booking.Errorf(booking.ENOTFOUND, "No such production."))
		return
	}
	current, err := u.Catalogue.FindProduction(r.Context(), a, id)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	d := editFormOf(lang, current)
	version, verr := strconv.Atoi(r.PostFormValue("version"))
	in, origins := readProductionForm(lang, r.PostForm, d)
	if verr != nil {
		d.Error = translate(lang, "login.bad_form")
	}
	if len(d.Errors) > 0 || d.Error != "" {
		u.renderProductionForm(w, r, http.StatusUnprocessableEntity, d)
		return
	}
	patch := booking.ProductionPatch{Title: &in.Title, Format: &in.Format, RuntimeMinutes: &in.RuntimeMinutes, Origins: &origins,
		Deliverables: deliverablesPatch(in.Deliverables)}
	p, err := u.Catalogue.UpdateProduction(r.Context(), a, id, patch, &version)
	if err != nil {
		field, text := u.productionRefusal(lang, err)
		if booking.ErrorCode(err) == booking.EPRECONDITION {
			// Changed meanwhile: show it as it is now, to make the change again on it.
			if now, ferr := u.Catalogue.FindProduction(r.Context(), a, id); ferr == nil {
				d = editFormOf(lang, now)
			}
		}
		if field != "" {
			d.Errors[field] = text
		} else {
			d.Error = text
		}
		u.renderProductionForm(w, r, refusedStatus(err), d)
		return
	}
	u.setFlash(w, r, "ok", fmt.Sprintf(translate(lang, "productions.saved"), p.Title))
	http.Redirect(w, r, "/productions#p-"+p.ID.String(), http.StatusSeeOther)
}
