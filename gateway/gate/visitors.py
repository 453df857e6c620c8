"""Visitors: registered at the gate, approved or refused by the person visited, signed in and out; the
watch list; purge after the retention."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.clock import Clock
from gateway.eventsdb import EventsDB
from gateway.gate.crypto import IdCipher, mask_id, normalise_id
from gateway.gate.errors import GateError, state_word

log = logging.getLogger(__name__)

Status = Literal["pending", "approved", "refused", "on_site", "left"]
STATUSES: tuple[Status, ...] = ("pending", "approved", "refused", "on_site", "left")
MAX_PHOTO_BYTES = 2 * 1024 * 1024


class VisitorError(GateError):
    """A visitor action is not possible (the message says why and what to do)."""


@dataclass(frozen=True, slots=True)
class WatchEntry:
    """A person refused entry."""

    id: int
    name: str
    phone: str
    has_id: bool
    reason: str
    added_by: str
    added_at: float

    def as_dict(self) -> dict[str, Any]:
        """JSON form (never the ID hash)."""
        return {"id": self.id, "name": self.name, "phone": self.phone, "has_id": self.has_id, "reason": self.reason,
                "added_by": self.added_by, "added_at": self.added_at}


@dataclass(frozen=True, slots=True)
class Visitor:
    """One visit. ``id_masked`` is all a screen ever shows of the ID number."""

    id: int
    created_at: float
    name: str
    phone: str
    organisation: str
    purpose: str
    host: str
    id_masked: str
    has_photo: bool
    status: str
    watch_id: int | None
    registered_by: str
    decided_by: str | None
    decided_at: float | None
    decision_note: str
    signed_in_at: float | None
    signed_out_at: float | None
    watch: WatchEntry | None = field(default=None, compare=False)
    #: Why the approval message reached nobody (the guard then phones the person visited); None: sent.
    approval_error: str | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON form (masked ID only)."""
        return {"id": self.id, "created_at": self.created_at, "name": self.name, "phone": self.phone,
                "organisation": self.organisation, "purpose": self.purpose, "host": self.host,
                "id_masked": self.id_masked, "has_photo": self.has_photo, "status": self.status,
                "watch": self.watch.as_dict() if self.watch else None, "registered_by": self.registered_by,
                "decided_by": self.decided_by, "decided_at": self.decided_at, "decision_note": self.decision_note,
                "signed_in_at": self.signed_in_at, "signed_out_at": self.signed_out_at,
                "approval_error": self.approval_error}


_COLS = ("id, created_at, name, phone, organisation, purpose, host, id_masked, photo IS NOT NULL, status, watch_id,"
         " registered_by, decided_by, decided_at, decision_note, signed_in_at, signed_out_at")


def _phone(p: str) -> str:
    return "".join(ch for ch in p if ch.isdigit() or ch == "+")


def _name(n: str) -> str:
    return "".join(n.split()).casefold()


