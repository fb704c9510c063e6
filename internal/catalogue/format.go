// Package catalogue is the hub's declarative set-up: one YAML file holding its sites
// (with their calendars, policies, resources and rate cards), the national holidays,
// the organisations and the users. Export writes the file from the database; Apply
// makes the database match a file, in one transaction, through the domain's own
// changes (so every change is validated, audited and its errors mapped as it would
// be from the API), and reports what it changed as a Diff. The demo data is such a
// file (internal/demo/hub.yaml).
//
// What a file leaves out is left alone: a site, resource or user absent from the
// file stays as it is (Options.Prune takes it out of service instead); an
// organisation absent stays (organisations have no out-of-service state); a site
// section left out (policy, calendar, resources, rate_cards) or null leaves that
// part of the site as it is, and a country absent from national_holidays keeps its
// holidays. A section that is given is the whole truth for what it holds: a site's
// week, periods, closures and rate cards, and a country's holidays, are made exactly
// as written. Nothing is ever deleted that bookings refer to: sites, resources and
// users are only ever taken out of service.
package catalogue

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Version is the version of the file format, written by Export and checked by Parse.
const Version = 1

// File is the hub's set-up as one YAML document.
type File struct {
	// Version is the format's version (Version); left out, it is taken as 1.
	Version       int            `yaml:"version"`
	Organisations []Organisation `yaml:"organisations"`
	Sites         []Site         `yaml:"sites"`
	// NationalHolidays maps an ISO 3166-1 country code to its public holidays.
	NationalHolidays map[string][]Holiday `yaml:"national_holidays"`
	Users            []User               `yaml:"users"`

	// name is the name Parse read the file under, for messages.
	name string
}

// Organisation is a production company or the hub's own operating company, named by
// its slug.
type Organisation struct {
	Slug string `yaml:"slug"`
	// RenamedFrom names the slug the organisation had, to change its slug: apply
	// finds it by this one when none has the new slug.
	RenamedFrom string `yaml:"renamed_from,omitempty"`
	Name        string `yaml:"name"`
	Country     string `yaml:"country"`
	// Kind is production_company (the default) or hub; it never changes.
	Kind string `yaml:"kind"`
}

// Site is a site of the hub, named by its slug.
type Site struct {
	Slug        string `yaml:"slug"`
	RenamedFrom string `yaml:"renamed_from,omitempty"`
	Name        string `yaml:"name"`
	Country     string `yaml:"country"`
	// TimeZone is an IANA zone of the embedded tz database; Currency an ISO 4217 code.
	// Both change only while the site has no bookings, rate cards or quotes.
	TimeZone string `yaml:"time_zone"`
	Currency string `yaml:"currency"`
	// Active is whether the site is in service (left out: true). A site is taken out
	// of service only once none of its resources is.
	Active    *bool      `yaml:"active"`
	Policy    *Policy    `yaml:"policy"`
	Calendar  *Calendar  `yaml:"calendar"`
	Resources []Resource `yaml:"resources"`
	RateCards []RateCard `yaml:"rate_cards"`
}

// Policy is how bookings behave at a site. Durations are Go durations ("168h",
// "90m"); a field left out takes a new site's default (hold_lifetime 168h,
// challenge_window 48h, min_notice 0s, reminder_offsets [72h, 24h], overtime
// approval).
type Policy struct {
	ConfirmNeedsApproval bool     `yaml:"confirm_needs_approval"`
	HoldLifetime         string   `yaml:"hold_lifetime"`
	ChallengeWindow      string   `yaml:"challenge_window"`
	MinNotice            string   `yaml:"min_notice"`
	ReminderOffsets      []string `yaml:"reminder_offsets,flow"`
	Overtime             string   `yaml:"overtime"`
}

// Calendar is a site's working calendar in its own wall-clock time: its ordinary
// week, the periods with other hours (Ramadan) and its own closures (the national
// holidays of its country apply too).
type Calendar struct {
	Week     Week      `yaml:"week"`
	Periods  []Period  `yaml:"periods"`
	Holidays []Holiday `yaml:"holidays"`
}

