package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/httpapi"
)

// The cases TestAPIFuzz sends: every mutation of every operation's baseline request,
// enumerated from the OpenAPI document (apifuzz_test.go says what is checked).

// enumerate lists every mutation of every operation, each with a role the policy
// allows (drawn with the seed), and three with each role it leaves out.
func (fz *apiFuzzer) enumerate() []fzCase {
	var out []fzCase
	for _, op := range fz.ops {
		muts := fz.mutations(op)
		fz.muts[op] = muts
		var allowed, denied []string
		for _, r := range fzRoles {
			if httpapi.Policies[op.key()].Allows(fzRole(r)) {
				allowed = append(allowed, r)
			} else {
				denied = append(denied, r)
			}
		}
		if len(allowed) == 0 {
			fz.t.Fatalf("%s: no fuzzed role may call it", op.key())
		}
		for _, m := range muts {
			out = append(out, fzCase{op: op, role: allowed[fz.rng.IntN(len(allowed))], muts: []fzMut{m}})
		}
		for _, role := range denied {
			for range 3 {
				out = append(out, fzCase{op: op, role: role, muts: []fzMut{muts[fz.rng.IntN(len(muts))]}})
			}
		}
	}
	return out
}

// fzSpread takes n of the cases spread evenly over the operations: each operation's
// cases in their order, the operations taken in turn.
func fzSpread(cases []fzCase, n int) []fzCase {
	var order []*fzOp
	byOp := map[*fzOp][]fzCase{}
	for _, c := range cases {
		if _, ok := byOp[c.op]; !ok {
			order = append(order, c.op)
		}
		byOp[c.op] = append(byOp[c.op], c)
	}
	// Each operation's cases in an order that mixes their kinds: a stride through them.
	for _, op := range order {
		cs := byOp[op]
		stride := 7
		for fzGCD(stride, len(cs)) != 1 {
			stride++
		}
		mixed := make([]fzCase, 0, len(cs))
		for i := 0; i < len(cs); i++ {
			mixed = append(mixed, cs[(i*stride)%len(cs)])
		}
		byOp[op] = mixed
	}
	var out []fzCase
	for i := 0; len(out) < n; i++ {
		took := false
		for _, op := range order {
			if cs := byOp[op]; i < len(cs) && len(out) < n {
				out = append(out, cs[i])
				took = true
			}
		}
		if !took {
			break
		}
	}
	return out
}

// randomCase combines one to three mutations of a random operation, each of another
// part of the request (path, query, headers, body: two of one part could undo each
// other, a valid value replacing a bad one), as a role the policy allows (or, one time
// in five, any role).
func (fz *apiFuzzer) randomCase() fzCase {
	op := fz.ops[fz.rng.IntN(len(fz.ops))]
	muts := fz.muts[op]
	role := fzRoles[fz.rng.IntN(len(fzRoles))]
	for fz.rng.IntN(5) != 0 && !httpapi.Policies[op.key()].Allows(fzRole(role)) {
		role = fzRoles[fz.rng.IntN(len(fzRoles))]
	}
	c := fzCase{op: op, role: role}
	parts := map[string]bool{}
	for range 1 + fz.rng.IntN(3) {
		m := muts[fz.rng.IntN(len(muts))]
		if !parts[m.part] {
			parts[m.part] = true
			c.muts = append(c.muts, m)
		}
	}
	return c
}

// mutations lists op's mutations: of its path, query, headers and body.
func (fz *apiFuzzer) mutations(op *fzOp) []fzMut {
	var ms []fzMut
	part := func(name string, add []fzMut) {
		for _, m := range add {
			if m.part == "" {
				m.part = name
			}
			ms = append(ms, m)
		}
	}
	part("path", fz.pathMutations(op))
	part("query", fz.queryMutations(op))
	part("header", fz.headerMutations(op))
	if op.body != nil {
		part("body", fz.bodyMutations(op))
	} else if op.method != "GET" {
		// A body where the operation takes none: ignored, so sent to a bogus id.
		part("body", []fzMut{{label: "a junk body on a route without one", expect: fzAny, apply: func(r *fzReq, _ *fzFixtures) {
			r.rawBody, r.ctype = []byte(`{"zz":"\u0000"`), "application/json"
		}}})
	}
	// A DELETE or a body-less POST on a real object is complete and valid as it is:
	// only a mutation that must be refused keeps the real id.
	if op.method == "DELETE" || (op.method == "POST" && op.body == nil && len(op.param("path")) > 0) {
		for i, m := range ms {
			if m.expect == fzRefuse {
				continue
			}
			apply := m.apply
			bogus := uuid.NewSHA1(uuid.NameSpaceOID, []byte(op.key()+m.label)).String()
			ms[i].label += " (to a bogus id)"
			ms[i].apply = func(r *fzReq, fx *fzFixtures) {
				apply(r, fx)
				for name := range r.pathArgs {
					r.pathArgs[name] = fzPath{value: bogus}
				}
			}
		}
	}
	if len(ms) == 0 {
		fz.t.Fatalf("%s: no mutations", op.key())
	}
	return ms
}

func fzSet(e fzExpect, label string, apply func(*fzReq, *fzFixtures)) fzMut {
	return fzMut{label: label, expect: e, apply: apply}
}

