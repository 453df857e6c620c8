"""Night patrols: check-ins at checkpoints (with the nearby readings of that moment), and each round judged
when its window ends; a missed or incomplete round raises an alert through the normal chains."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gateway.alerts.service import AlertService
from gateway.alerts.store import OpenRequest
from gateway.clock import Clock
from gateway.eventsdb import EventsDB
from gateway.gate.card_rules import normalise_uid
from gateway.gate.settings import CheckpointSettings, GateSettings, RouteSettings

log = logging.getLogger(__name__)

#: Rounds that ended longer ago than this are not judged (the gateway was off).
LOOK_BACK_S = 86400.0

NearbyReadings = Callable[[list[str]], list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class CheckIn:
    """A guard at a checkpoint."""

    id: int
    ts: float
    route: str
    checkpoint: str
    by: str
    uid: str
    readings: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Round:
    """One round window of one route, judged or running."""

    route: str
    start: float
    end: float
    visited: list[str]
    total: int
    status: str  # complete | incomplete | missed | running | upcoming

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)


def rule_id(route: str) -> str:
    """The alert rule id of a route's missed rounds."""
    return f"patrol-{route}"


def round_windows(route: RouteSettings, tz: ZoneInfo, start: float, end: float) -> Iterator[tuple[float, float]]:
    """Round windows ``(start, end)`` of ``route`` (Unix s) that end within ``(start, end]``, in order."""
    first = datetime.fromtimestamp(start, tz).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end, tz).date()
    out = []
    day = first
    while day <= last:
        if day.isoweekday() in route.days:
            for w_start, w_end in route.rounds:
                s = datetime.combine(day, w_start, tz)
                e_day = day if (w_end > w_start) else day + timedelta(days=1)
                e = datetime.combine(e_day, w_end, tz)
                out.append((s.timestamp(), e.timestamp()))
        day += timedelta(days=1)
    for s_ts, e_ts in sorted(out):
        if start < e_ts <= end:
            yield s_ts, e_ts


