"""Key events from a Linux input device through evdev (imported here only, when a reader is opened)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from sensors.cards import KeyEvent
from sensors.errors import SensorError


def key_events(path: str, grab: bool = True) -> Iterator[KeyEvent]:
    """Yield ``(key name, value)`` from ``path``; with ``grab`` nobody else (the console) sees the keys."""
    try:
        evdev = importlib.import_module("evdev")
    except ImportError:
        raise SensorError("keyboard card readers need the evdev package: .venv/bin/pip install evdev "
                          "(or apt install python3-evdev)") from None
    try:
        dev = evdev.InputDevice(path)
    except OSError as e:
        raise SensorError(f"cannot open {path}: {e}; check the path (ls /dev/input/by-id) and that the "
                          "agent's user is in the 'input' group") from None
    try:
        if grab:
            dev.grab()
        for ev in dev.read_loop():
            if ev.type != evdev.ecodes.EV_KEY:
                continue
            name = evdev.ecodes.KEY.get(ev.code, "")
            if isinstance(name, list | tuple):  # some codes have several names
                name = name[0]
            yield str(name), int(ev.value)
    finally:
        dev.close()
