"""WebSocket over HTTP/2 (RFC 8441) with a real HTTP/2 library on both ends.

Usage: test_h2_connect.py BUILD_DIR

Two in-memory HTTP/2 connections from the Python `h2` package: a client that
sends an extended CONNECT and a server (SETTINGS_ENABLE_CONNECT_PROTOCOL = 1)
whose request fields, exactly as h2 delivers them, go to the library's
ws_h2_connect_* calls (through ctypes). The response fields the library
produces are sent back by h2. Then the stream's DATA carries WebSocket frames
between the library's frames-only server connection (ws_h2_connect_new_conn)
and Python wsproto's frames-only client Connection, with the
permessage-deflate parameters negotiated in the CONNECT exchange: an
independent implementation checks both the negotiation and the frames.
"""

from __future__ import annotations

import ctypes as C
import os
import re
import sys

import h2.config
import h2.connection
import h2.events
from h2.settings import SettingCodes
from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, TextMessage, BytesMessage
from wsproto.extensions import PerMessageDeflate

from common import Results

# ---- the C ABI, as declared in include/wsproto.h ---------------------------


class Str(C.Structure):
    _fields_ = [("ptr", C.c_void_p), ("len", C.c_size_t)]

    def bytes(self) -> bytes:
        return C.string_at(self.ptr, self.len) if self.len else b""


class Header(C.Structure):
    _fields_ = [("name", Str), ("value", Str)]


class Event(C.Structure):
    _fields_ = [
        ("type", C.c_uint32), ("flags", C.c_uint32), ("code", C.c_uint16),
        ("data", C.c_void_p), ("len", C.c_size_t),
        ("target", Str), ("host", Str), ("subprotocol", Str), ("extensions", Str),
        ("subprotocols", C.POINTER(Str)), ("subprotocols_len", C.c_size_t),
        ("headers", C.POINTER(Header)), ("headers_len", C.c_size_t),
    ]


class DeflateParams(C.Structure):
    _fields_ = [
        ("server_no_context_takeover", C.c_bool), ("client_no_context_takeover", C.c_bool),
        ("server_max_window_bits", C.c_uint8), ("client_max_window_bits", C.c_uint8),
    ]


WS_OK, WS_ERR_HANDSHAKE = 0, None  # WS_ERR_HANDSHAKE is looked up below
WS_EVENT_REQUEST, WS_EVENT_TEXT, WS_EVENT_BINARY, WS_EVENT_CLOSE = 1, 5, 6, 9


def library_path(build: str) -> str:
    cache = open(os.path.join(build, "CMakeCache.txt")).read()
    target = re.search(r"^WSPROTO_CARGO_TARGET_DIR:PATH=(.*)$", cache, re.M).group(1)
    btype = re.search(r"^CMAKE_BUILD_TYPE:STRING=(.*)$", cache, re.M).group(1)
    return os.path.join(target, "debug" if btype == "Debug" else "release", "libwsproto.so")


def load(path: str) -> C.CDLL:
    lib = C.CDLL(path)
    P = C.c_void_p
    sig = {
        "ws_config_new": ([], P),
        "ws_config_free": ([P], None),
        "ws_config_set_deflate_accept": ([P, C.c_uint8, C.c_bool, C.c_bool], C.c_uint32),
        "ws_h2_connect_new": ([P, C.POINTER(P)], C.c_uint32),
        "ws_h2_connect_free": ([P], None),
        "ws_h2_connect_receive": ([P, C.POINTER(Header), C.c_size_t], C.c_uint32),
        "ws_h2_connect_status_hint": ([P], C.c_uint16),
        "ws_h2_connect_last_error": ([P], C.c_char_p),
        "ws_h2_connect_request": ([P, C.POINTER(Event)], C.c_uint32),
        "ws_h2_connect_accept": ([P, C.c_char_p, C.c_size_t, C.POINTER(Header), C.c_size_t,
                                  C.POINTER(C.POINTER(Header)), C.POINTER(C.c_size_t)], C.c_uint32),
        "ws_h2_connect_deflate_params": ([P, C.POINTER(DeflateParams)], C.c_bool),
        "ws_h2_connect_new_conn": ([P, P, C.c_char_p, C.c_size_t, C.POINTER(P)], C.c_uint32),
        "ws_conn_free": ([P], None),
        "ws_conn_receive": ([P, C.c_char_p, C.c_size_t], C.c_uint32),
        "ws_conn_poll_event": ([P, C.POINTER(Event)], C.c_uint32),
        "ws_conn_send_text": ([P, C.c_char_p, C.c_size_t, C.c_uint32], C.c_uint32),
        "ws_conn_send_binary": ([P, C.c_char_p, C.c_size_t, C.c_uint32], C.c_uint32),
        "ws_conn_output_len": ([P], C.c_size_t),
        "ws_conn_output_copy": ([P, C.c_char_p, C.c_size_t, C.POINTER(C.c_size_t)], C.c_uint32),
        "ws_conn_wants_close_transport": ([P], C.c_bool),
        "ws_result_str": ([C.c_uint32], C.c_char_p),
    }
    for name, (args, res) in sig.items():
        f = getattr(lib, name)
        f.argtypes, f.restype = args, res
    return lib