class Patrols:
    """Check-ins and round judging for ``[[gate.patrols]]``."""

    def __init__(self, settings: GateSettings, tz: ZoneInfo, db: EventsDB, clock: Clock,
                 alerts: AlertService | None, nearby: NearbyReadings | None = None,
                 default_device: str | None = None, locale: str = "en") -> None:
        self.settings = settings
        self.locale = locale  # of the alert's detail, read by the guards
        self.routes = {r.id: r for r in settings.patrols}
        self.tz = tz
        self.db = db
        self.clock = clock
        self.alerts = alerts
        self.nearby = nearby
        self.default_device = default_device

    def checkpoints_for(self, reader: str, uid: str, kind: str) -> list[tuple[RouteSettings, CheckpointSettings]]:
        """Checkpoints a card read checks in: a tag anywhere, or a guard's card at a checkpoint's reader."""
        uid = normalise_uid(uid)
        out = []
        for route in self.routes.values():
            for cp in route.checkpoints:
                if (cp.tag and cp.tag == uid) or (cp.reader == reader and kind == "guard"):
                    out.append((route, cp))
        return out

    def is_tag(self, uid: str) -> bool:
        """Whether this card number is a checkpoint tag (not a person's card)."""
        uid = normalise_uid(uid)
        return any(cp.tag == uid for r in self.routes.values() for cp in r.checkpoints)

    def check_in(self, route_id: str, checkpoint_id: str, ts: float, by: str = "", uid: str = "") -> CheckIn | None:
        """Record a check-in with the nearby readings now; None when this one was recorded before."""
        route = self.routes[route_id]
        cp = next(c for c in route.checkpoints if c.id == checkpoint_id)
        readings: list[dict[str, Any]] = []
        if cp.devices and self.nearby is not None:
            try:
                readings = self.nearby(cp.devices)
            except Exception:  # a store hiccup must not lose the check-in itself
                log.exception("nearby readings for checkpoint %s failed", cp.id)
        cur = self.db.conn().execute(
            "INSERT OR IGNORE INTO gate_checkins (ts, route, checkpoint, by_holder, uid, readings) "
            "VALUES (?, ?, ?, ?, ?, ?)", (ts, route_id, cp.id, by, uid, json.dumps(readings, ensure_ascii=False)))
        if cur.rowcount == 0:
            return None
        log.info("patrol %s: %s checked in at %s", route_id, by or uid, cp.label)
        return CheckIn(int(cur.lastrowid or 0), ts, route_id, cp.id, by, uid, readings)

    def check_ins(self, since: float, until: float | None = None, route: str | None = None) -> list[CheckIn]:
        """Check-ins in ``[since, until)``, oldest first."""
        sql = "SELECT id, ts, route, checkpoint, by_holder, uid, readings FROM gate_checkins WHERE ts >= ?"
        params: list[Any] = [since]
        if until is not None:
            sql += " AND ts < ?"
            params.append(until)
        if route is not None:
            sql += " AND route = ?"
            params.append(route)
        rows = self.db.conn().execute(sql + " ORDER BY ts, id", params).fetchall()
        return [CheckIn(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows]

    def _visited(self, route: str, start: float, end: float) -> list[str]:
        rows = self.db.conn().execute("SELECT DISTINCT checkpoint FROM gate_checkins WHERE route = ? AND ts >= ? "
                                      "AND ts <= ?", (route, start, end)).fetchall()
        ids = {r[0] for r in rows}
        return [c.id for c in self.routes[route].checkpoints if c.id in ids]

    def _since(self) -> float:
        """When round judging began (kept, so rounds before the first start are never judged)."""
        conn = self.db.conn()
        row = conn.execute("SELECT value FROM gate_state WHERE key = 'patrols_since'").fetchone()
        if row is not None:
            return float(row[0])
        now = self.clock.now()
        conn.execute("INSERT OR IGNORE INTO gate_state (key, value) VALUES ('patrols_since', ?)", (repr(now),))
        return now

    def judge(self, now: float | None = None) -> list[Round]:
        """Judge every round that ended since the last call; alert on missed or incomplete ones."""
        now = self.clock.now() if now is None else now
        since = self._since()
        conn = self.db.conn()
        judged: list[Round] = []
        for route in self.routes.values():
            for start, end in round_windows(route, self.tz, max(since, now - LOOK_BACK_S), now):
                if start < since:
                    continue
                if conn.execute("SELECT 1 FROM gate_rounds WHERE route = ? AND start_ts = ?",
                                (route.id, start)).fetchone():
                    continue
                visited = self._visited(route.id, start, end)
                total = len(route.checkpoints)
                status = "complete" if len(visited) == total else ("missed" if not visited else "incomplete")
                alert_id = self._alert(route, start, end, visited, status) if status != "complete" else None
                conn.execute("INSERT OR IGNORE INTO gate_rounds (route, start_ts, end_ts, visited, total, status, "
                             "alert_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (route.id, start, end, len(visited), total, status, alert_id))
                judged.append(Round(route.id, start, end, visited, total, status))
        return judged

    def _device(self, route: RouteSettings) -> str:
        if route.device:
            return route.device
        for cp in route.checkpoints:
            if cp.reader:
                return cp.reader
        return self.default_device or route.id

    def _alert(self, route: RouteSettings, start: float, end: float, visited: list[str], status: str) -> int | None:
        missing = [c.label for c in route.checkpoints if c.id not in visited]
        # Data, not words: gateway.rules.detail says it in each reader's language when shown.
        detail = json.dumps({"route": route.label, "start": start, "end": end, "status": status,
                             "visited": len(visited), "total": len(route.checkpoints), "missing": missing},
                            ensure_ascii=False)
        log.warning("patrol round %s %s: %d/%d checkpoints", route.id, status, len(visited), len(route.checkpoints))
        if self.alerts is None:
            return None
        device = self._device(route)
        alert = self.alerts.raise_alert(OpenRequest(
            rule=rule_id(route.id), device=device, kind="patrol_missed", severity=route.severity, chain=route.notify,
            metric=None, value=float(len(visited)), detail=detail, since=end, latch=True))
        # The round is over: the condition has ended, so the guard's acknowledgement clears it.
        self.alerts.end(rule_id(route.id), device)
        return alert.id

    def rounds(self, since: float, until: float) -> list[Round]:
        """Rounds of every route ending in ``(since, until]`` plus the one running now, with their state."""
        now = self.clock.now()
        out: list[Round] = []
        conn = self.db.conn()
        for route in self.routes.values():
            for start, end in round_windows(route, self.tz, since, until + LOOK_BACK_S):
                if start > until:
                    continue
                row = conn.execute("SELECT status FROM gate_rounds WHERE route = ? AND start_ts = ?",
                                   (route.id, start)).fetchone()
                visited = self._visited(route.id, start, end)
                status = row[0] if row else ("upcoming" if start > now else ("running" if end > now else "unjudged"))
                out.append(Round(route.id, start, end, visited, len(route.checkpoints), status))
        return sorted(out, key=lambda r: r.start)
