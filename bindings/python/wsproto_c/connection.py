"""The frames-only ``Connection``, as in ``wsproto.connection``."""

from __future__ import annotations

from collections.abc import Generator

from ._core import _Config, _Core
from . import _ffi as F
from .connection_state import ConnectionState, ConnectionType
from .events import Event
from .extensions import Extension, PerMessageDeflate

__all__ = ["CLIENT", "SERVER", "Connection", "ConnectionState", "ConnectionType"]

CLIENT = ConnectionType.CLIENT
SERVER = ConnectionType.SERVER


class Connection:
    """A connection whose HTTP upgrade happened elsewhere; starts OPEN.

    ``extensions``: the extensions in force; an enabled ``PerMessageDeflate``
    (after ``accept``/``finalize``) turns compression on with its
    parameters, as in wsproto (objects not enabled are ignored).
    ``trailing_data``: bytes already read after the handshake.
    Keyword-only limits (not in wsproto): ``max_frame_size``,
    ``max_message_size`` in bytes (default 16 MiB each).
    """

    def __init__(
        self,
        connection_type: ConnectionType,
        extensions: list[Extension] | None = None,
        trailing_data: bytes = b"",
        *,
        max_frame_size: int | None = None,
        max_message_size: int | None = None,
    ) -> None:
        self.client = connection_type is ConnectionType.CLIENT
        core = _Core(connection_type, _Config(max_frame_size, max_message_size), frames_only=True)
        role = F.WS_ROLE_CLIENT if self.client else F.WS_ROLE_SERVER
        pmd = None
        for ext in extensions or []:
            if not ext.enabled():
                continue
            if not isinstance(ext, PerMessageDeflate) or pmd is not None:
                raise ValueError(f"unsupported extension {ext!r}: only one PerMessageDeflate is supported")
            pmd = ext
        if pmd is None:
            core._new(None, F.lib.ws_conn_new_frames_only, role, None, 0)
        else:
            cfg = core._config.build()
            params = F.ws_deflate_params_t(
                pmd.server_no_context_takeover,
                pmd.client_no_context_takeover,
                pmd.server_max_window_bits,
                pmd.client_max_window_bits,
            )
            core._new(cfg, F.lib.ws_conn_new_frames_only_deflate, role, F.ctypes.byref(params), None, 0)
        self._core = core
        self.receive_data(trailing_data)

    @classmethod
    def _from_core(cls, core: _Core) -> Connection:
        """A Connection around an engine connection made elsewhere (wsproto_c.h2)."""
        self = cls.__new__(cls)
        self.client = core.client
        self._core = core
        return self

    @property
    def state(self) -> ConnectionState:
        return self._core._state

    @property
    def _state(self) -> ConnectionState:
        # wsproto keeps the state in ``_state``; some programs and wsproto's
        # own tests set it directly.
        return self._core._state

    @_state.setter
    def _state(self, value: ConnectionState) -> None:
        self._core._state = value

    def send(self, event: Event) -> bytes:
        """The bytes to write to the peer for `event`."""
        return self._core.send(event)

    def receive_data(self, data: bytes | None) -> None:
        """Feeds bytes read from the peer; None means the transport ended."""
        if data == b"":
            return
        self._core.receive_data(data)

    def events(self) -> Generator[Event, None, None]:
        """Yields the pending events."""
        return self._core.events()
