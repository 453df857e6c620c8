"""Native messages of every device kind, through a real Mosquitto, read back with `houqin query --json`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from gateway import contract
from gateway.app import Gateway
from gateway.cli import main
from gateway.clock import ManualClock
from gateway.kinds import KINDS
from tests.gateway.ingest_helpers import SITE, Publisher, site_config, wait_for
from tests.mosquitto import Mosquitto

#: kind -> (state metrics sent, event type sent); what each kind's own hardware reports
SENT: dict[str, tuple[dict[str, Any], str | None]] = {
    "fridge": ({"temperature": 4.2}, None),
    "freezer": ({"temperature": -18.5}, None),
    "sample_fridge": ({"temperature": 3.1}, None),
    "cold_room": ({"temperature": 6.0, "humidity_pct": 80.0}, None),
    "thermometer": ({"temperature": 21.5, "humidity_pct": 45.0}, None),
    "water_meter": ({"total_l": 183245.5, "flow_lpm": 0.0}, None),
    "power_meter": ({"energy_wh": 9123456.0, "power_w": 420.0}, None),
    "gate": ({"contact": "open"}, "release"),
    "card_reader": ({}, "card"),
    "exit_button": ({}, "button"),
    "leak": ({"water_leak": "leak", "battery_pct": 90.0}, None),
    "door": ({"contact": "closed"}, None),
    "relay": ({}, "fault"),
    "uv_lamp": ({"power_w": 28.0}, None),
}


def test_every_kind_is_covered_here() -> None:
    assert set(SENT) == set(KINDS), "a new device kind needs a line in SENT"


def test_native_messages_of_every_kind_are_stored(tmp_path: Path, mosquitto: Mosquitto,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    devices = [{"id": kind.replace("_", "-"), "kind": kind} for kind in SENT]
    clock = ManualClock(round(time.time(), 3))
    gw = Gateway(site_config(tmp_path, mosquitto.url, devices=devices), clock=clock)
    gw.start()
    pub = Publisher(mosquitto.port)
    try:
        pub.wait_gateway()
        t = clock.now() - 30
        events = 0
        for d in devices:
            metrics, event = SENT[str(d["kind"])]
            if metrics:
                pub.state(str(d["id"]), metrics, ts=t)
            if event:
                pub.send(contract.event_topic(SITE, str(d["id"])), contract.encode_event(event, ts=t))
                events += 1
        wait_for(lambda: gw.ingest.stats()["events"] == events and gw.ingest.stats()["messages"] >= len(devices),
                 what="every message committed")
        assert gw.ingest.wait_idle(10)
        assert gw.dead_letters.counts() == {}
        toml = tmp_path / "houqin.toml"
        lines = [f'[site]\nid = "{SITE}"\n[mqtt]\nurl = "{mosquitto.url}"\nclient_id = "houqin-test-gw"\n'
                 f'[storage]\ndir = "{gw.config.storage.path}"\n']
        lines += [f'[[devices]]\nid = "{d["id"]}"\nkind = "{d["kind"]}"\n' for d in devices]
        toml.write_text("".join(lines), encoding="utf-8")
        for d in devices:
            metrics, _ = SENT[str(d["kind"])]
            if not metrics:
                continue
            capsys.readouterr()
            assert main(["query", str(d["id"]), "--json", "--config", str(toml)]) == 0
            got = {(x["metric"], x["value"]) for x in map(json.loads, capsys.readouterr().out.splitlines())}
            assert got == set(metrics.items()), d
        stored = gw.events_db.conn().execute("SELECT device, type FROM device_events ORDER BY device").fetchall()
        assert stored == sorted((str(d["id"]), SENT[str(d["kind"])][1]) for d in devices if SENT[str(d["kind"])][1])
    finally:
        pub.close()
        gw.stop()
