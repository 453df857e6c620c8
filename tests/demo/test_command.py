"""``houqin demo`` end to end: a subprocess runs the demo; readings reach the store; Ctrl-C stops it."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from demo.command import _stored_totals, demo_config_text, last_school_day_at
from demo.simulator import SITE_DEVICES
from demo.story import demo_story
from gateway.cli import main
from gateway.config import load_config
from tests.dashboard.helpers import login
from tests.mosquitto import free_port

ROOT = Path(__file__).resolve().parents[2]


def query(capsys: pytest.CaptureFixture[str], config: Path, device: str, *extra: str) -> list[dict[str, object]]:
    capsys.readouterr()
    rc = main(["query", device, "--since", "1h", "--json", "--config", str(config), *extra])
    out = capsys.readouterr().out
    if rc != 0:
        return []
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_demo_runs_stores_readings_and_stops_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mqtt_port, web_port = free_port(), free_port()
    demo_dir = tmp_path / "demo"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "demo", "--dir", str(demo_dir), "--mqtt-port", str(mqtt_port),
         "--port", str(web_port), "--speed", "120", "--history", "8", "--start", "07:30"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    config = demo_dir / "houqin.toml"
    said: list[str] = []  # what the demo printed (read as it comes: the banner names the login)
    reader = threading.Thread(target=lambda: said.extend(iter(proc.stdout.readline, "")) if proc.stdout else None,
                              daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120  # 8 to 14 days of history first
        fridge: list[dict[str, object]] = []
        water: list[dict[str, object]] = []
        live_since: float | None = None  # the history is in the store first; then the broker listens
        while time.monotonic() < deadline and proc.poll() is None:
            if live_since is None and listening(mqtt_port):
                live_since = time.time()
            if live_since is not None:
                fridge = query(capsys, config, "kitchen-fridge-1", "--metric", "temperature")
                water = query(capsys, config, "water-main", "--metric", "total_l")
                if sum(float(str(r["ts"])) >= live_since for r in fridge) >= 3 and len(water) >= 2:
                    break
            time.sleep(0.25)
        assert proc.poll() is None, proc.communicate()[0]
        assert live_since is not None and sum(float(str(r["ts"])) >= live_since for r in fridge) >= 3, \
            "no live fridge readings reached the store"
        assert all(r["device"] == "kitchen-fridge-1" and r["metric"] == "temperature" for r in fridge)
        assert all(1.0 < float(str(r["value"])) < 10.0 for r in fridge)
        totals_seen = [float(str(r["value"])) for r in water]
        assert totals_seen == sorted(totals_seen) and totals_seen[0] > 100_000
        # the config it wrote is valid and names every simulated device
        assert main(["check-config", str(config)]) == 0
        cfg = load_config(config)
        assert [d.id for d in cfg.devices] == [d.id for d in SITE_DEVICES]
        assert cfg.mqtt.embedded and cfg.mqtt.embedded_port == mqtt_port
        assert cfg.storage.path == demo_dir.resolve() / "data"
        # the embedded broker serves other clients too (houqin tail connects the same way)
        with socket.create_connection(("127.0.0.1", mqtt_port), timeout=5):
            pass
        # the morning rush at the gate: the gateway decides the simulated reader's cards against the
        # registered ones, pulses the gate's relay for accepted ones, refuses the disabled and unknown ones
        access = gate_access(demo_dir / "data" / "events.db", deadline=time.monotonic() + 60)
        assert ("gateway", 1, "gate") in {(d, a, r) for d, a, r, _ in access}, access
        assert {"disabled", "unknown"} & {reason for _, a, _, reason in access if not a}, access
        opened: list[dict[str, object]] = []
        while time.monotonic() < deadline + 60 and not opened:
            opened = [r for r in query(capsys, config, "gate", "--metric", "contact") if r["value"] == "open"]
            time.sleep(0.25)
        assert opened, "the simulated gate never opened"
        inspections_on_the_pages(web_port, said, demo_story(time.time(), cfg.site.timezone))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            reader.join(10)
            pytest.fail(f"the demo did not stop on Ctrl-C:\n{''.join(said)}")
        reader.join(10)
        out = "".join(said)
    assert proc.returncode == 0, out
    assert str(config) in out and "tail --config" in out
    assert "stopped" in out
    assert "history:" in out and "24 cards registered" in out
    # history: the weekly report of last week has use on every day
    capsys.readouterr()
    assert main(["report", "weekly", "--format", "csv", "--lang", "en", "--config", str(config)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    days = [r for r in rows if r["day"] != "total"]
    assert len(days) == 14, rows
    assert all(float(r["use"]) > 0 for r in days), days
    assert "Traceback" not in out
    # the broker's listener is closed (SO_REUSEADDR: connections in TIME_WAIT do not count, a listener would)
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", mqtt_port))
    # run again on the same DIR: the simulated meters go on from the stored totals
    from gateway.app import build_store

    store = build_store(load_config(config))
    try:
        totals = _stored_totals(SimpleNamespace(store=store))
    finally:
        store.close()
    assert totals["water-main"] >= totals_seen[-1]
    assert set(totals) == {"water-main", "power-main"}


def inspections_on_the_pages(port: int, said: list[str], story: object) -> None:
    """The demo's checklists, hazards, repairs, disinfection record and holiday, as the demo user sees them."""
    from demo.story import DemoStory

    assert isinstance(story, DemoStory)
    password = next(line.split("password: ", 1)[1].strip() for line in list(said) if "password: " in line)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        assert login(client, "demo", password).status_code == 303

        def page(url: str) -> str:
            r = client.get(url)
            assert r.status_code == 200, (url, r.text[:500])
            return r.text

        checks = page("/checks")
        assert "每日安全巡查" in checks and "放假前关闭检查" in checks
        assert checks.count("已超时") == 1 and 'light-red" href="/checks/weekly-playground"' in checks
        hazards = page("/hazards")
        assert "大型滑梯护栏松动" in hazards and "楼梯扶手松动" in hazards and "中一班插座面板破裂" in hazards
        repairs = page("/repairs")
        assert "水龙头关不紧" in repairs and "日光灯不亮" in repairs
        month = story.short_day.strftime("%Y-%m")
        assert "时间不足" in page(f"/disinfection?room=class-2&month={month}")
        assert "幼儿在室" in page(f"/disinfection?room=class-3&month={story.in_class_day:%Y-%m}")
        alerts = page("/alerts")
        assert "幼儿在室时紫外线灯开启" in alerts and "消毒时间不足" in alerts
        holidays = page("/holidays")
        assert "王园长" in holidays and "刘师傅（门卫）" in holidays


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def gate_access(events_db: Path, deadline: float) -> list[tuple[str, int, str | None, str]]:
    """Card decisions logged by the running demo: (decided, accepted, relay, reason); waits for a refusal."""
    rows: list[tuple[str, int, str | None, str]] = []
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(f"file:{events_db}?mode=ro", uri=True, timeout=5) as conn:
                rows = conn.execute("SELECT decided, accepted, relay, reason FROM gate_access").fetchall()
        except sqlite3.OperationalError:
            rows = []
        if any(a for _, a, _, _ in rows) and any(not a for _, a, _, _ in rows):
            break
        time.sleep(0.25)
    return rows


