"""In-memory client and server, the flow of wsproto's getting-started guide
(written afresh): handshake, a text message echoed, closing handshake.

This file imports ``wsproto``; the tests run it as is and with the imports
changed to ``wsproto_c``, and both must print the same thing.
"""

from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Message,
    Request,
    TextMessage,
)

client = WSConnection(ConnectionType.CLIENT)
server = WSConnection(ConnectionType.SERVER)

# The client asks to upgrade; the server sees the request and accepts it.
server.receive_data(client.send(Request(host="example.com", target="/echo")))
for event in server.events():
    assert isinstance(event, Request)
    print("server got request for", event.target, "from host", event.host)
    client.receive_data(server.send(AcceptConnection()))
for event in client.events():
    assert isinstance(event, AcceptConnection)
    print("client: connection accepted, state", client.state.name)

# A text message, echoed by the server.
server.receive_data(client.send(TextMessage(data="wsproto says hi")))
for event in server.events():
    if isinstance(event, Message):
        client.receive_data(server.send(TextMessage(data=event.data)))
for event in client.events():
    print("client got echo:", event.data)

# The client closes; the server answers with the event's response().
server.receive_data(client.send(CloseConnection(code=1000, reason="done")))
print("client state after sending close:", client.state.name)
for event in server.events():
    assert isinstance(event, CloseConnection)
    print("server got close", int(event.code), repr(event.reason), "state", server.state.name)
    client.receive_data(server.send(event.response()))
print("server state:", server.state.name)
for event in client.events():
    print("client got close", int(event.code), repr(event.reason))
print("client state:", client.state.name)
assert client.state is ConnectionState.CLOSED and server.state is ConnectionState.CLOSED
