"""The C client's Autobahn driver mode against a small fake fuzzing server.

Usage: test_autobahn_driver.py BUILD_DIR

The fake speaks the fuzzing server's URL protocol (/getCaseCount,
/runCase?case=N&agent=A, /updateReports?agent=A) with 3 cases of its own that
check the client echoes correctly, answers pings, and fails the connection with
1007 on invalid UTF-8.

With --deflate the driver is run against fakes whose permessage-deflate
answers are those of the suite's cases 12.x/13.x (default, no context
takeover, client_max_window_bits 8, 9 and 15, both directions limited): each
one checks that compression was negotiated on every case connection, with the
parameters it asked for, and that the client's frames really were compressed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

from common import Results, bin_path

AGENT = "wsproto c/1.0 (test)"  # needs percent-encoding in the query


def pattern(n: int, seed: int) -> bytes:
    base = bytes((i * 13 + seed) & 0xFF for i in range(256))
    return (base * (n // 256 + 1))[:n]


class CountingDeflateFactory(ServerPerMessageDeflateFactory):
    """The websockets server's permessage-deflate, counting the compressed
    (RSV1) frames it receives, so the test knows the client compressed."""

    def __init__(self, counts: dict[str, int], **kwargs) -> None:
        super().__init__(**kwargs)
        self.counts = counts

    def process_request_params(self, params, accepted_extensions):
        response, ext = super().process_request_params(params, accepted_extensions)
        decode = ext.decode
        counts = self.counts

        def counting_decode(frame, *, max_size=None):
            if frame.rsv1:
                counts["compressed"] += 1
            return decode(frame, max_size=max_size)

        ext.decode = counting_decode
        return response, ext


class FakeFuzzingServer:
    def __init__(self) -> None:
        self.case_count_requests = 0
        self.cases: dict[int, str] = {}  # case -> "ok" or what went wrong
        self.agents: set[str] = set()
        self.reports: list[str] = []
        # case -> the Sec-WebSocket-Extensions the fake answered with
        self.extensions: dict[int, str | None] = {}
        self.offers: dict[int, str | None] = {}

    async def expect_echo(self, ws, msg) -> None:
        await ws.send(msg)
        got = await asyncio.wait_for(ws.recv(), 10)
        if got != msg:
            raise AssertionError(f"echo mismatch ({len(got)} vs {len(msg)})")

    async def run_case(self, ws, case: int) -> None:
        if case == 1:
            await self.expect_echo(ws, "Hello")
            await self.expect_echo(ws, pattern(1000, 1))
            await self.expect_echo(ws, "")
            await ws.close(1000)
        elif case == 2:
            await asyncio.wait_for(await ws.ping(b"fuzz"), 10)
            await ws.send(["frag", "ment", "ed"])
            got = await asyncio.wait_for(ws.recv(), 10)
            if got != "fragmented":
                raise AssertionError(f"fragmented echo was {got!r}")
            await self.expect_echo(ws, pattern(65536, 2))
            await ws.close(1000)
        elif case == 3:
            await self.expect_echo(ws, "ünïcödé 😀" * 1000)
            await self.expect_echo(ws, pattern(1 << 20, 3))
            # Invalid UTF-8 in a text frame: the client must fail the
            # connection with 1007.
            await ws.send(b"ok \xff\xfe", text=True)
            try:
                await asyncio.wait_for(ws.recv(), 10)
                raise AssertionError("invalid UTF-8 was echoed")
            except ConnectionClosed:
                if ws.close_code != 1007:
                    raise AssertionError(f"client closed with {ws.close_code}, want 1007")
        else:
            raise AssertionError(f"no case {case}")

    async def handler(self, ws) -> None:
        url = urlsplit(ws.request.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if "agent" in query:
            self.agents.add(query["agent"])
        if url.path == "/getCaseCount":
            self.case_count_requests += 1
            await ws.send("3")
            await ws.close()
        elif url.path == "/runCase":
            case = int(query.get("case", "0"))
            self.offers[case] = ws.request.headers.get("Sec-WebSocket-Extensions")
            self.extensions[case] = ws.response.headers.get("Sec-WebSocket-Extensions")
            try:
                await self.run_case(ws, case)
                self.cases[case] = "ok"
            except Exception as e:  # recorded, then checked by the test
                self.cases[case] = f"{type(e).__name__}: {e}"
                await ws.close(1011)
        elif url.path == "/updateReports":
            self.reports.append(query.get("agent", ""))
            await ws.close()
        else:
            await ws.close(1008, "unknown endpoint")


async def run_driver(client: str, port: int, extra: list[str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        client, "--autobahn", f"ws://127.0.0.1:{port}", "--agent", AGENT, *extra,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, out.decode(), err.decode()


# The suite's server answers (cases 12.x/13.x) as websockets factory settings,
# with the Sec-WebSocket-Extensions answer each one must produce.
DEFLATE_FAKES = [
    ("default", {}, "permessage-deflate"),
    ("no context takeover", dict(client_no_context_takeover=True, server_no_context_takeover=True),
     "permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
    ("client window 8", dict(client_max_window_bits=8), "permessage-deflate; client_max_window_bits=8"),
    ("client window 15", dict(client_max_window_bits=15), "permessage-deflate; client_max_window_bits=15"),
    ("both windows 9, no takeover",
     dict(client_no_context_takeover=True, client_max_window_bits=9, server_max_window_bits=9),
     "permessage-deflate; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9"),
]


async def deflate_runs(client: str, r: Results) -> None:
    for name, settings, answer in DEFLATE_FAKES:
        fake = FakeFuzzingServer()
        counts = {"compressed": 0}
        factory = CountingDeflateFactory(counts, **settings)
        async with serve(fake.handler, "127.0.0.1", 0, max_size=None, compression=None,
                         extensions=[factory]) as server:
            port = server.sockets[0].getsockname()[1]
            code, out, err = await run_driver(client, port, ["--deflate"])
        r.equal(f"[{name}] --deflate driver exits 0", code, 0)
        if code:
            print(err)
        for case in (1, 2, 3):
            r.equal(f"[{name}] case {case} passed on the fake server", fake.cases.get(case), "ok")
            r.equal(f"[{name}] case {case} negotiated", fake.extensions.get(case), answer)
            offer = fake.offers.get(case) or ""
            r.check(f"[{name}] case {case} offers both alternatives",
                    offer == "permessage-deflate; client_max_window_bits, "
                             "permessage-deflate; client_no_context_takeover; client_max_window_bits",
                    offer)
        r.check(f"[{name}] the client's frames were compressed", counts["compressed"] > 0, str(counts))
        r.equal(f"[{name}] driver output", out.splitlines(), [
            "autobahn: 3 cases",
            "case 1: closed 1000, permessage-deflate",
            "case 2: closed 1000, permessage-deflate",
            "case 3: closed 1007, permessage-deflate",
            "autobahn: ran 3 cases, reports updated",
        ])

    # A fake that declines compression: the cases still run, uncompressed,
    # and the driver says so.
    fake = FakeFuzzingServer()
    async with serve(fake.handler, "127.0.0.1", 0, max_size=None, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        code, out, err = await run_driver(client, port, ["--deflate", "--cases", "1"])
    r.equal("declined: exits 0", code, 0)
    r.equal("declined: case 1 passed uncompressed", (fake.cases.get(1), fake.extensions.get(1)), ("ok", None))
    r.check("declined: driver says uncompressed", "case 1: closed 1000, uncompressed" in out.splitlines(), out)


async def main(client: str, r: Results) -> None:
    fake = FakeFuzzingServer()
    async with serve(fake.handler, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]

        code, out, err = await run_driver(client, port, [])
        r.equal("driver exits 0", code, 0)
        if code:
            print(err)
        r.equal("getCaseCount asked once", fake.case_count_requests, 1)
        for case in (1, 2, 3):
            r.equal(f"case {case} passed on the fake server", fake.cases.get(case), "ok")
        r.equal("agent name arrives intact", fake.agents, {AGENT})
        r.equal("no --deflate: nothing offered", set(fake.offers.values()), {None})
        r.equal("updateReports asked for the agent", fake.reports, [AGENT])
        lines = out.splitlines()
        r.equal("driver output", lines, [
            "autobahn: 3 cases",
            "case 1: closed 1000",
            "case 2: closed 1000",
            "case 3: closed 1007",
            "autobahn: ran 3 cases, reports updated",
        ])

        fake.cases.clear()
        code, out, err = await run_driver(client, port, ["--cases", "2-3"])
        r.equal("--cases 2-3 exits 0", code, 0)
        r.equal("--cases 2-3 runs exactly cases 2 and 3", sorted(fake.cases), [2, 3])
        r.check("--cases 2-3 cases pass", all(v == "ok" for v in fake.cases.values()),
                str(fake.cases))

        fake.cases.clear()
        code, out, err = await run_driver(client, port, ["--cases", "2"])
        r.equal("--cases 2 runs only case 2", (code, sorted(fake.cases)), (0, [2]))

    await deflate_runs(client, r)


if __name__ == "__main__":
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
    results = Results("interop autobahn-driver")
    try:
        asyncio.run(main(bin_path(build, "client"), results))
    except Exception as e:
        results.check("driver ran to completion", False, f"{type(e).__name__}: {e}")
    sys.exit(results.summary())
