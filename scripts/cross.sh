#!/usr/bin/env bash
# Portability checks from Linux:
#   1. cargo clippy (which includes cargo check) of the library and its
#      tests for x86_64-pc-windows-gnu and x86_64-apple-darwin, warnings as
#      errors;
#   2. the Windows DLL cross-built with mingw-w64 (cargo, feature
#      c-allocator, as the CMake build makes it);
#   3. the C API tests (tests/c/test_*.c) cross-compiled with mingw-w64
#      against that DLL and run under Wine.
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

win=x86_64-pc-windows-gnu
out=target/$win/debug
work=target/wine
wine=/usr/lib/wine/wine64
command -v wine64 >/dev/null 2>&1 && wine=$(command -v wine64)
if cargo build --quiet --lib --features c-allocator --target "$win"; then
  pass "mingw-w64 build of wsproto.dll"
  mkdir -p "$work"
  cp "$out/wsproto.dll" "$work/"
  x86_64-w64-mingw32-gcc -shared -O2 -Wall -Wextra -Werror -o "$work/bcryptprimitives.dll" \
    tests/wine/bcryptprimitives.c -ladvapi32 || fail "stand-in bcryptprimitives.dll"
  export WINEPREFIX=$root/$work/prefix WINEDEBUG=-all
  for src in tests/c/test_*.c; do
    name=$(basename "$src" .c)
    [[ $name == test_allocator ]] && continue
    if ! x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -Iinclude "$src" "$out/libwsproto.dll.a" \
      -o "$work/$name.exe"; then
      fail "$name: mingw-w64 compile"
      continue
    fi
    # From the repository root, like CTest (data files such as tests/hostile/cases.txt).
    if log=$(timeout 300 "$wine" "$work/$name.exe" 2>&1); then
      pass "$name under Wine: $(tail -n 1 <<<"$log")"
    else
      fail "$name under Wine:"
      tail -n 30 <<<"$log"
    fi
  done
else
  fail "mingw-w64 build of wsproto.dll"
fi

echo "cross: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
