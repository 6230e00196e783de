#!/usr/bin/env bash
# Known-vulnerability scan of Vigie's Go code and dependencies with
# govulncheck (golang.org/x/vuln), at a pinned version. It reports only
# vulnerabilities whose code Vigie can reach (call graph), with a trace.
#
#   scripts/govulncheck.sh            scan ./...; exit 1 on a reachable vulnerability in a module
#   VULN_STRICT=1 scripts/govulncheck.sh   also exit 1 on one in the standard library
#
# The database: https://vuln.go.dev when its name resolves; otherwise (the
# dev and CI machines reach no site but the package registries) the OSV
# files of the golang.org/x/vulndb module at a pinned version, fetched from
# the Go module proxy like any module. That snapshot is as fresh as
# VULNDB_VERSION: bump it (newest version: `go list -m -versions` is not
# served for it; see docs/dependencies.md) to see newer advisories.
#
# Standard-library findings are fixed by a newer Go toolchain, not by
# `go get`; they are printed but, unless VULN_STRICT=1, do not fail the
# run, so that a toolchain this machine cannot install yet does not block
# CI. docs/dependencies.md lists them with what fixes them.
#
# Environment: GO (default go), GOVULNCHECK_VERSION, VULNDB_VERSION,
# VULN_DB (a database URL, overriding the choice above), VULN_STRICT.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO="${GO:-go}"
VERSION="${GOVULNCHECK_VERSION:-v1.9.0}"
VULNDB_VERSION="${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}"

db="${VULN_DB:-}"
if [[ -z "$db" ]]; then
	if getent hosts vuln.go.dev >/dev/null 2>&1; then
		db=https://vuln.go.dev
	else
		# Outside any module, so go.mod is never touched.
		tmp=$(mktemp -d)
		dir=$(cd "$tmp" && "$GO" mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		rmdir "$tmp"
		[[ -d "$dir/data/osv" ]] || { echo "govulncheck.sh: golang.org/x/vulndb@$VULNDB_VERSION has no data/osv" >&2; exit 1; }
		db="file://$dir/data/osv"
		echo "govulncheck.sh: vuln.go.dev unreachable; using the OSV snapshot golang.org/x/vulndb@$VULNDB_VERSION" >&2
	fi
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
set +e
"$GO" run "golang.org/x/vuln/cmd/govulncheck@$VERSION" -db "$db" -format json ./... >"$out"
rc=$?
set -e
if [[ $rc -ne 0 && $rc -ne 3 ]]; then
	echo "govulncheck.sh: govulncheck failed (exit $rc)" >&2
	cat "$out" >&2
	exit "$rc"
fi
VULN_STRICT="${VULN_STRICT:-}" python3 - "$out" <<'PY'
import json, os, sys

text = open(sys.argv[1]).read()
dec, i, objs = json.JSONDecoder(), 0, []
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    o, i = dec.raw_decode(text, i)
    objs.append(o)

osv = {o["osv"]["id"]: o["osv"] for o in objs if "osv" in o}
cfg = next((o["config"] for o in objs if "config" in o), {})
reached = {}
for o in objs:
    f = o.get("finding")
    if not f or not f.get("trace") or not f["trace"][0].get("function"):
        continue  # module or package imported, vulnerable code not called
    reached.setdefault(f["osv"], f)

print(f"govulncheck {cfg.get('scanner_version', '?')}, database {cfg.get('db', '?')} "
      f"(modified {cfg.get('db_last_modified', '?')}), Go {cfg.get('go_version', '?')}")
std, mods = [], []
for vid in sorted(reached):
    f = reached[vid]
    t = f["trace"][0]
    mod = t.get("module", "?")
    line = (f"  {vid} {mod}@{t.get('version', '?')} fixed in {f.get('fixed_version') or 'no fixed version'}: "
            f"{osv.get(vid, {}).get('summary', '')}")
    call = f["trace"][-1]
    pos = call.get("position") or {}
    line += f"\n      reached from {call.get('package', '?')}.{call.get('function', '?')}"
    if pos:
        line += f" ({os.path.relpath(pos.get('filename', '?'))}:{pos.get('line', '?')})"
    (std if mod in ("stdlib", "toolchain") else mods).append(line)

if mods:
    print(f"{len(mods)} reachable vulnerabilities in modules (fix: go get module@fixed-version):")
    print("\n".join(mods))
if std:
    print(f"{len(std)} reachable vulnerabilities in the Go standard library (fix: a newer Go toolchain):")
    print("\n".join(std))
if not mods and not std:
    print("no reachable vulnerability")
strict = os.environ.get("VULN_STRICT") == "1"
sys.exit(1 if mods or (strict and std) else 0)
PY
