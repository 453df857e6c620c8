"""The ingest CLI commands: `houqin run` as a real process (SIGTERM, kill -9), `tail`'s follow loop."""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.cli.tail import follow
from gateway.errors import StoreError
from gateway.model import Reading
from gateway.store.sqlite import SqliteStore
from tests.gateway.ingest_helpers import Publisher, write_config
from tests.mosquitto import Mosquitto
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent.parent


def start_run(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "gateway", "run", "--config", str(config)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=log.open("ab"))


def stored(data: Path, device: str, metric: str) -> list[float]:
    if not (data / "timeseries.db").exists():
        return []
    try:
        store = SqliteStore(data / "timeseries.db")
    except (sqlite3.OperationalError, StoreError):  # opened while the service writes: see app.build_store
        return []
    try:
        now = time.time()
        return [r.value for r in store.query(device, metric, now - 86400, now + 86400)]
    finally:
        store.close()


def test_kill_9_mid_stream_then_restart_loses_and_doubles_nothing(tmp_path: Path, mosquitto: Mosquitto) -> None:
    data = tmp_path / "data"
    config = write_config(tmp_path / "houqin.toml", data, mosquitto.url)
    log = tmp_path / "run.log"
    proc = start_run(config, log)
    pub = Publisher(mosquitto.port)
    n = 300
    t0 = time.time() - n
    try:
        pub.wait_gateway(30)
        half = n // 2

        def publish(first: int, last: int) -> None:
            for i in range(first, last):
                pub.state("water", {"total_l": 500.0 + 2 * i}, ts=t0 + i, seq=i + 1)

        th = threading.Thread(target=publish, args=(0, half))
        th.start()
        wait_for(lambda: len(stored(data, "water", "total_l")) >= 30, timeout=30, what="readings before the kill")
        proc.kill()  # SIGKILL mid-stream: whatever was received but not committed stays unacked
        proc.wait(10)
        th.join(60)
        publish(half, n)  # while the gateway is down: the broker queues them for its session
        pub.gateway_online = False
        proc = start_run(config, log)
        pub.wait_gateway(30)  # the new process is up (and has its signal handlers)
        wait_for(lambda: len(stored(data, "water", "total_l")) == n, timeout=60, what="every reading after restart")
        assert stored(data, "water", "total_l") == [500.0 + 2 * i for i in range(n)]
        assert stored(data, "water", "usage_l") == [2.0] * (n - 1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        text = log.read_text()
        assert "Ctrl-C to stop" in text and "stopping" in text
    finally:
        pub.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_run_with_a_broken_config_says_what_to_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[site]\nid = "Bad Site"\n[mqtt]\nurl = "http://x"\n', encoding="utf-8")
    assert main(["--lang", "en", "run", "--config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "site.id" in err and "mqtt.url" in err


def test_tail_follow_shows_new_readings(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ts.db")
    now = time.time()
    store.write([Reading(now - 3600, "f", "temperature", 1.0), Reading(now - 10, "f", "temperature", 4.0)])
    got: list[Reading] = []
    stop = threading.Event()
    th = threading.Thread(target=follow, args=(store, got.append, stop), kwargs={"poll_s": 0.02})
    th.start()
    try:
        wait_for(lambda: len(got) == 1, what="the backlog")
        assert got[0].value == 4.0  # only the recent backlog, not an hour ago
        store.write([Reading(now - 5, "f", "temperature", 4.5), Reading(now - 5, "w", "usage_l", 3.0)])
        wait_for(lambda: len(got) == 3, what="new readings")
        assert sorted((r.device, r.value) for r in got[1:]) == [("f", 4.5), ("w", 3.0)]
    finally:
        stop.set()
        th.join(5)
        store.close()
    assert len(got) == 3  # nothing shown twice


def test_help_lists_the_ingest_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--lang", "en", "--help"])
    out = capsys.readouterr().out
    for cmd in ("run", "query", "tail", "dead-letters"):
        assert cmd in out


def test_dead_letters_without_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "houqin.toml", tmp_path / "nothing-here", "mqtt://127.0.0.1:1")
    assert main(["--lang", "en", "dead-letters", "--config", str(config)]) == 1
    assert "no events database" in capsys.readouterr().err
    assert os.path.exists(config)


def test_tail_command_prints_json_lines_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = write_config(tmp_path / "houqin.toml", data, "mqtt://127.0.0.1:1")
    store = SqliteStore(data / "timeseries.db")
    store.write([Reading(time.time() - 5, "gate", "contact", 1.0)])
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "tail", "--json", "--config", str(config)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    lines: queue.Queue[bytes] = queue.Queue()
    out = proc.stdout
    assert out is not None
    threading.Thread(target=lambda: [lines.put(line) for line in out], daemon=True).start()
    try:
        first = lines.get(timeout=20)  # bounded: a broken tail fails instead of hanging
        assert json.loads(first)["value"] == "open"
        store.write([Reading(time.time(), "fridge-1", "temperature", 4.2)])
        second = json.loads(lines.get(timeout=20))
        assert (second["device"], second["metric"], second["value"]) == ("fridge-1", "temperature", 4.2)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
    finally:
        store.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
