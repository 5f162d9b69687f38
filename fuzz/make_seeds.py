#!/usr/bin/env python3
"""Writes the committed fuzz seeds: fuzz/corpus/<target>/seed-NN.

Each target's input starts with knob bytes (layouts documented on the target
functions in tests/fuzz_support/mod.rs); the rest is wire data built here
from RFC 6455 by hand. Deterministic: rerunning rewrites the same files.
Usage: python3 fuzz/make_seeds.py
"""
import os
import shutil
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
KEY = b"\x37\xfa\x21\x3d"
WS_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def frame(first, payload, mask=None):
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126:
        head = bytes([first, m | n])
    elif n < 65536:
        head = bytes([first, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([first, m | 127]) + struct.pack(">Q", n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


def close(code, reason=b""):
    return struct.pack(">H", code) + reason


def streams(mask):
    """Frame streams exercising each receive rule; masked for a server."""
    f = lambda first, p=b"": frame(first, p, mask)
    return [
        f(0x81, b"hello"),
        f(0x82, bytes(range(200))),
        f(0x01, b"hel") + f(0x89, b"ping") + f(0x80, b"lo"),
        f(0x81, "h\u00e9llo \u20ac".encode()),
        f(0x01, b"\xe2\x82") + f(0x80, b"\xac"),
        f(0x81, b"\xff\xfe"),
        f(0x89, b"") + f(0x8A, b"pong"),
        f(0x88, close(1000, b"bye")),
        f(0x88, b""),
        f(0x88, b"\x03"),
        f(0x88, close(1005)),
        f(0x88, close(4000, b"\xc3\x28")),
        f(0x09, b"frag ping"),
        f(0x80, b"orphan"),
        f(0x01, b"a") + f(0x81, b"b"),
        f(0xC1, b"rsv1"),
        f(0xA2, b"rsv2"),
        f(0x83, b"reserved opcode"),
        bytes([0x82, 0xFF if mask else 0x7F]) + struct.pack(">Q", 70000) + (mask or b"") + b"truncated",
        bytes([0x82, 0x7E, 0x00, 0x05]) + (mask or b"") + b"short",
        bytes([0x82, 0x7F]) + b"\x80" + bytes(7),
        f(0x82, b"x" * 130) + f(0x88, close(1001)),
        f(0x81, b"") + f(0x82, b"") + f(0x01, b"") + f(0x80, b""),
        f(0x89, b"p" * 125) + f(0x89, b"p" * 126),
    ]


def write(target, seeds):
    d = os.path.join(ROOT, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for i, s in enumerate(seeds):
        with open(os.path.join(d, "seed-%02d" % i), "wb") as fh:
            fh.write(bytes(s))


def request(extra=b"", key=WS_KEY):
    return (
        b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\n"
        b"Sec-WebSocket-Version: 13\r\n" + extra + b"\r\n"
    )


def main():
    # frame_parser: [cfg_a, cfg_b, flags, split, bytes...]
    seeds = []
    for i, s in enumerate(streams(KEY) + streams(None)):
        cfg_a = [0x00, 0x01, 0x02, 0x04, 0x18, 0x21, 0x48, 0x40][i % 8]
        seeds.append(bytes([cfg_a, 0, (i * 5) & 0x1F, (i * 7) % 40]) + s)
    write("frame_parser", seeds)

    # handshake_server: [cfg_a, cfg_b, flags, split, bytes...]
    proto = b"Sec-WebSocket-Protocol: chat, superchat\r\n"
    ext = b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo\r\n"
    reqs = [
        request(),
        request(proto),
        request(ext),
        request(proto + ext + b"Origin: http://example.com\r\n"),
        request() + frame(0x81, b"early", KEY),
        request(ext) + frame(0xC1, b"\xf2H\xcd\xc9\xc9\x07\x00", KEY),
        request() + frame(0x88, close(1000), KEY),
        request().replace(b"GET", b"POST"),
        request().replace(b"13", b"8"),
        request(key=b"short"),
        request().replace(b"Upgrade: websocket\r\n", b""),
        b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X-A: b\r\n" * 70 + b"\r\n",
        b"GET / HTTP/1.1\r\n" + b"X" * 300,
        b"garbage\r\n\r\n",
        request()[:40],
    ]
    seeds = []
    for i, r in enumerate(reqs):
        for flags in (0x00, 0x02, 0x01, 0x05, 0x08):
            if (i + flags) % 2 == 0 or flags == 0:
                seeds.append(bytes([i & 7, 0, flags, (i * 3) % 20]) + r)
    write("handshake_server", seeds)

    # handshake_client: [cfg_a, cfg_b, flags, split, bytes...]
    after_head = [
        b"\r\n",
        b"\r\n" + frame(0x81, b"hi"),
        b"\r\n" + frame(0x88, close(1000)),
        b"X-Extra: 1\r\n\r\n" + frame(0x89, b"p"),
        b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n" + frame(0xC1, b"\xf2H\x04\x00"),
        b"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n",
        b"Sec-WebSocket-Protocol: nope\r\n\r\n",
        b"\r\n" + frame(0x81, b"x", KEY),
    ]
    seeds = [bytes([0, 0, 0x04 | 0x10 | (i % 2) * 2, 0]) + t for i, t in enumerate(after_head)]
    seeds.append(bytes([0, 0, 0x04 | 0x08 | 0x01, 0]) + frame(0x82, b"data"))
    seeds.append(bytes([0, 0, 0x04, 5]) + frame(0x82, b"data") + frame(0x88, b""))
    rejects = [
        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!",
        b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 404 Not Found\r\n\r\nbody until eof",
        b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        b"HTTP/1.1 101 Switching\r\n\r\n",
        b"HTTP/1.0 200 OK\r\n\r\n",
        b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"HTTP/1.1 400 X\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
        b"not http at all\r\n\r\n",
    ]
    seeds += [bytes([0, i & 7, i & 1, i % 4]) + r for i, r in enumerate(rejects)]
    write("handshake_client", seeds)

    # deflate: [cfg_a, params, codec, flags, bytes...]
    texts = [
        b"",
        b"a",
        b"Hello, Hello, Hello, Hello!" * 4,
        "h\u00e9llo w\u00f6rld \u20ac\U0001F600".encode() * 3,
        bytes(range(256)),
        bytes(1500),
        b"\xf2H\xcd\xc9\xc9\x07\x00",
        b"\xff" * 40,
    ]
    seeds = []
    for i, t in enumerate(texts):
        for j, (params, codec, flags) in enumerate([(0x00, 6, 0x00), (0x03, 1, 0x3F), (0xFF, 9, 0x61), (0x24, 0x50, 0x1A)]):
            if (i + j) % 2 == 0:
                seeds.append(bytes([[0, 1, 0x08, 0x30][j], params, codec, flags ^ (i & 1)]) + t)
    # Compressed frames for the receive half: "Hello" per RFC 7692 §7.2.3.
    hello = b"\xf2\x48\xcd\xc9\xc9\x07\x00"
    for i, (first, p) in enumerate([(0xC1, hello), (0x41, hello[:3]), (0xC1, b"\x00\x00\xff\xff"), (0xC2, b"\xff" * 10)]):
        seeds.append(bytes([i, 0, 6, 0]) + frame(first, p, KEY) + frame(0x80 | (first & 0x0F) , p, KEY))
        seeds.append(bytes([i, 0, 6, 1]) + frame(first, p) + frame(0x80, b""))
    write("deflate", seeds)

    # connection_chunked: [cfg_a, cfg_b, mode, c0, c1, c2, c3, bytes...]
    seeds = []
    chunk_sets = [[1, 1, 1, 1], [2, 3, 5, 7], [0, 13, 100, 1], [64, 1, 2, 250]]
    for i, s in enumerate(streams(KEY)[:12]):
        seeds.append(bytes([[0, 1, 0x38, 0x21][i % 4], 0, 0]) + bytes(chunk_sets[i % 4]) + s)
    for i, s in enumerate(streams(None)[:8]):
        seeds.append(bytes([i % 2, 0, 1]) + bytes(chunk_sets[i % 4]) + s)
    seeds.append(bytes([0, 0, 2]) + bytes(chunk_sets[1]) + request() + frame(0x81, b"hi", KEY))
    seeds.append(bytes([1, 0, 2]) + bytes(chunk_sets[0]) + request(proto) + frame(0x01, b"\xe2\x82", KEY) + frame(0x80, b"\xac", KEY))
    seeds.append(bytes([0, 0, 3]) + bytes(chunk_sets[2]) + frame(0x81, b"hello") + frame(0x88, close(1000)))
    seeds.append(bytes([1, 0, 3]) + bytes(chunk_sets[3]) + frame(0x01, b"ab") + frame(0x89, b"") + frame(0x80, b"c"))
    seeds.append(bytes([0, 0, 4, 0, 6, 1, 2]) + frame(0xC1, hello, KEY) + frame(0xC1, hello, KEY))
    seeds.append(bytes([1, 0, 5, 3, 6, 3, 1]) + frame(0x41, hello[:4]) + frame(0x80, hello[4:]))
    write("connection_chunked", seeds)


if __name__ == "__main__":
    main()
