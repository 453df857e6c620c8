"""What every notification channel is: a name, whether it mirrors alert state, and ``send(message)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from gateway.errors import HouqinError
from gateway.notify.message import Message


class DeliveryError(HouqinError, ConnectionError):
    """A message could not be delivered (it will be retried with backoff)."""


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """How one message went to one channel: sent, or the error that stopped it."""

    channel: str
    error: str | None = None

    @property
    def sent(self) -> bool:
        """Whether the channel took the message."""
        return self.error is None


def attempt(channel: str, deliver: Callable[[Message], object], message: Message) -> DeliveryResult:
    """Run one delivery; any exception is a failed delivery (its text the error), never a crash."""
    try:
        deliver(message)
    except Exception as e:
        return DeliveryResult(channel, str(e) or type(e).__name__)
    return DeliveryResult(channel)


class Channel(Protocol):
    """A place messages go."""

    name: str
    #: Buzzer, LED and MQTT state: they follow the alert a message is about (acknowledgements included) and
    #: carry nothing else.
    mirrors_alerts: bool

    def send(self, message: Message) -> DeliveryResult:
        """Deliver one message once; the result says whether it went (never raises for a failed delivery)."""
        ...


class Publisher(Protocol):
    """What MQTT channels need from the link (``MqttLink.publish``)."""

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False,
                wait: float | None = None) -> bool:
        """Publish; False when not queued or not acknowledged in time."""
        ...
