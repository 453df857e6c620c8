"""Ingest throughput: a bare paho subscriber (the ceiling) vs the full pipeline, on the same stream.

Both consumers subscribe at QoS 1 with a persistent session, go away, the stream is published with
``mosquitto_pub -l`` (QoS 1) into the broker's queue for them, and then each drains it: the bare one
only parses JSON, the pipeline decodes, validates, stores in SQLite, commits and acks. Each is timed from
its first message to its last (the pipeline's start-up is printed apart) and runs in its own subprocess,
so its peak RSS (VmHWM) is its own. This is done ``--rounds`` times, each on a fresh broker with a fresh
stream, the two taking turns at draining first; the ratio reported is the median round's (one round's ratio
varies by a third on a shared two-core machine). The last line printed is JSON.

    .venv/bin/python bench/ingest.py [--messages 100000] [--devices 4] [--rounds 5] [--full]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SITE = "bench"
TOPIC = "houqin/" + SITE + "/fridge-{}/state"


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- subprocess roles ----------------------------------------------------------------------------
def role_baseline(port: int, expected: int, prepare: bool, session: str) -> dict[str, Any]:
    import threading

    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    got = 0
    done = threading.Event()
    subscribed = threading.Event()
    first: list[float] = []

    def on_connect(c: paho.Client, *_: object) -> None:
        c.subscribe(f"houqin/{SITE}/+/state", qos=1)

    def on_subscribe(*_: object) -> None:
        subscribed.set()

    def on_message(c: paho.Client, u: object, msg: paho.MQTTMessage) -> None:
        nonlocal got
        if not first:
            first.append(time.perf_counter())
        json.loads(msg.payload)
        got += 1
        if got >= expected:
            done.set()

    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"bench-baseline-{session}",
                         clean_session=False, protocol=paho.MQTTv311)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    t0 = time.perf_counter()
    client.connect("127.0.0.1", port)
    client.loop_start()
    if prepare:
        subscribed.wait(10)
        client.disconnect()
        client.loop_stop()
        return {}
    done.wait(600)
    t1 = time.perf_counter()
    client.disconnect()
    client.loop_stop()
    return {"received": got, "seconds": t1 - first[0], "startup_s": first[0] - t0, "rss_mb": vm_hwm_mb()}


def role_pipeline(port: int, expected: int, prepare: bool, data_dir: str, devices: int, session: str,
                  full: bool = False) -> dict[str, Any]:
    from dashboard.component import serve_dashboard
    from gateway.app import Gateway, Site, build_gateway
    from gateway.config import parse_config
    from gateway.gc_tuning import settle_after_start
    from gateway.model import CommittedBatch

    cfg = parse_config({
        "site": {"id": SITE},
        "mqtt": {"url": f"mqtt://127.0.0.1:{port}", "client_id": f"bench-gateway-{session}", "protocol": "3.1.1"},
        "storage": {"dir": data_dir},
        "devices": [{"id": f"fridge-{i}", "kind": "fridge"} for i in range(devices)],
        "dashboard": {"bind": "127.0.0.1", "port": 0},
    })
    t0 = time.perf_counter()
    gw: Gateway | Site
    if full:  # every part `houqin run` starts, the dashboard too
        gw = build_gateway(cfg)
        serve_dashboard(gw)
    else:
        gw = Gateway(cfg)
    first: list[float] = []

    class FirstReading:
        """Notes when the first reading reached the writer: throughput is timed from there, as the baseline's."""

        def on_batch(self, batch: CommittedBatch) -> None:
            if not first and batch.readings:
                first.append(time.perf_counter())

    gw.ingest.add_observer(FirstReading())
    gw.start()
    settle_after_start()  # as `houqin run` does once started
    if prepare:
        gw.link.wait_connected(10)  # connected means subscribed: the session is left with its subscription
        gw.stop()
        return {}
    deadline = time.monotonic() + 600
    while gw.ingest.stats()["messages"] < expected and time.monotonic() < deadline:
        if gw.ingest.stats()["received"] >= expected:
            # All arrived: commit the open window now. Its commit_interval is latency by design (readings at rest
            # wait for it to spare the SD card), not the pipeline's work.
            gw.ingest.wait_idle(10)
        else:
            time.sleep(0.05)  # stats() takes ingest's lock: polling it at 200 Hz slowed the network thread
    t1 = time.perf_counter()
    stats = gw.ingest.stats()
    gw.stop()
    return {"received": stats["messages"], "seconds": t1 - first[0], "startup_s": first[0] - t0, "rss_mb": vm_hwm_mb(),
            "refused": stats["refused"], "duplicates": stats["duplicates"], "batches": stats["batches"]}


# -- orchestration -------------------------------------------------------------------------------
def run_role(role: str, port: int, expected: int, prepare: bool, data_dir: Path, devices: int, session: str,
             full: bool = False) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--role", role, "--port", str(port), "--messages", str(expected),
           "--data", str(data_dir), "--devices", str(devices), "--session", session]
    if full:
        cmd.append("--full")
    if prepare:
        cmd.append("--prepare")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=900).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def publish(port: int, n: int, devices: int, workdir: Path) -> float:
    t_start = time.time() - 200  # in the past but within the gateway's accepted window
    per = n // devices
    procs = []
    t0 = time.perf_counter()
    for d in range(devices):
        lines = workdir / f"stream-{d}.txt"
        with lines.open("w") as f:
            for i in range(per):
                ts = round(t_start + i * 0.001, 3)
                f.write(f'{{"temperature":{3.0 + (i % 50) / 10:.1f},"ts":{ts},"seq":{i + 1}}}\n')
        procs.append(subprocess.Popen(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", TOPIC.format(d),
             "-i", f"bench-pub-{d}", "-l"], stdin=lines.open("rb")))
    for p in procs:
        if p.wait(600) != 0:
            raise RuntimeError("mosquitto_pub failed")
    return time.perf_counter() - t0


