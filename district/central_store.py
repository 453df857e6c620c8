"""The central store as the district reads it: one protocol, one adapter module per query API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from gateway.district_settings import CentralStoreSettings


@dataclass(frozen=True, slots=True)
class Series:
    """One device's readings of one metric at one site, oldest first."""

    site: str
    device: str
    kind: str
    points: list[tuple[float, float]] = field(default_factory=list)


class CentralStore(Protocol):
    """Queries the district service asks of the central time-series store."""

    def last_readings(self, start: float, end: float) -> dict[str, float]:
        """Site -> time of its newest reading in ``(start, end]`` (sites without one are left out)."""
        ...

    def series(self, metric: str, kinds: Sequence[str], start: float, end: float) -> list[Series]:
        """Every series of ``metric`` from devices of ``kinds`` with points in ``[start, end)``."""
        ...

    def totals(self, metric: str, kinds: Sequence[str], start: float, end: float) -> dict[str, float]:
        """Site -> sum of ``metric`` over devices of ``kinds`` in ``[start, end)``, added up by the store."""
        ...

    def buckets(self, metric: str, kinds: Sequence[str], start: float, end: float,
                every: int) -> dict[str, dict[float, float]]:
        """Site -> bucket start -> sum of ``metric`` over devices of ``kinds`` in ``[t, t + every)``, for buckets of
        ``every`` seconds from ``start`` (a multiple of ``every``) to ``end``; buckets without points are left out."""
        ...

    def close(self) -> None:
        """Release the HTTP client."""
        ...


def open_store(settings: CentralStoreSettings) -> CentralStore:
    """The adapter for ``[store] kind``."""
    if settings.kind == "influxdb":
        from district.influxdb import InfluxQLStore
        return InfluxQLStore(settings)
    from district.victoriametrics import VictoriaMetricsStore
    return VictoriaMetricsStore(settings)
