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

failed_drivers=()
total_pass=0 total_fail=0
run() { # run NAME COMMAND...: shows the output, tallies its summary line
  local name=$1; shift
  echo "== $name"
  local out status=0 start=$SECONDS
  out=$("$@" 2>&1) || status=$?
  printf '%s\n' "$out"
  local line p f
  line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n1 || true)
  p=$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$line"); f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  [[ -n $line ]] || { p=0; f=1; }
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  if [[ $status -ne 0 ]]; then
    failed_drivers+=("$name")
    [[ $f -gt 0 ]] || total_fail=$((total_fail + 1))
  fi
  echo "== $name: $((SECONDS - start))s"
}

# Node ws client -> echo_server --deflate (parameter matrix)
node_deflate() {
  local tmp pid port status=0
  tmp=$(mktemp)
  "$build/echo_server" --port 0 --deflate >"$tmp" &
  pid=$!
  for _ in $(seq 1 100); do
    port=$(sed -n 's/^listening on \([0-9]\+\)$/\1/p' "$tmp")
    [[ -n $port ]] && break
    sleep 0.1
  done
  if [[ -z $port ]]; then kill "$pid" 2>/dev/null || true; rm -f "$tmp"; echo "echo_server did not start"; return 1; fi
  node "$here/node/test_node_deflate.js" "$port" || status=$?
  kill -TERM "$pid"
  wait "$pid" || { echo "  FAIL echo_server did not exit 0 on SIGTERM"; status=1; }
  rm -f "$tmp"
  return "$status"
}

# websockets client -> echo_server; C client -> websockets and ws servers
run deflate-python-and-c-client "$py" "$here/test_deflate_py.py" "$build"
run deflate-node-client node_deflate
run deflate-bomb "$py" "$here/test_deflate_bomb.py" "$build"
run deflate-chromium "$py" "$here/test_chromium.py" "$build"
run deadlines "$py" "$here/test_deadlines.py" "$build"

if [[ ${#failed_drivers[@]} -gt 0 ]]; then
  echo "interop-deflate: failed drivers: ${failed_drivers[*]}"
fi
echo "interop-deflate: $total_pass passed, $total_fail failed"
[[ ${#failed_drivers[@]} -eq 0 && $total_fail -eq 0 ]]
