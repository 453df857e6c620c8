"""Decoders turn one MQTT message of one device format into readings, events and availability.

Each format is a module here exposing ``FORMAT`` (its config name), ``topics(device) -> list[str]``
(the topic filters to subscribe for that device) and ``decode(device, topic, payload, now) -> Decoded``
(raises ``DecodeError`` with a short ``reason``). ``registry()`` maps formats to modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from gateway.model import Decoded

if TYPE_CHECKING:
    from gateway.config import DeviceSettings


class Decoder(Protocol):
    """A device format."""

    FORMAT: str

    def topics(self, device: DeviceSettings, site: str) -> list[str]:
        """Topic filters to subscribe to for this device."""
        ...

    def decode(self, device: DeviceSettings, topic: str, payload: bytes, now: float) -> Decoded:
        """Decode one message; raise ``DecodeError`` when it cannot be."""
        ...


def registry() -> Mapping[str, Decoder]:
    """Every known format, by its config name."""
    import importlib

    out: dict[str, Decoder] = {}
    for name in ("native", "tasmota", "zigbee2mqtt", "shelly", "esphome", "plain"):
        try:
            mod = importlib.import_module(f"gateway.decoders.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"gateway.decoders.{name}":
                raise
            continue
        out[name] = mod  # type: ignore[assignment,unused-ignore]
    return out
