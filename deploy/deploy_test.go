package deploy_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.yaml.in/yaml/v3"

	"github.com/posthub/posthub/deploy"
	"github.com/posthub/posthub/internal/metrics"
)

// The tests run in deploy/, so every path here is relative to it.

// filesWith lists the files under deploy/ whose names end in one of exts.
func filesWith(t *testing.T, exts ...string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		for _, e := range exts {
			if strings.HasSuffix(path, e) {
				out = append(out, path)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// yamlDocs decodes every document of a YAML file (empty documents are skipped).
func yamlDocs(t *testing.T, path string) []any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if v != nil {
			docs = append(docs, v)
		}
	}
	return docs
}

// yamlDoc decodes a single-document YAML file.
func yamlDoc(t *testing.T, path string) map[string]any {
	t.Helper()
	docs := yamlDocs(t, path)
	if len(docs) != 1 {
		t.Fatalf("%s: want one YAML document, got %d", path, len(docs))
	}
	m, ok := docs[0].(map[string]any)
	if !ok {
		t.Fatalf("%s: the document is a %T, not a mapping", path, docs[0])
	}
	return m
}

// get walks maps by key; a missing key or a non-map on the way gives nil.
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any, keys ...string) string {
	switch x := get(v, keys...).(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	default:
		return ""
	}
}

func list(v any, keys ...string) []any {
	l, _ := get(v, keys...).([]any)
	return l
}

func mapping(v any, keys ...string) map[string]any {
	m, _ := get(v, keys...).(map[string]any)
	return m
}

// strings of a YAML list of scalars (a command, args).
func strs(v any, keys ...string) []string {
	var out []string
	for _, x := range list(v, keys...) {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// subset reports whether every key of small has the same value in big.
func subset(small, big map[string]any) bool {
	if len(small) == 0 {
		return false
	}
	for k, v := range small {
		if big[k] != v {
			return false
		}
	}
	return true
}

func TestYAMLFilesParse(t *testing.T) {
	files := filesWith(t, ".yaml", ".yml")
	if len(files) < 10 {
		t.Fatalf("only %d YAML files under deploy/: %v", len(files), files)
	}
	for _, path := range files {
		docs := yamlDocs(t, path)
		if len(docs) == 0 {
			t.Errorf("%s: no YAML document", path)
		}
		for i, d := range docs {
			if _, ok := d.(map[string]any); !ok {
				t.Errorf("%s: document %d is a %T, not a mapping", path, i, d)
			}
		}
	}
}

func TestJSONFilesParse(t *testing.T) {
	files := filesWith(t, ".json")
	if len(files) == 0 {
		t.Fatal("no JSON file under deploy/")
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

type instruction struct {
	cmd  string // upper case
	args string
}

// dockerfile reads the instructions of a Dockerfile, joining continued lines.
func dockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		cont := strings.HasSuffix(line, "\\")
		cur.WriteString(strings.TrimSuffix(line, "\\"))
		cur.WriteByte(' ')
		if cont {
			continue
		}
		cmd, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.Join(strings.Fields(args), " ")})
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDockerfile(t *testing.T) {
	ins := dockerfile(t, "Dockerfile")
	var froms, entrypoints, users []string
	args := map[string]string{}
	cgoOff, copiesBuild := false, false
	for _, in := range ins {
		switch in.cmd {
		case "FROM":
			froms = append(froms, in.args)
			users = nil // USER applies to the stage it is in
		case "ENTRYPOINT":
			entrypoints = append(entrypoints, in.args)
		case "USER":
			users = append(users, in.args)
		case "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			args[k] = v
		case "RUN":
			if strings.Contains(in.args, "CGO_ENABLED=0") && strings.Contains(in.args, "go build") {
				cgoOff = true
			}
		case "COPY":
			if strings.Contains(in.args, "--from=build") {
				copiesBuild = true
			}
		}
	}
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build, got FROM %q", froms)
	}
	if !strings.Contains(froms[0], "golang:") || !strings.HasSuffix(froms[0], " AS build") {
		t.Errorf("first stage %q: want golang:… AS build", froms[0])
	}
	// The Go image follows go.mod's go directive.
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod); m == nil {
		t.Error("no go directive in go.mod")
	} else if got := args["GO_VERSION"]; got != string(m[1]) && !strings.Contains(froms[0], "golang:"+string(m[1])) {
		t.Errorf("build stage uses Go %q (ARG GO_VERSION), go.mod says %s", got, m[1])
	}
	if last := froms[len(froms)-1]; !strings.Contains(last, "distroless/static") && !strings.Contains(last, "debian") {
		t.Errorf("runtime stage %q: want distroless/static or debian-slim", last)
	}
	if !cgoOff {
		t.Error("no RUN with CGO_ENABLED=0 … go build")
	}
	if !copiesBuild {
		t.Error("the runtime stage does not COPY --from=build")
	}
	if len(users) == 0 {
		t.Error("the runtime stage sets no USER")
	} else if u := users[len(users)-1]; u == "root" || u == "0" || strings.HasPrefix(u, "0:") || strings.HasPrefix(u, "root:") {
		t.Errorf("runtime USER %q is root", u)
	}
	if len(entrypoints) == 0 {
		t.Fatal("no ENTRYPOINT")
	}
	var ep []string
	if err := json.Unmarshal([]byte(entrypoints[len(entrypoints)-1]), &ep); err != nil || len(ep) == 0 {
		t.Fatalf("ENTRYPOINT %s: want the exec form, a JSON array (%v)", entrypoints[len(entrypoints)-1], err)
	}
	if filepath.Base(ep[0]) != "posthub" {
		t.Errorf("ENTRYPOINT %q: want posthub", ep)
	}
	if _, err := os.Stat("Dockerfile.dockerignore"); err != nil {
		t.Errorf("Dockerfile.dockerignore: %v", err)
	}
}

