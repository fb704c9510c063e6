package httpapi_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/posthub/posthub/internal/httpapi"
	"github.com/posthub/posthub/internal/web"
)

// The OpenAPI document as far as the checks need it.
type (
	oaDoc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]oaParam `json:"parameters"`
		} `json:"components"`
	}
	oaParam struct {
		Ref      string `json:"$ref"`
		Name     string `json:"name"`
		In       string `json:"in"`
		Required bool   `json:"required"`
	}
	oaOperation struct {
		OperationID string                     `json:"operationId"`
		Parameters  []oaParam                  `json:"parameters"`
		Security    *[]map[string][]string     `json:"security"`
		Roles       []string                   `json:"x-roles"`
		Responses   map[string]json.RawMessage `json:"responses"`
	}
	// oaOp is one operation with where it is.
	oaOp struct {
		Method, Path string
		oaOperation
		pathParams []oaParam // the path item's own parameters
	}
)

var oaMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPIRouter builds the full router (API and web pages) without a database: building
// it touches none of the stores, and /openapi.json needs none.
func openAPIRouter() http.Handler {
	log := slog.New(slog.DiscardHandler)
	return (&httpapi.Server{Logger: log, Mount: []func(*httpapi.Router){(&web.UI{Logger: log}).Register}}).Handler()
}

// fetchOpenAPI gets the document the server embeds and serves.
func fetchOpenAPI(t *testing.T, h http.Handler) (*http.Response, []byte) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// parseOpenAPI decodes the document and lists its operations.
func parseOpenAPI(t *testing.T, raw []byte) (oaDoc, []oaOp) {
	t.Helper()
	var doc oaDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	var ops []oaOp
	for path, item := range doc.Paths {
		var shared []oaParam
		if p, ok := item["parameters"]; ok {
			if err := json.Unmarshal(p, &shared); err != nil {
				t.Fatalf("%s: parameters: %v", path, err)
			}
		}
		for key, v := range item {
			if !slices.Contains(oaMethods, key) {
				continue
			}
			op := oaOp{Method: strings.ToUpper(key), Path: path, pathParams: shared}
			if err := json.Unmarshal(v, &op.oaOperation); err != nil {
				t.Fatalf("%s %s: %v", key, path, err)
			}
			ops = append(ops, op)
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		return ops[i].Path+" "+ops[i].Method < ops[j].Path+" "+ops[j].Method
	})
	return doc, ops
}

// isWebPage reports whether a route is a web page rather than part of the API.
func isWebPage(key string) bool {
	switch key {
	case "GET /login", "POST /login", "GET /static/*":
		return true
	}
	return httpapi.Policies[key].Page
}

// TestOpenAPIMatchesRoutes keeps the document true to the router: every API route is
// documented and every documented operation is registered, every $ref resolves,
// operation ids are unique, and path templates and path parameters agree.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	h := openAPIRouter()
	_, raw := fetchOpenAPI(t, h)
	doc, ops := parseOpenAPI(t, raw)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi is %q, want 3.1.0", doc.OpenAPI)
	}

	registered := map[string]bool{}
	for _, rt := range httpapi.Routes(h) {
		if key := rt.Method + " " + rt.Pattern; !isWebPage(key) {
			registered[key] = true
		}
	}
	if len(registered) == 0 {
		t.Fatal("no API routes registered")
	}
	documented := map[string]bool{}
	for _, op := range ops {
		documented[op.Method+" "+op.Path] = true
	}
	var undocumented, unregistered []string
	for key := range registered {
		if !documented[key] {
			undocumented = append(undocumented, key)
		}
	}
	for key := range documented {
		if !registered[key] {
			unregistered = append(unregistered, key)
		}
	}
	sort.Strings(undocumented)
	sort.Strings(unregistered)
	if len(undocumented) > 0 {
		t.Errorf("API routes registered but missing from openapi.json:\n\t%s", strings.Join(undocumented, "\n\t"))
	}
	if len(unregistered) > 0 {
		t.Errorf("operations in openapi.json that no route serves:\n\t%s", strings.Join(unregistered, "\n\t"))
	}

	// Operation ids: present and unique. Every operation answers something.
	ids := map[string]string{}
	for _, op := range ops {
		where := op.Method + " " + op.Path
		switch prev, dup := ids[op.OperationID]; {
		case op.OperationID == "":
			t.Errorf("%s has no operationId", where)
		case dup:
			t.Errorf("operationId %q used by both %s and %s", op.OperationID, prev, where)
		default:
			ids[op.OperationID] = where
		}
		success := false
		for code := range op.Responses {
			success = success || code[0] == '2' || code[0] == '3'
		}
		if !success {
			t.Errorf("%s documents no success response", where)
		}
	}

	// Path parameters: each {name} in a template has a required in: path parameter of
	// that name, and no in: path parameter names something the template lacks.
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	templateParam := regexp.MustCompile(`\{([^}]+)\}`)
	for _, op := range ops {
		where := op.Method + " " + op.Path
		inPath := map[string]bool{}
		for _, p := range append(slices.Clone(op.pathParams), op.Parameters...) {
			if p.Ref != "" {
				name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/")
				if !ok {
					t.Errorf("%s: parameter $ref %q is not a component parameter", where, p.Ref)
					continue
				}
				if p, ok = doc.Components.Parameters[name]; !ok {
					continue // reported by the $ref check below
				}
			}
			if p.In != "path" {
				continue
			}
			if !p.Required {
				t.Errorf("%s: path parameter %q is not required", where, p.Name)
			}
			inPath[p.Name] = true
		}
		inTemplate := map[string]bool{}
		for _, m := range templateParam.FindAllStringSubmatch(op.Path, -1) {
			inTemplate[m[1]] = true
			if !inPath[m[1]] {
				t.Errorf("%s: {%s} has no in: path parameter", where, m[1])
			}
		}
		for name := range inPath {
			if !inTemplate[name] {
				t.Errorf("%s: path parameter %q is not in the path", where, name)
			}
		}
	}

	// Every $ref points at a component that exists.
	var refs []string
	collectRefs(generic, &refs)
	if len(refs) == 0 {
		t.Error("the document has no $ref at all")
	}
	for _, ref := range refs {
		if !strings.HasPrefix(ref, "#/components/") {
			t.Errorf("$ref %q does not point into #/components", ref)
			continue
		}
		if _, ok := resolvePointer(generic, strings.TrimPrefix(ref, "#")); !ok {
			t.Errorf("$ref %q resolves to nothing", ref)
		}
	}
}

