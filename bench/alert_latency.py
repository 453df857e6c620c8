"""Alert latency: publish a reading -> first notification delivered to a local webhook receiver.

The whole gateway runs (real Mosquitto, ingest, SQLite store, rules, alert store with synchronous=FULL,
escalation, webhook worker). An immediate rule (``for = "0s"``) watches a probe fridge; each trial
publishes a warm reading (timed from the publish call to the receiver's handler) and then a cold one
(the "resolved" message, awaited but not timed), so every trial opens a new alert.

Two phases in the same run: a baseline with no other traffic, then the same trials while the ingest
benchmark's load runs (its topic and payload format from ``bench/ingest.py``, streamed through
``mosquitto_pub -l`` at ``--load-rate`` messages per second over ``--devices`` fridges, which a fridge
rule also evaluates). The last line printed is JSON.

    .venv/bin/python bench/alert_latency.py [--trials 1000] [--load-rate 1000] [--devices 4]
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import SITE, TOPIC  # noqa: E402  (the ingest benchmark's load format)

PROBE = "probe-fridge"


class Receiver:
    """Local webhook receiver: records when each generic-JSON event arrived."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.events: list[tuple[str, int, float]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                at = time.perf_counter()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with outer.cond:
                    outer.events.append((body["event"], body["alert"]["id"], at))
                    outer.cond.notify_all()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, event: str, after: int, timeout: float) -> float | None:
        """Arrival time of the first ``event`` after index ``after``, or None on timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for name, _, at in self.events[after:]:
                    if name == event:
                        return at
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def close(self) -> None:
        self.server.shutdown()


class Load:
    """The ingest benchmark's stream, paced: ``rate`` msg/s over ``devices`` mosquitto_pub -l processes."""

    def __init__(self, port: int, rate: int, devices: int) -> None:
        self.port, self.rate, self.devices = port, rate, devices
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        procs = [subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port), "-q", "1",
                                   "-t", TOPIC.format(d), "-i", f"bench-load-{d}", "-l"],
                                  stdin=subprocess.PIPE) for d in range(self.devices)]
        seq = 0
        t0 = time.monotonic()
        try:
            while not self._stop.is_set():
                due = int((time.monotonic() - t0) * self.rate)
                while self.sent < due:
                    d = self.sent % self.devices
                    if d == 0:
                        seq += 1
                    line = f'{{"temperature":{3.0 + (seq % 50) / 10:.1f},"ts":{time.time():.3f},"seq":{seq}}}\n'
                    stdin = procs[d].stdin
                    assert stdin is not None
                    stdin.write(line.encode())
                    self.sent += 1
                for p in procs:
                    assert p.stdin is not None
                    p.stdin.flush()
                self._stop.wait(0.005)
        finally:
            for p in procs:
                assert p.stdin is not None
                p.stdin.close()
                p.wait(30)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)