// ---- Compose ----

// composeEnv is a service's environment as a map (compose allows a list of K=V too).
func composeEnv(svc any) map[string]string {
	out := map[string]string{}
	switch e := get(svc, "environment").(type) {
	case map[string]any:
		for k, v := range e {
			out[k] = str(map[string]any{"v": v}, "v")
		}
	case []any:
		for _, x := range e {
			s, _ := x.(string)
			k, v, _ := strings.Cut(s, "=")
			out[k] = v
		}
	}
	return out
}

// composeDependsOn maps the services a service depends on to their condition.
func composeDependsOn(svc any) map[string]string {
	out := map[string]string{}
	switch d := get(svc, "depends_on").(type) {
	case map[string]any:
		for k := range d {
			out[k] = str(d, k, "condition")
		}
	case []any:
		for _, x := range d {
			s, _ := x.(string)
			out[s] = "service_started"
		}
	}
	return out
}

func composeCommand(svc any) []string {
	if s, ok := get(svc, "command").(string); ok {
		return strings.Fields(s)
	}
	return strs(svc, "command")
}

// composeMounts maps a service's bind-mount targets to their sources.
func composeMounts(svc any) map[string]string {
	out := map[string]string{}
	for _, v := range list(svc, "volumes") {
		switch x := v.(type) {
		case string:
			parts := strings.Split(x, ":")
			if len(parts) >= 2 {
				out[parts[1]] = parts[0]
			}
		case map[string]any:
			out[str(x, "target")] = str(x, "source")
		}
	}
	return out
}

func isBindSource(src string) bool {
	return strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/")
}

