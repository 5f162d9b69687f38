#!/usr/bin/env bash
# Every check of the project, as CI runs it:
#   deps, cargo fmt/clippy/test, header staleness, C tests under sanitizers
#   (cmake Debug + ctest), interop over loopback (cmake Release), the demo,
#   install + consumer test, API reference, Windows/macOS checks and the C
#   tests under Wine, valgrind (examples round trip, every C test), a quick
#   load run against the echo server, 20 s of fuzzing per target.
# Every step runs even when an earlier one failed; the last line sums up and
# the exit status is non-zero if any step failed.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)

passed=() failed=()
step() { # step NAME COMMAND...
  local name=$1; shift
  echo
  echo "=== $name"
  local start=$SECONDS
  if "$@"; then
    passed+=("$name")
    echo "=== $name: ok ($((SECONDS - start))s)"
  else
    failed+=("$name")
    echo "=== $name: FAILED ($((SECONDS - start))s)"
  fi
}

header_is_fresh() {
  cargo build --quiet || return 1
  git ls-files --error-unmatch include/wsproto.h >/dev/null || { echo "include/wsproto.h is not committed"; return 1; }
  git diff --exit-code --stat include/wsproto.h || { echo "include/wsproto.h is stale: commit the regenerated header"; return 1; }
}

c_debug_sanitized() {
  cmake -S . -B build/debug -DCMAKE_BUILD_TYPE=Debug -DWSPROTO_SANITIZE=ON >/dev/null &&
    cmake --build build/debug -j "$jobs" &&
    ctest --test-dir build/debug --output-on-failure -j "$jobs"
}

c_release_interop() {
  cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build build/release -j "$jobs" &&
    bash tests/interop/run.sh build/release
}

# permessage-deflate matrix (websockets, ws, C client), decompression bomb,
# headless Chromium, echo_server deadlines: tests/interop/run_deflate.sh.
c_release_interop_deflate() {
  cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build build/release -j "$jobs" &&
    bash tests/interop/run_deflate.sh build/release
}

valgrind_roundtrip() {
  WRAP="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect" \
    bash tests/interop/c_roundtrip.sh build/release/echo_server build/release/client
}

# Every C test (tests/c/test_*.c) from the Release build, which has no
# sanitizers, under memcheck: any invalid access, uninitialised read, or a
# definite/indirect leak fails the step.
valgrind_c_tests() {
  cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build build/release -j "$jobs" >/dev/null || return 1
  local src bin log ok=0 bad=0
  log=$(mktemp)
  for src in tests/c/test_*.c; do
    bin=build/release/$(basename "$src" .c)
    if valgrind --quiet --leak-check=full --error-exitcode=1 \
      --errors-for-leak-kinds=definite,indirect "$bin" >"$log" 2>&1; then
      ok=$((ok + 1))
      echo "  ok $bin"
    else
      bad=$((bad + 1))
      echo "  FAIL $bin under valgrind:"
      tail -n 60 "$log"
    fi
  done
  rm -f "$log"
  echo "valgrind C tests: $ok passed, $bad failed"
  [[ $ok -gt 0 && $bad -eq 0 ]]
}

# The cross-build tools (rustup targets, mingw-w64, wine) are installed by
# scripts/cross.sh itself, so a machine without them fails that step only.
if ! bash scripts/deps.sh build test docs; then
  echo "test.sh: dependencies could not be installed"
  echo "test.sh: 0 passed, 1 failed"
  exit 1
fi
step "cargo fmt" cargo fmt --all -- --check
step "cargo clippy" cargo clippy --all-targets -- -D warnings
step "cargo clippy (c-allocator)" cargo clippy --all-targets --features c-allocator -- -D warnings
step "cargo test" cargo test
step "header up to date" header_is_fresh
step "C tests (Debug, ASan+UBSan)" c_debug_sanitized
step "interop (Release)" c_release_interop
step "interop deflate + deadlines (Release)" c_release_interop_deflate
step "python package (quick)" bash bindings/python/run_tests.sh --quick
step "bindings (C++, Go, Zig, LuaJIT, game loop, echo smoke tests)" bash scripts/bindings.sh
step "benchmark limit loops (unit tests)" cargo test --quiet --release --manifest-path bench/limits/Cargo.toml
step "benchmarks (quick)" bash bench/run.sh --quick
step "demo" bash scripts/demo.sh
step "install + consumer (find_package, pkg-config, subproject)" bash scripts/install_test.sh build/release
step "API reference (Doxygen, 0 warnings)" bash scripts/docs.sh
step "cross (Windows/macOS clippy, mingw DLL, C tests under Wine)" bash scripts/cross.sh
step "valgrind roundtrip" valgrind_roundtrip
step "valgrind C tests" valgrind_c_tests
step "load (quick)" bash scripts/load.sh --quick
step "partial writes (echo_server short-write paths)" bash tests/load/partial_writes.sh build/release
step "attack (quick)" bash scripts/attack.sh --quick
step "fuzz (quick)" bash scripts/fuzz.sh --quick

echo
for s in "${failed[@]}"; do echo "FAILED: $s"; done
echo "test.sh: ${#passed[@]} passed, ${#failed[@]} failed"
[[ ${#failed[@]} -eq 0 ]]
