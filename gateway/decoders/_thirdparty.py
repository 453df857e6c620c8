"""Small helpers shared by the off-the-shelf decoders (Tasmota, Zigbee2MQTT, Shelly, ESPHome, plain)."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from gateway.errors import DecodeError

#: A device clock further than this from the gateway's is not trusted; the message gets ``now``.
#: (Devices without NTP report 1970 or 2000; a broker may hold queued messages for days.)
TS_MAX_PAST_S = 7 * 86400.0
TS_MAX_FUTURE_S = 60.0

#: Integers past this cannot be floats.
_FLOAT_INT_MAX = 2**1023

_ONLINE_WORDS = {"online": True, "offline": False, "true": True, "false": False}


def text(payload: bytes) -> str:
    """The payload as UTF-8 text, or ``DecodeError("bad_utf8")``."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DecodeError("bad_utf8", f"byte {e.start} is not valid UTF-8") from None


def json_object(payload: bytes) -> dict[str, Any]:
    """The payload as a JSON object, or ``DecodeError`` (``not_json`` / ``not_object``)."""
    decoded = text(payload)  # outside the try: DecodeError is a ValueError too
    try:
        body = json.loads(decoded)
    except ValueError as e:
        raise DecodeError("not_json", str(e)) from None
    except RecursionError:  # deeply nested arrays or objects: refused like any other bad JSON
        raise DecodeError("not_json", "nested too deeply") from None
    if not isinstance(body, dict):
        raise DecodeError("not_object", f"expected a JSON object, got {type(body).__name__}")
    return body


def number(raw: Any, what: str) -> float:
    """A JSON number (not a bool, not a string) as float, or ``DecodeError("wrong_type")``."""
    if type(raw) is float:
        return raw
    if type(raw) is int:
        if abs(raw) > _FLOAT_INT_MAX:  # float() would raise OverflowError
            raise DecodeError("out_of_range", f"{what} = {str(raw)[:40]}… is too large")
        return float(raw)
    raise DecodeError("wrong_type", f"{what} = {str(raw)[:40]!r} is not a number")


def number_text(word: str, what: str) -> float:
    """A bare number sent as text (``"-18.6"``), or ``DecodeError("wrong_type")``."""
    try:
        return float(word.strip())
    except ValueError:
        raise DecodeError("wrong_type", f"{what} = {word[:40]!r} is not a number") from None


def online_word(word: str, what: str) -> bool:
    """``online``/``offline``/``true``/``false`` (any case) as a bool, or ``DecodeError("bad_availability")``."""
    w = word.strip().strip('"').lower()
    if w in _ONLINE_WORDS:
        return _ONLINE_WORDS[w]
    raise DecodeError("bad_availability", f"{what}: expected online/offline, got {word[:40]!r}")


def sane_ts(ts: float | None, now: float) -> float:
    """A device timestamp when it is close enough to ``now`` to be trusted, else ``now``."""
    if ts is None or not math.isfinite(ts):
        return now
    if now - TS_MAX_PAST_S <= ts <= now + TS_MAX_FUTURE_S:
        return ts
    return now


def iso_ts(raw: Any) -> float | None:
    """Unix seconds of an ISO 8601 time that carries its UTC offset; ``None`` for local times or junk.

    A time without an offset (Tasmota's default ``"Time"``) is in the device's own time zone,
    which the gateway does not know, so it is not used.
    """
    if not isinstance(raw, str):
        return None
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None
    return dt.timestamp()
