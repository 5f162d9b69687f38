#!/bin/sh
# Builds the library (release), the limit loops (bench/limits) and the C
# benchmark, checks the input
# generators against the BENCHMARKS.md digests, then runs the harness.
# The harness links the system zlib (zlib1g-dev, installed here if missing)
# for the deflate ceiling rows and to check send-deflate's output; the
# library itself never uses it.
#   bench/run.sh --quick                 1/100 of each workload (what the test suite runs)
#   bench/run.sh --runs 7 --isolate --json out.json
# All arguments go to the harness (see bench/bench.c). Exit status is
# non-zero when a digest check or a workload's verification fails.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

quick=0
for a in "$@"; do [ "$a" = "--quick" ] && quick=1; done

if ! printf '#include <zlib.h>\n' | "${CC:-cc}" -E - >/dev/null 2>&1; then
    echo "bench/run.sh: installing zlib1g-dev (apt-get)"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -qq --no-install-recommends zlib1g-dev >/dev/null ||
        { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends zlib1g-dev >/dev/null; }
fi

(cd "$root" && cargo build --release --quiet)
# The limit loops (BENCHMARKS.md's minimal hand-written Rust loops), a
# staticlib linked into the harness; its own workspace, crates from crates.io.
cargo build --release --quiet --manifest-path "$here/limits/Cargo.toml"
make -s -C "$here"

if [ "$quick" = 1 ]; then
    # The full table check generates ~200 MB of input; quick runs check the
    # two fastest workloads against the table and rely on the harness's own
    # delivered == generated check for the rest.
    "$here/build/gen_check" recv-small
    "$here/build/gen_check" handshake
else
    "$here/build/gen_check"
fi
exec "$here/build/bench" "$@"
