from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.clock import ManualClock
from sensors.config import Ds18b20Settings
from sensors.errors import ProbeReadError
from sensors.messages import Emitter, Outgoing
from sensors.w1 import Ds18b20Bus, parse_w1_slave
from tests.sensors.helpers import FakeW1, w1_text
from tests.waiting import wait_for

FRIDGE = "28-0316a2799bff"
FREEZER = "28-0416b1a2c3d4"


def test_parse_good_and_negative() -> None:
    assert parse_w1_slave(w1_text(4125)) == 4.125
    assert parse_w1_slave(w1_text(-18250)) == -18.25


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (w1_text(4125, crc_ok=False), "crc"),
        (w1_text(85000), "power_on"),
        (w1_text(127937), "low_power"),
        (w1_text(0, scratch="00 00 00 00 00 00 00 00 00"), "no_data"),
        (w1_text(130000), "out_of_range"),
        ("garbage", "format"),
        ("72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\nnothing here\n", "format"),
    ],
)
def test_parse_refuses(text: str, reason: str) -> None:
    with pytest.raises(ProbeReadError) as e:
        parse_w1_slave(text)
    assert e.value.reason == reason


class Sink:
    def __init__(self) -> None:
        self.out: list[Outgoing] = []

    def __call__(self, m: Outgoing) -> None:
        self.out.append(m)

    def bodies(self) -> list[tuple[str, object]]:
        res: list[tuple[str, object]] = []
        for m in self.out:
            device, channel = m.topic.split("/")[2:4]
            body = m.payload.decode() if channel == "availability" else json.loads(m.payload)
            res.append((f"{device}/{channel}", body))
        return res


def _bus(tmp_path: Path, fail_after: int = 3) -> tuple[FakeW1, Ds18b20Bus, Sink]:
    w1 = FakeW1(tmp_path / "w1")
    settings = Ds18b20Settings(type="ds18b20", probes={FRIDGE: "fridge", FREEZER: "freezer"},
                               w1_root=str(w1.root), interval="30s", fail_after=fail_after)
    sink = Sink()
    return w1, Ds18b20Bus(settings, Emitter("kg", sink, ManualClock())), sink


def test_two_probes_keyed_by_id(tmp_path: Path) -> None:
    w1, bus, sink = _bus(tmp_path)
    w1.set(FRIDGE, 4125)
    w1.set(FREEZER, -18500)
    assert bus.problems() == []
    bus.poll()
    got = sink.bodies()
    assert ("fridge/availability", "online") in got and ("freezer/availability", "online") in got
    temps = {k: v["temperature"] for k, v in got if k.endswith("/state") and isinstance(v, dict)}
    assert temps == {"fridge/state": 4.125, "freezer/state": -18.5}


def test_bad_reads_never_published_and_fault_after_n(tmp_path: Path) -> None:
    w1, bus, sink = _bus(tmp_path, fail_after=3)
    w1.set(FREEZER, -18000)
    w1.set(FRIDGE, 4000)
    bus.poll()
    sink.out.clear()
    for bad in (w1_text(85000), w1_text(3000, crc_ok=False)):
        w1.set_raw(FRIDGE, bad)
        bus.poll()
    fridge = [b for k, b in sink.bodies() if k.startswith("fridge/")]
    assert fridge == []  # two refusals: nothing published, no fault yet
    w1.set(FRIDGE, 127937)
    bus.poll()
    bus.poll()  # a fourth failure does not repeat the fault
    fridge = [b for k, b in sink.bodies() if k.startswith("fridge/")]
    assert fridge[0]["type"] == "fault" and fridge[0]["reason"] == "low_power"  # type: ignore[index]
    assert fridge[1:] == ["offline"]
    # the freezer kept reading all along
    assert sum(1 for k, _ in sink.bodies() if k == "freezer/state") == 4
    sink.out.clear()
    w1.set(FRIDGE, 3900)
    bus.poll()
    fridge = [b for k, b in sink.bodies() if k.startswith("fridge/")]
    assert fridge[0] == "online" and fridge[1]["temperature"] == 3.9  # type: ignore[index]


def test_vanished_probe_faults_at_once(tmp_path: Path) -> None:
    w1, bus, sink = _bus(tmp_path)
    w1.set(FRIDGE, 4000)
    w1.set(FREEZER, -18000)
    bus.poll()
    sink.out.clear()
    w1.remove(FRIDGE)
    bus.poll()
    fridge = [b for k, b in sink.bodies() if k.startswith("fridge/")]
    assert fridge[0]["reason"] == "missing" and fridge[1] == "offline"  # type: ignore[index]
    assert "fridge" in bus.problems()[0] and FREEZER in bus.problems()[0]


def test_missing_root_is_a_clear_problem(tmp_path: Path) -> None:
    settings = Ds18b20Settings(type="ds18b20", probes={FRIDGE: "fridge"}, w1_root=str(tmp_path / "nope"))
    bus = Ds18b20Bus(settings, Emitter("kg", Sink(), ManualClock()))
    (problem,) = bus.problems()
    assert "dtoverlay=w1-gpio" in problem


def test_tick_polls_on_a_worker_thread_every_interval(tmp_path: Path) -> None:
    import threading
    import time

    w1, _bus_unused, sink = _bus(tmp_path)
    threads: list[str] = []

    def reader(p: Path) -> str:
        threads.append(threading.current_thread().name)
        return p.read_text()

    settings = Ds18b20Settings(type="ds18b20", probes={FRIDGE: "fridge"}, w1_root=str(w1.root), interval="30s")
    bus = Ds18b20Bus(settings, Emitter("kg", sink, ManualClock()), reader=reader)
    w1.set(FRIDGE, 4000)
    try:
        bus.tick(1000.0)
        wait_for(lambda: len(threads) >= 1, "the first read on the worker thread", timeout=5)
        bus.tick(1010.0)  # not due yet
        time.sleep(0.05)
        assert len(threads) == 1 and threads[0] != threading.current_thread().name
        bus.tick(1030.0)
        wait_for(lambda: len(threads) >= 2, "the second read", timeout=5)
        assert len(threads) == 2
    finally:
        bus.close()
