"""The agent and the gateway together over a real Mosquitto: everything the agent sends is accepted."""

from __future__ import annotations

import time
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from gateway.app import Gateway
from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.device_status import device_status
from gateway.model import CommittedBatch
from sensors.agent import Agent, AgentSettings
from sensors.hardware import GpiozeroPins
from tests.mosquitto import Mosquitto
from tests.sensors.helpers import FakeW1
from tests.waiting import COMMIT_WINDOW, wait_for

PROBE = "28-0316a2799bff"


class Recorder:
    def __init__(self) -> None:
        self.batches: list[CommittedBatch] = []

    def on_batch(self, batch: CommittedBatch) -> None:
        self.batches.append(batch)

    def event_types(self, device: str) -> list[str]:
        return [e.type for b in self.batches for e in b.events if e.device == device]



def test_agent_readings_events_and_availability_reach_the_store(tmp_path: Path, mosquitto: Mosquitto,
                                                                 mock_factory: MockFactory) -> None:
    w1 = FakeW1(tmp_path / "w1")
    w1.set(PROBE, 4250)
    cfg = parse_config({
        "site": {"id": "kg"},
        "mqtt": {"url": mosquitto.url, "client_id": "houqin-test-gw"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "devices": [{"id": "fridge", "kind": "fridge"},
                    {"id": "water", "kind": "water_meter", "litres_per_pulse": 10.0},
                    {"id": "gate", "kind": "gate"}],
        "sensors": [{"type": "ds18b20", "probes": {PROBE: "fridge"}, "w1_root": str(w1.root), "interval": "30s",
                     "fail_after": 2},
                    {"type": "pulse", "device": "water", "pin": 17, "meter": "water", "interval": "10s"},
                    {"type": "contact", "device": "gate", "pin": 22},
                    {"type": "card_reader", "device": "gate", "reader": "serial", "path": "/dev/ttyUSB9"}],
    })
    clock = ManualClock(round(time.time(), 3))
    gw = Gateway(cfg, clock=clock)
    rec = Recorder()
    gw.add_observer(rec)
    gw.start()
    agent = Agent(cfg, AgentSettings(tmp_path / "agent", "agent-e2e"), pins=GpiozeroPins(mock_factory),
                  clock=clock, card_openers={"gate": lambda: iter(())})
    agent.start()
    try:
        assert agent.link.wait_connected(10)
        agent.tick()
        pin = mock_factory.pin(17)
        for _ in range(12):
            pin.drive_low()
            clock.advance(0.1)
            pin.drive_high()
            clock.advance(0.4)
        mock_factory.pin(22).drive_low()
        clock.advance(5)
        agent.tick()
        agent.parts.readers[0].handle("04A1B2C3")

        def stored(device: str, metric: str) -> list[float]:
            now = clock.now()
            return [r.value for r in gw.store.query(device, metric, now - 3600, now + 3600)]

        wait_for(lambda: 120.0 in stored("water", "total_l") and 4.25 in stored("fridge", "temperature")
                 and 0.0 in stored("gate", "contact") and "card" in rec.event_types("gate"), "readings in the store")
        # a probe that keeps failing: a fault event and offline, accepted by the gateway too
        w1.set(PROBE, 85000)
        for _ in range(2):
            clock.advance(30)
            agent.parts.buses[0].poll()
        wait_for(lambda: "fault" in rec.event_types("fridge")
                 and device_status(gw.events_db).get("fridge") is not None
                 and device_status(gw.events_db)["fridge"].online is False, "the fault")
        assert 85.0 not in stored("fridge", "temperature")
        assert device_status(gw.events_db)["water"].online is True
    finally:
        agent.stop()
    try:
        wait_for(lambda: device_status(gw.events_db)["water"].online is False, "water offline after the stop")
        assert gw.dead_letters.stored_counts() == {}, gw.dead_letters.recent()
    finally:
        gw.stop()
