"""Bytes written per reading by the SQLite store's fold, in a store that has run for days.

``bench/flash.py`` runs three minutes on a new store: it sees the commits (one inbox page each) and one
fold at stop into nearly empty tables, not what a long-running store pays at every ``[storage]
fold_interval``: each series' last raw page and both rollups' last pages rewritten, into the WAL and
again into the database file at the checkpoint after the fold. Here a store is filled with ``--days``
of readings for ``--series`` devices every 10 s (folded hourly, as the service would have), then for each
interval the readings of one interval are committed to the inbox (not counted) and one fold and its
checkpoint are measured from ``/proc/self/io`` ``write_bytes``. The last line printed is JSON.

    .venv/bin/python bench/flash_fold.py [--series 30] [--days 3] [--minutes 15,60]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.model import Reading  # noqa: E402
from gateway.store.sqlite import SqliteStore  # noqa: E402

PERIOD_S = 10.0


def write_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", type=int, default=30)
    ap.add_argument("--days", type=float, default=3.0)
    ap.add_argument("--minutes", default="15,60", help="fold intervals to measure, comma-separated")
    args = ap.parse_args()
    devices = [f"fridge-{i:03d}" for i in range(args.series)]
    rng = random.Random(14)
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="houqin-fold-") as tmp:
        store = SqliteStore(Path(tmp) / "timeseries.db", fold_every=1e9)  # folded by hand below
        t = time.time() - args.days * 86400
        per_hour = int(3600 / PERIOD_S)
        while t < time.time() - 3600:
            store.write([Reading(t + k * PERIOD_S + i * 0.01, d, "temperature", round(4 + rng.gauss(0, 0.3), 2))
                         for k in range(per_hour) for i, d in enumerate(devices)])
            store.fold()
            t += 3600
        store.checkpoint()
        for minutes in (float(m) for m in args.minutes.split(",")):
            for k in range(int(minutes * 60 / PERIOD_S)):  # one commit per 10 s window, as ingest does
                store.write([Reading(t + k * PERIOD_S + i * 0.01, d, "temperature", round(4 + rng.gauss(0, 0.3), 2))
                             for i, d in enumerate(devices)])
            store.checkpoint()
            os.sync()
            before = write_bytes()
            moved = store.fold()
            store.checkpoint()
            os.sync()
            written = write_bytes() - before
            t += minutes * 60
            print(f"fold of {minutes:g} min ({moved} readings, {args.series} series): {written} bytes,"
                  f" {written / max(moved, 1):.0f} per reading", flush=True)
            out[f"fold_bytes_per_reading_{minutes:g}m"] = round(written / max(moved, 1), 1)
        store.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
