"""Validation of decoded messages: physically impossible values, sensor error codes, bad timestamps.

Policy: a refused *value* refuses that reading only; the message's other readings are kept and the
message is dead-lettered once per reason (a Zigbee sensor with a bad battery figure still gets its
temperature stored). Message-level problems (too large, cannot decode, unknown device, a ``seq`` out of
range, timestamp out of bounds: every record of a message shares its ``ts``) refuse the whole message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gateway import contract
from gateway.model import Decoded, Reading

#: A timestamp further ahead of the gateway clock than this is refused (``ts_future``).
MAX_FUTURE_S = 300.0
#: A timestamp older than this is refused (``ts_past``): an agent buffers at most this long offline.
MAX_AGE_S = 30 * 86400.0
#: Largest ``seq`` accepted: integers up to 2^53 are exact as floats and fit every store's integer column.
MAX_SEQ = 2**53
#: DS18B20 power-on reset value: the conversion never ran; not a temperature.
DS18B20_POWER_ON = 85.0
#: Arduino DallasTemperature's DEVICE_DISCONNECTED_C (and Tasmota's "no sensor").
DS18B20_DISCONNECTED = -127.0


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why (part of) a message was refused: a short stable reason and a detail for people."""

    reason: str
    detail: str = ""


def check_topic(topic: str) -> Refusal | None:
    """Refuse topics longer than ``contract.MAX_TOPIC_CHARS`` before routing them (nothing keys on them)."""
    if len(topic) > contract.MAX_TOPIC_CHARS:
        return Refusal("topic_too_long", f"{len(topic)} characters > {contract.MAX_TOPIC_CHARS}")
    return None


def check_size(payload: bytes) -> Refusal | None:
    """Refuse payloads larger than ``contract.MAX_PAYLOAD_BYTES`` before decoding them."""
    if len(payload) > contract.MAX_PAYLOAD_BYTES:
        return Refusal("too_large", f"{len(payload)} bytes > {contract.MAX_PAYLOAD_BYTES}")
    return None


def check_value(r: Reading) -> Refusal | None:
    """Refuse a reading whose value is not finite, a sensor error code, or out of its metric's range."""
    v = r.value
    if not math.isfinite(v):
        return Refusal("not_finite", f"{r.metric}={v}")
    if r.metric == "temperature":
        if v == DS18B20_POWER_ON:
            return Refusal("ds18b20_power_on", "85.0 °C is the DS18B20 power-on value, not a reading")
        if v == DS18B20_DISCONNECTED:
            return Refusal("sensor_disconnected", "-127 °C means the probe is disconnected; check its wiring")
    spec = contract.METRICS.get(r.metric)
    if spec is not None and not (spec.low <= v <= spec.high):
        return Refusal("out_of_range", f"{r.metric}={v} outside [{spec.low:g}, {spec.high:g}] {spec.unit}")
    return None


def check_ts(ts: float, now: float) -> Refusal | None:
    """Refuse timestamps more than ``MAX_FUTURE_S`` ahead of ``now`` or more than ``MAX_AGE_S`` old."""
    if ts > now + MAX_FUTURE_S:
        return Refusal("ts_future", f"ts {ts:.0f} is {ts - now:.0f} s ahead of the gateway clock")
    if ts < now - MAX_AGE_S:
        return Refusal("ts_past", f"ts {ts:.0f} is {now - ts:.0f} s in the past")
    return None


def check_seq(seq: object) -> Refusal | None:
    """Refuse a ``seq`` that is not an integer in ``[0, MAX_SEQ]``."""
    if seq is None or (type(seq) is int and 0 <= seq <= MAX_SEQ):
        return None
    shown = str(seq)[:40] if type(seq) is not int or seq.bit_length() < 128 else f"about 2^{seq.bit_length() - 1}"
    return Refusal("bad_seq", f"seq {shown} is not an integer in [0, 2^53]")


def validate(decoded: Decoded, now: float) -> tuple[Decoded, list[Refusal]]:
    """Return what passes and the refusals (at most one per reason); ``decoded`` is not changed.

    A bad ``seq`` refuses the whole message: the duplicate filter cannot place it.
    """
    bad_seq = check_seq(decoded.seq)
    if bad_seq is not None:
        return Decoded(), [bad_seq]
    refusals: dict[str, Refusal] = {}
    readings: list[Reading] = []
    for r in decoded.readings:
        bad = check_ts(r.ts, now) or check_value(r)
        if bad is None:
            readings.append(r)
        elif bad.reason not in refusals:
            refusals[bad.reason] = bad
    events = []
    for e in decoded.events:
        bad = check_ts(e.ts, now)
        if bad is None:
            events.append(e)
        elif bad.reason not in refusals:
            refusals[bad.reason] = bad
    if not refusals:
        return decoded, []
    kept = Decoded(readings=readings, events=events, availability=decoded.availability, seq=decoded.seq)
    return kept, list(refusals.values())
