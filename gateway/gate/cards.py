"""The card registry: cards in the events database, added, changed and disabled by admins.

The access decision itself (``decide``, ``CardRule``) lives in ``gateway.gate.card_rules``, which the agent
imports for its cached list without the database or the translations.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from gateway.clock import Clock
from gateway.eventsdb import EventsDB
from gateway.gate.card_rules import CardRule, normalise_uid, uid_digest
from gateway.gate.errors import GateError
from gateway.values import parse_window

CardKind = Literal["staff", "guard", "contractor"]
CARD_KINDS: tuple[CardKind, ...] = ("staff", "guard", "contractor")


class CardError(GateError):
    """A card entry is not valid (the message names the field and the fix)."""


@dataclass(frozen=True, slots=True)
class Card:
    """One registered card."""

    id: int
    uid: str
    holder: str
    kind: str
    rule: CardRule
    note: str
    updated_at: float

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the API."""
        return {"id": self.id, "uid": self.uid, "holder": self.holder, "kind": self.kind, **self.rule.as_dict(),
                "note": self.note, "updated_at": self.updated_at}


def _check(kind: str, days: str, hours: str, valid_from: str | None, valid_until: str | None) -> str:
    if kind not in CARD_KINDS:
        raise CardError("card kind {kind!r}: use one of {kinds}", kind=kind, kinds=", ".join(CARD_KINDS))
    clean = "".join(sorted({c for c in days if c in "1234567"}))
    if not clean or len(clean) != len({c for c in days if not c.isspace() and c != ","}):
        raise CardError("days {days!r}: list ISO weekdays 1 (Monday) to 7 (Sunday), e.g. \"12345\"", days=days)
    if hours:
        try:
            parse_window(hours, cross_midnight=True)
        except ValueError as e:
            raise CardError("hours {hours!r}: write them as \"HH:MM-HH:MM\", e.g. \"07:00-18:00\" ({why})",
                            hours=hours, why=e) from None
    for name, v in (("valid_from", valid_from), ("valid_until", valid_until)):
        if v:
            try:
                date.fromisoformat(v)
            except ValueError:
                raise CardError("{field} {value!r}: write the date as YYYY-MM-DD", field=name, value=v) from None
    if valid_from and valid_until and valid_until < valid_from:
        raise CardError("valid_until is before valid_from")
    return clean


_COLS = "id, uid, holder, kind, days, hours, valid_from, valid_until, disabled, note, updated_at"


def _card(row: tuple[Any, ...]) -> Card:
    return Card(row[0], row[1], row[2], row[3], CardRule(row[4], row[5], row[6], row[7], bool(row[8])), row[9],
                row[10])


class CardRegistry:
    """Cards in the events database: added, changed, disabled by admins; looked up per read."""

    def __init__(self, db: EventsDB, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def _conn(self) -> sqlite3.Connection:
        return self.db.conn()

    def add(self, uid: str, holder: str, kind: str = "staff", *, days: str = "1234567", hours: str = "",
            valid_from: str | None = None, valid_until: str | None = None, note: str = "") -> Card:
        """Register a card; CardError when the number is taken or a field is wrong."""
        n = normalise_uid(uid)
        if not n or len(n) > 32:
            raise CardError("card number {uid!r}: 1-32 letters or digits, as the reader shows it", uid=uid)
        if not holder.strip():
            raise CardError("holder: give the name of the person holding the card")
        clean = _check(kind, days, hours, valid_from or None, valid_until or None)
        try:
            cur = self._conn().execute(
                "INSERT INTO gate_cards (uid, holder, kind, days, hours, valid_from, valid_until, note, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (n, holder.strip(), kind, clean, hours.strip(), valid_from or None, valid_until or None, note,
                 self.clock.now()))
        except sqlite3.IntegrityError:
            raise CardError("card {uid} is already registered; change that entry instead", uid=n) from None
        return self.get(int(cur.lastrowid or 0))

    def update(self, card_id: int, **fields: Any) -> Card:
        """Change fields (holder, kind, days, hours, valid_from, valid_until, disabled, note)."""
        card = self.get(card_id)
        allowed = {"holder", "kind", "days", "hours", "valid_from", "valid_until", "disabled", "note"}
        unknown = set(fields) - allowed
        if unknown:
            raise CardError("unknown field(s) {fields}; change {allowed}", fields=sorted(unknown),
                            allowed=", ".join(sorted(allowed)))
        r = card.rule
        merged: dict[str, Any] = {"holder": card.holder, "kind": card.kind, "days": r.days, "hours": r.hours,
                                  "valid_from": r.valid_from, "valid_until": r.valid_until,
                                  "disabled": r.disabled, "note": card.note}
        merged.update({k: v for k, v in fields.items() if v is not None})
        merged["valid_from"] = merged["valid_from"] or None
        merged["valid_until"] = merged["valid_until"] or None
        merged["days"] = _check(merged["kind"], merged["days"], merged["hours"], merged["valid_from"],
                                merged["valid_until"])
        self._conn().execute(
            "UPDATE gate_cards SET holder = ?, kind = ?, days = ?, hours = ?, valid_from = ?, valid_until = ?,"
            " disabled = ?, note = ?, updated_at = ? WHERE id = ?",
            (merged["holder"], merged["kind"], merged["days"], merged["hours"], merged["valid_from"],
             merged["valid_until"], int(bool(merged["disabled"])), merged["note"], self.clock.now(), card_id))
        return self.get(card_id)

    def delete(self, card_id: int) -> None:
        """Remove a card (its past reads stay in the access log)."""
        self.get(card_id)
        self._conn().execute("DELETE FROM gate_cards WHERE id = ?", (card_id,))
        self._touch()

    def _touch(self) -> None:
        self._conn().execute("INSERT INTO gate_state (key, value) VALUES ('cards_changed', ?) "
                             "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (repr(self.clock.now()),))

    def get(self, card_id: int) -> Card:
        """One card; CardError when there is none."""
        row = self._conn().execute(f"SELECT {_COLS} FROM gate_cards WHERE id = ?", (card_id,)).fetchone()
        if row is None:
            raise CardError("there is no card #{id}", id=card_id)
        return _card(row)

    def by_uid(self, uid: str) -> Card | None:
        """The card with this number, if registered."""
        row = self._conn().execute(f"SELECT {_COLS} FROM gate_cards WHERE uid = ?", (normalise_uid(uid),)).fetchone()
        return _card(row) if row else None

    def all(self) -> list[Card]:
        """Every card, by holder."""
        return [_card(r) for r in self._conn().execute(f"SELECT {_COLS} FROM gate_cards ORDER BY holder, uid")]

    def version(self) -> str:
        """Changes whenever a card is added, changed or removed (by any process)."""
        row = self._conn().execute(
            "SELECT count(*), coalesce(max(updated_at), 0), "
            "(SELECT value FROM gate_state WHERE key = 'cards_changed') FROM gate_cards").fetchone()
        return f"{row[0]}:{row[1]!r}:{row[2]}"

    def cached_list(self, site: str, key: bytes) -> dict[str, Any]:
        """The list the agent caches: keyed hashes of numbers -> rule (holder and kind for the offline log)."""
        return {uid_digest(key, site, c.uid): {**c.rule.as_dict(), "kind": c.kind} for c in self.all()}
