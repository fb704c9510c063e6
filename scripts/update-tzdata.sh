#!/usr/bin/env bash
# update-tzdata.sh refreshes the IANA time zone database embedded in
# internal/calendar (tzdata/zoneinfo.zip and tzdata/VERSION).
#
# Why: the app must schedule in zones whose rules change at short notice
# (e.g. Morocco's move to permanent +00 in IANA 2026c). Go's bundled tzdata
# and the host's /usr/share/zoneinfo lag behind, so we embed our own copy
# taken from Debian's tzdata package, which security-updates it promptly.
#
# How: picks the newest tzdata version apt knows about (across all
# configured suites, e.g. bookworm-security), downloads it with
# `apt-get download` into a temp dir, extracts it with `dpkg-deb -x`
# (nothing is installed system-wide), and runs the Go generator in
# internal/calendar/tzdata/gen to pack the TZif files.
#
# Requires a Debian/Ubuntu host with apt-get, apt-cache, dpkg-deb and go.
#
# Environment:
#   TZDATA_DEB_VERSION=<ver>   download this exact Debian version instead of the newest
#   TZDATA_SKIP_APT_UPDATE=1   do not run `apt-get update` first
#   TZDATA_ALLOW_DOWNGRADE=1   allow embedding an older IANA release than the current one
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out_dir="${repo_root}/internal/calendar/tzdata"

for tool in apt-get apt-cache dpkg dpkg-deb go; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "update-tzdata: required tool '$tool' not found (this script needs a Debian-based host)" >&2
		exit 1
	fi
done

if [[ "${TZDATA_SKIP_APT_UPDATE:-0}" != "1" ]]; then
	if [[ "$(id -u)" == "0" ]]; then
		echo "update-tzdata: apt-get update" >&2
		apt-get update -qq
	else
		echo "update-tzdata: not root, skipping 'apt-get update' (package lists may be stale)" >&2
	fi
fi

# Pick the highest version in Debian ordering among everything apt-cache
# madison reports; the policy "Candidate" can be held back by pinning.
version="${TZDATA_DEB_VERSION:-}"
if [[ -z "$version" ]]; then
	while read -r candidate; do
		if [[ -z "$version" ]] || dpkg --compare-versions "$candidate" gt "$version"; then
			version="$candidate"
		fi
	done < <(apt-cache madison tzdata | awk -F'|' '{gsub(/ /, "", $2); print $2}')
fi
if [[ -z "$version" ]]; then
	echo "update-tzdata: apt knows no tzdata package; check sources.list" >&2
	exit 1
fi
echo "update-tzdata: using Debian tzdata ${version}" >&2

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# As root, apt warns that its _apt sandbox user cannot write to this private
# dir and downloads as root instead; that is harmless and safer than making
# the directory world-writable.

(cd "$tmp" && apt-get download -qq "tzdata=${version}")
deb=("$tmp"/tzdata_*.deb)
if [[ ! -f "${deb[0]}" ]]; then
	echo "update-tzdata: download of tzdata=${version} produced no .deb" >&2
	exit 1
fi
deb_version="$(dpkg-deb -f "${deb[0]}" Version)"
dpkg-deb -x "${deb[0]}" "$tmp/root"

gen_args=(
	-src "$tmp/root/usr/share/zoneinfo"
	-out "$out_dir"
	-fallback-version "$deb_version"
)
if [[ "${TZDATA_ALLOW_DOWNGRADE:-0}" == "1" ]]; then
	gen_args+=(-allow-downgrade)
fi

(cd "$repo_root" && go run ./internal/calendar/tzdata/gen "${gen_args[@]}")

echo "update-tzdata: embedded IANA $(cat "$out_dir/VERSION") from Debian tzdata ${deb_version}" >&2
