#!/usr/bin/env python3
"""Speed of wsproto_c against wsproto on this machine (prints figures; no
assertions). In memory, one thread, both ends in the same process:

- small: a 64-byte binary message, client send() + server receive_data() +
  events(), one message per call (masking, parsing, event objects);
- small-batch: 100 such messages per receive_data() call;
- large: a 1 MiB binary message the same way;
- handshakes: a full client/server opening handshake (Request,
  AcceptConnection, both sides' events).

    PYTHONPATH=bindings/python python bindings/python/bench.py [--seconds 1] [--rounds 3]
"""

from __future__ import annotations

import argparse
import importlib
import time


def pair(name):
    ws = importlib.import_module(name)
    ev = importlib.import_module(name + ".events")
    client = ws.WSConnection(ws.ConnectionType.CLIENT)
    server = ws.WSConnection(ws.ConnectionType.SERVER)
    server.receive_data(client.send(ev.Request(host="h", target="/")))
    list(server.events())
    client.receive_data(server.send(ev.AcceptConnection()))
    list(client.events())
    return ws, ev, client, server


def timed(fn, seconds):
    n = 0
    t0 = time.perf_counter()
    while True:
        n += fn()
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return n / dt


def bench(name, seconds):
    out = {}
    ws, ev, client, server = pair(name)
    small = ev.BytesMessage(data=b"x" * 64)

    def one_small():
        server.receive_data(client.send(small))
        for _ in server.events():
            pass
        return 1

    out["small"] = timed(one_small, seconds)

    def batch_small():
        data = b"".join(client.send(small) for _ in range(100))
        server.receive_data(data)
        for _ in server.events():
            pass
        return 100

    out["small-batch"] = timed(batch_small, seconds)
    large = ev.BytesMessage(data=b"y" * (1 << 20))

    def one_large():
        server.receive_data(client.send(large))
        for _ in server.events():
            pass
        return 1

    out["large"] = timed(one_large, seconds)

    def handshake():
        c = ws.WSConnection(ws.ConnectionType.CLIENT)
        s = ws.WSConnection(ws.ConnectionType.SERVER)
        s.receive_data(c.send(ev.Request(host="example.com", target="/chat")))
        for _ in s.events():
            c.receive_data(s.send(ev.AcceptConnection()))
        for _ in c.events():
            pass
        return 1

    out["handshakes"] = timed(handshake, seconds)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0, help="per workload and round")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best is shown")
    args = ap.parse_args()
    res: dict = {"wsproto": {}, "wsproto_c": {}}
    for _ in range(args.rounds):
        for name in res:
            for key, value in bench(name, args.seconds).items():
                res[name][key] = max(value, res[name].get(key, 0))
    import os
    import platform

    print(
        f"# {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}; best of {args.rounds} rounds of {args.seconds:g} s"
    )
    print(f"{'workload':<34} {'wsproto 1.3.2':>14} {'wsproto_c':>14} {'ratio':>7}")
    rows = [
        ("small (64 B), msg/s", "small", 1),
        ("small (64 B) x100 per read, msg/s", "small-batch", 1),
        ("large (1 MiB), msg/s", "large", 1),
        ("handshakes/s", "handshakes", 1),
    ]
    for label, key, _ in rows:
        a, b = res["wsproto"][key], res["wsproto_c"][key]
        print(f"{label:<34} {a:>14,.0f} {b:>14,.0f} {b / a:>6.1f}x")


if __name__ == "__main__":
    main()