class VisitorBook:
    """Visitors and the watch list in the events database."""

    def __init__(self, db: EventsDB, clock: Clock, cipher: IdCipher | None) -> None:
        self.db = db
        self.clock = clock
        self.cipher = cipher
        #: Visitor id -> why no approval channel took the request (kept in memory; shown while pending).
        self.unsent: dict[int, str] = {}

    def _conn(self) -> sqlite3.Connection:
        return self.db.conn()

    # -- visits ------------------------------------------------------------------------------------
    def register(self, *, name: str, host: str, phone: str = "", organisation: str = "", purpose: str = "",
                 id_number: str = "", photo: bytes | None = None, by: str = "") -> Visitor:
        """Record a visitor at the gate (pending approval); the watch list is checked here."""
        if not name.strip():
            raise VisitorError("name: write the visitor's name")
        if not host.strip():
            raise VisitorError("person visited: write whom they come to see")
        number = normalise_id(id_number)
        if id_number and not 6 <= len(number) <= 32:
            raise VisitorError("ID number: 6-32 letters or digits (a resident ID card has 18)")
        if photo is not None and len(photo) > MAX_PHOTO_BYTES:
            raise VisitorError("photo: larger than {mb} MB; take a smaller one", mb=MAX_PHOTO_BYTES // 1024 // 1024)
        cipher_blob = self.cipher.encrypt(number) if (number and self.cipher is not None) else None
        watch = self.match_watch(name, phone, number)
        cur = self._conn().execute(
            "INSERT INTO gate_visitors (created_at, name, phone, organisation, purpose, host, id_masked, id_cipher,"
            " photo, status, watch_id, registered_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
            (self.clock.now(), name.strip(), phone.strip(), organisation.strip(), purpose.strip(), host.strip(),
             mask_id(number) if number else "", cipher_blob, photo, watch.id if watch else None, by))
        v = self.get(int(cur.lastrowid or 0))
        if watch is not None:
            log.warning("visitor #%d %s matches watch-list entry #%d (%s)", v.id, v.name, watch.id, watch.reason)
        return v

    def get(self, visitor_id: int) -> Visitor:
        """One visitor; VisitorError when there is none (or it was purged)."""
        row = self._conn().execute(f"SELECT {_COLS} FROM gate_visitors WHERE id = ?", (visitor_id,)).fetchone()
        if row is None:
            raise VisitorError("there is no visitor #{id} (records are deleted after the retention)", id=visitor_id)
        return self._visitor(row)

    def _visitor(self, row: tuple[Any, ...]) -> Visitor:
        watch = self.watch_entry(row[10]) if row[10] is not None else None
        unsent = self.unsent.get(row[0]) if row[9] == "pending" else None
        return Visitor(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], bool(row[8]), row[9],
                       row[10], row[11], row[12], row[13], row[14], row[15], row[16], watch=watch,
                       approval_error=unsent)

    def find(self, statuses: tuple[str, ...] | None = None, since: float | None = None,
             limit: int = 200) -> list[Visitor]:
        """Visitors, newest first, optionally of some statuses or registered since ``since``."""
        sql, params = f"SELECT {_COLS} FROM gate_visitors WHERE 1 = 1", list[Any]()
        if statuses:
            sql += f" AND status IN ({','.join('?' * len(statuses))})"
            params.extend(statuses)
        if since is not None:
            sql += " AND created_at >= ?"
            params.append(since)
        rows = self._conn().execute(sql + " ORDER BY created_at DESC, id DESC LIMIT ?", [*params, limit]).fetchall()
        return [self._visitor(r) for r in rows]

    def on_site(self) -> list[Visitor]:
        """Visitors signed in and not out, by arrival."""
        return sorted(self.find(("on_site",)), key=lambda v: (v.signed_in_at or 0, v.id))

    def photo(self, visitor_id: int) -> bytes | None:
        """The photo, if one was taken."""
        row = self._conn().execute("SELECT photo FROM gate_visitors WHERE id = ?", (visitor_id,)).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    def id_number(self, visitor_id: int) -> str | None:
        """The full ID number (encrypted storage only): for the police, never for a screen."""
        row = self._conn().execute("SELECT id_cipher FROM gate_visitors WHERE id = ?", (visitor_id,)).fetchone()
        if row is None or row[0] is None or self.cipher is None:
            return None
        return self.cipher.decrypt(bytes(row[0]))

    def decide(self, visitor_id: int, approve: bool, by: str, note: str = "") -> Visitor:
        """The person visited (or the duty leader) approves or refuses a pending visit."""
        v = self.get(visitor_id)
        if v.status != "pending":
            raise VisitorError("visitor #{id} is already {state}; nothing to decide", id=visitor_id,
                               state=state_word(v.status))
        if not by.strip():
            raise VisitorError("say who decides (the person visited or the duty leader)")
        self._conn().execute(
            "UPDATE gate_visitors SET status = ?, decided_by = ?, decided_at = ?, decision_note = ? "
            "WHERE id = ? AND status = 'pending'",
            ("approved" if approve else "refused", by.strip(), self.clock.now(), note.strip(), visitor_id))
        return self.get(visitor_id)

    def sign_in(self, visitor_id: int) -> Visitor:
        """The approved visitor enters."""
        v = self.get(visitor_id)
        if v.status != "approved":
            raise VisitorError("visitor #{id} is {state}; only an approved visitor may be signed in (ask the "
                               "person visited to approve first)", id=visitor_id, state=state_word(v.status))
        self._conn().execute("UPDATE gate_visitors SET status = 'on_site', signed_in_at = ? WHERE id = ?",
                             (self.clock.now(), visitor_id))
        return self.get(visitor_id)

    def sign_out(self, visitor_id: int) -> Visitor:
        """The visitor leaves."""
        v = self.get(visitor_id)
        if v.status != "on_site":
            raise VisitorError("visitor #{id} is {state}, not on site", id=visitor_id, state=state_word(v.status))
        self._conn().execute("UPDATE gate_visitors SET status = 'left', signed_out_at = ? WHERE id = ?",
                             (self.clock.now(), visitor_id))
        return self.get(visitor_id)

    def purge(self, retention_s: float) -> int:
        """Delete visits older than the retention that are over (left, refused, never came); returns how many.

        A visitor still on site is kept until signed out. Watch-list entries are not visits and stay.
        """
        cutoff = self.clock.now() - retention_s
        cur = self._conn().execute(
            "DELETE FROM gate_visitors WHERE status != 'on_site' AND coalesce(signed_out_at, decided_at, created_at)"
            " < ? AND created_at < ?", (cutoff, cutoff))
        n = cur.rowcount
        if n:
            log.info("purged %d visitor record(s) older than %.0f days", n, retention_s / 86400)
        return n

    # -- watch list --------------------------------------------------------------------------------
    def watch_entry(self, entry_id: int) -> WatchEntry | None:
        """One watch-list entry."""
        row = self._conn().execute("SELECT id, name, phone, id_hash != '', reason, added_by, added_at "
                                   "FROM gate_watch WHERE id = ?", (entry_id,)).fetchone()
        return WatchEntry(row[0], row[1], row[2], bool(row[3]), row[4], row[5], row[6]) if row else None

    def watch_list(self) -> list[WatchEntry]:
        """Every entry, newest first."""
        rows = self._conn().execute("SELECT id, name, phone, id_hash != '', reason, added_by, added_at "
                                    "FROM gate_watch ORDER BY added_at DESC, id DESC").fetchall()
        return [WatchEntry(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6]) for r in rows]

    def add_watch(self, name: str, reason: str, by: str, phone: str = "", id_number: str = "") -> WatchEntry:
        """Add a person to the watch list (the ID number is kept only as a keyed hash)."""
        if not name.strip():
            raise VisitorError("name: write the person's name")
        if not reason.strip():
            raise VisitorError("reason: say why this person is refused")
        number = normalise_id(id_number)
        if number and self.cipher is None:
            raise VisitorError("ID numbers can be matched only with [gate] id_numbers = \"encrypted\" (a key is "
                               "needed for the hash); give the name and phone instead")
        id_hash = self.cipher.digest(number) if (number and self.cipher is not None) else ""
        cur = self._conn().execute("INSERT INTO gate_watch (name, phone, id_hash, reason, added_by, added_at) "
                                   "VALUES (?, ?, ?, ?, ?, ?)",
                                   (name.strip(), phone.strip(), id_hash, reason.strip(), by, self.clock.now()))
        entry = self.watch_entry(int(cur.lastrowid or 0))
        assert entry is not None
        return entry

    def remove_watch(self, entry_id: int) -> None:
        """Take a person off the watch list."""
        self._conn().execute("UPDATE gate_visitors SET watch_id = NULL WHERE watch_id = ?", (entry_id,))
        self._conn().execute("DELETE FROM gate_watch WHERE id = ?", (entry_id,))

    def match_watch(self, name: str, phone: str = "", id_number: str = "") -> WatchEntry | None:
        """The watch-list entry matching this ID number, phone, or name (in that order of strength)."""
        number = normalise_id(id_number)
        rows = self._conn().execute("SELECT id, name, phone, id_hash FROM gate_watch ORDER BY id").fetchall()
        digest = self.cipher.digest(number) if (number and self.cipher is not None) else None
        for key in ("id", "phone", "name"):
            for entry_id, w_name, w_phone, w_hash in rows:
                hit = ((key == "id" and digest is not None and w_hash == digest)
                       or (key == "phone" and phone and w_phone and _phone(phone) == _phone(w_phone))
                       or (key == "name" and _name(name) and _name(name) == _name(w_name)))
                if hit:
                    return self.watch_entry(entry_id)
        return None
