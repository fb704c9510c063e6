package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/paths"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// Every request the tests send through the package's client helpers (do, doKey,
// bhSend, the browser's get and post, doChecked and getChecked, all of them through
// sendChecked) is checked against openapi.json, so the document cannot drift from the
// server:
//
//   - the answer, always: its status is one the operation lists (the default response
//     covers only 5xx), its Content-Type one it documents for that status, its body
//     valid against that schema, and its headers declared;
//   - the request, when the server took it (a status below 400): its path, query,
//     headers, cookies and body valid against the operation. A request a test sends
//     invalid on purpose is refused (4xx) and so not held to the document; one the
//     server took is, since a field that works must be documented.
//
// The validator runs in strict mode: a property, query parameter, header or cookie that
// the document does not declare fails, even where a schema leaves additionalProperties
// open (response schemas do, so clients may ignore fields added later).

// specPrefixes are the paths the document covers; anything else (web pages, static
// files) is not the API's and is not checked.
var specPrefixes = []string{"/api/", "/ical/", "/healthz", "/readyz", "/openapi.json", "/metrics"}

// specIgnoredHeaders are headers the document does not repeat per operation: the
// hardening headers of the file answers, and the rate-limit headers of every
// authenticated answer (described once, with the 429 answer). Strict mode already
// ignores the standard ones (Content-Type, Content-Length, Cache-Control, ETag, …).
var specIgnoredHeaders = []string{
	"X-Content-Type-Options", "Referrer-Policy",
	"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
}

// specIgnoredPaths are places strict mode must not look into: the session cookie, which
// the document declares as a security scheme (strict mode counts only header schemes
// as declared), and the audit log's before and after, which are snapshots of whatever
// object changed.
var specIgnoredPaths = []string{
	"$.cookies.posthub_session",
	"$.body.items[*].before.**", "$.body.items[*].after.**",
}

var specState struct {
	once  sync.Once
	v     validator.Validator
	model *v3.Document
	opts  *config.ValidationOptions
	err   error
}

// specValidator parses openapi.json once per test binary and builds its validator.
func specValidator() (validator.Validator, error) {
	specState.once.Do(func() {
		raw, err := os.ReadFile("openapi.json")
		if err != nil {
			specState.err = err
			return
		}
		doc, err := libopenapi.NewDocument(raw)
		if err != nil {
			specState.err = fmt.Errorf("openapi.json: %w", err)
			return
		}
		m, err := doc.BuildV3Model()
		if err != nil {
			specState.err = fmt.Errorf("openapi.json: %w", err)
			return
		}
		opts := []config.Option{
			config.WithFormatAssertions(),
			config.WithStrictMode(),
			config.WithStrictIgnoredHeadersExtra(specIgnoredHeaders...),
			config.WithStrictIgnorePaths(specIgnoredPaths...),
			config.WithRejectUndeclaredRequestBody(),
			config.WithRegexCache(&sync.Map{}),
		}
		specState.model = &m.Model
		specState.opts = config.NewValidationOptions(opts...)
		specState.v = validator.NewValidatorFromV3Model(&m.Model, opts...)
		specState.v.SetDocument(doc)
	})
	return specState.v, specState.err
}

// specError is a disagreement between an exchange and openapi.json.
type specError struct {
	method, path string
	status       int
	problems     []string
}

func (e *specError) Error() string {
	return fmt.Sprintf("openapi.json disagrees with %s %s → %d:\n\t%s", e.method, e.path, e.status, strings.Join(e.problems, "\n\t"))
}

// sendChecked sends req with client and checks the exchange against openapi.json.
// The answer's body is read and put back, so the caller reads it as usual. A nil
// answer comes with the transport's error; an answer with a *specError when the
// exchange breaks the document.
func sendChecked(client *http.Client, req *http.Request) (*http.Response, error) {
	var sent []byte
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		sent, err = io.ReadAll(rc)
		if err != nil {
			return nil, err
		}
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	var got []byte
	if res.StatusCode < 300 && strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		// An event stream does not end by itself: its first lines (the retry
		// interval) are the answer checked.
		got, err = bufio.NewReader(res.Body).ReadBytes('\n')
	} else {
		got, err = io.ReadAll(res.Body)
	}
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(got))
	if err != nil {
		return res, err
	}
	return res, checkExchange(req, sent, res, got)
}

