"""The daily cold-storage sheet (HACCP-style): per fridge, freezer, sample fridge and cold room and day,
the readings at the check times, min/max with their times, minutes out of range, and every alert with
who acknowledged it and the corrective action written.

A day's numbers are frozen into the events database an hour after the day ends, so the sheet outlives
the raw readings (kept 12 months or more); alerts and corrections are joined when the sheet is shown, so
an acknowledgement written the next morning still appears. Nothing on a sheet is edited: a correction
is a new row with who and why, shown next to the original value.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from gateway.alerts.model import Alert
from gateway.alerts.store import AlertStore
from gateway.clock import Clock
from gateway.cold_limits import cold_limits
from gateway.config import Config, DeviceSettings
from gateway.errors import StoreError
from gateway.eventsdb import EventsDB
from gateway.kinds import KINDS
from gateway.reports.weekly import midnight
from gateway.rules.detail import detail_words, what_words
from gateway.rules.settings import RuleBase
from gateway.store.base import TimeSeriesStore
from gateway.values import format_clock

log = logging.getLogger(__name__)

#: A reading stands for at most this long (a silent sensor does not count as in or out of range).
MAX_GAP = 900.0
#: A day's numbers are frozen this long after it ends (late readings from a spool arrive first).
FREEZE_AFTER = 3600.0
#: Fields a correction may name.
CORRECTABLE = ("check", "min", "max", "minutes_out", "corrective_action", "note")


class SheetError(ValueError):
    """A correction that cannot be recorded (unknown device, missing who/why)."""


@dataclass(frozen=True, slots=True)
class Check:
    """The reading nearest a check time (e.g. 08:00)."""

    at: str
    ts: float | None
    value: float | None


@dataclass(frozen=True, slots=True)
class SheetAlert:
    """An alert of the device that touched the day, with the corrective action."""

    id: int
    rule: str
    severity: str
    detail: str
    value: float | None
    opened_at: float
    cleared_at: float | None
    acked_by: str | None
    acked_at: float | None
    action: str | None
    alert: Alert | None = None
    rule_settings: RuleBase | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON API's fields (the alert and its rule stay out: the API has the alert under /api/alerts)."""
        return {f: getattr(self, f) for f in ("id", "rule", "severity", "detail", "value", "opened_at", "cleared_at",
                                              "acked_by", "acked_at", "action")}

    def words(self, locale: str, tz: tzinfo) -> str:
        """What happened, as people say it: ``温度 8.1 °C，高于 8.0 °C，持续 10分钟``."""
        if self.alert is None:
            return self.detail
        return detail_words(self.alert, self.rule_settings, locale, tz) or what_words(self.alert, self.rule_settings,
                                                                                      locale)


@dataclass(frozen=True, slots=True)
class Correction:
    """A correction of a sheet entry: a new record with who and why, never an edit."""

    id: int
    device: str
    day: str
    field: str
    value: str
    reason: str
    by: str
    at: float


@dataclass(frozen=True, slots=True)
class SheetDay:
    """One device's line on one day's sheet."""

    device: str
    name: str
    kind: str
    day: date
    low: float | None
    high: float | None
    checks: list[Check]
    min: float | None
    min_at: float | None
    max: float | None
    max_at: float | None
    minutes_out: float
    readings: int
    frozen: bool
    alerts: list[SheetAlert] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)
    #: The readings could not be read (the time-series store was down): the numbers say nothing.
    unavailable: bool = False

    @property
    def ok(self) -> bool:
        """In range all day, with readings."""
        return not self.unavailable and self.readings > 0 and self.minutes_out == 0

    def numbers(self) -> dict[str, Any]:
        """The frozen part, as JSON-able data."""
        return {"low": self.low, "high": self.high, "checks": [asdict(c) for c in self.checks], "min": self.min,
                "min_at": self.min_at, "max": self.max, "max_at": self.max_at, "minutes_out": self.minutes_out,
                "readings": self.readings}

    def as_dict(self) -> dict[str, Any]:
        """Everything, for the JSON API."""
        return {"device": self.device, "name": self.name, "kind": self.kind, "day": self.day.isoformat(),
                **self.numbers(), "frozen": self.frozen, "unavailable": self.unavailable,
                "alerts": [a.as_dict() for a in self.alerts], "corrections": [asdict(c) for c in self.corrections]}


def minutes_out_of_range(readings: Sequence[tuple[float, float]], start: float, end: float,
                         low: float | None, high: float | None) -> float:
    """Minutes in ``[start, end)`` the readings were outside ``[low, high]``; each reading stands until
    the next one, at most ``MAX_GAP``."""
    total = 0.0
    for i, (ts, v) in enumerate(readings):
        nxt = readings[i + 1][0] if i + 1 < len(readings) else end
        a, b = max(ts, start), min(nxt, ts + MAX_GAP, end)
        if b > a and ((low is not None and v < low) or (high is not None and v > high)):
            total += b - a
    return total / 60.0


