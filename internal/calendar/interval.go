package calendar

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// Interval is the half-open stretch of time [Start, End). Half-open
// intervals let a booking ending at 13:00 and one starting at 13:00 sit side
// by side without sharing an instant, and make durations add up exactly.
//
// Only the instants matter: comparisons use time.Time's Before/After/Equal,
// never ==, so intervals in different locations combine correctly. An
// interval whose End is not after its Start is empty.
type Interval struct {
	Start, End time.Time
}

// IsEmpty reports whether iv contains no instant, which is the case when End
// is not after Start; set operations drop such intervals so that an empty
// slot can never be mistaken for bookable time.
func (iv Interval) IsEmpty() bool {
	return !iv.Start.Before(iv.End)
}

// Duration returns the length of iv, or 0 if it is empty, so that inverted
// intervals never contribute negative time to a total.
func (iv Interval) Duration() time.Duration {
	if iv.IsEmpty() {
		return 0
	}
	return iv.End.Sub(iv.Start)
}

// Contains reports whether t lies in [Start, End); the end instant is
// excluded so that back-to-back intervals never both claim it.
func (iv Interval) Contains(t time.Time) bool {
	return !t.Before(iv.Start) && t.Before(iv.End)
}

// Overlaps reports whether iv and o share at least one instant. Intervals
// that merely touch (one ends where the other starts) do not overlap, which
// is what lets consecutive bookings of the same room coexist; empty
// intervals overlap nothing.
func (iv Interval) Overlaps(o Interval) bool {
	if iv.IsEmpty() || o.IsEmpty() {
		return false
	}
	return iv.Start.Before(o.End) && o.Start.Before(iv.End)
}

// String formats iv as "[start, end)" in RFC 3339 with each instant in its
// own location, for log lines and test failure messages.
func (iv Interval) String() string {
	return "[" + iv.Start.Format(time.RFC3339Nano) + ", " + iv.End.Format(time.RFC3339Nano) + ")"
}

// Set is a union of intervals kept in normal form: sorted by Start, with no
// empty intervals and no two intervals overlapping or touching (touching ones
// are merged). Normal form makes every set of instants have exactly one
// representation, so sets can be compared with Equal and combined by linear
// merges instead of pairwise comparisons.
//
// The methods below assume their receiver and arguments are normalised, as
// every Set returned by this package is; pass hand-built slices through
// Normalize first. They never modify their inputs and always return a fresh
// slice. An empty Set may be nil.
type Set []Interval

