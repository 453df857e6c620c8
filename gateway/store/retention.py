"""How long each resolution of the SQLite store is kept, and the maintenance report."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from gateway.values import parse_duration

DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Retention:
    """Seconds each resolution is kept; None keeps it forever.

    Raw rows go first; rollups outlive them so old weeks still answer reports. A coarser
    resolution is never kept shorter than a finer one (rollups are rebuilt from the finer level).
    """

    raw: float | None = 90 * DAY
    rollup_5m: float | None = 730 * DAY
    rollup_1h: float | None = None

    def __post_init__(self) -> None:
        levels = [("raw", self.raw), ("rollup_5m", self.rollup_5m), ("rollup_1h", self.rollup_1h)]
        for name, value in levels:
            if value is not None and value < DAY:
                raise ValueError(f"retention {name} = {value} s is shorter than a day; keep at least \"1d\"")
        for (fine, a), (coarse, b) in itertools.pairwise(levels):
            if b is not None and (a is None or a > b):
                raise ValueError(
                    f"retention {coarse} ({_show(b)}) is shorter than {fine} ({_show(a)}); "
                    f"keep {coarse} at least as long as {fine}"
                )

    @classmethod
    def parse(cls, raw: str | float, rollup_5m: str | float, rollup_1h: str | float) -> Retention:
        """Build from config strings such as ``"90d"``, ``"730d"`` or ``"forever"``."""
        return cls(parse_keep(raw), parse_keep(rollup_5m), parse_keep(rollup_1h))


def parse_keep(text: str | float) -> float | None:
    """``"forever"`` is None; anything else is a duration (``"90d"``, ``"52w"``)."""
    if isinstance(text, str) and text.strip().lower() == "forever":
        return None
    try:
        return parse_duration(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a duration; write e.g. \"90d\", \"104w\" or \"forever\"") from None


def _show(v: float | None) -> str:
    return "forever" if v is None else f"{v / DAY:g}d"


@dataclass(frozen=True, slots=True)
class MaintenanceReport:
    """What one maintenance run did."""

    deleted_raw: int
    deleted_5m: int
    deleted_1h: int
    size_before: int
    size_after: int
