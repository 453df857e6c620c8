"""InfluxDB line protocol, built in one place: escaping of names, tags and values.

Schema (documented in docs/storage.md): one measurement (``houqin`` by default) for every reading;
tags ``site``, ``device`` and ``kind`` (the device kind from the config, omitted when unknown); one
field per metric (``temperature``, ``total_l`` …), always a float; timestamps in milliseconds. One
measurement with metric fields keeps a device's metrics of one message in one point, keeps Grafana
queries simple (``SELECT mean("temperature") FROM "houqin" WHERE "device" = …``), and makes a repeated
(device, metric, ts) overwrite rather than double, which the store protocol requires.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

# Re-exported for the writers: the one seconds-to-milliseconds conversion of every store.
from gateway.store.windows import to_ms as to_ms

# Which characters each part of a line must escape, per the line protocol reference.
_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ "})
_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})


class LineProtocolError(ValueError):
    """A value cannot be written as line protocol (NaN, infinity, a newline in a name)."""


def _check(text: str, what: str) -> str:
    if not text:
        raise LineProtocolError(f"{what} is empty; line protocol needs a non-empty {what}")
    if "\n" in text or "\r" in text:
        raise LineProtocolError(f"{what} {text!r} contains a line break, which line protocol cannot carry")
    if text.endswith("\\"):
        # A trailing backslash would escape the separator that follows it.
        raise LineProtocolError(f"{what} {text!r} ends with a backslash, which line protocol cannot carry")
    return text


def escape_measurement(name: str) -> str:
    """Escape a measurement name (commas and spaces)."""
    return _check(name, "measurement").translate(_MEASUREMENT)


def escape_key(text: str, what: str = "tag") -> str:
    """Escape a tag key, tag value or field key (commas, equals signs and spaces)."""
    return _check(text, what).translate(_KEY)


def format_float(value: float) -> str:
    """A float field value; NaN and infinity are refused since line protocol has no spelling for them."""
    v = float(value)
    if not math.isfinite(v):
        raise LineProtocolError(f"value {value!r} is not a finite number; line protocol cannot carry it")
    return repr(v)


def line(measurement: str, tags: Mapping[str, str], fields: Mapping[str, float], ts_ms: int) -> str:
    """One point ``measurement,tag=v field=1.5 <ms>``; tags sorted (as InfluxDB prefers), empty ones left out."""
    if not fields:
        raise LineProtocolError("a point needs at least one field")
    head = escape_measurement(measurement)
    for k in sorted(tags):
        v = tags[k]
        if v:
            head += f",{escape_key(k, 'tag key')}={escape_key(v, 'tag value')}"
    body = ",".join(f"{escape_key(k, 'field key')}={format_float(v)}" for k, v in fields.items())
    return f"{head} {body} {int(ts_ms)}"
