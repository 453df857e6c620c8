"""The one door through which the gateway's commands leave: every ``set`` command, the card list and the
heartbeat are sealed with the site's gate command key (``gateway.signing``) before they reach the link."""

from __future__ import annotations

import json
import logging
from typing import Protocol

from gateway import contract
from gateway.clock import Clock
from gateway.signing import Signer

log = logging.getLogger(__name__)


class Publisher(Protocol):
    """The MQTT link as the gateway's features use it (``MqttLink.publish``)."""

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False,
                wait: float | None = None) -> bool:
        """Queue a message; False when it could not be queued."""
        ...


class SealingPublisher:
    """Wraps the link: JSON objects sent to a ``set`` topic, the card list or the heartbeat are signed."""

    def __init__(self, link: Publisher, signer: Signer, clock: Clock, site: str) -> None:
        self._link = link
        self._signer = signer
        self._clock = clock
        self._site = site
        self._sealed = {contract.cards_topic(site), contract.gateway_alive_topic(site)}

    def _needs_seal(self, topic: str) -> bool:
        if topic in self._sealed:
            return True
        parts = contract.parse_topic(topic)
        return parts is not None and parts.site == self._site and parts.channel == "set"

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False,
                wait: float | None = None) -> bool:
        """Publish, sealing what agents only obey when signed."""
        if self._needs_seal(topic):
            try:
                body = json.loads(payload)
            except ValueError:
                body = None
            if not isinstance(body, dict):
                log.error("not sent to %s: a command must be a JSON object to be signed (%r)", topic, payload[:100])
                return False
            payload = self._signer.seal(topic, body, self._clock.now())
        return self._link.publish(topic, payload, qos=qos, retain=retain, wait=wait)
