"""WebSocket over HTTP/2 (RFC 8441) and HTTP/3 (RFC 9220): the server side
of an extended CONNECT, for programs that run their own HTTP/2 or HTTP/3
stack (for example the ``h2`` package). Not part of wsproto's API.

The HTTP/2 library parses the HEADERS frame; :class:`ExtendedConnect` takes
the decoded field list, validates it with the engine (``ws_h2_connect_*`` in
include/wsproto.h), negotiates the subprotocol and permessage-deflate, gives
the response fields to send back (``:status`` 200 first) and then a
frames-only server :class:`~wsproto_c.connection.Connection` for the
stream's DATA::

    # h2 event: RequestReceived(stream_id, headers)
    try:
        ws = ExtendedConnect(event.headers)
    except RemoteProtocolError as exc:
        h2conn.send_headers(event.stream_id, [(b":status", str(exc.event_hint.status_code).encode())]
                            + exc.event_hint.headers, end_stream=True)
    else:
        fields = ws.accept(subprotocol=..., extensions=[PerMessageDeflate()])
        h2conn.send_headers(event.stream_id, fields)
        conn = ws.connection()  # DATA in: conn.receive_data(...); out: h2conn.send_data(...)

Your HTTP/2 stack must announce SETTINGS_ENABLE_CONNECT_PROTOCOL = 1
(RFC 8441 §3) for clients to send such requests.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable, Sequence
from ctypes import byref, c_size_t, c_void_p
from typing import Any

from . import _ffi as F
from ._core import _Config, _Core, _headers_array, _str
from .connection import Connection
from .connection_state import ConnectionType
from .events import RejectConnection, Request
from .extensions import Extension, PerMessageDeflate
from .utilities import LocalProtocolError, RemoteProtocolError, split_comma_header

__all__ = ["ExtendedConnect"]

_lib = F.lib
_OMIT = frozenset((b"sec-websocket-extensions", b"sec-websocket-protocol"))


def _field(value: Any) -> bytes:
    # h2 delivers bytes, or str with a header_encoding (UTF-8 as a rule).
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


class _Handle:
    """One ws_h2_connect_t, freed with the object."""

    def __init__(self, cfg) -> None:
        self.h = c_void_p()
        r = _lib.ws_h2_connect_new(cfg, byref(self.h))
        if r != F.WS_OK:
            raise MemoryError(f"ws_h2_connect_new: {_lib.ws_result_str(r).decode()}")

    def error(self) -> str:
        return (_lib.ws_h2_connect_last_error(self.h) or b"").decode("utf-8", "replace")

    def __del__(self) -> None:
        try:
            if self.h:
                _lib.ws_h2_connect_free(self.h)
                self.h = c_void_p()
        except Exception:  # interpreter shutdown
            pass


class ExtendedConnect:
    """One WebSocket extended CONNECT request received on an HTTP/2 or
    HTTP/3 stream.

    ``headers``: the request's decoded field list exactly as the HTTP
    library delivers it, (name, value) pairs of bytes (or str, taken as
    UTF-8), pseudo-header fields first. The engine checks ``:method``
    CONNECT, ``:protocol`` websocket, ``:scheme``, ``:path``,
    ``:authority``, ``sec-websocket-version: 13``, the subprotocol list and
    the HTTP/2 field rules (lowercase names, no connection-specific fields).
    An invalid request raises :class:`RemoteProtocolError` whose
    ``event_hint`` is the ``RejectConnection`` to answer the stream with
    (400, plus ``sec-websocket-version: 13`` when the version was the
    problem); the engine's message is in its ``detail`` attribute.

    Keyword-only limits for the connection made by :meth:`connection`:
    ``max_frame_size`` and ``max_message_size`` in bytes (default 16 MiB).
    """

    def __init__(
        self,
        headers: Iterable[tuple[Any, Any]],
        *,
        max_frame_size: int | None = None,
        max_message_size: int | None = None,
    ) -> None:
        self._config = _Config(max_frame_size, max_message_size)
        self._fields = [(_field(n), _field(v)) for n, v in headers]
        self._pmd: PerMessageDeflate | None = None
        self._response: list[tuple[bytes, bytes]] | None = None
        self._conn_made = False
        self._handle = self._receive(None)
        ev = F.ws_event_t()
        r = _lib.ws_h2_connect_request(self._handle.h, byref(ev))
        if r != F.WS_OK:
            raise LocalProtocolError(self._handle.error() or _lib.ws_result_str(r).decode())
        fields = [(_str(h.name), _str(h.value)) for h in ev.headers[: ev.headers_len]]
        extensions: list[str] = []
        for name, value in fields:
            if name == b"sec-websocket-extensions":
                extensions.extend(split_comma_header(value))
        try:
            host = _str(ev.host).decode("utf-8")
            target = _str(ev.target).decode("utf-8")
        except UnicodeDecodeError as err:
            exc = RemoteProtocolError(
                f"Invalid extended CONNECT request: {err}", event_hint=RejectConnection(status_code=400)
            )
            exc.detail = str(err)
            raise exc from None
        #: The request as a wsproto ``Request`` event: ``host`` is
        #: ``:authority``, ``target`` is ``:path``; ``extra_headers`` are the
        #: regular fields (no pseudo-header) other than
        #: ``sec-websocket-protocol`` / ``sec-websocket-extensions``.
        self.request = Request(
            host=host,
            target=target,
            extensions=extensions,
            extra_headers=[(n, v) for n, v in fields if not n.startswith(b":") and n not in _OMIT],
            subprotocols=[_str(s).decode("ascii") for s in ev.subprotocols[: ev.subprotocols_len]],
        )

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """The request's fields as received, pseudo-header fields included."""
        return list(self._fields)

    def _receive(self, cfg) -> _Handle:
        """A handle (created with `cfg`, a ws_config_t or None) that has
        validated the request's fields."""
        handle = _Handle(cfg)
        arr, n, keep = _headers_array(self._fields)
        r = _lib.ws_h2_connect_receive(handle.h, arr, n)
        del keep
        if r == F.WS_ERR_HANDSHAKE:
            detail = handle.error()
            status = _lib.ws_h2_connect_status_hint(handle.h) or 400
            hint_headers = [(b"sec-websocket-version", b"13")] if "sec-websocket-version" in detail.lower() else []
            exc = RemoteProtocolError(
                f"Invalid extended CONNECT request: {detail}",
                event_hint=RejectConnection(status_code=status, headers=hint_headers),
            )
            exc.detail = detail
            raise exc
        if r != F.WS_OK:
            raise LocalProtocolError(handle.error() or _lib.ws_result_str(r).decode())
        return handle

    def accept(
        self,
        subprotocol: str | None = None,
        extensions: Sequence[Extension] | None = None,
        extra_headers: Iterable[tuple[Any, Any]] | None = None,
    ) -> list[tuple[bytes, bytes]]:
        """Accepts the request; returns the response fields to send on the
        stream with your HTTP library, in order: ``:status`` ``200``, then
        ``sec-websocket-protocol`` and ``sec-websocket-extensions`` when
        negotiated, then ``extra_headers`` (lowercase names).

        The arguments are those of wsproto's ``AcceptConnection``:
        ``subprotocol`` must be one of ``request.subprotocols``;
        ``extensions`` may hold one ``PerMessageDeflate`` (the parameters to
        accept with, as for ``AcceptConnection``), which after the call
        holds the negotiated parameters and is enabled if the client's
        offer was accepted. Raises ``LocalProtocolError`` for a subprotocol
        that was not offered, a bad extra header or a second call.
        """
        if self._response is not None:
            raise LocalProtocolError("The extended CONNECT request was already accepted")
        if subprotocol is not None and subprotocol not in self.request.subprotocols:
            raise LocalProtocolError(f"unexpected subprotocol {subprotocol}")
        pmd = None
        for ext in extensions or []:
            if isinstance(ext, PerMessageDeflate) and pmd is None:
                pmd = ext
            else:
                raise LocalProtocolError(f"unsupported extension {ext!r}: only one PerMessageDeflate is supported")
        handle = self._handle
        if pmd is not None and any(
            o.split(";", 1)[0].strip().lower() == PerMessageDeflate.name for o in self.request.extensions
        ):
            # What the server accepts is fixed when a handle is created: a
            # handle made with those settings validates the fields again.
            cfg = self._config.build(deflate_accept=pmd)
            try:
                handle = self._receive(cfg)
            finally:
                _lib.ws_config_free(cfg)
        sub = subprotocol.encode("ascii") if subprotocol is not None else b""
        harr, hn, keep = _headers_array(extra_headers or [])
        out = ctypes.POINTER(F.ws_header_t)()
        n = c_size_t()
        r = _lib.ws_h2_connect_accept(handle.h, sub or None, len(sub), harr, hn, byref(out), byref(n))
        del keep
        if r != F.WS_OK:
            raise LocalProtocolError(f"cannot accept: {handle.error() or _lib.ws_result_str(r).decode()}")
        self._handle = handle
        self._response = [(_str(f.name), _str(f.value)) for f in out[: n.value]]
        p = F.ws_deflate_params_t()
        if pmd is not None and _lib.ws_h2_connect_deflate_params(handle.h, byref(p)):
            pmd._set_negotiated(
                p.server_no_context_takeover,
                p.client_no_context_takeover,
                max(9, p.server_max_window_bits),
                max(9, p.client_max_window_bits),
            )
            self._pmd = pmd
        return list(self._response)

    @property
    def extensions(self) -> list[Extension]:
        """After :meth:`accept`: the negotiated extensions ([] or one
        enabled ``PerMessageDeflate``)."""
        return [self._pmd] if self._pmd is not None else []

    def connection(self, trailing_data: bytes = b"") -> Connection:
        """After :meth:`accept`: the frames-only server ``Connection``
        (state OPEN) that carries the stream's DATA, with the negotiated
        permessage-deflate parameters. ``trailing_data``: DATA bytes already
        received on the stream. Feed further DATA with ``receive_data``,
        send what ``send`` returns as DATA, and end the stream when the
        state is CLOSED. Called once."""
        if self._response is None:
            raise LocalProtocolError("accept() the extended CONNECT request before making its connection")
        if self._conn_made:
            raise LocalProtocolError("connection() was already called")
        core = _Core(ConnectionType.SERVER, self._config, frames_only=True)
        h = self._handle.h
        core._new(
            self._config.build(),
            lambda cfg, data, size, out: _lib.ws_h2_connect_new_conn(h, cfg, data, size, out),
            None,
            0,
        )
        self._conn_made = True
        conn = Connection._from_core(core)
        conn.receive_data(bytes(trailing_data))
        return conn
