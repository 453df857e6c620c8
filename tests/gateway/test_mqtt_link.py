"""The MQTT link against a real Mosquitto: persistent session, manual ack, will, reconnect."""

import threading

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


def held_before_suback(mosquitto: Mosquitto, name: str) -> tuple[MqttLink, threading.Event]:
    """A link with a will and a birth on ``{name}/availability`` (retained "offline" after its first run), started
    again with its network thread held on a message its session queued meanwhile: the broker's SUBACK, which
    follows the session's messages, stays unread until the returned event is set."""
    settings = LinkSettings("127.0.0.1", mosquitto.port, name)
    will, birth = Will(f"{name}/availability", b"offline"), Will(f"{name}/availability", b"online")
    first = MqttLink(settings, subscriptions=[f"{name}/q/#"], will=will, birth=birth)
    first.start()
    assert first.wait_connected(5)
    first.stop()
    pub = publisher(mosquitto, f"{name}-pub")
    assert pub.publish(f"{name}/q/x", b"queued while away", wait=5)
    pub.stop()
    entered, release = threading.Event(), threading.Event()

    def slow(m: InboundMessage) -> None:
        entered.set()
        release.wait(10)

    link = MqttLink(settings, on_message=slow, subscriptions=[f"{name}/q/#"], will=will, birth=birth)
    link.start()
    assert entered.wait(5)
    return link, release


def availability(mosquitto: Mosquitto, name: str) -> tuple[MqttLink, list[InboundMessage]]:
    """A watcher of ``{name}/availability`` (its retained value first) and what it has received."""
    seen: list[InboundMessage] = []
    watcher = MqttLink(LinkSettings("127.0.0.1", mosquitto.port, f"{name}-watcher", persistent=False,
                                    manual_ack=False), on_message=seen.append, subscriptions=[f"{name}/availability"])
    watcher.start()
    assert watcher.wait_connected(5)
    wait_for(lambda: bool(seen), "the retained availability")
    return watcher, seen


def test_stop_before_the_suback_still_says_offline(mosquitto: Mosquitto) -> None:
    # "Connected" waits for the SUBACK. A stop before it (a restart while the broker is still handing over the
    # session's queued messages, which come before the SUBACK) must still say "offline", or a stopped gateway
    # stays "online" on the broker: the late SUBACK must not say "online" after it.
    link, release = held_before_suback(mosquitto, "gw-queued")
    assert not link.connected
    stopping = threading.Thread(target=link.stop)
    stopping.start()
    wait_for(lambda: link._stopping, "stop() under way")  # it has said "offline" (or holds the lock to say it)
    release.set()
    stopping.join(15)
    watcher, seen = availability(mosquitto, "gw-queued")
    assert seen[-1].payload == b"offline"
    watcher.stop()


def test_online_is_said_once_subscribed(mosquitto: Mosquitto) -> None:
    # A sensor (or a test) that publishes on seeing the gateway's "online" must find it subscribed. Before, the
    # birth went out at the CONNACK, ahead of the SUBSCRIBE: a new session could lose what followed it.
    link, release = held_before_suback(mosquitto, "gw-birth")
    watcher, seen = availability(mosquitto, "gw-birth")
    try:
        assert seen[0].payload == b"offline"  # not "online" while the SUBACK is unread
        release.set()
        assert link.wait_connected(5)
        wait_for(lambda: seen[-1].payload == b"online", "online once subscribed")
    finally:
        release.set()
        link.stop()
        watcher.stop()
