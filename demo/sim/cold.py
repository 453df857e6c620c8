"""Fridges, freezers and the food-sample fridge: a thermostat, a compressor and a door."""

from __future__ import annotations

from dataclasses import dataclass

from demo.sim.base import Every, Observation, StateObs, device_rng
from demo.sim.schedule import SchoolDay


@dataclass(frozen=True, slots=True)
class ColdSpec:
    """Physics of one cold store (°C, seconds)."""

    low: float  # the compressor stops here
    high: float  # and starts here
    ambient: float = 25.0
    #: Time constant of warming towards the kitchen with the door shut.
    tau_s: float = 18_000.0
    #: Time constant with the door open: warms quickly.
    tau_open_s: float = 1_500.0
    #: Cooling by the running compressor (°C/s).
    cool_c_per_s: float = 0.0028
    #: Door openings per hour while the kitchen is busy, and at other times.
    doors_per_hour_busy: float = 6.0
    doors_per_hour_idle: float = 0.1
    door_min_s: float = 10.0
    door_max_s: float = 60.0
    report_every_s: float = 60.0


FRIDGE = ColdSpec(low=3.0, high=6.0)
FREEZER = ColdSpec(low=-20.0, high=-16.5, tau_s=36_000.0, tau_open_s=3_000.0, cool_c_per_s=0.003,
                   doors_per_hour_busy=2.0, doors_per_hour_idle=0.05)
SAMPLE_FRIDGE = ColdSpec(low=1.5, high=4.0, tau_s=20_000.0, cool_c_per_s=0.0025,
                         doors_per_hour_busy=0.4, doors_per_hour_idle=0.0, door_max_s=30.0)


class ColdStore:
    """A thermostat-controlled cold store whose probe reports ``temperature`` every minute."""

    def __init__(self, device: str, spec: ColdSpec, seed: int) -> None:
        self.device = device
        self.spec = spec
        self._rng = device_rng(seed, device)
        self.temperature = self._rng.uniform(spec.low, spec.high)
        self.compressor_on = self._rng.random() < 0.5
        self.door_open_until: float | None = None
        #: A broken compressor never starts: the temperature climbs towards the kitchen's.
        self.compressor_failed = False
        self._report = Every(spec.report_every_s)

    @property
    def door_open(self) -> bool:
        """Whether the door is open now."""
        return self.door_open_until is not None

    def step(self, t: float, dt: float, day: SchoolDay) -> list[Observation]:
        """Move the temperature by ``dt`` seconds and report on schedule."""
        s = self.spec
        if self.door_open_until is not None and t >= self.door_open_until:
            self.door_open_until = None
        if self.door_open_until is None:
            rate = s.doors_per_hour_busy if day.kitchen_busy(t) else s.doors_per_hour_idle
            if self._rng.random() < rate * dt / 3600.0:
                self.door_open_until = t + self._rng.uniform(s.door_min_s, s.door_max_s)
        tau = s.tau_open_s if self.door_open else s.tau_s
        self.temperature += (s.ambient - self.temperature) * dt / tau
        if self.compressor_failed:
            self.compressor_on = False
        elif self.temperature >= s.high:
            self.compressor_on = True
        elif self.temperature <= s.low:
            self.compressor_on = False
        if self.compressor_on:
            self.temperature -= s.cool_c_per_s * dt
        if self._report.due(t):
            # a DS18B20-like probe: a little noise, 0.1 °C shown
            reading = round(self.temperature + self._rng.gauss(0.0, 0.04), 1)
            return [StateObs(t, self.device, {"temperature": reading})]
        return []
