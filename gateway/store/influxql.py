"""InfluxQL for the reads: quoting, the range/aggregate/series statements, and parsing ``/query`` answers.

Kept to what InfluxDB 1.6 understands (no subqueries needed, ``tz()`` for local-time windows, epoch
literals in ms) and what 2.x (through a DBRP mapping) and 3.x answer on ``/query`` too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from gateway.errors import StoreError
from gateway.store.windows import to_ms

#: InfluxQL function for each store aggregate.
FUNCTIONS: Mapping[str, str] = {
    "sum": "sum", "mean": "mean", "min": "min", "max": "max", "last": "last", "first": "first", "count": "count",
}


def ident(name: str) -> str:
    """A double-quoted identifier."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def string(value: str) -> str:
    """A single-quoted string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def duration(seconds: float) -> str:
    """An InfluxQL duration literal in the largest exact unit (``1d``, ``5m``, ``1500ms``)."""
    ms = round(seconds * 1000)
    if ms <= 0:
        raise ValueError(f"window of {seconds!r} s is not positive")
    for unit, size in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def tz_name(tz: tzinfo | None) -> str | None:
    """The IANA name InfluxQL's ``tz()`` wants; None for UTC or no zone."""
    if tz is None:
        return None
    key = getattr(tz, "key", None)
    if key is None:
        name = tz.tzname(None)
        if name in ("UTC", "GMT"):
            return None
        raise ValueError(f"time zone {tz!r} has no IANA name; pass e.g. ZoneInfo('Asia/Shanghai')")
    return None if key in ("UTC", "Etc/UTC") else str(key)


def _where(site: str, device: str, start: float, end: float) -> str:
    return (f"{ident('site')} = {string(site)} AND {ident('device')} = {string(device)} "
            f"AND time >= {to_ms(start)}ms AND time < {to_ms(end)}ms")


def range_query(measurement: str, site: str, device: str, metric: str, start: float, end: float) -> str:
    """Raw values of one metric of one device in ``[start, end)``."""
    return (f"SELECT {ident(metric)} FROM {ident(measurement)} WHERE {_where(site, device, start, end)} "
            "ORDER BY time ASC")


def aggregate_query(measurement: str, site: str, device: str, metric: str, start: float, end: float,
                    every: float, fn: str, tz: tzinfo | None) -> str:
    """``fn`` and count per window of ``every`` seconds, empty windows left out, aligned in ``tz``."""
    if fn not in FUNCTIONS:
        raise ValueError(f"aggregate {fn!r} is not one of {', '.join(FUNCTIONS)}")
    q = (f"SELECT {FUNCTIONS[fn]}({ident(metric)}), count({ident(metric)}) FROM {ident(measurement)} "
         f"WHERE {_where(site, device, start, end)} GROUP BY time({duration(every)}) fill(none)")
    zone = tz_name(tz)
    if zone:
        q += f" tz({string(zone)})"
    return q


def field_keys_query(measurement: str) -> str:
    """The fields (metrics) of the measurement."""
    return f"SHOW FIELD KEYS FROM {ident(measurement)}"


def last_per_device_query(measurement: str, site: str, metric: str, device: str | None) -> str:
    """The latest value of one metric for every device (or one)."""
    cond = f"{ident('site')} = {string(site)}"
    if device is not None:
        cond += f" AND {ident('device')} = {string(device)}"
    return f"SELECT last({ident(metric)}) FROM {ident(measurement)} WHERE {cond} GROUP BY {ident('device')}"


@dataclass(slots=True)
class Series:
    """One series of a statement's answer."""

    name: str
    tags: dict[str, str]
    columns: list[str]
    values: list[list[Any]] = field(default_factory=list)


def parse_response(body: str | bytes, statements: int = 1) -> list[list[Series]]:
    """Series per statement from a (possibly chunked, one JSON document per line) ``/query`` answer."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    out: list[list[Series]] = [[] for _ in range(statements)]
    for doc in _documents(text):
        if "error" in doc:
            raise StoreError(f"InfluxDB refused the query: {doc['error']}")
        for result in doc.get("results", []):
            if "error" in result:
                raise StoreError(f"InfluxDB refused the query: {result['error']}")
            idx = int(result.get("statement_id", 0))
            if idx >= len(out):
                out.extend([] for _ in range(idx + 1 - len(out)))
            for s in result.get("series", []) or []:
                tags = {str(k): str(v) for k, v in (s.get("tags") or {}).items()}
                # Chunked answers continue a series across documents: merge into the last one.
                prev = out[idx][-1] if out[idx] else None
                if prev is not None and prev.name == s.get("name", "") and prev.tags == tags:
                    prev.values.extend(s.get("values") or [])
                else:
                    out[idx].append(Series(s.get("name", ""), tags, list(s.get("columns") or []),
                                           list(s.get("values") or [])))
    return out


def _documents(text: str) -> Iterable[dict[str, Any]]:
    stripped = text.strip()
    if not stripped:
        return
    try:
        yield json.loads(stripped)
        return
    except json.JSONDecodeError:
        pass
    for ln in stripped.splitlines():
        if ln.strip():
            try:
                yield json.loads(ln)
            except json.JSONDecodeError:
                raise StoreError(f"InfluxDB answered something that is not JSON: {ln[:200]!r}") from None
