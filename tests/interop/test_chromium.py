"""Headless Chromium against `echo_server --deflate`.

Usage: test_chromium.py BUILD_DIR
Serves a small page on loopback (http.server), opens it in headless
Chromium (/usr/bin/chromium, installed by scripts/deps.sh), and the page's
JavaScript connects to echo_server, checks that `ws.extensions` names
permessage-deflate, round-trips text and binary messages (up to 1 MiB) and
POSTs its results back. Fails if Chromium cannot connect, the extension is
not negotiated, an echo differs, or no result arrives in time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from common import Results, bin_path, stop

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--no-default-browser-check", "--mute-audio"]

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>wsproto deflate</title>
<script>
const WS_PORT = %(port)d;
const results = {checks: [], extensions: null, done: false};
function check(what, ok, detail) { results.checks.push({what, ok: !!ok, detail: detail || ''}); }
function report() {
  return fetch('/result', {method: 'POST', body: JSON.stringify(results)});
}
function bytes(n, seed) {
  const b = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(b.subarray(off, Math.min(n, off + 65536)));
  // Make half of it compressible.
  for (let i = 0; i < n; i += 2) b[i] = (i * 7 + seed) & 0xff;
  return b;
}
function same(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
async function main() {
  const ws = new WebSocket(`ws://127.0.0.1:${WS_PORT}/browser`);
  ws.binaryType = 'arraybuffer';
  const inbox = [];
  let waiter = null;
  ws.onmessage = (e) => { inbox.push(e.data); if (waiter) { const w = waiter; waiter = null; w(); } };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error('WebSocket error before open'));
  });
  results.extensions = ws.extensions;
  check('permessage-deflate negotiated', ws.extensions.includes('permessage-deflate'), ws.extensions);
  const next = () => new Promise((resolve, reject) => {
    if (inbox.length) return resolve(inbox.shift());
    const t = setTimeout(() => reject(new Error('timeout')), 20000);
    waiter = () => { clearTimeout(t); resolve(inbox.shift()); };
  });
  const texts = ['', 'h', 'hello, deflate', 'héllo wörld ✓ 中文 😀 '.repeat(4000)];
  for (const t of texts) {
    ws.send(t);
    const got = await next();
    check(`text ${t.length} chars echoed`, got === t, typeof got === 'string' ? `${got.length} chars` : typeof got);
  }
  for (const n of [0, 1, 125, 65536, 70000, 1 << 20]) {
    const b = bytes(n, n & 0xff);
    ws.send(b);
    const got = await next();
    check(`binary ${n} bytes echoed`, got instanceof ArrayBuffer && same(new Uint8Array(got), b),
          got instanceof ArrayBuffer ? `${got.byteLength} bytes` : typeof got);
  }
  const closed = new Promise((resolve) => { ws.onclose = (e) => resolve(e); });
  ws.close(1000, 'done');
  const e = await closed;
  check('clean close 1000', e.code === 1000 && e.wasClean, `code ${e.code} clean ${e.wasClean}`);
}
main()
  .catch((e) => check('page script ran to completion', false, String(e)))
  .finally(() => { results.done = true; report(); });
</script>
<p>running</p>
"""


def main() -> int:
    build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
    echo_server = bin_path(build, "echo_server")
    r = Results("interop chromium")
    if not os.access(CHROMIUM, os.X_OK):
        r.check("chromium installed", False, f"{CHROMIUM} missing: run scripts/deps.sh")
        return r.summary()

    server = subprocess.Popen([echo_server, "--port", "0", "--deflate", "--verbose"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    if not line.startswith("listening on "):
        server.kill()
        r.check("echo_server started", False, line)
        return r.summary()
    ws_port = int(line.split()[-1])
    server_log: list[str] = []
    log_reader = threading.Thread(target=lambda: server_log.extend(server.stderr), daemon=True)
    log_reader.start()

    got_result = threading.Event()
    result: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            body = (PAGE % {"port": ws_port}).encode()
            self.send_response(200 if self.path in ("/", "/index.html") else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(204)
            self.end_headers()
            if self.path == "/result":
                result.update(json.loads(data))
                got_result.set()

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"

    profile = tempfile.mkdtemp(prefix="wsproto-chromium-")
    browser = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", url],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    start = time.monotonic()
    try:
        if not got_result.wait(90):
            r.check("page reported a result", False,
                    "no result within 90 s (chromium exited)" if browser.poll() is not None
                    else "no result within 90 s")
        else:
            print(f"  chromium: result after {time.monotonic() - start:.1f}s, "
                  f"extensions {result.get('extensions')!r}")
            r.check("page finished", result.get("done") is True)
            r.check("page ran checks", len(result.get("checks", [])) >= 10, str(result)[:300])
            for c in result.get("checks", []):
                r.check(f"browser: {c['what']}", c["ok"], c.get("detail", ""))
    finally:
        if browser.poll() is None:
            os.killpg(browser.pid, signal.SIGTERM)
            try:
                browser.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(browser.pid, signal.SIGKILL)
                browser.wait()
        httpd.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
        if browser.returncode not in (0, -signal.SIGTERM) and not got_result.is_set():
            print((browser.stderr.read() if browser.stderr else "")[-2000:])
        r.equal("echo_server exits 0 on SIGTERM", stop(server), 0)
        log_reader.join(5)
    # The server's side of the negotiation, from its --verbose log.
    r.check("echo_server negotiated permessage-deflate",
            any("permessage-deflate:" in line for line in server_log), "".join(server_log[-10:]))
    return r.summary()


if __name__ == "__main__":
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    sys.exit(main())
