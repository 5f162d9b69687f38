"""Shared helpers for the interop drivers: result tallying and child servers."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time


class Results:
    """Counts checks; prints one line per failure and a final summary line."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.passed = 0
        self.failed = 0

    def check(self, what: str, ok: bool, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            if os.environ.get("INTEROP_VERBOSE"):
                print(f"  ok   {what}")
        else:
            self.failed += 1
            print(f"  FAIL {what}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    def equal(self, what: str, got, want) -> bool:
        return self.check(what, got == want, f"got {short(got)}, want {short(want)}")

    def summary(self) -> int:
        print(f"{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 and self.passed > 0 else 1


def short(v) -> str:
    r = repr(v)
    return r if len(r) <= 80 else f"{r[:60]}... ({len(v) if hasattr(v, '__len__') else '?'} long)"


def start_listening(cmd: list[str], timeout: float = 20.0, **kw) -> tuple[subprocess.Popen, int]:
    """Starts a server that prints `listening on PORT` first; returns (proc, port)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, **kw)
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    if not line.startswith("listening on ") or time.monotonic() > deadline:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"{cmd[0]} did not report its port (got {line!r})")
    return proc, int(line.split()[-1])


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> int | None:
    """SIGTERM, then wait; returns the exit status (None if it had to be killed)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None
    if proc.stdout:
        proc.stdout.close()
    return proc.returncode


def bin_path(build_dir: str, name: str) -> str:
    path = os.path.join(build_dir, name)
    if not os.access(path, os.X_OK):
        sys.exit(f"{path} not found: build first (cmake --build {build_dir})")
    return path
