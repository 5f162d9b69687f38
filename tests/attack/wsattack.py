"""Shared pieces of the loopback attack suite: what the server process uses,
measured from outside (/proc), and hand-made client frames."""

from __future__ import annotations

import base64
import os
import resource
import socket
import struct
import time
import sys
import zlib

# The frame reader is the interop tests' (tests/interop/raw_ws.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from raw_ws import read_frame  # noqa: E402,F401 (re-exported to attack.py)

CLK_TCK = os.sysconf("SC_CLK_TCK")
MiB = 1 << 20
KiB = 1 << 10


class Proc:
    """The echo_server under attack, seen through /proc/PID."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def _status(self, key: str) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * KiB
        raise RuntimeError(f"no {key} for {self.pid}")

    def rss(self) -> int:
        """Resident set size now, in bytes (VmRSS)."""
        return self._status("VmRSS")

    def hwm(self) -> int:
        """Peak resident set size, in bytes (VmHWM)."""
        return self._status("VmHWM")

    def vmsize(self) -> int:
        """Address space in use, in bytes (VmSize): reservations count too."""
        return self._status("VmSize")

    def reset_hwm(self) -> bool:
        """Resets VmHWM to the current RSS (Linux: write 5 to clear_refs);
        False when not permitted, then peaks are measured since start."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def cpu(self) -> float:
        """User + system CPU seconds so far (utime + stime)."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def nfds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def nsockets(self) -> int:
        n = 0
        for fd in os.listdir(f"/proc/{self.pid}/fd"):
            try:
                n += os.readlink(f"/proc/{self.pid}/fd/{fd}").startswith("socket:")
            except OSError:
                pass
        return n

    def alive(self) -> bool:
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except OSError:
            return False

    def settle_rss(self, seconds: float = 1.5) -> int:
        """RSS once the server had time to release memory (malloc_trim runs
        on its 100 ms timer at most once a second)."""
        time.sleep(seconds)
        return self.rss()


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def request(extensions: str | None = None, extra: str = "") -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    head = ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
    if extensions:
        head += f"Sec-WebSocket-Extensions: {extensions}\r\n"
    return (head + extra + "\r\n").encode()


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """Reads an HTTP response head; returns (head, bytes read past it)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def connect(port: int, extensions: str | None = None, timeout: float = 10) -> tuple[socket.socket, bytes]:
    """Opens a WebSocket connection; returns (socket, response head)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(request(extensions))
    head, rest = read_head(s)
    if rest:
        raise RuntimeError("unexpected bytes after the 101")
    return s, head


ZERO_KEY = b"\0\0\0\0"  # a mask of zeros leaves the payload as is: fast to build


def header(opcode: int, length: int, fin: bool = True, rsv1: bool = False, key: bytes = ZERO_KEY) -> bytes:
    """Masked client frame header for a payload of `length` bytes."""
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    if length < 126:
        h = struct.pack("!BB", b0, 0x80 | length)
    elif length < 65536:
        h = struct.pack("!BBH", b0, 0x80 | 126, length)
    else:
        h = struct.pack("!BBQ", b0, 0x80 | 127, length)
    return h + key


def frame(opcode: int, payload: bytes, fin: bool = True, rsv1: bool = False) -> bytes:
    """Masked with a zero key (RFC 6455 allows any key)."""
    return header(opcode, len(payload), fin, rsv1) + payload


def deflate_raw(data_chunks, comp=None) -> bytes:
    """RFC 7692 payload: raw deflate with a sync flush, tail 00 00 ff ff removed.
    `comp` keeps the LZ77 window across messages (context takeover)."""
    c = comp or zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [c.compress(chunk) for chunk in data_chunks]
    parts.append(c.flush(zlib.Z_SYNC_FLUSH))
    out = b"".join(parts)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def read_close_code(sock: socket.socket, timeout: float) -> int | None:
    """Reads frames until a close frame; its code (1005 if none), or None on
    EOF/reset/timeout first."""
    sock.settimeout(timeout)
    try:
        while True:
            _, op, payload = read_frame(sock)
            if op == 8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
    except (OSError, EOFError):
        return None


def wait_closed(sock: socket.socket, timeout: float) -> bool:
    """Reads until EOF or reset; False on timeout."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except socket.timeout:
        return False
    except OSError:
        pass
    return True


def fmt_bytes(n: float) -> str:
    if abs(n) >= MiB:
        return f"{n / MiB:.1f} MiB"
    if abs(n) >= KiB:
        return f"{n / KiB:.1f} KiB"
    return f"{n:.0f} B"
