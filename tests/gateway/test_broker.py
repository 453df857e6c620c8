"""The embedded broker, exercised with the gateway's own MqttLink as client (MQTT 3.1.1)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from gateway.broker import BrokerStartError, EmbeddedBroker
from gateway.mqtt_link import InboundMessage, LinkSettings, MqttLink, Will
from tests.mosquitto import free_port
from tests.waiting import wait_for


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    b = EmbeddedBroker(port=0)
    b.start()
    yield b
    b.stop()


class Inbox:
    """Collects messages from a link, acknowledging each (the gateway acks after commit)."""

    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self._lock = threading.Lock()

    def __call__(self, msg: InboundMessage) -> None:
        with self._lock:
            self.messages.append(msg)
        msg.ack()

    def wait_for(self, pred: Callable[[list[InboundMessage]], bool], timeout: float = 10.0) -> list[InboundMessage]:
        """Bounded poll until ``pred`` holds for what arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                snapshot = list(self.messages)
            if pred(snapshot):
                return snapshot
            time.sleep(0.02)
        with self._lock:
            raise AssertionError(f"condition not met; got {[(m.topic, m.payload) for m in self.messages]}")


def link(port: int, client_id: str, inbox: Inbox | None = None, subs: tuple[str, ...] = (),
         **kw: object) -> MqttLink:
    settings = LinkSettings("127.0.0.1", port, client_id, protocol="3.1.1",
                            manual_ack=inbox is not None)
    lk = MqttLink(settings, on_message=inbox, subscriptions=subs, **kw)  # type: ignore[arg-type]
    lk.start()
    assert lk.wait_connected(10), f"{client_id} could not connect to the embedded broker"
    return lk


def _probe(pub: MqttLink) -> None:
    assert pub.publish("houqin/demo/probe/state", b"{}", qos=1, wait=5)


def test_qos1_publish_subscribe(broker: EmbeddedBroker) -> None:
    inbox = Inbox()
    sub = link(broker.port, "sub", inbox, ("houqin/demo/+/state",))
    pub = link(broker.port, "pub")
    try:
        # the subscription is sent on connect; a first message may race it, so retry until one lands
        wait_for(lambda: bool(inbox.messages), "a probe through the new subscription", timeout=10,
                 tick=lambda: _probe(pub), every=0.1)
        for i in range(20):
            assert pub.publish("houqin/demo/fridge/state", f'{{"temperature":{i}}}'.encode(), qos=1, wait=5)
        got = inbox.wait_for(lambda ms: sum(m.topic.endswith("fridge/state") for m in ms) >= 20)
        fridge = [m for m in got if m.topic.endswith("fridge/state")]
        assert [m.payload for m in fridge] == [f'{{"temperature":{i}}}'.encode() for i in range(20)]
        assert all(m.qos == 1 for m in fridge)
        assert not any(m.topic == "houqin/demo/fridge/event" for m in got)
    finally:
        sub.stop()
        pub.stop()


def test_retained_message_reaches_late_subscriber(broker: EmbeddedBroker) -> None:
    pub = link(broker.port, "pub")
    assert pub.publish("houqin/demo/gate/availability", b"online", qos=1, retain=True, wait=5)
    pub.stop()
    inbox = Inbox()
    sub = link(broker.port, "late", inbox, ("houqin/demo/+/availability",))
    try:
        got = inbox.wait_for(lambda ms: len(ms) >= 1)
        assert got[0].topic == "houqin/demo/gate/availability"
        assert got[0].payload == b"online"
        assert got[0].retain
    finally:
        sub.stop()


