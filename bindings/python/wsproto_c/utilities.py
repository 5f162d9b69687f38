"""Helpers and exceptions, as in ``wsproto.utilities``."""

from __future__ import annotations

import base64
import hashlib
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .events import Event
    from .typing import Headers

# RFC 6455 §1.3: the GUID appended to Sec-WebSocket-Key.
ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class ProtocolError(Exception):
    """Base class of the two protocol errors."""


class LocalProtocolError(ProtocolError):
    """This side asked for something the protocol or the state does not allow
    (sending in the wrong state, an unoffered subprotocol, ...)."""


class RemoteProtocolError(ProtocolError):
    """The peer's handshake was invalid. ``event_hint`` is the event to send
    in answer (a ``RejectConnection``), or None."""

    def __init__(self, message: str, event_hint: Event | None = None) -> None:
        self.event_hint = event_hint
        super().__init__(message)


def normed_header_dict(h11_headers: Headers) -> dict[bytes, bytes]:
    """Maps each header name to its values joined with ", " (names as given)."""
    merged: dict[bytes, list[bytes]] = {}
    for name, value in h11_headers:
        merged.setdefault(name, []).append(value)
    return {name: b", ".join(values) for name, values in merged.items()}


def split_comma_header(value: bytes) -> list[str]:
    """Splits a comma-separated header value into stripped ASCII strings
    (naively: quoted commas are not special, as in wsproto)."""
    return [item.decode("ascii").strip() for item in value.split(b",")]


def generate_nonce() -> bytes:
    """A fresh Sec-WebSocket-Key: base64 of 16 random bytes."""
    return base64.b64encode(os.urandom(16))


def generate_accept_token(token: bytes) -> bytes:
    """The Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455 §4.2.2)."""
    return base64.b64encode(hashlib.sha1(token + ACCEPT_GUID).digest())