// ---------------------------------------------------------------------------------
// Path.

func (fz *apiFuzzer) pathMutations(op *fzOp) []fzMut {
	var ms []fzMut
	for _, p := range op.param("path") {
		name := p.Name
		set := func(e fzExpect, label, v string, raw bool) {
			ms = append(ms, fzSet(e, "path "+name+": "+label, func(r *fzReq, _ *fzFixtures) {
				r.pathArgs[name] = fzPath{value: v, raw: raw}
			}))
		}
		setFx := func(e fzExpect, label string, f func(*fzFixtures) string) {
			ms = append(ms, fzSet(e, "path "+name+": "+label, func(r *fzReq, fx *fzFixtures) {
				r.pathArgs[name] = fzPath{value: f(fx)}
			}))
		}
		if name == "token" {
			set(fzRefuse, "an unknown feed token", "phcal_"+strings.Repeat("a", 32), false)
			set(fzRefuse, "a malformed feed token", "not-a-token", false)
			set(fzRefuse, "an API token for a feed token", "ph_"+strings.Repeat("a", 32), false)
		} else {
			set(fzRefuse, "not a UUID", "not-a-uuid", false)
			set(fzRefuse, "the nil UUID", uuid.Nil.String(), false)
			set(fzRefuse, "an unknown UUID", uuid.NewSHA1(uuid.NameSpaceURL, []byte(op.key())).String(), false)
			set(fzRefuse, "an unknown urn:uuid", "urn:uuid:"+uuid.NewSHA1(uuid.NameSpaceDNS, []byte(op.key())).String(), false)
			setFx(fzRefuse, "another kind's id", func(fx *fzFixtures) string {
				if strings.HasPrefix(op.path, "/api/v1/sites/") {
					return fx.ids["production"].String()
				}
				return fx.ids["site"].String()
			})
			setFx(fzRefuse, "a space before the id", func(fx *fzFixtures) string { return " " + fx.pathID(op, name) })
			setFx(fzAny, "the id in capitals", func(fx *fzFixtures) string { return strings.ToUpper(fx.pathID(op, name)) })
		}
		for _, e := range fzEscapes {
			set(fzRefuse, e.label, e.raw, true)
		}
		set(fzRefuse, "an encoded slash", "..%2F..%2Fsites", true)
		set(fzRefuse, "512 KiB", strings.Repeat("a", fzLongURL), false)
		set(fzRefuse, "1001 characters", strings.Repeat("é", 1001), false)
	}
	return ms
}

// fzEscapes are characters a path or query may not hold, percent-encoded.
var fzEscapes = []struct{ label, raw string }{
	{"NUL", "a%00b"}, {"BEL", "a%07b"}, {"invalid UTF-8", "%FF%FE"}, {"a C1 control", "%C2%85"}, {"DEL", "%7F"},
}

// ---------------------------------------------------------------------------------
// Query.

// fzValue is one value a mutation gives a field or parameter.
type fzValue struct {
	label  string
	v      any // string (a query value, or a JSON string), fzNum, fzRaw, bool, …
	raw    bool
	expect fzExpect
}

func (fz *apiFuzzer) queryMutations(op *fzOp) []fzMut {
	var ms []fzMut
	params := op.param("query")
	for _, p := range params {
		p := p
		for _, v := range fz.queryValuesFor(p) {
			v := v
			ms = append(ms, fzSet(v.expect, "query "+p.Name+": "+v.label, func(r *fzReq, _ *fzFixtures) {
				r.dropQuery(p.Name)
				for _, x := range fzList(v.v) {
					r.query = append(r.query, fzKV{key: p.Name, value: x, raw: v.raw})
				}
			}))
		}
		if p.Required {
			ms = append(ms, fzSet(fzSpec, "query "+p.Name+": missing", func(r *fzReq, _ *fzFixtures) { r.dropQuery(p.Name) }))
		}
	}
	ms = append(ms,
		fzSet(fzAny, "an unknown query parameter", func(r *fzReq, _ *fzFixtures) { r.rawQuery = "zz_unknown=1" }),
		fzSet(fzRefuse, "a query parameter name of 101 characters", func(r *fzReq, _ *fzFixtures) {
			r.rawQuery = strings.Repeat("q", 101) + "=1"
		}),
		fzSet(fzRefuse, "a query parameter name with NUL", func(r *fzReq, _ *fzFixtures) { r.rawQuery = "a%00b=1" }),
		fzSet(fzRefuse, "an unknown query parameter with a C1 control", func(r *fzReq, _ *fzFixtures) { r.rawQuery = "zz=%C2%9B" }),
		fzSet(fzRefuse, "a malformed query string", func(r *fzReq, _ *fzFixtures) { r.rawQuery = "a=%zz" }),
	)
	if op.key() == "GET /api/v1/bookings" {
		ms = append(ms, fzMut{label: "a 2 MiB query (over net/http's limit)", expect: fzRefuse, http431: true,
			apply: func(r *fzReq, _ *fzFixtures) { r.rawQuery = "note=" + strings.Repeat("a", fzHuge) }})
	}
	return ms
}

