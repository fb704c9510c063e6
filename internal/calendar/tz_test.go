package calendar

import (
	"errors"
	"regexp"
	"sync"
	"testing"
	"time"
)

// minTZVersion is the oldest IANA release carrying every rule these tests
// pin (Morocco's permanent +00 arrived in 2026c; 2026f is what we ship).
const minTZVersion = "2026f"

func utc(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad test timestamp %q: %v", s, err)
	}
	return ts
}

// TestLoadLocationInstants pins how UTC instants render in zones whose rules
// matter to us, above all Morocco's 2026-09-20 switch to permanent +00.
func TestLoadLocationInstants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		zone       string
		instant    string // RFC 3339, UTC
		wantWall   string // "15:04" in the zone
		wantOffset int    // seconds east of UTC
	}{
		{"Casablanca before 2026c change is +01", "Africa/Casablanca", "2026-03-25T12:00:00Z", "13:00", 3600},
		{"Casablanca just before switch is +01", "Africa/Casablanca", "2026-09-20T00:59:59Z", "01:59", 3600},
		{"Casablanca at switch is +00", "Africa/Casablanca", "2026-09-20T01:00:00Z", "01:00", 0},
		{"Casablanca after 2026c change is +00", "Africa/Casablanca", "2026-10-01T12:00:00Z", "12:00", 0},
		{"Casablanca summer 2027 stays +00", "Africa/Casablanca", "2027-07-01T12:00:00Z", "12:00", 0},
		{"Dakar winter", "Africa/Dakar", "2026-01-15T12:00:00Z", "12:00", 0},
		{"Dakar spring", "Africa/Dakar", "2026-03-25T12:00:00Z", "12:00", 0},
		{"Dakar summer", "Africa/Dakar", "2026-07-01T12:00:00Z", "12:00", 0},
		{"Dakar autumn", "Africa/Dakar", "2026-10-01T12:00:00Z", "12:00", 0},
		{"Dakar 2027", "Africa/Dakar", "2027-03-10T10:00:00Z", "10:00", 0},
		{"Paris summer DST", "Europe/Paris", "2026-07-01T12:00:00Z", "14:00", 7200},
		{"Paris winter", "Europe/Paris", "2026-01-15T12:00:00Z", "13:00", 3600},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			loc, err := LoadLocation(tc.zone)
			if err != nil {
				t.Fatalf("LoadLocation(%q): %v", tc.zone, err)
			}
			local := utc(t, tc.instant).In(loc)
			if got := local.Format("15:04"); got != tc.wantWall {
				t.Errorf("%s in %s: wall clock %s, want %s", tc.instant, tc.zone, got, tc.wantWall)
			}
			if _, off := local.Zone(); off != tc.wantOffset {
				t.Errorf("%s in %s: offset %+ds, want %+ds (%s)", tc.instant, tc.zone, off, tc.wantOffset, local.Format("-07:00"))
			}
		})
	}
}

// TestLoadLocationWallClock pins the reverse direction: a local wall-clock
// time built with time.Date in a loaded zone maps to the right UTC instant.
func TestLoadLocationWallClock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		zone    string
		wall    [5]int // year, month, day, hour, minute
		wantUTC string
	}{
		{"Casablanca 2027-03-10 10:00 is 10:00Z", "Africa/Casablanca", [5]int{2027, 3, 10, 10, 0}, "2027-03-10T10:00:00Z"},
		// Under pre-2026c rules this would be 09:00Z (+01 outside Ramadan).
		{"Casablanca 2027-06-01 10:00 is 10:00Z", "Africa/Casablanca", [5]int{2027, 6, 1, 10, 0}, "2027-06-01T10:00:00Z"},
		{"Casablanca 2026-03-25 13:00 is 12:00Z", "Africa/Casablanca", [5]int{2026, 3, 25, 13, 0}, "2026-03-25T12:00:00Z"},
		{"Dakar 2027-03-10 10:00 is 10:00Z", "Africa/Dakar", [5]int{2027, 3, 10, 10, 0}, "2027-03-10T10:00:00Z"},
		{"Paris 2026-07-01 10:00 is 08:00Z", "Europe/Paris", [5]int{2026, 7, 1, 10, 0}, "2026-07-01T08:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			loc := MustLoadLocation(tc.zone)
			w := tc.wall
			got := time.Date(w[0], time.Month(w[1]), w[2], w[3], w[4], 0, 0, loc)
			if want := utc(t, tc.wantUTC); !got.Equal(want) {
				t.Errorf("wall %v in %s = %s, want %s", w, tc.zone, got.UTC().Format(time.RFC3339), tc.wantUTC)
			}
			if got.Location() != loc {
				t.Errorf("time.Date kept location %v, want %v", got.Location(), loc)
			}
		})
	}
}

