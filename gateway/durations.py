"""Parse human durations such as ``"10m"``, ``"2h"``, ``"1h30m"``, ``"45s"``, ``"7d"``."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(text: str | int | float) -> float:
    """Return seconds for ``text``; a bare number is seconds. Raises ValueError naming the format."""
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a duration; write e.g. \"10m\", \"2h\", \"45s\"")
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(f"{text!r} is negative; a duration must be >= 0")
        return float(text)
    s = text.strip().lower().replace(" ", "")
    pos = 0
    total = 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not s or pos != len(s):
        raise ValueError(f"{text!r} is not a duration; write e.g. \"10m\", \"2h\", \"1h30m\", \"45s\", \"7d\"")
    return total


def format_duration(seconds: float) -> str:
    """Return a compact form like ``"1h05m"`` for display."""
    seconds = round(seconds)
    d, rem = divmod(seconds, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    if d:
        return f"{d}d{h:02d}h"
    if h:
        return f"{h}h{m:02d}m"
    if m:
        return f"{m}m{s:02d}s"
    return f"{s}s"
