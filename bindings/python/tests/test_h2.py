"""wsproto_c.h2: WebSocket over HTTP/2 (RFC 8441) with a real HTTP/2 stack.

Two in-memory HTTP/2 connections of the Python ``h2`` package (the server
announces SETTINGS_ENABLE_CONNECT_PROTOCOL). The client sends an extended
CONNECT; the field list exactly as h2 delivers it goes to
``ExtendedConnect``; the response fields it returns go back through h2; then
the stream's DATA carries WebSocket frames between wsproto_c's frames-only
server ``Connection`` and the real wsproto's frames-only client
``Connection``, with the permessage-deflate parameters negotiated in the
CONNECT exchange (an independent implementation checks both).
"""

from __future__ import annotations

import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest
import wsproto.connection
import wsproto.events
import wsproto.extensions
from h2.settings import SettingCodes

from wsproto_c.connection import ConnectionState
from wsproto_c.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage
from wsproto_c.extensions import PerMessageDeflate
from wsproto_c.h2 import ExtendedConnect
from wsproto_c.utilities import LocalProtocolError, RemoteProtocolError


def pump(a, b) -> list:
    data = a.data_to_send()
    return b.receive_data(data) if data else []


def h2_pair(encoding=None):
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=encoding))
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding=encoding))
    client.initiate_connection()
    server.initiate_connection()
    server.update_settings({SettingCodes.ENABLE_CONNECT_PROTOCOL: 1})
    pump(client, server)
    pump(server, client)
    pump(client, server)
    pump(server, client)
    assert client.remote_settings.get(SettingCodes.ENABLE_CONNECT_PROTOCOL) == 1
    return client, server


CONNECT = [
    (b":method", b"CONNECT"),
    (b":protocol", b"websocket"),
    (b":scheme", b"https"),
    (b":path", b"/chat?room=1"),
    (b":authority", b"server.example.com"),
    (b"sec-websocket-version", b"13"),
    (b"sec-websocket-protocol", b"chat, superchat"),
    (b"origin", b"https://www.example.com"),
]


def send_request(client, server, fields):
    """The field list of `fields` as h2's server delivers it, and its stream."""
    stream = client.get_next_available_stream_id()
    client.send_headers(stream, fields)
    events = pump(client, server)
    req = next(e for e in events if isinstance(e, h2.events.RequestReceived))
    return stream, list(req.headers)


def test_websocket_over_h2_with_deflate():
    client, server = h2_pair()
    # The client's offer, made by the real wsproto.
    client_pmd = wsproto.extensions.PerMessageDeflate()
    offer = client_pmd.offer()
    offer_value = "permessage-deflate" + ("; " + offer if isinstance(offer, str) and offer else "")
    stream, fields = send_request(client, server, CONNECT + [(b"sec-websocket-extensions", offer_value.encode())])
    assert [n for n, _ in fields[:5]] == [b":method", b":protocol", b":scheme", b":path", b":authority"]

    ws = ExtendedConnect(fields)
    req = ws.request
    assert (req.host, req.target, req.subprotocols) == ("server.example.com", "/chat?room=1", ["chat", "superchat"])
    assert req.extensions == [offer_value]
    assert req.extra_headers == [(b"sec-websocket-version", b"13"), (b"origin", b"https://www.example.com")]
    assert ws.headers == fields

    pmd = PerMessageDeflate()
    response = ws.accept(subprotocol="superchat", extensions=[pmd], extra_headers=[(b"server", b"wsproto_c")])
    assert response[:2] == [(b":status", b"200"), (b"sec-websocket-protocol", b"superchat")]
    assert response[-1] == (b"server", b"wsproto_c")
    assert pmd.enabled() and ws.extensions == [pmd]

    server.send_headers(stream, response)
    resp = next(e for e in pump(server, client) if isinstance(e, h2.events.ResponseReceived))
    got = dict(resp.headers)
    assert got[b":status"] == b"200"
    ext = got[b"sec-websocket-extensions"].decode()
    assert ext.startswith("permessage-deflate")
    client_pmd.finalize(ext)
    assert (client_pmd.client_max_window_bits, client_pmd.server_max_window_bits) == (
        pmd.client_max_window_bits,
        pmd.server_max_window_bits,
    )
    peer = wsproto.connection.Connection(wsproto.connection.ConnectionType.CLIENT, extensions=[client_pmd])

    conn = ws.connection()
    assert conn.state is ConnectionState.OPEN

    def to_server(event) -> list:
        data = peer.send(event)
        if isinstance(event, wsproto.events.Message):
            assert data[0] & 0x40, "the peer compresses"
        client.send_data(stream, data)
        for e in pump(client, server):
            if isinstance(e, h2.events.DataReceived):
                server.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                conn.receive_data(e.data)
        pump(server, client)
        return list(conn.events())

    def to_client(event) -> list:
        data = conn.send(event)
        if isinstance(event, (TextMessage, BytesMessage)):
            assert data[0] & 0x40 and len(data) < len(event.data), "wsproto_c compresses"
        server.send_data(stream, data)
        for e in pump(server, client):
            if isinstance(e, h2.events.DataReceived):
                client.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                peer.receive_data(e.data)
        pump(client, server)
        return list(peer.events())

    text = "WebSocket over HTTP/2, " * 200
    evs = to_server(wsproto.events.TextMessage(data=text))
    assert len(evs) == 1 and isinstance(evs[0], TextMessage) and evs[0].data == text and evs[0].message_finished
    blob = bytes(range(256)) * 64
    evs = to_server(wsproto.events.BytesMessage(data=blob))
    assert [type(e) for e in evs] == [BytesMessage] and evs[0].data == blob
    evs = to_server(wsproto.events.Ping(payload=b"p"))
    assert [type(e) for e in evs] == [Ping]
    got = to_client(evs[0].response())
    assert [(type(e).__name__, e.payload) for e in got] == [("Pong", b"p")]
    for _ in range(2):  # context takeover: the second message uses the first
        got = to_client(TextMessage(data=text))
        assert len(got) == 1 and got[0].data == text
    evs = to_server(wsproto.events.CloseConnection(code=1000, reason="done"))
    assert [(type(e), e.code, e.reason) for e in evs] == [(CloseConnection, 1000, "done")]
    assert conn.state is ConnectionState.REMOTE_CLOSING
    got = to_client(evs[0].response())
    assert [(type(e).__name__, e.code) for e in got] == [("CloseConnection", 1000)]
    assert conn.state is ConnectionState.CLOSED


