package web

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/posthub/posthub/internal/booking"
)

// formLanguages are the languages the forms offer by name (the hub's and its region's;
// a production's other ISO 639-1 codes, set through the API, are offered by code).
var formLanguages = []string{"fr", "ar", "wo", "en", "pt", "es", "sw", "ha", "bm", "ff", "ln", "am"}

// languageName is a language's name in the page's language, or its code.
func languageName(lang, code string) string {
	if key := "language." + code; hasMessage(key) {
		return translate(lang, key)
	}
	return code
}

// choice is one checkbox of a group.
type choice struct {
	ID, Name, Value, Label string
	Checked                bool
}

// choiceGroup is a group of checkboxes under a legend, with the reason it was
// refused, if it was.
type choiceGroup struct {
	Field, Legend, Error string
	Choices              []choice
}

// deliverablesForm is the production form's deliverables: what the film is delivered
// as and in which languages, which the plan's stages follow from.
type deliverablesForm struct {
	Value     booking.Deliverables
	VFXShots  string
	Groups    []choiceGroup
	Languages []kindOption // the original language's choices
}

// deliverableFormats name the formats' labels.
var deliverableFormats = []struct {
	Field  string
	Values []string
}{{"picture", booking.PictureFormats}, {"sound", booking.SoundFormats}, {"delivery", booking.DeliveryFormats}}

// fill builds the form's groups for the page's language from the values.
func (f *deliverablesForm) fill(lang string, errs map[string]string) {
	d := f.Value
	if f.VFXShots == "" && d.VFXShots > 0 {
		f.VFXShots = strconv.Itoa(d.VFXShots)
	}
	f.Groups = nil
	for _, g := range deliverableFormats {
		grp := choiceGroup{Field: g.Field, Legend: translate(lang, "deliverables."+g.Field), Error: errs["deliverables."+g.Field]}
		for _, v := range g.Values {
			id := "deliverable-" + g.Field + "-" + strings.ReplaceAll(v, ".", "")
			grp.Choices = append(grp.Choices, choice{ID: id, Name: g.Field, Value: v, Label: translate(lang, "deliverables."+g.Field+"."+strings.ReplaceAll(v, ".", "")), Checked: d.Has(g.Field, v)})
		}
		f.Groups = append(f.Groups, grp)
	}
	langs := slices.Clone(formLanguages)
	for _, c := range slices.Concat([]string{d.OriginalLanguage}, d.SubtitleLanguages, d.DubLanguages) {
		if c != "" && !slices.Contains(langs, c) {
			langs = append(langs, c)
		}
	}
	for _, field := range []string{"subtitle_languages", "dub_languages"} {
		have := d.SubtitleLanguages
		if field == "dub_languages" {
			have = d.DubLanguages
		}
		grp := choiceGroup{Field: field, Legend: translate(lang, "deliverables."+field), Error: errs["deliverables."+field]}
		for _, c := range langs {
			grp.Choices = append(grp.Choices, choice{ID: "deliverable-" + field + "-" + c, Name: field, Value: c, Label: languageName(lang, c), Checked: slices.Contains(have, c)})
		}
		f.Groups = append(f.Groups, grp)
	}
	f.Languages = nil
	for _, c := range langs {
		f.Languages = append(f.Languages, kindOption{Value: c, Label: languageName(lang, c)})
	}
}

// readDeliverables reads the form's deliverables, noting a field that does not read;
// the rules (the formats, SDH needs the original language…) are Normalize's.
func readDeliverables(lang string, v map[string][]string, errs map[string]string) (booking.Deliverables, string) {
	get := func(k string) string {
		if vs := v[k]; len(vs) > 0 {
			return strings.TrimSpace(vs[0])
		}
		return ""
	}
	d := booking.Deliverables{Picture: v["picture"], Sound: v["sound"], Delivery: v["delivery"], OriginalLanguage: get("original_language"),
		SubtitleLanguages: v["subtitle_languages"], DubLanguages: v["dub_languages"], SDH: get("sdh") != ""}
	vfx := get("vfx_shots")
	if vfx != "" {
		n, err := strconv.Atoi(vfx)
		if err != nil || n < 0 || n > booking.MaxVFXShots {
			errs["deliverables.vfx_shots"] = translate(lang, "productions.err_deliverables.vfx_shots")
		}
		d.VFXShots = n
	}
	return d, vfx
}

// patch is the whole of the form's deliverables as a change: the form shows them all.
func deliverablesPatch(d booking.Deliverables) *booking.DeliverablesPatch {
	return &booking.DeliverablesPatch{Picture: &d.Picture, Sound: &d.Sound, Delivery: &d.Delivery, OriginalLanguage: &d.OriginalLanguage,
		SubtitleLanguages: &d.SubtitleLanguages, DubLanguages: &d.DubLanguages, SDH: &d.SDH, VFXShots: &d.VFXShots}
}

// deliverablesSummary is a production's deliverables in a few words for a list.
func deliverablesSummary(lang string, d booking.Deliverables) string {
	var parts []string
	for _, g := range deliverableFormats {
		for _, v := range g.Values {
			if d.Has(g.Field, v) {
				parts = append(parts, translate(lang, "deliverables."+g.Field+"."+strings.ReplaceAll(v, ".", "")))
			}
		}
	}
	names := func(codes []string) string {
		var out []string
		for _, c := range codes {
			out = append(out, languageName(lang, c))
		}
		return strings.Join(out, ", ")
	}
	if len(d.SubtitleLanguages) > 0 {
		parts = append(parts, translate(lang, "deliverables.subtitles_short")+" "+names(d.SubtitleLanguages))
	}
	if len(d.DubLanguages) > 0 {
		parts = append(parts, translate(lang, "deliverables.dubs_short")+" "+names(d.DubLanguages))
	}
	if d.SDH {
		parts = append(parts, translate(lang, "deliverables.sdh_short"))
	}
	if d.VFXShots > 0 {
		parts = append(parts, fmt.Sprintf(translateN(lang, "deliverables.vfx_short", d.VFXShots), d.VFXShots))
	}
	return strings.Join(parts, " · ")
}
