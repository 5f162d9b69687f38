"""wsproto_c: wsproto 1.3's API over the wsproto C library.

Switch a wsproto program by changing its imports from ``wsproto`` to
``wsproto_c``; see README.md for what differs.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

from ._core import _Config, _Core
from .connection import Connection, ConnectionState, ConnectionType

if TYPE_CHECKING:
    from .events import Event
    from .typing import Headers

__version__ = "1.3.2"

__all__ = ("ConnectionType", "WSConnection", "Connection", "ConnectionState")


class WSConnection:
    """The local end of a WebSocket connection: the HTTP/1.1 upgrade, then
    frames. As wsproto's ``WSConnection``; keyword-only limits (not in
    wsproto): ``max_frame_size``, ``max_message_size`` (default 16 MiB) and
    ``max_handshake_size`` (default 16 KiB) in bytes."""

    def __init__(
        self,
        connection_type: ConnectionType,
        *,
        max_frame_size: int | None = None,
        max_message_size: int | None = None,
        max_handshake_size: int | None = None,
    ) -> None:
        self.client = connection_type is ConnectionType.CLIENT
        self._core = _Core(
            connection_type,
            _Config(max_frame_size, max_message_size, max_handshake_size),
        )

    @property
    def state(self) -> ConnectionState:
        return self._core._state

    def initiate_upgrade_connection(self, headers: Headers, path: bytes | str) -> None:
        """Server: take a request that another HTTP parser already read
        (``headers`` as (name, value) pairs, ``path`` the target)."""
        self._core.initiate_upgrade_connection(headers, path)

    def send(self, event: Event) -> bytes:
        """The bytes to write to the peer for `event`."""
        return self._core.send(event)

    def receive_data(self, data: bytes | None) -> None:
        """Feeds bytes read from the peer; None means the transport ended."""
        self._core.receive_data(data)

    def events(self) -> Generator[Event, None, None]:
        """Yields the pending events."""
        return self._core.events()
