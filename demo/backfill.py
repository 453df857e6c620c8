"""Simulated history for the demo: weeks of the simulated site's readings written straight into the store.

A fresh demo would show empty charts and an empty weekly report. ``backfill`` steps the simulator's
device models (``demo/sim``: fridges, freezer, sample fridge, water and power meters, classroom UV lamps) through past
time at one-minute resolution, turns meter totals into usage with the gateway's own ``Meters`` (the
same derivation ingest applies, its state saved in the events database so the live demo goes on from
it), and writes the readings in day-sized batches through the ``TimeSeriesStore`` protocol. The gate
is left out: its history is events, not readings, and the live demo fills the gate's log.

Only the gap is filled: history starts at the later of ``end - days`` (back to that Monday) and the last
stored reading of the simulated devices, so a demo run again on the same directory adds the days it was
stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from demo.sim.base import DeviceModel, StateObs
from demo.sim.schedule import SchoolDay
from demo.simulator import SimulatedSite
from gateway.meters import Meters, load_ingest_state
from gateway.model import Reading
from gateway.reports.weekly import last_full_week, midnight
from gateway.store.ingest_state import IngestState

if TYPE_CHECKING:
    from demo.story import DemoStory
    from gateway.config import Config, DeviceSettings
    from gateway.eventsdb import EventsDB
    from gateway.store.base import TimeSeriesStore

#: Resolution of the history: the simulated probes and meters report once a minute.
STEP_S = 60.0
#: Readings are written (and the meter state committed) one simulated day at a time.
BATCH_S = 86400.0
#: Days of history ``houqin demo`` fills by default: four weeks, so "vs the 4-week average" has its weeks.
DEFAULT_DAYS = 28

Progress = Callable[[float, float], None]


@dataclass(frozen=True, slots=True)
class BackfillResult:
    """What ``backfill`` wrote: the span ``[start, end)``, how many readings, and how long it took."""

    start: float
    end: float
    readings: int
    seconds: float
    leak: tuple[float, float] | None

    @property
    def days(self) -> float:
        """Length of the filled span in days."""
        return max(0.0, self.end - self.start) / 86400.0


class _CachedDay(SchoolDay):
    """``SchoolDay`` that converts each step's time to local time once, not once per model and question."""

    def __init__(self, timezone: str, holidays: frozenset[date] = frozenset()) -> None:
        super().__init__(timezone, holidays)
        self._t: float | None = None
        self._local: datetime | None = None

    def local(self, t: float) -> datetime:
        """``t`` as a local datetime (cached for the last ``t``)."""
        if t != self._t or self._local is None:
            self._t, self._local = t, datetime.fromtimestamp(t, self.tz)
        return self._local


def leak_window(now: float, timezone: str) -> tuple[float, float]:
    """A slow leak in the last full week: from Tuesday 21:00 local until the week ended (fixed on Monday).

    It lands in the week ``houqin report weekly`` shows by default, so its findings have a leak to name
    (night baseline rising, water used while closed, above the 4-week average).
    """
    week = last_full_week(now, SchoolDay(timezone).tz)
    return week.start + 86400.0 + 21 * 3600.0, week.end


def history_start(store: TimeSeriesStore, devices: Sequence[str], end: float, days: float, timezone: str) -> float:
    """Where history begins: ``days`` before ``end`` and back to that Monday 00:00 local (so every week of
    the weekly report's "vs the 4-week average" is whole), or just after what the store already holds."""
    tz = SchoolDay(timezone).tz
    first = datetime.fromtimestamp(end - days * 86400.0, tz).date()
    start = midnight(first - timedelta(days=first.weekday()), tz) if days > 0 else end
    last = max((s.last_ts for d in devices for s in store.series(d)), default=None)
    if last is not None:
        start = max(start, last + STEP_S)
    # whole minutes, like a probe reporting on the minute
    return float(int(start // STEP_S) * STEP_S)


def backfill(config: Config, store: TimeSeriesStore, events_db: EventsDB, *, days: float,
             end: float | None = None, seed: int = 1, leak: tuple[float, float] | None = None,
             progress: Progress | None = None, story: DemoStory | None = None) -> BackfillResult:
    """Write simulated history of the demo site into ``store`` up to ``end`` (default now); see the module.

    ``leak`` is a ``[start, end)`` span in which the water meter leaks. ``progress(done_s, total_s)`` is
    called after each day written. Meter totals go on from what is stored (never backwards). ``story`` adds its
    holiday (a closed day) and its UV lamp incidents.
    """
    began = time.monotonic()
    end = time.time() if end is None else end
    tz = config.site.timezone
    probe = SimulatedSite(start=end, seed=seed, timezone=tz)
    cold = [*probe.fridges.values(), probe.freezer, probe.sample_fridge]
    ids = [m.device for m in cold] + [probe.water.device, probe.power.device]
    start = history_start(store, ids, end, days, tz)
    if start >= end:
        return BackfillResult(start, end, 0, time.monotonic() - began, None)
    site = SimulatedSite(start=start, seed=seed, timezone=tz, story=story)
    totals = {s.device: s.last_value for d in (site.water.device, site.power.device) for s in store.series(d)
              if s.metric in ("total_l", "energy_wh")}
    site.continue_totals(totals)
    models: list[DeviceModel] = [*site.fridges.values(), site.freezer, site.sample_fridge, site.water, site.power,
                                 *site.lamps]
    settings: dict[str, DeviceSettings] = {d.id: d for d in config.devices}
    meter_ids = {site.water.device, site.power.device}
    day = _CachedDay(tz, story.holidays if story is not None else frozenset())
    meters = Meters()
    meters.restore(load_ingest_state(store, events_db.conn()).meters)
    written = 0
    t = start
    total_s = end - start
    while t < end:
        batch_end = min(end, t + BATCH_S)
        plain: list[Reading] = []
        metered: dict[str, list[Reading]] = {d: [] for d in meter_ids}
        while t < batch_end:
            site.water.leak = leak is not None and leak[0] <= t < leak[1]
            for model in models:
                for obs in model.step(t, STEP_S, day):
                    if type(obs) is StateObs:  # not isinstance: the hot loop of the backfill
                        dest = metered.get(obs.device, plain)
                        for k, v in obs.metrics.items():
                            dest.append(Reading(obs.ts, obs.device, k, float(v)))
            t += STEP_S
        readings = plain
        for device, rs in metered.items():
            out, _refused = meters.apply(settings.get(device), rs)  # simulated totals never go back
            readings.extend(out)
        try:
            store.write(readings, IngestState(meters.take_dirty()))  # the totals with their meter state
        except BaseException:
            meters.restore(load_ingest_state(store, events_db.conn()).meters)
            raise
        written += len(readings)
        if progress is not None:
            progress(min(t, end) - start, total_s)
    site.water.leak = False
    span = None if leak is None or leak[1] <= start or leak[0] >= end else (max(leak[0], start), min(leak[1], end))
    return BackfillResult(start, end, written, time.monotonic() - began, span)
