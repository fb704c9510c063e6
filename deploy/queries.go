package deploy

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// files are the dashboards and the alert rules, for the tests that check what they
// query against what posthub exports.
//
//go:embed grafana/dashboards prometheus/alerts.yml
var files embed.FS

// Query is one PromQL expression, where it comes from and, for a dashboard panel, its
// legend.
type Query struct {
	Where, Expr, Legend string
}

// DashboardQueries collects the PromQL of the Grafana dashboards: the targets' expr
// and the template variables' queries.
func DashboardQueries() ([]Query, error) {
	var out []Query
	err := fs.WalkDir(files, "grafana/dashboards", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		b, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		var walk func(v any, where string)
		walk = func(v any, where string) {
			switch x := v.(type) {
			case map[string]any:
				if title, ok := x["title"].(string); ok {
					where = path + ": " + title
				}
				variable := func() string { name, _ := x["name"].(string); return where + " (variable " + name + ")" }
				if e, ok := x["expr"].(string); ok {
					legend, _ := x["legendFormat"].(string)
					out = append(out, Query{where, e, legend})
				}
				if q, ok := x["query"].(string); ok && x["type"] == "query" {
					out = append(out, Query{variable(), q, ""})
				}
				if q, ok := x["query"].(map[string]any); ok {
					if s, ok := q["query"].(string); ok {
						out = append(out, Query{variable(), s, ""})
					}
				}
				if s, ok := x["definition"].(string); ok {
					out = append(out, Query{variable(), s, ""})
				}
				for _, c := range x {
					walk(c, where)
				}
			case []any:
				for _, c := range x {
					walk(c, where)
				}
			}
		}
		walk(d, path)
		return nil
	})
	return out, err
}

// AlertQueries collects the expressions of the Prometheus rules.
func AlertQueries() ([]Query, error) {
	const path = "prometheus/alerts.yml"
	b, err := files.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rules struct {
		Groups []struct {
			Rules []struct{ Alert, Record, Expr string }
		}
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []Query
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			name := r.Alert
			if name == "" {
				name = r.Record
			}
			out = append(out, Query{path + ": " + name, r.Expr, ""})
		}
	}
	return out, nil
}

var (
	// A metric name of the service or of the Go and process collectors it registers.
	metricName = regexp.MustCompile(`\b(?:posthub|go|process)_[a-zA-Z0-9_:]+`)
	quoted     = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
)

// Bare is expr with its string literals emptied, so that what a label value says is
// not read as PromQL.
func Bare(expr string) string { return quoted.ReplaceAllString(expr, `""`) }

// MetricNames lists the names of posthub's metrics, and of the Go and process
// collectors' it registers, that expr uses, as series names: a histogram's with its
// _bucket, _sum or _count.
func MetricNames(expr string) []string { return metricName.FindAllString(Bare(expr), -1) }
