"""The central store on VictoriaMetrics (its Prometheus query API, MetricsQL), where the sites' uplinks write
through its InfluxDB endpoint: series ``houqin_<metric>`` with labels ``site``, ``device``, ``kind``, ``db``."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import httpx

from district.central_store import Series
from gateway.district_settings import CentralStoreSettings
from gateway.errors import StoreError


def _label(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class VictoriaMetricsStore:
    """Reads the sites' series over ``/api/v1/query``."""

    def __init__(self, settings: CentralStoreSettings) -> None:
        self.settings = settings
        self._client = httpx.Client(base_url=settings.url, timeout=settings.timeout)
        self._match = f'{{__name__=~"houqin_.+",db={_label(settings.database)}}}'

    def _query(self, q: str, at: float | None = None) -> list[dict[str, object]]:
        params: dict[str, str] = {"query": q}
        if at is not None:
            params["time"] = f"{at:.3f}"
        try:
            r = self._client.post("/api/v1/query", data=params)
            r.raise_for_status()
        except httpx.HTTPError as e:
            raise StoreError(f"the central store at {self.settings.url} did not answer a query: {e}") from None
        result: list[dict[str, object]] = r.json().get("data", {}).get("result", [])
        return result

    def last_readings(self, start: float, end: float) -> dict[str, float]:
        """Site -> newest sample's time in ``(start, end]`` (``tlast_over_time``, evaluated at ``end``)."""
        window = max(1, int(end - start))
        rows = self._query(f"max by (site) (tlast_over_time({self._match}[{window}s]))", at=end)
        out: dict[str, float] = {}
        for row in rows:
            site = str(row.get("metric", {}).get("site", ""))  # type: ignore[attr-defined]
            value = row.get("value")
            if site and isinstance(value, list):
                out[site] = float(value[1])
        return out

    def _selector(self, metric: str, kinds: Sequence[str]) -> str:
        return (f'houqin_{metric}{{db={_label(self.settings.database)},'
                f'kind=~{_label("|".join(re.escape(k) for k in kinds))}}}')

    def series(self, metric: str, kinds: Sequence[str], start: float, end: float) -> list[Series]:
        """Raw samples of ``houqin_<metric>`` per site and device (``/api/v1/export``, deduplicated)."""
        if not kinds:
            return []
        match = self._selector(metric, kinds)
        try:
            r = self._client.post("/api/v1/export", data={"match[]": match, "start": f"{start:.3f}",
                                                          "end": f"{end - 0.001:.3f}"})
            r.raise_for_status()
        except httpx.HTTPError as e:
            raise StoreError(f"the central store at {self.settings.url} did not answer an export: {e}") from None
        out = []
        for line in r.text.splitlines():
            if not line.strip():
                continue
            doc = json.loads(line)
            labels = doc.get("metric", {})
            points = sorted((t / 1000, float(v)) for t, v in zip(doc.get("timestamps", []), doc.get("values", []),
                                                                 strict=False) if start <= t / 1000 < end)
            out.append(Series(str(labels.get("site", "")), str(labels.get("device", "")), str(labels.get("kind", "")),
                              points))
        return out

    def totals(self, metric: str, kinds: Sequence[str], start: float, end: float) -> dict[str, float]:
        """Site -> ``sum_over_time`` of ``houqin_<metric>`` over ``[start, end)`` (the window ends a millisecond
        before ``end``: a sample at ``end`` belongs to the next period)."""
        if not kinds:
            return {}
        window_ms = max(1, round((end - start) * 1000))
        rows = self._query(f"sum by (site) (sum_over_time({self._selector(metric, kinds)}[{window_ms}ms]))",
                           at=end - 0.001)
        out: dict[str, float] = {}
        for row in rows:
            site = str(row.get("metric", {}).get("site", ""))  # type: ignore[attr-defined]
            value = row.get("value")
            if site and isinstance(value, list):
                out[site] = float(value[1])
        return out

    def buckets(self, metric: str, kinds: Sequence[str], start: float, end: float,
                every: int) -> dict[str, dict[float, float]]:
        """Site -> bucket start -> ``sum_over_time`` over ``[t, t + every)`` (``/api/v1/query_range`` evaluated a
        millisecond before each bucket's end, ``nocache=1`` so that the steps are not moved to align them)."""
        if not kinds:
            return {}
        q = f"sum by (site) (sum_over_time({self._selector(metric, kinds)}[{int(every)}s]))"
        params = {"query": q, "start": f"{start + every - 0.001:.3f}", "end": f"{end - 0.001:.3f}",
                  "step": f"{int(every)}s", "nocache": "1"}
        try:
            r = self._client.post("/api/v1/query_range", data=params)
            r.raise_for_status()
        except httpx.HTTPError as e:
            raise StoreError(f"the central store at {self.settings.url} did not answer a query: {e}") from None
        out: dict[str, dict[float, float]] = {}
        for row in r.json().get("data", {}).get("result", []):
            site = str(row.get("metric", {}).get("site", ""))
            for t, v in row.get("values", []):
                if site:
                    out.setdefault(site, {})[round(float(t) + 0.001) - every] = float(v)
        return out

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
