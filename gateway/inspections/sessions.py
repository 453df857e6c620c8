"""UV lamp sessions from a plug's power readings: pure functions, no clock, no database.

A session starts at the first reading above the threshold and ends at the first reading at or below it;
a plug silent for longer than ``max_gap`` while on ends its session at its last reading (nothing proves the
lamp burnt longer). Hygiene practice counts a session's duration from a few minutes after switch-on, when
the lamp has reached its output: ``effective = duration - warmup``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Session:
    """One stretch of the lamp on: ``start`` to ``end`` (None: still on at the last reading), the peak power."""

    start: float
    end: float | None
    peak_w: float
    #: Time of the last reading above the threshold (the end of a session still on).
    last_on: float

    def on_s(self, now: float | None = None) -> float:
        """Seconds the lamp was on (up to ``now`` for a session still on; its last reading without ``now``)."""
        end = self.end if self.end is not None else (now if now is not None else self.last_on)
        return max(0.0, end - self.start)

    def effective_s(self, warmup: float, now: float | None = None) -> float:
        """Seconds that count towards the minimum: the time on after the warm-up."""
        return max(0.0, self.on_s(now) - warmup)


def sessions(readings: Iterable[tuple[float, float]], threshold_w: float, max_gap: float,
             until: float | None = None) -> list[Session]:
    """The sessions in ``readings`` (``(ts, watts)``, oldest first).

    A session still on at the last reading stays open (``end`` None) when ``until`` is within ``max_gap`` of
    that reading (or ``until`` is None); otherwise it ends at its last reading.
    """
    out: list[Session] = []
    start: float | None = None
    peak = 0.0
    last = 0.0
    for ts, watts in readings:
        on = watts > threshold_w
        if start is not None and ts - last > max_gap:
            out.append(Session(start, last, peak, last))  # silent too long: ended at the last sign of it
            start = None
        if on:
            if start is None:
                start, peak = ts, watts
            peak = max(peak, watts)
            last = ts
        elif start is not None:
            out.append(Session(start, ts, peak, last))
            start = None
    if start is not None:
        still = until is None or until - last <= max_gap
        out.append(Session(start, None if still else last, peak, last))
    return out


def overlap(start: float, end: float, spans: Iterable[tuple[float, float]]) -> float:
    """Seconds of ``[start, end)`` inside any of ``spans`` (which do not overlap each other)."""
    return sum(max(0.0, min(end, b) - max(start, a)) for a, b in spans)
