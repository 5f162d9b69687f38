"""Test-side WebSocket wire helpers: build peer frames, decode what an
implementation sent, and normalise handshakes and event lists so the two
implementations can be compared (see docs/wsproto-differences.md,
"How the comparison works")."""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_token(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = None,
    length_form: str = "min",
    length_override: int | None = None,
) -> bytes:
    """One frame. rsv: bits 0b100 = RSV1... length_form 'min', '16', '64'
    (non-minimal encodings for invalid streams), '64msb' (top bit set)."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if length_override is None else length_override
    mbit = 0x80 if mask is not None else 0
    if length_form == "min":
        if n < 126:
            head = bytes([b0, mbit | n])
        elif n < 65536:
            head = bytes([b0, mbit | 126]) + struct.pack("!H", n)
        else:
            head = bytes([b0, mbit | 127]) + struct.pack("!Q", n)
    elif length_form == "16":
        head = bytes([b0, mbit | 126]) + struct.pack("!H", n)
    elif length_form == "64":
        head = bytes([b0, mbit | 127]) + struct.pack("!Q", n)
    else:  # 64msb
        head = bytes([b0, mbit | 127]) + struct.pack("!Q", n | (1 << 63))
    if mask is not None:
        head += mask
        payload = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
    return head + payload


class Deflater:
    """A peer's permessage-deflate compressor (raw deflate, RFC 7692 §7.2.1)."""

    def __init__(self, bits: int, no_context_takeover: bool) -> None:
        self.bits = bits
        self.nct = no_context_takeover
        self.c = None

    def message(self, data: bytes, *, bfinal: bool = False) -> bytes:
        if self.c is None or self.nct:
            self.c = zlib.compressobj(6, zlib.DEFLATED, -self.bits)
        if bfinal:
            # A message ending in a final block (§7.2.3.4 allows it); the
            # compressor cannot continue after it, so the next one starts fresh
            # (which a context-takeover receiver must still accept).
            out = self.c.compress(data) + self.c.flush(zlib.Z_FINISH)
            self.c = None
            return out
        out = self.c.compress(data) + self.c.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(b"\x00\x00\xff\xff")
        return out[:-4]


def parse_frames(data: bytes) -> list[tuple[int, int, int, bytes]]:
    """(fin, rsv, opcode, unmasked payload) for each complete frame in `data`;
    raises ValueError on leftovers."""
    out = []
    i = 0
    while i < len(data):
        if len(data) - i < 2:
            raise ValueError("truncated frame header")
        b0, b1 = data[i], data[i + 1]
        i += 2
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", data[i : i + 2])
            i += 2
        elif n == 127:
            (n,) = struct.unpack("!Q", data[i : i + 8])
            i += 8
        key = None
        if b1 & 0x80:
            key = data[i : i + 4]
            i += 4
        payload = data[i : i + n]
        if len(payload) != n:
            raise ValueError("truncated frame payload")
        i += n
        if key:
            payload = bytes(b ^ key[j & 3] for j, b in enumerate(payload))
        out.append((b0 >> 7, (b0 >> 4) & 7, b0 & 0xF, payload))
    return out


class SendDecoder:
    """Decodes what one implementation sent: frame headers and payloads; for
    a compressed message (RSV1) only the frame headers and the inflated
    message are kept (RFC 7692 §7.2.1 leaves the choice of deflate blocks to
    the compressor, so compressed bytes legitimately differ). Inflating
    always with context takeover and a 15-bit window reads every valid
    sender, whatever it negotiated."""

    def __init__(self) -> None:
        self.d = None
        self.compressed = False
        self.pending: list[bytes] = []

    def decode(self, data: bytes) -> list:
        out = []
        for fin, rsv, op, payload in parse_frames(data):
            if op >= 8:
                out.append((fin, rsv, op, len(payload), payload))
                continue
            if op != 0:
                self.compressed = bool(rsv & 4)
                self.pending = []
            if not self.compressed:
                out.append((fin, rsv, op, len(payload), payload))
                continue
            out.append((fin, rsv, op))
            self.pending.append(payload)
            if fin:
                if self.d is None:
                    self.d = zlib.decompressobj(-15)
                body = self.d.decompress(b"".join(self.pending) + b"\x00\x00\xff\xff")
                out.append(("inflated", body))
        return out


