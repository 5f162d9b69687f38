#!/usr/bin/env python3
"""Runs wsproto 1.3.2's own tests of its public API against wsproto_c.

Fetches the wsproto sdist from PyPI with pip (cached in
$WSPROTO_SUITE_CACHE, default ~/.cache/wsproto-c-suite), changes every
``wsproto`` import in its tests to ``wsproto_c``, and runs pytest on the
files that test the public API: test_client.py, test_server.py,
test_connection.py, test_extensions.py. The tests listed in UNSUPPORTED are
deselected, each for a documented reason. All the others must pass.
Not run: test_handshake.py, test_frame_protocol.py and
test_permessage_deflate.py. They drive wsproto's internal classes
(H11Handshake, FrameProtocol, Buffer, XorMasker...), which this package
replaces with the C library.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

VERSION = "1.3.2"
FILES = ["test_client.py", "test_server.py", "test_connection.py", "test_extensions.py"]
UNSUPPORTED = {
    # Custom Extension subclasses (the C library only does permessage-deflate;
    # docs/wsproto-differences.md, "API differences").
    "test_client.py::test_connection_request_simple_extension": "custom extension",
    "test_client.py::test_connection_request_simple_extension_no_offer": "custom extension",
    "test_client.py::test_connection_request_parametrised_extension": "custom extension",
    "test_client.py::test_handshake_with_extension": "custom extension",
    "test_server.py::test_handshake_with_extension": "custom extension",
    "test_server.py::test_handshake_with_extension_params": "custom extension",
    "test_server.py::test_handshake_with_extra_unaccepted_extension": "custom extension",
    # The engine writes the standard reason phrase ("400 Bad Request"); h11
    # writes none, and these tests compare h11's parsed reason (N4).
    "test_server.py::test_handshake_rejection": "reason phrase",
    "test_server.py::test_handshake_rejection_with_body": "reason phrase",
}


def main() -> int:
    cache = Path(os.environ.get("WSPROTO_SUITE_CACHE", Path.home() / ".cache" / "wsproto-c-suite"))
    cache.mkdir(parents=True, exist_ok=True)
    sdist = cache / f"wsproto-{VERSION}.tar.gz"
    if not sdist.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--disable-pip-version-check",
                "-d",
                str(cache),
                f"wsproto=={VERSION}",
            ],
            check=True,
        )
    work = cache / "suite"
    tests = work / "tests"
    tests.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if len(parts) == 3 and parts[1] == "tests" and parts[2].endswith(".py"):
                src = tar.extractfile(member).read().decode()
                (tests / parts[2]).write_text(re.sub(r"\bwsproto\b", "wsproto_c", src))
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    args += [f"tests/{f}" for f in FILES]
    for test in UNSUPPORTED:
        args += ["--deselect", f"tests/{test}"]
    print(f"wsproto {VERSION} public-API tests against wsproto_c ({len(UNSUPPORTED)} deselected as unsupported)")
    env = dict(os.environ)
    pkg = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = pkg + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.run(args, cwd=work, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
