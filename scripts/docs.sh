#!/usr/bin/env bash
# Builds the API reference from include/wsproto.h with Doxygen
# (docs/Doxyfile) into build/docs/html. Any Doxygen warning, including an
# undocumented public item, fails the build (exit status 1).
# Usage: scripts/docs.sh [OUTPUT_DIR]   (default build/docs)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/deps.sh docs >/dev/null
out=${1:-build/docs}
mkdir -p "$out"
export WSPROTO_ROOT=$root WSPROTO_DOCS_OUT=$(cd "$out" && pwd)
WSPROTO_VERSION=$(sed -n 's/^#define WSPROTO_VERSION_STRING "\(.*\)"$/\1/p' include/wsproto.h)
export WSPROTO_VERSION
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if doxygen docs/Doxyfile >"$log" 2>&1 && [[ ! -s $log ]]; then
  echo "docs: API reference in $out/html/index.html (0 warnings)"
else
  cat "$log"
  echo "docs: FAILED ($(grep -c 'warning' "$log" || true) warning(s))" >&2
  exit 1
fi
