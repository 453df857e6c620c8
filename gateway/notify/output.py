"""Buzzer / LED channel: ``{"buzzer": "on"}`` / ``{"buzzer": "off"}`` to the agent's ``set`` topic.

The broker is local to the site, so the local alarm sounds even when the internet is down. One
output can serve several alerts: it is switched off only when none of them still needs it. While one
does, the escalator's tick says "on" again every ``OUTPUT_REFRESH_S``: the agent caps every output at
its ``max_seconds``.
"""

from __future__ import annotations

import json
import threading

from gateway.contract import set_topic
from gateway.notify.channel import DeliveryError, DeliveryResult, Publisher, attempt
from gateway.notify.config import OutputChannel
from gateway.notify.message import Message


class OutputCommandChannel:
    """Switches a buzzer or LED output of an agent device."""

    mirrors_alerts = True

    def __init__(self, name: str, settings: OutputChannel, site: str, publisher: Publisher) -> None:
        self.name = name
        self.topic = set_topic(site, settings.device)
        self.output = settings.output or settings.type
        self._publisher = publisher
        self._sounding: set[int] = set()
        self._said_since_refresh = False
        self._lock = threading.Lock()

    def send(self, message: Message) -> DeliveryResult:
        """On while an alert sounds, off once no alert needs it any more."""
        return attempt(self.name, self._switch, message)

    def _switch(self, message: Message) -> None:
        a = message.alert
        if a is None:
            raise DeliveryError(f"{self.name}: a {self.output} channel carries alerts only; use a webhook or e-mail")
        with self._lock:
            if a.sounding:
                self._sounding.add(a.id)
            else:
                self._sounding.discard(a.id)
            # Queued under the lock, so a refresh's "on" can never overtake this "off" on the wire.
            queued = self._publisher.publish(self.topic, self._command(), qos=1, retain=False)
            self._said_since_refresh = True
        if not queued:
            raise DeliveryError(f"{self.name}: the broker did not take the {self.output} command on {self.topic}")

    def refresh(self) -> bool:
        """Say "on" again while an alert needs it (the agent switches an output off after its ``max_seconds``,
        600 s by default, so a buzzer keeps sounding until the alert is acknowledged or cleared)."""
        with self._lock:
            if self._said_since_refresh:  # a command went out within the last interval: nothing to repeat yet
                self._said_since_refresh = False
                return False
            if not self._sounding:
                return False
            return self._publisher.publish(self.topic, self._command(), qos=1, retain=False)

    def _command(self) -> str:
        return json.dumps({self.output: "on" if self._sounding else "off"})
