"""Generated cases: random valid and invalid peer streams in both roles,
with and without permessage-deflate.

Constructs where wsproto is known to be wrong (docs/wsproto-differences.md)
are generated too, and the case is tagged with the difference's id.
"""

from __future__ import annotations

import random

import wire
from case import Case

MASK = b"\x37\xfa\x21\x3d"
TEXTS = ["", "a", "hello", "é", "日本語", "🎉", "mixé日🎉x", "x" * 10]
VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 3000, 3999, 4000, 4999]
INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]


def rand_text(rng: random.Random, n: int) -> str:
    out = []
    size = 0
    while size < n:
        s = rng.choice(TEXTS) or "z"
        out.append(s)
        size += len(s.encode())
    return "".join(out)


def size_class(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.15:
        return 0
    if r < 0.75:
        return rng.randint(1, 125)
    if r < 0.97:
        return rng.choice([126, 127, rng.randint(128, 2000), 65535])
    return rng.choice([65536, 70000])


def split_points(rng: random.Random, n: int, k: int) -> list[int]:
    if n == 0 or k <= 1:
        return [n]
    pts = sorted(rng.sample(range(0, n + 1), min(k - 1, n + 1)))
    return pts + [n]


class Peer:
    """Builds the peer's frames (masked when the peer is the client)."""

    def __init__(self, rng, peer_is_client: bool, deflate: dict | None) -> None:
        self.rng = rng
        self.mask = MASK if peer_is_client else None
        self.deflate = deflate
        if deflate:
            self.z = wire.Deflater(deflate["bits"], deflate["nct"])
        self.out: list[bytes] = []
        self.tags: set[str] = set()
        self.invalid = False
        self.closed = False
        self.allow_known = True  # may generate D6/D7 constructs
        self.expected: list = []  # what a correct receiver reports

    def f(self, opcode, payload, **kw):
        kw.setdefault("mask", self.mask)
        self.out.append(wire.frame(opcode, payload, **kw))

    def control(self, rng) -> None:
        op = rng.choice([9, 10])
        payload = rng.randbytes(rng.choice([0, 1, 4, 125]))
        self.f(op, payload)
        self.expected.append(("Ping" if op == 9 else "Pong", payload))

    def message(self, rng) -> None:
        text = rng.random() < 0.5
        n = size_class(rng)
        if text:
            payload = rand_text(rng, n).encode()
        else:
            payload = rng.randbytes(n)
        op = 1 if text else 2
        compress = bool(self.deflate) and rng.random() < 0.8
        bfinal = False
        if compress:
            bfinal = self.allow_known and rng.random() < 0.05
            if bfinal:
                self.tags.add("D7")
            body = self.z.message(payload, bfinal=bfinal)
            rsv = 4
        else:
            body = payload
            rsv = 0
        nfrag = rng.choice([1, 1, 1, 2, 3, 5]) if len(body) < 5000 else rng.choice([1, 2])
        pts = split_points(rng, len(body), nfrag)
        prev = 0
        for i, p in enumerate(pts):
            first = i == 0
            last = i == len(pts) - 1
            self.f(op if first else 0, body[prev:p], fin=last, rsv=rsv if first else 0)
            prev = p
            if not last and rng.random() < 0.3 and (self.allow_known or not compress):
                if compress:
                    self.tags.add("D6")
                self.control(rng)
        self.expected.append(("TextMessage" if text else "BytesMessage", payload.decode() if text else payload))

    def close(self, rng) -> None:
        r = rng.random()
        if r < 0.15:
            payload = b""
        else:
            code = rng.choice(VALID_CODES)
            reason = rand_text(rng, rng.choice([0, 0, 5, 40, 123])).encode()
            payload = code.to_bytes(2, "big") + wire_trunc(reason, 123)
        self.f(8, payload)
        self.closed = True
        code = int.from_bytes(payload[:2], "big") if payload else 1005
        self.expected.append(("CloseConnection", code, payload[2:].decode()))

    def invalid_element(self, rng) -> None:
        self.invalid = True
        kind = rng.choice(
            [
                "opcode",
                "rsv23",
                "rsv1",
                "frag_control",
                "big_control",
                "cont_start",
                "data_in_frag",
                "mask",
                "len16",
                "len64",
                "len64msb",
                "bad_utf8",
                "bad_utf8_frag",
                "trunc_utf8",
                "close1",
                "close_code",
                "close_utf8",
                "close_1014",
                "bad_deflate",
                "rsv1_cont",
                "rsv1_control",
            ]
        )
        m = self.mask
        if kind == "opcode":
            self.f(rng.choice([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), b"x")
        elif kind == "rsv23":
            self.f(rng.choice([1, 2, 9]), b"ab", rsv=rng.choice([1, 2, 3]))
        elif kind == "rsv1":
            if self.deflate:
                self.f(9, b"", rsv=4)
            else:
                self.f(rng.choice([1, 2]), b"abc", rsv=4)
        elif kind == "frag_control":
            self.f(rng.choice([8, 9, 10]), b"", fin=False)
        elif kind == "big_control":
            self.f(rng.choice([9, 10]), b"p" * 126)
        elif kind == "cont_start":
            self.f(0, b"abc")
        elif kind == "data_in_frag":
            self.f(1, b"ab", fin=False)
            self.f(rng.choice([1, 2]), b"cd")
        elif kind == "mask":
            self.f(2, b"abc", mask=None if m else MASK)
        elif kind == "len16":
            self.f(2, b"abc", length_form="16")
        elif kind == "len64":
            self.f(2, b"a" * rng.choice([3, 200]), length_form="64")
        elif kind == "len64msb":
            self.f(2, b"abc", length_form="64msb")
        elif kind == "bad_utf8":
            self.f(1, rng.choice([b"\xff", b"ab\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf"]))
        elif kind == "bad_utf8_frag":
            self.f(1, b"ok", fin=False)
            self.f(0, b"\xe6\x97", fin=False)
            self.f(0, b"\x41", fin=True)
        elif kind == "trunc_utf8":
            self.f(1, b"ab\xe6\x97", fin=True)
        elif kind == "close1":
            self.f(8, b"\x03")
        elif kind == "close_code":
            self.f(8, rng.choice(INVALID_CODES).to_bytes(2, "big") + b"r")
        elif kind == "close_utf8":
            self.f(8, (1000).to_bytes(2, "big") + b"\xff\xfe")
        elif kind == "close_1014":
            self.tags.add("D5")
            self.f(8, (1014).to_bytes(2, "big"))
        elif kind == "bad_deflate":
            if self.deflate:
                self.f(2, b"\xff\xff\xff\xff\x00", rsv=4)
            else:
                self.f(2, b"abc", rsv=4)
        elif kind == "rsv1_cont":
            self.f(2, b"ab", fin=False, rsv=4 if self.deflate and False else 0)
            self.f(0, b"cd", rsv=4)
        elif kind == "rsv1_control":
            self.f(9, b"", rsv=4)


def wire_trunc(b: bytes, n: int) -> bytes:
    return b[:n].decode("utf-8", "ignore").encode()


SERVER_OFFERS = [
    ("permessage-deflate", dict(bits=15, nct=False)),
    ("permessage-deflate; client_max_window_bits", dict(bits=15, nct=False)),
    ("permessage-deflate; client_max_window_bits=10", dict(bits=10, nct=False)),
    ("permessage-deflate; client_no_context_takeover", dict(bits=15, nct=True)),
    ("permessage-deflate; server_no_context_takeover", dict(bits=15, nct=False)),
    ("permessage-deflate; server_max_window_bits=12; client_max_window_bits", dict(bits=15, nct=False)),
]
CLIENT_ACCEPTS = [
    ("permessage-deflate", dict(bits=15, nct=False)),
    ("permessage-deflate; server_no_context_takeover", dict(bits=15, nct=True)),
    ("permessage-deflate; server_max_window_bits=11", dict(bits=11, nct=False)),
    ("permessage-deflate; client_no_context_takeover", dict(bits=15, nct=False)),
    ("permessage-deflate; client_max_window_bits=12", dict(bits=15, nct=False)),
]


def request_head(target="/chat", host="example.com", protocols=None, extensions=None, extra=()) -> bytes:
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    if protocols:
        lines.append("Sec-WebSocket-Protocol: " + ", ".join(protocols))
    if extensions:
        lines.append("Sec-WebSocket-Extensions: " + extensions)
    lines += [f"{k}: {v}" for k, v in extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def response_head(protocol=None, extensions=None, extra=()) -> bytes:
    lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade"]
    if protocol:
        lines.append("Sec-WebSocket-Protocol: " + protocol)
    if extensions:
        lines.append("Sec-WebSocket-Extensions: " + extensions)
    lines += [f"{k}: {v}" for k, v in extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# Request mutations: (name, function on the head text, documented difference or None)
def _drop(name):
    return lambda h: "\r\n".join(line for line in h.split("\r\n") if not line.lower().startswith(name.lower() + ":"))


def _dup(name):
    def f(h):
        lines = h.split("\r\n")
        for i, line in enumerate(lines):
            if line.lower().startswith(name.lower() + ":"):
                lines.insert(i + 1, line)
                break
        return "\r\n".join(lines)

    return f


def _sub(a, b):
    return lambda h: h.replace(a, b, 1)


REQUEST_MUTATIONS = [
    ("drop-host", _drop("Host"), None),
    ("drop-upgrade", _drop("Upgrade"), None),
    ("drop-connection", _drop("Connection"), None),
    ("drop-key", _drop("Sec-WebSocket-Key"), None),
    ("drop-version", _drop("Sec-WebSocket-Version"), "D8"),
    ("dup-key", _dup("Sec-WebSocket-Key"), "D9"),
    ("dup-version", _dup("Sec-WebSocket-Version"), "D9"),
    ("dup-connection", _dup("Connection"), None),
    (
        "lower-names",
        lambda h: "\r\n".join(
            [h.split("\r\n")[0]]
            + [
                x.lower() if ":" not in x else x.split(":", 1)[0].lower() + ":" + x.split(":", 1)[1]
                for x in h.split("\r\n")[1:]
            ]
        ),
        None,
    ),
    ("upper-upgrade-value", _sub("Upgrade: websocket", "Upgrade: WEBSOCKET"), None),
    ("connection-list", _sub("Connection: Upgrade", "Connection: keep-alive, upgrade"), None),
    ("connection-wrong", _sub("Connection: Upgrade", "Connection: keep-alive"), None),
    ("upgrade-wrong", _sub("Upgrade: websocket", "Upgrade: h2c"), None),
    ("upgrade-list", _sub("Upgrade: websocket", "Upgrade: h2c, websocket"), "D10"),
    ("version-8", _sub("Version: 13", "Version: 8"), None),
    ("version-spaces", _sub("Version: 13", "Version:   13  "), None),
    ("post", _sub("GET ", "POST "), None),
    ("http-1.0", _sub("HTTP/1.1", "HTTP/1.0"), "D9"),
    ("short-key", _sub("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ="), "D9"),
    ("value-spaces", _sub("Host: example.com", "Host:    example.com   "), None),
]

REJECT_STATUSES = [400, 401, 403, 404, 429, 500, 503]


def gen_case(seed: int) -> Case:
    rng = random.Random(seed)
    kind = rng.random()
    if kind < 0.06:
        return gen_reject_case(rng, seed)
    if kind < 0.12:
        return gen_mutated_request_case(rng, seed)
    role = rng.choice(["server", "client"])
    use_deflate = rng.random() < 0.4
    protos = rng.choice([[], ["chat"], ["chat", "superchat"], ["v2.bin", "v1.json"]])
    extra = rng.choice([(), (("Origin", "http://example.com"),), (("X-Custom", "1"), ("Cookie", "a=b"))])
    chosen = rng.choice(protos) if protos and rng.random() < 0.7 else None
    deflate = None
    case = Case(name=f"{role}{'-deflate' if use_deflate else ''}", role=role, seed=seed)
    if role == "server":
        ext_hdr = None
        if use_deflate:
            ext_hdr, deflate = rng.choice(SERVER_OFFERS)
        case.request = request_head(protocols=protos, extensions=ext_hdr, extra=extra)
        kw = {"subprotocol": chosen}
        if use_deflate:
            kw["deflate"] = {}
        case.answer = ("accept", kw)
    else:
        case.request_fields = {
            "host": "example.com",
            "target": "/chat",
            "subprotocols": protos,
            "extra_headers": [(k.encode(), v.encode()) for k, v in extra],
        }
        ext_hdr = None
        if use_deflate:
            case.client_offer = {}
            ext_hdr, deflate = rng.choice(CLIENT_ACCEPTS)
        case.response = response_head(protocol=chosen, extensions=ext_hdr, extra=rng.choice([(), (("Server", "x"),)]))
    if rng.random() < 0.08:
        # A frames-only Connection (the handshake happened elsewhere).
        case.name = f"frames-only-{case.name}"
        case.frames_only = {"deflate": {} if use_deflate else None}
        deflate = dict(bits=15, nct=False) if use_deflate else None
    peer = Peer(rng, peer_is_client=role == "server", deflate=deflate)
    invalid = rng.random() < 0.35
    # D6/D7 constructs only in otherwise valid streams, where the engine's
    # events are checked against what was sent (see difftest.compare).
    peer.allow_known = not invalid
    n = rng.choice([0, 1, 2, 3, 5, 8])
    bad_at = rng.randrange(n + 1) if invalid else -1
    for i in range(n + 1):
        if i == bad_at:
            peer.invalid_element(rng)
        if i < n:
            if rng.random() < 0.7:
                peer.message(rng)
            else:
                peer.control(rng)
    if rng.random() < 0.03 and not peer.tags & {"D6", "D7"}:
        # Random bytes end the stream: whatever they hold, both must fail the
        # same way, except where they end inside a frame header that is
        # already invalid (D18).
        peer.invalid = invalid = True
        peer.out.append(rng.randbytes(rng.choice([1, 2, 5, 20, 200])))
        peer.tags.add("D18")
    elif rng.random() < 0.5:
        peer.close(rng)
        if rng.random() < 0.2:
            peer.f(1, b"after close")
    case.stream = b"".join(peer.out)
    case.tags = frozenset(peer.tags)
    case.expected = peer.expected if not invalid else None
    case.eof = rng.random() < 0.5
    case.echo = rng.random() < 0.7
    if rng.random() < 0.3:
        case.sends = [
            rng.choice(
                [
                    ("text", ("hi there", True)),
                    ("bytes", (b"\x00\x01", True)),
                    ("ping", b"p"),
                    ("pong", b""),
                    ("text", ("frag", False)),
                    ("bytes", (b"z" * 300, True)),
                ]
            )
        ]
    if rng.random() < 0.3:
        case.sends_after = [
            rng.choice(
                [
                    ("close", (1000, "done")),
                    ("close", (None, None)),
                    ("text", ("late", True)),
                    ("close", (1001, "é" * 70)),
                ]
            )
        ]
    case.chunk_mode = "bytes" if len(case.stream) < 300 and rng.random() < 0.1 else "random"
    if case.eof and any(t for t in ()):
        pass
    return case


def gen_reject_case(rng: random.Random, seed: int) -> Case:
    """A rejection: the server application rejects (server role), or the
    server answers the client with an error response (client role)."""
    role = rng.choice(["server", "client"])
    status = rng.choice(REJECT_STATUSES)
    body = rng.choice([b"", b"nope", b"x" * 300, "é".encode() * 10])
    case = Case(name=f"{role}-reject", role=role, seed=seed, echo=False)
    if role == "server":
        case.request = request_head(protocols=rng.choice([[], ["a"]]))
        headers = [(b"X-Reason", b"test")] if rng.random() < 0.5 else []
        chunks = []
        if body:
            headers.append((b"Content-Length", str(len(body)).encode()))
            cut = sorted(rng.sample(range(len(body) + 1), 2))
            chunks = [body[: cut[0]], body[cut[0] : cut[1]], body[cut[1] :]]
        case.answer = ("reject", status, headers, chunks)
    else:
        case.request_fields = {"host": "example.com", "target": "/"}
        framing = rng.choice(["length", "chunked", "eof"])
        head = f"HTTP/1.1 {status} Whatever\r\nX-Reason: test\r\n".encode()
        if framing == "length":
            resp = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
        elif framing == "chunked":
            enc = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:3], body[3:]) if p)
            resp = head + b"Transfer-Encoding: chunked\r\n\r\n" + enc + b"0\r\n\r\n"
        else:
            resp = head + b"\r\n" + body
            case.eof = True
        case.response = resp
        case.response_is_reject = True
        case.eof = case.eof or rng.random() < 0.3
    case.chunk_mode = "bytes" if rng.random() < 0.1 else "random"
    return case


def gen_mutated_request_case(rng: random.Random, seed: int) -> Case:
    """Server role: a request with one mutation (a valid or an invalid head)."""
    name, mutate, diff = rng.choice(REQUEST_MUTATIONS)
    head = request_head(protocols=rng.choice([[], ["chat"]])).decode()
    case = Case(name=f"server-request-{name}", role="server", seed=seed)
    case.request = mutate(head[:-4]).encode() + b"\r\n\r\n"
    case.stream = wire.frame(1, b"hello", mask=MASK) + (wire.frame(8, b"", mask=MASK) if rng.random() < 0.5 else b"")
    case.eof = rng.random() < 0.3
    case.chunk_mode = "bytes" if rng.random() < 0.2 else "random"
    if diff:
        case.tags = frozenset({diff})
    case.expected = None
    return case
