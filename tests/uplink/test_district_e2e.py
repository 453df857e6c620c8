"""A district scaled to CI: three sites uplinking to a central Mosquitto (TLS, the generated ACL), a real influxd and
a real VictoriaMetrics. The uplink is cut (central broker and stores stopped) while the sites ingest and alerts open,
escalate, are acknowledged and clear; one site's gateway (a `houqin run` process) is killed with -9 meanwhile.
Afterwards the centre has every reading exactly once per series and every alert transition in order."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway import contract
from gateway.app import Site, build_gateway
from gateway.cli.uplink import collect
from gateway.clock import ManualClock
from gateway.config import load_config, parse_config
from gateway.mqtt_link import InboundMessage, LinkSettings, MqttLink
from gateway.uplink.messages import alerts_topic
from tests.influxdb import Influxd, unique_database
from tests.mosquitto import Mosquitto
from tests.uplink.central import CentralBroker, Recorder, transitions
from tests.victoriametrics import VictoriaMetrics
from tests.waiting import COMMIT_WINDOW, wait_for

ROOT = Path(__file__).resolve().parents[2]
A, B, C = "site-a", "site-b", "site-c"
FAST = {"backoff_initial": "1s", "backoff_max": "2s", "timeout": "3s"}


@pytest.fixture
def central(tmp_path: Path) -> Iterator[CentralBroker]:
    c = CentralBroker(tmp_path, [A, B, C])
    c.start()
    yield c
    c.stop()


class Sensors:
    """The sites' devices on the local broker (one Mosquitto for the three sites: their topics differ)."""

    def __init__(self, port: int) -> None:
        self.availability: dict[str, bytes] = {}
        self.link = MqttLink(LinkSettings("127.0.0.1", port, "e2e-sensors", persistent=False, manual_ack=False),
                             on_message=self._on_availability,
                             subscriptions=[contract.gateway_availability_topic(s) for s in (A, B, C)])
        self.link.start()
        assert self.link.wait_connected(10)
        self.sent: dict[str, int] = {}

    def _on_availability(self, msg: InboundMessage) -> None:
        self.availability[msg.topic] = msg.payload

    def online(self, site: str) -> bool:
        """The site's gateway said "online" on the local broker: it has subscribed (a new session loses nothing)."""
        return self.availability.get(contract.gateway_availability_topic(site)) == b"online"

    def fridge(self, site: str, values: list[float], t0: float) -> None:
        for v in values:
            i = self.sent.get(site, 0)
            payload = contract.encode_state({"temperature": v}, ts=t0 + i, seq=i + 1)
            assert self.link.publish(contract.state_topic(site, "fridge-1"), payload, qos=1, wait=10)
            self.sent[site] = i + 1

    def close(self) -> None:
        self.link.stop()


def site_raw(site: str, tmp: Path, local: Mosquitto, central: CentralBroker, store: dict[str, Any],
             chain: bool) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": "fridge-warm", "kind": "threshold", "devices": ["fridge-1"], "above": 8,
                            "clear_below": 7, "severity": "critical"}
    raw: dict[str, Any] = {
        "site": {"id": site}, "mqtt": {"url": local.url, "client_id": f"houqin-gw-{site}"},
        "storage": {"dir": str(tmp / site), "commit_interval": COMMIT_WINDOW}, "dashboard": {"enabled": False},
        "devices": [{"id": "fridge-1", "kind": "fridge"}, {"id": "gate", "kind": "gate"}],
        "rules": [rule],
        "uplink": {"broker": {**central.uplink_broker(site), "reconnect_max": "2s"}, "store": {**FAST, **store}},
    }
    if chain:
        rule["notify"] = "kitchen"
        raw["notify"] = {"channels": {"buzzer": {"type": "buzzer", "device": "gate"}},
                         "chains": {"kitchen": {"steps": [{"channels": ["buzzer"]},
                                                          {"after": "5m", "channels": ["buzzer"]}]}}}
    return raw