// TestSystemTZDataIsNotUsed documents why the embedded database exists: the
// host's (or Go's) data may still apply +01:00 in Morocco after 2026-09-20.
// It never fails on the host's data; it only asserts our loader is right
// whatever the host says.
func TestSystemTZDataIsNotUsed(t *testing.T) {
	t.Parallel()
	instant := utc(t, "2026-10-01T12:00:00Z")

	ours := MustLoadLocation("Africa/Casablanca")
	if _, off := instant.In(ours).Zone(); off != 0 {
		t.Fatalf("embedded Africa/Casablanca on 2026-10-01: offset %+ds, want 0", off)
	}

	sys, err := time.LoadLocation("Africa/Casablanca")
	if err != nil {
		t.Logf("system/Go tzdata has no Africa/Casablanca (%v); embedded data is the only source", err)
		return
	}
	if sys == ours {
		t.Fatal("LoadLocation returned the same *time.Location as time.LoadLocation")
	}
	switch _, off := instant.In(sys).Zone(); off {
	case 3600:
		t.Logf("system/Go tzdata is stale: Africa/Casablanca is %s on 2026-10-01 (pre-2026c rules); embedded %s gives +00:00",
			instant.In(sys).Format("-07:00"), TZVersion())
	case 0:
		t.Logf("system/Go tzdata is current for Africa/Casablanca (+00:00 on 2026-10-01)")
	default:
		t.Logf("system/Go tzdata gives unexpected offset %+ds for Africa/Casablanca on 2026-10-01", off)
	}
}

func TestTZVersion(t *testing.T) {
	t.Parallel()
	v := TZVersion()
	if !regexp.MustCompile(`^20[0-9]{2}[a-z]$`).MatchString(v) {
		t.Fatalf("TZVersion() = %q, want an IANA release like 2026f", v)
	}
	if v < minTZVersion {
		t.Fatalf("TZVersion() = %q, older than required %q; run make tzdata", v, minTZVersion)
	}
}

func TestLoadLocationUnknownZone(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		"Mars/Olympus_Mons",
		"",                    // time.LoadLocation would return UTC
		"Local",               // time.LoadLocation would return the host zone
		"africa/casablanca",   // IANA names are case-sensitive
		"../../etc/passwd",    // no filesystem access at all
		"posix/Europe/Paris",  // excluded subtree
		"right/UTC",           // excluded subtree
		"zone.tab",            // not a TZif file
		"posixrules",          // zic artifact, excluded
		"Africa/Casablanca/x", // not a directory
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			loc, err := LoadLocation(name)
			if !errors.Is(err, ErrUnknownZone) {
				t.Fatalf("LoadLocation(%q) = %v, %v; want error wrapping ErrUnknownZone", name, loc, err)
			}
			if loc != nil {
				t.Errorf("LoadLocation(%q) returned non-nil location %v with error", name, loc)
			}
		})
	}
}

func TestMustLoadLocationPanicsOnUnknownZone(t *testing.T) {
	t.Parallel()
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.Is(err, ErrUnknownZone) {
			t.Fatalf("recover() = %v, want an error wrapping ErrUnknownZone", r)
		}
	}()
	MustLoadLocation("Nowhere/Atlantis")
}

func TestLoadLocationUTC(t *testing.T) {
	t.Parallel()
	if loc := MustLoadLocation("UTC"); loc != time.UTC {
		t.Fatalf("LoadLocation(\"UTC\") = %p, want time.UTC", loc)
	}
	// Etc/UTC is a distinct IANA name and comes from the archive.
	etc := MustLoadLocation("Etc/UTC")
	if _, off := time.Now().In(etc).Zone(); off != 0 || etc.String() != "Etc/UTC" {
		t.Fatalf("Etc/UTC: name %q offset %d", etc.String(), off)
	}
}

// TestLoadLocationCachedAndConcurrent checks that concurrent first loads
// agree on one *time.Location (run with -race).
func TestLoadLocationCachedAndConcurrent(t *testing.T) {
	t.Parallel()
	const zone, workers = "America/Sao_Paulo", 16
	got := make([]*time.Location, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			loc, err := LoadLocation(zone)
			if err != nil {
				t.Errorf("LoadLocation(%q): %v", zone, err)
			}
			got[i] = loc
		})
	}
	wg.Wait()
	for i, loc := range got {
		if loc != got[0] {
			t.Fatalf("worker %d got %p, worker 0 got %p; want one cached location", i, loc, got[0])
		}
	}
}

// TestEveryEmbeddedZoneLoads guards the generator: each archive entry must
// decode and report its own name.
func TestEveryEmbeddedZoneLoads(t *testing.T) {
	t.Parallel()
	names, err := zoneNames()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 300 {
		t.Fatalf("embedded archive has %d zones, want at least 300", len(names))
	}
	seen := map[string]bool{}
	for _, name := range names {
		seen[name] = true
		loc, err := LoadLocation(name)
		if err != nil {
			t.Errorf("LoadLocation(%q): %v", name, err)
			continue
		}
		if loc.String() != name {
			t.Errorf("LoadLocation(%q).String() = %q", name, loc.String())
		}
	}
	for _, want := range []string{"Africa/Casablanca", "Africa/Dakar", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Etc/UTC", "UTC"} {
		if !seen[want] {
			t.Errorf("embedded archive lacks %s", want)
		}
	}
	for _, name := range names {
		if len(name) >= 6 && (name[:6] == "posix/" || name[:6] == "right/") {
			t.Errorf("embedded archive contains excluded entry %s", name)
		}
	}
}
