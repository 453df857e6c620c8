"""Buzzer / LED channel: ``{"buzzer": "on"}`` / ``{"buzzer": "off"}`` to the agent's ``set`` topic.

The broker is local to the site, so the local alarm sounds even when the internet is down. One
output can serve several alerts: it is switched off only when none of them still needs it.
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
        self._lock = threading.Lock()

    def deliver(self, notice: Notice) -> None:
        """On for an active alert, off once no alert needs it any more."""
        with self._lock:
            if notice.event in ("acknowledged", "resolved"):
                self._sounding.discard(notice.alert.id)
            else:
                self._sounding.add(notice.alert.id)
            state = "on" if self._sounding else "off"
        payload = json.dumps({self.output: state})
        if not self._publisher.publish(self.topic, payload, qos=1, retain=False, wait=5.0):
            raise DeliveryError(f"{self.name}: the broker did not take the {self.output} command on {self.topic}")
