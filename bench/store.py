"""Benchmark the SQLite time-series store: a year of one-minute readings, then the weekly-report queries.

Devices: fridges (``temperature``), water meters (``total_l`` and the ``usage_l`` the gateway
derives), power meters (``usage_wh``). Queries, for the last full local week:

- per-day usage per meter for the week;
- per-hour mean, min and max per fridge for the week;
- night baseline per meter over four weeks: the lowest hourly usage between 00:00 and 05:00 local.

The baseline answers the same queries from raw rows (no rollups), in the same run, on the same file.
Progress goes to stderr; the last line printed is JSON.

    .venv/bin/python bench/store.py                 # the full year, 30 devices
    .venv/bin/python bench/store.py --days 30 --devices 6
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from gateway.model import Reading
from gateway.store.sqlite import TIMESERIES_DB_NAME, SqliteStore

TZ = ZoneInfo("Asia/Shanghai")
DAY = 86400.0


def series_for(devices: int) -> list[tuple[str, str, str]]:
    """(kind, device, metric) for ``devices`` devices split evenly among fridges, water and power meters."""
    out = []
    for i in range(devices):
        kind = ("fridge", "water", "power")[i % 3]
        dev = f"{kind}-{i // 3 + 1}"
        if kind == "fridge":
            out.append((kind, dev, "temperature"))
        elif kind == "water":
            out += [(kind, dev, "total_l"), (kind, dev, "usage_l")]
        else:
            out.append((kind, dev, "usage_wh"))
    return out


def day_readings(day_start: float, series: list[tuple[str, str, str]], rng: random.Random,
                 totals: dict[str, float]) -> list[Reading]:
    """One day of one-minute readings for every series, in time order like ingest delivers them."""
    out: list[Reading] = []
    local = datetime.fromtimestamp(day_start, TZ)
    weekday = local.weekday() < 5
    for minute in range(1440):
        ts = day_start + minute * 60
        hour = minute // 60
        open_hours = weekday and 7 <= hour < 18
        for kind, dev, metric in series:
            if kind == "fridge":
                v = round(4.0 + 1.5 * math.sin(minute / 9.0) + rng.gauss(0, 0.2), 2)
            elif metric == "usage_l":
                v = round((rng.uniform(0, 12) if open_hours else rng.uniform(0, 0.4)), 3)
                totals[dev] = totals.get(dev, 0.0) + v
            elif metric == "total_l":
                v = round(totals.get(dev, 0.0), 3)
            else:
                v = round(rng.uniform(100, 400) if open_hours else rng.uniform(5, 30), 1)
            out.append(Reading(ts, dev, metric, v))
    return out


def weekly_queries(store: SqliteStore, series: list[tuple[str, str, str]], week_start: float,
                   raw: bool) -> dict[str, float]:
    """Run the weekly-report queries; returns ms per group (and checks they returned data)."""
    agg = store.aggregate_raw if raw else store.aggregate
    week_end = week_start + 7 * DAY
    meters = [(dev, metric) for kind, dev, metric in series if metric in ("usage_l", "usage_wh")]
    fridges = [dev for kind, dev, _ in series if kind == "fridge"]
    ms: dict[str, float] = {}

    cpu = time.process_time()
    t = time.perf_counter()
    for dev, metric in meters:
        days = agg(dev, metric, week_start, week_end, DAY, "sum", TZ)
        assert len(days) == 7, (dev, len(days))
    ms["daily_usage"] = (time.perf_counter() - t) * 1000

    t = time.perf_counter()
    for dev in fridges:
        for fn in ("mean", "min", "max"):
            hours = agg(dev, "temperature", week_start, week_end, 3600, fn, TZ)  # type: ignore[arg-type]
            assert len(hours) == 168, (dev, len(hours))
    ms["fridge_hourly"] = (time.perf_counter() - t) * 1000

    t = time.perf_counter()
    four_weeks = week_end - 28 * DAY
    night_of: dict[float, str] = {}  # the report's calendar: hour start -> night, for 00:00-05:00 local
    for h in range(28 * 24):
        local = datetime.fromtimestamp(four_weeks + h * 3600, TZ)
        if local.hour < 5:
            night_of[four_weeks + h * 3600] = local.date().isoformat()
    for dev, metric in meters:
        hours = agg(dev, metric, four_weeks, week_end, 3600, "sum", TZ)
        nights: dict[str, float] = {}
        for b in hours:
            key = night_of.get(b.start)
            if key is not None:
                nights[key] = min(nights.get(key, math.inf), b.value)
        assert len(nights) == 28, (dev, len(nights))
    ms["night_baseline"] = (time.perf_counter() - t) * 1000
    ms["total"] = sum(ms.values())
    ms["total_cpu"] = (time.process_time() - cpu) * 1000
    return ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365, help="days of one-minute data (default 365)")
    ap.add_argument("--devices", type=int, default=30, help="devices (default 30: 10 of each kind)")
    ap.add_argument("--dir", type=Path, default=None, help="where to put the store (default: a temp dir)")
    args = ap.parse_args()
    if args.days < 29:
        ap.error("--days must be at least 29 (the night baseline looks back four weeks)")
    series = series_for(args.devices)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / TIMESERIES_DB_NAME
        # Start on a local midnight so the last full week is easy to find.
        end_local = datetime(2026, 11, 16, tzinfo=TZ)  # a Monday
        start = (end_local - timedelta(days=args.days)).timestamp()
        rng = random.Random(42)
        totals: dict[str, float] = {}
        rows = 0
        write_s = 0.0
        write_cpu_s = 0.0  # CPU time too: on a shared machine, wall time also measures the neighbours
        t_all = time.perf_counter()
        with SqliteStore(path) as store:
            for d in range(args.days):
                batch = day_readings(start + d * DAY, series, rng, totals)
                t, cpu = time.perf_counter(), time.process_time()
                store.write(batch)
                write_s += time.perf_counter() - t
                write_cpu_s += time.process_time() - cpu
                rows += len(batch)
                if d % 10 == 9 or d == args.days - 1:
                    print(f"\rwrote {d + 1}/{args.days} days, {rows:,} rows, "
                          f"{rows / write_s:,.0f} rows/s in write()", end="", file=sys.stderr, flush=True)
            print(file=sys.stderr)
            total_s = time.perf_counter() - t_all
            db_mb = store.size_bytes() / 1e6

        week_start = (end_local - timedelta(days=7)).timestamp()
        results = {}
        for name, raw in (("rollups", False), ("raw", True)):
            with SqliteStore(path) as store:  # a fresh connection, as a report job would open
                results[name] = weekly_queries(store, series, week_start, raw)
        with SqliteStore(path) as store:
            t = time.perf_counter()
            report = store.maintenance(end_local.timestamp())  # default retention: raw kept 90 days
            maintenance_s = time.perf_counter() - t
        print(f"nightly maintenance: {report.deleted_raw:,} raw rows past retention deleted in {maintenance_s:.1f} s,"
              f" {report.size_before / 1e6:.1f} MB -> {report.size_after / 1e6:.1f} MB", file=sys.stderr)
        for name, ms in results.items():
            print(f"{name:8s} " + "  ".join(f"{k} {v:8.1f} ms" for k, v in ms.items()), file=sys.stderr)
        print(f"rows {rows:,}  db {db_mb:.1f} MB  write {rows / write_s:,.0f} rows/s "
              f"({rows / write_cpu_s:,.0f} per CPU second) "
              f"(generation + write {rows / total_s:,.0f} rows/s)", file=sys.stderr)
        print(json.dumps({
            "rows": rows,
            "series": len(series),
            "days": args.days,
            "db_mb": round(db_mb, 1),
            "write_rows_per_s": round(rows / write_s),
            "write_rows_per_cpu_s": round(rows / write_cpu_s),
            "weekly_queries_ms": round(results["rollups"]["total"], 1),
            "weekly_queries_cpu_ms": round(results["rollups"]["total_cpu"], 1),
            "weekly_queries_ms_by_group": {k: round(v, 1) for k, v in results["rollups"].items()},
            "baseline_raw_weekly_queries_ms": round(results["raw"]["total"], 1),
            "baseline_raw_by_group": {k: round(v, 1) for k, v in results["raw"].items()},
            "speedup": round(results["raw"]["total"] / results["rollups"]["total"], 1),
            "maintenance_s": round(maintenance_s, 1),
            "db_mb_after_retention": round(report.size_after / 1e6, 1),
        }))


if __name__ == "__main__":
    main()
