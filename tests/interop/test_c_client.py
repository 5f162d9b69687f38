"""The C client against reference servers (Python `websockets` and `wsproto`).

Usage: test_c_client.py BUILD_DIR
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from common import Results, bin_path, start_listening, stop

HERE = os.path.dirname(os.path.abspath(__file__))
MESSAGES = [
    ("--text", "hello"),
    ("--text", "héllo wörld 😀"),
    ("--binary-size", "0"),
    ("--binary-size", "125"),
    ("--binary-size", "65536"),
    ("--binary-size", str(1 << 20)),
    ("--text", ""),
]


def expected_lines(count: int) -> list[str]:
    lines = []
    for _ in range(count):
        for kind, value in MESSAGES:
            if kind == "--text":
                lines += [f"> text: {value}", f"< text: {value}"]
            else:
                lines += [f"> binary: {value} bytes", f"< binary: {value} bytes"]
    return lines


def run_client(client: str, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([client, *args], capture_output=True, text=True, timeout=120)


def server(mode: str):
    return start_listening([sys.executable, os.path.join(HERE, "py_echo_servers.py"), mode])


def main() -> int:
    build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
    client = bin_path(build, "client")
    r = Results("interop c-client")
    msg_args = [a for pair in MESSAGES for a in pair]

    for mode in ("websockets", "wsproto"):
        proc, port = server(mode)
        try:
            url = f"ws://127.0.0.1:{port}/echo?x=1"
            res = run_client(client, [url, *msg_args, "--count", "2"])
            r.equal(f"[{mode}] client exits 0", res.returncode, 0)
            lines = res.stdout.splitlines()
            r.equal(f"[{mode}] conversation", lines[:-1], expected_lines(2))
            r.equal(f"[{mode}] clean close", lines[-1:], ["closed: 1000"])
            if res.returncode:
                print(res.stderr)

            res = run_client(client, [url, "--subprotocol", "other", "--subprotocol", "chat",
                                      "--text", "x"])
            r.check(f"[{mode}] subprotocol negotiated", res.returncode == 0
                    and "subprotocol: chat" in res.stdout.splitlines(), res.stdout + res.stderr)

            res = run_client(client, [url, "--count", "0"])
            r.equal(f"[{mode}] open and close without messages",
                    (res.returncode, res.stdout), (0, "closed: 1000\n"))
        finally:
            stop(proc)

    proc, port = server("corrupt")
    try:
        res = run_client(client, [f"ws://127.0.0.1:{port}/", "--text", "hello"])
        r.check("a wrong echo makes the client fail", res.returncode != 0
                and "not the echo" in res.stderr, res.stderr)
        res = run_client(client, [f"ws://127.0.0.1:{port}/", "--binary-size", "1000"])
        r.check("a wrong binary echo makes the client fail", res.returncode != 0, res.stderr)
    finally:
        stop(proc)

    proc, port = server("reject")
    try:
        res = run_client(client, [f"ws://127.0.0.1:{port}/", "--text", "hello"])
        r.check("a rejected handshake makes the client fail", res.returncode != 0
                and "403" in res.stderr, res.stderr)
    finally:
        stop(proc)

    # Nothing listening: connect fails.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    res = run_client(client, [f"ws://127.0.0.1:{free_port}/", "--text", "x"])
    r.check("connection refused makes the client fail", res.returncode != 0, res.stderr)

    res = run_client(client, ["http://127.0.0.1:1/"])
    r.equal("a non-ws URL is a usage error", res.returncode, 2)
    return r.summary()


if __name__ == "__main__":
    os.chdir(os.path.join(HERE, "..", ".."))
    sys.exit(main())
