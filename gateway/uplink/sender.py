"""Alert transitions and status to the central broker: a durable outbox, QoS 1, one at a time, in order.

The messages wait in ``uplink-mqtt.db`` (the InfluxDB backend's ``Outbox``: a bounded FIFO in SQLite that
counts its drops; here a row's ``line`` is the message and its ``device`` the topic) and the InfluxDB
backend's ``Forwarder`` moves them, with its backoff. A message leaves the outbox only after the central
broker acknowledged it (PUBACK); the next is sent only then, so they arrive in order. A broker bridge is not
used: Debian bookworm's Mosquitto 2.0.11 can lose a bridge's queue on restart (fixed in 2.0.15).
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Sequence
from pathlib import Path

from gateway import contract
from gateway.clock import Clock
from gateway.mqtt_link import ConnectionChange, LinkSettings, MqttLink, Will
from gateway.store.influx import Forwarder
from gateway.store.outbox import Outbox, OutboxCounts, OutboxRow, QueuedPoint, SendResult
from gateway.uplink.messages import Outgoing
from gateway.uplink.settings import CentralBrokerSettings

log = logging.getLogger(__name__)

#: The central broker's outbox, in ``[storage] dir``.
MQTT_OUTBOX_NAME = "uplink-mqtt.db"
#: Retry delays while the central broker is away (a reconnect sends at once).
BACKOFF_INITIAL_S = 1.0
BACKOFF_MAX_S = 60.0


def central_link_settings(broker: CentralBrokerSettings, site: str) -> LinkSettings:
    """The uplink's own MQTT link: the site's login, TLS with the district's CA, a session kept across restarts."""
    user, password = broker.login()
    return LinkSettings(host=broker.host, port=broker.port, client_id=broker.client_id or f"houqin-uplink-{site}",
                        protocol="5", tls=broker.tls, username=user, password=password, ca_file=broker.ca_file,
                        keepalive=broker.keepalive, persistent=True, manual_ack=False,
                        reconnect_max_s=broker.reconnect_max)


def _encode(msg: Outgoing) -> str:
    return json.dumps({"t": msg.topic, "p": msg.payload.decode(), "r": msg.retain}, ensure_ascii=False)


def _decode(line: str) -> Outgoing:
    doc = json.loads(line)
    return Outgoing(str(doc["t"]), str(doc["p"]).encode(), bool(doc["r"]))


class MessageUplink:
    """Queues messages durably and publishes them to the central broker in order, deleting each on its PUBACK."""

    def __init__(self, broker: CentralBrokerSettings, site: str, path: Path, clock: Clock, *, max_messages: int,
                 ack_timeout: float, rng: random.Random | None = None) -> None:
        self._clock = clock
        self._ack_timeout = ack_timeout
        self.outbox = Outbox(path, max_points=max_messages, clock=clock, sync_every_commit=True)
        availability = contract.gateway_availability_topic(site)
        self.link = MqttLink(central_link_settings(broker, site), on_connection=self._on_connection,
                             will=Will(availability, contract.OFFLINE.encode()),
                             birth=Will(availability, contract.ONLINE.encode()))
        self.forwarder = Forwarder(self.outbox, self._publish, clock, batch_size=1, backoff_initial=BACKOFF_INITIAL_S,
                                   backoff_max=BACKOFF_MAX_S, rng=rng or random.Random(), on_reject=self._refused,
                                   on_change=self._save_state, target="the central broker")
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def put(self, messages: Sequence[Outgoing], keys: Sequence[str] = ()) -> int:
        """Queue messages durably with the ``keys`` naming them (committed on return) and wake the sender; returns
        how many old ones were dropped."""
        now_ms = int(self._clock.now() * 1000)
        dropped = self.outbox.put([QueuedPoint(_encode(m), m.topic, now_ms) for m in messages], keys=keys)
        if dropped:
            log.warning("uplink outbox full (%d messages): dropped the %d oldest", self.outbox.max_points, dropped)
        self._wake.set()
        return dropped

    def _publish(self, lines: Sequence[str]) -> SendResult:
        for line in lines:  # one (batch_size=1): the next waits for this one's PUBACK
            msg = _decode(line)
            if not self.link.connected:
                return SendResult(0, "not connected to the central broker")
            if not self.link.publish(msg.topic, msg.payload, qos=1, retain=msg.retain, wait=self._ack_timeout):
                return SendResult(0, f"no acknowledgement from the central broker within {self._ack_timeout:g} s")
        return SendResult(204)

    def _refused(self, row: OutboxRow, res: SendResult) -> None:  # never called: MQTT has no "bad point" status
        self.outbox.reject(row, res.status, res.detail, keep=True)

    def _save_state(self) -> None:
        f = self.forwarder
        self.outbox.set_state(last_error=f.last_error, last_error_at=str(f.last_error_at or ""),
                              last_success_at=str(f.last_success_at or ""))

    def _on_connection(self, change: ConnectionChange) -> None:
        if change.connected:
            self.forwarder.next_attempt = 0.0  # connected again: send now, not after the backoff
            self._wake.set()

    def counts(self) -> OutboxCounts:
        """Depth, oldest unsent message, drops and sent."""
        return self.outbox.counts()

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Connect to the central broker and start sending."""
        self._stop.clear()
        self.link.start()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="houqin-uplink-mqtt", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                delay = self.forwarder.pump()
            except Exception:  # a bug or a broken outbox must not end the sending silently
                log.exception("uplink sender failed; trying again")
                delay = BACKOFF_MAX_S
            self._wake.wait(max(0.0, delay))
            self._wake.clear()

    def kick(self) -> None:
        """Send now (after a test moved the clock)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop sending and disconnect; what is unsent stays in the outbox for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self._ack_timeout + 5)
            self._thread = None
        self.link.stop()
        self.outbox.close()