// fzList is a mutation's value as query values.
func fzList(v any) []string {
	if l, ok := v.([]string); ok {
		return l
	}
	return []string{fzText(v)}
}

// queryValuesFor lists the bad (and boundary) values of one query parameter.
func (fz *apiFuzzer) queryValuesFor(p fzParam) []fzValue {
	s := fz.resolve(p.Schema)
	limit, multi, _ := httpapi.APIFuzzTextRules(p.Name)
	req := fzAny
	if p.Required {
		req = fzSpec
	}
	var vs []fzValue
	for _, e := range fzEscapes {
		vs = append(vs, fzValue{e.label, e.raw, true, fzRefuse})
	}
	vs = append(vs, []fzValue{
		{fmt.Sprintf("%d characters", limit+1), strings.Repeat("é", limit+1), false, fzRefuse},
		{"512 KiB", strings.Repeat("a", fzLongURL), false, fzRefuse},
		{"empty", "", false, req},
	}...)
	if !multi {
		vs = append(vs, fzValue{"a line break", "a%0Ab", true, fzRefuse})
	}
	item := s
	if s.has("array") && s.Items != nil {
		item = fz.resolve(s.Items)
		if s.MaxItems != nil {
			many := make([]string, *s.MaxItems+1)
			for i := range many {
				many[i] = fzText(fz.gen(p.Name, s.Items))
			}
			vs = append(vs, fzValue{fmt.Sprintf("%d values", len(many)), many, false, fzSpec})
		}
	}
	switch {
	case p.Name == "cursor":
		b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		vs = append(vs,
			fzValue{"not base64", "bad!", false, fzRefuse},
			fzValue{"base64 of garbage", b64("garbage"), false, fzRefuse},
			fzValue{"a negative id", b64("-1"), false, fzRefuse},
			fzValue{"id 0", b64("0"), false, fzRefuse},
			fzValue{"an id over int64", b64("9223372036854775808"), false, fzRefuse},
			fzValue{"a time and a bad UUID", b64("2031-01-01T00:00:00Z|not-a-uuid"), false, fzRefuse},
			fzValue{"standard base64 with padding", "Zm9v+/==", false, fzRefuse},
			fzValue{"1000 A", strings.Repeat("A", 1000), false, fzRefuse},
			fzValue{"the largest id", b64("9223372036854775807"), false, fzAny},
			fzValue{"year 0", b64("0000-01-01T00:00:00Z|" + uuid.Nil.String()), false, fzAny},
			fzValue{"year 9999", b64("9999-12-31T23:59:59.999999999+14:00|" + uuid.Nil.String()), false, fzAny},
		)
	case item.Format == "uuid":
		vs = append(vs, fz.uuidValues()...)
	case item.Format == "date-time" || p.Name == "at":
		vs = append(vs, fzInstantValues(true)...)
	case p.Name == "from" || p.Name == "to": // utilisation and treaty: dates or instants
		vs = append(vs, fzDateValues()...)
		vs = append(vs, fzInstantValues(false)...)
	case len(item.Enum) > 0:
		vs = append(vs, fzValue{"not in the enum", "nope", false, fzSpec},
			fzValue{"the enum's first value with more", fmt.Sprint(item.Enum[0]) + "x", false, fzSpec})
		if p.Explode != nil && !*p.Explode {
			vs = append(vs, fzValue{"a good and a bad value", fmt.Sprint(item.Enum[0]) + ",nope", false, fzSpec},
				fzValue{"a value twice", fmt.Sprint(item.Enum[0]) + "," + fmt.Sprint(item.Enum[0]), false, fzAny})
		}
	case item.has("integer") || item.has("number"):
		// hours is bounded by the input layer (README); other numbers by the schema.
		bounded := func(e fzExpect) fzExpect {
			if p.Name == "hours" && e == fzSpec {
				return fzRefuse
			}
			return e
		}
		for _, n := range fzNumbers(item) {
			if n.raw {
				continue // not a query value
			}
			vs = append(vs, fzValue{n.label, string(n.v.(fzNum)), false, bounded(n.expect)})
		}
		vs = append(vs, fzValue{"NaN", "NaN", false, fzRefuse}, fzValue{"Inf", "Inf", false, fzRefuse},
			fzValue{"-Inf", "-Inf", false, fzRefuse}, fzValue{"+Inf", "+Inf", false, fzRefuse},
			fzValue{"a leading space", "%205", true, fzRefuse}, fzValue{"a word", "ten", false, fzRefuse},
			// Go's own number syntax, not a JSON number: strconv.ParseFloat takes them.
			fzValue{"hexadecimal", "0x1p4", false, fzSpec}, fzValue{"underscores", "1_0", false, fzSpec})
	case item.has("boolean"):
		vs = append(vs, fzValue{"maybe", "maybe", false, fzRefuse}, fzValue{"2", "2", false, fzRefuse},
			fzValue{"yes", "yes", false, fzRefuse}, fzValue{"1", "1", false, fzAny})
	}
	return vs
}

