// Command gen packs an extracted IANA zoneinfo tree into the zip archive that
// package calendar embeds, and records the IANA release it came from.
//
// It is normally run by scripts/update-tzdata.sh, which downloads and
// extracts Debian's tzdata package first:
//
//	go run ./internal/calendar/tzdata/gen \
//	    -src /tmp/x/usr/share/zoneinfo \
//	    -out internal/calendar/tzdata \
//	    -fallback-version 2026f-0+deb12u1
//
// Only real TZif files are packed (the first four bytes must be "TZif");
// the posix/ and right/ trees, tables (*.tab), the zic source (*.zi), leap
// second lists, and the posixrules/localtime artifacts are skipped. Symbolic
// links inside the tree (Debian ships aliases such as GB -> Europe/London as
// links) are resolved and packed as ordinary entries under the alias name,
// so every name the package knew is loadable from the archive.
//
// The output is deterministic (sorted names, fixed timestamps) so rerunning
// the generator on the same input produces a byte-identical zip and a clean
// git diff. Every entry is parsed with time.LoadLocationFromTZData before
// the archive is written, so a broken package can never reach the tree.
package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// tzifMagic is the four-byte signature that starts every TZif file (RFC 8536).
var tzifMagic = []byte("TZif")

// versionRE matches an IANA release name such as "2026f".
var versionRE = regexp.MustCompile(`^[0-9]{4}[a-z]+$`)

// skipDirs are subtrees that duplicate the main tree with other conventions
// (POSIX-only or leap-second-aware "right" clocks) and must not be embedded.
var skipDirs = map[string]bool{"posix": true, "right": true}

// skipFiles are top-level names that are not zones even when they are TZif:
// posixrules is a zic default-rule artifact and localtime points at the
// host's /etc/localtime.
var skipFiles = map[string]bool{"posixrules": true, "localtime": true}

// requiredZones must be present in any archive we write; their absence means
// the input tree is not a zoneinfo directory at all.
var requiredZones = []string{"UTC", "Etc/UTC", "Europe/Paris", "Africa/Casablanca", "America/New_York"}

// minZones is a floor on the number of packed entries, guarding against a
// truncated or partially extracted package.
const minZones = 300

// zipEpoch is the fixed modification time stamped on every entry so the
// archive is reproducible.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	log.SetFlags(0)
	log.SetPrefix("tzdata-gen: ")

	src := flag.String("src", "", "extracted zoneinfo directory (e.g. <tmp>/usr/share/zoneinfo)")
	out := flag.String("out", "internal/calendar/tzdata", "output directory for zoneinfo.zip and VERSION")
	fallback := flag.String("fallback-version", "", "Debian package version, used when tzdata.zi has no '# version' line")
	allowDowngrade := flag.Bool("allow-downgrade", false, "permit writing an IANA release older than the one already in -out")
	flag.Parse()

	if *src == "" {
		log.Fatal("-src is required")
	}
	if err := run(*src, *out, *fallback, *allowDowngrade); err != nil {
		log.Fatal(err)
	}
}

func run(src, out, fallback string, allowDowngrade bool) error {
	version, err := detectVersion(src, fallback)
	if err != nil {
		return err
	}
	if err := checkNotDowngrade(filepath.Join(out, "VERSION"), version, allowDowngrade); err != nil {
		return err
	}

	zones, err := collectZones(src)
	if err != nil {
		return err
	}
	if len(zones) < minZones {
		return fmt.Errorf("only %d TZif files found under %s, want at least %d", len(zones), src, minZones)
	}
	for _, name := range requiredZones {
		if _, ok := zones[name]; !ok {
			return fmt.Errorf("required zone %q missing from %s", name, src)
		}
	}

	archive, err := buildZip(zones)
	if err != nil {
		return err
	}

	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(out, "zoneinfo.zip"), archive); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(out, "VERSION"), []byte(version+"\n")); err != nil {
		return err
	}
	log.Printf("wrote %d zones (%d bytes) for IANA release %s to %s", len(zones), len(archive), version, out)
	return nil
}

