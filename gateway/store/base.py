"""The time-series store protocol every backend implements, and its small value types."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Literal, Protocol

from gateway.model import Reading
from gateway.store.ingest_state import IngestState, SeenRow

Aggregate = Literal["sum", "mean", "min", "max", "last", "first", "count"]


@dataclass(frozen=True, slots=True)
class Bucket:
    """One aggregation window: ``[start, end)`` in Unix seconds, the aggregate and how many samples."""

    start: float
    end: float
    value: float
    count: int


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """A stored (device, metric) series and its last sample."""

    device: str
    metric: str
    last_ts: float
    last_value: float


@dataclass(frozen=True, slots=True)
class OutboxHealth:
    """A remote backend's durable outbox and the server behind it, for ``/healthz``."""

    depth: int
    dropped: int
    oldest_age_s: float | None
    #: None until the server was tried.
    reachable: bool | None
    degraded: bool


@dataclass(frozen=True, slots=True)
class StoreHealth:
    """Whether a store can take writes now (``TimeSeriesStore.health``)."""

    backend: str
    #: The file every write goes to first (the SQLite database, or a remote backend's outbox) is writable.
    writable: bool
    #: None for a store without an outbox (SQLite).
    outbox: OutboxHealth | None = None


class TimeSeriesStore(Protocol):
    """Readings over time. ``write`` is durable on return; queries may run from any thread."""

    def write(self, readings: Sequence[Reading], state: IngestState | None = None) -> None:
        """Store a batch; a (device, metric, ts) already stored is overwritten, never doubled.

        ``state`` (ingest's meter and seq rows moved by the batch) is committed in the same transaction.
        """
        ...

    def load_state(self) -> IngestState | None:
        """Ingest's meter and seq state as committed by ``write`` (not the times: ``seen``); None if never written."""
        ...

    def seen(self) -> tuple[SeenRow, ...]:
        """Each device's last-seen times as ingest last saved them with ``write`` (quick, from any thread)."""
        ...

    def query(self, device: str, metric: str, start: float, end: float) -> list[Reading]:
        """Raw readings with ``start <= ts < end``, oldest first."""
        ...

    def aggregate(
        self,
        device: str,
        metric: str,
        start: float,
        end: float,
        every: float,
        fn: Aggregate,
        tz: tzinfo | None = None,
    ) -> list[Bucket]:
        """Aggregates per window of ``every`` seconds; windows with no data are omitted.

        Windows are aligned to multiples of ``every`` in local time of ``tz`` (UTC when None); for
        ``every`` of a whole number of days, windows start at local midnight (so a day across a DST
        change is 23 or 25 hours long).
        """
        ...

    def series(self, device: str | None = None) -> list[SeriesInfo]:
        """Every stored series (of one device when given) with its latest sample."""
        ...

    def health(self) -> StoreHealth:
        """Whether writes can be taken now; quick, for a supervisor's health check."""
        ...

    def close(self) -> None:
        """Flush and release resources."""
        ...
