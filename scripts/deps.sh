#!/usr/bin/env bash
# Installs what the project needs on top of Rust, gcc, python3 and node, by
# group, so each script installs only what it uses:
#   build   cmake and pkg-config (apt): the C build, the demo, install_test.sh
#   test    build + valgrind and chromium (apt; headless Chromium runs the
#           browser interop test), a Python venv with websockets and wsproto
#           (.venv), the Node `ws` package (tests/interop/node)
#   docs    doxygen (apt): scripts/docs.sh
#   cross   the x86_64-pc-windows-gnu and x86_64-apple-darwin Rust targets
#           (rustup), mingw-w64 and wine (apt): scripts/cross.sh
#   all     every group (the default; scripts/test.sh asks for build, test
#           and docs, and scripts/cross.sh for cross)
# Usage: scripts/deps.sh [GROUP...]
# Idempotent: each step is skipped when already done.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
say() { echo "deps: $*"; }

groups=("$@")
[[ ${#groups[@]} -gt 0 ]] || groups=(all)
want_build=0 want_test=0 want_docs=0 want_cross=0
for g in "${groups[@]}"; do
  case $g in
  build) want_build=1 ;;
  test) want_build=1 want_test=1 ;;
  docs) want_docs=1 ;;
  cross) want_cross=1 ;;
  all) want_build=1 want_test=1 want_docs=1 want_cross=1 ;;
  *) echo "deps: unknown group '$g' (build, test, docs, cross, all)" >&2; exit 2 ;;
  esac
done

missing=()
need() { # need COMMAND-OR-PATH PACKAGE
  if [[ $1 == /* ]]; then [[ -x $1 ]] || missing+=("$2"); else command -v "$1" >/dev/null 2>&1 || missing+=("$2"); fi
}
if [[ $want_build -eq 1 ]]; then
  need cmake cmake
  need pkg-config pkg-config
fi
if [[ $want_test -eq 1 ]]; then
  need valgrind valgrind
  need /usr/bin/chromium chromium
fi
[[ $want_docs -eq 0 ]] || need doxygen doxygen
if [[ $want_cross -eq 1 ]]; then
  need x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64
  need /usr/lib/wine/wine64 wine64
fi
if [[ ${#missing[@]} -gt 0 ]]; then
  say "installing ${missing[*]} (apt-get)"
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ $want_cross -eq 1 ]]; then
  installed=$(rustup target list --installed)
  for t in x86_64-pc-windows-gnu x86_64-apple-darwin; do
    if ! grep -qx "$t" <<<"$installed"; then
      say "rustup target add $t"
      rustup target add "$t" >/dev/null
    fi
  done
fi

if [[ $want_test -eq 1 ]]; then
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
fi
say "ok (${groups[*]})"
