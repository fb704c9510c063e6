package booking

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// atmosHDR is a Wolof feature in Atmos and HDR with French and Arabic subtitles and a DCP.
var atmosHDR = Deliverables{Picture: []string{"sdr", "hdr"}, Sound: []string{"5.1", "atmos"}, Delivery: []string{"dcp"},
	OriginalLanguage: "wo", SubtitleLanguages: []string{"fr", "ar"}, DubLanguages: []string{}}

func stageByID(st []StageSpec, id string) (StageSpec, bool) {
	i := slices.IndexFunc(st, func(s StageSpec) bool { return s.ID == id })
	if i < 0 {
		return StageSpec{}, false
	}
	return st[i], true
}

func demandOf(s StageSpec, kind string) (Demand, bool) {
	i := slices.IndexFunc(s.Demands, func(d Demand) bool { return d.Kind == kind })
	if i < 0 {
		return Demand{}, false
	}
	return s.Demands[i], true
}

// ancestors are the stages s follows, directly or not.
func ancestors(st []StageSpec, id string) map[string]bool {
	out := map[string]bool{}
	var walk func(string)
	walk = func(id string) {
		s, _ := stageByID(st, id)
		for _, l := range s.After {
			if !out[l.From] {
				out[l.From] = true
				walk(l.From)
			}
		}
	}
	walk(id)
	return out
}

func TestDerivedStagesFollowDeliverables(t *testing.T) {
	st, err := DerivedStages("feature", 98, atmosHDR, nil)
	if err != nil {
		t.Fatal(err)
	}
	need := func(id, kind string, caps ...string) StageSpec {
		t.Helper()
		s, ok := stageByID(st, id)
		if !ok {
			t.Fatalf("no stage %s in %v", id, ids(st))
		}
		d, ok := demandOf(s, kind)
		if !ok {
			t.Fatalf("stage %s does not demand a %s: %+v", id, kind, s.Demands)
		}
		for _, c := range caps {
			if !slices.Contains(d.Capabilities, c) {
				t.Fatalf("stage %s's %s lacks %s: %v", id, kind, c, d.Capabilities)
			}
		}
		return s
	}
	for _, id := range []string{"premix", "mix", "m_and_e"} {
		need(id, "mix_stage", "dolby_atmos")
		need(id, "mixer", "dolby_atmos")
	}
	for _, id := range []string{"grade", "trim"} {
		need(id, "grading_suite", "hdr")
		need(id, "colourist", "hdr")
	}
	need("subtitles_fr", "editor", "lang:fr")
	need("subtitles_ar", "editor", "lang:ar")
	need("dcp", "dcp_mastering", "dcp")
	for _, id := range []string{"offline_edit", "picture_lock", "conform", "sound_edit", "adr", "foley"} {
		need(id, st[slices.IndexFunc(st, func(s StageSpec) bool { return s.ID == id })].Demands[0].Kind)
	}
	// Not asked for: no VFX, dubs, SDH, IMF.
	for _, id := range []string{"vfx", "dub_fr", "sdh", "imf", "broadcast_master", "streaming_master"} {
		if _, ok := stageByID(st, id); ok {
			t.Errorf("stage %s was not asked for", id)
		}
	}
	// The QC is last and follows everything.
	last := st[len(st)-1]
	if last.ID != "deliverables_qc" {
		t.Fatalf("last stage %s", last.ID)
	}
	before := ancestors(st, last.ID)
	for _, s := range st[:len(st)-1] {
		if !before[s.ID] {
			t.Errorf("QC does not follow %s", s.ID)
		}
	}
	// The DCP follows the subtitles (its version files) and both picture and sound.
	dcpAfter := ancestors(st, "dcp")
	for _, id := range []string{"subtitles_fr", "subtitles_ar", "trim", "mix", "m_and_e"} {
		if !dcpAfter[id] {
			t.Errorf("dcp does not follow %s", id)
		}
	}
	// Atmos makes the mixes longer than the same production's 5.1 mix.
	plain := atmosHDR
	plain.Sound = []string{"5.1"}
	st51, _ := DerivedStages("feature", 98, plain, nil)
	a, _ := stageByID(st, "mix")
	b, _ := stageByID(st51, "mix")
	if a.Hours <= b.Hours {
		t.Errorf("Atmos final mix %vh, 5.1 %vh", a.Hours, b.Hours)
	}
	if d, _ := demandOf(b, "mix_stage"); slices.Contains(d.Capabilities, "dolby_atmos") {
		t.Errorf("a 5.1 mix demands Atmos")
	}
}

func ids(st []StageSpec) []string {
	var out []string
	for _, s := range st {
		out = append(out, s.ID)
	}
	return out
}