func TestComposeStack(t *testing.T) {
	c := yamlDoc(t, "compose.yaml")
	services := mapping(c, "services")
	for _, name := range []string{"postgres", "migrate", "worker", "prometheus", "grafana"} {
		if services[name] == nil {
			t.Errorf("no %s service", name)
		}
	}

	pg := services["postgres"]
	if img := str(pg, "image"); !strings.HasPrefix(img, "postgres:16") {
		t.Errorf("postgres image %q: want postgres:16", img)
	}
	if len(strs(pg, "healthcheck", "test")) == 0 {
		t.Error("postgres has no healthcheck")
	}
	if len(list(pg, "volumes")) == 0 {
		t.Error("postgres keeps its data in no volume")
	}

	if cmd := composeCommand(services["migrate"]); !slices.Equal(cmd, []string{"migrate", "up"}) {
		t.Errorf("migrate command %q: want migrate up", cmd)
	}
	if cond := composeDependsOn(services["migrate"])["postgres"]; cond != "service_healthy" {
		t.Errorf("migrate depends on postgres with condition %q, want service_healthy", cond)
	}
	if r := str(services["migrate"], "restart"); r != "no" && r != "" {
		t.Errorf("migrate restarts %q: it is a one-shot", r)
	}
	if cmd := composeCommand(services["worker"]); len(cmd) == 0 || cmd[0] != "worker" {
		t.Errorf("worker command %q: want worker", cmd)
	}

	// The mail sink.
	var smtpSink string
	for name, svc := range services {
		if strings.Contains(str(svc, "image"), "mailpit") {
			smtpSink = name
		}
	}
	if smtpSink == "" {
		t.Error("no SMTP sink (mailpit) service")
	}

	// The API replicas: services running serve, counted with deploy.replicas.
	var apis []string
	replicas := 0
	for name, svc := range services {
		cmd := composeCommand(svc)
		if len(cmd) == 0 || cmd[0] != "serve" {
			continue
		}
		apis = append(apis, name)
		n := 1
		if r, ok := get(svc, "deploy", "replicas").(int); ok {
			n = r
		}
		replicas += n
		if cond := composeDependsOn(svc)["migrate"]; cond != "service_completed_successfully" {
			t.Errorf("%s depends on migrate with condition %q, want service_completed_successfully", name, cond)
		}
		w, err := strconv.Atoi(composeEnv(svc)["POSTHUB_WORKERS"])
		if err != nil || w < 1 || w > 4 {
			t.Errorf("%s: POSTHUB_WORKERS %q: want a small number for an API replica", name, composeEnv(svc)["POSTHUB_WORKERS"])
		}
	}
	sort.Strings(apis)
	if replicas < 2 {
		t.Errorf("%d API replicas (%v), want 2", replicas, apis)
	}

	// Every posthub container: the database URL from a secret file, mail to the sink,
	// listening on 8080.
	topSecrets := mapping(c, "secrets")
	for name, svc := range services {
		cmd := composeCommand(svc)
		if len(cmd) == 0 || !slices.Contains([]string{"serve", "worker", "migrate"}, cmd[0]) {
			continue
		}
		env := composeEnv(svc)
		if _, ok := env["DATABASE_URL"]; ok {
			t.Errorf("%s: DATABASE_URL inline; use DATABASE_URL_FILE and a secret", name)
		}
		file := env["DATABASE_URL_FILE"]
		secret, ok := strings.CutPrefix(file, "/run/secrets/")
		if !ok {
			t.Errorf("%s: DATABASE_URL_FILE %q is not a compose secret", name, file)
		} else if !slices.Contains(strs(svc, "secrets"), secret) || topSecrets[secret] == nil {
			t.Errorf("%s: secret %q is not granted to the service or not defined", name, secret)
		}
		if _, port, err := net.SplitHostPort(env["POSTHUB_ADDR"]); err != nil || port != "8080" {
			t.Errorf("%s: POSTHUB_ADDR %q: want :8080", name, env["POSTHUB_ADDR"])
		}
		if u, err := url.Parse(env["POSTHUB_SMTP_URL"]); err != nil || u.Scheme != "smtp" || u.Hostname() != smtpSink || u.Port() != "1025" || u.Query().Get("tls") != "none" {
			t.Errorf("%s: POSTHUB_SMTP_URL %q: want smtp://%s:1025?tls=none", name, env["POSTHUB_SMTP_URL"], smtpSink)
		}
	}

	// No password written into the file.
	for name, svc := range services {
		for k, v := range composeEnv(svc) {
			if strings.Contains(k, "PASSWORD") && !strings.HasSuffix(k, "_FILE") {
				t.Errorf("%s: %s set inline; use a secret file", name, k)
			}
			if u, err := url.Parse(v); err == nil && u.User != nil {
				if _, has := u.User.Password(); has {
					t.Errorf("%s: %s carries a password", name, k)
				}
			}
		}
	}
	initScript, err := os.ReadFile("secrets/init.sh")
	if err != nil {
		t.Fatal(err)
	}
	for name := range topSecrets {
		file := str(topSecrets, name, "file")
		if !strings.HasPrefix(file, "./secrets/") {
			t.Errorf("secret %s: file %q, want one under ./secrets/", name, file)
		}
		if !strings.Contains(string(initScript), filepath.Base(file)) {
			t.Errorf("secret %s: secrets/init.sh does not write %s", name, filepath.Base(file))
		}
	}
	if _, err := os.Stat(".env.example"); err != nil {
		t.Error(err)
	}

	// Bind mounts exist.
	for name, svc := range services {
		for target, src := range composeMounts(svc) {
			if isBindSource(src) {
				if _, err := os.Stat(src); err != nil {
					t.Errorf("%s: mount %s -> %s: %v", name, src, target, err)
				}
			}
		}
	}

	// The load balancer routes to every API replica.
	var lb string
	for name, svc := range services {
		img := str(svc, "image")
		if strings.HasPrefix(img, "nginx") || strings.HasPrefix(img, "traefik") {
			lb = name
		}
	}
	if lb == "" {
		t.Fatal("no nginx or traefik load balancer")
	}
	if len(list(services[lb], "ports")) == 0 {
		t.Errorf("%s publishes no port", lb)
	}
	var lbConf []byte
	for _, src := range composeMounts(services[lb]) {
		if isBindSource(src) {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			lbConf = append(lbConf, b...)
		}
	}
	for _, api := range apis {
		if !strings.Contains(string(lbConf), api+":8080") {
			t.Errorf("the %s configuration does not route to %s:8080", lb, api)
		}
	}

	// Prometheus scrapes every API replica and loads the alert rules.
	prom := yamlDoc(t, "prometheus/prometheus.yml")
	var targets []string
	for _, sc := range list(prom, "scrape_configs") {
		if str(sc, "job_name") != "posthub" {
			continue
		}
		for _, st := range list(sc, "static_configs") {
			targets = append(targets, strs(st, "targets")...)
		}
	}
	for _, api := range apis {
		if !slices.Contains(targets, api+":8080") {
			t.Errorf("prometheus.yml: job posthub does not scrape %s:8080 (targets %v)", api, targets)
		}
	}
	promMounts := composeMounts(services["prometheus"])
	for _, rf := range strs(prom, "rule_files") {
		if src := promMounts[rf]; filepath.Clean(src) != "prometheus/alerts.yml" {
			t.Errorf("rule file %s is mounted from %q, want ./prometheus/alerts.yml", rf, src)
		}
	}
	if len(strs(prom, "rule_files")) == 0 {
		t.Error("prometheus.yml loads no rule file")
	}

	// Grafana's dashboard provider reads the mounted dashboards.
	gm := composeMounts(services["grafana"])
	prov := yamlDoc(t, "grafana/provisioning/dashboards/posthub.yml")
	for _, p := range list(prov, "providers") {
		path := str(p, "options", "path")
		if src := gm[path]; filepath.Clean(src) != "grafana/dashboards" {
			t.Errorf("dashboard provider path %s is mounted from %q, want ./grafana/dashboards", path, src)
		}
	}
	if filepath.Clean(gm["/etc/grafana/provisioning"]) != "grafana/provisioning" {
		t.Errorf("grafana mounts %q at /etc/grafana/provisioning", gm["/etc/grafana/provisioning"])
	}
}

