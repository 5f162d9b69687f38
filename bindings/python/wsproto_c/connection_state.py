"""ConnectionState and ConnectionType (re-exported by ``connection``)."""

from __future__ import annotations

from enum import Enum


class ConnectionState(Enum):
    """RFC 6455 §4 connection states, numbered as in wsproto."""

    CONNECTING = 0
    OPEN = 1
    REMOTE_CLOSING = 2
    LOCAL_CLOSING = 3
    CLOSED = 4
    REJECTING = 5


class ConnectionType(Enum):
    """Which end of the connection this is."""

    CLIENT = 1
    SERVER = 2