func TestDerivedStagesScaleWithRuntimeAndFormat(t *testing.T) {
	short, _ := DerivedStages("feature", 90, atmosHDR, nil)
	long, _ := DerivedStages("feature", 120, atmosHDR, nil)
	if len(short) != len(long) {
		t.Fatalf("%d stages for 90 min, %d for 120", len(short), len(long))
	}
	for i := range short {
		if long[i].Hours <= short[i].Hours {
			t.Errorf("stage %s: %vh at 120 min, %vh at 90", short[i].ID, long[i].Hours, short[i].Hours)
		}
	}
	// Durations in the range of practice: a 98-minute feature's offline edit is 10 to
	// 20 forty-hour weeks, its Atmos premixes and final mix several weeks.
	st, _ := DerivedStages("feature", 98, atmosHDR, nil)
	off, _ := stageByID(st, "offline_edit")
	if off.Hours < 400 || off.Hours > 800 {
		t.Errorf("offline edit %vh", off.Hours)
	}
	pre, _ := stageByID(st, "premix")
	mix, _ := stageByID(st, "mix")
	if weeks := (pre.Hours + mix.Hours) / 40; weeks < 4 || weeks > 8 {
		t.Errorf("Atmos premixes and mix %.1f weeks", weeks)
	}
	// A series episode of the same runtime is shorter work than a feature's.
	ep, _ := DerivedStages("series_episode", 98, atmosHDR, nil)
	epOff, _ := stageByID(ep, "offline_edit")
	if epOff.Hours >= off.Hours {
		t.Errorf("episode offline %vh, feature %vh", epOff.Hours, off.Hours)
	}
	// Every stage is at most 2000 hours, even at the longest runtime.
	huge := atmosHDR
	huge.VFXShots = MaxVFXShots
	for _, f := range TemplateNames() {
		st, err := DerivedStages(f, 1000, huge, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if s.Hours <= 0 || s.Hours > 2000 || s.Hours*2 != float64(int(s.Hours*2)) {
				t.Errorf("%s %s: %vh", f, s.ID, s.Hours)
			}
		}
	}
}

