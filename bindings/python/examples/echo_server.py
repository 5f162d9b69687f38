"""A blocking echo server over a real socket, in the style of wsproto's
documented synchronous server example (written afresh). One connection at a
time; answers pings, echoes messages, answers the close.

    python echo_server.py PORT   (prints "listening on PORT"; PORT 0 = any)
"""

import socket
import sys

from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Message,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.utilities import RemoteProtocolError


def serve_one(sock: socket.socket) -> None:
    ws = WSConnection(ConnectionType.SERVER)
    text_parts: list = []
    while True:
        data = sock.recv(65536)
        try:
            ws.receive_data(data or None)
        except RemoteProtocolError as err:
            print("bad handshake:", err)
            sock.sendall(ws.send(err.event_hint or RejectConnection()))
            return
        out = b""
        for event in ws.events():
            if isinstance(event, Request):
                proto = event.subprotocols[0] if event.subprotocols else None
                out += ws.send(AcceptConnection(subprotocol=proto))
            elif isinstance(event, Message):
                text_parts.append(event.data)
                if event.message_finished:
                    whole = ("" if isinstance(event, TextMessage) else b"").join(text_parts)
                    text_parts.clear()
                    out += ws.send(type(event)(data=whole))
            elif isinstance(event, Ping):
                out += ws.send(event.response())
            elif isinstance(event, CloseConnection):
                print("closed:", int(event.code))
                if ws.state is ConnectionState.REMOTE_CLOSING:
                    out += ws.send(event.response())
        if out:
            sock.sendall(out)
        if not data or ws.state is ConnectionState.CLOSED:
            return


def main() -> None:
    listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
    print("listening on", listener.getsockname()[1], flush=True)
    conn, _ = listener.accept()
    with conn:
        serve_one(conn)
    listener.close()


if __name__ == "__main__":
    main()