def test_str_fields_no_deflate_and_trailing_data():
    # h2 with a header_encoding delivers str fields.
    client, server = h2_pair(encoding="utf-8")
    stream, fields = send_request(client, server, CONNECT)
    assert isinstance(fields[0][0], str)
    ws = ExtendedConnect(fields)
    assert ws.request.subprotocols == ["chat", "superchat"]
    pmd = PerMessageDeflate()
    response = ws.accept(extensions=[pmd])
    assert response == [(b":status", b"200")]  # nothing offered, nothing chosen
    assert not pmd.enabled() and ws.extensions == []
    server.send_headers(stream, response)
    assert dict(next(e for e in pump(server, client) if isinstance(e, h2.events.ResponseReceived)).headers) == {
        ":status": "200"
    }
    peer = wsproto.connection.Connection(wsproto.connection.ConnectionType.CLIENT)
    early = peer.send(wsproto.events.TextMessage(data="early")) + peer.send(wsproto.events.Ping(payload=b"x"))
    conn = ws.connection(trailing_data=early)
    evs = list(conn.events())
    assert [(type(e), getattr(e, "data", None)) for e in evs] == [(TextMessage, "early"), (Ping, None)]
    out = conn.send(BytesMessage(data=b"plain"))
    assert out[0] == 0x82 and out[2:] == b"plain"  # uncompressed, unmasked
    peer.receive_data(out + conn.send(Pong(payload=b"x")))
    assert [type(e).__name__ for e in peer.events()] == ["BytesMessage", "Pong"]


def _refused(fields) -> RemoteProtocolError:
    with pytest.raises(RemoteProtocolError) as info:
        ExtendedConnect(fields)
    return info.value


