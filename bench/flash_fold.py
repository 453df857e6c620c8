"""Bytes written per reading by the SQLite store's fold, in a store that has run for days.

``bench/flash.py`` runs minutes on a new store: it sees the commits (one inbox page each), not what a
long-running store pays at every ``[storage] fold_interval``: the hour's rows appended to raw and the
rollups, into the WAL and again into the database file at the checkpoint after the fold (``flash.py``
adds this figure, measured here, to its own). Here a store is filled with ``--days``
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


def measure(series: int, days: float, minutes: list[float]) -> dict[float, float]:
    """Bytes written per reading by one fold of each of ``minutes`` (with its checkpoint) into ``days`` of data."""
    devices = [f"fridge-{i:03d}" for i in range(series)]
    rng = random.Random(14)
    out: dict[float, float] = {}
    with tempfile.TemporaryDirectory(prefix="houqin-fold-") as tmp:
        store = SqliteStore(Path(tmp) / "timeseries.db", fold_every=1e9)  # folded by hand below
        t = time.time() - days * 86400
        t -= t % 3600  # the service folds just after each hour turns, the hours that are over (see fold_interval)
        per_hour = int(3600 / PERIOD_S)
        while t < time.time() - 3600:
            store.write([Reading(t + k * PERIOD_S + i * 0.01, d, "temperature", round(4 + rng.gauss(0, 0.3), 2))
                         for k in range(per_hour) for i, d in enumerate(devices)])
            t += 3600
            store.fold(before=t)
        store.checkpoint()
        for interval in minutes:
            for k in range(int(interval * 60 / PERIOD_S)):  # one commit per 10 s window, as ingest does
                store.write([Reading(t + k * PERIOD_S + i * 0.01, d, "temperature", round(4 + rng.gauss(0, 0.3), 2))
                             for i, d in enumerate(devices)])
            store.checkpoint()
            os.sync()
            before = write_bytes()
            moved = store.fold(before=t + interval * 60)
            store.checkpoint()
            os.sync()
            written = write_bytes() - before
            t += interval * 60
            print(f"fold of {interval:g} min ({moved} readings, {series} series): {written} bytes,"
                  f" {written / max(moved, 1):.0f} per reading", flush=True)
            out[interval] = round(written / max(moved, 1), 1)
        store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", type=int, default=30)
    ap.add_argument("--days", type=float, default=3.0)
    ap.add_argument("--minutes", default="15,60", help="fold intervals to measure, comma-separated")
    args = ap.parse_args()
    out = measure(args.series, args.days, [float(m) for m in args.minutes.split(",")])
    print(json.dumps({f"fold_bytes_per_reading_{m:g}m": v for m, v in out.items()}))


if __name__ == "__main__":
    main()
