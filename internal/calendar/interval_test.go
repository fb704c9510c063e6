package calendar

import (
	"math/rand"
	"slices"
	"testing"
	"time"
)

// gridBase is minute 0 of the grid that interval tests place their
// endpoints on; grid times are base + n minutes.
var gridBase = time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)

// gridSize bounds grid endpoints, so a bitmap of gridSize minutes is a
// complete brute-force model of any grid Set.
const gridSize = 300

// gm returns grid minute n as an instant.
func gm(n int) time.Time { return gridBase.Add(time.Duration(n) * time.Minute) }

// iv returns the grid interval [a, b) in minutes.
func iv(a, b int) Interval { return Interval{Start: gm(a), End: gm(b)} }

// set builds a Set from minute pairs WITHOUT normalising, so tests can hand
// Normalize raw input and write expected normal forms literally.
func set(pairs ...int) Set {
	var s Set
	for i := 0; i+1 < len(pairs); i += 2 {
		s = append(s, iv(pairs[i], pairs[i+1]))
	}
	return s
}

// bitmap is the brute-force model of a grid Set: minute m is set iff the
// instant gm(m) is in the Set (endpoints are on the grid, so membership is
// constant within each minute).
func bitmap(s Set) [gridSize]bool {
	var b [gridSize]bool
	for m := range b {
		b[m] = s.Contains(gm(m))
	}
	return b
}

// rawBitmap models raw, possibly unnormalised intervals directly, without
// going through any Set code.
func rawBitmap(ivs []Interval) [gridSize]bool {
	var b [gridSize]bool
	for m := range b {
		t := gm(m)
		for _, x := range ivs {
			if !t.Before(x.Start) && t.Before(x.End) {
				b[m] = true
			}
		}
	}
	return b
}

func countBits(b [gridSize]bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	paris := MustLoadLocation("Europe/Paris")
	tests := []struct {
		name string
		in   []Interval
		want Set
	}{
		{"nothing", nil, nil},
		{"single", set(10, 20), set(10, 20)},
		{"empty interval dropped", set(10, 10), nil},
		{"inverted interval dropped", set(20, 10), nil},
		{"empty among others", set(5, 5, 10, 20, 30, 30), set(10, 20)},
		{"unsorted", set(30, 40, 10, 20), set(10, 20, 30, 40)},
		{"overlapping merged", set(10, 25, 20, 30), set(10, 30)},
		{"adjacent merged", set(10, 20, 20, 30), set(10, 30)},
		{"adjacent chain merged", set(20, 30, 0, 10, 10, 20), set(0, 30)},
		{"contained absorbed", set(10, 50, 20, 30), set(10, 50)},
		{"container after contained", set(20, 30, 10, 50), set(10, 50)},
		{"duplicates", set(10, 20, 10, 20), set(10, 20)},
		{"same start different ends", set(10, 20, 10, 40, 10, 30), set(10, 40)},
		{"gap of one minute kept", set(10, 20, 21, 30), set(10, 20, 21, 30)},
		{"instants not locations decide adjacency",
			[]Interval{iv(0, 60), {Start: gm(60).In(paris), End: gm(120).In(paris)}}, set(0, 120)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Normalize(tc.in...)
			if !got.Equal(tc.want) {
				t.Fatalf("Normalize(%v) = %v, want %v", Set(tc.in), got, tc.want)
			}
			if !got.IsNormalized() {
				t.Fatalf("Normalize(%v) = %v is not normalised", Set(tc.in), got)
			}
		})
	}
}

func TestNormalizeDoesNotModifyInput(t *testing.T) {
	t.Parallel()
	in := set(30, 40, 10, 20, 15, 35)
	orig := slices.Clone(in)
	_ = Normalize(in...)
	if !slices.Equal(in, orig) {
		t.Fatalf("Normalize modified its input: %v, was %v", in, orig)
	}
}

func TestNormalizeStripsMonotonicReading(t *testing.T) {
	t.Parallel()
	now := time.Now() // carries a monotonic reading
	got := Normalize(Interval{Start: now, End: now.Add(time.Hour)})
	if got[0].Start != now.Round(0) || got[0].End != now.Add(time.Hour).Round(0) {
		t.Fatalf("Normalize kept monotonic readings: %#v", got[0])
	}
}

