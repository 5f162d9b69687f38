#!/usr/bin/env bash
# Tests of the Python package (bindings/python):
#   run_tests.sh --quick   CI: pytest (drop-in examples under wsproto and
#                          wsproto_c, API, errors), wsproto 1.3.2's own
#                          public-API tests run against wsproto_c, the
#                          differential test (scripted corpus + 10,000
#                          generated streams), and `pip install` into a
#                          fresh venv
#   run_tests.sh --full    the same with 200,000 generated streams
# Extra arguments after the mode go to difftest.py (e.g. --seed 7). The
# quick run uses a fixed seed (CI must not turn red on a stream unrelated to
# the change under test); the full run draws a new one each time.
# Uses the repository's .venv (created if missing) and installs
# requirements-test.txt into it. Prints a summary; exits non-zero on failure.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
mode=${1:---quick}
shift || true
case $mode in
  --quick) streams=10000 seed=(--seed 20261130) ;;
  --full) streams=200000 seed=() ;;
  *) echo "usage: $0 [--quick|--full] [difftest args]" >&2; exit 2 ;;
esac

say() { echo "pytests: $*"; }
fail=()

say "cargo build --release"
(cd "$root" && cargo build --release --lib -q) || { echo "pytests: FAIL (cargo build)"; exit 1; }
lib="${CARGO_TARGET_DIR:-$root/target}/release/libwsproto.so"

py="$root/.venv/bin/python"
if [[ ! -x $py ]]; then
  say "creating .venv"
  python3 -m venv "$root/.venv" || exit 1
fi
stamp="$root/.venv/.requirements-python-bindings"
if ! cmp -s "$here/requirements-test.txt" "$stamp" 2>/dev/null; then
  say "pip install -r bindings/python/requirements-test.txt"
  "$py" -m pip install -q --disable-pip-version-check -r "$here/requirements-test.txt" || exit 1
  cp "$here/requirements-test.txt" "$stamp"
fi

export WSPROTO_C_LIBRARY=$lib
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"

say "pytest bindings/python/tests"
"$py" -m pytest -q "$here/tests" || fail+=(pytest)

say "wsproto's own public-API tests"
"$py" "$here/tests/wsproto_suite.py" || fail+=(wsproto-suite)

say "differential test ($streams generated streams)"
[[ $# -gt 0 ]] && seed=()
"$py" "$here/tests/difftest.py" --streams "$streams" "${seed[@]}" "$@" || fail+=(differential)

say "pip install ./bindings/python in a fresh venv"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if python3 -m venv "$tmp/venv" &&
  (cd "$root" && env -u WSPROTO_C_LIBRARY -u PYTHONPATH "$tmp/venv/bin/pip" install -q --disable-pip-version-check ./bindings/python) &&
  (cd "$tmp" && env -u WSPROTO_C_LIBRARY -u PYTHONPATH "$tmp/venv/bin/python" - <<'PY'
import os, wsproto_c, wsproto_c._ffi as ffi
assert os.path.dirname(ffi.library_path) == os.path.dirname(wsproto_c.__file__), ffi.library_path
from wsproto_c import ConnectionType, WSConnection
from wsproto_c.events import AcceptConnection, Request, TextMessage
c, s = WSConnection(ConnectionType.CLIENT), WSConnection(ConnectionType.SERVER)
s.receive_data(c.send(Request(host="h", target="/")))
assert isinstance(next(s.events()), Request)
c.receive_data(s.send(AcceptConnection()))
assert isinstance(next(c.events()), AcceptConnection)
s.receive_data(c.send(TextMessage(data="installed")))
assert next(s.events()).data == "installed"
from wsproto_c.h2 import ExtendedConnect
h2 = ExtendedConnect([(b":method", b"CONNECT"), (b":protocol", b"websocket"), (b":scheme", b"https"),
                      (b":path", b"/"), (b":authority", b"h"), (b"sec-websocket-version", b"13")])
assert h2.accept() == [(b":status", b"200")] and h2.connection().state.name == "OPEN"
print("pip-installed wsproto_c works, library:", ffi.library_path)
PY
  ); then
  :
else
  fail+=(pip-install)
fi
rm -rf "$here/build" "$here"/*.egg-info

if [[ ${#fail[@]} -eq 0 ]]; then
  echo "pytests: PASS (pytest, wsproto suite, differential, pip install)"
else
  echo "pytests: FAIL (${fail[*]})"
  exit 1
fi