func TestDerivedStagesLanguagesVFXAndSkip(t *testing.T) {
	d := Deliverables{Delivery: []string{"imf", "broadcast"}, OriginalLanguage: "fr", SubtitleLanguages: []string{"en"},
		DubLanguages: []string{"wo", "ar"}, SDH: true, VFXShots: 10}
	st, err := DerivedStages("documentary", 80, d, []string{"offline_edit", "picture_lock"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"vfx", "dub_wo", "dub_ar", "dub_mix_wo", "dub_mix_ar", "sdh", "subtitles_en", "imf", "broadcast_master", "m_and_e"} {
		if _, ok := stageByID(st, id); !ok {
			t.Errorf("no stage %s in %v", id, ids(st))
		}
	}
	if _, ok := stageByID(st, "adr"); ok {
		t.Error("a documentary has no ADR stage")
	}
	dub, _ := stageByID(st, "dub_wo")
	if d, _ := demandOf(dub, "sound_editor"); !slices.Equal(d.Capabilities, []string{"lang:wo"}) {
		t.Errorf("dub_wo's sound editor: %v", d.Capabilities)
	}
	sdh, _ := stageByID(st, "sdh")
	if d, _ := demandOf(sdh, "editor"); !slices.Equal(d.Capabilities, []string{"lang:fr"}) {
		t.Errorf("sdh's editor: %v", d.Capabilities)
	}
	if a := ancestors(st, "dub_mix_ar"); !a["dub_ar"] || !a["m_and_e"] {
		t.Errorf("dub_mix_ar follows %v", a)
	}
	vfx, _ := stageByID(st, "vfx")
	if vfx.Hours != 8+12*10 {
		t.Errorf("vfx %vh", vfx.Hours)
	}
	// The skipped stages are gone, and nothing follows them.
	for _, s := range st {
		if s.ID == "offline_edit" || s.ID == "picture_lock" {
			t.Fatalf("skipped stage %s kept", s.ID)
		}
		for _, l := range s.After {
			if l.From == "offline_edit" || l.From == "picture_lock" {
				t.Errorf("%s follows skipped %s", s.ID, l.From)
			}
		}
	}
	// Conform followed picture lock and the VFX: it still follows the VFX.
	if a := ancestors(st, "conform"); !a["vfx"] {
		t.Errorf("conform follows %v", a)
	}
	// The QC counts two masters.
	qc, _ := stageByID(st, "deliverables_qc")
	one, _ := DerivedStages("documentary", 80, Deliverables{Delivery: []string{"imf"}, OriginalLanguage: "fr", SubtitleLanguages: []string{"en"},
		DubLanguages: []string{"wo", "ar"}, SDH: true, VFXShots: 10}, nil)
	qc1, _ := stageByID(one, "deliverables_qc")
	if qc.Hours <= qc1.Hours {
		t.Errorf("QC of two masters %vh, of one %vh", qc.Hours, qc1.Hours)
	}
	if len(st) > 40 {
		t.Errorf("%d stages", len(st))
	}
}

func TestPipelineStagesKeepTemplatesWithoutDeliverables(t *testing.T) {
	for _, n := range TemplateNames() {
		want, err := TemplateStages(n, 98, []string{"offline_edit"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := PipelineStages(n, 98, Deliverables{OriginalLanguage: "fr"}, []string{"offline_edit"})
		if err != nil || len(got) != len(want) {
			t.Fatalf("%s: %v, %d stages, want %d", n, err, len(got), len(want))
		}
		for i := range want {
			if got[i].ID != want[i].ID || got[i].Hours != want[i].Hours {
				t.Errorf("%s stage %d: %+v, want %+v", n, i, got[i], want[i])
			}
		}
	}
	// The feature template as it was: a 98-minute feature's offline edit is 158 hours.
	st, _ := PipelineStages("feature", 98, Deliverables{}, nil)
	if st[0].ID != "offline_edit" || st[0].Hours != 158 {
		t.Errorf("feature template: %+v", st[0])
	}
	if _, err := PipelineStages("opera", 98, atmosHDR, nil); ErrorCode(err) != EINVALID {
		t.Errorf("unknown template: %v", err)
	}
}

func TestDeliverablesNormalize(t *testing.T) {
	d, err := Deliverables{Picture: []string{"hdr", "sdr", "hdr"}, Sound: []string{"atmos", "5.1"}, SubtitleLanguages: []string{"wo", "fr", "wo"}}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Picture, []string{"sdr", "hdr"}) || !slices.Equal(d.Sound, []string{"5.1", "atmos"}) ||
		!slices.Equal(d.SubtitleLanguages, []string{"wo", "fr"}) || d.Delivery == nil || d.DubLanguages == nil {
		t.Fatalf("normalized: %+v", d)
	}
	bad := []struct {
		d     Deliverables
		field string
	}{
		{Deliverables{Picture: []string{"4k"}}, "deliverables.picture"},
		{Deliverables{Sound: []string{"Atmos"}}, "deliverables.sound"},
		{Deliverables{Delivery: []string{"dvd"}}, "deliverables.delivery"},
		{Deliverables{OriginalLanguage: "fra"}, "deliverables.original_language"},
		{Deliverables{SubtitleLanguages: []string{"fr", "xx"}}, "deliverables.subtitle_languages"},
		{Deliverables{SubtitleLanguages: []string{"FR"}}, "deliverables.subtitle_languages"},
		{Deliverables{SubtitleLanguages: strings.Fields("fr en ar wo es de it pt nl sv da")}, "deliverables.subtitle_languages"},
		{Deliverables{DubLanguages: []string{"zz"}}, "deliverables.dub_languages"},
		{Deliverables{OriginalLanguage: "fr", DubLanguages: []string{"fr"}}, "deliverables.dub_languages"},
		{Deliverables{SDH: true}, "deliverables.sdh"},
		{Deliverables{VFXShots: -1}, "deliverables.vfx_shots"},
		{Deliverables{VFXShots: MaxVFXShots + 1}, "deliverables.vfx_shots"},
	}
	for _, c := range bad {
		_, err := c.d.Normalize()
		var e *Error
		if !errors.As(err, &e) || e.Code != EUNPROCESSABLE || e.Details["field"] != c.field {
			t.Errorf("%+v: %v, want 422 naming %s", c.d, err, c.field)
		}
	}
	for _, c := range []string{"fr", "wo", "ar", "en", "zu"} {
		if !IsLanguage(c) {
			t.Errorf("%s is ISO 639-1", c)
		}
	}
	for _, c := range []string{"", "f", "xx", "fra", " fr", "FR"} {
		if IsLanguage(c) {
			t.Errorf("%q is not ISO 639-1", c)
		}
	}
}

// TestPipelineNormsCiteTheirBasis keeps every derived stage's figures sourced: a
// basis citing a source names one that exists, and every other says it is a rule of
// thumb.
func TestPipelineNormsCiteTheirBasis(t *testing.T) {
	src := PipelineSources()
	for _, s := range norms.Stages {
		key, _, _ := strings.Cut(s.Basis, ":")
		if _, ok := src[key]; !ok && !strings.Contains(strings.ToLower(s.Basis), "rule of thumb") {
			t.Errorf("stage %s: basis %q cites no source and is not a rule of thumb", s.ID, s.Basis)
		}
		if StageBasis(strings.ReplaceAll(s.ID, "{lang}", "fr")) != s.Basis {
			t.Errorf("StageBasis(%s)", s.ID)
		}
	}
}
