#!/usr/bin/env bash
# Tests of the language bindings against the freshly built library:
#   C++ (include/wsproto.hpp, ASan/UBSan, C++17 and C++20), Go (bindings/go,
#   go vet + go test with cgocheck=2), LuaJIT (bindings/lua: cdef drift check,
#   test script), Zig (bindings/zig: zig build test, shared and static), the
#   game-loop example (examples/game_loop: --self-test, zero allocations per
#   message), and every echo server (C, Go, Lua, Zig, game loop) through
#   tests/bindings/smoke.py with and without permessage-deflate.
# `bench` (not run by default) prints messages/s for 32-byte echoes in
# memory through each binding and through the C ABI directly.
# Installs what is missing, idempotently: golang-go, luajit, lua-socket (apt),
# ziglang (pip, into .venv), websockets (.venv, tests/interop/requirements.txt).
# Usage: scripts/bindings.sh [cpp|go|lua|zig|game|smoke|bench]...  (default: all but bench)
# Every step runs even when an earlier one failed; exit status is non-zero if
# any failed.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out="$root/build/bindings"
mkdir -p "$out"
lib="$root/target/release"
py="$root/.venv/bin/python"
export GOCACHE="${GOCACHE:-$root/build/bindings/gocache}" GOPATH="${GOPATH:-$root/build/bindings/gopath}" GOFLAGS="${GOFLAGS:--mod=mod}" GOTOOLCHAIN=local

say() { echo "bindings: $*"; }

