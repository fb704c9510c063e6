package booking

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// The pipeline a production with deliverables is planned on, as data
// (pipeline_norms.json): which stages, on what, after what, for how long, and where
// each figure comes from.

// normHours is how long a stage takes for one production format.
type normHours struct {
	Base               float64 `json:"base"`
	PerRuntimeMinute   float64 `json:"per_runtime_minute"`
	PerVFXShot         float64 `json:"per_vfx_shot"`
	PerLanguageVersion float64 `json:"per_language_version"`
}

// normStage is a stage of the derived pipeline as stored.
type normStage struct {
	ID        string               `json:"id"`
	Name      string               `json:"name"`
	WhenAny   []string             `json:"when_any"`
	Per       string               `json:"per"` // "", subtitle_language, dub_language
	Demands   []Demand             `json:"demands"`
	After     []string             `json:"after"`
	Last      bool                 `json:"last"`
	PerMaster bool                 `json:"per_master"`
	Hours     map[string]normHours `json:"hours"`
	Basis     string               `json:"basis"`
}

// normDeliverable is what one deliverable adds: capabilities to every demand of a
// kind, and longer stages.
type normDeliverable struct {
	Capabilities map[string][]string `json:"capabilities"`
	HoursFactor  map[string]float64  `json:"hours_factor"`
	Basis        string              `json:"basis"`
}

type pipelineNorms struct {
	About        []string                   `json:"about"`
	Sources      map[string]string          `json:"sources"`
	Deliverables map[string]normDeliverable `json:"deliverables"`
	Stages       []normStage                `json:"stages"`
}

//go:embed pipeline_norms.json
var pipelineNormsJSON []byte