// Week lists each day's working spans, "09:00-13:00" ("24:00" ends a day); a day left
// out is not worked.
type Week struct {
	Monday    []string `yaml:"monday,omitempty,flow"`
	Tuesday   []string `yaml:"tuesday,omitempty,flow"`
	Wednesday []string `yaml:"wednesday,omitempty,flow"`
	Thursday  []string `yaml:"thursday,omitempty,flow"`
	Friday    []string `yaml:"friday,omitempty,flow"`
	Saturday  []string `yaml:"saturday,omitempty,flow"`
	Sunday    []string `yaml:"sunday,omitempty,flow"`
}

// Period replaces a site's week from From to To inclusive (dates like 2027-02-08).
type Period struct {
	Name string `yaml:"name"`
	From string `yaml:"from"`
	To   string `yaml:"to"`
	Week Week   `yaml:"week"`
}

// Holiday closes a day, nationally or at one site. A provisional one (a lunar date
// not yet announced) is avoided by the planner until confirmed.
type Holiday struct {
	Date        string `yaml:"date"`
	Name        string `yaml:"name"`
	Provisional bool   `yaml:"provisional,omitempty"`
}

// Resource is a room, a person or equipment of a site, named by its name there.
type Resource struct {
	Name string `yaml:"name"`
	// RenamedFrom names the resource's former name, to rename it: apply finds it by
	// this one when the site has none of the new name.
	RenamedFrom  string   `yaml:"renamed_from,omitempty"`
	Category     string   `yaml:"category"`
	Kind         string   `yaml:"kind"`
	Capabilities []string `yaml:"capabilities,flow"`
	// RateMinor is in minor units of the site's currency (centimes of MAD; whole XOF),
	// per RateUnit: hour (the default) or day.
	RateMinor       int64  `yaml:"rate_minor"`
	RateUnit        string `yaml:"rate_unit"`
	TraineeCapacity int    `yaml:"trainee_capacity"`
	// Active is whether the resource is in service (left out: true). One with holds
	// or confirmed bookings still to end is not taken out of service.
	Active *bool `yaml:"active"`
}

// RateCard prices a resource kind at its site, or one resource (by name), per hour
// or per day, in minor units of the site's currency, between optional dates.
type RateCard struct {
	Kind          string `yaml:"kind,omitempty"`
	Resource      string `yaml:"resource,omitempty"`
	Unit          string `yaml:"unit"`
	AmountMinor   int64  `yaml:"amount_minor"`
	EffectiveFrom string `yaml:"effective_from,omitempty"`
	EffectiveTo   string `yaml:"effective_to,omitempty"`
	// OvertimeMultiplierBP is the overtime price in basis points of the amount; left
	// out, 15000 (1.5×).
	OvertimeMultiplierBP int `yaml:"overtime_multiplier_bp,omitempty"`
}

// User is a person who signs in, named by their email. The file never holds a
// password, token or link: a new user is invited (or given a password) afterwards.
type User struct {
	Email string `yaml:"email"`
	Name  string `yaml:"name"`
	// Role is admin, manager, operator or producer; Locale en (the default) or fr.
	Role   string `yaml:"role"`
	Locale string `yaml:"locale"`
	// Organisation is the slug of the user's organisation.
	Organisation string `yaml:"organisation"`
	// Sites are the slugs of the sites a manager manages.
	Sites []string `yaml:"sites,omitempty,flow"`
	// Active is whether the user may sign in (left out: true).
	Active *bool `yaml:"active"`
}

