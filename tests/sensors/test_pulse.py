from __future__ import annotations

import json
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from gateway.clock import ManualClock
from sensors.config import PulseSettings
from sensors.debounce import Debouncer
from sensors.hardware import GpiozeroPins
from sensors.journal import PulseJournal
from sensors.messages import Emitter, Outgoing
from sensors.pulse import PulseMeter, pulse_rate


def test_debouncer_needs_stability() -> None:
    d = Debouncer(0.02, False, 0.0)
    assert d.edge(True, 1.000) == []
    assert d.edge(False, 1.001) == []  # chatter
    assert d.edge(True, 1.002) == []
    assert d.settle(1.010) == []
    assert d.settle(1.022) == [(True, 1.002)]
    assert d.edge(False, 1.5) == []
    assert d.edge(False, 1.6) == [(False, 1.5)]


def test_rate_from_pulse_times() -> None:
    assert pulse_rate([], 10.0, 60) == 0.0
    assert pulse_rate([0.0, 2.0, 4.0, 6.0], 6.5, 60) == 0.5
    # sparse pulses (S0 at low load): the last gap, decaying while nothing comes
    assert pulse_rate([0.0, 36.0], 40.0, 30) == 1 / 36
    assert pulse_rate([0.0, 36.0], 108.0, 30) == 1 / 72
    assert pulse_rate([0.0, 36.0], 36.0 + 4000, 30) == 0.0


class Sink:
    def __init__(self) -> None:
        self.out: list[Outgoing] = []

    def __call__(self, m: Outgoing) -> None:
        self.out.append(m)

    def states(self) -> list[dict[str, float]]:
        return [json.loads(m.payload) for m in self.out if m.topic.endswith("/state")]


def _meter(tmp_path: Path, factory: MockFactory, clock: ManualClock, meter: str = "water",
           **kw: object) -> tuple[PulseMeter, Sink]:
    fields: dict[str, object] = {"type": "pulse", "device": "m", "pin": 17, "meter": meter, "interval": "10s"}
    fields.update(kw)
    s = PulseSettings.model_validate(fields)
    sink = Sink()
    line = GpiozeroPins(factory).input(17, s.pull_up)
    factor = s.litres_per_pulse or s.wh_per_pulse or 1.0
    m = PulseMeter(s, factor, line, PulseJournal(tmp_path / "m.journal"), Emitter("kg", sink, clock), clock)
    return m, sink


def reed_pulse(pin: object, clock: ManualClock, hold: float = 0.2, gap: float = 0.3, chatter: int = 3) -> None:
    """One reed-switch closure with contact chatter on make and on break."""
    for _ in range(chatter):
        pin.drive_low()  # type: ignore[attr-defined]
        clock.advance(0.001)
        pin.drive_high()  # type: ignore[attr-defined]
        clock.advance(0.001)
    pin.drive_low()  # type: ignore[attr-defined]
    clock.advance(hold)
    for _ in range(chatter):
        pin.drive_high()  # type: ignore[attr-defined]
        clock.advance(0.002)
        pin.drive_low()  # type: ignore[attr-defined]
        clock.advance(0.001)
    pin.drive_high()  # type: ignore[attr-defined]
    clock.advance(gap)


def test_reed_chatter_counts_each_pulse_once(tmp_path: Path, mock_factory: MockFactory) -> None:
    clock = ManualClock(1000.0)
    meter, sink = _meter(tmp_path, mock_factory, clock, litres_per_pulse=0.5)
    pin = mock_factory.pin(17)
    for _ in range(40):
        reed_pulse(pin, clock)
    meter.tick(clock.now())
    assert meter.journal.total == 40
    last = sink.states()[-1]
    assert last["total_l"] == 20.0
    # one pulse every ~0.509 s at 0.5 L/pulse is about 59 L/min
    assert 55 < last["flow_lpm"] < 62


def test_glitch_shorter_than_bounce_not_counted(tmp_path: Path, mock_factory: MockFactory) -> None:
    clock = ManualClock(1000.0)
    meter, _sink = _meter(tmp_path, mock_factory, clock, meter="electricity", wh_per_pulse=1.0)
    pin = mock_factory.pin(17)
    pin.drive_low()
    clock.advance(0.004)  # a 4 ms spike: below S0's 10 ms stability
    pin.drive_high()
    clock.advance(1.0)
    for _ in range(5):  # real S0 pulses: 30 ms
        pin.drive_low()
        clock.advance(0.030)
        pin.drive_high()
        clock.advance(0.5)
    meter.tick(clock.now())
    assert meter.journal.total == 5


def test_power_published_and_total_survives_restart(tmp_path: Path, mock_factory: MockFactory) -> None:
    clock = ManualClock(1000.0)
    meter, sink = _meter(tmp_path, mock_factory, clock, meter="electricity", wh_per_pulse=1.0)
    pin = mock_factory.pin(17)
    meter.tick(clock.now())
    for _ in range(10):  # 1 Wh every 3.6 s is 1000 W
        pin.drive_low()
        clock.advance(0.05)
        pin.drive_high()
        clock.advance(3.55)
    meter.tick(clock.now())
    last = sink.states()[-1]
    assert last["energy_wh"] == 10 and 990 < last["power_w"] < 1010
    meter.close()
    meter2, sink2 = _meter(tmp_path, mock_factory, clock, meter="electricity", wh_per_pulse=1.0)
    meter2.tick(clock.now())
    assert sink2.states()[-1]["energy_wh"] == 10
    meter2.close()


def test_last_pulse_confirmed_by_tick_without_next_edge(tmp_path: Path, mock_factory: MockFactory) -> None:
    clock = ManualClock(1000.0)
    meter, _ = _meter(tmp_path, mock_factory, clock, litres_per_pulse=1.0)
    pin = mock_factory.pin(17)
    pin.drive_low()  # the meter stops with the reed closed
    clock.advance(0.1)
    meter.tick(clock.now())
    assert meter.journal.total == 1
