"""The access decision on a card read: a card's rule (days, hours, validity) and ``decide``.

``decide`` is pure (card rule, time, zone -> accepted and why), so the agent deciding offline on its cached
list and the gateway deciding online apply exactly the same rule. This module imports nothing that runs
(no database, no translations): the agent on the Pi imports it. The cached list carries keyed hashes of card
numbers, not the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from gateway.signing import card_digest
from gateway.values import parse_window

Reason = Literal["accepted", "unknown", "disabled", "out_of_hours", "expired", "late", "refused", "forged"]


@dataclass(frozen=True, slots=True)
class CardRule:
    """What decides a card: days, hours, validity dates, disabled. Also the agent's cached form."""

    days: str = "1234567"
    hours: str = ""
    valid_from: str | None = None
    valid_until: str | None = None
    disabled: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON form (the cached card list)."""
        return {"days": self.days, "hours": self.hours, "valid_from": self.valid_from,
                "valid_until": self.valid_until, "disabled": self.disabled}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CardRule:
        """From ``as_dict`` output."""
        return cls(str(d.get("days", "1234567")), str(d.get("hours", "")), d.get("valid_from"),
                   d.get("valid_until"), bool(d.get("disabled", False)))


def normalise_uid(uid: str) -> str:
    """Card number as readers send it: letters and digits, upper case."""
    return "".join(ch for ch in uid if ch.isalnum()).upper()


def uid_digest(key: bytes, site: str, uid: str) -> str:
    """Keyed hash of a card number as it appears in the agent's cached list (the broker never carries numbers,
    and without the site's key nobody can compute the digest of their own card)."""
    return card_digest(key, site, normalise_uid(uid))


def decide(rule: CardRule | None, ts: float, tz: ZoneInfo) -> tuple[bool, Reason]:
    """Accept or refuse a card read at ``ts``: unknown, disabled, expired, out of hours, or accepted."""
    if rule is None:
        return False, "unknown"
    if rule.disabled:
        return False, "disabled"
    local = datetime.fromtimestamp(ts, tz)
    hours = parse_window(rule.hours, cross_midnight=True) if rule.hours else None
    # A read after midnight in hours that run past it (night shift 20:00-08:00) belongs to the shift that
    # began the evening before: its weekday and its validity decide.
    shift = local.date() - timedelta(days=1) if hours and hours.after_midnight(local.time()) else local.date()
    day = shift.isoformat()
    if (rule.valid_from and day < rule.valid_from) or (rule.valid_until and day > rule.valid_until):
        return False, "expired"
    if str(shift.isoweekday()) not in rule.days:
        return False, "out_of_hours"
    if hours and not hours.contains(local.time()):
        return False, "out_of_hours"
    return True, "accepted"
