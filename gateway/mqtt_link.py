"""The MQTT link: the one module that imports paho. Every callback is wired here into typed events."""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from gateway.errors import LinkError

log = logging.getLogger(__name__)

#: How long the broker keeps our session (and queues QoS 1 messages) while we are away (MQTT 5).
SESSION_EXPIRY_S = 7 * 24 * 3600
#: Unacknowledged QoS 1 messages the broker may have in flight to us: MQTT 5's receive maximum we ask for, and the
#: broker's max_inflight_messages that ``houqin mqtt setup`` writes for MQTT 3.1.1. Ingest commits a window once it
#: holds this many (the broker sends no more until they are acknowledged).
RECEIVE_MAXIMUM = 1000


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT topic matching with ``+`` (one level) and ``#`` (this level and below): paho's own matcher.

    ``$``-topics (``$SYS/...``) match no filter that starts with a wildcard.
    """
    return paho.topic_matches_sub(topic_filter, topic)


@dataclass(frozen=True, slots=True)
class Will:
    """The last will: published by the broker (retained) if we vanish."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


@dataclass(frozen=True, slots=True)
class LinkSettings:
    """Everything needed to reach a broker."""

    host: str
    port: int
    client_id: str
    protocol: str = "5"  # "5" or "3.1.1"
    tls: bool = False
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    keepalive: int = 30
    #: Keep the session (subscriptions and queued QoS 1 messages) across disconnects.
    persistent: bool = True
    #: Acknowledge QoS 1 messages only when ``InboundMessage.ack()`` is called.
    manual_ack: bool = True
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 30.0
    #: Log connection trouble at DEBUG only: for helper links whose main link already says it (the agent's
    #: will-only links, one per device, would repeat every warning once per device).
    quiet: bool = False


@dataclass(slots=True)
class InboundMessage:
    """A received message; call ``ack()`` once what it carried is committed.

    The link builds it positionally (the hot path): keep the fields in this order.
    """

    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int
    _ack: Callable[[int, int], object] | None = field(default=None, repr=False)

    def ack(self) -> None:
        """Acknowledge to the broker (a no-op for QoS 0 or when the link acks by itself)."""
        if self._ack is not None and self.qos > 0:
            self._ack(self.mid, self.qos)


@dataclass(frozen=True, slots=True)
class ConnectionChange:
    """The link connected (``connected=True``) or lost the broker, with the broker's reason."""

    connected: bool
    reason: str
    session_present: bool = False


