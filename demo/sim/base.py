"""What a simulated device model produces, and the interface every model implements."""

from __future__ import annotations

import random
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from demo.sim.schedule import SchoolDay


@dataclass(frozen=True, slots=True)
class StateObs:
    """A device reports its metrics, e.g. ``{"temperature": 4.2}`` (canonical units)."""

    ts: float
    device: str
    metrics: Mapping[str, float | int | str | bool]


@dataclass(frozen=True, slots=True)
class EventObs:
    """Something happened once at a device, e.g. a card read."""

    ts: float
    device: str
    type: str
    data: Mapping[str, Any] = field(default_factory=dict)


Observation = StateObs | EventObs


class DeviceModel(Protocol):
    """A simulated device: moves its physics by ``dt`` seconds to time ``t`` and says what it reports."""

    device: str

    def step(self, t: float, dt: float, day: SchoolDay) -> list[Observation]:
        """Advance to ``t`` (Unix s) from ``t - dt``; return what the device reported meanwhile."""
        ...


def device_rng(seed: int, device: str) -> random.Random:
    """A random stream per device, stable across runs and independent of the other devices."""
    return random.Random((seed << 32) ^ zlib.crc32(device.encode()))


class Every:
    """Fires every ``period`` seconds of simulated time (first at the first step)."""

    def __init__(self, period: float) -> None:
        self.period = period
        self._next: float | None = None

    def due(self, t: float) -> bool:
        """True when a report is due at ``t``; schedules the next one."""
        if self._next is None or t >= self._next:
            self._next = (t if self._next is None else self._next) + self.period
            if self._next <= t:  # a long jump: don't fire a burst of catch-up reports
                self._next = t + self.period
            return True
        return False
