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
from gateway.notify.channel import ALL_EVENTS, DeliveryError, Publisher
from gateway.notify.config import OutputChannel
from gateway.notify.messages import Notice


class OutputCommandChannel:
    """Switches a buzzer or LED output of an agent device."""

    events = ALL_EVENTS

    def __init__(self, name: str, settings: OutputChannel, site: str, publisher: Publisher) -> None:
        self.name = name
        self.topic = set_topic(site, settings.device)
        self.output = settings.output or settings.type
        self._publisher = publisher
        self._sounding: set[int] = set()
        self._said_since_refresh = False
        self._lock = threading.Lock()

    def deliver(self, notice: Notice) -> None:
        """On for an active alert, off once no alert needs it any more."""
        with self._lock:
            if notice.event in ("acknowledged", "resolved"):
                self._sounding.discard(notice.alert.id)
            else:
                self._sounding.add(notice.alert.id)
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