class _NotConnectedNoise(logging.Filter):
    """Drop paho 2.2's "Client is not connected" error, logged by its loop thread while it reconnects or stops.

    The state it reports is already told by our own connection events; as an ERROR it only alarms people.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Client is not connected")


MessageHandler = Callable[[InboundMessage], None]
ConnectionHandler = Callable[[ConnectionChange], None]


class MqttLink:
    """A paho client with a persistent session, QoS 1, manual acks, reconnect and a last will."""

    def __init__(
        self,
        settings: LinkSettings,
        *,
        on_message: MessageHandler | None = None,
        on_connection: ConnectionHandler | None = None,
        will: Will | None = None,
        birth: Will | None = None,
        subscriptions: Sequence[str] = (),
    ) -> None:
        self.settings = settings
        self._on_message = on_message
        self._on_connection = on_connection
        self._birth = birth
        self._will = will
        self._subscriptions: list[str] = list(subscriptions)
        self._connected = threading.Event()
        self._disconnected = threading.Event()
        self._stopping = False
        self._say_lock = threading.Lock()  # "online" (_ready) and "offline" (stop) are said in a definite order
        self._unreachable_told = False
        self._refusal_told = ""
        self._lock = threading.Lock()
        self._subscribe_mid = -1  # the SUBSCRIBE sent at connect: "connected" once the broker acknowledged it
        self._session_present = False
        # The broker accepted the connection (CONNACK), subscribed or not yet: what stop() needs to know to say
        # the will itself and to let the last acknowledgements out. "Connected" waits for the SUBACK too.
        self._session_up = False
        self._subscribe_refusal_told = False
        v5 = settings.protocol == "5"
        self._v5 = v5
        self._client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            clean_session=None if v5 else not settings.persistent,
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
            manual_ack=settings.manual_ack,
        )
        paho_log = logging.getLogger("houqin.paho")
        if not any(isinstance(f, _NotConnectedNoise) for f in paho_log.filters):
            paho_log.addFilter(_NotConnectedNoise())
        self._client.enable_logger(paho_log)
        self._client.max_queued_messages_set(0)
        self._client.max_inflight_messages_set(100)
        self._client.reconnect_delay_set(int(settings.reconnect_min_s) or 1, int(settings.reconnect_max_s))
        if settings.username is not None:
            self._client.username_pw_set(settings.username, settings.password)
        if settings.tls:
            try:
                self._client.tls_set(
                    ca_certs=settings.ca_file,
                    certfile=settings.cert_file,
                    keyfile=settings.key_file,
                    tls_version=ssl.PROTOCOL_TLS_CLIENT,
                )
            except (OSError, ssl.SSLError) as e:
                raise LinkError(f"TLS files for the MQTT link could not be loaded: {e}; check [mqtt] ca_file, "
                                "cert_file and key_file") from None
        if will is not None:
            self._client.will_set(will.topic, will.payload, will.qos, will.retain)
        self._client.on_connect = self._handle_connect
        self._client.on_connect_fail = self._handle_connect_fail
        self._client.on_disconnect = self._handle_disconnect
        self._client.on_message = self._handle_message
        self._client.on_subscribe = self._handle_subscribe

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background; reconnects by itself until ``stop()``."""
        self._stopping = False
        props = None
        if self._v5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = SESSION_EXPIRY_S if self.settings.persistent else 0
            props.ReceiveMaximum = RECEIVE_MAXIMUM
        self._client.connect_async(
            self.settings.host,
            self.settings.port,
            keepalive=self.settings.keepalive,
            clean_start=not self.settings.persistent if self._v5 else paho.MQTT_CLEAN_START_FIRST_ONLY,
            properties=props,
        )
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect cleanly (the will is not sent) and stop the network thread."""
        # A clean DISCONNECT suppresses the will, so say it ourselves: others see us go offline either way.
        # Between the CONNACK and the SUBACK too: the last run's retained "online" may still stand. Under the
        # lock _ready() says "online" under: the birth is queued before this, or not at all (paho keeps the order).
        with self._say_lock:
            self._stopping = True
            session_up = self._session_up
            info = (self._client.publish(self._will.topic, self._will.payload, self._will.qos, self._will.retain)
                    if self._will is not None and session_up else None)
        if info is not None and info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
            info.wait_for_publish(2)
        self._client.disconnect()
        if session_up:
            # The network thread writes queued packets in order: once the DISCONNECT went out (the disconnect
            # callback clears the event), every acknowledgement queued before it went out too. Stopping the
            # thread sooner can drop the last PUBACKs, and the broker then delivers those messages again.
            self._disconnected.wait(5)
        self._client.loop_stop()
        self._connected.clear()

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected or ``timeout`` seconds passed; returns whether connected."""
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up now."""
        return self._connected.is_set()

    # -- subscribe / publish ---------------------------------------------------------------------
    def subscribe(self, topic_filter: str) -> None:
        """Subscribe at QoS 1 now and after every reconnect."""
        with self._lock:
            if topic_filter not in self._subscriptions:
                self._subscriptions.append(topic_filter)
        if self._session_up:  # between the CONNACK and the SUBACK too: the connect callback has sent its list
            self._client.subscribe(topic_filter, qos=1)

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False,
                wait: float | None = None) -> bool:
        """Queue a message; with ``wait`` block up to that many seconds for the broker's ack.

        Returns False when it could not be queued (not connected) or was not acked in time.
        """
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return False
        if wait is not None and qos > 0:
            try:
                info.wait_for_publish(wait)
            except (RuntimeError, ValueError):
                return False
            return info.is_published()
        return True

    # -- paho callbacks, turned into typed events -----------------------------------------------
    def _handle_connect(self, client: paho.Client, userdata: object, flags: paho.ConnectFlags,
                        reason: ReasonCode, properties: Properties | None) -> None:
        if reason.is_failure:
            # once per reason until connected: a wrong password must not log a line every retry for days
            told = self._refusal_told == str(reason)
            self._refusal_told = str(reason)
            log.log(logging.DEBUG if self.settings.quiet or told else logging.WARNING,
                    "broker %s:%s refused the connection: %s; check [mqtt] url (user, password) and the broker's "
                    "ACL; retrying", self.settings.host, self.settings.port, reason)
            self._emit(ConnectionChange(False, str(reason)))
            return
        with self._lock:
            subs = list(self._subscriptions)
        self._session_present = bool(flags.session_present)
        self._session_up = True
        self._disconnected.clear()
        if subs:
            # Connected means subscribed: a caller that publishes as soon as wait_connected() returns must not
            # race the SUBSCRIBE (a message the broker routes before it is lost to a new session).
            _, mid = client.subscribe([(s, 1) for s in subs])
            self._subscribe_mid = -1 if mid is None else mid
            return
        self._ready()

    def _handle_subscribe(self, client: paho.Client, userdata: object, mid: int,
                          reasons: list[ReasonCode], properties: Properties | None) -> None:
        if mid != self._subscribe_mid:
            return
        refused = [str(r) for r in reasons if r.is_failure]
        if refused and not self._subscribe_refusal_told:  # once until the broker grants them, not per reconnect
            self._subscribe_refusal_told = True
            log.log(logging.DEBUG if self.settings.quiet else logging.WARNING,
                    "broker %s:%s refused a subscription (%s); check the broker's ACL for client %s",
                    self.settings.host, self.settings.port, ", ".join(refused), self.settings.client_id)
        elif not refused:
            self._subscribe_refusal_told = False
        self._ready()

    def _ready(self) -> None:
        self._subscribe_mid = -1  # a later runtime SUBACK with a wrapped-around mid is not a new connection
        # "Online" once the broker answered the subscriptions: whoever publishes on seeing it (a sensor, a test) is
        # not lost to a new session. A refused subscription still says it (the gateway runs; the refusal is logged).
        with self._say_lock:
            if self._birth is not None and not self._stopping:  # else stop() has said "offline"
                self._client.publish(self._birth.topic, self._birth.payload, self._birth.qos, self._birth.retain)
        self._connected.set()
        self._unreachable_told = False
        self._refusal_told = ""
        log.log(logging.DEBUG if self.settings.quiet else logging.INFO, "connected to %s:%s (session present: %s)",
                self.settings.host, self.settings.port, self._session_present)
        self._emit(ConnectionChange(True, "Success", self._session_present))

    def _handle_connect_fail(self, client: paho.Client, userdata: object) -> None:
        # paho logs an unreachable broker only at DEBUG: without this a wrong host or port, or a broker
        # that is down, would leave the service silent. Once per outage, not on every retry.
        if not self._unreachable_told and not self._stopping:
            self._unreachable_told = True
            log.log(logging.DEBUG if self.settings.quiet else logging.WARNING,
                    "cannot reach the MQTT broker %s:%s (%s); retrying every %g-%g s until it answers. "
                    "Check that it runs and [mqtt] url", self.settings.host, self.settings.port,
                    "TLS" if self.settings.tls else "no TLS", self.settings.reconnect_min_s,
                    self.settings.reconnect_max_s)

    def _handle_disconnect(self, client: paho.Client, userdata: object, flags: paho.DisconnectFlags,
                           reason: ReasonCode, properties: Properties | None) -> None:
        was = self._connected.is_set()
        subscribing = self._session_up and not was
        self._session_up = False
        self._connected.clear()
        self._disconnected.set()
        if was and not self._stopping:
            log.log(logging.DEBUG if self.settings.quiet else logging.WARNING,
                    "lost the broker %s:%s (%s); reconnecting", self.settings.host, self.settings.port, reason)
        elif subscribing and not self._stopping and not self._subscribe_refusal_told:
            # Some brokers (EMQX with deny_action = disconnect, AWS IoT) close the connection on a refused
            # SUBSCRIBE instead of answering it: once, or the link would retry for days without a word.
            self._subscribe_refusal_told = True
            log.log(logging.DEBUG if self.settings.quiet else logging.WARNING,
                    "broker %s:%s closed the connection before acknowledging our subscriptions (%s); check its "
                    "ACL for client %s; retrying", self.settings.host, self.settings.port, reason,
                    self.settings.client_id)
        self._emit(ConnectionChange(False, str(reason)))

    def _handle_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        if self._on_message is None:
            return
        # positional (topic, payload, qos, retain, mid, ack): keywords cost more, and this runs for every message
        inbound = InboundMessage(msg.topic, bytes(msg.payload), msg.qos, bool(msg.retain), msg.mid,
                                 client.ack if self.settings.manual_ack else None)
        try:
            self._on_message(inbound)
        except Exception:  # a handler bug must not kill the network thread
            log.exception("message handler failed on %s", msg.topic)

    def _emit(self, change: ConnectionChange) -> None:
        if self._on_connection is not None:
            try:
                self._on_connection(change)
            except Exception:
                log.exception("connection handler failed")