func (fz *apiFuzzer) uuidValues() []fzValue {
	return []fzValue{
		{"not a UUID", "not-a-uuid", false, fzRefuse},
		{"a UUID with a g", "00000000-0000-0000-0000-00000000000g", false, fzRefuse},
		{"a UUID and more", "00000000-0000-0000-0000-0000000000010", false, fzRefuse},
		{"a number", "123", false, fzRefuse},
		{"the nil UUID", uuid.Nil.String(), false, fzAny},
		{"an unknown UUID", "5b1c4a8e-8c47-4c55-9d38-2f6c4b1f0a01", false, fzAny},
	}
}

// fzInstantValues are bad and boundary RFC 3339 instants; raw marks query values.
func fzInstantValues(query bool) []fzValue {
	vs := []fzValue{
		{"year 9999", "9999-12-31T23:59:59Z", false, fzRefuse},
		{"year 1", "0001-01-01T00:00:00Z", false, fzRefuse},
		{"a second before 2000", "1999-12-31T23:59:59Z", false, fzRefuse},
		{"a second after 2200", "2200-01-01T00:00:01Z", false, fzRefuse},
		{"2200 in another zone", "2200-01-01T00:00:00-00:01", false, fzRefuse},
		{"no offset", "2031-03-03T10:00:00", false, fzRefuse},
		{"30 February", "2031-02-30T10:00:00Z", false, fzRefuse},
		{"hour 25", "2031-03-03T25:00:00Z", false, fzRefuse},
		{"a leap second", "2031-06-30T23:59:60Z", false, fzRefuse},
		{"a space for T", "2031-03-03 10:00:00Z", false, fzRefuse},
		{"a date", "2031-03-03", false, fzRefuse},
		{"now", "now", false, fzRefuse},
		{"a Unix time", "1900000000", false, fzRefuse},
		{"the first instant", "2000-01-01T00:00:00Z", false, fzAny},
		{"the last instant", "2200-01-01T00:00:00Z", false, fzAny},
	}
	if query {
		// An unescaped + is a space in a query.
		vs = append(vs, fzValue{"an unescaped +", "2031-03-03T10:00:00+01:00", true, fzRefuse})
	}
	return vs
}

func fzDateValues() []fzValue {
	return []fzValue{
		{"year 9999", "9999-12-31", false, fzRefuse},
		{"year 1", "0001-01-01", false, fzRefuse},
		{"1999", "1999-12-31", false, fzRefuse},
		{"2200", "2200-01-01", false, fzRefuse},
		{"30 February", "2031-02-30", false, fzRefuse},
		{"month 13", "2031-13-01", false, fzRefuse},
		{"day first", "31/12/2031", false, fzRefuse},
		{"no padding", "2031-3-1", false, fzRefuse},
		{"the first date", "2000-01-01", false, fzAny},
		{"the last date", "2199-12-31", false, fzAny},
	}
}

// fzNumbers are bad and boundary numbers for a number or integer of schema s: fzRefuse
// for what Go cannot read into the field (a fraction or an exponent for an integer,
// beyond int64 where the schema bounds it or says int64, beyond float64), fzSpec for
// what the schema's minimum and maximum refuse, fzAny for the rest.
func fzNumbers(s *fzSchema) []fzValue {
	integer := s.has("integer") && !s.has("number")
	classify := func(lit string) fzExpect {
		f, ok := new(big.Float).SetPrec(200).SetString(lit)
		if !ok || f.IsInf() {
			return fzRefuse
		}
		if integer {
			if strings.ContainsAny(lit, ".eE") {
				return fzRefuse // Go reads only integer literals into integers
			}
			if _, acc := f.Int64(); acc != big.Exact {
				if s.Maximum != nil || s.Format == "int64" {
					return fzRefuse
				}
				return fzAny // unbounded: the field may be wider than int64
			}
		} else if v, _ := f.Float64(); math.IsInf(v, 0) {
			return fzRefuse
		}
		v, _ := f.Float64() // 1e-400 reads as 0, as Go reads it
		switch {
		case s.Minimum != nil && v < *s.Minimum,
			s.Maximum != nil && v > *s.Maximum,
			s.ExclusiveMinimum != nil && v <= *s.ExclusiveMinimum,
			s.ExclusiveMaximum != nil && v >= *s.ExclusiveMaximum:
			return fzSpec
		}
		return fzAny
	}
	lits := []string{"-1", "0", "1e308", "-1e308", "9223372036854775808", "9223372036854775807",
		"-9223372036854775809", "1.5", "1e-400", "1e400", "0.0000001"}
	fmtF := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	if s.Minimum != nil {
		lits = append(lits, fmtF(*s.Minimum))
		if integer {
			lits = append(lits, fmtF(*s.Minimum-1))
		} else {
			lits = append(lits, fmtF(*s.Minimum*(1-1e-9)-1e-12))
		}
	}
	if s.Maximum != nil {
		lits = append(lits, fmtF(*s.Maximum))
		if integer {
			lits = append(lits, fmtF(*s.Maximum+1))
		} else {
			lits = append(lits, fmtF(*s.Maximum*(1+1e-9)+1e-12))
		}
	}
	if s.ExclusiveMinimum != nil {
		lits = append(lits, fmtF(*s.ExclusiveMinimum))
	}
	var vs []fzValue
	for _, l := range lits {
		vs = append(vs, fzValue{"number " + l, fzNum(l), false, classify(l)})
	}
	// Not JSON at all.
	for _, l := range []string{"NaN", "Infinity", "-Infinity", "01", "+1", ".5", "1.", "0x10", "1e"} {
		vs = append(vs, fzValue{"the token " + l, fzNum(l), true, fzRefuse})
	}
	return vs
}

