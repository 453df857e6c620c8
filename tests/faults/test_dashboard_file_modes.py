"""After a start, the data directory is the service user's alone and the link key is out of the database."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

from gateway.app import build_gateway
from gateway.config import parse_config
from gateway.eventsdb import EventsDB
from gateway.gate import links
from gateway.secret_files import APPROVAL_LINK_KEY
from tests.waiting import COMMIT_WINDOW


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_started_gateway_narrows_every_mode_and_moves_the_link_key_out(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    old = os.umask(0o022)  # what a shell or an old unit gives: 0644 files
    try:
        db = EventsDB(data / "events.db")  # a site from an older version: the key in the database
        key = links.new_key()
        db.conn().execute("INSERT INTO gate_state (key, value) VALUES ('link_key', ?)", (key,))
        db.close()
        raw: dict[str, Any] = {"site": {"id": "kg", "locale": "en"}, "mqtt": {"url": "mqtt://127.0.0.1:1"},
                               "storage": {"dir": str(data), "commit_interval": COMMIT_WINDOW},
                               "devices": [{"id": "fridge-1", "kind": "fridge"}]}
        site = build_gateway(parse_config(raw))
        site.start()
        try:
            token = site.gate.approval_token(1)
        finally:
            site.stop()
    finally:
        os.umask(old)
    assert _mode(data) == 0o700
    files = [p for p in data.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"events.db", "timeseries.db", APPROVAL_LINK_KEY}
    loose = {str(p.relative_to(data)): oct(_mode(p)) for p in files if _mode(p) != 0o600}
    assert loose == {}
    assert (data / APPROVAL_LINK_KEY).read_text().strip() == key  # links sent before stay valid
    assert links.verify(key, token, 0).visitor_id == 1
    with sqlite3.connect(data / "events.db") as conn:
        assert conn.execute("SELECT count(*) FROM gate_state WHERE key = 'link_key'").fetchone()[0] == 0


def test_the_agents_state_dir_is_narrowed_at_start(tmp_path: Path) -> None:
    from gpiozero.pins.mock import MockFactory

    from gateway.clock import ManualClock
    from sensors.agent import Agent, AgentSettings
    from sensors.hardware import GpiozeroPins
    from tests.sensors.helpers import make_config

    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    os.chmod(state, 0o755)
    (state / "cards.json").write_text("{}")
    os.chmod(state / "cards.json", 0o644)  # a card cache an older version left readable
    old = os.umask(0o022)
    try:
        cfg = make_config([{"type": "contact", "device": "gate", "pin": 22}], [{"id": "gate", "kind": "gate"}])
        agent = Agent(cfg, AgentSettings(state, "agent-test"), pins=GpiozeroPins(MockFactory()),
                      clock=ManualClock(2000.0))
        agent.spool.close()
    finally:
        os.umask(old)
    assert _mode(state) == 0o700
    assert {p.name: oct(_mode(p)) for p in state.rglob("*") if p.is_file() and _mode(p) != 0o600} == {}


def test_houqin_run_sets_a_private_umask(tmp_path: Path) -> None:
    import collections
    import signal
    import subprocess
    import sys
    import threading

    from demo.command import free_port

    data = tmp_path / "data"
    config = tmp_path / "houqin.toml"
    config.write_text(f"""
[site]
id = "kg"
[mqtt]
url = "embedded"
embedded_port = {free_port()}
[storage]
dir = "{data}"
commit_interval = "{COMMIT_WINDOW}"
[dashboard]
bind = "127.0.0.1"
port = 0
[[devices]]
id = "fridge-1"
kind = "fridge"
""")
    old = os.umask(0o022)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "gateway", "run", "--config", str(config)],
                                stderr=subprocess.PIPE, text=True)
    finally:
        os.umask(old)
    tail: collections.deque[str] = collections.deque(maxlen=30)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "Ctrl-C to stop" in line:
                break
        else:
            raise AssertionError("houqin run did not start")
        # Read the rest (a full pipe would hold the gateway's writes, its stop's log lines too), keep the end.
        threading.Thread(target=tail.extend, args=(proc.stderr,), daemon=True).start()
        files = [p for p in data.rglob("*") if p.is_file()]
        assert {"events.db", "timeseries.db"} <= {p.name for p in files}
        assert _mode(data) == 0o700
        assert {p.name: oct(_mode(p)) for p in files if _mode(p) != 0o600} == {}
        status = Path(f"/proc/{proc.pid}/status").read_text()
        assert "Umask:\t0077" in status  # what it creates later (logs, new databases) is private too
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("houqin run did not stop within 30 s of SIGTERM; its last lines:\n"
                                 + "".join(tail)) from None
