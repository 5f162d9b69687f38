"""wsproto_c as a drop-in for wsproto: the examples run under both (the only
change being their imports), the public names match, and the documented
behaviours (errors, event_hint, limits) hold.

Run: PYTHONPATH=bindings/python python -m pytest bindings/python/tests
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples"
IMPLS = ["wsproto", "wsproto_c"]


def switched(src: Path, impl: str, tmp_path: Path) -> Path:
    """The example with its imports changed to `impl` (nothing else)."""
    if impl == "wsproto":
        return src
    text = src.read_text()
    new = re.sub(r"^(from|import) wsproto\b", r"\1 wsproto_c", text, flags=re.M)
    assert new != text
    out = tmp_path / src.name
    out.write_text(new)
    return out


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(HERE.parent) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def run(path: Path, *args: str, timeout: float = 30) -> str:
    res = subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, env=env(), timeout=timeout)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_quickstart_same_output(tmp_path):
    outputs = {impl: run(switched(EXAMPLES / "quickstart.py", impl, tmp_path)) for impl in IMPLS}
    assert outputs["wsproto"] == outputs["wsproto_c"]
    assert "client got echo: wsproto says hi" in outputs["wsproto_c"]
    assert outputs["wsproto_c"].rstrip().endswith("client state: CLOSED")


@pytest.mark.parametrize("server_impl", IMPLS)
@pytest.mark.parametrize("client_impl", IMPLS)
def test_socket_examples(tmp_path, server_impl, client_impl):
    """The socket echo server and client, each under either package, over
    real loopback TCP."""
    sdir = tmp_path / "s"
    cdir = tmp_path / "c"
    sdir.mkdir()
    cdir.mkdir()
    server = subprocess.Popen(
        [sys.executable, str(switched(EXAMPLES / "echo_server.py", server_impl, sdir)), "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )
    try:
        line = server.stdout.readline()
        assert line.startswith("listening on"), line + server.stderr.read()
        port = line.split()[-1]
        out = run(switched(EXAMPLES / "client.py", client_impl, cdir), port)
        assert out.splitlines() == [
            "accepted, subprotocol: echo",
            "echo: hello from the client",
            "pong: b'are you there'",
            "closed: 1000 bye CLOSED",
        ]
        sout, serr = server.communicate(timeout=30)
        assert server.returncode == 0, serr
        assert "closed: 1000" in sout
    finally:
        if server.poll() is None:
            server.kill()


# -- API surface -------------------------------------------------------------

MODULE_NAMES = {
    "": ["WSConnection", "ConnectionType", "ConnectionState", "Connection"],
    ".connection": ["Connection", "ConnectionState", "ConnectionType", "CLIENT", "SERVER"],
    ".events": [
        "Event",
        "Request",
        "AcceptConnection",
        "RejectConnection",
        "RejectData",
        "CloseConnection",
        "Message",
        "TextMessage",
        "BytesMessage",
        "Ping",
        "Pong",
    ],
    ".extensions": ["Extension", "PerMessageDeflate", "SUPPORTED_EXTENSIONS"],
    ".frame_protocol": ["Opcode", "CloseReason"],
    ".utilities": [
        "ACCEPT_GUID",
        "LocalProtocolError",
        "RemoteProtocolError",
        "ProtocolError",
        "generate_nonce",
        "generate_accept_token",
        "split_comma_header",
        "normed_header_dict",
    ],
    ".typing": ["Headers"],
}


@pytest.mark.parametrize("sub", list(MODULE_NAMES))
def test_public_names(sub):
    for impl in IMPLS:
        mod = importlib.import_module(impl + sub)
        for name in MODULE_NAMES[sub]:
            assert hasattr(mod, name), f"{impl}{sub}.{name}"


def test_enums_and_event_fields_match():
    import dataclasses

    import wsproto.connection as wc
    import wsproto.events as we
    import wsproto.frame_protocol as wf

    import wsproto_c.connection as cc
    import wsproto_c.events as ce
    import wsproto_c.frame_protocol as cf

    for a, b in [
        (wc.ConnectionState, cc.ConnectionState),
        (wc.ConnectionType, cc.ConnectionType),
        (wf.Opcode, cf.Opcode),
        (wf.CloseReason, cf.CloseReason),
    ]:
        assert [(m.name, m.value) for m in a] == [(m.name, m.value) for m in b]
    for name in MODULE_NAMES[".events"]:
        a, b = getattr(we, name), getattr(ce, name)
        if dataclasses.is_dataclass(a):
            fa = [(f.name, f.default) for f in dataclasses.fields(a)]
            fb = [(f.name, f.default) for f in dataclasses.fields(b)]
            assert fa == fb, name


def test_utilities_match():
    import wsproto.utilities as wu

    import wsproto_c.utilities as cu

    key = b"dGhlIHNhbXBsZSBub25jZQ=="
    assert cu.generate_accept_token(key) == wu.generate_accept_token(key) == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert len(cu.generate_nonce()) == 24
    assert cu.split_comma_header(b"a, b ,c") == wu.split_comma_header(b"a, b ,c")
    hs = [(b"a", b"1"), (b"b", b"2"), (b"a", b"3")]
    assert cu.normed_header_dict(hs) == wu.normed_header_dict(hs)


def test_permessage_deflate_object_matches():
    from wsproto.extensions import PerMessageDeflate as W

    from wsproto_c.extensions import PerMessageDeflate as C

    for kw in [{}, {"client_no_context_takeover": True, "server_max_window_bits": 10}]:
        w, c = W(**kw), C(**kw)
        assert w.offer() == c.offer() and repr(w) == repr(c)
        for offer in [
            "permessage-deflate",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; server_max_window_bits=12; client_no_context_takeover",
        ]:
            w, c = W(**kw), C(**kw)
            assert w.accept(offer) == c.accept(offer) and repr(w) == repr(c)
        for response in [
            "permessage-deflate",
            "permessage-deflate; server_max_window_bits=12; client_no_context_takeover",
        ]:
            w, c = W(**kw), C(**kw)
            w.finalize(response)
            c.finalize(response)
            assert repr(w) == repr(c) and w.enabled() == c.enabled()
    with pytest.raises(ValueError):
        C(client_max_window_bits=8)


# -- errors and limits --------------------------------------------------------


@pytest.fixture(params=IMPLS)
def ws(request):
    return importlib.import_module(request.param)


def open_pair(ws):
    ev = importlib.import_module(ws.__name__ + ".events")
    client = ws.WSConnection(ws.ConnectionType.CLIENT)
    server = ws.WSConnection(ws.ConnectionType.SERVER)
    server.receive_data(client.send(ev.Request(host="h", target="/")))
    assert isinstance(next(server.events()), ev.Request)
    client.receive_data(server.send(ev.AcceptConnection()))
    assert isinstance(next(client.events()), ev.AcceptConnection)
    return client, server, ev


def test_local_protocol_errors(ws):
    ev = importlib.import_module(ws.__name__ + ".events")
    util = importlib.import_module(ws.__name__ + ".utilities")
    client = ws.WSConnection(ws.ConnectionType.CLIENT)
    with pytest.raises(util.LocalProtocolError):
        client.send(ev.TextMessage(data="too early"))
    client, server, ev = open_pair(ws)
    with pytest.raises(ValueError):
        client.send(ev.Ping(payload=b"x" * 126))
    with pytest.raises(TypeError):
        client.send(ev.TextMessage(data="a", message_finished=False))
        client.send(ev.BytesMessage(data=b"b"))
    server.receive_data(client.send(ev.CloseConnection(code=1000)))
    with pytest.raises(util.LocalProtocolError):
        client.send(ev.TextMessage(data="after close"))
    list(server.events())
    client.receive_data(server.send(ev.CloseConnection(code=1000)))
    list(client.events())
    assert client.state.name == "CLOSED"
    with pytest.raises(util.LocalProtocolError):
        client.receive_data(b"x")


def test_remote_protocol_error_hint(ws):
    util = importlib.import_module(ws.__name__ + ".utilities")
    ev = importlib.import_module(ws.__name__ + ".events")
    server = ws.WSConnection(ws.ConnectionType.SERVER)
    with pytest.raises(util.RemoteProtocolError) as info:
        server.receive_data(
            b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n\r\n"
        )
    hint = info.value.event_hint
    assert isinstance(hint, ev.RejectConnection) and hint.status_code == 426
    out = server.send(hint)
    assert out.startswith(b"HTTP/1.1 426") and b"sec-websocket-version: 13" in out.lower()
    assert server.state.name == "CLOSED"


def test_initiate_upgrade_connection(ws):
    ev = importlib.import_module(ws.__name__ + ".events")
    server = ws.WSConnection(ws.ConnectionType.SERVER)
    server.initiate_upgrade_connection(
        [
            (b"Host", b"example.com"),
            (b"Upgrade", b"websocket"),
            (b"Connection", b"Upgrade"),
            (b"Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="),
            (b"Sec-WebSocket-Version", b"13"),
            (b"Sec-WebSocket-Protocol", b"chat"),
        ],
        "/path?x=1",
    )
    req = next(server.events())
    assert isinstance(req, ev.Request) and req.target == "/path?x=1" and req.subprotocols == ["chat"]
    out = server.send(ev.AcceptConnection(subprotocol="chat"))
    assert b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in out and server.state.name == "OPEN"


_UPGRADE = [
    (b"Host", b"example.com"),
    (b"Upgrade", b"websocket"),
    (b"Connection", b"Upgrade"),
    (b"Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="),
    (b"Sec-WebSocket-Version", b"13"),
]


def _without(name: bytes) -> list:
    return [h for h in _UPGRADE if h[0] != name]


# (name, headers, path, answer, difference): the same pre-parsed request
# given to both packages' initiate_upgrade_connection, then answered.
_PREPARSED = [
    ("plain", _UPGRADE, "/chat", None, None),
    ("str-headers-bytes-path", [(n.decode(), v.decode()) for n, v in _UPGRADE], b"/q?a=1", None, None),
    (
        "subprotocols-extra-headers",
        _UPGRADE + [(b"Sec-WebSocket-Protocol", b"a, b"), (b"Origin", b"http://x"), (b"X-Multi", b"1")],
        "/",
        {"subprotocol": "b", "extra_headers": [(b"Set-Cookie", b"s=1")]},
        None,
    ),
    (
        "deflate-accepted",
        _UPGRADE + [(b"Sec-WebSocket-Extensions", b"permessage-deflate; client_no_context_takeover")],
        "/",
        {"deflate": {}},
        None,
    ),
    ("deflate-not-offered", _UPGRADE, "/", {"deflate": {}}, None),
    ("reject", _UPGRADE, "/", "reject", None),
    ("missing-key", _without(b"Sec-WebSocket-Key"), "/", None, None),
    ("missing-upgrade", _without(b"Upgrade"), "/", None, None),
    ("missing-connection", _without(b"Connection"), "/", None, None),
    ("version-8", _without(b"Sec-WebSocket-Version") + [(b"Sec-WebSocket-Version", b"8")], "/", None, None),
    # docs/wsproto-differences.md, D8: 426 rather than 400.
    ("missing-version", _without(b"Sec-WebSocket-Version"), "/", None, "D8"),
    # A request the caller cannot write as HTTP/1.1: LocalProtocolError in
    # both (wsproto's comes from h11).
    ("target-with-space", _UPGRADE, "/a b", None, None),
    ("bad-header-name", [(b"Bad Name", b"x")] + _UPGRADE, "/", None, None),
    ("header-value-with-crlf", _UPGRADE + [(b"X", b"a\r\nb")], "/", None, None),
    # docs/wsproto-differences.md, D19: a request that claims a body.
    ("content-length-5", _UPGRADE + [(b"Content-Length", b"5")], "/", None, "D19"),
    ("transfer-encoding-chunked", _UPGRADE + [(b"Transfer-Encoding", b"chunked")], "/", None, "D19"),
    ("content-length-0", _UPGRADE + [(b"Content-Length", b"0")], "/", None, None),
    # Missing Host: wsproto raises h11's LocalProtocolError (h11 will not
    # write an HTTP/1.1 request without Host); wsproto_c treats it as the
    # peer's bad request, as receive_data does (API difference, see docs).
    ("missing-host", _without(b"Host"), "/", None, "host"),
]


def _preparsed_run(ws, headers, path, answer):
    ev = importlib.import_module(ws.__name__ + ".events")
    ext = importlib.import_module(ws.__name__ + ".extensions")
    server = ws.WSConnection(ws.ConnectionType.SERVER)
    try:
        server.initiate_upgrade_connection(headers, path)
    except Exception as exc:  # noqa: BLE001
        hint = getattr(exc, "event_hint", None)
        return [("exc", type(exc).__name__, hint and (hint.status_code, hint.headers))]
    log = [("ev", repr(e)) for e in server.events()] + [("state", server.state.name)]
    if answer == "reject":
        out = server.send(ev.RejectConnection(status_code=403, headers=[(b"X-Why", b"no")]))
        log.append(("reject", out.split(b"\r\n")[0].split(b" ")[1], b"x-why: no" in out.lower()))
    else:
        kw = dict(answer or {})
        deflate = kw.pop("deflate", None)
        exts = [ext.PerMessageDeflate(**deflate)] if deflate is not None else []
        out = server.send(ev.AcceptConnection(extensions=exts, **kw))
        head = out.split(b"\r\n\r\n")[0].split(b"\r\n")
        log.append(("accept", head[0].split(b" ")[1], sorted(h.lower() for h in head[1:])))
        if exts:
            log.append(("enabled", exts[0].enabled()))
        log.append(("text", server.send(ev.TextMessage(data="hello " * 20))))
    log.append(("state", server.state.name))
    return log


@pytest.mark.parametrize("name,headers,path,answer,difference", _PREPARSED, ids=[c[0] for c in _PREPARSED])
def test_initiate_upgrade_connection_matches_wsproto(name, headers, path, answer, difference):
    import wsproto
    import wsproto_c

    a = _preparsed_run(wsproto, headers, path, answer)
    b = _preparsed_run(wsproto_c, headers, path, answer)
    if difference is None:
        assert a == b
    elif difference == "D8":
        assert a == [("exc", "RemoteProtocolError", (400, [(b"Sec-WebSocket-Version", b"13")]))]
        assert b == [("exc", "RemoteProtocolError", (426, [(b"Sec-WebSocket-Version", b"13")]))]
    elif difference == "D19":
        assert a[0][1].startswith("Request(") and a[-1] == ("state", "OPEN")
        assert b == [("exc", "RemoteProtocolError", (400, []))]
    else:
        assert a == [("exc", "LocalProtocolError", None)]
        assert b == [("exc", "RemoteProtocolError", (400, []))]


def test_initiate_upgrade_connection_wrong_state():
    import wsproto_c

    client = wsproto_c.WSConnection(wsproto_c.ConnectionType.CLIENT)
    with pytest.raises(wsproto_c.utilities.LocalProtocolError):
        client.initiate_upgrade_connection(_UPGRADE, "/")
    server = wsproto_c.WSConnection(wsproto_c.ConnectionType.SERVER)
    server.receive_data(b"GET / HTTP/1.1\r\n")
    with pytest.raises(wsproto_c.utilities.LocalProtocolError):
        server.initiate_upgrade_connection(_UPGRADE, "/")


def test_frames_only_connection(ws):
    conn_mod = importlib.import_module(ws.__name__ + ".connection")
    ev = importlib.import_module(ws.__name__ + ".events")
    a = conn_mod.Connection(conn_mod.ConnectionType.CLIENT)
    b = conn_mod.Connection(conn_mod.ConnectionType.SERVER, trailing_data=b"\x81\x85\x00\x00\x00\x00early")
    assert [e.data for e in b.events()] == ["early"]
    b.receive_data(a.send(ev.BytesMessage(data=b"\x00\x01")))
    assert [e.data for e in b.events()] == [b"\x00\x01"]
    assert a.state.name == "OPEN"


def test_engine_limits_are_wsproto_style_errors():
    """wsproto has no size limits; wsproto_c keeps the engine's (16 MiB by
    default, settable): too big a message is a CloseConnection(1009) event,
    like any other violation; too big a handshake is a RemoteProtocolError
    whose hint is a 431 rejection."""
    import wsproto_c
    from wsproto_c.events import AcceptConnection, BytesMessage, CloseConnection, Request
    from wsproto_c.utilities import RemoteProtocolError

    client = wsproto_c.WSConnection(wsproto_c.ConnectionType.CLIENT)
    server = wsproto_c.WSConnection(wsproto_c.ConnectionType.SERVER, max_message_size=1000)
    server.receive_data(client.send(Request(host="h", target="/")))
    list(server.events())
    client.receive_data(server.send(AcceptConnection()))
    list(client.events())
    server.receive_data(client.send(BytesMessage(data=b"x" * 1001)))
    events = list(server.events())
    assert isinstance(events[-1], CloseConnection) and events[-1].code == 1009
    assert server.state.name == "OPEN"  # as in wsproto: the application answers
    out = server.send(events[-1].response())
    assert out[:4] == b"\x88\x1d\x03\xf1" or out[2:4] == b"\x03\xf1"
    assert server.state.name == "LOCAL_CLOSING"

    server = wsproto_c.WSConnection(wsproto_c.ConnectionType.SERVER, max_handshake_size=100)
    with pytest.raises(RemoteProtocolError) as info:
        server.receive_data(b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * 200 + b"\r\n\r\n")
    assert info.value.event_hint.status_code == 431


def test_deflate_round_trip_between_packages():
    """A wsproto_c client and a wsproto server (and back) negotiate
    permessage-deflate and exchange compressed messages."""
    import wsproto
    import wsproto.events as we
    import wsproto.extensions as wx

    import wsproto_c
    import wsproto_c.events as ce
    import wsproto_c.extensions as cx

    for cmod, cev, cext, smod, sev, sext in [
        (wsproto_c, ce, cx, wsproto, we, wx),
        (wsproto, we, wx, wsproto_c, ce, cx),
    ]:
        client = cmod.WSConnection(cmod.ConnectionType.CLIENT)
        server = smod.WSConnection(smod.ConnectionType.SERVER)
        server.receive_data(client.send(cev.Request(host="h", target="/", extensions=[cext.PerMessageDeflate()])))
        req = next(server.events())
        assert any(e.startswith("permessage-deflate") for e in req.extensions)
        client.receive_data(server.send(sev.AcceptConnection(extensions=[sext.PerMessageDeflate()])))
        acc = next(client.events())
        assert acc.extensions and acc.extensions[0].enabled()
        msg = "compress me " * 100
        data = client.send(cev.TextMessage(data=msg))
        assert data[0] & 0x40 and len(data) < 200
        server.receive_data(data)
        assert "".join(e.data for e in server.events()) == msg
        client.receive_data(server.send(sev.TextMessage(data=msg)))
        assert "".join(e.data for e in client.events()) == msg
