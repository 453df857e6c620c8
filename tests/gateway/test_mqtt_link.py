"""The MQTT link against a real Mosquitto: persistent session, manual ack, will, reconnect."""

import threading
import time

import pytest

from gateway.mqtt_link import ConnectionChange, InboundMessage, LinkSettings, MqttLink, Will
from tests.mosquitto import Mosquitto
from tests.waiting import wait_for


def publisher(broker: Mosquitto, cid: str = "pub") -> MqttLink:
    p = MqttLink(LinkSettings("127.0.0.1", broker.port, cid, persistent=False, manual_ack=False))
    p.start()
    assert p.wait_connected(5)
    return p


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_unacked_messages_are_redelivered_after_reconnect(mosquitto: Mosquitto, protocol: str) -> None:
    seen: list[InboundMessage] = []
    settings = LinkSettings("127.0.0.1", mosquitto.port, "gw-test", protocol=protocol)

    # First life: receive but never ack (as if killed before the commit).
    first = MqttLink(settings, on_message=seen.append, subscriptions=["t/#"])
    first.start()
    assert first.wait_connected(5)
    pub = publisher(mosquitto)
    for i in range(5):
        assert pub.publish("t/x", str(i).encode(), wait=5)
    wait_for(lambda: len(seen) == 5)
    first.stop()

    # Second life, same client id: the broker redelivers what was not acked, and we ack it now.
    seen2: list[InboundMessage] = []

    def ack(m: InboundMessage) -> None:
        seen2.append(m)
        m.ack()

    second = MqttLink(settings, on_message=ack, subscriptions=["t/#"])
    second.start()
    assert second.wait_connected(5)
    wait_for(lambda: len(seen2) >= 5)
    assert sorted(m.payload for m in seen2) == [str(i).encode() for i in range(5)]
    second.stop()

    # Third life: everything was acked, nothing comes again; messages sent while away are queued.
    assert pub.publish("t/x", b"later", wait=5)
    seen3: list[InboundMessage] = []
    third = MqttLink(settings, on_message=lambda m: (seen3.append(m), m.ack()), subscriptions=["t/#"])
    third.start()
    assert third.wait_connected(5)
    wait_for(lambda: len(seen3) >= 1)
    # A wrongly redelivered message would come before a message published after it: wait for that one.
    assert pub.publish("t/x", b"sentinel", wait=5)
    wait_for(lambda: any(m.payload == b"sentinel" for m in seen3))
    assert [m.payload for m in seen3] == [b"later", b"sentinel"]
    third.stop()
    pub.stop()


def test_will_birth_and_reconnect_after_broker_restart(mosquitto: Mosquitto) -> None:
    watched: list[InboundMessage] = []
    watcher = MqttLink(LinkSettings("127.0.0.1", mosquitto.port, "watcher", persistent=False, manual_ack=False),
                       on_message=watched.append, subscriptions=["gw/availability"])
    watcher.start()
    assert watcher.wait_connected(5)

    changes: list[ConnectionChange] = []
    link = MqttLink(
        LinkSettings("127.0.0.1", mosquitto.port, "gw", reconnect_min_s=1, reconnect_max_s=2),
        on_connection=changes.append,
        will=Will("gw/availability", b"offline"),
        birth=Will("gw/availability", b"online"),
    )
    link.start()
    assert link.wait_connected(5)
    wait_for(lambda: any(m.payload == b"online" for m in watched))

    mosquitto.stop()
    wait_for(lambda: not link.connected)
    mosquitto.start()
    wait_for(lambda: link.connected, timeout=20)
    assert [c.connected for c in changes][:1] == [True] and changes[-1].connected
    assert any(not c.connected for c in changes)
    link.stop()
    # a clean stop suppresses the broker's will, so the link publishes it itself
    wait_for(lambda: watched[-1].payload == b"offline", "offline on a clean stop")
    watcher.stop()


def test_publish_when_not_connected_reports_false() -> None:
    link = MqttLink(LinkSettings("127.0.0.1", 1, "nobody", persistent=False))
    assert link.publish("t/x", b"1", wait=0.1) is False


