"""Plain: a topic carrying one bare value, e.g. ``4.2``, for the device's configured ``metric``.

Numbers are multiplied by the device's ``scale`` (e.g. 1000 for a kWh counter -> Wh). State metrics
(``contact``, ``water_leak``) also take their state names (``open``/``closed``, ``leak``/``dry``),
``ON``/``OFF``, ``true``/``false`` and ``1``/``0`` (ON/true/1 = open or leak; ``invert`` swaps a
contact). A JSON-quoted value (``"4.2"``) is accepted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway import contract
from gateway.decoders import _thirdparty as tp
from gateway.errors import DecodeError
from gateway.model import Decoded, Reading

if TYPE_CHECKING:
    from gateway.config import DeviceSettings

FORMAT = "plain"

_ON = ("on", "true", "1")
_OFF = ("off", "false", "0")


def topics(device: DeviceSettings, site: str) -> list[str]:
    """The one configured topic."""
    return [device.topic or ""]


def decode(device: DeviceSettings, topic: str, payload: bytes, now: float) -> Decoded:
    """Decode a bare value into one reading of the device's metric."""
    if topic != device.topic:
        raise DecodeError("bad_topic", f"{topic!r} is not {device.topic!r}")
    metric = device.metric
    if metric is None:  # config validation requires it; kept for a clear message if built by hand
        raise DecodeError("no_metric", f"device {device.id!r} has format 'plain' but no metric configured")
    word = tp.text(payload).strip()
    if len(word) >= 2 and word[0] == word[-1] == '"':
        word = word[1:-1].strip()
    if not word:
        raise DecodeError("empty", f"{topic} carried an empty payload; expected one value")
    spec = contract.METRICS[metric]
    if spec.states is not None:
        lowered = word.lower()
        if lowered in spec.states:
            on = spec.states.index(lowered) == 1
        elif lowered in _ON or lowered in _OFF:
            on = lowered in _ON
        else:
            raise DecodeError("wrong_type", f"{topic} = {word[:40]!r}; {metric} takes one of "
                              f"{', '.join(spec.states)}, ON/OFF, true/false or 1/0")
        if metric == "contact" and device.invert:
            on = not on
        return Decoded(readings=[Reading(now, device.id, metric, contract.state_value(metric, on))])
    value = tp.number_text(word, topic) * device.scale
    return Decoded(readings=[Reading(now, device.id, metric, value)])
