"""The agent's copy of the gateway's card list, so card reads are still decided (and the lock released)
when the gateway is unreachable; the events are spooled and sent later like any other.

The gateway publishes the list retained on ``contract.cards_topic``; the agent keeps the last one in
``<state_dir>/cards.json`` so a restart during an outage still has it. Card numbers appear only as keyed
hashes, and the list is signed with the site's gate command key (``gateway.signing``): a list that is unsigned,
altered or older than the one held is refused, so nobody can slip their own card in.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.contract import cards_topic
from gateway.gate.card_rules import CardRule, decide, uid_digest
from gateway.signing import SignatureError, Verifier

log = logging.getLogger(__name__)

CACHE_NAME = "cards.json"


@dataclass(frozen=True, slots=True)
class LocalDecision:
    """The agent's decision on a card read from its cached list."""

    accepted: bool
    reason: str
    relay: str | None
    seconds: float


class CardCache:
    """The last signed card list received, persisted (thread-safe)."""

    def __init__(self, site: str, path: Path, key: bytes) -> None:
        self.site = site
        self.path = path
        self._key = key
        self._verifier = Verifier(key)
        self._lock = threading.Lock()
        self._list: dict[str, Any] | None = None
        try:
            self._list = self._parse(path.read_bytes())
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as e:  # SignatureError too: a changed file or a new site key
            log.error("card list cache %s cannot be used (%s); waiting for the gateway to send it again", path, e)

    def _parse(self, payload: bytes) -> dict[str, Any]:
        body = self._verifier.check(cards_topic(self.site), payload)
        if not isinstance(body.get("cards"), dict) or not isinstance(body.get("readers"), dict):
            raise ValueError("not a card list (needs \"cards\" and \"readers\" objects)")
        ZoneInfo(str(body.get("timezone", "UTC")))
        return body

    @property
    def loaded(self) -> bool:
        """Whether a list is known."""
        with self._lock:
            return self._list is not None

    def update(self, payload: bytes) -> bool:
        """Take a new list from the gateway and save it atomically; False (logged) when it is not one.

        Raises SignatureError when it is unsigned, altered or older than the list held (a replay).
        """
        try:
            body = self._parse(payload)
        except SignatureError:
            raise
        except (ValueError, ZoneInfoNotFoundError) as e:
            log.error("ignored a card list from the gateway: %s", e)
            return False
        with self._lock:
            held = self._list
        if held is not None and float(body["ts"]) < float(held["ts"]):
            raise SignatureError("replayed", "it is older than the card list held (a replay of an old list)")
        tmp = self.path.with_suffix(".tmp")
        try:
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:  # hashes: ours
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as e:  # keep deciding on the new list in memory; say why it will not survive a restart
            log.error("card list cache %s could not be saved: %s", self.path, e)
        with self._lock:
            self._list = body
        log.info("card list %s received: %d card(s)", body.get("version"), len(body["cards"]))
        return True

    def decide(self, reader: str, uid: str, ts: float) -> LocalDecision | None:
        """Decide a read at ``reader`` on the cached list (None when no list is known yet)."""
        with self._lock:
            body = self._list
        if body is None:
            return None
        entry = body["cards"].get(uid_digest(self._key, self.site, uid))
        rule = CardRule.from_dict(entry) if isinstance(entry, dict) else None
        accepted, reason = decide(rule, ts, ZoneInfo(str(body.get("timezone", "UTC"))))
        relay = body["readers"].get(reader)
        return LocalDecision(accepted, reason, relay if isinstance(relay, str) else None,
                             float(body.get("relay_seconds", 3.0)))
