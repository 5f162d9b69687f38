"""Decompression bomb against `echo_server --deflate` (default 16 MiB limit).

Usage: test_deflate_bomb.py BUILD_DIR
1 GiB of zeros deflated (raw, 15-bit window, about 1 MiB) is sent as one
compressed message over a raw socket, once as a single frame and once as 16
fragments. The server must answer with close 1009 (message too big) and its
peak resident memory (VmHWM) must stay under BOUND_MIB: the engine stops
inflating at the limit instead of materialising the message.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
import threading
import time
import zlib

from common import Results, bin_path, start_listening, stop
from raw_ws import close_frame, frame, handshake, read_frame, vm_hwm_kib

BOMB_BYTES = 1 << 30
BOUND_MIB = 64


def build_bomb() -> bytes:
    """Raw deflate of BOMB_BYTES zeros, built incrementally, with the trailing
    00 00 ff ff of the sync flush removed (RFC 7692 7.2.1)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(1 << 20)
    parts = [c.compress(zeros) for _ in range(BOMB_BYTES // len(zeros))]
    parts.append(c.flush(zlib.Z_SYNC_FLUSH))
    data = b"".join(parts)
    assert data.endswith(b"\x00\x00\xff\xff")
    return data[:-4]


def send_bomb(port: int, frames: list[bytes], r: Results, tag: str) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        resp = handshake(s, "permessage-deflate; client_max_window_bits")
        head = resp.decode("latin1").lower()
        if not r.check(f"{tag} 101 with permessage-deflate", head.startswith("http/1.1 101")
                       and "sec-websocket-extensions: permessage-deflate" in head, head[:300]):
            return
        send_error: list[BaseException] = []

        def sender() -> None:
            # The server may close while the bomb is still on its way.
            try:
                for f in frames:
                    s.sendall(f)
            except OSError as e:
                send_error.append(e)

        t = threading.Thread(target=sender)
        t.start()
        code = None
        try:
            while True:
                _, opcode, payload = read_frame(s)
                if opcode == 0x8:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                    break
        except (EOFError, OSError) as e:
            r.check(f"{tag} close frame received", False, repr(e))
        t.join(30)
        r.equal(f"{tag} close code", code, 1009)
        try:
            s.sendall(close_frame(1000))
        except OSError:
            pass


def main() -> int:
    build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
    echo_server = bin_path(build, "echo_server")
    r = Results("interop deflate-bomb")

    t0 = time.monotonic()
    bomb = build_bomb()
    print(f"  bomb: {BOMB_BYTES >> 20} MiB of zeros -> {len(bomb)} bytes compressed "
          f"({time.monotonic() - t0:.1f}s to build)")
    r.check("bomb compresses over 500:1", len(bomb) * 500 < BOMB_BYTES, str(len(bomb)))

    single = [frame(0x2, bomb, fin=True, rsv1=True)]
    n = 16
    step = len(bomb) // n + 1
    pieces = [bomb[i:i + step] for i in range(0, len(bomb), step)]
    fragmented = [frame(0x2 if i == 0 else 0x0, p, fin=i == len(pieces) - 1, rsv1=i == 0)
                  for i, p in enumerate(pieces)]

    proc, port = start_listening([echo_server, "--port", "0", "--deflate"])
    try:
        before = vm_hwm_kib(proc.pid)
        send_bomb(port, single, r, "[single frame]")
        send_bomb(port, fragmented, r, f"[{len(fragmented)} fragments]")
        time.sleep(0.2)
        after = vm_hwm_kib(proc.pid)
        print(f"  echo_server VmHWM: {before} KiB before, {after} KiB after "
              f"(bound {BOUND_MIB} MiB; the message limit is 16 MiB)")
        r.check(f"peak memory under {BOUND_MIB} MiB", after < BOUND_MIB * 1024, f"{after} KiB")
        # Still serving after the bombs.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            resp = handshake(s, "permessage-deflate")
            s.sendall(frame(0x1, b"still here"))
            b0, opcode, payload = read_frame(s)
            text = zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff") if b0 & 0x40 else payload
            r.check("server still echoes afterwards", resp.startswith(b"HTTP/1.1 101")
                    and opcode == 0x1 and text == b"still here", f"{b0:#x} {payload!r}")
    finally:
        r.equal("echo_server exits 0 on SIGTERM", stop(proc), 0)
    return r.summary()


if __name__ == "__main__":
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    sys.exit(main())
