package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/httpapi"
)

// TestAPIFuzz (issue 16) sends boundary and invalid inputs to every operation of the
// served /openapi.json, as an admin, a manager, a producer and an operator (bearer
// tokens, so no CSRF), and checks every answer:
//
//   - never a 5xx;
//   - every 4xx is application/problem+json whose code is one of the stable codes
//     (httpapi's table from booking/error.go's codes to statuses) and whose status is
//     the one that table gives the code;
//   - a refused request (4xx) writes nothing: a fingerprint of every table of the
//     database (row count and newest writing transaction; api_tokens' and
//     ical_feeds' rows digested without last_used_at, which authenticating keeps) is
//     the same before and after. The one write a refusal may make is documented: a POST sent with a valid
//     Idempotency-Key keeps its answer, 4xx included, in idempotency_keys (README: "An
//     answer with a 5xx status is not kept"); the cases that send one allow exactly
//     that table to change;
//   - an input the input layer's contract says is invalid (fzRefuse: broken text
//     rules and lengths, instants and dates out of range, wrong JSON types, unknown
//     fields, malformed JSON, ids, cursors, ETags, Idempotency-Keys, Content-Types,
//     bodies too big or too deep) is refused: a 2xx to it is a failure, whether or not
//     it wrote. An input only the document's schema calls invalid (fzSpec: a
//     required property missing, a value outside an enum, pattern, minimum or
//     maximum) that is accepted is a disagreement between document and service:
//     a failure (POSTHUB_FUZZ_STRICT=0 only logs and counts it). A boundary input that
//     may well be valid (fzAny: a value at a bound, null or "" for an optional field,
//     an unknown query parameter, a lone surrogate escape) may be accepted. An
//     accepted write is logged, never a failure, and the fixtures it may have used up
//     are made again.
//
// Each case is one operation, one role and one mutation of a request that is
// otherwise valid: path ids are real objects the role can see (a producer's own
// booking, the Casablanca site, …) where an id is needed to reach the body's
// validation, and bogus ones (malformed, nil, random, another kind's) otherwise; the
// body is generated from the operation's schema with values from the demo data. The
// mutations are enumerated from the document: for every body property (nested ones
// included), query parameter, path parameter and the If-Match, Idempotency-Key,
// Authorization and Content-Type headers. Roles the policy table leaves out get a few
// cases each (they must be refused too, 403 or 400). API routes the router registers
// that the document lacks are fuzzed too, with what needs no schema (bad ids, control
// characters, junk bodies), and logged; TestOpenAPIMatchesRoutes fails for them.
//
// What is not sent, and why:
//   - a body on GET: cleanInput and the handlers never read one;
//   - control characters in header values: net/http refuses to send (and to read)
//     them; the header cases use invalid UTF-8 and C1 controls, which HTTP carries;
//   - a query or path over 1 MiB: net/http answers 431 itself (text/plain), before
//     posthub sees the request; the query and path cases stay at 512 KiB, and one
//     2 MiB query is sent to GET /api/v1/bookings to show that answer (431 or a
//     connection closed mid-upload is accepted for it alone);
//   - a valid request: the fuzzer aims at invalid ones. A DELETE or a body-less POST
//     (accept a plan, apply a replan) on a real object is sent only with mutations
//     that must be refused (query and header cases), so a fixture is not used up by a
//     request that is in fact valid;
//   - GET /ical/{token}.ics with a real feed's token: it is exercised with bogus
//     tokens and with the real one under bad query parameters;
//   - /ops/jobs/*, River's UI, is a web page, not in the document (no OpenAPI), and
//     mounted only in the worker process;
//   - nothing is read of an accepted event stream (GET /api/v1/events) but its status
//     and headers: it does not end by itself.
//
// The short run (plain go test) sends fzShortCases cases with a fixed seed: the whole
// enumeration (about 7000 cases), then random combinations of up to three mutations
// (with -short, a tenth: a sample of the enumeration spread evenly over the
// operations). POSTHUB_FUZZ_CASES=N sends N (make fuzz: 100000). POSTHUB_FUZZ_SEED
// changes the seed; POSTHUB_FUZZ_STRICT=0 logs fzSpec disagreements instead of failing;
// POSTHUB_FUZZ_BASELINES=1 first sends every operation's unmutated request as an
// admin (or a producer) and logs the answers, to check that the baselines reach the
// services.
func TestAPIFuzz(t *testing.T) {
	t.Parallel()
	seed := uint64(16)
	if v := os.Getenv("POSTHUB_FUZZ_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("POSTHUB_FUZZ_SEED: %v", err)
		}
		seed = n
	}
	limit := fzShortCases
	if testing.Short() {
		limit = fzShortCases / 10
	}
	if v := os.Getenv("POSTHUB_FUZZ_CASES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("POSTHUB_FUZZ_CASES must be a positive number, not %q", v)
		}
		limit = n
	}
	start := time.Now()
	fz := newAPIFuzzer(t, seed)
	fz.strict = os.Getenv("POSTHUB_FUZZ_STRICT") != "0"
	if os.Getenv("POSTHUB_FUZZ_BASELINES") != "" {
		fz.logBaselines()
	}
	cases := fz.enumerate()
	total := len(cases)
	if len(cases) > limit {
		cases = fzSpread(cases, limit)
	}
	fz.fingerprintNow()
	for _, c := range cases {
		fz.run(c)
	}
	for n := len(cases); n < limit; n++ {
		fz.run(fz.randomCase())
	}
	elapsed := time.Since(start)
	t.Logf("seed %d: %d cases of %d enumerated (%d operations, %d undocumented routes) in %s; %d accepted (%d wrote, %d the document calls invalid), %d refused; %d fixtures made again; %d failures",
		seed, fz.sent, total, len(fz.ops), fz.undocumented, elapsed.Round(time.Millisecond),
		fz.accepted, fz.acceptedWrites, fz.disagreements, fz.refused, fz.fx.remade, fz.failures)
	if fz.failures > fzMaxReported {
		t.Errorf("%d failures in all; the first %d are above", fz.failures, fzMaxReported)
	}
}

const (
	// fzShortCases bounds the plain go test run: about 40 s with -race on two cores.
	fzShortCases = 8000
	// fzMaxReported bounds the failures reported one by one.
	fzMaxReported = 40
	// fzMaxLogged bounds the accepted cases logged.
	fzMaxLogged = 300
	// fzHuge is a string far over the body limit (httpapi.MaxBodyBytes).
	fzHuge = 2 << 20
	// fzLongURL is a query or path value under net/http's 1 MiB header limit.
	fzLongURL = 512 << 10
)

type fzExpect int

// What a mutation's input is, and so what answer it may have (any, always: no 5xx,
// 4xx as problem+json, no write on refusal).
const (
	// fzAny: a boundary input that may well be valid; it may be accepted.
	fzAny fzExpect = iota
	// fzSpec: the document's schema says it is invalid (a required property missing,
	// a value outside an enum, a pattern, a minimum or maximum, an email or URL
	// format), but the input layer's contract does not bound it. Accepting it is a
	// disagreement between the document and the service: logged and counted, a
	// failure unless POSTHUB_FUZZ_STRICT=0.
	fzSpec
	// fzRefuse: invalid by the input layer's contract (README "Security: what is
	// bounded", strict decoding: text rules and lengths, the instants' and dates'
	// range, JSON types, unknown fields, malformed JSON, ids, cursors, If-Match,
	// Idempotency-Key, Content-Type, the body's size and depth): must be refused.
	fzRefuse
)

