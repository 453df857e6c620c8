"""A real Mosquitto broker started on a free port with a temporary config, for tests and benchmarks."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

from tests.processes import terminate, wait_ready


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mosquitto:
    """A mosquitto process; ``stop()``/``start()`` restart it on the same port with its persistence."""

    def __init__(self, workdir: Path, port: int | None = None, extra: str = "") -> None:
        self.binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.workdir = workdir
        self.port = port or free_port()
        self.conf = workdir / "mosquitto.conf"
        self.log = workdir / "mosquitto.log"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {workdir}/\n"
            "max_queued_messages 1000000\n"
            "max_inflight_messages 200\n"
            f"log_dest file {self.log}\n"
            f"{extra}\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``mqtt://127.0.0.1:PORT``."""
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_ready(self.proc, self._accepts, f"mosquitto on port {self.port}", self.log, timeout=10)

    def _accepts(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
            return True

    def stop(self) -> None:
        """Stop gracefully (it saves its persistence file)."""
        if self.proc is not None:
            terminate(self.proc, 10)
            self.proc = None
