# Shell helpers shared by the interop runners (run.sh, run_deflate.sh),
# c_roundtrip.sh and scripts/load.sh. Source it; it defines functions only.

# start_echo_server DIR COMMAND...: starts COMMAND (an echo_server invocation,
# possibly wrapped, e.g. by env or valgrind) in the background with stdout in
# DIR/server.out and stderr in DIR/server.err, and waits up to 30 s for its
# `listening on PORT` line. Sets `server_pid` and `port`; on failure prints
# the server's stderr and returns 1.
start_echo_server() {
  local dir=$1; shift
  : >"$dir/server.out" # exists before the server starts writing to it
  "$@" >"$dir/server.out" 2>"$dir/server.err" &
  server_pid=$!
  port=
  for _ in $(seq 1 300); do
    port=$(sed -n 's/^listening on \([0-9]\+\)$/\1/p' "$dir/server.out")
    [[ -n $port ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "echo_server did not start:"; cat "$dir/server.err"
  return 1
}

# with_echo_server_scratch: for scripts that run echo_server under load.
# Raises the descriptor limit (a descriptor per connection), makes the
# scratch directory $tmp, and on exit kills a server still running
# ($server_pid, set by start_echo_server) and removes $tmp.
with_echo_server_scratch() {
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  tmp=$(mktemp -d)
  server_pid=
  trap 'if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then kill "$server_pid"; fi; rm -rf "$tmp"' EXIT
}

# stop_echo_server: SIGTERM, then the exit status must be 0 (the server frees
# everything and exits cleanly on SIGTERM).
stop_echo_server() {
  local status=0
  kill -TERM "$server_pid"
  wait "$server_pid" || status=$?
  server_pid=
  return "$status"
}

# Driver bookkeeping for the runners: `run NAME COMMAND...` shows the
# command's output and tallies its last `N passed, M failed` line (a driver
# that exits non-zero or prints no such line counts as a failure);
# `finish LABEL` prints the total and returns non-zero on any failure.
failed_drivers=()
total_pass=0 total_fail=0
run() {
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

finish() {
  if [[ ${#failed_drivers[@]} -gt 0 ]]; then
    echo "$1: failed drivers: ${failed_drivers[*]}"
  fi
  echo "$1: $total_pass passed, $total_fail failed"
  [[ ${#failed_drivers[@]} -eq 0 && $total_fail -eq 0 ]]
}

# node_against_echo_server SCRIPT [ECHO_SERVER ARGS...]: runs a Node driver
# against a fresh echo_server (from $build) started with those arguments.
node_against_echo_server() {
  local script=$1; shift
  local dir status=0
  dir=$(mktemp -d)
  start_echo_server "$dir" "$build/echo_server" --port 0 "$@" || { rm -rf "$dir"; return 1; }
  node "$script" "$port" || status=$?
  stop_echo_server || { echo "  FAIL echo_server did not exit 0 on SIGTERM"; status=1; }
  rm -rf "$dir"
  return "$status"
}
