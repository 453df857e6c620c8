"""The agent's copy of the gateway's card list, so card reads are still decided (and the lock released)
when the gateway is unreachable; the events are spooled and sent later like any other.

The gateway publishes the list retained on ``contract.cards_topic``; the agent keeps the last one in
``<state_dir>/cards.json`` so a restart during an outage still has it. Card numbers appear only hashed.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.contract import OFFLINE, ONLINE
from gateway.gate.card_rules import CardRule, decide, uid_digest

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
    """The last card list received, persisted; and whether the gateway said it is online (thread-safe)."""

    def __init__(self, site: str, path: Path) -> None:
        self.site = site
        self.path = path
        self._lock = threading.Lock()
        self._list: dict[str, Any] | None = None
        self._gateway_online: bool | None = None
        try:
            self._list = self._parse(path.read_bytes())
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as e:
            log.error("card list cache %s cannot be used (%s); waiting for the gateway to send it again", path, e)

    @staticmethod
    def _parse(payload: bytes) -> dict[str, Any]:
        body = json.loads(payload)
        if not isinstance(body, dict) or not isinstance(body.get("cards"), dict) or \
                not isinstance(body.get("readers"), dict):
            raise ValueError("not a card list (needs \"cards\" and \"readers\" objects)")
        ZoneInfo(str(body.get("timezone", "UTC")))
        return body

    @property
    def loaded(self) -> bool:
        """Whether a list is known."""
        with self._lock:
            return self._list is not None

    def update(self, payload: bytes) -> bool:
        """Take a new list from the gateway and save it atomically; False (logged) when it is not one."""
        try:
            body = self._parse(payload)
        except (ValueError, ZoneInfoNotFoundError) as e:
            log.error("ignored a card list from the gateway: %s", e)
            return False
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

    def gateway_status(self, payload: bytes) -> None:
        """The gateway's retained availability (``online``/``offline``, its last will)."""
        text = payload.decode("utf-8", "replace").strip()
        with self._lock:
            self._gateway_online = True if text == ONLINE else False if text == OFFLINE else None

    @property
    def gateway_online(self) -> bool | None:
        """What the gateway last said (None: never heard)."""
        with self._lock:
            return self._gateway_online

    def decide(self, reader: str, uid: str, ts: float) -> LocalDecision | None:
        """Decide a read at ``reader`` on the cached list (None when no list is known yet)."""
        with self._lock:
            body = self._list
        if body is None:
            return None
        entry = body["cards"].get(uid_digest(self.site, uid))
        rule = CardRule.from_dict(entry) if isinstance(entry, dict) else None
        accepted, reason = decide(rule, ts, ZoneInfo(str(body.get("timezone", "UTC"))))
        relay = body["readers"].get(reader)
        return LocalDecision(accepted, reason, relay if isinstance(relay, str) else None,
                             float(body.get("relay_seconds", 3.0)))
