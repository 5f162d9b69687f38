"""Python `websockets` client (and raw sockets) against the C echo server.

Usage: test_py_client.py BUILD_DIR
Starts BUILD_DIR/echo_server on an ephemeral port and checks, over loopback:
sizes around every frame-length boundary, fragmentation, pings, UTF-8, the
closing handshake, subprotocol choice, handshake rejection, the message-size
limit, many concurrent connections and a reader too slow for its echoes.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Request

from common import Results, bin_path, start_listening, stop

SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20]
LIMIT = 16 << 20  # engine default max message size


def pattern(n: int, seed: int = 0) -> bytes:
    base = bytes((i * 31 + seed) & 0xFF for i in range(256))
    return (base * (n // 256 + 1))[:n]


async def core(url: str, r: Results) -> None:
    async with connect(url, max_size=None, open_timeout=10, close_timeout=10) as ws:
        for n in SIZES:
            text = ("abcdefghij" * (n // 10 + 1))[:n]
            await ws.send(text)
            r.equal(f"text {n} bytes echoed", await ws.recv(), text)
            data = pattern(n, n)
            await ws.send(data)
            got = await ws.recv()
            r.check(f"binary {n} bytes echoed", got == data, f"got {len(got)} bytes")

        await ws.send(["Hel", "lo, ", "fragmented wörld"])
        r.equal("fragmented text echoed whole", await ws.recv(), "Hello, fragmented wörld")
        parts = [pattern(1000, 1), pattern(70000, 2), b"", pattern(3, 3)]
        await ws.send(parts)
        r.check("fragmented binary echoed whole", await ws.recv() == b"".join(parts))
        # A 4-byte code point split across three fragments: UTF-8 validation
        # has to carry state from frame to frame.
        smile = "\U0001f600".encode()
        await ws.send([b"a" + smile[:1], smile[1:3], smile[3:] + b"z"], text=True)
        r.equal("code point split across fragments", await ws.recv(), "a\U0001f600z")

        unicode = "héllo wörld ✓ 中文 😀 " * 100
        await ws.send(unicode)
        r.equal("unicode text echoed", await ws.recv(), unicode)

        for payload in [b"", b"ping!", bytes(range(125))]:
            waiter = await ws.ping(payload)
            try:
                await asyncio.wait_for(waiter, 5)
                r.check(f"pong for {len(payload)}-byte ping", True)
            except asyncio.TimeoutError:
                r.check(f"pong for {len(payload)}-byte ping", False, "no pong")

        # Ping between messages must not disturb message order.
        await ws.send("before")
        waiter = await ws.ping(b"mid")
        await ws.send("after")
        r.equal("message before ping", await ws.recv(), "before")
        r.equal("message after ping", await ws.recv(), "after")
        await asyncio.wait_for(waiter, 5)

        await ws.close(1000, "bye")
        r.equal("server answered close with 1000", ws.close_code, 1000)


async def subprotocols(url: str, r: Results) -> None:
    async with connect(url, subprotocols=["superchat", "chat"]) as ws:
        r.equal("server picks the offered subprotocol it supports", ws.subprotocol, "chat")
    async with connect(url, subprotocols=["other"]) as ws:
        r.equal("no subprotocol when none is supported", ws.subprotocol, None)
    async with connect(url) as ws:
        r.equal("no subprotocol when none is offered", ws.subprotocol, None)


async def too_big(url: str, r: Results) -> None:
    async with connect(url, max_size=None, close_timeout=10) as ws:
        try:
            # The server may fail the connection from the frame header alone,
            # before this send has even finished.
            await ws.send(b"x" * (LIMIT + 1))
            await asyncio.wait_for(ws.recv(), 20)
            r.check("message over the limit is refused", False, "it was echoed")
        except ConnectionClosed:
            r.equal("message over the limit closes with 1009", ws.close_code, 1009)


async def concurrent(url: str, r: Results, clients: int = 50, messages: int = 20) -> None:
    async def one(i: int) -> bool:
        async with connect(url) as ws:
            for j in range(messages):
                msg = f"client {i} message {j} " + "x" * (i * 37 % 300)
                await ws.send(msg)
                if await ws.recv() != msg:
                    return False
            await ws.close()
            return ws.close_code == 1000

    results = await asyncio.gather(*(one(i) for i in range(clients)), return_exceptions=True)
    good = sum(1 for x in results if x is True)
    r.equal(f"{clients} concurrent connections all echo and close", good, clients)


def http_exchange(port: int, request: bytes) -> bytes:
    """Sends raw bytes, returns everything the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        return data


