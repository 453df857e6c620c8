"""The 48-hour food-sample ledger (留样): samples registered by the kitchen, each one's 48 hours checked
against its fridge's readings, compromised samples alerted at once, the discard reminder and who discarded.

A sample row is written once; what happens to it later (flagged, due, discarded, corrected) is a new
``sample_events`` row with who and when, and the database refuses updates of either table.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from gateway.alerts.service import AlertService
from gateway.alerts.store import OpenRequest
from gateway.clock import Clock
from gateway.config import Config
from gateway.eventsdb import EventsDB
from gateway.i18n import tr
from gateway.kinds import KINDS
from gateway.model import CommittedBatch, Reading
from gateway.reports.sheet import MAX_GAP
from gateway.reports.weekly import midnight
from gateway.store.base import TimeSeriesStore

log = logging.getLogger(__name__)

#: The rule id of "sample compromised" alerts (one open alert per fridge).
SAMPLE_RULE = "food-sample"
CORRECTABLE = ("meal_date", "meal", "dishes", "fridge", "staff", "taken_at", "note")


class SampleError(ValueError):
    """A sample, discard or correction that cannot be recorded; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class Dish:
    """One dish kept: its name and grams."""

    name: str
    grams: float


@dataclass(frozen=True, slots=True)
class SampleEvent:
    """Something that happened to a sample after it was registered."""

    ts: float
    what: str  # flagged / due / discarded / corrected
    by: str | None = None
    field: str | None = None
    value: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Excursion:
    """The fridge outside the safe range: from, until (None: still), the worst reading, minutes."""

    start: float
    end: float | None
    peak: float
    minutes: float


@dataclass(frozen=True, slots=True)
class Sample:
    """One meal's samples in one fridge, and its history."""

    id: int
    meal_date: date
    meal: str
    dishes: list[Dish]
    fridge: str
    staff: str
    taken_at: float
    registered_at: float
    registered_by: str
    due_at: float
    events: list[SampleEvent] = field(default_factory=list)

    def event(self, what: str) -> SampleEvent | None:
        """The (first) event of this kind."""
        return next((e for e in self.events if e.what == what), None)

    @property
    def flagged(self) -> SampleEvent | None:
        """When and why the sample was found compromised."""
        return self.event("flagged")

    @property
    def discarded(self) -> SampleEvent | None:
        """Who discarded it and when."""
        return self.event("discarded")

    def status(self, now: float) -> str:
        """``discarded``, ``compromised``, ``due`` (48 h reached) or ``keeping``."""
        if self.discarded:
            return "discarded"
        if self.flagged:
            return "compromised"
        return "due" if now >= self.due_at else "keeping"

    def current(self) -> dict[str, Any]:
        """The registered values with the latest correction of each field applied (originals kept)."""
        out: dict[str, Any] = {"meal_date": self.meal_date.isoformat(), "meal": self.meal,
                               "dishes": [asdict(d) for d in self.dishes], "fridge": self.fridge,
                               "staff": self.staff, "taken_at": self.taken_at, "note": ""}
        for e in self.events:
            if e.what == "corrected" and e.field and e.value is not None:
                out[e.field] = json.loads(e.value)
        return out

    def as_dict(self, now: float) -> dict[str, Any]:
        """For the JSON API and CSV."""
        return {"id": self.id, "meal_date": self.meal_date.isoformat(), "meal": self.meal,
                "dishes": [asdict(d) for d in self.dishes], "fridge": self.fridge, "staff": self.staff,
                "taken_at": self.taken_at, "registered_at": self.registered_at, "registered_by": self.registered_by,
                "due_at": self.due_at, "status": self.status(now), "events": [asdict(e) for e in self.events],
                "current": self.current()}


def _event(row: tuple[Any, ...]) -> SampleEvent:
    return SampleEvent(float(row[0]), str(row[1]), row[2], row[3], row[4], row[5])


