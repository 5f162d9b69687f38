#!/usr/bin/env bash
# Coverage-guided fuzzing of the engine with cargo-fuzz (libFuzzer) on the
# stable toolchain. See fuzz/README.md.
#
#   scripts/fuzz.sh                      every target, 10 minutes each
#   scripts/fuzz.sh --quick              every target, 20 seconds each (CI)
#   scripts/fuzz.sh --target NAME [--target NAME2] --seconds N
#
# Installs cargo-fuzz if it is missing. New inputs go to a working corpus in
# fuzz/target/corpus/<target> (the committed seeds in fuzz/corpus/<target> are
# read, never written). A crash input is copied to fuzz/regressions/<target>/,
# where tests/fuzz_regressions.rs replays it under `cargo test`; the script
# then exits 1.
set -euo pipefail

ALL_TARGETS=(frame_parser handshake_server handshake_client deflate connection_chunked)
targets=()
seconds=600

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) seconds=20 ;;
        --seconds) seconds="${2:?--seconds needs a number}"; shift ;;
        --target) targets+=("${2:?--target needs a name}"); shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "fuzz.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
    [ -f "$(dirname "$0")/../fuzz/fuzz_targets/$t.rs" ] || { echo "fuzz.sh: no target $t" >&2; exit 2; }
done

cd "$(dirname "$0")/../fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi

# --sanitizer none: AddressSanitizer needs the unstable -Zsanitizer flag,
# which stable rustc refuses. The rest of what cargo-fuzz passes
# (-Cpasses=sancov-module and -Cllvm-args for the coverage counters,
# --cfg fuzzing, debug assertions and overflow checks) is stable, so neither
# nightly nor RUSTC_BOOTSTRAP is needed. The fuzzed code is safe Rust, where
# memory errors show up as panics without a sanitizer.
FUZZ_FLAGS=(--sanitizer none)
for t in "${targets[@]}"; do cargo fuzz build "${FUZZ_FLAGS[@]}" "$t" >/dev/null; done

status=0
for t in "${targets[@]}"; do
    work="target/corpus/$t"
    arts="artifacts/$t"
    mkdir -p "$work" "$arts"
    before=$(mktemp)
    ls "$arts" >"$before"
    echo "== $t: ${seconds}s"
    log="target/fuzz-$t.log"
    set +e
    cargo fuzz run "${FUZZ_FLAGS[@]}" "$t" "$work" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
    rc=$?
    set -e
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" | sed 's/^/   /' || true
    grep -E '^#[0-9]+ +DONE' "$log" | tail -1 | sed 's/^/   /' || true
    new=$(ls "$arts" | grep -vxF -f "$before" || true)
    rm -f "$before"
    if [ -n "$new" ]; then
        mkdir -p "regressions/$t"
        for f in $new; do
            cp "$arts/$f" "regressions/$t/$f"
            echo "   CRASH: fuzz/regressions/$t/$f ($(od -An -tx1 "$arts/$f" | tr -d " \n" | head -c 120))"
        done
        grep -E 'panicked at|^thread|SUMMARY' "$log" | head -5 | sed 's/^/   /'
        status=1
    elif [ $rc -ne 0 ]; then
        echo "   fuzzer failed (exit $rc) without an artifact; see fuzz/$log"
        tail -20 "$log"
        status=1
    fi
done
exit $status
