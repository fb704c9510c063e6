package web

import "testing"

// TestDerivedStageLabels: a derived pipeline's stages are named in the page's
// language, those per language with the language's code; English keeps the
// pipeline's own names, and a custom stage whose id merely ends like a code keeps its.
func TestDerivedStageLabels(t *testing.T) {
	for _, c := range []struct{ lang, id, name, want string }{
		{"fr", "subtitles_wo", "Subtitles (wo)", "Sous-titres (wo)"},
		{"fr", "dub_mix_ar", "Dub mix (ar)", "Mixage du doublage (ar)"},
		{"fr", "dub_ar", "Dub recording (ar)", "Enregistrement du doublage (ar)"},
		{"fr", "deliverables_qc", "Deliverables QC", "Contrôle qualité des livrables"},
		{"fr", "premix", "Premixes: dialogue, music, effects", "Prémixages : dialogues, musique, effets"},
		{"en", "subtitles_wo", "Subtitles (wo)", "Subtitles (wo)"},
		{"en", "subtitles_fr", "", "Subtitles (fr)"},
		{"fr", "grade_hr", "Grade HR", "Grade HR"},
	} {
		if got := stageLabel(c.lang, "feature", c.id, c.name); got != c.want {
			t.Errorf("stageLabel(%s, %s) = %q, want %q", c.lang, c.id, got, c.want)
		}
	}
}
