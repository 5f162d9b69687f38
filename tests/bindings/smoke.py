#!/usr/bin/env python3
"""Smoke test shared by every binding's echo server (and the C one).

Usage: smoke.py [--deflate] -- SERVER_COMMAND...

Starts SERVER_COMMAND with `--port 0` (and `--deflate` when asked) appended,
waits for its "listening on PORT" line on stdout, then a Python `websockets`
client round-trips: a text message, a binary message, a 1 MiB binary and a
1 MiB text message, a ping (the pong must carry the same payload), and a
clean close (1000 echoed back). With --deflate the client offers
permessage-deflate and checks that the server accepted it; without, it
offers it too and checks that the server declined (the server was started
without --deflate). Exit status 0 means every step passed.
"""
import asyncio
import os
import subprocess
import sys

from websockets.asyncio.client import connect


def fail(msg):
    print(f"smoke: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


async def run(port, deflate):
    uri = f"ws://127.0.0.1:{port}/smoke"
    async with connect(uri, compression="deflate", max_size=4 << 20,
                       open_timeout=10, close_timeout=10) as ws:
        names = [type(e).__name__ for e in ws.protocol.extensions]
        negotiated = any("Deflate" in n for n in names)
        if negotiated != deflate:
            fail(f"permessage-deflate negotiated={negotiated}, expected {deflate}")

        async def echo(msg, what):
            await ws.send(msg)
            got = await asyncio.wait_for(ws.recv(), 20)
            if type(got) is not type(msg) or got != msg:
                fail(f"{what}: echo differs ({type(got).__name__}, {len(got)} vs {len(msg)})")
            print(f"smoke: {what} ok ({len(msg)} bytes)")

        await echo("hello, wsproto \u00e9\u20ac", "text")
        await echo(bytes(range(256)) * 4, "binary")
        big = os.urandom(1 << 20)
        await echo(big, "1 MiB binary")
        await echo(("0123456789abcdef" * 65536), "1 MiB text")
        pong = await ws.ping(b"smoke-ping")
        await asyncio.wait_for(pong, 10)
        print("smoke: ping/pong ok")
        await ws.close(1000, "bye")
        if ws.close_code != 1000:
            fail(f"close code {ws.close_code}, expected 1000")
        print("smoke: close ok")


def main():
    args = sys.argv[1:]
    deflate = False
    if args and args[0] == "--deflate":
        deflate = True
        args = args[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmd = args + ["--port", "0"] + (["--deflate"] if deflate else [])
    print("smoke: starting", " ".join(cmd))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        port = None
        for line in proc.stdout:
            if line.startswith("listening on "):
                port = int(line.split()[2])
                break
        if port is None:
            fail("server exited without printing 'listening on PORT'")
        asyncio.run(asyncio.wait_for(run(port, deflate), 120))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    print(f"smoke: passed ({'with' if deflate else 'without'} permessage-deflate)")


if __name__ == "__main__":
    main()