def parse_head(data: bytes) -> tuple[str, list[tuple[bytes, bytes]], bytes]:
    """Start line, headers (lower-cased names, stripped values) and the rest."""
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    start = lines[0].decode("latin-1")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name.strip().lower(), value.strip()))
    return start, headers, rest


def norm_extension_header(value: bytes) -> list:
    """permessage-deflate elements as sorted parameter tuples; a window of 15
    written or not written is the same (RFC 7692 §7.1.2: 15 is the default)."""
    out = []
    for elem in value.split(b","):
        parts = [p.strip() for p in elem.split(b";")]
        params = {}
        for p in parts[1:]:
            k, _, v = p.partition(b"=")
            params[k.strip().decode()] = v.strip().strip(b'"').decode() or None
        for k in ("client_max_window_bits", "server_max_window_bits"):
            if params.get(k, "absent") in (None, "15"):
                params.pop(k)
        out.append((parts[0].decode().lower(), tuple(sorted(params.items()))))
    return out


def norm_handshake(data: bytes) -> tuple:
    """A request or response head compared by meaning: the start line
    (status code only for responses: the reason phrase is free text, RFC 7230
    §3.1.2), header names case-insensitively, Sec-WebSocket-Key/-Accept values
    left out (nonces), extension offers normalised, and the body."""
    start, headers, rest = parse_head(data)
    if start.startswith("HTTP/"):
        start = start.split(" ")[0] + " " + start.split(" ")[1]
    hs = []
    for name, value in headers:
        if name in (b"sec-websocket-key", b"sec-websocket-accept"):
            value = b"<nonce>"
        elif name == b"sec-websocket-extensions":
            value = repr(norm_extension_header(value)).encode()
        hs.append((name, value))
    return start, sorted(hs), rest


def coalesce(events: list) -> list:
    """Joins the chunks of each frame: how a frame is cut into chunks depends
    on how the bytes arrived, and wsproto documents frame_finished as the only
    meaningful boundary."""
    out: list = []
    for ev in events:
        name = type(ev).__name__
        if name in ("TextMessage", "BytesMessage"):
            if out and out[-1][0] == name and not out[-1][2]:
                prev = out.pop()
                ev_t = (name, prev[1] + ev.data, ev.frame_finished, ev.message_finished)
            else:
                ev_t = (name, ev.data, ev.frame_finished, ev.message_finished)
            out.append(ev_t)
        elif name == "CloseConnection":
            out.append((name, int(ev.code), ev.reason))
        elif name in ("Ping", "Pong"):
            out.append((name, bytes(ev.payload)))
        elif name == "RejectData":
            if out and out[-1][0] == name and not out[-1][2] and not ev.body_finished:
                prev = out.pop()
                out.append((name, prev[1] + ev.data, False))
            else:
                out.append((name, bytes(ev.data), ev.body_finished))
        elif name == "Request":
            out.append((name, ev.host, ev.target, list(ev.extensions), list(ev.extra_headers), list(ev.subprotocols)))
        elif name == "AcceptConnection":
            out.append((name, ev.subprotocol, [repr(e) for e in ev.extensions], list(ev.extra_headers)))
        elif name == "RejectConnection":
            out.append((name, ev.status_code, list(ev.headers), ev.has_body))
        else:
            out.append((name, repr(ev)))
    # Drop empty non-final chunks left by splitting inside a multi-byte
    # character (wsproto yields "" for them; the engine yields nothing).
    return [e for e in out if not (e[0] in ("TextMessage", "BytesMessage") and e[1] in ("", b"") and not e[2])]


def received(log: tuple) -> list:
    """Whole messages, pings, pongs and the peer's close from a run's log."""
    out: list = []
    buf = None
    for it in log:
        if it[0] != "ev":
            continue
        name = it[1]
        if name in ("TextMessage", "BytesMessage"):
            buf = it[2] if buf is None else buf + it[2]
            if it[4]:
                out.append((name, buf))
                buf = None
        elif name in ("Ping", "Pong"):
            out.append((name, it[2]))
        elif name == "CloseConnection" and it[2] != 1006:
            out.append((name, it[2], it[3]))
    return out