// Normalize returns the normal-form Set covering exactly the instants of ivs:
// it drops empty intervals, sorts, and merges overlapping or touching ones.
// It copies its input, so callers may pass a slice they go on using, and
// strips monotonic clock readings so that only wall-clock instants are
// compared. It costs O(n log n) for the sort; everything else is linear.
func Normalize(ivs ...Interval) Set {
	tmp := make([]Interval, 0, len(ivs))
	for _, iv := range ivs {
		if iv.IsEmpty() {
			continue
		}
		tmp = append(tmp, Interval{Start: iv.Start.Round(0), End: iv.End.Round(0)})
	}
	if len(tmp) == 0 {
		return nil
	}
	slices.SortFunc(tmp, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	out := make(Set, 0, len(tmp))
	for _, iv := range tmp {
		out = out.appendMerged(iv)
	}
	return out
}

// appendMerged appends iv to s, which must be normalised with no interval
// starting after iv, merging iv into the last interval when they overlap or
// touch. It is the single place that maintains normal form for every
// operation, so each merge stays linear.
func (s Set) appendMerged(iv Interval) Set {
	if iv.IsEmpty() {
		return s
	}
	if n := len(s); n > 0 && !iv.Start.After(s[n-1].End) {
		if iv.End.After(s[n-1].End) {
			s[n-1].End = iv.End
		}
		return s
	}
	return append(s, iv)
}

// Union returns the instants in s or o, merging both sorted lists in one
// linear pass.
func (s Set) Union(o Set) Set {
	out := make(Set, 0, len(s)+len(o))
	i, j := 0, 0
	for i < len(s) || j < len(o) {
		if j == len(o) || (i < len(s) && s[i].Start.Before(o[j].Start)) {
			out = out.appendMerged(s[i])
			i++
		} else {
			out = out.appendMerged(o[j])
			j++
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Intersect returns the instants in both s and o, walking both lists once
// and advancing whichever current interval ends first.
func (s Set) Intersect(o Set) Set {
	var out Set
	i, j := 0, 0
	for i < len(s) && j < len(o) {
		lo := later(s[i].Start, o[j].Start)
		hi := earlier(s[i].End, o[j].End)
		out = out.appendMerged(Interval{Start: lo, End: hi})
		if s[i].End.Before(o[j].End) {
			i++
		} else {
			j++
		}
	}
	return out
}

// Subtract returns the instants in s that are not in o. It is linear: the
// cursor into o only moves forward, and an interval of o is revisited only
// while it still overlaps the next interval of s, which happens at most
// len(s)+len(o) times in total.
func (s Set) Subtract(o Set) Set {
	var out Set
	j := 0
	for _, iv := range s {
		// Intervals of o ending before iv starts cannot touch iv or any later
		// interval of s.
		for j < len(o) && !o[j].End.After(iv.Start) {
			j++
		}
		cur := iv.Start
		for k := j; k < len(o) && o[k].Start.Before(iv.End); k++ {
			if o[k].Start.After(cur) {
				out = out.appendMerged(Interval{Start: cur, End: o[k].Start})
			}
			cur = later(cur, o[k].End)
		}
		out = out.appendMerged(Interval{Start: cur, End: iv.End})
	}
	return out
}

// Duration returns the total length of s, for example the working time in a
// window or the booked time of a room.
func (s Set) Duration() time.Duration {
	var d time.Duration
	for _, iv := range s {
		d += iv.Duration()
	}
	return d
}

// Contains reports whether t lies in one of the intervals of s, using binary
// search so that checking a long calendar stays cheap.
func (s Set) Contains(t time.Time) bool {
	i := sort.Search(len(s), func(i int) bool { return s[i].End.After(t) })
	return i < len(s) && !t.Before(s[i].Start)
}

// Clip returns the part of s inside w, for instance the working time of one
// day cut out of a month. It finds the first affected interval by binary
// search and copies, so the receiver is never modified.
func (s Set) Clip(w Interval) Set {
	if w.IsEmpty() {
		return nil
	}
	var out Set
	i := sort.Search(len(s), func(i int) bool { return s[i].End.After(w.Start) })
	for ; i < len(s) && s[i].Start.Before(w.End); i++ {
		out = out.appendMerged(Interval{Start: later(s[i].Start, w.Start), End: earlier(s[i].End, w.End)})
	}
	return out
}

// Equal reports whether s and o cover the same instants. Because both are in
// normal form this is an element-wise comparison of instants, regardless of
// the locations the times carry.
func (s Set) Equal(o Set) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		if !s[i].Start.Equal(o[i].Start) || !s[i].End.Equal(o[i].End) {
			return false
		}
	}
	return true
}

// IsNormalized reports whether s is in normal form (sorted, no empty
// intervals, no overlapping or touching neighbours), so that code receiving a
// Set from outside this package, and tests, can check the invariant the
// methods rely on.
func (s Set) IsNormalized() bool {
	for i, iv := range s {
		if iv.IsEmpty() {
			return false
		}
		if i > 0 && !s[i-1].End.Before(iv.Start) {
			return false
		}
	}
	return true
}

// String formats s as a comma-separated list of intervals, for log lines and
// test failure messages.
func (s Set) String() string {
	parts := make([]string, len(s))
	for i, iv := range s {
		parts[i] = iv.String()
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// later returns the later of two instants.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// earlier returns the earlier of two instants.
func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
