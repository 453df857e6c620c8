"""End to end: a real Mosquitto, a real publisher, the Gateway, the SQLite store and the CLI."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway import contract
from gateway.app import Gateway
from gateway.cli import main
from gateway.clock import ManualClock
from gateway.device_status import device_status
from gateway.model import CommittedBatch, Reading
from tests.gateway.ingest_helpers import SITE, Publisher, site_config
from tests.gateway.ingest_helpers import stored_values as values
from tests.mosquitto import Mosquitto
from tests.waiting import wait_for


class Recorder:
    def __init__(self) -> None:
        self.batches: list[CommittedBatch] = []

    def on_batch(self, batch: CommittedBatch) -> None:
        self.batches.append(batch)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(round(time.time(), 3))


@pytest.fixture
def gateway(tmp_path: Path, mosquitto: Mosquitto, clock: ManualClock) -> Iterator[Gateway]:
    gw = Gateway(site_config(tmp_path, mosquitto.url), clock=clock)
    gw.start()
    yield gw
    gw.stop()


@pytest.fixture
def pub(mosquitto: Mosquitto, gateway: Gateway) -> Iterator[Publisher]:
    p = Publisher(mosquitto.port)
    p.wait_gateway()
    yield p
    p.close()



def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert main(["--lang", "en", *argv]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def write_toml(gw: Gateway, path: Path, url: str) -> Path:
    from tests.gateway.ingest_helpers import write_config

    return write_config(path, gw.config.storage.path, url)


def test_native_readings_of_every_kind(gateway: Gateway, pub: Publisher, clock: ManualClock, tmp_path: Path,
                                       mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]) -> None:
    rec = Recorder()
    gateway.add_observer(rec)
    t = clock.now()
    pub.state("fridge-1", {"temperature": 4.2, "humidity_pct": 55.0}, ts=t - 60, seq=1)
    pub.state("gate", {"contact": "open"}, ts=t - 50)
    pub.state("gate", {"contact": "closed"}, ts=t - 40)
    pub.state("sink-leak", {"water_leak": True}, ts=t - 30)
    pub.state("water", {"total_l": 1000.0, "flow_lpm": 0.0}, ts=t - 60)
    pub.state("water", {"total_l": 1012.5}, ts=t - 30)
    pub.state("power", {"energy_wh": 5000, "power_w": 1200.5}, ts=t - 60)
    pub.state("power", {"energy_wh": 5100}, ts=t - 30)
    pub.state("pulse-water", {"pulses": 100}, ts=t - 60)
    pub.state("pulse-water", {"pulses": 110}, ts=t - 30)
    pub.state("fridge-1", {"temperature": 4.4})  # no ts: the gateway's clock
    pub.send(contract.event_topic(SITE, "reader"), contract.encode_event("card", ts=t - 20, uid="04A1B2C3"))
    pub.send(contract.availability_topic(SITE, "reader"), "online")
    wait_for(lambda: len(values(gateway, "pulse-water", "usage_l", clock)) == 1 and
             gateway.ingest.stats()["events"] == 1 and gateway.ingest.stats()["messages"] >= 13,
             what="every message committed")
    assert gateway.ingest.wait_idle(10)

    assert values(gateway, "fridge-1", "temperature", clock) == [4.2, 4.4]
    assert gateway.store.query("fridge-1", "temperature", t, t + 1)[0].ts == t
    assert values(gateway, "fridge-1", "humidity_pct", clock) == [55.0]
    assert values(gateway, "gate", "contact", clock) == [1.0, 0.0]
    assert values(gateway, "sink-leak", "water_leak", clock) == [1.0]
    assert values(gateway, "water", "total_l", clock) == [1000.0, 1012.5]
    assert values(gateway, "water", "usage_l", clock) == [12.5]
    assert values(gateway, "power", "usage_wh", clock) == [100.0]
    assert values(gateway, "power", "power_w", clock) == [1200.5]
    assert values(gateway, "pulse-water", "total_l", clock) == [50.0, 55.0]
    assert values(gateway, "pulse-water", "usage_l", clock) == [5.0]
    rows = gateway.events_db.conn().execute("SELECT device, type, data FROM device_events").fetchall()
    assert rows == [("reader", "card", '{"uid": "04A1B2C3"}')]
    status = device_status(gateway.events_db, gateway.store)
    assert status["reader"].online is True
    assert status["fridge-1"].last_seen == t
    # observers saw the same readings, usage included, and the event
    seen = [r for b in rec.batches for r in b.readings]
    assert Reading(t - 30, "water", "usage_l", 12.5) in seen
    assert [e.type for b in rec.batches for e in b.events] == ["card"]
    stats = gateway.ingest.stats()
    assert stats["refused_total"] == 0 and stats["queue_depth"] == 0

    toml = write_toml(gateway, tmp_path / "houqin.toml", mosquitto.url)
    lines = cli_json(capsys, "query", "gate", "--config", str(toml), "--json")
    assert [(x["device"], x["metric"], x["value"]) for x in lines] == [("gate", "contact", "open"),
                                                                        ("gate", "contact", "closed")]
    assert lines[0]["ts"] == t - 50
    lines = cli_json(capsys, "query", "water", "--metric", "usage_l", "--config", str(toml), "--json")
    assert [x["value"] for x in lines] == [12.5]
    assert main(["--lang", "en", "query", "water", "--config", str(toml)]) == 0
    out = capsys.readouterr().out
    assert "usage_l" in out and "12.5 L" in out and "water: last seen" in out
    assert main(["--lang", "en", "query", "reader", "--config", str(toml)]) == 0
    assert ", online" in capsys.readouterr().out


def test_meter_usage_across_reset_and_duplicate_seq(gateway: Gateway, pub: Publisher, clock: ManualClock) -> None:
    t = clock.now() - 600
    sends = [(183240.0, 1), (183245.5, 2), (183245.5, 2), (183250.0, 3), (12.0, 1), (20.0, 2), (20.0, 2)]
    for i, (total, seq) in enumerate(sends):
        pub.state("water", {"total_l": total}, ts=t + 10 * i, seq=seq)
    wait_for(lambda: gateway.ingest.stats()["messages"] == len(sends), what="all meter messages")
    # 0 -> 5.5, duplicate dropped, +4.5, reset: usage = new total 12, +8, duplicate dropped
    assert values(gateway, "water", "usage_l", clock) == [5.5, 4.5, 12.0, 8.0]
    assert values(gateway, "water", "total_l", clock) == [183240.0, 183245.5, 183250.0, 12.0, 20.0]
    assert gateway.ingest.stats()["duplicates"] == 2
    assert gateway.dead_letters.counts() == {}


BAD_REASONS = {
    "not JSON": "not_json",
    "NaN": "not_finite",
    "string number": "wrong_type",
    "DS18B20 power-on reset value": "ds18b20_power_on",
    "Arduino DallasTemperature disconnected value": "sensor_disconnected",
    "array instead of object": "not_object",
    "meter total going backwards by a little (glitch, not a reset)": "total_backwards",
    "timestamp a year in the future": "ts_future",
    "1 MB payload": "too_large",
    "invalid UTF-8": "bad_utf8",
}


def bad_payload(case: dict[str, str]) -> bytes:
    p = case["payload"]
    if p == "<1 MiB of 'A'>":
        return b"A" * (1 << 20)
    if p == "<bytes ff fe 00>":
        return b"\xff\xfe\x00"
    return p.encode()


def test_every_bad_input_is_dead_lettered_and_ingest_goes_on(
        gateway: Gateway, pub: Publisher, clock: ManualClock, device_payloads: dict[str, Any], tmp_path: Path,
        mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]) -> None:
    cases = device_payloads["bad_inputs"]
    assert {c["why"] for c in cases} == set(BAD_REASONS), "a new bad input needs its expected reason here"
    pub.state("water", {"total_l": 183245.5}, ts=clock.now() - 120)  # so the glitch case is a glitch
    for case in cases:
        device = "water" if "total" in case["why"] else "fridge-1"
        pub.send(contract.state_topic(SITE, device), bad_payload(case))
    pub.state("no-such-device", {"temperature": 4.0})
    pub.state("fridge-1", {"temperature": 3.9}, ts=clock.now())
    wait_for(lambda: values(gateway, "fridge-1", "temperature", clock) == [3.9], what="the good message after")
    assert gateway.ingest.wait_idle(10)  # the store is written just before the events DB commits

    expected = sorted([*BAD_REASONS.values(), "unknown_device"])
    assert sorted(d.reason for d in gateway.dead_letters.recent(limit=100)) == expected
    assert gateway.dead_letters.counts() == dict.fromkeys(expected, 1)
    assert values(gateway, "water", "total_l", clock) == [183245.5]  # the glitch was not stored
    unknown = next(d for d in gateway.dead_letters.recent() if d.reason == "unknown_device")
    assert unknown.device == "no-such-device" and "[[devices]]" in unknown.detail
    big = next(d for d in gateway.dead_letters.recent() if d.reason == "too_large")
    assert len(big.excerpt) <= 201

    toml = write_toml(gateway, tmp_path / "houqin.toml", mosquitto.url)
    lines = cli_json(capsys, "dead-letters", "--config", str(toml), "--json")
    assert sorted(x["reason"] for x in lines) == expected
    assert {"\\xff\\xfe\x00"} == {x["excerpt"] for x in lines if x["reason"] == "bad_utf8"}
    assert all(set(x) == {"ts", "topic", "reason", "excerpt"} for x in lines)


def test_a_bad_value_refuses_only_that_reading(gateway: Gateway, pub: Publisher, clock: ManualClock) -> None:
    pub.state("fridge-1", {"temperature": 5.0, "humidity_pct": 140.0}, ts=clock.now())
    wait_for(lambda: gateway.ingest.stats()["messages"] == 1, what="the message")
    assert values(gateway, "fridge-1", "temperature", clock) == [5.0]
    assert values(gateway, "fridge-1", "humidity_pct", clock) == []
    assert gateway.dead_letters.counts() == {"out_of_range": 1}


def test_cli_names_what_exists(gateway: Gateway, pub: Publisher, clock: ManualClock, tmp_path: Path,
                               mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]) -> None:
    pub.state("fridge-1", {"temperature": 4.0}, ts=clock.now())
    wait_for(lambda: values(gateway, "fridge-1", "temperature", clock) == [4.0], what="a reading")
    toml = write_toml(gateway, tmp_path / "houqin.toml", mosquitto.url)
    capsys.readouterr()
    assert main(["--lang", "en", "query", "nope", "--config", str(toml)]) == 1
    err = capsys.readouterr().err
    assert "unknown device 'nope'" in err and "fridge-1" in err and "water" in err
    assert main(["--lang", "en", "query", "fridge-1", "--metric", "total_l", "--config", str(toml)]) == 1
    assert "it has: temperature" in capsys.readouterr().err


def test_restart_while_publishing_loses_and_doubles_nothing(tmp_path: Path, mosquitto: Mosquitto,
                                                            clock: ManualClock) -> None:
    cfg = site_config(tmp_path, mosquitto.url)
    gw = Gateway(cfg, clock=clock)
    gw.start()
    pub = Publisher(mosquitto.port)
    pub.wait_gateway()
    n = 400
    t0 = clock.now() - n
    done = threading.Event()

    def publish() -> None:
        for i in range(n):
            pub.state("water", {"total_l": 1000.0 + i, "flow_lpm": 1.0}, ts=t0 + i, seq=i + 1)
        done.set()

    th = threading.Thread(target=publish)
    th.start()
    wait_for(lambda: gw.ingest.stats()["messages"] >= 50, what="some messages before the restart")
    gw.stop()
    gw = Gateway(cfg, clock=clock)
    gw.start()
    th.join(60)
    assert done.is_set()
    try:
        wait_for(lambda: len(values(gw, "water", "total_l", clock)) == n, timeout=30, what="every message")
        assert gw.ingest.wait_idle(10)
        totals = values(gw, "water", "total_l", clock)
        usage = values(gw, "water", "usage_l", clock)
        assert totals == [1000.0 + i for i in range(n)]
        assert len(values(gw, "water", "flow_lpm", clock)) == n
        assert usage == [1.0] * (n - 1) and sum(usage) == n - 1
    finally:
        gw.stop()
        pub.close()


def test_broker_restart_reconnects_by_itself(gateway: Gateway, pub: Publisher, mosquitto: Mosquitto,
                                             clock: ManualClock) -> None:
    pub.state("fridge-1", {"temperature": 4.0}, ts=clock.now() - 10)
    wait_for(lambda: values(gateway, "fridge-1", "temperature", clock) == [4.0], what="first reading")
    pub.close()
    mosquitto.stop()
    wait_for(lambda: not gateway.link.connected, what="the gateway to notice")
    mosquitto.start()
    wait_for(lambda: gateway.link.connected, timeout=40, what="the gateway to reconnect by itself")
    pub2 = Publisher(mosquitto.port, client_id="test-publisher-2")
    try:
        pub2.wait_gateway()
        pub2.state("fridge-1", {"temperature": 4.5}, ts=clock.now())
        wait_for(lambda: values(gateway, "fridge-1", "temperature", clock) == [4.0, 4.5], what="reading after")
    finally:
        pub2.close()


def test_embedded_broker(tmp_path: Path, clock: ManualClock) -> None:
    cfg = site_config(tmp_path, "embedded").model_copy(
        update={"mqtt": site_config(tmp_path, "embedded").mqtt.model_copy(update={"embedded_port": 0})})
    with Gateway(cfg, clock=clock) as gw:
        assert gw.broker is not None and gw.link.settings.protocol == "3.1.1"
        assert gw.link.wait_connected(15)
        pub = Publisher(gw.broker.port, protocol="3.1.1")
        try:
            pub.wait_gateway()
            pub.state("fridge-1", {"temperature": 4.1}, ts=clock.now())
            wait_for(lambda: values(gw, "fridge-1", "temperature", clock) == [4.1], what="reading via embedded broker")
        finally:
            pub.close()
