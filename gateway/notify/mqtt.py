"""MQTT channel: retained JSON state of each open alert on ``houqin/{site}/alerts/{rule}/{device}``.

A cleared alert publishes an empty retained payload there, which deletes the retained state, so a
subscriber sees exactly the open alerts (and an empty message when one clears).
"""

from __future__ import annotations

import json

from gateway.contract import alerts_topic
from gateway.notify.channel import ALL_EVENTS, DeliveryError, Publisher
from gateway.notify.config import MqttChannel
from gateway.notify.messages import Notice


def alert_state_payload(notice: Notice) -> bytes:
    """The retained JSON state of an open alert."""
    a = notice.alert
    body = {"id": a.id, "rule": a.rule, "device": a.device, "severity": a.severity, "state": a.state,
            "value": a.value, "since": a.since, "opened_at": a.opened_at, "acked_by": a.acked_by,
            "event": notice.event, "text": notice.text}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


class MqttAlertChannel:
    """Publishes alert state for other systems (Home Assistant, a BMS)."""

    events = ALL_EVENTS

    def __init__(self, name: str, settings: MqttChannel, site: str, publisher: Publisher) -> None:
        self.name = name
        self.site = site
        self.retain = settings.retain
        self._publisher = publisher

    def deliver(self, notice: Notice) -> None:
        """Publish the state, or the empty retained payload when resolved."""
        topic = alerts_topic(self.site, notice.alert.rule, notice.alert.device)
        payload = b"" if notice.event == "resolved" else alert_state_payload(notice)
        if not self._publisher.publish(topic, payload, qos=1, retain=self.retain, wait=5.0):
            raise DeliveryError(f"{self.name}: the broker did not take the alert state on {topic}")
