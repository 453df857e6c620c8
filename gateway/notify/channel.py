"""What every notification channel is: a name, the events it wants, and ``deliver``."""

from __future__ import annotations

from typing import Protocol

from gateway.errors import HouqinError
from gateway.notify.messages import Notice, NoticeEvent

#: Events that tell people something (acknowledgements only change state channels like the buzzer).
PEOPLE_EVENTS: frozenset[NoticeEvent] = frozenset({"opened", "escalated", "repeated", "resolved"})
ALL_EVENTS: frozenset[NoticeEvent] = PEOPLE_EVENTS | {"acknowledged"}


class DeliveryError(HouqinError, ConnectionError):
    """A message could not be delivered (it will be retried with backoff)."""


class Channel(Protocol):
    """A place notifications go."""

    name: str
    events: frozenset[NoticeEvent]

    def deliver(self, notice: Notice) -> None:
        """Deliver one notice or raise DeliveryError (any other exception counts as a failure too)."""
        ...


class Publisher(Protocol):
    """What MQTT channels need from the link (``MqttLink.publish``)."""

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False,
                wait: float | None = None) -> bool:
        """Publish; False when not queued or not acknowledged in time."""
        ...
