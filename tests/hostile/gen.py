#!/usr/bin/env python3
"""Expands the hostile-input catalogue source (cases.src) into the plain file
both test drivers read (cases.txt) and the documented table (README.md).

    python3 tests/hostile/gen.py           # rewrite cases.txt and README.md
    python3 tests/hostile/gen.py --check   # exit 1 if either is stale

cases.src is a list of blocks separated by blank lines; '#' starts a comment
line. Each block has `field: value` lines:

  case:    name; may hold {expr} parts filled from `for:` variables
  for:     optional Python expression giving a list of dicts; the block is
           repeated once per dict, with its keys as variables
  desc:    one line for the README ({expr} parts allowed)
  role:    server (default) | client
  mode:    frames (default; a frames-only connection, already OPEN)
           | handshake (server: reads a request; client: has sent its request)
  config:  optional key=value words (see cases.txt header)
  input:   a DSL expression giving the bytes of one receive call, or `eof`
           (one line per call)
  expect:  a shorthand that fills the expectation fields not given explicitly:
             fail CODE               the engine fails the connection with CODE
             peer_close CODE [HEX]   the peer closed with CODE (reason HEX)
             handshake_error STATUS  server: the request is refused with STATUS
             client_handshake_error  client: the response is refused
             ok                      give events: explicitly
  result:, events:, state:, output:, hint:   explicit expectation fields, in
           the cases.txt format; {expr} parts are evaluated (bytes -> hex)

The DSL is Python with these helpers: frame(), text(), binary(), cont(),
ping(), pong(), close(), request(), response(), hx(), u8(), and the opcodes
OP_*. Frames sent by the peer are masked when the receiving side is a server
(mask=None chooses this); pass mask=False/True to override.
"""