// ---- Kubernetes ----

type k8sObject struct {
	file string
	obj  map[string]any
}

func (o k8sObject) kind() string { return str(o.obj, "kind") }
func (o k8sObject) name() string { return str(o.obj, "metadata", "name") }

func k8sObjects(t *testing.T) (kust map[string]any, objs []k8sObject) {
	t.Helper()
	kust = yamlDoc(t, "k8s/kustomization.yaml")
	resources := strs(kust, "resources")
	if len(resources) == 0 {
		t.Fatal("kustomization.yaml lists no resources")
	}
	for _, r := range resources {
		path := filepath.Join("k8s", r)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("kustomization resource %s: %v", r, err)
			continue
		}
		for _, d := range yamlDocs(t, path) {
			m, _ := d.(map[string]any)
			objs = append(objs, k8sObject{path, m})
		}
	}
	// Nothing forgotten.
	onDisk, _ := filepath.Glob("k8s/*.yaml")
	for _, p := range onDisk {
		if b := filepath.Base(p); b != "kustomization.yaml" && !slices.Contains(resources, b) {
			t.Errorf("%s is not listed in kustomization.yaml", p)
		}
	}
	return kust, objs
}

// podContainers are the containers of a Deployment's or Job's pod template.
func podContainers(o k8sObject) []any { return list(o.obj, "spec", "template", "spec", "containers") }

