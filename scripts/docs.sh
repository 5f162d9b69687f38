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
progs=$(mktemp -d)
trap 'rm -rf "$log" "$progs"' EXIT

# The guide's complete programs (code blocks starting with
# "/* guide: complete program */") must compile against the header.
awk -v dir="$progs" '
  /^```c$/ { inblock = 1; first = 1; next }
  /^```$/ { if (inblock && keep) close(file); inblock = 0; keep = 0; next }
  inblock && first { first = 0; if ($0 == "/* guide: complete program */") { n++; file = dir "/prog" n ".c"; keep = 1 } }
  inblock && keep { print > file }
' docs/guide.md
count=0
for prog in "$progs"/*.c; do
  [[ -e $prog ]] || continue
  count=$((count + 1))
  if ! gcc -std=c11 -Wall -Wextra -pedantic -Werror -Iinclude -c "$prog" -o "$prog.o"; then
    echo "docs: a complete program of docs/guide.md does not compile (shown above)" >&2
    exit 1
  fi
done
[[ $count -gt 0 ]] || { echo "docs: no complete program found in docs/guide.md" >&2; exit 1; }
echo "docs: $count complete program(s) of docs/guide.md compile"

if doxygen docs/Doxyfile >"$log" 2>&1 && [[ ! -s $log ]]; then
  echo "docs: API reference in $out/html/index.html (0 warnings)"
else
  cat "$log"
  echo "docs: FAILED ($(grep -c 'warning' "$log" || true) warning(s))" >&2
  exit 1
fi
