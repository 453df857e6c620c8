"""Cards through the real agent (gpiozero MockFactory) and a real Mosquitto: accepted cards pulse the lock
relay by the gateway's command; unknown, disabled and out-of-hours cards are refused, logged and told at
once; with the gateway away the agent decides on its cached list and the events arrive later."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gpiozero.pins.mock import MockFactory

from gateway.app import Site, build_gateway
from gateway.clock import ManualClock
from gateway.config import Config
from gateway.gate.service import Gate
from sensors.agent import Agent, AgentSettings
from sensors.hardware import GpiozeroPins
from tests.gate.helpers import RELAY_PIN, WED_10, gate_config, local
from tests.mosquitto import Mosquitto
from tests.waiting import wait_for


def _gateway(cfg: Config, clock: ManualClock) -> tuple[Site, Gate]:
    gw = build_gateway(cfg, clock=clock)
    gate: Gate = gw.gate
    return gw, gate


def test_cards_accepted_refused_and_decided_offline(tmp_path: Path, mosquitto: Mosquitto,
                                                    mock_factory: MockFactory) -> None:
    cfg = gate_config(tmp_path, mosquitto.url, sensors=True)
    clock = ManualClock(WED_10)
    gw, gate = _gateway(cfg, clock)
    gate.cards.add("AA01", "Teacher Li", "staff", days="12345", hours="07:00-18:00")
    cook = gate.cards.add("DD01", "Former cook", "staff")
    gate.cards.update(cook.id, disabled=True)
    told: list[dict[str, Any]] = []
    gate.add_listener(lambda kind, data: told.append(data) if kind == "access" else None)
    gw.start()
    agent = Agent(cfg, AgentSettings(tmp_path / "agent", "agent-gate"), pins=GpiozeroPins(mock_factory),
                  clock=clock, card_openers={"reader": lambda: iter(())})
    agent.start()
    relay = mock_factory.pin(RELAY_PIN)
    reader = agent.parts.readers[0]
    try:
        assert agent.link.wait_connected(10)
        gate.tick()  # publishes the card list
        wait_for(lambda: agent.card_cache.loaded and agent.gateway_reachable(), "the card list at the agent")

        # accepted: the gateway decides and sends the relay pulse command; the agent drives the pin
        reader.handle("AA01")
        wait_for(lambda: relay.state == 1, "the lock relay on")
        rec = gate.access.recent(1)[0]
        assert (rec.uid, rec.holder, rec.accepted, rec.reason, rec.decided, rec.relay) == \
            ("AA01", "Teacher Li", True, "accepted", "gateway", "gate")
        clock.advance(3.1)
        agent.tick()
        assert relay.state == 0

        # unknown and disabled: refused, logged, told to listeners; the relay stays off
        for uid, reason in (("ZZ99", "unknown"), ("DD01", "disabled")):
            clock.advance(1)
            reader.handle(uid)
            wait_for(lambda uid=uid: any(t["uid"] == uid for t in told), f"the decision on {uid}")  # type: ignore[misc]
            got = next(t for t in told if t["uid"] == uid)
            assert (got["accepted"], got["reason"], got["relay"]) == (False, reason, None)
            assert relay.state == 0

        # out of hours: the same staff card at 22:00
        clock.set(local(2026, 11, 18, 22))
        wait_for(agent.gateway_reachable, "the gateway's heartbeat at the new time")
        reader.handle("AA01")
        wait_for(lambda: sum(1 for t in told if t["uid"] == "AA01") == 2, "the late-evening read")
        assert told[-1]["reason"] == "out_of_hours" and told[-1]["accepted"] is False
        assert relay.state == 0
        assert [r.reason for r in gate.access.recent(10)] == ["out_of_hours", "disabled", "unknown", "accepted"]

        # a hung gateway (still "online": its will has not fired): the agent releases on its list after 2 s
        gw.ingest.stop()
        clock.set(local(2026, 11, 18, 12))
        wait_for(agent.gateway_reachable, "the gateway's heartbeat at the new time")
        reader.handle("AA01")
        agent.tick()
        assert relay.state == 0  # waiting for the gateway's command
        clock.advance(2.1)
        agent.tick()
        assert relay.state == 1
        clock.advance(3.1)
        agent.tick()
        assert relay.state == 0
    finally:
        gw.stop()

    # the gateway is away: the agent decides on its cached list and releases the lock itself
    wait_for(lambda: not agent.gateway_reachable(), "the agent noticing the gateway is offline")
    clock.set(local(2026, 11, 19, 10))  # Thursday morning
    reader.handle("AA01")
    assert relay.state == 1  # at once, locally
    clock.advance(3.1)
    agent.tick()
    assert relay.state == 0
    clock.advance(1)
    reader.handle("DD01")
    assert relay.state == 0

    # the gateway comes back: the events sent meanwhile are logged as the agent's decisions, nothing re-opens
    gw2, gate2 = _gateway(cfg, clock)
    gw2.start()
    try:
        # the read during the hang (redelivered: never acked) and the two offline ones
        wait_for(lambda: len(gate2.access.recent(10)) == 7, "the reads logged")
        offline = gate2.access.recent(2)
        assert [(r.uid, r.accepted, r.reason, r.decided) for r in offline] == \
            [("DD01", False, "disabled", "agent"), ("AA01", True, "accepted", "agent")]
        # the read during the hang, decided by the gateway a day late: logged, opens nothing
        hung = next(r for r in gate2.access.recent(10) if r.ts == local(2026, 11, 18, 12))
        assert (hung.uid, hung.accepted, hung.reason, hung.relay) == ("AA01", True, "late", None)
        assert relay.state == 0
    finally:
        agent.stop()
        gw2.stop()
