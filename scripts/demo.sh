#!/usr/bin/env bash
# Builds wsproto (Release), starts the C echo server on an ephemeral port and
# has the C client talk to it.  Exit status: the client's (0 = every echo
# matched and the connection closed cleanly with 1000).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# Only the build tools: the browser, valgrind and the interop packages are
# for the tests (scripts/deps.sh test).
bash scripts/deps.sh build

build=build/release
echo "demo: building wsproto and the C examples (Release; a first build takes a minute or two)"
log=$(mktemp)
if ! { cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release &&
  cmake --build "$build" -j "$(nproc)" --target echo_server client; } >"$log" 2>&1; then
  cat "$log"
  rm -f "$log"
  echo "demo: build failed" >&2
  exit 1
fi
rm -f "$log"

tmp=$(mktemp -d)
server_pid=
cleanup() {
  [[ -z $server_pid ]] || kill -TERM "$server_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

: >"$tmp/out" # exists before the server starts writing to it
"$build/echo_server" --port 0 >"$tmp/out" &
server_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/^listening on \([0-9]\+\)$/\1/p' "$tmp/out")
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n $port ]] || { echo "demo: echo_server did not start" >&2; exit 1; }
echo "demo: echo_server listening on 127.0.0.1:$port"
echo "demo: client ws://127.0.0.1:$port/demo"

status=0
"$build/client" "ws://127.0.0.1:$port/demo" \
  --text "Hello, WebSocket!" --text "héllo wörld ✓ 😀" \
  --binary-size 0 --binary-size 125 --binary-size 65536 --binary-size 1048576 || status=$?

kill -TERM "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=
if [[ $status -eq 0 && $server_status -ne 0 ]]; then
  echo "demo: echo_server exited with $server_status" >&2
  status=1
fi
if [[ $status -eq 0 ]]; then echo "demo: ok"; else echo "demo: FAILED ($status)" >&2; fi
exit "$status"
