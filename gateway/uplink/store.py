"""Readings to the district's central store: the uplink's durable outbox first, then the site's own store.

``UplinkedStore`` is what ingest writes to when ``[uplink.store]`` is set: it queues a batch in
``uplink-store.db`` and then writes it to the site's store, both before ingest acknowledges the messages, so a
reading the broker forgets is one the centre will get. The central side is the InfluxDB backend itself
(``InfluxStore``: its outbox, forwarder, backoff and refused-point handling), used for writing only, with the
site as a tag.
InfluxDB overwrites a point of the same series and time and VictoriaMetrics drops it with
``-dedup.minScrapeInterval``, so a point sent twice is stored once. Reads go to the site's store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.clock import Clock
from gateway.model import Reading
from gateway.store.base import Aggregate, Bucket, SeriesInfo, StoreHealth, TimeSeriesStore
from gateway.store.influx import DeadLetterSink, InfluxStore
from gateway.store.ingest_state import IngestState, SeenRow

if TYPE_CHECKING:
    from gateway.config import Config

#: The central store's outbox, in ``[storage] dir`` (its own file: the local InfluxDB's is ``outbox.db``).
STORE_OUTBOX_NAME = "uplink-store.db"


def central_store(config: Config, *, clock: Clock, dead_letters: DeadLetterSink | None = None,
                  start: bool = True) -> InfluxStore | None:
    """The write-only InfluxDB/VictoriaMetrics backend of ``[uplink.store]``; None when it is not set."""
    settings = config.uplink.store
    if settings is None:
        return None
    return InfluxStore(settings, site=config.site.id, outbox_path=Path(config.storage.path) / STORE_OUTBOX_NAME,
                       kinds={d.id: d.kind for d in config.devices}, clock=clock, dead_letters=dead_letters,
                       start=start, target="the central store")


class UplinkedStore:
    """``TimeSeriesStore`` that writes to the site's store and the central outbox, and reads the site's store."""

    def __init__(self, local: TimeSeriesStore, central: InfluxStore) -> None:
        self.local = local
        self.central = central
        self._queued: tuple[Reading, ...] = ()  # queued centrally, not yet in the site's store

    def write(self, readings: Sequence[Reading], state: IngestState | None = None) -> None:
        """The central outbox first, then the site's store with ingest's ``state``; both durable on return."""
        # Central first: the site's store commits ingest's seq and meter state, after which the broker's
        # redelivery of these messages is a duplicate. Were the central outbox written second, a failure of it
        # (full, locked) or a kill between the two would keep these readings from the centre for good. This way
        # the centre may get a point twice, which it stores once; and a retry after the site's store failed
        # (ingest prepares the same readings again) does not queue them again.
        batch = tuple(readings)
        if batch and batch != self._queued:
            self.central.write(batch)
            self._queued = batch
        self.local.write(batch, state)
        self._queued = ()

    def load_state(self) -> IngestState | None:
        """The site's store keeps ingest's state."""
        return self.local.load_state()

    def seen(self) -> tuple[SeenRow, ...]:
        """The site's store keeps the devices' last-seen times."""
        return self.local.seen()

    def query(self, device: str, metric: str, start: float, end: float) -> list[Reading]:
        """The site's store."""
        return self.local.query(device, metric, start, end)

    def aggregate(self, device: str, metric: str, start: float, end: float, every: float, fn: Aggregate,
                  tz: tzinfo | None = None) -> list[Bucket]:
        """The site's store."""
        return self.local.aggregate(device, metric, start, end, every, fn, tz)

    def series(self, device: str | None = None) -> list[SeriesInfo]:
        """The site's store."""
        return self.local.series(device)

    def health(self) -> StoreHealth:
        """The site's store (the central one's trouble is the uplink's status and alert, not ingest's)."""
        return self.local.health()

    def close(self) -> None:
        """Close nothing: the gateway closes the site's store and the central one itself."""