def test_persistent_session_queues_qos1_while_away(broker: EmbeddedBroker) -> None:
    inbox = Inbox()
    sub = link(broker.port, "houqin-gateway-demo", inbox, ("houqin/demo/+/state",))
    pub = link(broker.port, "pub")
    try:
        wait_for(lambda: bool(inbox.messages), "the subscription to be in place", timeout=10,
                 tick=lambda: _probe(pub), every=0.1)
        sub.stop()
        for i in range(5):
            assert pub.publish("houqin/demo/meter/state", f'{{"seq":{i}}}'.encode(), qos=1, wait=5)
        # the same client id comes back without subscribing again: the session delivers the queue
        again = Inbox()
        sub = link(broker.port, "houqin-gateway-demo", again)
        got = again.wait_for(lambda ms: sum(m.topic.endswith("meter/state") for m in ms) >= 5)
        payloads = [m.payload for m in got if m.topic.endswith("meter/state")]
        assert payloads == [f'{{"seq":{i}}}'.encode() for i in range(5)]
    finally:
        sub.stop()
        pub.stop()


def _raw_connect_with_will(port: int, client_id: str, will_topic: str, will_msg: bytes) -> socket.socket:
    """A bare MQTT 3.1.1 client (no library) so the test can vanish without DISCONNECT."""

    def s(b: bytes) -> bytes:
        return len(b).to_bytes(2, "big") + b

    flags = 0x02 | 0x04 | 0x08 | 0x20  # clean session, will, will QoS 1, will retain
    body = s(b"MQTT") + bytes([4, flags]) + (60).to_bytes(2, "big")
    body += s(client_id.encode()) + s(will_topic.encode()) + s(will_msg)
    assert len(body) < 128
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(bytes([0x10, len(body)]) + body)
    connack = sock.recv(4)
    assert connack[:2] == b"\x20\x02" and connack[3] == 0, connack
    return sock


def test_last_will_published_when_client_vanishes(broker: EmbeddedBroker) -> None:
    inbox = Inbox()
    sub = link(broker.port, "watcher", inbox, ("houqin/demo/+/availability",))
    agent = link(broker.port, "agent", birth=Will("houqin/demo/fridge-1/availability", b"online"))
    try:
        inbox.wait_for(lambda ms: any(m.payload == b"online" for m in ms))
        sock = _raw_connect_with_will(broker.port, "sensor", "houqin/demo/freezer/availability", b"offline")
        time.sleep(0.2)
        sock.close()  # no DISCONNECT packet: the broker must publish the will
        got = inbox.wait_for(lambda ms: any(m.topic == "houqin/demo/freezer/availability" for m in ms))
        will = [m for m in got if m.topic == "houqin/demo/freezer/availability"]
        assert will[0].payload == b"offline"
        # the will was retained: a newcomer sees it too
        late = Inbox()
        lk = link(broker.port, "late", late, ("houqin/demo/freezer/availability",))
        assert late.wait_for(lambda ms: len(ms) >= 1)[0].payload == b"offline"
        lk.stop()
    finally:
        sub.stop()
        agent.stop()


def test_port_in_use_gives_clear_error() -> None:
    port = free_port()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        b = EmbeddedBroker(port=port)
        with pytest.raises(BrokerStartError) as err:
            b.start()
    msg = str(err.value)
    assert f"127.0.0.1:{port}" in msg
    assert "in use" in msg and "embedded_port" in msg
    assert isinstance(err.value, OSError)
    assert not b.running


def test_refuses_non_loopback_address() -> None:
    with pytest.raises(BrokerStartError, match="loopback"):
        EmbeddedBroker(host="0.0.0.0", port=0)


def test_stop_closes_listener_and_port_is_reusable() -> None:
    b = EmbeddedBroker(port=0)
    b.start()
    port = b.port
    assert port > 0
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    b.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    again = EmbeddedBroker(port=port)
    again.start()
    again.stop()


def test_config_speaks_311_with_the_embedded_broker() -> None:
    from gateway.config import parse_config
    from gateway.errors import ConfigError

    assert parse_config({"site": {"id": "kg"}}).mqtt.protocol == "3.1.1"
    assert parse_config({"site": {"id": "kg"}, "mqtt": {"url": "embedded"}}).mqtt.protocol == "3.1.1"
    assert parse_config({"site": {"id": "kg"}, "mqtt": {"url": "mqtt://127.0.0.1"}}).mqtt.protocol == "5"
    with pytest.raises(ConfigError, match=r"mqtt.*3\.1\.1"):
        parse_config({"site": {"id": "kg"}, "mqtt": {"url": "embedded", "protocol": "5"}})
