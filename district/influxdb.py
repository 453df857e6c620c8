"""The central store on InfluxDB 1.x (InfluxQL over ``/query``; 2.x and 3.x answer it too)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from district.central_store import Series
from gateway.contract import METRICS
from gateway.district_settings import CentralStoreSettings
from gateway.errors import StoreError

#: The measurement the sites' uplinks write (``[uplink.store] measurement``'s default).
MEASUREMENT = "houqin"


def _string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class InfluxQLStore:
    """Reads the sites' points: measurement ``houqin``, tags ``site``, ``device``, ``kind``, a field per metric."""

    def __init__(self, settings: CentralStoreSettings) -> None:
        self.settings = settings
        auth = (settings.username, settings.password) if settings.username else None
        self._client = httpx.Client(base_url=settings.url, timeout=settings.timeout, auth=auth)

    def _query(self, q: str) -> list[dict[str, object]]:
        try:
            r = self._client.post("/query", data={"q": q, "db": self.settings.database, "epoch": "ms"})
            r.raise_for_status()
        except httpx.HTTPError as e:
            raise StoreError(f"the central store at {self.settings.url} did not answer a query: {e}") from None
        results: list[dict[str, object]] = r.json().get("results", [])
        return results

    def last_readings(self, start: float, end: float) -> dict[str, float]:
        """Site -> newest reading's time in ``(start, end]``: one ``last()`` per metric (several selectors in one
        statement would lose the time)."""
        where = f"time > {int(start * 1000)}ms AND time <= {int(end * 1000)}ms"
        q = ";".join(f"SELECT last({_ident(m)}) FROM {_ident(MEASUREMENT)} WHERE {where} GROUP BY \"site\""
                     for m in METRICS)
        out: dict[str, float] = {}
        for result in self._query(q):
            for series in result.get("series", []) or []:  # type: ignore[attr-defined]
                site = str(series.get("tags", {}).get("site", ""))
                for row in series.get("values", []):
                    if site:
                        out[site] = max(out.get(site, 0.0), float(row[0]) / 1000)
        return out

    @staticmethod
    def _where(kinds: Sequence[str], start: float, end: float) -> str:
        which = " OR ".join(f"\"kind\" = {_string(k)}" for k in kinds)
        return f"time >= {int(start * 1000)}ms AND time < {int(end * 1000)}ms AND ({which})"

    def series(self, metric: str, kinds: Sequence[str], start: float, end: float) -> list[Series]:
        """Raw points of ``metric`` per site and device (``GROUP BY`` the tags)."""
        if not kinds:
            return []
        q = (f"SELECT {_ident(metric)} FROM {_ident(MEASUREMENT)} WHERE {self._where(kinds, start, end)} "
             "GROUP BY \"site\", \"device\", \"kind\"")
        out = []
        for result in self._query(q):
            for s in result.get("series", []) or []:  # type: ignore[attr-defined]
                tags = s.get("tags", {})
                points = [(float(t) / 1000, float(v)) for t, v in s.get("values", []) if v is not None]
                out.append(Series(str(tags.get("site", "")), str(tags.get("device", "")), str(tags.get("kind", "")),
                                  points))
        return out

    def totals(self, metric: str, kinds: Sequence[str], start: float, end: float) -> dict[str, float]:
        """Site -> ``sum()`` of ``metric`` (``GROUP BY "site"``)."""
        if not kinds:
            return {}
        q = (f"SELECT sum({_ident(metric)}) FROM {_ident(MEASUREMENT)} WHERE {self._where(kinds, start, end)} "
             "GROUP BY \"site\"")
        out: dict[str, float] = {}
        for result in self._query(q):
            for s in result.get("series", []) or []:  # type: ignore[attr-defined]
                site = str(s.get("tags", {}).get("site", ""))
                for row in s.get("values", []):
                    if site and row[1] is not None:
                        out[site] = out.get(site, 0.0) + float(row[1])
        return out

    def buckets(self, metric: str, kinds: Sequence[str], start: float, end: float,
                every: int) -> dict[str, dict[float, float]]:
        """Site -> bucket start -> ``sum()`` of ``metric`` (``GROUP BY time(every), "site"``; buckets are aligned to the
        epoch, so ``start`` must be a multiple of ``every``)."""
        if not kinds:
            return {}
        q = (f"SELECT sum({_ident(metric)}) FROM {_ident(MEASUREMENT)} WHERE {self._where(kinds, start, end)} "
             f"GROUP BY time({int(every)}s), \"site\" fill(none)")
        out: dict[str, dict[float, float]] = {}
        for result in self._query(q):
            for s in result.get("series", []) or []:  # type: ignore[attr-defined]
                site = str(s.get("tags", {}).get("site", ""))
                for t, v in s.get("values", []):
                    if site and v is not None:
                        out.setdefault(site, {})[float(t) / 1000] = float(v)
        return out

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
