"""Alerts in the events database: rows, timeline, pending rule conditions and notification progress.

Every change is one ``BEGIN IMMEDIATE`` transaction on a ``synchronous=FULL`` connection, so what a
caller was told has happened survives a power cut; a restart neither forgets nor re-sends.
"""

from __future__ import annotations

import builtins
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from gateway.alerts.model import Alert, AlertNotFoundError, AlertStateError, Change, TimelineEntry
from gateway.backoff import Backoff
from gateway.errors import StoreError
from gateway.eventsdb import EventsDB, connect
from gateway.sqlite_threads import ThreadConnections

_COLS = ("id, rule, device, kind, severity, state, chain, metric, value, detail, since, opened_at, acked_by, "
         "acked_at, ack_note, ended_at, cleared_at, latch")


def _alert(row: tuple[object, ...]) -> Alert:
    (id_, rule, device, kind, severity, state, chain, metric, value, detail, since, opened_at, acked_by,
     acked_at, ack_note, ended_at, cleared_at, latch) = row
    return Alert(int(id_), str(rule), str(device), str(kind), str(severity), state,  # type: ignore[call-overload,arg-type]
                 chain, metric, value, str(detail), float(since), float(opened_at),  # type: ignore[arg-type]
                 acked_by, acked_at, ack_note, ended_at, cleared_at, bool(latch))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class NotifyProgress:
    """How far the escalation of one alert has got."""

    alert: Alert
    steps_sent: int
    last_sent_at: float | None
    ack_handled: bool


@dataclass(frozen=True, slots=True)
class OpenRequest:
    """What a rule asks for when its condition holds."""

    rule: str
    device: str
    kind: str
    severity: str
    chain: str | None
    metric: str | None
    value: float | None
    detail: str
    since: float
    latch: bool = False


#: How long a write waits for the events database's write lock before it fails.
LOCK_WAIT_S = 30.0


def _lock_poll() -> Backoff:
    """Polls for the write lock: from 1 ms, jittered so the waiter does not stay in step with ingest's commits."""
    return Backoff(0.001, 0.01, jitter=0.5)


