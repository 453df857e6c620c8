"""The water meter and the electricity meter: cumulative totals following the school day."""

from __future__ import annotations

from demo.sim.base import Every, Observation, StateObs, device_rng
from demo.sim.schedule import SchoolDay

#: The slow flow of a leaking cistern or pipe (L/min), there day and night.
LEAK_LPM = 0.4
#: What stays on at night: fridges, freezer, network, cameras (W).
BASE_LOAD_W = 420.0
#: Lights and air conditioning somebody forgot (W).
LEFT_ON_W = 1_800.0


class WaterMeter:
    """A water meter reporting ``total_l`` (cumulative) and ``flow_lpm`` every minute."""

    def __init__(self, device: str, seed: int, start_total_l: float = 183_245.0, report_every_s: float = 60.0
                 ) -> None:
        self.device = device
        self._rng = device_rng(seed, device)
        self.total_l = start_total_l
        #: A slow leak: water flows all night.
        self.leak = False
        self._flow = 0.0
        self._burst = Every(60.0)
        self._report = Every(report_every_s)

    def step(self, t: float, dt: float, day: SchoolDay) -> list[Observation]:
        """Accumulate water and report on schedule."""
        if self._burst.due(t):
            # use comes in bursts (taps, flushes, the dishwasher): redraw the flow once a minute
            typical = day.water_lpm(t)
            self._flow = typical * self._rng.uniform(0.3, 1.7) if typical > 0.05 else 0.0
        flow = self._flow + (LEAK_LPM if self.leak else 0.0)
        self.total_l += flow * dt / 60.0
        if self._report.due(t):
            return [StateObs(t, self.device, {"total_l": round(self.total_l, 1), "flow_lpm": round(flow, 2)})]
        return []


class PowerMeter:
    """An electricity meter reporting ``energy_wh`` (cumulative) and ``power_w`` every minute."""

    def __init__(self, device: str, seed: int, start_energy_wh: float = 9_123_456.0,
                 report_every_s: float = 60.0) -> None:
        self.device = device
        self._rng = device_rng(seed, device)
        self.energy_wh = start_energy_wh
        #: Lights and air conditioning left on after school.
        self.left_on = False
        self._power = BASE_LOAD_W
        self._redraw = Every(60.0)
        self._report = Every(report_every_s)

    def step(self, t: float, dt: float, day: SchoolDay) -> list[Observation]:
        """Accumulate energy and report on schedule."""
        if self._redraw.due(t):
            self._power = BASE_LOAD_W * self._rng.uniform(0.9, 1.15) + day.power_w(t) * self._rng.uniform(0.8, 1.2)
        power = self._power + (LEFT_ON_W if self.left_on else 0.0)
        self.energy_wh += power * dt / 3600.0
        if self._report.due(t):
            return [StateObs(t, self.device, {"energy_wh": round(self.energy_wh, 1), "power_w": round(power)})]
        return []