func TestSetBinaryOps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		a, b                 Set
		union, inter, aMinus Set
	}{
		{"both empty", nil, nil, nil, nil, nil},
		{"a empty", nil, set(10, 20), set(10, 20), nil, nil},
		{"b empty", set(10, 20), nil, set(10, 20), nil, set(10, 20)},
		{"equal", set(10, 20), set(10, 20), set(10, 20), set(10, 20), nil},
		{"disjoint", set(10, 20), set(30, 40), set(10, 20, 30, 40), nil, set(10, 20)},
		{"adjacent a before b", set(10, 20), set(20, 30), set(10, 30), nil, set(10, 20)},
		{"adjacent b before a", set(20, 30), set(10, 20), set(10, 30), nil, set(20, 30)},
		{"overlap right", set(10, 30), set(20, 40), set(10, 40), set(20, 30), set(10, 20)},
		{"overlap left", set(20, 40), set(10, 30), set(10, 40), set(20, 30), set(30, 40)},
		{"b inside a", set(10, 50), set(20, 30), set(10, 50), set(20, 30), set(10, 20, 30, 50)},
		{"a inside b", set(20, 30), set(10, 50), set(10, 50), set(20, 30), nil},
		{"same start", set(10, 30), set(10, 20), set(10, 30), set(10, 20), set(20, 30)},
		{"same end", set(10, 30), set(20, 30), set(10, 30), set(20, 30), set(10, 20)},
		{"b spans a's gap", set(10, 20, 30, 40), set(15, 35), set(10, 40), set(15, 20, 30, 35), set(10, 15, 35, 40)},
		{"b fills a's gap exactly", set(10, 20, 30, 40), set(20, 30), set(10, 40), nil, set(10, 20, 30, 40)},
		{"b covers several of a", set(10, 20, 30, 40, 50, 60), set(0, 100), set(0, 100), set(10, 20, 30, 40, 50, 60), nil},
		{"many small bs punch one a", set(0, 100), set(10, 20, 30, 40, 50, 60),
			set(0, 100), set(10, 20, 30, 40, 50, 60), set(0, 10, 20, 30, 40, 50, 60, 100)},
		{"interleaved", set(0, 10, 20, 30, 40, 50), set(5, 25, 45, 60),
			set(0, 30, 40, 60), set(5, 10, 20, 25, 45, 50), set(0, 5, 25, 30, 40, 45)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			check := func(op string, got, want Set) {
				t.Helper()
				if !got.Equal(want) || !got.IsNormalized() {
					t.Errorf("%v %s %v = %v, want %v", tc.a, op, tc.b, got, want)
				}
			}
			check("∪", tc.a.Union(tc.b), tc.union)
			check("∪ (swapped)", tc.b.Union(tc.a), tc.union)
			check("∩", tc.a.Intersect(tc.b), tc.inter)
			check("∩ (swapped)", tc.b.Intersect(tc.a), tc.inter)
			check("−", tc.a.Subtract(tc.b), tc.aMinus)
		})
	}
}

func TestSetOpsDoNotModifyInputs(t *testing.T) {
	t.Parallel()
	a := set(0, 10, 20, 30, 40, 50)
	b := set(5, 25, 45, 60)
	a0, b0 := slices.Clone(a), slices.Clone(b)
	_ = a.Union(b)
	_ = a.Intersect(b)
	_ = a.Subtract(b)
	_ = b.Subtract(a)
	_ = a.Clip(iv(5, 45))
	if !slices.Equal(a, a0) || !slices.Equal(b, b0) {
		t.Fatalf("inputs modified: a=%v (was %v) b=%v (was %v)", a, a0, b, b0)
	}
	// Results must not alias inputs either: appending to or editing a result
	// cannot change the operands.
	u := a.Union(nil)
	u[0].End = gm(99)
	if !slices.Equal(a, a0) {
		t.Fatalf("Union result aliases receiver: a=%v", a)
	}
}

func TestSetDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    Set
		want time.Duration
	}{
		{nil, 0},
		{set(10, 20), 10 * time.Minute},
		{set(0, 60, 120, 150), 90 * time.Minute},
	}
	for _, tc := range tests {
		if got := tc.s.Duration(); got != tc.want {
			t.Errorf("%v.Duration() = %v, want %v", tc.s, got, tc.want)
		}
	}
	if d := iv(20, 10).Duration(); d != 0 {
		t.Errorf("inverted interval Duration() = %v, want 0", d)
	}
}