def header_array(fields: list[tuple[bytes, bytes]]):
    arr = (Header * max(len(fields), 1))()
    keep = []
    for i, (n, v) in enumerate(fields):
        bn, bv = C.create_string_buffer(n, len(n) or 1), C.create_string_buffer(v, len(v) or 1)
        keep += [bn, bv]
        arr[i] = Header(Str(C.cast(bn, C.c_void_p), len(n)), Str(C.cast(bv, C.c_void_p), len(v)))
    return arr, keep


def take_output(lib, conn) -> bytes:
    n = lib.ws_conn_output_len(conn)
    buf = C.create_string_buffer(max(n, 1))
    got = C.c_size_t()
    assert lib.ws_conn_output_copy(conn, buf, n, C.byref(got)) == WS_OK
    return buf.raw[: got.value]


# ---- HTTP/2 in memory ---------------------------------------------------------


def h2_pair():
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding=None))
    server.local_settings = h2.settings.Settings(client=False, initial_values={
        SettingCodes.ENABLE_CONNECT_PROTOCOL: 1,
    })
    client.initiate_connection()
    server.initiate_connection()
    server.update_settings({SettingCodes.ENABLE_CONNECT_PROTOCOL: 1})
    events = pump(client, server)
    events += pump(server, client)
    events += pump(client, server)
    return client, server


def pump(a, b) -> list:
    data = a.data_to_send()
    return b.receive_data(data) if data else []


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


