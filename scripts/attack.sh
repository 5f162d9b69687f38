#!/usr/bin/env bash
# Attack suite: hostile peers over real loopback sockets against
# examples/c/echo_server (Release build in build/release), one fresh server
# per attack. Each attack asserts a bound measured from outside the server
# (RSS, peak RSS, CPU time from /proc/PID, open descriptors, time to close,
# response status); tests/attack/attack.py has the attacks and their bounds.
#
#   scripts/attack.sh           full sizes (10,000 idle connections, a million
#                               continuation frames, 1 GiB bombs; a few minutes)
#   scripts/attack.sh --quick   CI sizes (1,000 idle connections, ...; < 2 min)
#   scripts/attack.sh [--quick] NAME...   only these attacks (attack.py --list)
#
# Prints a table (attack, bound, measured, pass/fail) and ends with
# `attack: N passed, M failed`; exits non-zero on any failure, and when a
# server does not survive its attack (it must exit 0 on SIGTERM afterwards).
# Needs .venv (scripts/deps.sh) and prlimit (util-linux).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=../tests/interop/lib.sh
source tests/interop/lib.sh

quick=()
if [[ ${1:-} == --quick ]]; then quick=(--quick); shift; fi
py="$root/.venv/bin/python"
[[ -x $py ]] || { echo "missing .venv: run scripts/deps.sh"; exit 1; }
command -v prlimit >/dev/null || { echo "attack.sh: prlimit not found"; exit 1; }
suite="$root/tests/attack/attack.py"

build_log=$(cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release 2>&1 &&
  cmake --build build/release -j "$(nproc 2>/dev/null || echo 2)" --target echo_server 2>&1) ||
  { echo "$build_log"; echo "attack.sh: build failed"; exit 1; }
build="$root/build/release"

if [[ $# -gt 0 ]]; then names=("$@"); else mapfile -t names < <("$py" "$suite" --list); fi

rows=$(mktemp)
dir=$(mktemp -d)
trap 'rm -rf "$rows" "$dir"' EXIT
for name in "${names[@]}"; do
  echo "== $name"
  mapfile -t cmd < <("$py" "$suite" --server-cmd "$name" "${quick[@]}")
  cmd=("${cmd[@]/#ECHO_SERVER/$build/echo_server}")
  if ! start_echo_server "$dir" "${cmd[@]}"; then
    printf 'ROW\t%s\tserver starts\tdid not start\tFAIL\n' "$name" >>"$rows"
    continue
  fi
  start=$SECONDS
  status=0
  out=$("$py" "$suite" "$name" --pid "$server_pid" --port "$port" "${quick[@]}" 2>&1) || status=$?
  printf '%s\n' "$out" | grep -v '^ROW' || true
  printf '%s\n' "$out" | grep '^ROW' >>"$rows" ||
    printf 'ROW\t%s\tprints results\tno result\tFAIL\n' "$name" >>"$rows"
  # attack.py exits non-zero only with a FAIL row printed; a crash after
  # PASS rows (an uncaught BaseException, a bad argument) must still fail.
  if [[ $status -ne 0 ]] && ! printf '%s\n' "$out" | grep -q $'^ROW\t.*\tFAIL$'; then
    printf 'ROW\t%s\tattack.py exits 0\texit %s\tFAIL\n' "$name" "$status" >>"$rows"
  fi
  if ! stop_echo_server; then
    printf 'ROW\t%s\tserver exits 0 on SIGTERM\tit did not\tFAIL\n' "$name" >>"$rows"
    tail -n 20 "$dir/server.err"
  fi
  echo "== $name: $((SECONDS - start))s"
done

echo
{
  printf 'attack\tbound\tmeasured\tresult\n'
  cut -f2- "$rows"
} | awk -F'\t' '{ printf "%-52s | %-42s | %s | %s\n", $1, $2, $3, $4 }'
pass=$(grep -c $'\tPASS$' "$rows" || true)
fail=$(grep -c $'\tFAIL$' "$rows" || true)
echo "attack: $pass passed, $fail failed"
[[ $fail -eq 0 && $pass -gt 0 ]]