def test_invalid_requests_from_h2():
    client, server = h2_pair()
    # A plain CONNECT (no :protocol), as h2 delivers it.
    _, fields = send_request(client, server, [(b":method", b"CONNECT"), (b":authority", b"server.example.com:443")])
    exc = _refused(fields)
    assert exc.event_hint.status_code == 400 and exc.event_hint.headers == [] and exc.detail
    # An ordinary GET.
    _, fields = send_request(
        client, server, [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/"), (b":authority", b"x")]
    )
    assert _refused(fields).event_hint.status_code == 400
    # No sec-websocket-version: the hint says which version to use.
    _, fields = send_request(client, server, [f for f in CONNECT if f[0] != b"sec-websocket-version"])
    exc = _refused(fields)
    assert exc.event_hint.status_code == 400
    assert exc.event_hint.headers == [(b"sec-websocket-version", b"13")]
    # Another protocol.
    _, fields = send_request(client, server, [(n, b"chat" if n == b":protocol" else v) for n, v in CONNECT])
    assert _refused(fields).event_hint.status_code == 400


def test_invalid_field_lists():
    # Field lists h2 itself would refuse to deliver, handed over directly.
    assert _refused([(b"sec-websocket-version", b"13")] + CONNECT[:5]).event_hint.status_code == 400
    assert _refused(CONNECT + [(b"connection", b"upgrade")]).event_hint.status_code == 400
    assert _refused([(n.upper(), v) for n, v in CONNECT]).event_hint.status_code == 400
    assert _refused(CONNECT + [(b"sec-websocket-protocol", b"a b")]).event_hint.status_code == 400
    # A :path that is not UTF-8 (h2 would deliver it as bytes).
    bad_path = [(n, b"/\xff" if n == b":path" else v) for n, v in CONNECT]
    assert _refused(bad_path).event_hint.status_code == 400


def test_accept_and_connection_misuse():
    ws = ExtendedConnect(CONNECT)
    with pytest.raises(LocalProtocolError):
        ws.connection()  # before accept
    with pytest.raises(LocalProtocolError):
        ws.accept(subprotocol="other")  # not offered
    with pytest.raises(LocalProtocolError):
        ws.accept(extra_headers=[(b":status", b"204")])  # not a regular field
    assert ws.accept(subprotocol="chat")[:2] == [(b":status", b"200"), (b"sec-websocket-protocol", b"chat")]
    with pytest.raises(LocalProtocolError):
        ws.accept()  # twice
    conn = ws.connection()
    with pytest.raises(LocalProtocolError):
        ws.connection()  # twice
    assert conn.state is ConnectionState.OPEN


def test_deflate_parameters_the_server_accepts_with():
    offer = (b"sec-websocket-extensions", b"permessage-deflate; client_max_window_bits; server_max_window_bits=12")
    ws = ExtendedConnect(CONNECT + [offer])
    pmd = PerMessageDeflate(server_no_context_takeover=True)
    fields = dict(ws.accept(extensions=[pmd]))
    value = fields[b"sec-websocket-extensions"].decode()
    assert "server_no_context_takeover" in value and "server_max_window_bits=12" in value
    assert pmd.enabled() and pmd.server_no_context_takeover and pmd.server_max_window_bits == 12
    # The client's side, negotiated by the real wsproto, talks to the connection.
    client_pmd = wsproto.extensions.PerMessageDeflate(server_max_window_bits=12)
    client_pmd.finalize(value)
    peer = wsproto.connection.Connection(wsproto.connection.ConnectionType.CLIENT, extensions=[client_pmd])
    conn = ws.connection()
    for _ in range(3):
        peer.receive_data(conn.send(TextMessage(data="abc" * 500)))
        assert [e.data for e in peer.events()] == ["abc" * 500]
        conn.receive_data(peer.send(wsproto.events.TextMessage(data="xyz" * 500)))
        assert [e.data for e in conn.events()] == ["xyz" * 500]


def test_limits_apply_to_the_connection():
    ws = ExtendedConnect(CONNECT, max_message_size=100)
    ws.accept()
    conn = ws.connection()
    peer = wsproto.connection.Connection(wsproto.connection.ConnectionType.CLIENT)
    conn.receive_data(peer.send(wsproto.events.BytesMessage(data=b"x" * 101)))
    evs = list(conn.events())
    assert [(type(e), e.code) for e in evs] == [(CloseConnection, 1009)]


def test_wsproto_c_client_side():
    # The client side as README.md describes it, with wsproto_c only.
    client, server = h2_pair()
    client_pmd = PerMessageDeflate(client_no_context_takeover=True)
    offer = client_pmd.offer()
    value = "permessage-deflate" + ("; " + offer if isinstance(offer, str) and offer else "")
    stream, fields = send_request(client, server, CONNECT + [(b"sec-websocket-extensions", value.encode())])
    ws = ExtendedConnect(fields)
    server.send_headers(stream, ws.accept(extensions=[PerMessageDeflate()]))
    resp = dict(next(e for e in pump(server, client) if isinstance(e, h2.events.ResponseReceived)).headers)
    assert resp[b":status"] == b"200"
    client_pmd.finalize(resp[b"sec-websocket-extensions"].decode())
    assert client_pmd.enabled() and client_pmd.client_no_context_takeover
    from wsproto_c.connection import Connection, ConnectionType

    peer = Connection(ConnectionType.CLIENT, extensions=[client_pmd])
    conn = ws.connection()
    for _ in range(2):
        data = peer.send(TextMessage(data="hello " * 100))
        assert data[0] & 0x40
        conn.receive_data(data)
        assert [e.data for e in conn.events()] == ["hello " * 100]
        peer.receive_data(conn.send(BytesMessage(data=b"\x00" * 1000)))
        assert [e.data for e in peer.events()] == [b"\x00" * 1000]
