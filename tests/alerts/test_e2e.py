"""End to end: real Mosquitto → ingest → rules → alert → real webhook receiver and buzzer; CLI list/ack."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from gateway import contract
from gateway.app import build_gateway
from gateway.cli import main
from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.signing import ENVELOPE
from tests.gateway.ingest_helpers import Publisher
from tests.mosquitto import Mosquitto
from tests.notify.receivers import Collector, WebhookServer
from tests.waiting import COMMIT_WINDOW, wait_for

DEVICES = [{"id": "kitchen-fridge", "kind": "fridge", "name": "Kitchen fridge"}, {"id": "gate", "kind": "gate"},
           {"id": "reader", "kind": "card_reader"}]



def _command(payload: bytes) -> dict[str, object]:
    """A ``set`` command without its signature envelope (``gateway.signing``: ts, nonce, sig)."""
    body: dict[str, object] = json.loads(payload)
    assert set(ENVELOPE) <= set(body), "the gateway signs every set command"
    return {k: v for k, v in body.items() if k not in ENVELOPE}

def raw_config(tmp_path: Path, mosquitto: Mosquitto, hook: WebhookServer) -> dict[str, Any]:
    return {
        "site": {"id": "kg", "locale": "en"},
        "mqtt": {"url": mosquitto.url, "client_id": "houqin-e2e-alerts"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "dashboard": {"enabled": False},
        "devices": DEVICES,
        "rules": [
            {"id": "fridge-warm", "kind": "threshold", "devices": ["kitchen-fridge"], "above": 8, "clear_below": 7,
             "for": "10m", "severity": "critical", "notify": "kitchen"},
            {"id": "gate-forced", "kind": "gate_forced", "devices": ["gate"], "authorized_by": ["reader", "gate"],
             "grace": "2s", "notify": "guard"},
        ],
        "notify": {
            "channels": {"kitchen-group": {"type": "webhook", "format": "generic", "url": hook.url("/kitchen")},
                         "guard-group": {"type": "webhook", "format": "generic", "url": hook.url("/guard")},
                         "gate-buzzer": {"type": "buzzer", "device": "gate"}},
            "chains": {"kitchen": {"steps": [{"channels": ["kitchen-group"]}]},
                       "guard": {"steps": [{"channels": ["guard-group", "gate-buzzer"]}]}},
        },
    }


def write_toml(path: Path, raw: dict[str, Any]) -> Path:
    path.write_text(f'[site]\nid = "kg"\n\n[storage]\ndir = "{raw["storage"]["dir"]}"\n', encoding="utf-8")
    return path


def test_published_reading_to_webhook_and_cli(tmp_path: Path, mosquitto: Mosquitto, hook: WebhookServer,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    raw = raw_config(tmp_path, mosquitto, hook)
    clock = ManualClock(round(time.time(), 3))
    gw = build_gateway(parse_config(raw), clock=clock)
    gw.start()
    pub = Publisher(mosquitto.port)
    buzzer = Collector(mosquitto.port, contract.set_topic("kg", "gate"), "e2e-buzzer")
    try:
        pub.wait_gateway()
        t0 = clock.now()
        pub.state("kitchen-fridge", {"temperature": 9.3}, ts=t0)
        wait_for(lambda: gw.alerting.engine.stats().batches >= 1, what="first batch evaluated")
        clock.advance(600)
        pub.state("kitchen-fridge", {"temperature": 9.6}, ts=clock.now())
        wait_for(lambda: len(hook.at("/kitchen")) == 1, what="webhook for the warm fridge")
        body = hook.at("/kitchen")[0].body
        assert body["event"] == "opened" and body["alert"]["device"] == "kitchen-fridge"
        assert body["alert"]["since"] == pytest.approx(t0, abs=0.01)

        # Gate opened with no card: forced, after the grace period (the scheduler ticks every second).
        pub.state("gate", {"contact": "closed"}, ts=clock.now())
        # Wait for it on its own: under load ingest may commit both gate messages in one batch.
        wait_for(lambda: gw.alerting.engine.stats().batches >= 3, what="gate closed")
        clock.advance(30)
        pub.state("gate", {"contact": "open"}, ts=clock.now())
        wait_for(lambda: gw.alerting.engine.stats().batches >= 4, what="gate batches")
        clock.advance(3)
        wait_for(lambda: len(hook.at("/guard")) == 1, what="forced-gate webhook")
        wait_for(lambda: [_command(p) for p in buzzer.on(contract.set_topic("kg", "gate"))]
                 == [{"buzzer": "on"}], what="buzzer on")

        toml = write_toml(tmp_path / "houqin.toml", raw)
        capsys.readouterr()
        assert main(["alerts", "--open", "--json", "--config", str(toml)]) == 0
        rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert [(r["rule"], r["state"]) for r in rows] == [("gate-forced", "active"), ("fridge-warm", "active")]
        assert set(rows[0]) == {"id", "rule", "device", "state", "severity", "opened_at", "acked_by", "cleared_at"}
        gate_id = rows[0]["id"]
        assert main(["ack", str(gate_id), "--by", "Guard Wang", "--note", "wind blew it open", "--config",
                     str(toml)]) == 0
        assert main(["ack", "999", "--by", "x", "--note", "y", "--config", str(toml)]) == 1
        # The running gateway sees the CLI's acknowledgement on its next tick: buzzer off.
        wait_for(lambda: [_command(p) for p in buzzer.on(contract.set_topic("kg", "gate"))][-1:]
                 == [{"buzzer": "off"}], what="buzzer off after CLI ack")
        capsys.readouterr()
        assert main(["alerts", "--json", "--config", str(toml)]) == 0
        rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert rows[0]["acked_by"] == "Guard Wang"
    finally:
        buzzer.close()
        pub.close()
        gw.stop()
