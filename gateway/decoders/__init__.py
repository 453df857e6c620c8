"""Decoders turn one MQTT message of one device format into readings, events and availability.

Each format is a module here exposing ``FORMAT`` (its config name), ``topics(device) -> list[str]``
(the topic filters to subscribe for that device) and ``decode(device, topic, payload, now) -> Decoded``
(raises ``DecodeError`` with a short ``reason``). ``registry()`` maps formats to modules; the formats
themselves, and what each means, are ``gateway.kinds.FORMATS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from gateway.decoders import esphome, native, plain, shelly, tasmota, zigbee2mqtt
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
    """The decoder of every format in ``gateway.kinds.FORMATS``, by the format's config name."""
    decoders: tuple[Decoder, ...] = (native, tasmota, zigbee2mqtt, shelly, esphome, plain)
    return {d.FORMAT: d for d in decoders}
