"""A differential test case, independent of the implementation."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Case:
    """One scenario, described independently of the implementation."""

    name: str
    role: str  # role of the implementations under test: "server" / "client"
    seed: int = 0
    # server role: the client's request head; client role: Request fields
    request: bytes = b""
    request_fields: dict = field(default_factory=dict)
    client_offer: dict | None = None  # client role: PerMessageDeflate kwargs
    # server role: how the application answers the Request:
    # ("accept", kwargs incl. deflate kwargs or None) / ("reject", status, headers, body chunks)
    answer: tuple = ("accept", {})
    # client role: the server's answer head (without Sec-WebSocket-Accept) or
    # a full response when it is a rejection
    response: bytes = b""
    response_is_reject: bool = False
    pipelined: bool = False  # server role: frames arrive with the request
    stream: bytes = b""  # peer bytes after the handshake
    eof: bool = False
    echo: bool = True
    reply_fail: bool = True  # answer a failure's CloseConnection with its response()
    sends: list = field(default_factory=list)  # (kind, args) sent after the handshake
    sends_after: list = field(default_factory=list)  # sent after the stream
    chunk_mode: str = "random"
    tags: frozenset = frozenset()
    expected: list | None = None
    diff: tuple | None = (
        None  # (difference id, check(wsproto_log, wsproto_c_log))  # valid generated streams: what was sent
    )
    frames_only: dict | None = None  # frames-only Connection: {"deflate": kwargs or None}


def chunks(data: bytes, rng: random.Random, mode: str) -> list[bytes]:
    if not data:
        return []
    if mode == "whole":
        return [data]
    if mode == "bytes":
        return [data[i : i + 1] for i in range(len(data))]
    n = len(data)
    k = rng.choice([0, 1, 2, 3, 5, 8, 20]) if n > 1 else 0
    k = min(k, n - 1)
    cuts = sorted(rng.sample(range(1, n), k)) if k else []
    out, prev = [], 0
    for c in cuts + [n]:
        out.append(data[prev:c])
        prev = c
    return out
