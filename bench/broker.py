"""Embedded broker (amqtt) against Mosquitto: QoS 1 messages from one publisher to one subscriber.

Both runs use the gateway's MqttLink (MQTT 3.1.1, persistent session, manual ack) on the same stream
of native payloads; Mosquitto is the baseline. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

from gateway.broker import EmbeddedBroker
from gateway.contract import encode_state, state_topic
from gateway.mqtt_link import InboundMessage, LinkSettings, MqttLink
from tests.mosquitto import Mosquitto


def run_stream(port: int, n: int) -> tuple[float, int]:
    """Publish ``n`` QoS 1 messages and return (messages per second end to end, messages received)."""
    got = 0
    done = threading.Event()
    lock = threading.Lock()

    def on_message(m: InboundMessage) -> None:
        nonlocal got
        m.ack()
        with lock:
            got += 1
            if got >= n:
                done.set()

    sub = MqttLink(LinkSettings("127.0.0.1", port, "bench-sub", protocol="3.1.1"), on_message=on_message,
                   subscriptions=["houqin/bench/+/state"])
    pub = MqttLink(LinkSettings("127.0.0.1", port, "bench-pub", protocol="3.1.1", manual_ack=False,
                                persistent=False))
    sub.start()
    pub.start()
    assert sub.wait_connected(10) and pub.wait_connected(10)  # connected means subscribed
    payloads = [(state_topic("bench", f"dev-{i % 20}"), encode_state({"temperature": 4.0 + i % 10 / 10}, seq=i))
                for i in range(n)]
    t0 = time.perf_counter()
    for topic, payload in payloads:
        while not pub.publish(topic, payload, qos=1):
            time.sleep(0.001)
    done.wait(120)
    elapsed = time.perf_counter() - t0
    pub.stop()
    sub.stop()
    return n / elapsed, got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=5000, help="messages per run (default 5000)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mosq = Mosquitto(Path(tmp))
        mosq.start()
        try:
            base_rate, base_got = run_stream(mosq.port, args.n)
        finally:
            mosq.stop()
    print(f"mosquitto (baseline): {base_rate:8.0f} msg/s, {base_got}/{args.n} received")
    broker = EmbeddedBroker(port=0)
    broker.start()
    try:
        rate, got = run_stream(broker.port, args.n)
    finally:
        broker.stop()
    print(f"embedded (amqtt):     {rate:8.0f} msg/s, {got}/{args.n} received")
    print(json.dumps({"baseline_msgs_per_s": round(base_rate), "embedded_msgs_per_s": round(rate),
                      "ratio": round(rate / base_rate, 3), "lost": args.n - got, "messages": args.n}))


if __name__ == "__main__":
    main()
