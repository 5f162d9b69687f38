"""A blocking client over a real socket, in the style of wsproto's documented
synchronous client example (written afresh): connect, send a text message
and a ping, print the echo and the pong, close.

    python client.py PORT
"""

import socket
import sys

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    Pong,
    RejectConnection,
    Request,
    TextMessage,
)


def wait_for(sock, ws, kinds):
    """Reads until an event of one of `kinds` arrives; returns it."""
    while True:
        for event in ws.events():
            if isinstance(event, Ping):
                sock.sendall(ws.send(event.response()))
            if isinstance(event, kinds):
                return event
        data = sock.recv(65536)
        ws.receive_data(data or None)


def main() -> None:
    port = int(sys.argv[1])
    sock = socket.create_connection(("127.0.0.1", port))
    ws = WSConnection(ConnectionType.CLIENT)
    sock.sendall(ws.send(Request(host=f"127.0.0.1:{port}", target="/", subprotocols=["echo"])))
    event = wait_for(sock, ws, (AcceptConnection, RejectConnection))
    print("accepted, subprotocol:", event.subprotocol)

    sock.sendall(ws.send(TextMessage(data="hello from the client")))
    print("echo:", wait_for(sock, ws, TextMessage).data)

    sock.sendall(ws.send(Ping(payload=b"are you there")))
    print("pong:", wait_for(sock, ws, Pong).payload)

    sock.sendall(ws.send(CloseConnection(code=1000, reason="bye")))
    event = wait_for(sock, ws, CloseConnection)
    print("closed:", int(event.code), event.reason, ws.state.name)
    sock.close()


if __name__ == "__main__":
    main()
