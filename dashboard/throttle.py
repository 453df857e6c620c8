"""Login throttling that an attacker cannot turn into a lockout (OWASP ASVS 5 V6.3, device cookies).

Every attempt is reserved (recorded as a failure) *before* the password is checked, under one lock, so
concurrent requests cannot all slip through; a success takes its reservation back. Limits:

- per (account, client): ``max_account`` failures in the window, with a progressive delay between
  attempts; the client is the browser's device cookie when it carries a valid one for this account
  (it logged in as this account before), else its address;
- per address, for clients without a device cookie: ``max_address`` failures (password spraying);
- per account, for clients without a device cookie: ``max_address`` failures from all addresses
  together (a distributed guess at one account).

A person whose browser logged in before keeps their own budget: an attacker behind the same school
NAT or reverse proxy cannot lock them out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from gateway.clock import Clock
from gateway.eventsdb import EventsDB
from gateway.secret_files import read_or_create

#: The device cookie (path /login) and how long a browser keeps it.
DEVICE_COOKIE = "houqin_device"
DEVICE_COOKIE_DAYS = 180
_DEVICE = "device:"
#: The longest progressive delay between two attempts of one (account, client), seconds.
MAX_DELAY_S = 60.0


@dataclass(frozen=True, slots=True)
class Attempt:
    """A reserved login attempt (``id`` is its row), or a refusal with ``retry_after`` seconds."""

    id: int | None
    retry_after: float = 0.0

    @property
    def allowed(self) -> bool:
        """True when the password may be checked."""
        return self.id is not None


def delay_after(failures: int) -> float:
    """The wait before the next attempt after ``failures`` failures: none for the first slip, then 1, 2, 4… s."""
    return 0.0 if failures < 2 else min(MAX_DELAY_S, 2.0 ** (failures - 2))


class LoginThrottle:
    """Reserves login attempts per (account, client), per address and per account (see the module doc)."""

    def __init__(self, db: EventsDB, clock: Clock, window: float, max_account: int, max_address: int,
                 key_file: Path) -> None:
        self._db = db
        self._clock = clock
        self.window = window
        self.max_account = max_account
        self.max_address = max_address
        self._key_file = key_file
        self._key: bytes | None = None
        self._lock = threading.Lock()  # check and reserve as one step (handlers run in many threads)

    def _mac(self, username: str, nonce: str) -> str:
        if self._key is None:
            self._key = bytes.fromhex(read_or_create(self._key_file))
        digest = hmac.new(self._key, f"{username.strip().lower()}\n{nonce}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode()

    def device_cookie(self, username: str) -> str:
        """A new device cookie for a browser that just logged in as ``username``."""
        nonce = secrets.token_urlsafe(12)
        return f"{nonce}.{self._mac(username, nonce)}"

    def client(self, username: str, address: str, cookie: str | None) -> str:
        """Who is trying: ``device:<nonce>`` for a valid device cookie of ``username``, else the address."""
        if cookie and cookie.count(".") == 1:
            nonce, mac = cookie.split(".")
            if nonce and hmac.compare_digest(self._mac(username, nonce), mac):
                return _DEVICE + nonce
        return address

    def reserve(self, username: str, client: str, address: str) -> Attempt:
        """Reserve one attempt for ``username`` from ``client`` (see ``client``); a refusal says how long to wait."""
        user = username.strip()[:64]
        now = self._clock.now()
        since = now - self.window
        with self._lock:
            conn = self._db.conn()
            conn.execute("DELETE FROM dashboard_login_failures WHERE ts <= ?", (since,))
            n, last = conn.execute(
                "SELECT count(*), max(ts) FROM dashboard_login_failures WHERE username = ? AND address = ? AND ts > ?",
                (user, client, since)).fetchone()
            if n >= self.max_account:
                return Attempt(None, self._free_at(user, client, since) - now)
            wait = (last or now) + delay_after(n) - now
            if wait > 0:
                return Attempt(None, wait)
            if not client.startswith(_DEVICE):
                by_addr, first_addr = conn.execute(
                    "SELECT count(*), min(ts) FROM dashboard_login_failures WHERE address = ? AND ts > ?",
                    (address, since)).fetchone()
                if by_addr >= self.max_address:
                    return Attempt(None, first_addr + self.window - now)
                by_user, first_user = conn.execute(
                    "SELECT count(*), min(ts) FROM dashboard_login_failures WHERE username = ? AND ts > ? "
                    "AND address NOT LIKE 'device:%'", (user, since)).fetchone()
                if by_user >= self.max_address:
                    return Attempt(None, first_user + self.window - now)
            cur = conn.execute("INSERT INTO dashboard_login_failures (ts, username, address) VALUES (?, ?, ?)",
                               (now, user, client))
            return Attempt(cur.lastrowid)

    def _free_at(self, user: str, client: str, since: float) -> float:
        row = self._db.conn().execute(
            "SELECT min(ts) FROM dashboard_login_failures WHERE username = ? AND address = ? AND ts > ?",
            (user, client, since)).fetchone()
        return float(row[0] or since) + self.window

    def succeeded(self, attempt: Attempt, username: str, client: str) -> None:
        """The password was right: take the reservation back and clear this client's failures for the account."""
        with self._lock:
            conn = self._db.conn()
            conn.execute("DELETE FROM dashboard_login_failures WHERE id = ?", (attempt.id,))
            conn.execute("DELETE FROM dashboard_login_failures WHERE username = ? AND address = ?",
                         (username.strip()[:64], client))