class SampleLedger:
    """Registers samples, checks their 48 hours, records reminders, discards and corrections."""

    def __init__(self, config: Config, events_db: EventsDB, clock: Clock, store: TimeSeriesStore | None = None,
                 alerts: AlertService | None = None) -> None:
        self.config = config
        self.settings = config.reports.samples
        self.db = events_db
        self.clock = clock
        self.store = store
        self.alerts = alerts
        self.tz = config.site.tz

    # -- registering -------------------------------------------------------------------------------
    def fridges(self) -> list[tuple[str, str]]:
        """(id, name) of devices samples may be kept in, sample fridges first."""
        devs = [d for d in self.config.devices if KINDS[d.kind].keeps_samples]
        devs.sort(key=lambda d: (d.kind != "sample_fridge", d.label))
        return [(d.id, d.label) for d in devs]

    def check(self, meal_date: str, meal: str, dishes: list[tuple[str, str | float]], fridge: str,
              staff: str, locale: str = "en") -> tuple[date, list[Dish], list[str]]:
        """Validate a registration; returns the date, the dishes and warnings (e.g. under 125 g).

        Raises SampleError listing every problem.
        """
        problems: list[str] = []
        try:
            day = date.fromisoformat(meal_date.strip())
        except ValueError:
            problems.append(tr(locale, "date {value!r}: write it as YYYY-MM-DD", value=meal_date))
            day = date(1970, 1, 1)
        if meal not in self.settings.meals:
            problems.append(tr(locale, "meal {value!r}: choose one of {choices}", value=meal,
                                  choices=", ".join(self.settings.meals)))
        if fridge not in {f for f, _ in self.fridges()}:
            problems.append(tr(locale, "fridge {value!r}: choose a sample fridge from the list", value=fridge))
        if not staff.strip():
            problems.append(tr(locale, "staff: write the name of who took the samples"))
        out: list[Dish] = []
        warnings: list[str] = []
        before = len(problems)
        for name, grams in dishes:
            name = str(name).strip()
            if not name and (grams in ("", None)):
                continue
            try:
                g = float(grams)
            except (TypeError, ValueError):
                problems.append(tr(locale, "dish {name}: grams {value!r} is not a number", name=name or "?",
                                   value=grams))
                continue
            if not name:
                problems.append(tr(locale, "a dish of {grams:g} g has no name", grams=g))
                continue
            if g <= 0:
                problems.append(tr(locale, "dish {name}: grams must be more than 0", name=name))
                continue
            if g < self.settings.min_grams:
                warnings.append(tr(locale, "{name}: {grams:g} g is under {min:g} g", name=name, grams=g,
                                  min=self.settings.min_grams))
            out.append(Dish(name[:100], g))
        dish_problems = len(problems) > before
        if not out and not dish_problems:
            problems.append(tr(locale, "dishes: list at least one dish with its grams"))
        if problems:
            raise SampleError("; ".join(problems))
        return day, out, warnings

    def register(self, meal_date: str, meal: str, dishes: list[tuple[str, str | float]], fridge: str, staff: str,
                 by: str, taken_at: float | None = None, locale: str = "en") -> tuple[Sample, list[str]]:
        """Register a meal's samples (kept from ``taken_at``, default now); returns it and warnings."""
        day, dish_list, warnings = self.check(meal_date, meal, dishes, fridge, staff, locale)
        now = self.clock.now()
        cur = self.db.conn().execute(
            "INSERT INTO food_samples (meal_date, meal, dishes, fridge, staff, taken_at, registered_at, registered_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (day.isoformat(), meal, json.dumps([asdict(d) for d in dish_list], ensure_ascii=False), fridge,
             staff.strip()[:100], now if taken_at is None else taken_at, now, by[:100]))
        return self.get(int(cur.lastrowid or 0)), warnings

    # -- reading -----------------------------------------------------------------------------------
    _COLS = "id, meal_date, meal, dishes, fridge, staff, taken_at, registered_at, registered_by"

    def _samples(self, where: str, args: tuple[Any, ...]) -> list[Sample]:
        c = self.db.conn()
        rows = c.execute(f"SELECT {self._COLS} FROM food_samples WHERE {where} ORDER BY taken_at, id", args).fetchall()
        if not rows:
            return []
        ids = [int(r[0]) for r in rows]
        events: dict[int, list[SampleEvent]] = {i: [] for i in ids}
        marks = ",".join("?" * len(ids))
        for r in c.execute(f"SELECT sample_id, ts, what, by, field, value, note FROM sample_events "
                           f"WHERE sample_id IN ({marks}) ORDER BY id", ids):
            events[int(r[0])].append(_event(r[1:]))
        hold = self.settings.hold
        return [Sample(int(r[0]), date.fromisoformat(r[1]), r[2], [Dish(**d) for d in json.loads(r[3])], r[4], r[5],
                       float(r[6]), float(r[7]), r[8], float(r[6]) + hold, events[int(r[0])]) for r in rows]

    def get(self, sample_id: int) -> Sample:
        """One sample; raises SampleError when there is none."""
        found = self._samples("id = ?", (sample_id,))
        if not found:
            raise SampleError(f"no sample with id {sample_id}")
        return found[0]

    def month(self, year: int, month: int) -> list[Sample]:
        """Samples of meals in a month."""
        first = date(year, month, 1)
        nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return self._samples("meal_date >= ? AND meal_date < ?", (first.isoformat(), nxt.isoformat()))

    def open(self) -> list[Sample]:
        """Samples not discarded yet."""
        return self._samples("id NOT IN (SELECT sample_id FROM sample_events WHERE what = 'discarded')", ())

    def keeping(self, fridge: str, ts: float) -> list[Sample]:
        """Samples in ``fridge`` inside their hold period at ``ts`` and not discarded."""
        return self._samples(
            "fridge = ? AND taken_at <= ? AND taken_at + ? > ? AND id NOT IN "
            "(SELECT sample_id FROM sample_events WHERE what = 'discarded')", (fridge, ts, self.settings.hold, ts))

    def excursions(self, sample: Sample) -> list[Excursion]:
        """The fridge's spells outside ``[low, high]`` during the sample's hold period (so far)."""
        if self.store is None:
            return []
        end = min(sample.due_at, self.clock.now())
        if end <= sample.taken_at:
            return []
        try:
            raw = [(r.ts, r.value) for r in self.store.query(sample.fridge, "temperature", sample.taken_at - MAX_GAP,
                                                              end)]
        except Exception:
            log.exception("reading %s for sample %d failed", sample.fridge, sample.id)
            return []
        return spells(raw, sample.taken_at, end, self.settings.low, self.settings.high)

    def missing(self, sample: Sample) -> float:
        """Seconds of the hold period (so far) with no fridge reading (each reading stands ``MAX_GAP``)."""
        if self.store is None:
            return 0.0
        end = min(sample.due_at, self.clock.now())
        try:
            times = [r.ts for r in self.store.query(sample.fridge, "temperature", sample.taken_at - MAX_GAP, end)]
        except Exception:
            return end - sample.taken_at
        covered, cursor = 0.0, sample.taken_at
        for ts in times:
            a, b = max(ts, cursor), min(ts + MAX_GAP, end)
            if b > a:
                covered += b - a
                cursor = b
        return max(0.0, end - sample.taken_at - covered)

    def verdict(self, sample: Sample, locale: str) -> tuple[bool, str]:
        """(kept safely, the sentence for the ledger), in ``locale``."""
        s = self.settings
        bad = [e for e in self.excursions(sample) if e.minutes * 60 >= s.grace]
        if not bad and not sample.flagged:
            missing = self.missing(sample)
            if missing > MAX_GAP:
                return False, tr(locale, "not proven: no fridge readings for {hours:.1f} h", hours=missing / 3600)
            now = self.clock.now()
            if now < sample.due_at:
                return True, tr(locale, "{low:g}–{high:g} °C so far ({hours:.0f} of {hold:.0f} h)", low=s.low,
                                high=s.high, hours=max(0.0, now - sample.taken_at) // 3600, hold=s.hold / 3600)
            return True, tr(locale, "kept {low:g}–{high:g} °C the whole time", low=s.low, high=s.high)
        parts = []
        for e in bad:
            t = datetime.fromtimestamp(e.start, self.tz).strftime("%m-%d %H:%M")
            parts.append(tr(locale, "{time}: {minutes:.0f} min up to {peak:.1f} °C",
                            time=t, minutes=e.minutes, peak=e.peak))
        if not parts and sample.flagged:
            parts.append(sample.flagged.value or "")
        return False, tr(locale, "compromised: {what}", what="; ".join(parts))

    # -- later events ------------------------------------------------------------------------------
    def _add_event(self, sample_id: int, what: str, by: str | None = None, field_: str | None = None,
                   value: str | None = None, note: str | None = None) -> bool:
        try:
            self.db.conn().execute("INSERT INTO sample_events (sample_id, ts, what, by, field, value, note) "
                                   "VALUES (?, ?, ?, ?, ?, ?, ?)",
                                   (sample_id, self.clock.now(), what, by, field_, value, note))
        except sqlite3.IntegrityError:
            return False  # flagged/due/discarded happen once
        return True

    def discard(self, sample_id: int, by: str, note: str = "", locale: str = "en") -> Sample:
        """Record who discarded the sample and when (not before its hold period is over)."""
        s = self.get(sample_id)
        if not by.strip():
            raise SampleError(tr(locale, "say who discarded the sample"))
        if s.discarded:
            raise SampleError(tr(locale, "sample {id} was already discarded by {who}", id=sample_id,
                                 who=s.discarded.by))
        now = self.clock.now()
        if now < s.due_at:
            when = datetime.fromtimestamp(s.due_at, self.tz).strftime("%Y-%m-%d %H:%M")
            raise SampleError(tr(locale, "sample {id} must be kept until {when} (48 hours)", id=sample_id, when=when))
        self._add_event(sample_id, "discarded", by=by.strip()[:100], note=note.strip()[:500] or None)
        return self.get(sample_id)

    def correct(self, sample_id: int, field_: str, value: Any, reason: str, by: str) -> Sample:
        """Record a correction of one field with who and why; the registered values stay as they were."""
        self.get(sample_id)
        if field_ not in CORRECTABLE:
            raise SampleError(f"field {field_!r} cannot be corrected; use one of {', '.join(CORRECTABLE)}")
        if not by.strip() or not reason.strip():
            raise SampleError("a correction needs who and why")
        self._add_event(sample_id, "corrected", by=by.strip()[:100], field_=field_,
                        value=json.dumps(value, ensure_ascii=False), note=reason.strip()[:500])
        return self.get(sample_id)

    def flag(self, sample: Sample, detail: str) -> bool:
        """Mark a sample compromised (once); True when newly flagged."""
        return self._add_event(sample.id, "flagged", value=detail[:500])

    def due_reminders(self) -> list[Sample]:
        """Samples whose hold period is over, not discarded and not reminded yet; records the reminder."""
        now = self.clock.now()
        due = self._samples(
            "taken_at + ? <= ? AND id NOT IN (SELECT sample_id FROM sample_events WHERE what IN ('due', 'discarded'))",
            (self.settings.hold, now))
        return [s for s in due if self._add_event(s.id, "due")]

    def purge(self) -> int:
        """Drop samples (and their events) of meals older than ``[reports.sheet] keep``."""
        keep = self.config.reports.sheet.keep
        cutoff = datetime.fromtimestamp(self.clock.now() - keep, self.tz).date().isoformat()
        c = self.db.conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            ids = [r[0] for r in c.execute("SELECT id FROM food_samples WHERE meal_date < ?", (cutoff,))]
            for i in ids:
                c.execute("DELETE FROM sample_events WHERE sample_id = ?", (i,))
            c.execute("DELETE FROM food_samples WHERE meal_date < ?", (cutoff,))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return len(ids)

    def day_start(self, d: date) -> float:
        """Local midnight of ``d``."""
        return midnight(d, self.tz)


def spells(raw: list[tuple[float, float]], start: float, end: float, low: float, high: float) -> list[Excursion]:
    """Contiguous runs of readings outside ``[low, high]`` in ``[start, end)``; a run lasts until the first
    reading back in range (at most ``MAX_GAP`` after its last reading)."""
    out: list[Excursion] = []
    run_start: float | None = None
    peak = 0.0
    last = 0.0
    for ts, v in raw:
        outside = v < low or v > high
        if outside:
            if run_start is None:
                run_start, peak = max(ts, start), v
            else:
                peak = v if abs(v - (low + high) / 2) > abs(peak - (low + high) / 2) else peak
            last = ts
        elif run_start is not None:
            stop = min(ts, last + MAX_GAP)
            if stop > start:
                out.append(Excursion(run_start, stop, peak, (stop - run_start) / 60.0))
            run_start = None
    if run_start is not None:
        stop = min(end, last + MAX_GAP)
        out.append(Excursion(run_start, None, peak, max(0.0, stop - run_start) / 60.0))
    return [e for e in out if (e.end or end) > start and e.start < end]


class SampleWatch:
    """Ingest observer: a fridge outside the samples' range for ``grace`` flags its samples and alerts at once.

    Normal readings cost a dictionary lookup; only out-of-range readings touch the database.
    """

    def __init__(self, ledger: SampleLedger, alerts: AlertService | None, locale: str) -> None:
        self.ledger = ledger
        self.alerts = alerts
        self.locale = locale
        s = ledger.settings
        self.low, self.high, self.grace = s.low, s.high, s.grace
        self._fridges = {f for f, _ in ledger.fridges()}
        self._since: dict[str, tuple[float, float]] = {}  # fridge -> (excursion start, peak)
        self._lock = threading.Lock()

    def on_batch(self, batch: CommittedBatch) -> None:
        """``BatchObserver``: never raises."""
        for r in batch.readings:
            if r.metric == "temperature" and r.device in self._fridges:
                try:
                    self.on_reading(r)
                except Exception:
                    log.exception("checking samples against %s failed", r.device)

    def on_reading(self, r: Reading) -> None:
        """Track the fridge's excursion; flag and alert when it has lasted ``grace``."""
        with self._lock:
            if self.low <= r.value <= self.high:
                ended = self._since.pop(r.device, None)
                if ended is not None and self.alerts is not None:
                    self.alerts.end(SAMPLE_RULE, r.device, r.value)  # latched: stays until acknowledged
                return
            start, peak = self._since.get(r.device) or (self._look_back(r), r.value)
            peak = max(peak, r.value) if r.value > self.high else min(peak, r.value)
            self._since[r.device] = (start, peak)
        if r.ts - start < self.grace:
            return
        samples = self.ledger.keeping(r.device, r.ts)
        fresh = [s for s in samples if not s.flagged]
        if not fresh:
            return
        minutes = (r.ts - start) / 60.0
        detail = f"{peak:.1f} °C for {minutes:.0f} min since " + datetime.fromtimestamp(
            start, self.ledger.tz).strftime("%m-%d %H:%M")
        flagged = [s for s in fresh if self.ledger.flag(s, detail)]
        if not flagged or self.alerts is None:
            return
        # Data, not words: gateway.rules.detail says it in each reader's language when shown.
        told = json.dumps({"samples": [[s.id, s.meal_date.isoformat(), s.meal] for s in flagged], "peak": peak,
                           "minutes": round(minutes), "start": start}, ensure_ascii=False)
        st = self.ledger.settings
        self.alerts.raise_alert(OpenRequest(
            rule=SAMPLE_RULE, device=r.device, kind="sample_excursion", severity=st.severity, chain=st.notify,
            metric="temperature", value=r.value, detail=told, since=start, latch=True))

    def _look_back(self, r: Reading) -> float:
        """Start of the current excursion from the store (after a restart the run may have begun before)."""
        store = self.ledger.store
        if store is None:
            return r.ts
        try:
            raw = [(x.ts, x.value) for x in store.query(r.device, "temperature", r.ts - self.grace - MAX_GAP, r.ts)]
        except Exception:
            return r.ts
        start = r.ts
        for ts, v in reversed(raw):
            if self.low <= v <= self.high:
                break
            start = ts
        return start
