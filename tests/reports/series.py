"""Generated meter and fridge series with known answers, written through the real meter logic and store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gateway.config import Config, parse_config
from gateway.meters import Meters
from gateway.model import Reading
from gateway.store.sqlite import SqliteStore
from tests.waiting import COMMIT_WINDOW

STEP = 300.0
#: Readings fall mid-way into each 5-minute bucket, so each bucket holds exactly one usage reading.
OFFSET = 150.0

DEVICES: list[dict[str, Any]] = [
    {"id": "water", "kind": "water_meter", "name": "Water main"},
    {"id": "power", "kind": "power_meter", "name": "Power main"},
    {"id": "fridge", "kind": "fridge", "name": "Kitchen fridge"},
    {"id": "sample-fridge", "kind": "sample_fridge", "name": "Sample fridge"},
    {"id": "freezer", "kind": "freezer", "name": "Freezer"},
]


def make_config(tmp_path: Path, *, tz: str = "Asia/Shanghai", locale: str = "en",
                calendar: dict[str, Any] | None = None,
                reports: dict[str, Any] | None = None, notify: dict[str, Any] | None = None,
                rules: list[dict[str, Any]] | None = None, extra: dict[str, Any] | None = None) -> Config:
    raw: dict[str, Any] = {"site": {"id": "kg", "name": "Sunshine KG", "timezone": tz, "locale": locale},
                           "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
                           "devices": DEVICES}
    if calendar is not None:
        raw["calendar"] = calendar
    if reports is not None:
        raw["reports"] = reports
    if notify is not None:
        raw["notify"] = notify
    if rules is not None:
        raw["rules"] = rules
    raw.update(extra or {})
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    return parse_config(raw)


def local_ts(d: date, hour: int, minute: int, tz: str) -> float:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=ZoneInfo(tz)).timestamp()


def write_meter(store: SqliteStore, cfg: Config, device: str, metric: str, start: float, end: float,
                step_use: Callable[[float], float], reset_at: float | None = None) -> float:
    """Cumulative totals every 5 minutes in ``[start, end)``, each step adding ``step_use(ts)``.

    At ``reset_at`` the meter is replaced: its total starts again from that step's use. Usage is
    derived by the real ``Meters`` logic (counter resets included). Returns the sum of step uses.
    """
    meters = Meters()
    dev = cfg.device(device)
    total = 1_000_000.0
    out: list[Reading] = []
    first, _ = meters.apply(dev, [Reading(start + OFFSET - STEP, device, metric, total)])
    out.extend(first)
    used = 0.0
    ts = start + OFFSET
    while ts < end:
        u = step_use(ts)
        used += u
        if reset_at is not None and abs(ts - reset_at) < STEP / 2:
            total = u
        else:
            total += u
        produced, refused = meters.apply(dev, [Reading(ts, device, metric, total)])
        assert not refused
        out.extend(produced)
        if len(out) >= 2000:
            store.write(out)
            out = []
        ts += STEP
    store.write(out)
    return used


def write_temps(store: SqliteStore, device: str, start: float, end: float, temp: Callable[[float], float],
                every: float = 60.0) -> None:
    """One temperature reading every ``every`` seconds in ``[start, end)``."""
    out = []
    ts = start
    while ts < end:
        out.append(Reading(ts, device, "temperature", temp(ts)))
        ts += every
    store.write(out)