class AlertStore:
    """Alert persistence on top of the events database (any thread)."""

    def __init__(self, db: EventsDB) -> None:
        self.db = db
        self._writers = ThreadConnections(self._open_writer)

    def _open_writer(self) -> sqlite3.Connection:
        # Writes use their own connections that poll for the write lock (from 1 ms on): SQLite's busy
        # handler backs off to 100 ms sleeps, and under a steady ingest load (which commits batch after
        # batch) such a waiter can miss every gap between commits for seconds.
        c = connect(self.db.path)
        c.execute("PRAGMA busy_timeout=1")
        return c

    def _writer(self) -> sqlite3.Connection:
        return self._writers.get()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._writer()
        deadline = time.monotonic() + LOCK_WAIT_S
        backoff = _lock_poll()
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
                if time.monotonic() > deadline:
                    raise StoreError(f"the events database {self.db.path} stayed locked for {LOCK_WAIT_S:.0f} s; "
                                     "is another program holding it?") from None
                backoff.wait()
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._commit(conn)

    @staticmethod
    def _commit(conn: sqlite3.Connection) -> None:
        deadline = time.monotonic() + LOCK_WAIT_S
        backoff = _lock_poll()
        while True:
            try:
                conn.execute("COMMIT")
                return
            except sqlite3.OperationalError as e:
                if ("locked" not in str(e) and "busy" not in str(e)) or time.monotonic() > deadline:
                    conn.execute("ROLLBACK")
                    raise
                backoff.wait()

    def close(self) -> None:
        """Close the write connections of every thread."""
        self._writers.close_all()

    # -- lifecycle --------------------------------------------------------------------------------
    def open(self, req: OpenRequest, now: float) -> tuple[Alert, bool]:
        """Open an alert unless one is open for (rule, device); returns it and whether it is new."""
        with self._tx() as c:
            row = c.execute(f"SELECT {_COLS} FROM alerts WHERE rule=? AND device=? AND state!='cleared'",
                            (req.rule, req.device)).fetchone()
            if row is not None:
                return _alert(row), False
            cur = c.execute(
                "INSERT INTO alerts (rule, device, kind, severity, state, chain, metric, value, detail, since,"
                " opened_at, latch) VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?)",
                (req.rule, req.device, req.kind, req.severity, req.chain, req.metric, req.value, req.detail,
                 req.since, now, int(req.latch)))
            alert_id = int(cur.lastrowid or 0)
            c.execute("INSERT INTO alert_timeline (alert_id, ts, what, note, value) VALUES (?, ?, 'opened', ?, ?)",
                      (alert_id, now, req.detail or None, req.value))
            c.execute("INSERT INTO alert_notify (alert_id, done) VALUES (?, ?)",
                      (alert_id, 0 if req.chain else 1))
            return _alert(c.execute(f"SELECT {_COLS} FROM alerts WHERE id=?", (alert_id,)).fetchone()), True

    def end(self, rule: str, device: str, now: float, value: float | None = None) -> Alert | None:
        """The condition of (rule, device) ended: clear its alert, or for a latched unacknowledged one
        only mark it ended (it clears when acknowledged). Returns the changed alert, if any."""
        with self._tx() as c:
            row = c.execute(f"SELECT {_COLS} FROM alerts WHERE rule=? AND device=? AND state!='cleared'",
                            (rule, device)).fetchone()
            if row is None:
                return None
            a = _alert(row)
            if a.latch and a.state == "active":
                if a.ended_at is not None:
                    return None
                c.execute("UPDATE alerts SET ended_at=? WHERE id=?", (now, a.id))
                c.execute("INSERT INTO alert_timeline (alert_id, ts, what, value) VALUES (?, ?, 'ended', ?)",
                          (a.id, now, value))
            else:
                self._clear(c, a.id, now, value)
            return _alert(c.execute(f"SELECT {_COLS} FROM alerts WHERE id=?", (a.id,)).fetchone())

    def _clear(self, c: sqlite3.Connection, alert_id: int, now: float, value: float | None) -> None:
        c.execute("UPDATE alerts SET state='cleared', cleared_at=?, ended_at=COALESCE(ended_at, ?) WHERE id=?",
                  (now, now, alert_id))
        c.execute("INSERT INTO alert_timeline (alert_id, ts, what, value) VALUES (?, ?, 'cleared', ?)",
                  (alert_id, now, value))

    def ack(self, alert_id: int, by: str, note: str, now: float) -> Alert:
        """Acknowledge (with the corrective action as ``note``); a latched alert whose condition ended clears."""
        by, note = by.strip(), note.strip()
        if not by:
            raise AlertStateError("say who acknowledges: --by NAME")
        with self._tx() as c:
            row = c.execute(f"SELECT {_COLS} FROM alerts WHERE id=?", (alert_id,)).fetchone()
            if row is None:
                raise AlertNotFoundError("no alert with id {id}; see `houqin alerts --open`", id=alert_id)
            a = _alert(row)
            if a.state == "cleared":
                raise AlertStateError("alert {id} is already cleared; nothing to acknowledge", id=alert_id)
            if a.state == "acknowledged":
                raise AlertStateError("alert {id} was already acknowledged by {name}", id=alert_id, name=a.acked_by)
            c.execute("UPDATE alerts SET state='acknowledged', acked_by=?, acked_at=?, ack_note=? WHERE id=?",
                      (by, now, note, alert_id))
            c.execute("INSERT INTO alert_timeline (alert_id, ts, what, by, note) VALUES (?, ?, 'acknowledged', ?, ?)",
                      (alert_id, now, by, note))
            if a.latch and a.ended_at is not None:
                self._clear(c, alert_id, now, None)
            return _alert(c.execute(f"SELECT {_COLS} FROM alerts WHERE id=?", (alert_id,)).fetchone())

    def add_timeline(self, alert_id: int, ts: float, what: str, note: str | None = None) -> None:
        """Append a line to an alert's history (e.g. a notification sent or failed)."""
        with self._tx() as c:
            c.execute("INSERT INTO alert_timeline (alert_id, ts, what, note) VALUES (?, ?, ?, ?)",
                      (alert_id, ts, what, note))

    # -- reading ----------------------------------------------------------------------------------
    def get(self, alert_id: int) -> Alert:
        """The alert with this id; raises AlertNotFoundError."""
        row = self.db.conn().execute(f"SELECT {_COLS} FROM alerts WHERE id=?", (alert_id,)).fetchone()
        if row is None:
            raise AlertNotFoundError("no alert with id {id}; see `houqin alerts --open`", id=alert_id)
        return _alert(row)

    def list(self, open_only: bool = False, since: float | None = None, until: float | None = None,
             rule: str | None = None, device: str | None = None, limit: int | None = None) -> builtins.list[Alert]:
        """Alerts, newest first: ``open_only`` not cleared; ``since`` open at some time since then (opened
        after it, or still open, or cleared after it); ``until`` opened before it; by rule and device."""
        where: builtins.list[str] = []
        args: builtins.list[object] = []
        if open_only:
            where.append("state != 'cleared'")
        if since is not None:
            where.append("(opened_at >= ? OR cleared_at IS NULL OR cleared_at >= ?)")
            args += [since, since]
        if until is not None:
            where.append("opened_at < ?")
            args.append(until)
        if rule is not None:
            where.append("rule = ?")
            args.append(rule)
        if device is not None:
            where.append("device = ?")
            args.append(device)
        sql = f"SELECT {_COLS} FROM alerts"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY opened_at DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_alert(r) for r in self.db.conn().execute(sql, args)]

    def timeline(self, alert_id: int) -> builtins.list[TimelineEntry]:
        """An alert's history, oldest first; raises AlertNotFoundError."""
        self.get(alert_id)
        rows = self.db.conn().execute(
            "SELECT ts, what, by, note, value FROM alert_timeline WHERE alert_id=? ORDER BY id", (alert_id,))
        return [TimelineEntry(float(ts), str(what), by, note, value) for ts, what, by, note, value in rows]

    def changes_after(self, timeline_id: int, up_to: int | None = None,
                      limit: int = 1000) -> builtins.list[Change]:
        """The service's changes (opened, acknowledged, ended, cleared) recorded after ``timeline_id`` (and at or
        before ``up_to``), oldest first, each with its alert as it is now: what a listener that missed some can
        catch up from."""
        rows = self.db.conn().execute(
            f"SELECT t.id, t.what, t.ts, {', '.join('a.' + c.strip() for c in _COLS.split(','))} "
            "FROM alert_timeline t JOIN alerts a ON a.id = t.alert_id WHERE t.id > ? AND t.id <= ? "
            "AND t.what IN ('opened', 'acknowledged', 'ended', 'cleared') ORDER BY t.id LIMIT ?",
            (timeline_id, up_to if up_to is not None else 2**62, limit)).fetchall()
        return [Change(int(r[0]), r[1], float(r[2]), _alert(r[3:])) for r in rows]

    def last_change_id(self) -> int:
        """The id of the newest timeline entry (0 when there is none)."""
        return int(self.db.conn().execute("SELECT coalesce(max(id), 0) FROM alert_timeline").fetchone()[0])

    # -- pending rule conditions (durations that survive a restart) -----------------------------
    def pending(self) -> dict[tuple[str, str], tuple[float, float | None]]:
        """Every pending condition: (rule, device) -> (since, value)."""
        rows = self.db.conn().execute("SELECT rule, device, since, value FROM rule_pending")
        return {(r, d): (float(s), v) for r, d, s, v in rows}

    def set_pending(self, rule: str, device: str, since: float, value: float | None) -> None:
        """Remember that (rule, device)'s condition holds since ``since``."""
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO rule_pending (rule, device, since, value) VALUES (?, ?, ?, ?)",
                      (rule, device, since, value))

    def drop_pending(self, rule: str, device: str) -> None:
        """Forget the pending condition of (rule, device)."""
        with self._tx() as c:
            c.execute("DELETE FROM rule_pending WHERE rule=? AND device=?", (rule, device))

    # -- notification progress --------------------------------------------------------------------
    def notify_progress(self) -> builtins.list[NotifyProgress]:
        """Alerts whose notifications are not finished (open, or cleared with "resolved" not sent)."""
        rows = self.db.conn().execute(
            f"SELECT {', '.join('a.' + c.strip() for c in _COLS.split(','))}, n.steps_sent, n.last_sent_at,"
            " n.ack_handled FROM alert_notify n JOIN alerts a ON a.id = n.alert_id WHERE n.done = 0"
            " ORDER BY a.id").fetchall()
        return [NotifyProgress(_alert(r[:18]), int(r[18]), r[19], bool(r[20])) for r in rows]

    def mark_sent(self, alert_id: int, steps_sent: int, now: float, what: str, note: str) -> None:
        """Record that notifications up to step ``steps_sent`` went out at ``now``."""
        with self._tx() as c:
            c.execute("UPDATE alert_notify SET steps_sent=?, last_sent_at=? WHERE alert_id=?",
                      (steps_sent, now, alert_id))
            c.execute("INSERT INTO alert_timeline (alert_id, ts, what, note) VALUES (?, ?, ?, ?)",
                      (alert_id, now, what, note))

    def mark_ack_handled(self, alert_id: int) -> None:
        """The acknowledgement was passed on to the notifiers (buzzer off...)."""
        with self._tx() as c:
            c.execute("UPDATE alert_notify SET ack_handled=1 WHERE alert_id=?", (alert_id,))

    def mark_done(self, alert_id: int, now: float, what: str | None, note: str | None = None) -> None:
        """Nothing more to send for this alert (the "resolved" message went out, or nothing was sent)."""
        with self._tx() as c:
            c.execute("UPDATE alert_notify SET done=1 WHERE alert_id=?", (alert_id,))
            if what:
                c.execute("INSERT INTO alert_timeline (alert_id, ts, what, note) VALUES (?, ?, ?, ?)",
                          (alert_id, now, what, note))
