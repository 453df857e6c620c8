"""The audit log: who did what from where (logins, acknowledgements, user changes)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.clock import Clock
from gateway.eventsdb import EventsDB


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited action."""

    ts: float
    actor: str
    action: str
    target: str
    detail: str
    address: str


class AuditLog:
    """Append-only audit records in the events database (committed durably)."""

    def __init__(self, db: EventsDB, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def record(self, actor: str, action: str, target: str = "", detail: str = "", address: str = "") -> None:
        """Append one entry."""
        self._db.conn().execute(
            "INSERT INTO dashboard_audit (ts, actor, action, target, detail, address) VALUES (?, ?, ?, ?, ?, ?)",
            (self._clock.now(), actor, action, target, detail, address),
        )

    def recent(self, limit: int = 100) -> list[AuditEntry]:
        """The newest entries first."""
        rows = self._db.conn().execute(
            "SELECT ts, actor, action, target, detail, address FROM dashboard_audit ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [AuditEntry(float(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5])) for r in rows]
