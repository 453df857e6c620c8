"""A real InfluxDB 1.x (Debian's ``influxd``) started on free ports with a temporary directory."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mosquitto import free_port
from tests.processes import terminate, wait_ready

INFLUXD = "/usr/bin/influxd"


def influxd_binary() -> str | None:
    """Path of ``influxd`` if installed."""
    return shutil.which("influxd") or (INFLUXD if Path(INFLUXD).exists() else None)


class Influxd:
    """An ``influxd`` process; ``stop()``/``start()`` restart it on the same ports and data."""

    def __init__(self, workdir: Path, *, auth: bool = False) -> None:
        binary = influxd_binary()
        if binary is None:
            raise RuntimeError("influxd is not installed; run scripts/test (it installs Debian's influxdb)")
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.bind_port = free_port()
        self.conf = workdir / "influxdb.conf"
        self.log = workdir / "influxd.log"
        for sub in ("meta", "data", "wal"):
            (workdir / sub).mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            "reporting-disabled = true\n"
            f'bind-address = "127.0.0.1:{self.bind_port}"\n'
            "[meta]\n"
            f'  dir = "{workdir}/meta"\n'
            "[data]\n"
            f'  dir = "{workdir}/data"\n'
            f'  wal-dir = "{workdir}/wal"\n'
            '  wal-fsync-delay = "0s"\n'
            '  query-log-enabled = false\n'
            '  index-version = "inmem"\n'
            "[coordinator]\n"
            "  log-queries-after = \"0s\"\n"
            "[http]\n"
            "  enabled = true\n"
            f'  bind-address = "127.0.0.1:{self.port}"\n'
            "  log-enabled = false\n"
            f"  auth-enabled = {'true' if auth else 'false'}\n"
            "  max-row-limit = 0\n"
            "[monitor]\n"
            "  store-enabled = false\n"
            "[subscriber]\n"
            "  enabled = false\n"
            "[continuous_queries]\n"
            "  enabled = false\n"
            "[logging]\n"
            '  level = "warn"\n'
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self._logf: Any = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start and wait until ``/ping`` answers."""
        self._logf = self.log.open("ab")
        self.proc = subprocess.Popen([self.binary, "-config", str(self.conf)], stdout=self._logf,
                                     stderr=subprocess.STDOUT)
        wait_ready(self.proc, self._pings, f"influxd on port {self.port}", self.log, timeout=30)

    def _pings(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/ping", timeout=0.5) as r:
            return bool(r.status == 204)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), waiting for the process to exit."""
        if self.proc is not None:
            terminate(self.proc, 20)
            self.proc = None
        if self._logf is not None:
            self._logf.close()
            self._logf = None

    def query(self, q: str, db: str | None = None) -> dict[str, Any]:
        """Run InfluxQL directly (independent of the code under test); returns the parsed JSON."""
        params = {"q": q, "epoch": "ms"}
        if db:
            params["db"] = db
        data = urllib.parse.urlencode(params).encode()
        with urllib.request.urlopen(f"{self.url}/query", data=data, timeout=10) as r:
            return json.loads(r.read())  # type: ignore[no-any-return]

    def write(self, lines: str, db: str) -> int:
        """Write raw line protocol directly; returns the HTTP status."""
        req = urllib.request.Request(f"{self.url}/write?db={db}&precision=ms", data=lines.encode(), method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return int(r.status)
        except urllib.error.HTTPError as e:
            return int(e.code)

    def count(self, db: str, measurement: str, field: str, where: str = "") -> int:
        """Number of stored points with ``field`` (0 when none)."""
        cond = f" WHERE {where}" if where else ""
        res = self.query(f'SELECT count("{field}") FROM "{measurement}"{cond}', db)
        series = res["results"][0].get("series")
        return int(series[0]["values"][0][1]) if series else 0


@pytest.fixture(scope="session")
def influxd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influxd]:
    """One ``influxd`` shared by a test session; tests keep apart by using their own database."""
    if influxd_binary() is None:
        pytest.fail("influxd is not installed; run scripts/test (it installs Debian's influxdb)")
    server = Influxd(tmp_path_factory.mktemp("influxd"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def influxd(tmp_path: Path) -> Iterator[Influxd]:
    """An ``influxd`` of this test alone, which the test may stop and start."""
    if influxd_binary() is None:
        pytest.fail("influxd is not installed; run scripts/test (it installs Debian's influxdb)")
    workdir = tmp_path / "influxd"
    workdir.mkdir()
    server = Influxd(workdir)
    server.start()
    yield server
    server.stop()


def unique_database(prefix: str = "houqin_test") -> str:
    """A database name no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"
