"""echo_server's deadlines for slow and half-open peers.

Usage: test_deadlines.py BUILD_DIR
  --handshake-timeout: a peer that sends half a request, or nothing, is
      disconnected after the timeout; a completed handshake is not affected.
  --close-timeout: a peer that sends a 4000 KiB message and a close frame but
      never reads the echo is disconnected after the timeout although the
      server still has output for it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

from common import Results, bin_path, stop
from raw_ws import close_frame, frame, handshake, read_frame

TIMEOUT_MS = 300


class Server:
    """echo_server with --verbose; stderr lines are collected with arrival times."""

    def __init__(self, echo_server: str, *args: str) -> None:
        self.proc = subprocess.Popen([echo_server, "--port", "0", "--verbose", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise RuntimeError(f"echo_server did not start: {line!r}")
        self.port = int(line.split()[-1])
        self.lines: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            with self.lock:
                self.lines.append((time.monotonic(), line.rstrip()))

    def wait_for(self, needle: str, timeout: float) -> float | None:
        """Arrival time of the first stderr line containing needle."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for t, line in self.lines:
                    if needle in line:
                        return t
            time.sleep(0.02)
        return None


def wait_eof(s: socket.socket, timeout: float) -> float | None:
    """Reads until EOF/reset; returns when that happened (None on timeout)."""
    s.settimeout(timeout)
    try:
        while s.recv(65536):
            pass
    except socket.timeout:
        return None
    except OSError:
        pass
    return time.monotonic()


def main() -> int:
    build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
    echo_server = bin_path(build, "echo_server")
    r = Results("interop deadlines")
    srv = Server(echo_server, "--handshake-timeout", str(TIMEOUT_MS), "--close-timeout", str(TIMEOUT_MS))
    try:
        # Half a request, and nothing at all.
        for what, data in (("half a request", b"GET / HTTP/1.1\r\nHost: x\r\n"), ("silent peer", b"")):
            with socket.create_connection(("127.0.0.1", srv.port)) as s:
                start = time.monotonic()
                if data:
                    s.sendall(data)
                end = wait_eof(s, 5)
                took = (end - start) if end else None
                r.check(f"{what}: disconnected after the handshake timeout",
                        took is not None and TIMEOUT_MS / 1000 * 0.9 <= took < 3, f"after {took}")
        r.check("the timeout is logged with the buffered input",
                srv.wait_for(f"handshake timeout after {TIMEOUT_MS} ms (25 bytes", 2) is not None,
                "\n".join(l for _, l in srv.lines[-10:]))

        # A finished handshake outlives the handshake timeout.
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
            resp = handshake(s)
            time.sleep(TIMEOUT_MS / 1000 * 3)
            s.sendall(frame(0x1, b"late"))
            _, opcode, payload = read_frame(s)
            r.check("open connection unaffected by the handshake timeout",
                    resp.startswith(b"HTTP/1.1 101") and (opcode, payload) == (1, b"late"))
            s.sendall(close_frame())
            _, opcode, _ = read_frame(s)
            r.equal("close answered", opcode, 8)

        # A peer that never reads: it sends a 4000 KiB message, and once the
        # echo is queued, a close frame. The echo stays under the server's
        # 4 MiB read-pause mark, so the close is still read; the kernel does
        # not take all of it while the peer's receive window is tiny.
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", srv.port))
        resp = handshake(s)
        big = os.urandom(4000 << 10)
        s.sendall(frame(0x2, big))
        srv.wait_for("echoed binary message of", 5)
        time.sleep(0.2)
        s.sendall(close_frame())
        sent = time.monotonic()
        t = srv.wait_for("close timeout", 5)
        r.check("close timeout fires with output still pending",
                resp.startswith(b"HTTP/1.1 101") and t is not None
                and TIMEOUT_MS / 1000 * 0.9 <= t - sent < 3,
                "no 'close timeout' line" if t is None else f"after {t - sent:.2f}s")
        # What reaches us is what the kernel already held: less than the echo.
        s.settimeout(5)
        got = 0
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
        except OSError:
            pass
        r.check("the rest of the echo was dropped", got < len(big), f"{got} bytes")
        s.close()
        r.check("the connection was freed", srv.wait_for("closed (state 4)", 2) is not None)
        if os.environ.get("INTEROP_VERBOSE"):
            print("\n".join(l for _, l in srv.lines))
    finally:
        r.equal("echo_server exits 0 on SIGTERM", stop(srv.proc), 0)
    return r.summary()


if __name__ == "__main__":
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    sys.exit(main())
