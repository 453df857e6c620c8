"""The simulated site as a hardware backend: the agent runs unchanged on mock pins and simulated probes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from demo.sim_backend import SimulatedHardware, simulated_wiring
from demo.simulator import SimulatedSite
from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.mqtt_link import LinkSettings
from sensors.agent import Agent, AgentSettings
from tests.mosquitto import Mosquitto
from tests.sensors.helpers import Collector, events, states


def test_simulated_school_morning_through_the_agent(tmp_path: Path, mosquitto: Mosquitto) -> None:
    start = datetime(2026, 11, 16, 7, 30, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()  # a Monday
    devices, sensors = simulated_wiring()
    cfg = parse_config({"site": {"id": "kg"}, "mqtt": {"url": mosquitto.url}, "devices": devices,
                        "sensors": sensors})
    clock = ManualClock(start)
    site = SimulatedSite(start=start, seed=7)
    hw = SimulatedHardware(site, clock, cfg.sensors)
    link = LinkSettings("127.0.0.1", mosquitto.port, "houqin-kg-agent-sim", persistent=True, manual_ack=False)
    agent = Agent(cfg, AgentSettings(tmp_path / "state", "agent-sim"), link_settings=link, pins=hw.pins,
                  clock=clock, w1_reader=hw.w1_reader, card_openers=hw.card_openers(), command_key=bytes(32))
    collector = Collector(mosquitto.port, ["houqin/kg/#"]).start()
    agent.start()
    try:
        assert agent.link.wait_connected(10)
        hw.advance(3600, agent.tick)  # the morning rush: 07:30 to 08:30
        water = next(m for m in agent.parts.meters if m.device == "water-main")
        pulses = water.journal.total
        assert pulses > 0
        # every simulated litre became exactly one pulse, counted once
        assert pulses == int(site.water.total_l) - int(183_245.0)
        water.publish(clock.now())
        expected = float(pulses)  # litres_per_pulse = 1
        got = collector.wait_for(
            lambda m: any(s.get("total_l") == expected for s in states(m, "water-main"))
            and all(states(m, d) for d in ("kitchen-fridge-1", "kitchen-fridge-2", "kitchen-freezer",
                                           "sample-fridge"))
            and len(events(m, "gate-reader")) >= 1
            and {"open", "closed"} <= {s.get("contact") for s in states(m, "gate")}, 30)
        freezer = [s["temperature"] for s in states(got, "kitchen-freezer")]
        assert all(-25 < t < -10 for t in freezer)
        assert all(e["type"] == "card" for e in events(got, "gate-reader"))
        assert any(s["power_w"] > 0 for s in states(got, "power-main"))
    finally:
        hw.close()
        agent.stop()
        collector.stop()