def run(lib, r: Results) -> None:
    global WS_ERR_HANDSHAKE
    header = open("include/wsproto.h").read()
    WS_ERR_HANDSHAKE = int(re.search(r"WS_ERR_HANDSHAKE = (\d+)", header).group(1))

    client, server = h2_pair()
    r.check("h2 server allows extended CONNECT",
            client.remote_settings.get(SettingCodes.ENABLE_CONNECT_PROTOCOL) == 1)

    # The client's offer, made by wsproto itself.
    pmd = PerMessageDeflate(client_max_window_bits=PerMessageDeflate.DEFAULT_CLIENT_MAX_WINDOW_BITS)
    offer = pmd.offer()
    offer_value = "permessage-deflate" + ("; " + offer if isinstance(offer, str) and offer else "")
    stream = client.get_next_available_stream_id()
    client.send_headers(stream, CONNECT + [(b"sec-websocket-extensions", offer_value.encode())])
    events = pump(client, server)
    req = next((e for e in events if isinstance(e, h2.events.RequestReceived)), None)
    r.check("h2 delivers the extended CONNECT", req is not None, str(events))
    fields = list(req.headers)
    r.check("pseudo-headers first, lowercase names",
            [n for n, _ in fields[:5]] == [b":method", b":protocol", b":scheme", b":path", b":authority"]
            and all(n == n.lower() for n, _ in fields), str(fields))

    cfg = lib.ws_config_new()
    assert lib.ws_config_set_deflate_accept(cfg, 11, False, False) == WS_OK
    h = C.c_void_p()
    assert lib.ws_h2_connect_new(cfg, C.byref(h)) == WS_OK
    arr, keep = header_array(fields)
    rc = lib.ws_h2_connect_receive(h, arr, len(fields))
    r.equal("ws_h2_connect_receive accepts h2's field list", (rc, lib.ws_h2_connect_last_error(h)), (WS_OK, b""))
    ev = Event()
    assert lib.ws_h2_connect_request(h, C.byref(ev)) == WS_OK
    subs = [ev.subprotocols[i].bytes() for i in range(ev.subprotocols_len)]
    r.equal("request view", (ev.type, ev.target.bytes(), ev.host.bytes(), subs),
            (WS_EVENT_REQUEST, b"/chat?room=1", b"server.example.com", [b"chat", b"superchat"]))

    out = C.POINTER(Header)()
    n = C.c_size_t()
    extra, keep2 = header_array([(b"server", b"wsproto-interop")])
    assert lib.ws_h2_connect_accept(h, b"superchat", 9, extra, 1, C.byref(out), C.byref(n)) == WS_OK
    response = [(out[i].name.bytes(), out[i].value.bytes()) for i in range(n.value)]
    r.equal("response starts with :status 200", response[:2],
            [(b":status", b"200"), (b"sec-websocket-protocol", b"superchat")])
    server.send_headers(req.stream_id, response)
    events = pump(server, client)
    resp = next((e for e in events if isinstance(e, h2.events.ResponseReceived)), None)
    r.check("h2 client receives the response", resp is not None, str(events))
    got = dict(resp.headers)
    r.equal("status 200 through h2", got.get(b":status"), b"200")
    ext = got.get(b"sec-websocket-extensions", b"").decode()
    r.check("permessage-deflate negotiated", ext.startswith("permessage-deflate"), ext)

    # wsproto's client finalizes the same parameters from the response value.
    pmd.finalize(ext)
    params = DeflateParams()
    r.check("library reports deflate", lib.ws_h2_connect_deflate_params(h, C.byref(params)))
    r.equal("windows agree", (params.client_max_window_bits, params.server_max_window_bits),
            (pmd.client_max_window_bits, pmd.server_max_window_bits))
    ws_client = Connection(ConnectionType.CLIENT, extensions=[pmd])

    conn = C.c_void_p()
    assert lib.ws_h2_connect_new_conn(h, cfg, None, 0, C.byref(conn)) == WS_OK
    lib.ws_h2_connect_free(h)
    lib.ws_config_free(cfg)

    def c_to_py() -> list:
        data = take_output(lib, conn)
        if data:
            server.send_data(req.stream_id, data)
        events = pump(server, client)
        for e in events:
            if isinstance(e, h2.events.DataReceived):
                client.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                ws_client.receive_data(e.data)
        pump(client, server)
        return list(ws_client.events())

    def py_to_c(event) -> list:
        data = ws_client.send(event)
        if not isinstance(event, CloseConnection):
            r.check("wsproto's frames are compressed", (data[0] & 0x40) == 0x40)
        client.send_data(stream, data)
        got = []
        for e in pump(client, server):
            if isinstance(e, h2.events.DataReceived):
                server.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                assert lib.ws_conn_receive(conn, e.data, len(e.data)) == WS_OK
        pump(server, client)
        ev = Event()
        while lib.ws_conn_poll_event(conn, C.byref(ev)) == WS_OK and ev.type != 0:
            got.append((ev.type, C.string_at(ev.data, ev.len) if ev.len else b"", ev.code))
        return got

    text = "WebSocket over HTTP/2, " * 200
    r.equal("wsproto -> library: text", py_to_c(TextMessage(data=text)), [(WS_EVENT_TEXT, text.encode(), 0)])
    blob = bytes(range(256)) * 64
    r.equal("wsproto -> library: binary", py_to_c(BytesMessage(data=blob)), [(WS_EVENT_BINARY, blob, 0)])
    assert lib.ws_conn_send_text(conn, text.encode(), len(text), 0) == WS_OK
    first = lib.ws_conn_output_len(conn)
    evs = c_to_py()
    r.check("library's frames are compressed", 0 < first < len(text), str(first))
    r.check("library -> wsproto: text", len(evs) == 1 and isinstance(evs[0], TextMessage) and evs[0].data == text,
            str(evs)[:200])
    got = py_to_c(CloseConnection(code=1000))
    r.equal("close reaches the library", [(t, c) for t, _, c in got], [(WS_EVENT_CLOSE, 1000)])
    evs = c_to_py()
    r.check("library's close reply reaches wsproto",
            len(evs) == 1 and isinstance(evs[0], CloseConnection) and evs[0].code == 1000, str(evs))
    r.check("closing handshake done", lib.ws_conn_wants_close_transport(conn))
    lib.ws_conn_free(conn)

    # A plain CONNECT (no :protocol), as h2 delivers it, is refused with 400.
    stream2 = client.get_next_available_stream_id()
    client.send_headers(stream2, [(b":method", b"CONNECT"), (b":authority", b"server.example.com:443")])
    req2 = next(e for e in pump(client, server) if isinstance(e, h2.events.RequestReceived))
    h = C.c_void_p()
    assert lib.ws_h2_connect_new(None, C.byref(h)) == WS_OK
    arr, keep = header_array(list(req2.headers))
    rc = lib.ws_h2_connect_receive(h, arr, len(req2.headers))
    r.equal("plain CONNECT refused", (rc, lib.ws_h2_connect_status_hint(h)), (WS_ERR_HANDSHAKE, 400))
    lib.ws_h2_connect_free(h)


if __name__ == "__main__":
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
    results = Results("interop h2-connect")
    try:
        run(load(library_path(build)), results)
    except Exception as e:
        import traceback
        traceback.print_exc()
        results.check("ran to completion", False, f"{type(e).__name__}: {e}")
    sys.exit(results.summary())
