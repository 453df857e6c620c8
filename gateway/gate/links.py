"""Signed, expiring approval links: ``<visitor id>.<expiry>.<HMAC-SHA256>`` with a key kept in the events DB."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

from gateway.gate.errors import GateError

Action = Literal["decide"]


class LinkError(GateError):
    """The link is malformed, forged or expired."""


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """What a valid link grants: deciding on one visitor until ``expires``."""

    visitor_id: int
    expires: int


def new_key() -> str:
    """A fresh signing key (hex)."""
    return secrets.token_hex(32)


def _mac(key: str, body: str) -> str:
    digest = hmac.new(bytes.fromhex(key), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(key: str, visitor_id: int, expires: float) -> str:
    """The token for a link letting its holder approve or refuse visitor ``visitor_id`` until ``expires``."""
    body = f"{visitor_id}.{int(expires)}"
    return f"{body}.{_mac(key, body)}"


def verify(key: str, token: str, now: float) -> LinkClaim:
    """The claim of a valid token; LinkError saying why otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise LinkError("this approval link is incomplete; open the whole link from the message")
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_mac(key, body), parts[2]):
        raise LinkError("this approval link is not valid (altered or from another installation)")
    claim = LinkClaim(int(parts[0]), int(parts[1]))
    if now > claim.expires:
        raise LinkError("this approval link has expired; phone the gate (the guard records your decision) or "
                        "decide on the dashboard")
    return claim
