#!/usr/bin/env bash
# Runs the permessage-deflate and deadline interop drivers against the
# binaries in BUILD_DIR (echo_server, client).
# Usage: tests/interop/run_deflate.sh [BUILD_DIR]   (default build/release)
# Needs .venv, tests/interop/node/node_modules and /usr/bin/chromium:
# scripts/deps.sh sets them up.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
build=$(cd "${1:-build/release}" && pwd)
py="$root/.venv/bin/python"
here="$root/tests/interop"
[[ -x $py ]] || { echo "missing .venv: run scripts/deps.sh"; exit 1; }
[[ -d $here/node/node_modules/ws ]] || { echo "missing node ws: run scripts/deps.sh"; exit 1; }

# shellcheck source=lib.sh
source "$here/lib.sh"

# websockets client -> echo_server; C client -> websockets and ws servers
run deflate-python-and-c-client "$py" "$here/test_deflate_py.py" "$build"
run deflate-node-client node_against_echo_server "$here/node/test_node_deflate.js" --deflate
run deflate-bomb "$py" "$here/test_deflate_bomb.py" "$build"
run deflate-chromium "$py" "$here/test_chromium.py" "$build"
run deadlines "$py" "$here/test_deadlines.py" "$build"

finish interop-deflate
