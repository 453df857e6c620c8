"""``houqin tail``: readings as they are stored, within a second, while the service runs.

It polls the time-series store rather than subscribing to MQTT: it shows exactly what was stored
(with the usage derived from meter totals), works with any broker and does not disturb the
gateway's persistent session.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable

from gateway.cli.common import add_config_option, config_from_args, open_store
from gateway.cli.query import format_value, known_devices, local_time, reading_json
from gateway.cli.signals import stop_on_signals
from gateway.model import Reading
from gateway.store.base import TimeSeriesStore

POLL_S = 1.0
#: How far back the first poll looks, so a just-started tail shows the latest readings.
BACKLOG_S = 60.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command."""
    p = sub.add_parser("tail", help="show readings live as they arrive (Ctrl-C to stop)")
    add_config_option(p)
    p.add_argument("--device", help="only this device")
    p.add_argument("--json", action="store_true", help='one JSON object per line: {"ts","device","metric","value"}')
    p.set_defaults(func=run)


def follow(store: TimeSeriesStore, emit: Callable[[Reading], None], stop: threading.Event, *,
           device: str | None = None, poll_s: float = POLL_S, now: Callable[[], float] = time.time) -> None:
    """Call ``emit`` for every reading stored from ``BACKLOG_S`` ago on, until ``stop`` is set."""
    cursor: dict[tuple[str, str], float] = {}
    start = now() - BACKLOG_S
    while not stop.is_set():
        for s in store.series(device):
            key = (s.device, s.metric)
            last = cursor.get(key, start)
            if s.last_ts <= last:
                continue
            for r in store.query(s.device, s.metric, last, s.last_ts + 0.001):
                if r.ts > last:
                    emit(r)
            cursor[key] = s.last_ts
        stop.wait(poll_s)


def run(args: argparse.Namespace) -> int:
    """Print readings until Ctrl-C."""
    cfg = config_from_args(args)
    if cfg is None:
        return 1
    store = open_store(cfg, args)
    if store is None:
        return 1
    try:
        if args.device and cfg.device(args.device) is None and not store.series(args.device):
            print(f"unknown device {args.device!r}; devices: {', '.join(known_devices(cfg, store))}",
                  file=sys.stderr)
            return 1
        tz = cfg.site.tz

        def emit(r: Reading) -> None:
            if args.json:
                print(reading_json(r), flush=True)
            else:
                print(f"{local_time(r.ts, tz)}  {r.device:<16} {r.metric:<12} {format_value(r.metric, r.value)}",
                      flush=True)

        print(f"following {args.device or 'every device'} in {cfg.storage.path} (Ctrl-C to stop)",
              file=sys.stderr, flush=True)
        # Ctrl-C (or SIGTERM) sets the event: follow() ends between two polls. A KeyboardInterrupt raised anywhere
        # could leave the store's lock held, and its close then waited for good.
        with stop_on_signals() as stop:
            follow(store, emit, stop, device=args.device)
    finally:
        store.close()
    return 0
