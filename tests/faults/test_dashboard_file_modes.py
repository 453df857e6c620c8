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
                               "storage": {"dir": str(data)}, "devices": [{"id": "fridge-1", "kind": "fridge"}]}
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
