#!/usr/bin/env bash
# Installs what the C build and the interop tests need on top of Rust, gcc,
# python3 and node: cmake, valgrind and chromium (apt; headless Chromium runs
# the browser interop test), a Python venv with websockets and wsproto
# (.venv), and the Node `ws` package (tests/interop/node).
# Idempotent: each step is skipped when already done.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
say() { echo "deps: $*"; }

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
if [[ ${#missing[@]} -gt 0 ]]; then
  say "installing ${missing[*]} (apt-get)"
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

req="$root/tests/interop/requirements.txt"
stamp="$root/.venv/.requirements"
if [[ ! -x .venv/bin/python ]]; then
  say "creating .venv"
  python3 -m venv .venv
fi
if ! cmp -s "$req" "$stamp" 2>/dev/null; then
  say "pip install -r tests/interop/requirements.txt"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
  cp "$req" "$stamp"
fi

node_dir="$root/tests/interop/node"
if [[ ! -d $node_dir/node_modules/ws || $node_dir/package-lock.json -nt $node_dir/node_modules/.package-lock.json ]]; then
  say "npm ci (tests/interop/node)"
  (cd "$node_dir" && npm ci --no-audit --no-fund --silent)
fi
say "ok"