// Problem is one thing wrong with a file, at a path into it such as
// sites[1].resources[3].rate_minor.
type Problem struct {
	Path    string
	Message string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Invalid is a file that cannot be applied: each problem names where it is. Nothing
// was written.
type Invalid struct {
	Name     string // the file's name, for messages
	Problems []Problem
}

func (e *Invalid) Error() string {
	var b strings.Builder
	name := e.Name
	if name == "" {
		name = "catalogue"
	}
	fmt.Fprintf(&b, "%s: ", name)
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Parse reads a catalogue file. Fields the format does not know are refused, so a
// misspelt key never passes for a default; every problem names its path and line.
func Parse(r io.Reader, name string) (*File, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	invalid := func(ps ...Problem) error { return &Invalid{Name: name, Problems: ps} }
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, invalid(Problem{Message: strings.TrimPrefix(err.Error(), "yaml: ")})
	}
	if root.Kind == 0 || len(root.Content) == 0 || root.Content[0].Kind == yaml.ScalarNode && root.Content[0].Tag == "!!null" {
		return nil, invalid(Problem{Message: "the file is empty"})
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, invalid(Problem{Message: strings.TrimPrefix(err.Error(), "yaml: ")})
		}
		var ps []Problem
		for _, msg := range te.Errors {
			ps = append(ps, locate(&root, msg))
		}
		return nil, invalid(ps...)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, invalid(Problem{Message: "the file holds more than one YAML document"})
	}
	f.name = name
	if f.Version == 0 {
		f.Version = Version
	}
	if f.Version != Version {
		return nil, invalid(Problem{Path: "version", Message: fmt.Sprintf("must be %d (this posthub reads version %d of the format)", Version, Version)})
	}
	return &f, nil
}

var (
	lineMessage  = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// locate turns a decoder's "line 12: …" message into a problem at the path of what
// is on that line.
func locate(root *yaml.Node, msg string) Problem {
	m := lineMessage.FindStringSubmatch(msg)
	if m == nil {
		return Problem{Message: msg}
	}
	line, _ := strconv.Atoi(m[1])
	what := m[2]
	if u := unknownField.FindStringSubmatch(what); u != nil {
		if p, ok := findKey(root, "", line, u[1]); ok {
			return Problem{Path: p, Message: fmt.Sprintf("unknown field (line %d)", line)}
		}
		return Problem{Message: fmt.Sprintf("line %d: unknown field %s", line, u[1])}
	}
	if p, ok := findLine(root, "", line); ok {
		return Problem{Path: p, Message: fmt.Sprintf("%s (line %d)", what, line)}
	}
	return Problem{Message: msg}
}

// findKey finds the mapping key named key on the line and returns its path.
func findKey(n *yaml.Node, path string, line int, key string) (string, bool) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p, ok := findKey(c, path, line, key); ok {
				return p, true
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Line == line && k.Value == key {
				return join(path, k.Value), true
			}
			if p, ok := findKey(v, join(path, k.Value), line, key); ok {
				return p, true
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p, ok := findKey(c, fmt.Sprintf("%s[%d]", path, i), line, key); ok {
				return p, true
			}
		}
	}
	return "", false
}

// findLine finds the first value on the line and returns its path.
func findLine(n *yaml.Node, path string, line int) (string, bool) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p, ok := findLine(c, path, line); ok {
				return p, true
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if p, ok := findLine(v, join(path, k.Value), line); ok {
				return p, true
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p, ok := findLine(c, fmt.Sprintf("%s[%d]", path, i), line); ok {
				return p, true
			}
		}
	case yaml.ScalarNode, yaml.AliasNode:
		if n.Line == line {
			return path, true
		}
	}
	return "", false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// header opens every exported file.
const header = `# The set-up of a posthub hub: its organisations, sites (policy, calendar, resources,
# rate cards), national holidays and users. Amounts are in minor units of the site's
# currency (centimes of MAD, whole XOF); times are the site's wall-clock.
# Check a change with 'posthub catalogue apply FILE --dry-run', then apply it without.
`

// Encode writes f as YAML in the order Export gives it.
func Encode(w io.Writer, f *File) error {
	var b bytes.Buffer
	b.WriteString(header)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}
