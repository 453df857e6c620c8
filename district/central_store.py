"""The central store as the district reads it: one protocol, one adapter module per query API."""

from __future__ import annotations

from typing import Protocol

from gateway.district_settings import CentralStoreSettings


class CentralStore(Protocol):
    """Queries the district service asks of the central time-series store."""

    def last_readings(self, start: float, end: float) -> dict[str, float]:
        """Site -> time of its newest reading in ``(start, end]`` (sites without one are left out)."""
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
