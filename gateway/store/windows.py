"""Aggregation windows aligned in a site's local time, as integer-millisecond edges in UTC.

Backends share this so that every store cuts the same windows: ``every`` of whole days starts each
window at a local midnight (a day across a DST change is 23 or 25 hours long); shorter ``every`` is
aligned to multiples of ``every`` in local wall-clock time, with an extra cut at a UTC-offset change
when the change does not fall on the grid.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta, tzinfo

DAY_MS = 86_400_000
#: Refuse queries that would cut more windows than this (a typo like ``every=1`` over a year).
MAX_WINDOWS = 1_000_000
#: Step used to look for UTC-offset changes; real zones never change twice within six hours.
_PROBE_MS = 6 * 3_600_000
_EPOCH_DAY = date(1970, 1, 1)


def to_ms(ts: float) -> int:
    """Unix seconds to integer milliseconds (how stores keep time)."""
    return round(ts * 1000)


def offset_ms(tz: tzinfo | None, t_ms: int) -> int:
    """UTC offset of ``tz`` at instant ``t_ms``, in milliseconds (0 for None)."""
    if tz is None:
        return 0
    off = datetime.fromtimestamp(t_ms / 1000, UTC).astimezone(tz).utcoffset()
    return 0 if off is None else off // timedelta(milliseconds=1)


def _local_midnight_ms(day: date, tz: tzinfo | None) -> int:
    dt = datetime.combine(day, time(0), tzinfo=tz or UTC)
    return round(dt.timestamp() * 1000)


def _transitions(tz: tzinfo, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """``(instant, new offset)`` of every UTC-offset change in ``(start_ms, end_ms]``."""
    out: list[tuple[int, int]] = []
    t = start_ms
    off = offset_ms(tz, t)
    while t < end_ms:
        nxt = min(t + _PROBE_MS, end_ms)
        off_n = offset_ms(tz, nxt)
        if off_n != off:
            lo, hi = t, nxt  # offset(lo) == off, offset(hi) == off_n
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset_ms(tz, mid) == off:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, off_n))
            off = off_n
        t = nxt
    return out


def window_edges(start_ms: int, end_ms: int, every_ms: int, tz: tzinfo | None = None) -> list[int]:
    """Edges ``e0 <= start_ms < e1 < ... < en >= end_ms``; window i is ``[e[i], e[i+1])``.

    Raises ValueError for an empty range, a non-positive ``every`` or too many windows.
    """
    if every_ms <= 0:
        raise ValueError(f"every must be > 0 seconds, got {every_ms / 1000}")
    if end_ms <= start_ms:
        raise ValueError(f"end ({end_ms / 1000}) must be after start ({start_ms / 1000})")
    if (end_ms - start_ms) // every_ms > MAX_WINDOWS:
        raise ValueError(
            f"{(end_ms - start_ms) // every_ms} windows of {every_ms / 1000} s is too many (max {MAX_WINDOWS});"
            " use a larger every or a shorter range"
        )
    if every_ms % DAY_MS == 0:
        return _day_edges(start_ms, end_ms, every_ms // DAY_MS, tz)
    return _grid_edges(start_ms, end_ms, every_ms, tz)


def _day_edges(start_ms: int, end_ms: int, days: int, tz: tzinfo | None) -> list[int]:
    local = datetime.fromtimestamp(start_ms / 1000, UTC).astimezone(tz or UTC).date()
    ordinal = (local - _EPOCH_DAY).days
    # Multiples of ``days`` counted from 1970-01-01 local, like InfluxDB's GROUP BY time(7d).
    day = _EPOCH_DAY + timedelta(days=ordinal - ordinal % days)
    edges = [_local_midnight_ms(day, tz)]
    if edges[0] > start_ms:  # start falls before its local midnight only for odd zones; step back
        day -= timedelta(days=days)
        edges[0] = _local_midnight_ms(day, tz)
    while edges[-1] < end_ms:
        day += timedelta(days=days)
        edges.append(_local_midnight_ms(day, tz))
    return edges


def _floor(t: int, off: int, every: int) -> int:
    return (t + off) // every * every - off


def _grid_edges(start_ms: int, end_ms: int, every_ms: int, tz: tzinfo | None) -> list[int]:
    off = offset_ms(tz, start_ms)
    segments: list[tuple[int, int]] = [(start_ms, off)]
    if tz is not None:
        segments += _transitions(tz, start_ms, end_ms)
    edges = [_floor(start_ms, off, every_ms)]
    for i, (seg_start, seg_off) in enumerate(segments):
        seg_end = segments[i + 1][0] if i + 1 < len(segments) else end_ms
        if i > 0 and seg_start > edges[-1]:
            edges.append(seg_start)  # the offset changed off the grid: cut there too
        first = -_floor(-seg_start, -seg_off, every_ms)  # ceiling onto the segment's grid
        for g in range(first, seg_end, every_ms):
            if g > edges[-1]:
                edges.append(g)
        off = seg_off
    if edges[-1] < end_ms:
        edges.append(-_floor(-end_ms, -off, every_ms))
    return edges


def aligned(edges: list[int], start_ms: int, end_ms: int, resolution_ms: int) -> bool:
    """True when every cut of the clipped windows is a multiple of ``resolution_ms`` (UTC)."""
    if start_ms % resolution_ms or end_ms % resolution_ms:
        return False
    return all(e % resolution_ms == 0 for e in edges if start_ms < e < end_ms)


def clipped(edges: list[int], start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """Each window ``[e[i], e[i+1])`` clipped to ``[start_ms, end_ms)``."""
    return [(max(a, start_ms), min(b, end_ms)) for a, b in itertools.pairwise(edges)]

