"""Turn ``[notify.channels]`` settings into channel objects."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.notify.channel import Channel, Publisher
from gateway.notify.config import ChannelSettings, EmailChannel, MqttChannel, OutputChannel, WebhookChannel
from gateway.notify.email import EmailDelivery
from gateway.notify.mqtt import MqttAlertChannel
from gateway.notify.output import OutputCommandChannel
from gateway.notify.webhook import WebhookDelivery


def build_channels(settings: Mapping[str, ChannelSettings], site: str,
                   publisher: Publisher | None) -> dict[str, Channel]:
    """One channel object per configured channel; MQTT-based ones need ``publisher`` (the link)."""
    out: dict[str, Channel] = {}
    for name, s in settings.items():
        if isinstance(s, OutputChannel | MqttChannel) and publisher is None:
            raise ValueError(f"channel {name!r} ({s.type}) needs the MQTT link")
        if isinstance(s, OutputChannel):
            assert publisher is not None
            out[name] = OutputCommandChannel(name, s, site, publisher)
        elif isinstance(s, MqttChannel):
            assert publisher is not None
            out[name] = MqttAlertChannel(name, s, site, publisher)
        elif isinstance(s, WebhookChannel | EmailChannel):
            out.update(message_channels({name: s}))
    return out


def message_channels(settings: Mapping[str, ChannelSettings]) -> dict[str, Channel]:
    """The channels that carry messages for people (webhooks, e-mail), which need no MQTT link: what reports
    and visitor approvals send through when they are not handed the gateway's channels."""
    out: dict[str, Channel] = {}
    for name, s in settings.items():
        if isinstance(s, WebhookChannel):
            out[name] = WebhookDelivery(name, s)
        elif isinstance(s, EmailChannel):
            out[name] = EmailDelivery(name, s)
    return out
