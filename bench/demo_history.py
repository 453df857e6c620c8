"""Benchmark ``houqin demo --history``: the simulated weeks written into a fresh SQLite store.

The baseline, measured in the same run: only stepping the same device models over the same days at the
same one-minute resolution (no readings built, no usage derived, nothing stored) — the floor for any
backfill that simulates. The full run is ``demo.backfill.backfill`` as the demo calls it (readings,
``Meters`` usage, day-sized store batches, meter state committed). CPU seconds are printed beside wall
seconds because the wall clock on a shared machine measures the other processes too.
Progress goes to stderr; the last line printed is JSON.

    .venv/bin/python bench/demo_history.py              # 28 days
    .venv/bin/python bench/demo_history.py --days 7
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

# bench/dashboard.py would shadow the dashboard package (the script's folder comes first on sys.path).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import tempfile
import time

from demo.backfill import STEP_S, _CachedDay, backfill, leak_window
from demo.command import demo_config_text
from demo.sim.base import DeviceModel
from demo.simulator import SimulatedSite
from gateway.app import build_store
from gateway.config import load_config
from gateway.eventsdb import EVENTS_DB_NAME, EventsDB

TZ = "Asia/Shanghai"


def models_only(start: float, end: float) -> None:
    """Step the history's device models from ``start`` to ``end``, discarding what they report."""
    site = SimulatedSite(start=start, seed=1, timezone=TZ)
    models: list[DeviceModel] = [*site.fridges.values(), site.freezer, site.sample_fridge, site.water, site.power]
    day = _CachedDay(TZ)
    t = start
    while t < end:
        for m in models:
            m.step(t, STEP_S, day)
        t += STEP_S


def main() -> None:
    """Run both and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=float, default=28.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="houqin-bench-history-") as tmp:
        d = Path(tmp)
        (d / "houqin.toml").write_text(demo_config_text(d / "data", 1883, 8080), encoding="utf-8")
        cfg = load_config(d / "houqin.toml")
        cfg.storage.path.mkdir(parents=True)
        db = EventsDB(cfg.storage.path / EVENTS_DB_NAME)
        store = build_store(cfg)
        end = time.time()
        try:
            print(f"backfill of {args.days:g} days into {cfg.storage.path} ...", file=sys.stderr)
            w0, c0 = time.perf_counter(), time.process_time()
            result = backfill(cfg, store, db, days=args.days, end=end, leak=leak_window(end, TZ),
                              progress=lambda done, total: print(f"\r  day {done / 86400:.0f}/{total / 86400:.0f}",
                                                                 end="", file=sys.stderr, flush=True))
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            print(file=sys.stderr)
            size_mb = (cfg.storage.path / "timeseries.db").stat().st_size / 1e6
        finally:
            store.close()
            db.close()
    print("baseline: the same models stepped over the same span, nothing stored ...", file=sys.stderr)
    w0, c0 = time.perf_counter(), time.process_time()
    models_only(result.start, result.end)
    base_wall, base_cpu = time.perf_counter() - w0, time.process_time() - c0
    print(f"span:      {result.days:.1f} days (from a Monday), {result.readings:,} readings, store {size_mb:.0f} MB")
    print(f"baseline:  {base_wall:.2f} s wall, {base_cpu:.2f} s CPU (models only)")
    print(f"backfill:  {wall:.2f} s wall, {cpu:.2f} s CPU, {result.readings / max(cpu, 1e-9):,.0f} readings per CPU s")
    print(json.dumps({"days": round(result.days, 2), "readings": result.readings,
                      "baseline_cpu_s": round(base_cpu, 2), "backfill_cpu_s": round(cpu, 2),
                      "backfill_wall_s": round(wall, 2), "ratio_to_baseline": round(cpu / max(base_cpu, 1e-9), 2),
                      "store_mb": round(size_mb, 1)}))


if __name__ == "__main__":
    main()