func TestKubernetesManifests(t *testing.T) {
	kust, objs := k8sObjects(t)
	namespace := str(kust, "namespace")
	kinds := map[string][]k8sObject{}
	for _, o := range objs {
		if str(o.obj, "apiVersion") == "" || o.kind() == "" || o.name() == "" {
			t.Errorf("%s: an object without apiVersion, kind or metadata.name: %v", o.file, o.obj)
			continue
		}
		if ns := str(o.obj, "metadata", "namespace"); o.kind() != "Namespace" && namespace != "" && ns != "" && ns != namespace {
			t.Errorf("%s: %s %s in namespace %q, kustomization says %q", o.file, o.kind(), o.name(), ns, namespace)
		}
		if o.kind() == "Secret" {
			t.Errorf("%s: Secret %s in the repository; reference secrets, never store them", o.file, o.name())
		}
		kinds[o.kind()] = append(kinds[o.kind()], o)
	}
	want := map[string]struct {
		n          int
		apiVersion string
	}{
		"Namespace":               {1, "v1"},
		"Deployment":              {2, "apps/v1"},
		"Service":                 {1, "v1"},
		"HorizontalPodAutoscaler": {1, "autoscaling/v2"},
		"PodDisruptionBudget":     {1, "policy/v1"},
		"Cluster":                 {1, "postgresql.cnpg.io/v1"},
		"Job":                     {1, "batch/v1"},
		"ServiceMonitor":          {1, "monitoring.coreos.com/v1"},
		"ConfigMap":               {1, "v1"},
	}
	for kind, w := range want {
		if len(kinds[kind]) != w.n {
			t.Errorf("%d %s objects, want %d", len(kinds[kind]), kind, w.n)
		}
		for _, o := range kinds[kind] {
			if v := str(o.obj, "apiVersion"); v != w.apiVersion {
				t.Errorf("%s: %s %s has apiVersion %s, want %s", o.file, kind, o.name(), v, w.apiVersion)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// CloudNativePG: three instances, storage, the posthub database and its owner.
	cluster := kinds["Cluster"][0]
	if n, _ := get(cluster.obj, "spec", "instances").(int); n != 3 {
		t.Errorf("Cluster %s: %d instances, want 3", cluster.name(), n)
	}
	if str(cluster.obj, "spec", "storage", "size") == "" {
		t.Errorf("Cluster %s: no storage size", cluster.name())
	}
	if db := str(cluster.obj, "spec", "bootstrap", "initdb", "database"); db != "posthub" {
		t.Errorf("Cluster %s: initdb database %q, want posthub", cluster.name(), db)
	}
	if str(cluster.obj, "spec", "bootstrap", "initdb", "owner") == "" {
		t.Errorf("Cluster %s: initdb has no owner", cluster.name())
	}
	// A failover keeps every acknowledged write only with a synchronous replica
	// (posthub-drill failover); the operator refuses the new stanza together with the
	// deprecated minSyncReplicas/maxSyncReplicas.
	syncRep := get(cluster.obj, "spec", "postgresql", "synchronous")
	if n, _ := get(syncRep, "number").(int); n < 1 || str(syncRep, "method") == "" || str(syncRep, "dataDurability") != "required" {
		t.Errorf("Cluster %s: postgresql.synchronous = %v, want at least one synchronous replica with dataDurability required", cluster.name(), syncRep)
	}
	if get(cluster.obj, "spec", "minSyncReplicas") != nil || get(cluster.obj, "spec", "maxSyncReplicas") != nil {
		t.Errorf("Cluster %s: minSyncReplicas/maxSyncReplicas cannot be combined with postgresql.synchronous", cluster.name())
	}
	appSecret := cluster.name() + "-app"

	configMaps := map[string]bool{}
	for _, o := range kinds["ConfigMap"] {
		configMaps[o.name()] = true
	}
	imageNames := map[string]bool{}
	for _, im := range list(kust, "images") {
		imageNames[str(im, "name")] = true
	}

	// Every posthub pod: the database URL from the operator's app Secret, no secret
	// values, non-root, resources.
	var api, worker *k8sObject
	for _, o := range append(slices.Clone(kinds["Deployment"]), kinds["Job"]...) {
		pod := get(o.obj, "spec", "template", "spec")
		if get(pod, "securityContext", "runAsNonRoot") != true {
			t.Errorf("%s: %s %s does not set runAsNonRoot", o.file, o.kind(), o.name())
		}
		containers := podContainers(o)
		if len(containers) == 0 {
			t.Errorf("%s: %s %s has no containers", o.file, o.kind(), o.name())
		}
		for _, c := range containers {
			where := o.kind() + " " + o.name() + " container " + str(c, "name")
			if !imageNames[str(c, "image")] {
				t.Errorf("%s: image %q is not rewritten by kustomization images %v", where, str(c, "image"), imageNames)
			}
			if get(c, "securityContext", "allowPrivilegeEscalation") != false {
				t.Errorf("%s: allowPrivilegeEscalation is not false", where)
			}
			if mapping(c, "resources", "requests") == nil || mapping(c, "resources", "limits") == nil {
				t.Errorf("%s: no resource requests and limits", where)
			}
			dbFromSecret := false
			for _, e := range list(c, "env") {
				name := str(e, "name")
				if get(e, "value") != nil && regexp.MustCompile(`PASSWORD|DATABASE_URL|SMTP_URL|TOKEN|SECRET`).MatchString(name) {
					t.Errorf("%s: %s has a literal value; use secretKeyRef", where, name)
				}
				if name == "DATABASE_URL" {
					ref := mapping(e, "valueFrom", "secretKeyRef")
					if str(ref, "name") != appSecret || str(ref, "key") != "uri" {
						t.Errorf("%s: DATABASE_URL from %v, want secretKeyRef %s key uri", where, ref, appSecret)
					}
					dbFromSecret = true
				}
			}
			if !dbFromSecret {
				t.Errorf("%s: no DATABASE_URL", where)
			}
			for _, ef := range list(c, "envFrom") {
				if n := str(ef, "configMapRef", "name"); n != "" && !configMaps[n] {
					t.Errorf("%s: envFrom ConfigMap %s is not in the manifests", where, n)
				}
			}
			args := strs(c, "args")
			switch {
			case o.kind() == "Job":
				if !slices.Equal(args, []string{"migrate", "up"}) {
					t.Errorf("%s: args %q, want migrate up", where, args)
				}
			case len(args) > 0 && args[0] == "serve":
				api = &o
				if p := str(c, "readinessProbe", "httpGet", "path"); p != "/readyz" {
					t.Errorf("%s: readiness probe %q, want /readyz", where, p)
				}
				if p := str(c, "livenessProbe", "httpGet", "path"); p != "/healthz" {
					t.Errorf("%s: liveness probe %q, want /healthz", where, p)
				}
			case len(args) > 0 && args[0] == "worker":
				worker = &o
			}
		}
	}
	if api == nil || worker == nil {
		t.Fatalf("want a Deployment running serve and one running worker")
	}
	apiLabels := mapping(api.obj, "spec", "template", "metadata", "labels")
	if !subset(mapping(api.obj, "spec", "selector", "matchLabels"), apiLabels) {
		t.Errorf("Deployment %s: selector does not match its pod labels", api.name())
	}
	if _, ok := get(api.obj, "spec", "replicas").(int); ok {
		t.Errorf("Deployment %s sets replicas, which fights its HorizontalPodAutoscaler", api.name())
	}
	var apiPorts []string
	for _, c := range podContainers(*api) {
		for _, p := range list(c, "ports") {
			apiPorts = append(apiPorts, str(p, "name"))
		}
	}

	hpa := kinds["HorizontalPodAutoscaler"][0]
	if ref := mapping(hpa.obj, "spec", "scaleTargetRef"); str(ref, "kind") != "Deployment" || str(ref, "name") != api.name() {
		t.Errorf("HorizontalPodAutoscaler %s scales %v, want Deployment %s", hpa.name(), ref, api.name())
	}
	cpu := false
	for _, m := range list(hpa.obj, "spec", "metrics") {
		cpu = cpu || (str(m, "type") == "Resource" && str(m, "resource", "name") == "cpu")
	}
	if !cpu {
		t.Errorf("HorizontalPodAutoscaler %s does not scale on CPU", hpa.name())
	}
	if min, _ := get(hpa.obj, "spec", "minReplicas").(int); min < 2 {
		t.Errorf("HorizontalPodAutoscaler %s: minReplicas %d, want at least 2", hpa.name(), min)
	}

	pdb := kinds["PodDisruptionBudget"][0]
	if !subset(mapping(pdb.obj, "spec", "selector", "matchLabels"), apiLabels) {
		t.Errorf("PodDisruptionBudget %s does not select the API pods", pdb.name())
	}

	svc := kinds["Service"][0]
	if !subset(mapping(svc.obj, "spec", "selector"), apiLabels) {
		t.Errorf("Service %s does not select the API pods", svc.name())
	}
	var svcPorts []string
	for _, p := range list(svc.obj, "spec", "ports") {
		svcPorts = append(svcPorts, str(p, "name"))
		if tp := str(p, "targetPort"); !slices.Contains(apiPorts, tp) && tp != "8080" {
			t.Errorf("Service %s: targetPort %q is not a port of the API pods %v", svc.name(), tp, apiPorts)
		}
	}

	sm := kinds["ServiceMonitor"][0]
	if !subset(mapping(sm.obj, "spec", "selector", "matchLabels"), mapping(svc.obj, "metadata", "labels")) {
		t.Errorf("ServiceMonitor %s does not select Service %s", sm.name(), svc.name())
	}
	for _, ep := range list(sm.obj, "spec", "endpoints") {
		if !slices.Contains(svcPorts, str(ep, "port")) || str(ep, "path") != "/metrics" {
			t.Errorf("ServiceMonitor %s: endpoint %v, want a Service port and /metrics", sm.name(), ep)
		}
	}
	// The alert rules select job="posthub": the operator names the job after the Service.
	if svc.name() != "posthub" {
		t.Errorf("Service %s: the alert rules expect job=\"posthub\", which the ServiceMonitor derives from the Service name", svc.name())
	}
}

// ---- Metrics: what the dashboard and the alert rules query must be exported ----

var (
	descName   = regexp.MustCompile(`fqName: "([^"]+)"`)
	descLabels = regexp.MustCompile(`variableLabels: \{([^}]*)\}`)
)

// parseDesc reads the name and variable labels out of a Desc's String (the Desc type
// has no accessors).
func parseDesc(d *prometheus.Desc) (string, []string) {
	s := d.String()
	var name string
	if m := descName.FindStringSubmatch(s); m != nil {
		name = m[1]
	}
	var labels []string
	if m := descLabels.FindStringSubmatch(s); m != nil && m[1] != "" {
		for _, l := range strings.Split(m[1], ",") {
			l = strings.TrimSuffix(strings.TrimPrefix(l, "c("), ")")
			labels = append(labels, l)
		}
	}
	return name, labels
}

func describe(c prometheus.Collector) []*prometheus.Desc {
	ch := make(chan *prometheus.Desc)
	go func() {
		c.Describe(ch)
		close(ch)
	}()
	var out []*prometheus.Desc
	for d := range ch {
		out = append(out, d)
	}
	return out
}

// exportedMetrics lists the series names a posthub process exports, with their labels:
// every collector registered by metrics.New, vectors included before they have a
// child, histograms and summaries with their _bucket, _sum and _count series.
func exportedMetrics(t *testing.T) map[string]map[string]bool {
	t.Helper()
	m := metrics.New("test", metrics.Known{})

	// What is registered, with labels: the registry describes every collector.
	registered := map[string][]string{}
	for _, d := range describe(m.Registry) {
		name, labels := parseDesc(d)
		registered[name] = labels
	}

	// A vector exports nothing until it has a child: give every vector of Metrics one,
	// so that Gather tells each family's type.
	v := reflect.ValueOf(m).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanInterface() || ((f.Kind() == reflect.Pointer || f.Kind() == reflect.Interface) && f.IsNil()) {
			continue
		}
		c, ok := f.Interface().(prometheus.Collector)
		if !ok {
			continue
		}
		with := f.MethodByName("WithLabelValues")
		if !with.IsValid() {
			continue
		}
		for _, d := range describe(c) {
			_, labels := parseDesc(d)
			in := make([]reflect.Value, len(labels))
			for j := range in {
				in[j] = reflect.ValueOf("x")
			}
			with.Call(in)
		}
	}
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]dto.MetricType{}
	for _, mf := range families {
		types[mf.GetName()] = mf.GetType()
	}

	out := map[string]map[string]bool{}
	add := func(name string, labels []string, extra ...string) {
		set := map[string]bool{}
		for _, l := range append(labels, extra...) {
			set[l] = true
		}
		out[name] = set
	}
	for name, labels := range registered {
		typ, gathered := types[name]
		if !gathered {
			if strings.HasPrefix(name, "posthub_") {
				t.Errorf("%s is registered but not gathered even after touching every vector of metrics.Metrics: cannot tell its type", name)
			}
			add(name, labels)
			continue
		}
		switch typ {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			add(name+"_bucket", labels, "le")
			add(name+"_sum", labels)
			add(name+"_count", labels)
		case dto.MetricType_SUMMARY:
			add(name, labels, "quantile")
			add(name+"_sum", labels)
			add(name+"_count", labels)
		default:
			add(name, labels)
		}
	}
	// Families a collector exports without describing them (unchecked collectors).
	for _, mf := range families {
		if _, ok := registered[mf.GetName()]; ok {
			continue
		}
		var labels []string
		if len(mf.GetMetric()) > 0 {
			for _, lp := range mf.GetMetric()[0].GetLabel() {
				labels = append(labels, lp.GetName())
			}
		}
		add(mf.GetName(), labels)
	}
	return out
}

func TestExportedMetricsListsVectorsWithoutSamples(t *testing.T) {
	exp := exportedMetrics(t)
	for _, name := range []string{
		"posthub_http_requests_total", "posthub_http_request_duration_seconds_bucket",
		"posthub_http_request_duration_seconds_sum", "posthub_http_request_duration_seconds_count",
		"posthub_booking_transitions_total", "posthub_booking_conflicts_total",
		"posthub_notification_deliveries_total", "posthub_holds", "posthub_river_jobs",
		"posthub_utilisation_ratio", "posthub_tzdata_info", "posthub_metrics_refresh_failures_total",
		"go_goroutines", "process_resident_memory_bytes",
	} {
		if exp[name] == nil {
			t.Errorf("%s is not among the exported metrics", name)
		}
	}
	if exp["posthub_http_request_duration_seconds"] != nil {
		t.Error("a histogram's bare name is listed as a series")
	}
	if !exp["posthub_http_requests_total"]["code"] || !exp["posthub_http_request_duration_seconds_bucket"]["le"] {
		t.Errorf("labels not read: %v %v", exp["posthub_http_requests_total"], exp["posthub_http_request_duration_seconds_bucket"])
	}
}

var (
	// A selector's braces right after a metric name of the service or of the Go and
	// process collectors it registers.
	selector    = regexp.MustCompile(`\b((?:posthub|go|process)_[a-zA-Z0-9_:]+)\s*\{([^}]*)\}`)
	matcher     = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
	grouping    = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	legendLabel = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)
	// Labels Prometheus attaches to every scraped series.
	targetLabels = []string{"job", "instance", "component", "__name__"}
)