// fzMut is one mutation of an operation's baseline request.
type fzMut struct {
	label  string
	expect fzExpect
	// idem: the request carries a valid Idempotency-Key, so a refusal may store its
	// answer in idempotency_keys (and nothing else).
	idem bool
	// http431: the URL is over net/http's limit; 431 from net/http, or the connection
	// closed while the request was being sent, is its expected answer.
	http431 bool
	// part is what of the request it changes: path, query, header or body.
	part  string
	apply func(r *fzReq, fx *fzFixtures)
}

type fzCase struct {
	op   *fzOp
	role string
	muts []fzMut
}

func (c fzCase) expect() fzExpect {
	if !httpapi.Policies[c.op.key()].Allows(fzRole(c.role)) {
		return fzRefuse
	}
	e := fzAny
	for _, m := range c.muts {
		e = max(e, m.expect)
	}
	return e
}

func (c fzCase) label() string {
	var ls []string
	for _, m := range c.muts {
		ls = append(ls, m.label)
	}
	return strings.Join(ls, " + ")
}

// fzRoles are the roles the fuzzer calls as (demo users with a test token each).
var fzRoles = []string{"admin", "manager", "producer", "operator"}

// ---------------------------------------------------------------------------------
// The OpenAPI document, as far as the fuzzer needs it.

type fzTypes []string

func (t *fzTypes) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*t = fzTypes{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*t = many
	return nil
}

type fzSchema struct {
	Ref                  string               `json:"$ref"`
	Type                 fzTypes              `json:"type"`
	Format               string               `json:"format"`
	Pattern              string               `json:"pattern"`
	Enum                 []any                `json:"enum"`
	Minimum              *float64             `json:"minimum"`
	Maximum              *float64             `json:"maximum"`
	ExclusiveMinimum     *float64             `json:"exclusiveMinimum"`
	ExclusiveMaximum     *float64             `json:"exclusiveMaximum"`
	MinLength            *int                 `json:"minLength"`
	MinItems             *int                 `json:"minItems"`
	MaxItems             *int                 `json:"maxItems"`
	UniqueItems          bool                 `json:"uniqueItems"`
	Items                *fzSchema            `json:"items"`
	Properties           map[string]*fzSchema `json:"properties"`
	Required             []string             `json:"required"`
	AdditionalProperties json.RawMessage      `json:"additionalProperties"`
	PropertyNames        *fzSchema            `json:"propertyNames"`
	AllOf                []*fzSchema          `json:"allOf"`
	AnyOf                []*fzSchema          `json:"anyOf"`
	OneOf                []*fzSchema          `json:"oneOf"`
	Examples             []json.RawMessage    `json:"examples"`
}

func (s *fzSchema) has(typ string) bool { return slices.Contains(s.Type, typ) }

// mapOf is the schema of a map's values (additionalProperties given as a schema).
func (s *fzSchema) mapOf() *fzSchema {
	if len(s.AdditionalProperties) == 0 || s.AdditionalProperties[0] != '{' {
		return nil
	}
	var v fzSchema
	if json.Unmarshal(s.AdditionalProperties, &v) != nil {
		return nil
	}
	return &v
}

// closed reports whether the object takes no properties but its own.
func (s *fzSchema) closed() bool { return string(s.AdditionalProperties) == "false" }

type fzParam struct {
	Ref      string    `json:"$ref"`
	Name     string    `json:"name"`
	In       string    `json:"in"`
	Required bool      `json:"required"`
	Explode  *bool     `json:"explode"`
	Schema   *fzSchema `json:"schema"`
}