func TestSetContains(t *testing.T) {
	t.Parallel()
	s := set(10, 20, 30, 40)
	tests := []struct {
		at   time.Time
		want bool
	}{
		{gm(0), false},
		{gm(10), true},  // start included
		{gm(15), true},  // inside
		{gm(20), false}, // end excluded
		{gm(20).Add(-time.Nanosecond), true},
		{gm(25), false}, // gap
		{gm(30), true},
		{gm(40), false},
		{gm(100), false},
	}
	for _, tc := range tests {
		if got := s.Contains(tc.at); got != tc.want {
			t.Errorf("%v.Contains(%s) = %v, want %v", s, tc.at.Format(time.TimeOnly), got, tc.want)
		}
	}
	if Set(nil).Contains(gm(0)) {
		t.Error("empty set contains an instant")
	}
}

func TestSetClip(t *testing.T) {
	t.Parallel()
	s := set(10, 20, 30, 40, 50, 60)
	tests := []struct {
		name string
		w    Interval
		want Set
	}{
		{"window covers all", iv(0, 100), s},
		{"window exactly one interval", iv(30, 40), set(30, 40)},
		{"window cuts both ends", iv(15, 55), set(15, 20, 30, 40, 50, 55)},
		{"window in a gap", iv(20, 30), nil},
		{"window inside one interval", iv(32, 38), set(32, 38)},
		{"empty window", iv(35, 35), nil},
		{"inverted window", iv(40, 30), nil},
		{"window before all", iv(0, 10), nil},
		{"window after all", iv(60, 90), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := s.Clip(tc.w); !got.Equal(tc.want) || !got.IsNormalized() {
				t.Fatalf("%v.Clip(%v) = %v, want %v", s, tc.w, got, tc.want)
			}
		})
	}
}

func TestIntervalOverlaps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b Interval
		want bool
	}{
		{"disjoint", iv(0, 10), iv(20, 30), false},
		{"adjacent", iv(0, 10), iv(10, 20), false},
		{"adjacent reversed", iv(10, 20), iv(0, 10), false},
		{"one minute overlap", iv(0, 11), iv(10, 20), true},
		{"contained", iv(0, 30), iv(10, 20), true},
		{"equal", iv(0, 10), iv(0, 10), true},
		{"empty inside other", iv(5, 5), iv(0, 10), false},
		{"both empty same instant", iv(5, 5), iv(5, 5), false},
		{"inverted", iv(10, 0), iv(0, 10), false},
	}
	for _, tc := range tests {
		if got := tc.a.Overlaps(tc.b); got != tc.want {
			t.Errorf("%s: %v.Overlaps(%v) = %v, want %v", tc.name, tc.a, tc.b, got, tc.want)
		}
		if got := tc.b.Overlaps(tc.a); got != tc.want {
			t.Errorf("%s (swapped): %v.Overlaps(%v) = %v, want %v", tc.name, tc.b, tc.a, got, tc.want)
		}
	}
}

func TestSetIsNormalized(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    Set
		want bool
	}{
		{nil, true},
		{set(0, 10, 20, 30), true},
		{set(0, 10, 10, 20), false}, // touching
		{set(0, 15, 10, 20), false}, // overlapping
		{set(20, 30, 0, 10), false}, // unsorted
		{set(0, 0), false},          // empty
	}
	for _, tc := range tests {
		if got := tc.s.IsNormalized(); got != tc.want {
			t.Errorf("%v.IsNormalized() = %v, want %v", tc.s, got, tc.want)
		}
	}
}

// randomGridIntervals returns up to maxN raw intervals on the grid, including
// empty, inverted, overlapping and touching ones.
func randomGridIntervals(r *rand.Rand, maxN int) []Interval {
	n := r.Intn(maxN + 1)
	out := make([]Interval, n)
	for i := range out {
		a := r.Intn(gridSize + 1)
		b := a + r.Intn(40) - 5 // sometimes empty or inverted
		b = min(max(b, 0), gridSize)
		out[i] = iv(a, b)
	}
	return out
}

