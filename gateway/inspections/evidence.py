"""What the sensors say about a checklist item's devices: a fridge's last 24 hours and excursions, a door's state
and last change, a meter's use last night. A "pass" the evidence contradicts (a door open now, a fridge out of
range now) is warned about before it is saved."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from gateway.cold_limits import cold_limits
from gateway.config import Config, DeviceSettings
from gateway.contract import METRICS
from gateway.i18n import tr
from gateway.kinds import KINDS
from gateway.reports.samples import spells
from gateway.store.base import TimeSeriesStore

log = logging.getLogger(__name__)

DAY = 86400.0
#: A contact's last change is looked for this far back.
CONTACT_LOOKBACK = 7 * DAY
#: "Last night" for a meter: local 00:00 to 05:00.
NIGHT_HOURS = (0, 5)
#: A reading older than this is not "now".
FRESH = 1800.0


@dataclass(frozen=True, slots=True)
class Evidence:
    """One device's evidence: its name, what it shows (sentences for people) and what contradicts a pass."""

    device: str
    name: str
    lines: list[str]
    #: Why a "pass" would be wrong now; None when nothing contradicts it.
    contradicts: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """For the JSON API and the stored record."""
        return asdict(self)


class EvidenceReader:
    """Reads the evidence of devices from the time-series store, in one language."""

    def __init__(self, config: Config, store: TimeSeriesStore | None, locale: str) -> None:
        self.config = config
        self.store = store
        self.locale = locale
        self.tz = config.site.tz

    def of(self, device_id: str, now: float) -> Evidence:
        """The evidence of one device at ``now`` (a device without data says so; the store failing says so)."""
        device = self.config.device(device_id)
        if device is None:
            return Evidence(device_id, device_id, [tr(self.locale, "not a configured device")])
        if self.store is None:
            return Evidence(device_id, device.label, [tr(self.locale, "no readings available")])
        try:
            kind = KINDS[device.kind]
            if kind.cold:
                return self._cold(device, now)
            if kind.contact:
                return self._contact(device, now)
            if kind.total:
                return self._meter(device, kind.total, now)
            return self._latest(device, now)
        except Exception:
            log.exception("evidence of %s failed", device_id)
            return Evidence(device_id, device.label, [tr(self.locale, "no readings available")])

    def _t(self, msg: str, **kw: object) -> str:
        return tr(self.locale, msg, **kw)

    def _hm(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.tz).strftime("%m-%d %H:%M")

    def _cold(self, d: DeviceSettings, now: float) -> Evidence:
        assert self.store is not None
        low, high = cold_limits(self.config, d)
        raw = [(r.ts, r.value) for r in self.store.query(d.id, "temperature", now - DAY, now + 1)]
        if not raw:
            return Evidence(d.id, d.label, [self._t("no readings in the last 24 hours")],
                            self._t("no readings in the last 24 hours"))
        values = [v for _, v in raw]
        lines = [self._t("last 24 h: {min:.1f} to {max:.1f} °C, now {now:.1f} °C", min=min(values), max=max(values),
                         now=values[-1])]
        lo = low if low is not None else float("-inf")
        hi = high if high is not None else float("inf")
        trips = spells(raw, now - DAY, now, lo, hi)
        lines.extend(self._t("out of range from {start}: {minutes:.0f} min, up to {peak:.1f} °C",
                             start=self._hm(e.start), minutes=e.minutes, peak=e.peak) for e in trips)
        if not trips:
            lines.append(self._t("no excursions"))
        last_ts, last = raw[-1]
        bad = None
        if not lo <= last <= hi and now - last_ts <= FRESH:
            bad = self._t("{name} is at {value:.1f} °C now, outside its range", name=d.label, value=last)
        elif now - last_ts > FRESH:
            bad = self._t("{name} has sent no reading since {time}", name=d.label, time=self._hm(last_ts))
        return Evidence(d.id, d.label, lines, bad)

    def _contact(self, d: DeviceSettings, now: float) -> Evidence:
        assert self.store is not None
        raw = [(r.ts, r.value) for r in self.store.query(d.id, "contact", now - CONTACT_LOOKBACK, now + 1)]
        if not raw:
            return Evidence(d.id, d.label, [self._t("no readings in the last 7 days")])
        state = raw[-1][1]
        changed = raw[0][0]
        for (_, prev), (ts, v) in pairwise(raw):
            if v != prev:
                changed = ts
        is_open = state >= 0.5
        lines = [self._t("open since {time}", time=self._hm(changed)) if is_open
                 else self._t("closed since {time}", time=self._hm(changed))]
        bad = self._t("{name} is open now", name=d.label) if is_open else None
        return Evidence(d.id, d.label, lines, bad)

    def _meter(self, d: DeviceSettings, total: str, now: float) -> Evidence:
        assert self.store is not None
        usage = METRICS[total].usage_metric or total
        today = datetime.fromtimestamp(now, self.tz).date()
        night = today if datetime.fromtimestamp(now, self.tz).hour >= NIGHT_HOURS[1] else today - timedelta(days=1)
        a = datetime(night.year, night.month, night.day, NIGHT_HOURS[0], tzinfo=self.tz).timestamp()
        b = datetime(night.year, night.month, night.day, NIGHT_HOURS[1], tzinfo=self.tz).timestamp()
        used = sum(r.value for r in self.store.query(d.id, usage, a, b))
        unit = METRICS[usage].unit
        return Evidence(d.id, d.label, [self._t("last night 00:00-05:00: {used:.1f} {unit}", used=used, unit=unit)])

    def _latest(self, d: DeviceSettings, now: float) -> Evidence:
        assert self.store is not None
        series = self.store.series(d.id)
        if not series:
            return Evidence(d.id, d.label, [self._t("no readings available")])
        return Evidence(d.id, d.label, [f"{s.metric}: {s.last_value:g} ({self._hm(s.last_ts)})" for s in series])
