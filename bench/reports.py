"""Benchmark the reports on one-minute data: the weekly utility report (per meter: a week in 5-minute
sums, four earlier weeks per day, two weeks of night baselines), a month of cold-storage sheets and
the rendering of the e-mail (HTML + PNG charts) and printable page.

The baseline computes the same week totals the naive way in the same run on the same file: every
raw usage reading of the five weeks fetched and summed in Python.
Progress goes to stderr; the last line printed is JSON.

    .venv/bin/python bench/reports.py                       # 120 days, 4 meters, 3 fridges
    .venv/bin/python bench/reports.py --days 30 --meters 2 --fridges 1
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

# bench/dashboard.py would shadow the dashboard package (the script's folder comes first on sys.path).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from typing import Any

from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.eventsdb import EventsDB
from gateway.model import Reading
from gateway.reports.render import Renderer
from gateway.reports.sheet import ColdSheet
from gateway.reports.weekly import WeeklyBuilder, last_full_week
from gateway.store.sqlite import SqliteStore

TZ = "Asia/Shanghai"


def timed(fn: Any, runs: int) -> tuple[float, Any]:
    """Median seconds of ``runs`` calls and the last result."""
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--meters", type=int, default=4)
    ap.add_argument("--fridges", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="houqin-bench-reports-"))
    devices = ([{"id": f"water-{i}", "kind": "water_meter"} for i in range(args.meters // 2)]
               + [{"id": f"power-{i}", "kind": "power_meter"} for i in range(args.meters - args.meters // 2)]
               + [{"id": f"fridge-{i}", "kind": "fridge"} for i in range(args.fridges)])
    cfg = parse_config({"site": {"id": "bench", "timezone": TZ}, "storage": {"dir": str(tmp)}, "devices": devices,
                        "reports": {"tariff": {"water": {"kind": "tiered", "tiers": [{"up_to": 30, "price": 3},
                                                                                    {"price": 5}]},
                                               "power": {"kind": "flat", "price": 0.7}}}})
    store = SqliteStore(tmp / "timeseries.db")
    db = EventsDB(tmp / "events.db")
    end_day = date(2026, 11, 23)
    start = datetime.combine(end_day - timedelta(days=args.days), datetime.min.time()).timestamp()
    end = datetime.combine(end_day, datetime.min.time()).timestamp()
    t0 = time.perf_counter()
    batch: list[Reading] = []
    ts = start
    n = 0
    while ts < end:
        for d in devices:
            if d["kind"] == "fridge":
                batch.append(Reading(ts, d["id"], "temperature", 4.0 + (n % 17) / 10))
            else:
                metric = "usage_l" if d["kind"] == "water_meter" else "usage_wh"
                batch.append(Reading(ts, d["id"], metric, 1.0 + (n % 5)))
        n += 1
        ts += 60
        if len(batch) >= 20_000:
            store.write(batch)
            batch = []
    store.write(batch)
    print(f"wrote {n * len(devices):,} readings in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    now = end + 8 * 3600
    clock = ManualClock(now)
    builder = WeeklyBuilder(cfg, store)
    week = last_full_week(now, cfg.site.tz)
    weekly_s, report = timed(lambda: builder.build(week, now), args.runs)

    def naive() -> list[float]:
        out = []
        for d in devices:
            if d["kind"] == "fridge":
                continue
            metric = "usage_l" if d["kind"] == "water_meter" else "usage_wh"
            for i in range(5):
                w = week.shifted(-i)
                out.append(sum(r.value for r in store.query(d["id"], metric, w.start, w.end)))
        return out

    baseline_s, totals = timed(naive, args.runs)
    assert abs(totals[0] / 1000 - report.meters[0].total) < 1e-6, "the report and the baseline disagree"
    renderer = Renderer("zh-CN", cfg.site.tz, "bench")
    email_s, (html, images) = timed(lambda: renderer.weekly_email(report), args.runs)
    page_s, _ = timed(lambda: renderer.weekly_html(report), args.runs)
    sheet = ColdSheet(cfg, store, db, clock)
    month_cold_s, _ = timed(lambda: ColdSheet(cfg, store, EventsDB(tmp / f"e{time.perf_counter_ns()}.db"), clock)
                            .month(2026, 10), 1)
    month_warm_s, lines = timed(lambda: sheet.month(2026, 10), args.runs)  # first call froze the days
    store.close()
    db.close()
    figures = {
        "days": args.days, "meters": args.meters, "fridges": args.fridges,
        "weekly_report_s": round(weekly_s, 4), "baseline_raw_sums_s": round(baseline_s, 4),
        "speedup": round(baseline_s / weekly_s, 1) if weekly_s else None,
        "email_render_s": round(email_s, 4), "email_html_kb": round(len(html) / 1024, 1),
        "email_png_kb": round(sum(len(i.png) for i in images) / 1024, 1), "page_render_s": round(page_s, 4),
        "sheet_month_first_s": round(month_cold_s, 3), "sheet_month_frozen_s": round(month_warm_s, 4),
        "sheet_lines": len(lines),
    }
    print(f"weekly report: {weekly_s * 1000:.1f} ms (raw-sum baseline {baseline_s * 1000:.1f} ms); e-mail render "
          f"{email_s * 1000:.1f} ms; month of sheets {month_cold_s:.2f} s first, {month_warm_s * 1000:.1f} ms frozen",
          file=sys.stderr)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