// TestOpenAPISecurityMatchesPolicies checks each operation's security and x-roles
// against the policy table: public routes need nothing, the others a bearer token or
// the session cookie, and x-roles lists exactly the roles the policy allows.
func TestOpenAPISecurityMatchesPolicies(t *testing.T) {
	t.Parallel()
	_, raw := fetchOpenAPI(t, openAPIRouter())
	_, ops := parseOpenAPI(t, raw)
	for _, op := range ops {
		key := op.Method + " " + op.Path
		p, ok := httpapi.Policies[key]
		if !ok {
			continue // TestOpenAPIMatchesRoutes reports it
		}
		if op.Security == nil {
			t.Errorf("%s: no security given", key)
			continue
		}
		if p.Public {
			if len(*op.Security) != 0 || op.Roles != nil {
				t.Errorf("%s is public: want security [] and no x-roles, got %v and %v", key, *op.Security, op.Roles)
			}
			continue
		}
		schemes := map[string]bool{}
		for _, req := range *op.Security {
			for name := range req {
				schemes[name] = true
			}
		}
		if !schemes["bearerAuth"] || !schemes["sessionCookie"] {
			t.Errorf("%s: security %v, want bearerAuth and sessionCookie alternatives", key, *op.Security)
		}
		var want []string
		for _, r := range p.Roles {
			want = append(want, string(r))
		}
		if !slices.Equal(op.Roles, want) {
			t.Errorf("%s: x-roles %v, policy allows %v", key, op.Roles, want)
		}
	}
}

// TestOpenAPIServed checks /openapi.json answers the document, as JSON, as it is in the
// source tree.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	res, body := fetchOpenAPI(t, openAPIRouter())
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi.json: status %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("the served document does not parse: %v", err)
	}
	if v["openapi"] != "3.1.0" {
		t.Errorf("openapi %v, want 3.1.0", v["openapi"])
	}
	onDisk, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(onDisk) != string(body) {
		t.Error("the served document differs from openapi.json")
	}
}

// collectRefs gathers the value of every $ref in a decoded JSON tree.
func collectRefs(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				*out = append(*out, s)
				continue
			}
			collectRefs(x, out)
		}
	case []any:
		for _, x := range v {
			collectRefs(x, out)
		}
	}
}

// resolvePointer follows a JSON Pointer (RFC 6901) through a decoded JSON tree.
func resolvePointer(v any, ptr string) (any, bool) {
	if ptr == "" {
		return v, true
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, false
	}
	unescape := strings.NewReplacer("~1", "/", "~0", "~")
	for _, tok := range strings.Split(ptr[1:], "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[unescape.Replace(tok)]; !ok {
			return nil, false
		}
	}
	return v, true
}
