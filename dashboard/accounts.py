"""Dashboard users in the events database: create, find, list, disable, change role and password."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher

from dashboard.passwords import check_policy, make_hasher, unmatchable_hash, verify
from dashboard.roles import ROLES
from gateway.clock import Clock, SystemClock
from gateway.eventsdb import EventsDB
from gateway.i18n import LOCALES


class AccountError(ValueError):
    """A user operation was refused; the message names the user and what to do."""


@dataclass(frozen=True, slots=True)
class User:
    """A person who logs in to the dashboard."""

    id: int
    username: str
    display_name: str
    role: str
    locale: str | None
    disabled: bool
    created_at: float
    password_changed_at: float

    @property
    def label(self) -> str:
        """Name for people: the display name or the user name."""
        return self.display_name or self.username


_COLUMNS = "id, username, display_name, role, password_hash, locale, disabled, created_at, password_changed_at"


def _user(row: tuple[Any, ...]) -> User:
    return User(
        id=int(row[0]),
        username=str(row[1]),
        display_name=str(row[2]),
        role=str(row[3]),
        locale=str(row[5]) if row[5] is not None else None,
        disabled=bool(row[6]),
        created_at=float(row[7]),
        password_changed_at=float(row[8]),
    )


def valid_username(name: str) -> bool:
    """User names: 1-64 printable characters without spaces (Chinese names are fine)."""
    return 0 < len(name) <= 64 and name.isprintable() and not any(c.isspace() for c in name)


class Accounts:
    """The user table; passwords are stored only as argon2id hashes."""

    def __init__(self, db: EventsDB, clock: Clock | None = None, hasher: PasswordHasher | None = None, *,
                 roles: Sequence[str] = ROLES, admin_role: str = "admin") -> None:
        self._db = db
        #: The roles a user may have and the one of which an enabled user must remain (the district has its own).
        self.roles = tuple(roles)
        self.admin_role = admin_role
        self._clock = clock or SystemClock()
        self.hasher = hasher or make_hasher()
        # verified against when the user does not exist, so a login attempt for an unknown user takes as
        # long as one for a known user (built without hashing: no 64 MiB spike at start)
        self._dummy_hash = unmatchable_hash(self.hasher)

    def add(self, username: str, role: str, password: str, display_name: str = "", locale: str | None = None) -> User:
        """Create a user; raises AccountError if the name is taken, the role unknown or the password weak."""
        username = username.strip()
        if not valid_username(username):
            raise AccountError(f"user name {username!r} is not allowed: use 1-64 characters without spaces")
        if role not in self.roles:
            raise AccountError(f"role {role!r} is unknown; choose one of {', '.join(self.roles)}")
        if locale is not None and locale not in LOCALES:
            raise AccountError(f"locale {locale!r} is unknown; choose one of {', '.join(LOCALES)}")
        try:
            check_policy(password, username)
        except ValueError as e:
            raise AccountError(str(e)) from None
        now = self._clock.now()
        try:
            cur = self._db.conn().execute(
                "INSERT INTO dashboard_users (username, display_name, role, password_hash, locale, created_at,"
                " password_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (username, display_name, role, self.hasher.hash(password), locale, now, now),
            )
        except sqlite3.IntegrityError:
            raise AccountError(
                f"user {username!r} already exists; pick another name or use 'houqin user passwd'"
            ) from None
        user = self.get_by_id(int(cur.lastrowid or 0))
        assert user is not None
        return user

    def get(self, username: str) -> User | None:
        """The user with this name (case-insensitive), if any."""
        row = self._db.conn().execute(
            f"SELECT {_COLUMNS} FROM dashboard_users WHERE username = ?", (username.strip(),)
        ).fetchone()
        return _user(row) if row else None

    def get_by_id(self, user_id: int) -> User | None:
        """The user with this id, if any."""
        row = self._db.conn().execute(f"SELECT {_COLUMNS} FROM dashboard_users WHERE id = ?", (user_id,)).fetchone()
        return _user(row) if row else None

    def list(self) -> list[User]:
        """Every user, by name."""
        rows = self._db.conn().execute(f"SELECT {_COLUMNS} FROM dashboard_users ORDER BY username").fetchall()
        return [_user(r) for r in rows]

    def count(self) -> int:
        """How many users exist."""
        return int(self._db.conn().execute("SELECT count(*) FROM dashboard_users").fetchone()[0])

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the name and password match and the account is enabled; else None."""
        row = self._db.conn().execute(
            f"SELECT {_COLUMNS} FROM dashboard_users WHERE username = ?", (username.strip(),)
        ).fetchone()
        if row is None:
            verify(self.hasher, self._dummy_hash, password)  # same cost as a real check
            return None
        if not verify(self.hasher, str(row[4]), password):
            return None
        user = _user(row)
        if user.disabled:
            return None
        if self.hasher.check_needs_rehash(str(row[4])):
            self._db.conn().execute("UPDATE dashboard_users SET password_hash = ? WHERE id = ?",
                                    (self.hasher.hash(password), user.id))
        return user

    def set_password(self, username: str, password: str) -> User:
        """Change a password (the caller ends the user's sessions)."""
        user = self._require(username)
        try:
            check_policy(password, user.username)
        except ValueError as e:
            raise AccountError(str(e)) from None
        self._db.conn().execute(
            "UPDATE dashboard_users SET password_hash = ?, password_changed_at = ? WHERE id = ?",
            (self.hasher.hash(password), self._clock.now(), user.id),
        )
        return self._require(username)

    def set_role(self, username: str, role: str) -> User:
        """Give a user another role."""
        if role not in self.roles:
            raise AccountError(f"role {role!r} is unknown; choose one of {', '.join(self.roles)}")
        user = self._require(username)
        if user.role == self.admin_role and role != self.admin_role:
            self._keep_an_admin(user)
        self._db.conn().execute("UPDATE dashboard_users SET role = ? WHERE id = ?", (role, user.id))
        return self._require(username)

    def set_disabled(self, username: str, disabled: bool) -> User:
        """Disable (or enable again) a user; a disabled user cannot log in."""
        user = self._require(username)
        if disabled and user.role == self.admin_role:
            self._keep_an_admin(user)
        self._db.conn().execute("UPDATE dashboard_users SET disabled = ? WHERE id = ?", (int(disabled), user.id))
        return self._require(username)

    def set_locale(self, user_id: int, locale: str | None) -> None:
        """Set a user's language (None: the site default)."""
        if locale is not None and locale not in LOCALES:
            raise AccountError(f"locale {locale!r} is unknown; choose one of {', '.join(LOCALES)}")
        self._db.conn().execute("UPDATE dashboard_users SET locale = ? WHERE id = ?", (locale, user_id))

    def _require(self, username: str) -> User:
        user = self.get(username)
        if user is None:
            raise AccountError(f"no user {username!r}; see 'houqin user list'")
        return user

    def _keep_an_admin(self, user: User) -> None:
        n = self._db.conn().execute(
            "SELECT count(*) FROM dashboard_users WHERE role = ? AND disabled = 0 AND id != ?",
            (self.admin_role, user.id)
        ).fetchone()[0]
        if n == 0:
            raise AccountError(f"{user.username!r} is the last enabled admin; make another admin first")
