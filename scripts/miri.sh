#!/usr/bin/env bash
# Miri run of the code with `unsafe` in it: the C ABI driven as C drives it
# (tests/ffi_miri.rs) and the unit tests of mask, mask_send, rng, utf8 and frame.
#
# Miri needs a nightly toolchain with the miri component; a machine with only
# stable Rust cannot run it, so this script is optional and not part of
# scripts/test.sh. Without Miri it says so and exits 0; with Miri it exits
# non-zero if Miri reports undefined behaviour or a test fails.
#
# Isolation stays on: Miri emulates getrandom (used by src/rng.rs) with its
# own seeded generator, so no -Zmiri-disable-isolation is needed. Extra flags
# go through MIRIFLAGS, e.g. MIRIFLAGS=-Zmiri-tree-borrows scripts/miri.sh.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

unavailable() {
  echo "miri: not available on this machine (needs a nightly toolchain), nothing run"
  exit 0
}

command -v cargo >/dev/null 2>&1 || unavailable
cargo +nightly miri --version >/dev/null 2>&1 || unavailable
# The sysroot for Miri is built once (needs the rust-src component).
if ! setup_log=$(cargo +nightly miri setup 2>&1); then
  echo "$setup_log" | tail -n 5
  unavailable
fi
echo "$(cargo +nightly miri --version) with $(rustc +nightly --version)"
echo "MIRIFLAGS=${MIRIFLAGS:-}"

status=0
run() { # run NAME CARGO-MIRI-TEST-ARGS...
  local name=$1; shift
  echo
  echo "=== miri: $name"
  local start=$SECONDS
  if cargo +nightly miri test "$@"; then
    echo "=== miri: $name: ok ($((SECONDS - start))s)"
  else
    echo "=== miri: $name: FAILED ($((SECONDS - start))s)"
    status=1
  fi
}

run "C ABI (tests/ffi_miri.rs)" --test ffi_miri
run "unit tests of mask, mask_send, rng, utf8, frame" --lib -- mask::tests:: mask_send::tests:: rng::tests:: utf8::tests:: frame::tests::

echo
if [ "$status" -eq 0 ]; then
  echo "miri: all passed"
else
  echo "miri: FAILED (see above)"
fi
exit "$status"
