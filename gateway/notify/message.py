"""What a channel delivers: one message in every form the channels need (alerts, reports and visitor
approvals each build their own; the channels never know which)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: How urgent a message looks (a Feishu card's colour): an alert's severity, ``ok`` once it is
#: acknowledged or cleared, ``info`` for reports and requests.
Tone = Literal["critical", "major", "minor", "warning", "ok", "info"]


@dataclass(frozen=True, slots=True)
class Image:
    """An image the HTML refers to by Content-ID (``cid:...``), with its PNG bytes."""

    cid: str
    png: bytes


@dataclass(frozen=True, slots=True)
class AlertState:
    """What the channels that mirror alerts (buzzer, LED, retained MQTT state) need of the alert a message is about."""

    id: int
    rule: str
    device: str
    #: What happened: ``opened``, ``escalated``, ``repeated``, ``acknowledged`` or ``resolved``.
    event: str
    #: The local alarm should sound (the alert is active and nobody acknowledged it).
    sounding: bool
    #: The alert is not cleared: its retained state stays on the broker.
    open: bool
    #: The alert's state as JSON for other systems (the retained MQTT payload).
    state: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Message:
    """One message: a title, its plain text and Markdown (both start with the title), optional HTML with its
    images (e-mail), a tone, and fields for JSON receivers.

    ``people`` False: a change only the state channels take (an acknowledgement switches the buzzer off, it
    tells nobody). ``alert``: set when the message is about an alert, for the state channels.
    """

    title: str
    text: str
    markdown: str
    html: str | None = None
    images: tuple[Image, ...] = ()
    tone: Tone = "info"
    #: Structured fields a generic JSON receiver gets beside title, text and Markdown (e.g. ``event``).
    fields: Mapping[str, Any] = field(default_factory=dict)
    people: bool = True
    alert: AlertState | None = None
    #: Send the Markdown to robots that take it even when their ``style`` is text (a report, not an alert).
    prefer_markdown: bool = False

    @property
    def about(self) -> str:
        """A short name for logs: the alert and its event, or the title."""
        return f"alert {self.alert.id} {self.alert.event}" if self.alert is not None else repr(self.title)