// checkExchange checks one request (sent with body sent) and its answer (with body
// got) against openapi.json.
func checkExchange(req *http.Request, sent []byte, res *http.Response, got []byte) error {
	if !specCovers(req.URL.Path) {
		return nil
	}
	v, err := specValidator()
	if err != nil {
		return err
	}
	e := &specError{method: req.Method, path: req.URL.RequestURI(), status: res.StatusCode}

	// A fresh copy of the request, with its body, for each check: the validator reads
	// the body.
	clone := func() *http.Request {
		r := req.Clone(req.Context())
		r.Body = io.NopCloser(bytes.NewReader(sent))
		r.ContentLength = int64(len(sent))
		if len(sent) == 0 {
			r.Body = http.NoBody
		}
		return r
	}
	pathItem, errs, template := paths.FindPath(clone(), specState.model, specState.opts)
	if pathItem == nil || len(errs) > 0 {
		// No documented operation: fine for an unknown path or method the server
		// refused as such; anything else it answered is undocumented.
		if res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusMethodNotAllowed {
			return nil
		}
		e.problems = append(e.problems, specDescribe(errs)...)
		if len(e.problems) == 0 {
			e.problems = append(e.problems, "no documented operation")
		}
		return e
	}
	op := pathItem.GetOperations().GetOrZero(strings.ToLower(req.Method))
	if op == nil || op.Responses == nil {
		if res.StatusCode == http.StatusMethodNotAllowed {
			return nil
		}
		e.problems = append(e.problems, fmt.Sprintf("%s %s is not documented", req.Method, template))
		return e
	}
	// The default response stands for the errors no operation can foresee (500, 503);
	// any other status must be listed.
	code := strconv.Itoa(res.StatusCode)
	if op.Responses.Codes.GetOrZero(code) == nil && op.Responses.Codes.GetOrZero(code[:1]+"XX") == nil && res.StatusCode < 500 {
		e.problems = append(e.problems, fmt.Sprintf("status %d is not documented for %s %s", res.StatusCode, req.Method, template))
	}

	// The validator looks for undeclared headers only in an answer that declares some;
	// in one that declares none, every header but the ignored ones is undeclared.
	documented := op.Responses.Codes.GetOrZero(code)
	if documented == nil {
		documented = op.Responses.Default
	}
	if documented != nil && documented.Headers == nil {
		for name := range res.Header {
			if !slices.ContainsFunc(specState.opts.GetEffectiveStrictIgnoredHeaders(), func(h string) bool { return strings.EqualFold(h, name) }) {
				e.problems = append(e.problems, fmt.Sprintf("response: header %s is not documented for %d", name, res.StatusCode))
			}
		}
	}

	if res.StatusCode < 400 && req.Context().Value(answerOnlyKey{}) == nil {
		if ok, errs := v.ValidateHttpRequestSync(clone()); !ok {
			for _, p := range specDescribe(errs) {
				e.problems = append(e.problems, "request: "+p)
			}
		}
	}
	r := *res
	r.Body = io.NopCloser(bytes.NewReader(got))
	if template == "/openapi.json" && res.StatusCode == http.StatusOK {
		// The document itself: strict mode would take every key of it for an
		// undeclared property. TestOpenAPIServed checks it byte for byte.
		r.Body = io.NopCloser(strings.NewReader("{}"))
	}
	if ok, errs := v.ValidateHttpResponse(clone(), &r); !ok {
		for _, p := range specDescribe(errs) {
			e.problems = append(e.problems, "response: "+p)
		}
	}
	if len(e.problems) == 0 {
		return nil
	}
	if len(got) > 0 {
		body := got
		if len(body) > 600 {
			body = append(body[:600:600], "…"...)
		}
		e.problems = append(e.problems, "answer: "+string(bytes.TrimSpace(body)))
	}
	return e
}

type answerOnlyKey struct{}

// answerOnly marks a request that deliberately carries something the API ignores
// (an unknown query parameter, say) and succeeds all the same: only its answer is
// held to the document.
func answerOnly(req *http.Request) *http.Request {
	return req.WithContext(context.WithValue(req.Context(), answerOnlyKey{}, true))
}

