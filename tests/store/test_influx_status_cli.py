"""``houqin storage status`` on an InfluxDB site: a real influxd, a real outbox file written by the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.clock import ManualClock
from gateway.config import load_config
from gateway.model import Reading
from gateway.store.influx import InfluxStore
from tests.influxdb import Influxd, unique_database  # influxd_server comes from tests/store/conftest.py
from tests.mosquitto import free_port

T0 = 1_790_000_000.0


def write_config(tmp_path: Path, url: str, db: str, max_points: int = 1000) -> Path:
    path = tmp_path / "houqin.toml"
    path.write_text(
        f'[site]\nid = "kg"\n[storage]\ndir = "{tmp_path}"\ntimeseries = "influxdb"\n'
        f'[influxdb]\nurl = "{url}"\ndatabase = "{db}"\ntimeout = "3s"\noutbox_max_points = {max_points}\n'
    )
    return path


def queue(cfg_path: Path, n: int) -> None:
    """Write n readings through the store without letting it send them (as if InfluxDB were away)."""
    store = InfluxStore.from_config(load_config(cfg_path), clock=ManualClock(T0 - 120), start=False)
    store.write([Reading(T0 + i, "fridge-1", "temperature", 4.0) for i in range(n)])
    store.close()


def run(cfg: Path, *extra: str) -> int:
    return main(["--lang", "en", "storage", "status", "--config", str(cfg), *extra])


def test_status_reports_reachable_server_and_outbox_depth(
        influxd_server: Influxd, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path, influxd_server.url, unique_database())
    queue(cfg, 3)
    assert run(cfg, "--json") == 0
    info = json.loads(capsys.readouterr().out)
    assert info["backend"] == "influxdb" and info["reachable"] is True
    assert info["version"].startswith("1.6") and info["api"] == "v1"
    assert (info["depth"], info["dropped"], info["oldest_unsent_ts"]) == (3, 0, T0)
    assert info["oldest_unsent_age_s"] > 0
    assert run(cfg) == 0
    out = capsys.readouterr().out
    assert "reachable:    yes" in out and "3 point(s) waiting" in out


def test_status_says_unreachable_and_drops_with_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path, f"http://127.0.0.1:{free_port()}", "houqin", max_points=2)
    queue(cfg, 5)
    assert run(cfg) == 3
    out = capsys.readouterr().out
    assert "reachable:    NO" in out
    assert "2 point(s) waiting" in out and "dropped:      3" in out
    assert "unreachable" in out


def test_status_of_the_sqlite_backend(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "houqin.toml"
    cfg.write_text(f'[site]\nid = "kg"\n[storage]\ndir = "{tmp_path}"\n')
    assert run(cfg) == 3  # no database yet: the gateway has not run
    assert "sqlite" in capsys.readouterr().out


def test_cli_output_is_not_buried_under_http_request_logs(
        influxd_server: Influxd, tmp_path: Path) -> None:
    import subprocess
    import sys

    cfg = write_config(tmp_path, influxd_server.url, unique_database())
    queue(cfg, 2)
    houqin = [sys.executable, "-c", "import sys; from gateway.cli import main; sys.exit(main(sys.argv[1:]))"]
    status = ["storage", "status", "--config", str(cfg)]
    quiet = subprocess.run([*houqin, *status], capture_output=True, text=True, timeout=60)
    assert quiet.returncode == 0 and "reachable:    yes" in quiet.stdout
    assert "HTTP Request" not in quiet.stderr
    verbose = subprocess.run([*houqin, "-v", *status], capture_output=True, text=True, timeout=60)
    assert "HTTP Request: GET" in verbose.stderr  # -v still shows every request


def test_query_while_influxdb_is_down_is_an_error_message_not_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path, f"http://127.0.0.1:{free_port()}", "houqin")
    capsys.readouterr()
    assert main(["--lang", "en", "query", "fridge-1", "--config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: InfluxDB at http://127.0.0.1:") and "unreachable" in err
    assert "Traceback" not in err
    # the top-level error handler speaks the site's language (zh-CN by default)
    assert main(["query", "fridge-1", "--config", str(cfg)]) == 1
    assert capsys.readouterr().err.startswith("错误：InfluxDB at http://127.0.0.1:")


def test_an_outbox_that_cannot_be_read_is_unknown_not_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Before: any read error showed "0 point(s) waiting", and a script waiting for the outbox to drain believed it.
    cfg = write_config(tmp_path, f"http://127.0.0.1:{free_port()}", "houqin")
    (tmp_path / "outbox.db").write_bytes(b"not a database, but a damaged file " * 200)
    assert run(cfg, "--json") == 3
    info = json.loads(capsys.readouterr().out)
    assert info["depth"] is None and "cannot read" in info["read_error"] and info["healthy"] is False
    assert info["dropped"] is None and info["sent"] is None  # unknown, not a reassuring 0
    assert run(cfg) == 3
    out = capsys.readouterr().out
    assert "outbox:       cannot read" in out and "0 point(s)" not in out and "dropped:      unknown" in out
