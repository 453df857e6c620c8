"""Shift handover: the outgoing guard's note, pre-filled with open alerts, visitors on site and the shift's
gate events; acknowledged by the next guard."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from typing import Any

from gateway.clock import Clock
from gateway.eventsdb import EventsDB
from gateway.gate.errors import GateError

#: A shift with no earlier handover starts this long before now.
DEFAULT_SHIFT_S = 12 * 3600.0


class HandoverError(GateError):
    """A handover action is not possible."""


@dataclass(frozen=True, slots=True)
class Handover:
    """One written handover."""

    id: int
    created_at: float
    shift_start: float
    by: str
    note: str
    open_issues: str
    snapshot: dict[str, Any]
    acked_by: str | None
    acked_at: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)


_COLS = "id, created_at, shift_start, by_user, note, open_issues, snapshot, acked_by, acked_at"


def _h(row: tuple[Any, ...]) -> Handover:
    return Handover(row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6] or "{}"), row[7], row[8])


class HandoverBook:
    """Handover notes in the events database."""

    def __init__(self, db: EventsDB, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def _conn(self) -> sqlite3.Connection:
        return self.db.conn()

    def shift_start(self) -> float:
        """When the current shift began: the last handover, or ``DEFAULT_SHIFT_S`` ago."""
        row = self._conn().execute("SELECT max(created_at) FROM gate_handovers").fetchone()
        now = self.clock.now()
        return float(row[0]) if row and row[0] is not None else now - DEFAULT_SHIFT_S

    def write(self, by: str, note: str, open_issues: str, snapshot: dict[str, Any], shift_start: float) -> Handover:
        """Save the outgoing guard's note with what the page showed."""
        if not note.strip():
            raise HandoverError("note: write what happened on the shift (or \"nothing to report\")")
        cur = self._conn().execute(
            "INSERT INTO gate_handovers (created_at, shift_start, by_user, note, open_issues, snapshot) "
            "VALUES (?, ?, ?, ?, ?, ?)", (self.clock.now(), shift_start, by, note.strip(), open_issues.strip(),
                                          json.dumps(snapshot, ensure_ascii=False)))
        return self.get(int(cur.lastrowid or 0))

    def get(self, handover_id: int) -> Handover:
        """One handover."""
        row = self._conn().execute(f"SELECT {_COLS} FROM gate_handovers WHERE id = ?", (handover_id,)).fetchone()
        if row is None:
            raise HandoverError("there is no handover #{id}", id=handover_id)
        return _h(row)

    def recent(self, limit: int = 20) -> list[Handover]:
        """Newest first."""
        rows = self._conn().execute(f"SELECT {_COLS} FROM gate_handovers ORDER BY created_at DESC, id DESC LIMIT ?",
                                    (limit,)).fetchall()
        return [_h(r) for r in rows]

    def pending(self) -> Handover | None:
        """The newest handover nobody has acknowledged yet."""
        row = self._conn().execute(f"SELECT {_COLS} FROM gate_handovers WHERE acked_by IS NULL "
                                   "ORDER BY created_at DESC, id DESC LIMIT 1").fetchone()
        return _h(row) if row else None

    def forget_visitors(self, before: float) -> int:
        """Strip visitors' personal data from snapshots written before ``before`` (the visitor retention);
        the note, the counts and everything else stay. Returns how many handovers changed."""
        conn = self._conn()
        changed = 0
        for hid, raw in conn.execute("SELECT id, snapshot FROM gate_handovers WHERE created_at < ?",
                                     (before,)).fetchall():
            snap = json.loads(raw or "{}")
            visitors = snap.get("visitors") or []
            if all(set(v) <= {"id", "status"} for v in visitors):
                continue
            snap["visitors"] = [{"id": v.get("id"), "status": v.get("status")} for v in visitors]
            conn.execute("UPDATE gate_handovers SET snapshot = ? WHERE id = ?",
                         (json.dumps(snap, ensure_ascii=False), hid))
            changed += 1
        return changed

    def acknowledge(self, handover_id: int, by: str) -> Handover:
        """The next guard confirms they read it (not the one who wrote it)."""
        h = self.get(handover_id)
        if h.acked_by is not None:
            raise HandoverError("handover #{id} was already acknowledged by {name}", id=handover_id, name=h.acked_by)
        if h.by == by:
            raise HandoverError("the next guard acknowledges the handover, not the one who wrote it")
        self._conn().execute("UPDATE gate_handovers SET acked_by = ?, acked_at = ? WHERE id = ? AND acked_by IS NULL",
                             (by, self.clock.now(), handover_id))
        return self.get(handover_id)
