"""Sending one message to named channels at once, for reports and visitor approvals: no queue, no retry
(the caller decides when to try again)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from gateway.notify.channel import Channel
from gateway.notify.message import Message

log = logging.getLogger(__name__)


def send_now(channels: Mapping[str, Channel], names: Iterable[str], message: Message) -> dict[str, str | None]:
    """Send ``message`` to each channel named; returns channel -> None (sent) or the error.

    Buzzer, LED and MQTT channels carry alerts only: they refuse other messages with an error saying so.
    """
    out: dict[str, str | None] = {}
    for name in names:
        channel = channels.get(name)
        if channel is None:
            out[name] = f"{name}: no such channel in [notify.channels]"
        else:
            out[name] = channel.send(message).error
        if out[name] is not None:  # one channel failing never stops the others
            log.warning("sending %s to %s failed: %s", message.about, name, out[name])
    return out


def nobody_reached(results: Mapping[str, str | None]) -> bool:
    """Whether ``send_now`` had channels to try and every one of them failed."""
    return bool(results) and all(err is not None for err in results.values())
