"""A pin library that is not installed (``--pin-factory lgpio`` in a venv without it) is a clear error."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from gpiozero import Device

from sensors.errors import SensorError
from sensors.hardware import GpiozeroPins


@pytest.fixture
def no_default_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    previous = Device.pin_factory
    Device.pin_factory = None
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "lgpio")
    monkeypatch.setitem(sys.modules, "lgpio", None)  # `import lgpio` fails, installed or not
    monkeypatch.delitem(sys.modules, "gpiozero.pins.lgpio", raising=False)
    yield
    Device.pin_factory = previous


@pytest.mark.usefixtures("no_default_factory")
@pytest.mark.parametrize("kind", ["input", "relay"])
def test_missing_pin_library_names_the_fix(kind: str) -> None:
    pins = GpiozeroPins()
    with pytest.raises(SensorError) as err:  # used to escape as a ModuleNotFoundError traceback
        if kind == "input":
            pins.input(17, pull_up=True)
        else:
            pins.output(24, "relay", active_high=False)
    text = str(err.value)
    assert "not installed" in text and "lgpio" in text and "houqin[pi]" in text and "--pin-factory" in text
