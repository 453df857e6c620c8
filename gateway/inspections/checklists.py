"""Checklists done on a phone: the current due day of each, a run saved with a result per item (pass or fail,
a note, an optional photo, the devices' evidence), a warning when a "pass" contradicts the evidence, and the
status the overdue alert is raised from. Runs are appended, never edited: a correction is a new run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.calendar import SchoolCalendar, parse_days
from gateway.clock import Clock
from gateway.config import Config
from gateway.eventsdb import EventsDB
from gateway.i18n import tr
from gateway.inspections.evidence import Evidence, EvidenceReader
from gateway.inspections.ledger import Ledger
from gateway.inspections.photos import PhotoError, Photos
from gateway.inspections.schedule import current_due
from gateway.inspections.settings import ChecklistSettings
from gateway.store.base import TimeSeriesStore
from gateway.values import MIDNIGHT

log = logging.getLogger(__name__)

class ChecklistError(ValueError):
    """A run that cannot be saved; the message says what to fix (in the user's language)."""


class Contradicted(ChecklistError):
    """Items marked "pass" that the evidence contradicts: saved only when the person confirms."""

    def __init__(self, message: str, items: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.items = items


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One item's result as submitted."""

    passed: bool
    note: str = ""
    photo: bytes | None = None


@dataclass(frozen=True, slots=True)
class SavedResult:
    """One item's result as recorded."""

    item: str
    passed: bool
    note: str | None
    photo: str | None
    evidence: list[dict[str, Any]]
    warned: bool


@dataclass(frozen=True, slots=True)
class Run:
    """One saved checklist."""

    id: int
    checklist: str
    due_day: date
    by: str
    at: float
    note: str | None
    late: bool
    results: list[SavedResult] = field(default_factory=list)

    @property
    def failed(self) -> list[SavedResult]:
        """Items that failed."""
        return [r for r in self.results if not r.passed]

    def as_dict(self) -> dict[str, Any]:
        """For the JSON API."""
        return {"id": self.id, "checklist": self.checklist, "due_day": self.due_day.isoformat(), "by": self.by,
                "at": self.at, "note": self.note, "late": self.late,
                "results": [{"item": r.item, "passed": r.passed, "note": r.note, "photo": r.photo,
                             "evidence": r.evidence, "warned": r.warned} for r in self.results]}


@dataclass(frozen=True, slots=True)
class Status:
    """Where a checklist stands now: its current due day and window, the run for it, whether it is overdue."""

    checklist: ChecklistSettings
    due_day: date | None
    window_start: float | None
    window_end: float | None
    run: Run | None
    overdue: bool

    @property
    def state(self) -> str:
        """``done``, ``overdue``, ``due`` (inside or before its window today) or ``none`` (nothing due)."""
        if self.due_day is None:
            return "none"
        if self.run is not None:
            return "done"
        return "overdue" if self.overdue else "due"


class Checklists:
    """Saves and reads checklist runs; any thread."""

    def __init__(self, config: Config, events_db: EventsDB, clock: Clock, store: TimeSeriesStore | None) -> None:
        self.config = config
        self.settings = config.inspections
        self.db = events_db
        self.clock = clock
        self.store = store
        self.calendar = SchoolCalendar(config.calendar, config.site.tz)
        self.tz = self.calendar.tz
        self.holidays = parse_days(config.calendar.holidays)
        self.photos = Photos(config.storage.path / "photos", config.inspections.max_photo_kb)
        self.ledger = Ledger(config, events_db, clock)

    # -- time --------------------------------------------------------------------------------------
    def today(self, now: float | None = None) -> date:
        """The local date at ``now``."""
        return datetime.fromtimestamp(self.clock.now() if now is None else now, self.tz).date()

    def window(self, c: ChecklistSettings, day: date) -> tuple[float, float]:
        """The checklist's window on ``day`` as Unix times."""
        def at(d: date, t: Any) -> float:
            return datetime(d.year, d.month, d.day, t.hour, t.minute, tzinfo=self.tz).timestamp()

        end = at(day + timedelta(days=1), MIDNIGHT) if c.window.end == MIDNIGHT else at(day, c.window.end)
        return at(day, c.window.start), end

    def status(self, c: ChecklistSettings, now: float | None = None) -> Status:
        """Where ``c`` stands at ``now``."""
        t = self.clock.now() if now is None else now
        due = current_due(c, self.today(t), self.calendar, self.holidays)
        if due is None:
            return Status(c, None, None, None, None, False)
        start, end = self.window(c, due)
        run = self.latest(c.id, due)
        return Status(c, due, start, end, run, run is None and t >= end)

    def for_role(self, role: str) -> list[ChecklistSettings]:
        """The checklists ``role`` does (admins: all)."""
        return [c for c in self.all() if role == "admin" or c.role == role]

    # -- definitions: the config's, and those an admin saved on the page (the latest version counts) ----------
    def all(self) -> list[ChecklistSettings]:
        """Every checklist: the config's in order, each replaced by its latest page version, then the page's own."""
        saved = self._saved()
        out = [saved.pop(c.id, c) for c in self.settings.checklists]
        return out + list(saved.values())

    def checklist(self, checklist_id: str) -> ChecklistSettings | None:
        """The checklist with this id."""
        return next((c for c in self.all() if c.id == checklist_id), None)

    def _saved(self) -> dict[str, ChecklistSettings]:
        rows = self.db.conn().execute(
            "SELECT checklist, definition FROM checklist_defs WHERE id IN "
            "(SELECT MAX(id) FROM checklist_defs GROUP BY checklist) ORDER BY id").fetchall()
        out = {}
        for checklist_id, definition in rows:
            try:
                out[checklist_id] = ChecklistSettings.model_validate_json(definition)
            except ValueError:  # saved by an older version with other rules: the config's (if any) stands
                log.warning("checklist %s: the saved version no longer reads; ignored", checklist_id)
        return out

    def define(self, c: ChecklistSettings, by: str) -> ChecklistSettings:
        """Save a new version of ``c`` (new or edited); runs already saved are untouched."""
        self.db.conn().execute("INSERT INTO checklist_defs (checklist, definition, by, at) VALUES (?, ?, ?, ?)",
                               (c.id, c.model_dump_json(by_alias=True), by.strip()[:100], self.clock.now()))
        return c

    def versions(self, checklist_id: str) -> list[tuple[str, float]]:
        """Who saved each page version of a checklist and when, newest first."""
        return [(str(r[0]), float(r[1])) for r in self.db.conn().execute(
            "SELECT by, at FROM checklist_defs WHERE checklist = ? ORDER BY id DESC", (checklist_id,))]

    # -- evidence ------------------------------------------------------------------------------------
    def evidence(self, c: ChecklistSettings, locale: str, now: float | None = None) -> dict[str, list[Evidence]]:
        """Item id -> the evidence of its devices."""
        t = self.clock.now() if now is None else now
        reader = EvidenceReader(self.config, self.store, locale)
        return {i.id: [reader.of(d, t) for d in i.devices] for i in c.items}

    # -- saving ----------------------------------------------------------------------------------------
    def photo_path(self, name: str) -> Path | None:
        """The stored photo of this name (names are checked: no paths)."""
        return self.photos.path(name)

    def submit(self, checklist_id: str, results: dict[str, ItemResult], by: str, note: str = "",
               confirm: bool = False, locale: str = "en") -> Run:
        """Save a run for the checklist's current due day.

        Raises ChecklistError naming what to fix, or Contradicted when a "pass" contradicts the evidence
        and ``confirm`` is not given (the caller shows the warning and asks again).
        """
        c = self.checklist(checklist_id)
        if c is None:
            raise ChecklistError(tr(locale, "no such checklist"))
        now = self.clock.now()
        due = current_due(c, self.today(now), self.calendar, self.holidays)
        if due is None:
            raise ChecklistError(tr(locale, "this checklist is not due now"))
        problems = []
        missing = [i.text for i in c.items if i.id not in results]
        if missing:
            problems.append(tr(locale, "mark every item pass or fail: {items}", items="; ".join(missing)))
        unknown = [k for k in results if c.item(k) is None]
        if unknown:
            problems.append(tr(locale, "unknown items: {items}", items=", ".join(unknown)))
        problems.extend(tr(locale, "{item}: say what is wrong in the note", item=i.text)
                        for i in c.items if i.id in results and not results[i.id].passed
                        and not results[i.id].note.strip())
        if not by.strip():
            problems.append(tr(locale, "who: log in again"))
        if problems:
            raise ChecklistError("; ".join(problems))
        evidence = self.evidence(c, locale, now)
        contradicted = {i.id: [e.contradicts for e in evidence[i.id] if e.contradicts]
                        for i in c.items if results[i.id].passed}
        contradicted = {k: [x for x in v if x] for k, v in contradicted.items() if v}
        if contradicted and not confirm:
            said = "; ".join(x for v in contradicted.values() for x in v)
            raise Contradicted(tr(locale, "the sensors disagree with a pass: {what}", what=said), contradicted)
        try:
            photos = {k: self.photos.save(r.photo, locale) for k, r in results.items() if r.photo}
        except PhotoError as e:
            raise ChecklistError(str(e)) from None
        _, end = self.window(c, due)
        conn = self.db.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute("INSERT INTO checklist_runs (checklist, due_day, by, at, note, late) "
                               "VALUES (?, ?, ?, ?, ?, ?)",
                               (c.id, due.isoformat(), by.strip()[:100], now, note.strip()[:1000] or None,
                                int(now >= end)))
            run_id = int(cur.lastrowid or 0)
            for item in c.items:
                r = results[item.id]
                conn.execute("INSERT INTO checklist_results (run_id, item, passed, note, photo, evidence, warned) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (run_id, item.id, int(r.passed), r.note.strip()[:1000] or None, photos.get(item.id),
                              json.dumps([e.as_dict() for e in evidence[item.id]], ensure_ascii=False),
                              int(item.id in contradicted)))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        run = self.run(run_id)
        assert run is not None
        self._open_hazards(c, run, results, locale)
        return run

    def _open_hazards(self, c: ChecklistSettings, run: Run, results: dict[str, ItemResult], locale: str) -> None:
        """A failed item opens an entry of the hazard ledger, owned by ``[inspections] hazard_owner``."""
        for r in run.failed:
            item = c.item(r.item)
            text = item.text if item else r.item
            self.ledger.report_hazard(
                place=c.name, description=f"{text}: {r.note or ''}".strip(": "), level="general",
                owner=self.settings.hazard_owner, by=run.by, photo=results[r.item].photo, source="checklist",
                source_ref=f"{c.id} {run.due_day.isoformat()} {r.item}", locale=locale)

    # -- reading -----------------------------------------------------------------------------------------
    def _runs(self, where: str, args: tuple[Any, ...], limit: int | None = None) -> list[Run]:
        conn = self.db.conn()
        sql = f"SELECT id, checklist, due_day, by, at, note, late FROM checklist_runs WHERE {where} ORDER BY id DESC"
        rows = conn.execute(sql + (f" LIMIT {int(limit)}" if limit else ""), args).fetchall()
        out = []
        for r in rows:
            results = [SavedResult(x[0], bool(x[1]), x[2], x[3], json.loads(x[4] or "[]"), bool(x[5]))
                       for x in conn.execute("SELECT item, passed, note, photo, evidence, warned FROM "
                                             "checklist_results WHERE run_id = ? ORDER BY rowid", (r[0],))]
            out.append(Run(int(r[0]), r[1], date.fromisoformat(r[2]), r[3], float(r[4]), r[5], bool(r[6]), results))
        return out

    def run(self, run_id: int) -> Run | None:
        """One run."""
        found = self._runs("id = ?", (run_id,))
        return found[0] if found else None

    def latest(self, checklist_id: str, due_day: date) -> Run | None:
        """The latest run for a due day (a correction is a later run)."""
        found = self._runs("checklist = ? AND due_day = ?", (checklist_id, due_day.isoformat()), limit=1)
        return found[0] if found else None

    def history(self, checklist_id: str, limit: int = 20) -> list[Run]:
        """The latest runs of a checklist, newest first."""
        return self._runs("checklist = ?", (checklist_id,), limit=limit)
