"""One small MQTT connection per device, holding that device's last will (``availability`` = offline).

MQTT gives a connection a single will, but the agent speaks for many devices; if the agent dies, each
of them must go offline. So every device gets its own will-only connection (no subscriptions, nothing
sent through it), and the broker marks exactly the agent's devices offline when the Pi or the agent
stops without saying goodbye. ``online`` is published through the agent's main link each time a will
connection is (re)established, which is after the broker has fired any will left from before.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from gateway.contract import OFFLINE, availability_topic
from gateway.mqtt_link import ConnectionChange, LinkSettings, MqttLink, Will

log = logging.getLogger(__name__)

#: Longest client id we build (MQTT 3.1.1 brokers must accept 23; Mosquitto accepts far more).
MAX_CLIENT_ID = 64


def will_client_id(base: str, device: str) -> str:
    """``<base>-<device>``, shortened with a hash when too long so ids stay unique."""
    cid = f"{base}-{device}"
    if len(cid) <= MAX_CLIENT_ID:
        return cid
    digest = hashlib.sha1(cid.encode()).hexdigest()[:10]
    return f"{cid[:MAX_CLIENT_ID - 11]}-{digest}"


class DeviceWills:
    """Will-only links for ``devices``; ``on_up(device)`` is called each time one (re)connects."""

    def __init__(self, settings: LinkSettings, site: str, devices: Sequence[str],
                 on_up: Callable[[str], None]) -> None:
        self._links: dict[str, MqttLink] = {}
        for device in devices:
            link_settings = replace(settings, client_id=will_client_id(settings.client_id, device),
                                    persistent=False, manual_ack=False, quiet=True)
            self._links[device] = MqttLink(
                link_settings,
                on_connection=self._handler(device, on_up),
                will=Will(availability_topic(site, device), OFFLINE.encode()),
            )

    @staticmethod
    def _handler(device: str, on_up: Callable[[str], None]) -> Callable[[ConnectionChange], None]:
        def handle(change: ConnectionChange) -> None:
            if change.connected:
                on_up(device)
        return handle

    @property
    def devices(self) -> list[str]:
        """Devices that have a will."""
        return list(self._links)

    def start(self) -> None:
        """Connect every will link (in the background; each reconnects by itself)."""
        for link in self._links.values():
            link.start()

    def stop(self) -> None:
        """Disconnect cleanly: the broker discards the wills (the agent says offline itself)."""
        for link in self._links.values():
            try:
                link.stop()
            except Exception:
                log.exception("stopping a will link failed")