// ---------------------------------------------------------------------------------
// Headers.

func (fz *apiFuzzer) headerMutations(op *fzOp) []fzMut {
	var ms []fzMut
	header := func(e fzExpect, label, name, v string) {
		ms = append(ms, fzSet(e, label, func(r *fzReq, _ *fzFixtures) { r.header.Set(name, v) }))
	}
	ms = append(ms, fzSet(fzRefuse, "Authorization with a C1 control", func(r *fzReq, _ *fzFixtures) {
		r.header.Set("Authorization", "Bearer ph_\xc2\x85")
	}))
	if op.hasHeader("If-Match") {
		for _, v := range []string{`W/"1"`, `W/*`, `"999999"`, `"-1"`, `"+1"`, `"abc"`, `1`, `"1`, `""`,
			`"99999999999999999999"`, `"1", "2"`, "\"\xff\"", `"` + strings.Repeat("9", 2000) + `"`} {
			header(fzRefuse, "If-Match "+fzShort(v, 20), "If-Match", v)
		}
	}
	if op.method == "POST" && strings.HasPrefix(op.path, "/api/") {
		header(fzRefuse, "Idempotency-Key of 256 characters", "Idempotency-Key", strings.Repeat("k", 256))
		header(fzRefuse, "Idempotency-Key not UTF-8", "Idempotency-Key", "k\xff")
		header(fzRefuse, "Idempotency-Key with a C1 control", "Idempotency-Key", "k\xc2\x85")
		if op.body != nil {
			ms = append(ms, fzMut{label: "a valid Idempotency-Key and an unknown field", expect: fzRefuse, idem: true, part: "body",
				apply: func(r *fzReq, fx *fzFixtures) {
					fx.seq++
					r.header.Set("Idempotency-Key", fmt.Sprintf("fuzz-%d", fx.seq))
					r.body = fz.editAt(r.body, []fzStep{{key: "zz_unknown", name: "zz_unknown", schema: &fzSchema{}}},
						func(any) (any, bool, string) { return fzNum("1"), false, "" })
				}})
		}
	}
	if op.body != nil {
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", `application/json; charset="`,
			"multipart/form-data; boundary=x", "application/xml"} {
			m := fzSet(fzRefuse, "Content-Type "+ct, func(r *fzReq, _ *fzFixtures) { r.ctype = ct })
			m.part = "body" // it needs the body there
			ms = append(ms, m)
		}
	}
	return ms
}

// ---------------------------------------------------------------------------------
// Bodies.

func (fz *apiFuzzer) bodyMutations(op *fzOp) []fzMut {
	var ms []fzMut
	root := fz.resolve(op.body)
	hasRequired := len(fz.required(root)) > 0
	required := fzAny
	if op.bodyRequired {
		required = fzRefuse
	}
	emptyObject := fzAny
	if hasRequired {
		emptyObject = fzRefuse
	}
	raw := func(e fzExpect, label string, body func(r *fzReq) []byte) {
		ms = append(ms, fzSet(e, "body: "+label, func(r *fzReq, _ *fzFixtures) { r.rawBody = body(r) }))
	}
	lit := func(e fzExpect, label, body string) { raw(e, label, func(*fzReq) []byte { return []byte(body) }) }
	ms = append(ms, fzSet(required, "no body", func(r *fzReq, _ *fzFixtures) { r.hasBody, r.ctype = false, "" }))
	lit(fzAny, "null", "null")
	lit(emptyObject, "{}", "{}")
	lit(fzRefuse, "an array", "[]")
	lit(fzRefuse, "a string", `"x"`)
	lit(fzRefuse, "a number", "1")
	lit(fzRefuse, "true", "true")
	lit(fzRefuse, "cut short", `{"a":`)
	lit(fzRefuse, "two values", "{}{}")
	lit(fzRefuse, "trailing data", "{} x")
	lit(fzRefuse, "40 levels deep", `{"zz":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+"}")
	lit(fzRefuse, "a key not UTF-8", "{\"a\xff\":1}")
	lit(fzRefuse, "a raw NUL in a string", "{\"zz\":\"a\x00b\"}")
	lit(fzRefuse, "a raw line break in a string", "{\"zz\":\"a\nb\"}")
	raw(fzRefuse, "a byte-order mark", func(r *fzReq) []byte { return append([]byte("\xef\xbb\xbf"), r.bodyBytes()...) })
	raw(fzRefuse, "2 MiB", func(r *fzReq) []byte {
		return []byte(`{"zz":"` + strings.Repeat("a", fzHuge) + `"}`)
	})
	raw(fzRefuse, "one byte over the limit", func(r *fzReq) []byte {
		b := r.bodyBytes()
		return append(b, []byte(strings.Repeat(" ", httpapi.MaxBodyBytes+1-len(b)))...)
	})
	// The first string property of the body, for the cases that need one.
	var firstString string
	props := fz.properties(root)
	for _, k := range slices.Sorted(maps.Keys(props)) {
		if ps := fz.resolve(props[k]); ps.has("string") && len(ps.Enum) == 0 {
			firstString = k
			break
		}
	}
	if firstString != "" {
		raw(fzRefuse, "a duplicate key, the first bad", func(r *fzReq) []byte {
			b := r.bodyBytes()
			if len(b) < 2 || b[0] != '{' {
				return b
			}
			sep := ","
			if b[1] == '}' {
				sep = ""
			}
			return append([]byte(`{"`+firstString+`":"\u0000"`+sep), b[1:]...)
		})
		ms = append(ms, fz.leafMut(fzAny, "a lone surrogate", []fzStep{{key: firstString, name: firstString, schema: props[firstString]}},
			fzRaw(`"\ud800"`)))
	}
	// Object and leaf mutations, from the schema.
	fz.walk(op.body, nil, "", 0, func(steps []fzStep, name string, raw, s *fzSchema, req bool) {
		ms = append(ms, fz.leafMutations(steps, name, raw, s, req)...)
	}, func(steps []fzStep, s *fzSchema) {
		ms = append(ms, fz.objectMutations(steps, s)...)
	})
	return ms
}

// walk visits every property, array item and map value of a schema (leaf), and every
// object (object), to a depth of six.
func (fz *apiFuzzer) walk(raw *fzSchema, steps []fzStep, name string, depth int,
	leaf func(steps []fzStep, name string, raw, s *fzSchema, required bool),
	object func(steps []fzStep, s *fzSchema)) {
	if depth > 6 {
		return
	}
	s := fz.resolve(raw)
	at := func(st fzStep) []fzStep { return append(slices.Clip(steps), st) }
	props := fz.properties(s)
	if len(props) > 0 || s.has("object") {
		object(steps, s)
	}
	req := fz.required(s)
	for _, k := range slices.Sorted(maps.Keys(props)) {
		st := at(fzStep{key: k, name: k, schema: props[k]})
		leaf(st, k, props[k], fz.resolve(props[k]), slices.Contains(req, k))
		fz.walk(props[k], st, k, depth+1, leaf, object)
	}
	if ms := s.mapOf(); ms != nil {
		k := "monday"
		if s.PropertyNames != nil && len(s.PropertyNames.Enum) > 0 {
			k = fmt.Sprint(s.PropertyNames.Enum[0])
		}
		st := at(fzStep{key: k, name: k, schema: ms})
		leaf(st, k, ms, fz.resolve(ms), false)
		fz.walk(ms, st, k, depth+1, leaf, object)
	}
	if s.has("array") && s.Items != nil {
		st := at(fzStep{idx: 0, isIdx: true, name: name, schema: s.Items})
		leaf(st, name, s.Items, fz.resolve(s.Items), false)
		fz.walk(s.Items, st, name, depth+1, leaf, object)
	}
}

// leafMut sets the value at steps.
func (fz *apiFuzzer) leafMut(e fzExpect, label string, steps []fzStep, v any) fzMut {
	return fzSet(e, fzPathString(steps)+": "+label, func(r *fzReq, _ *fzFixtures) {
		r.hasBody = true
		r.body = fz.editAt(r.body, steps, func(any) (any, bool, string) { return v, false, "" })
	})
}

// objectMutations: required properties missing, unknown ones, bad keys.
func (fz *apiFuzzer) objectMutations(steps []fzStep, s *fzSchema) []fzMut {
	var ms []fzMut
	edit := func(e fzExpect, label string, f func(m map[string]any)) {
		ms = append(ms, fzSet(e, fzPathString(steps)+": "+label, func(r *fzReq, _ *fzFixtures) {
			r.hasBody = true
			if len(steps) == 0 {
				m, _ := r.body.(map[string]any)
				if m == nil {
					m = map[string]any{}
				}
				f(m)
				r.body = m
				return
			}
			r.body = fz.editAt(r.body, steps, func(old any) (any, bool, string) {
				m, _ := old.(map[string]any)
				if m == nil {
					m = map[string]any{}
				}
				f(m)
				return m, false, ""
			})
		}))
	}
	for _, k := range fz.required(s) {
		edit(fzSpec, "missing "+k, func(m map[string]any) { delete(m, k) })
	}
	unknown := fzAny
	if s.closed() {
		unknown = fzRefuse
	}
	edit(unknown, "an unknown field", func(m map[string]any) { m["zz_unknown"] = fzNum("1") })
	if s.mapOf() != nil && s.PropertyNames != nil && len(s.PropertyNames.Enum) > 0 {
		edit(fzSpec, "a key not in propertyNames", func(m map[string]any) { m["someday"] = []any{} })
	}
	if len(steps) == 0 {
		edit(fzRefuse, "a key with NUL", func(m map[string]any) { m["a\x00b"] = fzNum("1") })
		edit(fzRefuse, "a key of 101 characters", func(m map[string]any) { m[strings.Repeat("k", 101)] = fzNum("1") })
		edit(fzRefuse, "an empty key", func(m map[string]any) { m[""] = fzNum("1") })
	}
	return ms
}

// leafMutations are the bad and boundary values of one field.
func (fz *apiFuzzer) leafMutations(steps []fzStep, name string, raw, s *fzSchema, required bool) []fzMut {
	var ms []fzMut
	add := func(v fzValue) { ms = append(ms, fz.leafMut(v.expect, v.label, steps, v.v)) }
	types := slices.Clone([]string(s.Type))
	if len(types) == 0 {
		switch {
		case len(s.Enum) > 0:
			types = []string{"string"}
		case len(fz.properties(s)) > 0 || s.mapOf() != nil:
			types = []string{"object"}
		}
	}
	if len(types) == 0 {
		// Skip nothing silently: a schema construct this fuzzer does not read.
		fz.t.Errorf("%s: the fuzzer cannot tell this field's type from its schema; teach resolve", fzPathString(steps))
	}
	// Wrong JSON types.
	if len(types) > 0 {
		for _, wrong := range []struct {
			typ string
			v   any
		}{{"string", "fuzz"}, {"number", fzNum("12345")}, {"boolean", true}, {"array", []any{fzNum("1")}}, {"object", map[string]any{"a": fzNum("1")}}} {
			ok := slices.Contains(types, wrong.typ) || (wrong.typ == "number" && slices.Contains(types, "integer"))
			if !ok {
				add(fzValue{"a " + wrong.typ, wrong.v, false, fzRefuse})
			}
		}
		if slices.Contains(types, "integer") && !slices.Contains(types, "number") {
			add(fzValue{"a fraction", fzNum("1.5"), false, fzRefuse})
		}
	}
	add(fzValue{"null", nil, false, fzAny})
	if slices.Contains(types, "string") {
		for _, v := range fz.stringValues(steps, name, raw, s, required) {
			add(v)
		}
	}
	if slices.Contains(types, "integer") || slices.Contains(types, "number") {
		for _, v := range fzNumbers(s) {
			add(v)
		}
	}
	if slices.Contains(types, "array") && s.Items != nil {
		empty := fzAny
		if s.MinItems != nil && *s.MinItems > 0 {
			empty = fzSpec
		}
		add(fzValue{"an empty array", []any{}, false, empty})
		item := func() any { return fz.gen(name, s.Items) }
		if s.MaxItems != nil {
			many := make([]any, *s.MaxItems+1)
			for i := range many {
				many[i] = item()
			}
			add(fzValue{fmt.Sprintf("%d items", len(many)), many, false, fzSpec})
		} else {
			many := make([]any, 1000)
			for i := range many {
				many[i] = item()
			}
			add(fzValue{"1000 items", many, false, fzAny})
		}
		if s.UniqueItems {
			add(fzValue{"an item twice", []any{item(), item()}, false, fzSpec})
		}
	}
	// A key in another case: encoding/json matches keys case-insensitively, so a
	// field's text rules must follow it there.
	if len(steps) > 0 && !steps[len(steps)-1].isIdx && slices.Contains(types, "string") {
		limit, _, nonBlank := httpapi.APIFuzzTextRules(name)
		var variants []string
		if up := strings.ToUpper(name); up != name {
			variants = append(variants, up)
		}
		if folded := strings.NewReplacer("k", "\u212a", "s", "\u017f").Replace(name); folded != name {
			variants = append(variants, folded)
		}
		_, _, defaultNonBlank := httpapi.APIFuzzTextRules("zz_unknown")
		defaultLimit, _, _ := httpapi.APIFuzzTextRules("zz_unknown")
		for _, k := range variants {
			k := k
			rename := func(e fzExpect, label string, v any) {
				ms = append(ms, fzSet(e, fzPathString(steps)+" as "+k+": "+label, func(r *fzReq, _ *fzFixtures) {
					r.hasBody = true
					r.body = fz.editAt(r.body, steps, func(any) (any, bool, string) { return v, false, k })
				}))
			}
			if limit < defaultLimit {
				rename(fzRefuse, fmt.Sprintf("%d characters", limit+1), strings.Repeat("é", limit+1))
			}
			if nonBlank && !defaultNonBlank {
				rename(fzRefuse, "only spaces", "   ")
			}
			rename(fzRefuse, "NUL", "a\x00b")
		}
	}
	return ms
}

// isRef reports whether raw is the named component schema, or wraps it.
func (fz *apiFuzzer) isRef(raw *fzSchema, name string) bool {
	for raw != nil {
		if raw.Ref != "" {
			return raw.Ref == "#/components/schemas/"+name
		}
		if len(raw.AllOf) != 1 {
			return false
		}
		raw = raw.AllOf[0]
	}
	return false
}

// stringValues are the bad and boundary values of a string field.
func (fz *apiFuzzer) stringValues(steps []fzStep, name string, raw, s *fzSchema, required bool) []fzValue {
	limit, multi, nonBlank := httpapi.APIFuzzTextRules(name)
	r := func(label string, v any) fzValue { return fzValue{label, v, false, fzRefuse} }
	a := func(label string, v any) fzValue { return fzValue{label, v, false, fzAny} }
	vs := []fzValue{
		r("NUL", "a\x00b"),
		r("BEL", "a\x07b"),
		r("ESC", "\x1b[31m"),
		r("DEL", "a\x7fb"),
		r("a C1 control", "a\u0085b"),
		r("invalid UTF-8", fzRaw("\"a\xff\xfeb\"")),
		r("a truncated UTF-8 sequence", fzRaw("\"a\xc3\"")),
		r("an overlong UTF-8 NUL", fzRaw("\"a\xc0\x80b\"")),
		r("an encoded surrogate", fzRaw("\"a\xed\xa0\x80b\"")),
		r(fmt.Sprintf("%d characters", limit+1), strings.Repeat("é", limit+1)),
		a(fmt.Sprintf("%d characters (the limit)", limit), strings.Repeat("é", limit)),
		r("2 MiB", strings.Repeat("a", fzHuge)),
	}
	if limit < 1001 {
		vs = append(vs, r("1001 characters", strings.Repeat("a", 1001)))
	}
	if multi {
		vs = append(vs, a("tab and line breaks", "a\tb\r\nc"))
	} else {
		vs = append(vs, r("a line break", "a\nb"), r("a tab", "a\tb"))
	}
	blank := fzAny
	switch {
	case nonBlank:
		blank = fzRefuse
	case (s.MinLength != nil && *s.MinLength > 0) || len(s.Enum) > 0 || s.Format != "" || s.Pattern != "":
		blank = fzSpec
	}
	vs = append(vs, fzValue{"only spaces", "   ", false, blank})
	empty := fzAny // an optional field left empty is taken as absent
	switch {
	case s.Format == "uuid":
		empty = fzRefuse
	case required || (s.MinLength != nil && *s.MinLength > 0):
		empty = fzSpec
	}
	vs = append(vs, fzValue{"empty", "", false, empty})
	sc := func(label string, v any) fzValue { return fzValue{label, v, false, fzSpec} }
	if len(s.Enum) > 0 {
		e0 := fmt.Sprint(s.Enum[0])
		vs = append(vs, sc("not in the enum", "nope"), sc("the enum's first value and a space", e0+" "))
		if up := strings.ToUpper(e0); up != e0 {
			vs = append(vs, sc("the enum's first value in capitals", up))
		}
	}
	if fz.isRef(raw, "Duration") {
		vs = append(vs, r("a number of hours", "48"), r("ISO 8601", "P2D"), r("over int64", "2562048h"),
			r("an exponent", "1e9h"), sc("negative", "-1h"), sc("9999h", "9999h"), a("zero", "0s"))
	}
	if slices.Contains(s.Type, "number") && slices.Contains(s.Type, "string") { // a decimal as text (README: rates)
		for _, v := range []string{"NaN", "Inf", "1/3", "0x1p4", "1e400", "-1", "0", "1e-7", "1.0000000000001", "1,5", "1 000"} {
			vs = append(vs, r("decimal "+v, v))
		}
		vs = append(vs, a("decimal 1000000", "1000000"), a("decimal 0.000001", "0.000001"))
	}
	switch {
	case s.Format == "uuid":
		vs = append(vs, fz.uuidValues()...)
		vs = append(vs, a("another kind's id", fz.fx.ids["user"].String()))
	case s.Format == "date-time":
		vs = append(vs, fzInstantValues(false)...)
	case s.Format == "date" || name == "effective_from" || name == "effective_to":
		vs = append(vs, fzDateValues()...)
	case strings.HasSuffix(name, "_local"):
		vs = append(vs, r("year 9999", "9999-12-31T23:59:59"), r("year 1", "0001-01-01T00:00"),
			r("1999", "1999-12-31T23:59"), r("30 February", "2031-02-30T10:00"), r("hour 25", "2031-03-03T25:00"),
			r("with an offset", "2031-03-03T10:00:00Z"), a("the first wall-clock time", "2000-01-01T00:00:00"))
	case strings.HasPrefix(s.Pattern, "^(([01]"):
		vs = append(vs, sc("24:01", "24:01"), sc("25:00", "25:00"), sc("9:00", "9:00"), sc("09:60", "09:60"),
			sc("with seconds", "09:00:00"), sc("-01:00", "-01:00"))
	case s.Pattern == "^[A-Z]{2}$":
		vs = append(vs, sc("lower case", "sn"), sc("one letter", "S"), sc("three letters", "SEN"), sc("digits", "12"))
	case s.Pattern == "^[A-Z]{3}$": // currencies (README: exact ISO 4217 capitals)
		vs = append(vs, r("lower case", "eur"), r("two letters", "EU"), r("four letters", "EURO"), r("not ISO 4217", "XYZ"))
	case s.Format == "email":
		vs = append(vs, sc("no @", "not-an-email"), sc("no domain", "a@"), sc("no local part", "@example.com"),
			sc("a space", "a b@example.com"))
	case s.Format == "uri":
		vs = append(vs, sc("javascript:", "javascript:alert(1)"), sc("ftp:", "ftp://example.com/x"),
			sc("no host", "http://"), sc("not a URL", "not a url"), sc("file:", "file:///etc/passwd"),
			sc("scheme-relative", "//example.com/x"), sc("a port out of range", "https://example.com:99999/x"))
	}
	return vs
}

func fzGCD(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