// checkSetLaws compares every operation on Normalize(rawA), Normalize(rawB)
// with the brute-force bitmap model, and checks the algebraic laws the
// booking code relies on.
func checkSetLaws(t *testing.T, rawA, rawB []Interval) {
	t.Helper()
	a, b := Normalize(rawA...), Normalize(rawB...)
	ma, mb := rawBitmap(rawA), rawBitmap(rawB)
	if !a.IsNormalized() || !b.IsNormalized() {
		t.Fatalf("Normalize output not normalised: %v, %v", a, b)
	}
	if bitmap(a) != ma || bitmap(b) != mb {
		t.Fatalf("Normalize changed membership: raw %v -> %v", Set(rawA), a)
	}
	u, in, d := a.Union(b), a.Intersect(b), a.Subtract(b)
	for name, s := range map[string]Set{"union": u, "intersect": in, "subtract": d} {
		if !s.IsNormalized() {
			t.Fatalf("%s(%v, %v) = %v is not normalised", name, a, b, s)
		}
	}
	var wantU, wantI, wantD [gridSize]bool
	for m := range wantU {
		wantU[m] = ma[m] || mb[m]
		wantI[m] = ma[m] && mb[m]
		wantD[m] = ma[m] && !mb[m]
	}
	if bitmap(u) != wantU {
		t.Fatalf("%v ∪ %v = %v disagrees with brute force", a, b, u)
	}
	if bitmap(in) != wantI {
		t.Fatalf("%v ∩ %v = %v disagrees with brute force", a, b, in)
	}
	if bitmap(d) != wantD {
		t.Fatalf("%v − %v = %v disagrees with brute force", a, b, d)
	}
	// Durations agree with the minute count of the model.
	if got, want := u.Duration(), time.Duration(countBits(wantU))*time.Minute; got != want {
		t.Fatalf("|%v| = %v, brute force %v", u, got, want)
	}
	// A ∪ B ⊇ A and A ∪ B ⊇ B.
	if rest := a.Subtract(u); rest != nil {
		t.Fatalf("A ∪ B does not contain A: A − (A ∪ B) = %v", rest)
	}
	if rest := b.Subtract(u); rest != nil {
		t.Fatalf("A ∪ B does not contain B: B − (A ∪ B) = %v", rest)
	}
	// (A − B) ∩ B = ∅.
	if x := d.Intersect(b); x != nil {
		t.Fatalf("(A − B) ∩ B = %v, want empty", x)
	}
	// |A ∪ B| = |A| + |B| − |A ∩ B|.
	if u.Duration() != a.Duration()+b.Duration()-in.Duration() {
		t.Fatalf("|A∪B| = %v, |A|+|B|−|A∩B| = %v", u.Duration(), a.Duration()+b.Duration()-in.Duration())
	}
	// (A − B) ∪ (A ∩ B) = A, and the two parts are disjoint.
	if re := d.Union(in); !re.Equal(a) {
		t.Fatalf("(A−B) ∪ (A∩B) = %v, want A = %v", re, a)
	}
	// Commutativity, exactly (normal form is unique).
	if !u.Equal(b.Union(a)) || !in.Equal(b.Intersect(a)) {
		t.Fatalf("union/intersect not commutative for %v, %v", a, b)
	}
	// Clip is intersection with a one-interval set.
	if len(rawB) > 0 {
		w := rawB[0]
		if got, want := a.Clip(w), a.Intersect(Normalize(w)); !got.Equal(want) {
			t.Fatalf("%v.Clip(%v) = %v, want %v", a, w, got, want)
		}
	}
}

func TestSetOpsProperties(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{1, 2, 3, 20270305} {
		r := rand.New(rand.NewSource(seed))
		for range 200 {
			checkSetLaws(t, randomGridIntervals(r, 8), randomGridIntervals(r, 8))
			if t.Failed() {
				t.Fatalf("seed %d", seed)
			}
		}
	}
}

// gridIntervalsFromBytes decodes fuzz input as (start, length) byte pairs on
// the grid; a length byte of 250 or more makes an inverted interval, so the
// fuzzer also explores junk input.
func gridIntervalsFromBytes(data []byte) []Interval {
	var out []Interval
	for i := 0; i+1 < len(data) && len(out) < 16; i += 2 {
		a := int(data[i]) % (gridSize + 1)
		l := int(data[i+1])
		b := a + l%64
		if l >= 250 {
			b = a - (l - 249)
		}
		out = append(out, iv(a, min(max(b, 0), gridSize)))
	}
	return out
}

// FuzzSetOps checks the set operations against the brute-force model for
// arbitrary pairs of sets; its seeds run in every plain go test.
func FuzzSetOps(f *testing.F) {
	f.Add([]byte{}, []byte{})
	f.Add([]byte{10, 10}, []byte{20, 10})               // adjacent
	f.Add([]byte{10, 40}, []byte{20, 5})                // contained
	f.Add([]byte{10, 0, 30, 0}, []byte{10, 0})          // empty intervals
	f.Add([]byte{0, 10, 20, 10, 40, 10}, []byte{5, 40}) // spans gaps
	f.Add([]byte{50, 255, 60, 251}, []byte{55, 3})      // inverted
	f.Add([]byte{255, 63, 0, 63}, []byte{200, 63, 100, 63})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		checkSetLaws(t, gridIntervalsFromBytes(a), gridIntervalsFromBytes(b))
	})
}
