"""Gate access latency: a card read published -> the lock relay's pulse command seen on the broker.

The whole gateway runs (real Mosquitto, ingest committing the event with synchronous=FULL, the gate's
decision logged with synchronous=FULL, the relay command published). The baseline, measured in the
same run, is the same two broker hops without the gateway: an echo client republishes each message
at once. The last line printed is JSON.

    .venv/bin/python bench/gate_access.py [--trials 300]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SITE = "bench"


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


class Timer:
    """Waits for one message per trial on a watching link."""

    def __init__(self) -> None:
        self.got = threading.Event()
        self.at = 0.0

    def on_message(self, msg: Any) -> None:
        self.at = time.perf_counter()
        self.got.set()


def run(trials: int, send: Any, timer: Timer, timeout: float = 2.0) -> tuple[list[float], int]:
    out, missed = [], 0
    for i in range(trials):
        timer.got.clear()
        t0 = time.perf_counter()
        send(i)
        if timer.got.wait(timeout):
            out.append((timer.at - t0) * 1000)
        else:
            missed += 1
    return out, missed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=300)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)

    from gateway import contract
    from gateway.app import build_gateway
    from gateway.config import parse_config
    from gateway.gc_tuning import settle_after_start
    from gateway.mqtt_link import LinkSettings, MqttLink
    from tests.mosquitto import Mosquitto

    with tempfile.TemporaryDirectory(prefix="houqin-bench-gate-") as tmp:
        work = Path(tmp)
        (work / "broker").mkdir()
        broker = Mosquitto(work / "broker")
        broker.start()

        def link(name: str, subs: list[str], on_message: Any = None) -> MqttLink:
            lk = MqttLink(LinkSettings("127.0.0.1", broker.port, name, persistent=False, manual_ack=False),
                          on_message=on_message or (lambda m: None), subscriptions=subs)
            lk.start()
            assert lk.wait_connected(10)
            return lk

        # baseline: two hops through the broker with an echo client in the middle
        echo: MqttLink | None = None

        def bounce(msg: Any) -> None:
            assert echo is not None
            echo.publish("bench/out", msg.payload, qos=1)

        echo = link("bench-echo", ["bench/in"], bounce)
        timer = Timer()
        watch = link("bench-watch", ["bench/out", contract.set_topic(SITE, "gate")], timer.on_message)
        pub = link("bench-pub", [])
        run(20, lambda i: pub.publish("bench/in", b"x", qos=1), timer)
        base, base_missed = run(args.trials, lambda i: pub.publish("bench/in", b"x", qos=1), timer)
        print(f"baseline (echo client, 2 broker hops): p50 {pct(base, 50):.1f} ms, p99 {pct(base, 99):.1f} ms, "
              f"missed {base_missed}", flush=True)
        echo.stop()

        cfg = parse_config({
            "site": {"id": SITE},
            "mqtt": {"url": broker.url, "client_id": "bench-gate-gateway"},
            "storage": {"dir": str(work / "data")},
            "dashboard": {"enabled": False},
            "devices": [{"id": "gate", "kind": "gate"}, {"id": "reader", "kind": "card_reader"}],
            "gate": {"readers": [{"device": "reader", "relay": "gate"}]},
        })
        gw = build_gateway(cfg)
        gw.gate.cards.add("AA01", "Bench", "staff")  # type: ignore[attr-defined]
        gw.start()
        settle_after_start()  # as `houqin run` does once started
        try:
            assert gw.link.wait_connected(10)  # connected means subscribed
            topic = contract.event_topic(SITE, "reader")

            def card(i: int) -> None:
                pub.publish(topic, contract.encode_event("card", uid="AA01", ts=time.time()), qos=1)

            run(20, card, timer)
            gate, missed = run(args.trials, card, timer)
            logged = len(gw.gate.access.recent(100_000))  # type: ignore[attr-defined]
            print(f"card read -> relay command through the gateway: p50 {pct(gate, 50):.1f} ms, "
                  f"p99 {pct(gate, 99):.1f} ms, mean {statistics.fmean(gate):.1f} ms, missed {missed}, "
                  f"{logged} decisions logged", flush=True)
        finally:
            gw.stop()
            watch.stop()
            pub.stop()
            broker.stop()
    print(json.dumps({"p50_ms": round(pct(gate, 50), 2), "p99_ms": round(pct(gate, 99), 2), "missed": missed,
                      "baseline_p50_ms": round(pct(base, 50), 2), "baseline_p99_ms": round(pct(base, 99), 2),
                      "trials": args.trials}))


if __name__ == "__main__":
    main()
