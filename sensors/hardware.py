"""Digital inputs and outputs behind two small interfaces, with gpiozero as the real backend.

The pin factory comes from gpiozero's usual selection (``GPIOZERO_PIN_FACTORY=mock|lgpio|...``) unless
one is passed in, so tests hand in a ``MockFactory`` and drive pins with ``drive_low()/drive_high()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol

from sensors.errors import SensorError


class InputLine(Protocol):
    """A digital input; ``active`` follows gpiozero: pulled away from its pull-up/down."""

    def read(self) -> bool:
        """Whether the input is active now."""
        ...

    def on_change(self, callback: Callable[[bool], None]) -> None:
        """Call ``callback(active)`` on every raw edge (from any thread)."""
        ...

    def close(self) -> None:
        """Release the pin."""
        ...


class OutputLine(Protocol):
    """A digital output (relay, buzzer, LED)."""

    def set(self, on: bool) -> None:
        """Switch on or off."""
        ...

    @property
    def is_on(self) -> bool:
        """Whether it is on now."""
        ...

    def close(self) -> None:
        """Switch off and release the pin."""
        ...


class Pins(Protocol):
    """A source of input and output lines (the agent's pin factory)."""

    def input(self, pin: int, pull_up: bool) -> InputLine:
        """Open ``pin`` (BCM) as an input."""
        ...

    def output(self, pin: int, kind: Literal["relay", "buzzer", "led"], active_high: bool) -> OutputLine:
        """Open ``pin`` (BCM) as an output, initially off."""
        ...


class _GpioInput:
    def __init__(self, device: Any) -> None:
        self._device = device

    def read(self) -> bool:
        return bool(self._device.is_active)

    def on_change(self, callback: Callable[[bool], None]) -> None:
        self._device.when_activated = lambda: callback(True)
        self._device.when_deactivated = lambda: callback(False)

    def close(self) -> None:
        self._device.close()


class _GpioOutput:
    def __init__(self, device: Any) -> None:
        self._device = device

    def set(self, on: bool) -> None:
        if on:
            self._device.on()
        else:
            self._device.off()

    @property
    def is_on(self) -> bool:
        return bool(self._device.is_active)

    def close(self) -> None:
        self._device.off()
        self._device.close()


class GpiozeroPins:
    """Pins through gpiozero: ``DigitalInputDevice``, ``OutputDevice``, ``Buzzer`` and ``LED``."""

    def __init__(self, pin_factory: Any = None) -> None:
        self.pin_factory = pin_factory

    def input(self, pin: int, pull_up: bool) -> InputLine:
        """A ``DigitalInputDevice`` without gpiozero's bounce_time (the agent debounces by stability)."""
        from gpiozero import DigitalInputDevice

        return _GpioInput(self._open(DigitalInputDevice, pin, pull_up=pull_up, bounce_time=None))

    def output(self, pin: int, kind: Literal["relay", "buzzer", "led"], active_high: bool) -> OutputLine:
        """An ``OutputDevice`` for relays, ``Buzzer`` or ``LED`` otherwise, initially off."""
        from gpiozero import LED, Buzzer, OutputDevice

        cls = {"relay": OutputDevice, "buzzer": Buzzer, "led": LED}[kind]
        return _GpioOutput(self._open(cls, pin, active_high=active_high, initial_value=False))

    def _open(self, cls: Any, pin: int, **kw: Any) -> Any:
        from gpiozero import GPIOPinInUse, GPIOZeroError

        try:
            return cls(pin, pin_factory=self.pin_factory, **kw)
        except GPIOPinInUse as e:
            raise SensorError(f"GPIO{pin} is already in use ({e}); another program or another [[sensors]] "
                              "entry holds it") from None
        except GPIOZeroError as e:
            raise SensorError(f"GPIO{pin} could not be opened: {e}; on a Pi install python3-lgpio, elsewhere "
                              "set GPIOZERO_PIN_FACTORY=mock to try the agent without hardware") from None
        except ImportError as e:  # a pin library named by --pin-factory / GPIOZERO_PIN_FACTORY is not installed
            raise SensorError(f"GPIO{pin} could not be opened: the pin library is not installed ({e}); "
                              "pip install 'houqin[pi]' (lgpio) or choose another with --pin-factory") from None
