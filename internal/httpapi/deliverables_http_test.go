package httpapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

type templateListing struct {
	Items []struct {
		Name    string              `json:"name"`
		Stages  []booking.StageSpec `json:"stages"`
		Derived bool                `json:"derived"`
		Basis   map[string]string   `json:"basis"`
	} `json:"items"`
	ProductionID *uuid.UUID        `json:"production_id"`
	Sources      map[string]string `json:"sources"`
}

// TestProductionDeliverablesAndDerivedPlan (issue 19): a production's deliverables
// are set on creation and by PATCH (a bad one answers 422 naming the field), GET
// /api/v1/plan-templates?production_id= shows the stages derived from them, and the
// plan made from the template puts the Atmos mix, the HDR grade and each language's
// subtitles on resources that can do them, the deliverables QC last.
func TestProductionDeliverablesAndDerivedPlan(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, _, _ := siteAndResources(t, b)
	tok := b.tokens["producer"]
	p := decode[booking.Production](t, b.do(t, "POST", "/api/v1/productions", tok, map[string]any{
		"title": "Ndox Mi", "format": "feature", "runtime_minutes": 98, "origins": []map[string]any{{"country": "SN", "share_pct": 100}},
		"deliverables": map[string]any{"picture": []string{"hdr"}, "original_language": "wo"}}), 201)
	if !slices.Equal(p.Deliverables.Picture, []string{"hdr"}) || p.Deliverables.OriginalLanguage != "wo" || p.Deliverables.Sound == nil {
		t.Fatalf("created: %+v", p.Deliverables)
	}
	path := "/api/v1/productions/" + p.ID.String()

	// Bad deliverables: 422 naming the field, nothing changed.
	for field, body := range map[string]map[string]any{
		"deliverables.sound":              {"sound": []string{"mono"}},
		"deliverables.subtitle_languages": {"subtitle_languages": []string{"fr", "xx"}},
		"deliverables.dub_languages":      {"dub_languages": []string{"wo"}},
		"deliverables.sdh":                {"sdh": true, "original_language": ""},
		"deliverables.original_language":  {"original_language": "wol"},
	} {
		pr := problem(t, b.do(t, "PATCH", path, tok, map[string]any{"deliverables": body}), 422, booking.EUNPROCESSABLE)
		if pr.Details["field"] != field {
			t.Errorf("%v: details %v, want field %s", body, pr.Details, field)
		}
	}
	pr := problem(t, b.do(t, "POST", "/api/v1/productions", tok, map[string]any{
		"title": "Sans livrables", "format": "short", "runtime_minutes": 12, "origins": []map[string]any{{"country": "SN", "share_pct": 100}},
		"deliverables": map[string]any{"delivery": []string{"vhs"}}}), 422, booking.EUNPROCESSABLE)
	if pr.Details["field"] != "deliverables.delivery" {
		t.Errorf("create: details %v", pr.Details)
	}
	if got := decode[booking.Production](t, b.do(t, "GET", path, tok, nil), 200); got.Version != p.Version {
		t.Fatalf("a refused PATCH changed the production: version %d, was %d", got.Version, p.Version)
	}
	// The rest of the deliverables, field by field: the picture stays.
	p = decode[booking.Production](t, b.do(t, "PATCH", path, tok, map[string]any{"deliverables": map[string]any{
		"sound": []string{"5.1", "atmos"}, "delivery": []string{"dcp"}, "subtitle_languages": []string{"fr", "wo"}}}), 200)
	if d := p.Deliverables; !slices.Equal(d.Picture, []string{"hdr"}) || !slices.Equal(d.Sound, []string{"5.1", "atmos"}) ||
		!slices.Equal(d.SubtitleLanguages, []string{"fr", "wo"}) || d.OriginalLanguage != "wo" {
		t.Fatalf("patched: %+v", d)
	}

	// The derived template for the production.
	tl := decode[templateListing](t, b.do(t, "GET", "/api/v1/plan-templates?production_id="+p.ID.String(), tok, nil), 200)
	if tl.ProductionID == nil || *tl.ProductionID != p.ID || len(tl.Sources) == 0 {
		t.Fatalf("listing: %+v", tl)
	}
	var feature []booking.StageSpec
	for _, it := range tl.Items {
		if it.Name == "feature" {
			feature = it.Stages
			if !it.Derived || it.Basis["offline_edit"] == "" {
				t.Errorf("feature template not derived: %+v", it)
			}
		}
	}
	stage := func(st []booking.StageSpec, id string) booking.StageSpec {
		t.Helper()
		i := slices.IndexFunc(st, func(s booking.StageSpec) bool { return s.ID == id })
		if i < 0 {
			t.Fatalf("no stage %s", id)
		}
		return st[i]
	}
	if mix := stage(feature, "mix"); !slices.Contains(mix.Demands[0].Capabilities, "dolby_atmos") || !slices.Contains(mix.Demands[1].Capabilities, "dolby_atmos") {
		t.Errorf("derived mix: %+v", mix.Demands)
	}
	if sub := stage(feature, "subtitles_wo"); !slices.Equal(sub.Demands[0].Capabilities, []string{"lang:wo"}) {
		t.Errorf("derived Wolof subtitles: %+v", sub.Demands)
	}
	if feature[len(feature)-1].ID != "deliverables_qc" {
		t.Errorf("derived feature ends with %s", feature[len(feature)-1].ID)
	}
	// Its runtime by default; runtime_minutes overrides it, and longer is longer.
	longer := decode[templateListing](t, b.do(t, "GET", "/api/v1/plan-templates?runtime_minutes=140&production_id="+p.ID.String(), tok, nil), 200)
	for _, it := range longer.Items {
		if it.Name == "feature" && stage(it.Stages, "grade").Hours <= stage(feature, "grade").Hours {
			t.Errorf("a 140-minute grade is not longer than a 98-minute one")
		}
	}
	// Without a production, the templates as they are.
	plain := decode[templateListing](t, b.do(t, "GET", "/api/v1/plan-templates", tok, nil), 200)
	for _, it := range plain.Items {
		if it.Derived || it.Basis != nil || slices.ContainsFunc(it.Stages, func(s booking.StageSpec) bool { return strings.HasPrefix(s.ID, "subtitles_") }) {
			t.Errorf("plain template %s derived", it.Name)
		}
	}
	// Another company's production is not found; a malformed id is a bad request.
	problem(t, b.do(t, "GET", "/api/v1/plan-templates?production_id="+p.ID.String(), b.tokens["producer_other"], nil), 404, booking.ENOTFOUND)
	problem(t, b.do(t, "GET", "/api/v1/plan-templates?production_id=nope", tok, nil), 400, booking.EINVALID)

	// The plan from the template.
	plan := decode[booking.Plan](t, b.do(t, "POST", "/api/v1/plans", tok, map[string]any{"production_id": p.ID, "site_id": site, "template": "feature",
		"skip": []string{"offline_edit"}, "earliest_start": "2027-03-01T09:00:00Z", "seed": 4}), 201)
	if !plan.Placed {
		t.Fatalf("plan not placed: %v", plan.Unmet)
	}
	checkPlan(t, b, plan)
	on := map[string]map[string]string{}
	for _, s := range plan.Stages {
		on[s.ID] = map[string]string{}
		for _, r := range s.Resources {
			on[s.ID][r.Kind] = r.Name
		}
	}
	if on["mix"]["mix_stage"] != "Mix Stage A" || on["mix"]["mixer"] != "Rachid Amrani" {
		t.Errorf("mix on %v", on["mix"])
	}
	if on["grade"]["grading_suite"] != "Grading Suite 1 — Zellige" || on["grade"]["colourist"] != "Yasmine El Alami" {
		t.Errorf("grade on %v", on["grade"])
	}
	if on["subtitles_wo"]["editor"] == "" || on["subtitles_fr"]["editor"] == "" {
		t.Errorf("subtitles on %v and %v", on["subtitles_fr"], on["subtitles_wo"])
	}
	last := plan.Stages[len(plan.Stages)-1]
	for _, s := range plan.Stages[:len(plan.Stages)-1] {
		if last.ID != "deliverables_qc" || s.End.After(last.Start) {
			t.Errorf("%s ends after the last stage %s starts", s.ID, last.ID)
		}
	}
}
