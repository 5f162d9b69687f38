#!/usr/bin/env bash
# Server CPU per message of examples/c/echo_server under the load generator
# (tests/load/loadgen.c): the server pinned to CPU 0, the load generator to
# CPU 1, and the server's user+system CPU time (from /proc/PID/stat) over
# the whole run divided by the messages echoed.
#
#   bench/echo_cpu.sh                      1000 connections, 1,000,000 messages
#   bench/echo_cpu.sh --connections 100 --messages 20000    (any loadgen options)
#
# Builds build/release (echo_server, loadgen) like scripts/load.sh; with
# ECHO_BUILD=DIR it uses the binaries already built in DIR instead (e.g. an
# older tree's build, for a before/after comparison). On a
# machine with other load, the server's CPU time still counts only its own
# work, but cache and frequency effects of neighbours remain: compare runs
# made back to back.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=../tests/interop/lib.sh
source tests/interop/lib.sh

messages=1000000
args=(--connections 1000 --messages "$messages" --timeout 1200)
slack=(--rss-slack-mib 4) # as scripts/load.sh
if [[ $# -gt 0 ]]; then
  args=("$@")
  for ((i = 1; i <= $#; i++)); do
    [[ ${!i} == --messages ]] && { j=$((i + 1)); messages=${!j}; }
  done
fi

build=${ECHO_BUILD:-build/release}
if [[ -z ${ECHO_BUILD:-} ]]; then
  cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build/release -j 2 --target echo_server loadgen >/dev/null
fi
with_echo_server_scratch

start_echo_server "$tmp" taskset -c 0 "$build/echo_server" --host 127.0.0.1 --port 0
ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
sys_ticks() { awk '{print $15}' "/proc/$server_pid/stat"; }
hz=$(getconf CLK_TCK)
before=$(ticks)
sys_before=$(sys_ticks)
status=0
taskset -c 1 "$build/loadgen" --port "$port" --pid "$server_pid" "${args[@]}" "${slack[@]}" || status=$?
after=$(ticks)
sys_after=$(sys_ticks)
awk -v t=$((after - before)) -v k=$((sys_after - sys_before)) -v hz="$hz" -v m="$messages" 'BEGIN {
  s = t / hz
  printf "echo_cpu: server CPU %.2f s (%.2f s in the kernel) for %d messages: %.2f us per message (%.2f user, %.2f kernel)\n",
    s, k / hz, m, s * 1e6 / m, (t - k) / hz * 1e6 / m, k / hz * 1e6 / m
}'
exit "$status"
