"""What ``/healthz`` reports: each part of the site's monitoring with ``ok`` and, when not, the reason.

The site is being monitored only when readings arrive (broker connected), are committed soon after
(ingest lag), can be stored (stores writable, disk not full) and alerts can reach people (outbox not
degraded). ``/healthz`` answers 503 when any part is not ok, so the install's watchdog and ``houqin
doctor`` see what a person on the site would need to know.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboard.services import DashboardServices
from gateway.watchdog import ingest_health, stall_limit

log = logging.getLogger(__name__)

#: Below this much free space in the data directory, commits are about to fail (SQLite needs room for its WAL).
DISK_MIN_FREE_MB = 100.0


@dataclass(frozen=True, slots=True)
class Part:
    """One part of the health report."""

    ok: bool | None  # None: unknown or not configured (does not fail the report)
    reason: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The part as JSON."""
        return {"ok": self.ok, "reason": self.reason, **self.facts}


def broker(services: DashboardServices) -> Part:
    """The MQTT link to the broker."""
    if services.broker_connected is None:
        return Part(None, "no MQTT link in this process")
    if services.broker_connected():
        return Part(True)
    return Part(False, "not connected to the MQTT broker: readings and card decisions do not arrive; "
                       "check the broker (systemctl status mosquitto) and [mqtt] in the config")


def ingest(services: DashboardServices) -> Part:
    """Ingest lag: how old the oldest message waiting for its commit is, and when the last commit was."""
    source = services.stats_sources.get("ingest")
    if source is None:
        return Part(None, "no ingest in this process")
    stats = source.stats()
    now = services.clock.now()
    oldest, last = stats.get("oldest_unacked"), stats.get("last_commit")
    facts = {"oldest_unacked_age_s": None if oldest is None else round(now - oldest, 1),
             "last_commit_age_s": None if last is None else round(now - last, 1),
             "queue_depth": stats.get("queue_depth"), "commit_errors": stats.get("commit_errors", 0)}
    # A message waits up to its commit window by design: only longer means readings are not being stored.
    h = ingest_health(stats, now, None, stall_after=stall_limit(services.config.storage.commit_interval))
    if not h.ok:
        return Part(False, f"{h.reason}; see the log and the stores and disk parts", facts)
    return Part(True, "", facts)


def store(services: DashboardServices) -> Part:
    """The time-series store: its file writable and, for InfluxDB, the outbox and the server behind it."""
    if services.store is None:
        return Part(None, "no time-series store in this process")
    try:
        h = services.store.health()
    except Exception as e:
        log.exception("store health failed")
        return Part(False, f"the time-series store cannot tell its health: {type(e).__name__}: {e}")
    facts: dict[str, Any] = {"backend": h.backend, "writable": h.writable}
    if h.outbox is not None:
        o = h.outbox
        facts.update(outbox_depth=o.depth, reachable=o.reachable, degraded=o.degraded, outbox_dropped=o.dropped,
                     outbox_oldest_age_s=o.oldest_age_s)
    if not h.writable:
        return Part(False, "the time-series store's file is not writable (permissions or a read-only disk)", facts)
    if h.outbox is not None and h.outbox.degraded:
        return Part(False, f"the outbox to {h.backend} is filling ({h.outbox.depth} waiting"
                           f"{', server unreachable' if not h.outbox.reachable else ''}); readings are kept "
                           "until it is reachable, then dropped past the bound", facts)
    return Part(True, "", facts)


def events_db(services: DashboardServices) -> Part:
    """The events database takes a write lock and has room to grow."""
    conn = services.events_db.conn()
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        pages, most, free = (conn.execute(f"PRAGMA {p}").fetchone()[0]
                             for p in ("page_count", "max_page_count", "freelist_count"))
    except sqlite3.Error as e:
        return Part(False, f"the events database cannot be written: {e}")
    if pages >= most and free == 0:
        return Part(False, "the events database is full (its page limit is reached)")
    return Part(True)


def disk(data_dir: Path) -> Part:
    """Free space in the data directory."""
    try:
        usage = shutil.disk_usage(data_dir)
    except OSError as e:
        return Part(False, f"the data directory {data_dir} cannot be read: {e}")
    free_mb = usage.free / 1024 / 1024
    facts = {"free_mb": round(free_mb, 1), "total_mb": round(usage.total / 1024 / 1024, 1)}
    if free_mb < DISK_MIN_FREE_MB:
        return Part(False, f"only {free_mb:.0f} MB free in {data_dir} (at least {DISK_MIN_FREE_MB:.0f} MB needed): "
                           "commits will fail; free space or move old backups away", facts)
    return Part(True, "", facts)


def report(services: DashboardServices, live_clients: int) -> dict[str, Any]:
    """The whole report: ``ok``, ``parts`` with reasons, and the flat keys older clients read."""
    parts = {"broker": broker(services), "ingest": ingest(services), "store": store(services),
             "events_db": events_db(services), "disk": disk(services.config.storage.path)}
    ok = all(p.ok is not False for p in parts.values())
    s = parts["store"].facts
    return {
        "ok": ok,
        "reasons": [f"{name}: {p.reason}" for name, p in parts.items() if p.ok is False],
        "parts": {name: p.as_dict() for name, p in parts.items()},
        "broker_connected": parts["broker"].ok,
        "events_db_writable": parts["events_db"].ok,
        "store_writable": s.get("writable"),
        "outbox_depth": s.get("outbox_depth"),
        "store_backend": s.get("backend"),
        "store_reachable": s.get("reachable"),
        "store_degraded": s.get("degraded"),
        "outbox_dropped": s.get("outbox_dropped"),
        "outbox_oldest_age_s": s.get("outbox_oldest_age_s"),
        "live_clients": live_clients,
    }
