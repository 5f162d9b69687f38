"""permessage-deflate interop over loopback, Python side and C client side.

Usage: test_deflate_py.py BUILD_DIR
  (a) Python `websockets` client -> `echo_server --deflate`, for every
      parameter combination of deflate_common.combos(): context takeover
      on/off each way, windows 9..15 each side; text and binary, whole and
      fragmented, each sent twice (context takeover); the negotiated
      extension is asserted from the client's view.
  (b) `client --deflate-offer ... --expect-deflate` -> a `websockets` echo
      server and a Node `ws` echo server with compression, same matrix; the
      `deflate:` line shows what the C engine negotiated.
Echoes must be byte-identical (the C client checks its own).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from websockets.asyncio.client import connect
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from common import Results, bin_path, start_listening, stop
from deflate_common import (combos, deflate_line, fragments, offer_spec, parse_extension_header,
                            payload, sizes_for)

HERE = os.path.dirname(os.path.abspath(__file__))


def negotiated(ws) -> tuple[bool, bool, int, int] | None:
    """The client's view of what was negotiated, from websockets' extension."""
    exts = ws.protocol.extensions
    if len(exts) != 1 or exts[0].name != "permessage-deflate":
        return None
    e = exts[0]
    return (e.remote_no_context_takeover, e.local_no_context_takeover, e.remote_max_window_bits,
            e.local_max_window_bits)


async def echo_all(ws, sizes: list[int], tag: str, r: Results) -> None:
    for n in sizes:
        for text in (False, True):
            kind = "text" if text else "binary"
            data = payload(n, n + 1, text)
            msg = data.decode() if text else data
            # Twice whole (the second one exercises context takeover), then fragmented.
            for attempt in ("whole", "again"):
                await ws.send(msg)
                got = await ws.recv()
                r.check(f"{tag} {kind} {n} B {attempt}", got == msg,
                        f"got {len(got)} {type(got).__name__}")
            parts = fragments(data)
            await ws.send([p.decode() for p in parts] if text else parts)
            got = await ws.recv()
            r.check(f"{tag} {kind} {n} B fragmented", got == msg, f"got {len(got)}")


async def python_client_matrix(url: str, r: Results) -> None:
    for combo in combos():
        snct, cnct, sw, cw = combo
        tag = f"[py->C {offer_spec(combo)}]"
        factory = ClientPerMessageDeflateFactory(
            server_no_context_takeover=snct, client_no_context_takeover=cnct,
            server_max_window_bits=sw, client_max_window_bits=cw)
        async with connect(url, compression=None, extensions=[factory], max_size=None,
                           open_timeout=10, close_timeout=10) as ws:
            r.equal(f"{tag} negotiated", negotiated(ws), combo)
            hdr = parse_extension_header(ws.response.headers.get("Sec-WebSocket-Extensions", ""))
            r.check(f"{tag} response header", "permessage-deflate" in hdr
                    and ("server_no_context_takeover" in hdr) == snct
                    and ("client_no_context_takeover" in hdr) == cnct, repr(hdr))
            await echo_all(ws, sizes_for(combo), tag, r)
            await ws.close()
            r.equal(f"{tag} close code", ws.close_code, 1000)


async def python_client_defaults(url_default: str, url_w10: str, url_off: str, r: Results) -> None:
    # websockets' default offer: permessage-deflate; client_max_window_bits.
    async with connect(url_default, max_size=None) as ws:
        r.equal("[py->C default offer] negotiated", negotiated(ws), (False, False, 15, 15))
        await echo_all(ws, [0, 1, 125, 64 << 10], "[py->C default offer]", r)
    async with connect(url_w10, max_size=None) as ws:
        # echo_server --deflate-window 10 compresses with 10 bits and, since
        # the offer allows it, limits the client to 10 too.
        r.equal("[py->C --deflate-window 10] negotiated", negotiated(ws), (False, False, 10, 10))
        await echo_all(ws, [125, 64 << 10], "[py->C --deflate-window 10]", r)
    async with connect(url_off, max_size=None) as ws:
        r.equal("[py->C server without --deflate] no extension", ws.protocol.extensions, [])
        await echo_all(ws, [125], "[py->C no deflate]", r)


def c_client_runs(client: str, url: str, peer: str, expect_of, r: Results,
                  restrictive: list[tuple[list[str], tuple[bool, bool, int, int]]]) -> None:
    """Runs the C client for every combo against one server; expect_of(combo)
    gives the parameters that server is expected to grant."""
    def run(args: list[str], want: tuple[bool, bool, int, int], sizes: list[int], tag: str,
            fragment: int | None) -> None:
        msg_args = []
        for n in sizes:
            msg_args += ["--text-size", str(n), "--binary-size", str(n)]
        extra = ["--fragment", str(fragment)] if fragment else []
        res = subprocess.run([client, url, *args, "--expect-deflate", "--count", "2", *msg_args, *extra],
                             capture_output=True, text=True, timeout=120)
        lines = res.stdout.splitlines()
        ok = r.check(f"{tag} exit 0", res.returncode == 0, (res.stderr or res.stdout)[-300:])
        r.equal(f"{tag} negotiated", lines[:1], [deflate_line(*want)])
        echoes = [ln for ln in lines if ln.startswith("< ")]
        r.equal(f"{tag} echo count", len(echoes), 2 * 2 * len(sizes))
        if ok:
            r.equal(f"{tag} clean close", lines[-1:], ["closed: 1000"])

    for combo in combos():
        spec = offer_spec(combo)
        sizes = sizes_for(combo)
        run(["--deflate-offer", spec], expect_of(combo), sizes, f"[C->{peer} {spec}]", None)
        # Fragmented: frames of at most 1000 bytes (small messages stay whole).
        frag_sizes = [125, 64 << 10] if len(sizes) > 3 else [125]
        run(["--deflate-offer", spec], expect_of(combo), frag_sizes, f"[C->{peer} {spec} fragmented]", 50)
    for args, want in restrictive:
        run(args, want, [0, 1, 125, 64 << 10], f"[C->{peer} {' '.join(args)}]", None)


def main() -> int:
    build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
    echo_server = bin_path(build, "echo_server")
    client = bin_path(build, "client")
    r = Results("interop deflate-py")

    servers = []
    try:
        p_def, port_def = start_listening([echo_server, "--port", "0", "--deflate"])
        servers.append(p_def)
        p_w10, port_w10 = start_listening([echo_server, "--port", "0", "--deflate-window", "10"])
        servers.append(p_w10)
        p_off, port_off = start_listening([echo_server, "--port", "0"])
        servers.append(p_off)
        url = f"ws://127.0.0.1:{port_def}/deflate"
        asyncio.run(python_client_matrix(url, r))
        asyncio.run(python_client_defaults(url, f"ws://127.0.0.1:{port_w10}/",
                                           f"ws://127.0.0.1:{port_off}/", r))
        # The C client against the C server, default offer.
        res = subprocess.run([client, url, "--deflate", "--expect-deflate", "--text", "hi"],
                             capture_output=True, text=True, timeout=60)
        r.equal("[C->C default offer]", (res.returncode, res.stdout.splitlines()[:1]),
                (0, [deflate_line(False, False, 15, 15)]))
        res = subprocess.run([client, f"ws://127.0.0.1:{port_off}/", "--deflate", "--expect-deflate",
                              "--text", "hi"], capture_output=True, text=True, timeout=60)
        r.check("[C->C no deflate] --expect-deflate fails", res.returncode != 0
                and "deflate: none" in res.stdout, res.stdout + res.stderr)
    finally:
        for p in servers:
            r.equal("echo_server exits 0 on SIGTERM", stop(p), 0)

    # (b) C client -> websockets: it grants every offer as made.
    py_server = [sys.executable, os.path.join(HERE, "py_deflate_echo_server.py")]
    proc, port = start_listening(py_server)
    try:
        c_client_runs(client, f"ws://127.0.0.1:{port}/", "websockets", lambda c: c, r, [
            (["--deflate"], (False, False, 15, 15)),
        ])
    finally:
        stop(proc)
    proc, port = start_listening(py_server + ["--snct", "--cnct", "--smwb", "10", "--cmwb", "11"])
    try:
        c_client_runs(client, f"ws://127.0.0.1:{port}/", "websockets(strict)",
                      lambda c: (True, True, min(c[2], 10), min(c[3], 11)), r, [
                          (["--deflate"], (True, True, 10, 11)),
                      ])
    finally:
        stop(proc)

    # (b) C client -> Node ws.
    node_server = ["node", os.path.join(HERE, "node", "ws_deflate_echo_server.js")]
    proc, port = start_listening(node_server)
    try:
        c_client_runs(client, f"ws://127.0.0.1:{port}/", "ws", lambda c: c, r, [
            (["--deflate"], (False, False, 15, 15)),
        ])
    finally:
        stop(proc)
    strict = {"serverNoContextTakeover": True, "clientNoContextTakeover": True,
              "serverMaxWindowBits": 10, "clientMaxWindowBits": 11}
    proc, port = start_listening(node_server + [json.dumps(strict)])
    try:
        # With fixed window sizes ws declines many of the matrix's offers
        # (a smaller server window than its own, no client_max_window_bits):
        # only the default offer is run against it.
        c_client_runs_default_only(client, f"ws://127.0.0.1:{port}/", r)
    finally:
        stop(proc)
    return r.summary()


def c_client_runs_default_only(client: str, url: str, r: Results) -> None:
    res = subprocess.run([client, url, "--deflate", "--expect-deflate", "--count", "2",
                          "--text-size", "125", "--binary-size", str(64 << 10)],
                         capture_output=True, text=True, timeout=60)
    r.equal("[C->ws(strict) --deflate]", (res.returncode, res.stdout.splitlines()[:1]),
            (0, [deflate_line(True, True, 10, 11)]))


if __name__ == "__main__":
    os.chdir(os.path.join(HERE, "..", ".."))
    sys.exit(main())
