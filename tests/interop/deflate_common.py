"""Shared pieces of the permessage-deflate interop drivers: payloads and the
parameter matrix."""

from __future__ import annotations

import random

# Sizes for every parameter combination, and the full list for a few.
SMALL_SIZES = [0, 1, 125]
FULL_SIZES = [0, 1, 125, 64 << 10, 4 << 20]


def payload(n: int, seed: int, text: bool) -> bytes:
    """Partly compressible bytes with repeats about 2000 bytes apart: a peer
    that compressed with a larger window than negotiated, or kept context it
    promised to drop, would produce back-references the other side's inflater
    rejects."""
    rng = random.Random(seed * 7919 + n)
    alphabet = b"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;"
    if text:
        block = bytes(rng.choice(alphabet) for _ in range(2000))
    else:
        block = rng.randbytes(2000)
    out = bytearray()
    while len(out) < n:
        # Mostly repeats of the block with a few fresh bytes in between.
        out += block
        out += rng.randbytes(16) if not text else bytes(rng.choice(alphabet) for _ in range(16))
    return bytes(out[:n])


def fragments(data: bytes, count: int = 3) -> list[bytes]:
    """Splits data into `count` fragments (some may be empty for tiny data)."""
    step = max(1, len(data) // count)
    parts = [data[i * step:(i + 1) * step] for i in range(count - 1)]
    parts.append(data[(count - 1) * step:])
    return parts


def combos() -> list[tuple[bool, bool, int, int]]:
    """(server_no_context_takeover, client_no_context_takeover,
    server_max_window_bits, client_max_window_bits): context takeover on/off
    each way, each window size 9..15 on each side."""
    out = []
    for snct in (False, True):
        for cnct in (False, True):
            for w in range(9, 16):
                out.append((snct, cnct, w, w))
                out.append((snct, cnct, w, 24 - w))  # asymmetric: 9/15, 10/14, ...
    return out


# Combinations that get the full size list (the rest get SMALL_SIZES).
FULL_COMBOS = {(False, False, 15, 15), (True, True, 9, 9), (False, True, 10, 14), (True, False, 12, 12)}


def sizes_for(combo: tuple[bool, bool, int, int]) -> list[int]:
    return FULL_SIZES if combo in FULL_COMBOS else SMALL_SIZES


def offer_spec(combo: tuple[bool, bool, int, int]) -> str:
    snct, cnct, sw, cw = combo
    parts = []
    if snct:
        parts.append("server_no_context_takeover")
    if cnct:
        parts.append("client_no_context_takeover")
    parts.append(f"server_max_window_bits={sw}")
    parts.append(f"client_max_window_bits={cw}")
    return ";".join(parts)


def deflate_line(snct: bool, cnct: bool, sw: int, cw: int) -> str:
    """The line `client --expect-deflate` prints for these parameters."""
    return (f"deflate: server_no_context_takeover={int(snct)} client_no_context_takeover={int(cnct)} "
            f"server_max_window_bits={sw} client_max_window_bits={cw}")


def parse_extension_header(value: str) -> dict[str, str | None]:
    """`permessage-deflate; a; b=1` -> {"permessage-deflate": None, "a": None, "b": "1"}."""
    out: dict[str, str | None] = {}
    for item in value.split(";"):
        item = item.strip()
        if not item:
            continue
        k, _, v = item.partition("=")
        out[k.strip()] = v.strip().strip('"') if _ else None
    return out