// checkQuery returns the metric names q uses and its problems: names the service does
// not export, label matchers, groupings and legend labels that none of its metrics
// carries, and unbalanced brackets.
func checkQuery(q deploy.Query, exported map[string]map[string]bool) (names, problems []string) {
	bad := func(f string, a ...any) { problems = append(problems, q.Where+": "+fmt.Sprintf(f, a...)) }
	bare := deploy.Bare(q.Expr)
	depth := map[rune]int{}
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	for _, r := range bare {
		switch r {
		case '(', '[', '{':
			depth[r]++
		case ')', ']', '}':
			depth[pairs[r]]--
			if depth[pairs[r]] < 0 {
				bad("unbalanced %q in %s", r, q.Expr)
			}
		}
	}
	for r, n := range depth {
		if n != 0 {
			bad("unbalanced %q in %s", r, q.Expr)
		}
	}

	labels := map[string]bool{}
	for _, l := range targetLabels {
		labels[l] = true
	}
	for _, n := range deploy.MetricNames(q.Expr) {
		names = append(names, n)
		ls, ok := exported[n]
		if !ok {
			bad("%s is not a metric posthub exports (expr %s)", n, q.Expr)
			continue
		}
		for l := range ls {
			labels[l] = true
		}
	}
	for _, m := range selector.FindAllStringSubmatch(bare, -1) {
		ls := exported[m[1]]
		if ls == nil {
			continue
		}
		for _, mm := range matcher.FindAllStringSubmatch(m[2], -1) {
			if l := mm[1]; !ls[l] && !slices.Contains(targetLabels, l) {
				bad("%s has no label %q (it has %v)", m[1], l, keys(ls))
			}
		}
	}
	for _, m := range grouping.FindAllStringSubmatch(bare, -1) {
		for _, l := range strings.Split(m[1], ",") {
			if l = strings.TrimSpace(l); l != "" && !labels[l] {
				bad("grouping by %q, a label none of its metrics has (expr %s)", l, q.Expr)
			}
		}
	}
	for _, m := range legendLabel.FindAllStringSubmatch(q.Legend, -1) {
		if !labels[m[1]] {
			bad("legend uses {{%s}}, a label none of its metrics has", m[1])
		}
	}
	return names, problems
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestQueriedMetricsAreExported(t *testing.T) {
	exported := exportedMetrics(t)

	dashboards, err := deploy.DashboardQueries()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	n := 0
	for _, q := range dashboards {
		n++
		names, problems := checkQuery(q, exported)
		for _, p := range problems {
			t.Error(p)
		}
		for _, name := range names {
			used[name] = true
		}
	}
	if n < 10 {
		t.Errorf("only %d queries found in the dashboards", n)
	}
	for _, name := range []string{
		"posthub_utilisation_ratio", "posthub_booking_transitions_total", "posthub_booking_conflicts_total",
		"posthub_holds", "posthub_http_request_duration_seconds_bucket", "posthub_http_requests_total",
		"posthub_river_jobs", "posthub_notification_deliveries_total", "posthub_tzdata_info",
	} {
		if !used[name] {
			t.Errorf("the dashboard has no panel on %s", name)
		}
	}

	alertsUsed := map[string]bool{}
	upUsed := false
	alerts, err := deploy.AlertQueries()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range alerts {
		names, problems := checkQuery(q, exported)
		for _, p := range problems {
			t.Error(p)
		}
		for _, name := range names {
			alertsUsed[name] = true
		}
		upUsed = upUsed || regexp.MustCompile(`\bup\{`).MatchString(q.Expr)
	}
	for _, name := range []string{
		"posthub_http_requests_total", "posthub_http_request_duration_seconds_bucket", "posthub_river_jobs",
		"posthub_notification_deliveries_total", "posthub_metrics_refresh_failures_total", "posthub_booking_conflicts_total",
	} {
		if !alertsUsed[name] {
			t.Errorf("no alert rule on %s", name)
		}
	}
	if !upUsed {
		t.Error("no alert rule on up (target down)")
	}
}

// TestQueryCheckCatchesMistakes makes sure the metric check is not vacuous.
func TestQueryCheckCatchesMistakes(t *testing.T) {
	exported := exportedMetrics(t)
	for _, expr := range []string{
		`rate(posthub_http_request_total[5m])`,                                         // missing s
		`posthub_http_request_duration_seconds{route="/"}`,                             // a histogram's bare name
		`sum by (status) (rate(posthub_http_requests_total[5m]))`,                      // no such label
		`posthub_river_jobs{status="available"}`,                                       // no such label
		`rate(posthub_http_request_duration_seconds_bucket{code="500"}[5m])`,           // the histogram has no code
		`histogram_quantile(0.99, sum by (le) (rate(posthub_http_requests_total[5m]))`, // unbalanced
		`go_goroutinez`, // not from the Go collector
	} {
		if _, problems := checkQuery(deploy.Query{Where: "probe", Expr: expr}, exported); len(problems) == 0 {
			t.Errorf("the query check accepts %s", expr)
		}
	}
	if _, problems := checkQuery(deploy.Query{Where: "probe", Expr: `max by (queue) (posthub_river_jobs{job="posthub", state="x"})`, Legend: "{{site}}"}, exported); len(problems) == 0 {
		t.Error("the query check accepts a legend label the query does not have")
	}
	for _, q := range []deploy.Query{
		{Where: "probe", Expr: `histogram_quantile(0.99, sum by (route, le) (rate(posthub_http_request_duration_seconds_bucket{job="posthub", route!~"/metrics|x"}[5m])))`, Legend: "{{route}}"},
		{Where: "probe", Expr: `up{job="posthub"} == 0`, Legend: "{{instance}}"},
		{Where: "probe", Expr: `rate(process_cpu_seconds_total{instance="a:1"}[1m]) + go_goroutines`, Legend: "{{instance}}"},
		{Where: "probe", Expr: `max by (instance, version) (posthub_tzdata_info)`, Legend: "{{version}}"},
	} {
		if _, problems := checkQuery(q, exported); len(problems) != 0 {
			t.Errorf("the query check refuses %s: %v", q.Expr, problems)
		}
	}
}

func TestDashboard(t *testing.T) {
	b, err := os.ReadFile("grafana/dashboards/posthub.json")
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if str(d, "uid") == "" || str(d, "title") == "" {
		t.Error("the dashboard has no uid or title")
	}
	uids := map[string]bool{}
	for _, ds := range list(yamlDoc(t, "grafana/provisioning/datasources/prometheus.yml"), "datasources") {
		uids[str(ds, "uid")] = true
	}
	ids := map[float64]bool{}
	for _, p := range list(d, "panels") {
		id, _ := get(p, "id").(float64)
		if ids[id] {
			t.Errorf("panel id %v used twice", id)
		}
		ids[id] = true
		if mapping(p, "gridPos") == nil {
			t.Errorf("panel %q has no gridPos", str(p, "title"))
		}
		if str(p, "type") == "row" {
			continue
		}
		if uid := str(p, "datasource", "uid"); !uids[uid] {
			t.Errorf("panel %q uses datasource %q, provisioned are %v", str(p, "title"), uid, keys(uids))
		}
		targets := list(p, "targets")
		if len(targets) == 0 {
			t.Errorf("panel %q has no query", str(p, "title"))
		}
		for _, tg := range targets {
			if str(tg, "expr") == "" {
				t.Errorf("panel %q has a target without expr", str(p, "title"))
			}
		}
	}
}

func TestAlertRules(t *testing.T) {
	names := map[string]bool{}
	for _, g := range list(yamlDoc(t, "prometheus/alerts.yml"), "groups") {
		if str(g, "name") == "" {
			t.Error("a rule group without a name")
		}
		for _, r := range list(g, "rules") {
			name := str(r, "alert")
			if name == "" {
				t.Errorf("group %s: a rule that is not an alert: %v", str(g, "name"), r)
				continue
			}
			if names[name] {
				t.Errorf("alert %s defined twice", name)
			}
			names[name] = true
			if strings.TrimSpace(str(r, "expr")) == "" {
				t.Errorf("alert %s has no expr", name)
			}
			if s := str(r, "labels", "severity"); !slices.Contains([]string{"critical", "warning", "info"}, s) {
				t.Errorf("alert %s: severity %q", name, s)
			}
			if str(r, "annotations", "summary") == "" {
				t.Errorf("alert %s has no summary", name)
			}
		}
	}
	if len(names) < 8 {
		t.Errorf("%d alerts, want at least 8", len(names))
	}
}
