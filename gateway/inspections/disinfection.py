"""The disinfection record (消毒记录): sessions per room from the plugs and from manual entries, each day judged
against the room's schedule, the lamps' hours, and the monthly record.

Rows are appended, never edited: plug sessions are written once they have ended (the same session found
again is ignored), manual entries carry who wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from gateway.calendar import SchoolCalendar
from gateway.clock import Clock
from gateway.eventsdb import EventsDB
from gateway.i18n import tr
from gateway.inspections.sessions import overlap
from gateway.inspections.settings import METHODS, DisinfectionSettings, RoomSettings
from gateway.values import MIDNIGHT, TimeWindow

Verdict = Literal["ok", "short", "missed", "free", "pending"]
#: Longest manual entry accepted.
MAX_MANUAL_S = 12 * 3600.0


class DisinfectionError(ValueError):
    """An entry that cannot be recorded; the message says what to fix (in the user's language)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One recorded session of a room: from its plug or written down by someone."""

    id: int
    room: str
    source: str
    method: str
    start: float
    end: float
    on_s: float
    effective_s: float
    peak_w: float | None
    by: str | None
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        """For the JSON API."""
        return {"id": self.id, "room": self.room, "source": self.source, "method": self.method, "start": self.start,
                "end": self.end, "on_s": self.on_s, "effective_s": self.effective_s, "peak_w": self.peak_w,
                "by": self.by, "note": self.note}


@dataclass(frozen=True, slots=True)
class DayRecord:
    """One day of a room's record: its sessions, its verdict and how much lamp time fell in occupied hours."""

    day: date
    required: bool
    entries: list[Entry]
    verdict: Verdict
    #: Seconds a lamp was on while children were in the room (a safety breach).
    occupied_s: float
    #: Ids of the plug sessions that ran while children were in the room.
    occupied_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class MonthRecord:
    """A room's month: every day, and the totals the printed record ends with."""

    room: RoomSettings
    year: int
    month: int
    days: list[DayRecord]
    lamp_hours: float

    @property
    def sessions(self) -> int:
        """Sessions recorded in the month."""
        return sum(len(d.entries) for d in self.days)

    @property
    def on_minutes(self) -> float:
        """Minutes of disinfection recorded (lamp on, or the manual durations)."""
        return sum(e.on_s for d in self.days for e in d.entries) / 60.0

    def count(self, verdict: Verdict) -> int:
        """Days with this verdict."""
        return sum(1 for d in self.days if d.verdict == verdict)

    @property
    def required(self) -> int:
        """Days that needed a session (already judged or pending)."""
        return sum(1 for d in self.days if d.required)

    @property
    def occupied_sessions(self) -> int:
        """Sessions that ran while children were in the room."""
        return sum(len(d.occupied_ids) for d in self.days)


def _entry(row: tuple[Any, ...]) -> Entry:
    return Entry(int(row[0]), row[1], row[2], row[3], float(row[4]), float(row[5]), float(row[6]), float(row[7]),
                 row[8], row[9], row[10])


_COLS = "id, room, source, method, start, end, on_s, effective_s, peak_w, by, note"


class DisinfectionRecord:
    """Reads and appends the record; judges days; counts lamp hours. Any thread."""

    def __init__(self, settings: DisinfectionSettings, calendar: SchoolCalendar, events_db: EventsDB,
                 clock: Clock) -> None:
        self.settings = settings
        self.calendar = calendar
        self.tz = calendar.tz
        self.db = events_db
        self.clock = clock

    # -- time --------------------------------------------------------------------------------------
    def at(self, day: date, t: Any) -> float:
        """Unix time of local ``day`` at clock time ``t`` (midnight as an end: the next day's midnight)."""
        return datetime(day.year, day.month, day.day, t.hour, t.minute, tzinfo=self.tz).timestamp()

    def span(self, day: date, w: TimeWindow) -> tuple[float, float]:
        """The window on ``day`` as Unix times (an end of ``24:00`` is the next midnight)."""
        end = self.at(day + timedelta(days=1), MIDNIGHT) if w.end == MIDNIGHT else self.at(day, w.end)
        return self.at(day, w.start), end

    def occupied_spans(self, room: RoomSettings, day: date) -> list[tuple[float, float]]:
        """When children are in the room on ``day``: its own hours on days the school opens, or the calendar's."""
        hours = self.calendar.hours_on(day)
        if not hours:
            return []
        return [self.span(day, w) for w in (room.occupied if room.occupied is not None else hours)]

    def occupied(self, room: RoomSettings, ts: float) -> bool:
        """Whether children are in the room at ``ts``."""
        day = datetime.fromtimestamp(ts, self.tz).date()
        return any(a <= ts < b for a, b in self.occupied_spans(room, day))

    def today(self) -> date:
        """The local date now."""
        return datetime.fromtimestamp(self.clock.now(), self.tz).date()

    # -- appending ---------------------------------------------------------------------------------
    def add_plug_session(self, room: str, start: float, end: float, peak_w: float) -> bool:
        """Record an ended plug session once; False when it was recorded already."""
        on = max(0.0, end - start)
        cur = self.db.conn().execute(
            "INSERT OR IGNORE INTO disinfection_sessions (room, source, method, start, end, on_s, effective_s, "
            "peak_w, recorded_at) VALUES (?, 'plug', 'uv', ?, ?, ?, ?, ?, ?)",
            (room, start, end, on, max(0.0, on - self.settings.warmup), peak_w, self.clock.now()))
        return cur.rowcount > 0

    def add_manual(self, room_id: str, method: str, start: float, minutes: float, by: str, note: str = "",
                   locale: str = "en") -> Entry:
        """Record a manual entry (rooms without a plug, or spraying and wiping); raises DisinfectionError."""
        problems = []
        room = self.settings.room(room_id)
        if room is None:
            problems.append(tr(locale, "room: choose a room from the list"))
        if method not in METHODS:
            problems.append(tr(locale, "method: choose one of the methods in the list"))
        secs = minutes * 60.0
        if not 0 < secs <= MAX_MANUAL_S:
            problems.append(tr(locale, "duration: write the minutes, more than 0 and at most {max:.0f}",
                               max=MAX_MANUAL_S / 60))
        if start > self.clock.now() + 60:
            problems.append(tr(locale, "time: a disinfection cannot be recorded before it happened"))
        if not by.strip():
            problems.append(tr(locale, "who: write who disinfected the room"))
        if problems:
            raise DisinfectionError("; ".join(problems))
        cur = self.db.conn().execute(
            "INSERT INTO disinfection_sessions (room, source, method, start, end, on_s, effective_s, by, note, "
            "recorded_at) VALUES (?, 'manual', ?, ?, ?, ?, ?, ?, ?, ?)",
            (room_id, method, start, start + secs, secs, secs, by.strip()[:100], note.strip()[:500] or None,
             self.clock.now()))
        return self.entries_where("id = ?", (cur.lastrowid,))[0]

    def lamp_replaced(self, room_id: str, by: str, note: str = "") -> float:
        """Record a new lamp in the room (its hours start again from 0); returns when."""
        if self.settings.room(room_id) is None:
            raise DisinfectionError(f"no room {room_id!r}")
        now = self.clock.now()
        self.db.conn().execute("INSERT INTO uv_lamp_changes (room, at, by, note) VALUES (?, ?, ?, ?)",
                               (room_id, now, by.strip()[:100], note.strip()[:500] or None))
        return now

    # -- reading -----------------------------------------------------------------------------------
    def entries_where(self, where: str, args: tuple[Any, ...]) -> list[Entry]:
        """Entries matching an SQL condition, oldest first."""
        rows = self.db.conn().execute(
            f"SELECT {_COLS} FROM disinfection_sessions WHERE {where} ORDER BY start, id", args).fetchall()
        return [_entry(r) for r in rows]

    def entries(self, room: str, start: float, end: float) -> list[Entry]:
        """A room's entries that started in ``[start, end)``."""
        return self.entries_where("room = ? AND start >= ? AND start < ?", (room, start, end))

    def lamp_hours(self, room: RoomSettings, now: float | None = None, running_s: float = 0.0) -> float:
        """Hours the room's current lamp has burnt (up to ``now``), plus ``running_s`` of a session still on."""
        t = self.clock.now() if now is None else now
        row = self.db.conn().execute("SELECT MAX(at) FROM uv_lamp_changes WHERE room = ? AND at <= ?",
                                     (room.id, t)).fetchone()
        since = row[0]
        base = room.lamp_hours_before if since is None else 0.0
        total = self.db.conn().execute(
            "SELECT COALESCE(SUM(on_s), 0) FROM disinfection_sessions WHERE room = ? AND source = 'plug' "
            "AND start >= ? AND start < ?", (room.id, since if since is not None else 0.0, t)).fetchone()[0]
        return base + (float(total) + running_s) / 3600.0

    # -- judging -----------------------------------------------------------------------------------
    def required(self, day: date) -> bool:
        """Whether ``day`` needs a session."""
        return self.settings.days == "every" or self.calendar.is_workday(day)

    def judge_at(self, room: RoomSettings, day: date) -> float:
        """When ``day`` is judged: the end of its window plus ``judge_after``."""
        return self.span(day, self.settings.window_of(room))[1] + self.settings.judge_after

    def day(self, room: RoomSettings, day: date, now: float | None = None) -> DayRecord:
        """One day of a room: the entries started that local day, its verdict, lamp time in occupied hours."""
        t = self.clock.now() if now is None else now
        d0 = self.at(day, MIDNIGHT)
        d1 = self.at(day + timedelta(days=1), MIDNIGHT)
        entries = self.entries(room.id, d0, d1)
        ws, we = self.span(day, self.settings.window_of(room))
        in_window = [e for e in entries if ws <= e.start < we]
        required = self.required(day)
        if any(e.effective_s >= self.settings.min_of(room) for e in in_window):
            verdict: Verdict = "ok"
        elif not required:
            verdict = "free"
        elif t < self.judge_at(room, day):
            verdict = "pending"
        else:
            verdict = "short" if in_window else "missed"
        # a session across midnight may run into the next morning's occupied hours
        spans = self.occupied_spans(room, day) + self.occupied_spans(room, day + timedelta(days=1))
        occ = {e.id: overlap(e.start, e.end, spans) for e in entries if e.source == "plug"}
        return DayRecord(day, required, entries, verdict, sum(occ.values()),
                         frozenset(i for i, s in occ.items() if s > 0))

    def month(self, room: RoomSettings, year: int, month: int) -> MonthRecord:
        """A room's record of one month (days after today are left out)."""
        first = date(year, month, 1)
        nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        today, now = self.today(), self.clock.now()
        days, d = [], first
        while d < nxt and d <= today:
            days.append(self.day(room, d, now))
            d += timedelta(days=1)
        end = min(now, self.at(nxt, MIDNIGHT))
        return MonthRecord(room, year, month, days, self.lamp_hours(room, end))
