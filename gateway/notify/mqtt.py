"""MQTT channel: retained JSON state of each open alert on ``houqin/{site}/alerts/{rule}/{device}``.

A cleared alert publishes an empty retained payload there, which deletes the retained state, so a
subscriber sees exactly the open alerts (and an empty message when one clears).
"""

from __future__ import annotations

import json

from gateway.contract import alerts_topic
from gateway.notify.channel import DeliveryError, DeliveryResult, Publisher, attempt
from gateway.notify.config import MqttChannel
from gateway.notify.message import Message


class MqttAlertChannel:
    """Publishes alert state for other systems (Home Assistant, a BMS)."""

    mirrors_alerts = True

    def __init__(self, name: str, settings: MqttChannel, site: str, publisher: Publisher) -> None:
        self.name = name
        self.site = site
        self.retain = settings.retain
        self._publisher = publisher

    def send(self, message: Message) -> DeliveryResult:
        """Publish the alert's state, or the empty retained payload once it cleared."""
        return attempt(self.name, self._publish, message)

    def _publish(self, message: Message) -> None:
        a = message.alert
        if a is None:
            raise DeliveryError(f"{self.name}: an mqtt channel carries alert state only; use a webhook or e-mail")
        topic = alerts_topic(self.site, a.rule, a.device)
        payload = json.dumps(a.state, ensure_ascii=False, separators=(",", ":")).encode() if a.open else b""
        if not self._publisher.publish(topic, payload, qos=1, retain=self.retain, wait=5.0):
            raise DeliveryError(f"{self.name}: the broker did not take the alert state on {topic}")
