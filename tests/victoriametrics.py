"""A real VictoriaMetrics (Debian's ``victoria-metrics``) on a free port, with deduplication as a district runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mosquitto import free_port
from tests.processes import terminate, wait_ready

BINARY = "/usr/bin/victoria-metrics"


def vm_binary() -> str | None:
    """Path of ``victoria-metrics`` if installed."""
    return shutil.which("victoria-metrics") or (BINARY if Path(BINARY).exists() else None)


class VictoriaMetrics:
    """A single-node VictoriaMetrics; ``stop()``/``start()`` restart it on the same port and data."""

    def __init__(self, workdir: Path, extra_args: tuple[str, ...] = ()) -> None:
        binary = vm_binary()
        if binary is None:
            raise RuntimeError("victoria-metrics is not installed; run scripts/test (it installs Debian's package)")
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.log = workdir / "victoria-metrics.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._logf: Any = None
        #: More flags (the district bench: ``-search.latencyOffset``).
        self.extra_args = extra_args

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start and wait until ``/health`` answers."""
        self._logf = self.log.open("ab")
        self.proc = subprocess.Popen(
            [self.binary, f"-httpListenAddr=127.0.0.1:{self.port}", f"-storageDataPath={self.workdir / 'data'}",
             # one sample per series and millisecond: a point written twice is stored once
             "-dedup.minScrapeInterval=1ms", "-retentionPeriod=100y", "-loggerLevel=WARN", *self.extra_args],
            stdout=self._logf, stderr=subprocess.STDOUT)
        wait_ready(self.proc, self._healthy, f"victoria-metrics on port {self.port}", self.log, timeout=30)

    def _healthy(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/health", timeout=0.5) as r:
            return bool(r.status == 200)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM: it flushes its buffers), waiting for the process to exit."""
        if self.proc is not None:
            terminate(self.proc, 20)
            self.proc = None
        if self._logf is not None:
            self._logf.close()
            self._logf = None

    def flush(self) -> None:
        """Make what was written searchable now (VictoriaMetrics otherwise waits about a second)."""
        with urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=10):
            pass

    def write(self, lines: list[str]) -> None:
        """Line protocol into the InfluxDB endpoint (database ``houqin``), as the sites' uplinks write; then flush."""
        req = urllib.request.Request(f"{self.url}/write?db=houqin&precision=ms", data="\n".join(lines).encode(),
                                     method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 204
        self.flush()

    def export(self, match: str) -> list[dict[str, Any]]:
        """Every stored sample of the series ``match`` selects (``/api/v1/export``, deduplicated), one per series."""
        self.flush()
        data = urllib.parse.urlencode({"match[]": match}).encode()
        with urllib.request.urlopen(f"{self.url}/api/v1/export", data=data, timeout=10) as r:
            return [json.loads(line) for line in r.read().decode().splitlines() if line.strip()]

    def counts(self, match: str) -> dict[tuple[tuple[str, str], ...], int]:
        """Samples per series (keyed by its sorted labels, ``__name__`` included) for ``match``."""
        return {tuple(sorted(s["metric"].items())): len(s["timestamps"]) for s in self.export(match)}


@pytest.fixture
def victoriametrics(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    """A VictoriaMetrics of this test alone, which the test may stop and start."""
    if vm_binary() is None:
        pytest.fail("victoria-metrics is not installed; run scripts/test (it installs Debian's package)")
    workdir = tmp_path / "victoria-metrics"
    workdir.mkdir()
    server = VictoriaMetrics(workdir)
    server.start()
    yield server
    server.stop()
