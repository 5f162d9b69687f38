#!/usr/bin/env bash
# Runs every interop driver against the binaries in BUILD_DIR.
# Usage: tests/interop/run.sh [BUILD_DIR]   (default build/release)
# Needs the Python venv (.venv) and tests/interop/node/node_modules:
# scripts/deps.sh sets both up.
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

# (a) Python websockets client -> C echo server
run python-client "$py" "$here/test_py_client.py" "$build"

# (b) Node ws client -> C echo server
run node-client node_against_echo_server "$here/node/test_node_client.js"

# (c) C client -> Python websockets and wsproto servers
run c-client "$py" "$here/test_c_client.py" "$build"

# (d) C client in Autobahn driver mode -> fake fuzzing server
run autobahn-driver "$py" "$here/test_autobahn_driver.py" "$build"

# RFC 8441: Python h2 + wsproto <-> ws_h2_connect_* and a frames-only conn
run h2-connect "$py" "$here/test_h2_connect.py" "$build"

# C client -> C server
run c-roundtrip bash "$here/c_roundtrip.sh" "$build/echo_server" "$build/client"

finish interop
