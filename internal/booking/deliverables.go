package booking

import (
	"fmt"
	"slices"
	"strings"
)

// Deliverables are what a production must hand over at the end of its
// post-production: its picture and sound masters, the formats they are packaged in,
// and its languages. They drive the plan: a production with deliverables is planned
// on a pipeline derived from them (DerivedStages), whose stages and capability
// demands follow from what it delivers.
type Deliverables struct {
	// Picture: sdr, hdr, dolby_vision.
	Picture []string `json:"picture"`
	// Sound: stereo, 5.1, 7.1, atmos.
	Sound []string `json:"sound"`
	// Delivery formats: dcp, imf, broadcast, streaming.
	Delivery []string `json:"delivery"`
	// OriginalLanguage is the ISO 639-1 code of the production's language; "" for
	// none given.
	OriginalLanguage string `json:"original_language,omitempty"`
	// SubtitleLanguages and DubLanguages are ISO 639-1 codes (fr, wo, ar, en).
	SubtitleLanguages []string `json:"subtitle_languages"`
	DubLanguages      []string `json:"dub_languages"`
	// SDH asks for subtitles for the deaf and hard of hearing in the original
	// language.
	SDH bool `json:"sdh"`
	// VFXShots is how many visual-effects shots the hub does; 0 for none.
	VFXShots int `json:"vfx_shots"`
}

// The values deliverables take, in the order they are kept.
var (
	PictureFormats  = []string{"sdr", "hdr", "dolby_vision"}
	SoundFormats    = []string{"stereo", "5.1", "7.1", "atmos"}
	DeliveryFormats = []string{"dcp", "imf", "broadcast", "streaming"}
)

// Limits on a production's deliverables: a plan has at most 40 stages, and each
// subtitle language adds one, each dub language two.
const (
	MaxSubtitleLanguages = 10
	MaxDubLanguages      = 5
	MaxVFXShots          = 2000
)

// Any says whether any deliverable is given. A production without any is planned on
// its template as it stands; the original language alone changes nothing.
func (d Deliverables) Any() bool {
	return len(d.Picture) > 0 || len(d.Sound) > 0 || len(d.Delivery) > 0 || len(d.SubtitleLanguages) > 0 ||
		len(d.DubLanguages) > 0 || d.SDH || d.VFXShots > 0
}

// Has says whether one of the lists holds v.
func (d Deliverables) Has(field, v string) bool {
	switch field {
	case "picture":
		return slices.Contains(d.Picture, v)
	case "sound":
		return slices.Contains(d.Sound, v)
	case "delivery":
		return slices.Contains(d.Delivery, v)
	}
	return false
}

// deliverableError is the EUNPROCESSABLE error (422) for a field of the deliverables,
// named in details.field as deliverables.<field>.
func deliverableError(field, rule string) *Error {
	return &Error{Code: EUNPROCESSABLE, Message: "deliverables." + field + " " + rule + ".",
		Details: map[string]any{"field": "deliverables." + field}}
}

// Normalize checks the deliverables and returns them in their stored form: each value
// once, the lists of formats in their usual order, the languages in the order given.
// Values are taken as they are documented (lowercase, no spaces). EUNPROCESSABLE
// names the first field that breaks a rule.
func (d Deliverables) Normalize() (Deliverables, error) {
	var err error
	if d.Picture, err = normalizeSet("picture", d.Picture, PictureFormats); err != nil {
		return d, err
	}
	if d.Sound, err = normalizeSet("sound", d.Sound, SoundFormats); err != nil {
		return d, err
	}
	if d.Delivery, err = normalizeSet("delivery", d.Delivery, DeliveryFormats); err != nil {
		return d, err
	}
	if d.OriginalLanguage != "" && !IsLanguage(d.OriginalLanguage) {
		return d, deliverableError("original_language", "must be an ISO 639-1 language code such as fr, wo, ar or en")
	}
	if d.SubtitleLanguages, err = normalizeLanguages("subtitle_languages", d.SubtitleLanguages, MaxSubtitleLanguages); err != nil {
		return d, err
	}
	if d.DubLanguages, err = normalizeLanguages("dub_languages", d.DubLanguages, MaxDubLanguages); err != nil {
		return d, err
	}
	if d.OriginalLanguage != "" && slices.Contains(d.DubLanguages, d.OriginalLanguage) {
		return d, deliverableError("dub_languages", "must not include the original language")
	}
	if d.SDH && d.OriginalLanguage == "" {
		return d, deliverableError("sdh", "needs original_language: the SDH subtitles are in it")
	}
	if d.VFXShots < 0 || d.VFXShots > MaxVFXShots {
		return d, deliverableError("vfx_shots", fmt.Sprintf("must be 0 to %d", MaxVFXShots))
	}
	return d, nil
}

