"""A Python `websockets` echo server with permessage-deflate, for the C client.

Usage: py_deflate_echo_server.py [--snct] [--cnct] [--smwb N] [--cmwb N]
  --snct / --cnct  the server asks for server_/client_no_context_takeover
  --smwb / --cmwb  the server limits server_/client_max_window_bits to N
Without options it accepts whatever the client offers. Prints
`listening on PORT` (127.0.0.1, ephemeral) and serves until SIGTERM. Every
message is echoed whole, with its type.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from websockets.asyncio.server import serve
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory


async def main(args: argparse.Namespace) -> None:
    async def handler(ws) -> None:
        async for msg in ws:
            await ws.send(msg)

    factory = ServerPerMessageDeflateFactory(
        server_no_context_takeover=args.snct,
        client_no_context_takeover=args.cnct,
        server_max_window_bits=args.smwb,
        client_max_window_bits=args.cmwb,
    )
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(handler, "127.0.0.1", 0, compression=None, extensions=[factory],
                     max_size=None) as server:
        print(f"listening on {server.sockets[0].getsockname()[1]}", flush=True)
        await stop


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--snct", action="store_true")
    p.add_argument("--cnct", action="store_true")
    p.add_argument("--smwb", type=int)
    p.add_argument("--cmwb", type=int)
    asyncio.run(main(p.parse_args()))
