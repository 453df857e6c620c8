"""Login throttling: too many failures for one account, or from one address, lock logins for a while."""

from __future__ import annotations

from gateway.clock import Clock
from gateway.eventsdb import EventsDB


class LoginThrottle:
    """Counts failed logins per account and per client address within a sliding window."""

    def __init__(self, db: EventsDB, clock: Clock, window: float, max_account: int, max_address: int) -> None:
        self._db = db
        self._clock = clock
        self.window = window
        self.max_account = max_account
        self.max_address = max_address

    def blocked(self, username: str, address: str) -> bool:
        """True when the account or the address has used up its failures in the window."""
        since = self._clock.now() - self.window
        conn = self._db.conn()
        by_user = conn.execute(
            "SELECT count(*) FROM dashboard_login_failures WHERE username = ? AND ts > ?", (username.strip(), since)
        ).fetchone()[0]
        if by_user >= self.max_account:
            return True
        by_addr = conn.execute(
            "SELECT count(*) FROM dashboard_login_failures WHERE address = ? AND ts > ?", (address, since)
        ).fetchone()[0]
        return bool(by_addr >= self.max_address)

    def failed(self, username: str, address: str) -> None:
        """Record one failed login and drop records older than the window."""
        now = self._clock.now()
        conn = self._db.conn()
        conn.execute("INSERT INTO dashboard_login_failures (ts, username, address) VALUES (?, ?, ?)",
                     (now, username.strip()[:64], address))
        conn.execute("DELETE FROM dashboard_login_failures WHERE ts <= ?", (now - self.window,))

    def succeeded(self, username: str) -> None:
        """A successful login clears the account's failures (not the address's)."""
        self._db.conn().execute("DELETE FROM dashboard_login_failures WHERE username = ?", (username.strip(),))
