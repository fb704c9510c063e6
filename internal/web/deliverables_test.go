package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/posthub/posthub/internal/booking"
)

// TestProductionFormDeliverables: a producer gives a new film's deliverables in the
// production form (formats ticked, languages chosen) and they are stored as the API
// stores them; the list sums them up; a refused form (SDH without an original language,
// VFX shots that are not a number) says why in the field's words, keeps what was
// ticked and writes nothing; correcting the film changes the deliverables and keeps a
// language the form does not list by name (set through the API).
func TestProductionFormDeliverables(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := context.Background()
	c := a.client(t, "en")
	csrf := c.login(t, "producer")
	form := url.Values{"csrf_token": {csrf}, "title": {"Ndox Mi"}, "format": {"feature"}, "runtime_minutes": {"98"},
		"origin_country": {"SN", "", "", ""}, "origin_share": {"100", "", "", ""},
		"picture": {"hdr", "sdr"}, "sound": {"atmos", "5.1"}, "delivery": {"dcp"},
		"subtitle_languages": {"fr", "wo"}, "sdh": {"on"}, "vfx_shots": {"abc"}}

	// Refused twice, in words, with nothing written.
	res, body := c.do(t, "POST", "/productions", form)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Give the number of VFX shots as a whole number from 0 to 2000.") {
		t.Fatalf("VFX shots \"abc\": %d", res.StatusCode)
	}
	for _, id := range []string{"deliverable-picture-hdr", "deliverable-sound-atmos", "deliverable-subtitle_languages-wo", "deliverable-sdh"} {
		if !regexpChecked(body, id) {
			t.Errorf("the refused form forgot %s", id)
		}
	}
	form.Set("vfx_shots", "12")
	res, body = c.do(t, "POST", "/productions", form)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "SDH subtitles are in the original language: choose it.") ||
		!strings.Contains(body, `id="deliverable-sdh-error"`) {
		t.Fatalf("SDH without an original language: %d", res.StatusCode)
	}
	if ps, _ := a.db.ListProductions(ctx, a.actors["producer"]); slices.ContainsFunc(ps, func(p booking.Production) bool { return p.Title == "Ndox Mi" }) {
		t.Fatal("a refused production was written")
	}

	form.Set("original_language", "wo")
	if res, _ := c.do(t, "POST", "/productions", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("creating with deliverables: %d", res.StatusCode)
	}
	id := a.production(t, "Ndox Mi")
	p, err := a.db.FindProduction(ctx, a.actors["producer"], id)
	if err != nil {
		t.Fatal(err)
	}
	want := booking.Deliverables{Picture: []string{"sdr", "hdr"}, Sound: []string{"5.1", "atmos"}, Delivery: []string{"dcp"},
		OriginalLanguage: "wo", SubtitleLanguages: []string{"fr", "wo"}, DubLanguages: []string{}, SDH: true, VFXShots: 12}
	if !p.Deliverables.Equal(want) {
		t.Fatalf("stored %+v, want %+v", p.Deliverables, want)
	}
	_, list, _ := c.get(t, "/productions")
	if !strings.Contains(list, "SDR · HDR · 5.1 · Dolby Atmos · DCP (cinema) · subtitles French, Wolof · SDH · 12 VFX shots") {
		t.Errorf("the list does not sum up the deliverables")
	}

	// Through the API the film also gets German subtitles, which the form does not name.
	de := []string{"fr", "wo", "de"}
	if _, err := a.db.UpdateProduction(ctx, a.actors["producer"], id, booking.ProductionPatch{Deliverables: &booking.DeliverablesPatch{SubtitleLanguages: &de}}, nil); err != nil {
		t.Fatal(err)
	}
	p, _ = a.db.FindProduction(ctx, a.actors["producer"], id)
	_, page, token := c.get(t, "/productions/"+id.String()+"/edit")
	for _, id := range []string{"deliverable-picture-hdr", "deliverable-sound-atmos", "deliverable-delivery-dcp", "deliverable-subtitle_languages-de", "deliverable-sdh"} {
		if !regexpChecked(page, id) {
			t.Errorf("the edit form does not show %s ticked", id)
		}
	}
	// Corrected: no Atmos any more, dubbed into French; the rest as it was.
	edit := url.Values{"csrf_token": {token}, "version": {strconv.Itoa(p.Version)}, "title": {"Ndox Mi"}, "format": {"feature"}, "runtime_minutes": {"98"},
		"origin_country": {"SN", "", "", ""}, "origin_share": {"100", "", "", ""},
		"picture": {"sdr", "hdr"}, "sound": {"5.1"}, "delivery": {"dcp"}, "original_language": {"wo"},
		"subtitle_languages": {"fr", "wo", "de"}, "dub_languages": {"fr"}, "sdh": {"on"}, "vfx_shots": {"12"}}
	if res, _ := c.do(t, "POST", "/productions/"+id.String()+"/edit", edit); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("correcting the deliverables: %d", res.StatusCode)
	}
	p, _ = a.db.FindProduction(ctx, a.actors["producer"], id)
	want.Sound, want.SubtitleLanguages, want.DubLanguages = []string{"5.1"}, de, []string{"fr"}
	if !p.Deliverables.Equal(want) {
		t.Fatalf("after correcting %+v, want %+v", p.Deliverables, want)
	}
	// Dubbing into the original language is refused in words; nothing changes.
	edit.Set("version", strconv.Itoa(p.Version))
	edit["dub_languages"] = []string{"wo"}
	res, body = c.do(t, "POST", "/productions/"+id.String()+"/edit", edit)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "A film is not dubbed into its original language") {
		t.Fatalf("dubbing into the original language: %d", res.StatusCode)
	}
	if again, _ := a.db.FindProduction(ctx, a.actors["producer"], id); again.Version != p.Version || !again.Deliverables.Equal(want) {
		t.Fatalf("a refused correction changed the production: %+v", again.Deliverables)
	}
}

// regexpChecked says whether the page has the checkbox with the id, ticked.
func regexpChecked(body, id string) bool {
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return false
	}
	end := strings.Index(body[i:], ">")
	return end > 0 && strings.Contains(body[i:i+end], " checked")
}
