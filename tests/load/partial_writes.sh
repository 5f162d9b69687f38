#!/usr/bin/env bash
# Partial writes under load: examples/c/echo_server with a 4 KiB kernel send
# buffer (--sndbuf) against tests/load/loadgen.c with a 4 KiB receive buffer
# (--rcvbuf) and 16 messages in flight per connection, so that most of the
# server's writes come up short or would block. That drives the paths a
# fast loopback run hardly takes: a zero-copy echo whose rest is kept as the
# connection's tail, echoes queued in the engine behind that tail, output
# moved between the tail, the staging buffer and the engine's output buffer.
# Every echo is still verified byte for byte and in order (with pings,
# fragmented messages and connections dropped mid-message), and the server's
# RSS and descriptors must come back down, as in scripts/load.sh.
#
#   tests/load/partial_writes.sh [BUILD_DIR]     (default build/release; seconds)
#   WRAP="valgrind --error-exitcode=99 --leak-check=full" tests/load/partial_writes.sh
#                  runs the server under WRAP (fewer messages; RSS not checked,
#                  as valgrind's own memory would count)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=../interop/lib.sh
source tests/interop/lib.sh

build=${1:-build/release}
if [[ $# -eq 0 ]]; then
  cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build/release -j 2 --target echo_server loadgen >/dev/null
fi
with_echo_server_scratch

read -r -a wrap <<<"${WRAP:-}"
messages=10000 sample=(--pid PID --rss-slack-mib 4)
[[ ${#wrap[@]} -eq 0 ]] || { messages=1500; sample=(); }
start_echo_server "$tmp" "${wrap[@]}" "$build/echo_server" --host 127.0.0.1 --port 0 --sndbuf 4096 ||
  { echo "partial_writes: echo_server did not start"; exit 1; }
status=0
sample=("${sample[@]/#PID/$server_pid}")
"$build/loadgen" --port "$port" "${sample[@]}" --connections 50 --messages "$messages" \
  --depth 16 --rcvbuf 4096 --drop-rate 0.05 --ping-rate 0.1 --timeout 120 --quiet \
  || status=$?
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "partial_writes: echo_server died during the run"; cat "$tmp/server.err"; status=1
else
  stop_echo_server || { echo "partial_writes: echo_server exited with $? on SIGTERM"; cat "$tmp/server.err"; status=1; }
fi
[[ $status -eq 0 ]] && echo "partial_writes: OK" || echo "partial_writes: FAILED"
exit $status