type fzOperation struct {
	Parameters  []fzParam `json:"parameters"`
	RequestBody *struct {
		Required bool `json:"required"`
		Content  map[string]struct {
			Schema *fzSchema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

type fzDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas    map[string]*fzSchema `json:"schemas"`
		Parameters map[string]fzParam   `json:"parameters"`
	} `json:"components"`
}

// fzOp is one operation: its method, path template, parameters and body schema.
type fzOp struct {
	method, path string
	params       []fzParam
	body         *fzSchema // nil: no request body
	bodyRequired bool
	documented   bool
}

func (o *fzOp) key() string { return o.method + " " + o.path }

func (o *fzOp) param(in string) []fzParam {
	var ps []fzParam
	for _, p := range o.params {
		if p.In == in {
			ps = append(ps, p)
		}
	}
	return ps
}

func (o *fzOp) hasHeader(name string) bool {
	for _, p := range o.param("header") {
		if strings.EqualFold(p.Name, name) {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------------
// The fuzzer.

type apiFuzzer struct {
	t     *testing.T
	b     *testBundle
	doc   fzDoc
	ops   []*fzOp
	fx    *fzFixtures
	rng   *rand.Rand
	http  *http.Client
	ctx   context.Context
	fpSQL string
	fpTab []string
	last  []string

	// per-op mutation lists, built once
	muts map[*fzOp][]fzMut

	logged map[string]bool

	sent, accepted, acceptedWrites, refused, failures, undocumented, disagreements int
	strict                                                                         bool
}

func newAPIFuzzer(t *testing.T, seed uint64) *apiFuzzer {
	t.Helper()
	// The fuzzer sends thousands of requests per token: no rate limit.
	b := setup(t, &setupOpts{limits: httpapi.Limits{PerCredential: 1 << 30, PerUser: 1 << 30}})
	fz := &apiFuzzer{t: t, b: b, rng: rand.New(rand.NewPCG(seed, 16)), ctx: context.Background(),
		http: &http.Client{Timeout: 2 * time.Minute,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		muts: map[*fzOp][]fzMut{}, logged: map[string]bool{}}
	fz.loadDoc()
	fz.fx = newFixtures(fz)
	fz.prepareFingerprint()
	return fz
}

// loadDoc reads the document the server serves and lists its operations, and the API
// routes the router has that it lacks.
func (fz *apiFuzzer) loadDoc() {
	t := fz.t
	res, err := fz.http.Get(fz.b.srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if err := json.Unmarshal(raw, &fz.doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	seen := map[string]bool{}
	for path, item := range fz.doc.Paths {
		var shared []fzParam
		if p, ok := item["parameters"]; ok {
			if err := json.Unmarshal(p, &shared); err != nil {
				t.Fatalf("%s: parameters: %v", path, err)
			}
		}
		for m, rawOp := range item {
			if !slices.Contains([]string{"get", "put", "post", "delete", "patch"}, m) {
				continue
			}
			var o fzOperation
			if err := json.Unmarshal(rawOp, &o); err != nil {
				t.Fatalf("%s %s: %v", m, path, err)
			}
			op := &fzOp{method: strings.ToUpper(m), path: path, documented: true}
			for _, p := range append(append([]fzParam{}, shared...), o.Parameters...) {
				op.params = append(op.params, fz.resolveParam(p))
			}
			if rb := o.RequestBody; rb != nil {
				op.bodyRequired = rb.Required
				if c, ok := rb.Content["application/json"]; ok {
					op.body = c.Schema
				} else {
					t.Fatalf("%s: a request body without application/json", op.key())
				}
			}
			fz.ops = append(fz.ops, op)
			seen[op.key()] = true
		}
	}
	// Registered API routes the document lacks: fuzzed without a schema.
	log := slog.New(slog.DiscardHandler)
	for _, rt := range httpapi.Routes((&httpapi.Server{Logger: log}).Handler()) {
		key := rt.Method + " " + rt.Pattern
		if !strings.HasPrefix(rt.Pattern, "/api/") || seen[key] {
			continue
		}
		op := &fzOp{method: rt.Method, path: rt.Pattern}
		if strings.Contains(rt.Pattern, "{id}") {
			op.params = append(op.params, fzParam{Name: "id", In: "path", Required: true, Schema: &fzSchema{Type: fzTypes{"string"}, Format: "uuid"}})
		}
		if rt.Method != "GET" && rt.Method != "DELETE" {
			op.body = &fzSchema{Type: fzTypes{"object"}}
		}
		fz.t.Logf("%s is registered but not in openapi.json: fuzzed without its schema", key)
		fz.undocumented++
		fz.ops = append(fz.ops, op)
	}
	sort.Slice(fz.ops, func(i, j int) bool { return fz.ops[i].key() < fz.ops[j].key() })
	if len(fz.ops) < 40 {
		t.Fatalf("only %d operations in openapi.json", len(fz.ops))
	}
}

func (fz *apiFuzzer) resolveParam(p fzParam) fzParam {
	if p.Ref != "" {
		name := strings.TrimPrefix(p.Ref, "#/components/parameters/")
		q, ok := fz.doc.Components.Parameters[name]
		if !ok {
			fz.t.Fatalf("unresolved %s", p.Ref)
		}
		p = q
	}
	if p.Schema == nil {
		p.Schema = &fzSchema{Type: fzTypes{"string"}}
	}
	return p
}

// resolve follows a schema's $ref, and an allOf of one schema that only wraps it (to
// give it a description of its own).
func (fz *apiFuzzer) resolve(s *fzSchema) *fzSchema {
	for s != nil {
		if s.Ref == "" && len(s.AllOf) == 1 && len(s.Type) == 0 && len(s.Properties) == 0 {
			s = s.AllOf[0]
			continue
		}
		if s.Ref == "" {
			break
		}
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		r, ok := fz.doc.Components.Schemas[name]
		if !ok {
			fz.t.Fatalf("unresolved %s", s.Ref)
		}
		s = r
	}
	if s == nil {
		return &fzSchema{}
	}
	return s
}

// required lists an object's required properties and those of the first choice of
// each anyOf and oneOf, so the baseline takes one valid shape.
func (fz *apiFuzzer) required(s *fzSchema) []string {
	s = fz.resolve(s)
	req := append([]string{}, s.Required...)
	for _, x := range s.AllOf {
		req = append(req, fz.required(x)...)
	}
	for _, alts := range [][]*fzSchema{s.AnyOf, s.OneOf} {
		if len(alts) > 0 {
			req = append(req, fz.required(alts[0])...)
		}
	}
	slices.Sort(req)
	return slices.Compact(req)
}

// ---------------------------------------------------------------------------------
// Requests.

// fzNum is a JSON number written as it is (it may be one JSON cannot hold: NaN).
type fzNum string

// fzRaw is JSON text written as it is (invalid UTF-8, a raw NUL, …).
type fzRaw []byte

type fzKV struct {
	key, value string
	raw        bool // already percent-encoded (or deliberately not)
}

// fzReq is a request being built: a baseline, then mutated.
type fzReq struct {
	method   string
	path     string            // template
	pathArgs map[string]fzPath // template parameter → value
	query    []fzKV
	rawQuery string // appended as it is
	header   http.Header
	body     any    // JSON tree; nil with hasBody false: no body
	rawBody  []byte // replaces body when set
	hasBody  bool
	ctype    string
}

type fzPath struct {
	value string
	raw   bool
}

func (r *fzReq) dropQuery(k string) {
	r.query = slices.DeleteFunc(r.query, func(x fzKV) bool { return x.key == k })
}

func (r *fzReq) url() string {
	path := r.path
	for name, v := range r.pathArgs {
		val := v.value
		if !v.raw {
			val = url.PathEscape(val)
		}
		path = strings.Replace(path, "{"+name+"}", val, 1)
	}
	var qs []string
	for _, kv := range r.query {
		if kv.raw {
			qs = append(qs, kv.key+"="+kv.value)
		} else {
			qs = append(qs, url.QueryEscape(kv.key)+"="+url.QueryEscape(kv.value))
		}
	}
	if r.rawQuery != "" {
		qs = append(qs, r.rawQuery)
	}
	if len(qs) > 0 {
		path += "?" + strings.Join(qs, "&")
	}
	return path
}

func (r *fzReq) bodyBytes() []byte {
	if r.rawBody != nil {
		return r.rawBody
	}
	if !r.hasBody {
		return nil
	}
	var buf bytes.Buffer
	fzEncode(&buf, r.body)
	return buf.Bytes()
}

// fzEncode writes a JSON tree, keys sorted, fzNum and fzRaw as they are.
func fzEncode(buf *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		buf.WriteString("null")
	case fzNum:
		buf.WriteString(string(v))
	case fzRaw:
		buf.Write(v)
	case map[string]any:
		buf.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(v)) {
			if i > 0 {
				buf.WriteByte(',')
			}
			fzEncode(buf, k)
			buf.WriteByte(':')
			fzEncode(buf, v[k])
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			fzEncode(buf, x)
		}
		buf.WriteByte(']')
	default:
		j, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("fzEncode %T: %v", v, err))
		}
		buf.Write(j)
	}
}

// fzStep is one step of a path into a body: a key (or an array index) and the schema
// of the value there, to make the value when the baseline lacks it.
type fzStep struct {
	key    string
	idx    int
	isIdx  bool
	name   string // the JSON field's name: the key, or the array's for an item
	schema *fzSchema
}

func fzPathString(steps []fzStep) string {
	var b strings.Builder
	for _, s := range steps {
		if s.isIdx {
			fmt.Fprintf(&b, "[%d]", s.idx)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

// edit changes the value at steps: f gets the value there (made from the schema when
// the baseline lacks it) and returns the new value, or del to delete it, or a new key
// to move it to (rename).
type fzEdit func(old any) (v any, del bool, rename string)

func (fz *apiFuzzer) editAt(node any, steps []fzStep, f fzEdit) any {
	if len(steps) == 0 {
		v, _, _ := f(node)
		return v
	}
	st := steps[0]
	if st.isIdx {
		arr, _ := node.([]any)
		for len(arr) <= st.idx {
			arr = append(arr, fz.gen(st.name, st.schema))
		}
		if len(steps) == 1 {
			v, del, _ := f(arr[st.idx])
			if del {
				return append(arr[:st.idx], arr[st.idx+1:]...)
			}
			arr[st.idx] = v
			return arr
		}
		arr[st.idx] = fz.editAt(arr[st.idx], steps[1:], f)
		return arr
	}
	m, _ := node.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	cur, ok := m[st.key]
	if !ok {
		cur = fz.gen(st.name, st.schema)
	}
	if len(steps) == 1 {
		v, del, rename := f(cur)
		switch {
		case del:
			delete(m, st.key)
		case rename != "":
			delete(m, st.key)
			m[rename] = v
		default:
			m[st.key] = v
		}
		return m
	}
	m[st.key] = fz.editAt(cur, steps[1:], f)
	return m
}

// ---------------------------------------------------------------------------------
// Baselines: a valid request for every operation, from the schema and the demo data.

// baseline is op's request as it would be valid (or as near as the schema says).
func (fz *apiFuzzer) baseline(op *fzOp) *fzReq {
	r := &fzReq{method: op.method, path: op.path, pathArgs: map[string]fzPath{}, header: http.Header{}}
	for _, p := range op.param("path") {
		r.pathArgs[p.Name] = fzPath{value: fz.fx.pathID(op, p.Name)}
	}
	for _, p := range op.param("query") {
		if !p.Required {
			continue
		}
		for _, v := range fz.queryValues(p, fz.gen(p.Name, p.Schema)) {
			r.query = append(r.query, fzKV{key: p.Name, value: v})
		}
	}
	if op.body != nil {
		r.ctype = "application/json"
		r.hasBody = true
		r.body = fz.gen("", op.body)
		props := fz.properties(op.body)
		for _, k := range fzBaselineExtras[op.key()] {
			if m, ok := r.body.(map[string]any); ok && props[k] != nil {
				m[k] = fz.gen(k, props[k])
			}
		}
	}
	return r
}

// fzBaselineExtras are optional properties a baseline needs to be valid: required for
// some callers (organisation_id for admins), or one of two the schema cannot say must
// be given (a plan's template or stages, a rate card's kind or resource), or one the
// service requires that the document leaves optional (a week).
var fzBaselineExtras = map[string][]string{
	"POST /api/v1/productions":             {"organisation_id"},
	"POST /api/v1/plans":                   {"template"},
	"POST /api/v1/rate-cards":              {"kind"},
	"PUT /api/v1/sites/{id}/calendar/week": {"week"},
}

// queryValues writes a generated value as a query parameter's values: an array
// exploded (demand=a&demand=b) or joined with commas (explode false).
func (fz *apiFuzzer) queryValues(p fzParam, v any) []string {
	arr, ok := v.([]any)
	if !ok {
		return []string{fzText(v)}
	}
	var out []string
	for _, x := range arr {
		out = append(out, fzText(x))
	}
	if p.Explode != nil && !*p.Explode {
		return []string{strings.Join(out, ",")}
	}
	return out
}

func fzText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case fzNum:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return ""
	}
	var buf bytes.Buffer
	fzEncode(&buf, v)
	return buf.String()
}

// gen makes a valid value for a field called name of schema s.
func (fz *apiFuzzer) gen(name string, s *fzSchema) any {
	s = fz.resolve(s)
	if v, ok := fz.fx.named(name, s); ok {
		return v
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	if s.Format != "" && s.has("string") {
		return fz.fx.stringFor(name, s) // an example of a time is no time in particular
	}
	if len(s.Examples) > 0 {
		dec := json.NewDecoder(bytes.NewReader(s.Examples[0]))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil {
			return fzFromJSON(v)
		}
	}
	switch {
	case s.has("object") || s.Properties != nil || len(s.AllOf) > 0:
		m := map[string]any{}
		props := fz.properties(s)
		for _, k := range fz.required(s) {
			if ps, ok := props[k]; ok {
				m[k] = fz.gen(k, ps)
			}
		}
		if ms := s.mapOf(); ms != nil && len(m) == 0 && s.PropertyNames != nil && len(s.PropertyNames.Enum) > 0 {
			k := fmt.Sprint(s.PropertyNames.Enum[0])
			m[k] = fz.gen(k, ms)
		}
		return m
	case s.has("array"):
		return []any{fz.gen(name, s.Items)}
	case s.has("string"):
		return fz.fx.stringFor(name, s)
	case s.has("integer"):
		if s.Minimum != nil {
			return fzNum(strconv.FormatFloat(*s.Minimum, 'f', -1, 64))
		}
		return fzNum("1")
	case s.has("number"):
		if s.Minimum != nil && *s.Minimum > 1 {
			return fzNum(strconv.FormatFloat(*s.Minimum, 'f', -1, 64))
		}
		return fzNum("1")
	case s.has("boolean"):
		return false
	}
	return "fuzz"
}

// properties are an object schema's properties, allOf's merged in.
func (fz *apiFuzzer) properties(s *fzSchema) map[string]*fzSchema {
	s = fz.resolve(s)
	out := map[string]*fzSchema{}
	for k, v := range s.Properties {
		out[k] = v
	}
	for _, x := range s.AllOf {
		for k, v := range fz.properties(x) {
			if _, ok := out[k]; !ok {
				out[k] = v
			}
		}
	}
	return out
}

// fzFromJSON turns a decoded example (UseNumber) into a tree fzEncode writes.
func fzFromJSON(v any) any {
	switch v := v.(type) {
	case json.Number:
		return fzNum(v.String())
	case map[string]any:
		for k, x := range v {
			v[k] = fzFromJSON(x)
		}
	case []any:
		for i, x := range v {
			v[i] = fzFromJSON(x)
		}
	}
	return v
}

// ---------------------------------------------------------------------------------
// Fixtures: real objects from the demo data, and some made through the API, that
// baselines name. A request that is accepted and writes may use one up (a released
// hold, a deleted block); refresh makes it again.

type fzFixtures struct {
	fz     *apiFuzzer
	ids    map[string]uuid.UUID // fixture name → id
	feed   string               // a real iCalendar feed token
	weeks  int                  // weeks used for fixtures' slots
	base   time.Time            // a Monday 10:00 UTC some weeks ahead
	policy map[string]json.RawMessage
	week   map[string]json.RawMessage
	seq    int
	remade int // fixtures made again, policies and weeks put back

	keepFences, keepTokens map[string]bool // the ring-fences and producer's tokens before fuzzing
	membership             json.RawMessage // the fixture production's programme and emerging
	// edits are the fields of fixtures an accepted PATCH may change, as they were.
	edits map[string]json.RawMessage
}

func newFixtures(fz *apiFuzzer) *fzFixtures {
	fx := &fzFixtures{fz: fz, ids: map[string]uuid.UUID{}, policy: map[string]json.RawMessage{}, week: map[string]json.RawMessage{}}
	now := time.Now().UTC()
	d := now.AddDate(0, 0, 56)
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, 1)
	}
	fx.base = time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, time.UTC)
	q := func(name, sql string, args ...any) {
		var id uuid.UUID
		if err := fz.b.db.Pool.QueryRow(fz.ctx, sql, args...).Scan(&id); err != nil {
			fz.t.Fatalf("fixture %s: %v", name, err)
		}
		fx.ids[name] = id
	}
	q("site", `SELECT id FROM sites WHERE slug = 'casablanca'`)
	q("dakar", `SELECT id FROM sites WHERE slug = 'dakar'`)
	q("resource", `SELECT id FROM resources WHERE name = 'Grading Suite 1 — Zellige'`)
	q("resource2", `SELECT id FROM resources WHERE name = 'Grading Suite 2 — Anfa'`)
	q("resource3", `SELECT id FROM resources WHERE name = 'Grading Suite 3 — Oasis'`)
	q("org", `SELECT id FROM organisations WHERE slug = 'teranga-lumiere'`)
	q("production", `SELECT id FROM productions WHERE title = 'Xaritu Ndox'`)
	q("rate_card", `SELECT id FROM rate_cards ORDER BY id LIMIT 1`)
	q("ring_fence", `SELECT id FROM ring_fences ORDER BY id LIMIT 1`)
	fx.ids["user"] = fz.b.users["producer"]
	for _, site := range []string{"site", "dakar"} {
		fx.policy[site] = fx.get("manager", "/api/v1/sites/"+fx.ids[site].String()+"/policy")
		var cal struct {
			Week json.RawMessage `json:"week"`
		}
		if err := json.Unmarshal(fx.get("manager", "/api/v1/sites/"+fx.ids[site].String()+"/calendar"), &cal); err != nil {
			fz.t.Fatal(err)
		}
		fx.week[site] = cal.Week
	}
	for _, name := range fzFixtureNames {
		fx.make(name)
	}
	fx.keepFences = fx.listIDs("admin", "/api/v1/ring-fences")
	fx.keepTokens = fx.listIDs("producer", "/api/v1/tokens")
	fx.membership = fx.membershipNow()
	fx.edits = map[string]json.RawMessage{}
	for _, e := range fzEditable {
		fx.edits[e.fixture] = fx.editableNow(e)
	}
	return fx
}

// listIDs lists the ids of a list answer's items.
func (fx *fzFixtures) listIDs(role, path string) map[string]bool {
	var l struct {
		Items []struct {
			ID        string  `json:"id"`
			RevokedAt *string `json:"revoked_at"`
		} `json:"items"`
	}
	if err := json.Unmarshal(fx.get(role, path), &l); err != nil {
		fx.fz.t.Fatalf("%s: %v", path, err)
	}
	ids := map[string]bool{}
	for _, it := range l.Items {
		if it.RevokedAt == nil {
			ids[it.ID] = true
		}
	}
	return ids
}

// fzEditable are the fixtures the catalogue's PATCH routes may change when a mutation
// is accepted (a name at its longest, a rate of 0): refresh puts their fields back, so
// later fixtures (a plan sized by the production's runtime, a booking of the resource)
// are made as at the start.
var fzEditable = []struct {
	fixture, list, path string
	fields              []string
}{
	{"site", "", "/api/v1/sites/", []string{"slug", "name", "country", "time_zone", "currency", "active"}},
	{"resource", "", "/api/v1/resources/", []string{"name", "category", "kind", "capabilities", "rate_minor", "rate_unit", "trainee_capacity", "active"}},
	{"production", "", "/api/v1/productions/", []string{"title", "format", "runtime_minutes", "origins"}},
	{"org", "/api/v1/organisations", "/api/v1/organisations/", []string{"slug", "name", "country"}},
	{"user", "/api/v1/users", "/api/v1/users/", []string{"name", "role", "locale", "organisation_id", "active", "site_ids"}},
}

// editableNow is a fixture's editable fields as they are, read by admin.
func (fx *fzFixtures) editableNow(e struct {
	fixture, list, path string
	fields              []string
}) json.RawMessage {
	id := fx.ids[e.fixture].String()
	var obj map[string]json.RawMessage
	if e.list == "" {
		_ = json.Unmarshal(fx.get("admin", e.path+id), &obj)
	} else {
		var l struct {
			Items []map[string]json.RawMessage `json:"items"`
		}
		_ = json.Unmarshal(fx.get("admin", e.list), &l)
		for _, it := range l.Items {
			if string(it["id"]) == `"`+id+`"` {
				obj = it
			}
		}
	}
	out := map[string]json.RawMessage{}
	for _, f := range e.fields {
		out[f] = obj[f]
	}
	b, _ := json.Marshal(out)
	return b
}

// membershipNow is the fixture production's programme and emerging status.
func (fx *fzFixtures) membershipNow() json.RawMessage {
	var p struct {
		Programme string `json:"programme"`
		Emerging  bool   `json:"emerging"`
	}
	_ = json.Unmarshal(fx.get("admin", "/api/v1/productions/"+fx.ids["production"].String()), &p)
	b, _ := json.Marshal(p)
	return b
}

// fzFixtureNames are the fixtures made through the API, in the order they need.
var fzFixtureNames = []string{"hold", "confirmed", "holiday", "override", "block", "token", "webhook", "feed", "quote", "plan", "replan"}

// slot is the next unused fixture week's Monday 10:00–12:00 UTC (Casablanca's clock
// is UTC+00 all year from 2026).
func (fx *fzFixtures) slot() (string, string) {
	s := fx.base.AddDate(0, 0, 7*(fx.weeks+1))
	fx.weeks++
	return s.Format(time.RFC3339), s.Add(2 * time.Hour).Format(time.RFC3339)
}

func (fx *fzFixtures) get(role, path string) json.RawMessage {
	st, body := fx.fz.api("GET", path, role, nil)
	if st != 200 {
		fx.fz.t.Fatalf("fixture GET %s: %d %s", path, st, body)
	}
	return body
}

// make creates the named fixture through the API.
func (fx *fzFixtures) make(name string) {
	fz := fx.fz
	id := func(s uuid.UUID) string { return s.String() }
	create := func(role, path string, body any, want ...int) []byte {
		st, res := fz.api("POST", path, role, body)
		// A slot taken or closed (a holiday the fuzzing added): the next week's.
		for try := 0; try < 10 && (st == 409 || st == 422) && body.(map[string]any)["start"] != nil; try++ {
			body.(map[string]any)["start"], body.(map[string]any)["end"] = fx.slot()
			st, res = fz.api("POST", path, role, body)
		}
		if !slices.Contains(want, st) {
			fz.t.Fatalf("fixture %s: POST %s as %s: %d %s", name, path, role, st, res)
		}
		var v struct {
			ID    uuid.UUID `json:"id"`
			Token string    `json:"token"`
		}
		_ = json.Unmarshal(res, &v)
		fx.ids[name] = v.ID
		if name == "feed" {
			fx.feed = v.Token
		}
		return res
	}
	fx.seq++
	switch name {
	case "hold":
		s, e := fx.slot()
		create("producer", "/api/v1/bookings", map[string]any{"production_id": id(fx.ids["production"]),
			"resource_id": id(fx.ids["resource"]), "start": s, "end": e}, 201)
	case "confirmed":
		s, e := fx.slot()
		create("manager", "/api/v1/bookings", map[string]any{"production_id": id(fx.ids["production"]),
			"resource_id": id(fx.ids["resource2"]), "start": s, "end": e, "status": "confirmed"}, 201)
	case "holiday":
		create("manager", "/api/v1/holidays", map[string]any{"site_id": id(fx.ids["site"]),
			"date": fx.base.AddDate(0, 0, 400+fx.seq).Format(time.DateOnly), "name": "Fuzz closure", "provisional": true}, 201)
	case "override":
		d := fx.base.AddDate(0, 0, 500+fx.seq).Format(time.DateOnly)
		create("manager", "/api/v1/sites/"+id(fx.ids["site"])+"/calendar/overrides",
			map[string]any{"name": "Fuzz hours", "from": d, "to": d, "week": map[string]any{}}, 201)
	case "block":
		s, e := fx.slot()
		create("manager", "/api/v1/blocks", map[string]any{"resource_id": id(fx.ids["resource3"]),
			"start": s, "end": e, "kind": "maintenance"}, 201)
	case "token":
		create("producer", "/api/v1/tokens", map[string]any{"name": "fuzz target"}, 201)
	case "webhook":
		create("producer", "/api/v1/webhooks", map[string]any{"url": "https://example.com/posthub"}, 201)
	case "feed":
		create("producer", "/api/v1/ical-feeds", map[string]any{"kind": "production", "id": id(fx.ids["production"])}, 201)
	case "quote":
		create("producer", "/api/v1/quotes", map[string]any{"booking_id": id(fx.ids["hold"])}, 201)
	case "plan":
		create("producer", "/api/v1/plans", map[string]any{"production_id": id(fx.ids["production"]),
			"site_id": id(fx.ids["site"]), "template": "short",
			"earliest_start": fx.base.AddDate(0, 0, 7*40).Format(time.RFC3339)}, 200, 201)
	case "replan":
		create("manager", "/api/v1/replans", map[string]any{"site_id": id(fx.ids["site"]),
			"from": fx.base.Format(time.RFC3339), "to": fx.base.AddDate(0, 0, 28).Format(time.RFC3339)}, 200, 201)
	default:
		fz.t.Fatalf("no fixture %s", name)
	}
	if fx.ids[name] == uuid.Nil {
		fz.t.Fatalf("fixture %s: no id in the answer", name)
	}
}

// fzFixtureCheck says, for each fixture, the query that finds it still usable.
var fzFixtureCheck = map[string]string{
	"hold":      `SELECT EXISTS (SELECT 1 FROM booking_groups WHERE id = $1 AND status = 'hold')`,
	"confirmed": `SELECT EXISTS (SELECT 1 FROM booking_groups WHERE id = $1 AND status = 'confirmed')`,
	"holiday":   `SELECT EXISTS (SELECT 1 FROM holidays WHERE id = $1 AND provisional)`,
	"override":  `SELECT EXISTS (SELECT 1 FROM calendar_overrides WHERE id = $1)`,
	"block":     `SELECT EXISTS (SELECT 1 FROM resource_blocks WHERE id = $1)`,
	"token":     `SELECT EXISTS (SELECT 1 FROM api_tokens WHERE id = $1 AND revoked_at IS NULL)`,
	"webhook":   `SELECT EXISTS (SELECT 1 FROM webhooks WHERE id = $1)`,
	"feed":      `SELECT EXISTS (SELECT 1 FROM ical_feeds WHERE id = $1 AND revoked_at IS NULL)`,
	"quote":     `SELECT EXISTS (SELECT 1 FROM quotes WHERE id = $1)`,
	"plan":      `SELECT EXISTS (SELECT 1 FROM plans WHERE id = $1 AND status = 'proposed')`,
	"replan":    `SELECT EXISTS (SELECT 1 FROM replans WHERE id = $1 AND status = 'proposed')`,
}

// refresh makes again the fixtures an accepted request used up, and puts the sites'
// policies and weeks back as they were.
func (fx *fzFixtures) refresh() {
	fz := fx.fz
	for _, name := range fzFixtureNames {
		var ok bool
		if err := fz.b.db.Pool.QueryRow(fz.ctx, fzFixtureCheck[name], fx.ids[name]).Scan(&ok); err != nil {
			fz.t.Fatalf("checking fixture %s: %v", name, err)
		}
		if !ok {
			fx.remade++
			fx.make(name)
		}
	}
	for _, name := range []string{"rate_card", "ring_fence"} {
		var ok bool
		table := map[string]string{"rate_card": "rate_cards", "ring_fence": "ring_fences"}[name]
		if err := fz.b.db.Pool.QueryRow(fz.ctx, `SELECT EXISTS (SELECT 1 FROM `+table+` WHERE id = $1)`, fx.ids[name]).Scan(&ok); err != nil {
			fz.t.Fatal(err)
		}
		if !ok {
			var id uuid.UUID
			if err := fz.b.db.Pool.QueryRow(fz.ctx, `SELECT id FROM `+table+` ORDER BY id LIMIT 1`).Scan(&id); err != nil {
				fz.t.Fatalf("fixture %s was used up and none is left: %v", name, err)
			}
			fx.ids[name] = id
			fx.remade++
		}
	}
	// What an accepted request may have added that keeps fixtures from being made: a
	// ring-fence reserving a whole kind, a producer's tenth token.
	for id := range fx.listIDs("admin", "/api/v1/ring-fences") {
		if !fx.keepFences[id] && id != fx.ids["ring_fence"].String() {
			if st, res := fz.api("DELETE", "/api/v1/ring-fences/"+id, "admin", nil); st != 204 {
				fz.t.Fatalf("deleting ring-fence %s: %d %s", id, st, res)
			}
			fx.remade++
		}
	}
	for id := range fx.listIDs("producer", "/api/v1/tokens") {
		if !fx.keepTokens[id] && id != fx.ids["token"].String() {
			if st, res := fz.api("DELETE", "/api/v1/tokens/"+id, "producer", nil); st != 204 {
				fz.t.Fatalf("revoking token %s: %d %s", id, st, res)
			}
			fx.remade++
		}
	}
	for _, e := range fzEditable {
		if now := fx.editableNow(e); !bytes.Equal(now, fx.edits[e.fixture]) {
			if st, res := fz.api("PATCH", e.path+fx.ids[e.fixture].String(), "admin", fx.edits[e.fixture]); st != 200 {
				fz.t.Fatalf("restoring fixture %s: %d %s", e.fixture, st, res)
			}
			fx.remade++
		}
	}
	if m := fx.membershipNow(); !bytes.Equal(m, fx.membership) {
		if st, res := fz.api("PUT", "/api/v1/productions/"+fx.ids["production"].String()+"/membership", "admin", fx.membership); st != 200 {
			fz.t.Fatalf("restoring the production's membership: %d %s", st, res)
		}
		fx.remade++
	}
	for _, site := range []string{"site", "dakar"} {
		sid := fx.ids[site].String()
		if cur := fx.get("manager", "/api/v1/sites/"+sid+"/policy"); !bytes.Equal(fzCompact(cur), fzCompact(fx.policy[site])) {
			var p map[string]any
			_ = json.Unmarshal(fx.policy[site], &p)
			delete(p, "site_id")
			if st, res := fz.api("PUT", "/api/v1/sites/"+sid+"/policy", "manager", p); st != 200 {
				fz.t.Fatalf("restoring %s's policy: %d %s", site, st, res)
			}
			fx.remade++
		}
		var cal struct {
			Week json.RawMessage `json:"week"`
		}
		_ = json.Unmarshal(fx.get("manager", "/api/v1/sites/"+sid+"/calendar"), &cal)
		if !bytes.Equal(fzCompact(cal.Week), fzCompact(fx.week[site])) {
			if st, res := fz.api("PUT", "/api/v1/sites/"+sid+"/calendar/week", "manager", map[string]any{"week": fx.week[site]}); st != 200 && st != 204 {
				fz.t.Fatalf("restoring %s's week: %d %s", site, st, res)
			}
			fx.remade++
		}
	}
}

func fzCompact(b []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

// fzPathFixture names the fixture a path's {id} takes in the baseline, by route.
var fzPathFixture = []struct{ prefix, fixture string }{
	{"/api/v1/sites/", "site"},
	{"/api/v1/resources/", "resource"},
	{"/api/v1/productions/", "production"},
	{"/api/v1/organisations/", "org"},
	{"/api/v1/users/", "user"},
	{"/api/v1/tokens/", "token"},
	{"/api/v1/bookings/{id}/cancel", "confirmed"},
	{"/api/v1/bookings/", "hold"},
	{"/api/v1/calendar/overrides/", "override"},
	{"/api/v1/holidays/", "holiday"},
	{"/api/v1/plans/", "plan"},
	{"/api/v1/replans/", "replan"},
	{"/api/v1/webhooks/", "webhook"},
	{"/api/v1/blocks/", "block"},
	{"/api/v1/rate-cards/", "rate_card"},
	{"/api/v1/quotes/", "quote"},
	{"/api/v1/ring-fences/", "ring_fence"},
	{"/api/v1/ical-feeds/", "feed"},
}

// pathID is the real id (or feed token) op's path parameter takes in the baseline.
func (fx *fzFixtures) pathID(op *fzOp, param string) string {
	if param == "token" {
		return fx.feed
	}
	for _, pf := range fzPathFixture {
		if strings.HasPrefix(op.path, pf.prefix) {
			return fx.ids[pf.fixture].String()
		}
	}
	fx.fz.t.Logf("%s: no fixture for {%s}; a random id", op.key(), param)
	return uuid.NewString()
}

// named gives the value a field or parameter of this name takes in a baseline.
func (fx *fzFixtures) named(name string, s *fzSchema) (any, bool) {
	if v, ok := fzConstants[name]; ok {
		return fzClone(v), true // mutations edit the tree in place
	}
	id := func(k string) any { return fx.ids[k].String() }
	switch name {
	case "production_id":
		return id("production"), true
	case "resource_id":
		return id("resource"), true
	case "resource_ids":
		return []any{id("resource")}, true
	case "site_id":
		return id("site"), true
	case "site_ids":
		return []any{id("site")}, true
	case "booking_id":
		return id("hold"), true
	case "organisation_id":
		return id("org"), true
	case "user_id", "actor_id":
		return id("user"), true
	case "object_id":
		return id("hold"), true
	case "ids":
		return []any{}, true
	case "origins":
		return []any{map[string]any{"country": "SN", "share_pct": fzNum("100")}}, true
	case "countries":
		return []any{"SN"}, true
	case "demand":
		return []any{"grading_suite"}, true
	case "stages":
		return []any{map[string]any{"id": "grade", "name": "Grade", "hours": fzNum("8"),
			"demands": []any{map[string]any{"kind": "grading_suite"}}}}, true
	case "skip":
		return []any{}, true
	case "preferences":
		return map[string]any{}, true
	case "id":
		if s.Format == "uuid" {
			return id("resource"), true // a feed of a resource: kind's first value
		}
	}
	return nil, false
}

// fzConstants are the values fields of these names take in baselines.
var fzConstants = map[string]any{
	"reminder_offsets":       []any{"72h", "24h"},
	"hold_lifetime":          "48h",
	"challenge_window":       "24h",
	"min_notice":             "0s",
	"rate":                   "655.957",
	"base":                   "EUR",
	"quote":                  "XOF",
	"share_pct":              fzNum("20"),
	"hours":                  fzNum("8"),
	"runtime_minutes":        fzNum("90"),
	"amount_minor":           fzNum("100000"),
	"overtime_multiplier_bp": fzNum("15000"),
	"release_days":           fzNum("30"),
	"expires_in_days":        fzNum("30"),
	"seed":                   fzNum("1"),
	"trainees":               fzNum("0"),
	"limit":                  fzNum("10"),
	"group_by":               []any{"resource"},
}

// fzClone copies a JSON tree.
func fzClone(v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = fzClone(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = fzClone(x)
		}
		return out
	}
	return v
}

// stringFor makes a string for a field of this name by its format.
func (fx *fzFixtures) stringFor(name string, s *fzSchema) string {
	start := fx.base
	switch {
	case s.Format == "uuid":
		return fx.ids["site"].String()
	case s.Format == "date-time":
		switch name {
		case "end", "to":
			return start.Add(2 * time.Hour).Format(time.RFC3339)
		case "deadline":
			return start.AddDate(0, 0, 120).Format(time.RFC3339)
		case "effective_at":
			return "2030-01-01T00:00:00Z"
		}
		return start.Format(time.RFC3339)
	case s.Format == "date" || name == "effective_from" || name == "effective_to":
		switch name {
		case "to", "effective_to":
			return start.AddDate(0, 0, 2).Format(time.DateOnly)
		}
		return start.Format(time.DateOnly)
	case s.Format == "email":
		fx.seq++
		return fmt.Sprintf("fuzz-%d@atlas-post.example", fx.seq)
	case s.Format == "uri":
		return "https://example.com/posthub"
	case s.Pattern == "^[A-Z]{2}$":
		return "SN"
	case s.Pattern == "^[A-Z]{3}$":
		return "EUR"
	case strings.HasPrefix(s.Pattern, "^(([01]"):
		if name == "to" {
			return "13:00"
		}
		return "09:00"
	}
	switch name {
	case "start_local":
		return start.Format("2006-01-02T15:04:05")
	case "end_local":
		return start.Add(2 * time.Hour).Format("2006-01-02T15:04:05")
	case "from", "to": // utilisation and treaty ranges: dates
		if name == "to" {
			return start.AddDate(0, 1, 0).Format(time.DateOnly)
		}
		return start.Format(time.DateOnly)
	case "password":
		return "correct-horse-battery-staple"
	case "kind":
		return "grading_suite"
	case "capability":
		return "hdr"
	case "programme":
		return "emerging-filmmakers"
	case "title", "name":
		return "Fuzz " + name
	case "at":
		return start.Format(time.RFC3339)
	}
	return "fuzz"
}

// ---------------------------------------------------------------------------------
// Sending and checking.

// api sends a request as role with a JSON body (fixtures; not a fuzz case).
func (fz *apiFuzzer) api(method, path, role string, body any) (int, []byte) {
	var j []byte
	if body != nil {
		var err error
		if j, err = json.Marshal(body); err != nil {
			fz.t.Fatal(err)
		}
	}
	return fz.send(method, path, role, j)
}

// send sends a request as role with a JSON body of these bytes, if any.
func (fz *apiFuzzer) send(method, path, role string, body []byte) (int, []byte) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, fz.b.srv.URL+path, rd)
	if err != nil {
		fz.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+fz.b.tokens[role])
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := fz.http.Do(req)
	if err != nil {
		fz.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// prepareFingerprint builds the one query that fingerprints every table: its row
// count and the newest transaction that wrote a row still in it (max xmin: an insert
// or an update that committed raises it, a delete lowers the count; a rolled-back
// write leaves no visible row). Authenticating updates api_tokens' and ical_feeds'
// last_used_at, so those two take a digest of their rows without it instead. Cheap
// enough to run after every request however large the tables grow in a long run.
func (fz *apiFuzzer) prepareFingerprint() {
	rows, err := fz.b.db.Pool.Query(fz.ctx, `SELECT tablename FROM pg_tables
		WHERE schemaname = current_schema() AND tablename <> 'goose_db_version' ORDER BY tablename`)
	if err != nil {
		fz.t.Fatal(err)
	}
	fz.fpTab, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		fz.t.Fatal(err)
	}
	for _, want := range []string{"booking_groups", "bookings", "audit_log", "productions", "resource_blocks", "holidays",
		"calendar_overrides", "rate_cards", "exchange_rates", "quotes", "ring_fences", "api_tokens", "ical_feeds",
		"webhooks", "idempotency_keys", "notifications", "users"} {
		if !slices.Contains(fz.fpTab, want) {
			fz.t.Fatalf("table %s is missing: %v", want, fz.fpTab)
		}
	}
	var parts []string
	for _, tab := range fz.fpTab {
		q := `(SELECT count(*)::text || ':' || coalesce(max(xmin::text::bigint), 0) FROM %s)`
		if tab == "api_tokens" || tab == "ical_feeds" {
			q = `(SELECT count(*)::text || ':' || coalesce(md5(string_agg(h, '' ORDER BY h)), '')
				FROM (SELECT md5((to_jsonb(t) - 'last_used_at')::text) AS h FROM %s t) x)`
		}
		parts = append(parts, fmt.Sprintf(q, pgx.Identifier{tab}.Sanitize()))
	}
	fz.fpSQL = "SELECT ARRAY[" + strings.Join(parts, ",\n") + "]"
}

func (fz *apiFuzzer) fingerprint() []string {
	var fp []string
	if err := fz.b.db.Pool.QueryRow(fz.ctx, fz.fpSQL).Scan(&fp); err != nil {
		fz.t.Fatalf("fingerprint: %v", err)
	}
	return fp
}

func (fz *apiFuzzer) fingerprintNow() { fz.last = fz.fingerprint() }

// changed names the tables whose fingerprint differs, with their row counts.
func (fz *apiFuzzer) changed(before, after []string) []string {
	var out []string
	for i := range after {
		if before[i] != after[i] {
			nb, _, _ := strings.Cut(before[i], ":")
			na, _, _ := strings.Cut(after[i], ":")
			out = append(out, fmt.Sprintf("%s (%s→%s rows)", fz.fpTab[i], nb, na))
		}
	}
	return out
}

func fzRole(role string) booking.Role { return booking.Role(role) }

// run sends one case and checks its answer.
func (fz *apiFuzzer) run(c fzCase) {
	t := fz.t
	r := fz.baseline(c.op)
	for _, m := range c.muts {
		m.apply(r, fz.fx)
	}
	body := r.bodyBytes()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(r.method, fz.b.srv.URL+r.url(), rd)
	if err != nil {
		t.Fatalf("%s %s: building the request: %v", c.op.key(), c.label(), err)
	}
	if body == nil {
		req.ContentLength = 0
	}
	req.Header = r.header.Clone()
	if req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+fz.b.tokens[c.role])
	}
	if r.ctype != "" && body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	fz.sent++
	res, err := fz.http.Do(req)
	http431 := slices.ContainsFunc(c.muts, func(m fzMut) bool { return m.http431 })
	if err != nil {
		if http431 {
			fz.checkWrites(c, req, body, 431, nil)
			return
		}
		fz.fail(c, req, body, 0, nil, "transport error: %v", err)
		fz.fingerprintNow()
		return
	}
	var resBody []byte
	if res.StatusCode >= 300 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		resBody, _ = io.ReadAll(io.LimitReader(res.Body, 8<<20))
	} // else a stream, which never ends by itself: its status and headers are the answer
	res.Body.Close()
	st := res.StatusCode
	switch {
	case st >= 500:
		fz.fail(c, req, body, st, resBody, "a server error")
	case st >= 400 && http431 && st == 431:
		// net/http's own answer to a URL over its limit: not posthub's.
	case st >= 400:
		if msg := fzCheckProblem(res, resBody); msg != "" {
			fz.fail(c, req, body, st, resBody, "%s", msg)
		}
	}
	fz.checkWrites(c, req, body, st, resBody)
}

