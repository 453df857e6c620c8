"""Errors of the sensor agent; each also inherits the matching builtin."""

from __future__ import annotations

from gateway.errors import HouqinError


class SensorError(HouqinError, RuntimeError):
    """The agent could not set up or drive a piece of hardware."""


class ProbeReadError(HouqinError, ValueError):
    """A DS18B20 reading was refused; ``reason`` is a short stable key (``crc``, ``power_on``, ...)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class CommandError(HouqinError, ValueError):
    """A ``set`` command could not be understood; the message says what is accepted."""