def status_of(response: bytes) -> bytes:
    return response.split(b" ", 2)[1] if response.startswith(b"HTTP/1.1 ") else b""


def bad_handshake(port: int, r: Results) -> None:
    resp = http_exchange(port, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    r.check("non-upgrade request rejected with 4xx and closed",
            status_of(resp) in (b"400", b"426"), repr(resp[:60]))
    huge = (b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            b"X-Filler: " + b"a" * (32 << 10) + b"\r\n\r\n")
    resp = http_exchange(port, huge)
    r.equal("oversized handshake rejected with 431", status_of(resp), b"431")


def slow_reader(port: int, r: Results, messages: int = 12, size: int = 1 << 20) -> None:
    """Sends 12 MiB of echoes-to-be before reading any: the server must cope
    with partial writes and hold back, then deliver every byte in order."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    ws = WSConnection(ConnectionType.CLIENT)
    sock.sendall(ws.send(Request(host="localhost", target="/")))
    events = []
    while not any(isinstance(e, AcceptConnection) for e in events):
        ws.receive_data(sock.recv(65536))
        events += list(ws.events())
    payloads = [pattern(size, k) for k in range(messages)]

    def sender() -> None:
        for p in payloads:
            sock.sendall(ws.send(BytesMessage(data=p)))

    t = threading.Thread(target=sender)
    t.start()
    t.join(1.0)  # let the server's output pile up while nobody reads

    got: list[bytes] = []
    partial = b""
    while len(got) < messages:
        data = sock.recv(1 << 16)
        if not data:
            break
        ws.receive_data(data)
        for e in ws.events():
            if isinstance(e, BytesMessage):
                partial += e.data
                if e.message_finished:
                    got.append(partial)
                    partial = b""
    t.join()
    r.check(f"slow reader gets all {messages} x {size} bytes back in order", got == payloads,
            f"{len(got)} messages")
    sock.sendall(ws.send(CloseConnection(code=1000)))
    closed = False
    while data := sock.recv(65536):
        ws.receive_data(data)
        closed |= any(isinstance(e, CloseConnection) for e in ws.events())
    r.check("slow reader closes cleanly", closed)
    sock.close()


def main() -> int:
    build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
    r = Results("interop python-client")
    server, port = start_listening(
        [bin_path(build, "echo_server"), "--port", "0", "--subprotocol", "chat"]
    )
    url = f"ws://127.0.0.1:{port}/echo"
    try:
        asyncio.run(asyncio.wait_for(core(url, r), 120))
        asyncio.run(asyncio.wait_for(subprotocols(url, r), 30))
        asyncio.run(asyncio.wait_for(too_big(url, r), 60))
        asyncio.run(asyncio.wait_for(concurrent(url, r), 120))
        bad_handshake(port, r)
        slow_reader(port, r)
    except Exception as e:  # any exception is a failed check, not a crash
        r.check("driver ran to completion", False, f"{type(e).__name__}: {e}")
    finally:
        code = stop(server)
        r.equal("echo_server exits 0 on SIGTERM", code, 0)
    return r.summary()


if __name__ == "__main__":
    os.chdir(os.path.dirname(os.path.abspath(__file__)) + "/../..")
    sys.exit(main())