def trials(n: int, publish: Any, receiver: Receiver, timeout: float) -> tuple[list[float], int]:
    from gateway import contract

    lat: list[float] = []
    missed = 0
    for i in range(n):
        mark = len(receiver.events)
        t0 = time.perf_counter()
        publish(contract.state_topic(SITE, PROBE), contract.encode_state({"temperature": 9.0 + (i % 10) / 10,
                                                                           "ts": time.time()}))
        at = receiver.wait("opened", mark, timeout)
        if at is None:
            missed += 1
        else:
            lat.append((at - t0) * 1000)
        mark = len(receiver.events)
        publish(contract.state_topic(SITE, PROBE), contract.encode_state({"temperature": 4.0, "ts": time.time()}))
        if receiver.wait("resolved", mark, timeout) is None:
            missed += 1  # the next trial could not open a new alert: count it as missed too
    return lat, missed


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--load-rate", type=int, default=1000, help="load messages per second during phase 2")
    ap.add_argument("--devices", type=int, default=4, help="load devices (fridge-0..N-1)")
    ap.add_argument("--timeout", type=float, default=2.0, help="seconds after which a trial counts as missed")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)  # one "alert opened" warning per trial would drown the figures

    from gateway.app import build_gateway
    from gateway.config import parse_config
    from gateway.gc_tuning import settle_after_start
    from gateway.mqtt_link import LinkSettings, MqttLink
    from tests.mosquitto import Mosquitto

    receiver = Receiver()
    with tempfile.TemporaryDirectory(prefix="houqin-bench-alerts-") as tmp:
        work = Path(tmp)
        (work / "broker").mkdir()
        broker = Mosquitto(work / "broker")
        broker.start()
        cfg = parse_config({
            "site": {"id": SITE, "locale": "zh-CN"},
            "mqtt": {"url": broker.url, "client_id": "bench-alert-gateway"},
            "storage": {"dir": str(work / "data")},
            "dashboard": {"enabled": False},
            "devices": [{"id": PROBE, "kind": "fridge"}]
                       + [{"id": f"fridge-{i}", "kind": "fridge"} for i in range(args.devices)],
            "rules": [
                {"id": "probe-warm", "kind": "threshold", "devices": [PROBE], "above": 8, "for": "0s",
                 "severity": "critical", "notify": "bench"},
                {"id": "fridge-warm", "kind": "threshold", "devices": ["fridge-*"], "above": 8, "for": "10m",
                 "notify": "bench"},
            ],
            "notify": {"channels": {"hook": {"type": "webhook", "format": "generic", "url": receiver.url}},
                       "chains": {"bench": {"steps": [{"channels": ["hook"]}]}}},
        })
        gw = build_gateway(cfg)
        gw.start()
        settle_after_start()  # as `houqin run` does once started
        pub = MqttLink(LinkSettings("127.0.0.1", broker.port, "bench-alert-probe", persistent=False,
                                    manual_ack=False))
        pub.start()
        try:
            assert pub.wait_connected(10) and gw.link.wait_connected(10)  # connected means subscribed

            def publish(topic: str, payload: bytes) -> None:
                pub.publish(topic, payload, qos=1)

            trials(20, publish, receiver, args.timeout)  # warm-up: connections, caches, first files
            base, base_missed = trials(args.trials, publish, receiver, args.timeout)
            print(f"baseline (no load): {len(base)} alerts, p50 {pct(base, 50):.1f} ms, p99 {pct(base, 99):.1f} ms, "
                  f"max {max(base, default=0):.1f} ms, missed {base_missed}", flush=True)

            before = gw.ingest.stats()["messages"]
            load = Load(broker.port, args.load_rate, args.devices)
            load.start()
            time.sleep(2.0)  # let the load reach steady state
            t_load = time.monotonic()
            loaded, missed = trials(args.trials, publish, receiver, args.timeout)
            elapsed = time.monotonic() - t_load
            load.stop()
            time.sleep(1.0)
            ingested = gw.ingest.stats()["messages"] - before
            print(f"with load ({args.load_rate} msg/s offered over {args.devices} fridges, {load.sent} sent, "
                  f"{ingested} ingested, {elapsed:.1f} s of trials): {len(loaded)} alerts, "
                  f"p50 {pct(loaded, 50):.1f} ms, p99 {pct(loaded, 99):.1f} ms, "
                  f"max {max(loaded, default=0):.1f} ms, missed {missed}", flush=True)
            stats = gw.alerting.stats()  # type: ignore[attr-defined]
            print(f"alerting counters: sent {stats['notify_sent']}, failed {stats['notify_failed_attempts']}, "
                  f"dropped {stats['notify_dropped']}, rule batches {stats['rules_batches']}, "
                  f"dropped batches {stats['rules_dropped_batches']}", flush=True)
        finally:
            pub.stop()
            gw.stop()
            broker.stop()
            receiver.close()
    print(json.dumps({
        "p50_ms": round(pct(loaded, 50), 2), "p99_ms": round(pct(loaded, 99), 2), "missed": missed,
        "baseline_p50_ms": round(pct(base, 50), 2), "baseline_p99_ms": round(pct(base, 99), 2),
        "baseline_missed": base_missed, "trials": args.trials, "load_rate": args.load_rate,
    }))


if __name__ == "__main__":
    main()
