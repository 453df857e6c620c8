"""Benchmark the InfluxDB backend's outbox against a real influxd 1.6 started in a temp dir.

Figures: write() into the durable outbox (rows/s, ingest-sized batches), end-to-end delivery through
the forwarder (rows/s), outbox bytes per point, draining a backlog after an outage (rows/s), and the
baseline measured in the same run: the same lines POSTed straight to /write with no outbox.

    .venv/bin/python bench/influx_outbox.py [--rows 200000] [--batch 100]

Last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.model import Reading
from gateway.store.influx import InfluxStore
from gateway.store.influx_settings import InfluxSettings
from gateway.store.lineprotocol import line, to_ms
from tests.influxdb import Influxd

T0 = 1_790_000_000.0


def readings(n: int, devices: int = 30) -> list[Reading]:
    return [Reading(T0 + (i // devices) * 60, f"dev-{i % devices}", "temperature", (i % 97) / 10) for i in range(n)]


def wait_drained(store: InfluxStore, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while store.status().depth:
        if time.monotonic() > deadline:
            raise SystemExit("outbox did not drain")
        time.sleep(0.01)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=100, help="readings per write() (an ingest batch)")
    args = ap.parse_args()
    rs = readings(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        server = Influxd(Path(tmp) / "influxd")
        server.start()
        try:
            # Baseline: the same line protocol straight to /write, 5000 per request, no outbox.
            server.query('CREATE DATABASE "baseline"')
            lines = [line("houqin", {"site": "kg", "device": r.device}, {r.metric: r.value}, to_ms(r.ts)) for r in rs]
            t = time.perf_counter()
            for i in range(0, len(lines), 5000):
                req = urllib.request.Request(f"{server.url}/write?db=baseline&precision=ms",
                                             data="\n".join(lines[i:i + 5000]).encode(), method="POST")
                urllib.request.urlopen(req, timeout=60).close()
            direct = len(lines) / (time.perf_counter() - t)
            print(f"baseline: direct /write {direct:,.0f} rows/s", file=sys.stderr)

            # Through the outbox with the forwarder thread running: write() rate and delivery rate.
            settings = InfluxSettings(url=server.url, database="live")
            store = InfluxStore(settings, site="kg", outbox_path=Path(tmp) / "live.db")
            t = time.perf_counter()
            for i in range(0, len(rs), args.batch):
                store.write(rs[i:i + args.batch])
            t_write = time.perf_counter() - t
            wait_drained(store)
            t_all = time.perf_counter() - t
            store.close()
            write_rate, live_rate = len(rs) / t_write, len(rs) / t_all
            print(f"outbox write(): {write_rate:,.0f} rows/s in batches of {args.batch}; delivered end to end "
                  f"{live_rate:,.0f} rows/s", file=sys.stderr)

            # An outage: everything queues, then the backlog drains when InfluxDB is back.
            server.stop()
            settings = InfluxSettings(url=server.url, database="backlog", timeout="2s")
            store = InfluxStore(settings, site="kg", outbox_path=Path(tmp) / "backlog.db", start=False)
            for i in range(0, len(rs), 5000):
                store.write(rs[i:i + 5000])
            db = Path(tmp) / "backlog.db"
            size = sum(p.stat().st_size for p in (db, db.with_name(db.name + "-wal")) if p.exists())
            bytes_per_point = size / len(rs)
            server.start()
            t = time.perf_counter()
            store.forwarder.pump()
            drain_rate = len(rs) / (time.perf_counter() - t)
            assert store.status().depth == 0
            store.close()
            print(f"outbox on disk: {bytes_per_point:.0f} bytes/point; backlog drained at {drain_rate:,.0f} rows/s",
                  file=sys.stderr)
            counts = {db_: server.count(db_, "houqin", "temperature") for db_ in ("baseline", "live", "backlog")}
            assert all(c == len(rs) for c in counts.values()), counts
        finally:
            server.stop()
    print(json.dumps({
        "rows": len(rs), "batch": args.batch,
        "outbox_write_rows_per_s": round(write_rate), "delivered_rows_per_s": round(live_rate),
        "backlog_drain_rows_per_s": round(drain_rate), "outbox_bytes_per_point": round(bytes_per_point),
        "baseline_direct_write_rows_per_s": round(direct),
    }))


if __name__ == "__main__":
    main()
