#!/usr/bin/env bash
# The C client against the C echo server over loopback.
# Usage: c_roundtrip.sh ECHO_SERVER CLIENT
# Set WRAP (e.g. "valgrind --error-exitcode=99 --leak-check=full") to run both
# programs under a checker.
set -euo pipefail
server_bin=$1
client_bin=$2
read -r -a wrap <<<"${WRAP:-}"
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid"; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

passed=0 failed=0
check() { # check NAME COMMAND...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "  FAIL $name"; fi
}

start_echo_server "$tmp" "${wrap[@]}" "$server_bin" --port 0 || { echo "c-roundtrip: 0 passed, 1 failed"; exit 1; }

run_client() { "${wrap[@]}" "$client_bin" "$@" >"$tmp/client.out" 2>"$tmp/client.err"; }

check "client exits 0" run_client "ws://127.0.0.1:$port/chat" --text "hello" \
  --text "wörld ✓" --binary-size 0 --binary-size 126 --binary-size 65536 --binary-size 1048576 --count 3
check "18 echoes printed" test "$(grep -c '^< ' "$tmp/client.out")" -eq 18
check "unicode echoed" grep -qx '< text: wörld ✓' "$tmp/client.out"
check "1 MiB binary echoed" grep -qx '< binary: 1048576 bytes' "$tmp/client.out"
check "closed with 1000" test "$(tail -n1 "$tmp/client.out")" = "closed: 1000"
[[ $failed -eq 0 ]] || cat "$tmp/client.out" "$tmp/client.err"

# Several clients at once.
pids=()
for i in $(seq 1 8); do
  "${wrap[@]}" "$client_bin" "ws://127.0.0.1:$port/" --text "client $i" --binary-size $((i * 1000)) \
    --count 20 >"$tmp/c$i.out" 2>&1 &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  check "concurrent client $((i + 1))" wait "${pids[$i]}"
done

status=0
stop_echo_server || status=$?
check "echo_server exits 0 on SIGTERM (no leaks)" test "$status" -eq 0
[[ $status -eq 0 ]] || cat "$tmp/server.err"

echo "c-roundtrip: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
