"""The agent end to end over a real Mosquitto: every payload, set commands, the broker going away."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from gateway.clock import ManualClock
from gateway.contract import set_topic
from gateway.mqtt_link import LinkSettings, MqttLink
from sensors.agent import Agent, AgentSettings
from sensors.cards import uids_from_lines
from sensors.hardware import GpiozeroPins
from tests.mosquitto import Mosquitto
from tests.sensors.helpers import TEST_KEY, Collector, FakeW1, availability, events, make_config, signed, states
from tests.waiting import wait_for

PROBE = "28-0316a2799bff"
DEVICES = [
    {"id": "fridge", "kind": "fridge"},
    {"id": "water", "kind": "water_meter", "litres_per_pulse": 10.0},
    {"id": "gate", "kind": "gate"},
]


def sensors(w1_root: Path) -> list[dict[str, Any]]:
    return [
        {"type": "ds18b20", "probes": {PROBE: "fridge"}, "w1_root": str(w1_root), "interval": "30s"},
        {"type": "pulse", "device": "water", "pin": 17, "meter": "water", "interval": "10s"},
        {"type": "contact", "device": "gate", "pin": 22},
        {"type": "relay", "device": "gate", "pin": 24},
        {"type": "card_reader", "device": "gate", "reader": "serial", "path": "/dev/ttyUSB0"},
    ]


def _agent(tmp_path: Path, broker: Mosquitto, factory: MockFactory, clock: ManualClock,
           cards: list[str] | None = None, spool_max: int = 100_000) -> Agent:
    w1 = FakeW1(tmp_path / "w1")
    w1.set(PROBE, 4250)
    cfg = make_config(sensors(w1.root), DEVICES, url=broker.url)
    link = LinkSettings("127.0.0.1", broker.port, "houqin-kg-agent-test", persistent=True, manual_ack=False,
                        reconnect_min_s=1, reconnect_max_s=2)
    settings = AgentSettings(tmp_path / "state", "agent-test", spool_max=spool_max, ack_timeout=3.0)
    return Agent(cfg, settings, link_settings=link, pins=GpiozeroPins(factory), clock=clock,
                 card_openers={"gate": lambda: uids_from_lines(cards or [])}, command_key=TEST_KEY)


@pytest.fixture
def collector(mosquitto: Mosquitto) -> Iterator[Collector]:
    c = Collector(mosquitto.port, ["houqin/kg/#"], client_id="test-collector")
    c.link.settings = LinkSettings("127.0.0.1", mosquitto.port, "test-collector", persistent=True,
                                   manual_ack=False, reconnect_min_s=1, reconnect_max_s=2)
    c.link = MqttLink(c.link.settings, on_message=c._on, subscriptions=["houqin/kg/#"])
    c.start()
    yield c
    c.stop()


def pulses(factory: MockFactory, clock: ManualClock, n: int) -> None:
    pin = factory.pin(17)
    for _ in range(n):
        pin.drive_low()
        clock.advance(0.1)
        pin.drive_high()
        clock.advance(0.4)


def test_every_part_publishes_native_payloads(tmp_path: Path, mosquitto: Mosquitto, mock_factory: MockFactory,
                                              collector: Collector) -> None:
    clock = ManualClock(1_790_000_000.0)
    agent = _agent(tmp_path, mosquitto, mock_factory, clock, cards=["04A1B2C3\r\n"])
    agent.start()
    try:
        assert agent.link.wait_connected(10)
        agent.tick()
        pulses(mock_factory, clock, 12)
        mock_factory.pin(22).drive_low()  # gate closes
        clock.advance(10)
        agent.tick()
        got = collector.wait_for(lambda m: len(states(m, "water")) >= 2 and len(states(m, "fridge")) >= 1
                                 and any(e.get("type") == "card" for e in events(m, "gate"))
                                 and any(s.get("contact") == "closed" for s in states(m, "gate")))
        water = states(got, "water")[-1]
        assert water["total_l"] == 120.0 and water["flow_lpm"] > 0 and "seq" in water and "ts" in water
        assert states(got, "fridge")[0]["temperature"] == 4.25
        assert [e["uid"] for e in events(got, "gate") if e["type"] == "card"] == ["04A1B2C3"]
        got = collector.wait_for(lambda m: {("houqin/kg/water/availability", "online"),
                                            ("houqin/kg/gate/availability", "online"),
                                            ("houqin/kg/fridge/availability", "online")} <= availability(m))
        # a set command through the broker pulses the relay
        sender = MqttLink(LinkSettings("127.0.0.1", mosquitto.port, "test-sender", persistent=False))
        sender.start()
        assert sender.wait_connected(10)
        assert sender.publish(set_topic("kg", "gate"), signed("gate", {"relay": "pulse", "seconds": 3}, clock.now()),
                              wait=5)
        sender.publish(set_topic("kg", "gate"), b"{bad", wait=5)
        wait_for(lambda: bool(mock_factory.pin(24).state), "the relay pin to go high", timeout=10)
        clock.advance(3.1)
        agent.tick()
        assert not mock_factory.pin(24).state
        sender.stop()
        seqs = [b["seq"] for b in states(got, "water")]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    finally:
        agent.stop()
    # a clean stop says offline for every device itself
    collector.wait_for(lambda m: {("houqin/kg/water/availability", "offline"),
                                  ("houqin/kg/gate/availability", "offline"),
                                  ("houqin/kg/fridge/availability", "offline")} <= availability(m))


def test_broker_outage_spools_and_drains_in_order(tmp_path: Path, mosquitto: Mosquitto,
                                                  mock_factory: MockFactory, collector: Collector) -> None:
    clock = ManualClock(1_790_000_000.0)
    agent = _agent(tmp_path, mosquitto, mock_factory, clock)
    agent.start()
    try:
        assert agent.link.wait_connected(10)
        agent.tick()
        collector.wait_for(lambda m: len(states(m, "water")) >= 1)
        collector.stop()
        mosquitto.stop()
        wait_for(lambda: not agent.link.connected, "the agent to see the broker gone", timeout=10)
        for _ in range(30):  # five minutes of readings while the broker is away
            pulses(mock_factory, clock, 3)
            clock.advance(8.5)
            agent.tick()
        wait_for(lambda: len(agent.spool) >= 30, "30 messages in the spool on disk (not in memory)", timeout=10)
        mosquitto.start()
        collector.link = MqttLink(collector.link.settings, on_message=collector._on, subscriptions=["houqin/kg/#"])
        collector.start()
        got = collector.wait_for(lambda m: any(s.get("total_l") == 900.0 for s in states(m, "water")), 30)
        totals = [s["total_l"] for s in states(got, "water")]
        seqs = [s["seq"] for s in states(got, "water")]
        first_seen = list(dict.fromkeys(seqs))  # a repeat after a reconnect is allowed, a gap or reorder not
        assert first_seen == sorted(first_seen)
        assert first_seen == list(range(first_seen[0], first_seen[0] + len(first_seen)))
        assert totals[-1] == 900.0 and sorted(set(totals)) == [t for t in dict.fromkeys(totals)]
        wait_for(lambda: len(agent.spool) == 0, "the spool to drain", timeout=10)
    finally:
        agent.stop()


def test_full_spool_drops_readings_but_keeps_events_and_totals(tmp_path: Path, mosquitto: Mosquitto,
                                                               mock_factory: MockFactory,
                                                               collector: Collector) -> None:
    clock = ManualClock(1_790_000_000.0)
    # room for the 30 card reads and the 60 meter totals, not for every temperature as well
    agent = _agent(tmp_path, mosquitto, mock_factory, clock, spool_max=110)
    agent.start()
    try:
        assert agent.link.wait_connected(10)
        collector.stop()
        mosquitto.stop()
        wait_for(lambda: not agent.link.connected, "the agent to see the broker gone", timeout=10)
        reader = agent.parts.readers[0]
        fridge_reads = 0
        for i in range(30):  # 30 minutes away: temperatures every minute, totals, card reads
            pulses(mock_factory, clock, 2)
            clock.advance(29)
            agent.tick()
            agent.parts.buses[0].poll()
            fridge_reads += 1
            reader.handle(f"CARD{i:04d}")
            clock.advance(30)
            agent.tick()
        wait_for(lambda: agent.outbox.pending <= len(agent.spool), "the outbox to hand all to the spool", timeout=10)
        assert len(agent.spool) <= 110
        dropped = agent.spool.dropped()
        assert dropped.get("state", 0) > 0 and "event" not in dropped and "total" not in dropped
        mosquitto.start()
        collector.link = MqttLink(collector.link.settings, on_message=collector._on, subscriptions=["houqin/kg/#"])
        collector.start()
        got = collector.wait_for(lambda m: sum(1 for e in events(m, "gate") if e.get("type") == "card") >= 30
                                 and any(s.get("total_l") == 600.0 for s in states(m, "water")), 30)
        cards = [e["uid"] for e in events(got, "gate") if e["type"] == "card"]
        assert list(dict.fromkeys(cards)) == [f"CARD{i:04d}" for i in range(30)]  # every card, in order
        fridge = [s["ts"] for s in states(got, "fridge")]
        assert 0 < len(fridge) < fridge_reads
        # the oldest temperatures were the ones dropped: the newest arrived
        assert fridge[-1] >= clock.now() - 60
        totals = [s["total_l"] for s in states(got, "water")]
        assert totals == sorted(totals) and len(totals) >= 60
    finally:
        agent.stop()
