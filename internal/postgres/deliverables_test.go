package postgres_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// TestDeliverablesDriveThePlan (issue 19): a Wolof feature delivered in Atmos and HDR
// with French and Wolof subtitles and a DCP is planned on its derived pipeline: the
// mix on the Atmos stage with the Atmos mixer, the grade on an HDR suite with an HDR
// colourist, a subtitling stage per language on an editor who works in it, and the
// deliverables QC after everything.
func TestDeliverablesDriveThePlan(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	producer := f.actors["producer"]
	p, err := f.db.CreateProduction(f.ctx, producer, booking.ProductionInput{Title: "Ndox Mi", Format: "feature", RuntimeMinutes: 98,
		Origins: []booking.Origin{{Country: "SN", SharePct: 100}},
		Deliverables: booking.Deliverables{Picture: []string{"hdr", "sdr"}, Sound: []string{"atmos", "5.1", "atmos"}, Delivery: []string{"dcp"},
			OriginalLanguage: "wo", SubtitleLanguages: []string{"fr", "wo"}}})
	if err != nil {
		t.Fatal(err)
	}
	d := p.Deliverables
	if !slices.Equal(d.Picture, []string{"sdr", "hdr"}) || !slices.Equal(d.Sound, []string{"5.1", "atmos"}) || !slices.Equal(d.Delivery, []string{"dcp"}) ||
		d.OriginalLanguage != "wo" || !slices.Equal(d.SubtitleLanguages, []string{"fr", "wo"}) || d.DubLanguages == nil || d.SDH || d.VFXShots != 0 {
		t.Fatalf("stored deliverables: %+v", d)
	}
	if got, err := f.db.FindProduction(f.ctx, producer, p.ID); err != nil || !got.Deliverables.Equal(d) {
		t.Fatalf("found: %v %+v", err, got.Deliverables)
	}
	site := f.site(t, "casablanca")
	plan, err := f.db.ProposePlan(f.ctx, producer, booking.PlanRequest{ProductionID: p.ID, SiteID: site, Template: "feature",
		EarliestStart: casa("2027-03-01", 9, 0), Seed: 1})
	if err != nil || !plan.Placed {
		t.Fatalf("plan: %v placed=%v unmet=%v", err, plan.Placed, plan.Unmet)
	}
	for _, s := range plan.Stages {
		var names []string
		for _, r := range s.Resources {
			names = append(names, r.Name)
		}
		t.Logf("%-16s %6.1fh %s → %s %v", s.ID, s.Hours, s.StartLocal, s.EndLocal, names)
	}
	caps := map[uuid.UUID][]string{}
	rows, _ := f.db.Pool.Query(f.ctx, `SELECT id, capabilities FROM resources`)
	for rows.Next() {
		var id uuid.UUID
		var c []string
		if err := rows.Scan(&id, &c); err != nil {
			t.Fatal(err)
		}
		caps[id] = c
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	on := func(id string) map[string]booking.PlanResource {
		t.Helper()
		i := slices.IndexFunc(plan.Stages, func(s booking.PlannedStage) bool { return s.ID == id })
		if i < 0 {
			t.Fatalf("no stage %s", id)
		}
		out := map[string]booking.PlanResource{}
		for _, r := range plan.Stages[i].Resources {
			out[r.Kind] = r
		}
		return out
	}
	for _, id := range []string{"premix", "mix"} {
		r := on(id)
		if r["mix_stage"].Name != "Mix Stage A" || r["mixer"].Name != "Rachid Amrani" {
			t.Errorf("%s on %+v, want Mix Stage A with Rachid Amrani", id, r)
		}
	}
	for _, id := range []string{"grade", "trim"} {
		r := on(id)
		if !slices.Contains(caps[r["grading_suite"].ID], "hdr") || !slices.Contains(caps[r["colourist"].ID], "hdr") {
			t.Errorf("%s on %+v, not HDR", id, r)
		}
	}
	subtitles := 0
	for _, s := range plan.Stages {
		if len(s.ID) > len("subtitles_") && s.ID[:len("subtitles_")] == "subtitles_" {
			subtitles++
		}
	}
	if subtitles != 2 {
		t.Errorf("%d subtitling stages, want one per language", subtitles)
	}
	for _, lang := range []string{"fr", "wo"} {
		r := on("subtitles_" + lang)["editor"]
		if !slices.Contains(caps[r.ID], "lang:"+lang) {
			t.Errorf("subtitles in %s by %s (%v)", lang, r.Name, caps[r.ID])
		}
	}
	last := plan.Stages[len(plan.Stages)-1]
	if last.ID != "deliverables_qc" {
		t.Fatalf("last stage %s", last.ID)
	}
	for _, s := range plan.Stages[:len(plan.Stages)-1] {
		if s.End.After(last.Start) {
			t.Errorf("%s ends at %s, after the QC starts at %s", s.ID, s.End, last.Start)
		}
	}

	// The same production without deliverables is planned on the template as it is.
	none := []string{}
	f0 := 0
	fl := false
	empty := ""
	if _, err := f.db.UpdateProduction(f.ctx, producer, p.ID, booking.ProductionPatch{Deliverables: &booking.DeliverablesPatch{
		Picture: &none, Sound: &none, Delivery: &none, SubtitleLanguages: &none, DubLanguages: &none, SDH: &fl, VFXShots: &f0, OriginalLanguage: &empty}}, nil); err != nil {
		t.Fatal(err)
	}
	old, err := f.db.ProposePlan(f.ctx, producer, booking.PlanRequest{ProductionID: p.ID, SiteID: site, Template: "feature",
		EarliestStart: casa("2027-03-01", 9, 0), Seed: 1})
	want, _ := booking.TemplateStages("feature", 98, nil)
	if err != nil || len(old.Stages) != len(want) {
		t.Fatalf("plan without deliverables: %v, %d stages, want %d", err, len(old.Stages), len(want))
	}
}

// TestUpdateProductionDeliverables: PATCH changes the deliverables field by field,
// refuses a bad one with EUNPROCESSABLE naming it and changes nothing then.
func TestUpdateProductionDeliverables(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	producer := f.actors["producer"]
	id := f.prod["producer"]
	before, err := f.db.FindProduction(f.ctx, producer, id)
	if err != nil {
		t.Fatal(err)
	}
	if before.Deliverables.Any() || before.Deliverables.Picture == nil {
		t.Fatalf("a demo production's deliverables: %+v", before.Deliverables)
	}
	subs := []string{"fr", "ar"}
	orig := "wo"
	p, err := f.db.UpdateProduction(f.ctx, producer, id, booking.ProductionPatch{Deliverables: &booking.DeliverablesPatch{SubtitleLanguages: &subs, OriginalLanguage: &orig}}, nil)
	if err != nil || !slices.Equal(p.Deliverables.SubtitleLanguages, subs) || p.Deliverables.OriginalLanguage != "wo" || p.Version != before.Version+1 {
		t.Fatalf("patched: %v %+v", err, p)
	}
	sound := []string{"atmos"}
	p, err = f.db.UpdateProduction(f.ctx, producer, id, booking.ProductionPatch{Deliverables: &booking.DeliverablesPatch{Sound: &sound}}, nil)
	if err != nil || !slices.Equal(p.Deliverables.Sound, sound) || !slices.Equal(p.Deliverables.SubtitleLanguages, subs) {
		t.Fatalf("the subtitles did not stay: %v %+v", err, p.Deliverables)
	}
	// The same again changes nothing, not even the version.
	if again, err := f.db.UpdateProduction(f.ctx, producer, id, booking.ProductionPatch{Deliverables: &booking.DeliverablesPatch{Sound: &sound}}, nil); err != nil || again.Version != p.Version {
		t.Fatalf("a no-op patch: %v %d, was %d", err, again.Version, p.Version)
	}
	dubs := []string{"wo"}
	sdh := true
	noOrig := ""
	shots := -3
	bad := []string{"klingon"}
	for field, patch := range map[string]booking.DeliverablesPatch{
		"deliverables.dub_languages":      {DubLanguages: &dubs},
		"deliverables.sdh":                {SDH: &sdh, OriginalLanguage: &noOrig},
		"deliverables.vfx_shots":          {VFXShots: &shots},
		"deliverables.picture":            {Picture: &bad},
		"deliverables.subtitle_languages": {SubtitleLanguages: &bad},
	} {
		_, err := f.db.UpdateProduction(f.ctx, producer, id, booking.ProductionPatch{Deliverables: &patch}, nil)
		var e *booking.Error
		if !errors.As(err, &e) || e.Code != booking.EUNPROCESSABLE || e.Details["field"] != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	after, _ := f.db.FindProduction(f.ctx, producer, id)
	if after.Version != p.Version || !after.Deliverables.Equal(p.Deliverables) {
		t.Errorf("a refused patch changed the production: %+v", after)
	}
	// Another company's production answers not found before its deliverables are read.
	if _, err := f.db.UpdateProduction(f.ctx, f.actors["producer_other"], id, booking.ProductionPatch{Deliverables: &booking.DeliverablesPatch{VFXShots: &shots}}, nil); booking.ErrorCode(err) != booking.ENOTFOUND {
		t.Errorf("another company: %v", err)
	}
}

// TestVFXStageIsPlacedOnTheDemoHub: a documentary with VFX shots has a visual-effects
// stage after picture lock, sized by its shots, and the demo hub has someone to do it.
func TestVFXStageIsPlacedOnTheDemoHub(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	producer := f.actors["producer"]
	p, err := f.db.CreateProduction(f.ctx, producer, booking.ProductionInput{Title: "Les Oiseaux de Saint-Louis", Format: "documentary", RuntimeMinutes: 80,
		Origins: []booking.Origin{{Country: "SN", SharePct: 100}}, Deliverables: booking.Deliverables{Delivery: []string{"streaming"}, VFXShots: 6}})
	if err != nil {
		t.Fatal(err)
	}
	site := f.site(t, "casablanca")
	plan, err := f.db.ProposePlan(f.ctx, producer, booking.PlanRequest{ProductionID: p.ID, SiteID: site, Template: "documentary",
		EarliestStart: casa("2027-03-01", 9, 0), Seed: 1})
	if err != nil || !plan.Placed {
		t.Fatalf("plan: %v placed=%v unmet=%v", err, plan.Placed, plan.Unmet)
	}
	i := slices.IndexFunc(plan.Stages, func(s booking.PlannedStage) bool { return s.ID == "vfx" })
	if i < 0 {
		t.Fatal("no visual-effects stage")
	}
	vfx := plan.Stages[i]
	if len(vfx.Resources) != 1 || vfx.Resources[0].Kind != "vfx_artist" || vfx.Hours != 8+6*12 {
		t.Fatalf("the VFX stage: %.1f h on %+v", vfx.Hours, vfx.Resources)
	}
	for _, s := range plan.Stages {
		if s.ID == "picture_lock" && s.End.After(vfx.Start) {
			t.Errorf("VFX starts %s, before picture lock ends %s", vfx.Start, s.End)
		}
	}
}