def toml(raw: dict[str, Any]) -> str:
    """The subset of TOML these configs need (tables, arrays of tables, strings, numbers, string lists)."""
    def value(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False)

    out: list[str] = []

    def table(name: str, d: dict[str, Any]) -> None:
        out.append(f"[{name}]")
        out.extend(f"{k} = {value(v)}" for k, v in d.items() if not isinstance(v, dict | list) or
                   (isinstance(v, list) and all(isinstance(x, str) for x in v)))
        for k, v in d.items():
            if isinstance(v, dict):
                table(f"{name}.{k}", v)

    for k, v in raw.items():
        if isinstance(v, dict):
            table(k, v)
        else:
            for item in v:
                out.append(f"[[{k}]]")
                out.extend(f"{ik} = {value(iv)}" for ik, iv in item.items())
    return "\n".join(out) + "\n"


def start_run(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "gateway", "run", "--config", str(config)], cwd=ROOT,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def explain(exported: list[dict[str, Any]], t0: float, c_config: Any, c_log: Path, recorder: Recorder) -> str:
    """What a failure needs to be understood: each series' readings (by seq), site C's outboxes, alerts and log."""
    lines = []
    for s in exported:
        seqs = sorted(round(ts / 1000 - t0) + 1 for ts in s["timestamps"])
        lines.append(f"{s['metric']}: {len(seqs)} readings, seqs {seqs}")
    lines.append(f"site C's uplink: {collect(c_config, time.time())}")
    lines.append(f"site C's alerts at the district: {recorder.on(alerts_topic(C))}")
    lines.append("site C's log:\n" + c_log.read_text(encoding="utf-8", errors="replace")[-6000:])
    return "\n".join(lines)


