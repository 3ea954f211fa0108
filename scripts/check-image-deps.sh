#!/usr/bin/env bash
# Does the image's install line (Dockerfile) resolve against the official constraints of its Airflow
# version? A pip dry run (`pip install --dry-run --ignore-installed --report`) of exactly that line,
# in a throw-away venv of this machine's python3 (the image's Python is 3.11 too); needs PyPI only.
#
#   scripts/check-image-deps.sh [CONSTRAINTS]
#
# CONSTRAINTS is the constraints file to check against. Default: the official
# constraints-<version>/constraints-3.11.txt from GitHub when reachable; otherwise the derived
# stand-in scripts/airflow-constraints.derived.txt (see --derive), and the output says so.
#
#   scripts/check-image-deps.sh --derive
#
# regenerates that stand-in: apache-airflow[<the image's extras>]==<version> resolved alone, every
# package pinned. It is what the official file is (Airflow and its providers resolved without
# the project), only resolved today instead of on release day.
set -euo pipefail
cd "$(dirname "$0")/.."
DERIVED=scripts/airflow-constraints.derived.txt

version=$(sed -n 's/^ARG AIRFLOW_VERSION=//p' Dockerfile)
extras=$(grep -o 'apache-airflow\[[^]]*\]' Dockerfile | head -n 1 | sed 's/^apache-airflow//')
[ -n "$version" ] && [ -n "$extras" ] || { echo "cannot read the Airflow version/extras from Dockerfile" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip install --dry-run --ignore-installed --quiet --disable-pip-version-check)

pins_of() {  # pip report -> sorted name==version lines
  python3 -c 'import json, sys
metas = sorted((i["metadata"] for i in json.load(open(sys.argv[1]))["install"]), key=lambda m: m["name"].lower())
print("\n".join(m["name"] + "==" + m["version"] for m in metas))' "$1"
}

if [ "${1:-}" = "--derive" ]; then
  "${pip[@]}" --report "$work/airflow.json" "apache-airflow$extras==$version" 2> >(grep -v '^WARNING: Location' >&2)
  {
    echo "# Stand-in for Airflow's official constraints-$version/constraints-3.11.txt (not reachable from"
    echo "# the build machines): apache-airflow$extras==$version resolved alone from PyPI on $(date -u +%F)"
    echo "# by scripts/check-image-deps.sh --derive. The image itself uses the official file it ships."
    pins_of "$work/airflow.json"
  } > "$DERIVED"
  echo "wrote $DERIVED ($(grep -vc '^#' "$DERIVED") pins)"
  exit 0
fi

constraints=${1:-}
source=$constraints
if [ -z "$constraints" ]; then
  url="https://raw.githubusercontent.com/apache/airflow/constraints-$version/constraints-3.11.txt"
  if "$work/venv/bin/python" -c "import sys, urllib.request; open(sys.argv[2], 'wb').write(urllib.request.urlopen(sys.argv[1], timeout=15).read())" \
       "$url" "$work/official.txt" 2>/dev/null; then
    constraints=$work/official.txt source="official ($url)"
  else
    constraints=$DERIVED source="derived stand-in $DERIVED (official $url not reachable)"
  fi
fi

echo "resolving the image's install line: apache-airflow$extras==$version -e .[postgres]"
echo "against: $source"
if ! "${pip[@]}" --report "$work/image.json" --constraint "$constraints" \
       "apache-airflow$extras==$version" -e ".[postgres]" 2> "$work/pip.err"; then
  grep -v '^WARNING: Location' "$work/pip.err" >&2
  echo "FAILED: the image's install line does not resolve against $source" >&2
  exit 1
fi
pins_of "$work/image.json" > "$work/resolved.txt"
python3 - "$constraints" "$work/resolved.txt" "$version" <<'EOF'
import re
import sys

def pins(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line.strip())
        if m:
            out[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return out

constraints, resolved, version = pins(sys.argv[1]), pins(sys.argv[2]), sys.argv[3]
moved = {n: (constraints[n], v) for n, v in resolved.items() if n in constraints and constraints[n] != v}
free = sorted(n for n in resolved if n not in constraints and n != "qingdao-plans")
assert resolved.get("apache-airflow") == version, resolved.get("apache-airflow")
assert "apache-airflow-providers-fab" in resolved, "the FAB auth manager is not in the resolution"
if moved:
    sys.exit(f"FAILED: pins moved: {moved}")
print(f"OK: {len(resolved)} packages; apache-airflow=={version}, "
      f"apache-airflow-providers-fab=={resolved['apache-airflow-providers-fab']}; "
      f"{len(resolved) - len(free) - 1} held at their constraint pins, {len(free)} not in the constraints "
      f"(the project's own dependencies): {' '.join(free)}")
EOF