deps() {
  local missing=()
  command -v go >/dev/null 2>&1 || missing+=(golang-go)
  command -v luajit >/dev/null 2>&1 || missing+=(luajit)
  [[ -e /usr/share/lua/5.1/socket.lua ]] || missing+=(lua-socket)
  command -v g++ >/dev/null 2>&1 || missing+=(g++)
  if [[ ${#missing[@]} -gt 0 ]]; then
    say "installing ${missing[*]} (apt-get)"
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq &&
      "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || return 1
  fi
  if [[ ! -x $py ]]; then
    say "creating .venv"
    python3 -m venv .venv || return 1
  fi
  "$py" -c 'import websockets' 2>/dev/null ||
    "$py" -m pip install -q --disable-pip-version-check -r tests/interop/requirements.txt || return 1
  "$py" -c 'import ziglang' 2>/dev/null ||
    "$py" -m pip install -q --disable-pip-version-check -r bindings/zig/requirements.txt || return 1
}

# The library with the allocator hook (cargo feature c-allocator) built in.
# Programs linked against it record its SONAME (libwsproto.so.N, set by
# build.rs), which cargo does not create: link it next to the .so, as an
# install would, so they load from the rpath.
build_lib() {
  cargo build --release --quiet --features c-allocator || return 1
  local abi
  abi=$(sed -n 's/^#define WSPROTO_ABI_VERSION \([0-9]*\)$/\1/p' include/wsproto.h)
  [[ -n $abi ]] || { say "no WSPROTO_ABI_VERSION in include/wsproto.h"; return 1; }
  ln -sf libwsproto.so "$lib/libwsproto.so.$abi"
}

t_cpp() {
  local std
  for std in 17 20; do
    g++ -std=c++$std -Wall -Wextra -Werror -pedantic -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
      -Iinclude tests/bindings/cpp/test_hpp.cpp -L"$lib" -lwsproto -Wl,-rpath,"$lib" \
      -o "$out/test_hpp_cxx$std" && "$out/test_hpp_cxx$std" || return 1
  done
}

t_go() {
  (cd bindings/go && gofmt -l . | (! grep .) && go vet ./... &&
    GODEBUG=cgocheck=2 go test -count=1 ./... &&
    go build -o "$out/go_echo" ./examples/echo)
}

t_lua() {
  python3 bindings/lua/gen_cdef.py --check &&
    WSPROTO_LIB="$lib/libwsproto.so" luajit bindings/lua/test.lua
}

t_zig() {
  local zig=("$py" -m ziglang)
  (cd bindings/zig && "${zig[@]}" version &&
    "${zig[@]}" build test --summary all -Dlib-dir="$lib" &&
    "${zig[@]}" build test --summary all -Dlib-dir="$lib" -Dstatic=true &&
    "${zig[@]}" build -Drelease=true -Dlib-dir="$lib" -p "$out/zig")
}

# The game loop counts the library's allocations: through ws_set_allocator()
# when the header has it (issue 9), else by wrapping malloc & co. at link
# time (static library, -Wl,--wrap).
t_game() {
  local wrap=()
  grep -q 'ws_set_allocator' include/wsproto.h ||
    wrap=(-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=posix_memalign,--wrap=aligned_alloc)
  gcc -std=c11 -Wall -Wextra -Werror -O2 -Iinclude examples/game_loop/game_loop.c "${wrap[@]}" \
    "$lib/libwsproto.a" -lpthread -ldl -lm -lgcc_s -o "$out/game_loop" &&
    "$out/game_loop" --self-test
}

smoke_one() { # smoke_one NAME COMMAND...
  local name=$1; shift
  "$py" tests/bindings/smoke.py -- "$@" >"$out/smoke_$name.log" 2>&1 &&
    "$py" tests/bindings/smoke.py --deflate -- "$@" >>"$out/smoke_$name.log" 2>&1 ||
    { cat "$out/smoke_$name.log"; say "smoke test of the $name echo server failed"; return 1; }
  say "smoke $name: ok (with and without permessage-deflate)"
}

t_smoke() {
  local rc=0
  gcc -std=c11 -O2 -Iinclude examples/c/echo_server.c -L"$lib" -lwsproto -Wl,-rpath,"$lib" -o "$out/c_echo" &&
    smoke_one c "$out/c_echo" || rc=1
  [[ -x $out/go_echo ]] || (cd bindings/go && go build -o "$out/go_echo" ./examples/echo) || rc=1
  smoke_one go "$out/go_echo" || rc=1
  smoke_one lua env WSPROTO_LIB="$lib/libwsproto.so" luajit bindings/lua/echo_server.lua || rc=1
  [[ -x $out/game_loop ]] || t_game >/dev/null || rc=1
  smoke_one game_loop "$out/game_loop" || rc=1
  if [[ -x $out/zig/bin/echo_server ]]; then
    smoke_one zig "$out/zig/bin/echo_server" || rc=1
  else
    say "zig echo server not built (run the zig step first)"; rc=1
  fi
  return $rc
}

t_bench() {
  local round
  for round in 1 2 3; do
    echo "--- round $round"
    bench_round || return 1
  done
}

# Each binding's status counts (before, only the last command's did).
bench_round() {
  local rc=0
  gcc -std=c11 -O2 -Iinclude tests/bindings/bench_c.c -L"$lib" -lwsproto -Wl,-rpath,"$lib" -o "$out/bench_c" &&
    "$out/bench_c" || rc=1
  g++ -std=c++17 -O2 -Iinclude tests/bindings/cpp/bench_hpp.cpp -L"$lib" -lwsproto -Wl,-rpath,"$lib" -o "$out/bench_hpp" &&
    "$out/bench_hpp" || rc=1
  (cd bindings/go && go test -run '^$' -bench Echo32 -benchtime 2s .) || rc=1
  WSPROTO_LIB="$lib/libwsproto.so" luajit bindings/lua/bench.lua || rc=1
  if [[ -x $out/zig/bin/bench ]]; then "$out/zig/bin/bench" || rc=1; else echo "zig: not built (run the zig step)"; rc=1; fi
  return $rc
}

steps=("$@")
[[ ${#steps[@]} -gt 0 ]] || steps=(cpp go lua zig game smoke)
failed=()
deps || { say "installing the toolchains failed"; exit 1; }
build_lib || { say "cargo build --release failed"; exit 1; }
for s in "${steps[@]}"; do
  echo "=== bindings: $s"
  if "t_$s"; then echo "=== bindings: $s: ok"; else echo "=== bindings: $s: FAILED"; failed+=("$s"); fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  say "FAILED: ${failed[*]}"
  exit 1
fi
say "all passed: ${steps[*]}"
