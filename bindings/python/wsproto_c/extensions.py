"""Extensions, as in ``wsproto.extensions``.

Only permessage-deflate exists here, and the C library does the
compression: a ``PerMessageDeflate`` object carries the parameters (what to
offer or accept, and after the handshake what was negotiated). The frame
hooks of wsproto's ``Extension`` are not called by this package; a custom
``Extension`` subclass is refused with ``LocalProtocolError`` when used in a
handshake (see README.md, "Differences").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from .frame_protocol import CloseReason, Opcode, RsvBits


class Extension(ABC):
    """Base class of extensions (name, enabled, offer, accept, finalize)."""

    name: str

    def enabled(self) -> bool:
        return False

    @abstractmethod
    def offer(self) -> bool | str:
        """Client: the parameters to offer, or True/False."""

    def accept(self, offer: str) -> bool | str | None:
        """Server: the parameters to answer an offer with, or None to decline."""
        return None

    def finalize(self, offer: str) -> None:
        """Client: take the parameters the server answered with."""

    # wsproto's frame hooks, with its default behaviour. This package never
    # calls them (the C library processes frames); they exist so that code
    # written against wsproto's Extension keeps working.
    def frame_inbound_header(
        self, proto: Any, opcode: Opcode, rsv: RsvBits, payload_length: int
    ) -> CloseReason | RsvBits:
        return RsvBits(False, False, False)

    def frame_inbound_payload_data(self, proto: Any, data: bytes) -> bytes | CloseReason:
        return data

    def frame_inbound_complete(self, proto: Any, fin: bool) -> bytes | CloseReason | None:
        return None

    def frame_outbound(self, proto: Any, opcode: Opcode, rsv: RsvBits, data: bytes, fin: bool) -> tuple[RsvBits, bytes]:
        return (rsv, data)


def _params(header_value: str) -> list[tuple[str, str | None]]:
    """'permessage-deflate; a; b=1' -> [('a', None), ('b', '1')]."""
    out = []
    for part in header_value.split(";")[1:]:
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            key, value = part.split("=", 1)
            out.append((key.strip(), value.strip()))
        else:
            out.append((part, None))
    return out


class PerMessageDeflate(Extension):
    """permessage-deflate (RFC 7692) parameters. Windows are 9..15 bits."""

    name = "permessage-deflate"

    DEFAULT_CLIENT_MAX_WINDOW_BITS = 15
    DEFAULT_SERVER_MAX_WINDOW_BITS = 15

    def __init__(
        self,
        client_no_context_takeover: bool = False,
        client_max_window_bits: int | None = None,
        server_no_context_takeover: bool = False,
        server_max_window_bits: int | None = None,
    ) -> None:
        self.client_no_context_takeover = client_no_context_takeover
        self.server_no_context_takeover = server_no_context_takeover
        self._client_max_window_bits = self.DEFAULT_CLIENT_MAX_WINDOW_BITS
        self._server_max_window_bits = self.DEFAULT_SERVER_MAX_WINDOW_BITS
        if client_max_window_bits is not None:
            self.client_max_window_bits = client_max_window_bits
        if server_max_window_bits is not None:
            self.server_max_window_bits = server_max_window_bits
        self._enabled = False

    @staticmethod
    def _check_bits(value: int) -> int:
        if value < 9 or value > 15:
            raise ValueError("Window size must be between 9 and 15 inclusive")
        return value

    @property
    def client_max_window_bits(self) -> int:
        return self._client_max_window_bits

    @client_max_window_bits.setter
    def client_max_window_bits(self, value: int) -> None:
        self._client_max_window_bits = self._check_bits(value)

    @property
    def server_max_window_bits(self) -> int:
        return self._server_max_window_bits

    @server_max_window_bits.setter
    def server_max_window_bits(self, value: int) -> None:
        self._server_max_window_bits = self._check_bits(value)

    def enabled(self) -> bool:
        return self._enabled

    def offer(self) -> bool | str:
        """The offer's parameters as wsproto writes them (both windows
        explicit). The C library writes its own offer from these values."""
        params = [
            f"client_max_window_bits={self.client_max_window_bits}",
            f"server_max_window_bits={self.server_max_window_bits}",
        ]
        if self.client_no_context_takeover:
            params.append("client_no_context_takeover")
        if self.server_no_context_takeover:
            params.append("server_no_context_takeover")
        return "; ".join(params)

    def finalize(self, offer: str) -> None:
        """Client: adopt the server's response parameters and enable."""
        for key, value in _params(offer):
            if key == "client_no_context_takeover":
                self.client_no_context_takeover = True
            elif key == "server_no_context_takeover":
                self.server_no_context_takeover = True
            elif key == "client_max_window_bits" and value is not None:
                self.client_max_window_bits = int(value)
            elif key == "server_max_window_bits" and value is not None:
                self.server_max_window_bits = int(value)
        self._enabled = True

    def accept(self, offer: str) -> bool | str | None:
        """Server: the response parameters for a client's offer (echoing the
        offered windows), or None if a window is out of range."""
        client_bits = server_bits = None
        for key, value in _params(offer):
            if key == "client_no_context_takeover":
                self.client_no_context_takeover = True
            elif key == "server_no_context_takeover":
                self.server_no_context_takeover = True
            elif key == "client_max_window_bits":
                client_bits = int(value) if value is not None else self.client_max_window_bits
            elif key == "server_max_window_bits":
                server_bits = int(value) if value is not None else self.server_max_window_bits
        params = []
        if self.client_no_context_takeover:
            params.append("client_no_context_takeover")
        if self.server_no_context_takeover:
            params.append("server_no_context_takeover")
        try:
            if client_bits is not None:
                params.append(f"client_max_window_bits={client_bits}")
                self.client_max_window_bits = client_bits
            if server_bits is not None:
                params.append(f"server_max_window_bits={server_bits}")
                self.server_max_window_bits = server_bits
        except ValueError:
            return None
        self._enabled = True
        return "; ".join(params)

    def _set_negotiated(self, server_nct: bool, client_nct: bool, server_bits: int, client_bits: int) -> None:
        """Record what the C library negotiated and enable."""
        self.server_no_context_takeover = server_nct
        self.client_no_context_takeover = client_nct
        self.server_max_window_bits = server_bits
        self.client_max_window_bits = client_bits
        self._enabled = True

    def __repr__(self) -> str:
        descr = [f"client_max_window_bits={self.client_max_window_bits}"]
        if self.client_no_context_takeover:
            descr.append("client_no_context_takeover")
        descr.append(f"server_max_window_bits={self.server_max_window_bits}")
        if self.server_no_context_takeover:
            descr.append("server_no_context_takeover")
        return "<{} {}>".format(self.__class__.__name__, "; ".join(descr))


SUPPORTED_EXTENSIONS = {PerMessageDeflate.name: PerMessageDeflate}