var norms = func() pipelineNorms {
	var n pipelineNorms
	dec := json.NewDecoder(strings.NewReader(string(pipelineNormsJSON)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		panic("booking: pipeline_norms.json: " + err.Error())
	}
	if err := n.check(); err != nil {
		panic("booking: pipeline_norms.json: " + err.Error())
	}
	return n
}()

// check refuses norms the derivation could not use: unknown conditions, links to
// stages that do not exist, formats that are not production formats.
func (n pipelineNorms) check() error {
	ids := map[string]bool{}
	for _, s := range n.Stages {
		if s.ID == "" || ids[s.ID] {
			return fmt.Errorf("stage %q: missing or repeated id", s.ID)
		}
		ids[s.ID] = true
		if (s.Per != "") != strings.Contains(s.ID, "{lang}") || (s.Per != "" && s.Per != "subtitle_language" && s.Per != "dub_language") {
			return fmt.Errorf("stage %q: per and {lang} go together (subtitle_language, dub_language)", s.ID)
		}
		if len(s.Demands) == 0 || len(s.Hours) == 0 || s.Basis == "" {
			return fmt.Errorf("stage %q: needs demands, hours and a basis", s.ID)
		}
		for f := range s.Hours {
			if !validFormat(f) {
				return fmt.Errorf("stage %q: hours for unknown format %q", s.ID, f)
			}
		}
		for _, c := range s.WhenAny {
			if !knownCondition(c) {
				return fmt.Errorf("stage %q: unknown condition %q", s.ID, c)
			}
		}
	}
	for _, s := range n.Stages {
		for _, a := range s.After {
			found := false
			for id := range ids {
				found = found || id == a || (strings.HasSuffix(a, "*") && strings.HasPrefix(id, strings.TrimSuffix(a, "*")))
			}
			if !found {
				return fmt.Errorf("stage %q: follows unknown stage %q", s.ID, a)
			}
		}
	}
	for k, d := range n.Deliverables {
		if !knownCondition(k) || d.Basis == "" {
			return fmt.Errorf("deliverable %q: unknown, or without a basis", k)
		}
		for id := range d.HoursFactor {
			if !ids[id] && !ids[id+"_{lang}"] {
				return fmt.Errorf("deliverable %q: factor for unknown stage %q", k, id)
			}
		}
	}
	return nil
}

// knownCondition says whether a when_any condition is one derive understands.
func knownCondition(c string) bool {
	switch c {
	case "always", "vfx", "subtitles", "dubs", "sdh":
		return true
	}
	field, v, ok := strings.Cut(c, ":")
	if !ok {
		return false
	}
	switch field {
	case "picture":
		return slices.Contains(PictureFormats, v)
	case "sound":
		return slices.Contains(SoundFormats, v)
	case "delivery":
		return slices.Contains(DeliveryFormats, v)
	case "format":
		return validFormat(v)
	}
	return false
}

// holds says whether a condition holds for a production.
func holds(c, format string, d Deliverables) bool {
	switch c {
	case "always":
		return true
	case "vfx":
		return d.VFXShots > 0
	case "subtitles":
		return len(d.SubtitleLanguages) > 0
	case "dubs":
		return len(d.DubLanguages) > 0
	case "sdh":
		return d.SDH
	}
	field, v, _ := strings.Cut(c, ":")
	if field == "format" {
		return format == v
	}
	return d.Has(field, v)
}

// maxStageHours is the longest a stage may be (resolveStages refuses longer).
const maxStageHours = 2000

// PipelineStages is the pipeline a plan request names by template: for a production
// with deliverables, the one derived from them (DerivedStages); without, the template
// as it is (TemplateStages).
func PipelineStages(template string, runtimeMinutes int, d Deliverables, skip []string) ([]StageSpec, error) {
	if !d.Any() {
		return TemplateStages(template, runtimeMinutes, skip)
	}
	return DerivedStages(template, runtimeMinutes, d, skip)
}

// DerivedStages derives a production's pipeline from its format (the template's
// name), runtime and deliverables, by pipeline_norms.json: the stages its deliverables
// call for (a subtitling stage per subtitle language on an editor who works in it, a
// dub and a dub mix per dub language, a mastering stage per delivery format, the
// deliverables QC after everything), with the capabilities they demand (Atmos: the
// mix stage and mixer; HDR: the grading suite and colourist) and durations that scale
// with the runtime. Stages named in skip are left out; those that followed them
// follow what they followed.
func DerivedStages(template string, runtimeMinutes int, d Deliverables, skip []string) ([]StageSpec, error) {
	if !validFormat(template) {
		return nil, &Error{Code: EINVALID, Message: fmt.Sprintf("template must be one of %v.", TemplateNames()), Details: map[string]any{"field": "template"}}
	}
	masters := max(len(d.Delivery), 1)
	versions := len(d.SubtitleLanguages) + len(d.DubLanguages)
	if d.SDH {
		versions++
	}
	type node struct {
		spec  StageSpec
		after []string
		last  bool
	}
	var nodes []node
	for _, s := range norms.Stages {
		h, ok := s.Hours[template]
		if !ok || !slices.ContainsFunc(s.WhenAny, func(c string) bool { return holds(c, template, d) }) {
			continue
		}
		langs := []string{""}
		switch s.Per {
		case "subtitle_language":
			langs = d.SubtitleLanguages
		case "dub_language":
			langs = d.DubLanguages
		}
		hours := h.Base + h.PerRuntimeMinute*float64(runtimeMinutes) + h.PerVFXShot*float64(d.VFXShots)
		if s.PerMaster {
			hours *= float64(masters)
		}
		hours += h.PerLanguageVersion * float64(versions)
		baseID := strings.TrimSuffix(s.ID, "_{lang}")
		for _, deliv := range deliverableKeys(d) {
			if f, ok := norms.Deliverables[deliv].HoursFactor[baseID]; ok {
				hours *= f
			}
		}
		hours = min(math.Ceil(hours*2)/2, maxStageHours)
		for _, lang := range langs {
			sub := strings.NewReplacer("{lang}", lang, "{original}", d.OriginalLanguage)
			spec := StageSpec{ID: sub.Replace(s.ID), Name: sub.Replace(s.Name), Hours: hours}
			for _, dm := range s.Demands {
				nd := Demand{Kind: dm.Kind, Capabilities: []string{}}
				for _, c := range dm.Capabilities {
					nd.Capabilities = append(nd.Capabilities, sub.Replace(c))
				}
				spec.Demands = append(spec.Demands, nd)
			}
			n := node{spec: spec, last: s.Last}
			for _, a := range s.After {
				n.after = append(n.after, sub.Replace(a))
			}
			nodes = append(nodes, n)
		}
	}
	// Capabilities the deliverables demand of every demand of a kind.
	for _, deliv := range deliverableKeys(d) {
		for kind, caps := range norms.Deliverables[deliv].Capabilities {
			for i := range nodes {
				for j := range nodes[i].spec.Demands {
					dm := &nodes[i].spec.Demands[j]
					if dm.Kind != kind {
						continue
					}
					for _, c := range caps {
						if !slices.Contains(dm.Capabilities, c) {
							dm.Capabilities = append(dm.Capabilities, c)
						}
					}
				}
			}
		}
	}
	present := map[string]bool{}
	for _, n := range nodes {
		present[n.spec.ID] = true
	}
	// Each stage's predecessors among the stages present (a wildcard names every
	// language's copy).
	preds := map[string][]string{}
	for _, n := range nodes {
		var ps []string
		for _, a := range n.after {
			for _, m := range nodes {
				id := m.spec.ID
				if (id == a || (strings.HasSuffix(a, "*") && strings.HasPrefix(id, strings.TrimSuffix(a, "*")))) && !slices.Contains(ps, id) {
					ps = append(ps, id)
				}
			}
		}
		preds[n.spec.ID] = ps
	}
	skipped := map[string]bool{}
	for _, s := range skip {
		skipped[s] = present[s]
	}
	// A skipped stage hands its predecessors on to those that followed it.
	var resolve func(id string) []string
	resolve = func(id string) []string {
		if !skipped[id] {
			return []string{id}
		}
		var out []string
		for _, p := range preds[id] {
			for _, q := range resolve(p) {
				if !slices.Contains(out, q) {
					out = append(out, q)
				}
			}
		}
		return out
	}
	var out []StageSpec
	followed := map[string]bool{}
	for _, n := range nodes {
		if skipped[n.spec.ID] || n.last {
			continue
		}
		s := n.spec
		for _, p := range preds[s.ID] {
			for _, q := range resolve(p) {
				if !slices.ContainsFunc(s.After, func(l StageLink) bool { return l.From == q }) {
					s.After = append(s.After, StageLink{From: q})
					followed[q] = true
				}
			}
		}
		out = append(out, s)
	}
	// The last stages follow every stage nothing else follows.
	var ends []StageLink
	for _, s := range out {
		if !followed[s.ID] {
			ends = append(ends, StageLink{From: s.ID})
		}
	}
	for _, n := range nodes {
		if n.last && !skipped[n.spec.ID] {
			s := n.spec
			s.After = append([]StageLink(nil), ends...)
			out = append(out, s)
		}
	}
	return out, nil
}

// deliverableKeys are the production's deliverables as the norms name them
// (picture:hdr, sound:atmos, delivery:dcp), in a stable order.
func deliverableKeys(d Deliverables) []string {
	var out []string
	for _, v := range d.Picture {
		out = append(out, "picture:"+v)
	}
	for _, v := range d.Sound {
		out = append(out, "sound:"+v)
	}
	for _, v := range d.Delivery {
		out = append(out, "delivery:"+v)
	}
	return out
}

// PipelineSources are the public norms the derived pipeline's figures cite, by key.
func PipelineSources() map[string]string {
	out := make(map[string]string, len(norms.Sources))
	for k, v := range norms.Sources {
		out[k] = v
	}
	return out
}

// StageBasis says where a derived stage's figures come from (its id, or its
// per-language form such as subtitles_{lang}); "" for a stage the norms do not have.
func StageBasis(id string) string {
	for _, s := range norms.Stages {
		if s.ID == id || (s.Per != "" && strings.HasPrefix(id, strings.TrimSuffix(s.ID, "{lang}")) && len(id) == len(s.ID)-len("{lang}")+2) {
			return s.Basis
		}
	}
	return ""
}
