"""``houqin storage status``: backend, reachability, version, outbox depth and age, drops, last error.

Exit status: 0 healthy, 1 configuration error, 3 InfluxDB unreachable, refusing the credentials, points
dropped from the outbox, or an outbox that cannot be read (so a cron job or monitoring check can alert on it).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.cli.common import add_config_option, config_from_args
from gateway.errors import StoreError
from gateway.values import format_duration

if TYPE_CHECKING:
    from gateway.config import Config


def add_status(storage_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``houqin storage status``."""
    p = storage_sub.add_parser("status", help="backend, reachability, outbox depth, oldest unsent point, drops")
    add_config_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=status)


def status(args: argparse.Namespace) -> int:
    """Print the time-series backend's health; 3 when it needs attention."""
    cfg = config_from_args(args)
    if cfg is None:
        return 1
    info = collect(cfg, time.time())
    if args.json:
        print(json.dumps(info, ensure_ascii=False, sort_keys=True))
    else:
        for line in describe(info):
            print(line)
    return 0 if info["healthy"] else 3


def collect(cfg: Config, now: float) -> dict[str, Any]:
    """The status as a flat dict (what ``--json`` prints)."""
    if cfg.storage.timeseries != "influxdb" or cfg.influxdb is None:
        from gateway.store.sqlite import TIMESERIES_DB_NAME

        path = cfg.storage.path / TIMESERIES_DB_NAME
        size = sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
        return {"backend": "sqlite", "path": str(path), "exists": path.exists(), "size_bytes": size,
                "healthy": path.exists()}
    from gateway.store.influx import choose_api
    from gateway.store.influx_http import InfluxHttp
    from gateway.store.outbox import OUTBOX_DB_NAME

    s = cfg.influxdb
    info: dict[str, Any] = {"backend": "influxdb", "url": s.safe_url, "configured_api": s.api,
                            "database": s.query_database, "reachable": False, "version": None, "api": None,
                            "credentials_ok": None, "error": ""}
    http = InfluxHttp(s)
    try:
        version = http.ping()
        info.update(reachable=True, version=version or None, api=choose_api(s, version))
        try:
            http.query("SHOW MEASUREMENTS LIMIT 1")
            info["credentials_ok"] = True
        except StoreError as e:
            info["credentials_ok"] = "credentials" not in str(e)
            info["error"] = str(e)
    except StoreError as e:
        info["error"] = str(e)
    finally:
        http.close()
    info.update(outbox(cfg.storage.path / OUTBOX_DB_NAME, now))
    info["healthy"] = bool(info["reachable"] and info["credentials_ok"] and not info["dropped"]
                           and not info["read_error"])
    return info


def outbox(path: Path, now: float) -> dict[str, Any]:
    """Depth, oldest unsent point, counters and the last error the gateway recorded in ``outbox.db``.

    ``read_error`` says why the file could not be read; its depth and counters are then None (unknown), never a
    reassuring 0. ``exists`` is False when there is no file yet (the gateway has not queued anything there).
    """
    from gateway.store.outbox import read_counts

    out: dict[str, Any] = {"outbox": str(path), "depth": 0, "oldest_unsent_age_s": None, "oldest_unsent_ts": None,
                           "dropped": 0, "rejected": 0, "sent": 0, "last_error": "", "degraded_reason": "",
                           "last_success_at": None, "read_error": "", "exists": path.exists()}
    if not out["exists"]:
        return out  # nothing was ever queued
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            c = read_counts(conn)
            state = dict(conn.execute("SELECT key, value FROM state").fetchall())
        finally:
            conn.close()
    except sqlite3.Error as e:
        out.update(depth=None, dropped=None, rejected=None, sent=None,
                   read_error=f"cannot read {path} ({e}), so what waits in it is unknown; check the disk and the "
                              "file (`sqlite3 FILE 'PRAGMA quick_check'`)")
        return out
    out.update(depth=c.depth, dropped=c.dropped, rejected=c.rejected, sent=c.sent,
               oldest_unsent_age_s=None if c.oldest_queued_at is None else max(0.0, now - c.oldest_queued_at),
               oldest_unsent_ts=None if c.oldest_ts_ms is None else c.oldest_ts_ms / 1000,
               last_error=state.get("last_error", ""), degraded_reason=state.get("degraded_reason", ""),
               last_success_at=float(state["last_success_at"]) if state.get("last_success_at") else None)
    return out


def describe(info: dict[str, Any]) -> list[str]:
    """Lines for people."""
    if info["backend"] == "sqlite":
        state = f"{info['size_bytes'] / 1e6:.1f} MB" if info["exists"] else "not created yet"
        return ["backend:      sqlite (embedded)", f"database:     {info['path']} ({state})"]
    reach = "yes" if info["reachable"] else "NO"
    if info["reachable"] and info["credentials_ok"] is False:
        reach += " (credentials REFUSED)"
    age = info["oldest_unsent_age_s"]
    lines = [
        "backend:      influxdb",
        f"url:          {info['url']} (database {info['database']!r})",
        f"reachable:    {reach}",
        f"version:      {info['version'] or '-'} (api {info['api'] or info['configured_api']})",
        f"outbox:       {outbox_line(info)}",
        f"oldest unsent: {format_duration(age) + ' ago' if age is not None else '-'}",
        f"dropped:      {known(info['dropped'])} (outbox full)   refused: {known(info['rejected'])}   "
        f"sent: {known(info['sent'])}",
    ]
    if info["degraded_reason"]:
        lines.append(f"DEGRADED:     {info['degraded_reason']}")
    if info["error"]:
        lines.append(f"now:          {info['error']}")
    if info["last_error"]:
        lines.append(f"last error:   {info['last_error']}")
    return lines


def outbox_line(info: dict[str, Any]) -> str:
    """What waits in an outbox, as ``outbox()`` found it: the count, no file yet, or why it cannot be read."""
    if info["read_error"]:
        return str(info["read_error"])
    if not info["exists"]:
        return f"none (no outbox at {info['outbox']} yet: the gateway has not queued anything there)"
    return f"{info['depth']} point(s) waiting in {info['outbox']}"


def known(n: int | None) -> str:
    """A counter, or "unknown" when its file could not be read."""
    return "unknown" if n is None else str(n)
