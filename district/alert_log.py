"""Every alert the district heard of, kept in ``alerts.db`` in ``data_dir``: when it opened, was acknowledged,
escalated and cleared, its device's kind and the site's escalation time, for the weekly figures (cold chain).

Fed by the board (``district.board``) with each transition and each site's retained list of open alerts; an alert
is one row per (site, alert id), so a transition heard twice or a list repeated changes nothing.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.sqlite_threads import ThreadConnections

#: The file in ``data_dir``.
DB_NAME = "alerts.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS district_alerts (
    site TEXT NOT NULL,
    id INTEGER NOT NULL,
    rule TEXT NOT NULL,
    device TEXT NOT NULL,
    device_kind TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL,
    opened_at REAL NOT NULL,
    acked_at REAL,
    cleared_at REAL,
    escalate_after REAL,
    escalated INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, id)
);
CREATE INDEX IF NOT EXISTS district_alerts_opened ON district_alerts (opened_at);
"""


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One alert of one site, as far as the district heard of it."""

    site: str
    id: int
    rule: str
    device: str
    device_kind: str
    severity: str
    opened_at: float
    acked_at: float | None
    cleared_at: float | None
    #: The site's escalation time for this alert (None: its chain never escalates, or an older site).
    escalate_after: float | None
    #: The site escalated it: nobody acknowledged it within the escalation time.
    escalated: bool

    def late(self, now: float) -> bool:
        """Not acknowledged within the site's escalation time: escalated, or unacknowledged (and not cleared) for
        at least that long by its acknowledgement, its clearing or ``now``."""
        if self.escalated:
            return True
        if self.escalate_after is None:
            return False
        until = min(x for x in (self.acked_at, self.cleared_at, now) if x is not None)
        return until - self.opened_at >= self.escalate_after


def _float(v: Any) -> float | None:
    return None if v is None else float(v)


class AlertLog:
    """The district's record of the sites' alerts (thread-safe: a connection per thread)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conns = ThreadConnections(lambda: self._connect(path))
        self._lock = threading.Lock()
        self._conns.get().executescript(_SCHEMA)

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    def record(self, site: str, transition: str, alert: dict[str, Any], at: float) -> None:
        """One transition (``opened``, ``escalated``, ``acknowledged``, ``ended``, ``cleared``) or ``open`` (the
        alert is in the site's list of open alerts) of ``alert`` (the uplink's JSON)."""
        kind = str(alert.get("device_kind") or "")
        after = _float(alert.get("escalate_after"))
        cleared = _float(alert.get("cleared_at")) or (at if transition == "cleared" else None)
        with self._lock:
            self._conns.get().execute(
                "INSERT INTO district_alerts (site, id, rule, device, device_kind, severity, opened_at, acked_at, "
                "cleared_at, escalate_after, escalated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (site, id) DO UPDATE SET acked_at = coalesce(acked_at, excluded.acked_at), "
                "cleared_at = coalesce(cleared_at, excluded.cleared_at), "
                "escalated = max(escalated, excluded.escalated), "
                "device_kind = CASE WHEN excluded.device_kind != '' THEN excluded.device_kind ELSE device_kind END, "
                "escalate_after = coalesce(excluded.escalate_after, escalate_after)",
                (site, int(alert["id"]), str(alert["rule"]), str(alert.get("device") or ""), kind,
                 str(alert["severity"]), float(alert.get("opened_at") or at), _float(alert.get("acked_at")), cleared,
                 after, int(transition == "escalated")))

    def opened(self, start: float, end: float) -> list[AlertRecord]:
        """Alerts opened in ``[start, end)``, by site and time."""
        rows = self._conns.get().execute(
            "SELECT site, id, rule, device, device_kind, severity, opened_at, acked_at, cleared_at, escalate_after, "
            "escalated FROM district_alerts WHERE opened_at >= ? AND opened_at < ? ORDER BY site, opened_at, id",
            (start, end)).fetchall()
        return [AlertRecord(site=r[0], id=r[1], rule=r[2], device=r[3], device_kind=r[4], severity=r[5],
                            opened_at=r[6], acked_at=r[7], cleared_at=r[8], escalate_after=r[9],
                            escalated=bool(r[10])) for r in rows]

    def close(self) -> None:
        """Close every thread's connection."""
        self._conns.close_all()