def test_a_district_gets_every_reading_once_and_every_transition_in_order_across_an_outage(
        tmp_path: Path, mosquitto: Mosquitto, central: CentralBroker, influxd: Influxd,
        victoriametrics: VictoriaMetrics) -> None:
    db = unique_database()
    influx_store = {"url": influxd.url, "api": "v1", "database": db}
    vm_store = {"url": victoriametrics.url, "api": "v1", "database": "houqin"}
    clock = ManualClock(round(time.time(), 3))
    sites: dict[str, Site] = {
        A: build_gateway(parse_config(site_raw(A, tmp_path, mosquitto, central, influx_store, True)), clock=clock),
        B: build_gateway(parse_config(site_raw(B, tmp_path, mosquitto, central, vm_store, False)), clock=clock),
    }
    c_toml = tmp_path / "site-c.toml"
    c_toml.write_text(toml(site_raw(C, tmp_path, mosquitto, central, vm_store, False)), encoding="utf-8")
    c_config = load_config(c_toml)
    c_log = tmp_path / "site-c.log"
    recorder = Recorder(central)
    sensors = Sensors(mosquitto.port)
    t0 = round(time.time() - 1000, 3)
    proc = start_run(c_toml, c_log)

    def retry() -> None:  # the in-process sites run on the test's clock: move it past their backoff
        clock.advance(3)
        for s in sites.values():
            assert s.core.central_store is not None and s.uplink is not None and s.uplink.sender is not None
            s.core.central_store.kick()
            s.uplink.sender.kick()

    def drained(site: str) -> bool:
        info = collect(c_config, time.time()) if site == C else None
        if info is not None:
            return bool(info["store"]["depth"] == 0 and info["broker"]["depth"] == 0)
        s = sites[site]
        assert s.core.central_store is not None and s.uplink is not None and s.uplink.sender is not None
        return s.core.central_store.status().depth == 0 and s.uplink.sender.counts().depth == 0

    def open_alert(site: str) -> int:
        return next(a.id for a in sites[site].alerting.service.list(open_only=True) if a.rule == "fridge-warm")

    try:
        for s in sites.values():
            s.start()
        wait_for(lambda: all((contract.gateway_availability_topic(x), b"online", False) in recorder.messages or
                             (contract.gateway_availability_topic(x), b"online", True) in recorder.messages
                             for x in (A, B, C)), "three sites online at the district", timeout=30)
        # ... and at the local broker, which they say once subscribed: a reading sent before would be lost.
        wait_for(lambda: all(sensors.online(x) for x in (A, B, C)), "three gateways subscribed", timeout=30)
        # Up: readings flow; site A's fridge warms up (its alert opens while the district listens).
        sensors.fridge(A, [4.0] * 10 + [9.0] * 10, t0)
        sensors.fridge(B, [4.0] * 20, t0)
        sensors.fridge(C, [4.0] * 20, t0)
        wait_for(lambda: any(p["transition"] == "opened" for p in recorder.on(alerts_topic(A))), "A's alert opened")

        # The uplink is cut: the central broker and both central stores stop.
        central.stop()
        influxd.stop()
        victoriametrics.stop()
        a_alert = open_alert(A)
        clock.advance(301)  # A's alert goes to step 2 unacknowledged
        sites[A].alerting.tick()
        sites[A].alerting.service.ack(a_alert, by="kitchen", note="door closed")
        sensors.fridge(A, [9.0] * 10 + [4.0] * 10, t0)
        sensors.fridge(B, [9.0] * 10, t0)
        wait_for(lambda: any(a.rule == "fridge-warm" for a in sites[B].alerting.service.list(open_only=True)),
                 "B's alert opened")
        sites[B].alerting.service.ack(open_alert(B), by="kitchen", note="checked")
        sensors.fridge(B, [4.0] * 10, t0)
        sensors.fridge(C, [9.0] * 10, t0)
        wait_for(lambda: (tmp_path / C / "uplink-store.db").exists() and
                 collect(c_config, time.time())["store"]["depth"] >= 10, "C's outbox holding the outage's readings")
        wait_for(lambda: collect(c_config, time.time())["broker"]["depth"] >= 1, "C's alert queued")
        proc.send_signal(signal.SIGKILL)  # one gateway dies with its outboxes full
        proc.wait(10)
        sensors.fridge(C, [9.0] * 5 + [4.0] * 5, t0)  # the local broker keeps them for C's session
        proc = start_run(c_toml, c_log)
        wait_for(lambda: collect(c_config, time.time())["store"]["depth"] >= 20, "C ingesting again", timeout=30)

        # The district comes back.
        central.start()
        influxd.start()
        victoriametrics.start()
        sensors.fridge(A, [4.0] * 20, t0)
        sensors.fridge(B, [9.0] * 5 + [4.0] * 15, t0)
        sensors.fridge(C, [4.0] * 10, t0)
        # Drained outboxes are not enough: site C (another process) may not have ingested its last readings yet.
        def cleared(site: str) -> int:
            return sum(1 for _, t in transitions(recorder.on(alerts_topic(site))) if t == "cleared")

        wait_for(lambda: cleared(A) == 1 and cleared(B) == 2 and cleared(C) == 1, "every alert cleared at the district",
                 timeout=40, tick=retry)
        wait_for(lambda: all(drained(x) for x in (A, B, C)), "every outbox drained", timeout=40, tick=retry)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        for s in sites.values():
            s.stop()
        sensors.close()
        recorder.close()

    # Every reading exactly once per series.
    assert sensors.sent == {A: 60, B: 60, C: 50}
    assert influxd.count(db, "houqin", "temperature", "\"site\" = 'site-a' AND \"device\" = 'fridge-1'") == 60
    exported = victoriametrics.export('houqin_temperature')
    vm: dict[str, int] = {}
    for series in exported:  # summed per site: a site whose points split over two series shows in len(exported)
        vm[series["metric"]["site"]] = vm.get(series["metric"]["site"], 0) + len(series["timestamps"])
    assert vm == {B: 60, C: 50} and len(exported) == 2, explain(exported, t0, c_config, c_log, recorder)
    # Every alert transition, in order (a message the broker got twice is counted once, by its key).
    a = transitions(recorder.on(alerts_topic(A)))
    assert [t for _, t in a] == ["opened", "escalated", "acknowledged", "cleared"]
    b = transitions(recorder.on(alerts_topic(B)))
    assert [t for _, t in b] == ["opened", "acknowledged", "cleared", "opened", "cleared"]
    assert len({i for i, _ in b}) == 2
    c = transitions(recorder.on(alerts_topic(C)))
    assert [t for _, t in c] == ["opened", "cleared"], explain(exported, t0, c_config, c_log, recorder)
