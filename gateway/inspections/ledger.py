"""The hazard ledger (隐患台账) and repairs (维修登记).

A hazard has a place, a description, a photo, a level (一般 general / 重大 major), an owner and a deadline;
its status comes from its events: 未整改 (open) -> 整改中 (in progress; the owner asks to close it with a
note or photo) -> 已销号 (closed, confirmed by the logistics head, an admin). A failed checklist item opens
one. The ledger is per year: closed entries stay in their year.

A repair is reported by anyone from a phone (place, what, a photo, optionally the alert it came from); the
水电工 takes it and closes it with a note. Nothing is edited: every step is a new event row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from gateway.clock import Clock
from gateway.config import Config
from gateway.eventsdb import EventsDB
from gateway.i18n import tr
from gateway.inspections.photos import PhotoError, Photos

Level = Literal["general", "major"]
LEVELS: tuple[Level, ...] = ("general", "major")
#: A hazard's status for people: open (未整改), in_progress (整改中), closing (awaiting confirmation), closed (已销号).
HazardStatus = Literal["open", "in_progress", "closing", "closed"]
RepairStatus = Literal["open", "taken", "done"]


class LedgerError(ValueError):
    """A step that cannot be recorded; the message says what to fix (in the user's language)."""


@dataclass(frozen=True, slots=True)
class Step:
    """Something that happened to a hazard or a repair."""

    at: float
    by: str
    what: str
    note: str | None = None
    photo: str | None = None


@dataclass(frozen=True, slots=True)
class Hazard:
    """One entry of the ledger and its history."""

    id: int
    year: int
    place: str
    description: str
    level: str
    owner: str
    deadline: float
    photo: str | None
    source: str
    source_ref: str | None
    reported_by: str
    reported_at: float
    steps: list[Step] = field(default_factory=list)

    @property
    def status(self) -> HazardStatus:
        """From the latest step."""
        last = self.steps[-1].what if self.steps else None
        return {None: "open", "started": "in_progress", "reopened": "in_progress", "close_requested": "closing",
                "closed": "closed"}.get(last, "open")  # type: ignore[return-value]

    def overdue(self, now: float) -> bool:
        """Past its deadline and not closed."""
        return self.status != "closed" and now >= self.deadline

    def as_dict(self, now: float) -> dict[str, Any]:
        """For the JSON API."""
        return {"id": self.id, "year": self.year, "place": self.place, "description": self.description,
                "level": self.level, "owner": self.owner, "deadline": self.deadline, "photo": self.photo,
                "source": self.source, "source_ref": self.source_ref, "reported_by": self.reported_by,
                "reported_at": self.reported_at, "status": self.status, "overdue": self.overdue(now),
                "steps": [{"at": s.at, "by": s.by, "what": s.what, "note": s.note, "photo": s.photo}
                          for s in self.steps]}


@dataclass(frozen=True, slots=True)
class Repair:
    """One reported fault and its history."""

    id: int
    place: str
    what: str
    photo: str | None
    alert_id: int | None
    reported_by: str
    reported_at: float
    steps: list[Step] = field(default_factory=list)

    @property
    def status(self) -> RepairStatus:
        """From the latest step."""
        last = self.steps[-1].what if self.steps else None
        return "done" if last == "done" else "taken" if last == "taken" else "open"

    @property
    def taken_by(self) -> str | None:
        """Who took the job."""
        return next((s.by for s in reversed(self.steps) if s.what == "taken"), None)

    def as_dict(self, overdue: bool) -> dict[str, Any]:
        """For the JSON API."""
        return {"id": self.id, "place": self.place, "what": self.what, "photo": self.photo,
                "alert_id": self.alert_id, "reported_by": self.reported_by, "reported_at": self.reported_at,
                "status": self.status, "taken_by": self.taken_by, "overdue": overdue,
                "steps": [{"at": s.at, "by": s.by, "what": s.what, "note": s.note} for s in self.steps]}


def _text(value: str, limit: int) -> str:
    return value.strip()[:limit]


class Ledger:
    """Hazards and repairs of one site; any thread."""

    def __init__(self, config: Config, events_db: EventsDB, clock: Clock) -> None:
        self.config = config
        self.settings = config.inspections
        self.db = events_db
        self.clock = clock
        self.tz = config.site.tz
        self.photos = Photos(config.storage.path / "photos", config.inspections.max_photo_kb)

    def _photo(self, data: bytes | None, locale: str) -> str | None:
        if not data:
            return None
        try:
            return self.photos.save(data, locale)
        except PhotoError as e:
            raise LedgerError(str(e)) from None

    # -- hazards -----------------------------------------------------------------------------------
    def report_hazard(self, place: str, description: str, level: str, owner: str, by: str,
                      deadline: float | None = None, photo: bytes | None = None, source: str = "direct",
                      source_ref: str | None = None, locale: str = "en") -> Hazard:
        """Open a ledger entry; ``deadline`` None means "immediate" (``[inspections] immediate`` from now)."""
        now = self.clock.now()
        problems = []
        if not place.strip():
            problems.append(tr(locale, "place: say where it is"))
        if not description.strip():
            problems.append(tr(locale, "description: say what the hazard is"))
        if level not in LEVELS:
            problems.append(tr(locale, "level: choose general or major"))
        if not owner.strip():
            problems.append(tr(locale, "owner: say who rectifies it"))
        if deadline is not None and deadline <= now:
            problems.append(tr(locale, "deadline: choose a day after today"))
        if problems:
            raise LedgerError("; ".join(problems))
        name = self._photo(photo, locale)
        year = datetime.fromtimestamp(now, self.tz).year
        cur = self.db.conn().execute(
            "INSERT INTO hazards (year, place, description, level, owner, deadline, photo, source, source_ref, "
            "reported_by, reported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (year, _text(place, 200), _text(description, 1000), level, _text(owner, 100),
             deadline if deadline is not None else now + self.settings.immediate, name, source, source_ref,
             _text(by, 100), now))
        return self.hazard(int(cur.lastrowid or 0))

    def hazard_step(self, hazard_id: int, what: str, by: str, role: str, note: str = "",
                    photo: bytes | None = None, locale: str = "en") -> Hazard:
        """Move a hazard on: ``started`` (its owner or the facilities staff), ``close_requested`` (its owner, with
        a note or photo), ``closed`` or ``reopened`` (an admin, the logistics head, after a close was requested)."""
        h = self.hazard(hazard_id)
        status = h.status
        head = role == "admin"
        owner = by == h.owner or head
        if what == "started" and status == "open" and (owner or role == "facilities"):
            pass
        elif what == "close_requested" and status in ("open", "in_progress") and owner:
            if not note.strip() and not photo:
                raise LedgerError(tr(locale, "to close a hazard write what was done or add a photo"))
        elif what in ("closed", "reopened") and status == "closing" and head:
            if what == "reopened" and not note.strip():
                raise LedgerError(tr(locale, "say why it is not rectified yet"))
        else:
            raise LedgerError(tr(locale, "this step is not possible now (status {status})", status=status))
        self.db.conn().execute("INSERT INTO hazard_events (hazard_id, at, by, what, note, photo) VALUES "
                               "(?, ?, ?, ?, ?, ?)", (hazard_id, self.clock.now(), _text(by, 100), what,
                                                      _text(note, 1000) or None, self._photo(photo, locale)))
        return self.hazard(hazard_id)

    def _hazards(self, where: str, args: tuple[Any, ...]) -> list[Hazard]:
        c = self.db.conn()
        rows = c.execute("SELECT id, year, place, description, level, owner, deadline, photo, source, source_ref, "
                         f"reported_by, reported_at FROM hazards WHERE {where} ORDER BY id", args).fetchall()
        out = []
        for r in rows:
            steps = [Step(float(s[0]), s[1], s[2], s[3], s[4]) for s in c.execute(
                "SELECT at, by, what, note, photo FROM hazard_events WHERE hazard_id = ? ORDER BY id", (r[0],))]
            out.append(Hazard(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], float(r[6]), r[7], r[8], r[9], r[10],
                              float(r[11]), steps))
        return out

    def hazard(self, hazard_id: int) -> Hazard:
        """One entry; raises LedgerError when there is none."""
        found = self._hazards("id = ?", (hazard_id,))
        if not found:
            raise LedgerError(f"no hazard {hazard_id}")
        return found[0]

    def hazards(self, year: int | None = None) -> list[Hazard]:
        """The ledger of a year (default: this year)."""
        y = year if year is not None else datetime.fromtimestamp(self.clock.now(), self.tz).year
        return self._hazards("year = ?", (y,))

    def open_hazards(self) -> list[Hazard]:
        """Every entry not closed, of any year."""
        return [h for h in self._hazards("1 = 1", ()) if h.status != "closed"]

    # -- repairs -----------------------------------------------------------------------------------
    def report_repair(self, place: str, what: str, by: str, photo: bytes | None = None, alert_id: int | None = None,
                      locale: str = "en") -> Repair:
        """Register a fault."""
        problems = []
        if not place.strip():
            problems.append(tr(locale, "place: say where it is"))
        if not what.strip():
            problems.append(tr(locale, "what: say what is broken"))
        if problems:
            raise LedgerError("; ".join(problems))
        cur = self.db.conn().execute(
            "INSERT INTO repairs (place, what, photo, alert_id, reported_by, reported_at) VALUES (?, ?, ?, ?, ?, ?)",
            (_text(place, 200), _text(what, 1000), self._photo(photo, locale), alert_id, _text(by, 100),
             self.clock.now()))
        return self.repair(int(cur.lastrowid or 0))

    def repair_step(self, repair_id: int, what: str, by: str, note: str = "", locale: str = "en") -> Repair:
        """``taken`` (an open or taken job) or ``done`` (with a note saying what was done)."""
        r = self.repair(repair_id)
        if what == "taken" and r.status != "done":
            pass
        elif what == "done" and r.status != "done":
            if not note.strip():
                raise LedgerError(tr(locale, "say what was done"))
        else:
            raise LedgerError(tr(locale, "this step is not possible now (status {status})", status=r.status))
        self.db.conn().execute("INSERT INTO repair_events (repair_id, at, by, what, note) VALUES (?, ?, ?, ?, ?)",
                               (repair_id, self.clock.now(), _text(by, 100), what, _text(note, 1000) or None))
        return self.repair(repair_id)

    def _repairs(self, where: str, args: tuple[Any, ...]) -> list[Repair]:
        c = self.db.conn()
        rows = c.execute("SELECT id, place, what, photo, alert_id, reported_by, reported_at FROM repairs "
                         f"WHERE {where} ORDER BY id", args).fetchall()
        return [Repair(int(r[0]), r[1], r[2], r[3], r[4], r[5], float(r[6]),
                       [Step(float(s[0]), s[1], s[2], s[3]) for s in c.execute(
                           "SELECT at, by, what, note FROM repair_events WHERE repair_id = ? ORDER BY id", (r[0],))])
                for r in rows]

    def repair(self, repair_id: int) -> Repair:
        """One repair; raises LedgerError when there is none."""
        found = self._repairs("id = ?", (repair_id,))
        if not found:
            raise LedgerError(f"no repair {repair_id}")
        return found[0]

    def repairs(self, since: float | None = None) -> list[Repair]:
        """Repairs not done, and those reported since ``since``."""
        rows = self._repairs("reported_at >= ? OR id NOT IN (SELECT repair_id FROM repair_events WHERE what = 'done')",
                             (since if since is not None else 0.0,))
        return rows

    def repair_overdue(self, r: Repair, now: float | None = None) -> bool:
        """Not done ``[inspections] repair_due`` after it was reported."""
        t = self.clock.now() if now is None else now
        return r.status != "done" and t - r.reported_at >= self.settings.repair_due

    def repair_for_alert(self, alert_id: int) -> Repair | None:
        """The repair opened from this alert, if any."""
        found = self._repairs("alert_id = ?", (alert_id,))
        return found[0] if found else None