def test_connected_means_subscribed(mosquitto: Mosquitto) -> None:
    # A caller publishes the moment wait_connected() returns: the subscription must already be in place, or the
    # broker routes the message before it and a new session never sees it. A connection handler still at work
    # (the gateway's do real work there) held back the SUBSCRIBE while wait_connected() had returned: here the
    # handler is held until the message is published.
    pub = publisher(mosquitto)
    for i in range(3):
        seen: list[InboundMessage] = []
        published = threading.Event()
        link = MqttLink(LinkSettings("127.0.0.1", mosquitto.port, f"fresh-{i}", persistent=False, manual_ack=False),
                        on_message=seen.append, on_connection=lambda change, p=published: p.wait(10),
                        subscriptions=[f"fresh/{i}"])
        link.start()
        assert link.wait_connected(5)
        assert pub.publish(f"fresh/{i}", b"x", wait=5)
        published.set()
        wait_for(lambda seen=seen: len(seen) == 1, f"the message published right after connecting (round {i})")
        link.stop()
    pub.stop()


def test_stop_before_the_suback_still_says_offline(mosquitto: Mosquitto) -> None:
    # "Connected" waits for the SUBACK. A stop before it (a restart while the broker is still handing over the
    # session's queued messages, which come before the SUBACK) must still say "offline", or a stopped gateway
    # stays "online" on the broker.
    settings = LinkSettings("127.0.0.1", mosquitto.port, "gw-queued")
    first = MqttLink(settings, subscriptions=["q/#"])
    first.start()
    assert first.wait_connected(5)
    first.stop()
    pub = publisher(mosquitto)
    assert pub.publish("q/x", b"queued while away", wait=5)

    entered, release = threading.Event(), threading.Event()

    def slow(m: InboundMessage) -> None:  # holds the network thread on the queued message, before the SUBACK
        entered.set()
        release.wait(10)

    link = MqttLink(settings, on_message=slow, subscriptions=["q/#"],
                    will=Will("gw-queued/availability", b"offline"), birth=Will("gw-queued/availability", b"online"))
    link.start()
    assert entered.wait(5)
    assert not link.connected
    stopping = threading.Thread(target=link.stop)
    stopping.start()
    time.sleep(0.3)  # let stop() decide what to say while the SUBACK is still unread (ordering, not timing)
    release.set()
    stopping.join(15)

    retained: list[InboundMessage] = []
    watcher = MqttLink(LinkSettings("127.0.0.1", mosquitto.port, "watcher", persistent=False, manual_ack=False),
                       on_message=retained.append, subscriptions=["gw-queued/availability"])
    watcher.start()
    assert watcher.wait_connected(5)
    wait_for(lambda: bool(retained), "the retained availability")
    assert retained[-1].payload == b"offline"
    watcher.stop()
    pub.stop()


def test_online_is_said_once_subscribed(mosquitto: Mosquitto) -> None:
    # A sensor (or a test) that publishes on seeing the gateway's "online" must find it subscribed. Before, the
    # birth went out at the CONNACK, ahead of the SUBSCRIBE: a new session could lose what followed it.
    settings = LinkSettings("127.0.0.1", mosquitto.port, "gw-birth")
    will, birth = Will("gw-birth/availability", b"offline"), Will("gw-birth/availability", b"online")
    first = MqttLink(settings, subscriptions=["b/#"], will=will, birth=birth)
    first.start()
    assert first.wait_connected(5)
    first.stop()  # the retained availability is "offline"
    pub = publisher(mosquitto)
    assert pub.publish("b/x", b"queued while away", wait=5)

    entered, release = threading.Event(), threading.Event()

    def slow(m: InboundMessage) -> None:  # holds the network thread on the queued message, before the SUBACK
        entered.set()
        release.wait(10)

    link = MqttLink(settings, on_message=slow, subscriptions=["b/#"], will=will, birth=birth)
    link.start()
    seen: list[InboundMessage] = []
    watcher = MqttLink(LinkSettings("127.0.0.1", mosquitto.port, "birth-watcher", persistent=False, manual_ack=False),
                       on_message=seen.append, subscriptions=["gw-birth/availability"])
    try:
        assert entered.wait(5)
        watcher.start()
        assert watcher.wait_connected(5)
        wait_for(lambda: bool(seen), "the retained availability")
        assert seen[0].payload == b"offline"  # not "online" while the SUBACK is unread
        release.set()
        assert link.wait_connected(5)
        wait_for(lambda: seen[-1].payload == b"online", "online once subscribed")
    finally:
        release.set()
        link.stop()
        watcher.stop()
        pub.stop()
