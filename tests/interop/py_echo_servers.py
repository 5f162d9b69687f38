"""Reference echo servers for testing the C client.

Usage: py_echo_servers.py websockets|wsproto|corrupt|reject
Prints `listening on PORT` (ephemeral port on 127.0.0.1) and serves until
SIGTERM.
  websockets  echo server on the `websockets` package; before each echo it
              pings the client and waits for the pong (tests auto-pong);
              accepts subprotocol "chat" when offered
  wsproto     echo server on the sans-I/O `wsproto` package, blocking sockets
  corrupt     like websockets but flips the first byte of each echo
  reject      answers every upgrade with HTTP 403
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import threading
from http import HTTPStatus

from websockets.asyncio.server import serve
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Request,
    TextMessage,
)


async def websockets_main(mode: str) -> None:
    async def handler(ws) -> None:
        async for msg in ws:
            pong = await ws.ping(b"are you there")
            await asyncio.wait_for(pong, 10)
            if mode == "corrupt" and len(msg) > 0:
                if isinstance(msg, str):
                    msg = chr(ord(msg[0]) ^ 1) + msg[1:]
                else:
                    msg = bytes([msg[0] ^ 1]) + msg[1:]
            await ws.send(msg)

    def process_request(connection, request):
        if mode == "reject":
            return connection.respond(HTTPStatus.FORBIDDEN, "go away\n")
        return None

    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(
        handler,
        "127.0.0.1",
        0,
        # Accept "chat" when offered, and also clients that offer nothing
        # (the default selection would refuse those).
        select_subprotocol=lambda _conn, offered: "chat" if "chat" in offered else None,
        max_size=None,
        process_request=process_request,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on {port}", flush=True)
        await stop


def wsproto_serve_one(sock: socket.socket) -> None:
    ws = WSConnection(ConnectionType.SERVER)
    parts: list = []
    try:
        while True:
            data = sock.recv(65536)
            ws.receive_data(data or None)
            for event in ws.events():
                if isinstance(event, Request):
                    proto = "chat" if "chat" in event.subprotocols else None
                    sock.sendall(ws.send(AcceptConnection(subprotocol=proto)))
                elif isinstance(event, (TextMessage, BytesMessage)):
                    parts.append(event.data)
                    if event.message_finished:
                        whole = ("" if isinstance(event, TextMessage) else b"").join(parts)
                        parts = []
                        cls = TextMessage if isinstance(event, TextMessage) else BytesMessage
                        sock.sendall(ws.send(cls(data=whole)))
                elif isinstance(event, Ping):
                    sock.sendall(ws.send(event.response()))
                elif isinstance(event, CloseConnection):
                    sock.sendall(ws.send(event.response()))
                    sock.shutdown(socket.SHUT_WR)  # the server closes TCP first
                    return
            if not data:
                return
    finally:
        sock.close()


def wsproto_main() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    print(f"listening on {listener.getsockname()[1]}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        conn, _ = listener.accept()
        conn.settimeout(30)
        threading.Thread(target=wsproto_serve_one, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "websockets"
    if mode == "wsproto":
        wsproto_main()
    elif mode in ("websockets", "corrupt", "reject"):
        asyncio.run(websockets_main(mode))
    else:
        sys.exit(__doc__)
