"""Value types every settings model uses: durations, clock times (``HH:MM``), time windows, ids.

Each is parsed once, when the config is read: a model holds seconds, a ``datetime.time`` or a
``TimeWindow``, never the text, so nothing downstream parses again. This module imports only the
standard library, pydantic and ``contract`` (it sits at the bottom of the layers, beside them).
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated, Any, NamedTuple

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

from gateway.contract import check_id

# -- durations ---------------------------------------------------------------------------------------
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


class Said(ValueError):
    """A ValueError whose English text is a msgid with ``{named}`` values: ``gateway.config`` says it in the
    reader's language (this module stays free of the catalogs, so the agent on the Pi loads no Babel)."""

    def __init__(self, msgid: str, **values: object) -> None:
        super().__init__(msgid.format(**values))
        self.msgid = msgid
        self.values = values


def parse_duration(text: str | int | float | timedelta) -> float:
    """Seconds for ``"10m"``, ``"1h30m"``, ``"45s"``, ``"7d"``; a bare number is seconds.

    Raises ValueError naming the format.
    """
    if isinstance(text, timedelta):
        text = text.total_seconds()
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise Said("{text} is not a duration; write e.g. \"10m\", \"2h\", \"45s\"", text=repr(text))
    if isinstance(text, int | float):
        if text < 0:
            raise Said("{text} is negative; a duration must be >= 0", text=repr(text))
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
        raise Said("{text} is not a duration; write e.g. \"10m\", \"2h\", \"1h30m\", \"45s\", \"7d\"", text=repr(text))
    return total


def format_duration(seconds: float) -> str:
    """A compact form like ``"1h05m"`` for display."""
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


#: A duration in the config (``"10m"``, ``"2h"``, ``"1h30m"``, seconds, or a ``timedelta``), held as seconds.
Duration = Annotated[float, BeforeValidator(parse_duration)]

# -- clock times -------------------------------------------------------------------------------------
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
#: Midnight; as the end of a window it means the end of the day (``"20:00-24:00"``).
MIDNIGHT = time(0, 0)


def _clock(text: str, end_of_day: bool) -> time | None:
    """The time ``HH:MM`` names (``24:00`` is midnight when ``end_of_day``); None when it is no such time."""
    m = _CLOCK.match(text.strip())
    if not m:
        return None
    h, mi = int(m.group(1)), int(m.group(2))
    if end_of_day and (h, mi) == (24, 0):
        return MIDNIGHT
    return time(h, mi) if h <= 23 and mi <= 59 else None


def parse_clock(text: object, *, end_of_day: bool = False) -> time:
    """``"08:00"`` -> ``time(8, 0)``; with ``end_of_day``, ``"24:00"`` is accepted as midnight. ValueError naming
    the format."""
    if isinstance(text, time):
        return text
    t = _clock(text, end_of_day) if isinstance(text, str) else None
    if t is None:
        top = "24:00" if end_of_day else "23:59"
        raise Said("{text} is not a time of day; write HH:MM from 00:00 to {top}, e.g. \"08:00\"", text=repr(text),
                   top=top)
    return t


def format_clock(t: time) -> str:
    """``time(8, 0)`` -> ``"08:00"``."""
    return f"{t.hour:02d}:{t.minute:02d}"


#: A local time of day in the config (``"08:00"``), held as a ``datetime.time``.
ClockTime = Annotated[time, BeforeValidator(parse_clock), PlainSerializer(format_clock, return_type=str)]

# -- time windows ------------------------------------------------------------------------------------


class TimeWindow(NamedTuple):
    """A daily window of local time, ``start`` (inclusive) to ``end`` (exclusive).

    An ``end`` of midnight is the end of the day (``"20:00-24:00"``); an ``end`` before ``start`` runs past
    midnight (``"22:00-06:00"``), which only settings that allow it accept.
    """

    start: time
    end: time

    @property
    def crosses_midnight(self) -> bool:
        """Whether the window runs past midnight into the next day."""
        return self.end != MIDNIGHT and self.end < self.start

    def contains(self, t: time) -> bool:
        """Whether local time ``t`` falls inside the window."""
        if self.end == MIDNIGHT:
            return t >= self.start
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def after_midnight(self, t: time) -> bool:
        """Whether ``t`` falls in the part past midnight (``"20:00-08:00"`` at 02:00)."""
        return self.crosses_midnight and t < self.end

    def __str__(self) -> str:
        end = "24:00" if self.end == MIDNIGHT else format_clock(self.end)
        return f"{format_clock(self.start)}-{end}"


def parse_window(text: object, *, cross_midnight: bool) -> TimeWindow:
    """``"22:00-23:30"`` -> ``TimeWindow``; ``cross_midnight`` says whether an end before the start may run past
    midnight (night rounds, night shifts) or is a mistake (opening hours). ValueError naming the fix."""
    if isinstance(text, TimeWindow):
        text = str(text)
    first, sep, last = text.partition("-") if isinstance(text, str) else ("", "", "")
    example = "22:00-06:00" if cross_midnight else "07:30-17:30"
    if not sep or not _CLOCK.match(first.strip()) or not _CLOCK.match(last.strip()):
        raise Said("{text} is not a time window; write it as \"HH:MM-HH:MM\", e.g. \"{example}\"", text=repr(text),
                   example=example)
    start, end = _clock(first, end_of_day=False), _clock(last, end_of_day=True)
    if start is None or end is None:
        raise Said("{text} has an hour or minute out of range (00:00-24:00)", text=repr(text))
    if start == end and last.strip() != "24:00":
        raise Said("{text} starts and ends at the same time; give a window like \"{example}\"", text=repr(text),
                   example=example)
    window = TimeWindow(start, end)
    if window.crosses_midnight and not cross_midnight:
        raise Said("{text} ends before it starts; these windows cannot cross midnight, split them (e.g. "
                   "\"{start}-24:00\" and \"00:00-{end}\")", text=repr(text), start=format_clock(start),
                   end=format_clock(end))
    return window


def _overnight(v: Any) -> TimeWindow:
    return parse_window(v, cross_midnight=True)


def _daytime(v: Any) -> TimeWindow:
    return parse_window(v, cross_midnight=False)


_WINDOW_TEXT = PlainSerializer(str, return_type=str)
#: A time window that may run past midnight (``"22:00-06:00"``: night patrol rounds, night-shift card hours).
OvernightWindow = Annotated[TimeWindow, BeforeValidator(_overnight), _WINDOW_TEXT]
#: A time window within one day (``"07:30-17:30"``, up to ``"24:00"``: opening hours).
DaytimeWindow = Annotated[TimeWindow, BeforeValidator(_daytime), _WINDOW_TEXT]

# -- ids ---------------------------------------------------------------------------------------------
#: A site, device, rule, route or checkpoint id (``contract.ID_PATTERN``).
Id = Annotated[str, AfterValidator(check_id)]