func specCovers(path string) bool {
	for _, p := range specPrefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// specDescribe turns validation errors into one line each.
func specDescribe(errs []*verrors.ValidationError) []string {
	var out []string
	for _, ve := range errs {
		line := ve.Message
		if ve.Reason != "" && ve.Reason != ve.Message {
			line += ": " + ve.Reason
		}
		for _, f := range ve.SchemaValidationErrors {
			where := f.FieldPath
			if where == "" {
				where = f.KeywordLocation
			}
			line += fmt.Sprintf("\n\t\t%s: %s", where, f.Reason)
		}
		out = append(out, line)
	}
	return out
}

// TestOpenAPIDocumentValid checks openapi.json against the OpenAPI 3.1 schema and
// that the validator the HTTP tests use builds from it.
func TestOpenAPIDocumentValid(t *testing.T) {
	t.Parallel()
	v, err := specValidator()
	if err != nil {
		t.Fatal(err)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		for _, p := range specDescribe(errs) {
			t.Error(p)
		}
	}
}

// doChecked is sendChecked for the test's goroutine: a transport error is fatal, a
// disagreement with the document a test error (not fatal: the test goes on to its
// own checks). The body is closed at cleanup.
func doChecked(t testing.TB, client *http.Client, req *http.Request) *http.Response {
	t.Helper()
	res, err := sendChecked(client, req)
	if res == nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Error(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// getChecked is http.Get through doChecked.
func getChecked(t testing.TB, rawURL string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return doChecked(t, http.DefaultClient, req)
}

// TestSpecCheckCatchesDrift feeds checkExchange exchanges that break the document, so
// the check the HTTP tests rely on is known to fail when it should.
func TestSpecCheckCatchesDrift(t *testing.T) {
	t.Parallel()
	const health = `{"status":"ok","version":"test","tz_version":"2026f"}`
	type exchange struct {
		name           string
		method, target string
		header         http.Header
		sent           string
		status         int
		contentType    string
		resHeader      http.Header
		got            string
		want           []string // each must be in the error; none: no error
	}
	bearer := http.Header{"Authorization": {"Bearer ph_x"}, "Content-Type": {"application/json"}}
	for _, c := range []exchange{
		{name: "conforming", method: "GET", target: "/healthz", status: 200, got: health},
		{name: "undocumented property", method: "GET", target: "/healthz", status: 200,
			got: `{"status":"ok","version":"test","tz_version":"2026f","uptime":3}`, want: []string{"uptime"}},
		{name: "missing property", method: "GET", target: "/healthz", status: 200,
			got: `{"status":"ok","version":"test"}`, want: []string{"tz_version"}},
		{name: "wrong type", method: "GET", target: "/healthz", status: 200,
			got: `{"status":"ok","version":1,"tz_version":"2026f"}`, want: []string{"version"}},
		{name: "undocumented status", method: "GET", target: "/healthz", status: 418, contentType: "application/problem+json",
			got: `{"type":"about:blank","title":"I'm a teapot","status":418,"code":"invalid","detail":"x"}`, want: []string{"status 418 is not documented"}},
		{name: "undocumented content type", method: "GET", target: "/healthz", status: 200, contentType: "text/plain",
			got: "ok", want: []string{"text/plain"}},
		{name: "undocumented header", method: "GET", target: "/healthz", status: 200, got: health,
			resHeader: http.Header{"X-Served-By": {"a"}}, want: []string{"X-Served-By"}},
		{name: "undocumented query parameter taken", method: "GET", target: "/healthz?verbose=1", status: 200, got: health,
			want: []string{"verbose"}},
		{name: "undocumented body field taken", method: "POST", target: "/api/v1/tokens", header: bearer,
			sent: `{"name":"ci","scope":"all"}`, status: 201, got: `{}`, want: []string{"request:", "scope"}},
		{name: "undocumented body field refused", method: "POST", target: "/api/v1/tokens", header: bearer,
			sent: `{"name":"ci","scope":"all"}`, status: 400, contentType: "application/problem+json",
			got: `{"type":"about:blank","title":"Bad Request","status":400,"code":"invalid","detail":"Unknown field scope.","details":{"field":"scope"}}`},
		{name: "undocumented route", method: "GET", target: "/api/v1/widgets", status: 200, got: `{}`, want: []string{"/api/v1/widgets"}},
		{name: "unknown route refused", method: "GET", target: "/api/v1/widgets", status: 404, contentType: "application/problem+json",
			got: `{"type":"about:blank","title":"Not Found","status":404,"code":"not_found","detail":"No such route."}`},
		{name: "not the API", method: "GET", target: "/bookings", status: 200, contentType: "text/html", got: "<html></html>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, "http://127.0.0.1"+c.target, strings.NewReader(c.sent))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.header {
				req.Header[k] = v
			}
			ct := c.contentType
			if ct == "" {
				ct = "application/json"
			}
			h := http.Header{"Content-Type": {ct}}
			for k, v := range c.resHeader {
				h[k] = v
			}
			res := &http.Response{StatusCode: c.status, Header: h, Request: req}
			err = checkExchange(req, []byte(c.sent), res, []byte(c.got))
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("want no disagreement, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("the disagreement went unnoticed")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not name %q: %v", w, err)
				}
			}
		})
	}
}
