"""Loopback attacks against examples/c/echo_server, each with an asserted bound
measured from outside the server (/proc/PID: VmRSS, VmHWM, utime+stime,
open descriptors) or on the wire (time to close, response status).

Driven by scripts/attack.sh, which starts a fresh echo_server for every
attack with the command this file gives it (tests/interop/lib.sh):

  attack.py --list                     names of the attacks, in order
  attack.py --server-cmd NAME [--quick]  the server command, one word a line
                                       (ECHO_SERVER stands for the binary)
  attack.py NAME --pid PID --port PORT [--quick]
                                       runs the attack; prints one line per
                                       check: ROW<TAB>attack<TAB>bound<TAB>measured<TAB>PASS|FAIL

--quick is the CI size (fewer connections and bytes, shorter deadlines).
"""

from __future__ import annotations

import argparse
import os
import select
import socket
import struct
import sys
import threading
import time
import zlib

from wsattack import (KiB, MiB, Proc, connect, deflate_raw, fmt_bytes, frame, header, raise_nofile,
                      read_close_code, read_frame, read_head, request, wait_closed)

U64_MAX = str((1 << 64) - 1)
HANDSHAKE_MS = 1000
STALL_MS_QUICK, STALL_MS_FULL = 1000, 10000  # full: the server's default

rows_failed = 0


def row(attack: str, bound: str, measured: str, ok: bool) -> None:
    global rows_failed
    rows_failed += 0 if ok else 1
    print(f"ROW\t{attack}\t{bound}\t{measured}\t{'PASS' if ok else 'FAIL'}", flush=True)


def ok_101(head: bytes, deflate: bool = False) -> bool:
    h = head.decode("latin1").lower()
    return h.startswith("http/1.1 101") and (not deflate or "permessage-deflate" in h)


# --------------------------------------------------------------------------
# 1. Bare 14-byte headers claiming 1 TiB, every limit raised to UINT64_MAX
# --------------------------------------------------------------------------
def attack_huge_header(p: Proc, port: int, quick: bool) -> None:
    n, per = (50, 64 * KiB) if quick else (200, 256 * KiB)
    base = p.rss()
    p.reset_hwm()
    socks = []
    for _ in range(n):
        s, head = connect(port)
        assert ok_101(head), head
        s.sendall(header(0x2, 1 << 40) + bytes(per))  # 14-byte header + some payload
        socks.append(s)
    time.sleep(0.5)
    sent = n * (14 + per)
    growth = p.hwm() - base
    # The payload so far is held (the message being assembled), buffers grow
    # by doubling: up to 2x what arrived, plus ~64 KiB per connection.
    bound = 2 * sent + n * 64 * KiB + 8 * MiB
    open_ = sum(1 for s in socks if not _got_anything(s))
    row("1 TiB frame headers (limits UINT64_MAX)", f"alive, peak +{fmt_bytes(bound)}",
        f"{n} conns x {fmt_bytes(per)}: alive={p.alive()}, peak +{fmt_bytes(growth)}, {open_} still open",
        p.alive() and growth <= bound and open_ == n)
    for s in socks:
        s.close()


def attack_claimed_length(p: Proc, port: int, quick: bool) -> None:
    """Default limits: a bare header claiming the largest allowed frame
    (16 MiB) must not reserve it (address space follows bytes, too)."""
    n = 128 if quick else 512
    base_vm, base = p.vmsize(), p.rss()
    socks = []
    for _ in range(n):
        s, head = connect(port)
        assert ok_101(head), head
        s.sendall(header(0x2, 16 * MiB))
        socks.append(s)
    time.sleep(0.5)
    vm, rss = p.vmsize() - base_vm, p.rss() - base
    bound = n * 64 * KiB + 16 * MiB
    row(f"{n} bare headers claiming 16 MiB (default limits)", f"address space +{fmt_bytes(bound)}",
        f"VmSize +{fmt_bytes(vm)}, RSS +{fmt_bytes(rss)}", p.alive() and vm <= bound)
    for s in socks:
        s.close()


def _got_anything(s: socket.socket) -> bool:
    """True when the server sent something (a close frame) or closed."""
    r, _, _ = select.select([s], [], [], 0)
    return bool(r)


