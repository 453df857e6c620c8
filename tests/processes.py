"""Real server processes for tests and benchmarks: wait until one is ready, stop it gracefully."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def wait_ready(proc: subprocess.Popen[bytes], ready: Callable[[], bool], name: str, log: Path,
               timeout: float) -> None:
    """Poll ``ready()`` (an ``OSError`` counts as not yet) until true; fail if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: see {log}")
        time.sleep(0.05)
    raise RuntimeError(f"{name} was not ready within {timeout:g} s: see {log}")


def terminate(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM (so it saves its state), then SIGKILL if it has not exited within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