import base64
import hashlib
import re
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "cases.src"
TXT = HERE / "cases.txt"
README = HERE / "README.md"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MASK_KEY = bytes([0x37, 0xFA, 0x21, 0x3D])
# The drivers give the client an RNG that writes 0, 1, 2, ... into its buffer,
# so the first 16 bytes drawn (the Sec-WebSocket-Key nonce) are 00..0f.
CLIENT_KEY = base64.b64encode(bytes(range(16))).decode()
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_token(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


CLIENT_ACCEPT = accept_token(CLIENT_KEY)
SERVER_KEY = "dGhlIHNhbXBsZSBub25jZQ=="

# Set per case while its expressions are evaluated.
CTX = {"role": "server"}


def as_bytes(p):
    if isinstance(p, str):
        return p.encode("utf-8")
    return bytes(p)


def hx(s):
    """Bytes from hex; spaces allowed."""
    return bytes.fromhex(s.replace(" ", ""))


def u8(s):
    return s.encode("utf-8")


def frame(op, payload=b"", fin=1, rsv1=0, rsv2=0, rsv3=0, mask=None, length=None, form=None):
    """One frame. `length` overrides the length value written, `form` (7, 16
    or 64) forces the length encoding."""
    payload = as_bytes(payload)
    if mask is None:
        mask = CTX["role"] == "server"
    n = len(payload) if length is None else length
    if form is None:
        form = 7 if n < 126 else 16 if n < 65536 else 64
    out = bytearray([(fin << 7) | (rsv1 << 6) | (rsv2 << 5) | (rsv3 << 4) | op])
    m = 0x80 if mask else 0
    if form == 7:
        out.append(m | n)
    elif form == 16:
        out.append(m | 126)
        out += n.to_bytes(2, "big")
    else:
        out.append(m | 127)
        out += n.to_bytes(8, "big")
    if mask:
        out += MASK_KEY
        out += bytes(b ^ MASK_KEY[i % 4] for i, b in enumerate(payload))
    else:
        out += payload
    return bytes(out)


def text(p, **kw):
    return frame(OP_TEXT, p, **kw)


def binary(p, **kw):
    return frame(OP_BINARY, p, **kw)


def cont(p, **kw):
    return frame(OP_CONT, p, **kw)


def ping(p=b"", **kw):
    return frame(OP_PING, p, **kw)


def pong(p=b"", **kw):
    return frame(OP_PONG, p, **kw)


def close(code=None, reason=b"", **kw):
    p = b"" if code is None else code.to_bytes(2, "big") + as_bytes(reason)
    return frame(OP_CLOSE, p, **kw)


def http_head(line, headers, drop, set_, add):
    drop = {d.lower() for d in drop}
    set_ = {k.lower(): v for k, v in set_.items()}
    lines = [line]
    for name, value in headers:
        if name.lower() in drop:
            continue
        lines.append(f"{name}: {set_.get(name.lower(), value)}")
    lines += [f"{n}: {v}" for n, v in add]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def request(line="GET /chat HTTP/1.1", drop=(), set={}, add=()):  # noqa: A002 (DSL name)
    headers = [
        ("Host", "example.com"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", SERVER_KEY),
        ("Sec-WebSocket-Version", "13"),
    ]
    return http_head(line, headers, drop, set, add)


def response(line="HTTP/1.1 101 Switching Protocols", drop=(), set={}, add=()):  # noqa: A002
    headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", CLIENT_ACCEPT)]
    return http_head(line, headers, drop, set, add)


def deflated(data):
    """A message compressed as RFC 7692 §7.2.1 says: raw deflate, sync flush,
    the trailing 00 00 ff ff removed."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = c.compress(as_bytes(data)) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


# A client request offering permessage-deflate with default parameters.
def deflate_request():
    return request(add=[("Sec-WebSocket-Extensions", "permessage-deflate")])


DSL = {
    name: globals()[name]
    for name in [
        "frame", "text", "binary", "cont", "ping", "pong", "close", "request", "response", "hx", "u8",
        "OP_CONT", "OP_TEXT", "OP_BINARY", "OP_CLOSE", "OP_PING", "OP_PONG", "CLIENT_KEY", "CLIENT_ACCEPT",
        "SERVER_KEY", "accept_token", "deflated", "deflate_request",
    ]
}
# Invalid UTF-8 sequences (each wrapped in valid text by the split family).
DSL["BAD_UTF8"] = [
    ("overlong_slash_2", hx("c0 af")),
    ("overlong_nul_3", hx("e0 80 80")),
    ("overlong_4", hx("f0 80 80 af")),
    ("surrogate_d800", hx("ed a0 80")),
    ("surrogate_dfff", hx("ed bf bf")),
    ("above_10ffff", hx("f4 90 80 80")),
    ("lead_f5", hx("f5 80 80 80")),
    ("byte_ff", hx("ff")),
    ("lone_continuation", hx("80")),
    ("truncated_then_ascii", hx("e2 82 41")),
]


# ---- reading the source ---------------------------------------------------

FIELDS_OUT = ["case", "role", "mode", "config", "src", "input", "result", "events", "state", "output", "hint"]


def blocks(text):
    block, line_no = [], 0
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if line.startswith("#"):
            continue
        if not line:
            if block:
                yield line_no, block
            block = []
            continue
        if not block:
            line_no = n
        if raw[0] in " \t":
            block[-1] = (block[-1][0], block[-1][1] + " " + line.strip())
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise SystemExit(f"cases.src:{n}: expected 'field: value'")
        block.append((key.strip(), value.strip()))
    if block:
        yield line_no, block


def to_hex(v):
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    return str(v)


def fill(template, env):
    """Replaces {expr} parts with their value (bytes as hex)."""
    return re.sub(r"\{([^{}]+)\}", lambda m: to_hex(eval(m.group(1), dict(DSL), env)), template)


def expand(line_no, block):
    fields = {}
    inputs = []
    for k, v in block:
        if k == "input":
            inputs.append(v)
        elif k in fields:
            raise SystemExit(f"cases.src:{line_no}: field {k} given twice")
        else:
            fields[k] = v
    envs = eval(fields["for"], dict(DSL)) if "for" in fields else [{}]
    for env in envs:
        yield make_case(line_no, fields, inputs, dict(env))


def make_case(line_no, f, inputs, env):
    role = f.get("role", "server")
    mode = f.get("mode", "frames")
    CTX["role"] = role
    name = fill(f["case"], env)
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise SystemExit(f"cases.src:{line_no}: bad case name {name!r}")
    srcs, hexes = [], []
    for expr in inputs:
        if expr == "eof":
            srcs.append("eof")
            hexes.append("eof")
            continue
        value = eval(expr, dict(DSL), env)
        srcs.append(render_src(expr, env))
        hexes.append(as_bytes(value).hex())
    exp = fill(f.get("expect", "ok"), env).split()
    kind, args = exp[0], exp[1:]
    n = len(inputs)
    d = {"result": " ".join(["ok"] * n), "events": "", "state": "open", "output": "", "hint": ""}
    prefix = "http:101" if (mode, role) == ("handshake", "server") else "request" if mode == "handshake" else ""
    if kind == "fail":
        d.update(events=f"close:{args[0]}:8", state="closed", output=f"{prefix} close:{args[0]}")
    elif kind == "peer_close":
        reason = args[1] if len(args) > 1 else ""
        echo = "close" if args[0] == "1005" else f"close:{args[0]}"
        d.update(events=f"close:{args[0]}:0:{reason}", state="closed", output=f"{prefix} {echo}")
    elif kind == "handshake_error":
        d.update(
            result=" ".join(["ok"] * (n - 1) + ["handshake"]),
            state="closed",
            output=f"http:{args[0]}",
            hint=args[0],
        )
    elif kind == "client_handshake_error":
        d.update(result=" ".join(["ok"] * (n - 1) + ["handshake"]), state="closed", output="request")
    elif kind == "ok":
        d.update(output=prefix)
    else:
        raise SystemExit(f"cases.src:{line_no}: unknown expect {kind}")
    for k in ["result", "events", "state", "output", "hint"]:
        if k in f:
            d[k] = fill(f[k], env)
        d[k] = " ".join(d[k].split())
    if len(d["result"].split()) != n:
        raise SystemExit(f"cases.src:{line_no}: {name}: result needs one word per input")
    return {
        "case": name,
        "desc": fill(f.get("desc", ""), env),
        "role": role,
        "mode": mode,
        "config": f.get("config", ""),
        "src": srcs,
        "input": hexes,
        **d,
    }


def render_src(src, env):
    """The DSL line as written, with the family's variables shown."""
    if not env:
        return src
    shown = ", ".join(f"{k}={to_hex(v) if isinstance(v, bytes) else v!r}" for k, v in env.items())
    return f"{src}  where {shown}"


# ---- writing --------------------------------------------------------------

TXT_HEADER = """\
# GENERATED by tests/hostile/gen.py from cases.src: edit cases.src, then run
#   python3 tests/hostile/gen.py
# Read by tests/hostile.rs (Rust API) and tests/c/test_hostile.c (C API).
#
# Format: blocks separated by blank lines; '#' lines are comments; a line that
# starts with a space continues the previous field (joined with one space).
#   case:   unique name
#   role:   server | client
#   mode:   frames    -> a frames-only connection (already OPEN, no deflate)
#           handshake -> server: a fresh server connection reading a request;
#                        client: a fresh client that has sent its request for
#                        host "example.com", target "/chat", subprotocols from
#                        config "protocols", with an RNG writing 0,1,2,... so
#                        its Sec-WebSocket-Key is base64(00..0f).
#   config: space-separated key=value: max_frame_size, max_message_size,
#           max_handshake_size, max_handshake_headers (numbers),
#           message_mode=stream, auto_pong=0, auto_close_reply=0,
#           protocols=a,b (client offer), deflate=1 (permessage-deflate with
#           default parameters enabled in the config), deflate_params=default
#           (frames mode: the connection starts with permessage-deflate
#           negotiated elsewhere, default parameters; Rust API only for now).
#   src:    the DSL expression of each input (informational)
#   input:  hex bytes of one receive call (spaces ignored), or "eof" for
#           receive_eof; one line per call, fed in order.
# The driver, after every call, takes all events; a server answers a Request
# event with accept(no subprotocol, no headers); a server whose receive fails
# with a handshake error rejects at once with the status hint (no headers, no
# body). It then compares, as words:
#   result: one word per input: ok | closed | handshake | wrong_state |
#           invalid_argument (what that receive call returned)
#   events: every event, in order: request | accept | reject:STATUS |
#           text:FLAGS:HEX | binary:FLAGS:HEX (FLAGS: 1 frame finished,
#           2 message finished) | ping:HEX | pong:HEX |
#           close:CODE:8 (the engine failed the connection: protocol error) |
#           close:CODE:0:REASONHEX (the peer closed, or 1006 at end of input).
#           Data events are normalised first: consecutive chunks of one frame
#           are merged, and a frame never finished is dropped, so stream mode
#           compares equal however the input is split.
#   state:  connecting | open | remote_closing | local_closing | closed | rejecting
#   output: the bytes written, as words: http:STATUS (a response head; a 426
#           must carry "Sec-WebSocket-Version: 13", else it reads
#           http:426-noversion) | request (a client's GET head), then one word
#           per frame: close | close:CODE | ping:HEX | pong:HEX | text:HEX |
#           binary:HEX (frames unmasked; a frame masked against the role's
#           rule reads badmask, a truncated one truncated)
#   hint:   server handshake errors: handshake_status_hint() (else empty)
# Every case also runs fed one byte per receive call (stopping a call's bytes
# at the first error or once the state is closed, as a transport would); its
# outcome must be the same.
"""


def wrap(prefix, words, width=100):
    """`prefix w1 w2 ...`, continued on lines that start with a space."""
    lines, cur, empty = [], prefix, True
    for w in words:
        if not empty and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = " " + w
        else:
            cur += " " + w
        empty = False
    lines.append(cur)
    return lines


def chunks(h, n=64):
    return [h[i : i + n] for i in range(0, len(h), n)] or [""]


def write_txt(cases):
    out = [TXT_HEADER]
    for c in cases:
        out.append(f"case: {c['case']}")
        out.append(f"role: {c['role']}")
        out.append(f"mode: {c['mode']}")
        if c["config"]:
            out.append(f"config: {c['config']}")
        for s in c["src"]:
            out.append(f"src: {s}")
        for h in c["input"]:
            out += wrap("input:", chunks(h))
        for k in ["result", "events", "state", "output", "hint"]:
            if k == "hint" and not c[k]:
                continue
            out += wrap(f"{k}:", c[k].split()) if c[k] else [f"{k}:"]
        out.append("")
    return "\n".join(out)


def short(s, n=90):
    s = s.replace("|", "\\|")
    return s if len(s) <= n else s[: n - 3] + "..."


def expectation(c):
    ev = c["events"].split()
    last = ev[-1] if ev else ""
    if c["hint"]:
        return f"handshake error, HTTP {c['hint']}"
    if "handshake" in c["result"].split():
        return "handshake error (client closes)"
    if last.startswith("close:") and last.split(":")[2] == "8":
        return f"close {last.split(':')[1]} (protocol error)"
    if last.startswith("close:"):
        return f"peer close {last.split(':')[1]}"
    if "closed" in c["result"].split():
        return "WS_ERR_CLOSED / ErrorKind::Closed"
    return "accepted: " + short(" ".join(ev) or "(no events)", 40)


def write_readme(cases):
    out = [
        "# Hostile input catalogue",
        "",
        "GENERATED by `tests/hostile/gen.py` from `cases.src` (do not edit by hand).",
        "Every case runs through the Rust API (`tests/hostile.rs`, test `hostile_catalogue`) and the C API",
        "(`tests/c/test_hostile.c`), fed whole and one byte at a time; both read `cases.txt`, whose header",
        "documents the format. A case fails, by name, when the engine's behaviour changes.",
        "",
        f"{len(cases)} cases.",
        "",
        "| case | role / mode | input | expected |",
        "|---|---|---|---|",
    ]
    for c in cases:
        what = c["desc"] or " ; ".join(c["src"])
        cfg = f" [{c['config']}]" if c["config"] else ""
        out.append(
            f"| `{c['case']}` | {c['role']} / {c['mode']} | {short(what)}{short(cfg, 60)} | {expectation(c)} |"
        )
    out.append("")
    return "\n".join(out)


def main():
    cases = []
    for line_no, block in blocks(SRC.read_text()):
        cases += list(expand(line_no, block))
    names = [c["case"] for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit(f"duplicate case names: {sorted(dup)}")
    txt, readme = write_txt(cases), write_readme(cases)
    if "--check" in sys.argv[1:]:
        stale = [p.name for p, t in [(TXT, txt), (README, readme)] if not p.exists() or p.read_text() != t]
        if stale:
            print(f"stale: {', '.join(stale)}; run python3 tests/hostile/gen.py", file=sys.stderr)
            sys.exit(1)
        print(f"{len(cases)} cases, cases.txt and README.md are current")
        return
    TXT.write_text(txt)
    README.write_text(readme)
    print(f"wrote {len(cases)} cases")


if __name__ == "__main__":
    main()
