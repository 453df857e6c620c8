"""``houqin query DEVICE``: what the time-series store holds for a device, as a table or JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, tzinfo

from gateway.cli.common import add_config_option, config_from_args, open_store, since_from_args
from gateway.cli.lang import cli_locale, say
from gateway.config import Config
from gateway.contract import METRICS, display_value
from gateway.i18n import tr
from gateway.model import Reading
from gateway.store.base import TimeSeriesStore
from gateway.values import format_duration


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command."""
    p = sub.add_parser("query", help="show stored readings of a device")
    add_config_option(p)
    p.add_argument("device", help="device id, as in [[devices]]")
    p.add_argument("--metric", help="only this metric (default: every metric of the device)")
    p.add_argument("--since", default="2h", help="how far back, e.g. 30m, 2h, 7d (default 2h)")
    p.add_argument("--json", action="store_true", help='one JSON object per line: {"ts","device","metric","value"}')
    p.set_defaults(func=run)


def known_devices(cfg: Config, store: TimeSeriesStore) -> list[str]:
    """Device ids in the config or in the store, sorted."""
    return sorted({d.id for d in cfg.devices} | {s.device for s in store.series()})


def format_value(metric: str, value: float) -> str:
    """A value for people: state names for state metrics, else the number with its unit."""
    shown = display_value(metric, value)
    if isinstance(shown, str):
        return shown
    spec = METRICS.get(metric)
    unit = f" {spec.unit}" if spec is not None and spec.unit else ""
    # ":g" would print a meter total of 9123456.1 Wh as "9.12346e+06": keep every digit up to 0.1
    return f"{round(shown, 6):.10g}{unit}" if abs(shown) < 1e6 else f"{shown:.1f}{unit}"


def local_time(ts: float, tz: tzinfo) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in the site's time zone."""
    return datetime.fromtimestamp(ts, UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def reading_json(r: Reading) -> str:
    """The JSON line of one reading."""
    return json.dumps({"ts": r.ts, "device": r.device, "metric": r.metric, "value": display_value(r.metric, r.value)},
                      ensure_ascii=False)


def status_line(cfg: Config, device: str, tz: tzinfo, locale: str = "en", store: TimeSeriesStore | None = None) -> str:
    """``fridge-1 (Kitchen fridge): last seen ..., online`` from the events database and the store, for people."""
    from gateway.device_status import device_status
    from gateway.eventsdb import EVENTS_DB_NAME, EventsDB

    settings = cfg.device(device)
    name = f"{device} ({settings.label})" if settings is not None and settings.name else device
    path = cfg.storage.path / EVENTS_DB_NAME
    db = EventsDB(path) if path.exists() else None  # none yet (or moved away): the store's times alone
    try:
        st = device_status(db, store).get(device)
    finally:
        if db is not None:
            db.close()
    if st is None:
        return tr(locale, "{name}: never heard from", name=name)
    # the last real reading or event: an availability message says nothing about the sensor measuring
    last = st.last_data if st.last_data is not None else st.last_seen
    ago = format_duration(max(0.0, time.time() - last))
    avail = "" if st.online is None else tr(locale, ", online" if st.online else ", OFFLINE")
    return tr(locale, "{name}: last seen {time} ({ago} ago)", name=name, time=local_time(last, tz), ago=ago) + avail


def run(args: argparse.Namespace) -> int:
    """Print the readings; exit 1 naming what exists when the device or metric is unknown."""
    cfg = config_from_args(args)
    if cfg is None:
        return 1
    since = since_from_args(args)
    if since is None:
        return 2
    store = open_store(cfg, args)
    if store is None:
        return 1
    try:
        series = store.series(args.device)
        if not series and cfg.device(args.device) is None:
            devices = known_devices(cfg, store)
            print(say(args, "unknown device {device}; devices: {devices}", device=repr(args.device),
                      devices=", ".join(devices) or say(args, "(none configured)")), file=sys.stderr)
            return 1
        metrics = sorted(s.metric for s in series)
        if args.metric:
            if args.metric not in metrics:
                print(say(args, "device {device} has no {metric} readings; it has: {metrics}",
                          device=repr(args.device), metric=repr(args.metric),
                          metrics=", ".join(metrics) or say(args, "(nothing stored yet)")), file=sys.stderr)
                return 1
            metrics = [args.metric]
        end = max([s.last_ts for s in series], default=0.0) + 1.0
        start = time.time() - since
        readings: list[Reading] = []
        for m in metrics:
            readings.extend(store.query(args.device, m, start, max(end, time.time() + 1.0)))
        readings.sort(key=lambda r: (r.ts, r.metric))
        tz = cfg.site.tz
        status = None if args.json else status_line(cfg, args.device, tz, cli_locale(args), store)
    finally:
        store.close()
    if status is None:
        for r in readings:
            print(reading_json(r))
        return 0
    print(status)
    if not readings:
        print(say(args, "no readings of {device} in the last {since}", device=repr(args.device), since=args.since),
              file=sys.stderr)
        return 0
    width = max(len(r.metric) for r in readings)
    print(f"{'time (' + cfg.site.timezone + ')':<20}  {'metric':<{width}}  value")
    for r in readings:
        print(f"{local_time(r.ts, tz):<20}  {r.metric:<{width}}  {format_value(r.metric, r.value)}")
    return 0