class ColdSheet:
    """Builds, freezes and corrects the daily cold-storage sheet."""

    def __init__(self, config: Config, store: TimeSeriesStore, events_db: EventsDB, clock: Clock) -> None:
        self.config = config
        self.store = store
        self.db = events_db
        self.clock = clock
        self.tz: tzinfo = config.site.tz
        self.alerts = AlertStore(events_db)
        # One log line per store outage, not a traceback per fridge per refresh (the page polls).
        self._store_down = False
        self._store_lock = threading.Lock()

    def devices(self) -> list[DeviceSettings]:
        """Fridges, freezers, sample fridges and cold rooms, as configured."""
        return [d for d in self.config.devices if KINDS[d.kind].cold]

    # -- reading -----------------------------------------------------------------------------------
    def day(self, d: date, device: str | None = None) -> list[SheetDay]:
        """Every cold device's line for local date ``d`` (today so far for today)."""
        return [self._line(dev, d) for dev in self.devices() if device is None or dev.id == device]

    def month(self, year: int, month: int, device: str | None = None) -> list[SheetDay]:
        """Every line of a month up to today, by device then day."""
        first = date(year, month, 1)
        nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        today = datetime.fromtimestamp(self.clock.now(), self.tz).date()
        days = [first + timedelta(days=i) for i in range((nxt - first).days) if first + timedelta(days=i) <= today]
        return [self._line(dev, x) for dev in self.devices() if device is None or dev.id == device for x in days]

    def _line(self, dev: DeviceSettings, d: date) -> SheetDay:
        key = d.isoformat()
        row = self.db.conn().execute("SELECT data FROM cold_sheet_days WHERE device=? AND day=?",
                                     (dev.id, key)).fetchone()
        start, end = midnight(d, self.tz), midnight(d + timedelta(days=1), self.tz)
        if row is not None:
            numbers, frozen = json.loads(row[0]), True
        else:
            numbers = self._compute(dev, d, start, end)
            frozen = False
            # Never freeze a day whose readings could not be read (the store was down): try again later.
            if self.clock.now() >= end + FREEZE_AFTER and not numbers["unavailable"]:
                frozen = self._freeze(dev.id, key, numbers)
        return SheetDay(
            device=dev.id, name=dev.label, kind=dev.kind, day=d, low=numbers["low"], high=numbers["high"],
            checks=[Check(**c) for c in numbers["checks"]], min=numbers["min"], min_at=numbers["min_at"],
            max=numbers["max"], max_at=numbers["max_at"], minutes_out=numbers["minutes_out"],
            readings=numbers["readings"], frozen=frozen, alerts=self._alerts(dev.id, start, end),
            corrections=self.corrections(dev.id, key), unavailable=bool(numbers.get("unavailable", False)))

    def _compute(self, dev: DeviceSettings, d: date, start: float, end: float) -> dict[str, Any]:
        low, high = cold_limits(self.config, dev)
        try:
            raw = [(r.ts, r.value) for r in self.store.query(dev.id, "temperature", start - MAX_GAP, end)]
        except StoreError as e:
            self._store_failed(e)
            raw, failed = [], True
        except Exception:
            log.exception("reading %s for the cold-storage sheet failed", dev.id)
            raw, failed = [], True
        else:
            self._store_back()
            failed = False
        inside = [(ts, v) for ts, v in raw if ts >= start]
        window = self.config.reports.sheet.check_window
        checks = []
        for t in self.config.reports.sheet.check_times:
            target = datetime(d.year, d.month, d.day, t.hour, t.minute, tzinfo=self.tz).timestamp()
            near = [(abs(ts - target), ts, v) for ts, v in inside if abs(ts - target) <= window]
            best = min(near) if near else None
            checks.append({"at": format_clock(t), "ts": best[1] if best else None, "value": best[2] if best else None})
        lo = min(inside, key=lambda p: (p[1], p[0])) if inside else None
        hi = max(inside, key=lambda p: (p[1], -p[0])) if inside else None
        return {"low": low, "high": high, "checks": checks,
                "min": lo[1] if lo else None, "min_at": lo[0] if lo else None,
                "max": hi[1] if hi else None, "max_at": hi[0] if hi else None,
                "minutes_out": round(minutes_out_of_range(raw, start, min(end, self.clock.now()), low, high), 1),
                "readings": len(inside), "unavailable": failed}

    def _store_failed(self, e: StoreError) -> None:
        with self._store_lock:
            if self._store_down:
                return
            self._store_down = True
        log.error("cold-storage sheet: the time-series store cannot be read (%s); sheet lines show "
                  "'data unavailable' and days are not frozen until it is back", e)

    def _store_back(self) -> None:
        with self._store_lock:
            if not self._store_down:
                return
            self._store_down = False
        log.info("cold-storage sheet: the time-series store is readable again")

    def _freeze(self, device: str, day: str, numbers: dict[str, Any]) -> bool:
        try:
            self.db.conn().execute("INSERT OR IGNORE INTO cold_sheet_days (device, day, data, frozen_at) "
                                   "VALUES (?, ?, ?, ?)", (device, day, json.dumps(numbers), self.clock.now()))
        except Exception:
            log.exception("freezing the cold-storage sheet of %s on %s failed", device, day)
            return False
        return True

    def _alerts(self, device: str, start: float, end: float) -> list[SheetAlert]:
        found = self.alerts.list(since=start, until=end, device=device)
        rules = {r.id: r for r in self.config.rules}
        return [SheetAlert(a.id, a.rule, a.severity, a.detail, a.value, a.opened_at, a.cleared_at, a.acked_by,
                           a.acked_at, a.ack_note, a, rules.get(a.rule))
                for a in sorted(found, key=lambda a: a.opened_at)]

    def corrections(self, device: str, day: str) -> list[Correction]:
        """Corrections of one line, oldest first."""
        rows = self.db.conn().execute(
            "SELECT id, device, day, field, value, reason, by, at FROM cold_sheet_corrections "
            "WHERE device=? AND day=? ORDER BY id", (device, day)).fetchall()
        return [Correction(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], float(r[7])) for r in rows]

    # -- writing -----------------------------------------------------------------------------------
    def correct(self, device: str, d: date, field_: str, value: str, reason: str, by: str) -> Correction:
        """Record a correction with who and why; the original stays as it was."""
        if self.config.device(device) is None or device not in {x.id for x in self.devices()}:
            raise SheetError(f"{device!r} is not a fridge, freezer, sample fridge or cold room in the config")
        if field_ not in CORRECTABLE:
            raise SheetError(f"field {field_!r} cannot be corrected; use one of {', '.join(CORRECTABLE)}")
        value, reason, by = value.strip(), reason.strip(), by.strip()
        if not by:
            raise SheetError("say who corrects the sheet")
        if not reason:
            raise SheetError("say why: a correction needs a reason")
        if not value:
            raise SheetError("a correction needs the corrected value or text")
        now = self.clock.now()
        cur = self.db.conn().execute(
            "INSERT INTO cold_sheet_corrections (device, day, field, value, reason, by, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (device, d.isoformat(), field_, value[:2000], reason[:2000], by[:100], now))
        return Correction(int(cur.lastrowid or 0), device, d.isoformat(), field_, value[:2000], reason[:2000],
                          by[:100], now)

    def freeze_due(self) -> int:
        """Freeze every finished day of the last week not frozen yet (the scheduler calls this daily);
        returns the days frozen now.

        All in one transaction: a commit per line (seven days of every fridge at the first start) was
        thousands of synced commits of the events database, the most a fresh gateway wrote to its card.
        """
        today = datetime.fromtimestamp(self.clock.now(), self.tz).date()
        c = self.db.conn()
        rows: list[tuple[str, str, str, float]] = []
        for back in range(1, 8):
            d = today - timedelta(days=back)
            key = d.isoformat()
            start, end = midnight(d, self.tz), midnight(d + timedelta(days=1), self.tz)
            if self.clock.now() < end + FREEZE_AFTER:
                continue
            frozen = {r[0] for r in c.execute("SELECT device FROM cold_sheet_days WHERE day = ?", (key,))}
            for dev in self.devices():
                if dev.id in frozen:
                    continue
                numbers = self._compute(dev, d, start, end)
                if not numbers["unavailable"]:  # never freeze what could not be read: try again tomorrow
                    rows.append((dev.id, key, json.dumps(numbers), self.clock.now()))
        if rows:
            c.execute("BEGIN IMMEDIATE")
            try:
                c.executemany("INSERT OR IGNORE INTO cold_sheet_days (device, day, data, frozen_at) "
                              "VALUES (?, ?, ?, ?)", rows)
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        return len(rows)

    def purge(self) -> int:
        """Drop frozen days and corrections older than ``[reports.sheet] keep``; returns rows removed."""
        keep = self.config.reports.sheet.keep
        cutoff = datetime.fromtimestamp(self.clock.now() - keep, self.tz).date().isoformat()
        c = self.db.conn()
        n = c.execute("DELETE FROM cold_sheet_days WHERE day < ?", (cutoff,)).rowcount
        n += c.execute("DELETE FROM cold_sheet_corrections WHERE day < ?", (cutoff,)).rowcount
        return n