// normalizeSet checks that every value is one of allowed, with no more values than
// allowed has, and returns them in allowed's order, once each.
func normalizeSet(field string, vs, allowed []string) ([]string, error) {
	if len(vs) > len(allowed) {
		return nil, deliverableError(field, fmt.Sprintf("may name at most %d values", len(allowed)))
	}
	seen := map[string]bool{}
	for _, v := range vs {
		if !slices.Contains(allowed, v) {
			return nil, deliverableError(field, "must be among "+strings.Join(allowed, ", "))
		}
		seen[v] = true
	}
	out := []string{}
	for _, v := range allowed {
		if seen[v] {
			out = append(out, v)
		}
	}
	return out, nil
}

// normalizeLanguages checks ISO 639-1 codes, at most max of them as given, and keeps
// the first of each, in order.
func normalizeLanguages(field string, vs []string, max int) ([]string, error) {
	if len(vs) > max {
		return nil, deliverableError(field, fmt.Sprintf("may name at most %d languages", max))
	}
	out := []string{}
	for _, v := range vs {
		if !IsLanguage(v) {
			return nil, deliverableError(field, "must be ISO 639-1 language codes such as fr, wo, ar or en")
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// DeliverablesPatch changes some of a production's deliverables: the fields given
// replace the production's, an absent (nil) one stays, as a JSON merge patch does.
type DeliverablesPatch struct {
	Picture           *[]string `json:"picture"`
	Sound             *[]string `json:"sound"`
	Delivery          *[]string `json:"delivery"`
	OriginalLanguage  *string   `json:"original_language"`
	SubtitleLanguages *[]string `json:"subtitle_languages"`
	DubLanguages      *[]string `json:"dub_languages"`
	SDH               *bool     `json:"sdh"`
	VFXShots          *int      `json:"vfx_shots"`
}

// Apply returns d with the patch's fields, not yet normalized.
func (p DeliverablesPatch) Apply(d Deliverables) Deliverables {
	set(&d.Picture, p.Picture)
	set(&d.Sound, p.Sound)
	set(&d.Delivery, p.Delivery)
	set(&d.OriginalLanguage, p.OriginalLanguage)
	set(&d.SubtitleLanguages, p.SubtitleLanguages)
	set(&d.DubLanguages, p.DubLanguages)
	set(&d.SDH, p.SDH)
	set(&d.VFXShots, p.VFXShots)
	return d
}

// Equal says whether two normalized deliverables are the same.
func (d Deliverables) Equal(o Deliverables) bool {
	return slices.Equal(d.Picture, o.Picture) && slices.Equal(d.Sound, o.Sound) && slices.Equal(d.Delivery, o.Delivery) &&
		d.OriginalLanguage == o.OriginalLanguage && slices.Equal(d.SubtitleLanguages, o.SubtitleLanguages) &&
		slices.Equal(d.DubLanguages, o.DubLanguages) && d.SDH == o.SDH && d.VFXShots == o.VFXShots
}

// IsLanguage says whether code is an ISO 639-1 language code (two lowercase letters
// of the standard's list).
func IsLanguage(code string) bool {
	if len(code) != 2 {
		return false
	}
	return strings.Contains(iso6391, " "+code+" ")
}

// iso6391 lists the ISO 639-1 codes (Library of Congress's registration authority
// list), space-separated and with a space at each end.
const iso6391 = " aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy" +
	" da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz" +
	" ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv" +
	" mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu" +
	" rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty" +
	" ug uk ur uz ve vi vo wa wo xh yi yo za zh zu "
