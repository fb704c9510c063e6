// Package version tells which build of posthub is running.
package version

import "runtime/debug"

// Version is set at build time with -ldflags "-X github.com/posthub/posthub/internal/version.Version=…";
// without it, the VCS revision the Go toolchain stamped is used.
var Version = ""

// String returns the build's version.
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			if dirty {
				rev += "-dirty"
			}
			return "dev-" + rev
		}
	}
	return "dev"
}