// detectVersion prefers the "# version X" header of tzdata.zi, which is the
// authoritative upstream release, and falls back to the upstream part of the
// Debian version string (everything before the first '-').
func detectVersion(src, fallback string) (string, error) {
	if f, err := os.Open(filepath.Join(src, "tzdata.zi")); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		if sc.Scan() {
			if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "# version "); ok {
				v = strings.TrimSpace(v)
				if versionRE.MatchString(v) {
					return v, nil
				}
				return "", fmt.Errorf("tzdata.zi declares malformed version %q", v)
			}
		}
		if err := sc.Err(); err != nil {
			return "", fmt.Errorf("reading tzdata.zi: %w", err)
		}
	}
	v, _, _ := strings.Cut(fallback, "-")
	if i := strings.IndexByte(v, ':'); i >= 0 { // strip a Debian epoch
		v = v[i+1:]
	}
	if !versionRE.MatchString(v) {
		return "", fmt.Errorf("cannot determine IANA version: no '# version' in tzdata.zi and fallback %q is not like 2026f-...", fallback)
	}
	return v, nil
}

// checkNotDowngrade refuses to replace a newer embedded release with an
// older one, which would silently reintroduce fixed bugs such as stale DST
// rules.
func checkNotDowngrade(versionFile, next string, allow bool) error {
	raw, err := os.ReadFile(versionFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	cur := strings.TrimSpace(string(raw))
	if cur == "" || allow || compareVersions(next, cur) >= 0 {
		return nil
	}
	return fmt.Errorf("refusing to downgrade embedded tzdata from %s to %s (use -allow-downgrade)", cur, next)
}

// compareVersions orders IANA release names: by year, then by the letter
// suffix, where a longer suffix sorts later (upstream would follow "z"
// with "za").
func compareVersions(a, b string) int {
	if c := strings.Compare(a[:4], b[:4]); c != 0 {
		return c
	}
	sa, sb := a[4:], b[4:]
	if len(sa) != len(sb) {
		if len(sa) < len(sb) {
			return -1
		}
		return 1
	}
	return strings.Compare(sa, sb)
}

// collectZones walks src and returns the contents of every TZif file keyed
// by its slash-separated zone name.
func collectZones(src string) (map[string][]byte, error) {
	root, err := filepath.Abs(src)
	if err != nil {
		return nil, err
	}
	zones := make(map[string][]byte)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if d.IsDir() {
			if skipDirs[name] {
				return filepath.SkipDir
			}
			return nil
		}
		if skipFiles[name] || strings.HasSuffix(name, ".tab") || strings.HasSuffix(name, ".zi") ||
			strings.HasPrefix(name, "leap") || strings.HasPrefix(name, ".") {
			return nil
		}

		// Resolve links, but only to targets inside the tree, so a host path
		// such as /etc/localtime can never leak into the archive.
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			return fmt.Errorf("resolving %s: %w", name, err)
		}
		if r, err := filepath.Rel(root, real); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			log.Printf("skipping %s: links outside the tree to %s", name, real)
			return nil
		}
		info, err := os.Stat(real)
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(real)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(data, tzifMagic) {
			log.Printf("skipping %s: not a TZif file", name)
			return nil
		}
		if _, err := time.LoadLocationFromTZData(name, data); err != nil {
			return fmt.Errorf("zone %s does not parse: %w", name, err)
		}
		zones[name] = data
		return nil
	})
	return zones, err
}

// buildZip packs the zones with Deflate in sorted order with fixed
// timestamps, which keeps the archive well under 1 MB and reproducible.
func buildZip(zones map[string][]byte) ([]byte, error) {
	names := make([]string, 0, len(zones))
	for name := range zones {
		names = append(names, name)
	}
	sort.Strings(names)

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range names {
		hdr := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipEpoch}
		hdr.SetMode(0o644)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(zones[name]); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeAtomic replaces path via a temporary sibling and rename, so an
// interrupted run never leaves a truncated file behind.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