def count_stored(data_dir: Path, devices: int) -> int:
    from gateway.store.sqlite import SqliteStore

    store = SqliteStore(data_dir / "timeseries.db")
    try:
        now = time.time()
        return sum(len(store.query(f"fridge-{d}", "temperature", now - 86400, now + 86400)) for d in range(devices))
    finally:
        store.close()


def one_round(n: int, args: argparse.Namespace, work: Path, r: int) -> dict[str, Any]:
    """On a fresh broker (no earlier round's sessions queueing this stream too), queue one stream for a baseline
    session and a gateway, then let each drain it in turn: the baseline first in even rounds, last in odd ones."""
    from gateway.mosquitto.site import MAX_INFLIGHT
    from tests.mosquitto import Mosquitto

    (work / f"broker-{r}").mkdir()
    # The broker as `houqin mqtt setup` configures it: its in-flight window is the one the gateway's commit
    # window closes at (a smaller one, waited out for commit_interval, was most of the pipeline's time).
    broker = Mosquitto(work / f"broker-{r}", extra=f"max_inflight_messages {MAX_INFLIGHT}")
    broker.start()
    try:
        port = broker.port
        session = str(r)
        data = work / f"data-{r}"
        run_role("baseline", port, n, True, data, args.devices, session)
        run_role("pipeline", port, n, True, data, args.devices, session, args.full)
        pub_s = publish(port, n, args.devices, work)
        print(f"round {r}: published {n} messages at QoS 1 with mosquitto_pub -l in {pub_s:.1f} s "
              f"({n / pub_s:,.0f}/s); both sessions queued them", flush=True)
        results: dict[str, dict[str, Any]] = {}
        for role in ("baseline", "pipeline") if r % 2 == 0 else ("pipeline", "baseline"):
            results[role] = run_role(role, port, n, False, data, args.devices, session, args.full)
    finally:
        broker.stop()
    base, pipe = results["baseline"], results["pipeline"]
    print(f"round {r}: baseline (bare paho, JSON parse only): {base['received']} in {base['seconds']:.2f} s = "
          f"{base['received'] / base['seconds']:,.0f} msg/s (start-up {base['startup_s']:.2f} s), peak RSS "
          f"{base['rss_mb']:.1f} MB", flush=True)
    stored = count_stored(data, args.devices)
    what = "with every extension" if args.full else "ingest only"
    print(f"round {r}: pipeline ({what}: decode, validate, SQLite, commit, ack): {pipe['received']} in "
          f"{pipe['seconds']:.2f} s = {pipe['received'] / pipe['seconds']:,.0f} msg/s "
          f"(start-up {pipe['startup_s']:.2f} s), peak RSS {pipe['rss_mb']:.1f} MB, {pipe['batches']} batches, "
          f"stored {stored}/{n}, refused {pipe['refused']}", flush=True)
    base_rate = base["received"] / base["seconds"]
    pipe_rate = pipe["received"] / pipe["seconds"]
    return {"base": base_rate, "pipe": pipe_rate, "ratio": pipe_rate / base_rate, "lost": n - stored,
            "rss_mb": pipe["rss_mb"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--devices", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=5,
                    help="baseline and pipeline drain a fresh stream this many times, in turn; the ratio reported "
                         "is the median of the rounds' (on a shared machine the speed of either drifts by a third "
                         "between runs)")
    ap.add_argument("--role", choices=["baseline", "pipeline"])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--data", default="")
    ap.add_argument("--session", default="0")
    ap.add_argument("--prepare", action="store_true")
    ap.add_argument("--full", action="store_true",
                    help="run the pipeline as `houqin run` does: with every extension (alerts, dashboard, ...)")
    args = ap.parse_args()
    if args.role == "baseline":
        print(json.dumps(role_baseline(args.port, args.messages, args.prepare, args.session)))
        return
    if args.role == "pipeline":
        print(json.dumps(role_pipeline(args.port, args.messages, args.prepare, args.data, args.devices, args.session,
                                       args.full)))
        return

    n = args.messages - args.messages % args.devices
    with tempfile.TemporaryDirectory(prefix="houqin-bench-") as tmp:
        rounds = [one_round(n, args, Path(tmp), r) for r in range(max(1, args.rounds))]
    mid = sorted(rounds, key=lambda x: x["ratio"])[(len(rounds) - 1) // 2]  # of an even number, the lower middle
    print(json.dumps({
        "baseline_msgs_per_s": round(mid["base"], 1),
        "pipeline_msgs_per_s": round(mid["pipe"], 1),
        "ratio": round(mid["ratio"], 3),
        "ratios": [round(x["ratio"], 3) for x in rounds],
        "lost": sum(x["lost"] for x in rounds),
        "rss_mb": round(max(x["rss_mb"] for x in rounds), 1),
    }))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
