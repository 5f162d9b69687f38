"""ctypes declarations for the wsproto C ABI (include/wsproto.h).

Only what the Python layer uses is declared. Every enum that crosses the ABI
is a fixed-width 32-bit value (see the header's conventions), so enums are
declared as ``c_uint32``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import (
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_size_t,
    c_uint8,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path

__all__ = ["lib", "library_path"]

# ws_result_t
WS_OK = 0
WS_ERR_NULL_ARGUMENT = 7001
WS_ERR_INVALID_ARGUMENT = 7002
WS_ERR_WRONG_STATE = 7003
WS_ERR_HANDSHAKE = 7004
WS_ERR_CLOSED = 7005
WS_ERR_BUFFER_TOO_SMALL = 7006
WS_ERR_RNG = 7007
WS_ERR_PANIC = 7008
WS_ERR_POISONED = 7009
# Announced by the lead's receive-path rework; handled if the library has them.
WS_ERR_NO_MEMORY = 7010
WS_ERR_INPUT_FULL = 7011

# ws_event_type_t
WS_EVENT_NONE = 0
WS_EVENT_REQUEST = 1
WS_EVENT_ACCEPT = 2
WS_EVENT_REJECT = 3
WS_EVENT_REJECT_DATA = 4
WS_EVENT_TEXT = 5
WS_EVENT_BINARY = 6
WS_EVENT_PING = 7
WS_EVENT_PONG = 8
WS_EVENT_CLOSE = 9

WS_EVENT_FLAG_FRAME_FINISHED = 1
WS_EVENT_FLAG_MESSAGE_FINISHED = 2
WS_EVENT_FLAG_HAS_BODY = 4
WS_EVENT_FLAG_PROTOCOL_ERROR = 8

WS_SEND_MORE = 1
WS_SEND_NO_COMPRESS = 2

WS_ROLE_CLIENT = 0
WS_ROLE_SERVER = 1

WS_MESSAGE_MODE_WHOLE = 0
WS_MESSAGE_MODE_STREAM = 1


class ws_str_t(Structure):
    _fields_ = [("ptr", c_void_p), ("len", c_size_t)]


class ws_header_t(Structure):
    _fields_ = [("name", ws_str_t), ("value", ws_str_t)]


class ws_deflate_params_t(Structure):
    _fields_ = [
        ("server_no_context_takeover", c_bool),
        ("client_no_context_takeover", c_bool),
        ("server_max_window_bits", c_uint8),
        ("client_max_window_bits", c_uint8),
    ]


class ws_event_t(Structure):
    _fields_ = [
        ("type", c_uint32),
        ("flags", c_uint32),
        ("code", c_uint16),
        ("data", c_void_p),
        ("len", c_size_t),
        ("target", ws_str_t),
        ("host", ws_str_t),
        ("subprotocol", ws_str_t),
        ("extensions", ws_str_t),
        ("subprotocols", POINTER(ws_str_t)),
        ("subprotocols_len", c_size_t),
        ("headers", POINTER(ws_header_t)),
        ("headers_len", c_size_t),
    ]


def _candidates() -> list[str]:
    """Where the library is looked for, in order (see README.md)."""
    out = []
    env = os.environ.get("WSPROTO_C_LIBRARY")
    if env:
        out.append(env)
    here = Path(__file__).resolve().parent
    out.append(str(here / "libwsproto.so"))
    # Running from a checkout: bindings/python/wsproto_c -> repository root.
    root = here.parent.parent.parent
    out.append(str(root / "target" / "release" / "libwsproto.so"))
    found = ctypes.util.find_library("wsproto")
    if found:
        out.append(found)
    out.append("libwsproto.so")
    return out


def _load() -> tuple[ctypes.CDLL, str]:
    errors = []
    env = os.environ.get("WSPROTO_C_LIBRARY")
    for i, cand in enumerate(_candidates()):
        # Paths that do not exist are skipped, except the explicit env var
        # (a wrong setting must fail loudly) and bare names for the loader.
        if "/" in cand and not os.path.exists(cand):
            if env and i == 0:
                raise ImportError(f"WSPROTO_C_LIBRARY={env!r}: no such file")
            continue
        try:
            return ctypes.CDLL(cand), cand
        except OSError as exc:
            if env and i == 0:
                raise ImportError(f"WSPROTO_C_LIBRARY={env!r}: {exc}") from exc
            errors.append(f"{cand}: {exc}")
    raise ImportError(
        "wsproto_c: cannot find libwsproto.so (set WSPROTO_C_LIBRARY, or "
        "install the package with pip so that it is copied next to it); tried: " + "; ".join(errors or _candidates())
    )


lib, library_path = _load()

_conn_p = c_void_p
_cfg_p = c_void_p
_u8p = c_char_p  # input buffers: bytes objects are passed directly


def _decl(name, restype, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)


_decl("ws_version", c_char_p)
_decl("ws_result_str", c_char_p, c_uint32)
_decl("ws_config_new", _cfg_p)
_decl("ws_config_free", None, _cfg_p)
_decl("ws_config_set_max_frame_size", c_uint32, _cfg_p, c_uint64)
_decl("ws_config_set_max_message_size", c_uint32, _cfg_p, c_uint64)
_decl("ws_config_set_max_handshake_size", c_uint32, _cfg_p, c_size_t)
_decl("ws_config_set_max_handshake_headers", c_uint32, _cfg_p, c_size_t)
_decl("ws_config_set_auto_pong", c_uint32, _cfg_p, c_bool)
_decl("ws_config_set_auto_close_reply", c_uint32, _cfg_p, c_bool)
_decl("ws_config_set_message_mode", c_uint32, _cfg_p, c_uint32)
_decl("ws_config_set_deflate", c_uint32, _cfg_p, c_bool)
_decl(
    "ws_config_set_deflate_offers",
    c_uint32,
    _cfg_p,
    POINTER(ws_deflate_params_t),
    c_size_t,
)
_decl("ws_config_set_deflate_accept", c_uint32, _cfg_p, c_uint8, c_bool, c_bool)
_decl("ws_conn_new_client", c_uint32, _cfg_p, POINTER(_conn_p))
_decl("ws_conn_new_server", c_uint32, _cfg_p, POINTER(_conn_p))
_decl(
    "ws_conn_new_frames_only",
    c_uint32,
    _cfg_p,
    c_uint32,
    _u8p,
    c_size_t,
    POINTER(_conn_p),
)
_decl(
    "ws_conn_new_frames_only_deflate",
    c_uint32,
    _cfg_p,
    c_uint32,
    POINTER(ws_deflate_params_t),
    _u8p,
    c_size_t,
    POINTER(_conn_p),
)
_decl("ws_conn_free", None, _conn_p)
_decl("ws_conn_state", c_uint32, _conn_p)
_decl("ws_conn_receive", c_uint32, _conn_p, _u8p, c_size_t)
_decl("ws_conn_receive_eof", c_uint32, _conn_p)
_decl("ws_conn_send_text", c_uint32, _conn_p, _u8p, c_size_t, c_uint32)
_decl("ws_conn_send_binary", c_uint32, _conn_p, _u8p, c_size_t, c_uint32)
_decl("ws_conn_send_ping", c_uint32, _conn_p, _u8p, c_size_t)
_decl("ws_conn_send_pong", c_uint32, _conn_p, _u8p, c_size_t)
_decl("ws_conn_send_close", c_uint32, _conn_p, c_uint16, _u8p, c_size_t)
_decl("ws_conn_output_len", c_size_t, _conn_p)
_decl("ws_conn_output_peek", c_uint32, _conn_p, POINTER(c_void_p), POINTER(c_size_t))
_decl("ws_conn_output_consume", c_uint32, _conn_p, c_size_t)
_decl("ws_conn_output_copy", c_uint32, _conn_p, c_void_p, c_size_t, POINTER(c_size_t))
_decl("ws_conn_handshake_status_hint", c_uint16, _conn_p)
_decl("ws_conn_last_error", c_char_p, _conn_p)
_decl("ws_conn_deflate_params", c_bool, _conn_p, POINTER(ws_deflate_params_t))
_decl("ws_conn_poll_event", c_uint32, _conn_p, POINTER(ws_event_t))
_decl(
    "ws_conn_send_request",
    c_uint32,
    _conn_p,
    _u8p,
    c_size_t,
    _u8p,
    c_size_t,
    POINTER(ws_str_t),
    c_size_t,
    POINTER(ws_header_t),
    c_size_t,
)
_decl(
    "ws_conn_accept",
    c_uint32,
    _conn_p,
    _u8p,
    c_size_t,
    POINTER(ws_header_t),
    c_size_t,
)
_decl(
    "ws_conn_reject",
    c_uint32,
    _conn_p,
    c_uint16,
    POINTER(ws_header_t),
    c_size_t,
    c_bool,
)
_decl("ws_conn_reject_data", c_uint32, _conn_p, _u8p, c_size_t, c_bool)
_decl("ws_accept_token", c_uint32, _u8p, c_size_t, c_char_p, c_size_t, POINTER(c_size_t))
_decl(
    "ws_conn_receive_request",
    c_uint32,
    _conn_p,
    _u8p,
    c_size_t,
    _u8p,
    c_size_t,
    POINTER(ws_header_t),
    c_size_t,
    _u8p,
    c_size_t,
)

# RFC 8441 / RFC 9220 extended CONNECT (see wsproto_c.h2).
_h2_p = c_void_p
_decl("ws_h2_connect_new", c_uint32, _cfg_p, POINTER(_h2_p))
_decl("ws_h2_connect_free", None, _h2_p)
_decl("ws_h2_connect_receive", c_uint32, _h2_p, POINTER(ws_header_t), c_size_t)
_decl("ws_h2_connect_request", c_uint32, _h2_p, POINTER(ws_event_t))
_decl(
    "ws_h2_connect_accept",
    c_uint32,
    _h2_p,
    _u8p,
    c_size_t,
    POINTER(ws_header_t),
    c_size_t,
    POINTER(POINTER(ws_header_t)),
    POINTER(c_size_t),
)
_decl("ws_h2_connect_deflate_params", c_bool, _h2_p, POINTER(ws_deflate_params_t))
_decl("ws_h2_connect_new_conn", c_uint32, _h2_p, _cfg_p, _u8p, c_size_t, POINTER(_conn_p))
_decl("ws_h2_connect_status_hint", c_uint16, _h2_p)
_decl("ws_h2_connect_last_error", c_char_p, _h2_p)