def test_demo_with_broker_port_in_use_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        rc = main(["demo", "--dir", str(tmp_path), "--mqtt-port", str(port), "--port", str(free_port())])
    err = capsys.readouterr().err
    assert rc == 1
    assert f"127.0.0.1:{port}" in err and "in use" in err and "--mqtt-port" in err


def test_demo_config_is_valid_toml_with_paths_needing_escapes(tmp_path: Path) -> None:
    odd = tmp_path / 'dir with "quotes" and \\ 后勤'
    odd.mkdir()
    path = odd / "houqin.toml"
    path.write_text(demo_config_text(odd / "data", 1884, 8081), encoding="utf-8")
    cfg = load_config(path)
    assert cfg.storage.path == odd / "data"
    assert cfg.site.name == "阳光幼儿园（演示）"
    assert cfg.mqtt.protocol == "3.1.1"


def test_start_time_goes_back_to_a_school_day() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    sunday_noon = datetime(2026, 11, 22, 12, 0, tzinfo=tz).timestamp()
    start = datetime.fromtimestamp(last_school_day_at(sunday_noon, 7, 30, "Asia/Shanghai"), tz)
    assert (start.weekday(), start.day, start.hour, start.minute) == (4, 20, 7, 30)


def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--speed", "0"], ["--mqtt-port", "70000"], ["--start", "25:00"]):
        with pytest.raises(SystemExit) as e:
            main(["demo", *argv])
        assert e.value.code == 2
    assert "HH:MM" in capsys.readouterr().err


def test_demo_with_dashboard_port_in_use_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        rc = main(["demo", "--dir", str(tmp_path), "--mqtt-port", str(free_port()), "--port", str(port)])
    err = capsys.readouterr().err
    assert rc == 1
    assert str(port) in err and "cannot start the demo" in err