// checkWrites compares the database with the last fingerprint: a refusal must not
// have written, an accepted write is logged and its fixtures made again.
func (fz *apiFuzzer) checkWrites(c fzCase, req *http.Request, body []byte, st int, resBody []byte) {
	after := fz.fingerprint()
	changed := fz.changed(fz.last, after)
	fz.last = after
	idem := slices.ContainsFunc(c.muts, func(m fzMut) bool { return m.idem })
	if st >= 400 || st == 0 {
		fz.refused++
		if len(changed) > 0 && !(idem && len(changed) == 1 && strings.HasPrefix(changed[0], "idempotency_keys ")) {
			fz.fail(c, req, body, st, resBody, "refused but wrote: %s", strings.Join(changed, ", "))
			fz.fx.refresh()
			fz.fingerprintNow()
		}
		return
	}
	fz.accepted++
	switch c.expect() {
	case fzRefuse:
		fz.fail(c, req, body, st, resBody, "accepted an invalid input (wrote: %v)", changed)
	case fzSpec:
		fz.disagreements++
		if fz.strict {
			fz.fail(c, req, body, st, resBody, "accepted an input the document says is invalid (wrote: %v)", changed)
		} else {
			fz.logOnce(c, "the document says invalid, the service accepted (%s as %s, %s → %d): %s %s %s",
				c.op.key(), c.role, c.label(), st, req.Method, fzShort(req.URL.RequestURI(), 200), fzShort(string(body), 200))
		}
	}
	if len(changed) > 0 {
		fz.acceptedWrites++
		fz.logOnce(c, "accepted and wrote (%s as %s, %s → %d): %s", c.op.key(), c.role, c.label(), st, strings.Join(changed, ", "))
		fz.fx.refresh()
		fz.fingerprintNow()
	}
}