# --------------------------------------------------------------------------
# 2. Pinned memory: one small compressed message inflating to ~16 MiB per
#    connection, then silence
# --------------------------------------------------------------------------
def attack_pinned(p: Proc, port: int, quick: bool) -> None:
    n = 20 if quick else 60
    size = 16 * MiB - 64 * KiB
    payload = deflate_raw([bytes(MiB)] * (size // MiB) + [bytes(size % MiB)])
    msg = frame(0x2, payload, rsv1=True)
    base = p.rss()
    p.reset_hwm()
    socks = []
    echoed = 0
    for _ in range(n):
        s, head = connect(port, "permessage-deflate", timeout=30)
        assert ok_101(head, True), head
        s.sendall(msg)
        b0, op, echo = read_frame(s)  # the server compresses its echo too
        echoed += op == 2 and len(zlib.decompressobj(-15).decompress(echo + b"\x00\x00\xff\xff")) == size
        socks.append(s)
    after = p.settle_rss(2.0)
    per = (after - base) / n
    bound = 512 * KiB
    row("pinned memory: 16 MiB inflated per conn, then quiet", f"RSS after <= base + {fmt_bytes(bound)}/conn",
        f"{n} conns, {fmt_bytes(len(msg))} sent each, {echoed} echoed; after +{fmt_bytes(after - base)} "
        f"({fmt_bytes(per)}/conn), peak +{fmt_bytes(p.hwm() - base)}",
        echoed == n and per <= bound)
    for s in socks:
        s.close()


# --------------------------------------------------------------------------
# 3. GET upgrade carrying a body: must be refused (400), never parsed as frames
# --------------------------------------------------------------------------
def attack_get_body(p: Proc, port: int, quick: bool) -> None:
    ping = frame(0x9, b"in the body")
    chunked = f"{len(ping):x}\r\n".encode() + ping + b"\r\n0\r\n\r\n"
    for label, extra, body in (("Content-Length", f"Content-Length: {len(ping)}\r\n", ping),
                               ("Transfer-Encoding", "Transfer-Encoding: chunked\r\n", chunked)):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            start = time.monotonic()
            s.sendall(request(extra=extra) + body)
            try:
                head, _ = read_head(s)
            except OSError:
                head = b""
            took = time.monotonic() - start
        status = head.split(b"\r\n", 1)[0].decode("latin1")
        row(f"GET upgrade with a body ({label})", "400 within 2 s", f"'{status}' after {took:.2f} s",
            status.startswith("HTTP/1.1 400") and took <= 2)


# --------------------------------------------------------------------------
# 4. Slowloris: request heads trickled a byte at a time
# --------------------------------------------------------------------------
def attack_slowloris(p: Proc, port: int, quick: bool) -> None:
    n = 100 if quick else 1000
    raise_nofile()
    head = request()
    base_rss, base_fds = p.rss(), p.nfds()
    p.reset_hwm()
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.setblocking(False)
        socks.append(s)
    start = time.monotonic()
    sent = {s.fileno(): 0 for s in socks}
    got = {s.fileno(): b"" for s in socks}
    closed_at: dict[int, float] = {}
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN)
    by_fd = {s.fileno(): s for s in socks}
    peak_fds = 0
    next_byte = start
    deadline = start + HANDSHAKE_MS / 1000 + 5
    while len(closed_at) < n and time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_byte:  # one more byte of the head every 100 ms
            for fd, s in by_fd.items():
                if fd not in closed_at and sent[fd] < len(head) - 2:
                    try:
                        s.send(head[sent[fd]:sent[fd] + 1])
                        sent[fd] += 1
                    except OSError:
                        pass
            next_byte = now + 0.1
            peak_fds = max(peak_fds, p.nfds())
        for fd, _ in poller.poll(20):
            try:
                data = by_fd[fd].recv(4096)
            except OSError:
                data = b""
            if data:
                got[fd] += data
            else:
                closed_at[fd] = time.monotonic() - start
                poller.unregister(fd)
    took = max(closed_at.values()) if closed_at else float("inf")
    n408 = sum(1 for g in got.values() if g.startswith(b"HTTP/1.1 408"))
    limit = HANDSHAKE_MS / 1000 + 1.0
    row("slowloris: closed at the deadline", f"all closed <= {limit:.1f} s",
        f"{len(closed_at)}/{n} closed, last after {took:.2f} s", len(closed_at) == n and took <= limit)
    row("slowloris: 408 for the partial head", f"{n} x 408", f"{n408} x 408", n408 == n)
    time.sleep(0.3)
    growth = p.hwm() - base_rss
    bound = n * 32 * KiB + 4 * MiB
    fds_after = p.nfds()
    row("slowloris: memory and descriptors bounded", f"peak +{fmt_bytes(bound)}, fds back to {base_fds}",
        f"peak +{fmt_bytes(growth)} ({fmt_bytes(growth / n)}/conn), fds peak {peak_fds}, after {fds_after}",
        growth <= bound and fds_after == base_fds)
    for s in socks:
        s.close()


# --------------------------------------------------------------------------
# 5. Ping flood from peers that never read
# --------------------------------------------------------------------------
def attack_ping_flood(p: Proc, port: int, quick: bool) -> None:
    n = 4
    stall_ms = STALL_MS_QUICK if quick else STALL_MS_FULL
    pings = frame(0x9, b"p" * 125) * 512  # 67 KiB of pings per send
    base = p.rss()
    p.reset_hwm()
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.sendall(request())
        head, _ = read_head(s)
        assert ok_101(head), head
        s.setblocking(False)
        socks.append(s)
    start = time.monotonic()
    sent = {s.fileno(): 0 for s in socks}
    last_progress = {s.fileno(): start for s in socks}
    closed_at: dict[int, float] = {}
    deadline = start + stall_ms / 1000 + 30
    while len(closed_at) < n and time.monotonic() < deadline:
        _, w, x = select.select([], [s for s in socks if s.fileno() not in closed_at], [], 0.05)
        for s in w:
            fd = s.fileno()
            try:
                k = s.send(pings)
                sent[fd] += k
                last_progress[fd] = time.monotonic()
            except BlockingIOError:
                pass
            except OSError:  # reset: the server closed it
                closed_at[fd] = time.monotonic()
        for s in socks:  # an error (RST) also shows without writability
            fd = s.fileno()
            if fd not in closed_at and s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                closed_at[fd] = time.monotonic()
    total = sum(sent.values())
    after_stall = [closed_at[fd] - last_progress[fd] for fd in closed_at]
    limit = stall_ms / 1000 + 2
    worst = max(after_stall) if after_stall else float("inf")
    row("ping flood, never reading: closed by write stall", f"closed <= {limit:.1f} s after the flood stalls",
        f"{len(closed_at)}/{n} closed, worst {worst:.2f} s after the last byte taken "
        f"({fmt_bytes(total)} of pings sent in all)", len(closed_at) == n and worst <= limit)
    growth = p.hwm() - base
    bound = n * 6 * MiB + 8 * MiB  # output high water (4 MiB) + held input, per conn
    row("ping flood, never reading: memory", f"peak +{fmt_bytes(bound)}",
        f"peak +{fmt_bytes(growth)} ({fmt_bytes(growth / n)}/conn)", growth <= bound)
    for s in socks:
        s.close()


# --------------------------------------------------------------------------
# 6. A million 1-byte continuation frames
# --------------------------------------------------------------------------
def attack_continuations(p: Proc, port: int, quick: bool) -> None:
    n = 1_000_000
    data = (header(0x2, 1, fin=False) + b"x" + (header(0x0, 1, fin=False) + b"x") * (n - 2)
            + header(0x0, 1, fin=True) + b"x")
    s, head = connect(port, timeout=120)
    assert ok_101(head), head
    base = p.rss()
    p.reset_hwm()
    cpu0 = p.cpu()
    start = time.monotonic()
    t = threading.Thread(target=s.sendall, args=(data,))
    t.start()
    _, op, echo = read_frame(s)
    took = time.monotonic() - start
    t.join()
    cpu = p.cpu() - cpu0
    ns_per_byte = cpu / len(data) * 1e9
    row(f"{n:,} 1-byte continuation frames: CPU", "<= 100 ns per attacker byte",
        f"{cpu:.2f} s CPU for {fmt_bytes(len(data))} ({ns_per_byte:.0f} ns/byte), echo after {took:.1f} s",
        op == 2 and echo == b"x" * n and ns_per_byte <= 100)
    growth = p.hwm() - base
    bound = 4 * n + 8 * MiB
    row(f"{n:,} 1-byte continuation frames: memory", f"peak +{fmt_bytes(bound)}", f"peak +{fmt_bytes(growth)}",
        growth <= bound)
    s.close()


# --------------------------------------------------------------------------
# 7. Decompression bombs: one message split across many frames, and many
#    small messages sharing the LZ77 window (context takeover)
# --------------------------------------------------------------------------
def attack_bomb_frames(p: Proc, port: int, quick: bool) -> None:
    inflated = (256 if quick else 1024) * MiB
    payload = deflate_raw([bytes(MiB)] * (inflated // MiB))
    piece = 64
    frames = [header(0x2, len(payload[:piece]), fin=False, rsv1=True) + payload[:piece]]
    for i in range(piece, len(payload), piece):
        chunk = payload[i:i + piece]
        frames.append(header(0x0, len(chunk), fin=i + piece >= len(payload)) + chunk)
    wire = b"".join(frames)
    s, head = connect(port, "permessage-deflate", timeout=30)
    assert ok_101(head, True), head
    base = p.rss()
    p.reset_hwm()
    cpu0 = p.cpu()
    start = time.monotonic()

    def sender() -> None:
        try:
            s.sendall(wire)
        except OSError:
            pass  # closed while the bomb was on its way

    t = threading.Thread(target=sender)
    t.start()
    code = read_close_code(s, 30)
    took = time.monotonic() - start
    s.close()
    t.join()
    cpu = p.cpu() - cpu0
    growth = p.hwm() - base
    row(f"bomb in {len(frames):,} frames ({fmt_bytes(inflated)} inflated)", "close 1009 <= 5 s, CPU <= 1 s",
        f"close {code} after {took:.2f} s, {cpu:.2f} s CPU for {fmt_bytes(len(wire))} sent",
        code == 1009 and took <= 5 and cpu <= 1)
    bound = 48 * MiB
    row(f"bomb in {len(frames):,} frames: memory", f"peak +{fmt_bytes(bound)}", f"peak +{fmt_bytes(growth)}",
        growth <= bound)


def attack_bomb_takeover(p: Proc, port: int, quick: bool) -> None:
    m = 64 if quick else 512
    size = MiB
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    msgs = [frame(0x2, deflate_raw([bytes(size)], comp), rsv1=True) for _ in range(m)]
    wire = b"".join(msgs)
    s, head = connect(port, "permessage-deflate", timeout=60)
    assert ok_101(head, True), head
    base = p.rss()
    p.reset_hwm()
    cpu0 = p.cpu()
    start = time.monotonic()
    t = threading.Thread(target=s.sendall, args=(wire,))
    t.start()
    t.join()  # everything sent before anything is read
    d = zlib.decompressobj(-15)  # the server keeps its window too
    echoed = 0
    for _ in range(m):
        _, op, echo = read_frame(s)
        echoed += op == 2 and len(d.decompress(echo + b"\x00\x00\xff\xff")) == size
    took = time.monotonic() - start
    cpu = p.cpu() - cpu0
    growth = p.hwm() - base
    ns = cpu / (m * size) * 1e9
    row(f"bomb as {m} messages with context takeover", "<= 20 ns CPU per inflated byte",
        f"{fmt_bytes(len(wire))} sent, {fmt_bytes(m * size)} inflated, {echoed}/{m} echoed in {took:.1f} s, "
        f"{cpu:.2f} s CPU ({ns:.1f} ns/inflated byte)", echoed == m and ns <= 20)
    bound = 16 * MiB
    row(f"bomb as {m} messages with context takeover: memory", f"peak +{fmt_bytes(bound)}",
        f"peak +{fmt_bytes(growth)}", growth <= bound)
    s.close()


# --------------------------------------------------------------------------
# 8. Descriptor exhaustion (server under prlimit --nofile=64)
# --------------------------------------------------------------------------
def attack_fd_exhaustion(p: Proc, port: int, quick: bool) -> None:
    n = 100 if quick else 400
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(request())
        socks.append(s)
    time.sleep(1.0)
    sockets = p.nsockets()  # the listener and what it accepted
    cpu0 = p.cpu()
    window = 2.0 if quick else 5.0
    time.sleep(window)
    share = (p.cpu() - cpu0) / window
    row(f"fd exhaustion ({n} conns, limit 64): no spinning", "CPU <= 5% of a core while saturated",
        f"{share * 100:.1f}% over {window:.0f} s, {sockets} sockets open", share <= 0.05 and 32 < sockets <= 64)
    for s in socks:
        s.close()
    start = time.monotonic()
    recovered = None
    while time.monotonic() - start < 10:
        try:
            s, head = connect(port, timeout=2)
            s.sendall(frame(0x1, b"back"))
            _, op, echo = read_frame(s)
            s.close()
            if ok_101(head) and echo == b"back":
                recovered = time.monotonic() - start
                break
        except OSError:
            time.sleep(0.1)
    row("fd exhaustion: recovers when clients leave", "echo <= 3 s after they leave",
        "never" if recovered is None else f"echo after {recovered:.2f} s",
        recovered is not None and recovered <= 3)


# --------------------------------------------------------------------------
# 9. Many idle connections after one message: server RSS per connection
# --------------------------------------------------------------------------
def _idle(p: Proc, port: int, quick: bool, label: str, ext: str | None, bound: int) -> None:
    n = 1000 if quick else 10000
    raise_nofile()
    text = b"hello, idle world " * 4
    msg = frame(0x1, deflate_raw([text]), rsv1=True) if ext else frame(0x1, text)
    base = p.settle_rss(0.5)
    socks = []
    ok = 0
    start = time.monotonic()
    for _ in range(n):
        s, head = connect(port, ext)
        s.sendall(msg)
        _, op, echo = read_frame(s)
        if ext:
            echo = zlib.decompressobj(-15).decompress(echo + b"\x00\x00\xff\xff")
        ok += ok_101(head, bool(ext)) and op == 1 and echo == text
        socks.append(s)
    took = time.monotonic() - start
    time.sleep(0.5)
    cpu0 = p.cpu()
    after = p.settle_rss(2.0)
    share = (p.cpu() - cpu0) / 2.0
    per = (after - base) / n
    row(f"{n} idle conns, {label}", f"<= {fmt_bytes(bound)} RSS/conn",
        f"{fmt_bytes(per)}/conn (+{fmt_bytes(after - base)}), {ok}/{n} echoed, opened in {took:.1f} s",
        ok == n and per <= bound)
    row(f"{n} idle conns, {label}: CPU", "<= 5% of a core while idle", f"{share * 100:.1f}%", share <= 0.05)
    for s in socks:
        s.close()


def attack_idle_plain(p: Proc, port: int, quick: bool) -> None:
    _idle(p, port, quick, "no deflate", None, 8 * KiB)


def attack_idle_deflate_nct(p: Proc, port: int, quick: bool) -> None:
    _idle(p, port, quick, "deflate, no_context_takeover", "permessage-deflate; client_no_context_takeover; "
          "server_no_context_takeover", 20 * KiB)


def attack_idle_deflate(p: Proc, port: int, quick: bool) -> None:
    _idle(p, port, quick, "deflate, context takeover", "permessage-deflate", 512 * KiB)


# --------------------------------------------------------------------------
# 10. Idle peers: pinged, and closed (1001) unless they answer
# --------------------------------------------------------------------------
IDLE_MS, KEEPALIVE_MS = 1000, 400


def attack_idle_timeout(p: Proc, port: int, quick: bool) -> None:
    silent, _ = connect(port)
    alive, _ = connect(port)
    start = time.monotonic()
    silent.settimeout(0.05)
    alive.settimeout(0.05)
    pinged = closed_at = None
    pongs = 0
    alive_closed = False
    while time.monotonic() - start < IDLE_MS / 1000 * 2.5:
        try:  # the silent peer reads but never answers
            _, op, payload = read_frame(silent)
            if op == 9 and pinged is None:
                pinged = time.monotonic() - start
            elif op == 8 and closed_at is None:
                closed_at = (time.monotonic() - start, struct.unpack("!H", payload[:2])[0])
        except socket.timeout:
            pass
        except (OSError, EOFError):
            pass
        try:  # the other one answers every ping
            _, op, payload = read_frame(alive)
            if op == 9:
                alive.sendall(frame(0xA, payload))
                pongs += 1
            elif op == 8:
                alive_closed = True
        except socket.timeout:
            pass
        except (OSError, EOFError):
            alive_closed = True
    ka, idle = KEEPALIVE_MS / 1000, IDLE_MS / 1000
    row("silent peer: keepalive ping", f"ping at {ka:.1f}-{ka + 0.3:.1f} s",
        "none" if pinged is None else f"ping at {pinged:.2f} s", pinged is not None and ka <= pinged <= ka + 0.3)
    row("silent peer: idle timeout", f"close 1001 at {idle:.1f}-{idle + 0.3:.1f} s",
        "none" if closed_at is None else f"close {closed_at[1]} at {closed_at[0]:.2f} s",
        closed_at is not None and closed_at[1] == 1001 and idle <= closed_at[0] <= idle + 0.3)
    row("peer answering pings: kept open", f"open after {idle * 2.5:.1f} s",
        f"{pongs} pongs sent, {'closed' if alive_closed else 'open'}", pongs >= 2 and not alive_closed)
    silent.close()
    alive.close()


# name -> (function, server arguments)
ATTACKS = {
    "huge-header": (attack_huge_header, ["--max-message", U64_MAX, "--memory-budget", U64_MAX]),
    "claimed-length": (attack_claimed_length, []),
    "pinned": (attack_pinned, ["--deflate"]),
    "get-body": (attack_get_body, []),
    "slowloris": (attack_slowloris, ["--handshake-timeout", str(HANDSHAKE_MS)]),
    "ping-flood": (attack_ping_flood, []),
    "continuations": (attack_continuations, []),
    "bomb-frames": (attack_bomb_frames, ["--deflate"]),
    "bomb-takeover": (attack_bomb_takeover, ["--deflate"]),
    "fd-exhaustion": (attack_fd_exhaustion, []),
    "idle-timeout": (attack_idle_timeout, ["--idle-timeout", str(IDLE_MS), "--keepalive", str(KEEPALIVE_MS)]),
    "idle-plain": (attack_idle_plain, ["--idle-timeout", "0"]),
    "idle-deflate-nct": (attack_idle_deflate_nct, ["--deflate", "--idle-timeout", "0"]),
    "idle-deflate": (attack_idle_deflate, ["--deflate", "--idle-timeout", "0"]),
}


def server_cmd(name: str, quick: bool) -> list[str]:
    args = list(ATTACKS[name][1])
    if name == "ping-flood":
        args += ["--write-stall-timeout", str(STALL_MS_QUICK if quick else STALL_MS_FULL)]
    cmd = ["ECHO_SERVER", "--port", "0", *args]
    if name == "fd-exhaustion":
        cmd = ["prlimit", "--nofile=64:64", *cmd]
    return cmd


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("name", nargs="?")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--server-cmd", metavar="NAME")
    ap.add_argument("--pid", type=int)
    ap.add_argument("--port", type=int)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    if a.list:
        print("\n".join(ATTACKS))
        return 0
    if a.server_cmd:
        print("\n".join(server_cmd(a.server_cmd, a.quick)))
        return 0
    if a.name not in ATTACKS or a.pid is None or a.port is None:
        ap.error("NAME --pid PID --port PORT")
    p = Proc(a.pid)
    try:
        ATTACKS[a.name][0](p, a.port, a.quick)
    except Exception as e:  # an attack that could not run is a failure, not a skip
        row(a.name, "runs to the end", f"{type(e).__name__}: {e}", False)
    if not p.alive():
        row(a.name, "server alive", "server died", False)
    return 1 if rows_failed else 0


if __name__ == "__main__":
    sys.exit(main())
