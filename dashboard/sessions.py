"""Server-side sessions in SQLite: a random token in an HttpOnly cookie, its SHA-256 in the table."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from gateway.clock import Clock
from gateway.eventsdb import EventsDB

#: Write ``last_seen`` at most this often per session, so a busy page does not write on every request.
_TOUCH_EVERY = 30.0


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in session; ``token`` is only known right after creation."""

    token_hash: str
    user_id: int
    csrf_token: str
    created_at: float
    last_seen: float
    token: str = ""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Sessions:
    """Create, look up, refresh and end sessions, enforcing the idle and absolute timeouts."""

    def __init__(self, db: EventsDB, clock: Clock, idle_seconds: float, max_seconds: float) -> None:
        self._db = db
        self._clock = clock
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds

    def create(self, user_id: int, address: str = "", user_agent: str = "") -> Session:
        """Start a session for ``user_id``; returns it with its cookie token."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = self._clock.now()
        self._db.conn().execute(
            "INSERT INTO dashboard_sessions (token_hash, user_id, csrf_token, created_at, last_seen, address,"
            " user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (_hash(token), user_id, csrf, now, now, address, user_agent[:200]),
        )
        return Session(_hash(token), user_id, csrf, now, now, token)

    def lookup(self, token: str | None, *, touch: bool = True) -> Session | None:
        """The live session for a cookie token, or None (unknown, ended, idle or too old: then deleted)."""
        if not token or len(token) > 128:
            return None
        h = _hash(token)
        row = self._db.conn().execute(
            "SELECT token_hash, user_id, csrf_token, created_at, last_seen FROM dashboard_sessions"
            " WHERE token_hash = ?",
            (h,),
        ).fetchone()
        if row is None:
            return None
        s = Session(str(row[0]), int(row[1]), str(row[2]), float(row[3]), float(row[4]))
        now = self._clock.now()
        if now - s.last_seen >= self.idle_seconds or now - s.created_at >= self.max_seconds:
            self._db.conn().execute("DELETE FROM dashboard_sessions WHERE token_hash = ?", (h,))
            return None
        if touch and now - s.last_seen >= _TOUCH_EVERY:
            self._db.conn().execute("UPDATE dashboard_sessions SET last_seen = ? WHERE token_hash = ?", (now, h))
            s = Session(s.token_hash, s.user_id, s.csrf_token, s.created_at, now)
        return s

    def end(self, token: str | None) -> None:
        """End one session (logout)."""
        if token:
            self._db.conn().execute("DELETE FROM dashboard_sessions WHERE token_hash = ?", (_hash(token),))

    def end_all(self, user_id: int, *, except_hash: str | None = None) -> int:
        """End every session of a user (password change, disable); returns how many."""
        cur = self._db.conn().execute(
            "DELETE FROM dashboard_sessions WHERE user_id = ? AND token_hash != ?", (user_id, except_hash or "")
        )
        return cur.rowcount

    def purge_expired(self) -> int:
        """Delete sessions past either timeout; returns how many."""
        now = self._clock.now()
        cur = self._db.conn().execute(
            "DELETE FROM dashboard_sessions WHERE last_seen <= ? OR created_at <= ?",
            (now - self.idle_seconds, now - self.max_seconds),
        )
        return cur.rowcount

    def count(self) -> int:
        """How many sessions are stored."""
        return int(self._db.conn().execute("SELECT count(*) FROM dashboard_sessions").fetchone()[0])
