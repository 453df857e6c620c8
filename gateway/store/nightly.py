"""The SQLite store's nightly maintenance (retention, optimise, checkpoint) as a gateway component.

``gateway.app.build_gateway`` adds it only when the time-series backend is the SQLite store (InfluxDB
applies its own retention).
"""

from __future__ import annotations

import logging
from datetime import datetime, time, tzinfo

from gateway.clock import Clock
from gateway.store.retention import MaintenanceReport
from gateway.store.sqlite import SqliteStore
from gateway.ticker import Ticker

log = logging.getLogger(__name__)

#: Local time of the nightly run: the school is closed and the day's reports are out.
MAINTENANCE_AT = time(3, 30)


class NightlyMaintenance:
    """Runs ``SqliteStore.maintenance`` once a night on ``tick()``; ``start()`` ticks in a thread."""

    def __init__(self, store: SqliteStore, clock: Clock, tz: tzinfo, *, at: time = MAINTENANCE_AT,
                 every: float = 60.0) -> None:
        self.store = store
        self.clock = clock
        self.tz = tz
        self.at = at
        self.every = every
        #: The last run as last read from the store or done here; None until known.
        self._last: float | None = None
        # join_timeout 60: stop waits for a run in progress (it commits in small steps)
        self._ticker = Ticker(self.tick, every, "houqin-store-maintenance", join_timeout=60)

    def due(self, now: float) -> bool:
        """True when it is past ``at`` local time and the store was not maintained since then."""
        local = datetime.fromtimestamp(now, self.tz)
        today_at = datetime.combine(local.date(), self.at, tzinfo=self.tz).timestamp()
        if now < today_at or (self._last is not None and self._last >= today_at):
            return False
        # Read only when a run looks due: the first read after a commit marks the WAL index, and a read
        # every minute wrote that 4 KiB page to the card once per commit window.
        self._last = self.store.last_maintenance()  # kept in the store, so a restart does not run it twice
        return self._last is None or self._last < today_at

    def tick(self, now: float | None = None) -> MaintenanceReport | None:
        """Run the maintenance if due; never raises (a failure is logged and retried next tick)."""
        t = self.clock.now() if now is None else now
        try:
            if not self.due(t):
                return None
            report = self.store.maintenance(t)
            self._last = t
        except Exception:
            log.exception("nightly maintenance of %s failed; will retry", self.store.path)
            return None
        log.info(
            "nightly maintenance of %s: deleted %d raw, %d 5-minute, %d hourly row(s); %.1f MB -> %.1f MB",
            self.store.path, report.deleted_raw, report.deleted_5m, report.deleted_1h,
            report.size_before / 1e6, report.size_after / 1e6,
        )
        return report

    def start(self) -> None:
        """Start ticking in a thread."""
        self._ticker.start()

    def stop(self) -> None:
        """Stop ticking (waits for a run in progress: it commits in small steps)."""
        self._ticker.stop()

