"""The native format of ``gateway.contract``: ``houqin/{site}/{device}/state|event|availability``.

State payloads are JSON objects of canonical metrics (state metrics by name, e.g. ``"open"``, or as
booleans), with optional ``ts`` (Unix seconds) and ``seq``; events carry a ``type``; availability is
the plain text ``online``/``offline``. Anything else raises ``DecodeError`` with a short stable reason.
"""

from __future__ import annotations

import json
import json.scanner
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gateway import contract
from gateway.errors import DecodeError
from gateway.model import Availability, Decoded, Event, Reading

if TYPE_CHECKING:
    from gateway.config import DeviceSettings

FORMAT = "native"

_RESERVED = ("ts", "seq")
_STATE_NUMBERS = {0: 0.0, 1: 1.0}
_DECODER = json.JSONDecoder()
_JSON_SPACE = " \t\n\r"  # JSON's whitespace (str.strip() alone would also take what JSON refuses)
_decode = _DECODER.decode
# the C scanner ``decode`` itself calls (typeshed types its argument as the scanner class, not the decoder)
_scan: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(_DECODER)  # type: ignore[arg-type]


def _loads(text: str) -> Any:
    """The JSON value of ``text``, with ``json``'s errors.

    A device's payload starts with its value and ends with it: the scanner alone reads it, without the two
    whitespace matches ``decode`` adds, which showed in the ingest profile. Anything else goes to ``decode``.
    """
    try:
        value, end = _scan(text, 0)
    except StopIteration:  # leading whitespace, or no JSON value: decode says which
        return _decode(text)
    if end == len(text) or not text[end:].strip(_JSON_SPACE):
        return value
    return _decode(text)  # data after the value: decode's "Extra data" error


def topics(device: DeviceSettings, site: str) -> list[str]:
    """The device's state, event and availability topics."""
    return [
        contract.state_topic(site, device.id),
        contract.event_topic(site, device.id),
        contract.availability_topic(site, device.id),
    ]


def decode(device: DeviceSettings, topic: str, payload: bytes, now: float) -> Decoded:
    """Decode one native message of ``device`` (``now`` is used when it carries no ``ts``)."""
    parts = contract.parse_topic(topic)
    if parts is None:
        raise DecodeError("bad_topic", f"{topic!r} is not a houqin/{{site}}/{{device}}/{{channel}} topic")
    return decode_channel(device.id, parts.channel, payload, now)


def decode_channel(device: str, channel: str, payload: bytes, now: float) -> Decoded:
    """Decode a payload of one native channel (the topic already parsed)."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DecodeError("bad_utf8", f"byte {e.start} is not valid UTF-8") from None
    if channel == "availability":
        return _availability(device, text, now)
    try:
        body = _loads(text)
    except ValueError as e:
        raise DecodeError("not_json", str(e)) from None
    except RecursionError:  # deeply nested arrays or objects: refused like any other bad JSON
        raise DecodeError("not_json", "nested too deeply") from None
    if not isinstance(body, dict):
        raise DecodeError("not_object", f"expected a JSON object, got {type(body).__name__}")
    try:
        ts, seq = _ts_seq(body, now)
        if channel == "state":
            return Decoded(readings=_readings(device, body, ts), seq=seq)
        if channel == "event":
            return Decoded(events=[_event(device, body, ts)], seq=seq)
    except OverflowError:  # an integer too large for a float (1e400 written out)
        raise DecodeError("out_of_range", "a number is too large to be a measurement or a time") from None
    raise DecodeError("bad_topic", f"channel {channel!r} is not ingested")


def _availability(device: str, text: str, now: float) -> Decoded:
    word = text.strip().lower()
    if word == contract.ONLINE:
        return Decoded(availability=[Availability(now, device, True)])
    if word == contract.OFFLINE:
        return Decoded(availability=[Availability(now, device, False)])
    raise DecodeError("bad_availability", f"expected 'online' or 'offline', got {text[:40]!r}")


def _ts_seq(body: dict[str, Any], now: float) -> tuple[float, int | None]:
    ts: float = now
    seq: int | None = None
    raw_ts = body.get("ts")
    if raw_ts is not None:
        if type(raw_ts) not in (int, float):
            raise DecodeError("wrong_type", f"ts must be Unix seconds (a number), got {raw_ts!r}")
        ts = float(raw_ts)
        if not math.isfinite(ts):
            raise DecodeError("not_finite", f"ts is {raw_ts!r}")
    raw_seq = body.get("seq")
    if raw_seq is not None:
        if type(raw_seq) is not int or raw_seq < 0:
            raise DecodeError("wrong_type", f"seq must be a non-negative integer, got {raw_seq!r}")
        seq = raw_seq
    return ts, seq


def _readings(device: str, body: dict[str, Any], ts: float) -> list[Reading]:
    out: list[Reading] = []
    metrics = contract.METRICS
    for key, raw in body.items():
        if key in _RESERVED:
            continue
        spec = metrics.get(key)
        if spec is None:
            raise DecodeError("unknown_metric", f"{key!r}; known metrics: {', '.join(sorted(metrics))}")
        kind = type(raw)
        if spec.states is not None:
            if kind is str:
                if raw not in spec.states:
                    raise DecodeError("wrong_type", f"{key}={raw!r}; use one of {', '.join(spec.states)}")
                value = float(spec.states.index(raw))
            elif kind is bool:
                value = 1.0 if raw else 0.0
            elif kind is int and raw in _STATE_NUMBERS:
                value = _STATE_NUMBERS[raw]
            else:
                raise DecodeError("wrong_type", f"{key}={raw!r}; use one of {', '.join(spec.states)}")
        elif kind is float or kind is int:
            value = float(raw)
        else:
            raise DecodeError("wrong_type", f"{key}={str(raw)[:40]!r} is not a number")
        out.append(Reading(ts, device, key, value))
    if not out:
        raise DecodeError("no_metrics", "the state payload has no metric")
    return out


def _event(device: str, body: dict[str, Any], ts: float) -> Event:
    type_ = body.get("type")
    if not isinstance(type_, str) or not type_:
        raise DecodeError("no_type", "an event needs a non-empty string \"type\", e.g. {\"type\": \"card\"}")
    data = {k: v for k, v in body.items() if k not in ("type", "ts", "seq")}
    return Event(ts, device, type_, data)
