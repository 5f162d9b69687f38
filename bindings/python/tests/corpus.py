"""The scripted corpus: handshakes, rejections, every message type and size
class, fragmentation, interleaved control frames, close in each state, EOF,
and one case (or more) pinning down each documented difference exactly
(``diff=(id, check)``: the two logs must differ, and ``check(wsproto_log,
wsproto_c_log)`` must hold)."""

from __future__ import annotations

import ast

import wire
from case import Case
from gen import MASK, request_head, response_head


def fr(opcode, payload=b"", *, client_peer, **kw):
    return wire.frame(opcode, payload, mask=MASK if client_peer else None, **kw)


def has(log, *prefix) -> bool:
    return any(tuple(it[: len(prefix)]) == prefix for it in log)


def accepted_windows(log) -> set:
    """The window values in the permessage-deflate response a run sent."""
    for it in log:
        if it[0] == "send-accept":
            for name, value in it[1][1]:
                if name == b"sec-websocket-extensions":
                    params = ast.literal_eval(value.decode())[0][1]  # see wire.norm_extension_header
                    return {v for k, v in params if k.endswith("window_bits")}
    return set()


def frames_cases(role: str) -> list[Case]:
    """Frame-level cases for one role (the peer is the other role)."""
    cp = role == "server"  # the peer is a client: it masks

    def F(op, payload=b"", **kw):
        return fr(op, payload, client_peer=cp, **kw)

    def mk(name, stream, **kw):
        if role == "server":
            base = dict(request=request_head())
        else:
            base = dict(request_fields={"host": "example.com", "target": "/"}, response=response_head())
        base.update(kw)
        return Case(name=f"{role}/{name}", role=role, stream=stream, **base)

    cases = []
    for size in (0, 1, 125, 126, 127, 65535, 65536, 100_000):
        text = "é" * (size // 2) + "a" * (size % 2)
        cases.append(mk(f"text-{size}", F(1, text.encode())))
        cases.append(mk(f"binary-{size}", F(2, bytes(range(256)) * (size // 256) + bytes(size % 256))))
    cases.append(mk("text-bytewise", F(1, "日本語🎉".encode()), chunk_mode="bytes"))
    cases.append(mk("fragmented-text", F(1, b"he", fin=False) + F(0, b"ll", fin=False) + F(0, b"o")))
    cases.append(mk("fragmented-split-codepoint", F(1, b"\xe6", fin=False) + F(0, b"\x97", fin=False) + F(0, b"\xa5")))
    cases.append(mk("fragmented-binary-empty-parts", F(2, b"", fin=False) + F(0, b"", fin=False) + F(0, b"x")))
    cases.append(
        mk(
            "ping-pong-between-fragments",
            F(1, b"a", fin=False) + F(9, b"p1") + F(10, b"") + F(0, b"b", fin=False) + F(9, b"") + F(0, b"c"),
        )
    )
    cases.append(mk("ping-max", F(9, b"x" * 125)))
    cases.append(mk("pong-unsolicited", F(10, b"hi")))
    # close in each state
    cases.append(mk("peer-close-in-open", F(8, (1000).to_bytes(2, "big") + b"bye")))
    cases.append(mk("peer-close-no-code", F(8)))
    cases.append(mk("peer-close-4000", F(8, (4000).to_bytes(2, "big") + "é".encode())))
    cases.append(mk("we-close-first", F(8, (1000).to_bytes(2, "big")), sends=[("close", (1000, "we go"))]))
    cases.append(
        mk(
            "we-close-then-data-arrives",
            F(1, b"late") + F(8, (1001).to_bytes(2, "big")),
            sends=[("close", (1001, None))],
        )
    )
    cases.append(
        mk(
            "send-after-peer-close",
            F(8, (1000).to_bytes(2, "big")),
            echo=False,
            sends_after=[("text", ("too late", True))],
        )
    )
    cases.append(mk("close-twice", F(8, (1000).to_bytes(2, "big")), sends_after=[("close", (1000, "again"))]))
    cases.append(mk("data-after-close-ignored", F(8, b"") + F(1, b"ignored")))
    # EOF in each state
    cases.append(mk("eof-open", F(1, b"x"), eof=True))
    cases.append(mk("eof-mid-message", F(1, b"x", fin=False), eof=True))
    cases.append(mk("eof-mid-frame", F(1, b"hello")[:-2], eof=True))
    cases.append(mk("eof-mid-code-point", F(1, "日本".encode())[:-4], eof=True))
    cases.append(mk("eof-mid-header", F(2, b"x" * 300)[:3], eof=True))
    cases.append(mk("eof-mid-close-frame", F(8, (1000).to_bytes(2, "big") + b"bye")[:-1], eof=True))
    cases.append(mk("eof-local-closing", b"", eof=True, sends=[("close", (1000, None))]))
    cases.append(mk("eof-remote-closing", F(8, b""), eof=True, echo=False))
    cases.append(
        mk(
            "eof-after-close-handshake",
            F(8, b""),
            eof=True,
            diff=(
                "D2",
                lambda a, b: has(a, "ev", "CloseConnection", 1006) and not has(b, "ev", "CloseConnection", 1006),
            ),
        )
    )
    cases.append(
        mk(
            "eof-after-failure",
            F(3, b""),
            eof=True,
            diff=(
                "D2",
                lambda a, b: has(a, "ev", "CloseConnection", 1006) and not has(b, "ev", "CloseConnection", 1006),
            ),
        )
    )
    # sends
    cases.append(
        mk(
            "send-all-kinds",
            b"",
            sends=[
                ("text", ("hello", True)),
                ("bytes", (b"\x00\xff", True)),
                ("text", ("", True)),
                ("bytes", (b"", True)),
                ("text", ("frag-", False)),
                ("text", ("ment", True)),
                ("bytes", (b"a", False)),
                ("bytes", (b"", True)),
                ("text", ("x" * 126, True)),
                ("bytes", (b"y" * 70000, True)),
                ("ping", b""),
                ("ping", b"p" * 125),
                ("pong", b"q"),
                ("ping", b"p" * 126),
                ("text", ("a", False)),
                ("bytes", (b"b", True)),
            ],
        )
    )
    cases.append(mk("send-close-long-reason", b"", sends=[("close", (1000, "é" * 100))]))
    cases.append(mk("send-close-no-code", b"", sends=[("close", (None, None))]))
    cases.append(mk("send-close-reason-without-code", b"", sends=[("close", (None, "why"))]))
    cases.append(mk("send-close-1005-int", b"", sends=[("close", (1005, None))]))
    cases.append(mk("send-close-1006", b"", sends=[("close", (1006, "x"))]))
    cases.append(mk("send-close-1015", b"", sends=[("close", (1015, None))]))
    cases.append(mk("send-close-4999", b"", sends=[("close", (4999, "private"))]))
    for code in (999, 1004, 1016, 5000):
        cases.append(
            mk(
                f"send-close-invalid-{code}",
                b"",
                sends=[("close", (code, None))],
                diff=("D3", lambda a, b: has(a, "send-close") and has(b, "send-exc", "close", "LocalProtocolError")),
            )
        )
    # violations
    viol = {
        "reserved-opcode": F(3, b""),
        "rsv2": F(1, b"a", rsv=2),
        "rsv1-without-deflate": F(1, b"a", rsv=4),
        "fragmented-ping": F(9, b"", fin=False),
        "ping-126": F(9, b"x" * 126),
        "continuation-first": F(0, b"a"),
        "text-inside-fragmented": F(1, b"a", fin=False) + F(1, b"b"),
        "wrong-masking": fr(2, b"x", client_peer=not cp),
        "non-minimal-16": F(2, b"abc", length_form="16"),
        "non-minimal-64": F(2, b"a" * 300, length_form="64"),
        "length-top-bit": F(2, b"abc", length_form="64msb"),
        "invalid-utf8": F(1, b"\xc3\x28"),
        "invalid-utf8-surrogate": F(1, b"\xed\xa0\x80"),
        "truncated-utf8-at-end": F(1, b"a\xe6\x97"),
        "invalid-utf8-across-fragments": F(1, b"\xe6", fin=False) + F(0, b"A"),
        "close-1-byte": F(8, b"\x03"),
        "close-code-999": F(8, (999).to_bytes(2, "big")),
        "close-code-1005": F(8, (1005).to_bytes(2, "big")),
        "close-code-2000": F(8, (2000).to_bytes(2, "big")),
        "close-code-5000": F(8, (5000).to_bytes(2, "big")),
        "close-bad-utf8-reason": F(8, (1000).to_bytes(2, "big") + b"\xff"),
    }
    for name, stream in viol.items():
        cases.append(mk(f"violation-{name}", F(9, b"before") + stream + F(1, b"after"), eof=True, diff=None))
    # a reserved opcode, but the header stops before the mask key / length
    partial = F(3, b"abcde")[:2] if cp else F(3, b"a" * 200)[:3]
    cases.append(
        mk(
            "violation-in-incomplete-header-then-eof",
            partial,
            eof=True,
            diff=(
                "D18",
                lambda a, b: has(a, "fail", 1002) and has(b, "ev", "CloseConnection", 1006) and not has(b, "fail"),
            ),
        )
    )
    # a continuation with no message, its payload not there yet
    cases.append(
        mk(
            "continuation-header-then-eof",
            F(0, b"x" * 86)[: 6 if cp else 2],
            eof=True,
            diff=(
                "D18",
                lambda a, b: has(b, "fail", 1002) and has(a, "ev", "CloseConnection", 1006) and not has(a, "fail"),
            ),
        )
    )
    cases.append(
        mk(
            "data-after-failure",
            F(3, b""),
            reply_fail=False,
            sends_after=[("text", ("still here?", True))],
            diff=("D4", lambda a, b: has(a, "send-text") and has(b, "send-exc", "text", "LocalProtocolError")),
        )
    )
    cases.append(
        mk(
            "close-code-1014",
            F(8, (1014).to_bytes(2, "big")),
            diff=("D5", lambda a, b: has(a, "fail", 1002) and has(b, "ev", "CloseConnection", 1014)),
        )
    )
    return cases


def deflate_cases() -> list[Case]:
    out = []
    z = lambda bits=15, nct=False: wire.Deflater(bits, nct)  # noqa: E731

    # server role: the peer (client) compresses
    def srv(name, stream, offer="permessage-deflate; client_max_window_bits", accept=None, **kw):
        return Case(
            name=f"server-deflate/{name}",
            role="server",
            request=request_head(extensions=offer),
            answer=("accept", {"deflate": accept or {}}),
            stream=stream,
            **kw,
        )

    d = z()
    msgs = [d.message(b"hello" * 20), d.message(b"hello" * 20), d.message(b"")]
    out.append(srv("three-messages-context-takeover", b"".join(fr(1, m, client_peer=True, rsv=4) for m in msgs)))
    d = z()
    body = d.message(b"x" * 1000)
    out.append(
        srv(
            "fragmented-compressed",
            fr(2, body[:3], client_peer=True, rsv=4, fin=False) + fr(0, body[3:], client_peer=True),
        )
    )
    out.append(srv("uncompressed-message-in-deflate-session", fr(1, b"plain", client_peer=True)))
    out.append(
        srv(
            "sends-compressed",
            b"",
            sends=[
                ("text", ("hello " * 50, True)),
                ("bytes", (b"\x00" * 1000, True)),
                ("text", ("a", False)),
                ("text", ("b", True)),
                ("ping", b"p"),
            ],
        )
    )
    out.append(
        srv(
            "client-no-context-takeover",
            b"",
            offer="permessage-deflate; client_no_context_takeover",
            sends=[("text", ("abc", True))] * 3,
        )
    )
    out.append(
        srv(
            "server-no-context-takeover-asked",
            b"",
            offer="permessage-deflate; server_no_context_takeover",
            sends=[("text", ("abc", True))] * 3,
        )
    )
    out.append(
        srv(
            "server-window-10",
            b"",
            offer="permessage-deflate; server_max_window_bits=10",
            sends=[("text", ("abcabc" * 300, True))],
        )
    )
    out.append(
        srv(
            "app-asks-server-no-context-takeover",
            b"",
            offer="permessage-deflate",
            accept={"server_no_context_takeover": True},
            sends=[("text", ("abc", True))] * 3,
        )
    )
    out.append(
        srv(
            "two-offers",
            b"",
            offer="permessage-deflate; client_max_window_bits=10, permessage-deflate",
            sends=[("text", ("abc" * 10, True))],
            diff=(
                "D12",
                lambda a, b: [x for x in a if x[0] == "send-accept"] != [x for x in b if x[0] == "send-accept"],
            ),
        )
    )
    for name, offer in [
        ("unknown-param", "permessage-deflate; foo=1"),
        ("duplicate-param", "permessage-deflate; server_no_context_takeover; server_no_context_takeover"),
        ("value-on-flag", "permessage-deflate; client_no_context_takeover=1"),
    ]:
        out.append(
            srv(
                f"invalid-offer-{name}",
                b"",
                offer=offer,
                sends=[("text", ("abc", True))],
                diff=(
                    "D14",
                    lambda a, b: (
                        has(a, "send-text", ((1, 4, 1), ("inflated", b"abc")))
                        and has(b, "send-text", ((1, 0, 1, 3, b"abc"),))
                    ),
                ),
            )
        )
    out.append(
        srv(
            "quoted-window-value",
            b"",
            offer='permessage-deflate; client_max_window_bits="10"',
            sends=[("text", ("abc", True))],
            diff=("D15", lambda a, b: has(a, "send-exc", "accept", "ValueError") and has(b, "send-accept")),
        )
    )
    for name, accept in [
        ("app-server-window-10", {"server_max_window_bits": 10}),
        ("app-client-window-11", {"client_max_window_bits": 11}),
        ("app-client-no-context-takeover", {"client_no_context_takeover": True}),
    ]:
        out.append(
            srv(
                name,
                b"",
                offer="permessage-deflate; client_max_window_bits",
                accept=accept,
                sends=[("text", ("abc" * 300, True))] * 2,
                diff=None
                if name.endswith("takeover")
                else ("D17", lambda a, b, n=name[-2:]: accepted_windows(b) == {n}),
            )
        )
    out.append(srv("no-offer-app-offers-deflate", fr(1, b"plain", client_peer=True), offer=None))
    out.append(
        srv("rsv1-on-continuation", fr(1, b"", client_peer=True, fin=False) + fr(0, b"x", client_peer=True, rsv=4))
    )
    out.append(srv("rsv1-on-ping", fr(9, b"", client_peer=True, rsv=4)))
    out.append(srv("corrupt-data", fr(2, b"\xff\xff\xff\xff", client_peer=True, rsv=4)))
    d = z()
    body = d.message(b"abc" * 100)
    out.append(
        srv(
            "ping-between-compressed-fragments",
            fr(1, body[:5], client_peer=True, rsv=4, fin=False)
            + fr(9, b"p", client_peer=True)
            + fr(0, body[5:], client_peer=True),
            diff=(
                "D6",
                lambda a, b: has(a, "fail") and wire.received(b) == [("Ping", b"p"), ("TextMessage", "abc" * 100)],
            ),
        )
    )
    d = z()
    m1 = d.message(b"first " * 10, bfinal=True)
    m2 = d.message(b"second " * 10)
    out.append(
        srv(
            "message-after-bfinal-context-takeover",
            fr(1, m1, client_peer=True, rsv=4) + fr(1, m2, client_peer=True, rsv=4),
            diff=("D7", lambda a, b: has(a, "fail") and has(b, "ev", "TextMessage", "second " * 10)),
        )
    )
    d = z()
    body = d.message(b"abc" * 100)
    out.append(
        srv(
            "data-frame-inside-compressed-message",
            fr(1, body[:5], client_peer=True, rsv=4, fin=False) + fr(1, b"x", client_peer=True),
        )
    )

    # client role: the peer (server) compresses
    def cli(name, stream, accept="permessage-deflate", offer=None, **kw):
        return Case(
            name=f"client-deflate/{name}",
            role="client",
            request_fields={"host": "example.com", "target": "/"},
            client_offer=offer or {},
            response=response_head(extensions=accept),
            stream=stream,
            **kw,
        )

    d = z()
    out.append(
        cli(
            "two-messages",
            b"".join(fr(1, d.message(b"hi there " * 5), client_peer=False, rsv=4) for _ in range(2)),
            sends=[("text", ("hello " * 10, True))],
        )
    )
    d = z(11, True)
    out.append(
        cli(
            "server-window-11-no-context",
            b"".join(fr(2, d.message(b"\x01\x02" * 100), client_peer=False, rsv=4) for _ in range(2)),
            accept="permessage-deflate; server_max_window_bits=11; server_no_context_takeover",
        )
    )
    out.append(
        cli(
            "client-no-context-takeover",
            b"",
            accept="permessage-deflate; client_no_context_takeover",
            sends=[("text", ("abc", True))] * 3,
        )
    )
    out.append(
        cli(
            "client-window-12",
            b"",
            accept="permessage-deflate; client_max_window_bits=12",
            sends=[("bytes", (b"abc" * 500, True))],
        )
    )
    out.append(
        cli(
            "offer-with-params",
            b"",
            offer={"client_no_context_takeover": True, "server_max_window_bits": 12},
            accept="permessage-deflate; client_no_context_takeover; server_max_window_bits=12",
            sends=[("text", ("abc", True))] * 2,
        )
    )
    out.append(cli("server-declines", fr(1, b"plain", client_peer=False), accept=None))
    return out


def handshake_cases() -> list[Case]:
    out = []

    def srv(name, request, **kw):
        return Case(name=f"server-handshake/{name}", role="server", request=request, **kw)

    out.append(
        srv("subprotocols-choose-second", request_head(protocols=["a", "b"]), answer=("accept", {"subprotocol": "b"}))
    )
    out.append(srv("subprotocols-choose-none", request_head(protocols=["a", "b"])))
    out.append(srv("unoffered-subprotocol", request_head(protocols=["a"]), answer=("accept", {"subprotocol": "zzz"})))
    out.append(
        srv(
            "extra-headers-both-ways",
            request_head(extra=[("Origin", "http://x"), ("Cookie", "k=v"), ("X-Multi", "1"), ("X-Multi", "2")]),
            answer=("accept", {"extra_headers": [(b"Set-Cookie", b"s=1"), (b"X-Server", b"yes")]}),
        )
    )
    out.append(srv("target-with-query", request_head(target="/chat?room=1&x=%20")))
    out.append(srv("host-with-port", request_head(host="example.com:8080")))
    out.append(
        srv("extensions-offered-not-accepted", request_head(extensions="permessage-deflate, x-webkit-deflate-frame"))
    )
    out.append(
        srv("two-extension-headers", request_head(extensions="foo; a=1", extra=[("Sec-WebSocket-Extensions", "bar")]))
    )
    out.append(srv("reject-no-body", request_head(), answer=("reject", 403, [(b"X-Why", b"no")], [])))
    out.append(
        srv(
            "reject-with-body",
            request_head(),
            answer=(
                "reject",
                401,
                [(b"Content-Length", b"11"), (b"Content-Type", b"text/plain")],
                [b"not ", b"allowed"],
            ),
        )
    )
    out.append(
        srv(
            "reject-with-empty-body-chunks",
            request_head(),
            answer=("reject", 400, [(b"Content-Length", b"2")], [b"", b"ok", b""]),
        )
    )
    base = request_head().decode()
    bad = {
        "no-connection-header": base.replace("Connection: Upgrade\r\n", ""),
        "connection-keep-alive-upgrade": base.replace("Connection: Upgrade", "Connection: keep-alive, Upgrade"),
        "upgrade-case": base.replace("Upgrade: websocket", "Upgrade: WebSocket"),
        "version-8": base.replace("Version: 13", "Version: 8"),
        "no-key": base.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
        "no-upgrade": base.replace("Upgrade: websocket\r\n", ""),
        "no-host": base.replace("Host: example.com\r\n", ""),
        "post": base.replace("GET", "POST"),
        "garbage": "NOT HTTP AT ALL\r\n\r\n",
    }
    for name, req in bad.items():
        out.append(srv(f"invalid-{name}", req.encode()))
    out.append(
        srv(
            "lf-only-line-ends",
            base.replace("\r\n", "\n").encode(),
            eof=True,
            diff=("D11", lambda a, b: has(a, "ev", "Request") and not has(b, "ev", "Request")),
        )
    )
    out.append(
        srv(
            "missing-version",
            base.replace("Sec-WebSocket-Version: 13\r\n", "").encode(),
            diff=(
                "D8",
                lambda a, b: (
                    [x[2][0][1] for x in a if x[0] == "recv-exc"] == [400]
                    and [x[2][0][1] for x in b if x[0] == "recv-exc"] == [426]
                ),
            ),
        )
    )
    for name, req, d in [
        ("bad-key", base.replace("dGhlIHNhbXBsZSBub25jZQ==", "short"), "D9"),
        (
            "duplicate-key",
            base.replace(
                "Sec-WebSocket-Version", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version"
            ),
            "D9",
        ),
        ("http-1.0", base.replace("HTTP/1.1", "HTTP/1.0"), "D9"),
        ("upgrade-h2c-websocket", base.replace("Upgrade: websocket", "Upgrade: h2c, websocket"), "D10"),
        ("subprotocol-not-token", request_head(protocols=["a b"]).decode(), "D9"),
    ]:
        out.append(
            srv(
                f"wsproto-differs-{name}",
                req.encode(),
                diff=(
                    d,
                    lambda a, b, d=d: (
                        (has(b, "recv-exc", "RemoteProtocolError") and not has(a, "recv-exc"))
                        if d == "D9"
                        else (has(a, "recv-exc", "RemoteProtocolError") and not has(b, "recv-exc"))
                    ),
                ),
            )
        )
    out += engine_fix_cases(base)
    out.append(
        Case(
            name="server-handshake/pipelined-frame",
            role="server",
            request=request_head(),
            pipelined=True,
            stream=wire.frame(1, b"early", mask=MASK),
            diff=("D1", lambda a, b: has(b, "ev", "TextMessage", "early") and not has(a, "ev", "TextMessage")),
        )
    )

    def cli(name, response, **kw):
        kw.setdefault(
            "request_fields",
            {
                "host": "example.com",
                "target": "/",
                "subprotocols": ["a", "b"],
                "extra_headers": [(b"Origin", b"http://example.com")],
            },
        )
        return Case(name=f"client-handshake/{name}", role="client", response=response, **kw)

    out.append(
        cli(
            "accept-subprotocol-and-headers",
            response_head(protocol="b", extra=[("Server", "t"), ("Set-Cookie", "a=1")]),
        )
    )
    out.append(
        cli(
            "accept-frames-in-same-packet",
            response_head(),
            stream=wire.frame(1, b"early") + wire.frame(9, b""),
            chunk_mode="whole",
        )
    )
    out.append(
        cli(
            "duplicated-protocol-header",
            response_head(protocol="a", extra=[("Sec-WebSocket-Protocol", "a")]),
            diff=("D16", lambda a, b: has(a, "ev", "AcceptConnection") and has(b, "recv-exc", "RemoteProtocolError")),
        )
    )
    out.append(
        cli(
            "duplicated-accept-header",
            response_head(extra=[("Sec-WebSocket-Accept", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")]),
            diff=("D16", lambda a, b: has(a, "ev", "AcceptConnection") and has(b, "recv-exc", "RemoteProtocolError")),
        )
    )
    out.append(cli("unknown-subprotocol", response_head(protocol="zzz")))
    out.append(cli("unknown-extension", response_head(extensions="x-foo")))
    out.append(cli("no-upgrade-header", response_head().replace(b"Upgrade: websocket\r\n", b"")))
    out.append(
        cli(
            "bad-accept",
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
            response_is_reject=True,
        )
    )
    rej = [
        ("reject-with-body", b"HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\nX-A: b\r\n\r\nnope!", False),
        ("reject-empty", b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", False),
        ("reject-body-until-eof", b"HTTP/1.1 500 Oops\r\n\r\nsome body", True),
        ("reject-chunked", b"HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", False),
    ]
    for name, resp, eof in rej:
        out.append(cli(name, resp, response_is_reject=True, eof=eof))
        out.append(cli(name + "-bytewise", resp, response_is_reject=True, eof=eof, chunk_mode="bytes"))
    return out


def engine_fix_cases(base: str) -> list[Case]:
    """The handshake rules of issue 11's engine fixes (RFC 6455 §4.1, RFC
    7230 §2.6, §3.3.3), in both packages."""
    out = []

    def srv(name, request, **kw):
        return Case(name=f"server-handshake/{name}", role="server", request=request, **kw)

    # RFC 7230 §2.6: a higher minor version is processed as HTTP/1.1 (both).
    out.append(
        srv("http-1.2-as-1.1", base.replace("HTTP/1.1", "HTTP/1.2").encode(), stream=wire.frame(1, b"hi", mask=MASK))
    )
    # Interim statuses are not a rejection: LocalProtocolError in both.
    out.append(srv("reject-status-100", request_head(), answer=("reject", 100, [], [])))
    out.append(srv("reject-status-101", request_head(), answer=("reject", 101, [], [])))

    def reject_head(log):
        return next((x[1] for x in log if x[0] == "send-reject"), None)

    for status in (204, 304):
        out.append(
            srv(
                f"reject-{status}-with-body",
                request_head(),
                answer=("reject", status, [], [b"body"]),
                diff=(
                    "D20",
                    lambda a, b: (
                        has(a, "send-reject")
                        and has(a, "send-exc", "reject-data", "LocalProtocolError")
                        and has(b, "send-exc", "reject", "LocalProtocolError")
                        and not has(b, "send-reject")
                    ),
                ),
            )
        )
        out.append(
            srv(
                f"reject-{status}-no-body",
                request_head(),
                answer=("reject", status, [], []),
                diff=(
                    "D20",
                    lambda a, b: reject_head(a)[1] == [(b"content-length", b"0")] and reject_head(b)[1] == [],
                ),
            )
        )
    out.append(srv("request-with-body-content-length-0", request_head(extra=[("Content-Length", "0")])))
    for name, extra in [
        ("content-length-5", [("Content-Length", "5")]),
        ("transfer-encoding-chunked", [("Transfer-Encoding", "chunked")]),
    ]:
        out.append(
            srv(
                f"request-with-body-{name}",
                request_head(extra=extra),
                diff=(
                    "D19",
                    lambda a, b: (
                        has(a, "ev", "Request")
                        and not has(b, "ev", "Request")
                        and has(b, "recv-exc", "RemoteProtocolError", [("RejectConnection", 400, [], False)])
                    ),
                ),
            )
        )
    # RFC 6455 §4.1: the client fails a 101 whose Upgrade is not "websocket"
    # (both).
    out.append(
        Case(
            name="client-handshake/upgrade-websocket-h2c",
            role="client",
            request_fields={"host": "example.com", "target": "/"},
            response=response_head().replace(b"Upgrade: websocket", b"Upgrade: websocket, h2c"),
        )
    )
    return out


def frames_only_cases() -> list[Case]:
    out = []
    for role in ("server", "client"):
        cp = role == "server"
        out.append(
            Case(
                name=f"frames-only/{role}",
                role=role,
                frames_only={},
                stream=fr(1, b"hi", client_peer=cp) + fr(9, b"x", client_peer=cp) + fr(8, b"", client_peer=cp),
                sends=[("text", ("x", True))],
            )
        )
        d = wire.Deflater(15, False)
        out.append(
            Case(
                name=f"frames-only/{role}-deflate",
                role=role,
                frames_only={"deflate": {}},
                stream=fr(1, d.message(b"zipped " * 9), client_peer=cp, rsv=4),
                sends=[("text", ("y" * 100, True))],
            )
        )
    return out


def corpus_cases() -> list[Case]:
    cases = frames_cases("server") + frames_cases("client") + deflate_cases() + handshake_cases() + frames_only_cases()
    return cases
