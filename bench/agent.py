"""Sensor agent: pulse journal cost, offline spool writes, and spool drain rate after an outage.

Each figure is compared with a baseline measured in the same run:

* pulses: ``PulseJournal.add`` (the write on the pin callback) and with the tick's fsync every
  ``sync_every``, vs a bare ``os.write`` of the same records; also fsyncs per 1000 pulses (SD writes).
* spool: appending messages one by one while the broker is away (SQLite WAL, synchronous=FULL).
* drain: the outbox sending N spooled messages to a real Mosquitto, each acked (QoS 1) before the
  next and deleted from the spool in batches, vs the same link publishing N messages with an ack wait
  each and no spool.

The last line printed is JSON.

    .venv/bin/python bench/agent.py [--pulses 20000] [--messages 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.contract import encode_state, state_topic  # noqa: E402
from gateway.mqtt_link import LinkSettings, MqttLink  # noqa: E402
from sensors.journal import PulseJournal, _record  # noqa: E402
from sensors.messages import Outgoing  # noqa: E402
from sensors.outbox import Outbox  # noqa: E402
from sensors.spool import Spool  # noqa: E402
from tests.mosquitto import Mosquitto  # noqa: E402


def bench_pulses(tmp: Path, n: int, sync_every: int) -> dict[str, float]:
    fd = os.open(tmp / "bare", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        os.write(fd, _record(i))
    bare = time.perf_counter() - t0
    os.close(fd)
    fsyncs = 0
    real_fsync = os.fsync

    def counting(f: int) -> None:
        nonlocal fsyncs
        fsyncs += 1
        real_fsync(f)

    os.fsync = counting  # type: ignore[assignment]
    try:
        j = PulseJournal(tmp / "m.journal", sync_every=sync_every)
        fsyncs = 0
        t0 = time.perf_counter()
        for _ in range(n):
            j.add()
            j.maybe_sync()  # as the agent's tick does
        journal = time.perf_counter() - t0
        j.close()
        j = PulseJournal(tmp / "cb.journal", sync_every=n + 1)
        t0 = time.perf_counter()
        for _ in range(n):
            j.add()  # what runs on the pin's callback thread
        callback = time.perf_counter() - t0
        j.close()
    finally:
        os.fsync = real_fsync
    size = (tmp / "m.journal").stat().st_size
    print(f"pulses: bare write {n / bare:,.0f}/s; on the pin callback (journal write) {n / callback:,.0f}/s "
          f"({callback / n * 1e6:.1f} µs per pulse); with the tick's fsync every {sync_every} "
          f"{n / journal:,.0f}/s ({fsyncs * 1000 / n:.0f} fsync per 1000 pulses); journal file {size} bytes "
          "after compaction", flush=True)
    return {"bare_per_s": n / bare, "callback_per_s": n / callback, "journal_per_s": n / journal,
            "fsync_per_1000": fsyncs * 1000 / n, "journal_bytes": size}


def msg(i: int) -> Outgoing:
    return Outgoing(state_topic("bench", "water"), encode_state({"total_l": float(i)}, ts=1.79e9 + i, seq=i),
                    "total")


def bench_drain(tmp: Path, n: int) -> dict[str, float]:
    (tmp / "mosquitto").mkdir(exist_ok=True)
    broker = Mosquitto(tmp / "mosquitto")
    broker.start()
    try:
        link = MqttLink(LinkSettings("127.0.0.1", broker.port, "bench-base", persistent=False, manual_ack=False))
        link.start()
        assert link.wait_connected(10)
        t0 = time.perf_counter()
        for i in range(n):
            assert link.publish(msg(i).topic, msg(i).payload, qos=1, wait=10)
        base = time.perf_counter() - t0
        link.stop()
        print(f"baseline: link publishing {n} messages, each acked: {n / base:,.0f} msg/s", flush=True)

        spool = Spool(tmp / "spool.sqlite", max_messages=n * 2)
        t0 = time.perf_counter()
        for i in range(n):
            spool.append([msg(i)])
        append = time.perf_counter() - t0
        print(f"spool while offline: {n / append:,.0f} appends/s ({append / n * 1000:.2f} ms each, durable)",
              flush=True)
        link = MqttLink(LinkSettings("127.0.0.1", broker.port, "bench-agent", persistent=True, manual_ack=False))
        outbox = Outbox(link, spool)
        link.start()
        assert link.wait_connected(10)
        t0 = time.perf_counter()
        outbox.start()
        while len(spool):
            time.sleep(0.01)
        drain = time.perf_counter() - t0
        outbox.stop()
        link.stop()
        spool.close()
        print(f"drain: {n} spooled messages sent in order, each acked: {n / drain:,.0f} msg/s "
              f"({drain / base:.2f}x the baseline time)", flush=True)
    finally:
        broker.stop()
    return {"baseline_msgs_per_s": n / base, "spool_appends_per_s": n / append, "drain_msgs_per_s": n / drain}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pulses", type=int, default=20_000)
    ap.add_argument("--messages", type=int, default=5_000)
    ap.add_argument("--sync-every", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        p = bench_pulses(tmp, args.pulses, args.sync_every)
        q = bench_drain(tmp, args.messages)
    print(json.dumps({
        "pulse_bare_per_s": round(p["bare_per_s"]),
        "pulse_callback_per_s": round(p["callback_per_s"]),
        "pulse_journal_synced_per_s": round(p["journal_per_s"]),
        "fsync_per_1000_pulses": round(p["fsync_per_1000"], 1),
        "spool_appends_per_s": round(q["spool_appends_per_s"]),
        "baseline_publish_acked_per_s": round(q["baseline_msgs_per_s"]),
        "drain_per_s": round(q["drain_msgs_per_s"]),
        "drain_ratio": round(q["drain_msgs_per_s"] / q["baseline_msgs_per_s"], 3),
    }))


if __name__ == "__main__":
    main()