// logOnce logs a case's outcome once per operation and mutation, and at most
// fzMaxLogged lines in all (a long run accepts thousands).
func (fz *apiFuzzer) logOnce(c fzCase, format string, args ...any) {
	key := c.op.key() + " " + c.label() + " " + format
	if fz.logged[key] || len(fz.logged) >= fzMaxLogged {
		return
	}
	fz.logged[key] = true
	fz.t.Logf(format, args...)
}

func (fz *apiFuzzer) fail(c fzCase, req *http.Request, body []byte, st int, resBody []byte, format string, args ...any) {
	fz.failures++
	if fz.failures > fzMaxReported {
		return
	}
	fz.t.Errorf("%s as %s [%s]: %s\n  request: %s %s\n  headers: %s\n  body: %s\n  answer %d: %s",
		c.op.key(), c.role, c.label(), fmt.Sprintf(format, args...),
		req.Method, fzShort(req.URL.RequestURI(), 300), fzHeaders(req.Header), fzShort(string(body), 300),
		st, fzShort(string(resBody), 400))
}

func fzHeaders(h http.Header) string {
	var out []string
	for k, vs := range h {
		if k == "Authorization" {
			continue
		}
		out = append(out, k+": "+fzShort(strings.Join(vs, ", "), 80))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

func fzShort(s string, n int) string {
	if len(s) <= n {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:n], len(s))
}

// fzCheckProblem checks a 4xx: problem+json with a stable code and that code's status.
func fzCheckProblem(res *http.Response, body []byte) string {
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Sprintf("a %d with Content-Type %q, not application/problem+json", res.StatusCode, ct)
	}
	var p httpapi.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		return fmt.Sprintf("a problem that does not parse: %v", err)
	}
	want, ok := httpapi.APIFuzzStatusByCode[p.Code]
	switch {
	case p.Code == "":
		return "a problem without a code"
	case !ok:
		return fmt.Sprintf("code %q is not one of the stable codes", p.Code)
	case want != res.StatusCode || p.Status != res.StatusCode:
		return fmt.Sprintf("code %q with status %d (problem says %d), want %d", p.Code, res.StatusCode, p.Status, want)
	}
	return ""
}

// logBaselines sends every operation's unmutated request as an admin and logs the
// answers (POSTHUB_FUZZ_BASELINES): a baseline the service refuses means that
// operation's mutations stop at the input layer.
func (fz *apiFuzzer) logBaselines() {
	for _, op := range fz.ops {
		if op.method == "DELETE" || strings.HasSuffix(op.path, "/accept") || strings.HasSuffix(op.path, "/apply") {
			continue
		}
		role := "admin"
		if !httpapi.Policies[op.key()].Allows(fzRole(role)) {
			role = "producer"
		}
		r := fz.baseline(op)
		body := r.bodyBytes()
		st, rb := fz.send(r.method, r.url(), role, body)
		fz.t.Logf("baseline %s as %s: %d %s\n  %s", op.key(), role, st, fzShort(string(body), 300), fzShort(string(rb), 300))
	}
	fz.fx.refresh()
}
