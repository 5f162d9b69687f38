#!/usr/bin/env bash
# Load and soak test: tests/load/loadgen.c drives examples/c/echo_server
# (Release build in build/release) over loopback and verifies every echo.
#
#   scripts/load.sh             1000 connections, 1,000,000 messages (a few minutes)
#   scripts/load.sh --quick     100 connections, 20,000 messages, 5% dropped (CI, seconds)
#   scripts/load.sh [--quick] [--strict-malloc] [LOADGEN OPTIONS...]
#                               e.g. --connections 2000 --seed 7
#
# Prints messages/s, round-trip p50/p99 and the server's RSS (baseline, peak,
# after each round); exits non-zero if any echo differs, a connection fails,
# the server's RSS does not come back down or it leaks descriptors.
#
# The echo server hands freed heap pages back to the OS (malloc_trim) when
# its last client leaves, so its RSS after each round shows what it still
# holds, give or take the allocator's fragmentation (up to 4 MiB allowed);
# growth from round to round or per connection served fails the run.
# --strict-malloc runs the server with MALLOC_MMAP_THRESHOLD_=0 (every block
# mapped and unmapped on its own: exact accounting, 1 MiB allowed, slower).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=../tests/interop/lib.sh
source tests/interop/lib.sh

args=(--connections 1000 --messages 1000000 --timeout 1200)
server_env=(env)
slack=(--rss-slack-mib 4)
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) args=(--connections 100 --messages 20000 --drop-rate 0.05 --timeout 120 --quiet) ;;
    --strict-malloc) server_env=(env MALLOC_MMAP_THRESHOLD_=0); slack=() ;;
    *) break ;;
  esac
  shift
done

build_log=$(cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release 2>&1 &&
  cmake --build build/release -j "$(nproc 2>/dev/null || echo 2)" --target echo_server loadgen 2>&1) ||
  { echo "$build_log"; echo "load.sh: build failed"; exit 1; }

# Both ends need a descriptor per connection (plus the replacements).
with_echo_server_scratch

start_echo_server "$tmp" "${server_env[@]}" build/release/echo_server --host 127.0.0.1 --port 0 ||
  { echo "load.sh: echo_server did not start"; exit 1; }

echo "load.sh: ${server_env[*]} build/release/echo_server --port 0 &"
echo "load.sh: build/release/loadgen --port $port --pid $server_pid ${args[*]} $*"
status=0
build/release/loadgen --port "$port" --pid "$server_pid" "${args[@]}" "${slack[@]}" "$@" || status=$?

# The server must still be alive and stop cleanly.
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "load.sh: echo_server died during the run"; cat "$tmp/server.err"; status=1
else
  stop_echo_server || { echo "load.sh: echo_server exited with $? on SIGTERM"; status=1; }
fi
exit $status
