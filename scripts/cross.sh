#!/usr/bin/env bash
# Portability checks from Linux:
#   1. cargo clippy (which includes cargo check) of the library and its
#      tests for x86_64-pc-windows-gnu and x86_64-apple-darwin, warnings as
#      errors;
#   2. the CMake build for Windows with mingw-w64 (WSPROTO_CARGO_TARGET):
#      wsproto.dll, its import library and the C API tests (tests/c), and
#      its install tree;
#   3. those tests run by CTest under Wine.
# test_allocator.c is Linux-only (mmap arena, glibc/sanitizer heap counters)
# and is not built for Windows. Wine 8 lacks bcryptprimitives.dll
# (ProcessPrng, used by Rust's standard library and getrandom), so
# tests/wine/bcryptprimitives.c provides it for the Wine run only.
# macOS code is type-checked, not linked or run (no macOS SDK on Linux).
# The last line sums up: "cross: N passed, M failed".
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/deps.sh cross || { echo "cross: 0 passed, 1 failed"; exit 1; }

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "cross: ok   $*"; }
fail() { failed=$((failed + 1)); echo "cross: FAIL $*"; }

for t in x86_64-pc-windows-gnu x86_64-apple-darwin; do
  if cargo clippy --quiet --lib --tests --target "$t" -- -D warnings; then
    pass "cargo clippy --lib --tests --target $t"
  else
    fail "cargo clippy --lib --tests --target $t"
  fi
done

# The Windows build through CMake, as a Windows user's would go: the DLL and
# its import library as IMPORTED targets, the C tests linked against them,
# CTest running each under Wine (CMAKE_CROSSCOMPILING_EMULATOR).
build=build/windows
wine=/usr/lib/wine/wine64
command -v wine64 >/dev/null 2>&1 && wine=$(command -v wine64)
if cmake -S . -B "$build" -DCMAKE_SYSTEM_NAME=Windows -DCMAKE_C_COMPILER=x86_64-w64-mingw32-gcc \
  -DCMAKE_BUILD_TYPE=Debug -DWSPROTO_SANITIZE=OFF -DWSPROTO_CARGO_TARGET=x86_64-pc-windows-gnu \
  -DWSPROTO_CARGO_TARGET_DIR="$root/target" -DCMAKE_CROSSCOMPILING_EMULATOR="$wine" >/dev/null &&
  cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" >"$build.log" 2>&1; then
  pass "CMake + mingw-w64: wsproto.dll and the C tests"
  x86_64-w64-mingw32-gcc -shared -O2 -Wall -Wextra -Werror -o "$build/bcryptprimitives.dll" \
    tests/wine/bcryptprimitives.c -ladvapi32 || fail "stand-in bcryptprimitives.dll"
  if tmp=$(mktemp -d) && cmake --install "$build" --prefix "$tmp" >/dev/null &&
    [[ -f $tmp/bin/wsproto.dll && -f $tmp/lib/libwsproto.dll.a && -f $tmp/lib/libwsproto.a && -f $tmp/include/wsproto.h ]]; then
    pass "cmake --install for Windows (bin/wsproto.dll, lib/libwsproto.dll.a, lib/libwsproto.a)"
  else
    fail "cmake --install for Windows"
  fi
  rm -rf "$tmp"
  if WINEPREFIX=$root/target/wine-prefix WINEDEBUG=-all ctest --test-dir "$build" --output-on-failure; then
    pass "C tests under Wine ($(ctest --test-dir "$build" -N | sed -n 's/^Total Tests: //p') tests)"
  else
    fail "C tests under Wine"
  fi
else
  cat "$build.log"
  fail "CMake + mingw-w64 build"
fi

echo "cross: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
